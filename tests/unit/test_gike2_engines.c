/*
 * test_gike2_engines.c - the G-IKEv2 engines (gdoi/gike2_gcks.h,
 * gdoi/gike2_member.h) against each other in memory, datagrams carried
 * between their queues: GSA_AUTH through the GCKS's group lookup gives the
 * member exactly the key server's TEK keys and the Sender-IDs it allocated,
 * as the GDOI member's events and TEK set; a signed GSA_REKEY arrives by
 * multicast and is applied, its replay is refused; a re-registration by
 * GSA_REGISTRATION brings fresh Sender-IDs; an unknown group is refused with
 * INVALID_GROUP_ID and the member backs off.
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

static void test_gsa_auth_rekey_reregister(void **state)
{
	(void)state;
	struct world *w = gw_world_new("audio");
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	struct gdoi_member_event ev;
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(ev.nteks, 1);
	assert_true(ev.has_kek);
	assert_int_equal(ev.nsids, 2);
	assert_int_equal(ev.sids[0], 0x52000);
	assert_int_equal(ev.sids[1], 0x52001);
	/* the TEK set the sidecar reads: the key server's key, every octet */
	const struct gdoi_member_teks *t = gike2_member_teks(w->gm);
	assert_non_null(t->pol);
	const struct gdoi_live_tek *l = gw_live(t, 0x700d);
	assert_non_null(l);
	assert_int_equal(l->tek.key_len, 28);
	assert_memory_equal(l->tek.key, w->policy.teks[0].key, 28);
	assert_int_equal(t->pol->nsids, 2);
	assert_int_equal(t->pol->sids[1], 0x52001);
	struct gdoi_addr mc;
	assert_true(gike2_member_rekey_dst(w->gm, &mc));
	assert_int_equal(mc.port, 18631);
	assert_int_equal(mc.ip[0], 239);

	struct gike2_gcks_event kev;
	bool reg = false;
	while (gike2_gcks_engine_next_event(w->ks, &kev))
		if (kev.type == GIKE2_GCKS_EV_REGISTERED) {
			reg = true;
			assert_int_equal(kev.exchange, GIKE2_EXCH_GSA_AUTH);
			assert_int_equal(kev.nsids, 2);
			assert_int_equal(kev.sids[0], 0x52000);
			assert_int_equal(kev.idg_len, 5);
			assert_memory_equal(kev.idg, "audio", 5);
			assert_string_equal(kev.id, "gm.example");
		}
	assert_true(reg);
	assert_int_equal(gike2_gcks_engine_stats(w->ks)->registrations, 1);

	/* a GSA_REKEY by multicast: new TEK 0x700e, signed under the Rekey SA */
	struct gdoi_policy next = w->policy;
	next.teks[0].spi = 0x700e;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	struct gdoi_writer dg;
	gdoi_writer_init(&dg);
	gw_rekey_dg(w, &next, NULL, 0, &dg);
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 0);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	l = gw_live(t, 0x700e);
	assert_non_null(l);
	assert_memory_equal(l->tek.key, next.teks[0].key, 28);
	assert_non_null(gw_live(t, 0x700d));
	/* the same datagram again: a replayed Message ID */
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 GDOI_ERR_REPLAY);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_DROPPED, &ev));
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_PUSH);
	/* one octet changed: refused before anything is applied */
	gdoi_writer_free(&dg);
	gdoi_writer_init(&dg);
	next.teks[0].spi = 0x700f;
	gw_rekey_dg(w, &next, NULL, 0, &dg);
	dg.buf[dg.len - 1] ^= 1;
	assert_true(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
				       w->now) < 0);
	assert_null(gw_live(t, 0x700f));
	gdoi_writer_free(&dg);
	gdoi_policy_clear(&next);

	/* fresh Sender-IDs: GSA_REGISTRATION on the same IKE SA */
	w->now.mono_ms += 2000;
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);
	gw_pump(w);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(ev.sids[0], 0x52002);
	assert_int_equal(gike2_gcks_engine_stats(w->ks)->registrations, 2);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 1);
	assert_int_equal(w->lookups, 2);
	assert_memory_equal(gw_live(t, 0x700d)->tek.key, w->policy.teks[0].key, 28);
	gw_world_free(w);
}

/* A TEK like `like` (same destination and profile) with SPI spi, fresh keys and lifetime life. */
static struct gdoi_tek new_tek(const struct gdoi_tek *like, uint32_t spi, uint32_t life)
{
	struct gdoi_policy p;
	memset(&p, 0, sizeof(p));
	p.nteks = 1;
	p.teks[0] = *like;
	p.teks[0].spi = spi;
	p.teks[0].u.srtp.lifetime = life;
	p.teks[0].have_keys = false;
	assert_int_equal(gdoi_policy_generate_keys(&p), 0);
	struct gdoi_tek t = p.teks[0];
	gdoi_policy_clear(&p);
	return t;
}

/* The GSA_REKEY the key server sends for its policy p (keyserver/rekey_ikev2.c: every
 * TEK it holds, the previous generation with what is left of its DTD) and Delete del. */
static void gsa_rekey(struct world *w, const struct gdoi_policy *p, const uint32_t *del, size_t ndel)
{
	struct gdoi_writer dg;
	gdoi_writer_init(&dg);
	gw_rekey_dg(w, p, del, ndel, &dg);
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 0);
	gdoi_writer_free(&dg);
}

/* The key server's TEKs at a rekey at time at: its current TEK (ks->teks[1]) becomes the
 * previous generation with 30 s (the DTD) left, next to a new one, SPI spi, 120 s. */
static void next_generation(struct world *w, struct gdoi_policy *ks, uint32_t spi, int64_t at)
{
	w->now.mono_ms += (uint64_t)(at - w->now.unix_s) * 1000;
	w->now.unix_s = at;
	ks->teks[0] = ks->teks[1];
	ks->teks[0].u.srtp.lifetime = 30;
	ks->teks[1] = new_tek(&ks->teks[0], spi, 120);
}

struct want {
	uint32_t spi;
	int64_t not_before, not_after;
};

/* The live TEKs, in order, with their times. */
static void expect_live(const struct gdoi_member_teks *t, const struct want *w, size_t n)
{
	bool same = t->nlive == n;
	for (size_t i = 0; same && i < n; i++)
		same = t->live[i].tek.spi == w[i].spi && t->live[i].not_before == w[i].not_before &&
		       t->live[i].not_after == w[i].not_after;
	for (size_t i = 0; !same && i < t->nlive && i < n; i++)
		print_message("# live[%zu] SPI 0x%x %lld..%lld (want 0x%x %lld..%lld)\n", i,
			      (unsigned)t->live[i].tek.spi, (long long)t->live[i].not_before,
			      (long long)t->live[i].not_after, (unsigned)w[i].spi,
			      (long long)w[i].not_before, (long long)w[i].not_after);
	assert_int_equal(t->nlive, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t->live[i].tek.spi, w[i].spi);
		assert_int_equal(t->live[i].not_before, w[i].not_before);
		assert_int_equal(t->live[i].not_after, w[i].not_after);
	}
}

/*
 * GSA_REKEYs as the key server sends them (all its TEKs, the previous generation with
 * the rest of its DTD; a Delete only for a generation still held) leave the member the
 * TEKs, order and times a GDOI member gets from the GROUPKEY-PUSHes of the same rekeys
 * (gdoi/member_teks.h): a new TEK from receipt + ATD, the one it replaces until receipt
 * + DTD, a deleted one gone by then. Before, the G-IKEv2 member took a GSA_REKEY as a
 * registration: new TEKs at once (so a rekey in the registration's second sorted them
 * by SPI, not by activation), and a replaced TEK the key server later dropped without
 * a Delete (its DTD over) stayed until its own lifetime.
 */
static void test_gsa_rekey_times_as_gdoi_push(void **state)
{
	(void)state;
	struct world *w = gw_world_new("audio");
	w->policy.has_gap = true;
	w->policy.atd = 5;
	w->policy.dtd = 30;
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	const struct gdoi_member_teks *t = gike2_member_teks(w->gm);
	const int64_t t0 = w->now.unix_s;
	const struct gdoi_tek a = w->policy.teks[0];	/* 0x700d, 120 s */
	expect_live(t, (struct want[]){ { 0x700d, t0, t0 + 120 } }, 1);

	/* rekey 1 in the registration's second: B, A kept for the DTD */
	struct gdoi_policy ks = w->policy;
	ks.nteks = 2;
	ks.teks[1] = a;
	next_generation(w, &ks, 0x7001, t0);
	gsa_rekey(w, &ks, NULL, 0);
	expect_live(t, (struct want[]){ { 0x700d, t0, t0 + 30 }, { 0x7001, t0 + 5, t0 + 120 } }, 2);

	/* rekey 2 two seconds later (a restarted key server): C, B kept, A deleted */
	next_generation(w, &ks, 0x7002, t0 + 2);
	uint32_t del = 0x700d;
	gsa_rekey(w, &ks, &del, 1);
	expect_live(t, (struct want[]){ { 0x700d, t0, t0 + 30 }, { 0x7001, t0 + 5, t0 + 32 },
					{ 0x7002, t0 + 7, t0 + 122 } }, 3);

	/* B's DTD over: gone (the key server drops it from its policy, no Delete) */
	w->now.mono_ms += 30000;
	w->now.unix_s = t0 + 32;
	gike2_member_timer(w->gm, w->now);
	expect_live(t, (struct want[]){ { 0x7002, t0 + 7, t0 + 122 } }, 1);

	/* rekey 3: D, C kept; B does not come back */
	next_generation(w, &ks, 0x7003, t0 + 40);
	gsa_rekey(w, &ks, NULL, 0);
	expect_live(t, (struct want[]){ { 0x7002, t0 + 7, t0 + 70 }, { 0x7003, t0 + 45, t0 + 160 } },
		    2);

	/* the same TEKs again (as a KEK rotation's GSA_REKEY lists them): nothing moves, and
	 * no KEYS_CHANGED (no new snapshot version: a GDOI member reports none either) */
	struct gdoi_member_event ev;
	(void)gw_member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev);
	w->now.unix_s++;
	gsa_rekey(w, &ks, NULL, 0);
	assert_false(gw_member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	expect_live(t, (struct want[]){ { 0x7002, t0 + 7, t0 + 70 }, { 0x7003, t0 + 45, t0 + 160 } },
		    2);
	gdoi_wipe(&ks, sizeof(ks));
	gw_world_free(w);
}

static void test_unknown_group(void **state)
{
	(void)state;
	struct world *w = gw_world_new("video");
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_WAITING);
	/* a refusal of the group is no failover: the group backs off with this GCKS */
	struct gdoi_member_event evs[8];
	size_t nev = 0;
	while (nev < 8 && gike2_member_next_event(w->gm, &evs[nev]))
		nev++;
	bool logged = false;
	for (size_t i = 0; i < nev; i++) {
		assert_int_not_equal(evs[i].type, GDOI_MEMBER_EV_FAILOVER);
		logged |= evs[i].type == GDOI_MEMBER_EV_LOG && strstr(evs[i].text, "refused (notify 45)");
	}
	assert_true(logged);
	assert_null(gike2_member_teks(w->gm)->pol);
	assert_true(gike2_member_deadline(w->gm) >= w->now.mono_ms + 1000);
	struct gike2_gcks_event kev;
	bool refused = false;
	while (gike2_gcks_engine_next_event(w->ks, &kev)) {
		assert_int_not_equal(kev.type, GIKE2_GCKS_EV_REGISTERED);
		if (kev.type == GIKE2_GCKS_EV_REFUSED) {
			refused = true;
			assert_int_equal(kev.notify, GIKE2_N_INVALID_GROUP_ID);
		}
	}
	assert_true(refused);
	assert_int_equal(gike2_gcks_engine_stats(w->ks)->refusals, 1);
	gw_world_free(w);
}

/* A GCKS that cannot serve now (its state unreachable) answers TEMPORARY_FAILURE, and
 * the GM takes that as a failed attempt with this GCKS (a failover), not as a refusal. */
static void test_unavailable_gcks_is_a_failover(void **state)
{
	(void)state;
	struct world *w = gw_world_new("audio");
	w->unavailable = true;
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_WAITING);
	struct gdoi_member_event ev;
	bool failover = false;
	while (gike2_member_next_event(w->gm, &ev))
		failover |= ev.type == GDOI_MEMBER_EV_FAILOVER && strstr(ev.text, "(notify 43)");
	assert_true(failover);
	assert_null(gike2_member_teks(w->gm)->pol);
	struct gike2_gcks_event kev;
	bool refused = false;
	while (gike2_gcks_engine_next_event(w->ks, &kev))
		if (kev.type == GIKE2_GCKS_EV_REFUSED) {
			refused = true;
			assert_int_equal(kev.notify, GDOI_IKE2_N_TEMPORARY_FAILURE);
		}
	assert_true(refused);
	gw_world_free(w);
}

/* An allocator of key-holding memory that knows what it gave (as the daemons' mlocked
 * pages, daemon/harden.c): releasing anything else is a failure. */
static void *secrets[64];
static void *secret_alloc(size_t n)
{
	for (size_t i = 0; i < 64; i++)
		if (!secrets[i])
			return secrets[i] = calloc(1, n);
	fail_msg("too many secrets");
	return NULL;
}
static void secret_release(void *p, size_t n)
{
	(void)n;
	for (size_t i = 0; i < 64; i++)
		if (secrets[i] == p) {
			secrets[i] = NULL;
			free(p);
			return;
		}
	fail_msg("released key memory the secret allocator did not give");
}

/* The registration's policy (its TEK keys) lives in key-holding memory, released
 * there when a re-registration replaces it and when the engine goes. */
static void test_policy_in_secret_memory(void **state)
{
	(void)state;
	gdoi_secret_set_allocator(secret_alloc, secret_release);
	struct world *w = gw_world_new("audio");
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);	/* GSA_REGISTRATION */
	gw_pump(w);
	assert_int_equal(gike2_member_stats(w->gm)->registrations, 2);
	gw_world_free(w);
	gdoi_secret_set_allocator(NULL, NULL);
	for (size_t i = 0; i < 64; i++)
		assert_null(secrets[i]);
}

/* Lets the member's datagrams go unanswered until a FAILOVER event; how many were sent. */
static unsigned until_failover(struct world *w, const struct gdoi_addr *to)
{
	struct gdoi_member_event ev;
	struct gdoi_out o;
	unsigned sent = 0;
	for (int i = 0; i < 60; i++) {
		while (gike2_member_next_out(w->gm, &o)) {
			assert_memory_equal(&o.to, to, sizeof(*to));
			sent++;
		}
		if (gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev)) {
			assert_non_null(strstr(ev.text, "failed (notify 0)"));
			return sent;
		}
		w->now.mono_ms += 1000;
		gike2_member_timer(w->gm, w->now);
	}
	fail_msg("no FAILOVER event");
	return 0;
}

/* Failover (docs/sidecar.md): a key server that does not answer is a FAILOVER event,
 * and the next attempt goes where gike2_member_set_ks says, not before its time; a
 * registered member whose GSA_REGISTRATION goes unanswered keeps its TEKs and
 * registers again with the next key server. */
static void test_failover(void **state)
{
	(void)state;
	static const struct gdoi_addr KS2 = { 4, { 127, 0, 0, 2 }, 18620 };
	struct world *w = gw_world_new("audio");
	gike2_member_set_ks(w->gm, &KS2, 0);
	gike2_member_timer(w->gm, w->now);
	assert_int_equal(until_failover(w, &KS2), 5);	/* the core's max_transmits */
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_WAITING);
	uint64_t at = w->now.mono_ms + 500;
	gike2_member_set_ks(w->gm, &GW_KS_ADDR, at);
	assert_int_equal(gike2_member_deadline(w->gm), at);
	w->now.mono_ms = at - 1;
	gike2_member_timer(w->gm, w->now);
	struct gdoi_out o;
	assert_false(gike2_member_next_out(w->gm, &o));
	w->now.mono_ms = at;
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	struct gdoi_member_event ev;
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));

	/* the key server dies: the GSA_REGISTRATION on the IKE SA is never answered */
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);
	assert_int_equal(until_failover(w, &GW_KS_ADDR), 5);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_non_null(gw_live(gike2_member_teks(w->gm), 0x700d));	/* the keys stay */
	at = w->now.mono_ms + 100;
	gike2_member_set_ks(w->gm, &GW_KS_ADDR, at);	/* "the next one": the same, for pump */
	assert_int_equal(gike2_member_deadline(w->gm), at);
	w->now.mono_ms = at;
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_true(gw_member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(gike2_member_stats(w->gm)->registrations, 2);
	gw_world_free(w);
}

/* Near expiry: 2 s before the TEK's end, the GSA_REGISTRATION's retransmissions are
 * spaced 250 ms (an eighth of what is left, at least 250 ms), not 500 ms doubling, so
 * an unanswered key server is given up on within 1.25 s, before the TEK ends. */

static void test_near_expiry_retransmit(void **state)
{
	(void)state;
	struct world *w = gw_registered(false, false, 0);
	struct gdoi_member_event ev;
	const struct gdoi_live_tek *l = gw_live(gike2_member_teks(w->gm), 0x700d);
	assert_non_null(l);
	w->now.unix_s = l->not_after - 2;
	uint64_t t0 = w->now.mono_ms;
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);
	unsigned sent = 0;
	struct gdoi_out o;
	bool failed = false;
	while (!failed && w->now.mono_ms < t0 + 20000) {
		while (gike2_member_next_out(w->gm, &o))
			sent++;
		failed = gw_member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev);
		w->now.mono_ms += 50;
		gike2_member_timer(w->gm, w->now);
	}
	assert_true(failed);
	assert_int_equal(sent, 5);
	assert_true(w->now.mono_ms - t0 <= 1300);
	gw_world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gsa_auth_rekey_reregister),
		cmocka_unit_test(test_gsa_rekey_times_as_gdoi_push),
		cmocka_unit_test(test_unknown_group),
		cmocka_unit_test(test_unavailable_gcks_is_a_failover),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_policy_in_secret_memory),
		cmocka_unit_test(test_near_expiry_retransmit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
