/*
 * test_gike2_rekey.c - the GSA_REKEY pseudo-exchange (gdoi/gike2_rekey.c):
 * GCKS builds, encrypts (AES-GCM-16 under GSK_e) and signs (RFC 7427,
 * ECDSA P-256 / RSA) a rekey carrying GSA + KD whose SA_KEY is wrapped under
 * the Rekey SA's GSK_w; the GM verifies, decrypts, parses and unwraps it.
 * Refused: every single-octet change of the datagram, a replayed or older
 * Message ID, a wrong GSK_e, a signature by another key, a missing AUTH, a
 * message for another Rekey SA. The header and the signed data are checked
 * octet by octet against the layout (RFC 9838 §2.4.1.1~).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gdoi/arena.h"
#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/gike2.h"
#include "gdoi/gike2_policy.h"
#include "gdoi/gike2_rekey.h"
#include "gdoi/numbers.h"
#include "gdoi/sign.h"
#include "tests/lib/certgen.h"

static struct gdoi_key *p256, *p256_other, *p256_pub, *rsa, *rsa_pub;

static struct gdoi_key *load(EVP_PKEY *k, bool pub_only)
{
	struct gdoi_key *out = NULL;
	size_t n = 0;
	uint8_t *der = certgen_key_der(k, &n);
	assert_non_null(der);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &out), 0);
	free(der);
	if (pub_only) {
		uint8_t *spki = NULL;
		size_t sl = 0;
		struct gdoi_key *pub = NULL;
		assert_int_equal(gdoi_key_to_spki(out, &spki, &sl), 0);
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(spki, sl), &pub), 0);
		free(spki);
		gdoi_key_free(out);
		out = pub;
	}
	return out;
}

static int group_setup(void **s)
{
	(void)s;
	EVP_PKEY *a = certgen_key("p256"), *b = certgen_key("p256"), *r = certgen_key("rsa2048");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(r);
	p256 = load(a, false);
	p256_pub = load(a, true);
	p256_other = load(b, true);
	rsa = load(r, false);
	rsa_pub = load(r, true);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(r);
	return 0;
}

static int group_teardown(void **s)
{
	(void)s;
	gdoi_key_free(p256);
	gdoi_key_free(p256_pub);
	gdoi_key_free(p256_other);
	gdoi_key_free(rsa);
	gdoi_key_free(rsa_pub);
	return 0;
}

/* A Rekey SA: AES-GCM-16-128, KW_5649_128, signed with SHA-256. */
static void rekey_sa(struct gike2_rekey_sa *sa, uint16_t gcauth)
{
	memset(sa, 0, sizeof(*sa));
	for (size_t i = 0; i < 16; i++)
		sa->spi[i] = (uint8_t)(0xa0 + i);
	sa->encr = GIKE2_ENCR_AES_GCM_16;
	sa->encr_key_bits = 128;
	sa->kwa = GIKE2_KWA_5649_128;
	sa->gcauth = gcauth;
	sa->sig_md = GDOI_MD_SHA256;
	uint8_t km[64];
	assert_int_equal(gike2_rekey_keymat_len(sa), 20 + 16);
	for (size_t i = 0; i < sizeof(km); i++)
		km[i] = (uint8_t)(7 * i + 1);
	assert_int_equal(gike2_rekey_set_keys(sa, GDOI_BYTES(km, 36)), 0);
	sa->msgid = 5;	/* as GSA_INITIAL_MESSAGE_ID said */
}

/* GSA + KD of one SRTP TEK, its SA_KEY wrapped under the Rekey SA's GSK_w. */
static struct gdoi_policy pol;

static void content(const struct gike2_rekey_sa *sa, struct gdoi_writer *wg,
		    struct gdoi_writer *wk, struct gike2_pl pl[2])
{
	memset(&pol, 0, sizeof(pol));
	pol.nteks = 1;
	struct gdoi_tek *t = &pol.teks[0];
	t->kind = GDOI_TEK_SRTP;
	t->spi = 0x01020304;
	t->src = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR_SUBNET, 0, 8, { 0, 0, 0, 0, 0, 0, 0, 0 } };
	t->dst = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR, 5004, 4, { 239, 0, 0, 9 } };
	t->u.srtp = (struct gdoi_tek_srtp_policy){ .profile = 7, .flags = 1, .lifetime = 600,
						   .replay_window = 128, .ssrc_assigned = true };
	t->have_keys = true;
	t->key_len = 28;
	for (size_t i = 0; i < 28; i++)
		t->key[i] = (uint8_t)(0xc0 | i);
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_gsa g;
	struct gike2_kd kd;
	assert_int_equal(gike2_policy_to_gsa(&pol, a, &g), 0);
	assert_int_equal(gike2_policy_to_kd(&pol, GDOI_BYTES(sa->gsk_w, sa->gsk_w_len), NULL, 0, a,
					    &kd),
			 0);
	gdoi_writer_init(wg);
	gdoi_writer_init(wk);
	assert_int_equal(gike2_gsa_build(wg, &g), 0);
	assert_int_equal(gike2_kd_build(wk, &kd), 0);
	gdoi_arena_free(a);
	pl[0] = (struct gike2_pl){ GIKE2_PL_GSA, false, GDOI_BYTES(wg->buf, wg->len) };
	pl[1] = (struct gike2_pl){ GIKE2_PL_KD, false, GDOI_BYTES(wk->buf, wk->len) };
}

static int open_msg(struct gike2_rekey_sa *gm, const uint8_t *m, size_t n,
		    const struct gdoi_key *k, struct gdoi_policy *out)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl *pl;
	size_t npl = 0;
	uint32_t id = 0;
	struct gdoi_parse_error e;
	int rc = gike2_rekey_open(gm, m, n, k, a, &pl, &npl, &id, &e);
	if (rc == 0 && out) {
		char why[160] = "";
		struct gike2_gsa g;
		struct gike2_kd kd;
		assert_int_equal(npl, 2);
		assert_int_equal(pl[0].type, GIKE2_PL_GSA);
		assert_int_equal(pl[1].type, GIKE2_PL_KD);
		struct gdoi_reader rg = gdoi_reader_init(pl[0].body.ptr, pl[0].body.len, 0);
		struct gdoi_reader rk = gdoi_reader_init(pl[1].body.ptr, pl[1].body.len, 0);
		assert_int_equal(gike2_gsa_parse(&rg, a, &g, &e), 0);
		assert_int_equal(gike2_kd_parse(&rk, a, &kd, &e), 0);
		memset(out, 0, sizeof(*out));
		assert_int_equal(gike2_policy_from_gsa(out, &g, why, sizeof(why)), 0);
		assert_int_equal(gike2_policy_apply_kd(out, &kd, GDOI_BYTES(gm->gsk_w, gm->gsk_w_len),
						       why, sizeof(why)),
				 0);
	}
	gdoi_arena_free(a);
	return rc;
}

static void round_trip(const struct gdoi_key *signer, const struct gdoi_key *verifier)
{
	struct gike2_rekey_sa gcks, gm;
	struct gdoi_writer wg, wk, out;
	struct gike2_pl pl[2];
	struct gdoi_policy got;

	rekey_sa(&gcks, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	rekey_sa(&gm, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	content(&gcks, &wg, &wk, pl);
	gdoi_writer_init(&out);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, signer, &out), 0);
	assert_int_equal(gcks.msgid, 6);

	/* the header, octet by octet */
	const uint8_t *m = out.buf;
	assert_memory_equal(m, gcks.spi, 16);
	assert_int_equal(m[16], GIKE2_PL_SK);
	assert_int_equal(m[17], 0x20);
	assert_int_equal(m[18], 41);
	assert_int_equal(m[19], 0x08);
	assert_int_equal(gdoi_get_u32(m + 20), 5);
	assert_int_equal(gdoi_get_u32(m + 24), out.len);
	assert_int_equal(m[28], GIKE2_PL_GSA);
	assert_int_equal(m[29], 0);
	assert_int_equal(gdoi_get_u16(m + 30), out.len - 28);

	assert_int_equal(open_msg(&gm, m, out.len, verifier, &got), 0);
	assert_int_equal(gm.msgid, 6);
	assert_int_equal(got.nteks, 1);
	assert_int_equal(got.teks[0].spi, 0x01020304);
	assert_int_equal(got.teks[0].key_len, 28);
	assert_memory_equal(got.teks[0].key, pol.teks[0].key, 28);
	gdoi_policy_clear(&got);

	/* replay: the same datagram again */
	assert_int_equal(open_msg(&gm, m, out.len, verifier, NULL), GDOI_ERR_REPLAY);
	gdoi_writer_free(&out);
	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
	gike2_rekey_sa_clear(&gcks);
	gike2_rekey_sa_clear(&gm);
}

static void test_ecdsa_round_trip_and_replay(void **s)
{
	(void)s;
	round_trip(p256, p256_pub);
}

static void test_rsa_round_trip_and_replay(void **s)
{
	(void)s;
	round_trip(rsa, rsa_pub);
}

/* Every single-octet change anywhere in the datagram is refused, and the GM's
 * replay state does not move; afterwards the untouched message still opens. */
static void test_tamper_refused(void **s)
{
	(void)s;
	struct gike2_rekey_sa gcks, gm;
	struct gdoi_writer wg, wk, out;
	struct gike2_pl pl[2];

	rekey_sa(&gcks, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	rekey_sa(&gm, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	content(&gcks, &wg, &wk, pl);
	gdoi_writer_init(&out);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &out), 0);
	uint8_t *m = malloc(out.len);
	for (size_t i = 0; i < out.len; i++) {
		memcpy(m, out.buf, out.len);
		m[i] ^= 0x01;
		int rc = open_msg(&gm, m, out.len, p256_pub, NULL);
		if (rc == 0)
			fail_msg("octet %zu changed, still accepted", i);
		assert_int_equal(gm.msgid, 5);
	}
	/* truncated by one octet, and one more octet */
	assert_true(open_msg(&gm, out.buf, out.len - 1, p256_pub, NULL) < 0);
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_pub, NULL), 0);
	free(m);
	gdoi_writer_free(&out);
	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
}

static void test_wrong_keys_refused(void **s)
{
	(void)s;
	struct gike2_rekey_sa gcks, gm;
	struct gdoi_writer wg, wk, out;
	struct gike2_pl pl[2];

	rekey_sa(&gcks, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	content(&gcks, &wg, &wk, pl);
	gdoi_writer_init(&out);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &out), 0);

	/* another GCKS key */
	rekey_sa(&gm, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_other, NULL), GDOI_ERR_AUTH);
	/* an RSA key where ECDSA signed */
	assert_int_equal(open_msg(&gm, out.buf, out.len, rsa_pub, NULL), GDOI_ERR_AUTH);
	/* a GSK_e that differs in its last (salt) octet */
	gm.gsk_e[19] ^= 1;
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_pub, NULL), GDOI_ERR_AUTH);
	gm.gsk_e[19] ^= 1;
	/* the policy says SHA-384: a SHA-256 signature is not accepted */
	gm.sig_md = GDOI_MD_SHA384;
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_pub, NULL), GDOI_ERR_AUTH);
	gm.sig_md = GDOI_MD_SHA256;
	/* another Rekey SA */
	gm.spi[15] ^= 1;
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_pub, NULL), GDOI_ERR_NOT_FOUND);
	gm.spi[15] ^= 1;
	/* a GM whose policy is implicit refuses a message with AUTH, and one
	 * whose policy is signatures refuses a message without */
	gm.gcauth = GIKE2_GCAUTH_IMPLICIT;
	assert_int_equal(open_msg(&gm, out.buf, out.len, NULL, NULL), GDOI_ERR_VALUE);
	gm.gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	struct gike2_rekey_sa imp;
	struct gdoi_writer o2;
	rekey_sa(&imp, GIKE2_GCAUTH_IMPLICIT);
	gdoi_writer_init(&o2);
	assert_int_equal(gike2_rekey_build(&imp, pl, 2, NULL, &o2), 0);
	assert_int_equal(open_msg(&gm, o2.buf, o2.len, p256_pub, NULL), GDOI_ERR_MISSING);
	/* but a GM of the implicit policy takes it */
	struct gike2_rekey_sa gm_imp;
	rekey_sa(&gm_imp, GIKE2_GCAUTH_IMPLICIT);
	assert_int_equal(open_msg(&gm_imp, o2.buf, o2.len, NULL, NULL), 0);
	/* and the signed one opens with the right key after all that */
	assert_int_equal(open_msg(&gm, out.buf, out.len, p256_pub, NULL), 0);
	gdoi_writer_free(&o2);
	gdoi_writer_free(&out);
	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
}

/* Message IDs: older refused, newer accepted (gaps allowed: rekeys get lost),
 * then the older one refused; the counter's last value ends the SA. */
static void test_message_id_replay_window(void **s)
{
	(void)s;
	struct gike2_rekey_sa gcks, gm;
	struct gdoi_writer wg, wk, m5, m6, m7;
	struct gike2_pl pl[2];

	rekey_sa(&gcks, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	rekey_sa(&gm, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	content(&gcks, &wg, &wk, pl);
	gdoi_writer_init(&m5);
	gdoi_writer_init(&m6);
	gdoi_writer_init(&m7);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &m5), 0);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &m6), 0);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &m7), 0);
	assert_int_equal(open_msg(&gm, m7.buf, m7.len, p256_pub, NULL), 0);	/* 5, 6 lost */
	assert_int_equal(gm.msgid, 8);
	assert_int_equal(open_msg(&gm, m5.buf, m5.len, p256_pub, NULL), GDOI_ERR_REPLAY);
	assert_int_equal(open_msg(&gm, m6.buf, m6.len, p256_pub, NULL), GDOI_ERR_REPLAY);

	/* a GM that registered later (GSA_INITIAL_MESSAGE_ID 7) never takes 5 or 6 */
	struct gike2_rekey_sa late;
	rekey_sa(&late, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	late.msgid = 7;
	assert_int_equal(open_msg(&late, m6.buf, m6.len, p256_pub, NULL), GDOI_ERR_REPLAY);
	assert_int_equal(open_msg(&late, m7.buf, m7.len, p256_pub, NULL), 0);

	/* the last Message ID: sent once, then the SA is exhausted on both sides */
	struct gdoi_writer last, more;
	gdoi_writer_init(&last);
	gdoi_writer_init(&more);
	gcks.msgid = UINT32_MAX;
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &last), 0);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, p256, &more), GDOI_ERR_STATE);
	assert_int_equal(open_msg(&gm, last.buf, last.len, p256_pub, NULL), 0);
	assert_true(gm.exhausted);
	assert_int_equal(open_msg(&gm, last.buf, last.len, p256_pub, NULL), GDOI_ERR_REPLAY);
	gdoi_writer_free(&last);
	gdoi_writer_free(&more);
	gdoi_writer_free(&m5);
	gdoi_writer_free(&m6);
	gdoi_writer_free(&m7);
	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
}

/* The signature covers A | P as the layout says: recompute it here from the
 * decrypted message, with the lengths adjusted and the signature zeroed. */
static void test_signed_data_layout(void **s)
{
	(void)s;
	struct gike2_rekey_sa gcks;
	struct gdoi_writer wg, wk, out;
	struct gike2_pl pl[2];

	rekey_sa(&gcks, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
	content(&gcks, &wg, &wk, pl);
	gdoi_writer_init(&out);
	assert_int_equal(gike2_rekey_build(&gcks, pl, 2, rsa, &out), 0);

	/* decrypt with OpenSSL directly: nonce = salt | IV, AAD = first 32 octets */
	const uint8_t *m = out.buf;
	size_t ct_len = out.len - 32 - 8 - 16;
	uint8_t nonce[12], *plain = malloc(ct_len);
	memcpy(nonce, gcks.gsk_e + 16, 4);
	memcpy(nonce + 4, m + 32, 8);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
	assert_int_equal(EVP_DecryptInit_ex(c, NULL, NULL, gcks.gsk_e, nonce), 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &n, m, 32), 1);
	assert_int_equal(EVP_DecryptUpdate(c, plain, &n, m + 40, (int)ct_len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(m + out.len - 16)),
			 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, plain + n, &n), 1);
	EVP_CIPHER_CTX_free(c);

	/* P = GSA | KD | AUTH (no padding: Pad Length 0) */
	assert_int_equal(plain[ct_len - 1], 0);
	size_t p_len = ct_len - 1;
	size_t off = 4 + wg.len + 4 + wk.len;
	assert_memory_equal(plain + 4, wg.buf, wg.len);
	assert_memory_equal(plain + 4 + wg.len + 4, wk.buf, wk.len);
	assert_int_equal(plain[4 + wg.len], GIKE2_PL_AUTH);	/* KD's Next Payload */
	const uint8_t *auth = plain + off;
	assert_int_equal(auth[0], 0);					/* last payload */
	assert_int_equal(gdoi_get_u16(auth + 2), p_len - off);
	assert_int_equal(auth[4], GIKE2_AUTH_DIGITAL_SIGNATURE);
	gdoi_bytes algid;
	assert_int_equal(gdoi_sig7427_algid(rsa, GDOI_MD_SHA256, &algid), 0);
	assert_int_equal(auth[8], algid.len);
	assert_memory_equal(auth + 9, algid.ptr, algid.len);
	size_t sig_at = off + 9 + algid.len, sig_len = p_len - sig_at;
	assert_int_equal(sig_len, 256);
	uint8_t sig[256];
	memcpy(sig, plain + sig_at, sig_len);
	memset(plain + sig_at, 0, sig_len);
	uint8_t a[32];
	memcpy(a, m, 32);
	gdoi_put_u32(a + 24, (uint32_t)(32 + p_len));
	gdoi_put_u16(a + 30, (uint16_t)(4 + p_len));
	gdoi_bytes parts[2] = { GDOI_BYTES(a, 32), GDOI_BYTES(plain, p_len) };
	assert_int_equal(gdoi_sig7427_verify(rsa_pub, algid, parts, 2, GDOI_BYTES(sig, sig_len)), 0);
	/* and not over the unadjusted header */
	memcpy(a, m, 32);
	assert_int_equal(gdoi_sig7427_verify(rsa_pub, algid, parts, 2, GDOI_BYTES(sig, sig_len)),
			 GDOI_ERR_AUTH);
	free(plain);
	gdoi_writer_free(&out);
	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa_round_trip_and_replay),
		cmocka_unit_test(test_rsa_round_trip_and_replay),
		cmocka_unit_test(test_tamper_refused),
		cmocka_unit_test(test_wrong_keys_refused),
		cmocka_unit_test(test_message_id_replay_window),
		cmocka_unit_test(test_signed_data_layout),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
