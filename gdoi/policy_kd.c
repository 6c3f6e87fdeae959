/*
 * policy_kd.c - group policy <-> Key Download payload (RFC 6407 §5.6,
 * docs/srtp-tek.md): TEK keys, the KEK's IV and key and the key server's
 * rekey public key, and this member's Sender-IDs.
 */
#include "policy.h"

#include <string.h>

#include "err.h"
#include "numbers.h"

static struct gdoi_tek *tek_by_spi(struct gdoi_policy *p, gdoi_bytes spi)
{
	if (spi.len == 0 || spi.len > 4)
		return NULL;
	uint32_t v = 0;
	for (size_t i = 0; i < spi.len; i++)
		v = v << 8 | spi.ptr[i];
	for (size_t i = 0; i < p->nteks; i++) {
		size_t want = p->teks[i].kind == GDOI_TEK_REF_SRTP ? spi.len : 4;
		if (p->teks[i].spi == v && spi.len == want)
			return &p->teks[i];
	}
	return NULL;
}

static int tek_keys(struct gdoi_tek *t, const struct gdoi_kd_packet *k, char *why, size_t wl)
{
	size_t klen, ilen;
	if (t->have_keys)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two key packets for TEK %08x", t->spi);
	if (gdoi_tek_key_lengths(t, &klen, &ilen))
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "TEK %08x has no key format",
				   t->spi);
	bool got_key = false, got_int = false;
	for (size_t i = 0; i < k->attrs.n; i++) {
		const struct gdoi_attr *a = &k->attrs.v[i];
		bool is_key = a->type == GDOI_KD_TEK_ALGORITHM_KEY;
		if (a->tv || (!is_key && a->type != GDOI_KD_TEK_INTEGRITY_KEY))
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "TEK key attribute %u not supported", a->type);
		size_t want = is_key ? klen : ilen;
		bool *got = is_key ? &got_key : &got_int;
		if (*got || a->value.len != want)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "TEK %08x: %s key of %zu octets (want %zu, once)",
					   t->spi, is_key ? "algorithm" : "integrity", a->value.len,
					   want);
		memcpy(is_key ? t->key : t->integrity, a->value.ptr, want);
		*got = true;
	}
	if ((klen && !got_key) || (ilen && !got_int))
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "TEK %08x: key packet lacks a key",
				   t->spi);
	t->key_len = klen;
	t->integrity_len = ilen;
	t->have_keys = true;
	return 0;
}

static int kek_keys(struct gdoi_kek_policy *k, const struct gdoi_kd_packet *pk, char *why, size_t wl)
{
	enum gdoi_cipher c = gdoi_kek_cipher(k);
	size_t blk = gdoi_cipher_block_len(c), klen = gdoi_cipher_key_len(c);
	bool got_key = false;
	if (k->have_keys)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two KEK key packets");
	for (size_t i = 0; i < pk->attrs.n; i++) {
		const struct gdoi_attr *a = &pk->attrs.v[i];
		if (a->tv)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "KEK key attribute %u in TV form", a->type);
		if (a->type == GDOI_KD_KEK_ALGORITHM_KEY) {
			/* IV followed by the key (RFC 6407 §5.6.2.1). */
			if (got_key || a->value.len != blk + klen)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						   "KEK_ALGORITHM_KEY of %zu octets (want %zu)",
						   a->value.len, blk + klen);
			memcpy(k->iv, a->value.ptr, blk);
			memcpy(k->key, a->value.ptr + blk, klen);
			got_key = true;
		} else if (a->type == GDOI_KD_SIG_ALGORITHM_KEY) {
			if (a->value.len > sizeof(k->rekey_pub))
				return gdoi_refuse(why, wl, GDOI_ERR_TOO_BIG,
						   "rekey public key too long");
			memcpy(k->rekey_pub, a->value.ptr, a->value.len);
			k->rekey_pub_len = a->value.len;
		} else {
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "KEK key attribute %u not supported", a->type);
		}
	}
	if (!got_key)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING,
				   "KEK key packet lacks KEK_ALGORITHM_KEY");
	k->have_keys = true;
	return 0;
}

static int sid_values(struct gdoi_policy *p, const struct gdoi_kd_packet *pk, char *why, size_t wl)
{
	for (size_t i = 0; i < pk->attrs.n; i++) {
		const struct gdoi_attr *a = &pk->attrs.v[i];
		uint32_t v;
		if (a->type == GDOI_KD_SID_NUMBER_OF_BITS && a->tv) {
			if (a->basic == 0 || a->basic > 32)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "NUMBER_OF_SID_BITS %u",
						   a->basic);
			p->sid_bits = (uint8_t)a->basic;
		} else if (a->type == GDOI_KD_SID_VALUE && !a->tv && gdoi_attr_u32(a, &v)) {
			if (p->nsids == GDOI_MAX_SIDS)
				return gdoi_refuse(why, wl, GDOI_ERR_TOO_BIG, "more than %d SIDs",
						   GDOI_MAX_SIDS);
			for (size_t j = 0; j < p->nsids; j++)
				if (p->sids[j] == v)
					return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
							   "SID %u given twice", v);
			p->sids[p->nsids++] = v;
		} else {
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "SID attribute %u not supported", a->type);
		}
	}
	if (!p->sid_bits)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING,
				   "SID packet without NUMBER_OF_SID_BITS");
	return 0;
}

/* The SRTP_SENDERS packet: NUMBER (TV) and, when it is not 0, SSRCS (TLV) holding
 * exactly that many SSRCs in ascending order (so no SSRC twice). */
static int sender_values(struct gdoi_policy *p, const struct gdoi_kd_packet *pk, char *why,
			 size_t wl)
{
	const struct gdoi_attr *num = NULL, *list = NULL;
	for (size_t i = 0; i < pk->attrs.n; i++) {
		const struct gdoi_attr *a = &pk->attrs.v[i];
		const struct gdoi_attr **slot = a->type == GDOI_KD_SENDERS_NUMBER && a->tv ? &num
					      : a->type == GDOI_KD_SENDERS_SSRCS && !a->tv ? &list
											   : NULL;
		if (!slot)
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					   "SRTP_SENDERS attribute %u not supported", a->type);
		if (*slot)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "SRTP_SENDERS attribute %u twice", a->type);
		*slot = a;
	}
	if (!num)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING,
				   "SRTP_SENDERS without NUMBER_OF_SENDERS");
	size_t n = num->basic;
	if (n > GDOI_MAX_SENDERS)
		return gdoi_refuse(why, wl, GDOI_ERR_TOO_BIG, "%zu senders (at most %d)", n,
				   GDOI_MAX_SENDERS);
	if ((n == 0) != (list == NULL) || (list && list->value.len != 4 * n))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
				   "SRTP_SENDERS: %zu senders announced, %zu octets given", n,
				   list ? list->value.len : 0);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = list->value.ptr + 4 * i;
		uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (i && v <= p->senders[i - 1])
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					   "SRTP_SENDERS not in ascending order");
		p->senders[i] = v;
	}
	p->nsenders = n;
	p->has_senders = true;
	return 0;
}

static bool names_kek(const struct gdoi_policy *p, const struct gdoi_kd_packet *k,
		      const uint8_t *spi)
{
	return p->has_kek && k->spi.len == GDOI_KEK_SPI_LEN &&
	       memcmp(k->spi.ptr, spi, GDOI_KEK_SPI_LEN) == 0;
}

static int apply_kd(struct gdoi_policy *p, const struct gdoi_kd *kd, const uint8_t *hdr_spi,
		    bool *renamed, char *why, size_t wl)
{
	int rc = 0;
	bool seen_sid = false, seen_senders = false;
	for (size_t i = 0; i < kd->n && !rc; i++) {
		const struct gdoi_kd_packet *k = &kd->pkts[i];
		struct gdoi_tek *t;
		switch (k->type) {
		case GDOI_KD_TEK:
			t = tek_by_spi(p, k->spi);
			rc = t ? tek_keys(t, k, why, wl)
			       : gdoi_refuse(why, wl, GDOI_ERR_NOT_FOUND,
					     "key packet for an unknown TEK SPI");
			break;
		case GDOI_KD_KEK:
			if (names_kek(p, k, p->kek.spi)) {
				rc = kek_keys(&p->kek, k, why, wl);
			} else if (hdr_spi && names_kek(p, k, hdr_spi)) {
				/* the reference's KEK rotation (policy.h) */
				rc = kek_keys(&p->kek, k, why, wl);
				*renamed = rc == 0;
			} else {
				rc = gdoi_refuse(why, wl, GDOI_ERR_NOT_FOUND,
						 "key packet for an unknown KEK");
			}
			break;
		case GDOI_KD_SID:
			rc = seen_sid ? gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two SID packets")
				      : sid_values(p, k, why, wl);
			seen_sid = true;
			break;
		case GDOI_KD_SRTP_SENDERS:
			rc = seen_senders ? gdoi_refuse(why, wl, GDOI_ERR_VALUE,
							"two SRTP_SENDERS packets")
					  : sender_values(p, k, why, wl);
			seen_senders = true;
			break;
		default:
			/* Private use (RFC 6407 §5.6): another implementation's extension,
			 * which names no key we need (those are checked below). */
			if (k->type >= GDOI_KD_PRIVATE_MIN)
				break;
			rc = gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
					 "key packet type %u (%s) not supported", k->type,
					 gdoi_kd_type_name(k->type));
		}
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < p->nteks; i++)
		if (!p->teks[i].have_keys)
			return gdoi_refuse(why, wl, GDOI_ERR_MISSING,
					   "KD lacks the keys of TEK %08x", p->teks[i].spi);
	if (p->has_kek && !p->kek.have_keys)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "KD lacks the KEK");
	return 0;
}

int gdoi_policy_apply_kd(struct gdoi_policy *p, const struct gdoi_kd *kd, char *why, size_t wl)
{
	return apply_kd(p, kd, NULL, NULL, why, wl);
}

int gdoi_policy_apply_push_kd(struct gdoi_policy *p, const struct gdoi_kd *kd,
			      const uint8_t *hdr_spi, bool *renamed, char *why, size_t wl)
{
	*renamed = false;
	return apply_kd(p, kd, hdr_spi, renamed, why, wl);
}

int gdoi_policy_to_kd(const struct gdoi_policy *p, bool with_kek, const uint32_t *sids,
		      size_t nsids, struct gdoi_arena *a, struct gdoi_payload *out)
{
	size_t n = p->nteks + 3;
	struct gdoi_kd_packet *pk = gdoi_arena_calloc(a, n, sizeof(*pk));
	size_t np = 0;
	if (!pk)
		return GDOI_ERR_NOMEM;
	memset(out, 0, sizeof(*out));
	out->type = GDOI_PL_KD;
	if (p->has_kek && with_kek) {
		const struct gdoi_kek_policy *k = &p->kek;
		enum gdoi_cipher c = gdoi_kek_cipher(k);
		size_t blk = gdoi_cipher_block_len(c), klen = gdoi_cipher_key_len(c);
		struct gdoi_attr *v = gdoi_arena_calloc(a, 2, sizeof(*v));
		uint8_t *ivkey = gdoi_arena_alloc(a, blk + klen);
		if (!v || !ivkey)
			return GDOI_ERR_NOMEM;
		if (!k->have_keys || c == GDOI_CIPHER_NONE)
			return GDOI_ERR_INVALID_ARG;
		memcpy(ivkey, k->iv, blk);
		memcpy(ivkey + blk, k->key, klen);
		size_t nv = 0;
		v[nv++] = gdoi_attr_var(GDOI_KD_KEK_ALGORITHM_KEY, ivkey, blk + klen);
		if (k->rekey_pub_len)
			v[nv++] = gdoi_attr_var(GDOI_KD_SIG_ALGORITHM_KEY, k->rekey_pub, k->rekey_pub_len);
		pk[np++] = (struct gdoi_kd_packet){ .type = GDOI_KD_KEK,
			.spi = GDOI_BYTES(k->spi, GDOI_KEK_SPI_LEN), .attrs = { v, nv } };
	}
	for (size_t i = 0; i < p->nteks; i++) {
		const struct gdoi_tek *t = &p->teks[i];
		struct gdoi_attr *v = gdoi_arena_calloc(a, 2, sizeof(*v));
		uint8_t *spi = gdoi_arena_alloc(a, 4);
		if (!v || !spi)
			return GDOI_ERR_NOMEM;
		if (!t->have_keys)
			return GDOI_ERR_INVALID_ARG;
		/* the reference implementation's SRTP TEK has a 2-octet SPI */
		size_t spi_len = t->kind == GDOI_TEK_REF_SRTP ? 2 : 4;
		if (spi_len == 2 && t->spi > 0xffff)
			return GDOI_ERR_INVALID_ARG;
		gdoi_put_u32(spi, t->spi);
		size_t nv = 0;
		if (t->key_len)
			v[nv++] = gdoi_attr_var(GDOI_KD_TEK_ALGORITHM_KEY, t->key, t->key_len);
		if (t->integrity_len)
			v[nv++] = gdoi_attr_var(GDOI_KD_TEK_INTEGRITY_KEY, t->integrity, t->integrity_len);
		pk[np++] = (struct gdoi_kd_packet){ .type = GDOI_KD_TEK, .spi = GDOI_BYTES(spi + 4 - spi_len, spi_len),
						    .attrs = { v, nv } };
	}
	if (nsids) {
		struct gdoi_attr *v = gdoi_arena_calloc(a, nsids + 1, sizeof(*v));
		uint8_t *vals = gdoi_arena_alloc(a, 4 * nsids);
		if (!v || !vals)
			return GDOI_ERR_NOMEM;
		v[0] = gdoi_attr_basic(GDOI_KD_SID_NUMBER_OF_BITS, 32);
		for (size_t i = 0; i < nsids; i++) {
			gdoi_put_u32(vals + 4 * i, sids[i]);
			v[i + 1] = gdoi_attr_var(GDOI_KD_SID_VALUE, vals + 4 * i, 4);
		}
		pk[np++] = (struct gdoi_kd_packet){ .type = GDOI_KD_SID, .attrs = { v, nsids + 1 } };
	}
	if (p->has_senders) {
		if (p->nsenders > GDOI_MAX_SENDERS)
			return GDOI_ERR_INVALID_ARG;
		struct gdoi_attr *v = gdoi_arena_calloc(a, 2, sizeof(*v));
		uint8_t *vals = gdoi_arena_alloc(a, 4 * p->nsenders + 1);
		if (!v || !vals)
			return GDOI_ERR_NOMEM;
		v[0] = gdoi_attr_basic(GDOI_KD_SENDERS_NUMBER, (uint16_t)p->nsenders);
		for (size_t i = 0; i < p->nsenders; i++)
			gdoi_put_u32(vals + 4 * i, p->senders[i]);
		if (p->nsenders)
			v[1] = gdoi_attr_var(GDOI_KD_SENDERS_SSRCS, vals, 4 * p->nsenders);
		pk[np++] = (struct gdoi_kd_packet){ .type = GDOI_KD_SRTP_SENDERS,
						    .attrs = { v, p->nsenders ? 2 : 1 } };
	}
	if (np == 0)
		return GDOI_ERR_INVALID_ARG;
	out->u.kd = (struct gdoi_kd){ pk, np };
	return 0;
}
