/* cert.c - X.509 loading, chain verification and identities (see cert.h). */
#include "cert.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"

enum { ID_IPV4 = 1, ID_FQDN = 2, ID_USER_FQDN = 3, ID_IPV6 = 5, ID_DN = 9 };

struct gdoi_cert {
	X509 *x;
	uint8_t *der;
	size_t der_len;
	uint8_t *subject;
	size_t subject_len;
	struct gdoi_cert_id *ids;	/* each data.ptr is owned (malloc'd) */
	size_t nids;
};

struct gdoi_trust {
	X509_STORE *store;
	/* RFC 7296 §3.7: SHA-1 of each anchor's SubjectPublicKeyInfo, kept as
	 * anchors are added (the CERTREQ's Certification Authority field) */
	uint8_t *ca_hashes;
	size_t nca_hashes;
};

/* --- loading ---------------------------------------------------------------- */

static bool looks_pem(gdoi_bytes in)
{
	static const char tag[] = "-----BEGIN";
	size_t i = 0;

	while (i < in.len && isspace(in.ptr[i]))
		i++;
	return in.len - i >= sizeof(tag) - 1 && memcmp(in.ptr + i, tag, sizeof(tag) - 1) == 0;
}

/* Strict DER: exactly one certificate and nothing after it. */
static X509 *parse_der(gdoi_bytes der)
{
	const unsigned char *p = der.ptr;
	X509 *x;

	if (der.ptr == NULL || der.len == 0 || der.len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)der.len);
	if (x != NULL && p != der.ptr + der.len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int add_id(struct gdoi_cert *c, uint8_t type, const uint8_t *data, size_t len)
{
	struct gdoi_cert_id *ids = realloc(c->ids, (c->nids + 1) * sizeof(*ids));
	uint8_t *copy;

	if (ids == NULL)
		return GDOI_ERR_NOMEM;
	c->ids = ids;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return GDOI_ERR_NOMEM;
	if (len)
		memcpy(copy, data, len);
	ids[c->nids].type = type;
	ids[c->nids].data = GDOI_BYTES(copy, len);
	c->nids++;
	return GDOI_OK;
}

static int add_name_id(struct gdoi_cert *c, const X509_NAME *name)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(name, &der), rc;

	if (n <= 0)
		return GDOI_ERR_CRYPTO;
	rc = add_id(c, ID_DN, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

/* The subjectAltNames that have an ISAKMP ID type; others are ignored. */
static int collect_altnames(struct gdoi_cert *c)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c->x, NID_subject_alt_name, NULL, NULL);
	int rc = GDOI_OK;

	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && rc == GDOI_OK; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s = NULL;
		uint8_t type = 0;

		switch (gn->type) {
		case GEN_DNS:   s = gn->d.dNSName;    type = ID_FQDN; break;
		case GEN_EMAIL: s = gn->d.rfc822Name; type = ID_USER_FQDN; break;
		case GEN_IPADD:
			s = gn->d.iPAddress;
			type = ASN1_STRING_length(s) == 4 ? ID_IPV4
			     : ASN1_STRING_length(s) == 16 ? ID_IPV6 : 0;
			break;
		case GEN_DIRNAME:
			rc = add_name_id(c, gn->d.directoryName);
			continue;
		default:
			continue;
		}
		if (type != 0)
			rc = add_id(c, type, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Takes ownership of x. */
static int cert_from_x509(X509 *x, struct gdoi_cert **out)
{
	struct gdoi_cert *c = calloc(1, sizeof(*c));
	unsigned char *p;
	int n, rc = GDOI_ERR_CRYPTO;

	if (c == NULL) {
		X509_free(x);
		return GDOI_ERR_NOMEM;
	}
	c->x = x;
	if ((n = i2d_X509(x, NULL)) <= 0)
		goto fail;
	if ((c->der = malloc((size_t)n)) == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto fail;
	}
	p = c->der;
	if (i2d_X509(x, &p) != n)
		goto fail;
	c->der_len = (size_t)n;

	p = NULL;
	if ((n = i2d_X509_NAME(X509_get_subject_name(x), &p)) <= 0)
		goto fail;
	c->subject = malloc((size_t)n);
	if (c->subject != NULL)
		memcpy(c->subject, p, (size_t)n);
	OPENSSL_free(p);
	if (c->subject == NULL) {
		rc = GDOI_ERR_NOMEM;
		goto fail;
	}
	c->subject_len = (size_t)n;

	if (X509_NAME_entry_count(X509_get_subject_name(x)) > 0 &&
	    (rc = add_name_id(c, X509_get_subject_name(x))) != GDOI_OK)
		goto fail;
	if ((rc = collect_altnames(c)) != GDOI_OK)
		goto fail;
	*out = c;
	return GDOI_OK;
fail:
	gdoi_cert_free(c);
	return rc;
}

int gdoi_cert_load(gdoi_bytes pem_or_der, struct gdoi_cert **out)
{
	X509 *x = NULL;

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	if (pem_or_der.ptr == NULL || pem_or_der.len == 0 || pem_or_der.len > INT_MAX)
		return GDOI_ERR_INVALID_ARG;
	if (looks_pem(pem_or_der)) {
		BIO *bio = BIO_new_mem_buf(pem_or_der.ptr, (int)pem_or_der.len);
		if (bio == NULL)
			return GDOI_ERR_NOMEM;
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		x = parse_der(pem_or_der);
	}
	if (x == NULL) {
		ERR_clear_error();
		return GDOI_ERR_VALUE;
	}
	return cert_from_x509(x, out);
}

void gdoi_cert_free(struct gdoi_cert *cert)
{
	if (cert == NULL)
		return;
	for (size_t i = 0; i < cert->nids; i++)
		free((void *)cert->ids[i].data.ptr);
	free(cert->ids);
	free(cert->subject);
	free(cert->der);
	X509_free(cert->x);
	free(cert);
}

gdoi_bytes gdoi_cert_der(const struct gdoi_cert *cert)
{
	return cert ? GDOI_BYTES(cert->der, cert->der_len) : GDOI_BYTES_NONE;
}

gdoi_bytes gdoi_cert_subject_der(const struct gdoi_cert *cert)
{
	return cert ? GDOI_BYTES(cert->subject, cert->subject_len) : GDOI_BYTES_NONE;
}

const struct gdoi_cert_id *gdoi_cert_ids(const struct gdoi_cert *cert, size_t *n)
{
	*n = cert ? cert->nids : 0;
	return cert ? cert->ids : NULL;
}

int gdoi_cert_public_key(const struct gdoi_cert *cert, struct gdoi_key **out)
{
	unsigned char *der = NULL;
	int n, rc;

	if (cert == NULL || out == NULL)
		return GDOI_ERR_INVALID_ARG;
	*out = NULL;
	/* Through SubjectPublicKeyInfo, so that sign.c stays the one owner of key rules. */
	if ((n = i2d_PUBKEY(X509_get0_pubkey(cert->x), &der)) <= 0)
		return GDOI_ERR_CRYPTO;
	rc = gdoi_key_from_spki(GDOI_BYTES(der, (size_t)n), out);
	OPENSSL_free(der);
	return rc;
}

/* --- identities -------------------------------------------------------------- */

static bool equal_nocase(gdoi_bytes a, gdoi_bytes b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (tolower(a.ptr[i]) != tolower(b.ptr[i]))
			return false;
	return true;
}

static X509_NAME *parse_name(gdoi_bytes der)
{
	const unsigned char *p = der.ptr;
	X509_NAME *name;

	if (der.ptr == NULL || der.len == 0 || der.len > LONG_MAX)
		return NULL;
	name = d2i_X509_NAME(NULL, &p, (long)der.len);
	if (name != NULL && p != der.ptr + der.len) {
		X509_NAME_free(name);
		name = NULL;
	}
	return name;
}

int gdoi_cert_match_id(const struct gdoi_cert *cert, uint8_t id_type, gdoi_bytes data)
{
	X509_NAME *want = NULL;
	bool match = false;

	if (cert == NULL)
		return GDOI_ERR_INVALID_ARG;
	if (id_type == ID_DN && (want = parse_name(data)) == NULL) {
		ERR_clear_error();
		return GDOI_ERR_NOT_AUTHORIZED;
	}
	for (size_t i = 0; i < cert->nids && !match; i++) {
		const struct gdoi_cert_id *id = &cert->ids[i];
		if (id->type != id_type)
			continue;
		switch (id_type) {
		case ID_DN: {
			/* X509_NAME_cmp compares canonical forms: case and spacing folded. */
			X509_NAME *have = parse_name(id->data);
			match = have != NULL && X509_NAME_cmp(have, want) == 0;
			X509_NAME_free(have);
			break;
		}
		case ID_FQDN:
		case ID_USER_FQDN:
			match = equal_nocase(id->data, data);
			break;
		case ID_IPV4:
		case ID_IPV6:
			match = id->data.len == data.len && memcmp(id->data.ptr, data.ptr, data.len) == 0;
			break;
		default:
			break;
		}
	}
	X509_NAME_free(want);
	return match ? GDOI_OK : GDOI_ERR_NOT_AUTHORIZED;
}

/* --- trust and chains ------------------------------------------------------------ */

int gdoi_trust_new(struct gdoi_trust **out)
{
	struct gdoi_trust *t;

	if (out == NULL)
		return GDOI_ERR_INVALID_ARG;
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->store = X509_STORE_new()) == NULL) {
		free(t);
		*out = NULL;
		return GDOI_ERR_NOMEM;
	}
	*out = t;
	return GDOI_OK;
}

void gdoi_trust_free(struct gdoi_trust *trust)
{
	if (trust == NULL)
		return;
	X509_STORE_free(trust->store);
	free(trust->ca_hashes);
	free(trust);
}

/* SHA-1 over the DER SubjectPublicKeyInfo (not X509_pubkey_digest, which
 * hashes only the subjectPublicKey BIT STRING); an anchor's second copy once. */
static int add_ca_hash(struct gdoi_trust *t, X509 *x)
{
	unsigned char *der = NULL, md[GDOI_CERTREQ_HASH_LEN];
	unsigned int mdlen = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	uint8_t *grown;

	if (len <= 0)
		return GDOI_ERR_VALUE;
	if (!EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha1(), NULL) || mdlen != sizeof(md)) {
		OPENSSL_free(der);
		return GDOI_ERR_CRYPTO;
	}
	OPENSSL_free(der);
	for (size_t i = 0; i < t->nca_hashes; i++)
		if (memcmp(t->ca_hashes + i * sizeof(md), md, sizeof(md)) == 0)
			return GDOI_OK;
	if ((grown = realloc(t->ca_hashes, (t->nca_hashes + 1) * sizeof(md))) == NULL)
		return GDOI_ERR_NOMEM;
	t->ca_hashes = grown;
	memcpy(t->ca_hashes + t->nca_hashes++ * sizeof(md), md, sizeof(md));
	return GDOI_OK;
}

gdoi_bytes gdoi_trust_ca_hashes(const struct gdoi_trust *trust)
{
	if (trust == NULL || trust->nca_hashes == 0)
		return GDOI_BYTES_NONE;
	return GDOI_BYTES(trust->ca_hashes, trust->nca_hashes * GDOI_CERTREQ_HASH_LEN);
}

int gdoi_trust_add(struct gdoi_trust *trust, gdoi_bytes pem_or_der)
{
	int added = 0, rc = GDOI_OK;

	if (trust == NULL || pem_or_der.ptr == NULL || pem_or_der.len == 0 ||
	    pem_or_der.len > INT_MAX)
		return GDOI_ERR_INVALID_ARG;
	if (!looks_pem(pem_or_der)) {
		X509 *x = parse_der(pem_or_der);
		if (x == NULL || !X509_STORE_add_cert(trust->store, x))
			rc = GDOI_ERR_VALUE;
		else
			rc = add_ca_hash(trust, x);
		X509_free(x);	/* the store holds its own reference */
		ERR_clear_error();
		return rc;
	}
	BIO *bio = BIO_new_mem_buf(pem_or_der.ptr, (int)pem_or_der.len);
	if (bio == NULL)
		return GDOI_ERR_NOMEM;
	for (X509 *x; (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL; X509_free(x)) {
		if (!X509_STORE_add_cert(trust->store, x)) {
			X509_free(x);
			rc = GDOI_ERR_VALUE;
			break;
		}
		if ((rc = add_ca_hash(trust, x)) != GDOI_OK) {
			X509_free(x);
			break;
		}
		added++;
	}
	BIO_free(bio);
	ERR_clear_error();	/* the loop ends on "no start line" */
	return rc != GDOI_OK ? rc : added > 0 ? GDOI_OK : GDOI_ERR_VALUE;
}

int gdoi_trust_verify(struct gdoi_trust *trust, gdoi_bytes leaf,
		      const gdoi_bytes *intermediates, size_t nintermediates, int64_t now,
		      struct gdoi_cert **leaf_out, const char **reason)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x = NULL;
	int rc = GDOI_ERR_CERT;

	if (leaf_out != NULL)
		*leaf_out = NULL;
	if (reason != NULL)
		*reason = "certificate could not be parsed";
	if (trust == NULL || (nintermediates > 0 && intermediates == NULL))
		return GDOI_ERR_INVALID_ARG;
	if ((x = parse_der(leaf)) == NULL || (chain = sk_X509_new_null()) == NULL)
		goto out;
	for (size_t i = 0; i < nintermediates; i++) {
		X509 *ix = parse_der(intermediates[i]);
		if (ix == NULL || !sk_X509_push(chain, ix)) {
			X509_free(ix);
			goto out;
		}
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, trust->store, x, chain)) {
		rc = GDOI_ERR_NOMEM;
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now);
	if (X509_verify_cert(ctx) != 1) {
		if (reason != NULL)
			*reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
		goto out;
	}
	if (reason != NULL)
		*reason = "ok";
	rc = GDOI_OK;
	if (leaf_out != NULL) {
		rc = cert_from_x509(x, leaf_out);
		x = NULL;
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	X509_free(x);
	ERR_clear_error();
	return rc;
}
