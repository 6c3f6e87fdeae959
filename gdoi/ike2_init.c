/*
 * ike2_init.c - IKE_SA_INIT (RFC 7296 §1.2, §2.6, §3.3), both roles, and
 * the responder that owns the SAs:
 *  - the initiator offers one proposal per configured suite, a KE of the
 *    first suite's group and a nonce; it follows a COOKIE (§2.6) and an
 *    INVALID_KE_PAYLOAD (§1.2) by sending the request again;
 *  - the responder picks the first of the peer's proposals it supports,
 *    preferring one whose group is the KE's; when more than cookie_threshold
 *    SAs are half open it keeps no state until the request carries a cookie
 *    it issued: Cookie = version | HMAC-SHA-256(secret, Ni | IPi | SPIi).
 */
#include "ike2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define MAX_INIT_TRIES 4		/* cookie + INVALID_KE restarts per SA */
#define SECRET_LIFETIME_MS 300000	/* cookie secret rotation (§2.6) */
#define COOKIE_LEN 17			/* version (1) | HMAC truncated to 16 */

size_t gdoi_ike2_suites_default(struct gdoi_ike2_suite *out, size_t cap)
{
	static const struct gdoi_ike2_suite def[] = {
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, GDOI_IKE2_DH_ECP_256 },
		{ GDOI_IKE2_ENCR_AES_CBC, 256, GDOI_IKE2_PRF_HMAC_SHA2_256,
		  GDOI_IKE2_AUTH_HMAC_SHA2_256_128, GDOI_IKE2_DH_ECP_256 },
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, GDOI_IKE2_DH_CURVE25519 },
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_384, 0, GDOI_IKE2_DH_ECP_384 },
		{ GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256,
		  GDOI_IKE2_AUTH_HMAC_SHA2_256_128, GDOI_IKE2_DH_MODP_2048 },
	};
	size_t n = sizeof(def) / sizeof(def[0]);
	if (out == NULL)
		return n;
	n = n < cap ? n : cap;
	memcpy(out, def, n * sizeof(def[0]));
	return n;
}

static void put_notify(struct gdoi_ike2_builder *b, uint16_t type, gdoi_bytes data)
{
	size_t at = gdoi_ike2_begin(b, GDOI_IKE2_PL_NOTIFY, false);
	gdoi_ike2_notify_write(b->w, 0, type, GDOI_BYTES_NONE, data);
	gdoi_ike2_end(b, at);
}

/* Starts an unprotected IKE_SA_INIT message: header, then payloads via b. */
static void init_begin(struct gdoi_writer *w, struct gdoi_ike2_builder *b,
		       const struct gdoi_ike2_hdr *h)
{
	gdoi_writer_init(w);
	gdoi_ike2_hdr_write(w, h);
	gdoi_ike2_builder_init(b, w);
	b->next_at = 16;	/* the header's Next Payload */
}

/* Ends it: the header's Length, the buffer to the caller. NULL on failure. */
static uint8_t *init_end(struct gdoi_writer *w, size_t *len)
{
	if (w->failed) {
		gdoi_writer_free(w);
		return NULL;
	}
	gdoi_ike2_hdr_set_len(w->buf, w->len);
	return gdoi_writer_take(w, len);
}

/* --- initiator ------------------------------------------------------------------ */

/* (Re)builds and sends the IKE_SA_INIT request: [N(COOKIE)] SA KE Ni [N...]. */
static int init_send(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	struct gdoi_ike2_hdr h;
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	gdoi_bytes pub = gdoi_dh_public(sa->dh);
	size_t at, len;
	uint8_t *msg;
	int rc;

	ike2_hdr(sa, &h, GDOI_IKE2_EXCH_IKE_SA_INIT, false, 0);
	init_begin(&w, &b, &h);
	if (sa->cookie_len)
		put_notify(&b, GDOI_IKE2_N_COOKIE, GDOI_BYTES(sa->cookie, sa->cookie_len));
	at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_SA, false);
	gdoi_ike2_sa_write(&w, cfg->suites, cfg->nsuites, 1, GDOI_BYTES_NONE);
	gdoi_ike2_end(&b, at);
	at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_KE, false);
	gdoi_ike2_ke_write(&w, sa->group, pub);
	gdoi_ike2_end(&b, at);
	gdoi_ike2_put(&b, GDOI_IKE2_PL_NONCE, false, sa->ni, sa->ni_len);
	if (cfg->fragmentation)
		put_notify(&b, GDOI_IKE2_N_IKEV2_FRAGMENTATION_SUPPORTED, GDOI_BYTES_NONE);
	if (cfg->childless)
		put_notify(&b, GDOI_IKE2_N_CHILDLESS_IKEV2_SUPPORTED, GDOI_BYTES_NONE);
	if (ike2_sig_enabled(cfg))
		put_notify(&b, GDOI_IKE2_N_SIGNATURE_HASH_ALGORITHMS, ike2_sig_hashes());
	if ((msg = init_end(&w, &len)) == NULL)
		return GDOI_ERR_NOMEM;
	free(sa->msg1);
	ike2_dgrams_free(&sa->req);
	if ((sa->msg1 = malloc(len)) == NULL) {
		free(msg);
		return GDOI_ERR_NOMEM;
	}
	memcpy(sa->msg1, msg, len);
	sa->msg1_len = len;
	sa->req.d[0] = msg;
	sa->req.len[0] = len;
	sa->req.n = 1;
	sa->pending_exch = GDOI_IKE2_EXCH_IKE_SA_INIT;
	ike2_arm(sa, now);
	rc = ike2_emit(res, &sa->req);
	return rc;
}

static int new_dh(struct gdoi_ike2_sa *sa, uint16_t group)
{
	gdoi_dh_free(sa->dh);
	sa->dh = NULL;
	sa->group = group;
	return gdoi_dh_new(group, &sa->dh);
}

int gdoi_ike2_initiate(const struct gdoi_ike2_config *cfg, const struct gdoi_addr *peer,
		       uint64_t now, struct gdoi_ike2_sa **out, struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_sa *sa;
	int rc;

	if (out)
		*out = NULL;
	if (cfg == NULL || peer == NULL || out == NULL || res == NULL || cfg->nsuites == 0)
		return GDOI_ERR_INVALID_ARG;
	for (size_t i = 0; i < cfg->nsuites; i++)
		if (!gdoi_ike2_suite_supported(&cfg->suites[i]))
			return ike2_fail(res, 0, GDOI_ERR_UNSUPPORTED, "%s: suite %zu not supported",
					 __func__, i);
	if ((sa = ike2_sa_new(cfg, true, peer, now)) == NULL)
		return GDOI_ERR_NOMEM;
	sa->state = IKE2_S_INIT_SENT;
	sa->marker = cfg->nonesp_marker;
	sa->ni_len = ike2_nonce_len(cfg);
	if ((rc = ike2_random_spi(sa->spi_i)) != GDOI_OK ||
	    (rc = gdoi_random(sa->ni, sa->ni_len)) != GDOI_OK ||
	    (rc = new_dh(sa, cfg->suites[0].group)) != GDOI_OK ||
	    (rc = init_send(sa, now, res)) != GDOI_OK) {
		gdoi_ike2_free(sa);
		return ike2_fail(res, 0, rc, "%s: %s", __func__, gdoi_strerror(rc));
	}
	ike2_mark(sa->marker, res, 0);
	*out = sa;
	return GDOI_OK;
}

static bool offered_group(const struct gdoi_ike2_config *cfg, uint16_t group)
{
	for (size_t i = 0; i < cfg->nsuites; i++)
		if (cfg->suites[i].group == group)
			return true;
	return false;
}

/* The responder's choice must be exactly one of our suites (§3.3.6). */
static int chosen_suite(const struct gdoi_ike2_config *cfg, const struct gdoi_ike2_sa_payload *sap,
			struct gdoi_ike2_suite *s)
{
	const struct gdoi_ike2_proposal *p;
	unsigned seen = 0;

	if (sap->nprop != 1 || (p = &sap->prop[0])->proto != GDOI_IKE2_PROTO_IKE || p->spi.len != 0)
		return GDOI_ERR_NO_PROPOSAL;
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < p->ntrans; i++) {
		const struct gdoi_ike2_transform *t = &p->t[i];
		unsigned bit;
		if (t->type < 1 || t->type > 4 || t->unknown_attr)
			return GDOI_ERR_NO_PROPOSAL;
		bit = 1u << t->type;
		if (seen & bit)
			return GDOI_ERR_NO_PROPOSAL;
		seen |= bit;
		switch (t->type) {
		case GDOI_IKE2_TT_ENCR: s->encr = t->id; s->key_bits = t->key_bits; break;
		case GDOI_IKE2_TT_PRF: s->prf = t->id; break;
		case GDOI_IKE2_TT_INTEG: s->integ = t->id; break;
		case GDOI_IKE2_TT_DH: s->group = t->id; break;
		}
	}
	if (p->num < 1 || p->num > cfg->nsuites ||
	    memcmp(&cfg->suites[p->num - 1], s, sizeof(*s)) != 0)
		return GDOI_ERR_NO_PROPOSAL;
	return GDOI_OK;
}

int ike2_init_response(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len,
		       const struct gdoi_ike2_hdr *h, uint64_t now, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_chain *c;
	struct gdoi_ike2_sa_payload *sap = NULL;
	struct gdoi_ike2_notify n;
	struct gdoi_ike2_ke ke;
	gdoi_bytes nr;
	uint8_t gir[GDOI_DH_MAX_SECRET_LEN];
	size_t gir_len = 0;
	const struct gdoi_ike2_payload *p;
	int rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return GDOI_ERR_NOMEM;
	if ((rc = gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN,
					GDOI_IKE2_HDR_LEN, h->next, false, cfg->extra_payloads,
					cfg->nextra_payloads, c, &e)) != GDOI_OK) {
		rc = ike2_drop(res, rc, "%s: payload %u at %zu: %s", __func__, e.payload, e.offset, e.what);
		goto out;
	}
	if (gdoi_ike2_find_notify(c, GDOI_IKE2_N_COOKIE, &n)) {
		if (n.data.len < GDOI_IKE2_COOKIE_MIN || n.data.len > GDOI_IKE2_COOKIE_MAX ||
		    sa->init_tries >= MAX_INIT_TRIES) {
			rc = ike2_drop(res, GDOI_ERR_VALUE, "%s: unusable COOKIE", __func__);
			goto out;
		}
		sa->init_tries++;
		memcpy(sa->cookie, n.data.ptr, n.data.len);
		sa->cookie_len = n.data.len;
		rc = init_send(sa, now, res);
		snprintf(res->reason, sizeof(res->reason), "responder asked for a cookie");
		goto out;
	}
	if (gdoi_ike2_find_notify(c, GDOI_IKE2_N_INVALID_KE_PAYLOAD, &n)) {
		uint16_t g = n.data.len == 2 ? gdoi_get_u16(n.data.ptr) : 0;
		if (g == sa->group || !offered_group(cfg, g) || sa->init_tries >= MAX_INIT_TRIES) {
			rc = ike2_drop(res, GDOI_ERR_VALUE, "%s: INVALID_KE_PAYLOAD for group %u", __func__, g);
			goto out;
		}
		sa->init_tries++;
		sa->cookie_len = 0;
		if ((rc = new_dh(sa, g)) == GDOI_OK)
			rc = init_send(sa, now, res);
		snprintf(res->reason, sizeof(res->reason), "responder asked for group %u", g);
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->p[i].type == GDOI_IKE2_PL_NOTIFY &&
		    gdoi_ike2_notify_parse(&c->p[i], c->off[i], &n, NULL) == GDOI_OK &&
		    n.type <= GDOI_IKE2_N_ERROR_MAX) {
			/* An unprotected error: as good as no answer, but nothing else will come. */
			ike2_sa_kill(sa);
			rc = ike2_fail(res, n.type, GDOI_ERR_NO_PROPOSAL, "%s: responder refused: Notify %u",
				       __func__, n.type);
			goto out;
		}
	}
	/* A CERTREQ is only a hint (§3.7), but one that is not whole SHA-1
	 * hashes is malformed: dropped like any malformed answer, named. */
	if ((rc = gdoi_ike2_certreqs_check(c, &e)) != GDOI_OK) {
		rc = ike2_drop(res, rc, "%s: payload %u at %zu: %s", __func__, e.payload, e.offset, e.what);
		goto out;
	}
	if ((sap = malloc(sizeof(*sap))) == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto out;
	}
	if ((p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_SA, 0)) == NULL ||
	    gdoi_ike2_chain_find(c, GDOI_IKE2_PL_KE, 0) == NULL ||
	    gdoi_ike2_chain_find(c, GDOI_IKE2_PL_NONCE, 0) == NULL) {
		rc = ike2_drop(res, GDOI_ERR_MISSING, "%s: SA, KE or Nr missing", __func__);
		goto out;
	}
	if ((rc = gdoi_ike2_sa_parse(p, c->off[p - c->p], sap, &e)) != GDOI_OK ||
	    (p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_KE, 0),
	     rc = gdoi_ike2_ke_parse(p, c->off[p - c->p], &ke, &e)) != GDOI_OK ||
	    (p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_NONCE, 0),
	     rc = gdoi_ike2_nonce_parse(p, c->off[p - c->p], &nr, &e)) != GDOI_OK) {
		rc = ike2_drop(res, rc, "%s: %s at %zu", __func__, e.what, e.offset);
		goto out;
	}
	if (chosen_suite(cfg, sap, &sa->suite) != GDOI_OK || sa->suite.group != sa->group ||
	    ke.group != sa->group) {
		ike2_sa_kill(sa);
		rc = ike2_fail(res, GDOI_IKE2_N_NO_PROPOSAL_CHOSEN, GDOI_ERR_NO_PROPOSAL,
			       "%s: responder chose what we did not offer", __func__);
		goto out;
	}
	if (memcmp(h->spi_r, "\0\0\0\0\0\0\0\0", 8) == 0) {
		rc = ike2_drop(res, GDOI_ERR_VALUE, "%s: zero responder SPI", __func__);
		goto out;
	}
	if ((rc = gdoi_dh_derive(sa->dh, ke.data, gir, sizeof(gir), &gir_len)) != GDOI_OK) {
		ike2_sa_kill(sa);
		rc = ike2_fail(res, 0, rc, "%s: responder's KE refused: %s", __func__, gdoi_strerror(rc));
		goto out;
	}
	memcpy(sa->spi_r, h->spi_r, 8);
	memcpy(sa->nr, nr.ptr, nr.len);
	sa->nr_len = nr.len;
	if ((rc = gdoi_ike2_keys_derive(sa->keys, &sa->suite, GDOI_BYTES(sa->ni, sa->ni_len), nr,
					GDOI_BYTES(gir, gir_len), sa->spi_i, sa->spi_r)) != GDOI_OK) {
		ike2_sa_kill(sa);
		rc = ike2_fail(res, 0, rc, "%s: key derivation: %s", __func__, gdoi_strerror(rc));
		goto out;
	}
	gdoi_dh_free(sa->dh);
	sa->dh = NULL;
	sa->frag = cfg->fragmentation &&
		   gdoi_ike2_find_notify(c, GDOI_IKE2_N_IKEV2_FRAGMENTATION_SUPPORTED, &n);
	sa->peer_hashes = ike2_sig_hashes_parse(c);
	if ((sa->msg2 = malloc(len)) == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto out;
	}
	memcpy(sa->msg2, msg, len);
	sa->msg2_len = len;
	sa->pending = false;
	sa->my_mid = 1;
	rc = ike2_auth_send(sa, now, res);
out:
	gdoi_wipe(gir, sizeof(gir));
	free(sap);
	free(c);
	return rc;
}

/* --- responder -------------------------------------------------------------------- */

struct gdoi_ike2_responder *gdoi_ike2_responder_new(const struct gdoi_ike2_config *cfg,
						    uint64_t now)
{
	struct gdoi_ike2_responder *r;

	if (cfg == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cfg = cfg;
	r->secret_born = now;
	if (gdoi_random(r->secret, sizeof(r->secret)) != GDOI_OK ||
	    gdoi_random((uint8_t *)&r->bucket_key, sizeof(r->bucket_key)) != GDOI_OK) {
		free(r);
		return NULL;
	}
	return r;
}

void gdoi_ike2_responder_free(struct gdoi_ike2_responder *r)
{
	struct gdoi_ike2_sa *sa, *next;

	if (r == NULL)
		return;
	for (sa = r->head; sa; sa = next) {
		next = sa->next;
		gdoi_ike2_free(sa);
	}
	gdoi_wipe(r, sizeof(*r));
	free(r);
}

static void cookie_make(const uint8_t secret[32], uint8_t ver, gdoi_bytes ni,
			const struct gdoi_addr *peer, const uint8_t spi_i[8], uint8_t out[COOKIE_LEN])
{
	uint8_t mac[GDOI_MD_MAX_LEN];
	gdoi_bytes parts[3] = { ni, GDOI_BYTES(peer->ip, peer->len), GDOI_BYTES(spi_i, 8) };

	out[0] = ver;
	if (gdoi_prf(GDOI_MD_SHA256, GDOI_BYTES(secret, 32), parts, 3, mac) != GDOI_OK)
		memset(mac, 0, sizeof(mac));
	memcpy(out + 1, mac, COOKIE_LEN - 1);
}

static void rotate_secret(struct gdoi_ike2_responder *r, uint64_t now)
{
	if (now - r->secret_born < SECRET_LIFETIME_MS)
		return;
	memcpy(r->old_secret, r->secret, sizeof(r->secret));
	if (gdoi_random(r->secret, sizeof(r->secret)) != GDOI_OK)
		return;
	r->secret_ver++;
	r->secret_born = now;
}

static bool cookie_ok(const struct gdoi_ike2_responder *r, gdoi_bytes cookie, gdoi_bytes ni,
		      const struct gdoi_addr *peer, const uint8_t spi_i[8])
{
	uint8_t want[COOKIE_LEN];

	if (cookie.len != COOKIE_LEN)
		return false;
	if (cookie.ptr[0] == r->secret_ver)
		cookie_make(r->secret, r->secret_ver, ni, peer, spi_i, want);
	else if (cookie.ptr[0] == (uint8_t)(r->secret_ver - 1))
		cookie_make(r->old_secret, cookie.ptr[0], ni, peer, spi_i, want);
	else
		return false;
	return gdoi_ct_equal(want, cookie.ptr, COOKIE_LEN);
}

/* An unprotected answer to an IKE_SA_INIT request: N(type, data) alone. */
static int init_notify(const struct gdoi_ike2_hdr *rq, uint16_t type, gdoi_bytes data,
		       struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_hdr h = *rq;
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	uint8_t *msg;
	size_t len;

	memset(h.spi_r, 0, 8);
	h.flags = GDOI_IKE2_FLAG_RESPONSE;
	h.version = GDOI_IKE2_VERSION;
	init_begin(&w, &b, &h);
	put_notify(&b, type, data);
	if ((msg = init_end(&w, &len)) == NULL)
		return GDOI_ERR_NOMEM;
	res->notify = type;
	return ike2_emit_one(res, msg, len);
}

static bool suite_of(const struct gdoi_ike2_proposal *p, uint16_t group, struct gdoi_ike2_suite *s,
		     const struct gdoi_ike2_config *cfg)
{
	/* Any combination of the offered transforms that is one of our suites. */
	for (size_t k = 0; k < cfg->nsuites; k++) {
		const struct gdoi_ike2_suite *o = &cfg->suites[k];
		bool enc = false, prf = false, integ = o->integ == 0, dh = false, extra_integ = false;
		if (group && o->group != group)
			continue;
		for (size_t i = 0; i < p->ntrans; i++) {
			const struct gdoi_ike2_transform *t = &p->t[i];
			if (t->unknown_attr)
				continue;
			if (t->type == GDOI_IKE2_TT_ENCR && t->id == o->encr && t->key_bits == o->key_bits)
				enc = true;
			else if (t->type == GDOI_IKE2_TT_PRF && t->id == o->prf)
				prf = true;
			else if (t->type == GDOI_IKE2_TT_INTEG && o->integ && t->id == o->integ)
				integ = true;
			else if (t->type == GDOI_IKE2_TT_INTEG && !o->integ && t->id != 0)
				extra_integ = true;
			else if (t->type == GDOI_IKE2_TT_DH && t->id == o->group)
				dh = true;
		}
		(void)extra_integ;	/* an AEAD offer may list INTEG NONE only; others are ignored */
		if (enc && prf && integ && dh) {
			*s = *o;
			return true;
		}
	}
	return false;
}

/* Picks a proposal: first one with our suite in the KE's group, else the
 * first acceptable one at all (which leads to INVALID_KE_PAYLOAD). */
static int select_proposal(const struct gdoi_ike2_config *cfg, const struct gdoi_ike2_sa_payload *sap,
			   uint16_t ke_group, struct gdoi_ike2_suite *s, uint8_t *num)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sap->nprop; i++) {
			const struct gdoi_ike2_proposal *p = &sap->prop[i];
			if (p->proto != GDOI_IKE2_PROTO_IKE || p->spi.len != 0)
				continue;
			if (suite_of(p, pass == 0 ? ke_group : 0, s, cfg)) {
				*num = p->num;
				return GDOI_OK;
			}
		}
	return GDOI_ERR_NO_PROPOSAL;
}

static uint32_t cfg_threshold(const struct gdoi_ike2_config *c)
{
	return c->cookie_threshold ? c->cookie_threshold : 100;
}

static int responder_init(struct gdoi_ike2_responder *r, const uint8_t *msg, size_t len,
			  const struct gdoi_ike2_hdr *h, const struct gdoi_addr *peer, uint64_t now,
			  struct gdoi_ike2_result *res, struct gdoi_ike2_sa **sa_out)
{
	const struct gdoi_ike2_config *cfg = r->cfg;
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_chain *c;
	struct gdoi_ike2_sa_payload *sap = NULL;
	struct gdoi_ike2_sa *sa = NULL;
	struct gdoi_ike2_notify n;
	struct gdoi_ike2_suite s;
	struct gdoi_ike2_ke ke;
	const struct gdoi_ike2_payload *p;
	gdoi_bytes ni;
	uint8_t num = 0, gir[GDOI_DH_MAX_SECRET_LEN];
	size_t gir_len = 0;
	int rc;

	/* A retransmitted request: the same answer again (§2.1). */
	for (sa = ike2_table_first(r, h->spi_i); sa; sa = sa->bnext)
		if (sa->state == IKE2_S_HALF_OPEN && memcmp(sa->spi_i, h->spi_i, 8) == 0 &&
		    sa->peer.len == peer->len && memcmp(sa->peer.ip, peer->ip, peer->len) == 0 &&
		    sa->peer.port == peer->port) {
			*sa_out = sa;
			if (sa->msg1_len == len && memcmp(sa->msg1, msg, len) == 0) {
				ike2_emit(res, &sa->resp);
				return ike2_drop(res, GDOI_ERR_REPLAY, "%s: IKE_SA_INIT retransmitted", __func__);
			}
			return ike2_drop(res, GDOI_ERR_STATE, "%s: another IKE_SA_INIT for a half-open SPI",
					 __func__);
		}
	if ((c = malloc(sizeof(*c))) == NULL)
		return GDOI_ERR_NOMEM;
	rc = gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN, GDOI_IKE2_HDR_LEN,
				   h->next, false, cfg->extra_payloads, cfg->nextra_payloads, c, &e);
	if (rc != GDOI_OK) {
		if (c->unsupported_critical) {
			uint8_t t = c->unsupported_critical;
			init_notify(h, GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD, GDOI_BYTES(&t, 1), res);
		}
		rc = ike2_drop(res, rc, "%s: payload %u at %zu: %s", __func__, e.payload, e.offset, e.what);
		goto out;
	}
	if ((p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_NONCE, 0)) == NULL ||
	    gdoi_ike2_nonce_parse(p, c->off[p - c->p], &ni, &e) != GDOI_OK) {
		init_notify(h, GDOI_IKE2_N_INVALID_SYNTAX, GDOI_BYTES_NONE, res);
		rc = p ? ike2_drop(res, GDOI_ERR_MISSING, "%s: payload %u at %zu: %s", __func__, e.payload,
				   e.offset, e.what)
		       : ike2_drop(res, GDOI_ERR_MISSING, "%s: Ni missing", __func__);
		goto out;
	}
	rotate_secret(r, now);
	if (cfg->cookie_threshold != UINT32_MAX && r->half_open >= cfg_threshold(cfg)) {
		uint8_t want[COOKIE_LEN];
		/* §2.6: the COOKIE must be the first payload. */
		bool have = c->n > 0 && c->p[0].type == GDOI_IKE2_PL_NOTIFY &&
			    gdoi_ike2_notify_parse(&c->p[0], c->off[0], &n, NULL) == GDOI_OK &&
			    n.type == GDOI_IKE2_N_COOKIE;
		if (!have || !cookie_ok(r, n.data, ni, peer, h->spi_i)) {
			cookie_make(r->secret, r->secret_ver, ni, peer, h->spi_i, want);
			init_notify(h, GDOI_IKE2_N_COOKIE, GDOI_BYTES(want, COOKIE_LEN), res);
			rc = ike2_drop(res, GDOI_ERR_LIMIT, "%s: %zu half open: cookie %s", __func__,
				       r->half_open, have ? "wrong, asked again" : "asked");
			goto out;
		}
	}
	/* A CERTREQ is only a hint (§3.7), but one that is not whole SHA-1
	 * hashes is malformed: dropped like any malformed answer, named. */
	if ((rc = gdoi_ike2_certreqs_check(c, &e)) != GDOI_OK) {
		rc = ike2_drop(res, rc, "%s: payload %u at %zu: %s", __func__, e.payload, e.offset, e.what);
		goto out;
	}
	if ((sap = malloc(sizeof(*sap))) == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto out;
	}
	if ((p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_SA, 0)) == NULL ||
	    gdoi_ike2_sa_parse(p, c->off[p - c->p], sap, &e) != GDOI_OK ||
	    (p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_KE, 0)) == NULL ||
	    gdoi_ike2_ke_parse(p, c->off[p - c->p], &ke, &e) != GDOI_OK) {
		init_notify(h, GDOI_IKE2_N_INVALID_SYNTAX, GDOI_BYTES_NONE, res);
		rc = p ? ike2_drop(res, GDOI_ERR_MISSING, "%s: payload %u at %zu: %s", __func__, e.payload,
				   e.offset, e.what)
		       : ike2_drop(res, GDOI_ERR_MISSING, "%s: SA or KE missing", __func__);
		goto out;
	}
	if (select_proposal(cfg, sap, ke.group, &s, &num) != GDOI_OK) {
		init_notify(h, GDOI_IKE2_N_NO_PROPOSAL_CHOSEN, GDOI_BYTES_NONE, res);
		rc = ike2_drop(res, GDOI_ERR_NO_PROPOSAL, "%s: no acceptable proposal", __func__);
		goto out;
	}
	if (s.group != ke.group) {
		uint8_t g[2];
		gdoi_put_u16(g, s.group);
		init_notify(h, GDOI_IKE2_N_INVALID_KE_PAYLOAD, GDOI_BYTES(g, 2), res);
		rc = ike2_drop(res, GDOI_ERR_DH_VALUE, "%s: KE of group %u, want %u", __func__, ke.group,
			       s.group);
		goto out;
	}
	if ((sa = ike2_sa_new(cfg, false, peer, now)) == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto out;
	}
	sa->suite = s;
	memcpy(sa->spi_i, h->spi_i, 8);
	memcpy(sa->ni, ni.ptr, ni.len);
	sa->ni_len = ni.len;
	sa->nr_len = ike2_nonce_len(cfg);
	if ((rc = ike2_random_spi(sa->spi_r)) != GDOI_OK || (rc = gdoi_random(sa->nr, sa->nr_len)) != GDOI_OK ||
	    (rc = gdoi_dh_new(s.group, &sa->dh)) != GDOI_OK)
		goto fail;
	if ((rc = gdoi_dh_derive(sa->dh, ke.data, gir, sizeof(gir), &gir_len)) != GDOI_OK) {
		init_notify(h, GDOI_IKE2_N_INVALID_SYNTAX, GDOI_BYTES_NONE, res);
		rc = ike2_drop(res, rc, "%s: initiator's KE refused (RFC 6989): %s", __func__,
			       gdoi_strerror(rc));
		goto fail;
	}
	if ((rc = gdoi_ike2_keys_derive(sa->keys, &s, ni, GDOI_BYTES(sa->nr, sa->nr_len),
					GDOI_BYTES(gir, gir_len), sa->spi_i, sa->spi_r)) != GDOI_OK)
		goto fail;
	sa->peer_frag = gdoi_ike2_find_notify(c, GDOI_IKE2_N_IKEV2_FRAGMENTATION_SUPPORTED, &n);
	sa->frag = cfg->fragmentation && sa->peer_frag;
	sa->peer_hashes = ike2_sig_hashes_parse(c);
	{	/* the answer: SA KE Nr [CERTREQ] [N(FRAGMENTATION_SUPPORTED)] [N(CHILDLESS)]
		 * [N(SIGNATURE_HASH_ALGORITHMS)] */
		struct gdoi_ike2_hdr rh;
		struct gdoi_writer w;
		struct gdoi_ike2_builder b;
		size_t at, mlen;
		uint8_t *m;

		ike2_hdr(sa, &rh, GDOI_IKE2_EXCH_IKE_SA_INIT, true, 0);
		init_begin(&w, &b, &rh);
		at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_SA, false);
		gdoi_ike2_sa_write(&w, &s, 1, num, GDOI_BYTES_NONE);
		gdoi_ike2_end(&b, at);
		at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_KE, false);
		gdoi_ike2_ke_write(&w, s.group, gdoi_dh_public(sa->dh));
		gdoi_ike2_end(&b, at);
		gdoi_ike2_put(&b, GDOI_IKE2_PL_NONCE, false, sa->nr, sa->nr_len);
		ike2_sig_put_certreq(cfg, &b);	/* §1.2: SAr1, KEr, Nr, [CERTREQ] */
		if (sa->frag)
			put_notify(&b, GDOI_IKE2_N_IKEV2_FRAGMENTATION_SUPPORTED, GDOI_BYTES_NONE);
		if (cfg->childless)
			put_notify(&b, GDOI_IKE2_N_CHILDLESS_IKEV2_SUPPORTED, GDOI_BYTES_NONE);
		if (ike2_sig_enabled(cfg) && sa->peer_hashes)
			put_notify(&b, GDOI_IKE2_N_SIGNATURE_HASH_ALGORITHMS, ike2_sig_hashes());
		if ((m = init_end(&w, &mlen)) == NULL) {
			rc = GDOI_ERR_NOMEM;
			goto fail;
		}
		sa->resp.d[0] = m;
		sa->resp.len[0] = mlen;
		sa->resp.n = 1;
		sa->have_resp = true;
		if ((sa->msg1 = malloc(len)) == NULL || (sa->msg2 = malloc(mlen)) == NULL) {
			rc = GDOI_ERR_NOMEM;
			goto fail;
		}
		memcpy(sa->msg1, msg, len);
		sa->msg1_len = len;
		memcpy(sa->msg2, m, mlen);
		sa->msg2_len = mlen;
	}
	gdoi_dh_free(sa->dh);
	sa->dh = NULL;
	sa->state = IKE2_S_HALF_OPEN;
	sa->peer_mid = 1;
	ike2_table_link(r, sa);
	*sa_out = sa;
	rc = ike2_emit(res, &sa->resp);
	snprintf(res->reason, sizeof(res->reason), "IKE_SA_INIT answered");
	goto out;
fail:
	gdoi_ike2_free(sa);
out:
	gdoi_wipe(gir, sizeof(gir));
	free(sap);
	free(c);
	return rc;
}

static int responder_input(struct gdoi_ike2_responder *r, const uint8_t *msg, size_t len,
			   const struct gdoi_addr *peer, uint64_t now,
			   struct gdoi_ike2_result *res, struct gdoi_ike2_sa **sa_out)
{
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_hdr h;
	struct gdoi_ike2_sa *sa;
	bool was_half;
	int rc;

	if ((rc = gdoi_ike2_hdr_parse(msg, len, &h, &e)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: %s", __func__, e.what);
	if (memcmp(h.spi_r, "\0\0\0\0\0\0\0\0", 8) == 0) {
		if (h.exchange != GDOI_IKE2_EXCH_IKE_SA_INIT || h.msgid != 0 ||
		    (h.flags & (GDOI_IKE2_FLAG_RESPONSE | GDOI_IKE2_FLAG_INITIATOR)) != GDOI_IKE2_FLAG_INITIATOR)
			return ike2_drop(res, GDOI_ERR_STATE, "%s: zero responder SPI outside IKE_SA_INIT",
					 __func__);
		return responder_init(r, msg, len, &h, peer, now, res, sa_out);
	}
	if ((sa = gdoi_ike2_responder_find(r, h.spi_i, h.spi_r)) == NULL)
		return ike2_drop(res, GDOI_ERR_NOT_FOUND, "%s: no IKE SA for these SPIs", __func__);
	*sa_out = sa;
	was_half = sa->state == IKE2_S_HALF_OPEN;
	rc = ike2_input(sa, msg, len, now, res);
	if (was_half && sa->state != IKE2_S_HALF_OPEN && r->half_open)
		r->half_open--;
	if (rc >= 0 && res->event == GDOI_IKE2_EV_ESTABLISHED)
		ike2_table_established(r, sa);
	return rc;
}

int gdoi_ike2_responder_input(struct gdoi_ike2_responder *r, const uint8_t *msg, size_t len,
			      const struct gdoi_addr *peer, uint64_t now,
			      struct gdoi_ike2_result *res, struct gdoi_ike2_sa **sa_out)
{
	struct gdoi_ike2_sa *dummy;
	size_t from;
	bool marked;
	int rc;

	if (sa_out == NULL)
		sa_out = &dummy;
	*sa_out = NULL;
	if (r == NULL || msg == NULL || peer == NULL || res == NULL)
		return GDOI_ERR_INVALID_ARG;
	from = res->nout;
	marked = ike2_unmark(&msg, &len);
	rc = responder_input(r, msg, len, peer, now, res, sa_out);
	if (*sa_out != NULL && marked)
		(*sa_out)->marker = true;
	/* an SA's answers as its peer marks; stateless ones mirror the request */
	ike2_mark(*sa_out != NULL ? (*sa_out)->marker : marked, res, from);
	return rc;
}
