/*
 * cert.h - X.509 for IKEv1 signature authentication: certificates from PEM
 * or DER bytes, chain verification against configured trust anchors, and the
 * identities a certificate vouches for (to match the peer's ID payload).
 *
 * gdoi/ owns no clock: verification takes "now" (Unix seconds) from the caller.
 */
#ifndef GDOI_CERT_H
#define GDOI_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "sign.h"

struct gdoi_cert;
struct gdoi_trust;	/* a set of trusted CA certificates */

/* An identity from a certificate, as an ISAKMP ID type and ID data:
 * 9 DER_ASN1_DN (subject, or a directoryName SAN), 2 FQDN (dNSName),
 * 3 USER_FQDN (rfc822Name), 1 IPV4_ADDR / 5 IPV6_ADDR (iPAddress). */
struct gdoi_cert_id {
	uint8_t type;
	gdoi_bytes data;	/* valid while the certificate lives */
};

/* One certificate (the first one of a PEM bundle). */
int gdoi_cert_load(gdoi_bytes pem_or_der, struct gdoi_cert **out);
void gdoi_cert_free(struct gdoi_cert *cert);
/* DER encoding (the CERT payload body after its encoding octet). */
gdoi_bytes gdoi_cert_der(const struct gdoi_cert *cert);
/* The subject public key as a gdoi_key (RSA or EC P-256/384/521). */
int gdoi_cert_public_key(const struct gdoi_cert *cert, struct gdoi_key **out);
/* Subject DN, DER (ID type DER_ASN1_DN). */
gdoi_bytes gdoi_cert_subject_der(const struct gdoi_cert *cert);
/* The subject DN (if not empty) followed by the subjectAltNames we understand. */
const struct gdoi_cert_id *gdoi_cert_ids(const struct gdoi_cert *cert, size_t *n);
/* 0 if the certificate vouches for this ID payload (type and data), else
 * GDOI_ERR_NOT_AUTHORIZED. DNs compare as X.509 names, FQDN and USER_FQDN
 * case-insensitively, addresses octet for octet. */
int gdoi_cert_match_id(const struct gdoi_cert *cert, uint8_t id_type, gdoi_bytes data);

int gdoi_trust_new(struct gdoi_trust **out);
/* Adds CA certificates: one DER certificate, or a PEM bundle of one or more. */
int gdoi_trust_add(struct gdoi_trust *trust, gdoi_bytes pem_or_der);
void gdoi_trust_free(struct gdoi_trust *trust);
/* The trust anchors as an IKEv2 CERTREQ names them (RFC 7296 §3.7): the
 * SHA-1 hash of each one's SubjectPublicKeyInfo, GDOI_CERTREQ_HASH_LEN
 * octets each, concatenated in the order added (an anchor added twice once).
 * Valid until the next gdoi_trust_add; empty without anchors. */
#define GDOI_CERTREQ_HASH_LEN 20
gdoi_bytes gdoi_trust_ca_hashes(const struct gdoi_trust *trust);

/*
 * Verifies leaf (DER) with optional untrusted intermediates (DER) up to a
 * trust anchor at time now. Returns 0 and, if leaf_out is not NULL, the
 * parsed leaf; GDOI_ERR_CERT on any failure, with *reason (if not NULL) set
 * to OpenSSL's static description.
 */
int gdoi_trust_verify(struct gdoi_trust *trust, gdoi_bytes leaf,
		      const gdoi_bytes *intermediates, size_t nintermediates, int64_t now,
		      struct gdoi_cert **leaf_out, const char **reason);

#endif
