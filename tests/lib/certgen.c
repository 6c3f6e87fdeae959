/* certgen.c - see certgen.h. */
#include "certgen.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/lib/rsa_keys.h"

/* RSA: the fixed keys of rsa_keys.c in turn, so that consecutive calls differ
 * (generating RSA-2048 under valgrind takes tens of seconds a key); EC: fresh. */
EVP_PKEY *certgen_key(const char *kind)
{
	static unsigned rsa_next;
	if (!strcmp(kind, "rsa2048")) {
		BIO *b = BIO_new_mem_buf(certgen_rsa2048_pem[rsa_next++ % CERTGEN_RSA2048_KEYS], -1);
		EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		return k;
	}
	const char *curve = !strcmp(kind, "p256") ? "P-256" : !strcmp(kind, "p384") ? "P-384"
			  : !strcmp(kind, "p521") ? "P-521" : NULL;
	return curve ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve) : NULL;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

X509 *certgen_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
		   const char *san, bool ca)
{
	return certgen_cert_ex(key, issuer_key, issuer, cn, san, ca, 0);
}

X509 *certgen_cert_ex(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
		      const char *san, bool ca, unsigned flags)
{
	static long serial = 1;
	X509 *x = X509_new();
	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"gdoi-srtp tests", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	int rc = add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (!rc && ca)
		rc = add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (!rc && !ca && (flags & CERTGEN_LEAF_KU))
		rc = add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
	if (!rc && san)
		rc = add_ext(x, issuer, NID_subject_alt_name, san);
	if (!rc && (flags & CERTGEN_KEY_IDS))
		rc = add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (!rc && (flags & CERTGEN_KEY_IDS) && issuer)
		rc = add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (rc || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

uint8_t *certgen_cert_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return NULL;
	uint8_t *out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return out;
}

uint8_t *certgen_key_der(EVP_PKEY *k, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_PrivateKey(k, &der);
	if (n <= 0)
		return NULL;
	uint8_t *out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	OPENSSL_clear_free(der, (size_t)n);
	*len = (size_t)n;
	return out;
}

uint8_t *certgen_subject_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(x), &der);
	if (n <= 0)
		return NULL;
	uint8_t *out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return out;
}
