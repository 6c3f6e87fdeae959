/*
 * sa_hash.h - the keyed hashes the responders' SA tables use (Phase 1 by
 * initiator cookie and by peer identity, IKEv2 by peer identity): the peer
 * chooses the cookie or SPI, so it is mixed with a random key of the
 * responder first, and no peer can aim its SAs at one bucket it can predict.
 */
#ifndef GDOI_SA_HASH_H
#define GDOI_SA_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Eight octets (a cookie, an SPI) under key. */
static inline uint64_t gdoi_sa_hash8(uint64_t key, const uint8_t p[8])
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	v = (v ^ key) * 0x9e3779b97f4a7c15ULL;
	return v ^ v >> 29;
}

/* An identity (type and data) under key: FNV-1a from a keyed start, then
 * mixed so that the high bits, which pick the bucket, depend on every octet. */
static inline uint64_t gdoi_sa_hash_id(uint64_t key, uint8_t type, const uint8_t *p, size_t n)
{
	uint64_t h = (key ^ 0xcbf29ce484222325ULL) + type;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h = (h ^ h >> 32) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
}

#endif
