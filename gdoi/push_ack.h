/*
 * push_ack.h - the GROUPKEY-PUSH acknowledgement (RFC 8263), sans-I/O.
 *
 * A key server asks for it with the KEK attribute KEK_ACK_REQUESTED (9) in
 * the SA KEK; a member that applied a push answers, by unicast to the key
 * server, unencrypted:
 *
 *   HDR(cookies = the push's KEK SPI, exchange 35, flags 0, M-ID 0), HASH, SEQ, ID
 *
 *   HASH    = prf(ack_key, SEQ | ID)   (whole payloads, generic headers included)
 *   ack_key = prf(KEK key, "GROUPKEY-PUSH ACK" 0x00 | KEK SPI (16) | L (2))
 *
 * with prf = HMAC-SHA-256 (REKEY_ACK_KEK_SHA256) or HMAC-SHA-512
 * (REKEY_ACK_KEK_SHA512) and L the prf's output length in bits. The KEK is
 * the one the push travelled under; SEQ is the push's; ID is the member's
 * Phase 1 identity. The LKH methods (2, 4) are not supported.
 */
#ifndef GDOI_PUSH_ACK_H
#define GDOI_PUSH_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payload.h"
#include "policy.h"

/* ack_key length: the largest prf output (SHA-512). */
#define GDOI_PUSH_ACK_KEY_MAX 64

/* Whether method is a KEK_ACK_REQUESTED value this code serves. */
bool gdoi_push_ack_method_ok(uint16_t method);

/* ack_key from the KEK (its SPI and key); *len gets its length. */
int gdoi_push_ack_key(uint16_t method, const struct gdoi_kek_policy *kek,
		      uint8_t key[GDOI_PUSH_ACK_KEY_MAX], size_t *len);

/* Builds the ACK of push seq under kek for the member id; *out is malloc'd. */
int gdoi_push_ack_build(uint16_t method, const struct gdoi_kek_policy *kek, uint32_t seq,
			const struct gdoi_id *id, uint8_t **out, size_t *len);

/* A parsed ACK, not yet verified; id.data and the hashed span point into msg. */
struct gdoi_push_ack {
	uint8_t kek_spi[GDOI_KEK_SPI_LEN];
	uint32_t seq;
	struct gdoi_id id;
	gdoi_bytes hash;	/* the HASH payload's data */
	gdoi_bytes signed_part;	/* SEQ and ID payloads as received */
};

/* Parses msg (exchange 35). 0, or a negative gdoi_err with why naming what
 * is wrong (and the payload and offset for a malformed message). */
int gdoi_push_ack_parse(const uint8_t *msg, size_t len, struct gdoi_push_ack *a, char *why,
			size_t wl);

/* Checks a's HASH under ack_key in constant time: 0 or GDOI_ERR_AUTH. */
int gdoi_push_ack_verify(uint16_t method, const uint8_t *ack_key, size_t key_len,
			 const struct gdoi_push_ack *a);

#endif
