/*
 * gike2_msg.h - the G-IKEv2 payloads of the registration exchanges, apart
 * from the IKEv2 state machine that carries them inside SK (RFC 9838 §2.3~):
 *
 *   GSA_AUTH request        SK{IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, IDg, [SAg,] [N]}
 *   GSA_AUTH response       SK{IDr, [CERT,] AUTH, [GSA, KD,] [N,] [D]}
 *   GSA_REGISTRATION        SK{IDg, [SAg,] [N]}  ->  SK{GSA, KD, [N,] [D]}
 *
 * The IKEv2 core owns IDi/IDr/CERT/AUTH and SK; these functions build and
 * read the G-IKEv2 part (IDg, N(SENDER); GSA, KD, error notifies) as
 * struct gike2_pl lists it appends to or takes from its inner chain.
 */
#ifndef GDOI_GIKE2_MSG_H
#define GDOI_GIKE2_MSG_H

#include "gike2.h"
#include "gike2_rekey.h"
#include "policy.h"

struct gike2_reg_request {
	struct gike2_idg idg;
	uint32_t senders;	/* Sender-IDs asked for with N(SENDER); 0 = a receiver */
};

/* Appends IDg and, when senders > 0, N(SENDER) to out (cap entries, *n in use). */
int gike2_reg_request_build(const struct gike2_reg_request *rq, struct gdoi_arena *a,
			    struct gike2_pl *out, size_t cap, size_t *n);
/* Exactly one IDg; at most one N(SENDER); payloads that are not G-IKEv2's
 * (IDi, AUTH, CERT, ...) are left to the caller. */
int gike2_reg_request_parse(const struct gike2_pl *pl, size_t n, struct gike2_reg_request *rq,
			    struct gdoi_parse_error *err);

/*
 * GCKS: GSA (the Rekey SA when rekey is not NULL, then p's TEKs and GWP) and KD
 * (their keys wrapped under gsk_w, the IKE SA's default KWK; AUTH_KEY of
 * signer; the member's Sender-IDs) appended to out.
 */
int gike2_reg_response_build(const struct gdoi_policy *p, const struct gike2_rekey_sa *rekey,
			     const struct gdoi_key *signer, gdoi_bytes gsk_w, const uint32_t *sids,
			     size_t nsids, struct gdoi_arena *a, struct gike2_pl *out, size_t cap,
			     size_t *n);
/* An error response's N: INVALID_GROUP_ID, AUTHORIZATION_FAILED, REGISTRATION_FAILED
 * (Protocol ID 0, SPI Size 0, no data). */
int gike2_notify_error_build(uint16_t type, struct gdoi_arena *a, struct gike2_pl *out);

/*
 * GM: the response's GSA and KD parsed, or the error notify it carries
 * (*error = its type, return GDOI_ERR_NOT_AUTHORIZED / _NOT_FOUND / _STATE).
 * Then the policy (p) and, when the GSA has one, the Rekey SA (*rekey,
 * *gcks_key) with every key unwrapped under gsk_w.
 */
int gike2_reg_response_apply(const struct gike2_pl *pl, size_t n, gdoi_bytes gsk_w,
			     struct gdoi_arena *a, struct gdoi_policy *p, struct gike2_rekey_sa *rekey,
			     bool *has_rekey, struct gdoi_key **gcks_key, uint16_t *error, char *why,
			     size_t wl);

/* ---- GSA_REKEY contents (§2.4.1~) ------------------------------------------ */

/*
 * GCKS: the inner payloads of a GSA_REKEY under cur: GSA (next's GIKE_UPDATE
 * policy when next is not NULL, then p's TEKs and GWP), KD (keys wrapped
 * under cur's GSK_w; no Member Key Bag: nothing member-specific goes to the
 * group) and a Delete of the SRTP SPIs in del (ndel, may be 0). The caller
 * hands them to gike2_rekey_build.
 */
int gike2_rekey_content_build(const struct gdoi_policy *p, const struct gike2_rekey_sa *cur,
			      const struct gike2_rekey_sa *next, const struct gdoi_key *signer,
			      const uint32_t *del, size_t ndel, struct gdoi_arena *a,
			      struct gike2_pl *out, size_t cap, size_t *n);
/*
 * GM: what gike2_rekey_open returned, applied: the GSA's SAs join p's (same
 * SPI: replaced; keys unwrapped under cur's GSK_w), Deletes remove SRTP SAs (or exclude the
 * GM: *excluded), and a new Rekey SA goes to *next (*has_next) keeping the
 * GCKS key and its hash: AUTH_KEY may not come in a GSA_REKEY. p's Sender-IDs
 * stay. On any error p is unchanged.
 */
int gike2_rekey_content_apply(const struct gike2_pl *pl, size_t n, const struct gike2_rekey_sa *cur,
			      struct gdoi_arena *a, struct gdoi_policy *p,
			      struct gike2_rekey_sa *next, bool *has_next, bool *excluded,
			      char *why, size_t wl);

/* ---- GSA_INBAND_REKEY contents (§2.4.2~) ------------------------------------ */

/*
 * GCKS: the request's SK{GSA, KD, [D]} for one member, "built in the same
 * manner as in a registration exchange" (draft-05 §2.4.2.1): keys wrapped
 * under that member's IKE SA GSK_w; the Rekey SA (when rekey is not NULL)
 * with its AUTH_KEY of signer; a Delete of the SRTP SPIs in del. No
 * Sender-IDs: the member keeps its own.
 */
int gike2_inband_content_build(const struct gdoi_policy *p, gdoi_bytes gsk_w,
			       const struct gike2_rekey_sa *rekey, const struct gdoi_key *signer,
			       const uint32_t *del, size_t ndel, struct gdoi_arena *a,
			       struct gike2_pl *out, size_t cap, size_t *n);
/*
 * GM: a GSA_INBAND_REKEY request's payloads applied to p as a GSA_REKEY's
 * are (new SAs join, same SPI replaced, Deletes remove, *excluded), keys
 * unwrapped under the IKE SA's gsk_w; a Rekey SA goes to *next (*has_next)
 * with its AUTH_KEY in *gcks_key (the caller owns it), as in a registration.
 * GSA and KD may both be absent (a Delete alone). On error p is unchanged.
 */
int gike2_inband_content_apply(const struct gike2_pl *pl, size_t n, gdoi_bytes gsk_w,
			       struct gdoi_arena *a, struct gdoi_policy *p,
			       struct gike2_rekey_sa *next, bool *has_next,
			       struct gdoi_key **gcks_key, bool *excluded, char *why, size_t wl);

#endif
