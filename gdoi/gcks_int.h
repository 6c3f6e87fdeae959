/*
 * gcks_int.h - the key-server engine's internals, shared by gcks.c (routing,
 * queues) and gcks_limit.c (flood limits). Not for applications.
 */
#ifndef GDOI_GCKS_INT_H
#define GDOI_GCKS_INT_H

#include "gcks.h"

/* Sources tracked at once; a new source takes the least recently seen slot of
 * its set, so a flood of spoofed sources only churns the table. */
#define GCKS_SRC_SETS 256
#define GCKS_SRC_WAYS 4

struct gcks_src {
	bool used;
	uint8_t len;
	uint8_t ip[16];
	uint64_t seen_ms;
	uint64_t mm1_milli, junk_milli;	/* tokens, in thousandths */
};

struct gcks_limits {
	uint32_t mm1_rate, mm1_burst, junk_rate, junk_burst;
	struct gcks_src src[GCKS_SRC_SETS][GCKS_SRC_WAYS];
};

struct gcks_out {
	struct gdoi_addr to;
	uint8_t *buf;
	size_t len;
};

struct gdoi_gcks {
	struct gdoi_p1_config p1cfg;
	bool (*user_peer_allowed)(void *ctx, const struct gdoi_id *id, const struct gdoi_addr *addr);
	void *user_ctx;
	struct gdoi_p1_responder *resp;
	struct gdoi_pull_ks *pks;
	struct gdoi_now now;		/* of the call being served */
	uint64_t deadline;
	struct gcks_limits lim;
	struct gcks_out *out;
	size_t out_head, nout, outcap;
	uint8_t *lent;			/* the datagram gdoi_gcks_next_out last returned */
	struct gdoi_gcks_event *ev;
	size_t ev_head, nev, evcap;
	struct gdoi_gcks_stats stats;
};

void gcks_limits_init(struct gcks_limits *l, const struct gdoi_gcks_limits *cfg);
/* NULL when msg from may be served; else the limit it is over (counted in st). */
const char *gcks_limit_check(struct gcks_limits *l, const uint8_t *msg, size_t len,
			     const struct gdoi_addr *from, uint64_t now_ms, struct gdoi_gcks_stats *st);
/* from sent a datagram that was dropped or refused. */
void gcks_limit_junk(struct gcks_limits *l, const struct gdoi_addr *from, uint64_t now_ms);

#endif
