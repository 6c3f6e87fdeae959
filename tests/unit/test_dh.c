/* test_dh.c - Diffie-Hellman groups of gdoi/dh.c: agreement, RFC 6989 checks, known answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/dh.h"
#include "gdoi/err.h"
#include "tests/lib/vector_log.h"

static const uint16_t all_groups[] = { 2, 5, 14, 15, 16, 19, 20, 21 };
static const uint16_t modp_groups[] = { 2, 5, 14, 15, 16 };
static const uint16_t ecp_groups[] = { 19, 20, 21 };
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 2409 §6.2, the Second Oakley Group. */
static const char *rfc2409_prime_1024 =
	"FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1"
	"29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
	"EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245"
	"E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
	"EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381"
	"FFFFFFFF FFFFFFFF";

static void test_dh_lengths_match_each_group_refuse_weak_ones(void **state)
{
	static const size_t pub[] = { 128, 192, 256, 384, 512, 64, 96, 132 };
	static const size_t sec[] = { 128, 192, 256, 384, 512, 32, 48, 66 };
	(void)state;
	for (size_t i = 0; i < N(all_groups); i++) {
		assert_true(gdoi_dh_supported(all_groups[i]));
		assert_int_equal(gdoi_dh_public_len(all_groups[i]), pub[i]);
		assert_int_equal(gdoi_dh_secret_len(all_groups[i]), sec[i]);
	}
	assert_false(gdoi_dh_supported(1));	/* MODP-768: too weak */
	assert_false(gdoi_dh_supported(24));
	assert_int_equal(gdoi_dh_public_len(1), 0);
	assert_true(gdoi_dh_is_ecp(19));
	assert_false(gdoi_dh_is_ecp(14));
	struct gdoi_dh *dh = (struct gdoi_dh *)1;
	assert_int_equal(gdoi_dh_new(1, &dh), GDOI_ERR_UNSUPPORTED);
	assert_null(dh);
}

static void test_dh_both_sides_derive_same_secret(void **state)
{
	uint8_t s1[GDOI_DH_MAX_SECRET_LEN], s2[GDOI_DH_MAX_SECRET_LEN];
	(void)state;

	for (size_t i = 0; i < N(all_groups); i++) {
		uint16_t grp = all_groups[i];
		struct gdoi_dh *a = NULL, *b = NULL;
		size_t n1 = 0, n2 = 0;

		assert_int_equal(gdoi_dh_new(grp, &a), GDOI_OK);
		assert_int_equal(gdoi_dh_new(grp, &b), GDOI_OK);
		assert_int_equal(gdoi_dh_group(a), grp);
		assert_int_equal(gdoi_dh_public(a).len, gdoi_dh_public_len(grp));
		assert_memory_not_equal(gdoi_dh_public(a).ptr, gdoi_dh_public(b).ptr,
					gdoi_dh_public(a).len);
		assert_int_equal(gdoi_dh_check_peer(grp, gdoi_dh_public(b)), GDOI_OK);
		assert_int_equal(gdoi_dh_derive(a, gdoi_dh_public(b), s1, sizeof(s1), &n1), GDOI_OK);
		assert_int_equal(gdoi_dh_derive(b, gdoi_dh_public(a), s2, sizeof(s2), &n2), GDOI_OK);
		assert_int_equal(n1, gdoi_dh_secret_len(grp));
		assert_int_equal(n2, n1);
		assert_memory_equal(s1, s2, n1);
		/* output buffer too small */
		assert_int_equal(gdoi_dh_derive(a, gdoi_dh_public(b), s1, n1 - 1, &n1),
				 GDOI_ERR_INVALID_ARG);
		gdoi_dh_free(a);
		gdoi_dh_free(b);
	}
}

/* Sets v to p + delta (delta in -2..+1) as a big-endian number of len octets. */
static void prime_plus(uint16_t grp, int delta, uint8_t *v, size_t len)
{
	assert_int_equal(gdoi_dh_prime(grp, v, len), GDOI_OK);
	/* Every IKE MODP prime ends in 64 one bits, so small deltas never carry. */
	assert_int_equal(v[len - 1], 0xff);
	v[len - 1] = (uint8_t)(v[len - 1] + delta);
}

static void test_modp_refuses_rfc6989_bad_values(void **state)
{
	uint8_t v[GDOI_DH_MAX_PUBLIC_LEN + 1];
	(void)state;

	for (size_t i = 0; i < N(modp_groups); i++) {
		uint16_t grp = modp_groups[i];
		size_t len = gdoi_dh_public_len(grp);
		struct gdoi_dh *dh = NULL;
		uint8_t s[GDOI_DH_MAX_SECRET_LEN];
		size_t n;

		assert_int_equal(gdoi_dh_new(grp, &dh), GDOI_OK);
		memset(v, 0, len);				/* 0 */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_derive(dh, GDOI_BYTES(v, len), s, sizeof(s), &n),
				 GDOI_ERR_DH_VALUE);
		v[len - 1] = 1;					/* 1 */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_derive(dh, GDOI_BYTES(v, len), s, sizeof(s), &n),
				 GDOI_ERR_DH_VALUE);
		prime_plus(grp, -1, v, len);			/* p - 1 */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		prime_plus(grp, 0, v, len);			/* p */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_derive(dh, GDOI_BYTES(v, len), s, sizeof(s), &n),
				 GDOI_ERR_DH_VALUE);
		prime_plus(grp, 0, v, len);			/* p + 1 (carries) */
		for (size_t k = len; k-- > 0 && ++v[k] == 0;)
			;
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		memset(v, 0xff, len);				/* 2^n - 1 > p */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);

		/* wrong lengths: a valid value with a zero octet in front or one missing */
		gdoi_bytes good = gdoi_dh_public(dh);
		v[0] = 0;
		memcpy(v + 1, good.ptr, len);
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len + 1)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(good.ptr, len - 1)),
				 GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES_NONE), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_derive(dh, GDOI_BYTES(v, len + 1), s, sizeof(s), &n),
				 GDOI_ERR_DH_VALUE);
		gdoi_dh_free(dh);
	}
}

/*
 * p - 2 is in range but, for a safe prime p = 7 mod 8, a quadratic non-residue
 * (order 2q): the RFC 3526 groups reject it; MODP-1024 does range checks only.
 */
static void test_modp_refuses_order_2q_values_beyond_modp1024(void **state)
{
	uint8_t v[GDOI_DH_MAX_PUBLIC_LEN];
	(void)state;

	for (size_t i = 1; i < N(modp_groups); i++) {
		size_t len = gdoi_dh_public_len(modp_groups[i]);
		prime_plus(modp_groups[i], -2, v, len);
		assert_int_equal(gdoi_dh_check_peer(modp_groups[i], GDOI_BYTES(v, len)),
				 GDOI_ERR_DH_VALUE);
	}
	prime_plus(2, -2, v, 128);
	assert_int_equal(gdoi_dh_check_peer(2, GDOI_BYTES(v, 128)), GDOI_OK);
	/* 2 = g is in the subgroup everywhere */
	memset(v, 0, sizeof(v));
	v[255] = 2;
	assert_int_equal(gdoi_dh_check_peer(14, GDOI_BYTES(v, 256)), GDOI_OK);
}

static void test_ecp_refuses_off_curve_and_wrong_length_points(void **state)
{
	uint8_t v[2 * 66 + 1];
	(void)state;

	for (size_t i = 0; i < N(ecp_groups); i++) {
		uint16_t grp = ecp_groups[i];
		size_t len = gdoi_dh_public_len(grp);
		struct gdoi_dh *dh = NULL;
		uint8_t s[66];
		size_t n;

		assert_int_equal(gdoi_dh_new(grp, &dh), GDOI_OK);
		gdoi_bytes good = gdoi_dh_public(dh);
		assert_int_equal(gdoi_dh_check_peer(grp, good), GDOI_OK);

		memcpy(v, good.ptr, len);			/* off the curve */
		v[len - 1] ^= 1;
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_derive(dh, GDOI_BYTES(v, len), s, sizeof(s), &n),
				 GDOI_ERR_DH_VALUE);
		memset(v, 0, len);				/* (0, 0): infinity in some encodings */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);
		memset(v, 0xff, len);				/* coordinates >= p */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len)), GDOI_ERR_DH_VALUE);

		/* wrong lengths: SEC1 with its 0x04 prefix, or one octet short */
		v[0] = 4;
		memcpy(v + 1, good.ptr, len);
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(v, len + 1)), GDOI_ERR_DH_VALUE);
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(good.ptr, len - 1)),
				 GDOI_ERR_DH_VALUE);
		/* x only */
		assert_int_equal(gdoi_dh_check_peer(grp, GDOI_BYTES(good.ptr, len / 2)),
				 GDOI_ERR_DH_VALUE);
		gdoi_dh_free(dh);
	}
}

/* RFC 5903 §8.1: 256-bit random ECP group (public values x | y, g^ir = x). */
static void test_ecp256_matches_rfc5903_vector(void **state)
{
	uint8_t i[32], r[32], gi[64], gr[64], gir[32], s[66];
	struct gdoi_dh *a = NULL, *b = NULL;
	size_t n = 0;
	(void)state;

	gdoi_hex_decode("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433", i, 32);
	gdoi_hex_decode("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
			"5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3", gi, 64);
	gdoi_hex_decode("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53", r, 32);
	gdoi_hex_decode("D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
			"56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB", gr, 64);
	gdoi_hex_decode("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE", gir, 32);

	assert_int_equal(gdoi_dh_new_from_private(19, GDOI_BYTES(i, 32), &a), GDOI_OK);
	assert_int_equal(gdoi_dh_new_from_private(19, GDOI_BYTES(r, 32), &b), GDOI_OK);
	assert_int_equal(gdoi_dh_public(a).len, 64);
	assert_memory_equal(gdoi_dh_public(a).ptr, gi, 64);
	assert_memory_equal(gdoi_dh_public(b).ptr, gr, 64);
	assert_int_equal(gdoi_dh_derive(a, GDOI_BYTES(gr, 64), s, sizeof(s), &n), GDOI_OK);
	assert_int_equal(n, 32);
	assert_memory_equal(s, gir, 32);
	assert_int_equal(gdoi_dh_derive(b, GDOI_BYTES(gi, 64), s, sizeof(s), &n), GDOI_OK);
	assert_memory_equal(s, gir, 32);
	gdoi_dh_free(a);
	gdoi_dh_free(b);

	/* a scalar longer than the curve's order is refused */
	uint8_t big[33] = { 1 };
	assert_int_equal(gdoi_dh_new_from_private(19, GDOI_BYTES(big, 33), &a), GDOI_ERR_INVALID_ARG);
}

/* Small exponents make the left padding visible: (2^3)^2 = 64 = 00 .. 00 40. */
static void test_modp_pads_short_secret_on_left(void **state)
{
	uint8_t x = 2, y = 3, s[256], want[256] = { 0 };
	struct gdoi_dh *a = NULL, *b = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(gdoi_dh_new_from_private(14, GDOI_BYTES(&x, 1), &a), GDOI_OK);
	assert_int_equal(gdoi_dh_new_from_private(14, GDOI_BYTES(&y, 1), &b), GDOI_OK);
	want[255] = 4;
	assert_memory_equal(gdoi_dh_public(a).ptr, want, 256);
	want[255] = 8;
	assert_memory_equal(gdoi_dh_public(b).ptr, want, 256);
	assert_int_equal(gdoi_dh_derive(a, gdoi_dh_public(b), s, sizeof(s), &n), GDOI_OK);
	assert_int_equal(n, 256);
	want[255] = 64;
	assert_memory_equal(s, want, 256);
	gdoi_dh_free(a);
	gdoi_dh_free(b);

	uint8_t one = 1;
	assert_int_equal(gdoi_dh_new_from_private(14, GDOI_BYTES(&one, 1), &a), GDOI_ERR_INVALID_ARG);
}

/* Group 2 is the RFC 2409 prime, and the reference's MODP-1024 values fit it. */
static void test_modp1024_is_rfc2409_prime_and_takes_reference_values(void **state)
{
	uint8_t p[128], want[128], gx[256];
	(void)state;

	assert_int_equal(gdoi_hex_decode(rfc2409_prime_1024, want, sizeof(want)), 128);
	assert_int_equal(gdoi_dh_prime(2, p, sizeof(p)), GDOI_OK);
	assert_memory_equal(p, want, 128);
	assert_int_equal(gdoi_dh_prime(19, p, sizeof(p)), GDOI_ERR_UNSUPPORTED);

	static const char *folders[] = { "gdoid-pull", "gdoid-kek", "gdoid-srtp" };
	for (size_t f = 0; f < N(folders); f++) {
		struct vlog *log = vlog_load(folders[f], "gm.log");
		if (log == NULL)
			fail_msg("cannot read %s/%s/gm.log", vlog_dir(), folders[f]);
		static const char *labels[] = { "g^xi:", "g^xr:", "g^xy:" };
		for (size_t l = 0; l < N(labels); l++) {
			long n = vlog_block(log, labels[l], 0, gx, sizeof(gx));
			assert_int_equal(n, 128);
			assert_int_equal(gdoi_dh_check_peer(2, GDOI_BYTES(gx, 128)), GDOI_OK);
			assert_true(memcmp(gx, p, 128) < 0);
		}
		vlog_free(log);
	}
}

/* RFC 7748 §6.1: both key pairs from their private values, the shared
 * secret; RFC 8031 §2.3 / RFC 7748 §6.1: a low-order peer value (here the
 * all-zero point) gives an all-zero output, refused. */
static void test_x25519_matches_rfc7748_and_refuses_all_zero_output(void **state)
{
	uint8_t a[32], b[32], pa[32], pb[32], k[32], out[32], zero[32] = { 0 };
	struct gdoi_dh *da, *db;
	size_t n;
	(void)state;
	assert_true(gdoi_dh_supported(31));
	assert_true(gdoi_dh_is_x25519(31));
	assert_false(gdoi_dh_is_ecp(31));
	assert_int_equal(gdoi_dh_public_len(31), 32);
	assert_int_equal(gdoi_dh_secret_len(31), 32);
	gdoi_hex_decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	gdoi_hex_decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", pa, 32);
	gdoi_hex_decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	gdoi_hex_decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", pb, 32);
	gdoi_hex_decode("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k, 32);
	assert_int_equal(gdoi_dh_new_from_private(31, GDOI_BYTES(a, 32), &da), GDOI_OK);
	assert_int_equal(gdoi_dh_new_from_private(31, GDOI_BYTES(b, 32), &db), GDOI_OK);
	assert_memory_equal(gdoi_dh_public(da).ptr, pa, 32);
	assert_memory_equal(gdoi_dh_public(db).ptr, pb, 32);
	assert_int_equal(gdoi_dh_check_peer(31, GDOI_BYTES(pb, 32)), GDOI_OK);
	assert_int_equal(gdoi_dh_derive(da, GDOI_BYTES(pb, 32), out, sizeof(out), &n), GDOI_OK);
	assert_int_equal(n, 32);
	assert_memory_equal(out, k, 32);
	assert_int_equal(gdoi_dh_derive(db, GDOI_BYTES(pa, 32), out, sizeof(out), &n), GDOI_OK);
	assert_memory_equal(out, k, 32);
	assert_int_equal(gdoi_dh_derive(da, GDOI_BYTES(zero, 32), out, sizeof(out), &n), GDOI_ERR_DH_VALUE);
	assert_int_equal(n, 0);
	assert_int_equal(gdoi_dh_derive(da, GDOI_BYTES(pb, 31), out, sizeof(out), &n), GDOI_ERR_DH_VALUE);
	assert_int_equal(gdoi_dh_check_peer(31, GDOI_BYTES(pb, 33)), GDOI_ERR_DH_VALUE);
	gdoi_dh_free(da);
	gdoi_dh_free(db);
	assert_int_equal(gdoi_dh_new_from_private(31, GDOI_BYTES(a, 31), &db), GDOI_ERR_INVALID_ARG);
	/* generated pairs agree */
	assert_int_equal(gdoi_dh_new(31, &da), GDOI_OK);
	assert_int_equal(gdoi_dh_new(31, &db), GDOI_OK);
	assert_int_equal(gdoi_dh_derive(da, gdoi_dh_public(db), a, 32, &n), GDOI_OK);
	assert_int_equal(gdoi_dh_derive(db, gdoi_dh_public(da), b, 32, &n), GDOI_OK);
	assert_memory_equal(a, b, 32);
	gdoi_dh_free(da);
	gdoi_dh_free(db);
}

/*
 * The curves' parameter templates are made once and shared by every thread
 * (gdoi-ks's workers): agreements made at once on four threads, each side
 * from a fresh key pair, all agree. A worker's failure is counted, not
 * asserted, since cmocka's asserts belong to the main thread.
 */
struct pairs_job {
	uint16_t group;
	int failures;
};

static void *pairs_thread(void *arg)
{
	struct pairs_job *j = arg;

	for (int i = 0; i < 50; i++) {
		struct gdoi_dh *a = NULL, *b = NULL;
		uint8_t s1[GDOI_DH_MAX_SECRET_LEN], s2[GDOI_DH_MAX_SECRET_LEN];
		size_t n1 = 0, n2 = 0;
		if (gdoi_dh_new(j->group, &a) != GDOI_OK || gdoi_dh_new(j->group, &b) != GDOI_OK ||
		    gdoi_dh_derive(a, gdoi_dh_public(b), s1, sizeof(s1), &n1) != GDOI_OK ||
		    gdoi_dh_derive(b, gdoi_dh_public(a), s2, sizeof(s2), &n2) != GDOI_OK ||
		    n1 != gdoi_dh_secret_len(j->group) || n2 != n1 || memcmp(s1, s2, n1) != 0)
			j->failures++;
		gdoi_dh_free(a);
		gdoi_dh_free(b);
	}
	return NULL;
}

static void test_ecp_agreements_on_several_threads_at_once_agree(void **state)
{
	pthread_t t[4];
	struct pairs_job j[4];
	(void)state;

	for (size_t i = 0; i < 4; i++) {
		j[i] = (struct pairs_job){ .group = ecp_groups[i % N(ecp_groups)] };
		assert_int_equal(pthread_create(&t[i], NULL, pairs_thread, &j[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(j[i].failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dh_lengths_match_each_group_refuse_weak_ones),
		cmocka_unit_test(test_dh_both_sides_derive_same_secret),
		cmocka_unit_test(test_modp_refuses_rfc6989_bad_values),
		cmocka_unit_test(test_modp_refuses_order_2q_values_beyond_modp1024),
		cmocka_unit_test(test_ecp_refuses_off_curve_and_wrong_length_points),
		cmocka_unit_test(test_ecp256_matches_rfc5903_vector),
		cmocka_unit_test(test_ecp_agreements_on_several_threads_at_once_agree),
		cmocka_unit_test(test_x25519_matches_rfc7748_and_refuses_all_zero_output),
		cmocka_unit_test(test_modp_pads_short_secret_on_left),
		cmocka_unit_test(test_modp1024_is_rfc2409_prime_and_takes_reference_values),
	};
	return cmocka_run_group_tests_name("dh", tests, NULL, NULL);
}
