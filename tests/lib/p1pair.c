/* p1pair.c - see p1pair.h. */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "tests/lib/p1pair.h"

const struct gdoi_addr p1pair_gm_addr = { 4, { 127, 0, 0, 1 }, 1848 };
const struct gdoi_addr p1pair_ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };

void p1pair_establish(struct p1pair *p, uint64_t now)
{
	static const char key[] = "pull test key";
	memset(p, 0, sizeof(*p));
	p->suite = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA256, 19,
					   GDOI_IKE_AUTH_PSK, 3600 };
	p->gm_psk = (struct gdoi_p1_psk){ .addr = p1pair_ks_addr, .key = GDOI_BYTES(key, sizeof(key) - 1) };
	p->ks_psk = (struct gdoi_p1_psk){ .addr = p1pair_gm_addr, .key = GDOI_BYTES(key, sizeof(key) - 1) };
	p->gm_cfg = (struct gdoi_p1_config){ .suites = &p->suite, .nsuites = 1, .psks = &p->gm_psk,
		.npsks = 1, .local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(gm_ip, 4) } };
	p->ks_cfg = (struct gdoi_p1_config){ .suites = &p->suite, .nsuites = 1, .psks = &p->ks_psk,
		.npsks = 1, .local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) } };
	p->resp = gdoi_p1_responder_new(&p->ks_cfg, now);
	assert_non_null(p->resp);
	struct gdoi_p1_result ri = { 0 }, rr = { 0 };
	assert_int_equal(gdoi_p1_initiate(&p->gm_cfg, &p1pair_ks_addr, now, &p->gm, &ri), 0);
	for (int step = 0; step < 3; step++) {
		struct gdoi_p1_sa *sa = NULL;
		gdoi_p1_responder_input(p->resp, ri.out, ri.out_len, &p1pair_gm_addr, now, &rr, &sa);
		if (sa)
			p->ks = sa;
		gdoi_p1_result_clear(&ri);
		assert_non_null(rr.out);
		gdoi_p1_input(p->gm, rr.out, rr.out_len, now, &ri);
		gdoi_p1_result_clear(&rr);
	}
	gdoi_p1_result_clear(&ri);
	assert_true(gdoi_p1_established(p->gm));
	assert_non_null(p->ks);
	assert_true(gdoi_p1_established(p->ks));
}

void p1pair_free(struct p1pair *p)
{
	gdoi_p1_free(p->gm);
	gdoi_p1_responder_free(p->resp);
	memset(p, 0, sizeof(*p));
}
