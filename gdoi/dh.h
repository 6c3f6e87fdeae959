/*
 * dh.h - Diffie-Hellman for IKEv1 Phase 1 (the KE payload and g^xy).
 *
 * Groups by their IKE Group Description number: MODP 2 (1024, RFC 2409),
 * 5 (1536), 14 (2048), 15 (3072), 16 (4096) (RFC 3526) and ECP 19 (P-256),
 * 20 (P-384), 21 (P-521) (RFC 5903), and 31 (Curve25519, RFC 8031) for IKEv2.
 *
 * Wire encodings: a MODP public value and shared secret are big-endian,
 * left-padded with zeros to the prime length; an ECP public value is x | y,
 * each coordinate fixed length, no 0x04 prefix, and the ECP shared secret is
 * the x coordinate only (RFC 5903 §7).
 *
 * Every peer value is validated before use (RFC 6989): a wrong length, 0, 1,
 * p-1 or anything >= p for MODP (plus the subgroup check for the RFC 3526
 * safe-prime groups), a point off the curve for ECP, all give
 * GDOI_ERR_DH_VALUE.
 */
#ifndef GDOI_DH_H
#define GDOI_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define GDOI_DH_MAX_PUBLIC_LEN 512	/* MODP-4096 */
#define GDOI_DH_MAX_SECRET_LEN 512

struct gdoi_dh;	/* one key pair in one group; the private half never leaves it */

bool gdoi_dh_supported(uint16_t group);
bool gdoi_dh_is_ecp(uint16_t group);
/* Group 31: public value and shared secret are the raw 32 octets of RFC 7748;
 * an all-zero shared secret (a low-order peer value) gives GDOI_ERR_DH_VALUE. */
bool gdoi_dh_is_x25519(uint16_t group);
/* KE payload body length (prime length, or 2 * coordinate length); 0 if unsupported. */
size_t gdoi_dh_public_len(uint16_t group);
/* g^xy length (prime length, or coordinate length); 0 if unsupported. */
size_t gdoi_dh_secret_len(uint16_t group);
/* The MODP prime, big-endian, gdoi_dh_public_len octets (for tests and tools). */
int gdoi_dh_prime(uint16_t group, uint8_t *out, size_t cap);

/* Generates a fresh key pair. */
int gdoi_dh_new(uint16_t group, struct gdoi_dh **out);
/* A key pair from a known private value (big-endian; the scalar for ECP, the
 * exponent for MODP). For known-answer tests. */
int gdoi_dh_new_from_private(uint16_t group, gdoi_bytes priv, struct gdoi_dh **out);
void gdoi_dh_free(struct gdoi_dh *dh);

uint16_t gdoi_dh_group(const struct gdoi_dh *dh);
/* Our public value in KE encoding; valid until gdoi_dh_free. */
gdoi_bytes gdoi_dh_public(const struct gdoi_dh *dh);

/* Checks a peer's KE body for this group (RFC 6989); 0 or GDOI_ERR_DH_VALUE. */
int gdoi_dh_check_peer(uint16_t group, gdoi_bytes peer);
/* g^xy from the peer's KE body, after gdoi_dh_check_peer. out must hold
 * gdoi_dh_secret_len octets; *len receives it. The caller wipes out. */
int gdoi_dh_derive(const struct gdoi_dh *dh, gdoi_bytes peer, uint8_t *out, size_t cap,
		   size_t *len);

#endif
