/* rsa_keys.h - fixed RSA-2048 test keys (PEM, PKCS #8), see rsa_keys.c. */
#ifndef TESTS_RSA_KEYS_H
#define TESTS_RSA_KEYS_H

#define CERTGEN_RSA2048_KEYS 3
extern const char *const certgen_rsa2048_pem[CERTGEN_RSA2048_KEYS];

#endif
