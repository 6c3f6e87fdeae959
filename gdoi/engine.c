/*
 * engine.c - what the engines share: telling the front ends apart by the
 * header's version (RFC 2408 §3.1 and RFC 7296 §3.1 share the first 28 octets:
 * two SPIs or cookies, next payload, then the version octet, major in its
 * high nibble).
 */
#include "engine.h"

#define HDR_LEN	    28
#define VERSION_OFF 17

enum gdoi_front_end gdoi_engine_classify(const uint8_t *dgram, size_t len)
{
	if (!dgram || len < HDR_LEN)
		return GDOI_FE_NONE;
	switch (dgram[VERSION_OFF] >> 4) {
	case 1:
		return GDOI_FE_IKEV1;
	case 2:
		return GDOI_FE_IKEV2;
	default:
		return GDOI_FE_NONE;
	}
}
