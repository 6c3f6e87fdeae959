/* test_crypto.c - known answers for gdoi/crypto.c: digests, HMAC, CBC, mappings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	long n = gdoi_hex_decode(hex, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];
	size_t n = unhex(want_hex, want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static void test_md_lengths_and_ike_sig_hash_numbers_match_rfcs(void **state)
{
	(void)state;
	assert_int_equal(gdoi_md_len(GDOI_MD_MD5), 16);
	assert_int_equal(gdoi_md_len(GDOI_MD_SHA1), 20);
	assert_int_equal(gdoi_md_len(GDOI_MD_SHA256), 32);
	assert_int_equal(gdoi_md_len(GDOI_MD_SHA384), 48);
	assert_int_equal(gdoi_md_len(GDOI_MD_SHA512), 64);
	assert_int_equal(gdoi_md_len(GDOI_MD_NONE), 0);
	assert_int_equal(gdoi_md_len((enum gdoi_md)99), 0);

	/* IKE Hash Algorithm: 1 MD5, 2 SHA, 3 Tiger (unsupported), 4/5/6 SHA2. */
	assert_int_equal(gdoi_md_from_ike(1), GDOI_MD_MD5);
	assert_int_equal(gdoi_md_from_ike(2), GDOI_MD_SHA1);
	assert_int_equal(gdoi_md_from_ike(3), GDOI_MD_NONE);
	assert_int_equal(gdoi_md_from_ike(4), GDOI_MD_SHA256);
	assert_int_equal(gdoi_md_from_ike(5), GDOI_MD_SHA384);
	assert_int_equal(gdoi_md_from_ike(6), GDOI_MD_SHA512);
	assert_int_equal(gdoi_md_from_ike(0), GDOI_MD_NONE);
	assert_int_equal(gdoi_md_from_ike(7), GDOI_MD_NONE);
	assert_int_equal(gdoi_md_to_ike(GDOI_MD_SHA384), 5);

	/* GDOI SIG_HASH_ALGORITHM is numbered differently (no Tiger gap). */
	assert_int_equal(gdoi_md_from_sig_hash(1), GDOI_MD_MD5);
	assert_int_equal(gdoi_md_from_sig_hash(2), GDOI_MD_SHA1);
	assert_int_equal(gdoi_md_from_sig_hash(3), GDOI_MD_SHA256);
	assert_int_equal(gdoi_md_from_sig_hash(4), GDOI_MD_SHA384);
	assert_int_equal(gdoi_md_from_sig_hash(5), GDOI_MD_SHA512);
	assert_int_equal(gdoi_md_from_sig_hash(6), GDOI_MD_NONE);
	assert_int_equal(gdoi_md_to_sig_hash(GDOI_MD_SHA256), 3);
}

static void test_hash_of_split_abc_matches_known_digests(void **state)
{
	static const struct { enum gdoi_md md; const char *hex; } kat[] = {
		{ GDOI_MD_MD5, "900150983cd24fb0d6963f7d28e17f72" },
		{ GDOI_MD_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ GDOI_MD_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ GDOI_MD_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
				  "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7" },
		{ GDOI_MD_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	};
	uint8_t out[GDOI_MD_MAX_LEN];
	(void)state;

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		/* "abc" split over three parts, one of them empty: same digest. */
		gdoi_bytes parts[] = { GDOI_BYTES("a", 1), GDOI_BYTES_NONE, GDOI_BYTES("bc", 2) };
		assert_int_equal(gdoi_hash(kat[i].md, parts, 3, out), GDOI_OK);
		assert_hex_equal(out, gdoi_md_len(kat[i].md), kat[i].hex);
	}
	assert_int_equal(gdoi_hash(GDOI_MD_NONE, NULL, 0, out), GDOI_ERR_UNSUPPORTED);
}

/* RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-2) test cases 1, 2 and 6. */
static void test_prf_matches_rfc2202_and_rfc4231_vectors(void **state)
{
	uint8_t k0b[20], kaa[131], out[GDOI_MD_MAX_LEN];
	const char *hi = "Hi There", *jefe = "what do ya want for nothing?";
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
	(void)state;
	memset(k0b, 0x0b, sizeof(k0b));
	memset(kaa, 0xaa, sizeof(kaa));

	struct {
		enum gdoi_md md;
		gdoi_bytes key;
		const char *data, *hex;
	} kat[] = {
		{ GDOI_MD_MD5, GDOI_BYTES(k0b, 16), hi, "9294727a3638bb1c13f48ef8158bfc9d" },
		{ GDOI_MD_MD5, GDOI_BYTES("Jefe", 4), jefe, "750c783e6ab0b503eaa86e310a5db738" },
		{ GDOI_MD_SHA1, GDOI_BYTES(k0b, 20), hi, "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ GDOI_MD_SHA1, GDOI_BYTES("Jefe", 4), jefe, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ GDOI_MD_SHA256, GDOI_BYTES(k0b, 20), hi,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ GDOI_MD_SHA256, GDOI_BYTES("Jefe", 4), jefe,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ GDOI_MD_SHA256, GDOI_BYTES(kaa, 131), big,
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ GDOI_MD_SHA384, GDOI_BYTES(k0b, 20), hi,
		  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		  "faea9ea9076ede7f4af152e8b2fa9cb6" },
		{ GDOI_MD_SHA512, GDOI_BYTES(k0b, 20), hi,
		  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	};

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		size_t n = strlen(kat[i].data), half = n / 2;
		gdoi_bytes one = GDOI_BYTES(kat[i].data, n);
		gdoi_bytes two[] = { GDOI_BYTES(kat[i].data, half),
				     GDOI_BYTES(kat[i].data + half, n - half) };

		assert_int_equal(gdoi_prf(kat[i].md, kat[i].key, &one, 1, out), GDOI_OK);
		assert_hex_equal(out, gdoi_md_len(kat[i].md), kat[i].hex);
		memset(out, 0, sizeof(out));
		assert_int_equal(gdoi_prf(kat[i].md, kat[i].key, two, 2, out), GDOI_OK);
		assert_hex_equal(out, gdoi_md_len(kat[i].md), kat[i].hex);
	}
}

static void test_prf_with_empty_key_matches_known_answer(void **state)
{
	uint8_t out[32];
	(void)state;
	/* HMAC-SHA256("", "") */
	assert_int_equal(gdoi_prf(GDOI_MD_SHA256, GDOI_BYTES_NONE, NULL, 0, out), GDOI_OK);
	assert_hex_equal(out, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_cipher_numbers_map_to_ciphers_and_refuse_bad_key_lengths(void **state)
{
	(void)state;
	assert_int_equal(gdoi_cipher_from_ike(5, 0), GDOI_CIPHER_3DES_CBC);
	assert_int_equal(gdoi_cipher_from_ike(5, 192), GDOI_CIPHER_3DES_CBC);
	assert_int_equal(gdoi_cipher_from_ike(5, 128), GDOI_CIPHER_NONE);
	assert_int_equal(gdoi_cipher_from_ike(7, 128), GDOI_CIPHER_AES_128_CBC);
	assert_int_equal(gdoi_cipher_from_ike(7, 192), GDOI_CIPHER_AES_192_CBC);
	assert_int_equal(gdoi_cipher_from_ike(7, 256), GDOI_CIPHER_AES_256_CBC);
	assert_int_equal(gdoi_cipher_from_ike(7, 0), GDOI_CIPHER_NONE);	/* RFC 3602 §5.3 */
	assert_int_equal(gdoi_cipher_from_ike(7, 512), GDOI_CIPHER_NONE);
	assert_int_equal(gdoi_cipher_from_ike(1, 0), GDOI_CIPHER_NONE);	/* DES: refused */
	assert_int_equal(gdoi_cipher_from_kek(2, 0), GDOI_CIPHER_3DES_CBC);
	assert_int_equal(gdoi_cipher_from_kek(3, 128), GDOI_CIPHER_AES_128_CBC);
	assert_int_equal(gdoi_cipher_from_kek(3, 256), GDOI_CIPHER_AES_256_CBC);
	assert_int_equal(gdoi_cipher_from_kek(3, 0), GDOI_CIPHER_NONE);
	assert_int_equal(gdoi_cipher_from_kek(1, 0), GDOI_CIPHER_NONE);
	assert_int_equal(gdoi_cipher_key_len(GDOI_CIPHER_3DES_CBC), 24);
	assert_int_equal(gdoi_cipher_block_len(GDOI_CIPHER_3DES_CBC), 8);
	assert_int_equal(gdoi_cipher_key_len(GDOI_CIPHER_AES_192_CBC), 24);
	assert_int_equal(gdoi_cipher_block_len(GDOI_CIPHER_AES_256_CBC), 16);
	assert_int_equal(gdoi_cipher_key_len(GDOI_CIPHER_NONE), 0);
}

/* NIST SP 800-38A F.2.1 / F.2.5 (CBC-AES128 / CBC-AES256), and back. */
static void test_aes_cbc_matches_sp800_38a_both_ways(void **state)
{
	static const char *pt_hex =
		"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	static const struct { enum gdoi_cipher c; const char *key, *ct; } kat[] = {
		{ GDOI_CIPHER_AES_128_CBC, "2b7e151628aed2a6abf7158809cf4f3c",
		  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
		  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7" },
		{ GDOI_CIPHER_AES_256_CBC,
		  "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		  "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
		  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
	};
	uint8_t key[32], iv[16], pt[64], buf[64];
	(void)state;

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		size_t klen = unhex(kat[i].key, key, sizeof(key));
		unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
		unhex(pt_hex, pt, sizeof(pt));
		assert_int_equal(gdoi_cbc_encrypt(kat[i].c, GDOI_BYTES(key, klen), GDOI_BYTES(iv, 16),
						  pt, 64, buf), GDOI_OK);
		assert_hex_equal(buf, 64, kat[i].ct);
		/* in place */
		assert_int_equal(gdoi_cbc_decrypt(kat[i].c, GDOI_BYTES(key, klen), GDOI_BYTES(iv, 16),
						  buf, 64, buf), GDOI_OK);
		assert_memory_equal(buf, pt, 64);
	}
}

static void test_cbc_round_trips_every_cipher_and_chains(void **state)
{
	static const enum gdoi_cipher all[] = { GDOI_CIPHER_3DES_CBC, GDOI_CIPHER_AES_128_CBC,
		GDOI_CIPHER_AES_192_CBC, GDOI_CIPHER_AES_256_CBC };
	uint8_t key[32], iv[16], pt[96], ct[96], back[96];
	(void)state;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		size_t kl = gdoi_cipher_key_len(all[i]), bl = gdoi_cipher_block_len(all[i]);
		assert_int_equal(gdoi_random(key, kl), GDOI_OK);
		assert_int_equal(gdoi_random(iv, bl), GDOI_OK);
		assert_int_equal(gdoi_random(pt, sizeof(pt)), GDOI_OK);
		assert_int_equal(gdoi_cbc_encrypt(all[i], GDOI_BYTES(key, kl), GDOI_BYTES(iv, bl),
						  pt, sizeof(pt), ct), GDOI_OK);
		assert_memory_not_equal(ct, pt, sizeof(pt));
		assert_int_equal(gdoi_cbc_decrypt(all[i], GDOI_BYTES(key, kl), GDOI_BYTES(iv, bl),
						  ct, sizeof(ct), back), GDOI_OK);
		assert_memory_equal(back, pt, sizeof(pt));
		/* CBC really chains: the second block depends on the first. */
		pt[0] ^= 1;
		assert_int_equal(gdoi_cbc_encrypt(all[i], GDOI_BYTES(key, kl), GDOI_BYTES(iv, bl),
						  pt, sizeof(pt), back), GDOI_OK);
		assert_memory_not_equal(back + bl, ct + bl, bl);
		/* zero length is a no-op */
		assert_int_equal(gdoi_cbc_encrypt(all[i], GDOI_BYTES(key, kl), GDOI_BYTES(iv, bl),
						  pt, 0, back), GDOI_OK);
	}
}

static void test_cbc_rejects_bad_lengths(void **state)
{
	uint8_t key[32] = { 0 }, iv[16] = { 0 }, buf[48] = { 0 };
	(void)state;

	/* not a multiple of the block length: the caller must pad */
	assert_int_equal(gdoi_cbc_encrypt(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(key, 16),
					  GDOI_BYTES(iv, 16), buf, 17, buf), GDOI_ERR_LENGTH);
	assert_int_equal(gdoi_cbc_decrypt(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(key, 16),
					  GDOI_BYTES(iv, 16), buf, 8, buf), GDOI_ERR_LENGTH);
	assert_int_equal(gdoi_cbc_decrypt(GDOI_CIPHER_3DES_CBC, GDOI_BYTES(key, 24),
					  GDOI_BYTES(iv, 8), buf, 12, buf), GDOI_ERR_LENGTH);
	/* wrong key or IV length */
	assert_int_equal(gdoi_cbc_encrypt(GDOI_CIPHER_AES_256_CBC, GDOI_BYTES(key, 16),
					  GDOI_BYTES(iv, 16), buf, 16, buf), GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_cbc_encrypt(GDOI_CIPHER_3DES_CBC, GDOI_BYTES(key, 24),
					  GDOI_BYTES(iv, 16), buf, 16, buf), GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_cbc_encrypt(GDOI_CIPHER_NONE, GDOI_BYTES(key, 16),
					  GDOI_BYTES(iv, 16), buf, 16, buf), GDOI_ERR_UNSUPPORTED);
}

static void test_random_differs_ct_equal_compares_wipe_zeroes(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
	(void)state;
	assert_int_equal(gdoi_random(a, sizeof(a)), GDOI_OK);
	assert_int_equal(gdoi_random(b, sizeof(b)), GDOI_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(gdoi_random(NULL, 0), GDOI_OK);

	memcpy(b, a, sizeof(a));
	assert_true(gdoi_ct_equal(a, b, sizeof(a)));
	b[31] ^= 0x80;
	assert_false(gdoi_ct_equal(a, b, sizeof(a)));
	assert_true(gdoi_ct_equal(NULL, NULL, 0));

	gdoi_wipe(a, sizeof(a));
	assert_memory_equal(a, zero, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md_lengths_and_ike_sig_hash_numbers_match_rfcs),
		cmocka_unit_test(test_hash_of_split_abc_matches_known_digests),
		cmocka_unit_test(test_prf_matches_rfc2202_and_rfc4231_vectors),
		cmocka_unit_test(test_prf_with_empty_key_matches_known_answer),
		cmocka_unit_test(test_cipher_numbers_map_to_ciphers_and_refuse_bad_key_lengths),
		cmocka_unit_test(test_aes_cbc_matches_sp800_38a_both_ways),
		cmocka_unit_test(test_cbc_round_trips_every_cipher_and_chains),
		cmocka_unit_test(test_cbc_rejects_bad_lengths),
		cmocka_unit_test(test_random_differs_ct_equal_compares_wipe_zeroes),
	};
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
