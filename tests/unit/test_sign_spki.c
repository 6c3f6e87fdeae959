/*
 * test_sign_spki.c - public keys from SubjectPublicKeyInfo (gdoi/sign.c
 * gdoi_key_from_spki): named-curve EC keys in their RFC 5480 form are imported
 * without OpenSSL's decoders; every other form still goes through d2i_PUBKEY.
 * Keys are made here with EVP calls and compared octet for octet.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/sign.h"

static const char *const curves[] = { "P-256", "P-384", "P-521" };

/* i2d_PUBKEY of k in a malloc'd buffer; *n its length. */
static uint8_t *spki_of(EVP_PKEY *k, size_t *n)
{
	uint8_t *der = NULL;
	int len = i2d_PUBKEY(k, &der);

	assert_true(len > 0);
	*n = (size_t)len;
	return der;
}

static void test_ec_spki_of_every_curve_loads_as_the_key_d2i_gives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		EVP_PKEY *k = EVP_EC_gen(curves[i]);
		size_t n, m;
		uint8_t *der, *back_der = NULL;
		struct gdoi_key *key = NULL;

		assert_non_null(k);
		der = spki_of(k, &n);
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n), &key), GDOI_OK);
		assert_false(gdoi_key_has_private(key));
		assert_int_equal(gdoi_key_to_spki(key, &back_der, &m), GDOI_OK);
		assert_int_equal(m, n);
		assert_memory_equal(back_der, der, n);
		free(back_der);
		gdoi_key_free(key);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

static void test_ec_spki_with_a_point_off_the_curve_is_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		EVP_PKEY *k = EVP_EC_gen(curves[i]);
		size_t n;
		uint8_t *der;
		struct gdoi_key *key = NULL;

		assert_non_null(k);
		der = spki_of(k, &n);
		der[n - 1] ^= 0x01;	/* y's last octet: (x, y + 1) or so, not on the curve */
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n), &key), GDOI_ERR_VALUE);
		assert_null(key);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

static void test_ec_spki_with_a_compressed_point_still_loads(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	struct gdoi_key *key = NULL, *ref = NULL;
	size_t n, un;
	uint8_t *der, *uncompressed;

	(void)state;
	assert_non_null(k);
	uncompressed = spki_of(k, &un);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
							"compressed"), 1);
	der = spki_of(k, &n);
	assert_int_equal(n, 59);	/* 02/03 and x: not the form imported directly */
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n), &key), GDOI_OK);
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(uncompressed, un), &ref), GDOI_OK);
	assert_true(gdoi_key_public_equal(key, ref));
	gdoi_key_free(key);
	gdoi_key_free(ref);
	OPENSSL_free(der);
	OPENSSL_free(uncompressed);
	EVP_PKEY_free(k);
}

static void test_ec_spki_prefix_with_another_length_is_not_taken_for_a_key(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	struct gdoi_key *key = NULL;
	size_t n;
	uint8_t *der, *longer;

	(void)state;
	assert_non_null(k);
	der = spki_of(k, &n);
	longer = calloc(1, n + 1);
	assert_non_null(longer);
	memcpy(longer, der, n);
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(longer, n + 1), &key), GDOI_ERR_TRAILING);
	assert_null(key);
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n - 1), &key), GDOI_ERR_VALUE);
	assert_null(key);
	free(longer);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_spki_of_every_curve_loads_as_the_key_d2i_gives),
		cmocka_unit_test(test_ec_spki_with_a_point_off_the_curve_is_refused),
		cmocka_unit_test(test_ec_spki_with_a_compressed_point_still_loads),
		cmocka_unit_test(test_ec_spki_prefix_with_another_length_is_not_taken_for_a_key),
	};
	return cmocka_run_group_tests_name("sign_spki", tests, NULL, NULL);
}
