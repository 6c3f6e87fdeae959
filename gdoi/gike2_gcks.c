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
#define GCKS_KEPT_DEFAULT 4096
#define GCKS_SA_LIFETIME_DEFAULT 86400u

/* A registered member's IKE SA, kept for GSA_INBAND_REKEY. */
struct kept {
	uint8_t spi_i[8], spi_r[8];
	uint64_t tag;
	bool inband;
	uint64_t expires;			/* monotonic ms */
	struct gdoi_ike2_plist *queued;		/* waiting for the window */
	uint32_t hnext;				/* index + 1 of the next in its chain */
};

struct gike2_gcks_engine {
	struct gike2_gcks_engine_cfg cfg;
	struct gdoi_ike2_config ike;
	struct gdoi_ike2_hooks inner;	/* gike2_ike.c's GCKS hooks */
	struct gike2_gcks k;		/* the group of the request being answered */
	struct gdoi_ike2_responder *resp;
	struct gdoi_addr peer;		/* of the datagram being handled */
	bool refused;			/* answer() reported a refusal for it */
	bool asked;			/* answer() ran for it (a registration) */
	const struct gike2_idg *idg;	/* of the request being answered */
	const struct gdoi_ike2_id *member;
	size_t nsids;			/* what it was given */
	uint32_t sids[GIKE2_GCKS_MAX_SIDS];
	struct gdoi_outq outq;
	struct gdoi_evq evq;
	uint64_t deadline;
	struct gike2_gcks_stats stats;
	struct kept *kept;
	size_t nkept, capkept;
	/* kept found by SPIr (ours, random): chains of index + 1, nheads a power of two */
	uint32_t *heads;
	size_t nheads;
	struct gdoi_ike2_sa *not_kept;	/* registered over max_kept: deleted after the answer */
	struct gdoi_ike2_sa *answered;	/* a GSA_INBAND_REKEY answer came on it */
	uint16_t answer_notify;
	uint64_t now_ms;		/* of the call being served */
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
	ev->auth_method = gdoi_ike2_peer_auth_method(sa);
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
	/* the GCKS cannot serve now: a GM tries another GCKS or later, it is not refused */
	if (rc == GDOI_ERR_UNAVAILABLE)
		return GDOI_IKE2_N_TEMPORARY_FAILURE;
	return GIKE2_N_REGISTRATION_FAILED;
}

static int assign(void *ctx, uint32_t count, uint32_t *sids, size_t cap, size_t *n)
{
	struct gike2_gcks_engine *e = ctx;
	if (!e->idg)
		return GDOI_ERR_STATE;	/* only while answer() handles a request */
	if (count > cap)
		count = (uint32_t)cap;
	int rc = e->cfg.assign_sids(e->cfg.ctx, e->idg, e->member, count, sids, cap, n);
	if (rc == 0 && *n > count)
		*n = count;
	for (size_t i = 0; rc == 0 && i < *n && i < GIKE2_GCKS_MAX_SIDS; i++)
		e->sids[e->nsids++] = sids[i];
	return rc;
}

static uint32_t *kept_chain(struct gike2_gcks_engine *e, const uint8_t spi_r[8])
{
	uint64_t v;
	memcpy(&v, spi_r, sizeof(v));
	return &e->heads[v & (e->nheads - 1)];
}

static struct kept *kept_find(struct gike2_gcks_engine *e, const struct gdoi_ike2_sa *sa)
{
	uint8_t si[8], sr[8];
	if (!e->nheads)
		return NULL;
	gdoi_ike2_spis(sa, si, sr);
	for (uint32_t j = *kept_chain(e, sr); j; j = e->kept[j - 1].hnext)
		if (!memcmp(e->kept[j - 1].spi_i, si, 8) && !memcmp(e->kept[j - 1].spi_r, sr, 8))
			return &e->kept[j - 1];
	return NULL;
}

static void chain_link(struct gike2_gcks_engine *e, size_t i)
{
	uint32_t *h = kept_chain(e, e->kept[i].spi_r);
	e->kept[i].hnext = *h;
	*h = (uint32_t)i + 1;
}

static void chain_unlink(struct gike2_gcks_engine *e, size_t i)
{
	uint32_t *pp = kept_chain(e, e->kept[i].spi_r);
	while (*pp && *pp != i + 1)
		pp = &e->kept[*pp - 1].hnext;
	if (*pp)
		*pp = e->kept[i].hnext;
}

/* At least as many chains as kept entries can be: 0, or -1 (the old stay). */
static int chains_fit(struct gike2_gcks_engine *e, size_t cap)
{
	size_t n = e->nheads ? e->nheads : 16;
	while (n < cap)
		n *= 2;
	if (n == e->nheads)
		return 0;
	uint32_t *h = calloc(n, sizeof(*h));
	if (!h)
		return -1;
	free(e->heads);
	e->heads = h;
	e->nheads = n;
	for (size_t i = 0; i < e->nkept; i++)
		chain_link(e, i);
	return 0;
}

static void kept_drop(struct gike2_gcks_engine *e, size_t i)
{
	if (e->kept[i].queued) {
		gdoi_ike2_plist_free(e->kept[i].queued);
		free(e->kept[i].queued);
	}
	chain_unlink(e, i);
	size_t last = --e->nkept;
	if (i != last) {
		chain_unlink(e, last);
		e->kept[i] = e->kept[last];
		chain_link(e, i);
	}
}

/* A registration on sa succeeded: its IKE SA is kept (a GSA_REGISTRATION on
 * one kept already renews it), or, over the limit, deleted after the answer. */
static void keep(struct gike2_gcks_engine *e, struct gdoi_ike2_sa *sa)
{
	struct kept *k = kept_find(e, sa);
	size_t max = e->cfg.max_kept ? e->cfg.max_kept : GCKS_KEPT_DEFAULT;
	uint32_t life = e->cfg.sa_lifetime_s ? e->cfg.sa_lifetime_s : GCKS_SA_LIFETIME_DEFAULT;
	if (!k && e->nkept < max) {
		if (e->nkept == e->capkept) {
			/* doubling, but never past the limit (a limit under 16 kept none) */
			size_t cap = e->capkept ? e->capkept * 2 : 16;
			if (cap > max)
				cap = max;
			struct kept *t = realloc(e->kept, cap * sizeof(*t));
			if (t)
				e->kept = t;
			if (!t || chains_fit(e, cap)) {
				e->not_kept = sa;
				return;
			}
			e->capkept = cap;
		}
		k = &e->kept[e->nkept++];
		memset(k, 0, sizeof(*k));
		gdoi_ike2_spis(sa, k->spi_i, k->spi_r);
		k->expires = e->now_ms + (uint64_t)life * 1000u;
		chain_link(e, e->nkept - 1);
	}
	if (!k) {
		e->not_kept = sa;
		return;
	}
	k->tag = e->k.tag;
	k->inband = e->k.inband;
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
	e->asked = true;
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
	if (rc == 0)
		keep(e, sa);
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
	e->idg = NULL;	/* it pointed at this call's IDg */
	e->member = NULL;
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

/* The answer to our GSA_INBAND_REKEY: empty, or an error Notify. */
static void hook_response(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			  const struct gdoi_ike2_payload *in, size_t nin)
{
	struct gike2_gcks_engine *e = ctx;
	if (exchange != GIKE2_EXCH_GSA_INBAND_REKEY)
		return;
	e->answered = sa;
	e->answer_notify = 0;
	for (size_t i = 0; i < nin; i++) {
		uint16_t t;
		if (in[i].type != GDOI_IKE2_PL_NOTIFY || in[i].body.len < 4)
			continue;
		t = (uint16_t)(in[i].body.ptr[2] << 8 | in[i].body.ptr[3]);
		if (t < 16384)	/* an error type (RFC 7296 §3.10.1) */
			e->answer_notify = t;
	}
}

/* cfg into e: e->ike, which the responder and every IKE SA read, in place */
static void configure(struct gike2_gcks_engine *e, const struct gike2_gcks_engine_cfg *cfg)
{
	e->cfg = *cfg;
	e->ike = *cfg->ike;
	gike2_gcks_attach(&e->k, &e->ike);
	e->inner = e->ike.hooks;
	e->ike.hooks.auth_request = hook_auth_request;
	e->ike.hooks.request = hook_request;
	e->ike.hooks.response = hook_response;
	e->ike.hooks.ctx = e;
}

struct gike2_gcks_engine *gike2_gcks_engine_new(const struct gike2_gcks_engine_cfg *cfg,
						struct gdoi_now now)
{
	if (!cfg || !cfg->ike || !cfg->lookup)
		return NULL;
	struct gike2_gcks_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	configure(e, cfg);
	e->resp = gdoi_ike2_responder_new(&e->ike, now.mono_ms);
	if (!e->resp) {
		free(e);
		return NULL;
	}
	return e;
}

int gike2_gcks_engine_reconfigure(struct gike2_gcks_engine *e, const struct gike2_gcks_engine_cfg *cfg)
{
	if (!e || !cfg || !cfg->ike || !cfg->lookup)
		return GDOI_ERR_INVALID_ARG;
	configure(e, cfg);
	return 0;
}

void gike2_gcks_engine_free(struct gike2_gcks_engine *e)
{
	if (!e)
		return;
	while (e->nkept)
		kept_drop(e, e->nkept - 1);
	free(e->kept);
	free(e->heads);
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

static struct gike2_gcks_event *closed(struct gike2_gcks_engine *e, const struct gdoi_ike2_sa *sa,
				       const char *why)
{
	struct gike2_gcks_event *ev = queue_event(e, GIKE2_GCKS_EV_SA_CLOSED, sa);
	if (ev) {
		ev->peer = *gdoi_ike2_peer_addr(sa);
		snprintf(ev->reason, sizeof(ev->reason), "%s", why);
	}
	return ev;
}

/* Our INFORMATIONAL Delete of sa (RFC 7296 §1.4.1): the SA is dead at once;
 * an SA_CLOSED event says why (none when why is NULL). */
static void delete_sa(struct gike2_gcks_engine *e, struct gdoi_ike2_sa *sa, const char *why,
		      uint64_t now)
{
	struct gdoi_ike2_result res = { 0 };
	if (gdoi_ike2_send_delete(sa, now, &res) == 0)
		queue_result(e, &res, gdoi_ike2_peer_addr(sa));
	gdoi_ike2_result_clear(&res);
	if (why)
		closed(e, sa, why);
}

static int send_inband(struct gike2_gcks_engine *e, struct gdoi_ike2_sa *sa,
		       const struct gdoi_ike2_plist *pl, uint64_t now)
{
	struct gdoi_ike2_result res = { 0 };
	int rc = gdoi_ike2_send_request(sa, GIKE2_EXCH_GSA_INBAND_REKEY, pl, now, &res);
	queue_result(e, &res, gdoi_ike2_peer_addr(sa));
	gdoi_ike2_result_clear(&res);
	return rc;
}

/* An answer came: report it, and send what waited for the window. */
static void answered(struct gike2_gcks_engine *e, struct gdoi_ike2_sa *sa, uint64_t now)
{
	struct gike2_gcks_event *ev = queue_event(e, GIKE2_GCKS_EV_INBAND_ANSWERED, sa);
	if (ev) {
		ev->notify = e->answer_notify;
		snprintf(ev->reason, sizeof(ev->reason), "%s",
			 e->answer_notify ? "GSA_INBAND_REKEY refused" : "GSA_INBAND_REKEY applied");
	}
	struct kept *k = kept_find(e, sa);
	if (k && k->queued && gdoi_ike2_established(sa)) {
		struct gdoi_ike2_plist *q = k->queued;
		k->queued = NULL;
		(void)send_inband(e, sa, q, now);
		gdoi_ike2_plist_free(q);
		free(q);
	}
}

int gike2_gcks_engine_input(struct gike2_gcks_engine *e, const uint8_t *dgram, size_t len,
			    const struct gdoi_addr *from, struct gdoi_now now)
{
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *sa = NULL;

	e->stats.datagrams++;
	e->peer = *from;
	e->refused = e->asked = false;
	e->not_kept = NULL;
	e->answered = NULL;
	e->now_ms = now.mono_ms;
	int rc = gdoi_ike2_responder_input(e->resp, dgram, len, from, now.mono_ms, &res, &sa);
	queue_result(e, &res, from);
	enum gike2_gcks_event_type t = GIKE2_GCKS_EV_NONE;
	if (res.event == GDOI_IKE2_EV_FAILED)
		t = GIKE2_GCKS_EV_FAILED;
	else if (res.event == GDOI_IKE2_EV_DELETED)
		t = GIKE2_GCKS_EV_DELETED;
	else if (rc < 0)
		t = GIKE2_GCKS_EV_DROPPED;
	else if (res.event == GDOI_IKE2_EV_ESTABLISHED && !e->asked)
		t = GIKE2_GCKS_EV_ESTABLISHED;	/* IKE_AUTH: the registration may follow */
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
	if (e->answered && e->answered == sa)
		answered(e, sa, now.mono_ms);
	if (e->not_kept && e->not_kept == sa && gdoi_ike2_established(sa))
		delete_sa(e, sa, "IKE SA not kept: the limit of kept IKE SAs is reached", now.mono_ms);
	/* INITIAL_CONTACT: the IKEv2 responder itself kills the peer's older SAs
	 * (RFC 7296 §2.4), and the timer drops what was kept for them */
	e->not_kept = e->answered = NULL;
	/* half-open SAs time out: the next timer call finds when */
	if (gdoi_ike2_responder_sa_count(e->resp) && (!e->deadline || e->deadline > now.mono_ms + 1000))
		e->deadline = now.mono_ms + 1000;
	return rc < 0 ? rc : 0;
}

void gike2_gcks_engine_timer(struct gike2_gcks_engine *e, struct gdoi_now now)
{
	struct gdoi_ike2_result res = { 0 };
	uint64_t next = 0;
	/* the kept SAs first: our requests' retransmissions go to their peers */
	for (size_t i = 0; i < e->nkept;) {
		struct kept *k = &e->kept[i];
		struct gdoi_ike2_sa *sa = gdoi_ike2_responder_find(e->resp, k->spi_i, k->spi_r);
		if (!sa || !gdoi_ike2_established(sa)) {
			kept_drop(e, i);
			continue;
		}
		if (k->expires <= now.mono_ms) {
			delete_sa(e, sa, "IKE SA lifetime reached: deleted", now.mono_ms);
			kept_drop(e, i);
			continue;
		}
		uint64_t t = gdoi_ike2_next_timer(sa);
		if (t && t <= now.mono_ms) {
			gdoi_ike2_timer(sa, now.mono_ms, &res);
			queue_result(e, &res, gdoi_ike2_peer_addr(sa));
			bool failed = res.event == GDOI_IKE2_EV_FAILED;
			gdoi_ike2_result_clear(&res);
			memset(&res, 0, sizeof(res));
			if (failed) {
				closed(e, sa, "no answer to GSA_INBAND_REKEY after its retransmissions: "
					      "IKE SA deleted");
				kept_drop(e, i);
				continue;
			}
		}
		if (!next || k->expires < next)
			next = k->expires;
		i++;
	}
	/* a responder only answers (the initiator retransmits, RFC 7296 §2.1);
	 * what expire returns has no peer named: dropped (result_clear frees) */
	uint64_t d = gdoi_ike2_responder_expire(e->resp, now.mono_ms, &res);
	gdoi_ike2_result_clear(&res);
	e->deadline = d && (!next || d < next) ? d : next;
}

int gike2_gcks_engine_inband_rekey(struct gike2_gcks_engine *e, const struct gike2_gcks_inband *r,
				   struct gdoi_now now)
{
	int sent = 0, rc = 0;
	if (!e || !r || !r->policy)
		return GDOI_ERR_INVALID_ARG;
	for (size_t i = 0; i < e->nkept; i++) {
		struct kept *k = &e->kept[i];
		if (k->tag != r->tag || !k->inband)
			continue;
		struct gdoi_ike2_sa *sa = gdoi_ike2_responder_find(e->resp, k->spi_i, k->spi_r);
		if (!sa || !gdoi_ike2_established(sa))
			continue;	/* the timer drops it */
		struct gdoi_ike2_plist *pl = calloc(1, sizeof(*pl));
		struct gdoi_arena *a = gdoi_arena_new();
		struct gike2_pl out[4];
		uint8_t w[GIKE2_KWK_MAX];
		size_t wl = 0, n = 0;
		rc = pl && a ? gike2_ike_gsk_w(sa, w, &wl) : GDOI_ERR_NOMEM;
		if (rc == 0)
			rc = gike2_inband_content_build(r->policy, GDOI_BYTES(w, wl), r->rekey, r->signer,
							r->del, r->ndel, a, out, 4, &n);
		for (size_t j = 0; rc == 0 && j < n; j++)
			rc = gdoi_ike2_plist_add(pl, out[j].type, out[j].critical, out[j].body.ptr,
						 out[j].body.len);
		gdoi_wipe(w, sizeof(w));
		gdoi_arena_free(a);
		if (rc == 0 && gdoi_ike2_request_pending(sa)) {
			/* window 1: after the outstanding request; a newer rekey replaces */
			if (k->queued) {
				gdoi_ike2_plist_free(k->queued);
				free(k->queued);
			}
			k->queued = pl;
			pl = NULL;
		} else if (rc == 0) {
			rc = send_inband(e, sa, pl, now.mono_ms);
		}
		if (pl) {
			gdoi_ike2_plist_free(pl);
			free(pl);
		}
		if (rc)
			break;
		sent++;
	}
	if (sent && (!e->deadline || e->deadline > now.mono_ms + 100))
		e->deadline = now.mono_ms + 100;	/* the retransmission timers */
	return rc ? rc : sent;
}

/* Deletes the established IKE SAs whose peer is id, but except. */
static size_t delete_by_id(struct gike2_gcks_engine *e, const struct gdoi_ike2_id *id,
			   const struct gdoi_ike2_sa *except, const char *why, uint64_t now)
{
	size_t n = 0;
	struct gdoi_ike2_sa *sa = NULL;
	while ((sa = gdoi_ike2_responder_next(e->resp, sa)) != NULL) {
		const struct gdoi_ike2_id *p = gdoi_ike2_peer_id(sa);
		if (sa == except || !p || p->type != id->type || p->data.len != id->data.len ||
		    memcmp(p->data.ptr, id->data.ptr, id->data.len) != 0)
			continue;
		delete_sa(e, sa, why, now);
		n++;
	}
	if (n && (!e->deadline || e->deadline > now))
		e->deadline = now;	/* the timer frees them */
	return n;
}

size_t gike2_gcks_engine_delete_peer(struct gike2_gcks_engine *e, const struct gdoi_ike2_id *id,
				     struct gdoi_now now)
{
	return delete_by_id(e, id, NULL, "member evicted: IKE SA deleted", now.mono_ms);
}

size_t gike2_gcks_engine_prune(struct gike2_gcks_engine *e,
			       bool (*allowed)(void *ctx, const struct gdoi_ike2_id *id, uint64_t tag),
			       void *ctx, const char *why, struct gdoi_now now)
{
	size_t n = 0;
	struct gdoi_ike2_sa *sa = NULL;
	while ((sa = gdoi_ike2_responder_next(e->resp, sa)) != NULL) {
		const struct gdoi_ike2_id *id = gdoi_ike2_peer_id(sa);
		const struct kept *k = kept_find(e, sa);
		if (!id || allowed(ctx, id, k ? k->tag : 0))
			continue;
		delete_sa(e, sa, why, now.mono_ms);
		n++;
	}
	if (n && (!e->deadline || e->deadline > now.mono_ms))
		e->deadline = now.mono_ms;	/* the timer frees them */
	return n;
}

size_t gike2_gcks_engine_delete_all(struct gike2_gcks_engine *e, struct gdoi_now now)
{
	size_t n = 0;
	struct gdoi_ike2_sa *sa = NULL;
	while ((sa = gdoi_ike2_responder_next(e->resp, sa)) != NULL) {
		if (!gdoi_ike2_established(sa))
			continue;
		delete_sa(e, sa, NULL, now.mono_ms);	/* one line for all: the caller's */
		n++;
	}
	while (e->nkept)	/* nothing more goes to them */
		kept_drop(e, e->nkept - 1);
	return n;
}

size_t gike2_gcks_engine_kept(const struct gike2_gcks_engine *e)
{
	return e->nkept;
}

uint64_t gike2_gcks_engine_deadline(const struct gike2_gcks_engine *e)
{
	return e->deadline;
}

bool gike2_gcks_engine_next_out(struct gike2_gcks_engine *e, struct gdoi_out *out)
{
	return gdoi_outq_next(&e->outq, out);
}

size_t gike2_gcks_engine_next_outs(struct gike2_gcks_engine *e, struct gdoi_out *out, size_t max)
{
	return gdoi_outq_next_batch(&e->outq, out, max);
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
