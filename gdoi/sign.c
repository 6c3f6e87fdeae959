/* sign.c - RSA / ECDSA keys and IKEv1 and GDOI rekey signatures over EVP (see sign.h). */
#include "sign.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "err.h"

struct gdoi_key {
	EVP_PKEY *pkey;
	enum gdoi_key_kind kind;
	bool priv;
};

/* --- loading ---------------------------------------------------------------- */

static enum gdoi_key_kind kind_of(EVP_PKEY *pkey)
{
	char name[64];
	size_t n = 0;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return EVP_PKEY_get_bits(pkey) >= GDOI_RSA_MIN_BITS ? GDOI_KEYKIND_RSA
								   : GDOI_KEYKIND_NONE;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    !EVP_PKEY_get_group_name(pkey, name, sizeof(name), &n))
		return GDOI_KEYKIND_NONE;
	if (!strcmp(name, "prime256v1") || !strcmp(name, "P-256"))
		return GDOI_KEYKIND_EC_P256;
	if (!strcmp(name, "secp384r1") || !strcmp(name, "P-384"))
		return GDOI_KEYKIND_EC_P384;
	if (!strcmp(name, "secp521r1") || !strcmp(name, "P-521"))
		return GDOI_KEYKIND_EC_P521;
	return GDOI_KEYKIND_NONE;
}

/* Takes ownership of pkey. */
static int wrap(EVP_PKEY *pkey, bool priv, struct gdoi_key **out)
{
	struct gdoi_key *k;
	enum gdoi_key_kind kind = kind_of(pkey);

	if (kind == GDOI_KEYKIND_NONE) {
		EVP_PKEY_free(pkey);
		return GDOI_ERR_UNSUPPORTED;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return GDOI_ERR_NOMEM;
	}
	k->pkey = pkey;
	k->kind = kind;
	k->priv = priv;
	*out = k;
	return GDOI_OK;
}

/* Encrypted keys would otherwise make OpenSSL ask on the terminal. */
static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[],
			 void *arg)
{
	(void)pass; (void)size; (void)len; (void)params; (void)arg;
	return 0;
}

static bool has_private(const EVP_PKEY *pkey)
{
	BIGNUM *d = NULL;
	bool ok = EVP_PKEY_get_bn_param(pkey, EVP_PKEY_is_a(pkey, "RSA") ? OSSL_PKEY_PARAM_RSA_D
									: OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
	BN_clear_free(d);
	return ok;
}

static int decode(gdoi_bytes in, int selection, struct gdoi_key **out)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = in.ptr;
	size_t left = in.len;
	int ok;

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	if (in.ptr == NULL || in.len == 0)
		return GDOI_ERR_INVALID_ARG;
	/* input type NULL: PEM or DER, any structure (PKCS#8, SPKI, type-specific) */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selection, NULL, NULL);
	if (dctx == NULL)
		return GDOI_ERR_CRYPTO;
	ok = OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) &&
	     OSSL_DECODER_from_data(dctx, &p, &left) && pkey != NULL;
	OSSL_DECODER_CTX_free(dctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return GDOI_ERR_VALUE;
	}
	if (kind_of(pkey) == GDOI_KEYKIND_NONE) {
		EVP_PKEY_free(pkey);
		return GDOI_ERR_UNSUPPORTED;
	}
	if (selection == EVP_PKEY_KEYPAIR && !has_private(pkey)) {
		EVP_PKEY_free(pkey);	/* a public key where a key pair was asked for */
		return GDOI_ERR_VALUE;
	}
	return wrap(pkey, selection == EVP_PKEY_KEYPAIR, out);
}

int gdoi_key_load_private(gdoi_bytes pem_or_der, struct gdoi_key **out)
{
	return decode(pem_or_der, EVP_PKEY_KEYPAIR, out);
}

int gdoi_key_load_public(gdoi_bytes pem_or_der, struct gdoi_key **out)
{
	return decode(pem_or_der, EVP_PKEY_PUBLIC_KEY, out);
}

/*
 * A named-curve EC key in its DER form of RFC 5480 with an uncompressed point
 * (what OpenSSL and every key server here write) is imported directly:
 * d2i_PUBKEY sets up OpenSSL's decoders, about 0.25 ms of a member's first
 * registration and 0.1 ms of each later decode (docs/performance.md). The
 * import checks that the point is on the curve; anything else, or a failed
 * import, goes through d2i_PUBKEY, which gives its own verdict.
 */
static const struct ec_spki {
	const char *curve;
	size_t len;			/* of the whole SPKI: the prefix and the point */
	uint8_t prefix[27];
	size_t plen;
} ec_spkis[] = {
	{ "P-256", 91, { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
			 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 }, 27 },
	{ "P-384", 120, { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
			  0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04 }, 24 },
	{ "P-521", 158, { 0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
			  0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00, 0x04 }, 26 },
};

/* The EC public key der holds in the form above, or NULL. */
static EVP_PKEY *ec_spki_import(gdoi_bytes der)
{
	const struct ec_spki *e = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	size_t pt;

	for (size_t i = 0; i < sizeof(ec_spkis) / sizeof(ec_spkis[0]); i++)
		if (der.len == ec_spkis[i].len && !memcmp(der.ptr, ec_spkis[i].prefix, ec_spkis[i].plen))
			e = &ec_spkis[i];
	if (e == NULL)
		return NULL;
	pt = e->plen - 1;	/* the point starts with its 0x04 */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)e->curve, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(der.ptr + pt),
						      der.len - pt);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int gdoi_key_from_spki(gdoi_bytes der, struct gdoi_key **out)
{
	const unsigned char *p = der.ptr;
	EVP_PKEY *pkey;

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	if (der.ptr == NULL || der.len == 0 || der.len > LONG_MAX)
		return GDOI_ERR_VALUE;
	if ((pkey = ec_spki_import(der)) != NULL)
		return wrap(pkey, false, out);
	ERR_clear_error();	/* a refused import leaves its reasons queued */
	pkey = d2i_PUBKEY(NULL, &p, (long)der.len);
	if (pkey == NULL)
		return GDOI_ERR_VALUE;
	if (p != der.ptr + der.len) {		/* trailing octets */
		EVP_PKEY_free(pkey);
		return GDOI_ERR_TRAILING;
	}
	return wrap(pkey, false, out);
}

int gdoi_key_to_spki(const struct gdoi_key *key, uint8_t **der, size_t *len)
{
	unsigned char *buf = NULL, *p;
	int n;

	if (key == NULL || der == NULL || len == NULL)
		return GDOI_ERR_INVALID_ARG;
	*der = NULL;
	*len = 0;
	/* Own malloc'd copy so that callers free() it like everything else. */
	if ((n = i2d_PUBKEY(key->pkey, NULL)) <= 0)
		return GDOI_ERR_CRYPTO;
	if ((buf = malloc((size_t)n)) == NULL)
		return GDOI_ERR_NOMEM;
	p = buf;
	if (i2d_PUBKEY(key->pkey, &p) != n) {
		free(buf);
		return GDOI_ERR_CRYPTO;
	}
	*der = buf;
	*len = (size_t)n;
	return GDOI_OK;
}

void gdoi_key_free(struct gdoi_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);	/* clears private components */
	free(key);
}

enum gdoi_key_kind gdoi_key_kind(const struct gdoi_key *key)
{
	return key ? key->kind : GDOI_KEYKIND_NONE;
}

size_t gdoi_key_bits(const struct gdoi_key *key)
{
	return key ? (size_t)EVP_PKEY_get_bits(key->pkey) : 0;
}

bool gdoi_key_has_private(const struct gdoi_key *key) { return key != NULL && key->priv; }

static size_t coord_len(enum gdoi_key_kind kind)
{
	switch (kind) {
	case GDOI_KEYKIND_EC_P256: return 32;
	case GDOI_KEYKIND_EC_P384: return 48;
	case GDOI_KEYKIND_EC_P521: return 66;
	default: return 0;
	}
}

size_t gdoi_key_sig_len(const struct gdoi_key *key)
{
	if (key == NULL)
		return 0;
	if (key->kind == GDOI_KEYKIND_RSA)
		return (size_t)EVP_PKEY_get_size(key->pkey);
	return 2 * coord_len(key->kind);
}

bool gdoi_key_public_equal(const struct gdoi_key *a, const struct gdoi_key *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

/* --- raw operations ------------------------------------------------------------ */

/* ECDSA DER Ecdsa-Sig-Value -> r | s with fixed-length halves. */
static int ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t clen, uint8_t *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	int ok;

	if (es == NULL)
		return GDOI_ERR_CRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, out, (int)clen) == (int)clen &&
	     BN_bn2binpad(s, out + clen, (int)clen) == (int)clen;
	ECDSA_SIG_free(es);
	return ok ? GDOI_OK : GDOI_ERR_CRYPTO;
}

/* r | s -> DER for EVP; *der is OPENSSL_malloc'd. */
static int ecdsa_rs_to_der(const uint8_t *rs, size_t clen, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)clen, NULL), *s = BN_bin2bn(rs + clen, (int)clen, NULL);
	unsigned char *buf = NULL;
	int n = -1;

	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;	/* owned by es now */
		n = i2d_ECDSA_SIG(es, &buf);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return GDOI_ERR_CRYPTO;
	*der = buf;
	*der_len = (size_t)n;
	return GDOI_OK;
}

static const char *evp_md_name(enum gdoi_md md)
{
	return md == GDOI_MD_NONE ? NULL : gdoi_md_name(md);
}

/*
 * Signs a digest (or, for RSA with md NONE, raw data) with PKCS#1 v1.5 or ECDSA.
 * RSA: md set -> DigestInfo; md NONE -> type-1 padding over tbs as given.
 */
static int sign_digest(const struct gdoi_key *key, enum gdoi_md md, gdoi_bytes tbs,
		       uint8_t *sig, size_t cap, size_t *sig_len)
{
	size_t want = gdoi_key_sig_len(key), n = 0;
	uint8_t der[160];
	EVP_PKEY_CTX *ctx;
	int rc = GDOI_ERR_CRYPTO;

	if (!key->priv)
		return GDOI_ERR_INVALID_ARG;
	if (cap < want)
		return GDOI_ERR_TOO_BIG;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if (key->kind == GDOI_KEYKIND_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		    (md != GDOI_MD_NONE &&
		     EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(evp_md_name(md))) != 1))
			goto out;
		n = cap;
		if (EVP_PKEY_sign(ctx, sig, &n, tbs.ptr, tbs.len) != 1 || n != want)
			goto out;
	} else {
		n = sizeof(der);
		if (EVP_PKEY_sign(ctx, der, &n, tbs.ptr, tbs.len) != 1 ||
		    ecdsa_der_to_rs(der, n, coord_len(key->kind), sig) != GDOI_OK)
			goto out;
	}
	*sig_len = want;
	rc = GDOI_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* Counterpart of sign_digest: 0, or GDOI_ERR_AUTH for any signature that does not verify. */
static int verify_digest(const struct gdoi_key *key, enum gdoi_md md, gdoi_bytes tbs,
			 gdoi_bytes sig)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc = GDOI_ERR_AUTH;

	if (sig.ptr == NULL || sig.len != gdoi_key_sig_len(key))
		return GDOI_ERR_AUTH;
	if (key->kind != GDOI_KEYKIND_RSA) {
		if (ecdsa_rs_to_der(sig.ptr, coord_len(key->kind), &der, &der_len) != GDOI_OK)
			return GDOI_ERR_CRYPTO;
		sig = GDOI_BYTES(der, der_len);
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) {
		rc = GDOI_ERR_CRYPTO;
		goto out;
	}
	if (key->kind == GDOI_KEYKIND_RSA &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	     (md != GDOI_MD_NONE &&
	      EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(evp_md_name(md))) != 1))) {
		rc = GDOI_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_verify(ctx, sig.ptr, sig.len, tbs.ptr, tbs.len) == 1)
		rc = GDOI_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

/* --- IKEv1 ------------------------------------------------------------------- */

/* The key kind and ECDSA pre-hash an IKE Authentication Method requires. */
static int ike_method(const struct gdoi_key *key, uint16_t auth_method, enum gdoi_md *md)
{
	enum gdoi_key_kind need;

	switch (auth_method) {
	case 3:  need = GDOI_KEYKIND_RSA;     *md = GDOI_MD_NONE;   break;
	case 9:  need = GDOI_KEYKIND_EC_P256; *md = GDOI_MD_SHA256; break;
	case 10: need = GDOI_KEYKIND_EC_P384; *md = GDOI_MD_SHA384; break;
	case 11: need = GDOI_KEYKIND_EC_P521; *md = GDOI_MD_SHA512; break;
	default: return GDOI_ERR_UNSUPPORTED;
	}
	return key->kind == need ? GDOI_OK : GDOI_ERR_VALUE;
}

uint16_t gdoi_key_ike_auth(const struct gdoi_key *key)
{
	switch (key ? key->kind : GDOI_KEYKIND_NONE) {
	case GDOI_KEYKIND_RSA: return 3;
	case GDOI_KEYKIND_EC_P256: return 9;
	case GDOI_KEYKIND_EC_P384: return 10;
	case GDOI_KEYKIND_EC_P521: return 11;
	default: return 0;
	}
}

int gdoi_ike_sign(const struct gdoi_key *key, uint16_t auth_method, gdoi_bytes hash,
		  uint8_t *sig, size_t cap, size_t *sig_len)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	enum gdoi_md md;
	int rc;

	if (key == NULL || sig == NULL || sig_len == NULL || hash.ptr == NULL || hash.len == 0)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = ike_method(key, auth_method, &md)) != GDOI_OK)
		return rc;
	if (md == GDOI_MD_NONE)		/* RSA: HASH_x itself, no DigestInfo */
		return sign_digest(key, GDOI_MD_NONE, hash, sig, cap, sig_len);
	/* RFC 4754: ECDSA with SHA-x over HASH_x */
	if ((rc = gdoi_hash(md, &hash, 1, d)) != GDOI_OK)
		return rc;
	return sign_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), sig, cap, sig_len);
}

int gdoi_ike_verify(const struct gdoi_key *key, uint16_t auth_method, gdoi_bytes hash,
		    gdoi_bytes sig)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	enum gdoi_md md;
	int rc;

	if (key == NULL || hash.ptr == NULL || hash.len == 0)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = ike_method(key, auth_method, &md)) != GDOI_OK)
		return rc;
	if (md == GDOI_MD_NONE)
		return verify_digest(key, GDOI_MD_NONE, hash, sig);
	if ((rc = gdoi_hash(md, &hash, 1, d)) != GDOI_OK)
		return rc;
	return verify_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), sig);
}

/* --- GROUPKEY-PUSH --------------------------------------------------------------- */

/* Checks (key, SIG_ALGORITHM, SIG_HASH) and computes hash("rekey" | parts). */
static int rekey_digest(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md *md,
			const gdoi_bytes *parts, size_t nparts, uint8_t *d)
{
	enum gdoi_key_kind need;
	enum gdoi_md implied = GDOI_MD_NONE;
	gdoi_bytes all[16];

	switch (sig_alg) {
	case 1: need = GDOI_KEYKIND_RSA; break;
	case 4: need = GDOI_KEYKIND_EC_P256; implied = GDOI_MD_SHA256; break;
	case 5: need = GDOI_KEYKIND_EC_P384; implied = GDOI_MD_SHA384; break;
	case 6: need = GDOI_KEYKIND_EC_P521; implied = GDOI_MD_SHA512; break;
	default: return GDOI_ERR_UNSUPPORTED;	/* DSS, ECDSS */
	}
	if (key->kind != need)
		return GDOI_ERR_VALUE;
	if (implied != GDOI_MD_NONE) {
		if (*md != GDOI_MD_NONE && *md != implied)
			return GDOI_ERR_VALUE;
		*md = implied;
	}
	if (*md == GDOI_MD_NONE || *md == GDOI_MD_MD5 || gdoi_md_len(*md) == 0)
		return GDOI_ERR_UNSUPPORTED;
	if (nparts + 1 > sizeof(all) / sizeof(all[0]) || (nparts > 0 && parts == NULL))
		return GDOI_ERR_INVALID_ARG;
	all[0] = GDOI_BYTES("rekey", 5);	/* RFC 6407 §4: no NUL */
	for (size_t i = 0; i < nparts; i++)
		all[i + 1] = parts[i];
	return gdoi_hash(*md, all, nparts + 1, d);
}

int gdoi_rekey_sign_flags(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
			  const gdoi_bytes *parts, size_t nparts, unsigned flags, uint8_t *sig,
			  size_t cap, size_t *sig_len)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	int rc;

	if (key == NULL || sig == NULL || sig_len == NULL)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = rekey_digest(key, sig_alg, &md, parts, nparts, d)) != GDOI_OK)
		return rc;
	bool raw = (flags & GDOI_REKEY_RAW_RSA) && key->kind == GDOI_KEYKIND_RSA;
	return sign_digest(key, raw ? GDOI_MD_NONE : md, GDOI_BYTES(d, gdoi_md_len(md)), sig, cap,
			   sig_len);
}

int gdoi_rekey_sign(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
		    const gdoi_bytes *parts, size_t nparts, uint8_t *sig, size_t cap,
		    size_t *sig_len)
{
	return gdoi_rekey_sign_flags(key, sig_alg, md, parts, nparts, 0, sig, cap, sig_len);
}

int gdoi_rekey_verify(const struct gdoi_key *key, uint16_t sig_alg, enum gdoi_md md,
		      const gdoi_bytes *parts, size_t nparts, gdoi_bytes sig, unsigned flags)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	gdoi_bytes digest;
	int rc;

	if (key == NULL)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = rekey_digest(key, sig_alg, &md, parts, nparts, d)) != GDOI_OK)
		return rc;
	digest = GDOI_BYTES(d, gdoi_md_len(md));
	rc = verify_digest(key, md, digest, sig);
	if (rc == GDOI_ERR_AUTH && key->kind == GDOI_KEYKIND_RSA && (flags & GDOI_REKEY_ACCEPT_RAW_RSA))
		rc = verify_digest(key, GDOI_MD_NONE, digest, sig);
	return rc;
}

/* --- IKEv2 Digital Signature (RFC 7427), used by G-IKEv2 GSA_REKEY ---------- */

/* DER AlgorithmIdentifiers of RFC 7427 Appendix A: sha{256,384,512}WithRSAEncryption
 * (with the NULL parameters) and ecdsa-with-SHA{256,384,512} (no parameters). */
static const uint8_t algid_rsa[3][15] = {
	{ 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 },
	{ 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 },
	{ 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00 },
};
static const uint8_t algid_ecdsa[3][12] = {
	{ 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 },
	{ 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 },
	{ 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 },
};

static int md_index(enum gdoi_md md)
{
	return md == GDOI_MD_SHA256 ? 0 : md == GDOI_MD_SHA384 ? 1 : md == GDOI_MD_SHA512 ? 2 : -1;
}

int gdoi_sig7427_algid(const struct gdoi_key *key, enum gdoi_md md, gdoi_bytes *algid)
{
	int i = md_index(md);
	if (key == NULL || algid == NULL || i < 0)
		return GDOI_ERR_UNSUPPORTED;
	if (key->kind == GDOI_KEYKIND_RSA)
		*algid = GDOI_BYTES(algid_rsa[i], sizeof(algid_rsa[i]));
	else
		*algid = GDOI_BYTES(algid_ecdsa[i], sizeof(algid_ecdsa[i]));
	return GDOI_OK;
}

enum gdoi_md gdoi_sig7427_algid_md(const struct gdoi_key *key, gdoi_bytes algid)
{
	static const enum gdoi_md mds[3] = { GDOI_MD_SHA256, GDOI_MD_SHA384, GDOI_MD_SHA512 };
	for (int i = 0; i < 3; i++) {
		gdoi_bytes want;
		if (gdoi_sig7427_algid(key, mds[i], &want) == GDOI_OK && algid.len == want.len &&
		    memcmp(algid.ptr, want.ptr, want.len) == 0)
			return mds[i];
	}
	return GDOI_MD_NONE;
}

int gdoi_sig7427_sign(const struct gdoi_key *key, enum gdoi_md md, const gdoi_bytes *parts,
		      size_t nparts, uint8_t *sig, size_t cap, size_t *sig_len)
{
	uint8_t d[GDOI_MD_MAX_LEN], rs[GDOI_SIG_MAX_LEN];
	size_t n = 0;
	int rc;

	if (key == NULL || sig == NULL || sig_len == NULL || md_index(md) < 0)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = gdoi_hash(md, parts, nparts, d)) != GDOI_OK)
		return rc;
	if (key->kind == GDOI_KEYKIND_RSA)
		return sign_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), sig, cap, sig_len);
	/* ECDSA: RFC 7427 carries the DER Ecdsa-Sig-Value */
	if ((rc = sign_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), rs, sizeof(rs), &n)))
		return rc;
	uint8_t *der = NULL;
	size_t der_len = 0;
	if ((rc = ecdsa_rs_to_der(rs, coord_len(key->kind), &der, &der_len)) != GDOI_OK)
		return rc;
	if (der_len > cap)
		rc = GDOI_ERR_TOO_BIG;
	else {
		memcpy(sig, der, der_len);
		*sig_len = der_len;
	}
	OPENSSL_free(der);
	return rc;
}

/* RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt 32 octets, trailer 1 (RFC 7427
 * Appendix A.4.3's parameters; the octets OpenSSL writes for them). */
static const uint8_t algid_pss256[67] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
};

gdoi_bytes gdoi_sig7427_algid_pss(void)
{
	return GDOI_BYTES(algid_pss256, sizeof(algid_pss256));
}

/* A sign or verify context of key with the PSS parameters above. */
static EVP_PKEY_CTX *pss_ctx(const struct gdoi_key *key, bool sign)
{
	const EVP_MD *sha256 = EVP_sha256();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

	if (ctx == NULL || (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, sha256) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, sha256) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int gdoi_sig7427_sign_pss(const struct gdoi_key *key, const gdoi_bytes *parts, size_t nparts,
			  uint8_t *sig, size_t cap, size_t *sig_len)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	size_t want, n = cap;
	EVP_PKEY_CTX *ctx;
	int rc;

	if (key == NULL || sig == NULL || sig_len == NULL || key->kind != GDOI_KEYKIND_RSA || !key->priv)
		return GDOI_ERR_INVALID_ARG;
	if (cap < (want = gdoi_key_sig_len(key)))
		return GDOI_ERR_TOO_BIG;
	if ((rc = gdoi_hash(GDOI_MD_SHA256, parts, nparts, d)) != GDOI_OK)
		return rc;
	if ((ctx = pss_ctx(key, true)) == NULL)
		return GDOI_ERR_CRYPTO;
	rc = EVP_PKEY_sign(ctx, sig, &n, d, 32) == 1 && n == want ? GDOI_OK : GDOI_ERR_CRYPTO;
	EVP_PKEY_CTX_free(ctx);
	if (rc == GDOI_OK)
		*sig_len = n;
	return rc;
}

static int verify_pss(const struct gdoi_key *key, const gdoi_bytes *parts, size_t nparts,
		      gdoi_bytes sig)
{
	uint8_t d[GDOI_MD_MAX_LEN];
	EVP_PKEY_CTX *ctx;
	int rc;

	if (sig.len != gdoi_key_sig_len(key))
		return GDOI_ERR_AUTH;
	if ((rc = gdoi_hash(GDOI_MD_SHA256, parts, nparts, d)) != GDOI_OK)
		return rc;
	if ((ctx = pss_ctx(key, false)) == NULL)
		return GDOI_ERR_CRYPTO;
	rc = EVP_PKEY_verify(ctx, sig.ptr, sig.len, d, 32) == 1 ? GDOI_OK : GDOI_ERR_AUTH;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int gdoi_sig7427_verify(const struct gdoi_key *key, gdoi_bytes algid, const gdoi_bytes *parts,
			size_t nparts, gdoi_bytes sig)
{
	uint8_t d[GDOI_MD_MAX_LEN], rs[GDOI_SIG_MAX_LEN];
	enum gdoi_md md;
	int rc;

	if (key == NULL || sig.ptr == NULL)
		return GDOI_ERR_AUTH;
	if (key->kind == GDOI_KEYKIND_RSA && algid.len == sizeof(algid_pss256) &&
	    memcmp(algid.ptr, algid_pss256, sizeof(algid_pss256)) == 0)
		return verify_pss(key, parts, nparts, sig);
	if ((md = gdoi_sig7427_algid_md(key, algid)) == GDOI_MD_NONE)
		return GDOI_ERR_AUTH;	/* not the algorithm the key and policy agreed on */
	if ((rc = gdoi_hash(md, parts, nparts, d)) != GDOI_OK)
		return rc;
	if (key->kind == GDOI_KEYKIND_RSA)
		return verify_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), sig);
	size_t clen = coord_len(key->kind);
	if (ecdsa_der_to_rs(sig.ptr, sig.len, clen, rs) != GDOI_OK)
		return GDOI_ERR_AUTH;
	/* only the canonical DER of (r, s): nothing after it, no other encoding */
	uint8_t *der = NULL;
	size_t der_len = 0;
	if (ecdsa_rs_to_der(rs, clen, &der, &der_len) != GDOI_OK)
		return GDOI_ERR_CRYPTO;
	bool same = der_len == sig.len && memcmp(der, sig.ptr, der_len) == 0;
	OPENSSL_free(der);
	if (!same)
		return GDOI_ERR_AUTH;
	return verify_digest(key, md, GDOI_BYTES(d, gdoi_md_len(md)), GDOI_BYTES(rs, 2 * clen));
}
