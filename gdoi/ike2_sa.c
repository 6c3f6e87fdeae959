/*
 * ike2_sa.c - what both IKEv2 roles share: results, the SA, protected
 * sending with retransmission (window of one, RFC 7296 §2.1-2.3), the
 * receipt of protected messages (SK and reassembled SKF, RFC 7383), and the
 * exchanges of an established SA: INFORMATIONAL (Delete, liveness) and
 * those the hooks handle (G-IKEv2's).
 */
#include "ike2_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "secret.h"

size_t ike2_nonce_len(const struct gdoi_ike2_config *c)
{
	size_t n = c->nonce_len ? c->nonce_len : 32;
	return n < GDOI_IKE2_NONCE_MIN ? GDOI_IKE2_NONCE_MIN : n > GDOI_IKE2_NONCE_MAX ? GDOI_IKE2_NONCE_MAX : n;
}

size_t ike2_frag_size(const struct gdoi_ike2_config *c)
{
	return c->fragment_size ? c->fragment_size : 1280 - 48;
}

static uint32_t cfg_rto(const struct gdoi_ike2_config *c) { return c->retransmit_ms ? c->retransmit_ms : 500; }
static unsigned cfg_tries(const struct gdoi_ike2_config *c) { return c->max_transmits ? c->max_transmits : 5; }
static uint32_t cfg_cap(const struct gdoi_ike2_config *c)
{
	return c->retransmit_cap_ms ? c->retransmit_cap_ms : 8000;
}
static unsigned cfg_max_frags(const struct gdoi_ike2_config *c)
{
	unsigned m = c->max_fragments ? c->max_fragments : 64;
	return m > IKE2_MAX_DGRAMS ? IKE2_MAX_DGRAMS : m;
}
static size_t cfg_max_reasm(const struct gdoi_ike2_config *c)
{
	return c->max_reassembly ? c->max_reassembly : 65536;
}

/* --- results ---------------------------------------------------------------------- */

void ike2_set_established(struct gdoi_ike2_sa *sa, struct gdoi_ike2_result *res)
{
	sa->state = IKE2_S_ESTABLISHED;
	sa->deadline = 0;
	free(sa->msg1);
	free(sa->msg2);
	sa->msg1 = sa->msg2 = NULL;
	sa->msg1_len = sa->msg2_len = 0;
	res->event = GDOI_IKE2_EV_ESTABLISHED;
	if (sa->cfg->keys_ready)
		sa->cfg->keys_ready(sa->cfg->keys_ctx, sa);
	snprintf(res->reason, sizeof(res->reason), "IKE SA established (%s)",
		 sa->initiator ? "initiator" : "responder");
}

void gdoi_ike2_result_clear(struct gdoi_ike2_result *r)
{
	for (size_t i = 0; i < r->nout; i++)
		free(r->out[i]);
	memset(r, 0, sizeof(*r));
}

int ike2_fail(struct gdoi_ike2_result *res, uint16_t notify, int err, const char *fmt, ...)
{
	va_list ap;
	res->event = GDOI_IKE2_EV_FAILED;
	res->notify = notify;
	res->err = err ? err : GDOI_ERR_STATE;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return res->err;
}

int ike2_drop(struct gdoi_ike2_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	res->err = err;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return err;
}

int ike2_emit_one(struct gdoi_ike2_result *res, uint8_t *dgram, size_t len)
{
	if (res->nout == GDOI_IKE2_MAX_OUT) {
		free(dgram);
		return GDOI_ERR_TOO_BIG;
	}
	res->out[res->nout] = dgram;
	res->out_len[res->nout++] = len;
	return GDOI_OK;
}

int ike2_emit(struct gdoi_ike2_result *res, const struct ike2_dgrams *d)
{
	for (size_t i = 0; i < d->n; i++) {
		uint8_t *c = malloc(d->len[i]);
		int rc;
		if (c == NULL)
			return GDOI_ERR_NOMEM;
		memcpy(c, d->d[i], d->len[i]);
		if ((rc = ike2_emit_one(res, c, d->len[i])) != GDOI_OK)
			return rc;
	}
	return GDOI_OK;
}

bool ike2_unmark(const uint8_t **msg, size_t *len)
{
	static const uint8_t zero[4];
	if (*len < 4 || memcmp(*msg, zero, 4) != 0)
		return false;
	*msg += 4;
	*len -= 4;
	return true;
}

int ike2_mark(bool marker, struct gdoi_ike2_result *res, size_t from)
{
	for (size_t i = from; marker && i < res->nout; i++) {
		uint8_t *m = malloc(res->out_len[i] + 4);
		if (m == NULL)
			return GDOI_ERR_NOMEM;
		memset(m, 0, 4);
		memcpy(m + 4, res->out[i], res->out_len[i]);
		free(res->out[i]);
		res->out[i] = m;
		res->out_len[i] += 4;
	}
	return GDOI_OK;
}

int ike2_random_spi(uint8_t spi[8])
{
	static const uint8_t zero[4];
	int rc;
	do
		rc = gdoi_random(spi, 8);
	while (rc == GDOI_OK && memcmp(spi, zero, 4) == 0);
	return rc;
}

void ike2_dgrams_free(struct ike2_dgrams *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->d[i]);
	memset(d, 0, sizeof(*d));
}

static void reasm_free(struct ike2_reasm *rx)
{
	for (size_t i = 0; i < IKE2_MAX_DGRAMS; i++)
		gdoi_wipe_free(rx->part[i], rx->plen[i]);
	memset(rx, 0, sizeof(*rx));
}

/* --- SA --------------------------------------------------------------------------- */

struct gdoi_ike2_sa *ike2_sa_new(const struct gdoi_ike2_config *cfg, bool initiator,
				 const struct gdoi_addr *peer, uint64_t now)
{
	struct gdoi_ike2_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL)
		return NULL;
	if ((sa->keys = gdoi_ike2_keys_new()) == NULL) {
		free(sa);
		return NULL;
	}
	sa->cfg = cfg;
	sa->initiator = initiator;
	sa->peer = *peer;
	sa->rto = cfg_rto(cfg);
	sa->deadline = now + (initiator ? (cfg->exchange_timeout_ms ? cfg->exchange_timeout_ms : 30000)
				        : (cfg->half_open_timeout_ms ? cfg->half_open_timeout_ms : 30000));
	return sa;
}

void ike2_sa_kill(struct gdoi_ike2_sa *sa)
{
	sa->state = IKE2_S_DEAD;
	sa->pending = false;
	sa->deadline = 0;
	gdoi_dh_free(sa->dh);
	sa->dh = NULL;
	gdoi_wipe(sa->keys, sizeof(*sa->keys));
	reasm_free(&sa->rx);
}

void gdoi_ike2_free(struct gdoi_ike2_sa *sa)
{
	if (sa == NULL)
		return;
	gdoi_dh_free(sa->dh);
	gdoi_ike2_keys_free(sa->keys);
	ike2_dgrams_free(&sa->req);
	ike2_dgrams_free(&sa->resp);
	reasm_free(&sa->rx);
	free(sa->msg1);
	free(sa->msg2);
	gdoi_wipe(sa, sizeof(*sa));
	free(sa);
}

void ike2_hdr(const struct gdoi_ike2_sa *sa, struct gdoi_ike2_hdr *h, uint8_t exch,
	      bool response, uint32_t mid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->spi_i, sa->spi_i, 8);
	memcpy(h->spi_r, sa->spi_r, 8);
	h->version = GDOI_IKE2_VERSION;
	h->exchange = exch;
	h->flags = (sa->initiator ? GDOI_IKE2_FLAG_INITIATOR : 0) | (response ? GDOI_IKE2_FLAG_RESPONSE : 0);
	h->msgid = mid;
}

void ike2_put_plist(struct gdoi_ike2_builder *b, const struct gdoi_ike2_plist *pl)
{
	if (pl == NULL)
		return;
	for (size_t i = 0; i < pl->n; i++)
		gdoi_ike2_put(b, pl->p[i].type, pl->p[i].critical,
			      pl->p[i].len ? pl->buf.buf + pl->p[i].off : NULL, pl->p[i].len);
}

void ike2_arm(struct gdoi_ike2_sa *sa, uint64_t now)
{
	sa->pending = true;
	sa->transmits = 1;
	sa->rto = cfg_rto(sa->cfg);
	sa->rexmit_at = now + sa->rto;
}

int ike2_send_protected(struct gdoi_ike2_sa *sa, uint8_t exch, bool response, uint32_t mid,
			uint8_t first, gdoi_bytes inner, uint64_t now, struct gdoi_ike2_result *res)
{
	struct ike2_dgrams *d = response ? &sa->resp : &sa->req;
	struct gdoi_ike2_hdr h;
	int rc;

	ike2_dgrams_free(d);
	ike2_hdr(sa, &h, exch, response, mid);
	rc = gdoi_ike2_sk_seal_frags(sa->keys, sa->initiator, &h, first, inner,
				     sa->frag ? ike2_frag_size(sa->cfg) : 0, d->d, d->len,
				     IKE2_MAX_DGRAMS, &d->n);
	if (rc != GDOI_OK) {
		ike2_dgrams_free(d);
		return rc;
	}
	if (response) {
		sa->have_resp = true;
	} else {
		sa->pending_exch = exch;
		ike2_arm(sa, now);
	}
	return ike2_emit(res, d);
}

/* --- receiving protected messages ----------------------------------------------------- */

int ike2_open(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len,
	      const struct gdoi_ike2_hdr *h, const struct gdoi_ike2_chain *outer,
	      struct gdoi_ike2_chain *c, uint8_t **pt, size_t *pt_len, struct gdoi_ike2_result *res)
{
	bool from_i = !sa->initiator, response = (h->flags & GDOI_IKE2_FLAG_RESPONSE) != 0;
	struct gdoi_parse_error e = { 0 };
	uint16_t num, total;
	uint8_t *frag, *all;
	size_t flen;
	int rc;

	*pt = NULL;
	*pt_len = 0;
	if (outer->sk_type == 0 || outer->n != 0)
		return ike2_drop(res, GDOI_ERR_MISSING, "%s: no SK payload, or payloads outside it", __func__);
	if (outer->sk_type == GDOI_IKE2_PL_SK) {
		if ((rc = gdoi_ike2_sk_open(sa->keys, from_i, msg, len, outer->sk_off, false, pt,
					    pt_len)) != GDOI_OK)
			return ike2_drop(res, rc, "%s: SK payload did not verify: %s", __func__,
					 gdoi_strerror(rc));
		rc = gdoi_ike2_chain_parse(*pt, *pt_len, 0, outer->sk_first, false,
					   sa->cfg->extra_payloads, sa->cfg->nextra_payloads, c, &e);
		goto parsed;
	}
	/* SKF (RFC 7383 §2.6): each fragment is verified on its own, then kept. */
	if ((rc = gdoi_ike2_skf_parse(outer->sk_body, outer->sk_off, &num, &total, &e)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: %s at %zu", __func__, e.what, e.offset);
	if (!sa->frag)
		return ike2_drop(res, GDOI_ERR_STATE, "%s: SKF without negotiated fragmentation", __func__);
	if (total > cfg_max_frags(sa->cfg))
		return ike2_drop(res, GDOI_ERR_LIMIT, "%s: %u fragments over the limit", __func__, total);
	if ((rc = gdoi_ike2_sk_open(sa->keys, from_i, msg, len, outer->sk_off, true, &frag,
				    &flen)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: SKF fragment did not verify: %s", __func__,
				 gdoi_strerror(rc));
	if (num == 1 && outer->sk_first == GDOI_IKE2_PL_NONE) {
		gdoi_wipe_free(frag, flen);
		return ike2_drop(res, GDOI_ERR_VALUE, "%s: first fragment without Next Payload", __func__);
	}
	if (sa->rx.active && (sa->rx.msgid != h->msgid || sa->rx.response != response ||
			      sa->rx.total != total))
		reasm_free(&sa->rx);	/* a newer message: the old one is abandoned */
	if (!sa->rx.active) {
		sa->rx.active = true;
		sa->rx.msgid = h->msgid;
		sa->rx.response = response;
		sa->rx.exchange = h->exchange;
		sa->rx.total = total;
	}
	if (sa->rx.part[num - 1] != NULL || sa->rx.bytes + flen > cfg_max_reasm(sa->cfg)) {
		gdoi_wipe_free(frag, flen);
		return ike2_drop(res, GDOI_ERR_REPLAY, "%s: duplicate fragment or over the size limit",
				 __func__);
	}
	sa->rx.part[num - 1] = frag;
	sa->rx.plen[num - 1] = flen;
	sa->rx.bytes += flen;
	if (num == 1)
		sa->rx.first = outer->sk_first;
	if (++sa->rx.got < total)
		return 1;
	if ((all = malloc(sa->rx.bytes ? sa->rx.bytes : 1)) == NULL)
		return GDOI_ERR_NOMEM;
	flen = 0;
	for (size_t i = 0; i < total; i++) {
		memcpy(all + flen, sa->rx.part[i], sa->rx.plen[i]);
		flen += sa->rx.plen[i];
	}
	*pt = all;
	*pt_len = flen;
	rc = gdoi_ike2_chain_parse(all, flen, 0, sa->rx.first, false, sa->cfg->extra_payloads,
				   sa->cfg->nextra_payloads, c, &e);
	reasm_free(&sa->rx);
parsed:
	if (rc != GDOI_OK) {
		int r2 = ike2_drop(res, rc, "%s: inner payload %u at %zu: %s", __func__, e.payload,
				   e.offset, e.what);
		if (c->unsupported_critical)
			res->notify = GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
		return r2;
	}
	return GDOI_OK;
}

size_t ike2_hook_payloads(const struct gdoi_ike2_chain *c, const uint8_t *skip, size_t nskip,
			  struct gdoi_ike2_payload *in, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n && n < cap; i++) {
		bool s = false;
		for (size_t j = 0; j < nskip; j++)
			s = s || skip[j] == c->p[i].type;
		if (!s)
			in[n++] = c->p[i];
	}
	return n;
}

/* --- established exchanges -------------------------------------------------------------- */

int ike2_answer_notify(struct gdoi_ike2_sa *sa, uint8_t exch, uint32_t mid, uint16_t type,
			 gdoi_bytes data, uint64_t now, struct gdoi_ike2_result *res)
{
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	size_t at;
	int rc;

	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_NOTIFY, false);
	gdoi_ike2_notify_write(&w, 0, type, GDOI_BYTES_NONE, data);
	gdoi_ike2_end(&b, at);
	rc = w.failed ? GDOI_ERR_NOMEM
		      : ike2_send_protected(sa, exch, true, mid, b.first, GDOI_BYTES(w.buf, w.len), now, res);
	gdoi_writer_free(&w);
	res->notify = type;
	return rc;
}

static int established_request(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_hdr *h,
			       const struct gdoi_ike2_chain *c, uint64_t now,
			       struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_payload in[GDOI_IKE2_CHAIN_MAX];
	struct gdoi_ike2_plist out;
	struct gdoi_ike2_builder b;
	struct gdoi_writer w;
	uint16_t notify = 0;
	size_t nin;
	int rc;

	sa->peer_mid = h->msgid + 1;
	if (h->exchange == GDOI_IKE2_EXCH_INFORMATIONAL) {
		for (size_t i = 0; i < c->n; i++) {
			struct gdoi_ike2_delete d;
			if (c->p[i].type == GDOI_IKE2_PL_DELETE &&
			    gdoi_ike2_delete_parse(&c->p[i], c->off[i], &d, NULL) == GDOI_OK &&
			    d.proto == GDOI_IKE2_PROTO_IKE) {
				/* §1.4.1: the answer is empty, then the SA is gone. */
				rc = ike2_send_protected(sa, h->exchange, true, h->msgid,
							 GDOI_IKE2_PL_NONE, GDOI_BYTES_NONE, now, res);
				ike2_sa_kill(sa);
				res->event = GDOI_IKE2_EV_DELETED;
				snprintf(res->reason, sizeof(res->reason), "peer deleted the IKE SA");
				return rc;
			}
		}
	}
	if (sa->cfg->hooks.request == NULL) {
		if (h->exchange == GDOI_IKE2_EXCH_INFORMATIONAL)	/* liveness: empty answer */
			return ike2_send_protected(sa, h->exchange, true, h->msgid, GDOI_IKE2_PL_NONE,
						   GDOI_BYTES_NONE, now, res);
		return ike2_answer_notify(sa, h->exchange, h->msgid,
				     h->exchange == GDOI_IKE2_EXCH_CREATE_CHILD_SA
					     ? GDOI_IKE2_N_NO_ADDITIONAL_SAS : GDOI_IKE2_N_INVALID_SYNTAX,
				     GDOI_BYTES_NONE, now, res);
	}
	memset(&out, 0, sizeof(out));
	nin = ike2_hook_payloads(c, NULL, 0, in, GDOI_IKE2_CHAIN_MAX);
	rc = sa->cfg->hooks.request(sa->cfg->hooks.ctx, sa, h->exchange, in, nin, &out, &notify);
	if (rc != GDOI_OK) {
		gdoi_ike2_plist_free(&out);
		return ike2_answer_notify(sa, h->exchange, h->msgid,
				     notify ? notify : GDOI_IKE2_N_INVALID_SYNTAX, GDOI_BYTES_NONE, now, res);
	}
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	ike2_put_plist(&b, &out);
	rc = w.failed ? GDOI_ERR_NOMEM
		      : ike2_send_protected(sa, h->exchange, true, h->msgid, b.first,
					    GDOI_BYTES(w.buf, w.len), now, res);
	gdoi_writer_free(&w);
	gdoi_ike2_plist_free(&out);
	if (rc == GDOI_OK)
		res->event = GDOI_IKE2_EV_REQUEST;
	return rc;
}

static int established_response(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_hdr *h,
				const struct gdoi_ike2_chain *c, struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_payload in[GDOI_IKE2_CHAIN_MAX];
	size_t nin;

	sa->pending = false;
	sa->my_mid++;
	ike2_dgrams_free(&sa->req);
	if (sa->pending_delete) {
		ike2_sa_kill(sa);
		return GDOI_OK;
	}
	nin = ike2_hook_payloads(c, NULL, 0, in, GDOI_IKE2_CHAIN_MAX);
	if (sa->cfg->hooks.response)
		sa->cfg->hooks.response(sa->cfg->hooks.ctx, sa, h->exchange, in, nin);
	res->event = GDOI_IKE2_EV_RESPONSE;
	return GDOI_OK;
}

/* A request whose answer we sent already: send it again (§2.1), only for
 * the first fragment of a fragmented retransmission (RFC 7383 §2.6.1). */
static int resend_answer(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *outer,
			 struct gdoi_ike2_result *res)
{
	uint16_t num = 1, total;
	if (!sa->have_resp)
		return ike2_drop(res, GDOI_ERR_REPLAY, "%s: old request", __func__);
	if (outer->sk_type == GDOI_IKE2_PL_SKF &&
	    (gdoi_ike2_skf_parse(outer->sk_body, outer->sk_off, &num, &total, NULL) != GDOI_OK || num != 1))
		return ike2_drop(res, GDOI_ERR_REPLAY, "%s: retransmitted fragment", __func__);
	ike2_emit(res, &sa->resp);
	return ike2_drop(res, GDOI_ERR_REPLAY, "%s: retransmitted request answered again", __func__);
}

int gdoi_ike2_input(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		    struct gdoi_ike2_result *res)
{
	size_t from;
	int rc;

	if (sa == NULL || msg == NULL || res == NULL)
		return GDOI_ERR_INVALID_ARG;
	from = res->nout;
	if (ike2_unmark(&msg, &len))
		sa->marker = true;
	rc = ike2_input(sa, msg, len, now, res);
	ike2_mark(sa->marker, res, from);
	return rc;
}

int ike2_input(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
	       struct gdoi_ike2_result *res)
{
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_hdr h;
	struct gdoi_ike2_chain outer, *c = NULL;
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	bool response;
	int rc;

	if (sa == NULL || msg == NULL || res == NULL)
		return GDOI_ERR_INVALID_ARG;
	memset(&outer, 0, sizeof(outer));
	if (sa->state == IKE2_S_DEAD)
		return ike2_drop(res, GDOI_ERR_STATE, "%s: SA is dead", __func__);
	if ((rc = gdoi_ike2_hdr_parse(msg, len, &h, &e)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: %s", __func__, e.what);
	response = (h.flags & GDOI_IKE2_FLAG_RESPONSE) != 0;
	/* The I flag names the original initiator (§3.1). */
	if (((h.flags & GDOI_IKE2_FLAG_INITIATOR) != 0) == sa->initiator ||
	    memcmp(h.spi_i, sa->spi_i, 8) != 0)
		return ike2_drop(res, GDOI_ERR_VALUE, "%s: wrong I flag or SPI", __func__);
	if (sa->state == IKE2_S_INIT_SENT) {
		if (!response || h.exchange != GDOI_IKE2_EXCH_IKE_SA_INIT || h.msgid != 0)
			return ike2_drop(res, GDOI_ERR_STATE, "%s: expected IKE_SA_INIT response", __func__);
		return ike2_init_response(sa, msg, len, &h, now, res);
	}
	if (memcmp(h.spi_r, sa->spi_r, 8) != 0)
		return ike2_drop(res, GDOI_ERR_VALUE, "%s: wrong responder SPI", __func__);
	if (h.exchange == GDOI_IKE2_EXCH_IKE_SA_INIT) {
		if (!sa->initiator && !response && h.msgid == 0 && sa->have_resp && sa->peer_mid == 1)
			return resend_answer(sa, &outer, res);
		return ike2_drop(res, GDOI_ERR_STATE, "%s: IKE_SA_INIT on a keyed SA", __func__);
	}
	if ((rc = gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN,
					GDOI_IKE2_HDR_LEN, h.next, true, sa->cfg->extra_payloads,
					sa->cfg->nextra_payloads, &outer, &e)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: payload %u at %zu: %s", __func__, e.payload, e.offset, e.what);
	if (response) {
		if (!sa->pending || h.msgid != sa->my_mid)
			return ike2_drop(res, GDOI_ERR_REPLAY, "%s: response to no request of ours", __func__);
	} else {
		if (sa->peer_mid > 0 && h.msgid == sa->peer_mid - 1)
			return resend_answer(sa, &outer, res);
		if (h.msgid != sa->peer_mid)
			return ike2_drop(res, GDOI_ERR_REPLAY, "%s: Message ID %u, expected %u", __func__,
					 h.msgid, sa->peer_mid);
		if (sa->state == IKE2_S_HALF_OPEN && !ike2_is_auth_exchange(sa->cfg, h.exchange))
			return ike2_drop(res, GDOI_ERR_STATE, "%s: exchange %u before IKE_AUTH", __func__,
					 h.exchange);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)	/* read after a failed open too */
		return GDOI_ERR_NOMEM;
	rc = ike2_open(sa, msg, len, &h, &outer, c, &pt, &pt_len, res);
	if (rc == 1) {
		rc = ike2_drop(res, GDOI_OK, "%s: fragment kept", __func__);
		goto out;
	}
	if (rc != GDOI_OK) {
		if (res->notify == GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD && !response) {
			uint8_t t = c->unsupported_critical;
			ike2_answer_notify(sa, h.exchange, h.msgid, GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD,
				      GDOI_BYTES(&t, 1), now, res);
			sa->peer_mid = h.msgid + 1;
		}
		goto out;
	}
	res->err = 0;
	res->reason[0] = 0;
	if (sa->state == IKE2_S_HALF_OPEN)
		rc = ike2_auth_request(sa, h.exchange, c, now, res);
	else if (sa->state == IKE2_S_AUTH_SENT)
		rc = ike2_auth_response(sa, c, now, res);
	else if (response)
		rc = established_response(sa, &h, c, res);
	else
		rc = established_request(sa, &h, c, now, res);
out:
	gdoi_wipe_free(pt, pt_len);
	free(c);
	return rc;
}

uint64_t gdoi_ike2_next_timer(const struct gdoi_ike2_sa *sa)
{
	uint64_t t = 0;
	if (sa == NULL || sa->state == IKE2_S_DEAD)
		return 0;
	if (sa->pending)
		t = sa->rexmit_at;
	if (sa->deadline && (t == 0 || sa->deadline < t))
		t = sa->deadline;
	return t;
}

void gdoi_ike2_timer(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res)
{
	size_t from;

	if (sa == NULL || sa->state == IKE2_S_DEAD || res == NULL)
		return;
	from = res->nout;
	if (sa->deadline && now >= sa->deadline) {
		ike2_sa_kill(sa);
		ike2_fail(res, 0, GDOI_ERR_STATE, "%s: exchange timed out", __func__);
		return;
	}
	if (!sa->pending || now < sa->rexmit_at)
		return;
	if (sa->transmits >= cfg_tries(sa->cfg)) {
		ike2_sa_kill(sa);
		ike2_fail(res, 0, GDOI_ERR_STATE, "%s: no answer after %u transmissions", __func__,
			  cfg_tries(sa->cfg));
		return;
	}
	sa->transmits++;
	sa->rto = sa->rto * 2 > cfg_cap(sa->cfg) ? cfg_cap(sa->cfg) : sa->rto * 2;
	sa->rexmit_at = now + sa->rto;
	ike2_emit(res, &sa->req);
	ike2_mark(sa->marker, res, from);
}

/* --- requests on an established SA ---------------------------------------------------- */

int gdoi_ike2_send_request(struct gdoi_ike2_sa *sa, uint8_t exchange,
			   const struct gdoi_ike2_plist *pl, uint64_t now,
			   struct gdoi_ike2_result *res)
{
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	size_t from;
	int rc;

	if (sa == NULL || res == NULL)
		return GDOI_ERR_INVALID_ARG;
	if (sa->state != IKE2_S_ESTABLISHED || sa->pending)
		return GDOI_ERR_STATE;
	from = res->nout;
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	ike2_put_plist(&b, pl);
	rc = w.failed ? GDOI_ERR_NOMEM
		      : ike2_send_protected(sa, exchange, false, sa->my_mid, b.first,
					    GDOI_BYTES(w.buf, w.len), now, res);
	gdoi_writer_free(&w);
	ike2_mark(sa->marker, res, from);
	return rc;
}

int gdoi_ike2_send_delete(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_plist pl;
	struct gdoi_writer w;
	int rc;

	if (sa == NULL || res == NULL)
		return GDOI_ERR_INVALID_ARG;
	if (sa->state != IKE2_S_ESTABLISHED)
		return GDOI_ERR_STATE;
	if (sa->pending) {	/* window of one: the Delete replaces what is outstanding */
		sa->pending = false;
		sa->my_mid++;
	}
	memset(&pl, 0, sizeof(pl));
	gdoi_writer_init(&w);
	gdoi_ike2_delete_ike_write(&w);
	rc = w.failed ? GDOI_ERR_NOMEM : gdoi_ike2_plist_add(&pl, GDOI_IKE2_PL_DELETE, false, w.buf, w.len);
	gdoi_writer_free(&w);
	if (rc == GDOI_OK)
		rc = gdoi_ike2_send_request(sa, GDOI_IKE2_EXCH_INFORMATIONAL, &pl, now, res);
	gdoi_ike2_plist_free(&pl);
	if (rc == GDOI_OK) {
		/* §1.4.1: the SA is closed now; the answer is not waited for. */
		sa->pending_delete = true;
		ike2_sa_kill(sa);
	}
	return rc;
}

/* --- accessors ----------------------------------------------------------------------- */

bool gdoi_ike2_request_pending(const struct gdoi_ike2_sa *sa) { return sa && sa->pending; }
bool gdoi_ike2_established(const struct gdoi_ike2_sa *sa) { return sa && sa->state == IKE2_S_ESTABLISHED; }
bool gdoi_ike2_dead(const struct gdoi_ike2_sa *sa) { return sa == NULL || sa->state == IKE2_S_DEAD; }
bool gdoi_ike2_is_initiator(const struct gdoi_ike2_sa *sa) { return sa && sa->initiator; }

void gdoi_ike2_spis(const struct gdoi_ike2_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8])
{
	memcpy(spi_i, sa->spi_i, 8);
	memcpy(spi_r, sa->spi_r, 8);
}

const struct gdoi_ike2_id *gdoi_ike2_peer_id(const struct gdoi_ike2_sa *sa)
{
	return sa && sa->peer_id.type ? &sa->peer_id : NULL;
}

uint8_t gdoi_ike2_peer_auth_method(const struct gdoi_ike2_sa *sa) { return sa ? sa->peer_auth : 0; }
const struct gdoi_addr *gdoi_ike2_peer_addr(const struct gdoi_ike2_sa *sa) { return sa ? &sa->peer : NULL; }
const struct gdoi_ike2_suite *gdoi_ike2_suite(const struct gdoi_ike2_sa *sa) { return sa ? &sa->suite : NULL; }

gdoi_bytes gdoi_ike2_nonce(const struct gdoi_ike2_sa *sa, bool initiator)
{
	if (sa == NULL)
		return GDOI_BYTES_NONE;
	return initiator ? GDOI_BYTES(sa->ni, sa->ni_len) : GDOI_BYTES(sa->nr, sa->nr_len);
}

gdoi_bytes gdoi_ike2_sk_d(const struct gdoi_ike2_sa *sa)
{
	if (sa == NULL || sa->state != IKE2_S_ESTABLISHED)
		return GDOI_BYTES_NONE;
	return GDOI_BYTES(sa->keys->sk_d, sa->keys->prf_len);
}

const struct gdoi_ike2_keys *gdoi_ike2_keys(const struct gdoi_ike2_sa *sa) { return sa ? sa->keys : NULL; }
void gdoi_ike2_set_user(struct gdoi_ike2_sa *sa, void *user) { if (sa) sa->user = user; }
void *gdoi_ike2_user(const struct gdoi_ike2_sa *sa) { return sa ? sa->user : NULL; }
