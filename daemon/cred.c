/* cred.c - see cred.h. */
#include "daemon/cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/file.h"
#include "gdoi/err.h"

static int load_key(struct dm_cred *c, const char *path, char *err, size_t errlen)
{
	uint8_t *b;
	size_t n;
	int rc;

	if (dm_file_load(path, DM_FILE_SECRET, DM_FILE_MAX, &b, &n, err, errlen))
		return -1;
	rc = gdoi_key_load_private(GDOI_BYTES(b, n), &c->key);
	dm_file_free(b, n);
	if (rc) {
		snprintf(err, errlen, "%s: %s (expected an unencrypted RSA >= 2048 or EC P-256/384/521 "
			 "private key, PEM or DER)", path, gdoi_strerror(rc));
		return -1;
	}
	c->auth = gdoi_key_ike_auth(c->key);
	if (!c->auth) {
		snprintf(err, errlen, "%s: no IKE signature method for this key type", path);
		return -1;
	}
	return 0;
}

static int load_cert(struct dm_cred *c, const char *path, char *err, size_t errlen)
{
	struct gdoi_cert *cert = NULL;
	uint8_t *b;
	size_t n;
	int rc;

	if (dm_file_load(path, 0, DM_FILE_MAX, &b, &n, err, errlen))
		return -1;
	rc = gdoi_cert_load(GDOI_BYTES(b, n), &cert);
	dm_file_free(b, n);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, gdoi_strerror(rc));
		return -1;
	}
	gdoi_bytes der = gdoi_cert_der(cert);
	c->cert_der = malloc(der.len);
	if (c->cert_der) {
		memcpy(c->cert_der, der.ptr, der.len);
		c->cert_len = der.len;
	}
	gdoi_cert_free(cert);
	if (!c->cert_der) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

static int load_ca(struct dm_cred *c, const char *path, char *err, size_t errlen)
{
	uint8_t *b;
	size_t n;
	int rc;

	if (dm_file_load(path, 0, DM_FILE_MAX, &b, &n, err, errlen))
		return -1;
	rc = gdoi_trust_new(&c->trust);
	if (!rc)
		rc = gdoi_trust_add(c->trust, GDOI_BYTES(b, n));
	dm_file_free(b, n);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, gdoi_strerror(rc));
		return -1;
	}
	return 0;
}

int dm_cred_load(struct dm_cred *c, const char *key_file, const char *cert_file,
		 const char *ca_file, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (load_key(c, key_file, err, errlen) || load_cert(c, cert_file, err, errlen) ||
	    load_ca(c, ca_file, err, errlen)) {
		dm_cred_free(c);
		return -1;
	}
	return 0;
}

void dm_cred_free(struct dm_cred *c)
{
	gdoi_key_free(c->key);
	gdoi_trust_free(c->trust);
	free(c->cert_der);
	memset(c, 0, sizeof *c);
}
