/*
 * engine_queue.h - the two queues every engine keeps between an application's
 * calls (engine.c): datagrams to send, and events. Not for applications.
 */
#ifndef GDOI_ENGINE_QUEUE_H
#define GDOI_ENGINE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* owns: the buffer is freed with this item; a buffer queued for several
 * destinations (gdoi_outq_push_ref) is owned by the last of them, which FIFO
 * order takes last. */
struct gdoi_outq_item {
	struct gdoi_addr to;
	uint8_t *buf;
	size_t len;
	bool owns;
};

/* Datagrams queued and not yet taken; lent: the buffers of those the last
 * gdoi_outq_next(_batch) returned, freed at the next call. */
struct gdoi_outq {
	struct gdoi_outq_item *v;
	size_t head, n, cap;
	size_t nlent;
	uint8_t *lent[GDOI_OUT_BATCH];
};

/* Takes *buf over (NULL afterwards, queued or not) and queues it for to. Returns 0,
 * GDOI_ERR_NOMEM when it could not be queued (freed: as if lost on the way), or 1 when
 * there was nothing to queue (*buf NULL or len 0). */
int gdoi_outq_push(struct gdoi_outq *q, uint8_t **buf, size_t len, const struct gdoi_addr *to);
/* One datagram to many destinations without a copy each: gdoi_outq_reserve(n),
 * then gdoi_outq_push_ref for all but the last destination (buf stays the
 * caller's) and gdoi_outq_push for the last (takes buf over); after a
 * successful reserve neither fails. */
int gdoi_outq_reserve(struct gdoi_outq *q, size_t n);
void gdoi_outq_push_ref(struct gdoi_outq *q, uint8_t *buf, size_t len, const struct gdoi_addr *to);
bool gdoi_outq_next(struct gdoi_outq *q, struct gdoi_out *out);
size_t gdoi_outq_next_batch(struct gdoi_outq *q, struct gdoi_out *out, size_t max);
void gdoi_outq_free(struct gdoi_outq *q);

/* Events of one type, size bytes each; wiped when taken or freed (they may carry keys). */
struct gdoi_evq {
	uint8_t *v;
	size_t head, n, cap;
};

/* A zeroed slot at the tail, or NULL when out of memory or when max (0: no bound) are
 * already waiting. */
void *gdoi_evq_push(struct gdoi_evq *q, size_t size, size_t max);
/* Copies the oldest event into ev and wipes its slot; false when none waits. */
bool gdoi_evq_next(struct gdoi_evq *q, size_t size, void *ev);
void gdoi_evq_free(struct gdoi_evq *q, size_t size);

#endif
