/*
 * sign.h - signature keys and the two signature schemes GDOI needs:
 *
 *  - IKEv1 Phase 1 SIG_I / SIG_R (RFC 2409 §5.1, RFC 4754): RSA is PKCS#1
 *    v1.5 type 1 over the raw HASH_I / HASH_R (no DigestInfo); ECDSA signs
 *    SHA-256/384/512 of HASH_x and is sent as fixed-length r | s.
 *  - GROUPKEY-PUSH SIG (RFC 6407 §4): a signature of hash("rekey" | HDR |
 *    SEQ | [D] | SA | KD) with the KEK's SIG_HASH_ALGORITHM. RSA uses
 *    EMSA-PKCS1-v1_5 with the DigestInfo; ECDSA-256/384/521 use r | s.
 *
 * Keys arrive as PEM or DER bytes (PKCS#8, traditional or SubjectPublicKeyInfo);
 * gdoi/ reads no files. Only RSA (at least GDOI_RSA_MIN_BITS) and EC P-256,
 * P-384, P-521 keys are accepted. X.509 lives in cert.h.
 */
#ifndef GDOI_SIGN_H
#define GDOI_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"

#define GDOI_RSA_MIN_BITS 2048
#define GDOI_SIG_MAX_LEN 1024		/* RSA-8192, or 2 * 66 for P-521 */

struct gdoi_key;	/* a public key, or a key pair */

enum gdoi_key_kind {
	GDOI_KEYKIND_NONE = 0,
	GDOI_KEYKIND_RSA,
	GDOI_KEYKIND_EC_P256,
	GDOI_KEYKIND_EC_P384,
	GDOI_KEYKIND_EC_P521,
};

/* A key pair from PEM or DER bytes. Encrypted keys are refused (no prompt). */
int gdoi_key_load_private(gdoi_bytes pem_or_der, struct gdoi_key **out);
/* A public key from PEM or DER SubjectPublicKeyInfo. */
int gdoi_key_load_public(gdoi_bytes pem_or_der, struct gdoi_key **out);
/* Strict DER SubjectPublicKeyInfo, nothing after it (KD SIG_ALGORITHM_KEY). */
int gdoi_key_from_spki(gdoi_bytes der, struct gdoi_key **out);
/* The public half as DER SubjectPublicKeyInfo in a malloc'd buffer (free()). */
int gdoi_key_to_spki(const struct gdoi_key *key, uint8_t **der, size_t *len);
void gdoi_key_free(struct gdoi_key *key);

enum gdoi_key_kind gdoi_key_kind(const struct gdoi_key *key);
size_t gdoi_key_bits(const struct gdoi_key *key);
bool gdoi_key_has_private(const struct gdoi_key *key);
/* Length of this key's signatures: modulus length, or 2 * coordinate length. */
size_t gdoi_key_sig_len(const struct gdoi_key *key);
/* Same public key (e.g. a certificate's key against a configured one). */
bool gdoi_key_public_equal(const struct gdoi_key *a, const struct gdoi_key *b);

/*
 * IKEv1 signature of hash (HASH_I or HASH_R) for Authentication Method
 * auth_method: 3 RSA signatures, 9 ECDSA-256, 10 ECDSA-384, 11 ECDSA-521.
 * The key must match the method (GDOI_ERR_VALUE otherwise). sig receives
 * gdoi_key_sig_len octets. Verify returns 0 or GDOI_ERR_AUTH.
 */
/* The IKE Authentication Method a key's type calls for (3 RSA, 9/10/11 ECDSA-256/384/521),
 * 0 when none does. */
uint16_t gdoi_key_ike_auth(const struct gdoi_key *key);
int gdoi_ike_sign(const struct gdoi_key *key, uint16_t auth_method, gdoi_bytes hash,
		  uint8_t *sig, size_t cap, size_t *sig_len);
int gdoi_ike_verify(const struct gdoi_key *key, uint16_t auth_method, gdoi_bytes hash,
		    gdoi_bytes sig);

/* Also accept the reference implementation's RSA rekey signature: PKCS#1
 * v1.5 over the raw digest, without the DigestInfo (its quirk 3). */
#define GDOI_REKEY_ACCEPT_RAW_RSA 0x1u

/*
 * GROUPKEY-PUSH signature over hash("rekey" | parts[0] | parts[1] | ...): the
 * "rekey" prefix is added here. sig_alg is the KEK SIG_ALGORITHM (1 RSA,
 * 4 ECDSA-256, 5 ECDSA-384, 6 ECDSA-521); md the SIG_HASH_ALGORITHM (SHA-1
 * or SHA-2; MD5 refused). For ECDSA md may be GDOI_MD_NONE (the curve's hash
 * is implied) and otherwise must equal it. At most 15 parts.
 */
int gdoi_rekey_sign(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
		    const gdoi_bytes *parts, size_t nparts, uint8_t *sig, size_t cap,
		    size_t *sig_len);
/* The same, with flags: GDOI_REKEY_RAW_RSA signs RSA over the raw digest (the
 * reference implementation's form, quirk 3); ECDSA is unaffected. */
#define GDOI_REKEY_RAW_RSA 0x1u
int gdoi_rekey_sign_flags(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
			  const gdoi_bytes *parts, size_t nparts, unsigned flags, uint8_t *sig,
			  size_t cap, size_t *sig_len);
int gdoi_rekey_verify(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
		      const gdoi_bytes *parts, size_t nparts, gdoi_bytes sig, unsigned flags);

/*
 * IKEv2 Digital Signature authentication (RFC 7427), as G-IKEv2 signs its
 * GSA_REKEY messages: sha{256,384,512}WithRSAEncryption (PKCS#1 v1.5) or
 * ecdsa-with-SHA{256,384,512} (DER Ecdsa-Sig-Value) over parts[0] | parts[1] ...
 * (RSASSA-PSS: see gdoi_sig7427_sign_pss below)
 * algid gets the DER AlgorithmIdentifier the AUTH payload and the GCAUTH
 * transform carry (static storage). Verify takes the AlgorithmIdentifier
 * received, refuses one that does not fit the key, and returns 0 or GDOI_ERR_AUTH.
 */
int gdoi_sig7427_algid(const struct gdoi_key *key, enum gdoi_md md, gdoi_bytes *algid);
/* The hash an AlgorithmIdentifier names for this key's type, GDOI_MD_NONE if none. */
enum gdoi_md gdoi_sig7427_algid_md(const struct gdoi_key *key, gdoi_bytes algid);
int gdoi_sig7427_sign(const struct gdoi_key *key, enum gdoi_md md, const gdoi_bytes *parts,
		      size_t nparts, uint8_t *sig, size_t cap, size_t *sig_len);
int gdoi_sig7427_verify(const struct gdoi_key *key, gdoi_bytes algid, const gdoi_bytes *parts,
			size_t nparts, gdoi_bytes sig);
/* RSASSA-PSS with SHA-256 (MGF1-SHA-256, salt 32; RFC 7427 A.4.3) for an RSA key:
 * its AlgorithmIdentifier, and signing; gdoi_sig7427_verify accepts this
 * AlgorithmIdentifier for RSA keys (no other PSS parameters). */
gdoi_bytes gdoi_sig7427_algid_pss(void);
int gdoi_sig7427_sign_pss(const struct gdoi_key *key, const gdoi_bytes *parts, size_t nparts,
			  uint8_t *sig, size_t cap, size_t *sig_len);

#endif
