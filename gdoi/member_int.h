/*
 * member_int.h - the member engine's internals, shared by member.c (input,
 * push dispatch, queues, views) and member_reg.c (the Phase 1 SA pair,
 * failover and backoff, registrations, the timer). Not for applications.
 */
#ifndef GDOI_MEMBER_INT_H
#define GDOI_MEMBER_INT_H

#include "engine_queue.h"
#include "member.h"
#include "pull.h"

#define MEMBER_EVENTS_MAX 256	/* queued and not taken: more are counted, not kept */

struct member_group {
	struct gdoi_member_group_cfg cfg;
	struct gdoi_member_teks keys;	/* policy and live TEKs (keys.pol NULL until registered) */
	struct gdoi_pull_member *pm;	/* registration in progress */
	bool want_register;
	unsigned attempts;		/* refusals in a row (key server answered "no") */
	uint64_t retry_at;		/* no registration before (monotonic ms) */
	uint64_t asked_at;		/* last gdoi_member_want_register honoured (monotonic ms) */
	struct gdoi_member_group_stats stats;
};

struct gdoi_member {
	/* the application's check of the key server's authenticated ID, called
	 * with its own ctx (p1cfg.ctx is the engine's, for the clock) */
	bool (*peer_allowed)(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *addr);
	void *peer_ctx;
	struct gdoi_p1_config p1cfg;
	size_t nks;
	struct gdoi_addr ks[GDOI_MEMBER_MAX_KS];
	struct gdoi_member_ks_status ks_st[GDOI_MEMBER_MAX_KS];
	char ks_names[GDOI_MEMBER_MAX_KS][56];	/* "[v6]:port" fits */
	size_t ks_index;
	unsigned retry_min_ms, retry_max_ms, exchange_ms, unknown_kek_rereg_s;
	size_t ngroups;
	struct member_group groups[GDOI_MEMBER_MAX_GROUPS];
	struct gdoi_p1_sa *sa;		/* current (or being negotiated when !established) */
	struct gdoi_p1_sa *sa_next;	/* renewal in progress */
	unsigned attempt;		/* rounds over every key server failed in a row */
	uint64_t retry_at;		/* no new Phase 1 before (monotonic ms) */
	int64_t last_unknown_kek_rereg;
	bool stopped;
	struct gdoi_now now;		/* of the call being served */
	uint64_t deadline;
	struct gdoi_outq out;
	struct gdoi_evq ev;		/* of struct gdoi_member_event */
	struct gdoi_member_stats stats;
};

/* member.c */
void member_send(struct gdoi_member *m, uint8_t **buf, size_t len);
struct gdoi_member_event *member_event(struct gdoi_member *m, enum gdoi_member_event_type type,
				       int group);
void member_log(struct gdoi_member *m, enum gdoi_member_level level, const char *limit_key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void member_notes(struct gdoi_member *m, size_t group, const struct gdoi_notes *n);
const char *member_ks_name(const struct gdoi_member *m);

/* member_reg.c */
void member_service(struct gdoi_member *m);
void member_p1_result(struct gdoi_member *m, struct gdoi_p1_sa *sa, struct gdoi_p1_result *r);
void member_pull_result(struct gdoi_member *m, struct member_group *g, struct gdoi_pull_result *r);
void member_drop_sa(struct gdoi_member *m, struct gdoi_p1_sa **sa, bool send_delete);
void member_abort_pulls(struct gdoi_member *m);

#endif
