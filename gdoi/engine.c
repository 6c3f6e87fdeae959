/*
 * engine.c - what the engines share: their output and event queues
 * (engine_queue.h), and telling the front ends apart by the header's version (RFC 2408 §3.1 and RFC 7296 §3.1 share the first 28 octets:
 * two SPIs or cookies, next payload, then the version octet, major in its
 * high nibble).
 */
#include "engine.h"
#include "engine_queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"

#define HDR_LEN	    28
#define VERSION_OFF 17
#define NONESP_MARKER_LEN 4

enum gdoi_front_end gdoi_engine_classify(const uint8_t *dgram, size_t len)
{
	static const uint8_t marker[NONESP_MARKER_LEN];
	if (!dgram || len < HDR_LEN)
		return GDOI_FE_NONE;
	/* The Non-ESP Marker (RFC 3948 §2.2, RFC 7296 §2.23): four zero octets,
	 * where no SPI of ours starts, before an IKEv2 message from a peer that
	 * marks every message to a port other than 500 (strongSwan's charon);
	 * the IKEv2 core strips it.
	 * An ISAKMP cookie may begin with four zero octets too: without an IKEv2
	 * header behind them the datagram is classified by its own header. */
	if (!memcmp(dgram, marker, sizeof(marker)) && len >= sizeof(marker) + HDR_LEN &&
	    dgram[sizeof(marker) + VERSION_OFF] >> 4 == 2)
		return GDOI_FE_IKEV2;
	switch (dgram[VERSION_OFF] >> 4) {
	case 1:
		return GDOI_FE_IKEV1;
	case 2:
		return GDOI_FE_IKEV2;
	default:
		return GDOI_FE_NONE;
	}
}

int gdoi_outq_reserve(struct gdoi_outq *q, size_t n)
{
	if (q->head == q->n)
		q->head = q->n = 0;
	if (q->cap - q->n >= n)
		return 0;
	size_t cap = q->cap ? q->cap : 4;
	while (cap - q->n < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*q->v))
			return GDOI_ERR_NOMEM;
		cap *= 2;
	}
	struct gdoi_outq_item *v = realloc(q->v, cap * sizeof(*v));
	if (!v)
		return GDOI_ERR_NOMEM;
	q->v = v;
	q->cap = cap;
	return 0;
}

int gdoi_outq_push(struct gdoi_outq *q, uint8_t **buf, size_t len, const struct gdoi_addr *to)
{
	if (!*buf || !len) {
		free(*buf);
		*buf = NULL;
		return 1;
	}
	if (gdoi_outq_reserve(q, 1)) {
		free(*buf);
		*buf = NULL;
		return GDOI_ERR_NOMEM;
	}
	q->v[q->n++] = (struct gdoi_outq_item){ .to = *to, .buf = *buf, .len = len, .owns = true };
	*buf = NULL;
	return 0;
}

void gdoi_outq_push_ref(struct gdoi_outq *q, uint8_t *buf, size_t len, const struct gdoi_addr *to)
{
	if (q->head == q->n)
		q->head = q->n = 0;
	if (q->n < q->cap)	/* reserved */
		q->v[q->n++] = (struct gdoi_outq_item){ .to = *to, .buf = buf, .len = len };
}

static void free_lent(struct gdoi_outq *q)
{
	for (size_t i = 0; i < q->nlent; i++)
		free(q->lent[i]);
	q->nlent = 0;
}

size_t gdoi_outq_next_batch(struct gdoi_outq *q, struct gdoi_out *out, size_t max)
{
	free_lent(q);
	if (max > GDOI_OUT_BATCH)
		max = GDOI_OUT_BATCH;
	size_t k = 0;
	for (; k < max && q->head < q->n; k++) {
		struct gdoi_outq_item *o = &q->v[q->head++];
		if (o->owns)
			q->lent[q->nlent++] = o->buf;
		out[k] = (struct gdoi_out){ .to = o->to, .buf = o->buf, .len = o->len };
	}
	return k;
}

bool gdoi_outq_next(struct gdoi_outq *q, struct gdoi_out *out)
{
	return gdoi_outq_next_batch(q, out, 1) == 1;
}

void gdoi_outq_free(struct gdoi_outq *q)
{
	for (size_t i = q->head; i < q->n; i++)
		if (q->v[i].owns)
			free(q->v[i].buf);
	free(q->v);
	free_lent(q);
	*q = (struct gdoi_outq){ 0 };
}

void *gdoi_evq_push(struct gdoi_evq *q, size_t size, size_t max)
{
	if (q->head == q->n)
		q->head = q->n = 0;
	if (max && q->n - q->head >= max)
		return NULL;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		uint8_t *v = calloc(cap, size);
		if (!v)
			return NULL;
		if (q->v)
			memcpy(v, q->v, q->n * size);
		gdoi_wipe_free(q->v, q->cap * size);	/* a realloc would leave the old copy */
		q->v = v;
		q->cap = cap;
	}
	uint8_t *ev = q->v + q->n++ * size;
	memset(ev, 0, size);
	return ev;
}

bool gdoi_evq_next(struct gdoi_evq *q, size_t size, void *ev)
{
	if (q->head == q->n)
		return false;
	uint8_t *slot = q->v + q->head++ * size;
	memcpy(ev, slot, size);
	gdoi_wipe(slot, size);
	return true;
}

void gdoi_evq_free(struct gdoi_evq *q, size_t size)
{
	gdoi_wipe_free(q->v, q->cap * size);
	*q = (struct gdoi_evq){ 0 };
}
