/*
 * ike_keys.h - the IKEv1 Phase 1 key schedule (RFC 2409 §5 and App. B) as
 * pure functions: SKEYID and its three children, the Phase 1 encryption key,
 * HASH_I / HASH_R, and the IVs of Main Mode and of every later exchange
 * (GROUPKEY-PULL, Informational) under the Phase 1 SA.
 *
 * prf = HMAC with the negotiated Phase 1 hash (no PRF attribute is defined).
 * Cookies are the 8 octets of the ISAKMP header; g^xy is the shared secret
 * as dh.h returns it (MODP left-padded to the prime length, ECP x only).
 */
#ifndef GDOI_IKE_KEYS_H
#define GDOI_IKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"

#define GDOI_IKE_COOKIE_LEN 8

/* Secrets of one Phase 1 SA. Embed it anywhere; gdoi_ike_keys_clear() wipes it. */
struct gdoi_ike_keys {
	enum gdoi_md md;		/* prf and hash */
	enum gdoi_cipher cipher;	/* Phase 1 encryption */
	size_t len;			/* prf output length = length of each SKEYID* */
	uint8_t skeyid[GDOI_MD_MAX_LEN];
	uint8_t skeyid_d[GDOI_MD_MAX_LEN];	/* keys derived later (not used by GDOI) */
	uint8_t skeyid_a[GDOI_MD_MAX_LEN];	/* HASH(1..4), Informational HASH(1) */
	uint8_t skeyid_e[GDOI_MD_MAX_LEN];	/* source of enc_key */
	size_t enc_key_len;
	uint8_t enc_key[GDOI_CIPHER_MAX_KEY_LEN];
};

/* SKEYID = prf(PSK, Ni_b | Nr_b) (pre-shared key authentication). */
int gdoi_ike_skeyid_psk(enum gdoi_md md, gdoi_bytes psk, gdoi_bytes ni_b, gdoi_bytes nr_b,
			uint8_t *skeyid);
/* SKEYID = prf(Ni_b | Nr_b, g^xy) (signature authentication). */
int gdoi_ike_skeyid_sig(enum gdoi_md md, gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			uint8_t *skeyid);

/*
 * From SKEYID (gdoi_md_len(md) octets):
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the encryption key (gdoi_ike_enc_key). Fills k; on failure k is wiped.
 */
int gdoi_ike_keys_derive(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			 gdoi_bytes skeyid, gdoi_bytes gxy,
			 const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			 const uint8_t cky_r[GDOI_IKE_COOKIE_LEN]);
/* Convenience: SKEYID for PSK or signatures, then gdoi_ike_keys_derive. */
int gdoi_ike_keys_derive_psk(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			     gdoi_bytes psk, gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			     const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			     const uint8_t cky_r[GDOI_IKE_COOKIE_LEN]);
int gdoi_ike_keys_derive_sig(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			     gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			     const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			     const uint8_t cky_r[GDOI_IKE_COOKIE_LEN]);
void gdoi_ike_keys_clear(struct gdoi_ike_keys *k);

/*
 * RFC 2409 App. B key expansion: the leading key_len octets of SKEYID_e if it
 * is long enough, else of K1 | K2 | ... with K1 = prf(SKEYID_e, 0x00) and
 * Kn = prf(SKEYID_e, Kn-1).
 */
int gdoi_ike_enc_key(enum gdoi_md md, gdoi_bytes skeyid_e, size_t key_len, uint8_t *key);

/*
 * HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * SAi_b is the body of the initiator's MM1 SA payload (both sides use it);
 * ID bodies are type | protocol | port | data. out holds k->len octets.
 */
int gdoi_ike_hash_i(const struct gdoi_ike_keys *k, gdoi_bytes gxi, gdoi_bytes gxr,
		    const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
		    const uint8_t cky_r[GDOI_IKE_COOKIE_LEN],
		    gdoi_bytes sai_b, gdoi_bytes idii_b, uint8_t *out);
int gdoi_ike_hash_r(const struct gdoi_ike_keys *k, gdoi_bytes gxi, gdoi_bytes gxr,
		    const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
		    const uint8_t cky_r[GDOI_IKE_COOKIE_LEN],
		    gdoi_bytes sai_b, gdoi_bytes idir_b, uint8_t *out);

/* MM5 IV = hash(g^xi | g^xr) truncated to the cipher's block length. */
int gdoi_ike_phase1_iv(enum gdoi_md md, enum gdoi_cipher cipher, gdoi_bytes gxi,
		       gdoi_bytes gxr, uint8_t *iv);
/*
 * First IV of a GROUPKEY-PULL or Informational exchange:
 * hash(last CBC block of Phase 1 | M-ID) truncated to the block length.
 * last_block is the last ciphertext block of MM6 (block length octets);
 * msg_id is the header's Message ID (hashed big-endian, as on the wire).
 */
int gdoi_ike_phase2_iv(enum gdoi_md md, enum gdoi_cipher cipher, gdoi_bytes last_block,
		       uint32_t msg_id, uint8_t *iv);

#endif
