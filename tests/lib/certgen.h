/* certgen.h - test helper: keys and X.509 certificates made with OpenSSL EVP. */
#ifndef TESTS_CERTGEN_H
#define TESTS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* "rsa2048" (one of three fixed keys, in turn: consecutive calls differ), "p256",
 * "p384" or "p521" (fresh); NULL on failure. */
EVP_PKEY *certgen_key(const char *kind);
/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL),
 * valid from an hour ago for a day. san: "DNS:name", "email:x@y", "IP:1.2.3.4" or NULL. */
X509 *certgen_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
		   const char *san, bool ca);
/* Options of certgen_cert_ex (certgen_cert = none of them). */
#define CERTGEN_KEY_IDS	0x1	/* subjectKeyIdentifier, and authorityKeyIdentifier when issued:
				 * tells apart CAs that share a name */
#define CERTGEN_LEAF_KU	0x2	/* keyUsage critical,digitalSignature on a non-CA certificate */
X509 *certgen_cert_ex(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
		      const char *san, bool ca, unsigned flags);
/* DER encodings in malloc'd buffers. */
uint8_t *certgen_cert_der(X509 *x, size_t *len);
/* The private key in its type-specific form (i2d_PrivateKey: SEC1 for EC, PKCS#1 for RSA). */
uint8_t *certgen_key_der(EVP_PKEY *k, size_t *len);
/* The subject name as DER (an ID_DER_ASN1_DN value). */
uint8_t *certgen_subject_der(X509 *x, size_t *len);

#endif
