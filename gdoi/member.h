/*
 * member.h - the group-member engine, on the contract of engine.h: whole
 * datagrams with their peer, the socket they came on and the time in;
 * datagrams to send (always to the current key server), events and the next
 * deadline out (docs/architecture.md, "The member half").
 *
 * It owns the Phase 1 SA pair (the current SA and its renewal), failover
 * across the configured key servers with capped exponential backoff and
 * jitter, one GROUPKEY-PULL at a time, the refusal backoff of each group, the
 * TEK lifecycle of each group (member_teks.h), push dispatch to the group
 * whose KEK the cookies name, re-registration when keys run out, when a push
 * comes under an unknown KEK or when the application asks (fresh SSRCs), and
 * the counters of every datagram it refused, by reason. The application
 * keeps sockets, the timer, configuration, credentials and what it serves;
 * every line worth logging comes out as an event.
 */
#ifndef GDOI_MEMBER_H
#define GDOI_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"
#include "member_teks.h"
#include "phase1.h"

#define GDOI_MEMBER_MAX_KS 16	/* addresses: a host name may give several */
#define GDOI_MEMBER_MAX_GROUPS 32
#define GDOI_MEMBER_MAX_SIDS GDOI_MAX_SIDS	/* SSRCs one registration brings */

struct gdoi_member_group_cfg {
	char name[64];			/* for the log */
	uint32_t id;
	unsigned sid_request;		/* SSRCs wanted at each registration; 0 = receive only */
	bool elsewhere;			/* keys come by another front end (G-IKEv2): never registered here */
};

struct gdoi_member_cfg {
	/* Phase 1 initiator: suites, identity, credentials. Its unix_now is ignored
	 * (the engine answers with the now of each call). Copied; what it points to
	 * (keys, certificates) must outlive the engine. */
	const struct gdoi_p1_config *p1;	/* copied; its peer_allowed is called with its ctx */
	size_t nks;			/* key servers, tried in order */
	struct gdoi_addr ks[GDOI_MEMBER_MAX_KS];	/* len 0: no address yet (a failed attempt) */
	size_t ngroups;
	struct gdoi_member_group_cfg groups[GDOI_MEMBER_MAX_GROUPS];
	unsigned retry_min_ms, retry_max_ms;	/* backoff after a round of failures */
	unsigned exchange_ms;		/* PULL retransmission start */
	unsigned unknown_kek_rereg_s;	/* min seconds between unknown-KEK re-registrations */
};

/* Where a datagram came in. */
enum gdoi_member_via {
	GDOI_MEMBER_VIA_UNICAST = 0,	/* the registration socket: anything */
	GDOI_MEMBER_VIA_MULTICAST,	/* a rekey group: pushes only */
};

enum gdoi_member_event_type {
	GDOI_MEMBER_EV_NONE = 0,
	GDOI_MEMBER_EV_LOG,		/* text: a line for the log (level, limit_key) */
	GDOI_MEMBER_EV_DROPPED,		/* a datagram refused: text, limit_key, reason */
	GDOI_MEMBER_EV_REGISTERED,	/* group registered with ks: sids, has_kek, nteks */
	GDOI_MEMBER_EV_KEYS_CHANGED,	/* group's live TEKs changed (push, expiry) */
	GDOI_MEMBER_EV_FAILOVER,	/* an attempt with key server ks failed: the next one is
					 * current (index 0 again: a whole round failed) */
};

enum gdoi_member_level { GDOI_MEMBER_INFO = 0, GDOI_MEMBER_DEBUG, GDOI_MEMBER_WARN };

/* Why a datagram was refused: the counters of gdoi_member_stats. */
enum gdoi_member_drop {
	GDOI_MEMBER_DROP_HEADER = 0,	/* no ISAKMP header, or an exchange we do not take */
	GDOI_MEMBER_DROP_SOURCE,	/* not from the current key server / not a push on a rekey group */
	GDOI_MEMBER_DROP_NO_SA,		/* cookies of no SA of ours */
	GDOI_MEMBER_DROP_NO_EXCHANGE,	/* GROUPKEY-PULL for no exchange of ours */
	GDOI_MEMBER_DROP_P1,		/* refused by Phase 1 */
	GDOI_MEMBER_DROP_PULL,		/* refused by the PULL exchange */
	GDOI_MEMBER_DROP_PUSH,		/* a push of one of our groups refused (replay, signature) */
	GDOI_MEMBER_DROP_UNKNOWN_KEK,	/* a push under a KEK of no group of ours */
	GDOI_MEMBER_DROP_REASONS
};

struct gdoi_member_event {
	enum gdoi_member_event_type type;
	enum gdoi_member_level level;
	enum gdoi_member_drop reason;	/* DROPPED */
	int group;			/* index in cfg.groups; -1 = none */
	size_t ks;			/* REGISTERED: the key server's index */
	bool has_kek;			/* REGISTERED */
	bool changed;			/* REGISTERED: the live TEKs changed */
	unsigned nteks;			/* REGISTERED: SRTP TEKs delivered */
	size_t nsids;			/* REGISTERED: SSRCs delivered */
	uint32_t sids[GDOI_MEMBER_MAX_SIDS];
	bool ks_deleted;		/* FAILOVER: not a failure, the key server deleted
					 * the IKE SA (G-IKEv2 INFORMATIONAL Delete) */
	char limit_key[96];		/* non-empty: log rate-limited under this key */
	char text[320];			/* never holds keys */
};

struct gdoi_member_stats {
	uint64_t datagrams;		/* handed to gdoi_member_input */
	uint64_t dropped[GDOI_MEMBER_DROP_REASONS];
	uint64_t registrations, pushes, events_lost;
	uint64_t p1_established;
	uint64_t attempts_failed;	/* registration attempts with no usable answer */
};

/* One group's counters (docs/metrics.md). */
struct gdoi_member_group_stats {
	uint64_t registrations;		/* keys installed by GROUPKEY-PULL */
	uint64_t refusals;		/* the key server answered no */
	uint64_t pushes_applied;
	uint64_t pushes_duplicate;	/* SEQ already seen (the same push by another path) */
	uint64_t acks_sent;		/* RFC 8263 acknowledgements queued (duplicates again) */
	uint64_t pushes_refused[GDOI_ERR_SLOTS];	/* by gdoi_err_slot */
};

/* What `status` shows of a key server. */
enum gdoi_member_ks_state { GDOI_MEMBER_KS_STANDBY = 0, GDOI_MEMBER_KS_IDLE,
			    GDOI_MEMBER_KS_CONNECTING, GDOI_MEMBER_KS_CONNECTED };
struct gdoi_member_ks_status {
	enum gdoi_member_ks_state state;
	int64_t last_ok;		/* Unix seconds of its last registration, 0 = never */
	char last_error[160];
};

enum gdoi_member_group_state { GDOI_MEMBER_GROUP_UNREGISTERED = 0, GDOI_MEMBER_GROUP_WAITING,
			       GDOI_MEMBER_GROUP_REGISTERING, GDOI_MEMBER_GROUP_REGISTERED };

struct gdoi_member;

/* Every group wants registering from the first timer call. NULL on a bad cfg. */
struct gdoi_member *gdoi_member_new(const struct gdoi_member_cfg *cfg);
/* Frees without a word to the key server (see gdoi_member_shutdown). */
void gdoi_member_free(struct gdoi_member *m);
/* Abandons every exchange and queues a Delete of the established SA. */
void gdoi_member_shutdown(struct gdoi_member *m, struct gdoi_now now);

/* One datagram from `from` on `via`: 0, or a negative gdoi_err when it was
 * refused (the reason in a DROPPED event and the counters). */
int gdoi_member_input(struct gdoi_member *m, const uint8_t *dgram, size_t len,
		      const struct gdoi_addr *from, enum gdoi_member_via via, struct gdoi_now now);
/* Runs everything due: retransmissions, Phase 1 renewal and failover, new
 * registrations, TEK expiry. */
void gdoi_member_timer(struct gdoi_member *m, struct gdoi_now now);
/* When gdoi_member_timer is next due (monotonic ms, never 0 after a call). */
uint64_t gdoi_member_deadline(const struct gdoi_member *m);

/* The next datagram to send (true), valid until the next call or free. */
bool gdoi_member_next_out(struct gdoi_member *m, struct gdoi_out *out);
/* The next event (true); copied into ev. */
bool gdoi_member_next_event(struct gdoi_member *m, struct gdoi_member_event *ev);

/* The application wants group registered again (fresh SSRCs): 0 when it is
 * scheduled (at most once a second), GDOI_ERR_STATE when one is due or in
 * progress already or the last ask was under a second ago. */
int gdoi_member_want_register(struct gdoi_member *m, size_t group, struct gdoi_now now);

/* Whether a group's keys come by another front end (cfg.elsewhere), changed at run
 * time (protocol = auto: G-IKEv2 or GDOI): true abandons a registration in progress,
 * false registers it at the next gdoi_member_timer. 0, or GDOI_ERR_INVALID_ARG. */
int gdoi_member_group_elsewhere(struct gdoi_member *m, size_t group, bool elsewhere,
				struct gdoi_now now);
/* Replaces the key-server list (an application that resolves host names gives their
 * addresses anew) and makes `current` the current one. Status (last_ok, last_error)
 * follows each address that stays. When the current address changes, the SA pair
 * is dropped without a Delete and the new address is tried at once, a backoff in
 * progress cut short (not counted as a failure); otherwise exchanges carry on. The deadline becomes now: call
 * gdoi_member_timer next. 0, or GDOI_ERR_INVALID_ARG. */
int gdoi_member_set_ks(struct gdoi_member *m, const struct gdoi_addr *ks, size_t nks,
		       size_t current, struct gdoi_now now);
/* How many key-server addresses the list holds, and which one is current. */
size_t gdoi_member_nks(const struct gdoi_member *m);
size_t gdoi_member_ks_current(const struct gdoi_member *m);

/* ---- views (the sidecar's snapshots and status) ---- */

const struct gdoi_member_stats *gdoi_member_stats(const struct gdoi_member *m);
const struct gdoi_member_group_stats *gdoi_member_group_stats(const struct gdoi_member *m,
							      size_t group);
/* The group's policy and live TEKs (keys->pol NULL until registered). */
const struct gdoi_member_teks *gdoi_member_group_teks(const struct gdoi_member *m, size_t group);
enum gdoi_member_group_state gdoi_member_group_state(const struct gdoi_member *m, size_t group);
/* When the group registers again without a push (Unix seconds), 0 when none planned. */
int64_t gdoi_member_group_next_registration(const struct gdoi_member *m, size_t group);
void gdoi_member_ks_status(const struct gdoi_member *m, size_t ks, struct gdoi_member_ks_status *st);
/* "a.b.c.d:port" or "[v6]:port" of a configured key server ("(no address):port" for len 0). */
void gdoi_member_ks_name(const struct gdoi_member *m, size_t ks, char *buf, size_t len);

#endif
