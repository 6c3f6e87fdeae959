/*
 * gike2_policy.h - group policy (policy.h) <-> G-IKEv2 GSA and KD payload
 * structures, for SRTP Data-Security SAs as docs/srtp-gikev2.md maps them.
 * The KWK is the key the SA_KEYs are wrapped with: GSK_w of the IKE SA in
 * GSA_AUTH / GSA_REGISTRATION / GSA_INBAND_REKEY, the Rekey SA's GSK_w in a
 * GSA_REKEY. Not mapped yet: ESP/AH Data-Security SAs and the KEK (the Rekey
 * SA is held as struct gike2_rekey_sa, gike2_rekey.h).
 */
#ifndef GDOI_GIKE2_POLICY_H
#define GDOI_GIKE2_POLICY_H

#include "gike2.h"
#include "policy.h"

/* SRTP Data-Security SA transform (Transform Type private use 241-255,
 * RFC 7296 §3.3.2): Transform ID = IANA DTLS-SRTP profile. Its attributes
 * (Transform Attribute Types private use 16384-32767, RFC 7296 §3.3.5), all TV: */
#define GIKE2_XF_SRTP_PROFILE 241
#define GIKE2_SRTP_XATTR_FLAGS 16384		/* bit 0 SRTCP, bit 1 MKI; mandatory */
#define GIKE2_SRTP_XATTR_REPLAY_WINDOW 16385	/* 64..32767, absent = 128 */
#define GIKE2_SRTP_XATTR_SSRC_ASSIGNED 16386	/* 0/1, absent = 1 */
#define GIKE2_SRTP_XATTR_ALLOW_REPEAT_TX 16387	/* 0/1, absent = 0 */

/* The GSA of p's SRTP TEKs (and GWP from ATD/DTD and sid_bits). */
int gike2_policy_to_gsa(const struct gdoi_policy *p, struct gdoi_arena *a, struct gike2_gsa *g);
/* A KD: one Group Key Bag per TEK (SA_KEY wrapped under kwk, KWK ID 0) and,
 * when nsids > 0, a Member Key Bag of GM_SENDER_IDs. */
int gike2_policy_to_kd(const struct gdoi_policy *p, gdoi_bytes kwk, const uint32_t *sids,
		       size_t nsids, struct gdoi_arena *a, struct gike2_kd *kd);
/* Policy (TEKs, ATD/DTD, sid_bits) from a parsed GSA; anything not
 * understood refuses it, with a reason in why. Keys are not touched. */
int gike2_policy_from_gsa(struct gdoi_policy *p, const struct gike2_gsa *g, char *why, size_t wl);
/* Keys from a parsed KD: every TEK needs exactly one SA_KEY that unwraps
 * under kwk to the profile's length; GM_SENDER_IDs fill sids. */
int gike2_policy_apply_kd(struct gdoi_policy *p, const struct gike2_kd *kd, gdoi_bytes kwk,
			  char *why, size_t wl);

/* A Delete applied to the policy: the SRTP SAs named go (zero SPI: all of
 * them; keys wiped); *excluded is set for GIKE_UPDATE with a zero SPI (the
 * GM must register again). Returns how many SAs were removed, or a gdoi_err. */
int gike2_policy_apply_delete(struct gdoi_policy *p, const struct gike2_delete *d, bool *excluded);

#endif
