/*
 * gcks.c - the key-server engine (gcks.h): routing, the queues, the events.
 *
 * Route of one datagram: flood limits of its source (gcks_limit.c), then the
 * Phase 1 responder, which answers Main Mode and Informational itself and
 * hands back the established SA a GROUPKEY-PULL datagram arrived under; then,
 * for exchange type 32 (GROUPKEY-PULL, RFC 6407 §3), the PULL key server.
 * Every reply is queued for gdoi_gcks_next_out, every outcome worth a log line
 * for gdoi_gcks_next_event.
 */
#include "gcks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "gcks_int.h"
#include "numbers.h"

#define EXCH_OFF 18

static int64_t engine_unix_now(void *ctx)
{
	const struct gdoi_gcks *k = ctx;
	return k->now.unix_s;
}

static bool engine_peer_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth,
				const struct gdoi_addr *addr)
{
	const struct gdoi_gcks *k = ctx;
	return !k->user_peer_allowed || k->user_peer_allowed(k->user_ctx, id, auth, addr);
}

struct gdoi_gcks *gdoi_gcks_new(const struct gdoi_gcks_cfg *cfg)
{
	if (!cfg || !cfg->p1)
		return NULL;
	struct gdoi_gcks *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->p1cfg = *cfg->p1;
	k->user_peer_allowed = cfg->p1->peer_allowed;
	k->user_ctx = cfg->p1->ctx;
	k->p1cfg.unix_now = engine_unix_now;
	k->p1cfg.peer_allowed = engine_peer_allowed;
	k->p1cfg.ctx = k;
	gcks_limits_init(&k->lim, &cfg->limits);
	k->resp = gdoi_p1_responder_new(&k->p1cfg, 0);
	k->pks = gdoi_pull_ks_new(&cfg->pull);
	if (!k->resp || !k->pks) {
		gdoi_gcks_free(k);
		return NULL;
	}
	return k;
}

void gdoi_gcks_free(struct gdoi_gcks *k)
{
	if (!k)
		return;
	gcks_push_free_all(k);
	gdoi_pull_ks_free(k->pks);
	gdoi_p1_responder_free(k->resp);
	gdoi_outq_free(&k->out);
	gdoi_evq_free(&k->ev, sizeof(struct gdoi_gcks_event));
	free(k);
}

/* ---- queues -------------------------------------------------------------- */

/* Takes *buf over; one that cannot be queued is as if lost on the way. */
static void queue_out(struct gdoi_gcks *k, uint8_t **buf, size_t len, const struct gdoi_addr *to)
{
	if (gdoi_outq_push(&k->out, buf, len, to) < 0)
		k->stats.dropped++;	/* the peer retransmits */
}

struct gdoi_gcks_event *gcks_queue_event(struct gdoi_gcks *k, enum gdoi_gcks_event_type type,
					 const struct gdoi_addr *peer, const struct gdoi_id *id)
{
	struct gdoi_gcks_event *ev = gdoi_evq_push(&k->ev, sizeof(*ev), 0);

	if (!ev)
		return NULL;
	ev->type = type;
	ev->peer = *peer;
	if (id && id->data.len <= sizeof(ev->id_data)) {
		ev->has_id = true;
		ev->id_type = id->type;
		ev->id_len = id->data.len;
		if (id->data.len)
			memcpy(ev->id_data, id->data.ptr, id->data.len);
	}
	return ev;
}

bool gdoi_gcks_next_out(struct gdoi_gcks *k, struct gdoi_out *out)
{
	return gdoi_outq_next(&k->out, out);
}

size_t gdoi_gcks_next_outs(struct gdoi_gcks *k, struct gdoi_out *out, size_t max)
{
	return gdoi_outq_next_batch(&k->out, out, max);
}

bool gdoi_gcks_next_event(struct gdoi_gcks *k, struct gdoi_gcks_event *ev)
{
	return gdoi_evq_next(&k->ev, sizeof(*ev), ev);
}

/* ---- input ----------------------------------------------------------------- */

void gcks_dropped(struct gdoi_gcks *k, const struct gdoi_addr *from, const struct gdoi_id *id, int rc,
		  const char *reason, bool pull)
{
	k->stats.dropped++;
	gcks_limit_junk(&k->lim, from, k->now.mono_ms);
	struct gdoi_gcks_event *ev = gcks_queue_event(k, GDOI_GCKS_EV_DROPPED, from, id);
	if (!ev)
		return;
	ev->err = rc;
	ev->pull = pull;
	snprintf(ev->reason, sizeof(ev->reason), "%s", reason && reason[0] ? reason : gdoi_strerror(rc));
}

static int pull_input(struct gdoi_gcks *k, struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		      const struct gdoi_addr *from)
{
	struct gdoi_pull_result pr = { 0 };
	int rc = gdoi_pull_ks_input(k->pks, sa, msg, len, k->now.mono_ms, &pr);
	queue_out(k, &pr.out, pr.out_len, from);
	const struct gdoi_id *id = gdoi_p1_peer_id(sa);
	struct gdoi_gcks_event *ev = NULL;
	if (pr.event == GDOI_PULL_EV_REGISTERED) {
		k->stats.registrations++;
		ev = gcks_queue_event(k, GDOI_GCKS_EV_REGISTERED, from, id);
		if (ev)
			ev->group_id = pr.group_id;
	} else if (pr.event == GDOI_PULL_EV_FAILED) {
		ev = gcks_queue_event(k, GDOI_GCKS_EV_REFUSED, from, id);
	} else if (rc < 0) {
		gcks_dropped(k, from, id, rc, pr.reason, true);
	} else if (pr.out_len) {
		ev = gcks_queue_event(k, GDOI_GCKS_EV_PULL_ANSWERED, from, id);
	}
	if (ev) {
		ev->notify = pr.notify;
		ev->err = pr.err;
		ev->pull = true;
		snprintf(ev->reason, sizeof(ev->reason), "%s", pr.reason);
	}
	gdoi_pull_result_clear(&pr);
	return rc;
}

bool gdoi_gcks_is_push_ack(const uint8_t *msg, size_t len)
{
	return len > EXCH_OFF && msg[EXCH_OFF] == GDOI_EXCH_PUSH_ACK &&
	       gdoi_engine_classify(msg, len) == GDOI_FE_IKEV1;
}

int gdoi_gcks_input(struct gdoi_gcks *k, const uint8_t *msg, size_t len, const struct gdoi_addr *from,
		    struct gdoi_now now)
{
	k->now = now;
	k->stats.datagrams++;
	const char *limit = gcks_limit_check(&k->lim, msg, len, from, now.mono_ms, &k->stats);
	if (limit) {
		k->stats.dropped++;
		struct gdoi_gcks_event *ev = gcks_queue_event(k, GDOI_GCKS_EV_DROPPED, from, NULL);
		if (ev) {
			ev->err = GDOI_ERR_LIMIT;
			ev->limited = true;
			snprintf(ev->reason, sizeof(ev->reason), "%s", limit);
		}
		return GDOI_ERR_LIMIT;
	}
	if (gdoi_engine_classify(msg, len) == GDOI_FE_IKEV2) {
		gcks_dropped(k, from, NULL, GDOI_ERR_UNSUPPORTED, "IKEv2 header (G-IKEv2 is not served)", false);
		return GDOI_ERR_UNSUPPORTED;
	}
	if (gdoi_gcks_is_push_ack(msg, len))
		return gcks_push_ack_input(k, msg, len, from);
	struct gdoi_p1_result res = { 0 };
	struct gdoi_p1_sa *sa = NULL;
	int rc = gdoi_p1_responder_input(k->resp, msg, len, from, now.mono_ms, &res, &sa);
	bool answered = res.out != NULL;
	queue_out(k, &res.out, res.out_len, from);
	const struct gdoi_id *id = sa ? gdoi_p1_peer_id(sa) : NULL;
	enum gdoi_gcks_event_type t = GDOI_GCKS_EV_NONE;
	switch (res.event) {
	case GDOI_P1_EV_ESTABLISHED:
		t = GDOI_GCKS_EV_P1_ESTABLISHED;
		break;
	case GDOI_P1_EV_FAILED:
		k->stats.dropped++;
		gcks_limit_junk(&k->lim, from, now.mono_ms);
		t = GDOI_GCKS_EV_P1_FAILED;
		break;
	case GDOI_P1_EV_DELETED:
		t = GDOI_GCKS_EV_P1_DELETED;
		break;
	case GDOI_P1_EV_NOTIFY:
		t = GDOI_GCKS_EV_P1_NOTIFY;
		break;
	default:
		if (rc < 0)
			gcks_dropped(k, from, id, rc, res.reason, false);
		break;
	}
	if (t != GDOI_GCKS_EV_NONE) {
		struct gdoi_gcks_event *ev = gcks_queue_event(k, t, from, id);
		if (ev) {
			ev->notify = res.notify;
			ev->err = res.err;
			snprintf(ev->reason, sizeof(ev->reason), "%s", res.reason);
		}
	}
	bool pull = rc == 0 && sa && !answered && res.event == GDOI_P1_EV_NONE && len > EXCH_OFF &&
		    msg[EXCH_OFF] == GDOI_EXCH_PULL;
	gdoi_p1_result_clear(&res);
	return pull ? pull_input(k, sa, msg, len, from) : rc;
}

/* ---- time -------------------------------------------------------------------- */

uint64_t gcks_earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

void gdoi_gcks_timer(struct gdoi_gcks *k, struct gdoi_now now)
{
	k->now = now;
	uint64_t a = gdoi_p1_responder_expire(k->resp, now.mono_ms);
	uint64_t b = gdoi_pull_ks_expire(k->pks, now.mono_ms);
	uint64_t c = gcks_push_timer(k, now.mono_ms);
	k->deadline = gcks_earliest(gcks_earliest(a, b), c);
}

uint64_t gdoi_gcks_deadline(const struct gdoi_gcks *k)
{
	return k->deadline;
}

const struct gdoi_gcks_stats *gdoi_gcks_stats(const struct gdoi_gcks *k)
{
	return &k->stats;
}

size_t gdoi_gcks_sa_count(const struct gdoi_gcks *k)
{
	return gdoi_p1_responder_sa_count(k->resp);
}
