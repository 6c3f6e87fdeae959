/*
 * phase1_proposal.c - Phase 1 offers and choices (RFC 2409 §5, App. A):
 * one Proposal (PROTO_ISAKMP, no SPI) with one Transform (KEY_IKE) per suite.
 */
#include "phase1_int.h"

#include <string.h>

bool p1_is_sig_auth(uint16_t auth)
{
	return auth == GDOI_IKE_AUTH_RSA_SIG || auth == GDOI_IKE_AUTH_ECDSA_256 ||
	       auth == GDOI_IKE_AUTH_ECDSA_384 || auth == GDOI_IKE_AUTH_ECDSA_521;
}

size_t gdoi_p1_suites_default(uint16_t auth, uint32_t lifetime, bool legacy,
			      struct gdoi_p1_suite *out, size_t cap)
{
	static const struct gdoi_p1_suite modern[] = {
		{ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA256, 19, 0, 0 },
		{ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14, 0, 0 },
	};
	static const struct gdoi_p1_suite old = { GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA1, 2, 0, 0 };
	size_t n = 0;
	for (size_t i = 0; i < 2 && n < cap; i++)
		out[n++] = modern[i];
	if (legacy && n < cap)
		out[n++] = old;
	for (size_t i = 0; i < n; i++) {
		out[i].auth = auth;
		out[i].lifetime = lifetime;
	}
	return n;
}

bool p1_suite_usable(const struct gdoi_p1_suite *s)
{
	/* MD5 stays refused even when configured: it is no longer a safe prf. */
	return gdoi_cipher_from_ike(s->enc, s->key_bits) != GDOI_CIPHER_NONE &&
	       gdoi_md_from_ike(s->hash) != GDOI_MD_NONE && s->hash != GDOI_IKE_HASH_MD5 &&
	       gdoi_dh_supported(s->group) &&
	       (s->auth == GDOI_IKE_AUTH_PSK || p1_is_sig_auth(s->auth));
}

/* Decodes a transform; unknown attributes or values make it unacceptable. */
int p1_suite_from_transform(const struct gdoi_transform *t, struct gdoi_p1_suite *s)
{
	memset(s, 0, sizeof(*s));
	uint32_t life_type = GDOI_IKE_LIFE_SECONDS, life = 0;
	if (t->id != GDOI_KEY_IKE)
		return GDOI_ERR_UNSUPPORTED;
	for (size_t i = 0; i < t->attrs.n; i++) {
		const struct gdoi_attr *a = &t->attrs.v[i];
		uint32_t v;
		if (!gdoi_attr_u32(a, &v))
			return GDOI_ERR_VALUE;
		switch (a->type) {
		case GDOI_IKE_ENC: s->enc = (uint16_t)v; break;
		case GDOI_IKE_KEY_LENGTH: s->key_bits = (uint16_t)v; break;
		case GDOI_IKE_HASH: s->hash = (uint16_t)v; break;
		case GDOI_IKE_AUTH: s->auth = (uint16_t)v; break;
		case GDOI_IKE_GROUP: s->group = (uint16_t)v; break;
		case GDOI_IKE_GROUP_TYPE:
			if (v != 1 && v != 2)	/* MODP, ECP; must agree with the group */
				return GDOI_ERR_UNSUPPORTED;
			break;
		case GDOI_IKE_LIFE_TYPE: life_type = v; break;
		case GDOI_IKE_LIFE_DURATION:
			if (life_type != GDOI_IKE_LIFE_SECONDS)
				return GDOI_ERR_UNSUPPORTED;	/* kilobyte lifetimes: not enforced */
			life = v;
			break;
		default:
			return GDOI_ERR_UNSUPPORTED;
		}
	}
	s->lifetime = life ? life : 28800;	/* RFC 2409 App. A default: 8 hours */
	return p1_suite_usable(s) ? 0 : GDOI_ERR_UNSUPPORTED;
}

static size_t suite_attrs(const struct gdoi_p1_suite *s, struct gdoi_attr *a, uint8_t *life_buf)
{
	size_t n = 0;
	a[n++] = gdoi_attr_basic(GDOI_IKE_ENC, s->enc);
	if (s->key_bits)
		a[n++] = gdoi_attr_basic(GDOI_IKE_KEY_LENGTH, s->key_bits);
	a[n++] = gdoi_attr_basic(GDOI_IKE_HASH, s->hash);
	a[n++] = gdoi_attr_basic(GDOI_IKE_AUTH, s->auth);
	a[n++] = gdoi_attr_basic(GDOI_IKE_GROUP, s->group);
	a[n++] = gdoi_attr_basic(GDOI_IKE_LIFE_TYPE, GDOI_IKE_LIFE_SECONDS);
	if (s->lifetime <= 0xffff) {
		a[n++] = gdoi_attr_basic(GDOI_IKE_LIFE_DURATION, (uint16_t)s->lifetime);
	} else {
		gdoi_put_u32(life_buf, s->lifetime);
		a[n++] = gdoi_attr_var(GDOI_IKE_LIFE_DURATION, life_buf, 4);
	}
	return n;
}

int p1_offer_payload(const struct gdoi_p1_config *cfg, struct gdoi_arena *a,
		     struct gdoi_payload *p)
{
	if (cfg->nsuites == 0 || cfg->nsuites > 32)
		return GDOI_ERR_INVALID_ARG;
	struct gdoi_proposal *prop = gdoi_arena_alloc(a, sizeof(*prop));
	struct gdoi_transform *xf = gdoi_arena_calloc(a, cfg->nsuites, sizeof(*xf));
	if (!prop || !xf)
		return GDOI_ERR_NOMEM;
	for (size_t i = 0; i < cfg->nsuites; i++) {
		if (!p1_suite_usable(&cfg->suites[i]))
			return GDOI_ERR_UNSUPPORTED;
		struct gdoi_attr *attrs = gdoi_arena_calloc(a, 8, sizeof(*attrs));
		uint8_t *life = gdoi_arena_alloc(a, 4);
		if (!attrs || !life)
			return GDOI_ERR_NOMEM;
		xf[i].num = (uint8_t)(i + 1);
		xf[i].id = GDOI_KEY_IKE;
		xf[i].attrs.v = attrs;
		xf[i].attrs.n = suite_attrs(&cfg->suites[i], attrs, life);
	}
	*prop = (struct gdoi_proposal){ .num = 1, .proto = GDOI_PROTO_ISAKMP, .xf = xf,
					.nxf = cfg->nsuites };
	memset(p, 0, sizeof(*p));
	p->type = GDOI_PL_SA;
	p->u.sa_ike = (struct gdoi_sa_ike){ .doi = GDOI_DOI_GDOI, .props = prop, .nprops = 1 };
	return 0;
}

/* Same algorithms; the lifetime is ours to shorten, never to lengthen. */
static bool suite_matches(const struct gdoi_p1_suite *want, const struct gdoi_p1_suite *got)
{
	return want->enc == got->enc && want->key_bits == got->key_bits &&
	       want->hash == got->hash && want->group == got->group && want->auth == got->auth &&
	       got->lifetime <= want->lifetime;
}

int p1_choose(const struct gdoi_p1_config *cfg, const struct gdoi_sa_ike *offer,
	      struct gdoi_arena *a, struct gdoi_payload *reply, struct gdoi_p1_suite *chosen)
{
	if (offer->doi != GDOI_DOI_GDOI || offer->situation != 0)
		return GDOI_ERR_UNSUPPORTED;
	for (size_t i = 0; i < offer->nprops; i++) {
		const struct gdoi_proposal *p = &offer->props[i];
		if (p->proto != GDOI_PROTO_ISAKMP)
			continue;
		for (size_t j = 0; j < p->nxf; j++) {
			struct gdoi_p1_suite s;
			if (p1_suite_from_transform(&p->xf[j], &s))
				continue;
			for (size_t k = 0; k < cfg->nsuites; k++) {
				if (!suite_matches(&cfg->suites[k], &s))
					continue;
				struct gdoi_proposal *rp = gdoi_arena_alloc(a, sizeof(*rp));
				if (!rp)
					return GDOI_ERR_NOMEM;
				/* The chosen transform goes back unchanged (RFC 2409 §5). */
				*rp = *p;
				rp->xf = &p->xf[j];
				rp->nxf = 1;
				memset(reply, 0, sizeof(*reply));
				reply->type = GDOI_PL_SA;
				reply->u.sa_ike = (struct gdoi_sa_ike){ .doi = offer->doi,
					.situation = offer->situation, .props = rp, .nprops = 1 };
				*chosen = s;
				return 0;
			}
		}
	}
	return GDOI_ERR_NO_PROPOSAL;
}

static bool attrs_equal(const struct gdoi_attr_list *x, const struct gdoi_attr_list *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++) {
		const struct gdoi_attr *a = &x->v[i], *b = &y->v[i];
		if (a->type != b->type || a->tv != b->tv)
			return false;
		if (a->tv ? a->basic != b->basic
			  : (a->value.len != b->value.len ||
			     memcmp(a->value.ptr, b->value.ptr, a->value.len)))
			return false;
	}
	return true;
}

int p1_accept_choice(const struct gdoi_p1_config *cfg, const struct gdoi_sa_ike *offer_sent,
		     const struct gdoi_sa_ike *reply, struct gdoi_p1_suite *chosen)
{
	(void)cfg;
	if (reply->doi != GDOI_DOI_GDOI || reply->nprops != 1 || reply->props[0].nxf != 1 ||
	    reply->props[0].proto != GDOI_PROTO_ISAKMP)
		return GDOI_ERR_VALUE;
	const struct gdoi_transform *t = &reply->props[0].xf[0];
	const struct gdoi_proposal *mine = &offer_sent->props[0];
	for (size_t i = 0; i < mine->nxf; i++) {
		if (mine->xf[i].num == t->num && mine->xf[i].id == t->id &&
		    attrs_equal(&mine->xf[i].attrs, &t->attrs))
			return p1_suite_from_transform(t, chosen);
	}
	return GDOI_ERR_NO_PROPOSAL;
}

int p1_apply_suite(struct gdoi_p1_sa *sa, const struct gdoi_p1_suite *s)
{
	sa->suite = *s;
	sa->md = gdoi_md_from_ike(s->hash);
	sa->cipher = gdoi_cipher_from_ike(s->enc, s->key_bits);
	sa->blk = gdoi_cipher_block_len(sa->cipher);
	sa->n->gx_len = gdoi_dh_public_len(s->group);
	if (sa->md == GDOI_MD_NONE || sa->cipher == GDOI_CIPHER_NONE || !sa->n->gx_len)
		return GDOI_ERR_UNSUPPORTED;
	return 0;
}
