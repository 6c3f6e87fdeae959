/*
 * policy.c - the group policy model: key lengths per algorithm, key
 * generation, lookup and wiping. Conversions to and from GDOI payloads are
 * in policy_sa.c and policy_kd.c.
 */
#include "policy.h"

#include <string.h>

#include "err.h"
#include "numbers.h"
#include "srtp_profiles.h"

void gdoi_policy_clear(struct gdoi_policy *p)
{
	gdoi_wipe(p, sizeof(*p));
}

bool gdoi_srtp_key_lengths(uint16_t profile, size_t *key, size_t *salt)
{
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile(profile);

	if (!sp)
		return false;
	*key = sp->key_len, *salt = sp->salt_len;
	return true;
}

/* IPsec registry numbers (RFC 2407 §4.4.3/§4.4.4, RFC 4106, RFC 4868). */
#define ESP_3DES 3
#define ESP_NULL 11
#define ESP_AES_CBC 12
#define ESP_AES_GCM_16 20
#define AH_MD5 2
#define AH_SHA 3
#define AH_SHA2_256 5
#define AH_SHA2_384 6
#define AH_SHA2_512 7

static size_t auth_key_len(uint16_t alg)
{
	switch (alg) {
	case 1: return 16;	/* HMAC-MD5 */
	case 2: return 20;	/* HMAC-SHA1 */
	case 5: return 32;	/* HMAC-SHA2-256 */
	case 6: return 48;	/* HMAC-SHA2-384 */
	case 7: return 64;	/* HMAC-SHA2-512 */
	}
	return 0;
}

int gdoi_ipsec_key_lengths(enum gdoi_tek_kind kind, const struct gdoi_tek_ipsec_policy *t,
			   size_t *key, size_t *integrity)
{
	*key = *integrity = 0;
	if (kind == GDOI_TEK_AH) {
		static const uint8_t ah_auth[] = { [AH_MD5] = 1, [AH_SHA] = 2, [AH_SHA2_256] = 5,
						   [AH_SHA2_384] = 6, [AH_SHA2_512] = 7 };
		if (t->transform_id >= sizeof(ah_auth) || !ah_auth[t->transform_id])
			return GDOI_ERR_UNSUPPORTED;
		*integrity = auth_key_len(ah_auth[t->transform_id]);
		return 0;
	}
	switch (t->transform_id) {
	case ESP_3DES:
		if (t->key_bits && t->key_bits != 192)
			return GDOI_ERR_UNSUPPORTED;
		*key = 24;
		break;
	case ESP_NULL:
		break;
	case ESP_AES_CBC:
	case ESP_AES_GCM_16:
		if (t->key_bits != 128 && t->key_bits != 192 && t->key_bits != 256)
			return GDOI_ERR_UNSUPPORTED;
		*key = t->key_bits / 8 + (t->transform_id == ESP_AES_GCM_16 ? 4 : 0);
		break;
	default:
		return GDOI_ERR_UNSUPPORTED;
	}
	if (t->auth_alg) {
		if (t->transform_id == ESP_AES_GCM_16 || !auth_key_len(t->auth_alg))
			return GDOI_ERR_UNSUPPORTED;
		*integrity = auth_key_len(t->auth_alg);
	} else if (t->transform_id == ESP_NULL) {
		return GDOI_ERR_UNSUPPORTED;	/* neither confidentiality nor integrity */
	}
	return 0;
}

/* Key and integrity lengths of any TEK. */
int gdoi_tek_key_lengths(const struct gdoi_tek *t, size_t *key, size_t *integrity)
{
	size_t k, s;
	switch (t->kind) {
	case GDOI_TEK_SRTP:
	case GDOI_TEK_REF_SRTP:
		if (!gdoi_srtp_key_lengths(t->u.srtp.profile, &k, &s))
			return GDOI_ERR_UNSUPPORTED;
		*key = k + s;
		*integrity = 0;
		return 0;
	case GDOI_TEK_ESP:
	case GDOI_TEK_AH:
		return gdoi_ipsec_key_lengths(t->kind, &t->u.ipsec, key, integrity);
	}
	return GDOI_ERR_UNSUPPORTED;
}

enum gdoi_cipher gdoi_kek_cipher(const struct gdoi_kek_policy *k)
{
	return gdoi_cipher_from_kek(k->alg, k->key_bits);
}

int gdoi_policy_generate_keys(struct gdoi_policy *p)
{
	for (size_t i = 0; i < p->nteks; i++) {
		struct gdoi_tek *t = &p->teks[i];
		int rc = gdoi_tek_key_lengths(t, &t->key_len, &t->integrity_len);
		if (rc)
			return rc;
		if (t->key_len > GDOI_MAX_TEK_KEY || t->integrity_len > GDOI_MAX_TEK_KEY)
			return GDOI_ERR_TOO_BIG;
		if ((rc = gdoi_random(t->key, t->key_len)) ||
		    (rc = gdoi_random(t->integrity, t->integrity_len)))
			return rc;
		t->have_keys = true;
	}
	if (p->has_kek) {
		enum gdoi_cipher c = gdoi_kek_cipher(&p->kek);
		if (c == GDOI_CIPHER_NONE)
			return GDOI_ERR_UNSUPPORTED;
		int rc = gdoi_random(p->kek.iv, gdoi_cipher_block_len(c));
		if (!rc)
			rc = gdoi_random(p->kek.key, gdoi_cipher_key_len(c));
		if (rc)
			return rc;
		p->kek.have_keys = true;
	}
	return 0;
}

const struct gdoi_tek *gdoi_policy_find_tek(const struct gdoi_policy *p, uint32_t spi)
{
	for (size_t i = 0; i < p->nteks; i++)
		if (p->teks[i].spi == spi)
			return &p->teks[i];
	return NULL;
}
