/*
 * gike2_rekey_sa.c - the Rekey SA (GSA KEK) as a GIKE_UPDATE GSA policy and
 * its KD key bags (RFC 9838 §4.4.2~, §4.5.2~, §4.5.3~), both directions.
 */
#include "gike2_rekey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static uint8_t *dup_bytes(struct gdoi_arena *a, const void *p, size_t n)
{
	uint8_t *d = gdoi_arena_alloc(a, n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

int gike2_rekey_to_gsa_policy(const struct gike2_rekey_sa *sa, const struct gdoi_key *signer,
			      struct gdoi_arena *a, struct gike2_gsa_policy *out)
{
	bool sign = sa->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	gdoi_bytes algid = GDOI_BYTES_NONE;
	uint8_t life[4], mid[4];

	memset(out, 0, sizeof(*out));
	if (!gike2_rekey_keymat_len(sa) || sa->lifetime == 0)
		return GDOI_ERR_INVALID_ARG;
	if (sign && gdoi_sig7427_algid(signer, sa->sig_md, &algid))
		return GDOI_ERR_INVALID_ARG;
	struct gike2_transform *xf = gdoi_arena_calloc(a, 3, sizeof(*xf));
	struct gdoi_attr *xa = gdoi_arena_calloc(a, 2, sizeof(*xa));
	struct gdoi_attr *ga = gdoi_arena_calloc(a, 2, sizeof(*ga));
	gdoi_put_u32(life, sa->lifetime);
	gdoi_put_u32(mid, sa->msgid);
	uint8_t *spi = dup_bytes(a, sa->spi, GIKE2_SPI_SIZE_REKEY), *lp = dup_bytes(a, life, 4),
		*mp = dup_bytes(a, mid, 4), *ap = dup_bytes(a, algid.ptr, algid.len);
	if (!xf || !xa || !ga || !spi || !lp || !mp || !ap)
		return GDOI_ERR_NOMEM;
	out->protocol = GIKE2_PROTO_GIKE_UPDATE;
	out->spi = GDOI_BYTES(spi, GIKE2_SPI_SIZE_REKEY);
	out->src = sa->src;
	out->dst = sa->dst;
	xa[0] = (struct gdoi_attr){ GIKE2_XATTR_KEY_LENGTH, true, sa->encr_key_bits, GDOI_BYTES_NONE };
	xf[0] = (struct gike2_transform){ GIKE2_XF_ENCR, sa->encr, { &xa[0], 1 } };
	xf[1] = (struct gike2_transform){ GIKE2_XF_KWA, sa->kwa, { NULL, 0 } };
	xa[1] = (struct gdoi_attr){ GIKE2_XATTR_SIG_ALG_ID, false, 0, GDOI_BYTES(ap, algid.len) };
	xf[2] = (struct gike2_transform){ GIKE2_XF_GCAUTH, sa->gcauth, { &xa[1], sign ? 1 : 0 } };
	out->xf = xf;
	out->nxf = 3;
	size_t n = 0;
	ga[n++] = (struct gdoi_attr){ GIKE2_GSA_KEY_LIFETIME, false, 0, GDOI_BYTES(lp, 4) };
	if (sa->msgid)
		ga[n++] = (struct gdoi_attr){ GIKE2_GSA_INITIAL_MESSAGE_ID, false, 0, GDOI_BYTES(mp, 4) };
	out->attrs = (struct gdoi_attr_list){ ga, n };
	return 0;
}

int gike2_rekey_to_key_bags(const struct gike2_rekey_sa *sa, gdoi_bytes kwk,
			    const struct gdoi_key *signer, struct gdoi_arena *a,
			    struct gike2_key_bag out[2], size_t *n)
{
	size_t kl = sa->gsk_e_len + sa->gsk_w_len, wl = gike2_kwp_wrapped_len(kl), got = 0;
	uint8_t keymat[sizeof(sa->gsk_e) + sizeof(sa->gsk_w)];
	int rc;

	*n = 0;
	if (!sa->gsk_e_len || kl != gike2_rekey_keymat_len(sa))
		return GDOI_ERR_INVALID_ARG;
	uint8_t *v = gdoi_arena_alloc(a, 8 + wl), *spi = dup_bytes(a, sa->spi, GIKE2_SPI_SIZE_REKEY);
	struct gdoi_attr *at = gdoi_arena_calloc(a, 2, sizeof(*at));
	if (!v || !spi || !at)
		return GDOI_ERR_NOMEM;
	memcpy(keymat, sa->gsk_e, sa->gsk_e_len);
	memcpy(keymat + sa->gsk_e_len, sa->gsk_w, sa->gsk_w_len);
	gdoi_put_u32(v, GIKE2_KEY_ID_SA);
	gdoi_put_u32(v + 4, GIKE2_KWK_ID_DEFAULT);
	rc = gike2_kwp_wrap(kwk, GDOI_BYTES(keymat, kl), v + 8, wl, &got);
	OPENSSL_cleanse(keymat, sizeof(keymat));
	if (rc)
		return rc;
	at[0] = (struct gdoi_attr){ GIKE2_GKB_SA_KEY, false, 0, GDOI_BYTES(v, 8 + got) };
	out[(*n)++] = (struct gike2_key_bag){ GIKE2_PROTO_GIKE_UPDATE,
					      GDOI_BYTES(spi, GIKE2_SPI_SIZE_REKEY), { &at[0], 1 } };
	if (sa->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE) {
		uint8_t *der = NULL;
		size_t dl = 0;
		if (signer == NULL || (rc = gdoi_key_to_spki(signer, &der, &dl)))
			return rc ? rc : GDOI_ERR_INVALID_ARG;
		uint8_t *d = dup_bytes(a, der, dl);
		free(der);
		if (!d)
			return GDOI_ERR_NOMEM;
		at[1] = (struct gdoi_attr){ GIKE2_MKB_AUTH_KEY, false, 0, GDOI_BYTES(d, dl) };
		out[(*n)++] = (struct gike2_key_bag){ GIKE2_PROTO_NONE, GDOI_BYTES_NONE, { &at[1], 1 } };
	}
	return 0;
}

int gike2_rekey_from_gsa_policy(struct gike2_rekey_sa *sa, const struct gike2_gsa_policy *p,
				char *why, size_t wl)
{
	const struct gike2_transform *e = gike2_xf_find(p, GIKE2_XF_ENCR),
				     *k = gike2_xf_find(p, GIKE2_XF_KWA),
				     *g = gike2_xf_find(p, GIKE2_XF_GCAUTH);

	memset(sa, 0, sizeof(*sa));
	if (p->protocol != GIKE2_PROTO_GIKE_UPDATE || p->spi.len != GIKE2_SPI_SIZE_REKEY)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "not a Rekey SA policy");
	if (!e || !k || !g)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "Rekey SA needs ENCR, KWA and GCAUTH");
	for (size_t i = 0; i < p->nxf; i++)
		if (p->xf[i].type != GIKE2_XF_ENCR && p->xf[i].type != GIKE2_XF_KWA &&
		    p->xf[i].type != GIKE2_XF_GCAUTH)	/* INTEG only with a non-AEAD ENCR */
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "Rekey SA transform type %u",
					   p->xf[i].type);
	memcpy(sa->spi, p->spi.ptr, GIKE2_SPI_SIZE_REKEY);
	sa->src = p->src;
	sa->dst = p->dst;
	sa->encr = e->id;
	const struct gdoi_attr *kl = gdoi_attr_find(&e->attrs, GIKE2_XATTR_KEY_LENGTH);
	sa->encr_key_bits = kl && kl->tv ? kl->basic : 0;
	if (e->attrs.n != (kl ? 1u : 0u))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "ENCR transform attributes");
	sa->kwa = k->id;
	if (k->attrs.n)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "KWA transform attributes");
	if (!gike2_rekey_keymat_len(sa))
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "Rekey SA ENCR %u/%u, KWA %u",
				   sa->encr, sa->encr_key_bits, sa->kwa);
	sa->gcauth = g->id;
	if (g->id == GIKE2_GCAUTH_DIGITAL_SIGNATURE) {
		const struct gdoi_attr *x = gdoi_attr_find(&g->attrs, GIKE2_XATTR_SIG_ALG_ID);
		if (!x || x->tv || x->value.len > sizeof(sa->algid) || g->attrs.n != 1)
			return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "Signature Algorithm Identifier");
		memcpy(sa->algid, x->value.ptr, x->value.len);
		sa->algid_len = x->value.len;
	} else if (g->id != GIKE2_GCAUTH_IMPLICIT || g->attrs.n) {
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "GCAUTH %u", g->id);
	}
	const struct gdoi_attr *life = gdoi_attr_find(&p->attrs, GIKE2_GSA_KEY_LIFETIME),
			       *mid = gdoi_attr_find(&p->attrs, GIKE2_GSA_INITIAL_MESSAGE_ID);
	if (!life || (sa->lifetime = gdoi_get_u32(life->value.ptr)) == 0)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "Rekey SA GSA_KEY_LIFETIME");
	sa->msgid = mid ? gdoi_get_u32(mid->value.ptr) : 0;
	return 0;
}

int gike2_rekey_apply_kd(struct gike2_rekey_sa *sa, const struct gike2_kd *kd, gdoi_bytes kwk,
			 struct gdoi_key **gcks_key, char *why, size_t wl)
{
	const struct gdoi_attr *sk = NULL, *ak = NULL;
	int rc;

	*gcks_key = NULL;
	for (size_t i = 0; i < kd->nbag; i++) {
		const struct gike2_key_bag *b = &kd->bag[i];
		if (b->protocol == GIKE2_PROTO_GIKE_UPDATE &&
		    memcmp(b->spi.ptr, sa->spi, GIKE2_SPI_SIZE_REKEY) == 0) {
			if (sk || b->attrs.n != 1)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "Rekey SA SA_KEYs");
			sk = &b->attrs.v[0];
		} else if (b->protocol == GIKE2_PROTO_NONE) {
			const struct gdoi_attr *x = gdoi_attr_find(&b->attrs, GIKE2_MKB_AUTH_KEY);
			if (x && ak)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "AUTH_KEY twice");
			ak = x ? x : ak;
		}
	}
	if (!sk)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "Rekey SA SA_KEY");
	struct gike2_wrapped_key w;
	if ((rc = gike2_wrapped_key_parse(sk->value, 0, &w, NULL)))
		return gdoi_refuse(why, wl, rc, "Rekey SA SA_KEY");
	if (w.kwk_id != GIKE2_KWK_ID_DEFAULT)
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "KWK ID %u (key hierarchies)", w.kwk_id);
	uint8_t km[sizeof(sa->gsk_e) + sizeof(sa->gsk_w) + 16];
	size_t n = 0;
	rc = gike2_kwp_unwrap(kwk, w.wrapped, km, sizeof(km), &n);
	if (rc == 0)
		rc = gike2_rekey_set_keys(sa, GDOI_BYTES(km, n));
	OPENSSL_cleanse(km, sizeof(km));
	if (rc)
		return gdoi_refuse(why, wl, rc, "Rekey SA keys do not unwrap");
	if (sa->gcauth != GIKE2_GCAUTH_DIGITAL_SIGNATURE)
		return ak ? gdoi_refuse(why, wl, GDOI_ERR_VALUE, "AUTH_KEY with implicit auth") : 0;
	if (!ak)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "AUTH_KEY");
	if ((rc = gdoi_key_from_spki(ak->value, gcks_key)))
		return gdoi_refuse(why, wl, rc, "AUTH_KEY is not a usable public key");
	sa->sig_md = gdoi_sig7427_algid_md(*gcks_key, GDOI_BYTES(sa->algid, sa->algid_len));
	if (sa->sig_md == GDOI_MD_NONE) {
		gdoi_key_free(*gcks_key);
		*gcks_key = NULL;
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "signature algorithm for this key");
	}
	return 0;
}
