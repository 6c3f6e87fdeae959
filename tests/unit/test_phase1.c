/*
 * test_phase1.c - IKEv1 Main Mode: initiator against responder in memory,
 * for every group, cipher and hash with pre-shared keys (signatures:
 * test_phase1_sig.c), then the failures: wrong key, no common proposal,
 * replays, truncations, reordering, a flood of message 1s, timers, and the
 * Informational exchange.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"

#include "tests/unit/phase1_util.h"

static void test_phase1_psk_agrees_keys_in_every_suite(void **s)
{
	(void)s;
	static const struct gdoi_p1_suite suites[] = {
		{ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA256, 19, GDOI_IKE_AUTH_PSK, 3600 },
		{ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14, GDOI_IKE_AUTH_PSK, 3600 },
		{ GDOI_IKE_ENC_AES, 192, GDOI_IKE_HASH_SHA384, 20, GDOI_IKE_AUTH_PSK, 86400 },
		{ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA512, 21, GDOI_IKE_AUTH_PSK, 100000 },
		{ GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA1, 2, GDOI_IKE_AUTH_PSK, 60 },
		{ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA1, 5, GDOI_IKE_AUTH_PSK, 3600 },
		{ GDOI_IKE_ENC_AES, 256, GDOI_IKE_HASH_SHA256, 15, GDOI_IKE_AUTH_PSK, 3600 },
		{ GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA256, 16, GDOI_IKE_AUTH_PSK, 3600 },
	};
	for (size_t k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		struct side gm, ks;
		psk_side(&gm, true, "correct horse", &suites[k], 1);
		psk_side(&ks, false, "correct horse", suites, 8);
		struct run run;
		run_exchange(&run, &gm, &ks, 1000);
		assert_int_equal(run.messages, 6);
		assert_int_equal(run.ires.event, GDOI_P1_EV_ESTABLISHED);
		assert_int_equal(run.rres.event, GDOI_P1_EV_ESTABLISHED);
		assert_same_keys(&run);
		assert_memory_equal(gdoi_p1_suite(run.r), &suites[k], sizeof(suites[k]));
		assert_int_equal(gdoi_p1_peer_id(run.r)->type, GDOI_ID_IPV4_ADDR);
		assert_memory_equal(gdoi_p1_peer_id(run.r)->data.ptr, gm_ip, 4);
		assert_memory_equal(gdoi_p1_peer_id(run.i)->data.ptr, ks_ip, 4);
		run_free(&run);
	}
}

/* The default offer, first choice wins: AES-256, SHA-256, group 19. */
static void test_phase1_default_offer_picks_aes256_sha256_group19(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[4];
	size_t n = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 86400, false, su, 4);
	assert_int_equal(n, 2);
	assert_int_equal(gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 86400, true, su, 4), 3);
	assert_int_equal(su[2].enc, GDOI_IKE_ENC_3DES);
	struct side gm, ks;
	psk_side(&gm, true, "k", su, 2);
	psk_side(&ks, false, "k", su, 3);
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_same_keys(&run);
	assert_int_equal(gdoi_p1_suite(run.i)->group, 19);
	assert_int_equal(gdoi_p1_suite(run.i)->key_bits, 256);
	run_free(&run);
}

static void test_phase1_refuses_wrong_psk_with_authentication_failed(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	struct side gm, ks;
	psk_side(&gm, true, "one key", su, 2);
	psk_side(&ks, false, "another key", su, 2);
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	/* The responder refuses message 5 and says so; the initiator reports it. */
	assert_int_equal(run.rres.event, GDOI_P1_EV_FAILED);
	assert_int_equal(run.rres.notify, GDOI_N_AUTHENTICATION_FAILED);
	assert_int_equal(run.ires.event, GDOI_P1_EV_FAILED);
	assert_int_equal(run.ires.notify, GDOI_N_AUTHENTICATION_FAILED);
	assert_true(gdoi_p1_dead(run.i));
	assert_false(gdoi_p1_established(run.r));
	assert_int_equal(gdoi_p1_responder_expire(run.resp, 10), 0);
	assert_int_equal(gdoi_p1_responder_sa_count(run.resp), 0);
	run_free(&run);
}

static void test_phase1_refuses_legacy_suite_not_switched_on(void **s)
{
	(void)s;
	struct gdoi_p1_suite modern[2], legacy = { GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA1, 2,
						   GDOI_IKE_AUTH_PSK, 3600 };
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, modern, 2);
	struct side gm, ks;
	psk_side(&gm, true, "k", &legacy, 1);
	psk_side(&ks, false, "k", modern, 2);	/* legacy not switched on */
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_int_equal(run.rres.err, GDOI_ERR_NO_PROPOSAL);
	assert_int_equal(run.rres.notify, GDOI_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(run.ires.event, GDOI_P1_EV_FAILED);
	assert_int_equal(run.ires.notify, GDOI_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(gdoi_p1_responder_sa_count(run.resp), 0);
	run_free(&run);
}

/* A longer lifetime than ours is refused; a shorter one is accepted. */
static void test_phase1_refuses_longer_lifetime_takes_shorter(void **s)
{
	(void)s;
	struct gdoi_p1_suite mine = { GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 19, GDOI_IKE_AUTH_PSK, 3600 };
	struct gdoi_p1_suite longer = mine, shorter = mine;
	longer.lifetime = 7200;
	shorter.lifetime = 600;
	struct side gm, ks;
	psk_side(&ks, false, "k", &mine, 1);
	psk_side(&gm, true, "k", &longer, 1);
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_int_equal(run.ires.notify, GDOI_N_NO_PROPOSAL_CHOSEN);
	run_free(&run);
	psk_side(&gm, true, "k", &shorter, 1);
	run_exchange(&run, &gm, &ks, 5);
	assert_same_keys(&run);
	assert_int_equal(gdoi_p1_suite(run.r)->lifetime, 600);
	run_free(&run);
}

/* A key bound to an identity only (no address): the responder finds it by trying. */
static void test_phase1_finds_psk_by_identity_alone(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	static const char fqdn_a[] = "gm-a.example", fqdn_b[] = "gm-b.example";
	struct side gm, ks;
	psk_side(&gm, true, "secret-b", su, 2);
	gm.cfg.local_id = (struct gdoi_id){ .type = GDOI_ID_FQDN, .data = GDOI_BYTES(fqdn_b, 12) };
	psk_side(&ks, false, "unused", su, 2);
	ks.psks[0] = (struct gdoi_p1_psk){ .id = { .type = GDOI_ID_FQDN, .data = GDOI_BYTES(fqdn_a, 12) },
					   .key = GDOI_BYTES("secret-a", 8) };
	ks.psks[1] = (struct gdoi_p1_psk){ .id = { .type = GDOI_ID_FQDN, .data = GDOI_BYTES(fqdn_b, 12) },
					   .key = GDOI_BYTES("secret-b", 8) };
	ks.cfg.npsks = 2;
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_same_keys(&run);
	assert_int_equal(gdoi_p1_peer_id(run.r)->type, GDOI_ID_FQDN);
	assert_memory_equal(gdoi_p1_peer_id(run.r)->data.ptr, fqdn_b, 12);
	run_free(&run);

	/* Claiming identity A with B's key does not work. */
	gm.cfg.local_id.data = GDOI_BYTES(fqdn_a, 12);
	run_exchange(&run, &gm, &ks, 5);
	assert_int_equal(run.rres.event, GDOI_P1_EV_FAILED);
	assert_false(gdoi_p1_established(run.i));
	run_free(&run);
}

static bool deny_all(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *a)
{
	(void)ctx; (void)id; (void)auth; (void)a;
	return false;
}

static void test_phase1_refuses_peer_not_authorized(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	struct side gm, ks;
	psk_side(&gm, true, "k", su, 2);
	psk_side(&ks, false, "k", su, 2);
	ks.cfg.peer_allowed = deny_all;
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_int_equal(run.rres.event, GDOI_P1_EV_FAILED);
	assert_int_equal(run.rres.err, GDOI_ERR_NOT_AUTHORIZED);
	assert_int_equal(run.ires.event, GDOI_P1_EV_FAILED);
	run_free(&run);
}

/* ---- robustness ------------------------------------------------------------ */

struct stepper {
	struct side gm, ks;
	struct gdoi_p1_responder *resp;
	struct gdoi_p1_sa *i, *r;
	uint8_t *msg[7];	/* msg[k] = Main Mode message k as sent */
	size_t len[7];
};

static uint8_t *take(struct gdoi_p1_result *res, size_t *len)
{
	uint8_t *m = res->out;
	*len = res->out_len;
	res->out = NULL;
	gdoi_p1_result_clear(res);
	return m;
}

static void stepper_init(struct stepper *st)
{
	memset(st, 0, sizeof(*st));
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	psk_side(&st->gm, true, "k", su, 2);
	psk_side(&st->ks, false, "k", su, 2);
	st->resp = gdoi_p1_responder_new(&st->ks.cfg, 0);
	struct gdoi_p1_result res = { 0 };
	assert_int_equal(gdoi_p1_initiate(&st->gm.cfg, &ks_addr, 0, &st->i, &res), 0);
	st->msg[1] = take(&res, &st->len[1]);
}

static int to_resp(struct stepper *st, const uint8_t *m, size_t len, struct gdoi_p1_result *res)
{
	struct gdoi_p1_sa *sa = NULL;
	int rc = gdoi_p1_responder_input(st->resp, m, len, &gm_addr, 0, res, &sa);
	if (sa)
		st->r = sa;
	return rc;
}

static void stepper_free(struct stepper *st)
{
	for (int k = 0; k < 7; k++)
		free(st->msg[k]);
	gdoi_p1_free(st->i);
	gdoi_p1_responder_free(st->resp);
}

static void test_phase1_answers_replays_alike_drops_truncations(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	/* MM1 twice: the same MM2 both times, and no SA. */
	to_resp(&st, st.msg[1], st.len[1], &res);
	st.msg[2] = take(&res, &st.len[2]);
	to_resp(&st, st.msg[1], st.len[1], &res);
	size_t l2b;
	uint8_t *m2b = take(&res, &l2b);
	assert_bytes_equal(m2b, l2b, st.msg[2], st.len[2]);
	free(m2b);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 0);

	gdoi_p1_input(st.i, st.msg[2], st.len[2], 0, &res);
	st.msg[3] = take(&res, &st.len[3]);
	/* Truncated MM3: dropped, no SA; the real one still works. */
	for (size_t cut = 0; cut < st.len[3]; cut += 7) {
		uint8_t *t = malloc(st.len[3]);
		memcpy(t, st.msg[3], cut);
		if (cut >= 28)
			t[27] = (uint8_t)cut, t[26] = (uint8_t)(cut >> 8);
		assert_int_not_equal(to_resp(&st, t, cut, &res), 0);
		assert_null(res.out);
		gdoi_p1_result_clear(&res);
		free(t);
	}
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 0);
	/* MM5 out of order, before MM3: nothing to find. */
	assert_int_equal(to_resp(&st, st.msg[3], st.len[3], &res), 0);
	st.msg[4] = take(&res, &st.len[4]);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 1);
	/* MM3 replayed: the same MM4 again, still one SA. */
	to_resp(&st, st.msg[3], st.len[3], &res);
	size_t l4b;
	uint8_t *m4b = take(&res, &l4b);
	assert_bytes_equal(m4b, l4b, st.msg[4], st.len[4]);
	free(m4b);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 1);
	/* MM2 replayed to the initiator (now waiting for MM4): absorbed. */
	assert_int_equal(gdoi_p1_input(st.i, st.msg[2], st.len[2], 0, &res), 0);
	assert_null(res.out);
	gdoi_p1_result_clear(&res);
	gdoi_p1_input(st.i, st.msg[4], st.len[4], 0, &res);
	st.msg[5] = take(&res, &st.len[5]);
	/* Truncated and bit-flipped MM5: dropped or refused; never established. */
	uint8_t *bad = malloc(st.len[5]);
	memcpy(bad, st.msg[5], st.len[5]);
	bad[st.len[5] - 20] ^= 0x80;
	to_resp(&st, bad, st.len[5] - 8, &res);	/* not a whole block: Length mismatch */
	assert_null(res.out);
	gdoi_p1_result_clear(&res);
	free(bad);
	to_resp(&st, st.msg[5], st.len[5], &res);
	assert_int_equal(res.event, GDOI_P1_EV_ESTABLISHED);
	st.msg[6] = take(&res, &st.len[6]);
	/* MM5 replayed after establishment: MM6 again, byte for byte. */
	to_resp(&st, st.msg[5], st.len[5], &res);
	size_t l6b;
	uint8_t *m6b = take(&res, &l6b);
	assert_bytes_equal(m6b, l6b, st.msg[6], st.len[6]);
	free(m6b);
	gdoi_p1_input(st.i, st.msg[6], st.len[6], 0, &res);
	assert_int_equal(res.event, GDOI_P1_EV_ESTABLISHED);
	gdoi_p1_result_clear(&res);
	/* MM6 replayed: absorbed, the SA stays up. */
	assert_int_equal(gdoi_p1_input(st.i, st.msg[6], st.len[6], 0, &res), 0);
	assert_true(gdoi_p1_established(st.i));
	gdoi_p1_result_clear(&res);
	stepper_free(&st);
}

/* An offer altered in transit (a transform the responder did not pick) is caught
 * by HASH_I, which covers the whole SA payload the initiator sent. */
static void test_phase1_refuses_offer_altered_in_transit(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	st.msg[1][st.len[1] - 1] ^= 0x01;	/* last attribute of the second transform */
	to_resp(&st, st.msg[1], st.len[1], &res);
	st.msg[2] = take(&res, &st.len[2]);
	assert_non_null(st.msg[2]);
	gdoi_p1_input(st.i, st.msg[2], st.len[2], 0, &res);
	st.msg[3] = take(&res, &st.len[3]);
	to_resp(&st, st.msg[3], st.len[3], &res);
	st.msg[4] = take(&res, &st.len[4]);
	gdoi_p1_input(st.i, st.msg[4], st.len[4], 0, &res);
	st.msg[5] = take(&res, &st.len[5]);
	to_resp(&st, st.msg[5], st.len[5], &res);
	assert_int_equal(res.event, GDOI_P1_EV_FAILED);
	assert_int_equal(res.notify, GDOI_N_INVALID_HASH_INFORMATION);
	assert_int_equal(res.err, GDOI_ERR_AUTH);
	gdoi_p1_result_clear(&res);
	stepper_free(&st);
}

static void test_phase1_keeps_no_state_under_mm1_flood(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	uint8_t *m = malloc(st.len[1]);
	memcpy(m, st.msg[1], st.len[1]);
	for (unsigned k = 0; k < 20000; k++) {
		gdoi_put_u32(m, k);	/* a new initiator cookie each time */
		struct gdoi_addr from = gm_addr;
		from.port = (uint16_t)(1024 + k);
		struct gdoi_p1_sa *sa = NULL;
		gdoi_p1_responder_input(st.resp, m, st.len[1], &from, 0, &res, &sa);
		assert_non_null(res.out);	/* every one answered */
		assert_null(sa);
		gdoi_p1_result_clear(&res);
	}
	free(m);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 0);
	assert_true(gdoi_p1_responder_pending_count(st.resp) <= 256);
	/* A forged message 3 with a made-up responder cookie creates nothing. */
	uint8_t *m3 = malloc(st.len[1]);
	memcpy(m3, st.msg[1], st.len[1]);
	memset(m3 + 8, 0x5a, 8);
	assert_int_equal(to_resp(&st, m3, st.len[1], &res), GDOI_ERR_NOT_FOUND);
	gdoi_p1_result_clear(&res);
	free(m3);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 0);
	stepper_free(&st);
}

static void test_phase1_retransmits_mm1_then_times_out(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	/* No answer: MM1 is re-sent at 1, 3, 7, 15 s, then the exchange fails. */
	uint64_t expect[] = { 1000, 3000, 7000, 15000 };
	for (int k = 0; k < 4; k++) {
		assert_int_equal(gdoi_p1_next_timer(st.i), expect[k]);
		gdoi_p1_timer(st.i, expect[k], &res);
		assert_non_null(res.out);
		assert_bytes_equal(res.out, res.out_len, st.msg[1], st.len[1]);
		gdoi_p1_result_clear(&res);
	}
	assert_int_equal(gdoi_p1_next_timer(st.i), 30000);	/* the exchange deadline comes first */
	gdoi_p1_timer(st.i, 30000, &res);
	assert_int_equal(res.event, GDOI_P1_EV_FAILED);
	assert_true(gdoi_p1_dead(st.i));
	gdoi_p1_result_clear(&res);
	stepper_free(&st);
}

static void test_phase1_rekeys_before_and_drops_sa_at_lifetime(void **s)
{
	(void)s;
	struct gdoi_p1_suite su = { GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 19, GDOI_IKE_AUTH_PSK, 100 };
	struct side gm, ks;
	psk_side(&gm, true, "k", &su, 1);
	psk_side(&ks, false, "k", &su, 1);
	struct run run;
	run_exchange(&run, &gm, &ks, 1000);
	assert_same_keys(&run);
	struct gdoi_p1_result res = { 0 };
	assert_int_equal(gdoi_p1_next_timer(run.i), 1000 + 85000);
	gdoi_p1_timer(run.i, 86000, &res);
	assert_int_equal(res.event, GDOI_P1_EV_REKEY);
	gdoi_p1_result_clear(&res);
	assert_int_equal(gdoi_p1_next_timer(run.i), 101000);
	gdoi_p1_timer(run.i, 101000, &res);
	assert_int_equal(res.event, GDOI_P1_EV_EXPIRED);
	assert_true(gdoi_p1_dead(run.i));
	gdoi_p1_result_clear(&res);
	/* The responder drops its copy at the hard lifetime. */
	assert_int_equal(gdoi_p1_responder_sa_count(run.resp), 1);
	gdoi_p1_responder_expire(run.resp, 101000);
	assert_int_equal(gdoi_p1_responder_sa_count(run.resp), 0);
	run.r = NULL;
	run_free(&run);
}

static void test_phase1_informational_reaches_peer_tampered_dropped(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	struct side gm, ks;
	psk_side(&gm, true, "k", su, 2);
	psk_side(&ks, false, "k", su, 2);
	struct run run;
	run_exchange(&run, &gm, &ks, 5);
	assert_same_keys(&run);
	struct gdoi_p1_result res = { 0 }, res2 = { 0 };
	/* A protected notify from the key server reaches the member. */
	assert_int_equal(gdoi_p1_send_notify(run.r, GDOI_N_INVALID_ID_INFORMATION, GDOI_BYTES_NONE, &res), 0);
	assert_int_equal(gdoi_p1_input(run.i, res.out, res.out_len, 5, &res2), 0);
	assert_int_equal(res2.event, GDOI_P1_EV_NOTIFY);
	assert_int_equal(res2.notify, GDOI_N_INVALID_ID_INFORMATION);
	gdoi_p1_result_clear(&res2);
	/* Tampered: HASH(1) or decryption fails; dropped, SA intact. */
	res.out[res.out_len - 1] ^= 1;
	assert_int_not_equal(gdoi_p1_input(run.i, res.out, res.out_len, 5, &res2), 0);
	assert_int_equal(res2.event, GDOI_P1_EV_NONE);
	assert_true(gdoi_p1_established(run.i));
	gdoi_p1_result_clear(&res2);
	gdoi_p1_result_clear(&res);
	/* The member deletes the SA; the key server learns it. */
	assert_int_equal(gdoi_p1_send_delete(run.i, &res), 0);
	assert_true(gdoi_p1_dead(run.i));
	struct gdoi_p1_sa *sa = NULL;
	assert_int_equal(gdoi_p1_responder_input(run.resp, res.out, res.out_len, &gm_addr, 5, &res2, &sa), 0);
	assert_ptr_equal(sa, run.r);
	assert_int_equal(res2.event, GDOI_P1_EV_DELETED);
	assert_true(gdoi_p1_dead(run.r));
	gdoi_p1_result_clear(&res);
	gdoi_p1_result_clear(&res2);
	gdoi_p1_responder_expire(run.resp, 6);
	assert_int_equal(gdoi_p1_responder_sa_count(run.resp), 0);
	run.r = NULL;
	run_free(&run);
}

/* RFC 6989: a KE that is no point on the curve is refused, and no SA comes of it. */
static void test_phase1_refuses_ke_off_the_curve(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	to_resp(&st, st.msg[1], st.len[1], &res);
	st.msg[2] = take(&res, &st.len[2]);
	gdoi_p1_input(st.i, st.msg[2], st.len[2], 0, &res);
	st.msg[3] = take(&res, &st.len[3]);
	/* MM3 = header, KE (group 19: 64 octets of x | y), Nonce: zero the point. */
	assert_int_equal(st.msg[3][28], GDOI_PL_NONCE);
	assert_int_equal(gdoi_get_u16(st.msg[3] + 30), 4 + 64);
	memset(st.msg[3] + 32, 0, 64);
	to_resp(&st, st.msg[3], st.len[3], &res);
	assert_int_equal(res.err, GDOI_ERR_DH_VALUE);
	assert_null(res.out);
	assert_int_equal(gdoi_p1_responder_sa_count(st.resp), 0);
	gdoi_p1_result_clear(&res);
	stepper_free(&st);
}

/* A member that comes back with INITIAL-CONTACT replaces its older SA. */
static void test_phase1_initial_contact_replaces_older_sa(void **s)
{
	(void)s;
	struct gdoi_p1_suite su[2];
	gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 2);
	struct side gm, ks;
	psk_side(&gm, true, "k", su, 2);
	psk_side(&ks, false, "k", su, 2);
	gm.cfg.initial_contact = false;
	struct run first;
	run_exchange(&first, &gm, &ks, 5);
	assert_same_keys(&first);
	/* Second Phase 1 through the same responder. */
	struct gdoi_p1_result ri = { 0 }, rr = { 0 };
	struct gdoi_p1_sa *again = NULL, *rsa = NULL, *sa = NULL;
	gm.cfg.initial_contact = true;
	assert_int_equal(gdoi_p1_initiate(&gm.cfg, &ks_addr, 6, &again, &ri), 0);
	for (int i = 0; i < 3; i++) {
		gdoi_p1_responder_input(first.resp, ri.out, ri.out_len, &gm_addr, 6, &rr, &sa);
		if (sa)
			rsa = sa;
		gdoi_p1_result_clear(&ri);
		gdoi_p1_input(again, rr.out, rr.out_len, 6, &ri);
		gdoi_p1_result_clear(&rr);
	}
	gdoi_p1_result_clear(&ri);
	assert_true(gdoi_p1_established(again));
	assert_true(gdoi_p1_established(rsa));
	assert_true(gdoi_p1_dead(first.r));
	gdoi_p1_responder_expire(first.resp, 7);
	assert_int_equal(gdoi_p1_responder_sa_count(first.resp), 1);
	first.r = NULL;
	gdoi_p1_free(again);
	run_free(&first);
}

/* Arbitrary bytes at every state never crash or establish. */
static void test_phase1_never_establishes_on_garbage_at_any_state(void **s)
{
	(void)s;
	struct stepper st;
	struct gdoi_p1_result res = { 0 };
	stepper_init(&st);
	uint8_t junk[200];
	for (int state = 0; state < 3; state++) {
		for (int k = 0; k < 200; k++) {
			assert_int_equal(gdoi_random(junk, sizeof(junk)), 0);
			size_t n = junk[0] % sizeof(junk);
			if (k & 1)	/* keep our cookies so that the SA code is reached */
				memcpy(junk, st.msg[1], n < 16 ? n : 16);
			gdoi_p1_input(st.i, junk, n, 0, &res);
			assert_int_not_equal(res.event, GDOI_P1_EV_ESTABLISHED);
			gdoi_p1_result_clear(&res);
			to_resp(&st, junk, n, &res);
			assert_int_not_equal(res.event, GDOI_P1_EV_ESTABLISHED);
			gdoi_p1_result_clear(&res);
		}
		if (state == 0) {
			to_resp(&st, st.msg[1], st.len[1], &res);
			st.msg[2] = take(&res, &st.len[2]);
			gdoi_p1_input(st.i, st.msg[2], st.len[2], 0, &res);
			st.msg[3] = take(&res, &st.len[3]);
		} else if (state == 1) {
			to_resp(&st, st.msg[3], st.len[3], &res);
			st.msg[4] = take(&res, &st.len[4]);
			gdoi_p1_input(st.i, st.msg[4], st.len[4], 0, &res);
			st.msg[5] = take(&res, &st.len[5]);
		}
	}
	to_resp(&st, st.msg[5], st.len[5], &res);
	assert_int_equal(res.event, GDOI_P1_EV_ESTABLISHED);
	gdoi_p1_result_clear(&res);
	stepper_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase1_psk_agrees_keys_in_every_suite),
		cmocka_unit_test(test_phase1_default_offer_picks_aes256_sha256_group19),
		cmocka_unit_test(test_phase1_refuses_wrong_psk_with_authentication_failed),
		cmocka_unit_test(test_phase1_refuses_legacy_suite_not_switched_on),
		cmocka_unit_test(test_phase1_refuses_longer_lifetime_takes_shorter),
		cmocka_unit_test(test_phase1_finds_psk_by_identity_alone),
		cmocka_unit_test(test_phase1_refuses_peer_not_authorized),
		cmocka_unit_test(test_phase1_answers_replays_alike_drops_truncations),
		cmocka_unit_test(test_phase1_refuses_offer_altered_in_transit),
		cmocka_unit_test(test_phase1_keeps_no_state_under_mm1_flood),
		cmocka_unit_test(test_phase1_retransmits_mm1_then_times_out),
		cmocka_unit_test(test_phase1_rekeys_before_and_drops_sa_at_lifetime),
		cmocka_unit_test(test_phase1_informational_reaches_peer_tampered_dropped),
		cmocka_unit_test(test_phase1_initial_contact_replaces_older_sa),
		cmocka_unit_test(test_phase1_refuses_ke_off_the_curve),
		cmocka_unit_test(test_phase1_never_establishes_on_garbage_at_any_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
