/*
 * state_int.h - what a state backend implements behind state.h: one table of
 * operations, chosen when the state is opened (state.c), and a handle whose
 * first member is struct ks_state. SQLite (state_sqlite.c) is the default;
 * "postgresql:CONNINFO" opens state_pg.c. Nothing outside the state files
 * includes this.
 *
 * Every operation receives the handle it was opened with. The leadership,
 * notice and command operations may be NULL: the process is alone (state.c
 * then says: not shared, always the leader, "self", nothing to watch, no
 * commands), which is what the SQLite backend leaves them.
 */
#ifndef KS_STATE_INT_H
#define KS_STATE_INT_H

#include "keyserver/state.h"

struct ks_state_ops {
	void (*close)(struct ks_state *st);
	int (*load_group)(struct ks_state *st, uint32_t gid, struct ks_group_rec *rec);
	enum ks_state_verdict (*verify_group)(struct ks_state *st, int load_rc, struct ks_group_rec *rec, char *why,
					      size_t whylen);
	int (*save_group)(struct ks_state *st, const struct ks_group_rec *rec);
	int (*save_seq)(struct ks_state *st, uint32_t gid, uint32_t seq);
	int (*spi_claim)(struct ks_state *st, uint32_t gid, uint32_t spi);
	int (*ssrc_list)(struct ks_state *st, uint32_t gid, const char *member, uint32_t *out, size_t cap,
			 size_t *n);
	int (*ssrc_add)(struct ks_state *st, uint32_t gid, const char *member, uint32_t ssrc);
	int (*member_seen)(struct ks_state *st, uint32_t gid, const char *member, const char *identity,
			   const char *addr, bool gikev2, int64_t now);
	int (*member_remove)(struct ks_state *st, uint32_t gid, const char *member);
	int (*member_acked)(struct ks_state *st, uint32_t gid, const char *member, uint32_t seq);
	int (*member_missed)(struct ks_state *st, uint32_t gid, const char *member, unsigned *misses);
	int (*members)(struct ks_state *st, uint32_t gid, bool ssrcs,
		       void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx);
	int (*set_blocked)(struct ks_state *st, const char *member, bool blocked);
	int (*blocked_check)(struct ks_state *st, const char *member);
	/* several key servers on one database (NULL: alone) */
	int (*lead)(struct ks_state *st, uint32_t gid);
	int (*leader)(struct ks_state *st, uint32_t gid, char *out, size_t cap);
	int (*watch_fd)(struct ks_state *st);
	int (*poll)(struct ks_state *st, void (*cb)(void *ctx, uint32_t gid), void *ctx);
	bool (*connected)(struct ks_state *st);
	int (*cmd_add)(struct ks_state *st, uint32_t gid, const char *op, const char *member, int64_t now,
		       int64_t *id);
	int (*cmd_next)(struct ks_state *st, uint32_t gid, struct ks_cmd *out);
	int (*cmd_pending)(struct ks_state *st, const uint32_t *gids, size_t n, bool *pending);
	int (*cmd_get)(struct ks_state *st, int64_t id, struct ks_cmd *out);
	int (*cmd_done)(struct ks_state *st, int64_t id, bool has_seq, uint32_t seq, const char *error,
			int64_t now);
};

struct ks_state {
	const struct ks_state_ops *ops;
};

int ks_state_sqlite_open(const char *dir, struct ks_state **out, char *err, size_t errlen);

#endif
