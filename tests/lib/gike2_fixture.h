/* gike2_fixture.h - test helper: the group the G-IKEv2 unit tests register to. */
#ifndef TESTS_GIKE2_FIXTURE_H
#define TESTS_GIKE2_FIXTURE_H

#include <stdint.h>

#include "gdoi/gike2_rekey.h"
#include "gdoi/policy.h"
#include "gdoi/sign.h"

/* A fresh P-256 signing key (the Rekey SA's GCAUTH key). */
struct gdoi_key *gike2_fixture_signer(void);
/* p (zeroed by the caller): one SRTP TEK numbered spi (profile 7, flags 1, 120 s, replay
 * window 128, assigned SSRCs) for 239.2.2.2:media_port, keys generated; 32-bit Sender-IDs. */
void gike2_fixture_policy(struct gdoi_policy *p, uint32_t spi, uint16_t media_port);
/* r (zeroed by the caller): a Rekey SA with a random SPI, AES-GCM-16/128, RFC 5649
 * key wrap, digital-signature GCAUTH over SHA-256, 600 s, from 127.0.0.1:ks_port to
 * 239.2.2.3:rekey_port, random keys. */
void gike2_fixture_rekey(struct gike2_rekey_sa *r, uint16_t ks_port, uint16_t rekey_port);

#endif
