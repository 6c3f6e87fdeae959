/*
 * cred.h - a daemon's certificate credentials: the private key (a secret
 * file), its certificate (kept as DER for Phase 1) and the CA trust store,
 * each loaded through dm_file_load, and the IKE Authentication Method the
 * key's type calls for (gdoi_key_ike_auth).
 */
#ifndef DM_CRED_H
#define DM_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "gdoi/cert.h"
#include "gdoi/sign.h"

struct dm_cred {
	struct gdoi_key *key;
	uint8_t *cert_der;
	size_t cert_len;
	struct gdoi_trust *trust;
	uint16_t auth;		/* GDOI_IKE_AUTH_RSA_SIG, _ECDSA_256 ... */
};

/* Returns 0, or -1 with err naming the file and the reason (c is then cleared). */
int dm_cred_load(struct dm_cred *c, const char *key_file, const char *cert_file,
		 const char *ca_file, char *err, size_t errlen);
void dm_cred_free(struct dm_cred *c);

#endif
