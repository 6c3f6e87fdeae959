/*
 * gike2_ike.h - G-IKEv2 registration (RFC 9838 §2.3~) on the IKEv2 core
 * (ike2.h): the hooks that put IDg / N(SENDER) into the GM's GSA_AUTH (or
 * GSA_REGISTRATION) request and GSA + KD into the GCKS's response, with
 * keys wrapped under the IKE SA's default KWK GSK_w = prf+(SK_d, "Key Wrap
 * for G-IKEv2").
 *
 * The IKE SA's Key Wrap Algorithm: IKE_SA_INIT does not negotiate transform
 * type 13 here yet, so both ends take KW_5649 with the key length of the
 * IKE SA's encryption (AES-128 -> KW_5649_128, AES-256 -> KW_5649_256).
 */
#ifndef GDOI_GIKE2_IKE_H
#define GDOI_GIKE2_IKE_H

#include "gike2_msg.h"
#include "ike2.h"

/* GSK_w of an established IKE SA; *len = its KWK length. */
int gike2_ike_gsk_w(const struct gdoi_ike2_sa *sa, uint8_t out[GIKE2_KWK_MAX], size_t *len);

/* The member: what it asks for, and what it got. */
struct gike2_gm {
	struct gike2_reg_request rq;
	bool registered;
	struct gdoi_policy policy;
	bool has_rekey;
	struct gike2_rekey_sa rekey;
	struct gdoi_key *gcks_key;	/* AUTH_KEY of the Rekey SA */
	char why[160];
};
/* Sets cfg's authentication exchange to GSA_AUTH, the G-IKEv2 payload types
 * and the hooks (cfg->hooks.ctx = gm). */
void gike2_gm_attach(struct gike2_gm *gm, struct gdoi_ike2_config *cfg);
/* The GSA_REGISTRATION request on an established IKE SA (payloads for
 * gdoi_ike2_send_request; its response goes through the same hooks). */
int gike2_gm_registration(struct gike2_gm *gm, struct gdoi_ike2_plist *out);
void gike2_gm_clear(struct gike2_gm *gm);	/* wipes keys, frees the AUTH_KEY */

/* The key server's group. */
struct gike2_gcks {
	struct gike2_idg group;		/* the IDg it answers for */
	const struct gdoi_policy *policy;
	const struct gike2_rekey_sa *rekey;	/* NULL: no Rekey SA */
	const struct gdoi_key *signer;		/* GSA_REKEY signature key */
	uint32_t next_sid;		/* next Sender-ID (SSRC) to hand out */
	uint32_t max_sids;		/* per registration; 0 = 16 */
	/* When set: the Sender-IDs of a registration asking for count (at
	 * most cap) come from here, not next_sid (a refusal: its gdoi_err). */
	int (*assign_sids)(void *ctx, uint32_t count, uint32_t *sids, size_t cap, size_t *n);
	void *assign_ctx;
	unsigned registrations;
	char why[160];
	/* Set by the GCKS engine's lookup: the application's name for the group
	 * (GSA_INBAND_REKEY picks the members by it) and whether the group's
	 * rekeys go to the member over its IKE SA. */
	uint64_t tag;
	bool inband;
};
/* Accepts GSA_AUTH and GSA_REGISTRATION, the payload types, the hooks. */
void gike2_gcks_attach(struct gike2_gcks *k, struct gdoi_ike2_config *cfg);

#endif
