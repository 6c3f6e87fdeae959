/*
 * state.h - the key server's durable state, behind one small interface so
 * that another backend (a replicated store, for several key servers) can
 * replace the SQLite one (state_sqlite.c) without touching the daemon. Each
 * backend is one file implementing the operations of state_int.h; state.c
 * picks one at open and dispatches to it.
 *
 * What is kept: per group the current KEK (keys), its SEQ, the current and
 * previous TEK generation (keys), the rekey schedule, a generated rekey
 * signing key; every TEK SPI ever used (never reused); SSRC assignments per
 * member identity (unique per group); registered members and their address;
 * blocked (evicted) members. Every write is durable when the call returns.
 *
 * Loss: a KEK and the last SEQ used under it are also kept apart from the
 * store (the SQLite backend's SEQ mark, state_mark.h), written first, so that
 * a store that lost its last commits or a group is detected at start
 * (ks_state_verify_group) and never makes a SEQ repeat under a KEK members
 * hold. A store that fails its integrity check is refused at open. With
 * PostgreSQL (state_pg.c) the database is the authority and there is no mark:
 * ks_state_verify_group always says OK.
 */
#ifndef KS_STATE_H
#define KS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdoi/crypto.h"
#include "gdoi/numbers.h"
#include "gdoi/policy.h"

struct ks_state;

struct ks_tek_rec {
	uint32_t spi;
	uint16_t profile;
	uint8_t gen;		/* 0 = current generation, 1 = previous (kept for DTD) */
	int64_t created;	/* Unix seconds */
	size_t key_len;
	uint8_t key[GDOI_MAX_TEK_KEY];
};

#define KS_MAX_KEY_DER 4096

struct ks_group_rec {
	uint32_t gid;
	bool has_kek;
	uint8_t kek_spi[GDOI_KEK_SPI_LEN];
	uint16_t kek_alg, kek_bits;
	uint8_t kek_iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	uint8_t kek_key[GDOI_CIPHER_MAX_KEY_LEN];
	int64_t kek_created;
	uint32_t seq;			/* last SEQ used (or handed out) under this KEK */
	int64_t tek_created;		/* current TEK generation */
	int64_t prev_until;		/* previous generation is dropped then */
	bool tek_push_due;		/* a KEK rotation for eviction still owes its TEK push */
	size_t nteks;
	struct ks_tek_rec teks[GDOI_MAX_TEKS];
	size_t sign_der_len;		/* generated rekey key (PKCS#8 DER), 0 = from a file */
	uint8_t sign_der[KS_MAX_KEY_DER];
};

struct ks_member_rec {
	char name[64];
	char identity[300];
	char addr[64];			/* "A.B.C.D:PORT" the member registered from */
	bool gikev2;			/* registered by G-IKEv2: its rekeys are GSA_REKEY and
					 * GSA_INBAND_REKEY, never a GDOI GROUPKEY-PUSH */
	int64_t registered;		/* Unix seconds */
	bool has_ack;			/* acknowledged a push since it registered (RFC 8263) */
	uint32_t ack_seq;		/* the SEQ of the last push it acknowledged */
	unsigned ack_misses;		/* pushes in a row it did not acknowledge */
	size_t nssrcs;
	uint32_t ssrcs[GDOI_MAX_SIDS];
};

/* Opens (creating) DIR/gdoi-ks.db, mode 0600, and refuses a damaged one (err names
 * the file); or, for DIR = "postgresql:CONNINFO", the shared PostgreSQL state
 * (state_pg.c: the tables are created when missing). */
int ks_state_open(const char *dir, struct ks_state **out, char *err, size_t errlen);
void ks_state_close(struct ks_state *st);

/* 0 found, 1 no such group yet, -1 error. */
int ks_state_load_group(struct ks_state *st, uint32_t gid, struct ks_group_rec *rec);

enum ks_state_verdict {
	KS_STATE_OK = 0,	/* as loaded (or a new group) */
	KS_STATE_BEHIND,	/* same KEK, but the store lost commits: rec->seq raised to the last
				 * SEQ used; new TEKs must be pushed at once (members may hold newer) */
	KS_STATE_LOST,		/* the group's KEK or record is gone: a new KEK epoch is due; rec->seq
				 * holds the last SEQ the mark knows (compat groups continue it) */
};
/* At start, after ks_state_load_group returned load_rc (0 or 1): checks rec against
 * the SEQ mark; why says what was found (for the log). */
enum ks_state_verdict ks_state_verify_group(struct ks_state *st, int load_rc, struct ks_group_rec *rec,
					    char *why, size_t whylen);
/* The whole record, atomically and durably. */
int ks_state_save_group(struct ks_state *st, const struct ks_group_rec *rec);
/* Just the SEQ (before a push leaves). */
int ks_state_save_seq(struct ks_state *st, uint32_t gid, uint32_t seq);

/* Records a TEK SPI as used: 0 claimed now, 1 used before (pick another), -1 error. */
int ks_state_spi_claim(struct ks_state *st, uint32_t gid, uint32_t spi);

/* The newest cap SSRCs of a member in a group, in assignment order. */
int ks_state_ssrc_list(struct ks_state *st, uint32_t gid, const char *member, uint32_t *out,
		       size_t cap, size_t *n);
/* 0 added, 1 taken by someone in this group, -1 error. */
int ks_state_ssrc_add(struct ks_state *st, uint32_t gid, const char *member, uint32_t ssrc);

/* Registered members: upsert on registration, removal on eviction. */
int ks_state_member_seen(struct ks_state *st, uint32_t gid, const char *member,
			 const char *identity, const char *addr, bool gikev2, int64_t now);
int ks_state_member_remove(struct ks_state *st, uint32_t gid, const char *member);
/* RFC 8263: member acknowledged push seq (its misses restart at 0); or missed one
 * (*misses: how many in a row now). A registration clears both. */
int ks_state_member_acked(struct ks_state *st, uint32_t gid, const char *member, uint32_t seq);
int ks_state_member_missed(struct ks_state *st, uint32_t gid, const char *member, unsigned *misses);
/* Calls cb for each registered member of gid (SSRCs filled in). */
int ks_state_members(struct ks_state *st, uint32_t gid,
		     void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx);
/* The same without the SSRCs (nssrcs 0): a push's destinations need none, and
 * SQLite would look them up member by member (10,000 queries for 10,000). */
int ks_state_members_nossrc(struct ks_state *st, uint32_t gid,
			    void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx);

/* Evicted members stay out until admitted again. */
int ks_state_set_blocked(struct ks_state *st, const char *member, bool blocked);
bool ks_state_blocked(struct ks_state *st, const char *member);
/* 1 blocked, 0 not, -1 the check cannot be made now (PostgreSQL unreachable): the
 * caller says "try later" rather than "not allowed". SQLite: 1 or 0. */
int ks_state_blocked_check(struct ks_state *st, const char *member);

/* Several key servers on one database (PostgreSQL; with SQLite the process is alone:
 * not shared, always leader, nothing to watch). */
bool ks_state_shared(const struct ks_state *st);
/* 2: this process has just become gid's rekey leader (taking the leadership, which
 * was free: another may have led since the last call, so reload the group first),
 * 1: it still is, 0: another process is, -1: the database cannot be reached (not
 * leader). SQLite: always 1. */
int ks_state_lead(struct ks_state *st, uint32_t gid);
/* Who leads gid ("" when nobody does). */
int ks_state_leader(struct ks_state *st, uint32_t gid, char *out, size_t cap);
/* The descriptor to watch for change notices (-1: none, or not connected now), and
 * the notices read from it: cb per group another key server committed; -1 when the
 * session is gone (leadership with it). */
int ks_state_watch_fd(struct ks_state *st);
int ks_state_poll(struct ks_state *st, void (*cb)(void *ctx, uint32_t gid), void *ctx);
/* Whether the shared database's sessions are up; a lost one is being reconnected in
 * the background, and this call drives that (call it often until true). SQLite: true. */
bool ks_state_connected(struct ks_state *st);

/* Operator commands a key server that does not lead a group hands to its leader
 * (gdoictl rekey / evict on any key server): committed, announced like a group
 * record (the leader's poll sees gid), carried out by the leader, which records
 * the SEQ that carried it. SQLite: the process leads everything; none of these
 * is used (add fails, next finds nothing). */
struct ks_cmd {
	int64_t id;
	uint32_t gid;
	char op[8];			/* "rekey" (TEKs), "kek", "evict" (rotation after an eviction) */
	char member[64];		/* evict: who */
	bool done;
	bool has_seq;			/* done: the group's SEQ after the push that carried it */
	uint32_t seq;
	char error[120];		/* done: "" or why it failed */
};
int ks_state_cmd_add(struct ks_state *st, uint32_t gid, const char *op, const char *member, int64_t now,
		     int64_t *id);
/* The oldest command of gid not carried out yet: 0, 1 none, -1 error. */
int ks_state_cmd_next(struct ks_state *st, uint32_t gid, struct ks_cmd *out);
/* Which of gids[0..n) have a command not carried out yet (pending[i]), in one
 * statement for all the groups a leader leads: 0, -1 error. */
int ks_state_cmd_pending(struct ks_state *st, const uint32_t *gids, size_t n, bool *pending);
/* 0, 1 no such command (never, or carried out over an hour ago), -1 error. */
int ks_state_cmd_get(struct ks_state *st, int64_t id, struct ks_cmd *out);
int ks_state_cmd_done(struct ks_state *st, int64_t id, bool has_seq, uint32_t seq, const char *error,
		      int64_t now);

#endif
