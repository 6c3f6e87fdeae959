/*
 * gcks_int.h - the key-server engine's internals, shared by gcks.c (routing,
 * queues) and gcks_limit.c (flood limits). Not for applications.
 */
#ifndef GDOI_GCKS_INT_H
#define GDOI_GCKS_INT_H

#include "engine_queue.h"
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

/* One destination of a push in flight. */
struct gcks_dest {
	struct gdoi_addr to;
	bool member, acked;
	uint8_t id_type;
	size_t id_len;
	uint8_t id[GDOI_GCKS_ID_MAX];
};

/* One push in flight: its bytes, its destinations, its next send. */
struct gcks_push {
	struct gdoi_gcks_push_cfg cfg;
	uint32_t seq;
	uint8_t kek_spi[GDOI_KEK_SPI_LEN];
	uint8_t ack_key[64];		/* GDOI_PUSH_ACK_KEY_MAX */
	size_t ack_key_len;
	uint8_t *buf;
	size_t len;
	unsigned left;			/* sends still to come */
	uint64_t next_ms;		/* the next send, or the end of the wait for ACKs */
	struct gcks_dest *dests;
	size_t ndests;
};

struct gdoi_gcks {
	struct gdoi_p1_config p1cfg;
	bool (*user_peer_allowed)(void *ctx, const struct gdoi_id *id, uint16_t auth,
				  const struct gdoi_addr *addr);
	void *user_ctx;
	struct gdoi_p1_responder *resp;
	struct gdoi_pull_ks *pks;
	struct gdoi_now now;		/* of the call being served */
	uint64_t deadline;
	struct gcks_limits lim;
	struct gdoi_outq out;
	struct gdoi_evq ev;		/* of struct gdoi_gcks_event */
	struct gdoi_gcks_stats stats;
	struct gcks_push **pushes;
	size_t npushes;
};

/* Queues a copy of buf for to (gcks.c). */
struct gdoi_gcks_event *gcks_queue_event(struct gdoi_gcks *k, enum gdoi_gcks_event_type type,
					 const struct gdoi_addr *peer, const struct gdoi_id *id);
void gcks_dropped(struct gdoi_gcks *k, const struct gdoi_addr *from, const struct gdoi_id *id, int rc,
		  const char *reason, bool pull);
/* gcks_push.c: an RFC 8263 ACK from a member; resends due by now (the next due, 0 = none). */
int gcks_push_ack_input(struct gdoi_gcks *k, const uint8_t *msg, size_t len, const struct gdoi_addr *from);
uint64_t gcks_push_timer(struct gdoi_gcks *k, uint64_t now_ms);
void gcks_push_free_all(struct gdoi_gcks *k);
/* The earlier of two deadlines (0 = none). */
uint64_t gcks_earliest(uint64_t a, uint64_t b);

void gcks_limits_init(struct gcks_limits *l, const struct gdoi_gcks_limits *cfg);
/* NULL when msg from may be served; else the limit it is over (counted in st). */
const char *gcks_limit_check(struct gcks_limits *l, const uint8_t *msg, size_t len,
			     const struct gdoi_addr *from, uint64_t now_ms, struct gdoi_gcks_stats *st);
/* from sent a datagram that was dropped or refused. */
void gcks_limit_junk(struct gcks_limits *l, const struct gdoi_addr *from, uint64_t now_ms);

#endif
