/*
 * ike2_sk.h - the Encrypted and Authenticated payload (SK, RFC 7296 §3.14)
 * and its fragments (SKF, RFC 7383 §2.5):
 *  - ENCR_AES_GCM_16 (RFC 5282): key | 4-octet salt from SK_e, 8-octet
 *    explicit IV, nonce = salt | IV, AAD = the IKE header through the SK
 *    generic header (SKF: through Total Fragments), 16-octet ICV;
 *  - ENCR_AES_CBC with AUTH_HMAC_SHA2_256_128 / _384_192 / _512_256: random
 *    16-octet IV, ICV = truncated HMAC(SK_a, header .. ciphertext).
 * Plaintext = inner payloads | padding | Pad Length. On receipt the ICV is
 * compared in constant time before anything is decrypted (CBC) or released
 * (GCM), and the Pad Length must fit the plaintext.
 */
#ifndef GDOI_IKE2_SK_H
#define GDOI_IKE2_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "ike2_keys.h"
#include "ike2_wire.h"

/* One datagram: h (next payload, length are set here) + SK(first, inner).
 * from_initiator picks SK_ei/SK_ai or SK_er/SK_ar. *out is malloc'd (free()). */
int gdoi_ike2_sk_seal(const struct gdoi_ike2_keys *k, bool from_initiator,
		      const struct gdoi_ike2_hdr *h, uint8_t first, gdoi_bytes inner,
		      uint8_t **out, size_t *out_len);
/* As gdoi_ike2_sk_seal when the datagram fits max_dgram (or max_dgram is 0);
 * otherwise SKF fragments of at most max_dgram octets each. Datagrams are
 * appended to out[]/out_len[] (*n in, *n out; at most cap). */
int gdoi_ike2_sk_seal_frags(const struct gdoi_ike2_keys *k, bool from_initiator,
			    const struct gdoi_ike2_hdr *h, uint8_t first, gdoi_bytes inner,
			    size_t max_dgram, uint8_t **out, size_t *out_len, size_t cap, size_t *n);
/* Verifies and decrypts the SK or SKF payload whose generic header is at
 * msg[sk_off] (the last payload of msg). *pt (malloc'd; wipe and free) gets
 * the inner payload octets, padding removed. GDOI_ERR_AUTH on a bad ICV. */
int gdoi_ike2_sk_open(const struct gdoi_ike2_keys *k, bool from_initiator, const uint8_t *msg,
		      size_t len, size_t sk_off, bool skf, uint8_t **pt, size_t *pt_len);
/* Overhead of one SK payload around n plaintext octets (for sizing). */
size_t gdoi_ike2_sk_overhead(const struct gdoi_ike2_keys *k, size_t n);

/* AES-GCM with a 12-octet nonce and 16-octet tag (known-answer tests too).
 * Seal writes ct (len) then the tag (16) into out. Open: GDOI_ERR_AUTH if the
 * tag does not verify (out is then wiped). */
int gdoi_aes_gcm_seal(gdoi_bytes key, const uint8_t nonce[12], gdoi_bytes aad,
		      const uint8_t *pt, size_t len, uint8_t *out);
int gdoi_aes_gcm_open(gdoi_bytes key, const uint8_t nonce[12], gdoi_bytes aad,
		      const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *out);

#endif
