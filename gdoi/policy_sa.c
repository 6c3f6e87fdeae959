/*
 * policy_sa.c - group policy <-> GDOI SA payload (SA KEK, GAP, SA TEKs;
 * RFC 6407 §5.2-5.5, docs/srtp-tek.md). Receiving is strict: what we do not
 * understand makes the whole SA unacceptable (RFC 6407 §5.3.2, §5.4).
 */
#include "policy.h"
#include "push_ack.h"

#include <string.h>

#include "err.h"
#include "numbers.h"

/* RFC 6407 gives every attribute one meaning: a repeated one is ambiguous, so refused. */
static bool repeated(const struct gdoi_attr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = i + 1; j < l->n; j++)
			if (l->v[i].type == l->v[j].type)
				return true;
	return false;
}

static int selector_from_id(const struct gdoi_id *id, struct gdoi_selector *s, bool srtp)
{
	if (id->data.len > sizeof(s->addr))
		return GDOI_ERR_TOO_BIG;
	if (srtp && id->type != GDOI_ID_IPV4_ADDR && id->type != GDOI_ID_IPV4_ADDR_SUBNET &&
	    id->type != GDOI_ID_IPV6_ADDR && id->type != GDOI_ID_IPV6_ADDR_SUBNET)
		return GDOI_ERR_UNSUPPORTED;
	s->id_type = id->type;
	s->port = id->port;
	s->addr_len = (uint8_t)id->data.len;
	memcpy(s->addr, id->data.ptr, id->data.len);
	return 0;
}

static struct gdoi_id selector_to_id(const struct gdoi_selector *s)
{
	struct gdoi_id id = { .type = s->id_type, .port = s->port,
			      .data = GDOI_BYTES(s->addr, s->addr_len) };
	return id;
}

static int kek_from_sak(struct gdoi_kek_policy *k, const struct gdoi_sak *sak, char *why, size_t wl)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->spi, sak->spi, GDOI_KEK_SPI_LEN);
	k->protocol = sak->protocol;
	k->trailer_len = sak->trailer_len;
	if (selector_from_id(&sak->src, &k->src, false) || selector_from_id(&sak->dst, &k->dst, false))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SA KEK selector too long");
	if (sak->protocol != 17)
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
				   "rekeys over IP protocol %u (only UDP)", sak->protocol);
	if (repeated(&sak->attrs))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "KEK attribute repeated");
	for (size_t i = 0; i < sak->attrs.n; i++) {
		const struct gdoi_attr *a = &sak->attrs.v[i];
		uint32_t v;
		if (!gdoi_attr_u32(a, &v))
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "KEK attribute %u has a bad value", a->type);
		switch (a->type) {
		case GDOI_KEK_MANAGEMENT_ALGORITHM:
			break;	/* RFC 6407 §5.3.1: must not be in PULL; ignored if present */
		case GDOI_KEK_ALGORITHM: k->alg = (uint16_t)v; break;
		case GDOI_KEK_KEY_LENGTH: k->key_bits = (uint16_t)v; break;
		case GDOI_KEK_KEY_LIFETIME: k->lifetime = v; break;
		case GDOI_KEK_SIG_HASH_ALGORITHM: k->sig_hash = (uint16_t)v; break;
		case GDOI_KEK_SIG_ALGORITHM: k->sig_alg = (uint16_t)v; break;
		case GDOI_KEK_SIG_KEY_LENGTH: k->sig_key_bits = (uint16_t)v; break;
		case GDOI_KEK_ACK_REQUESTED:
			if (!gdoi_push_ack_method_ok((uint16_t)v) || v > UINT16_MAX)
				return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "KEK_ACK_REQUESTED"
						   " %u not supported (only the KEK methods)", v);
			k->ack_method = (uint16_t)v;
			break;
		default:
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "unknown KEK attribute %u", a->type);
		}
	}
	if (gdoi_kek_cipher(k) == GDOI_CIPHER_NONE)
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
				   "KEK algorithm %u/%u bits not supported", k->alg, k->key_bits);
	switch (k->sig_alg) {
	case GDOI_SIG_ALG_RSA:
		if (gdoi_md_from_sig_hash(k->sig_hash) == GDOI_MD_NONE ||
		    k->sig_hash == GDOI_SIG_HASH_MD5)
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "RSA rekey hash %u not supported", k->sig_hash);
		break;
	case GDOI_SIG_ALG_ECDSA_256: case GDOI_SIG_ALG_ECDSA_384: case GDOI_SIG_ALG_ECDSA_521:
		break;
	default:
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
				   "rekey signature algorithm %u not supported", k->sig_alg);
	}
	return 0;
}

static int srtp_from_sat(struct gdoi_tek *t, const struct gdoi_tek_srtp *s, char *why, size_t wl)
{
	struct gdoi_tek_srtp_policy *p = &t->u.srtp;
	t->kind = GDOI_TEK_SRTP;
	t->spi = s->spi;
	p->profile = s->profile;
	p->flags = s->flags;
	p->replay_window = 128;
	p->ssrc_assigned = true;
	if (selector_from_id(&s->src, &t->src, true) || selector_from_id(&s->dst, &t->dst, true))
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
				   "SRTP TEK selector type not allowed");
	if (repeated(&s->attrs))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP attribute repeated");
	bool have_life = false;
	for (size_t i = 0; i < s->attrs.n; i++) {
		const struct gdoi_attr *a = &s->attrs.v[i];
		uint32_t v;
		if (!gdoi_attr_u32(a, &v))
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "SRTP attribute %u has a bad value", a->type);
		switch (a->type) {
		case GDOI_SRTP_LIFETIME:
			if (a->tv || a->value.len != 4 || v == 0)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						   "SRTP_LIFETIME must be 4 octets, > 0");
			p->lifetime = v;
			have_life = true;
			break;
		case GDOI_SRTP_REPLAY_WINDOW:
			if (!a->tv || v < 64 || v > 32767)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						   "replay window %u outside 64..32767", v);
			p->replay_window = (uint16_t)v;
			break;
		case GDOI_SRTP_SSRC_ASSIGNED:
		case GDOI_SRTP_ALLOW_REPEAT_TX:
			if (!a->tv || v > 1)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						   "SRTP attribute %u must be TV 0 or 1", a->type);
			if (a->type == GDOI_SRTP_SSRC_ASSIGNED)
				p->ssrc_assigned = v;
			else
				p->allow_repeat_tx = v;
			break;
		default:
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "unknown SRTP attribute %u", a->type);
		}
	}
	if (!have_life)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "SRTP TEK without SRTP_LIFETIME");
	return 0;
}

static int ipsec_from_sat(struct gdoi_tek *t, uint8_t proto_id, const struct gdoi_tek_ipsec *s,
			  char *why, size_t wl)
{
	struct gdoi_tek_ipsec_policy *p = &t->u.ipsec;
	t->kind = proto_id == GDOI_TEK_PROTO_ESP ? GDOI_TEK_ESP : GDOI_TEK_AH;
	t->spi = s->spi;
	p->protocol = s->protocol;
	p->transform_id = s->transform_id;
	if (selector_from_id(&s->src, &t->src, false) || selector_from_id(&s->dst, &t->dst, false))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "TEK selector too long");
	if (repeated(&s->attrs))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "IPsec attribute repeated");
	uint32_t life_type = 1;
	for (size_t i = 0; i < s->attrs.n; i++) {
		const struct gdoi_attr *a = &s->attrs.v[i];
		uint32_t v;
		if (!gdoi_attr_u32(a, &v))
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "IPsec attribute %u has a bad value", a->type);
		switch (a->type) {
		case GDOI_IPSEC_LIFE_TYPE: life_type = v; break;
		case GDOI_IPSEC_LIFE_DURATION:
			if (life_type != 1)
				return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
						   "kilobyte TEK lifetimes not supported");
			p->lifetime = v;
			break;
		case GDOI_IPSEC_ENCAP_MODE: p->encap_mode = (uint8_t)v; break;
		case GDOI_IPSEC_AUTH_ALG: p->auth_alg = (uint16_t)v; break;
		case GDOI_IPSEC_KEY_LENGTH: p->key_bits = (uint16_t)v; break;
		case GDOI_IPSEC_ADDR_PRESERVATION: p->addr_preservation = (uint8_t)v; break;
		case GDOI_IPSEC_SA_DIRECTION: p->sa_direction = (uint8_t)v; break;
		default:	/* includes Group Description, which must not be sent */
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "IPsec attribute %u not supported", a->type);
		}
	}
	size_t k, ik;
	if (gdoi_ipsec_key_lengths(t->kind, p, &k, &ik))
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "%s transform %u not supported",
				   t->kind == GDOI_TEK_ESP ? "ESP" : "AH", p->transform_id);
	return 0;
}

static int ref_srtp_from_sat(struct gdoi_tek *t, const struct gdoi_tek_ref_srtp *s, char *why,
			     size_t wl)
{
	t->kind = GDOI_TEK_REF_SRTP;
	if (s->spi.len > 4)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
				   "reference SRTP SPI longer than 4 octets");
	for (size_t i = 0; i < s->spi.len; i++)
		t->spi = t->spi << 8 | s->spi.ptr[i];
	if (selector_from_id(&s->src, &t->src, false) || selector_from_id(&s->dst, &t->dst, false))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "TEK selector too long");
	for (size_t i = 0; i < s->attrs.n; i++)
		if (s->attrs.v[i].type < 1 || s->attrs.v[i].type > 3)	/* CIPHER, _MODE, _KEY_LENGTH */
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "unknown reference SRTP attribute %u",
					   s->attrs.v[i].type);
	/* Its key packet is 16 octets of key and 14 of salt: AES128_CM_HMAC_SHA1_80. */
	t->u.srtp.profile = GDOI_SRTP_AES128_CM_SHA1_80;
	t->u.srtp.flags = GDOI_SRTP_FLAG_SRTCP;
	t->u.srtp.replay_window = 128;
	return 0;
}

int gdoi_policy_from_sa(struct gdoi_policy *p, const struct gdoi_sa_gdoi *sa, char *why,
			size_t wl)
{
	memset(p, 0, sizeof(*p));
	if (sa->doi != GDOI_DOI_GDOI || sa->situation != 0)
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "SA DOI %u / situation %u",
				   sa->doi, sa->situation);
	int rc;
	if (sa->sak) {
		if ((rc = kek_from_sak(&p->kek, sa->sak, why, wl)))
			return rc;
		p->has_kek = true;
	}
	if (sa->gap) {
		p->has_gap = true;
		for (size_t i = 0; i < sa->gap->n; i++) {
			const struct gdoi_attr *a = &sa->gap->v[i];
			uint32_t v;
			if (!a->tv || (a->type != GDOI_GAP_ATD && a->type != GDOI_GAP_DTD) ||
			    !gdoi_attr_u32(a, &v))
				return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
						   "GAP attribute %u not acceptable", a->type);
			if (a->type == GDOI_GAP_ATD)
				p->atd = (uint16_t)v;
			else
				p->dtd = (uint16_t)v;
		}
		/* Old keys must outlive the activation of new ones (srtp-tek.md). */
		if (repeated(sa->gap) || (p->dtd && p->dtd <= p->atd))
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "GAP: repeated attribute or DTD %u <= ATD %u", p->dtd,
					   p->atd);
	}
	if (sa->nsats > GDOI_MAX_TEKS)
		return gdoi_refuse(why, wl, GDOI_ERR_TOO_BIG, "%zu TEKs (at most %d)", sa->nsats,
				   GDOI_MAX_TEKS);
	for (size_t i = 0; i < sa->nsats; i++) {
		const struct gdoi_sat *s = &sa->sats[i];
		struct gdoi_tek *t = &p->teks[p->nteks++];
		switch (s->protocol_id) {
		case GDOI_TEK_PROTO_SRTP: rc = srtp_from_sat(t, &s->u.srtp, why, wl); break;
		case GDOI_TEK_PROTO_ESP:
		case GDOI_TEK_PROTO_AH: rc = ipsec_from_sat(t, s->protocol_id, &s->u.ipsec, why, wl); break;
		case GDOI_TEK_PROTO_REF_SRTP: rc = ref_srtp_from_sat(t, &s->u.ref_srtp, why, wl); break;
		default:
			rc = gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					 "TEK Protocol-ID %u not supported", s->protocol_id);
		}
		if (rc)
			return rc;
		for (size_t j = 0; j + 1 < p->nteks; j++)
			if (p->teks[j].spi == t->spi)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						   "two TEKs with SPI %08x", t->spi);
	}
	return 0;
}

/* ---- building ------------------------------------------------------------- */

static struct gdoi_attr *attrs_new(struct gdoi_arena *a, size_t n)
{
	return gdoi_arena_calloc(a, n, sizeof(struct gdoi_attr));
}

static struct gdoi_attr u32_attr(struct gdoi_arena *a, uint16_t type, uint32_t v)
{
	uint8_t *b = gdoi_arena_alloc(a, 4);
	if (!b)
		return gdoi_attr_var(type, NULL, 0);	/* empty: the builder refuses it */
	gdoi_put_u32(b, v);
	return gdoi_attr_var(type, b, 4);
}

static int sak_from_kek(const struct gdoi_kek_policy *k, struct gdoi_arena *a, struct gdoi_sak *sak)
{
	struct gdoi_attr *v = attrs_new(a, 8);
	if (!v)
		return GDOI_ERR_NOMEM;
	size_t n = 0;
	v[n++] = gdoi_attr_basic(GDOI_KEK_ALGORITHM, k->alg);
	if (k->key_bits)
		v[n++] = gdoi_attr_basic(GDOI_KEK_KEY_LENGTH, k->key_bits);
	if (k->lifetime)
		v[n++] = u32_attr(a, GDOI_KEK_KEY_LIFETIME, k->lifetime);
	if (k->sig_hash)
		v[n++] = gdoi_attr_basic(GDOI_KEK_SIG_HASH_ALGORITHM, k->sig_hash);
	v[n++] = gdoi_attr_basic(GDOI_KEK_SIG_ALGORITHM, k->sig_alg);
	if (k->sig_key_bits)
		v[n++] = gdoi_attr_basic(GDOI_KEK_SIG_KEY_LENGTH, k->sig_key_bits);
	if (k->ack_method)
		v[n++] = gdoi_attr_basic(GDOI_KEK_ACK_REQUESTED, k->ack_method);
	memset(sak, 0, sizeof(*sak));
	sak->protocol = k->protocol;
	sak->src = selector_to_id(&k->src);
	sak->dst = selector_to_id(&k->dst);
	memcpy(sak->spi, k->spi, GDOI_KEK_SPI_LEN);
	sak->trailer_len = k->trailer_len == 6 ? 6 : 4;
	sak->attrs = (struct gdoi_attr_list){ v, n };
	return 0;
}

/*
 * The reference implementation's SRTP TEK (Protocol-ID 128), as its key server
 * sends it (quirk 5; docs/protocol.md): its fixed one-octet fields with the
 * values it hard-codes, a 2-octet SPI, and the three cipher attributes as zero.
 * Its member assumes AES128_CM_HMAC_SHA1_80 keys whatever they say.
 */
static int ref_srtp_sat(const struct gdoi_tek *t, struct gdoi_arena *a, struct gdoi_attr *v,
			struct gdoi_sat *s)
{
	uint8_t *spi = gdoi_arena_alloc(a, 2);
	if (!spi)
		return GDOI_ERR_NOMEM;
	if (t->spi == 0 || t->spi > 0xffff || t->u.srtp.profile != GDOI_SRTP_AES128_CM_SHA1_80)
		return GDOI_ERR_INVALID_ARG;
	spi[0] = (uint8_t)(t->spi >> 8);
	spi[1] = (uint8_t)t->spi;
	for (uint16_t i = 0; i < 3; i++)	/* CIPHER, CIPHER_MODE, CIPHER_KEY_LENGTH */
		v[i] = gdoi_attr_basic((uint16_t)(i + 1), 0);
	s->protocol_id = GDOI_TEK_PROTO_REF_SRTP;
	s->u.ref_srtp = (struct gdoi_tek_ref_srtp){ .src = selector_to_id(&t->src),
		.dst = selector_to_id(&t->dst), .replay_window = 16, .kd_rate = 1,
		.srtp_lifetime = 16, .srtcp_lifetime = 16, .spi = GDOI_BYTES(spi, 2),
		.attrs = { v, 3 } };
	return 0;
}

static int sat_from_tek(const struct gdoi_tek *t, struct gdoi_arena *a, struct gdoi_sat *s)
{
	struct gdoi_attr *v = attrs_new(a, 8);
	size_t n = 0;
	if (!v)
		return GDOI_ERR_NOMEM;
	memset(s, 0, sizeof(*s));
	switch (t->kind) {
	case GDOI_TEK_SRTP: {
		const struct gdoi_tek_srtp_policy *p = &t->u.srtp;
		s->protocol_id = GDOI_TEK_PROTO_SRTP;
		v[n++] = u32_attr(a, GDOI_SRTP_LIFETIME, p->lifetime);
		if (p->replay_window && p->replay_window != 128)
			v[n++] = gdoi_attr_basic(GDOI_SRTP_REPLAY_WINDOW, p->replay_window);
		if (!p->ssrc_assigned)
			v[n++] = gdoi_attr_basic(GDOI_SRTP_SSRC_ASSIGNED, 0);
		if (p->allow_repeat_tx)
			v[n++] = gdoi_attr_basic(GDOI_SRTP_ALLOW_REPEAT_TX, 1);
		s->u.srtp = (struct gdoi_tek_srtp){ .version = GDOI_SRTP_TEK_VERSION,
			.profile = p->profile, .flags = p->flags, .src = selector_to_id(&t->src),
			.dst = selector_to_id(&t->dst), .spi = t->spi, .attrs = { v, n } };
		return 0;
	}
	case GDOI_TEK_ESP:
	case GDOI_TEK_AH: {
		const struct gdoi_tek_ipsec_policy *p = &t->u.ipsec;
		s->protocol_id = t->kind == GDOI_TEK_ESP ? GDOI_TEK_PROTO_ESP : GDOI_TEK_PROTO_AH;
		if (p->lifetime) {
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_LIFE_TYPE, 1);
			v[n++] = u32_attr(a, GDOI_IPSEC_LIFE_DURATION, p->lifetime);
		}
		if (p->encap_mode)
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_ENCAP_MODE, p->encap_mode);
		if (p->auth_alg)
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_AUTH_ALG, p->auth_alg);
		if (p->key_bits)
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_KEY_LENGTH, p->key_bits);
		if (p->addr_preservation)
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_ADDR_PRESERVATION, p->addr_preservation);
		if (p->sa_direction)
			v[n++] = gdoi_attr_basic(GDOI_IPSEC_SA_DIRECTION, p->sa_direction);
		s->u.ipsec = (struct gdoi_tek_ipsec){ .protocol = p->protocol,
			.src = selector_to_id(&t->src), .dst = selector_to_id(&t->dst),
			.transform_id = p->transform_id, .spi = t->spi, .attrs = { v, n } };
		return 0;
	}
	case GDOI_TEK_REF_SRTP:
		return ref_srtp_sat(t, a, v, s);
	}
	return GDOI_ERR_UNSUPPORTED;
}

int gdoi_policy_to_sa(const struct gdoi_policy *p, bool with_kek, struct gdoi_arena *a,
		      struct gdoi_payload *out)
{
	memset(out, 0, sizeof(*out));
	out->type = GDOI_PL_SA;
	struct gdoi_sa_gdoi *sa = &out->u.sa;
	sa->doi = GDOI_DOI_GDOI;
	int rc;
	if (p->has_kek && with_kek) {
		sa->sak = gdoi_arena_alloc(a, sizeof(*sa->sak));
		if (!sa->sak)
			return GDOI_ERR_NOMEM;
		if ((rc = sak_from_kek(&p->kek, a, sa->sak)))
			return rc;
	}
	if (p->has_gap) {
		struct gdoi_attr *v = attrs_new(a, 2);
		sa->gap = gdoi_arena_alloc(a, sizeof(*sa->gap));
		if (!v || !sa->gap)
			return GDOI_ERR_NOMEM;
		v[0] = gdoi_attr_basic(GDOI_GAP_ATD, p->atd);
		v[1] = gdoi_attr_basic(GDOI_GAP_DTD, p->dtd);
		*sa->gap = (struct gdoi_attr_list){ v, 2 };
	}
	if (p->nteks) {
		sa->sats = gdoi_arena_calloc(a, p->nteks, sizeof(*sa->sats));
		if (!sa->sats)
			return GDOI_ERR_NOMEM;
	}
	for (size_t i = 0; i < p->nteks; i++)
		if ((rc = sat_from_tek(&p->teks[i], a, &sa->sats[sa->nsats++])))
			return rc;
	return sa->sak || sa->nsats ? 0 : GDOI_ERR_INVALID_ARG;
}
