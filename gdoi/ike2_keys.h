/*
 * ike2_keys.h - the IKEv2 key schedule (RFC 7296 §2.13, §2.14): prf, prf+,
 * SKEYSEED and the seven SK_* keys, for the HMAC-SHA-2 PRFs (RFC 4868) and
 * HMAC-SHA-1 (known-answer tests against NIST's published vectors).
 *
 * struct gdoi_ike2_keys lives in gdoi_secret memory (gdoi_ike2_keys_new) and
 * is wiped when freed.
 */
#ifndef GDOI_IKE2_KEYS_H
#define GDOI_IKE2_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "ike2.h"

#define GDOI_IKE2_MAX_KEY 64	/* prf / integrity key (SHA-512) */
#define GDOI_IKE2_MAX_ENC 36	/* AES-256 key + 4-octet GCM salt */

struct gdoi_ike2_keys {
	uint16_t encr, integ, prf;
	enum gdoi_md prf_md;		/* HMAC hash of the PRF */
	enum gdoi_md integ_md;		/* HMAC hash of INTEG; NONE for GCM */
	size_t prf_len;			/* SK_d, SK_pi, SK_pr length = prf output */
	size_t integ_key_len, icv_len;	/* SK_ai/ar length; ICV (truncated MAC or GCM tag) */
	size_t enc_key_len;		/* AES key only */
	size_t salt_len;		/* 4 for GCM (RFC 5282 §7.1), else 0 */
	size_t iv_len;			/* 8 for GCM, 16 for CBC */
	uint8_t sk_d[GDOI_IKE2_MAX_KEY];
	uint8_t sk_ai[GDOI_IKE2_MAX_KEY], sk_ar[GDOI_IKE2_MAX_KEY];
	uint8_t sk_ei[GDOI_IKE2_MAX_ENC], sk_er[GDOI_IKE2_MAX_ENC];
	uint8_t sk_pi[GDOI_IKE2_MAX_KEY], sk_pr[GDOI_IKE2_MAX_KEY];
};

/* PRF transform ID -> HMAC hash (GDOI_MD_NONE if not one we implement). */
enum gdoi_md gdoi_ike2_prf_md(uint16_t prf);
/* Is this suite one we implement (cipher, key size, PRF, INTEG, group)? */
bool gdoi_ike2_suite_supported(const struct gdoi_ike2_suite *s);

/* prf+ (K, S) = T1 | T2 | ..., Ti = prf(K, Ti-1 | S | i), i <= 255 (§2.13):
 * out_len octets of it. S is the concatenation of seed[0..nseed). */
int gdoi_ike2_prf_plus(enum gdoi_md md, gdoi_bytes key, const gdoi_bytes *seed, size_t nseed,
		       uint8_t *out, size_t out_len);
/* SKEYSEED = prf(Ni | Nr, g^ir) (§2.14; the whole Ni | Nr is the HMAC key). */
int gdoi_ike2_skeyseed(enum gdoi_md md, gdoi_bytes ni, gdoi_bytes nr, gdoi_bytes gir,
		       uint8_t *out);

/* A zeroed gdoi_ike2_keys in secret memory; free with gdoi_ike2_keys_free. */
struct gdoi_ike2_keys *gdoi_ike2_keys_new(void);
void gdoi_ike2_keys_free(struct gdoi_ike2_keys *k);
/* Fills k for suite s: SKEYSEED from (Ni, Nr, g^ir), then
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). */
int gdoi_ike2_keys_derive(struct gdoi_ike2_keys *k, const struct gdoi_ike2_suite *s,
			  gdoi_bytes ni, gdoi_bytes nr, gdoi_bytes gir,
			  const uint8_t spi_i[8], const uint8_t spi_r[8]);

/* ---- Wireshark's ikev2_decryption_table entry (ike2_uat.c) ---------------- */

/* tshark's names of an ENCR (with key bits) and INTEG; NULL if not one of ours. */
const char *gdoi_ike2_uat_encr_name(uint16_t encr, uint16_t key_bits);
const char *gdoi_ike2_uat_integ_name(uint16_t integ);
/* SPIi,SPIr,SK_ei,SK_er,"ENCR",SK_ai,SK_ar,"INTEG" (SK_e* with the GCM salt)
 * into buf, NUL-terminated; GDOI_ERR_UNSUPPORTED / GDOI_ERR_TOO_BIG. */
int gdoi_ike2_uat_format(const uint8_t spi_i[8], const uint8_t spi_r[8],
			 const struct gdoi_ike2_keys *k, char *buf, size_t cap);
/* One entry back: the SPIs and, in k, what gdoi_ike2_sk_open needs (encr,
 * integ, lengths, SK_e*, SK_a*); GDOI_ERR_VALUE with why filled. */
int gdoi_ike2_uat_parse(const char *line, uint8_t spi_i[8], uint8_t spi_r[8],
			struct gdoi_ike2_keys *k, char *why, size_t wl);

#endif
