/*
 * test_gike2_keywrap.c - the key wrap of G-IKEv2 KD contents (gdoi/gike2_keywrap.c):
 * AES key wrap (RFC 3394 §4 vectors) and with padding (RFC 5649 §6 vectors),
 * every byte compared; tampering and wrong keys refused; prf+ (ike2_keys.c) against HMAC
 * computed here block by block; GSK_w = prf+(SK_d, "Key Wrap for G-IKEv2").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/gike2.h"
#include "gdoi/ike2_keys.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	long n = gdoi_hex_decode(h, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

struct kat {
	const char *kek, *data, *wrapped;
};

/* RFC 3394 §4.1 (128-bit KEK, 128-bit data), §4.2, §4.3, §4.6 (256/256). */
static const struct kat kw[] = {
	{ "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
	  "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5" },
	{ "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
	  "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D" },
	{ "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
	  "00112233445566778899AABBCCDDEEFF",
	  "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7" },
	{ "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
	  "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
	  "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21" },
};

/* RFC 5649 §6: 20 octets and 7 octets under a 192-bit KEK. */
static const struct kat kwp[] = {
	{ "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
	  "c37b7e6492584340bed12207808941155068f738",
	  "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a" },
	{ "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369",
	  "afbeb0f07dfbf5419200f2ccb50bb24f" },
};

static void run_kat(const struct kat *k, bool pad)
{
	uint8_t kek[32], data[64], want[80], out[80], back[80];
	size_t kl = hex(k->kek, kek, sizeof(kek)), dl = hex(k->data, data, sizeof(data));
	size_t wl = hex(k->wrapped, want, sizeof(want)), ol = 0, bl = 0;

	int (*wrap)(gdoi_bytes, gdoi_bytes, uint8_t *, size_t, size_t *) =
		pad ? gike2_kwp_wrap : gike2_kw_wrap;
	int (*unwrap)(gdoi_bytes, gdoi_bytes, uint8_t *, size_t, size_t *) =
		pad ? gike2_kwp_unwrap : gike2_kw_unwrap;
	assert_int_equal(wrap(GDOI_BYTES(kek, kl), GDOI_BYTES(data, dl), out, sizeof(out), &ol), 0);
	assert_int_equal(ol, wl);
	assert_memory_equal(out, want, wl);
	if (pad)
		assert_int_equal(gike2_kwp_wrapped_len(dl), wl);
	assert_int_equal(unwrap(GDOI_BYTES(kek, kl), GDOI_BYTES(want, wl), back, sizeof(back), &bl), 0);
	assert_int_equal(bl, dl);
	assert_memory_equal(back, data, dl);
	/* every single-bit change of the wrapped key is refused */
	for (size_t i = 0; i < wl; i++) {
		want[i] ^= 0x01;
		assert_int_equal(unwrap(GDOI_BYTES(kek, kl), GDOI_BYTES(want, wl), back, sizeof(back),
					&bl),
				 GDOI_ERR_AUTH);
		want[i] ^= 0x01;
	}
	/* a wrong KWK */
	kek[0] ^= 0x80;
	assert_int_equal(unwrap(GDOI_BYTES(kek, kl), GDOI_BYTES(want, wl), back, sizeof(back), &bl),
			 GDOI_ERR_AUTH);
}

static void test_rfc3394_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		run_kat(&kw[i], false);
}

static void test_rfc5649_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kwp) / sizeof(kwp[0]); i++)
		run_kat(&kwp[i], true);
}

static void test_wrap_limits(void **state)
{
	(void)state;
	uint8_t k[16] = { 0 }, in[40] = { 0 }, out[64];
	size_t n;
	/* truncated, not a multiple of 8, wrong KWK size, no room */
	assert_int_equal(gike2_kwp_unwrap(GDOI_BYTES(k, 16), GDOI_BYTES(in, 8), out, sizeof(out), &n),
			 GDOI_ERR_AUTH);
	assert_int_equal(gike2_kwp_unwrap(GDOI_BYTES(k, 16), GDOI_BYTES(in, 17), out, sizeof(out), &n),
			 GDOI_ERR_AUTH);
	assert_int_equal(gike2_kwp_wrap(GDOI_BYTES(k, 15), GDOI_BYTES(in, 16), out, sizeof(out), &n),
			 GDOI_ERR_INVALID_ARG);
	assert_int_equal(gike2_kwp_wrap(GDOI_BYTES(k, 16), GDOI_BYTES(in, 40), out, 40, &n),
			 GDOI_ERR_TOO_BIG);
	assert_int_equal(gike2_kw_wrap(GDOI_BYTES(k, 16), GDOI_BYTES(in, 12), out, sizeof(out), &n),
			 GDOI_ERR_LENGTH);
	assert_int_equal(gike2_kwa_key_len(GIKE2_KWA_5649_128), 16);
	assert_int_equal(gike2_kwa_key_len(GIKE2_KWA_5649_192), 24);
	assert_int_equal(gike2_kwa_key_len(GIKE2_KWA_5649_256), 32);
	assert_int_equal(gike2_kwa_key_len(GIKE2_KWA_ARX), 0);
}

/* prf+ (RFC 7296 §2.13) block by block with OpenSSL's one-shot HMAC. */
static void test_prf_plus(void **state)
{
	(void)state;
	uint8_t key[32], seed[20], out[100], want[128], t[32];
	unsigned tl = 0;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	memcpy(seed, GIKE2_GSK_W_LABEL, 20);
	gdoi_bytes sd = GDOI_BYTES(seed, 20);
	assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA256, GDOI_BYTES(key, 32), &sd, 1, out,
					    sizeof(out)),
			 0);
	uint8_t buf[32 + 20 + 1];
	size_t bl = 0;
	for (uint8_t n = 1; n <= 4; n++) {
		bl = 0;
		if (n > 1) {
			memcpy(buf, t, 32);
			bl = 32;
		}
		memcpy(buf + bl, seed, 20);
		bl += 20;
		buf[bl++] = n;
		assert_non_null(HMAC(EVP_sha256(), key, 32, buf, bl, t, &tl));
		assert_int_equal(tl, 32);
		memcpy(want + (n - 1) * 32, t, 32);
	}
	assert_memory_equal(out, want, sizeof(out));

	/* GSK_w takes the first KWK-length octets of prf+(SK_d, label) */
	uint8_t w[32];
	assert_int_equal(gike2_gsk_w(GDOI_MD_SHA256, GDOI_BYTES(key, 32), w, 16), 0);
	assert_memory_equal(w, want, 16);
	assert_int_equal(gike2_gsk_w(GDOI_MD_SHA256, GDOI_BYTES(key, 32), w, 32), 0);
	assert_memory_equal(w, want, 32);
	assert_int_equal(gike2_gsk_w(GDOI_MD_SHA256, GDOI_BYTES(key, 32), w, 20), GDOI_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3394_vectors),
		cmocka_unit_test(test_rfc5649_vectors),
		cmocka_unit_test(test_wrap_limits),
		cmocka_unit_test(test_prf_plus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
