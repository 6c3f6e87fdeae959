/*
 * gike2_ike.c - G-IKEv2 registration hooks on the IKEv2 core (gike2_ike.h).
 */
#include "gike2_ike.h"

#include <string.h>

#include <openssl/crypto.h>

#include "gike2_policy.h"
#include "ike2_keys.h"
#include "ike2_numbers.h"

static const uint8_t gike2_payloads[] = { GIKE2_PL_IDG, GIKE2_PL_GSA, GIKE2_PL_KD };
static const uint8_t gike2_auth_exchanges[] = { GIKE2_EXCH_GSA_AUTH };

int gike2_ike_gsk_w(const struct gdoi_ike2_sa *sa, uint8_t out[GIKE2_KWK_MAX], size_t *len)
{
	const struct gdoi_ike2_suite *s = gdoi_ike2_suite(sa);

	/* the hooks run inside the authentication exchange, before the SA counts
	 * as established (gdoi_ike2_sk_d is empty then): SK_d exists once
	 * IKE_SA_INIT is done */
	const struct gdoi_ike2_keys *k = gdoi_ike2_keys(sa);
	if (s == NULL || k == NULL || k->prf_len == 0)
		return GDOI_ERR_STATE;
	*len = s->key_bits / 8u;
	return gike2_gsk_w(k->prf_md, GDOI_BYTES(k->sk_d, k->prf_len), out, *len);
}

/* The core's payload view and ours have the same three fields. */
static struct gike2_pl *to_pl(const struct gdoi_ike2_payload *in, size_t n, struct gdoi_arena *a)
{
	struct gike2_pl *pl = gdoi_arena_calloc(a, n ? n : 1, sizeof(*pl));
	for (size_t i = 0; pl && i < n; i++)
		pl[i] = (struct gike2_pl){ in[i].type, in[i].critical, in[i].body };
	return pl;
}

static int add_all(struct gdoi_ike2_plist *out, const struct gike2_pl *pl, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = gdoi_ike2_plist_add(out, pl[i].type, pl[i].critical, pl[i].body.ptr, pl[i].body.len);
	return rc;
}

/* ---- member ------------------------------------------------------------- */

static int gm_request(struct gike2_gm *gm, struct gdoi_ike2_plist *out)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl pl[2];
	size_t n = 0;
	int rc = a ? gike2_reg_request_build(&gm->rq, a, pl, 2, &n) : GDOI_ERR_NOMEM;
	if (rc == 0)
		rc = add_all(out, pl, n);
	gdoi_arena_free(a);
	return rc;
}

static int gm_auth_add(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out)
{
	(void)sa;
	return gm_request(ctx, out);
}

int gike2_gm_registration(struct gike2_gm *gm, struct gdoi_ike2_plist *out)
{
	return gm_request(gm, out);
}

static int gm_apply(struct gike2_gm *gm, struct gdoi_ike2_sa *sa, const struct gdoi_ike2_payload *in,
		    size_t nin)
{
	uint8_t w[GIKE2_KWK_MAX];
	size_t wl = 0;
	uint16_t err = 0;
	struct gdoi_arena *a = gdoi_arena_new();
	int rc = a ? gike2_ike_gsk_w(sa, w, &wl) : GDOI_ERR_NOMEM;
	struct gike2_pl *pl = rc ? NULL : to_pl(in, nin, a);

	if (rc == 0 && !pl)
		rc = GDOI_ERR_NOMEM;
	if (rc == 0) {
		gike2_gm_clear(gm);
		rc = gike2_reg_response_apply(pl, nin, GDOI_BYTES(w, wl), a, &gm->policy, &gm->rekey,
					      &gm->has_rekey, &gm->gcks_key, &err, gm->why,
					      sizeof(gm->why));
		gm->registered = rc == 0;
	}
	OPENSSL_cleanse(w, sizeof(w));
	gdoi_arena_free(a);
	return rc;
}

static int gm_auth_response(void *ctx, struct gdoi_ike2_sa *sa, const struct gdoi_ike2_payload *in,
			    size_t nin, uint16_t *notify)
{
	(void)notify;
	return gm_apply(ctx, sa, in, nin);
}

static void gm_response(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			const struct gdoi_ike2_payload *in, size_t nin)
{
	if (exchange == GIKE2_EXCH_GSA_REGISTRATION || exchange == GIKE2_EXCH_GSA_INBAND_REKEY)
		gm_apply(ctx, sa, in, nin);
}

void gike2_gm_attach(struct gike2_gm *gm, struct gdoi_ike2_config *cfg)
{
	cfg->auth_exchange = GIKE2_EXCH_GSA_AUTH;
	cfg->extra_payloads = gike2_payloads;
	cfg->nextra_payloads = sizeof(gike2_payloads);
	cfg->hooks.auth_add = gm_auth_add;
	cfg->hooks.auth_response = gm_auth_response;
	cfg->hooks.response = gm_response;
	cfg->hooks.ctx = gm;
}

void gike2_gm_clear(struct gike2_gm *gm)
{
	gdoi_policy_clear(&gm->policy);
	gike2_rekey_sa_clear(&gm->rekey);
	gdoi_key_free(gm->gcks_key);
	gm->gcks_key = NULL;
	gm->has_rekey = false;
	gm->registered = false;
}

/* ---- key server ---------------------------------------------------------- */

static int gcks_answer(struct gike2_gcks *k, struct gdoi_ike2_sa *sa,
		       const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
		       uint16_t *notify)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_reg_request rq;
	struct gdoi_parse_error e;
	struct gike2_pl *pl = a ? to_pl(in, nin, a) : NULL, resp[2];
	uint32_t sids[16];
	uint8_t w[GIKE2_KWK_MAX];
	size_t wl = 0, n = 0;
	int rc;

	if (!pl) {
		gdoi_arena_free(a);
		return GDOI_ERR_NOMEM;
	}
	if ((rc = gike2_reg_request_parse(pl, nin, &rq, &e))) {
		gike2_parse_error_format(&e, k->why, sizeof(k->why));
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		goto out;
	}
	if (rq.idg.id_type != k->group.id_type || rq.idg.data.len != k->group.data.len ||
	    memcmp(rq.idg.data.ptr, k->group.data.ptr, rq.idg.data.len) != 0) {
		*notify = GIKE2_N_INVALID_GROUP_ID;
		rc = GDOI_ERR_NOT_FOUND;
		goto out;
	}
	uint32_t max = k->max_sids && k->max_sids < 16 ? k->max_sids : 16;
	size_t nsids = rq.senders < max ? rq.senders : max;
	if (k->assign_sids && nsids) {
		if ((rc = k->assign_sids(k->assign_ctx, (uint32_t)nsids, sids, max, &nsids))) {
			*notify = rc == GDOI_ERR_NOT_AUTHORIZED ? GIKE2_N_AUTHORIZATION_FAILED
							       : GIKE2_N_REGISTRATION_FAILED;
			goto out;
		}
	} else {
		for (size_t i = 0; i < nsids; i++)
			sids[i] = k->next_sid++;
	}
	if ((rc = gike2_ike_gsk_w(sa, w, &wl)) ||
	    (rc = gike2_reg_response_build(k->policy, k->rekey, k->signer, GDOI_BYTES(w, wl), sids,
					   nsids, a, resp, 2, &n)) ||
	    (rc = add_all(out, resp, n))) {
		gdoi_refuse(k->why, sizeof(k->why), rc, "response not built: %s", gdoi_strerror(rc));
		*notify = GIKE2_N_REGISTRATION_FAILED;
		goto out;
	}
	k->registrations++;
out:
	OPENSSL_cleanse(w, sizeof(w));
	gdoi_arena_free(a);	/* wipes nothing: the bodies were copied into out */
	return rc;
}

static int gcks_auth_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			     const struct gdoi_ike2_payload *in, size_t nin,
			     struct gdoi_ike2_plist *out, uint16_t *notify)
{
	if (exchange != GIKE2_EXCH_GSA_AUTH)
		return 0;	/* a plain IKE_AUTH: no group, no GSA */
	return gcks_answer(ctx, sa, in, nin, out, notify);
}

static int gcks_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
			uint16_t *notify)
{
	if (exchange != GIKE2_EXCH_GSA_REGISTRATION) {
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		return GDOI_ERR_UNSUPPORTED;
	}
	return gcks_answer(ctx, sa, in, nin, out, notify);
}

void gike2_gcks_attach(struct gike2_gcks *k, struct gdoi_ike2_config *cfg)
{
	cfg->auth_exchanges = gike2_auth_exchanges;
	cfg->nauth_exchanges = sizeof(gike2_auth_exchanges);
	cfg->extra_payloads = gike2_payloads;
	cfg->nextra_payloads = sizeof(gike2_payloads);
	cfg->hooks.auth_request = gcks_auth_request;
	cfg->hooks.request = gcks_request;
	cfg->hooks.ctx = k;
}
