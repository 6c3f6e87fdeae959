/*
 * test_ike_keys.c - the IKEv1 Phase 1 key schedule against the reference
 * implementation's logs (tests/vectors/gdoid-*) and the digest's §9.1 table.
 * Every derived value is compared byte for byte with what gdoid printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike_keys.h"
#include "tests/lib/vector_log.h"
#include "tests/lib/vector_phase1.h"

#define PSK VECTOR_PSK

struct side {
	const char *folder, *file;
	int is_gm;
};

static void assert_log_value(const struct vlog *log, const char *label, unsigned occ,
			     const uint8_t *got, size_t len)
{
	uint8_t want[BUF];
	size_t n = need_block(log, label, occ, want, sizeof(want));
	if (n != len)
		fail_msg("\"%s\": log has %zu octets, computed %zu", label, n, len);
	assert_memory_equal(got, want, n);
}

/* Decrypts ct with (key, iv) and compares with the printed plaintext; any
 * octets the log printed beyond the plaintext must be zero padding. */
static void assert_decrypts_to(const struct gdoi_ike_keys *k, const uint8_t *iv,
			       const uint8_t *ct, size_t ct_len, const uint8_t *pt, size_t pt_len)
{
	uint8_t out[BUF];
	size_t bl = gdoi_cipher_block_len(k->cipher);

	assert_true(ct_len % bl == 0 && pt_len <= ct_len);
	assert_int_equal(gdoi_cbc_decrypt(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
					  GDOI_BYTES(iv, bl), ct, ct_len, out), GDOI_OK);
	assert_memory_equal(out, pt, pt_len);
	for (size_t i = pt_len; i < ct_len; i++)
		assert_int_equal(out[i], 0);
}

static void check_phase1(const struct side *s)
{
	struct vlog *log = vlog_load(s->folder, s->file);
	static struct phase1 p;	/* large; keep it off the stack */
	uint8_t skeyid[GDOI_MD_MAX_LEN], h[GDOI_MD_MAX_LEN], iv[16];

	if (log == NULL)
		fail_msg("cannot read %s/%s/%s", vlog_dir(), s->folder, s->file);
	memset(&p, 0, sizeof(p));
	read_phase1(log, s->is_gm, &p);

	/* MODP-1024: every DH value is 128 octets. */
	assert_int_equal(p.gxi_len, 128);
	assert_int_equal(p.gxr_len, 128);
	assert_int_equal(p.gxy_len, 128);

	assert_int_equal(gdoi_ike_skeyid_psk(GDOI_MD_SHA1, GDOI_BYTES(PSK, strlen(PSK)),
					     GDOI_BYTES(p.ni, p.ni_len), GDOI_BYTES(p.nr, p.nr_len),
					     skeyid), GDOI_OK);
	assert_log_value(log, "SKEYID:", 0, skeyid, 20);

	assert_int_equal(gdoi_ike_keys_derive_psk(&p.keys, GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC,
						  GDOI_BYTES(PSK, strlen(PSK)),
						  GDOI_BYTES(p.ni, p.ni_len),
						  GDOI_BYTES(p.nr, p.nr_len),
						  GDOI_BYTES(p.gxy, p.gxy_len), p.cky_i, p.cky_r),
			 GDOI_OK);
	assert_int_equal(p.keys.len, 20);
	assert_memory_equal(p.keys.skeyid, skeyid, 20);
	assert_log_value(log, "SKEYID_d:", 0, p.keys.skeyid_d, 20);
	assert_log_value(log, "SKEYID_a:", 0, p.keys.skeyid_a, 20);
	assert_log_value(log, "SKEYID_e:", 0, p.keys.skeyid_e, 20);
	/* 3DES needs 24 octets: K1 | K2 from SKEYID_e (App. B). */
	assert_int_equal(p.keys.enc_key_len, 24);
	assert_log_value(log, "crypto_init: key:", 0, p.keys.enc_key, 24);

	assert_int_equal(gdoi_ike_phase1_iv(GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC,
					    GDOI_BYTES(p.gxi, p.gxi_len),
					    GDOI_BYTES(p.gxr, p.gxr_len), iv), GDOI_OK);
	assert_log_value(log, "crypto_update_iv: initialized IV:", 0, iv, 8);

	assert_int_equal(gdoi_ike_hash_i(&p.keys, GDOI_BYTES(p.gxi, p.gxi_len),
					 GDOI_BYTES(p.gxr, p.gxr_len), p.cky_i, p.cky_r,
					 p.sai_b, p.idii_b, h), GDOI_OK);
	assert_log_value(log, "HASH_I:", 0, h, 20);
	/* ...and it is what MM5 carries in its HASH payload, after the ID. */
	assert_memory_equal(p.mm5_pt + 4 + p.idii_b.len + 4, h, 20);

	assert_int_equal(gdoi_ike_hash_r(&p.keys, GDOI_BYTES(p.gxi, p.gxi_len),
					 GDOI_BYTES(p.gxr, p.gxr_len), p.cky_i, p.cky_r,
					 p.sai_b, p.idir_b, h), GDOI_OK);
	assert_log_value(log, "HASH_R:", 0, h, 20);
	assert_memory_equal(p.mm6_pt + 4 + p.idir_b.len + 4, h, 20);

	/* MM5 under the initial IV; MM6 under MM5's last ciphertext block. */
	assert_decrypts_to(&p.keys, iv, p.mm5_ct, p.mm5_ct_len, p.mm5_pt, p.mm5_pt_len);
	assert_decrypts_to(&p.keys, p.mm5_ct + p.mm5_ct_len - 8, p.mm6_ct, p.mm6_ct_len,
			   p.mm6_pt, p.mm6_pt_len);

	gdoi_ike_keys_clear(&p.keys);
	assert_int_equal(p.keys.len, 0);
	vlog_free(log);
}

static const struct side sides[] = {
	{ "gdoid-pull", "gm.log", 1 }, { "gdoid-pull", "ks.log", 0 },
	{ "gdoid-kek", "gm.log", 1 },  { "gdoid-kek", "ks.log", 0 },
	{ "gdoid-srtp", "gm.log", 1 }, { "gdoid-srtp", "ks.log", 0 },
};

static void test_phase1_keys_match_reference_pull_member_log(void **state) { (void)state; check_phase1(&sides[0]); }
static void test_phase1_keys_match_reference_pull_key_server_log(void **state) { (void)state; check_phase1(&sides[1]); }
static void test_phase1_keys_match_reference_kek_member_log(void **state) { (void)state; check_phase1(&sides[2]); }
static void test_phase1_keys_match_reference_kek_key_server_log(void **state) { (void)state; check_phase1(&sides[3]); }
static void test_phase1_keys_match_reference_srtp_member_log(void **state) { (void)state; check_phase1(&sides[4]); }
static void test_phase1_keys_match_reference_srtp_key_server_log(void **state) { (void)state; check_phase1(&sides[5]); }

/*
 * The first PULL IV = SHA1(last Phase 1 block | M-ID)[:8], the last Phase 1
 * block being MM6's last ciphertext block; then every PULL message decrypts
 * under the previous message's last ciphertext block (gm.log of each folder).
 */
static void check_pull_ivs(const char *folder)
{
	struct vlog *log = vlog_load(folder, "gm.log");
	static struct phase1 p;
	uint8_t last[16], mid[8], want_iv[16], iv[16], ct[BUF], pt[BUF];
	size_t n;

	if (log == NULL)
		fail_msg("cannot read %s/%s/gm.log", vlog_dir(), folder);
	memset(&p, 0, sizeof(p));
	read_phase1(log, 1, &p);
	assert_int_equal(gdoi_ike_keys_derive_psk(&p.keys, GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC,
						  GDOI_BYTES(PSK, strlen(PSK)),
						  GDOI_BYTES(p.ni, p.ni_len),
						  GDOI_BYTES(p.nr, p.nr_len),
						  GDOI_BYTES(p.gxy, p.gxy_len), p.cky_i, p.cky_r),
			 GDOI_OK);

	n = need_block(log, "gdoi_get_keystate: final phase 1 IV:", 0, last, sizeof(last));
	assert_int_equal(n, 8);
	assert_memory_equal(last, p.mm6_ct + p.mm6_ct_len - 8, 8);
	n = need_block(log, "gdoi_get_keystate: message ID:", 0, mid, sizeof(mid));
	assert_int_equal(n, 4);
	assert_int_equal(gdoi_ike_phase2_iv(GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC, GDOI_BYTES(last, 8),
					    gdoi_get_u32(mid), iv), GDOI_OK);
	n = need_block(log, "gdoi_get_keystate: phase 2 IV:", 0, want_iv, sizeof(want_iv));
	assert_int_equal(n, 8);
	assert_memory_equal(iv, want_iv, 8);
	/* The PULL header carries the same M-ID. */
	uint8_t msg1[BUF];
	n = need_run(log, "message_send:", 3, msg1, sizeof(msg1));
	assert_true(n > 28);
	assert_int_equal(msg1[18], 32);		/* GROUPKEY-PULL */
	assert_memory_equal(msg1 + 20, mid, 4);

	/* GM sends msg 1 and 3 (encrypt #1, #2), receives 2 and 4 (decrypt #1, #2). */
	for (unsigned m = 1; m <= 4; m++) {
		const char *ct_label, *pt_label;
		unsigned occ = (m + 1) / 2;
		size_t ct_len, pt_len;
		if (m % 2) {
			ct_label = "crypto_encrypt: after encryption:";
			pt_label = "crypto_encrypt: before encryption:";
		} else {
			ct_label = "crypto_decrypt: before decryption:";
			pt_label = "crypto_decrypt: after decryption:";
		}
		ct_len = need_block(log, ct_label, occ, ct, sizeof(ct));
		pt_len = need_block(log, pt_label, occ, pt, sizeof(pt));
		assert_decrypts_to(&p.keys, iv, ct, ct_len, pt, pt_len);
		memcpy(iv, ct + ct_len - 8, 8);
	}
	gdoi_ike_keys_clear(&p.keys);
	vlog_free(log);
}

static void test_pull_iv_chain_decrypts_reference_pull_exchange(void **state) { (void)state; check_pull_ivs("gdoid-pull"); }
static void test_pull_iv_chain_decrypts_reference_kek_exchange(void **state) { (void)state; check_pull_ivs("gdoid-kek"); }
static void test_pull_iv_chain_decrypts_reference_srtp_exchange(void **state) { (void)state; check_pull_ivs("gdoid-srtp"); }

/* gdoi-wire.md §9.1: the reference's own big-endian sample (g^xy not given). */
static void test_ike_keys_match_digest_table_9_1(void **state)
{
	uint8_t ni[16], nr[16], b[64], out[GDOI_MD_MAX_LEN], iv[8], key[24];
	(void)state;

	gdoi_hex_decode("8dabce1d9668bad7f285a0909fe43631", ni, sizeof(ni));
	gdoi_hex_decode("f4eab493b1a925074050d5ba598f3613", nr, sizeof(nr));
	assert_int_equal(gdoi_ike_skeyid_psk(GDOI_MD_SHA1, GDOI_BYTES(PSK, strlen(PSK)),
					     GDOI_BYTES(ni, 16), GDOI_BYTES(nr, 16), out), GDOI_OK);
	gdoi_hex_decode("0a1ce288962c79cef60cf60d5d446fd5aa233cce", b, sizeof(b));
	assert_memory_equal(out, b, 20);

	/* 3DES key = (K1 | K2)[:24] from SKEYID_e. */
	gdoi_hex_decode("0ce6eb14700dc3b1030da7c712eb684e065f3b0c", b, sizeof(b));
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_SHA1, GDOI_BYTES(b, 20), 24, key), GDOI_OK);
	gdoi_hex_decode("80cdab03c1105d2b48ab436dde73f5b1bbbe55449c1efe69", b, sizeof(b));
	assert_memory_equal(key, b, 24);

	/* PULL IV = SHA1(last Phase 1 block | M-ID)[:8] */
	gdoi_hex_decode("a659dffb7a720843", b, sizeof(b));
	assert_int_equal(gdoi_ike_phase2_iv(GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC, GDOI_BYTES(b, 8),
					    0x483c11c0, iv), GDOI_OK);
	gdoi_hex_decode("4be9d7f144ba8c2e", b, sizeof(b));
	assert_memory_equal(iv, b, 8);

	/* HASH(1) and HASH(3) need only SKEYID_a, the M-ID and the PULL nonces. */
	uint8_t ska[20], mid[4] = { 0x48, 0x3c, 0x11, 0xc0 }, pni[16], pnr[16], p1[20], p2[12];
	gdoi_hex_decode("83547d80355b03c1a3b332d80d6d60d8d0aedc49", ska, sizeof(ska));
	gdoi_hex_decode("69d181efe0b9580e4106b883719b382a", pni, sizeof(pni));
	gdoi_hex_decode("da43c65f2ef1bf2076c00d1ebab8cd0e", pnr, sizeof(pnr));
	gdoi_hex_decode("05000014", p1, 4);
	memcpy(p1 + 4, pni, 16);
	gdoi_hex_decode("0000000c0b000000000004d2", p2, sizeof(p2));
	gdoi_bytes h1[] = { GDOI_BYTES(mid, 4), GDOI_BYTES(p1, 20), GDOI_BYTES(p2, 12) };
	assert_int_equal(gdoi_prf(GDOI_MD_SHA1, GDOI_BYTES(ska, 20), h1, 3, out), GDOI_OK);
	gdoi_hex_decode("cbcd9b402b21b9a9837189139d6bb0f73b3272e3", b, sizeof(b));
	assert_memory_equal(out, b, 20);
	gdoi_bytes h3[] = { GDOI_BYTES(mid, 4), GDOI_BYTES(pni, 16), GDOI_BYTES(pnr, 16) };
	assert_int_equal(gdoi_prf(GDOI_MD_SHA1, GDOI_BYTES(ska, 20), h3, 3, out), GDOI_OK);
	gdoi_hex_decode("790dd7c4d8b721adb6efdb0b6b9b0ee248428536", b, sizeof(b));
	assert_memory_equal(out, b, 20);
}

/* App. B: a long enough SKEYID_e is used directly; otherwise K1 | K2 | ... */
static void test_enc_key_uses_long_skeyid_e_or_expands_short_one(void **state)
{
	uint8_t e[64], key[32], k1[64], k2[64], zero = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(e); i++)
		e[i] = (uint8_t)i;
	/* SHA-256 + AES-256: SKEYID_e as it is. */
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_SHA256, GDOI_BYTES(e, 32), 32, key), GDOI_OK);
	assert_memory_equal(key, e, 32);
	/* SHA-1 + AES-128: leading 16 octets. */
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_SHA1, GDOI_BYTES(e, 20), 16, key), GDOI_OK);
	assert_memory_equal(key, e, 16);
	/* SHA-1 + AES-256: K1 | K2 truncated to 32. */
	gdoi_bytes z = GDOI_BYTES(&zero, 1);
	assert_int_equal(gdoi_prf(GDOI_MD_SHA1, GDOI_BYTES(e, 20), &z, 1, k1), GDOI_OK);
	gdoi_bytes p1 = GDOI_BYTES(k1, 20);
	assert_int_equal(gdoi_prf(GDOI_MD_SHA1, GDOI_BYTES(e, 20), &p1, 1, k2), GDOI_OK);
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_SHA1, GDOI_BYTES(e, 20), 32, key), GDOI_OK);
	assert_memory_equal(key, k1, 20);
	assert_memory_equal(key + 20, k2, 12);
	/* MD5 + AES-256 needs K1 | K2 exactly. */
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_MD5, GDOI_BYTES(e, 16), 32, key), GDOI_OK);
	/* wrong SKEYID_e length for the hash */
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_SHA1, GDOI_BYTES(e, 16), 16, key),
			 GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_ike_enc_key(GDOI_MD_NONE, GDOI_BYTES(e, 16), 16, key),
			 GDOI_ERR_UNSUPPORTED);
}

/* Signature authentication keys SKEYID with the nonces as the HMAC key. */
static void test_skeyid_sig_keys_hmac_with_nonces(void **state)
{
	uint8_t ni[16], nr[24], gxy[32], want[32], got[32], both[40];
	(void)state;
	memset(ni, 0x11, sizeof(ni));
	memset(nr, 0x22, sizeof(nr));
	memset(gxy, 0x33, sizeof(gxy));
	memcpy(both, ni, 16);
	memcpy(both + 16, nr, 24);
	gdoi_bytes data = GDOI_BYTES(gxy, 32);
	assert_int_equal(gdoi_prf(GDOI_MD_SHA256, GDOI_BYTES(both, 40), &data, 1, want), GDOI_OK);
	assert_int_equal(gdoi_ike_skeyid_sig(GDOI_MD_SHA256, GDOI_BYTES(ni, 16), GDOI_BYTES(nr, 24),
					     data, got), GDOI_OK);
	assert_memory_equal(got, want, 32);

	struct gdoi_ike_keys k;
	uint8_t cky[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(gdoi_ike_keys_derive_sig(&k, GDOI_MD_SHA256, GDOI_CIPHER_AES_256_CBC,
						  GDOI_BYTES(ni, 16), GDOI_BYTES(nr, 24), data,
						  cky, cky), GDOI_OK);
	assert_memory_equal(k.skeyid, want, 32);
	assert_int_equal(k.enc_key_len, 32);
	assert_memory_equal(k.enc_key, k.skeyid_e, 32);
	gdoi_ike_keys_clear(&k);

	/* The IV needs a hash at least one block long; the M-ID goes in big-endian. */
	uint8_t iv[16], blk[16] = { 0 };
	assert_int_equal(gdoi_ike_phase2_iv(GDOI_MD_SHA256, GDOI_CIPHER_AES_128_CBC,
					    GDOI_BYTES(blk, 8), 1, iv), GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_ike_phase1_iv(GDOI_MD_SHA256, GDOI_CIPHER_NONE,
					    GDOI_BYTES(blk, 8), GDOI_BYTES(blk, 8), iv),
			 GDOI_ERR_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase1_keys_match_reference_pull_member_log),
		cmocka_unit_test(test_phase1_keys_match_reference_pull_key_server_log),
		cmocka_unit_test(test_phase1_keys_match_reference_kek_member_log),
		cmocka_unit_test(test_phase1_keys_match_reference_kek_key_server_log),
		cmocka_unit_test(test_phase1_keys_match_reference_srtp_member_log),
		cmocka_unit_test(test_phase1_keys_match_reference_srtp_key_server_log),
		cmocka_unit_test(test_pull_iv_chain_decrypts_reference_pull_exchange),
		cmocka_unit_test(test_pull_iv_chain_decrypts_reference_kek_exchange),
		cmocka_unit_test(test_pull_iv_chain_decrypts_reference_srtp_exchange),
		cmocka_unit_test(test_ike_keys_match_digest_table_9_1),
		cmocka_unit_test(test_enc_key_uses_long_skeyid_e_or_expands_short_one),
		cmocka_unit_test(test_skeyid_sig_keys_hmac_with_nonces),
	};
	return cmocka_run_group_tests_name("ike_keys", tests, NULL, NULL);
}
