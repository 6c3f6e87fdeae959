/*
 * srtp_profiles.h - the one table of SRTP protection profiles (IANA
 * DTLS-SRTP numbers, docs/srtp-tek.md): name, master key and salt lengths,
 * authentication tag lengths. Self-contained (no other libgdoi file), so
 * libgdoisrtp compiles srtp_profiles.c in without the rest of the core.
 */
#ifndef GDOI_SRTP_PROFILES_H
#define GDOI_SRTP_PROFILES_H

#include <stdbool.h>
#include <stdint.h>

struct gdoi_srtp_profile {
	uint16_t id;			/* IANA DTLS-SRTP profile = libsrtp2 srtp_profile_t */
	const char *name;		/* "SRTP_AES128_CM_HMAC_SHA1_80", as docs/ipc.md spells it */
	uint8_t key_len, salt_len;	/* master key and master salt, octets */
	uint8_t rtp_tag_len, rtcp_tag_len; /* authentication tag, octets */
	bool aead;			/* AES-GCM: the tag is part of the cipher */
};

/* The profile numbered id, or NULL when srtp-tek.md defines none. */
const struct gdoi_srtp_profile *gdoi_srtp_profile(uint16_t id);
/* The profile of that exact name, or NULL (name may be NULL). */
const struct gdoi_srtp_profile *gdoi_srtp_profile_by_name(const char *name);

#endif
