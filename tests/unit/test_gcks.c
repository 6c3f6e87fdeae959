/*
 * test_gcks.c - the key-server engine (gdoi/gcks.h) without sockets: a member
 * built from the core's pieces (Phase 1 initiator, PULL member) registers
 * through it in memory; the engine routes Main Mode to its responder and PULL
 * to its PULL key server, answers each datagram to its sender, reports the
 * registration as an event, keeps its SA table on its own clock (the now of
 * each call) and drops a source over its flood limits, counting them.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "gdoi/pull.h"

#define GROUP 0x04d2

static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };
static const struct gdoi_addr gm_addr = { 4, { 127, 0, 0, 1 }, 1848 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const char psk[] = "gcks test key";

static struct {
	struct gdoi_p1_suite suite;
	struct gdoi_p1_psk gm_psk, ks_psk;
	struct gdoi_p1_config gm_cfg, ks_cfg;
	struct gdoi_policy policy;
	unsigned allowed_calls, admitted;
	uint16_t auth_seen;		/* the method peer_allowed was told */
	int64_t unix_seen;
} w;

static bool peer_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *a)
{
	(void)id; (void)a;
	assert_ptr_equal(ctx, &w);
	w.allowed_calls++;
	w.auth_seen = auth;
	return true;
}

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)member; (void)a;
	if (group != GROUP)
		return GDOI_ERR_NOT_FOUND;
	*p = &w.policy;
	return 0;
}

static int assign(void *ctx, uint32_t group, const struct gdoi_id *member, unsigned count, uint32_t *sids,
		  size_t *n)
{
	(void)ctx; (void)group; (void)member; (void)count; (void)sids;
	*n = 0;
	return 0;
}

static int admit(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a)
{
	(void)ctx; (void)group; (void)member;
	assert_memory_equal(a->ip, gm_ip, 4);
	w.admitted++;
	return 0;
}

static int setup(void **s)
{
	(void)s;
	memset(&w, 0, sizeof(w));
	w.suite = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14, GDOI_IKE_AUTH_PSK,
					  3600 };
	w.gm_psk = (struct gdoi_p1_psk){ .addr = ks_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	w.ks_psk = (struct gdoi_p1_psk){ .addr = gm_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	w.gm_cfg = (struct gdoi_p1_config){ .suites = &w.suite, .nsuites = 1, .psks = &w.gm_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(gm_ip, 4) } };
	w.ks_cfg = (struct gdoi_p1_config){ .suites = &w.suite, .nsuites = 1, .psks = &w.ks_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) },
		.peer_allowed = peer_allowed, .ctx = &w };
	w.policy.group_id = GROUP;
	struct gdoi_tek *t = &w.policy.teks[w.policy.nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 0x1234,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 1, 2, 3 } },
		.u.srtp = { .profile = 1, .flags = GDOI_SRTP_FLAG_SRTCP, .lifetime = 3600, .replay_window = 64 } };
	return gdoi_policy_generate_keys(&w.policy);
}

static int teardown(void **s)
{
	(void)s;
	gdoi_policy_clear(&w.policy);
	return 0;
}

static struct gdoi_gcks *new_engine(const struct gdoi_gcks_limits *lim)
{
	struct gdoi_gcks_cfg c = { .p1 = &w.ks_cfg,
		.pull = { .lookup = lookup, .assign_sids = assign, .admit = admit } };
	if (lim)
		c.limits = *lim;
	struct gdoi_gcks *k = gdoi_gcks_new(&c);
	assert_non_null(k);
	return k;
}

/* Feeds one datagram and returns the engine's only reply (copied; to the sender). */
static uint8_t *exchange(struct gdoi_gcks *k, const uint8_t *in, size_t len, struct gdoi_now now, size_t *olen)
{
	assert_int_equal(gdoi_gcks_input(k, in, len, &gm_addr, now), 0);
	struct gdoi_out o;
	assert_true(gdoi_gcks_next_out(k, &o));
	assert_memory_equal(&o.to, &gm_addr, sizeof(o.to));
	uint8_t *copy = malloc(o.len);
	assert_non_null(copy);
	memcpy(copy, o.buf, o.len);
	*olen = o.len;
	struct gdoi_out none;
	assert_false(gdoi_gcks_next_out(k, &none));
	return copy;
}

static bool has_event(struct gdoi_gcks *k, enum gdoi_gcks_event_type t, struct gdoi_gcks_event *got)
{
	struct gdoi_gcks_event ev;
	bool found = false;
	while (gdoi_gcks_next_event(k, &ev))
		if (ev.type == t && !found) {
			found = true;
			if (got)
				*got = ev;
		}
	return found;
}

/* Main Mode through the engine; returns the member's SA. */
static struct gdoi_p1_sa *phase1(struct gdoi_gcks *k, struct gdoi_now now)
{
	struct gdoi_p1_sa *gm = NULL;
	struct gdoi_p1_result r = { 0 };
	assert_int_equal(gdoi_p1_initiate(&w.gm_cfg, &ks_addr, now.mono_ms, &gm, &r), 0);
	for (int step = 0; step < 3; step++) {
		size_t len;
		uint8_t *reply = exchange(k, r.out, r.out_len, now, &len);
		gdoi_p1_result_clear(&r);
		gdoi_p1_input(gm, reply, len, now.mono_ms, &r);
		free(reply);
	}
	gdoi_p1_result_clear(&r);
	assert_true(gdoi_p1_established(gm));
	return gm;
}

static void test_gcks_registers_member_through_engine(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_engine(NULL);
	struct gdoi_now now = { .mono_ms = 1000, .unix_s = 1700000000 };
	struct gdoi_p1_sa *gm = phase1(k, now);
	struct gdoi_gcks_event ev;
	assert_true(has_event(k, GDOI_GCKS_EV_P1_ESTABLISHED, &ev));
	assert_true(ev.has_id);
	assert_int_equal(ev.id_type, GDOI_ID_IPV4_ADDR);
	assert_memory_equal(ev.id_data, gm_ip, 4);
	assert_int_equal(w.allowed_calls, 1);	/* the application's callback, through the engine */
	assert_int_equal(w.auth_seen, GDOI_IKE_AUTH_PSK);	/* with the negotiated method */
	assert_int_equal(gdoi_gcks_sa_count(k), 1);

	struct gdoi_pull_member_cfg mc = { .group_id = GROUP };
	struct gdoi_pull_member *pm = NULL;
	struct gdoi_pull_result pr = { 0 };
	assert_int_equal(gdoi_pull_member_start(gm, &mc, now.mono_ms, &pm, &pr), 0);
	for (int msg = 1; msg <= 3 && pr.event == GDOI_PULL_EV_NONE; msg += 2) {
		size_t len;
		uint8_t *reply = exchange(k, pr.out, pr.out_len, now, &len);
		gdoi_pull_result_clear(&pr);
		gdoi_pull_member_input(pm, reply, len, now.mono_ms, &pr);
		free(reply);
	}
	assert_int_equal(pr.event, GDOI_PULL_EV_INSTALLED);
	assert_int_equal(pr.policy->nteks, 1);
	assert_memory_equal(pr.policy->teks[0].key, w.policy.teks[0].key, w.policy.teks[0].key_len);
	assert_true(has_event(k, GDOI_GCKS_EV_REGISTERED, &ev));
	assert_int_equal(ev.group_id, GROUP);
	assert_memory_equal(ev.id_data, gm_ip, 4);
	assert_memory_equal(&ev.peer, &gm_addr, sizeof(gm_addr));
	assert_int_equal(w.admitted, 1);
	assert_int_equal(gdoi_gcks_stats(k)->registrations, 1);
	assert_int_equal(gdoi_gcks_stats(k)->dropped, 0);
	gdoi_pull_policy_free(pr.policy);
	pr.policy = NULL;
	gdoi_pull_result_clear(&pr);
	gdoi_pull_member_free(pm);

	/* the SA table expires on the time given, nothing else: one hour of lifetime */
	gdoi_gcks_timer(k, (struct gdoi_now){ .mono_ms = now.mono_ms + 60000, .unix_s = now.unix_s + 60 });
	assert_int_equal(gdoi_gcks_sa_count(k), 1);
	assert_true(gdoi_gcks_deadline(k) > now.mono_ms + 60000);
	gdoi_gcks_timer(k, (struct gdoi_now){ .mono_ms = now.mono_ms + 3601000, .unix_s = now.unix_s + 3601 });
	assert_int_equal(gdoi_gcks_sa_count(k), 0);
	gdoi_p1_free(gm);
	gdoi_gcks_free(k);
}

static void test_gcks_drops_sources_over_flood_limits(void **s)
{
	(void)s;
	struct gdoi_gcks_limits lim = { .mm1_per_s = 2, .mm1_burst = 3, .junk_per_s = 1, .junk_burst = 2 };
	struct gdoi_gcks *k = new_engine(&lim);
	struct gdoi_now now = { .mono_ms = 5000, .unix_s = 1700000000 };
	struct gdoi_p1_result r = { 0 };
	struct gdoi_p1_sa *gm = NULL;
	assert_int_equal(gdoi_p1_initiate(&w.gm_cfg, &ks_addr, now.mono_ms, &gm, &r), 0);
	struct gdoi_out o;
	/* burst of 3 MM1 answered, the 4th dropped unread */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gdoi_gcks_input(k, r.out, r.out_len, &gm_addr, now), 0);
		assert_true(gdoi_gcks_next_out(k, &o));
	}
	assert_int_equal(gdoi_gcks_input(k, r.out, r.out_len, &gm_addr, now), GDOI_ERR_LIMIT);
	assert_false(gdoi_gcks_next_out(k, &o));
	struct gdoi_gcks_event ev = { 0 };
	assert_true(has_event(k, GDOI_GCKS_EV_DROPPED, &ev));
	assert_true(ev.limited);
	assert_int_equal(gdoi_gcks_stats(k)->mm1_limited, 1);
	/* another source is not affected */
	struct gdoi_addr other = { 4, { 127, 0, 0, 9 }, 500 };
	assert_int_equal(gdoi_gcks_input(k, r.out, r.out_len, &other, now), 0);
	assert_true(gdoi_gcks_next_out(k, &o));
	/* half a second later one more token (2 per second) */
	now.mono_ms += 500;
	assert_int_equal(gdoi_gcks_input(k, r.out, r.out_len, &gm_addr, now), 0);
	assert_true(gdoi_gcks_next_out(k, &o));

	/* junk: two dropped datagrams empty the bucket, then the source is not parsed */
	uint8_t junk[40];
	memset(junk, 0xee, sizeof(junk));
	junk[17] = 0x10;
	assert_true(gdoi_gcks_input(k, junk, sizeof(junk), &gm_addr, now) < 0);
	assert_true(gdoi_gcks_input(k, junk, sizeof(junk), &gm_addr, now) < 0);
	assert_int_equal(gdoi_gcks_stats(k)->junk_limited, 0);
	assert_int_equal(gdoi_gcks_input(k, r.out, r.out_len, &gm_addr, now), GDOI_ERR_LIMIT);
	assert_int_equal(gdoi_gcks_stats(k)->junk_limited, 1);
	assert_true(has_event(k, GDOI_GCKS_EV_DROPPED, &ev));
	assert_int_equal(gdoi_gcks_stats(k)->datagrams, 9);
	assert_int_equal(gdoi_gcks_stats(k)->dropped, 4);
	gdoi_p1_result_clear(&r);
	gdoi_p1_free(gm);
	gdoi_gcks_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gcks_registers_member_through_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gcks_drops_sources_over_flood_limits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
