/*
 * test_gike2_auth.c - G-IKEv2 registration over the IKEv2 core, in memory:
 * our GM (initiator) and our GCKS (responder) run IKE_SA_INIT, then GSA_AUTH
 * (IKE_AUTH with IDg + N(SENDER) -> GSA + KD, no child SA), with the hooks of
 * gdoi/gike2_ike.c; the keys are wrapped under GSK_w = prf+(SK_d, ...), which
 * both sides derive from their own IKE SA. Then a signed GSA_REKEY over the
 * Rekey SA the GM received, a GSA_REGISTRATION on the same IKE SA, and an
 * unknown group answered with INVALID_GROUP_ID. Every key octet compared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/gike2_ike.h"
#include "gdoi/gike2_policy.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/numbers.h"
#include "tests/lib/gike2_fixture.h"

static const struct gdoi_addr GM_ADDR = { 4, { 127, 0, 0, 1 }, 18601 };
static const struct gdoi_addr KS_ADDR = { 4, { 127, 0, 0, 1 }, 18600 };
static const struct gdoi_ike2_suite SUITE = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };

struct world {
	struct gdoi_ike2_config gm_cfg, ks_cfg;
	struct gdoi_ike2_psk gm_psk, ks_psk;
	struct gike2_gm gm;
	struct gike2_gcks ks;
	struct gdoi_policy policy;
	struct gike2_rekey_sa rekey;
	struct gdoi_key *signer;
	struct gdoi_ike2_responder *resp;
	struct gdoi_ike2_sa *gm_sa, *ks_sa;
	uint64_t now;
	enum gdoi_ike2_event gm_event;
	uint16_t gm_notify;
};

static void config(struct gdoi_ike2_config *c, struct gdoi_ike2_psk *psk, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->suites = &SUITE;
	c->nsuites = 1;
	c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES(id, strlen(id)) };
	*psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE }, GDOI_BYTES("group psk", 9) };
	c->psks = psk;
	c->npsks = 1;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->signer = gike2_fixture_signer();
	gike2_fixture_policy(&w->policy, 0x600d, 18610);
	gike2_fixture_rekey(&w->rekey, 18600, 18611);

	config(&w->gm_cfg, &w->gm_psk, "gm.example");
	config(&w->ks_cfg, &w->ks_psk, "ks.example");
	w->gm.rq = (struct gike2_reg_request){ { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) }, 1 };
	gike2_gm_attach(&w->gm, &w->gm_cfg);
	w->ks = (struct gike2_gcks){ .group = { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) },
				     .policy = &w->policy, .rekey = &w->rekey, .signer = w->signer,
				     .next_sid = 0x51000 };
	gike2_gcks_attach(&w->ks, &w->ks_cfg);
	w->now = 5000;
	w->resp = gdoi_ike2_responder_new(&w->ks_cfg, w->now);
	assert_non_null(w->resp);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	gdoi_ike2_free(w->gm_sa);
	gdoi_ike2_responder_free(w->resp);
	gike2_gm_clear(&w->gm);
	gdoi_policy_clear(&w->policy);
	gike2_rekey_sa_clear(&w->rekey);
	gdoi_key_free(w->signer);
	free(w);
	return 0;
}

/* Carries datagrams back and forth until neither side has anything to send. */
static void exchange(struct world *w, struct gdoi_ike2_result *first, bool to_ks)
{
	struct gdoi_ike2_result cur = *first;
	memset(first, 0, sizeof(*first));
	for (int rounds = 0; cur.nout && rounds < 32; rounds++) {
		struct gdoi_ike2_result next = { 0 };
		for (size_t i = 0; i < cur.nout; i++) {
			struct gdoi_ike2_result r = { 0 };
			if (to_ks) {
				struct gdoi_ike2_sa *sa = NULL;
				gdoi_ike2_responder_input(w->resp, cur.out[i], cur.out_len[i], &GM_ADDR,
							  w->now, &r, &sa);
				if (sa)
					w->ks_sa = sa;
			} else {
				gdoi_ike2_input(w->gm_sa, cur.out[i], cur.out_len[i], w->now, &r);
				if (r.event != GDOI_IKE2_EV_NONE)
					w->gm_event = r.event;
				if (r.notify)
					w->gm_notify = r.notify;
			}
			for (size_t j = 0; j < r.nout && next.nout < GDOI_IKE2_MAX_OUT; j++) {
				next.out[next.nout] = r.out[j];
				next.out_len[next.nout++] = r.out_len[j];
				r.out[j] = NULL;
			}
			r.nout = 0;
			gdoi_ike2_result_clear(&r);
		}
		gdoi_ike2_result_clear(&cur);
		cur = next;
		to_ks = !to_ks;
	}
	gdoi_ike2_result_clear(&cur);
}

static void register_gm(struct world *w)
{
	struct gdoi_ike2_result r = { 0 };
	assert_int_equal(gdoi_ike2_initiate(&w->gm_cfg, &KS_ADDR, w->now, &w->gm_sa, &r), 0);
	exchange(w, &r, true);
}

static void test_gsa_auth_registers(void **state)
{
	struct world *w = *state;
	register_gm(w);
	if (!w->gm.registered)
		fail_msg("not registered: %s / %s (notify %u)", w->gm.why, w->ks.why, w->gm_notify);
	assert_int_equal(w->gm_event, GDOI_IKE2_EV_ESTABLISHED);
	assert_int_equal(w->ks.registrations, 1);
	/* the SRTP key, every octet */
	assert_int_equal(w->gm.policy.nteks, 1);
	assert_int_equal(w->gm.policy.teks[0].spi, 0x600d);
	assert_int_equal(w->gm.policy.teks[0].key_len, 28);
	assert_memory_equal(w->gm.policy.teks[0].key, w->policy.teks[0].key, 28);
	assert_int_equal(w->gm.policy.nsids, 1);
	assert_int_equal(w->gm.policy.sids[0], 0x51000);
	/* the Rekey SA and the GCKS's key */
	assert_true(w->gm.has_rekey);
	assert_memory_equal(w->gm.rekey.spi, w->rekey.spi, 16);
	assert_memory_equal(w->gm.rekey.gsk_e, w->rekey.gsk_e, 20);
	assert_memory_equal(w->gm.rekey.gsk_w, w->rekey.gsk_w, 16);
	assert_true(gdoi_key_public_equal(w->gm.gcks_key, w->signer));
	/* GSK_w agrees on both ends of the IKE SA, and is not SK_d itself */
	uint8_t a[GIKE2_KWK_MAX], b[GIKE2_KWK_MAX];
	size_t al = 0, bl = 0;
	assert_int_equal(gike2_ike_gsk_w(w->gm_sa, a, &al), 0);
	assert_int_equal(gike2_ike_gsk_w(w->ks_sa, b, &bl), 0);
	assert_int_equal(al, 32);
	assert_int_equal(bl, 32);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, gdoi_ike2_sk_d(w->gm_sa).ptr, 32);

	/* a multicast rekey under the Rekey SA the GM was given */
	struct gdoi_policy next = w->policy;
	next.teks[0].spi = 0x600e;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	struct gdoi_arena *ar = gdoi_arena_new();
	struct gike2_pl pl[3];
	size_t n = 0;
	assert_int_equal(gike2_rekey_content_build(&next, &w->rekey, NULL, w->signer, NULL, 0, ar, pl,
						   3, &n),
			 0);
	struct gdoi_writer dg;
	gdoi_writer_init(&dg);
	struct gike2_rekey_sa ks_rekey = w->rekey;
	assert_int_equal(gike2_rekey_build(&ks_rekey, pl, n, w->signer, &dg), 0);
	struct gike2_pl *in;
	size_t nin = 0;
	struct gdoi_parse_error e;
	assert_int_equal(gike2_rekey_open(&w->gm.rekey, dg.buf, dg.len, w->gm.gcks_key, ar, &in, &nin,
					  NULL, &e),
			 0);
	struct gike2_rekey_sa none;
	bool has_next = true, excluded = true;
	char why[160] = "";
	assert_int_equal(gike2_rekey_content_apply(in, nin, &w->gm.rekey, ar, &w->gm.policy, &none,
						   &has_next, &excluded, why, sizeof(why)),
			 0);
	assert_false(has_next);
	assert_false(excluded);
	assert_int_equal(w->gm.policy.nteks, 2);	/* 0x600d until deleted or expired */
	assert_int_equal(w->gm.policy.teks[1].spi, 0x600e);
	assert_memory_equal(w->gm.policy.teks[1].key, next.teks[0].key, 28);
	gdoi_writer_free(&dg);
	gdoi_policy_clear(&next);
	gike2_rekey_sa_clear(&ks_rekey);
	gdoi_arena_free(ar);

	/* GSA_REGISTRATION on the same IKE SA: a fresh Sender-ID */
	struct gdoi_ike2_plist rq = { 0 };
	struct gdoi_ike2_result r = { 0 };
	assert_int_equal(gike2_gm_registration(&w->gm, &rq), 0);
	assert_int_equal(gdoi_ike2_send_request(w->gm_sa, GIKE2_EXCH_GSA_REGISTRATION, &rq, w->now, &r),
			 0);
	gdoi_ike2_plist_free(&rq);
	exchange(w, &r, true);
	assert_true(w->gm.registered);
	assert_int_equal(w->ks.registrations, 2);
	assert_int_equal(w->gm.policy.sids[0], 0x51001);
	assert_memory_equal(w->gm.policy.teks[0].key, w->policy.teks[0].key, 28);
}

static void test_unknown_group_refused(void **state)
{
	struct world *w = *state;
	w->gm.rq.idg.data = GDOI_BYTES("video", 5);
	register_gm(w);
	assert_false(w->gm.registered);
	assert_int_equal(w->ks.registrations, 0);
	assert_int_equal(w->gm_event, GDOI_IKE2_EV_FAILED);
	assert_int_equal(w->gm_notify, GIKE2_N_INVALID_GROUP_ID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gsa_auth_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_group_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
