/* fuzz_signer.h - the fuzz targets' GSA_REKEY signing key (test material only). */
#ifndef FUZZ_SIGNER_H
#define FUZZ_SIGNER_H

#include <stdlib.h>

#include "gdoi/sign.h"

/* A P-256 key, loaded once per process (key generation per input is too slow). */
static struct gdoi_key *fuzz_signer(void)
{
	static const char pem[] =
		"-----BEGIN PRIVATE KEY-----\n"
		"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxwd8egEbTdXJvtY1\n"
		"TQ7NwuJnvxqpCn48l1K3lb98coChRANCAARvEpq1FQIes9B7lrOiid2/BjBcUa4D\n"
		"/j/Og3nz5IcS/eDC8gBbFsGBjN420m+eMNQQFnoUO6idlbvUeOYK8BYX\n"
		"-----END PRIVATE KEY-----\n";
	static struct gdoi_key *k;
	if (!k && gdoi_key_load_private(GDOI_BYTES(pem, sizeof(pem) - 1), &k))
		abort();
	return k;
}

#endif
