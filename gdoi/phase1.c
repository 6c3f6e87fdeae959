/*
 * phase1.c - what both Phase 1 roles share: SA lifetime, results, sending
 * with retransmission, duplicate detection, timers, Phase 2 IV chains.
 */
#include "phase1_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_crypt.h"

void gdoi_p1_result_clear(struct gdoi_p1_result *r)
{
	free(r->out);
	memset(r, 0, sizeof(*r));
}

int p1_fail(struct gdoi_p1_result *res, uint16_t notify, int err, const char *fmt, ...)
{
	va_list ap;
	res->event = GDOI_P1_EV_FAILED;
	res->notify = notify;
	res->err = err ? err : GDOI_ERR_STATE;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return res->err;
}

int p1_drop(struct gdoi_p1_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	res->err = err;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return err;
}

void p1_note(struct gdoi_p1_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static uint32_t cfg_rto(const struct gdoi_p1_config *c) { return c->retransmit_ms ? c->retransmit_ms : 1000; }
static unsigned cfg_tries(const struct gdoi_p1_config *c) { return c->max_transmits ? c->max_transmits : 5; }
static uint32_t cfg_timeout(const struct gdoi_p1_config *c)
{
	return c->exchange_timeout_ms ? c->exchange_timeout_ms : 30000;
}

struct gdoi_p1_sa *p1_sa_new(const struct gdoi_p1_config *cfg, bool initiator,
			     const struct gdoi_addr *peer, uint64_t now)
{
	struct gdoi_p1_sa *sa = calloc(1, sizeof(*sa));
	if (sa && !(sa->n = calloc(1, sizeof(*sa->n)))) {
		free(sa);
		sa = NULL;
	}
	if (!sa)
		return NULL;
	sa->cfg = cfg;
	sa->initiator = initiator;
	sa->peer = *peer;
	sa->rto = cfg_rto(cfg);
	sa->exchange_deadline = now + cfg_timeout(cfg);
	return sa;
}

void gdoi_p1_free(struct gdoi_p1_sa *sa)
{
	if (!sa)
		return;
	p1_nego_free(sa);
	gdoi_ike_keys_clear(&sa->keys);
	free(sa->last_out);
	free(sa->peer_id_buf);
	/* Wipes IVs and everything else secret in one go. */
	gdoi_wipe_free(sa, sizeof(*sa));
}

void p1_nego_free(struct gdoi_p1_sa *sa)
{
	if (!sa->n)
		return;
	gdoi_dh_free(sa->n->dh);
	free(sa->n->sai_b);
	/* Nonces, g^xy and the DH values: SKEYID* now hold all the SA uses. */
	gdoi_wipe_free(sa->n, sizeof(*sa->n));
	sa->n = NULL;
}

void p1_header(struct gdoi_hdr *h, const struct gdoi_p1_sa *sa, uint8_t exchange, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->icookie, sa->icookie, 8);
	memcpy(h->rcookie, sa->rcookie, 8);
	h->version = GDOI_ISAKMP_VERSION;
	h->exchange = exchange;
	h->msgid = msgid;
}

int p1_send(struct gdoi_p1_sa *sa, struct gdoi_writer *w, uint64_t now, bool retransmit,
	    struct gdoi_p1_result *res)
{
	size_t len;
	uint8_t *msg = gdoi_writer_take(w, &len);
	if (!msg)
		return GDOI_ERR_NOMEM;
	uint8_t *copy = malloc(len);
	if (!copy) {
		free(msg);
		return GDOI_ERR_NOMEM;
	}
	memcpy(copy, msg, len);
	free(sa->last_out);
	sa->last_out = copy;
	sa->last_out_len = len;
	sa->transmits = 1;
	sa->rto = gdoi_rto_capped(cfg_rto(sa->cfg), sa->rto_cap);
	sa->retransmit_at = retransmit ? now + sa->rto : 0;
	free(res->out);
	res->out = msg;
	res->out_len = len;
	return 0;
}

static void digest(const uint8_t *msg, size_t len, uint8_t out[32])
{
	gdoi_bytes part = GDOI_BYTES(msg, len);
	gdoi_hash(GDOI_MD_SHA256, &part, 1, out);
}

bool p1_duplicate(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		  struct gdoi_p1_result *res)
{
	uint8_t d[32];
	if (!sa->have_last_in)
		return false;
	digest(msg, len, d);
	if (memcmp(d, sa->last_in, 32) != 0)
		return false;
	/* The peer lost our reply: send it again (RFC 2408 §5.x retransmission). */
	if (sa->last_out) {
		res->out = malloc(sa->last_out_len);
		if (res->out) {
			memcpy(res->out, sa->last_out, sa->last_out_len);
			res->out_len = sa->last_out_len;
		}
	}
	p1_note(res, "duplicate message: reply re-sent");
	return true;
}

void p1_remember_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len)
{
	digest(msg, len, sa->last_in);
	sa->have_last_in = true;
}

int p1_clear_notify(const uint8_t icookie[8], const uint8_t rcookie[8], uint16_t type,
		    struct gdoi_p1_result *res)
{
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_INFO };
	memcpy(h.icookie, icookie, 8);
	memcpy(h.rcookie, rcookie, 8);
	uint8_t spi[16];
	memcpy(spi, icookie, 8);
	memcpy(spi + 8, rcookie, 8);
	struct gdoi_payload n = { .type = GDOI_PL_NOTIFY, .u.notify = {
		.doi = GDOI_DOI_GDOI, .proto = GDOI_PROTO_ISAKMP, .type = type,
		.spi = GDOI_BYTES(spi, 16) } };
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	int rc = gdoi_msg_build(&w, &h, &n, 1, NULL);
	if (rc) {
		gdoi_writer_free(&w);
		return rc;
	}
	free(res->out);
	res->out = gdoi_writer_take(&w, &res->out_len);
	res->notify = type;
	return res->out ? 0 : GDOI_ERR_NOMEM;
}

int p1_set_peer_id(struct gdoi_p1_sa *sa, const struct gdoi_id *id)
{
	if (id->data.len > P1_MAX_ID)
		return GDOI_ERR_TOO_BIG;
	uint8_t *copy = malloc(id->data.len ? id->data.len : 1);
	if (!copy)
		return GDOI_ERR_NOMEM;
	memcpy(copy, id->data.ptr, id->data.len);
	free(sa->peer_id_buf);
	sa->peer_id_buf = copy;
	sa->peer_id = *id;
	sa->peer_id.data = GDOI_BYTES(sa->peer_id_buf, id->data.len);
	return 0;
}

int p1_check_nonce(size_t len, struct gdoi_p1_result *res)
{
	if (len < P1_MIN_NONCE || len > P1_MAX_NONCE)
		return p1_fail(res, GDOI_N_PAYLOAD_MALFORMED, GDOI_ERR_VALUE,
			       "nonce of %zu octets outside 8..256", len);
	return 0;
}

int p1_store_ke(struct gdoi_p1_sa *sa, const struct gdoi_payload *ke, uint8_t *dst,
		struct gdoi_p1_result *res)
{
	gdoi_bytes pub = ke->u.data;
	/* The value itself is validated (RFC 6989) by gdoi_dh_derive, which runs
	 * next on this same message: checking it twice cost a quarter of the
	 * key server's DH time. Here only its size, so that it fits. */
	if (pub.len != sa->n->gx_len)
		return p1_fail(res, GDOI_N_INVALID_KEY_INFORMATION, GDOI_ERR_DH_VALUE,
			       "peer KE of %zu octets for group %u", pub.len, sa->suite.group);
	memcpy(dst, pub.ptr, pub.len);
	return 0;
}

int p1_derive_gxy(struct gdoi_p1_sa *sa, const uint8_t *peer_pub, struct gdoi_p1_result *res)
{
	int rc = gdoi_dh_derive(sa->n->dh, GDOI_BYTES(peer_pub, sa->n->gx_len), sa->n->gxy,
				sizeof(sa->n->gxy), &sa->n->gxy_len);
	if (rc)
		return p1_fail(res, GDOI_N_INVALID_KEY_INFORMATION, rc,
			       rc == GDOI_ERR_DH_VALUE ? "peer KE rejected for group %u (RFC 6989)"
						       : "Diffie-Hellman failed for group %u", sa->suite.group);
	/* The private value has done its job. */
	gdoi_dh_free(sa->n->dh);
	sa->n->dh = NULL;
	return 0;
}

void p1_established(struct gdoi_p1_sa *sa, uint64_t now, struct gdoi_p1_result *res)
{
	unsigned pct = sa->cfg->soft_lifetime_pct ? sa->cfg->soft_lifetime_pct : 85;
	uint64_t life_ms = (uint64_t)sa->suite.lifetime * 1000;
	sa->state = P1_ESTABLISHED;
	sa->hard_at = now + life_ms;
	sa->soft_at = now + life_ms * pct / 100;
	sa->exchange_deadline = 0;
	sa->retransmit_at = 0;
	p1_nego_free(sa);
	res->event = GDOI_P1_EV_ESTABLISHED;
	p1_note(res, "Phase 1 established (%s, %s, group %u, %s)", gdoi_cipher_name(sa->cipher),
		gdoi_md_name(sa->md), sa->suite.group,
		sa->suite.auth == GDOI_IKE_AUTH_PSK ? "pre-shared key" : "signatures");
}

uint64_t gdoi_p1_next_timer(const struct gdoi_p1_sa *sa)
{
	uint64_t t = 0;
	const uint64_t cand[] = { sa->retransmit_at, sa->exchange_deadline,
				  sa->soft_fired ? 0 : sa->soft_at, sa->hard_at };
	if (sa->state == P1_DEAD)
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (cand[i] && (!t || cand[i] < t))
			t = cand[i];
	return t;
}

void gdoi_p1_timer(struct gdoi_p1_sa *sa, uint64_t now, struct gdoi_p1_result *res)
{
	if (sa->state == P1_DEAD)
		return;
	if (sa->hard_at && now >= sa->hard_at) {
		sa->state = P1_DEAD;
		res->event = GDOI_P1_EV_EXPIRED;
		p1_note(res, "Phase 1 SA reached its hard lifetime");
		return;
	}
	if (sa->soft_at && !sa->soft_fired && now >= sa->soft_at) {
		sa->soft_fired = true;
		res->event = GDOI_P1_EV_REKEY;
		p1_note(res, "Phase 1 SA reached its soft lifetime: renew");
		return;
	}
	if (sa->exchange_deadline && now >= sa->exchange_deadline) {
		sa->state = P1_DEAD;
		p1_fail(res, 0, GDOI_ERR_STATE, "Main Mode did not complete in time");
		return;
	}
	if (sa->retransmit_at && now >= sa->retransmit_at && sa->last_out) {
		if (sa->transmits >= cfg_tries(sa->cfg)) {
			sa->state = P1_DEAD;
			p1_fail(res, 0, GDOI_ERR_STATE, "no answer after %u transmissions",
				sa->transmits);
			return;
		}
		res->out = malloc(sa->last_out_len);
		if (res->out) {
			memcpy(res->out, sa->last_out, sa->last_out_len);
			res->out_len = sa->last_out_len;
		}
		sa->transmits++;
		sa->rto = gdoi_rto_capped(sa->rto * 2, sa->rto_cap);
		sa->retransmit_at = now + sa->rto;
		p1_note(res, "retransmission %u", sa->transmits - 1);
	}
}

void gdoi_p1_cap_retransmit(struct gdoi_p1_sa *sa, uint64_t now, uint32_t cap_ms)
{
	sa->rto_cap = cap_ms;
	sa->rto = gdoi_rto_capped(sa->rto, cap_ms);
	if (cap_ms && sa->retransmit_at > now + cap_ms)
		sa->retransmit_at = now + cap_ms;
}

bool gdoi_p1_established(const struct gdoi_p1_sa *sa) { return sa->state == P1_ESTABLISHED; }
bool gdoi_p1_dead(const struct gdoi_p1_sa *sa) { return sa->state == P1_DEAD; }
const struct gdoi_id *gdoi_p1_peer_id(const struct gdoi_p1_sa *sa) { return &sa->peer_id; }
const struct gdoi_addr *gdoi_p1_peer_addr(const struct gdoi_p1_sa *sa) { return &sa->peer; }
const struct gdoi_p1_suite *gdoi_p1_suite(const struct gdoi_p1_sa *sa) { return &sa->suite; }
const struct gdoi_ike_keys *gdoi_p1_keys(const struct gdoi_p1_sa *sa)
{
	return sa->have_keys ? &sa->keys : NULL;
}

void gdoi_p1_cookies(const struct gdoi_p1_sa *sa, uint8_t icookie[8], uint8_t rcookie[8])
{
	memcpy(icookie, sa->icookie, 8);
	memcpy(rcookie, sa->rcookie, 8);
}

/* ---- Phase 2 IV chains ------------------------------------------------------ */

int gdoi_p1_iv_get(struct gdoi_p1_sa *sa, uint32_t msgid, uint8_t *iv)
{
	if (sa->state != P1_ESTABLISHED)
		return GDOI_ERR_STATE;
	for (size_t i = 0; i < P1_IV_CHAINS; i++) {
		if (sa->chains[i].used && sa->chains[i].msgid == msgid) {
			memcpy(iv, sa->chains[i].iv, sa->blk);
			return 0;
		}
	}
	return gdoi_ike_phase2_iv(sa->md, sa->cipher, GDOI_BYTES(sa->last_block, sa->blk),
				  msgid, iv);
}

void gdoi_p1_iv_set(struct gdoi_p1_sa *sa, uint32_t msgid, const uint8_t *iv)
{
	struct p1_iv_chain *slot = NULL;
	for (size_t i = 0; i < P1_IV_CHAINS && !slot; i++)
		if (sa->chains[i].used && sa->chains[i].msgid == msgid)
			slot = &sa->chains[i];
	for (size_t i = 0; i < P1_IV_CHAINS && !slot; i++)
		if (!sa->chains[i].used)
			slot = &sa->chains[i];
	if (!slot) {	/* evict the least recently used exchange */
		slot = &sa->chains[0];
		for (size_t i = 1; i < P1_IV_CHAINS; i++)
			if (sa->chains[i].stamp < slot->stamp)
				slot = &sa->chains[i];
	}
	slot->used = true;
	slot->msgid = msgid;
	slot->stamp = ++sa->chain_clock;	/* ordering only, not time */
	memcpy(slot->iv, iv, sa->blk);
}

void gdoi_p1_iv_drop(struct gdoi_p1_sa *sa, uint32_t msgid)
{
	for (size_t i = 0; i < P1_IV_CHAINS; i++)
		if (sa->chains[i].used && sa->chains[i].msgid == msgid)
			memset(&sa->chains[i], 0, sizeof(sa->chains[i]));
}

int gdoi_p1_sa_import(const struct gdoi_p1_config *cfg, const struct gdoi_p1_suite *suite,
		      bool initiator, const uint8_t icookie[8], const uint8_t rcookie[8],
		      const struct gdoi_ike_keys *keys, const uint8_t *last_block,
		      const struct gdoi_addr *peer, uint64_t now, struct gdoi_p1_sa **out)
{
	struct gdoi_p1_result res = { 0 };
	*out = NULL;
	struct gdoi_p1_sa *sa = p1_sa_new(cfg, initiator, peer, now);
	if (!sa)
		return GDOI_ERR_NOMEM;
	int rc = p1_apply_suite(sa, suite);
	if (!rc && (keys->md != sa->md || keys->cipher != sa->cipher))
		rc = GDOI_ERR_INVALID_ARG;
	if (rc) {
		gdoi_p1_free(sa);
		return rc;
	}
	memcpy(sa->icookie, icookie, 8);
	memcpy(sa->rcookie, rcookie, 8);
	sa->keys = *keys;
	sa->have_keys = true;
	memcpy(sa->last_block, last_block, sa->blk);
	memcpy(sa->iv, last_block, sa->blk);
	p1_established(sa, now, &res);
	*out = sa;
	return 0;
}
