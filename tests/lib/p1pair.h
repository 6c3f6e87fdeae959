/* p1pair.h - test helper: an established Phase 1 SA pair (member, key server) in memory. */
#ifndef TESTS_P1PAIR_H
#define TESTS_P1PAIR_H

#include <stdint.h>

#include "gdoi/phase1.h"

struct p1pair {
	struct gdoi_p1_suite suite;
	struct gdoi_p1_psk gm_psk, ks_psk;
	struct gdoi_p1_config gm_cfg, ks_cfg;
	struct gdoi_p1_responder *resp;
	struct gdoi_p1_sa *gm;	/* owned by the pair */
	struct gdoi_p1_sa *ks;	/* owned by resp */
};

extern const struct gdoi_addr p1pair_gm_addr, p1pair_ks_addr;

/* PSK authentication, AES-256/SHA-256/group 19; fails the test if it does not establish. */
void p1pair_establish(struct p1pair *p, uint64_t now);
void p1pair_free(struct p1pair *p);

#endif
