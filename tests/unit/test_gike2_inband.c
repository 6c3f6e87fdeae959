/*
 * test_gike2_inband.c - the G-IKEv2 engines in memory (tests/lib/gike2_world.h),
 * GSA_INBAND_REKEY (RFC 9838 §2.4.2~) over the member's IKE SA: new TEKs
 * and a Delete applied and answered with an empty SK{}; a lost answer's
 * retransmission answered from the member's cache and applied once; a
 * request under another Message ID dropped; a member that never answers
 * loses its IKE SA; an evicted member's IKE SA deleted; the IKE SA lifetime.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/arena.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gike2_gcks.h"
#include "gdoi/gike2_member.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/numbers.h"
#include "gdoi/secret.h"
#include "tests/lib/certgen.h"
#include "tests/lib/gike2_fixture.h"
#include "tests/lib/gike2_world.h"

static void test_inband_round_trip(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_member_event ev;
	while (gike2_member_next_event(w->gm, &ev))
		;
	assert_int_equal(gw_inband(w, &next), 1);
	gw_pump(w);
	/* the new TEK, every octet of its key, and the old one deleted */
	const struct gdoi_member_teks *t = gike2_member_teks(w->gm);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	assert_non_null(strstr(ev.text, "GSA_INBAND_REKEY applied"));
	const struct gdoi_live_tek *l = gw_live(t, 0x700e);
	assert_non_null(l);
	assert_memory_equal(l->tek.key, next.teks[0].key, 28);
	assert_int_equal(t->pol->nteks, 1);
	assert_int_equal(t->pol->teks[0].spi, 0x700e);
	assert_int_equal(t->pol->nsids, 2);	/* its Sender-IDs stay */
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 1);
	struct gike2_gcks_event kev;
	assert_true(gw_ks_event(w, GIKE2_GCKS_EV_INBAND_ANSWERED, &kev));
	assert_int_equal(kev.notify, 0);
	/* a second one on the same IKE SA: the next Message ID */
	next.teks[0].spi = 0x700f;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	assert_int_equal(gw_inband(w, &next), 1);
	/* a third before the second is answered waits for the window */
	assert_int_equal(gw_inband(w, &next), 1);
	gw_pump(w);
	assert_non_null(gw_live(t, 0x700f));
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 3);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

static void test_inband_retransmit_duplicate_wrong_mid(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_out o[4];
	uint8_t req[4][2048], rex[4][2048], ans[4][2048], ans2[4][2048];
	size_t rl[4], xl[4], al[4], al2[4];
	assert_int_equal(gw_inband(w, &next), 1);
	assert_int_equal(gw_take(o, 4, true, w, req, rl), 1);
	assert_int_equal(req[0][18], GIKE2_EXCH_GSA_INBAND_REKEY);
	assert_int_equal(req[0][19] & GDOI_IKE2_FLAG_RESPONSE, 0);
	/* lost: the GCKS sends it again after its retransmission timer */
	assert_true(gike2_gcks_engine_deadline(w->ks) > 0);
	w->now.mono_ms += 600;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gw_take(o, 4, true, w, rex, xl), 1);
	assert_int_equal(xl[0], rl[0]);
	assert_memory_equal(rex[0], req[0], rl[0]);
	/* a copy under another Message ID: dropped, nothing applied, no answer */
	uint8_t bad[2048];
	memcpy(bad, req[0], rl[0]);
	bad[23] ^= 1;
	assert_true(gike2_member_input(w->gm, bad, rl[0], &GW_KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now) < 0);
	assert_int_equal(gw_take(o, 4, false, w, ans, al), 0);
	assert_null(gw_live(gike2_member_teks(w->gm), 0x700e));
	/* the first copy: applied and answered; its answer lost */
	assert_int_equal(gike2_member_input(w->gm, req[0], rl[0], &GW_KS_ADDR, GDOI_MEMBER_VIA_UNICAST,
					    w->now),
			 0);
	assert_int_equal(gw_take(o, 4, false, w, ans, al), 1);
	assert_true(ans[0][19] & GDOI_IKE2_FLAG_RESPONSE);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x700e));
	/* the retransmission: the cached answer again, octet for octet, applied once */
	(void)gike2_member_input(w->gm, rex[0], xl[0], &GW_KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now);
	assert_int_equal(gw_take(o, 4, false, w, ans2, al2), 1);
	assert_int_equal(al2[0], al[0]);
	assert_memory_equal(ans2[0], ans[0], al[0]);
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 1);
	/* the GCKS takes the answer once */
	assert_int_equal(gike2_gcks_engine_input(w->ks, ans[0], al[0], &GW_GM_ADDR, w->now), 0);
	assert_true(gike2_gcks_engine_input(w->ks, ans2[0], al2[0], &GW_GM_ADDR, w->now) < 0);
	struct gike2_gcks_event kev;
	assert_true(gw_ks_event(w, GIKE2_GCKS_EV_INBAND_ANSWERED, &kev));
	w->now.mono_ms += 60000;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_false(gike2_gcks_engine_next_out(w->ks, &o[0]));	/* nothing outstanding */
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

static void test_inband_no_answer(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_out o;
	assert_int_equal(gw_inband(w, &next), 1);
	unsigned sent = 0;
	struct gike2_gcks_event kev;
	bool closed = false;
	for (int i = 0; i < 20 && !closed; i++) {
		while (gike2_gcks_engine_next_out(w->ks, &o))
			sent++;	/* never delivered */
		w->now.mono_ms += 10000;
		gike2_gcks_engine_timer(w->ks, w->now);
		closed = gw_ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev);
	}
	assert_true(closed);
	assert_non_null(strstr(kev.reason, "no answer"));
	assert_int_equal(sent, 5);	/* the core's max_transmits */
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 0);
	assert_int_equal(gw_inband(w, &next), 0);	/* nobody left */
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

static void test_inband_delete_peer(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_member_event ev;
	while (gike2_member_next_event(w->gm, &ev))
		;
	struct gdoi_ike2_id other = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm2.example", 11) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &other, w->now), 0);
	struct gdoi_ike2_id id = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &id, w->now), 1);
	gw_pump(w);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_non_null(strstr(ev.text, "deleted the IKE SA: registering again, with the next key server"));
	/* no Rekey SA: the IKE SA was its only rekey path, so it registers again (with the
	 * next key server the application names; this one, unless it does) */
	assert_int_equal(gike2_member_deadline(w->gm), w->now.mono_ms + 1000);
	struct gike2_gcks_event kev;
	assert_true(gw_ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev));
	assert_non_null(strstr(kev.reason, "evicted"));
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	assert_int_equal(gw_inband(w, &next), 0);	/* no further keys */
	assert_null(gw_live(gike2_member_teks(w->gm), 0x700e));
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

/* After a Delete the member registers again no sooner than its backoff, wherever
 * the application points it; but once that attempt fails (its key server gone), the
 * next key server is tried when the application says, not a backoff later. */
static void test_backoff_after_delete_is_a_floor_not_a_delay(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_member_event ev;
	struct gdoi_out o;
	struct gdoi_ike2_id id = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &id, w->now), 1);
	gw_pump(w);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	gike2_member_set_ks(w->gm, &GW_KS_ADDR, w->now.mono_ms);	/* "at once" */
	assert_int_equal(gike2_member_deadline(w->gm), w->now.mono_ms + 1000);
	w->now.mono_ms += 1000;
	gike2_member_timer(w->gm, w->now);
	bool failed = false;
	for (int i = 0; i < 200 && !failed; i++) {	/* the key server answers no more */
		while (gike2_member_next_out(w->gm, &o))
			;
		failed = gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev);
		if (!failed) {
			w->now.mono_ms += 100;
			gike2_member_timer(w->gm, w->now);
		}
	}
	assert_true(failed);
	gike2_member_set_ks(w->gm, &GW_KS_ADDR, w->now.mono_ms);
	assert_int_equal(gike2_member_deadline(w->gm), w->now.mono_ms);
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

/* gikev2_rekey = both: a GSA_INBAND_REKEY hands over a new Rekey SA with its
 * AUTH_KEY (as a registration does), under which the next GSA_REKEY is
 * accepted; a multicast-only member gets no GSA_INBAND_REKEY at all. */
static void test_inband_new_rekey_sa(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_registered(false, false, 0);
	assert_int_equal(gw_inband(w, &w->policy), 0);	/* multicast only */
	gw_world_free(w);
	w = gw_registered(false, true, 0);
	next = w->policy;
	next.teks[0].spi = 0x700e;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	struct gike2_gcks_inband r = { .tag = 7, .policy = &next };

	struct gike2_rekey_sa nr = w->rekey;
	assert_int_equal(gdoi_random(nr.spi, sizeof(nr.spi)), 0);
	uint8_t km[36];
	assert_int_equal(gdoi_random(km, sizeof(km)), 0);
	assert_int_equal(gike2_rekey_set_keys(&nr, GDOI_BYTES(km, sizeof(km))), 0);
	nr.msgid = 5;
	r.rekey = &nr;
	r.signer = w->signer;
	assert_int_equal(gike2_gcks_engine_inband_rekey(w->ks, &r, w->now), 1);
	gw_pump(w);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x700e));
	/* a GSA_REKEY under the new Rekey SA, Message ID 5, signed by the GCKS */
	next.teks[0].spi = 0x7010;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	struct gdoi_arena *ar = gdoi_arena_new();
	struct gike2_pl pl[3];
	size_t n = 0;
	assert_int_equal(gike2_rekey_content_build(&next, &nr, NULL, w->signer, NULL, 0, ar, pl, 3, &n), 0);
	struct gdoi_writer dg;
	gdoi_writer_init(&dg);
	assert_int_equal(gike2_rekey_build(&nr, pl, n, w->signer, &dg), 0);
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 0);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x7010));
	/* and one under the old Rekey SA is no longer taken */
	gdoi_writer_free(&dg);
	gdoi_writer_init(&dg);
	next.teks[0].spi = 0x7011;
	n = 0;
	w->rekey.msgid = 9;
	assert_int_equal(gike2_rekey_content_build(&next, &w->rekey, NULL, w->signer, NULL, 0, ar, pl,
						   3, &n),
			 0);
	assert_int_equal(gike2_rekey_build(&w->rekey, pl, n, w->signer, &dg), 0);
	assert_true(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
				       w->now) < 0);
	assert_null(gw_live(gike2_member_teks(w->gm), 0x7011));
	gdoi_writer_free(&dg);
	gdoi_arena_free(ar);
	gike2_rekey_sa_clear(&nr);
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

/* A member with a Rekey SA whose IKE SA the GCKS deletes keeps its keys and
 * waits for GSA_REKEY: nothing is due (a deadline in the past made the
 * sidecar spin at full CPU, deaf to SIGTERM). */
static void test_deleted_with_rekey_sa_idle(void **state)
{
	(void)state;
	struct world *w = gw_registered(false, false, 0);
	struct gdoi_ike2_id id = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &id, w->now), 1);
	gw_pump(w);
	assert_int_equal(gike2_member_deadline(w->gm), 0);
	gike2_member_timer(w->gm, w->now);
	struct gdoi_out o;
	assert_false(gike2_member_next_out(w->gm, &o));	/* no new GSA_AUTH */
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x700d));
	gw_world_free(w);
}

/* A member that starts over (a new IKE SA with INITIAL_CONTACT, RFC 7296
 * §2.4) replaces its older IKE SA: only the new one gets GSA_INBAND_REKEY. */
static void test_inband_initial_contact(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	gike2_member_free(w->gm);	/* restarted: its IKE SA is lost */
	w->gm_ike.initial_contact = true;
	struct gike2_member_cfg mc = { .ike = &w->gm_ike, .ks = GW_KS_ADDR, .name = "audio",
				       .group = { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) } };
	w->gm = gike2_member_new(&mc);
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 1);
	assert_int_equal(gw_inband(w, &next), 1);
	gw_pump(w);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x700e));
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

static void test_inband_sa_lifetime(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(30, &next);
	gike2_gcks_engine_timer(w->ks, w->now);
	uint64_t d = gike2_gcks_engine_deadline(w->ks);
	assert_true(d > w->now.mono_ms && d <= w->now.mono_ms + 30000);
	w->now.mono_ms += 29000;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	w->now.mono_ms += 1000;
	gike2_gcks_engine_timer(w->ks, w->now);
	struct gike2_gcks_event kev;
	assert_true(gw_ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev));
	assert_non_null(strstr(kev.reason, "lifetime"));
	gw_pump(w);	/* the Delete reaches the member */
	struct gdoi_member_event ev;
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

/* Shutdown: every established IKE SA deleted at once, without SA_CLOSED events (the
 * key server logs one line); the member is told and registers again elsewhere. */
static void test_gcks_delete_all(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = gw_inband_world(0, &next);
	struct gdoi_member_event ev;
	struct gike2_gcks_event kev;
	while (gike2_member_next_event(w->gm, &ev))
		;
	while (gike2_gcks_engine_next_event(w->ks, &kev))
		;
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	assert_int_equal(gike2_gcks_engine_delete_all(w->ks, w->now), 1);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	assert_false(gike2_gcks_engine_next_event(w->ks, &kev));
	gw_pump(w);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_non_null(strstr(ev.text, "the GCKS deleted the IKE SA"));
	assert_int_equal(gike2_gcks_engine_delete_all(w->ks, w->now), 0);	/* none left */
	assert_non_null(gike2_member_teks(w->gm)->pol);	/* its keys stay */
	gdoi_policy_clear(&next);
	gw_world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inband_round_trip),
		cmocka_unit_test(test_inband_retransmit_duplicate_wrong_mid),
		cmocka_unit_test(test_inband_no_answer),
		cmocka_unit_test(test_inband_delete_peer),
		cmocka_unit_test(test_backoff_after_delete_is_a_floor_not_a_delay),
		cmocka_unit_test(test_inband_sa_lifetime),
		cmocka_unit_test(test_inband_initial_contact),
		cmocka_unit_test(test_deleted_with_rekey_sa_idle),
		cmocka_unit_test(test_inband_new_rekey_sa),
		cmocka_unit_test(test_gcks_delete_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
