/*
 * test_ike2_sk.c - SK / SKF protection (gdoi/ike2_sk.c): AES-GCM known
 * answers (the GCM specification's test cases 4 and 16, as in NIST's GCMVS),
 * SK round trips for each cipher with every octet of the result tampered,
 * a Pad Length past the plaintext refused, and SKF fragments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_sk.h"
#include "gdoi/ike2_wire.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	long n = gdoi_hex_decode(h, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

static const char *GCM_P =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
static const char *GCM_A = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const char *GCM_IV = "cafebabefacedbaddecaf888";

static void gcm_case(const char *key, const char *ct, const char *tag)
{
	uint8_t k[32], p[64], a[20], iv[12], c[64], t[16], out[80], back[64];
	size_t kl = hex(key, k, sizeof(k)), pl = hex(GCM_P, p, sizeof(p)), al = hex(GCM_A, a, sizeof(a));
	assert_int_equal(hex(GCM_IV, iv, 12), 12);
	assert_int_equal(hex(ct, c, sizeof(c)), pl);
	assert_int_equal(hex(tag, t, 16), 16);
	assert_int_equal(gdoi_aes_gcm_seal(GDOI_BYTES(k, kl), iv, GDOI_BYTES(a, al), p, pl, out), GDOI_OK);
	assert_memory_equal(out, c, pl);
	assert_memory_equal(out + pl, t, 16);
	assert_int_equal(gdoi_aes_gcm_open(GDOI_BYTES(k, kl), iv, GDOI_BYTES(a, al), c, pl, t, back), GDOI_OK);
	assert_memory_equal(back, p, pl);
	t[15] ^= 1;
	assert_int_equal(gdoi_aes_gcm_open(GDOI_BYTES(k, kl), iv, GDOI_BYTES(a, al), c, pl, t, back),
			 GDOI_ERR_AUTH);
	t[15] ^= 1;
	a[0] ^= 1;
	assert_int_equal(gdoi_aes_gcm_open(GDOI_BYTES(k, kl), iv, GDOI_BYTES(a, al), c, pl, t, back),
			 GDOI_ERR_AUTH);
}

static void test_gcm_known_answers(void **state)
{
	(void)state;
	gcm_case("feffe9928665731c6d6a8f9467308308",
		 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		 "5bc94fbc3221a5db94fae95ae7121a47");
	gcm_case("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		 "76fc6ece0f4e1768cddf8853bb2d551b");
}

static void keys_for(struct gdoi_ike2_keys *k, const struct gdoi_ike2_suite *s)
{
	uint8_t spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, spr[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	static const uint8_t ni[16] = "nonce-initiator", nr[16] = "nonce-responder", g[32] = "shared";
	assert_int_equal(gdoi_ike2_keys_derive(k, s, GDOI_BYTES(ni, 16), GDOI_BYTES(nr, 16),
					       GDOI_BYTES(g, 32), spi, spr), GDOI_OK);
}

static void hdr_for(struct gdoi_ike2_hdr *h)
{
	memset(h, 0, sizeof(*h));
	memset(h->spi_i, 0x11, 8);
	memset(h->spi_r, 0x22, 8);
	h->version = GDOI_IKE2_VERSION;
	h->exchange = GDOI_IKE2_EXCH_INFORMATIONAL;
	h->flags = GDOI_IKE2_FLAG_INITIATOR;
	h->msgid = 7;
}

static const struct gdoi_ike2_suite SUITES[] = {
	{ GDOI_IKE2_ENCR_AES_GCM_16, 128, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 },
	{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_512, 0, 19 },
	{ GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256, GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 19 },
	{ GDOI_IKE2_ENCR_AES_CBC, 256, GDOI_IKE2_PRF_HMAC_SHA2_384, GDOI_IKE2_AUTH_HMAC_SHA2_384_192, 19 },
	{ GDOI_IKE2_ENCR_AES_CBC, 192, GDOI_IKE2_PRF_HMAC_SHA2_512, GDOI_IKE2_AUTH_HMAC_SHA2_512_256, 19 },
};

static void test_sk_round_trip_and_every_octet_tampered(void **state)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100 };
	uint8_t inner[100];
	(void)state;
	for (size_t i = 0; i < sizeof(inner); i++)
		inner[i] = (uint8_t)i;
	for (size_t s = 0; s < sizeof(SUITES) / sizeof(SUITES[0]); s++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
			struct gdoi_ike2_hdr h, ph;
			struct gdoi_ike2_chain c;
			uint8_t *msg, *pt;
			size_t len, ptl;
			keys_for(k, &SUITES[s]);
			hdr_for(&h);
			assert_int_equal(gdoi_ike2_sk_seal(k, true, &h, GDOI_IKE2_PL_NOTIFY,
							   GDOI_BYTES(inner, lens[l]), &msg, &len), GDOI_OK);
			assert_int_equal(gdoi_ike2_hdr_parse(msg, len, &ph, NULL), GDOI_OK);
			assert_int_equal(ph.next, GDOI_IKE2_PL_SK);
			assert_int_equal(len, GDOI_IKE2_HDR_LEN + gdoi_ike2_sk_overhead(k, lens[l]) + lens[l]);
			assert_int_equal(gdoi_ike2_chain_parse(msg + 28, len - 28, 28, ph.next, true, NULL, 0, &c,
							       NULL), GDOI_OK);
			assert_int_equal(c.sk_type, GDOI_IKE2_PL_SK);
			assert_int_equal(c.sk_first, GDOI_IKE2_PL_NOTIFY);
			assert_int_equal(gdoi_ike2_sk_open(k, true, msg, len, 28, false, &pt, &ptl), GDOI_OK);
			assert_int_equal(ptl, lens[l]);
			assert_memory_equal(pt, inner, lens[l]);
			gdoi_wipe_free(pt, ptl);
			/* the other direction's keys do not open it */
			assert_int_equal(gdoi_ike2_sk_open(k, false, msg, len, 28, false, &pt, &ptl), GDOI_ERR_AUTH);
			for (size_t b = 0; b < len; b++) {
				msg[b] ^= 0x80;
				int rc = gdoi_ike2_sk_open(k, true, msg, len, 28, false, &pt, &ptl);
				msg[b] ^= 0x80;
				if (rc == GDOI_OK)
					fail_msg("suite %zu len %zu: octet %zu tampered and accepted", s, lens[l], b);
				assert_null(pt);
			}
			free(msg);
			gdoi_ike2_keys_free(k);
		}
}

/* A GCM message whose (authentic) Pad Length runs past the plaintext. */
static void test_pad_length_past_plaintext_refused(void **state)
{
	struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
	struct gdoi_ike2_hdr h;
	struct gdoi_writer w;
	uint8_t pt[8] = { 0, 0, 0, 0, 0, 0, 0, 200 }, nonce[12], *msg, *out;
	size_t len, ol;
	(void)state;
	keys_for(k, &SUITES[0]);
	hdr_for(&h);
	h.next = GDOI_IKE2_PL_SK;
	h.length = 28 + 4 + 8 + 8 + 16;
	gdoi_writer_init(&w);
	gdoi_ike2_hdr_write(&w, &h);
	gdoi_write_u8(&w, 0);
	gdoi_write_u8(&w, 0);
	gdoi_write_u16(&w, 4 + 8 + 8 + 16);
	gdoi_write_bytes(&w, "IVIVIVIV", 8);
	gdoi_write_zeros(&w, 8 + 16);
	msg = gdoi_writer_take(&w, &len);
	memcpy(nonce, k->sk_ei + 16, 4);
	memcpy(nonce + 4, "IVIVIVIV", 8);
	assert_int_equal(gdoi_aes_gcm_seal(GDOI_BYTES(k->sk_ei, 16), nonce, GDOI_BYTES(msg, 32), pt, 8,
					   msg + 40), GDOI_OK);
	assert_int_equal(gdoi_ike2_sk_open(k, true, msg, len, 28, false, &out, &ol), GDOI_ERR_LENGTH);
	assert_null(out);
	pt[7] = 7;	/* the largest Pad Length that fits */
	assert_int_equal(gdoi_aes_gcm_seal(GDOI_BYTES(k->sk_ei, 16), nonce, GDOI_BYTES(msg, 32), pt, 8,
					   msg + 40), GDOI_OK);
	assert_int_equal(gdoi_ike2_sk_open(k, true, msg, len, 28, false, &out, &ol), GDOI_OK);
	assert_int_equal(ol, 0);
	free(out);
	/* too short to hold IV and ICV */
	assert_int_equal(gdoi_ike2_sk_open(k, true, msg, 28 + 4 + 8 + 16, 28, false, &out, &ol),
			 GDOI_ERR_TRUNCATED);
	free(msg);
	gdoi_ike2_keys_free(k);
}

static void test_skf_fragments_each_verified_and_bounded(void **state)
{
	uint8_t inner[3000], *out[64];
	size_t olen[64], n = 0, got = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(inner); i++)
		inner[i] = (uint8_t)(i * 13);
	for (size_t s = 0; s < sizeof(SUITES) / sizeof(SUITES[0]); s++) {
		struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
		struct gdoi_ike2_hdr h;
		keys_for(k, &SUITES[s]);
		hdr_for(&h);
		n = 0;
		got = 0;
		assert_int_equal(gdoi_ike2_sk_seal_frags(k, false, &h, GDOI_IKE2_PL_VENDOR,
							 GDOI_BYTES(inner, sizeof(inner)), 500, out, olen, 64, &n),
				 GDOI_OK);
		assert_true(n >= 7);
		for (size_t f = 0; f < n; f++) {
			struct gdoi_ike2_chain c;
			uint16_t num, total;
			uint8_t *pt;
			size_t ptl;
			assert_true(olen[f] <= 500);
			assert_int_equal(gdoi_ike2_chain_parse(out[f] + 28, olen[f] - 28, 28, out[f][16], true,
							       NULL, 0, &c, NULL), GDOI_OK);
			assert_int_equal(c.sk_type, GDOI_IKE2_PL_SKF);
			assert_int_equal(c.sk_first, f == 0 ? GDOI_IKE2_PL_VENDOR : 0);
			assert_int_equal(gdoi_ike2_skf_parse(c.sk_body, c.sk_off, &num, &total, NULL), GDOI_OK);
			assert_int_equal(num, f + 1);
			assert_int_equal(total, n);
			assert_int_equal(gdoi_ike2_sk_open(k, false, out[f], olen[f], 28, true, &pt, &ptl), GDOI_OK);
			assert_memory_equal(pt, inner + got, ptl);
			got += ptl;
			free(pt);
			/* the fragment number is authenticated */
			out[f][28 + 5] ^= 1;
			assert_int_equal(gdoi_ike2_sk_open(k, false, out[f], olen[f], 28, true, &pt, &ptl),
					 GDOI_ERR_AUTH);
			free(out[f]);
		}
		assert_int_equal(got, sizeof(inner));
		/* small enough: one SK payload */
		n = 0;
		assert_int_equal(gdoi_ike2_sk_seal_frags(k, false, &h, GDOI_IKE2_PL_VENDOR,
							 GDOI_BYTES(inner, 100), 500, out, olen, 64, &n), GDOI_OK);
		assert_int_equal(n, 1);
		assert_int_equal(out[0][16], GDOI_IKE2_PL_SK);
		free(out[0]);
		/* more fragments than room: refused */
		n = 0;
		assert_int_equal(gdoi_ike2_sk_seal_frags(k, false, &h, GDOI_IKE2_PL_VENDOR,
							 GDOI_BYTES(inner, sizeof(inner)), 500, out, olen, 3, &n),
				 GDOI_ERR_TOO_BIG);
		assert_int_equal(n, 0);
		gdoi_ike2_keys_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_known_answers),
		cmocka_unit_test(test_sk_round_trip_and_every_octet_tampered),
		cmocka_unit_test(test_pad_length_past_plaintext_refused),
		cmocka_unit_test(test_skf_fragments_each_verified_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
