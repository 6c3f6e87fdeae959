/* gike2_fixture.c - see gike2_fixture.h. */
#include "tests/lib/gike2_fixture.h"

#include "tests/lib/testutil.h"

#include <stdlib.h>

#include "gdoi/crypto.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/numbers.h"
#include "tests/lib/certgen.h"

struct gdoi_key *gike2_fixture_signer(void)
{
	struct gdoi_key *signer = NULL;
	EVP_PKEY *k = certgen_key("p256");
	assert_non_null(k);
	size_t n = 0;
	uint8_t *der = certgen_key_der(k, &n);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &signer), 0);
	free(der);
	EVP_PKEY_free(k);
	return signer;
}

void gike2_fixture_policy(struct gdoi_policy *p, uint32_t spi, uint16_t media_port)
{
	p->nteks = 1;
	p->sid_bits = 32;
	struct gdoi_tek *t = &p->teks[0];
	t->kind = GDOI_TEK_SRTP;
	t->spi = spi;
	t->src = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR_SUBNET, 0, 8, { 0 } };
	t->dst = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR, media_port, 4, { 239, 2, 2, 2 } };
	t->u.srtp = (struct gdoi_tek_srtp_policy){ .profile = 7, .flags = 1, .lifetime = 120,
						   .replay_window = 128, .ssrc_assigned = true };
	assert_int_equal(gdoi_policy_generate_keys(p), 0);
}

void gike2_fixture_rekey(struct gike2_rekey_sa *r, uint16_t ks_port, uint16_t rekey_port)
{
	assert_int_equal(gdoi_random(r->spi, sizeof(r->spi)), 0);
	r->encr = GIKE2_ENCR_AES_GCM_16;
	r->encr_key_bits = 128;
	r->kwa = GIKE2_KWA_5649_128;
	r->gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	r->sig_md = GDOI_MD_SHA256;
	r->lifetime = 600;
	r->src = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, ks_port, ks_port, 4, { 127, 0, 0, 1 },
				    { 127, 0, 0, 1 } };
	r->dst = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, rekey_port, rekey_port, 4, { 239, 2, 2, 3 },
				    { 239, 2, 2, 3 } };
	uint8_t km[36];
	assert_int_equal(gdoi_random(km, sizeof(km)), 0);
	assert_int_equal(gike2_rekey_set_keys(r, GDOI_BYTES(km, sizeof(km))), 0);
}
