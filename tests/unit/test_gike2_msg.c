/*
 * test_gike2_msg.c - the G-IKEv2 payloads of a registration and the rekeys
 * after it, between a GM and a GCKS held in memory (gdoi/gike2_msg.c,
 * gike2_rekey_sa.c), without the IKE SA: both derive GSK_w from the same
 * SK_d; the GM asks with IDg + N(SENDER) for 2 Sender-IDs; the GCKS answers
 * GSA (Rekey SA + SRTP SA + GWP) and KD (SA_KEYs, AUTH_KEY, GM_SENDER_IDs);
 * then a signed GSA_REKEY with a new SRTP key reaches the GM over the
 * Rekey SA it was given. Every key octet is compared at each step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/arena.h"
#include "gdoi/err.h"
#include "gdoi/gike2_msg.h"
#include "gdoi/gike2_policy.h"
#include "gdoi/numbers.h"
#include "tests/lib/certgen.h"

static struct gdoi_key *gcks_key;
static struct gdoi_policy pol;
static struct gike2_rekey_sa gcks_rekey;
static uint8_t sk_d[32];

static int setup(void **s)
{
	(void)s;
	EVP_PKEY *k = certgen_key("p256");
	size_t n = 0;
	uint8_t *der = certgen_key_der(k, &n);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &gcks_key), 0);
	free(der);
	EVP_PKEY_free(k);
	for (size_t i = 0; i < sizeof(sk_d); i++)
		sk_d[i] = (uint8_t)(3 * i + 11);

	memset(&pol, 0, sizeof(pol));
	pol.nteks = 1;
	pol.sid_bits = 32;
	struct gdoi_tek *t = &pol.teks[0];
	t->kind = GDOI_TEK_SRTP;
	t->spi = 0x5000;
	t->src = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR_SUBNET, 0, 8, { 0 } };
	t->dst = (struct gdoi_selector){ GDOI_ID_IPV4_ADDR, 5004, 4, { 239, 9, 9, 9 } };
	t->u.srtp = (struct gdoi_tek_srtp_policy){ .profile = 1, .flags = 3, .lifetime = 300,
						   .replay_window = 128, .ssrc_assigned = true };
	assert_int_equal(gdoi_policy_generate_keys(&pol), 0);

	memset(&gcks_rekey, 0, sizeof(gcks_rekey));
	assert_int_equal(gdoi_random(gcks_rekey.spi, 16), 0);
	gcks_rekey.encr = GIKE2_ENCR_AES_GCM_16;
	gcks_rekey.encr_key_bits = 256;
	gcks_rekey.kwa = GIKE2_KWA_5649_256;
	gcks_rekey.gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	gcks_rekey.sig_md = GDOI_MD_SHA256;
	gcks_rekey.lifetime = 3600;
	gcks_rekey.msgid = 42;
	gcks_rekey.src = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, 848, 848, 4,
					    { 192, 0, 2, 1 }, { 192, 0, 2, 1 } };
	gcks_rekey.dst = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, 848, 848, 4,
					    { 239, 1, 1, 1 }, { 239, 1, 1, 1 } };
	uint8_t km[68];
	assert_int_equal(gike2_rekey_keymat_len(&gcks_rekey), 36 + 32);
	assert_int_equal(gdoi_random(km, sizeof(km)), 0);
	assert_int_equal(gike2_rekey_set_keys(&gcks_rekey, GDOI_BYTES(km, sizeof(km))), 0);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	gdoi_key_free(gcks_key);
	gdoi_policy_clear(&pol);
	gike2_rekey_sa_clear(&gcks_rekey);
	return 0;
}

static void gsk_w(uint8_t out[16], uint8_t flip)
{
	uint8_t d[32];
	memcpy(d, sk_d, 32);
	d[0] ^= flip;
	assert_int_equal(gike2_gsk_w(GDOI_MD_SHA256, GDOI_BYTES(d, 32), out, 16), 0);
}

static void test_registration_then_rekey(void **s)
{
	(void)s;
	struct gdoi_arena *a = gdoi_arena_new();
	uint8_t w_gm[16], w_gcks[16];
	gsk_w(w_gm, 0);
	gsk_w(w_gcks, 0);

	/* GM -> GCKS: IDg (KEY_ID "audio"), N(SENDER, 2) */
	struct gike2_reg_request rq = { { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) }, 2 }, got_rq;
	struct gike2_pl req[4];
	size_t nreq = 0;
	assert_int_equal(gike2_reg_request_build(&rq, a, req, 4, &nreq), 0);
	assert_int_equal(nreq, 2);
	assert_int_equal(req[1].type, GIKE2_PL_NOTIFY);
	assert_int_equal(req[1].body.len, 8);
	assert_memory_equal(req[1].body.ptr, "\x00\x00\x40\x2d\x00\x00\x00\x02", 8);	/* 16429 */
	struct gdoi_parse_error e;
	assert_int_equal(gike2_reg_request_parse(req, nreq, &got_rq, &e), 0);
	assert_int_equal(got_rq.senders, 2);
	assert_memory_equal(got_rq.idg.data.ptr, "audio", 5);

	/* GCKS -> GM: GSA, KD with 2 Sender-IDs */
	const uint32_t sids[2] = { 0x1234, 0x1235 };
	struct gike2_pl resp[4];
	size_t nresp = 0;
	assert_int_equal(gike2_reg_response_build(&pol, &gcks_rekey, gcks_key,
						  GDOI_BYTES(w_gcks, 16), sids, 2, a, resp, 4, &nresp),
			 0);
	assert_int_equal(nresp, 2);

	struct gdoi_policy gm;
	struct gike2_rekey_sa gm_rekey;
	struct gdoi_key *auth_key = NULL;
	bool has_rekey = false;
	uint16_t err = 0;
	char why[200] = "";
	memset(&gm, 0, sizeof(gm));
	int rc = gike2_reg_response_apply(resp, nresp, GDOI_BYTES(w_gm, 16), a, &gm, &gm_rekey,
					  &has_rekey, &auth_key, &err, why, sizeof(why));
	if (rc)
		fail_msg("apply: %s", why);
	assert_true(has_rekey);
	assert_non_null(auth_key);
	assert_true(gdoi_key_public_equal(auth_key, gcks_key));
	assert_int_equal(gm.nteks, 1);
	assert_memory_equal(gm.teks[0].key, pol.teks[0].key, 30);
	assert_int_equal(gm.nsids, 2);
	assert_int_equal(gm.sids[0], 0x1234);
	assert_int_equal(gm.sids[1], 0x1235);
	assert_int_equal(gm.sid_bits, 32);
	assert_memory_equal(gm_rekey.spi, gcks_rekey.spi, 16);
	assert_int_equal(gm_rekey.msgid, 42);
	assert_int_equal(gm_rekey.lifetime, 3600);
	assert_int_equal(gm_rekey.sig_md, GDOI_MD_SHA256);
	assert_int_equal(gm_rekey.gsk_e_len, 36);
	assert_memory_equal(gm_rekey.gsk_e, gcks_rekey.gsk_e, 36);
	assert_memory_equal(gm_rekey.gsk_w, gcks_rekey.gsk_w, 32);
	assert_memory_equal(&gm_rekey.dst, &gcks_rekey.dst, sizeof(gm_rekey.dst));

	/* a GM whose IKE SA has another SK_d: nothing unwraps */
	uint8_t w_bad[16];
	gsk_w(w_bad, 1);
	struct gdoi_policy bad;
	struct gike2_rekey_sa bad_rekey;
	struct gdoi_key *bk = NULL;
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(gike2_reg_response_apply(resp, nresp, GDOI_BYTES(w_bad, 16), a, &bad,
						  &bad_rekey, &has_rekey, &bk, &err, why, sizeof(why)),
			 GDOI_ERR_AUTH);
	assert_null(bk);

	/* GSA_REKEY: a new SRTP key, wrapped under the Rekey SA's GSK_w */
	struct gdoi_policy next = pol;
	next.teks[0].spi = 0x5001;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	struct gike2_gsa g;
	struct gike2_kd kd;
	assert_int_equal(gike2_policy_to_gsa(&next, a, &g), 0);
	assert_int_equal(gike2_policy_to_kd(&next, GDOI_BYTES(gcks_rekey.gsk_w, 32), NULL, 0, a, &kd),
			 0);
	struct gdoi_writer wg, wk, dg;
	gdoi_writer_init(&wg);
	gdoi_writer_init(&wk);
	gdoi_writer_init(&dg);
	assert_int_equal(gike2_gsa_build(&wg, &g), 0);
	assert_int_equal(gike2_kd_build(&wk, &kd), 0);
	struct gike2_pl pl[2] = { { GIKE2_PL_GSA, false, GDOI_BYTES(wg.buf, wg.len) },
				  { GIKE2_PL_KD, false, GDOI_BYTES(wk.buf, wk.len) } };
	assert_int_equal(gike2_rekey_build(&gcks_rekey, pl, 2, gcks_key, &dg), 0);

	struct gike2_pl *in;
	size_t nin = 0;
	uint32_t id = 0;
	assert_int_equal(gike2_rekey_open(&gm_rekey, dg.buf, dg.len, auth_key, a, &in, &nin, &id, &e),
			 0);
	assert_int_equal(id, 42);
	struct gdoi_reader rg = gdoi_reader_init(in[0].body.ptr, in[0].body.len, 0);
	struct gdoi_reader rk = gdoi_reader_init(in[1].body.ptr, in[1].body.len, 0);
	assert_int_equal(gike2_gsa_parse(&rg, a, &g, &e), 0);
	assert_int_equal(gike2_kd_parse(&rk, a, &kd, &e), 0);
	struct gdoi_policy upd;
	memset(&upd, 0, sizeof(upd));
	assert_int_equal(gike2_policy_from_gsa(&upd, &g, why, sizeof(why)), 0);
	assert_int_equal(gike2_policy_apply_kd(&upd, &kd, GDOI_BYTES(gm_rekey.gsk_w, 32), why,
					       sizeof(why)),
			 0);
	assert_int_equal(upd.teks[0].spi, 0x5001);
	assert_memory_equal(upd.teks[0].key, next.teks[0].key, 30);
	/* and the IKE SA's GSK_w does not open a key sent under the Rekey SA */
	assert_int_equal(gike2_policy_apply_kd(&upd, &kd, GDOI_BYTES(w_gm, 16), why, sizeof(why)),
			 GDOI_ERR_AUTH);

	gdoi_writer_free(&wg);
	gdoi_writer_free(&wk);
	gdoi_writer_free(&dg);
	gdoi_key_free(auth_key);
	gdoi_policy_clear(&gm);
	gdoi_policy_clear(&next);
	gdoi_policy_clear(&upd);
	gike2_rekey_sa_clear(&gm_rekey);
	gdoi_arena_free(a);
}

/* A GSA_REKEY that brings a new SRTP SA, deletes the old one and rolls the
 * Rekey SA over; the next GSA_REKEY then comes under the new Rekey SA. */
static void test_rekey_rollover(void **s)
{
	(void)s;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_rekey_sa cur = gcks_rekey, gm_cur = gcks_rekey, next = gcks_rekey, gm_next;
	memset(gm_cur.algid, 0, sizeof(gm_cur.algid));
	gdoi_bytes algid;
	assert_int_equal(gdoi_sig7427_algid(gcks_key, GDOI_MD_SHA256, &algid), 0);
	memcpy(gm_cur.algid, algid.ptr, algid.len);
	gm_cur.algid_len = algid.len;
	assert_int_equal(gdoi_random(next.spi, 16), 0);
	uint8_t km[68];
	assert_int_equal(gdoi_random(km, sizeof(km)), 0);
	assert_int_equal(gike2_rekey_set_keys(&next, GDOI_BYTES(km, sizeof(km))), 0);
	next.msgid = 0;

	struct gdoi_policy gm = pol, upd = pol;	/* the GM holds SPI 0x5000 */
	gm.nsids = 1;
	gm.sids[0] = 0x1234;
	upd.teks[0].spi = 0x5002;
	assert_int_equal(gdoi_policy_generate_keys(&upd), 0);
	const uint32_t del = 0x5000;
	struct gike2_pl pl[4];
	size_t n = 0;
	assert_int_equal(gike2_rekey_content_build(&upd, &cur, &next, gcks_key, &del, 1, a, pl, 4, &n), 0);
	assert_int_equal(n, 3);
	struct gdoi_writer dg;
	gdoi_writer_init(&dg);
	assert_int_equal(gike2_rekey_build(&cur, pl, n, gcks_key, &dg), 0);

	struct gike2_pl *in;
	size_t nin = 0;
	struct gdoi_parse_error e;
	char why[200] = "";
	bool has_next = false, excluded = true;
	assert_int_equal(gike2_rekey_open(&gm_cur, dg.buf, dg.len, gcks_key, a, &in, &nin, NULL, &e), 0);
	int rc = gike2_rekey_content_apply(in, nin, &gm_cur, a, &gm, &gm_next, &has_next, &excluded,
					   why, sizeof(why));
	if (rc)
		fail_msg("apply: %s", why);
	assert_false(excluded);
	assert_int_equal(gm.nteks, 1);	/* 0x5000 deleted, 0x5002 added */
	assert_int_equal(gm.teks[0].spi, 0x5002);
	assert_memory_equal(gm.teks[0].key, upd.teks[0].key, 30);
	assert_int_equal(gm.nsids, 1);
	assert_int_equal(gm.sids[0], 0x1234);
	assert_true(has_next);
	assert_memory_equal(gm_next.spi, next.spi, 16);
	assert_memory_equal(gm_next.gsk_e, next.gsk_e, 36);
	assert_memory_equal(gm_next.gsk_w, next.gsk_w, 32);
	assert_int_equal(gm_next.sig_md, GDOI_MD_SHA256);
	assert_int_equal(gm_next.gcauth, GIKE2_GCAUTH_DIGITAL_SIGNATURE);

	/* under the new Rekey SA, signed with the same key */
	struct gdoi_writer d2;
	gdoi_writer_init(&d2);
	n = 0;
	assert_int_equal(gike2_rekey_content_build(&upd, &next, NULL, gcks_key, NULL, 0, a, pl, 4, &n), 0);
	assert_int_equal(gike2_rekey_build(&next, pl, n, gcks_key, &d2), 0);
	assert_int_equal(gike2_rekey_open(&gm_next, d2.buf, d2.len, gcks_key, a, &in, &nin, NULL, &e), 0);
	/* the old Rekey SA does not open it */
	assert_int_equal(gike2_rekey_open(&gm_cur, d2.buf, d2.len, gcks_key, a, &in, &nin, NULL, &e),
			 GDOI_ERR_NOT_FOUND);

	/* a Member Key Bag in a GSA_REKEY is refused and the policy stays */
	struct gike2_kd kd;
	const uint32_t sid = 7;
	assert_int_equal(gike2_policy_to_kd(&upd, GDOI_BYTES(gm_cur.gsk_w, 32), &sid, 1, a, &kd), 0);
	struct gdoi_writer wk;
	gdoi_writer_init(&wk);
	assert_int_equal(gike2_kd_build(&wk, &kd), 0);
	struct gike2_pl bad[2] = { pl[0], { GIKE2_PL_KD, false, GDOI_BYTES(wk.buf, wk.len) } };
	struct gdoi_policy keep = gm;
	assert_int_equal(gike2_rekey_content_apply(bad, 2, &gm_cur, a, &gm, &gm_next, &has_next,
						   &excluded, why, sizeof(why)),
			 GDOI_ERR_VALUE);
	assert_memory_equal(&keep, &gm, sizeof(gm));
	gdoi_writer_free(&wk);
	gdoi_writer_free(&dg);
	gdoi_writer_free(&d2);
	gdoi_policy_clear(&gm);
	gdoi_policy_clear(&upd);
	gdoi_policy_clear(&keep);
	gike2_rekey_sa_clear(&next);
	gike2_rekey_sa_clear(&gm_next);
	gdoi_arena_free(a);
}

static void test_errors(void **s)
{
	(void)s;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl n;
	struct gdoi_policy gm;
	struct gike2_rekey_sa rk;
	struct gdoi_key *k = NULL;
	bool has = false;
	uint16_t err = 0;
	char why[160];
	uint8_t w[16] = { 0 };
	const uint16_t types[3] = { GIKE2_N_INVALID_GROUP_ID, GIKE2_N_AUTHORIZATION_FAILED,
				    GIKE2_N_REGISTRATION_FAILED };
	const int codes[3] = { GDOI_ERR_NOT_FOUND, GDOI_ERR_NOT_AUTHORIZED, GDOI_ERR_STATE };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(gike2_notify_error_build(types[i], a, &n), 0);
		assert_int_equal(n.body.len, 4);
		assert_int_equal(gdoi_get_u16(n.body.ptr + 2), types[i]);
		assert_int_equal(gike2_reg_response_apply(&n, 1, GDOI_BYTES(w, 16), a, &gm, &rk, &has,
							  &k, &err, why, sizeof(why)),
				 codes[i]);
		assert_int_equal(err, types[i]);
	}
	assert_int_equal(gike2_notify_error_build(GIKE2_N_SENDER, a, &n), GDOI_ERR_INVALID_ARG);
	/* a request without IDg, or with two */
	struct gike2_reg_request rq = { { GIKE2_ID_FQDN, GDOI_BYTES("g.example", 9) }, 0 }, got;
	struct gike2_pl req[4];
	size_t nr = 0;
	struct gdoi_parse_error e;
	assert_int_equal(gike2_reg_request_build(&rq, a, req, 4, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(gike2_reg_request_parse(req, 0, &got, &e), GDOI_ERR_MISSING);
	req[1] = req[0];
	assert_int_equal(gike2_reg_request_parse(req, 2, &got, &e), GDOI_ERR_VALUE);
	assert_int_equal(gike2_reg_request_parse(req, 1, &got, &e), 0);
	assert_int_equal(got.senders, 0);
	gdoi_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registration_then_rekey),
		cmocka_unit_test(test_rekey_rollover),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
