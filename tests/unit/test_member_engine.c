/*
 * test_member_engine.c - the member engine (gdoi/member.h) against the
 * key-server engine (gdoi/gcks.h) in memory, no sockets: the two exchange the
 * datagrams of their queues. Registration (Phase 1, GROUPKEY-PULL, TEKs
 * installed, the event), a push applied and one under an unknown KEK, failover
 * from a silent key server on a fake clock and from one that answers UNAVAILABLE
 * (its state unreachable: the next key server, not a group refusal), the refusal
 * backoff of a group,
 * junk counted by reason, and RFC 8263 acknowledgements: a unicast push that
 * asks for one is acknowledged to the key server (which verifies it), a
 * resent duplicate is acknowledged again, a KEK rotation is acknowledged under
 * the outgoing KEK, and multicast pushes or pushes from another address get none.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/member.h"
#include "gdoi/numbers.h"
#include "gdoi/policy.h"
#include "tests/lib/push_group.h"

#define GROUP 0x04d2

static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };
static const struct gdoi_addr gm_addr = { 4, { 127, 0, 0, 1 }, 1848 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const struct gdoi_addr silent_addr = { 4, { 127, 0, 0, 3 }, 848 };
static const char psk[] = "member engine test key";

static struct {
	struct gdoi_p1_suite suite;
	struct gdoi_p1_psk gm_psk, ks_psk;
	struct gdoi_p1_config gm_cfg, ks_cfg;
	struct group pg;
	bool refuse;			/* lookup refuses the group */
	int unavailable;		/* lookup's error: the key server cannot serve now */
	unsigned lookups;
	struct gdoi_now now;
	size_t to_silent, to_ks;	/* datagrams the member sent to each */
	unsigned ks_acked;		/* PUSH_ACKED events of the key server */
	uint32_t ks_acked_seq;
} w;

static bool peer_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *a)
{
	(void)ctx; (void)id; (void)auth; (void)a;
	return true;
}

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)member; (void)a;
	w.lookups++;
	if (group != GROUP || w.refuse)
		return GDOI_ERR_NOT_FOUND;
	if (w.unavailable)
		return w.unavailable;	/* the key server refuses with Notify UNAVAILABLE */
	*p = &w.pg.ks;
	return 0;
}

static int assign(void *ctx, uint32_t group, const struct gdoi_id *member, unsigned count, uint32_t *sids,
		  size_t *n)
{
	(void)ctx; (void)group; (void)member;
	*n = count > 2 ? 2 : count;
	for (size_t i = 0; i < *n; i++)
		sids[i] = 0x5500 + (uint32_t)i;
	return 0;
}

static int admit(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a)
{
	(void)ctx; (void)group; (void)member; (void)a;
	return 0;
}

static int setup(void **s)
{
	(void)s;
	memset(&w, 0, sizeof(w));
	w.suite = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14, GDOI_IKE_AUTH_PSK,
					  3600 };
	w.gm_psk = (struct gdoi_p1_psk){ .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	w.ks_psk = (struct gdoi_p1_psk){ .addr = gm_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	w.gm_cfg = (struct gdoi_p1_config){ .suites = &w.suite, .nsuites = 1, .psks = &w.gm_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(gm_ip, 4) },
		.retransmit_ms = 500, .max_transmits = 3, .initial_contact = true };
	w.ks_cfg = (struct gdoi_p1_config){ .suites = &w.suite, .nsuites = 1, .psks = &w.ks_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) },
		.peer_allowed = peer_allowed, .ctx = &w };
	group_init(&w.pg, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	w.pg.ks.group_id = GROUP;
	w.now = (struct gdoi_now){ .mono_ms = 10000, .unix_s = 1700000000 };
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	group_free(&w.pg);
	return 0;
}

static bool same(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && a->port == b->port && !memcmp(a->ip, b->ip, a->len);
}

static struct gdoi_gcks *new_ks(void)
{
	struct gdoi_gcks_cfg c = { .p1 = &w.ks_cfg,
		.pull = { .lookup = lookup, .assign_sids = assign, .admit = admit } };
	struct gdoi_gcks *k = gdoi_gcks_new(&c);
	assert_non_null(k);
	return k;
}

/* A member of GROUP (2 SSRCs wanted) with the key servers given, in order. */
static struct gdoi_member *new_member(const struct gdoi_addr *ks, size_t nks)
{
	struct gdoi_member_cfg c = { .p1 = &w.gm_cfg, .nks = nks, .ngroups = 1,
		.retry_min_ms = 1000, .retry_max_ms = 8000, .exchange_ms = 500, .unknown_kek_rereg_s = 5 };
	memcpy(c.ks, ks, nks * sizeof(*ks));
	snprintf(c.groups[0].name, sizeof c.groups[0].name, "g1");
	c.groups[0].id = GROUP;
	c.groups[0].sid_request = 2;
	struct gdoi_member *m = gdoi_member_new(&c);
	assert_non_null(m);
	return m;
}

/* Carries datagrams both ways until both queues are empty; the silent key
 * server swallows what is sent to it. */
static void pump(struct gdoi_member *m, struct gdoi_gcks *k)
{
	for (bool moved = true; moved;) {
		struct gdoi_out o;
		moved = false;
		while (gdoi_member_next_out(m, &o)) {
			moved = true;
			if (same(&o.to, &silent_addr)) {
				w.to_silent++;
				continue;
			}
			assert_true(same(&o.to, &ks_addr));
			w.to_ks++;
			assert_non_null(k);	/* a test without a key server expects nothing for it */
			uint8_t *copy = malloc(o.len);
			assert_non_null(copy);
			memcpy(copy, o.buf, o.len);
			gdoi_gcks_input(k, copy, o.len, &gm_addr, w.now);
			free(copy);
		}
		while (k && gdoi_gcks_next_out(k, &o)) {
			moved = true;
			assert_true(same(&o.to, &gm_addr));
			uint8_t *copy = malloc(o.len);
			assert_non_null(copy);
			memcpy(copy, o.buf, o.len);
			gdoi_member_input(m, copy, o.len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now);
			free(copy);
		}
	}
	struct gdoi_gcks_event kev;
	while (k && gdoi_gcks_next_event(k, &kev))
		if (kev.type == GDOI_GCKS_EV_PUSH_ACKED) {
			w.ks_acked++;
			w.ks_acked_seq = kev.seq;
		}
}

/* Advances the fake clock to the member's deadline, runs its timer, pumps. */
static void tick(struct gdoi_member *m, struct gdoi_gcks *k)
{
	uint64_t d = gdoi_member_deadline(m);
	assert_true(d > 0);
	if (d > w.now.mono_ms) {
		w.now.unix_s += (int64_t)((d - w.now.mono_ms) / 1000);
		w.now.mono_ms = d;
	}
	gdoi_member_timer(m, w.now);
	pump(m, k);
}

/* Takes the events; counts those of type t, the last one copied to got. */
static unsigned events(struct gdoi_member *m, enum gdoi_member_event_type t, const char *text,
		       struct gdoi_member_event *got)
{
	struct gdoi_member_event ev;
	unsigned n = 0;
	while (gdoi_member_next_event(m, &ev))
		if (ev.type == t && (!text || strstr(ev.text, text))) {
			n++;
			if (got)
				*got = ev;
		}
	return n;
}

static void registered(struct gdoi_member *m, struct gdoi_gcks *k)
{
	gdoi_member_timer(m, w.now);
	pump(m, k);
}

static void test_member_registers_through_engine(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_ks();
	struct gdoi_member *m = new_member(&ks_addr, 1);
	assert_int_equal(gdoi_member_group_state(m, 0), GDOI_MEMBER_GROUP_WAITING);
	registered(m, k);

	struct gdoi_member_event ev;
	assert_int_equal(events(m, GDOI_MEMBER_EV_REGISTERED, NULL, &ev), 1);
	assert_int_equal(ev.group, 0);
	assert_int_equal(ev.ks, 0);
	assert_true(ev.has_kek);
	assert_true(ev.changed);
	assert_int_equal(ev.nteks, 1);
	assert_int_equal(ev.nsids, 2);
	assert_int_equal(ev.sids[0], 0x5500);
	assert_int_equal(ev.sids[1], 0x5501);
	assert_int_equal(gdoi_member_group_state(m, 0), GDOI_MEMBER_GROUP_REGISTERED);
	const struct gdoi_member_teks *t = gdoi_member_group_teks(m, 0);
	assert_non_null(t->pol);
	assert_int_equal(t->nlive, 1);
	assert_int_equal(t->live[0].tek.spi, 0x1001);
	assert_memory_equal(t->live[0].tek.key, w.pg.ks.teks[0].key, w.pg.ks.teks[0].key_len);
	assert_int_equal(t->live[0].not_before, w.now.unix_s);
	assert_int_equal(gdoi_gcks_stats(k)->registrations, 1);
	assert_int_equal(gdoi_member_stats(m)->registrations, 1);

	struct gdoi_member_ks_status st;
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	assert_int_equal(st.last_ok, w.now.unix_s);
	/* keys of 60 s: registering again is due a tenth of that before they end */
	assert_int_equal(gdoi_member_group_next_registration(m, 0), w.now.unix_s + 60 - 6);
	/* the deadline is the timer's alone: nothing else moves the engine */
	assert_true(gdoi_member_deadline(m) > w.now.mono_ms);

	/* a push under the group's KEK: a new TEK, from receipt + ATD */
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	assert_non_null(upd);
	tek(upd, 0x2002, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	size_t len;
	uint8_t *p = push(&w.pg, upd, false, NULL, 0, &len);
	assert_int_equal(gdoi_member_input(m, p, len, &silent_addr, GDOI_MEMBER_VIA_MULTICAST, w.now), 0);
	assert_int_equal(events(m, GDOI_MEMBER_EV_KEYS_CHANGED, NULL, &ev), 1);
	assert_int_equal(ev.group, 0);
	assert_int_equal(t->nlive, 2);
	assert_int_equal(t->seq, 1);
	assert_int_equal(gdoi_member_stats(m)->pushes, 1);
	/* the same push again: a replay, refused and counted, one rate-limited line */
	assert_int_equal(gdoi_member_input(m, p, len, &silent_addr, GDOI_MEMBER_VIA_MULTICAST, w.now),
			 GDOI_ERR_REPLAY);
	assert_int_equal(events(m, GDOI_MEMBER_EV_DROPPED, "replay", &ev), 1);
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_PUSH);
	assert_int_equal(ev.level, GDOI_MEMBER_DEBUG);	/* a duplicate, not an attack */
	assert_int_equal(gdoi_member_group_stats(m, 0)->pushes_duplicate, 1);
	assert_int_equal(gdoi_member_stats(m)->dropped[GDOI_MEMBER_DROP_PUSH], 1);
	free(p);
	gdoi_policy_clear(upd);
	free(upd);

	/* a push under a KEK we do not know: the group registers again, once per 5 s */
	struct group other;
	group_init(&other, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	const struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .spi = 0x1001 };
	p = push(&other, NULL, false, &del, 1, &len);
	unsigned before = w.lookups;
	assert_int_equal(gdoi_member_input(m, p, len, &silent_addr, GDOI_MEMBER_VIA_MULTICAST, w.now),
			 GDOI_ERR_NOT_FOUND);
	assert_int_equal(gdoi_member_stats(m)->dropped[GDOI_MEMBER_DROP_UNKNOWN_KEK], 1);
	pump(m, k);
	assert_int_equal(w.lookups, before + 1);
	assert_int_equal(events(m, GDOI_MEMBER_EV_REGISTERED, NULL, NULL), 1);
	assert_int_equal(gdoi_member_input(m, p, len, &silent_addr, GDOI_MEMBER_VIA_MULTICAST, w.now),
			 GDOI_ERR_NOT_FOUND);
	pump(m, k);
	assert_int_equal(w.lookups, before + 1);	/* rate-limited: no second registration */
	assert_int_equal(gdoi_member_stats(m)->dropped[GDOI_MEMBER_DROP_UNKNOWN_KEK], 2);
	free(p);
	group_free(&other);

	/* the application wants fresh SSRCs: one registration, at most one a second */
	assert_int_equal(gdoi_member_want_register(m, 0, w.now), 0);
	assert_int_equal(gdoi_member_want_register(m, 0, w.now), GDOI_ERR_STATE);
	gdoi_member_timer(m, w.now);
	pump(m, k);
	assert_int_equal(w.lookups, before + 2);
	assert_int_equal(gdoi_member_want_register(m, 0, w.now), GDOI_ERR_STATE);
	w.now.mono_ms += 1000;
	assert_int_equal(gdoi_member_want_register(m, 0, w.now), 0);

	/* shutting down tells the key server: one Delete */
	events(m, GDOI_MEMBER_EV_NONE, NULL, NULL);
	gdoi_member_shutdown(m, w.now);
	size_t sent = w.to_ks;
	pump(m, k);
	assert_int_equal(w.to_ks, sent + 1);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

static void test_member_fails_over_after_silence(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_ks();
	const struct gdoi_addr list[2] = { silent_addr, ks_addr };
	struct gdoi_member *m = new_member(list, 2);
	uint64_t start = w.now.mono_ms;
	registered(m, k);
	assert_int_equal(w.to_silent, 1);	/* Main Mode message 1, unanswered */
	struct gdoi_member_ks_status st;
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTING);
	/* the timer alone moves it on: retransmissions, then the next key server */
	for (int i = 0; i < 20 && !gdoi_member_group_teks(m, 0)->pol; i++)
		tick(m, k);
	assert_non_null(gdoi_member_group_teks(m, 0)->pol);
	assert_int_equal(w.to_silent, 3);	/* max_transmits */
	assert_true(w.now.mono_ms > start);
	struct gdoi_member_event ev;
	assert_int_equal(events(m, GDOI_MEMBER_EV_LOG, "next try with 127.0.0.2:848", &ev), 1);
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_STANDBY);
	assert_true(st.last_error[0] != '\0');
	gdoi_member_ks_status(m, 1, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

static void test_member_backs_off_after_a_round(void **s)
{
	(void)s;
	/* the only key server silent: after the round, the backoff of retry_min (with
	 * jitter of a quarter either way) before the next Main Mode */
	struct gdoi_member *m = new_member(&silent_addr, 1);
	registered(m, NULL);
	for (int i = 0; i < 10 && w.to_silent < 4; i++) {
		uint64_t before = w.now.mono_ms;
		size_t sent = w.to_silent;
		tick(m, NULL);
		if (w.to_silent == 4 && sent == 3) {
			/* the fourth datagram is a new exchange after the failed round */
			uint64_t waited = w.now.mono_ms - before;
			assert_true(waited >= 750 && waited <= 1250);
		}
	}
	assert_int_equal(w.to_silent, 4);
	assert_int_equal(events(m, GDOI_MEMBER_EV_LOG, "failed", NULL), 1);
	gdoi_member_free(m);
}

/* IPv6 key servers: datagrams go to them, and their names are "[v6]:port". */
static void test_member_names_ipv6_key_servers_in_brackets(void **s)
{
	(void)s;
	const struct gdoi_addr v6 = { 16, { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 }, 8848 };
	const struct gdoi_addr list[2] = { v6, ks_addr };
	struct gdoi_member *m = new_member(list, 2);
	struct gdoi_out o;
	char name[64];

	gdoi_member_ks_name(m, 0, name, sizeof name);
	assert_string_equal(name, "[2001:db8::3]:8848");
	gdoi_member_ks_name(m, 1, name, sizeof name);
	assert_string_equal(name, "127.0.0.2:848");
	gdoi_member_timer(m, w.now);
	assert_true(gdoi_member_next_out(m, &o));
	assert_true(same(&o.to, &v6));
	assert_int_equal(events(m, GDOI_MEMBER_EV_LOG, "phase 1 started with [2001:db8::3]:8848", NULL), 1);
	gdoi_member_free(m);
}

/* A key server without an address yet (a host name not resolved) is a failed attempt
 * and a FAILOVER event; a new list makes the new address current and carries status. */
static void test_member_takes_a_new_key_server_list(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_ks();
	const struct gdoi_addr none = { .port = 848 };
	struct gdoi_member *m = new_member(&none, 1);
	struct gdoi_member_event ev;
	char name[64];

	gdoi_member_timer(m, w.now);
	pump(m, k);
	assert_int_equal(w.to_ks + w.to_silent, 0);	/* nowhere to send */
	assert_int_equal(events(m, GDOI_MEMBER_EV_FAILOVER, NULL, &ev), 1);
	assert_int_equal(ev.ks, 0);
	gdoi_member_ks_name(m, 0, name, sizeof name);
	assert_string_equal(name, "(no address):848");
	const struct gdoi_addr list[2] = { silent_addr, ks_addr };
	assert_int_equal(gdoi_member_set_ks(m, list, 2, 2, w.now), GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_member_set_ks(m, list, 2, 1, w.now), 0);
	assert_int_equal(gdoi_member_nks(m), 2);
	assert_int_equal(gdoi_member_ks_current(m), 1);
	assert_int_equal(gdoi_member_deadline(m), w.now.mono_ms);
	registered(m, k);
	assert_non_null(gdoi_member_group_teks(m, 0)->pol);
	assert_int_equal(w.to_silent, 0);
	struct gdoi_member_ks_status st;
	gdoi_member_ks_status(m, 1, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	/* the same current address again: the SA stays, and so does its status */
	assert_int_equal(gdoi_member_set_ks(m, &ks_addr, 1, 0, w.now), 0);
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	assert_true(st.last_ok != 0);
	/* another address: the SA pair goes (the keys stay); the next registration goes there */
	assert_int_equal(gdoi_member_set_ks(m, &silent_addr, 1, 0, w.now), 0);
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_IDLE);
	assert_int_equal(st.last_ok, 0);
	assert_non_null(gdoi_member_group_teks(m, 0)->pol);
	assert_int_equal(gdoi_member_want_register(m, 0, w.now), 0);
	gdoi_member_timer(m, w.now);
	pump(m, k);
	assert_int_equal(w.to_silent, 1);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

static void test_member_backs_off_refused_group_only(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_ks();
	struct gdoi_member *m = new_member(&ks_addr, 1);
	w.refuse = true;
	registered(m, k);
	assert_int_equal(w.lookups, 1);
	assert_int_equal(events(m, GDOI_MEMBER_EV_LOG, "registration refused by 127.0.0.2:848", NULL), 1);
	assert_int_equal(gdoi_member_group_state(m, 0), GDOI_MEMBER_GROUP_WAITING);
	/* the SA stays; the group waits retry_min_ms, then 2x */
	struct gdoi_member_ks_status st;
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	uint64_t refused_at = w.now.mono_ms;
	gdoi_member_timer(m, (struct gdoi_now){ refused_at + 999, w.now.unix_s });
	pump(m, k);
	assert_int_equal(w.lookups, 1);
	assert_int_equal(gdoi_member_deadline(m), refused_at + 1000);
	tick(m, k);
	assert_int_equal(w.lookups, 2);
	assert_int_equal(gdoi_member_deadline(m), w.now.mono_ms + 2000);
	w.refuse = false;
	tick(m, k);
	assert_int_equal(w.lookups, 3);
	assert_int_equal(gdoi_member_group_state(m, 0), GDOI_MEMBER_GROUP_REGISTERED);
	assert_int_equal(events(m, GDOI_MEMBER_EV_REGISTERED, NULL, NULL), 1);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

/* UNAVAILABLE (8192: the key server's state unreachable) is not about the member or
 * the group: the attempt with that key server failed, the next one is tried at once. */
static void test_member_fails_over_on_unavailable(void **s)
{
	(void)s;
	struct gdoi_gcks *k = new_ks();
	const struct gdoi_addr list[2] = { ks_addr, ks_addr };
	struct gdoi_member *m = new_member(list, 2);
	w.unavailable = GDOI_ERR_STATE;
	registered(m, k);
	/* the first refuses, the second is asked at once and refuses too: a round, then the backoff */
	assert_int_equal(w.lookups, 2);
	assert_int_equal(events(m, GDOI_MEMBER_EV_FAILOVER, NULL, NULL), 2);	/* not a group refusal */
	struct gdoi_member_ks_status st;
	for (size_t i = 0; i < 2; i++) {
		gdoi_member_ks_status(m, i, &st);
		assert_int_not_equal(st.state, GDOI_MEMBER_KS_CONNECTED);	/* its SA dropped */
		assert_non_null(strstr(st.last_error, "cannot serve registrations now"));
		assert_non_null(strstr(st.last_error, "UNAVAILABLE"));
	}
	w.unavailable = 0;
	uint64_t before = w.now.mono_ms;
	for (int i = 0; i < 5 && gdoi_member_group_state(m, 0) != GDOI_MEMBER_GROUP_REGISTERED; i++)
		tick(m, k);
	assert_int_equal(gdoi_member_group_state(m, 0), GDOI_MEMBER_GROUP_REGISTERED);
	assert_true(w.now.mono_ms - before >= 750);	/* after retry_min (less a quarter of jitter) */
	gdoi_member_ks_status(m, 0, &st);
	assert_int_equal(st.state, GDOI_MEMBER_KS_CONNECTED);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

static void test_member_counts_junk_by_reason(void **s)
{
	(void)s;
	struct gdoi_member *m = new_member(&ks_addr, 1);
	uint8_t junk[40] = { 0 };
	struct gdoi_member_event ev;
	assert_true(gdoi_member_input(m, junk, 10, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now) < 0);
	assert_int_equal(events(m, GDOI_MEMBER_EV_DROPPED, "offset", &ev), 1);
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_HEADER);
	/* a well-formed Main Mode header from someone else */
	junk[16] = 1;			/* next payload: SA */
	junk[17] = 0x10;		/* version 1.0 */
	junk[18] = GDOI_EXCH_IDENT_PROT;
	junk[27] = sizeof junk;
	assert_true(gdoi_member_input(m, junk, sizeof junk, &silent_addr, GDOI_MEMBER_VIA_UNICAST, w.now) < 0);
	assert_int_equal(events(m, GDOI_MEMBER_EV_DROPPED, "not from the current key server", &ev), 1);
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_SOURCE);
	assert_true(gdoi_member_input(m, junk, sizeof junk, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now) < 0);
	assert_int_equal(events(m, GDOI_MEMBER_EV_DROPPED, "cookies of no SA of ours", &ev), 1);
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_NO_SA);
	const struct gdoi_member_stats *st = gdoi_member_stats(m);
	assert_int_equal(st->datagrams, 3);
	assert_int_equal(st->dropped[GDOI_MEMBER_DROP_HEADER], 1);
	assert_int_equal(st->dropped[GDOI_MEMBER_DROP_SOURCE], 1);
	assert_int_equal(st->dropped[GDOI_MEMBER_DROP_NO_SA], 1);
	gdoi_member_free(m);
}

/* The key server's unicast push of SEQ seq to the member (the KEK of kek, the
 * update upd, the new KEK in it when with_kek), resent twice 500 ms apart. */
static void ks_push(struct gdoi_gcks *k, const struct gdoi_kek_policy *kek, const struct gdoi_policy *upd,
		    bool with_kek, uint32_t seq)
{
	static const struct gdoi_id gm_id = { .type = GDOI_ID_IPV4_ADDR, .data = { gm_ip, 4 } };
	const struct gdoi_gcks_push_cfg d = { .group_id = GROUP, .retransmits = 2, .interval_ms = 500,
					      .ack_method = GDOI_REKEY_ACK_KEK_SHA256 };
	const struct gdoi_gcks_push_dest dest = { gm_addr, &gm_id };
	struct gdoi_push_params pp = { .kek = kek, .sign_key = w.pg.sign, .seq = seq, .update = upd,
				       .with_kek = with_kek };
	assert_int_equal(gdoi_gcks_push(k, &d, &pp, &dest, 1, w.now), 1);
}

/* Takes the key server's one queued datagram (a push to the member); malloc'd. */
static uint8_t *ks_take(struct gdoi_gcks *k, size_t *len)
{
	struct gdoi_out o;
	assert_true(gdoi_gcks_next_out(k, &o));
	assert_true(same(&o.to, &gm_addr));
	uint8_t *copy = malloc(o.len);
	assert_non_null(copy);
	memcpy(copy, o.buf, o.len);
	*len = o.len;
	assert_false(gdoi_gcks_next_out(k, &o));
	return copy;
}

/* Datagrams the member queued, dropped (lost on the way); the ACKs counted. */
static size_t member_lose(struct gdoi_member *m)
{
	struct gdoi_out o;
	size_t acks = 0;
	while (gdoi_member_next_out(m, &o)) {
		assert_true(same(&o.to, &ks_addr));
		acks += o.len > 18 && o.buf[18] == GDOI_EXCH_PUSH_ACK;
	}
	return acks;
}

static void test_member_acknowledges_unicast_pushes(void **s)
{
	(void)s;
	w.pg.ks.kek.ack_method = GDOI_REKEY_ACK_KEK_SHA256;
	struct gdoi_gcks *k = new_ks();
	struct gdoi_member *m = new_member(&ks_addr, 1);
	registered(m, k);
	const struct gdoi_member_teks *t = gdoi_member_group_teks(m, 0);
	assert_non_null(t->pol);
	assert_int_equal(t->pol->kek.ack_method, GDOI_REKEY_ACK_KEK_SHA256);
	const struct gdoi_member_group_stats *gs = gdoi_member_group_stats(m, 0);
	events(m, GDOI_MEMBER_EV_NONE, NULL, NULL);

	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	assert_non_null(upd);
	tek(upd, 0x2002, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	ks_push(k, &w.pg.ks.kek, upd, false, 1);
	size_t len;
	uint8_t *p = ks_take(k, &len);

	/* by multicast, or by unicast from another address: applied, not acknowledged */
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_MULTICAST, w.now), 0);
	assert_int_equal(gs->pushes_applied, 1);
	assert_int_equal(member_lose(m), 0);
	assert_int_equal(gdoi_member_input(m, p, len, &silent_addr, GDOI_MEMBER_VIA_UNICAST, w.now),
			 GDOI_ERR_REPLAY);
	assert_int_equal(member_lose(m), 0);
	assert_int_equal(gs->acks_sent, 0);
	/* a duplicate: counted, a debug line (rate-limited like every line a peer can
	 * cause), not a refusal */
	assert_int_equal(gs->pushes_duplicate, 1);
	struct gdoi_member_event ev;
	assert_int_equal(events(m, GDOI_MEMBER_EV_DROPPED, "duplicate push via unicast", &ev), 1);
	assert_int_equal(ev.level, GDOI_MEMBER_DEBUG);
	assert_string_equal(ev.limit_key, "push g1 duplicate");

	/* from the key server by unicast: acknowledged, and the ACK is lost */
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now),
			 GDOI_ERR_REPLAY);
	assert_int_equal(member_lose(m), 1);
	assert_int_equal(gs->acks_sent, 1);
	assert_int_equal(gs->pushes_duplicate, 2);
	free(p);

	/* the key server resends; the duplicate is acknowledged again and that ACK verifies */
	w.now.mono_ms += 500;
	gdoi_gcks_timer(k, w.now);
	p = ks_take(k, &len);
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now),
			 GDOI_ERR_REPLAY);
	free(p);
	assert_int_equal(gs->acks_sent, 2);
	assert_int_equal(gs->pushes_duplicate, 3);
	assert_int_equal(gs->pushes_applied, 1);
	pump(m, k);
	assert_int_equal(w.ks_acked, 1);
	assert_int_equal(w.ks_acked_seq, 1);
	assert_int_equal(gdoi_gcks_stats(k)->push_acked, 1);
	assert_int_equal(gdoi_gcks_push_count(k), 0);	/* acknowledged: no more resends */
	w.now.mono_ms += 500;
	gdoi_gcks_timer(k, w.now);
	struct gdoi_out o;
	assert_false(gdoi_gcks_next_out(k, &o));

	/* a fresh push by unicast: applied, and its first ACK verifies */
	ks_push(k, &w.pg.ks.kek, upd, false, 2);
	pump(m, k);
	assert_int_equal(gs->pushes_applied, 2);
	assert_int_equal(w.ks_acked, 2);
	assert_int_equal(w.ks_acked_seq, 2);

	/* a KEK rotation: acknowledged under the KEK the push came under */
	struct gdoi_kek_policy *old = malloc(sizeof(*old));
	assert_non_null(old);
	*old = w.pg.ks.kek;
	struct gdoi_policy *rot = calloc(1, sizeof(*rot));
	assert_non_null(rot);
	rot->has_kek = true;
	rot->kek = w.pg.ks.kek;
	assert_int_equal(gdoi_random(rot->kek.spi, GDOI_KEK_SPI_LEN), 0);
	assert_int_equal(gdoi_policy_generate_keys(rot), 0);
	ks_push(k, old, rot, true, 3);
	pump(m, k);
	assert_int_equal(gs->pushes_applied, 3);
	assert_memory_equal(t->pol->kek.spi, rot->kek.spi, GDOI_KEK_SPI_LEN);
	assert_int_equal(w.ks_acked, 3);
	assert_int_equal(w.ks_acked_seq, 3);
	/* its duplicate under the replaced KEK: acknowledged again */
	ks_push(k, old, rot, true, 3);
	p = ks_take(k, &len);
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now),
			 GDOI_ERR_REPLAY);
	free(p);
	pump(m, k);
	assert_int_equal(w.ks_acked, 4);
	assert_int_equal(gs->acks_sent, 5);
	/* an older SEQ replayed is not: we never applied it as the last under that KEK */
	ks_push(k, old, upd, false, 2);
	p = ks_take(k, &len);
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now),
			 GDOI_ERR_REPLAY);
	free(p);
	assert_int_equal(member_lose(m), 0);
	assert_int_equal(gs->acks_sent, 5);

	gdoi_wipe(old, sizeof(*old));
	free(old);
	gdoi_policy_clear(rot);
	free(rot);
	gdoi_policy_clear(upd);
	free(upd);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

static void test_member_sends_no_ack_unasked(void **s)
{
	(void)s;
	/* the group's KEK asks for none: a unicast push from the key server gets none */
	struct gdoi_gcks *k = new_ks();
	struct gdoi_member *m = new_member(&ks_addr, 1);
	registered(m, k);
	assert_int_equal(gdoi_member_group_teks(m, 0)->pol->kek.ack_method, 0);
	const struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .spi = 0x1001 };
	size_t len;
	uint8_t *p = push(&w.pg, NULL, false, &del, 1, &len);
	assert_int_equal(gdoi_member_input(m, p, len, &ks_addr, GDOI_MEMBER_VIA_UNICAST, w.now), 0);
	free(p);
	assert_int_equal(gdoi_member_group_stats(m, 0)->pushes_applied, 1);
	assert_int_equal(member_lose(m), 0);
	assert_int_equal(gdoi_member_group_stats(m, 0)->acks_sent, 0);
	gdoi_member_free(m);
	gdoi_gcks_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_member_registers_through_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_fails_over_after_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_backs_off_after_a_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_backs_off_refused_group_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_fails_over_on_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_counts_junk_by_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_acknowledges_unicast_pushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_sends_no_ack_unasked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_names_ipv6_key_servers_in_brackets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_takes_a_new_key_server_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
