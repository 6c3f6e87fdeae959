/*
 * gike2_gcks.c - the G-IKEv2 key-server engine (gike2_gcks.h).
 */
#include "gike2_gcks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_queue.h"
#include "err.h"
#include "gike2_numbers.h"
#include "ike2_numbers.h"

#define GCKS_EVENTS_MAX 1024

struct gike2_gcks_engine {
	struct gike2_gcks_engine_cfg cfg;
	struct gdoi_ike2_config ike;
	struct gdoi_ike2_hooks inner;	/* gike2_ike.c's GCKS hooks */
	struct gike2_gcks k;		/* the group of the request being answered */
	struct gdoi_ike2_responder *resp;
	struct gdoi_addr peer;		/* of the datagram being handled */
	bool refused;			/* answer() reported a refusal for it */
	const struct gike2_idg *idg;	/* of the request being answered */
	const struct gdoi_ike2_id *member;
	size_t nsids;			/* what it was given */
	uint32_t sids[GIKE2_GCKS_MAX_SIDS];
	struct gdoi_outq outq;
	struct gdoi_evq evq;
	uint64_t deadline;
	struct gike2_gcks_stats stats;
};

static struct gike2_gcks_event *queue_event(struct gike2_gcks_engine *e,
					    enum gike2_gcks_event_type t, const struct gdoi_ike2_sa *sa)
{
	struct gike2_gcks_event *ev = gdoi_evq_push(&e->evq, sizeof(*ev), GCKS_EVENTS_MAX);
	if (!ev)
		return NULL;
	ev->type = t;
	ev->peer = e->peer;
	const struct gdoi_ike2_id *id = sa ? gdoi_ike2_peer_id(sa) : NULL;
	if (id && id->data.len) {
		size_t n = id->data.len < sizeof(ev->id) - 1 ? id->data.len : sizeof(ev->id) - 1;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = id->data.ptr[i];
			ev->id[i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		ev->id_len = n;
	}
	return ev;
}

static const struct gdoi_ike2_payload *find_idg(const struct gdoi_ike2_payload *in, size_t nin)
{
	for (size_t i = 0; i < nin; i++)
		if (in[i].type == GIKE2_PL_IDG)
			return &in[i];
	return NULL;
}

static uint16_t refusal_notify(int rc)
{
	if (rc == GDOI_ERR_NOT_FOUND)
		return GIKE2_N_INVALID_GROUP_ID;
	if (rc == GDOI_ERR_NOT_AUTHORIZED)
		return GIKE2_N_AUTHORIZATION_FAILED;
	return GIKE2_N_REGISTRATION_FAILED;
}

static int assign(void *ctx, uint32_t count, uint32_t *sids, size_t cap, size_t *n)
{
	struct gike2_gcks_engine *e = ctx;
	if (count > cap)
		count = (uint32_t)cap;
	int rc = e->cfg.assign_sids(e->cfg.ctx, e->idg, e->member, count, sids, cap, n);
	if (rc == 0 && *n > count)
		*n = count;
	for (size_t i = 0; rc == 0 && i < *n && i < GIKE2_GCKS_MAX_SIDS; i++)
		e->sids[e->nsids++] = sids[i];
	return rc;
}

/* Looks the group up, then lets gike2_ike.c answer under it. */
static int answer(struct gike2_gcks_engine *e, struct gdoi_ike2_sa *sa, uint8_t exchange,
		  const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
		  uint16_t *notify, bool auth)
{
	const struct gdoi_ike2_payload *p = find_idg(in, nin);
	struct gike2_idg idg = { 0 };
	struct gdoi_parse_error pe;
	int rc = GDOI_ERR_MISSING;

	memset(&e->k, 0, sizeof(e->k));
	if (p) {
		struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, 0);
		rc = gike2_idg_parse(&r, &idg, &pe);
	}
	if (rc) {
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		snprintf(e->k.why, sizeof(e->k.why), "no valid IDg");
	} else {
		e->k.group = idg;
		e->idg = &idg;
		e->member = gdoi_ike2_peer_id(sa);
		e->nsids = 0;
		rc = e->cfg.lookup(e->cfg.ctx, &idg, gdoi_ike2_peer_id(sa), &e->peer, &e->k);
		if (rc == 0 && !e->k.policy)
			rc = GDOI_ERR_STATE;
		if (rc) {
			*notify = refusal_notify(rc);
			if (!e->k.why[0])
				snprintf(e->k.why, sizeof(e->k.why), "group lookup: %s", gdoi_strerror(rc));
		}
	}
	uint32_t first = e->k.next_sid;
	if (rc == 0 && e->cfg.assign_sids) {
		e->k.assign_sids = assign;
		e->k.assign_ctx = e;
	}
	if (rc == 0)
		rc = auth ? e->inner.auth_request(&e->k, sa, exchange, in, nin, out, notify)
			  : e->inner.request(&e->k, sa, exchange, in, nin, out, notify);
	struct gike2_gcks_event *ev =
		queue_event(e, rc == 0 ? GIKE2_GCKS_EV_REGISTERED : GIKE2_GCKS_EV_REFUSED, sa);
	if (rc == 0)
		e->stats.registrations++;
	else
		e->stats.refusals++;
	e->refused = rc != 0;
	if (ev) {
		ev->exchange = exchange;
		ev->idg_type = idg.id_type;
		ev->idg_len = idg.data.len < sizeof(ev->idg) ? idg.data.len : sizeof(ev->idg);
		if (ev->idg_len)
			memcpy(ev->idg, idg.data.ptr, ev->idg_len);
		for (uint32_t s = first; rc == 0 && s != e->k.next_sid && ev->nsids < GIKE2_GCKS_MAX_SIDS;
		     s++)
			ev->sids[ev->nsids++] = s;
		for (size_t i = 0; rc == 0 && e->k.assign_sids && i < e->nsids; i++)
			ev->sids[ev->nsids++] = e->sids[i];
		ev->notify = rc ? *notify : 0;
		ev->err = rc;
		snprintf(ev->reason, sizeof(ev->reason), "%s", e->k.why);
	}
	return rc;
}

static int hook_auth_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			     const struct gdoi_ike2_payload *in, size_t nin,
			     struct gdoi_ike2_plist *out, uint16_t *notify)
{
	if (exchange != GIKE2_EXCH_GSA_AUTH)
		return 0;	/* a plain IKE_AUTH: a GSA_REGISTRATION may follow */
	return answer(ctx, sa, exchange, in, nin, out, notify, true);
}

static int hook_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
			uint16_t *notify)
{
	if (exchange != GIKE2_EXCH_GSA_REGISTRATION) {
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		return GDOI_ERR_UNSUPPORTED;
	}
	return answer(ctx, sa, exchange, in, nin, out, notify, false);
}

struct gike2_gcks_engine *gike2_gcks_engine_new(const struct gike2_gcks_engine_cfg *cfg,
						struct gdoi_now now)
{
	if (!cfg || !cfg->ike || !cfg->lookup)
		return NULL;
	struct gike2_gcks_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->ike = *cfg->ike;
	gike2_gcks_attach(&e->k, &e->ike);
	e->inner = e->ike.hooks;
	e->ike.hooks.auth_request = hook_auth_request;
	e->ike.hooks.request = hook_request;
	e->ike.hooks.ctx = e;
	e->resp = gdoi_ike2_responder_new(&e->ike, now.mono_ms);
	if (!e->resp) {
		free(e);
		return NULL;
	}
	return e;
}

void gike2_gcks_engine_free(struct gike2_gcks_engine *e)
{
	if (!e)
		return;
	gdoi_ike2_responder_free(e->resp);
	gdoi_outq_free(&e->outq);
	gdoi_evq_free(&e->evq, sizeof(struct gike2_gcks_event));
	free(e);
}

static void queue_result(struct gike2_gcks_engine *e, struct gdoi_ike2_result *res,
			 const struct gdoi_addr *to)
{
	for (size_t i = 0; i < res->nout; i++)
		(void)gdoi_outq_push(&e->outq, &res->out[i], res->out_len[i], to);
	res->nout = 0;
}

int gike2_gcks_engine_input(struct gike2_gcks_engine *e, const uint8_t *dgram, size_t len,
			    const struct gdoi_addr *from, struct gdoi_now now)
{
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *sa = NULL;

	e->stats.datagrams++;
	e->peer = *from;
	e->refused = false;
	int rc = gdoi_ike2_responder_input(e->resp, dgram, len, from, now.mono_ms, &res, &sa);
	queue_result(e, &res, from);
	enum gike2_gcks_event_type t = GIKE2_GCKS_EV_NONE;
	if (res.event == GDOI_IKE2_EV_FAILED)
		t = GIKE2_GCKS_EV_FAILED;
	else if (res.event == GDOI_IKE2_EV_DELETED)
		t = GIKE2_GCKS_EV_DELETED;
	else if (rc < 0)
		t = GIKE2_GCKS_EV_DROPPED;
	if (rc < 0)
		e->stats.dropped++;
	/* a refused registration is reported by answer() already */
	if (t != GIKE2_GCKS_EV_NONE && !(t == GIKE2_GCKS_EV_FAILED && e->refused)) {
		struct gike2_gcks_event *ev = queue_event(e, t, sa);
		if (ev) {
			ev->notify = res.notify;
			ev->err = rc < 0 ? rc : res.err;
			snprintf(ev->reason, sizeof(ev->reason), "%s", res.reason);
		}
	}
	gdoi_ike2_result_clear(&res);
	/* half-open SAs time out: the next timer call finds when */
	if (gdoi_ike2_responder_sa_count(e->resp) && (!e->deadline || e->deadline > now.mono_ms + 1000))
		e->deadline = now.mono_ms + 1000;
	return rc < 0 ? rc : 0;
}

void gike2_gcks_engine_timer(struct gike2_gcks_engine *e, struct gdoi_now now)
{
	struct gdoi_ike2_result res = { 0 };
	/* a responder only answers (the initiator retransmits, RFC 7296 §2.1);
	 * what expire returns has no peer named: dropped (result_clear frees) */
	e->deadline = gdoi_ike2_responder_expire(e->resp, now.mono_ms, &res);
	gdoi_ike2_result_clear(&res);
}

uint64_t gike2_gcks_engine_deadline(const struct gike2_gcks_engine *e)
{
	return e->deadline;
}

bool gike2_gcks_engine_next_out(struct gike2_gcks_engine *e, struct gdoi_out *out)
{
	return gdoi_outq_next(&e->outq, out);
}

bool gike2_gcks_engine_next_event(struct gike2_gcks_engine *e, struct gike2_gcks_event *ev)
{
	return gdoi_evq_next(&e->evq, sizeof(*ev), ev);
}

const struct gike2_gcks_stats *gike2_gcks_engine_stats(const struct gike2_gcks_engine *e)
{
	return &e->stats;
}

size_t gike2_gcks_engine_sa_count(const struct gike2_gcks_engine *e)
{
	return gdoi_ike2_responder_sa_count(e->resp);
}
