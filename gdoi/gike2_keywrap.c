/*
 * gike2_keywrap.c - the key wrap of KD contents (RFC 9838 §3.1~, §4.5.1~):
 * the Key Wrap Algorithm transform's AES key wrap with padding (RFC 5649,
 * KW_5649_128/192/256) over OpenSSL's AES-*-WRAP-PAD, its RFC 3394 primitive,
 * and the default KWK of an IKE SA,
 * GSK_w = prf+(SK_d, "Key Wrap for G-IKEv2").
 */
#include "gike2.h"
#include "ike2_keys.h"

#include <string.h>

#include <openssl/evp.h>

size_t gike2_kwa_key_len(uint16_t kwa)
{
	switch (kwa) {
	case GIKE2_KWA_5649_128: return 16;
	case GIKE2_KWA_5649_192: return 24;
	case GIKE2_KWA_5649_256: return 32;
	default: return 0;	/* KW_ARX: not implemented */
	}
}

size_t gike2_kwp_wrapped_len(size_t in_len)
{
	return 8 + (in_len + 7) / 8 * 8;
}

static const EVP_CIPHER *wrap_cipher(size_t key_len, bool pad)
{
	switch (key_len) {
	case 16: return pad ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
	case 24: return pad ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
	case 32: return pad ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
	default: return NULL;
	}
}

static int run(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len,
	       bool pad, bool enc)
{
	const EVP_CIPHER *ci = wrap_cipher(kwk.len, pad);
	EVP_CIPHER_CTX *ctx;
	int n = 0, m = 0, rc = enc ? GDOI_ERR_CRYPTO : GDOI_ERR_AUTH;

	if (ci == NULL || kwk.ptr == NULL || in.ptr == NULL || out == NULL || out_len == NULL)
		return GDOI_ERR_INVALID_ARG;
	if (in.len > 0x7fffff00u)
		return GDOI_ERR_TOO_BIG;
	if (enc) {
		if (in.len == 0 || (!pad && (in.len < 16 || in.len % 8)))
			return GDOI_ERR_LENGTH;
		if (cap < (pad ? gike2_kwp_wrapped_len(in.len) : in.len + 8))
			return GDOI_ERR_TOO_BIG;
	} else {
		if (in.len < 16 || in.len % 8)
			return GDOI_ERR_AUTH;
		if (cap < in.len)	/* OpenSSL writes up to in_len octets before trimming */
			return GDOI_ERR_TOO_BIG;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return GDOI_ERR_NOMEM;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(ctx, ci, NULL, kwk.ptr, NULL, enc ? 1 : 0) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &n, in.ptr, (int)in.len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &m) != 1) {
		OPENSSL_cleanse(out, cap < in.len + 8 ? cap : in.len + 8);
		goto out;
	}
	*out_len = (size_t)n + (size_t)m;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int gike2_kwp_wrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len)
{
	return run(kwk, in, out, cap, out_len, true, true);
}

int gike2_kwp_unwrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len)
{
	return run(kwk, in, out, cap, out_len, true, false);
}

int gike2_kw_wrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len)
{
	return run(kwk, in, out, cap, out_len, false, true);
}

int gike2_kw_unwrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len)
{
	return run(kwk, in, out, cap, out_len, false, false);
}

int gike2_gsk_w(enum gdoi_md md, gdoi_bytes sk_d, uint8_t *out, size_t kwk_len)
{
	static const char label[] = GIKE2_GSK_W_LABEL;

	if (kwk_len != 16 && kwk_len != 24 && kwk_len != 32)
		return GDOI_ERR_INVALID_ARG;
	gdoi_bytes seed = GDOI_BYTES(label, sizeof(label) - 1);
	return gdoi_ike2_prf_plus(md, sk_d, &seed, 1, out, kwk_len);
}
