/*
 * test_ike2_keys.c - the IKEv2 key schedule (gdoi/ike2_keys.c) against
 * NIST's published SP 800-135 IKEv2 KDF sample vectors (CAVP
 * 800-135testvectors/ikev2.zip), every octet compared:
 *  - HMAC-SHA-256 set: as carried in NSS gtests/common/testvectors/
 *    ike-sha256-vectors.h (its vectors 6, 7, 8, 9, 10, "from the NIST samples");
 *  - HMAC-SHA-1 set (COUNT 0 of [SHA-1], DKM 1056 bits), as quoted with its
 *    intermediate T blocks in a public Rust KDF crate's test_tpm_ike2.
 * SKEYSEED = prf(Ni | Nr, g^ir); DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr);
 * child DKM = prf+(SK_d, [g^ir(new) |] Ni | Nr); SKEYSEED(rekey) =
 * prf(SK_d, g^ir(new) | Ni | Nr) (RFC 7296 §2.13, §2.14, §2.17, §2.18).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	long n = gdoi_hex_decode(h, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

/* --- SHA-256 (NSS's copy of the NIST samples) --- */
static const char *S256_GIR = "0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29";
static const char *S256_NI = "3f302be1abcb28e1";
static const char *S256_NR = "8c332ee006064c9b";
static const char *S256_SPII = "40dac39e1e1a8640";
static const char *S256_SPIR = "8619a1cf9a6e4c07";
static const char *S256_SKEYSEED = "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe";
static const char *S256_DKM =
	"0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531"
	"188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b"
	"8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74a"
	"d405c588662c14a04d0d36aa4ab55e90f8986d12d4aad";
static const char *S256_GIR_NEW = "25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c";
static const char *S256_REKEY = "2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398";

static void test_sha256_skeyseed_dkm_rekey_match_nist(void **state)
{
	uint8_t gir[64], ni[16], nr[16], spii[8], spir[8], want[256], got[256], gnew[64];
	size_t gl = hex(S256_GIR, gir, sizeof(gir)), nil = hex(S256_NI, ni, sizeof(ni)),
	       nrl = hex(S256_NR, nr, sizeof(nr)), wl;
	(void)state;
	assert_int_equal(hex(S256_SPII, spii, 8), 8);
	assert_int_equal(hex(S256_SPIR, spir, 8), 8);
	assert_int_equal(gdoi_ike2_skeyseed(GDOI_MD_SHA256, GDOI_BYTES(ni, nil), GDOI_BYTES(nr, nrl),
					    GDOI_BYTES(gir, gl), got), GDOI_OK);
	wl = hex(S256_SKEYSEED, want, sizeof(want));
	assert_int_equal(wl, 32);
	assert_memory_equal(got, want, 32);
	/* prf+ at 132, 32 and 15 octets (vectors 8, 9, 10): each a prefix */
	wl = hex(S256_DKM, want, sizeof(want));
	assert_int_equal(wl, 132);
	static const size_t lens[] = { 132, 32, 15 };
	for (size_t i = 0; i < 3; i++) {
		gdoi_bytes seed[4] = { GDOI_BYTES(ni, nil), GDOI_BYTES(nr, nrl), GDOI_BYTES(spii, 8),
				       GDOI_BYTES(spir, 8) };
		uint8_t skeyseed[32];
		hex(S256_SKEYSEED, skeyseed, 32);
		memset(got, 0xee, sizeof(got));
		assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA256, GDOI_BYTES(skeyseed, 32), seed, 4, got,
						    lens[i]), GDOI_OK);
		assert_memory_equal(got, want, lens[i]);
		assert_int_equal(got[lens[i]], 0xee);	/* not one octet more */
	}
	/* SKEYSEED(rekey) = prf(SK_d, g^ir(new) | Ni | Nr), SK_d = DKM[0..32) (vector 7) */
	{
		size_t nl = hex(S256_GIR_NEW, gnew, sizeof(gnew));
		gdoi_bytes parts[3] = { GDOI_BYTES(gnew, nl), GDOI_BYTES(ni, nil), GDOI_BYTES(nr, nrl) };
		uint8_t r[32];
		assert_int_equal(gdoi_prf(GDOI_MD_SHA256, GDOI_BYTES(want, 32), parts, 3, got), GDOI_OK);
		hex(S256_REKEY, r, 32);
		assert_memory_equal(got, r, 32);
	}
}

/* The same vector through gdoi_ike2_keys_derive: SK_d is DKM's first 32 octets,
 * and the others follow in RFC 7296 §2.14 order. */
static void test_keys_derive_splits_dkm_in_rfc_order(void **state)
{
	static const struct gdoi_ike2_suite cbc = { GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256,
						    GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 19 };
	static const struct gdoi_ike2_suite gcm = { GDOI_IKE2_ENCR_AES_GCM_16, 128, GDOI_IKE2_PRF_HMAC_SHA2_256,
						    0, 19 };
	uint8_t gir[64], ni[16], nr[16], spii[8], spir[8], dkm[256];
	size_t gl = hex(S256_GIR, gir, sizeof(gir)), nil = hex(S256_NI, ni, sizeof(ni)),
	       nrl = hex(S256_NR, nr, sizeof(nr));
	struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
	(void)state;
	hex(S256_SPII, spii, 8);
	hex(S256_SPIR, spir, 8);
	hex(S256_DKM, dkm, sizeof(dkm));
	/* CBC-128 + HMAC-SHA-256-128: 32 + 32 + 32 + 16 + 16 + 32 + 32 = 192 > 132;
	 * the vector covers SK_d | SK_ai | SK_ar | SK_ei | SK_er[0..4). */
	assert_int_equal(gdoi_ike2_keys_derive(k, &cbc, GDOI_BYTES(ni, nil), GDOI_BYTES(nr, nrl),
					       GDOI_BYTES(gir, gl), spii, spir), GDOI_OK);
	assert_int_equal(k->prf_len, 32);
	assert_int_equal(k->integ_key_len, 32);
	assert_int_equal(k->icv_len, 16);
	assert_memory_equal(k->sk_d, dkm, 32);
	assert_memory_equal(k->sk_ai, dkm + 32, 32);
	assert_memory_equal(k->sk_ar, dkm + 64, 32);
	assert_memory_equal(k->sk_ei, dkm + 96, 16);
	assert_memory_equal(k->sk_er, dkm + 112, 16);
	/* GCM-128: SK_d | SK_ei (16 + 4 salt) | SK_er (20) | SK_pi | SK_pr: no SK_a */
	assert_int_equal(gdoi_ike2_keys_derive(k, &gcm, GDOI_BYTES(ni, nil), GDOI_BYTES(nr, nrl),
					       GDOI_BYTES(gir, gl), spii, spir), GDOI_OK);
	assert_int_equal(k->integ_key_len, 0);
	assert_int_equal(k->salt_len, 4);
	assert_memory_equal(k->sk_d, dkm, 32);
	assert_memory_equal(k->sk_ei, dkm + 32, 20);
	assert_memory_equal(k->sk_er, dkm + 52, 20);
	assert_memory_equal(k->sk_pi, dkm + 72, 32);
	assert_memory_equal(k->sk_pr, dkm + 104, 28);	/* the vector's 132 octets end here */
	gdoi_ike2_keys_free(k);
}

/* --- SHA-1 (NIST sample, COUNT 0) --- */
static const char *S1_NI = "3651fef5c9c35e93";
static const char *S1_NR = "c09a8b90a3f04d59";
static const char *S1_GIR =
	"d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e3ca3eb4fa2fe2a28254e28"
	"9cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce65547ff133b3f63d1ac4175eaa695033f3cedb026a6873a3"
	"6455172a8540b8a5d23a0143bed0390ee49b168269d75fffee9fb62be965993c";
static const char *S1_GIR_NEW =
	"52f00ab174c25d5b7139ae5ff4e8e9eddee5992d2e36adf8a559ffd90dab1442e4fbe429d320c0f33552a17d1557fa41"
	"ea70e8fb916c4fa27ed52b5f8ebd8461afa78f1159159a64055ac5f6319e29c28eae58cbc6847770f32c3fed1d047504"
	"84f854790f95e9ec01bc5bc461f24966462e359511329305038e94deb6dd42c2";
static const char *S1_SPII = "8e5c3ae507221684";
static const char *S1_SPIR = "b1f201bb155c3acd";
static const char *S1_SKEYSEED = "cd2e8050137832245f1dbacc6e4f0a92f94d45d6";
static const char *S1_DKM =
	"6f1b12cad3cbe097b35430356d869d54cddb0198ec859174d53ceb92dddedbe2436db69f60977c58fa63bbb667f8d369"
	"20b109baae8f6c61a9ac49feda01843225d080ec5539d5881a25521ffb2a0a91874a9c0a27fcc2d717eb8963a9e3a89c"
	"7ab264757284c28cf8c3ca40576f4220b052b1fb8e9ad60ba3c80557323331a8cbb89f20";
static const char *S1_DKM_CHILD =
	"4727dc0ef94eb326ce131cf282fb652faa638ad0ddae3786a11bcc0309876009f8c485de011ad962c5b1ca8a41ff8145"
	"445749079c5686e26ffebbc342f06981f3da745e11ca0976424d1f8caec623d59dc7186deb20a27b411d1dcb70a36544"
	"0bf7de905088b0692e8addc094e18d1939bdb67e89798ca6b239e2ccb81c2409dac0106c";
static const char *S1_DKM_CHILD_DH =
	"b109c21ad4c0797768c1cec9e63554681e48f224bca7f23c20c4ea7041983451e9aa1d5408656c8a975ff1b9d9a12c75"
	"ffeb64bdecb30174664cccb4e14f1c377b7f6d1525af77c7092aac3e47f917ebae8297fb5539d2008ce830823a09cc19"
	"7361d4a289c72745f6ce9fefe812be5bf55b3200fbb82e41a4a40877d3fe106db909707b";
static const char *S1_REKEY = "3b03bce748c96d5e8306918d2ff89b68f0648da3";

static void test_sha1_full_nist_sample(void **state)
{
	uint8_t ni[8], nr[8], gir[128], gnew[128], spii[8], spir[8], want[200], got[200], sk[20];
	size_t gl, gnl;
	(void)state;
	assert_int_equal(hex(S1_NI, ni, 8), 8);
	assert_int_equal(hex(S1_NR, nr, 8), 8);
	gl = hex(S1_GIR, gir, sizeof(gir));
	gnl = hex(S1_GIR_NEW, gnew, sizeof(gnew));
	assert_int_equal(gl, 128);
	assert_int_equal(gnl, 128);
	hex(S1_SPII, spii, 8);
	hex(S1_SPIR, spir, 8);
	assert_int_equal(gdoi_ike2_skeyseed(GDOI_MD_SHA1, GDOI_BYTES(ni, 8), GDOI_BYTES(nr, 8),
					    GDOI_BYTES(gir, gl), sk), GDOI_OK);
	assert_int_equal(hex(S1_SKEYSEED, want, sizeof(want)), 20);
	assert_memory_equal(sk, want, 20);
	{
		gdoi_bytes seed[4] = { GDOI_BYTES(ni, 8), GDOI_BYTES(nr, 8), GDOI_BYTES(spii, 8),
				       GDOI_BYTES(spir, 8) };
		assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA1, GDOI_BYTES(sk, 20), seed, 4, got, 132), GDOI_OK);
		assert_int_equal(hex(S1_DKM, want, sizeof(want)), 132);
		assert_memory_equal(got, want, 132);
	}
	memcpy(sk, got, 20);	/* SK_d */
	{
		gdoi_bytes seed[2] = { GDOI_BYTES(ni, 8), GDOI_BYTES(nr, 8) };
		assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA1, GDOI_BYTES(sk, 20), seed, 2, got, 132), GDOI_OK);
		assert_int_equal(hex(S1_DKM_CHILD, want, sizeof(want)), 132);
		assert_memory_equal(got, want, 132);
	}
	{
		gdoi_bytes seed[3] = { GDOI_BYTES(gnew, gnl), GDOI_BYTES(ni, 8), GDOI_BYTES(nr, 8) };
		assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA1, GDOI_BYTES(sk, 20), seed, 3, got, 132), GDOI_OK);
		assert_int_equal(hex(S1_DKM_CHILD_DH, want, sizeof(want)), 132);
		assert_memory_equal(got, want, 132);
		assert_int_equal(gdoi_prf(GDOI_MD_SHA1, GDOI_BYTES(sk, 20), seed, 3, got), GDOI_OK);
		assert_int_equal(hex(S1_REKEY, want, sizeof(want)), 20);
		assert_memory_equal(got, want, 20);
	}
}

static void test_prf_plus_limits(void **state)
{
	uint8_t key[32] = { 1 }, out[255 * 32 + 1];
	gdoi_bytes s = GDOI_BYTES("x", 1);
	(void)state;
	/* 255 blocks is the most prf+ can make (§2.13) */
	assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA256, GDOI_BYTES(key, 32), &s, 1, out, 255 * 32), GDOI_OK);
	assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_SHA256, GDOI_BYTES(key, 32), &s, 1, out, 255 * 32 + 1),
			 GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_ike2_prf_plus(GDOI_MD_NONE, GDOI_BYTES(key, 32), &s, 1, out, 32),
			 GDOI_ERR_INVALID_ARG);
}

static void test_suite_support(void **state)
{
	struct gdoi_ike2_suite s = { GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 31 };
	(void)state;
	assert_true(gdoi_ike2_suite_supported(&s));
	s.integ = GDOI_IKE2_AUTH_HMAC_SHA2_256_128;	/* an AEAD with an INTEG */
	assert_false(gdoi_ike2_suite_supported(&s));
	s.integ = 0;
	s.group = 2;
	assert_false(gdoi_ike2_suite_supported(&s));
	s.group = 14;
	s.prf = GDOI_IKE2_PRF_HMAC_SHA1;	/* known answers only */
	assert_false(gdoi_ike2_suite_supported(&s));
	s.prf = GDOI_IKE2_PRF_HMAC_SHA2_512;
	s.key_bits = 64;
	assert_false(gdoi_ike2_suite_supported(&s));
	s.key_bits = 192;
	s.encr = GDOI_IKE2_ENCR_AES_CBC;
	assert_false(gdoi_ike2_suite_supported(&s));	/* CBC needs an INTEG */
	s.integ = GDOI_IKE2_AUTH_HMAC_SHA2_512_256;
	assert_true(gdoi_ike2_suite_supported(&s));
}

/* tshark's ikev2_decryption_table entry (ike2_uat.c): a known text for fixed
 * keys, the same keys back from it, and what is refused. */
static void test_uat_entry_round_trip(void **state)
{
	(void)state;
	struct gdoi_ike2_keys k, back;
	uint8_t spi_i[8], spi_r[8], si[8], sr[8];
	char buf[512], why[160];
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < 8; i++)
		spi_i[i] = (uint8_t)(0x10 + i), spi_r[i] = (uint8_t)(0x20 + i);
	k.encr = GDOI_IKE2_ENCR_AES_CBC;
	k.enc_key_len = 16;
	k.iv_len = 16;
	k.integ = GDOI_IKE2_AUTH_HMAC_SHA2_256_128;
	k.integ_md = GDOI_MD_SHA256;
	k.integ_key_len = 32;
	k.icv_len = 16;
	for (size_t i = 0; i < 32; i++)
		k.sk_ai[i] = (uint8_t)i, k.sk_ar[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < 16; i++)
		k.sk_ei[i] = (uint8_t)(0x40 + i), k.sk_er[i] = (uint8_t)(0xc0 + i);
	assert_int_equal(gdoi_ike2_uat_format(spi_i, spi_r, &k, buf, sizeof(buf)), GDOI_OK);
	assert_string_equal(buf,
		"1011121314151617,2021222324252627,404142434445464748494a4b4c4d4e4f,"
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf,\"AES-CBC-128 [RFC3602]\","
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f,"
		"\"HMAC_SHA2_256_128 [RFC4868]\"");
	assert_int_equal(gdoi_ike2_uat_parse(buf, si, sr, &back, why, sizeof(why)), GDOI_OK);
	assert_memory_equal(si, spi_i, 8);
	assert_memory_equal(sr, spi_r, 8);
	assert_memory_equal(&back, &k, sizeof(k));	/* every field gdoi_ike2_sk_open reads */
	assert_int_equal(gdoi_ike2_uat_format(spi_i, spi_r, &k, buf, 100), GDOI_ERR_TOO_BIG);

	/* AES-GCM-256: SK_e* with the salt, SK_a* empty */
	static const char gcm[] = "1011121314151617,2021222324252627,"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223,"
		"303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253,"
		"\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n";
	assert_int_equal(gdoi_ike2_uat_parse(gcm, si, sr, &back, why, sizeof(why)), GDOI_OK);
	assert_int_equal(back.encr, GDOI_IKE2_ENCR_AES_GCM_16);
	assert_int_equal(back.enc_key_len, 32);
	assert_int_equal(back.salt_len, 4);
	assert_int_equal(back.iv_len, 8);
	assert_int_equal(back.icv_len, 16);
	assert_int_equal(back.sk_er[35], 0x53);
	assert_int_equal(gdoi_ike2_uat_format(si, sr, &back, buf, sizeof(buf)), GDOI_OK);
	assert_int_equal(strncmp(buf, gcm, strlen(buf)), 0);
	assert_int_equal(strlen(buf), strlen(gcm) - 1);

	/* as Wireshark writes its ikev2_decryption_table file: every field quoted */
	static const char quoted[] = "\"1011121314151617\",\"2021222324252627\","
		"\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223\","
		"\"303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253\","
		"\"AES-GCM-256 with 16 octet ICV [RFC5282]\",\"\",\"\",\"NONE [RFC4306]\"\r\n";
	struct gdoi_ike2_keys q;
	assert_int_equal(gdoi_ike2_uat_parse(quoted, si, sr, &q, why, sizeof(why)), GDOI_OK);
	assert_memory_equal(&q, &back, sizeof(q));

	static const char *const bad[] = {
		/* key one octet short */
		"1011121314151617,2021222324252627,0001,3031,\"AES-GCM-256 with 16 octet ICV "
		"[RFC5282]\",,,\"NONE [RFC4306]\"",
		/* GCM with an HMAC */
		"1011121314151617,2021222324252627,000102030405060708090a0b0c0d0e0f10111213,"
		"000102030405060708090a0b0c0d0e0f10111213,\"AES-GCM-128 with 16 octet ICV [RFC5282]\","
		",,\"HMAC_SHA2_256_128 [RFC4868]\"",
		/* an algorithm we do not implement */
		"1011121314151617,2021222324252627,00,00,\"3DES [RFC2451]\",00,00,\"NONE [RFC4306]\"",
		/* SPI too short, unterminated quote, too few fields */
		"10111213141516,2021222324252627,00,00,\"AES-CBC-128 [RFC3602]\",,,\"NONE\"",
		"1011121314151617,2021222324252627,00,00,\"AES-CBC-128 [RFC3602],,,",
		"1011121314151617,2021222324252627",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(gdoi_ike2_uat_parse(bad[i], si, sr, &back, why, sizeof(why)),
				 GDOI_ERR_VALUE);
		assert_true(why[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_skeyseed_dkm_rekey_match_nist),
		cmocka_unit_test(test_keys_derive_splits_dkm_in_rfc_order),
		cmocka_unit_test(test_sha1_full_nist_sample),
		cmocka_unit_test(test_prf_plus_limits),
		cmocka_unit_test(test_suite_support),
		cmocka_unit_test(test_uat_entry_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
