/*
 * ike2_sk.c - SK and SKF payload protection (RFC 7296 §3.14, RFC 5282,
 * RFC 7383 §2.5). See ike2_sk.h.
 */
#include "ike2_sk.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "err.h"
#include "ike2_numbers.h"

#define GCM_TAG 16

static const EVP_CIPHER *gcm_cipher(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_gcm() : key_len == 24 ? EVP_aes_192_gcm() :
	       key_len == 32 ? EVP_aes_256_gcm() : NULL;
}

static int gcm(bool enc, gdoi_bytes key, const uint8_t nonce[12], gdoi_bytes aad,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	const EVP_CIPHER *c = gcm_cipher(key.len);
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	if (c == NULL || len > INT32_MAX || aad.len > INT32_MAX)
		return GDOI_ERR_INVALID_ARG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return GDOI_ERR_NOMEM;
	ok = EVP_CipherInit_ex(ctx, c, NULL, key.ptr, nonce, enc) == 1 &&
	     (aad.len == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad.ptr, (int)aad.len) == 1) &&
	     (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1;
	if (ok && EVP_CipherFinal_ex(ctx, out + n, &n) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		if (!enc) {
			gdoi_wipe(out, len);
			return GDOI_ERR_AUTH;
		}
		return GDOI_ERR_CRYPTO;
	}
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? GDOI_OK : GDOI_ERR_CRYPTO;
}

int gdoi_aes_gcm_seal(gdoi_bytes key, const uint8_t nonce[12], gdoi_bytes aad,
		      const uint8_t *pt, size_t len, uint8_t *out)
{
	return gcm(true, key, nonce, aad, pt, len, out, out + len);
}

int gdoi_aes_gcm_open(gdoi_bytes key, const uint8_t nonce[12], gdoi_bytes aad,
		      const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *out)
{
	uint8_t t[GCM_TAG];
	memcpy(t, tag, GCM_TAG);
	return gcm(false, key, nonce, aad, ct, len, out, t);
}

static enum gdoi_cipher cbc_cipher(size_t key_len)
{
	return key_len == 16 ? GDOI_CIPHER_AES_128_CBC : key_len == 24 ? GDOI_CIPHER_AES_192_CBC :
	       key_len == 32 ? GDOI_CIPHER_AES_256_CBC : GDOI_CIPHER_NONE;
}

static bool is_gcm(const struct gdoi_ike2_keys *k) { return k->encr == GDOI_IKE2_ENCR_AES_GCM_16; }

/* RFC 5282 §4: nonce = salt (the last 4 octets of SK_e) | IV (8). */
static void gcm_nonce(const struct gdoi_ike2_keys *k, const uint8_t *ek, const uint8_t *iv,
		      uint8_t nonce[12])
{
	memcpy(nonce, ek + k->enc_key_len, 4);
	memcpy(nonce + 4, iv, 8);
}

/* Plaintext length after padding: GCM needs none (Pad Length 0); CBC pads
 * inner | pad | padlen to the block. */
static size_t padded_len(const struct gdoi_ike2_keys *k, size_t n)
{
	return is_gcm(k) ? n + 1 : (n + 1 + 15) / 16 * 16;
}

size_t gdoi_ike2_sk_overhead(const struct gdoi_ike2_keys *k, size_t n)
{
	return GDOI_IKE2_GENERIC_HDR_LEN + k->iv_len + (padded_len(k, n) - n) + k->icv_len;
}

/*
 * Builds hdr | SK-or-SKF header [| frag fields] | IV | E(inner | pad | padlen) | ICV.
 */
static int seal_one(const struct gdoi_ike2_keys *k, bool from_initiator,
		    const struct gdoi_ike2_hdr *h, bool skf, uint16_t num, uint16_t total,
		    uint8_t first, const uint8_t *inner, size_t n, uint8_t **out, size_t *out_len)
{
	const uint8_t *ek = from_initiator ? k->sk_ei : k->sk_er;
	const uint8_t *ak = from_initiator ? k->sk_ai : k->sk_ar;
	size_t plen = padded_len(k, n), hlen = GDOI_IKE2_HDR_LEN + 4 + (skf ? 4 : 0);
	size_t total_len = hlen + k->iv_len + plen + k->icv_len;
	struct gdoi_ike2_hdr hh = *h;
	struct gdoi_writer w;
	uint8_t *pt = NULL, *msg, *iv;
	int rc = GDOI_ERR_NOMEM;

	*out = NULL;
	if (total_len > UINT16_MAX + (size_t)GDOI_IKE2_HDR_LEN)
		return GDOI_ERR_TOO_BIG;
	hh.next = skf ? GDOI_IKE2_PL_SKF : GDOI_IKE2_PL_SK;
	hh.length = (uint32_t)total_len;
	gdoi_writer_init(&w);
	gdoi_ike2_hdr_write(&w, &hh);
	gdoi_write_u8(&w, first);
	gdoi_write_u8(&w, 0);
	gdoi_write_u16(&w, (uint16_t)(total_len - GDOI_IKE2_HDR_LEN));
	if (skf) {
		gdoi_write_u16(&w, num);
		gdoi_write_u16(&w, total);
	}
	gdoi_write_zeros(&w, total_len - hlen);
	if (w.failed || (pt = malloc(plen)) == NULL)
		goto out;
	msg = w.buf;
	iv = msg + hlen;
	if (n)
		memcpy(pt, inner, n);
	memset(pt + n, 0, plen - n);
	pt[plen - 1] = (uint8_t)(plen - n - 1);
	if ((rc = gdoi_random(iv, k->iv_len)) != GDOI_OK)
		goto out;
	if (is_gcm(k)) {
		uint8_t nonce[12];
		gcm_nonce(k, ek, iv, nonce);
		rc = gdoi_aes_gcm_seal(GDOI_BYTES(ek, k->enc_key_len), nonce, GDOI_BYTES(msg, hlen),
				       pt, plen, iv + k->iv_len);
	} else {
		uint8_t mac[GDOI_MD_MAX_LEN];
		gdoi_bytes part = GDOI_BYTES(msg, total_len - k->icv_len);
		rc = gdoi_cbc_encrypt(cbc_cipher(k->enc_key_len), GDOI_BYTES(ek, k->enc_key_len),
				      GDOI_BYTES(iv, 16), pt, plen, iv + 16);
		if (rc == GDOI_OK &&
		    (rc = gdoi_prf(k->integ_md, GDOI_BYTES(ak, k->integ_key_len), &part, 1, mac)) == GDOI_OK)
			memcpy(msg + total_len - k->icv_len, mac, k->icv_len);
		gdoi_wipe(mac, sizeof(mac));
	}
	if (rc == GDOI_OK) {
		*out = gdoi_writer_take(&w, out_len);
		rc = *out ? GDOI_OK : GDOI_ERR_NOMEM;
	}
out:
	gdoi_wipe_free(pt, plen);
	gdoi_writer_free(&w);
	return rc;
}

int gdoi_ike2_sk_seal(const struct gdoi_ike2_keys *k, bool from_initiator,
		      const struct gdoi_ike2_hdr *h, uint8_t first, gdoi_bytes inner,
		      uint8_t **out, size_t *out_len)
{
	return seal_one(k, from_initiator, h, false, 0, 0, first, inner.ptr, inner.len, out, out_len);
}

int gdoi_ike2_sk_seal_frags(const struct gdoi_ike2_keys *k, bool from_initiator,
			    const struct gdoi_ike2_hdr *h, uint8_t first, gdoi_bytes inner,
			    size_t max_dgram, uint8_t **out, size_t *out_len, size_t cap, size_t *n)
{
	size_t whole = GDOI_IKE2_HDR_LEN + gdoi_ike2_sk_overhead(k, inner.len) + inner.len;
	size_t fixed = GDOI_IKE2_HDR_LEN + 4 + 4 + k->iv_len + k->icv_len + 16, chunk, nfrag;
	int rc;

	if (*n >= cap)
		return GDOI_ERR_TOO_BIG;
	if (max_dgram == 0 || whole <= max_dgram) {
		rc = seal_one(k, from_initiator, h, false, 0, 0, first, inner.ptr, inner.len,
			      &out[*n], &out_len[*n]);
		if (rc == GDOI_OK)
			(*n)++;
		return rc;
	}
	if (max_dgram <= fixed + 16)
		return GDOI_ERR_INVALID_ARG;
	chunk = (max_dgram - fixed) / 16 * 16;
	nfrag = (inner.len + chunk - 1) / chunk;
	if (nfrag > UINT16_MAX || *n + nfrag > cap)
		return GDOI_ERR_TOO_BIG;
	for (size_t i = 0; i < nfrag; i++) {
		size_t off = i * chunk, len = inner.len - off < chunk ? inner.len - off : chunk;
		rc = seal_one(k, from_initiator, h, true, (uint16_t)(i + 1), (uint16_t)nfrag,
			      i == 0 ? first : GDOI_IKE2_PL_NONE, inner.ptr + off, len,
			      &out[*n], &out_len[*n]);
		if (rc != GDOI_OK)
			return rc;
		(*n)++;
	}
	return GDOI_OK;
}

int gdoi_ike2_sk_open(const struct gdoi_ike2_keys *k, bool from_initiator, const uint8_t *msg,
		      size_t len, size_t sk_off, bool skf, uint8_t **pt, size_t *pt_len)
{
	const uint8_t *ek = from_initiator ? k->sk_ei : k->sk_er;
	const uint8_t *ak = from_initiator ? k->sk_ai : k->sk_ar;
	size_t hlen = sk_off + 4 + (skf ? 4 : 0), ctlen;
	const uint8_t *iv, *ct, *icv;
	uint8_t *out;
	int rc;

	*pt = NULL;
	*pt_len = 0;
	if (sk_off < GDOI_IKE2_HDR_LEN || len < hlen || len - hlen < k->iv_len + k->icv_len + 1)
		return GDOI_ERR_TRUNCATED;
	iv = msg + hlen;
	ct = iv + k->iv_len;
	ctlen = len - hlen - k->iv_len - k->icv_len;
	icv = ct + ctlen;
	if (!is_gcm(k) && ctlen % 16 != 0)
		return GDOI_ERR_LENGTH;
	if ((out = malloc(ctlen)) == NULL)
		return GDOI_ERR_NOMEM;
	if (is_gcm(k)) {
		uint8_t nonce[12];
		gcm_nonce(k, ek, iv, nonce);
		rc = gdoi_aes_gcm_open(GDOI_BYTES(ek, k->enc_key_len), nonce, GDOI_BYTES(msg, hlen),
				       ct, ctlen, icv, out);
	} else {
		uint8_t mac[GDOI_MD_MAX_LEN];
		gdoi_bytes part = GDOI_BYTES(msg, len - k->icv_len);
		rc = gdoi_prf(k->integ_md, GDOI_BYTES(ak, k->integ_key_len), &part, 1, mac);
		if (rc == GDOI_OK && !gdoi_ct_equal(mac, icv, k->icv_len))
			rc = GDOI_ERR_AUTH;
		if (rc == GDOI_OK)
			rc = gdoi_cbc_decrypt(cbc_cipher(k->enc_key_len), GDOI_BYTES(ek, k->enc_key_len),
					      GDOI_BYTES(iv, 16), ct, ctlen, out);
		gdoi_wipe(mac, sizeof(mac));
	}
	if (rc == GDOI_OK && (size_t)out[ctlen - 1] + 1 > ctlen)
		rc = GDOI_ERR_LENGTH;	/* Pad Length past the plaintext */
	if (rc != GDOI_OK) {
		gdoi_wipe_free(out, ctlen);
		return rc;
	}
	*pt = out;
	*pt_len = ctlen - 1 - out[ctlen - 1];
	return GDOI_OK;
}
