/*
 * crypto.h - hashes, HMAC prf, CBC ciphers, randomness and constant-time
 * compare for IKEv1 Phase 1, GROUPKEY-PULL and GROUPKEY-PUSH.
 *
 * Thin wrappers over OpenSSL 3 EVP: the protocol code names algorithms by
 * the numbers it reads off the wire and never sees an OpenSSL type. Every
 * function returns 0 or a negative gdoi_err (err.h).
 */
#ifndef GDOI_CRYPTO_H
#define GDOI_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

/* Message digests (also the prf: HMAC with the same digest). */
enum gdoi_md {
	GDOI_MD_NONE = 0,
	GDOI_MD_MD5,
	GDOI_MD_SHA1,
	GDOI_MD_SHA256,
	GDOI_MD_SHA384,
	GDOI_MD_SHA512,
};
#define GDOI_MD_MAX_LEN 64	/* SHA-512 */

/* Output length in octets; 0 for GDOI_MD_NONE or an unknown value. */
size_t gdoi_md_len(enum gdoi_md md);
/* Block length of the hash function (HMAC's B); 0 if unknown. */
size_t gdoi_md_block_len(enum gdoi_md md);
const char *gdoi_md_name(enum gdoi_md md);
/* IKE Phase 1 Hash Algorithm attribute (RFC 2409 App. A, RFC 4868):
 * 1 MD5, 2 SHA, 4 SHA2-256, 5 SHA2-384, 6 SHA2-512. GDOI_MD_NONE if unknown. */
enum gdoi_md gdoi_md_from_ike(uint16_t attr);
uint16_t gdoi_md_to_ike(enum gdoi_md md);		/* 0 if none */
/* GDOI SIG_HASH_ALGORITHM (RFC 6407 §5.3.5): 1 MD5, 2 SHA1, 3 SHA256,
 * 4 SHA384, 5 SHA512. GDOI_MD_NONE if unknown. */
enum gdoi_md gdoi_md_from_sig_hash(uint16_t attr);
uint16_t gdoi_md_to_sig_hash(enum gdoi_md md);	/* 0 if none */

/*
 * hash(parts[0] | parts[1] | ...) and HMAC(key, parts...). Parts are fed in
 * order without being copied together; empty parts are skipped. out must hold
 * gdoi_md_len(md) octets.
 */
int gdoi_hash(enum gdoi_md md, const gdoi_bytes *parts, size_t nparts, uint8_t *out);
int gdoi_prf(enum gdoi_md md, gdoi_bytes key, const gdoi_bytes *parts, size_t nparts,
	     uint8_t *out);

/* CBC block ciphers of Phase 1 (RFC 2409, RFC 3602) and of the KEK (RFC 6407). */
enum gdoi_cipher {
	GDOI_CIPHER_NONE = 0,
	GDOI_CIPHER_3DES_CBC,
	GDOI_CIPHER_AES_128_CBC,
	GDOI_CIPHER_AES_192_CBC,
	GDOI_CIPHER_AES_256_CBC,
};
#define GDOI_CIPHER_MAX_KEY_LEN 32
#define GDOI_CIPHER_MAX_BLOCK_LEN 16

size_t gdoi_cipher_key_len(enum gdoi_cipher c);
size_t gdoi_cipher_block_len(enum gdoi_cipher c);	/* = IV length */
const char *gdoi_cipher_name(enum gdoi_cipher c);
/* IKE Encryption Algorithm attribute plus Key Length attribute in bits (0 =
 * absent): 5 3DES-CBC (key length absent or 192), 7 AES-CBC (key length
 * required: 128, 192 or 256, RFC 3602 §5.3). GDOI_CIPHER_NONE otherwise. */
enum gdoi_cipher gdoi_cipher_from_ike(uint16_t enc, uint16_t key_bits);
/* GDOI KEK_ALGORITHM plus KEK_KEY_LENGTH in bits (0 = absent): 2 3DES
 * (absent or 192), 3 AES (128/192/256; absent is refused because AES has no
 * single key length). */
enum gdoi_cipher gdoi_cipher_from_kek(uint16_t alg, uint16_t key_bits);

/*
 * CBC without padding: the caller pads (IKE pads with zeros and counts the
 * padding in the header). len must be a multiple of the block length
 * (GDOI_ERR_LENGTH otherwise), key and iv must have the cipher's lengths
 * (GDOI_ERR_INVALID_ARG). in and out may be the same buffer.
 */
int gdoi_cbc_encrypt(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv,
		     const uint8_t *in, size_t len, uint8_t *out);
int gdoi_cbc_decrypt(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv,
		     const uint8_t *in, size_t len, uint8_t *out);

/* Cryptographically strong random bytes (cookies, nonces, keys, IVs, SPIs). */
int gdoi_random(uint8_t *out, size_t len);

/* Constant-time equality for MACs and hashes: true iff len octets match. */
bool gdoi_ct_equal(const void *a, const void *b, size_t len);

/* Wipes a secret in a way the compiler cannot drop. */
void gdoi_wipe(void *p, size_t len);
/* gdoi_wipe then free; p may be NULL */
void gdoi_wipe_free(void *p, size_t len);

#endif
