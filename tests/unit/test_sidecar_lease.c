/*
 * test_sidecar_lease.c - the sidecar's SSRC lease bookkeeping (sidecar/lease.c):
 * each SSRC goes to one holder once, is burned when the holder leaves and never
 * leased again, even when a registration hands it out again; two holders never
 * share one; a full table drops the oldest burned entries only.
 * (sidecar/lease.c is compiled into this test.)
 */
#include "tests/lib/testutil.h"

#include <string.h>

#include "sidecar/lease.c"

static void test_lease_gives_each_ssrc_to_one_holder_oldest_first(void **state)
{
	(void)state;
	struct sc_leases l = { 0 };
	uint32_t in[] = { 11, 22 }, a, b, c;

	assert_int_equal(sc_leases_add(&l, in, 2), 2);
	assert_int_equal(sc_leases_take(&l, 1, &a), 0);
	assert_int_equal(sc_leases_take(&l, 2, &b), 0);
	assert_int_equal(a, 11);	/* oldest first */
	assert_int_equal(b, 22);
	assert_int_equal(sc_leases_take(&l, 3, &c), -1);
	assert_int_equal(sc_leases_take(&l, 0, &c), -1);	/* holder 0 is no holder */
	uint32_t mine[4] = { 0 };
	assert_int_equal(sc_leases_of(&l, 2, mine, 4), 1);
	assert_int_equal(mine[0], 22);
	assert_int_equal(sc_leases_count(&l, SC_SSRC_LEASED), 2);
}

static void test_lease_never_reissues_burned_ssrc(void **state)
{
	(void)state;
	struct sc_leases l = { 0 };
	uint32_t in[] = { 5, 6, 7 }, s, use[8];

	sc_leases_add(&l, in, 3);
	assert_int_equal(sc_leases_take(&l, 9, &s), 0);
	assert_int_equal(sc_leases_take(&l, 9, &s), 0);
	assert_int_equal(sc_leases_release(&l, 9), 2);
	assert_int_equal(sc_leases_release(&l, 9), 0);
	assert_int_equal(sc_leases_count(&l, SC_SSRC_BURNED), 2);
	/* a registration that brings 5 and 6 again does not revive them */
	assert_int_equal(sc_leases_add(&l, in, 3), 0);
	assert_int_equal(sc_leases_take(&l, 10, &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(sc_leases_take(&l, 11, &s), -1);
	assert_int_equal(sc_leases_usable(&l, use, 8), 1);
	assert_int_equal(use[0], 7);
	uint32_t fresh[] = { 8 };
	assert_int_equal(sc_leases_add(&l, fresh, 1), 1);
	assert_int_equal(sc_leases_take(&l, 11, &s), 0);
	assert_int_equal(s, 8);
	uint32_t zero[] = { 0 };
	assert_int_equal(sc_leases_add(&l, zero, 1), 0);	/* SSRC 0 is never a lease */
}

static void test_lease_table_full_drops_burned_entries_only(void **state)
{
	(void)state;
	struct sc_leases l = { 0 };
	uint32_t s;

	for (uint32_t i = 1; i <= SC_LEASE_MAX; i++)
		assert_int_equal(sc_leases_add(&l, &i, 1), 1);
	uint32_t more = 1000;
	assert_int_equal(sc_leases_add(&l, &more, 1), 0);	/* full of free ones */
	assert_int_equal(sc_leases_take(&l, 1, &s), 0);		/* SSRC 1 */
	assert_int_equal(sc_leases_take(&l, 2, &s), 0);		/* SSRC 2 */
	sc_leases_release(&l, 2);
	sc_leases_release(&l, 1);
	uint32_t two[] = { 1000, 1001 };
	assert_int_equal(sc_leases_add(&l, two, 2), 2);		/* in place of 1 and 2 */
	assert_int_equal(sc_leases_count(&l, SC_SSRC_BURNED), 0);
	assert_int_equal(sc_leases_count(&l, SC_SSRC_FREE), SC_LEASE_MAX);
	/* the newcomers come last: 3..64 are older */
	uint32_t use[SC_LEASE_MAX];
	assert_int_equal(sc_leases_usable(&l, use, SC_LEASE_MAX), SC_LEASE_MAX);
	assert_int_equal(use[0], 3);
	assert_int_equal(use[SC_LEASE_MAX - 2], 1000);
	assert_int_equal(use[SC_LEASE_MAX - 1], 1001);
	/* a leased entry is never dropped to make room */
	for (uint64_t h = 1; h <= SC_LEASE_MAX; h++)
		assert_int_equal(sc_leases_take(&l, h, &s), 0);
	uint32_t x = 5000;
	assert_int_equal(sc_leases_add(&l, &x, 1), 0);
	assert_int_equal(sc_leases_take(&l, 99, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_gives_each_ssrc_to_one_holder_oldest_first),
		cmocka_unit_test(test_lease_never_reissues_burned_ssrc),
		cmocka_unit_test(test_lease_table_full_drops_burned_entries_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
