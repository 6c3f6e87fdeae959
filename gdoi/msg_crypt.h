/*
 * msg_crypt.h - CBC encryption of whole ISAKMP messages (RFC 2408 §3.1,
 * RFC 2409 App. B): everything after the 28-octet header is encrypted, the
 * plaintext is padded with zero octets to the block size, and the header's
 * Length counts the padding. Used under the Phase 1 key (Main Mode, PULL,
 * Informational) and under a KEK (PUSH).
 */
#ifndef GDOI_MSG_CRYPT_H
#define GDOI_MSG_CRYPT_H

#include <stdint.h>

#include "bytes.h"
#include "crypto.h"

/*
 * w holds one plaintext message (header at offset start). Pads, sets the E
 * flag, patches Length, encrypts in place with iv, and writes the last
 * ciphertext block (the next IV of the chain) to next_iv (may be NULL).
 */
int gdoi_msg_seal(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv, struct gdoi_writer *w,
		  size_t start, uint8_t *next_iv);

/*
 * Decrypts a received message whose E flag is set into a new buffer (header
 * copied as is, body decrypted; free with gdoi_msg_plain_free). next_iv gets
 * the last ciphertext block; commit it only after the message authenticated.
 * GDOI_ERR_LENGTH when the body is empty or not a whole number of blocks.
 */
int gdoi_msg_open(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv, const uint8_t *in,
		  size_t len, uint8_t **plain, uint8_t *next_iv);
void gdoi_msg_plain_free(uint8_t *plain, size_t len);

#endif
