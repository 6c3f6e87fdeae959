/*
 * gike2_rekey.h - the GSA_REKEY pseudo-exchange (RFC 9838 §2.4.1~): one
 * message from the GCKS to the group, HDR(SPIs of the Rekey SA, exchange 41,
 * Message ID = the rekey counter), SK{GSA, KD, [N], [D], [AUTH]} under the
 * Rekey SA's GSK_e, signed (GCAUTH Digital Signature, RFC 7427 AUTH) over
 * A | P as §2.4.1.1~ describes; sans-I/O, it does not use the IKE SA.
 *
 * Encryption: ENCR_AES_GCM_16 (RFC 5282) with 128- or 256-bit keys.
 * The GM checks, in this order: framing and SPIs, the Message ID against
 * its replay state, the ICV (wrong key -> GDOI_ERR_AUTH), the signature
 * (before anything is parsed for use), then advances the replay state.
 *
 * The inner payload chain codec here is the minimum GSA_REKEY needs and is
 * to be replaced by the IKEv2 core's (gdoi/ike2*.c) when they merge.
 */
#ifndef GDOI_GIKE2_REKEY_H
#define GDOI_GIKE2_REKEY_H

#include "gike2.h"
#include "sign.h"

#define GIKE2_HDR_LEN 28
#define GIKE2_GCM_IV_LEN 8
#define GIKE2_GCM_SALT_LEN 4
#define GIKE2_GCM_ICV_LEN 16
#define GIKE2_FLAG_INITIATOR 0x08
#define GIKE2_FLAG_RESPONSE 0x20

/* The Rekey SA as the GCKS and a GM hold it (GSA policy + SA_KEY). */
struct gike2_rekey_sa {
	uint8_t spi[GIKE2_SPI_SIZE_REKEY];	/* SPIi | SPIr */
	uint16_t encr, encr_key_bits;		/* ENCR transform + Key Length */
	uint16_t kwa;				/* Key Wrap Algorithm transform */
	uint16_t gcauth;			/* GCAUTH transform */
	enum gdoi_md sig_md;			/* from its Signature Algorithm Identifier */
	uint8_t algid[32];			/* that AlgorithmIdentifier, DER (GM side) */
	size_t algid_len;
	struct gike2_ts src, dst;		/* GCKS -> multicast group, UDP */
	uint32_t lifetime;			/* GSA_KEY_LIFETIME, seconds */
	/* KEYMAT = GSK_e | GSK_a | GSK_w (§3.4~); GSK_a is empty with AEAD */
	uint8_t gsk_e[32 + GIKE2_GCM_SALT_LEN];
	size_t gsk_e_len;
	uint8_t gsk_w[GIKE2_KWK_MAX];
	size_t gsk_w_len;
	/* Replay state: the GCKS's next Message ID to send; the GM's lowest
	 * acceptable one (GSA_INITIAL_MESSAGE_ID, then last accepted + 1). */
	uint32_t msgid;
	bool exhausted;				/* the counter reached 2^32 - 1 */
};

/* KEYMAT length the SA's transforms take; 0 if unsupported. */
size_t gike2_rekey_keymat_len(const struct gike2_rekey_sa *sa);
/* Splits KEYMAT (exactly gike2_rekey_keymat_len octets) into GSK_e and GSK_w. */
int gike2_rekey_set_keys(struct gike2_rekey_sa *sa, gdoi_bytes keymat);
void gike2_rekey_sa_clear(struct gike2_rekey_sa *sa);

/* One payload of an IKEv2 chain: type, critical bit, body. */
struct gike2_pl {
	uint8_t type;
	bool critical;
	gdoi_bytes body;
};

/* Appends the chain (generic headers + bodies); the last Next Payload is 0. */
int gike2_chain_build(struct gdoi_writer *w, const struct gike2_pl *pl, size_t n);
/* Splits a chain that starts with type first and fills the reader exactly.
 * An unknown payload type with the critical bit set is refused. */
int gike2_chain_parse(struct gdoi_reader *r, uint8_t first, struct gdoi_arena *a,
		      struct gike2_pl **out, size_t *n, struct gdoi_parse_error *err);

/*
 * GCKS: builds and protects one GSA_REKEY carrying pl[0..n) (without AUTH),
 * signed with signer when sa->gcauth is Digital Signature, under Message ID
 * sa->msgid, which is then advanced. Output is the whole datagram.
 */
int gike2_rekey_build(struct gike2_rekey_sa *sa, const struct gike2_pl *pl, size_t n,
		      const struct gdoi_key *signer, struct gdoi_writer *out);

/*
 * GM: opens a GSA_REKEY under sa, verifying with the GCKS's key (AUTH_KEY)
 * when sa->gcauth is Digital Signature. On success *pl / *n are the inner
 * payloads without AUTH (the arena owns them) and *msgid its Message ID;
 * sa->msgid is advanced past it. Errors: GDOI_ERR_REPLAY (old or repeated
 * Message ID), GDOI_ERR_AUTH (ICV or signature), GDOI_ERR_NOT_FOUND (SPIs
 * of another Rekey SA), parse errors with err filled.
 */
int gike2_rekey_open(struct gike2_rekey_sa *sa, const uint8_t *msg, size_t len,
		     const struct gdoi_key *gcks_key, struct gdoi_arena *a, struct gike2_pl **pl,
		     size_t *n, uint32_t *msgid, struct gdoi_parse_error *err);

/* ---- the Rekey SA in GSA and KD payloads (gike2_rekey_sa.c, §4.4.2~, §4.5~) ---- */

/*
 * GCKS: the GIKE_UPDATE GSA policy of sa (SPI, TSs, ENCR + Key Length, KWA,
 * GCAUTH with the signer's Signature Algorithm Identifier, GSA_KEY_LIFETIME,
 * GSA_INITIAL_MESSAGE_ID = sa->msgid when not 0), and its key bags: a Group
 * Key Bag whose SA_KEY wraps GSK_e | GSK_w under kwk, and (with a signer) a
 * Member Key Bag with AUTH_KEY = the signer's SubjectPublicKeyInfo.
 */
int gike2_rekey_to_gsa_policy(const struct gike2_rekey_sa *sa, const struct gdoi_key *signer,
			      struct gdoi_arena *a, struct gike2_gsa_policy *out);
int gike2_rekey_to_key_bags(const struct gike2_rekey_sa *sa, gdoi_bytes kwk,
			    const struct gdoi_key *signer, struct gdoi_arena *a,
			    struct gike2_key_bag out[2], size_t *n);
/* GM: the Rekey SA from its GSA policy (refusing what it does not implement),
 * then its keys and the GCKS's AUTH_KEY (*gcks_key, free with gdoi_key_free)
 * from the KD. */
int gike2_rekey_from_gsa_policy(struct gike2_rekey_sa *sa, const struct gike2_gsa_policy *p,
				char *why, size_t wl);
int gike2_rekey_apply_kd(struct gike2_rekey_sa *sa, const struct gike2_kd *kd, gdoi_bytes kwk,
			 struct gdoi_key **gcks_key, char *why, size_t wl);

#endif
