/*
 * test_phase1_table.c - the Phase 1 responder's SA tables: they grow as SAs
 * come (every SA stays findable by its cookies), and INITIAL-CONTACT deletes
 * the older SAs of its own identity only, found by identity.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/phase1.h"

#define MEMBERS 300	/* over 2 x 64 and 2 x 128 buckets: the tables double twice */

static const char key[] = "table test key";
static const uint8_t ks_ip[4] = { 127, 0, 0, 2 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };

struct world {
	struct gdoi_p1_suite suite;
	struct gdoi_p1_psk ks_psk, gm_psk;
	struct gdoi_p1_config ks_cfg;
	struct gdoi_p1_responder *resp;
	uint8_t ip[MEMBERS][4];
	struct gdoi_addr addr[MEMBERS];
	struct gdoi_p1_config gm_cfg[MEMBERS];
	struct gdoi_p1_sa *gm[MEMBERS];	/* the members' own SAs (the latest) */
	struct gdoi_p1_sa *ks[MEMBERS];	/* the responder's (owned by resp) */
};

/* Member i's Main Mode against the responder; its KS-side SA, established. */
static struct gdoi_p1_sa *establish(struct world *w, size_t i, bool initial_contact, uint64_t now)
{
	struct gdoi_p1_result ri = { 0 }, rr = { 0 };
	struct gdoi_p1_sa *gm = NULL, *ks = NULL;
	w->gm_cfg[i].initial_contact = initial_contact;
	assert_int_equal(gdoi_p1_initiate(&w->gm_cfg[i], &ks_addr, now, &gm, &ri), 0);
	for (int step = 0; step < 3; step++) {
		struct gdoi_p1_sa *sa = NULL;
		gdoi_p1_responder_input(w->resp, ri.out, ri.out_len, &w->addr[i], now, &rr, &sa);
		if (sa)
			ks = sa;
		gdoi_p1_result_clear(&ri);
		assert_non_null(rr.out);
		gdoi_p1_input(gm, rr.out, rr.out_len, now, &ri);
		gdoi_p1_result_clear(&rr);
	}
	gdoi_p1_result_clear(&ri);
	assert_true(gdoi_p1_established(gm));
	assert_non_null(ks);
	assert_true(gdoi_p1_established(ks));
	gdoi_p1_free(w->gm[i]);
	w->gm[i] = gm;
	return ks;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->suite = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA256, 19,
					   GDOI_IKE_AUTH_PSK, 3600 };
	w->ks_psk = (struct gdoi_p1_psk){ .key = GDOI_BYTES(key, sizeof(key) - 1) };	/* any peer */
	w->gm_psk = (struct gdoi_p1_psk){ .addr = ks_addr, .key = GDOI_BYTES(key, sizeof(key) - 1) };
	w->ks_cfg = (struct gdoi_p1_config){ .suites = &w->suite, .nsuites = 1, .psks = &w->ks_psk,
		.npsks = 1, .local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) } };
	w->resp = gdoi_p1_responder_new(&w->ks_cfg, 1000);
	assert_non_null(w->resp);
	for (size_t i = 0; i < MEMBERS; i++) {
		uint8_t *ip = w->ip[i];
		ip[0] = 127, ip[1] = 1, ip[2] = (uint8_t)(i >> 8), ip[3] = (uint8_t)(i + 1);
		w->addr[i] = (struct gdoi_addr){ .len = 4, .port = 1848 };
		memcpy(w->addr[i].ip, ip, 4);
		w->gm_cfg[i] = (struct gdoi_p1_config){ .suites = &w->suite, .nsuites = 1,
			.psks = &w->gm_psk, .npsks = 1,
			.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ip, 4) } };
	}
	return w;
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < MEMBERS; i++)
		gdoi_p1_free(w->gm[i]);
	gdoi_p1_responder_free(w->resp);
	free(w);
}

static void test_every_sa_is_found_by_its_cookies_as_the_table_grows(void **s)
{
	(void)s;
	struct world *w = world_new();
	for (size_t i = 0; i < MEMBERS; i++)
		w->ks[i] = establish(w, i, false, 1000);
	assert_int_equal(gdoi_p1_responder_sa_count(w->resp), MEMBERS);
	for (size_t i = 0; i < MEMBERS; i++) {
		uint8_t ic[8], rc[8];
		gdoi_p1_cookies(w->gm[i], ic, rc);
		assert_ptr_equal(gdoi_p1_responder_find(w->resp, ic, rc), w->ks[i]);
	}
	world_free(w);
}

static void test_initial_contact_deletes_only_its_own_identitys_older_sas(void **s)
{
	(void)s;
	struct world *w = world_new();
	for (size_t i = 0; i < MEMBERS; i++)
		w->ks[i] = establish(w, i, false, 1000);
	/* member 7 twice more without INITIAL-CONTACT: three SAs of one identity */
	struct gdoi_p1_sa *b = establish(w, 7, false, 1001), *c = establish(w, 7, false, 1001);
	assert_int_equal(gdoi_p1_responder_sa_count(w->resp), MEMBERS + 2);
	struct gdoi_p1_sa *d = establish(w, 7, true, 1002);
	assert_true(gdoi_p1_dead(w->ks[7]));
	assert_true(gdoi_p1_dead(b));
	assert_true(gdoi_p1_dead(c));
	assert_true(gdoi_p1_established(d));
	for (size_t i = 0; i < MEMBERS; i++)
		if (i != 7)
			assert_true(gdoi_p1_established(w->ks[i]));
	gdoi_p1_responder_expire(w->resp, 3000);
	assert_int_equal(gdoi_p1_responder_sa_count(w->resp), MEMBERS);	/* the three dead ones freed: d stands for member 7 */
	/* the freed SAs left the identity table too: another INITIAL-CONTACT of
	 * member 7 finds only d, and member 8's is still there for its own */
	struct gdoi_p1_sa *e = establish(w, 7, true, 3001);
	assert_true(gdoi_p1_dead(d));
	assert_true(gdoi_p1_established(e));
	struct gdoi_p1_sa *f = establish(w, 8, true, 3001);
	assert_true(gdoi_p1_dead(w->ks[8]));
	assert_true(gdoi_p1_established(f));
	gdoi_p1_responder_expire(w->resp, 6000);
	assert_int_equal(gdoi_p1_responder_sa_count(w->resp), MEMBERS);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_sa_is_found_by_its_cookies_as_the_table_grows),
		cmocka_unit_test(test_initial_contact_deletes_only_its_own_identitys_older_sas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
