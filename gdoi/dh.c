/* dh.c - MODP and ECP Diffie-Hellman over OpenSSL 3 EVP (see dh.h). */
#include "dh.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "err.h"

struct group_info {
	uint16_t id;
	bool ecp;
	/* OpenSSL group name; NULL for MODP-1024, which OpenSSL 3 does not name,
	 * so it is built from its prime (p, g = 2, no q). */
	const char *name;
	size_t len;			/* prime length, or coordinate length */
	BIGNUM *(*prime)(BIGNUM *);	/* MODP */
	int nid;			/* ECP */
	bool x25519;			/* RFC 8031: raw 32-octet keys (RFC 7748) */
};

static const struct group_info groups[] = {
	{ 2,  false, NULL,        128, BN_get_rfc2409_prime_1024, 0, false },
	{ 5,  false, "modp_1536", 192, BN_get_rfc3526_prime_1536, 0, false },
	{ 14, false, "modp_2048", 256, BN_get_rfc3526_prime_2048, 0, false },
	{ 15, false, "modp_3072", 384, BN_get_rfc3526_prime_3072, 0, false },
	{ 16, false, "modp_4096", 512, BN_get_rfc3526_prime_4096, 0, false },
	{ 19, true,  "P-256",      32, NULL, NID_X9_62_prime256v1, false },
	{ 20, true,  "P-384",      48, NULL, NID_secp384r1, false },
	{ 21, true,  "P-521",      66, NULL, NID_secp521r1, false },
	{ 31, false, "X25519",     32, NULL, 0, true },
};

struct gdoi_dh {
	const struct group_info *g;
	EVP_PKEY *pkey;
	size_t pub_len;
	uint8_t pub[GDOI_DH_MAX_PUBLIC_LEN];
};

static const struct group_info *find_group(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

bool gdoi_dh_supported(uint16_t group) { return find_group(group) != NULL; }

bool gdoi_dh_is_ecp(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g != NULL && g->ecp;
}

size_t gdoi_dh_public_len(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g == NULL ? 0 : g->ecp ? 2 * g->len : g->len;
}

bool gdoi_dh_is_x25519(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g != NULL && g->x25519;
}

size_t gdoi_dh_secret_len(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g == NULL ? 0 : g->len;
}

int gdoi_dh_prime(uint16_t group, uint8_t *out, size_t cap)
{
	const struct group_info *g = find_group(group);
	BIGNUM *p;
	int rc = GDOI_ERR_CRYPTO;

	if (g == NULL || g->ecp || g->x25519)
		return GDOI_ERR_UNSUPPORTED;
	if (out == NULL || cap < g->len)
		return GDOI_ERR_INVALID_ARG;
	if ((p = g->prime(NULL)) != NULL && BN_bn2binpad(p, out, (int)g->len) == (int)g->len)
		rc = GDOI_OK;
	BN_free(p);
	return rc;
}

/* --- building EVP_PKEYs ----------------------------------------------------- */

/* Domain parameters: a group name, or p and g for MODP-1024. */
static int push_domain(OSSL_PARAM_BLD *bld, const struct group_info *g, BIGNUM **p, BIGNUM **gen)
{
	if (g->name != NULL)
		return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0);
	if ((*p = g->prime(NULL)) == NULL || (*gen = BN_new()) == NULL || !BN_set_word(*gen, 2))
		return 0;
	return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *p) &&
	       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gen);
}

/*
 * An EVP_PKEY of the group from raw parts: pub is a BIGNUM (MODP) or an
 * uncompressed point (ECP); priv is optional. selection is an EVP_PKEY_* value.
 */
static EVP_PKEY *pkey_fromdata(const struct group_info *g, const BIGNUM *pub_bn,
			       const uint8_t *pub_pt, size_t pub_pt_len, const BIGNUM *priv,
			       int selection)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL, *gen = NULL;
	int ok;

	ok = bld != NULL && push_domain(bld, g, &p, &gen);
	if (ok && pub_bn != NULL)
		ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub_bn);
	if (ok && pub_pt != NULL)
		ok = OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub_pt, pub_pt_len);
	if (ok && priv != NULL)
		ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
	ok = ok && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL;
	ok = ok && (ctx = EVP_PKEY_CTX_new_from_name(NULL, g->ecp ? "EC" : "DH", NULL)) != NULL;
	ok = ok && EVP_PKEY_fromdata_init(ctx) == 1;
	if (ok && EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);	/* a secure BN was copied to a block freed with secure_clear_free */
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return pkey;
}

static EVP_PKEY *generate_by_name(const struct group_info *g);

/*
 * One parameters-only EVP_PKEY per curve, made once: building a key from the
 * group's name sets the curve up (EC_GROUP_new_by_curve_name, its Montgomery
 * constants) each time, which cost about as much as the key generation it
 * served. Keys made from a template copy its group. Each curve is made on its
 * first use: a member uses one, and making all three cost its start-up about
 * 0.1 ms. Read-only once made, so every thread shares them; kept for the life
 * of the process.
 */
static EVP_PKEY *curve_params[3];	/* P-256, P-384, P-521 */
static pthread_once_t curve_once[3] = { PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT };

static size_t curve_index(const struct group_info *g)
{
	return g->id == 19 ? 0 : g->id == 20 ? 1 : 2;
}

static void curve_make(size_t index)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].ecp && curve_index(&groups[i]) == index)
			curve_params[index] = pkey_fromdata(&groups[i], NULL, NULL, 0, NULL, EVP_PKEY_KEY_PARAMETERS);
}

static void curve_make_p256(void) { curve_make(0); }
static void curve_make_p384(void) { curve_make(1); }
static void curve_make_p521(void) { curve_make(2); }

/* The curve's template, or NULL if it could not be made (the caller then
 * builds the key from the group's name). */
static EVP_PKEY *curve_template(const struct group_info *g)
{
	static void (*const make[3])(void) = { curve_make_p256, curve_make_p384, curve_make_p521 };
	size_t i = curve_index(g);

	pthread_once(&curve_once[i], make[i]);
	return curve_params[i];
}

/* A peer's SEC1 point as a public key of the template's curve. */
static EVP_PKEY *curve_public(EVP_PKEY *tmpl, const uint8_t *pt, size_t len)
{
	EVP_PKEY *pkey = EVP_PKEY_new();

	if (pkey == NULL || EVP_PKEY_copy_parameters(pkey, tmpl) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(pkey, pt, len) != 1) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *generate(const struct group_info *g)
{
	EVP_PKEY *tmpl = g->ecp ? curve_template(g) : NULL;

	if (tmpl != NULL) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, tmpl, NULL);
		EVP_PKEY *k = NULL;
		if (c == NULL || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_generate(c, &k) != 1)
			k = NULL;
		EVP_PKEY_CTX_free(c);
		return k;
	}
	return generate_by_name(g);
}

static EVP_PKEY *generate_by_name(const struct group_info *g)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *params = NULL, *pkey = NULL;

	if (g->x25519) {
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
		if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1)
			pkey = NULL;
	} else if (g->name != NULL) {
		OSSL_PARAM p[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0),
			OSSL_PARAM_construct_end(),
		};
		ctx = EVP_PKEY_CTX_new_from_name(NULL, g->ecp ? "EC" : "DH", NULL);
		if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_params(ctx, p) != 1 ||
		    EVP_PKEY_generate(ctx, &pkey) != 1)
			pkey = NULL;
	} else {
		/* MODP-1024: key generation from explicit domain parameters. */
		params = pkey_fromdata(g, NULL, NULL, 0, NULL, EVP_PKEY_KEY_PARAMETERS);
		if (params != NULL && (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) != NULL &&
		    (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1))
			pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return pkey;
}

/* Our public value in KE encoding (padded integer, or x | y). */
static int export_public(struct gdoi_dh *dh)
{
	const struct group_info *g = dh->g;
	BIGNUM *a = NULL;
	int ok;

	if (g->x25519) {
		size_t n = g->len;
		ok = EVP_PKEY_get_raw_public_key(dh->pkey, dh->pub, &n) == 1 && n == g->len;
		dh->pub_len = g->len;
	} else if (!g->ecp) {
		ok = EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &a) == 1 &&
		     BN_bn2binpad(a, dh->pub, (int)g->len) == (int)g->len;
		dh->pub_len = g->len;
	} else {
		/* SEC1 uncompressed 04 | X | Y, the form OpenSSL keeps: one copy,
		 * where asking for X and Y built two BIGNUMs through OSSL_PARAMs. */
		uint8_t pt[1 + 2 * 66];
		size_t n = 0;
		ok = EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
						     sizeof(pt), &n) == 1 &&
		     n == 1 + 2 * g->len && pt[0] == POINT_CONVERSION_UNCOMPRESSED;
		if (ok)
			memcpy(dh->pub, pt + 1, 2 * g->len);
		dh->pub_len = 2 * g->len;
	}
	BN_free(a);
	return ok ? GDOI_OK : GDOI_ERR_CRYPTO;
}

static int wrap(const struct group_info *g, EVP_PKEY *pkey, struct gdoi_dh **out)
{
	struct gdoi_dh *dh;
	int rc;

	if (pkey == NULL)
		return GDOI_ERR_CRYPTO;
	if ((dh = calloc(1, sizeof(*dh))) == NULL) {
		EVP_PKEY_free(pkey);
		return GDOI_ERR_NOMEM;
	}
	dh->g = g;
	dh->pkey = pkey;
	if ((rc = export_public(dh)) != GDOI_OK) {
		gdoi_dh_free(dh);
		return rc;
	}
	*out = dh;
	return GDOI_OK;
}

int gdoi_dh_new(uint16_t group, struct gdoi_dh **out)
{
	const struct group_info *g = find_group(group);

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	if (g == NULL)
		return GDOI_ERR_UNSUPPORTED;
	return wrap(g, generate(g), out);
}

/* g^x mod p (MODP) or the point x*G as 04 | X | Y (ECP), for a given private value. */
static int public_from_private(const struct group_info *g, const BIGNUM *x, BIGNUM **pub_bn,
			       uint8_t *pt, size_t *pt_len)
{
	BN_CTX *bnctx = BN_CTX_new();
	int ok = 0;

	if (bnctx == NULL)
		return 0;
	if (!g->ecp) {
		BIGNUM *p = g->prime(NULL), *gen = BN_new();
		*pub_bn = BN_new();
		ok = p != NULL && gen != NULL && *pub_bn != NULL && BN_set_word(gen, 2) &&
		     BN_mod_exp(*pub_bn, gen, x, p, bnctx);
		BN_free(p);
		BN_free(gen);
	} else {
		EC_GROUP *grp = EC_GROUP_new_by_curve_name(g->nid);
		EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
		ok = q != NULL && EC_POINT_mul(grp, q, x, NULL, NULL, bnctx) &&
		     (*pt_len = EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pt,
						   1 + 2 * g->len, bnctx)) == 1 + 2 * g->len;
		EC_POINT_free(q);
		EC_GROUP_free(grp);
	}
	BN_CTX_free(bnctx);
	return ok;
}

int gdoi_dh_new_from_private(uint16_t group, gdoi_bytes priv, struct gdoi_dh **out)
{
	const struct group_info *g = find_group(group);
	uint8_t pt[1 + 2 * 66];
	size_t pt_len = 0;
	BIGNUM *x = NULL, *pub = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = GDOI_ERR_CRYPTO;

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	if (g == NULL)
		return GDOI_ERR_UNSUPPORTED;
	if (priv.ptr == NULL || priv.len == 0 || priv.len > (g->ecp ? g->len : GDOI_DH_MAX_SECRET_LEN))
		return GDOI_ERR_INVALID_ARG;
	if (g->x25519) {	/* RFC 7748 §5: the 32 raw octets; clamping is X25519's */
		if (priv.len != g->len)
			return GDOI_ERR_INVALID_ARG;
		return wrap(g, EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv.ptr, priv.len),
			    out);
	}
	if ((x = BN_secure_new()) == NULL || BN_bin2bn(priv.ptr, (int)priv.len, x) == NULL)
		goto out;
	if (BN_is_zero(x) || BN_is_one(x)) {
		rc = GDOI_ERR_INVALID_ARG;
		goto out;
	}
	if (!public_from_private(g, x, &pub, pt, &pt_len))
		goto out;
	pkey = pkey_fromdata(g, g->ecp ? NULL : pub, g->ecp ? pt : NULL, pt_len, x, EVP_PKEY_KEYPAIR);
	rc = wrap(g, pkey, out);
out:
	BN_clear_free(x);
	BN_free(pub);
	return rc;
}

void gdoi_dh_free(struct gdoi_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->pkey);	/* clears the private key */
	OPENSSL_cleanse(dh, sizeof(*dh));
	free(dh);
}

uint16_t gdoi_dh_group(const struct gdoi_dh *dh) { return dh ? dh->g->id : 0; }

gdoi_bytes gdoi_dh_public(const struct gdoi_dh *dh)
{
	return dh ? GDOI_BYTES(dh->pub, dh->pub_len) : GDOI_BYTES_NONE;
}

/* --- peer values ------------------------------------------------------------ */

/* RFC 6989 §2.1: 1 < y < p-1. The subgroup test (y^q = 1) is left to
 * EVP_PKEY_public_check, which knows q for the named RFC 3526 groups. */
static int modp_range_ok(const struct group_info *g, const BIGNUM *y)
{
	BIGNUM *p = g->prime(NULL);
	int ok = p != NULL && BN_sub_word(p, 1) &&	/* p := p - 1 */
		 BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, p) < 0;
	BN_free(p);
	return ok;
}

/* Validates a peer KE body and returns it as an EVP_PKEY of the group. */
static int peer_pkey(const struct group_info *g, gdoi_bytes peer, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *y = NULL;
	uint8_t pt[1 + 2 * 66];
	int rc = GDOI_ERR_DH_VALUE;

	*out = NULL;
	if (peer.ptr == NULL || peer.len != (g->ecp ? 2 * g->len : g->len))
		return GDOI_ERR_DH_VALUE;
	if (g->x25519) {
		/* RFC 8031 §2.3: any 32 octets are a public value; a low-order one
		 * shows as an all-zero shared secret, refused in gdoi_dh_derive. */
		*out = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer.ptr, peer.len);
		return *out ? GDOI_OK : GDOI_ERR_DH_VALUE;
	}
	if (!g->ecp) {
		if ((y = BN_bin2bn(peer.ptr, (int)peer.len, NULL)) == NULL)
			return GDOI_ERR_NOMEM;
		if (!modp_range_ok(g, y))
			goto out;
		pkey = pkey_fromdata(g, y, NULL, 0, NULL, EVP_PKEY_PUBLIC_KEY);
	} else {
		/* RFC 5903 x | y becomes SEC1 uncompressed; decoding checks it is on the curve. */
		EVP_PKEY *tmpl = curve_template(g);
		pt[0] = POINT_CONVERSION_UNCOMPRESSED;
		memcpy(pt + 1, peer.ptr, peer.len);
		pkey = tmpl != NULL ? curve_public(tmpl, pt, 1 + peer.len)
				    : pkey_fromdata(g, NULL, pt, 1 + peer.len, NULL, EVP_PKEY_PUBLIC_KEY);
	}
	if (pkey == NULL)
		goto out;
	/*
	 * MODP: y^q = 1, the prime-order subgroup (stricter than RFC 6989 asks
	 * of safe primes: an order-2q value would tell the peer our low bit).
	 * ECP: on the curve and not infinity (RFC 6989 §2.3). P-256/384/521 have
	 * cofactor 1, so every such point has the group's prime order: the full
	 * check's n*Q = O would cost a second scalar multiplication and tell
	 * nothing more.
	 */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    (g->ecp ? EVP_PKEY_public_check_quick(ctx) : EVP_PKEY_public_check(ctx)) != 1)
		goto out;
	*out = pkey;
	pkey = NULL;
	rc = GDOI_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BN_free(y);
	return rc;
}

int gdoi_dh_check_peer(uint16_t group, gdoi_bytes peer)
{
	const struct group_info *g = find_group(group);
	EVP_PKEY *pkey;
	int rc;

	if (g == NULL)
		return GDOI_ERR_UNSUPPORTED;
	rc = peer_pkey(g, peer, &pkey);
	EVP_PKEY_free(pkey);
	return rc;
}

int gdoi_dh_derive(const struct gdoi_dh *dh, gdoi_bytes peer, uint8_t *out, size_t cap,
		   size_t *len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer_key = NULL;
	size_t n = 0;
	int rc;

	if (dh == NULL || out == NULL || len == NULL)
		return GDOI_ERR_INVALID_ARG;
	*len = 0;
	if (cap < dh->g->len)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = peer_pkey(dh->g, peer, &peer_key)) != GDOI_OK)
		return rc;
	rc = GDOI_ERR_CRYPTO;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	/* IKE wants g^xy at full prime length, leading zeros kept. */
	if (!dh->g->ecp && !dh->g->x25519) {
		unsigned int pad = 1;
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad),
			OSSL_PARAM_construct_end(),
		};
		if (EVP_PKEY_CTX_set_params(ctx, params) != 1)
			goto out;
	}
	/* peer_pkey validated it: no second check (validate_peer = 0) */
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 0) != 1 ||
	    EVP_PKEY_derive(ctx, NULL, &n) != 1 || n > cap)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &n) != 1 || n != dh->g->len) {
		OPENSSL_cleanse(out, cap);
		/* OpenSSL itself refuses an all-zero X25519 result */
		if (dh->g->x25519)
			rc = GDOI_ERR_DH_VALUE;
		goto out;
	}
	if (dh->g->x25519) {	/* RFC 7748 §6.1, RFC 8031 §2.3: all-zero output */
		uint8_t acc = 0;
		for (size_t i = 0; i < n; i++)
			acc |= out[i];
		if (acc == 0) {
			rc = GDOI_ERR_DH_VALUE;
			goto out;
		}
	}
	*len = n;
	rc = GDOI_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer_key);
	return rc;
}
