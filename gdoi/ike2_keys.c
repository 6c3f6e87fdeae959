/*
 * ike2_keys.c - prf, prf+, SKEYSEED and SK_* (RFC 7296 §2.13-2.14). See ike2_keys.h.
 */
#include "ike2_keys.h"

#include <string.h>

#include "dh.h"
#include "err.h"
#include "ike2_numbers.h"
#include "secret.h"

enum gdoi_md gdoi_ike2_prf_md(uint16_t prf)
{
	switch (prf) {
	case GDOI_IKE2_PRF_HMAC_SHA1: return GDOI_MD_SHA1;
	case GDOI_IKE2_PRF_HMAC_SHA2_256: return GDOI_MD_SHA256;
	case GDOI_IKE2_PRF_HMAC_SHA2_384: return GDOI_MD_SHA384;
	case GDOI_IKE2_PRF_HMAC_SHA2_512: return GDOI_MD_SHA512;
	default: return GDOI_MD_NONE;
	}
}

/* INTEG transform -> HMAC hash and truncated ICV length (RFC 4868 §2.3). */
static enum gdoi_md integ_md(uint16_t integ, size_t *icv)
{
	switch (integ) {
	case GDOI_IKE2_AUTH_HMAC_SHA2_256_128: *icv = 16; return GDOI_MD_SHA256;
	case GDOI_IKE2_AUTH_HMAC_SHA2_384_192: *icv = 24; return GDOI_MD_SHA384;
	case GDOI_IKE2_AUTH_HMAC_SHA2_512_256: *icv = 32; return GDOI_MD_SHA512;
	default: *icv = 0; return GDOI_MD_NONE;
	}
}

bool gdoi_ike2_suite_supported(const struct gdoi_ike2_suite *s)
{
	size_t icv;
	bool aead = s->encr == GDOI_IKE2_ENCR_AES_GCM_16;

	if (s->encr != GDOI_IKE2_ENCR_AES_CBC && !aead)
		return false;
	if (s->key_bits != 128 && s->key_bits != 192 && s->key_bits != 256)
		return false;
	if (s->prf == GDOI_IKE2_PRF_HMAC_SHA1 || gdoi_ike2_prf_md(s->prf) == GDOI_MD_NONE)
		return false;	/* SHA-1 is for the known-answer tests only */
	if (aead ? s->integ != 0 : integ_md(s->integ, &icv) == GDOI_MD_NONE)
		return false;
	return s->group == GDOI_IKE2_DH_MODP_2048 || s->group == GDOI_IKE2_DH_ECP_256 ||
	       s->group == GDOI_IKE2_DH_ECP_384 || s->group == GDOI_IKE2_DH_CURVE25519;
}

int gdoi_ike2_prf_plus(enum gdoi_md md, gdoi_bytes key, const gdoi_bytes *seed, size_t nseed,
		       uint8_t *out, size_t out_len)
{
	size_t hl = gdoi_md_len(md), done = 0;
	uint8_t t[GDOI_MD_MAX_LEN], ctr;
	gdoi_bytes parts[12];
	int rc = GDOI_OK;

	if (hl == 0 || nseed > 10 || (out_len + hl - 1) / hl > 255)
		return GDOI_ERR_INVALID_ARG;
	for (unsigned i = 1; done < out_len; i++) {
		size_t np = 0, n;

		ctr = (uint8_t)i;
		if (i > 1)
			parts[np++] = GDOI_BYTES(t, hl);
		for (size_t j = 0; j < nseed; j++)
			parts[np++] = seed[j];
		parts[np++] = GDOI_BYTES(&ctr, 1);
		if ((rc = gdoi_prf(md, key, parts, np, t)) != GDOI_OK)
			break;
		n = out_len - done < hl ? out_len - done : hl;
		memcpy(out + done, t, n);
		done += n;
	}
	gdoi_wipe(t, sizeof(t));
	if (rc != GDOI_OK)
		gdoi_wipe(out, out_len);
	return rc;
}

int gdoi_ike2_skeyseed(enum gdoi_md md, gdoi_bytes ni, gdoi_bytes nr, gdoi_bytes gir,
		       uint8_t *out)
{
	uint8_t key[2 * GDOI_IKE2_NONCE_MAX];
	int rc;

	if (ni.len > GDOI_IKE2_NONCE_MAX || nr.len > GDOI_IKE2_NONCE_MAX)
		return GDOI_ERR_INVALID_ARG;
	memcpy(key, ni.ptr, ni.len);
	memcpy(key + ni.len, nr.ptr, nr.len);
	rc = gdoi_prf(md, GDOI_BYTES(key, ni.len + nr.len), &gir, 1, out);
	gdoi_wipe(key, sizeof(key));
	return rc;
}

struct gdoi_ike2_keys *gdoi_ike2_keys_new(void)
{
	return gdoi_secret_calloc(sizeof(struct gdoi_ike2_keys));
}

void gdoi_ike2_keys_free(struct gdoi_ike2_keys *k)
{
	gdoi_secret_free(k, sizeof(*k));
}

int gdoi_ike2_keys_derive(struct gdoi_ike2_keys *k, const struct gdoi_ike2_suite *s,
			  gdoi_bytes ni, gdoi_bytes nr, gdoi_bytes gir,
			  const uint8_t spi_i[8], const uint8_t spi_r[8])
{
	uint8_t skeyseed[GDOI_MD_MAX_LEN];
	uint8_t km[3 * GDOI_IKE2_MAX_KEY + 2 * GDOI_IKE2_MAX_KEY + 2 * GDOI_IKE2_MAX_ENC];
	gdoi_bytes seed[4] = { ni, nr, GDOI_BYTES(spi_i, 8), GDOI_BYTES(spi_r, 8) };
	size_t off = 0, total, enc;
	int rc;

	memset(k, 0, sizeof(*k));
	k->encr = s->encr;
	k->integ = s->integ;
	k->prf = s->prf;
	k->prf_md = gdoi_ike2_prf_md(s->prf);
	k->prf_len = gdoi_md_len(k->prf_md);
	if (k->prf_len == 0 || (s->key_bits != 128 && s->key_bits != 192 && s->key_bits != 256))
		return GDOI_ERR_UNSUPPORTED;
	k->enc_key_len = s->key_bits / 8;
	if (s->encr == GDOI_IKE2_ENCR_AES_GCM_16) {
		if (s->integ != 0)
			return GDOI_ERR_UNSUPPORTED;
		k->salt_len = 4;
		k->iv_len = 8;
		k->icv_len = 16;
	} else if (s->encr == GDOI_IKE2_ENCR_AES_CBC) {
		k->integ_md = integ_md(s->integ, &k->icv_len);
		if (k->integ_md == GDOI_MD_NONE)
			return GDOI_ERR_UNSUPPORTED;
		k->integ_key_len = gdoi_md_len(k->integ_md);	/* RFC 4868 §2.1.2 */
		k->iv_len = 16;
	} else {
		return GDOI_ERR_UNSUPPORTED;
	}
	enc = k->enc_key_len + k->salt_len;
	total = 3 * k->prf_len + 2 * k->integ_key_len + 2 * enc;
	if ((rc = gdoi_ike2_skeyseed(k->prf_md, ni, nr, gir, skeyseed)) != GDOI_OK ||
	    (rc = gdoi_ike2_prf_plus(k->prf_md, GDOI_BYTES(skeyseed, k->prf_len), seed, 4, km,
				     total)) != GDOI_OK)
		goto out;
	memcpy(k->sk_d, km + off, k->prf_len); off += k->prf_len;
	memcpy(k->sk_ai, km + off, k->integ_key_len); off += k->integ_key_len;
	memcpy(k->sk_ar, km + off, k->integ_key_len); off += k->integ_key_len;
	memcpy(k->sk_ei, km + off, enc); off += enc;
	memcpy(k->sk_er, km + off, enc); off += enc;
	memcpy(k->sk_pi, km + off, k->prf_len); off += k->prf_len;
	memcpy(k->sk_pr, km + off, k->prf_len);
out:
	gdoi_wipe(skeyseed, sizeof(skeyseed));
	gdoi_wipe(km, sizeof(km));
	return rc;
}
