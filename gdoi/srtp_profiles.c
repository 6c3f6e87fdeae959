/*
 * srtp_profiles.c - the SRTP profile table (see srtp_profiles.h).
 */
#include "gdoi/srtp_profiles.h"

#include <stddef.h>
#include <string.h>

#include "gdoi/numbers.h"

/* RFC 3711, RFC 5764 §4.1.2 (the _32 profiles keep an 80-bit SRTCP tag),
 * RFC 7714 §14.2 (GCM: 16-octet tags, 12-octet salts). */
static const struct gdoi_srtp_profile profiles[] = {
	{ GDOI_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_HMAC_SHA1_80", 16, 14, 10, 10, false },
	{ GDOI_SRTP_AES128_CM_SHA1_32, "SRTP_AES128_CM_HMAC_SHA1_32", 16, 14, 4, 10, false },
	{ GDOI_SRTP_NULL_SHA1_80, "SRTP_NULL_HMAC_SHA1_80", 16, 14, 10, 10, false },
	{ GDOI_SRTP_NULL_SHA1_32, "SRTP_NULL_HMAC_SHA1_32", 16, 14, 4, 10, false },
	{ GDOI_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", 16, 12, 16, 16, true },
	{ GDOI_SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", 32, 12, 16, 16, true },
};

const struct gdoi_srtp_profile *gdoi_srtp_profile(uint16_t id)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].id == id)
			return &profiles[i];
	return NULL;
}

const struct gdoi_srtp_profile *gdoi_srtp_profile_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}
