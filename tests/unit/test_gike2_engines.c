/*
 * test_gike2_engines.c - the G-IKEv2 engines (gdoi/gike2_gcks.h,
 * gdoi/gike2_member.h) against each other in memory, datagrams carried
 * between their queues: GSA_AUTH through the GCKS's group lookup gives the
 * member exactly the key server's TEK keys and the Sender-IDs it allocated,
 * as the GDOI member's events and TEK set; a signed GSA_REKEY arrives by
 * multicast and is applied, its replay is refused; a re-registration by
 * GSA_REGISTRATION brings fresh Sender-IDs; an unknown group is refused with
 * INVALID_GROUP_ID and the member backs off.
 *
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

static const struct gdoi_addr GM_ADDR = { 4, { 127, 0, 0, 1 }, 18621 };
static const struct gdoi_addr KS_ADDR = { 4, { 127, 0, 0, 1 }, 18620 };
static const struct gdoi_ike2_suite SUITE = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };

struct world {
	struct gdoi_ike2_config gm_ike, ks_ike;
	struct gdoi_ike2_psk psk;
	struct gdoi_policy policy;
	struct gike2_rekey_sa rekey;
	struct gdoi_key *signer;
	struct gike2_gcks_engine *ks;
	struct gike2_member *gm;
	uint32_t next_sid;
	unsigned lookups;
	bool unavailable;	/* the lookup says the GCKS cannot serve now */
	bool inband;	/* the group's rekeys go over the IKE SA, no Rekey SA */
	bool both;	/* inband and a Rekey SA */
	struct gdoi_now now;
};

static int lookup(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		  const struct gdoi_addr *peer, struct gike2_gcks *k)
{
	struct world *w = ctx;
	(void)peer;
	w->lookups++;
	assert_non_null(member);
	if (w->unavailable)
		return GDOI_ERR_UNAVAILABLE;
	if (idg->id_type != GIKE2_ID_KEY_ID || idg->data.len != 5 || memcmp(idg->data.ptr, "audio", 5))
		return GDOI_ERR_NOT_FOUND;
	k->policy = &w->policy;
	k->tag = 7;
	k->inband = w->inband || w->both;
	if (w->inband)
		return 0;
	k->rekey = &w->rekey;
	k->signer = w->signer;
	k->next_sid = 0x1;	/* not used: assign_sids gives them */
	return 0;
}

static int assign_sids(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		       uint32_t count, uint32_t *sids, size_t cap, size_t *n)
{
	struct world *w = ctx;
	assert_int_equal(idg->data.len, 5);
	assert_non_null(member);
	assert_true(count <= cap);
	for (*n = 0; *n < count; (*n)++)
		sids[*n] = w->next_sid++;
	return 0;
}

static void ike(struct gdoi_ike2_config *c, struct gdoi_ike2_psk *psk, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->suites = &SUITE;
	c->nsuites = 1;
	c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES(id, strlen(id)) };
	c->psks = psk;
	c->npsks = 1;
}

/* inband: the group's rekeys go by GSA_INBAND_REKEY only; both: and a Rekey SA */
static struct world *world_new_cfg(const char *group, bool inband, bool both, uint32_t lifetime_s)
{
	struct world *w = calloc(1, sizeof(*w));
	w->signer = gike2_fixture_signer();
	gike2_fixture_policy(&w->policy, 0x700d, 18630);
	gike2_fixture_rekey(&w->rekey, 18620, 18631);

	w->psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE }, GDOI_BYTES("group psk", 9) };
	ike(&w->gm_ike, &w->psk, "gm.example");
	ike(&w->ks_ike, &w->psk, "ks.example");
	w->now = (struct gdoi_now){ 5000, 1800000000 };
	w->next_sid = 0x52000;
	w->inband = inband;
	w->both = both;
	struct gike2_gcks_engine_cfg kc = { .ike = &w->ks_ike, .lookup = lookup,
					    .assign_sids = assign_sids, .ctx = w,
					    .sa_lifetime_s = lifetime_s };
	w->ks = gike2_gcks_engine_new(&kc, w->now);
	assert_non_null(w->ks);
	struct gike2_member_cfg mc = { .ike = &w->gm_ike, .ks = KS_ADDR, .name = "audio",
				       .group = { GIKE2_ID_KEY_ID, GDOI_BYTES(group, strlen(group)) },
				       .sid_request = 2 };
	w->gm = gike2_member_new(&mc);
	assert_non_null(w->gm);
	return w;
}

static struct world *world_new(const char *group)
{
	return world_new_cfg(group, false, false, 0);
}

static void world_free(struct world *w)
{
	gike2_member_free(w->gm);
	gike2_gcks_engine_free(w->ks);
	gdoi_policy_clear(&w->policy);
	gike2_rekey_sa_clear(&w->rekey);
	gdoi_key_free(w->signer);
	free(w);
}

/* Carries datagrams both ways until both queues are empty. */
static void pump(struct world *w)
{
	for (int round = 0; round < 16; round++) {
		struct gdoi_out o;
		bool any = false;
		while (gike2_member_next_out(w->gm, &o)) {
			assert_memory_equal(&o.to, &KS_ADDR, sizeof(KS_ADDR));
			assert_int_equal(gdoi_engine_classify(o.buf, o.len), GDOI_FE_IKEV2);
			gike2_gcks_engine_input(w->ks, o.buf, o.len, &GM_ADDR, w->now);
			any = true;
		}
		while (gike2_gcks_engine_next_out(w->ks, &o)) {
			assert_memory_equal(&o.to, &GM_ADDR, sizeof(GM_ADDR));
			gike2_member_input(w->gm, o.buf, o.len, &KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now);
			any = true;
		}
		if (!any)
			return;
	}
	fail_msg("datagrams kept coming");
}

static bool member_event(struct world *w, enum gdoi_member_event_type t, struct gdoi_member_event *out)
{
	struct gdoi_member_event ev;
	bool found = false;
	while (gike2_member_next_event(w->gm, &ev))
		if (ev.type == t && !found) {
			*out = ev;
			found = true;
		}
	return found;
}

static const struct gdoi_live_tek *live(const struct gdoi_member_teks *t, uint32_t spi)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i].tek.spi == spi)
			return &t->live[i];
	return NULL;
}

/* The GSA_REKEY under w's Rekey SA carrying p's TEKs and a Delete of del (ndel), signed,
 * into dg (initialized). */
static void rekey_dg(struct world *w, const struct gdoi_policy *p, const uint32_t *del, size_t ndel,
		     struct gdoi_writer *dg)
{
	struct gdoi_arena *ar = gdoi_arena_new();
	struct gike2_pl pl[3];
	size_t n = 0;
	assert_int_equal(gike2_rekey_content_build(p, &w->rekey, NULL, w->signer, del, ndel, ar, pl,
						   3, &n),
			 0);
	assert_int_equal(gike2_rekey_build(&w->rekey, pl, n, w->signer, dg), 0);
	gdoi_arena_free(ar);
}

static void test_gsa_auth_rekey_reregister(void **state)
{
	(void)state;
	struct world *w = world_new("audio");
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	struct gdoi_member_event ev;
	assert_true(member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(ev.nteks, 1);
	assert_true(ev.has_kek);
	assert_int_equal(ev.nsids, 2);
	assert_int_equal(ev.sids[0], 0x52000);
	assert_int_equal(ev.sids[1], 0x52001);
	/* the TEK set the sidecar reads: the key server's key, every octet */
	const struct gdoi_member_teks *t = gike2_member_teks(w->gm);
	assert_non_null(t->pol);
	const struct gdoi_live_tek *l = live(t, 0x700d);
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
	rekey_dg(w, &next, NULL, 0, &dg);
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 0);
	assert_true(member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	l = live(t, 0x700e);
	assert_non_null(l);
	assert_memory_equal(l->tek.key, next.teks[0].key, 28);
	assert_non_null(live(t, 0x700d));
	/* the same datagram again: a replayed Message ID */
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 GDOI_ERR_REPLAY);
	assert_true(member_event(w, GDOI_MEMBER_EV_DROPPED, &ev));
	assert_int_equal(ev.reason, GDOI_MEMBER_DROP_PUSH);
	/* one octet changed: refused before anything is applied */
	gdoi_writer_free(&dg);
	gdoi_writer_init(&dg);
	next.teks[0].spi = 0x700f;
	rekey_dg(w, &next, NULL, 0, &dg);
	dg.buf[dg.len - 1] ^= 1;
	assert_true(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
				       w->now) < 0);
	assert_null(live(t, 0x700f));
	gdoi_writer_free(&dg);
	gdoi_policy_clear(&next);

	/* fresh Sender-IDs: GSA_REGISTRATION on the same IKE SA */
	w->now.mono_ms += 2000;
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);
	pump(w);
	assert_true(member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(ev.sids[0], 0x52002);
	assert_int_equal(gike2_gcks_engine_stats(w->ks)->registrations, 2);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 1);
	assert_int_equal(w->lookups, 2);
	assert_memory_equal(live(t, 0x700d)->tek.key, w->policy.teks[0].key, 28);
	world_free(w);
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
	rekey_dg(w, p, del, ndel, &dg);
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
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
	struct world *w = world_new("audio");
	w->policy.has_gap = true;
	w->policy.atd = 5;
	w->policy.dtd = 30;
	gike2_member_timer(w->gm, w->now);
	pump(w);
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
	(void)member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev);
	w->now.unix_s++;
	gsa_rekey(w, &ks, NULL, 0);
	assert_false(member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	expect_live(t, (struct want[]){ { 0x7002, t0 + 7, t0 + 70 }, { 0x7003, t0 + 45, t0 + 160 } },
		    2);
	gdoi_wipe(&ks, sizeof(ks));
	world_free(w);
}

static void test_unknown_group(void **state)
{
	(void)state;
	struct world *w = world_new("video");
	gike2_member_timer(w->gm, w->now);
	pump(w);
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
	world_free(w);
}

/* A GCKS that cannot serve now (its state unreachable) answers TEMPORARY_FAILURE, and
 * the GM takes that as a failed attempt with this GCKS (a failover), not as a refusal. */
static void test_unavailable_gcks_is_a_failover(void **state)
{
	(void)state;
	struct world *w = world_new("audio");
	w->unavailable = true;
	gike2_member_timer(w->gm, w->now);
	pump(w);
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
	world_free(w);
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
	struct world *w = world_new("audio");
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);	/* GSA_REGISTRATION */
	pump(w);
	assert_int_equal(gike2_member_stats(w->gm)->registrations, 2);
	world_free(w);
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
		if (member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev)) {
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
	struct world *w = world_new("audio");
	gike2_member_set_ks(w->gm, &KS2, 0);
	gike2_member_timer(w->gm, w->now);
	assert_int_equal(until_failover(w, &KS2), 5);	/* the core's max_transmits */
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_WAITING);
	uint64_t at = w->now.mono_ms + 500;
	gike2_member_set_ks(w->gm, &KS_ADDR, at);
	assert_int_equal(gike2_member_deadline(w->gm), at);
	w->now.mono_ms = at - 1;
	gike2_member_timer(w->gm, w->now);
	struct gdoi_out o;
	assert_false(gike2_member_next_out(w->gm, &o));
	w->now.mono_ms = at;
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	struct gdoi_member_event ev;
	assert_true(member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));

	/* the key server dies: the GSA_REGISTRATION on the IKE SA is never answered */
	assert_int_equal(gike2_member_want_register(w->gm, w->now), 0);
	assert_int_equal(until_failover(w, &KS_ADDR), 5);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_non_null(live(gike2_member_teks(w->gm), 0x700d));	/* the keys stay */
	at = w->now.mono_ms + 100;
	gike2_member_set_ks(w->gm, &KS_ADDR, at);	/* "the next one": the same, for pump */
	assert_int_equal(gike2_member_deadline(w->gm), at);
	w->now.mono_ms = at;
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_true(member_event(w, GDOI_MEMBER_EV_REGISTERED, &ev));
	assert_int_equal(gike2_member_stats(w->gm)->registrations, 2);
	world_free(w);
}

/* Near expiry: 2 s before the TEK's end, the GSA_REGISTRATION's retransmissions are
 * spaced 250 ms (an eighth of what is left, at least 250 ms), not 500 ms doubling, so
 * an unanswered key server is given up on within 1.25 s, before the TEK ends. */
static struct world *registered(bool inband, bool both, uint32_t lifetime_s);

static void test_near_expiry_retransmit(void **state)
{
	(void)state;
	struct world *w = registered(false, false, 0);
	struct gdoi_member_event ev;
	const struct gdoi_live_tek *l = live(gike2_member_teks(w->gm), 0x700d);
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
		failed = member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev);
		w->now.mono_ms += 50;
		gike2_member_timer(w->gm, w->now);
	}
	assert_true(failed);
	assert_int_equal(sent, 5);
	assert_true(w->now.mono_ms - t0 <= 1300);
	world_free(w);
}

/* ---- GSA_INBAND_REKEY -------------------------------------------------------- */

static bool ks_event(struct world *w, enum gike2_gcks_event_type t, struct gike2_gcks_event *out)
{
	struct gike2_gcks_event ev;
	bool found = false;
	while (gike2_gcks_engine_next_event(w->ks, &ev))
		if (ev.type == t && !found) {
			*out = ev;
			found = true;
		}
	return found;
}

/* A registered member of an inband group, and the group's next TEK 0x700e
 * with the Delete of 0x700d handed to the engine. */
static struct world *registered(bool inband, bool both, uint32_t lifetime_s)
{
	struct world *w = world_new_cfg("audio", inband, both, lifetime_s);
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	return w;
}

static struct world *inband_world(uint32_t lifetime_s, struct gdoi_policy *next)
{
	struct world *w = registered(true, false, lifetime_s);
	struct gdoi_addr mc;
	assert_false(gike2_member_rekey_dst(w->gm, &mc));	/* no Rekey SA: inband only */
	*next = w->policy;
	next->teks[0].spi = 0x700e;
	assert_int_equal(gdoi_policy_generate_keys(next), 0);
	return w;
}

static int inband(struct world *w, const struct gdoi_policy *p)
{
	static const uint32_t del[] = { 0x700d };
	struct gike2_gcks_inband r = { .tag = 7, .policy = p, .del = del, .ndel = 1 };
	return gike2_gcks_engine_inband_rekey(w->ks, &r, w->now);
}

static size_t take(struct gdoi_out *o, size_t cap, bool from_ks, struct world *w, uint8_t (*buf)[2048],
		   size_t *len)
{
	size_t n = 0;
	while (n < cap && (from_ks ? gike2_gcks_engine_next_out(w->ks, &o[n])
				   : gike2_member_next_out(w->gm, &o[n]))) {
		assert_true(o[n].len <= sizeof(buf[n]));
		memcpy(buf[n], o[n].buf, o[n].len);
		len[n] = o[n].len;
		n++;
	}
	return n;
}

static void test_inband_round_trip(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
	struct gdoi_member_event ev;
	while (gike2_member_next_event(w->gm, &ev))
		;
	assert_int_equal(inband(w, &next), 1);
	pump(w);
	/* the new TEK, every octet of its key, and the old one deleted */
	const struct gdoi_member_teks *t = gike2_member_teks(w->gm);
	assert_true(member_event(w, GDOI_MEMBER_EV_KEYS_CHANGED, &ev));
	assert_non_null(strstr(ev.text, "GSA_INBAND_REKEY applied"));
	const struct gdoi_live_tek *l = live(t, 0x700e);
	assert_non_null(l);
	assert_memory_equal(l->tek.key, next.teks[0].key, 28);
	assert_int_equal(t->pol->nteks, 1);
	assert_int_equal(t->pol->teks[0].spi, 0x700e);
	assert_int_equal(t->pol->nsids, 2);	/* its Sender-IDs stay */
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 1);
	struct gike2_gcks_event kev;
	assert_true(ks_event(w, GIKE2_GCKS_EV_INBAND_ANSWERED, &kev));
	assert_int_equal(kev.notify, 0);
	/* a second one on the same IKE SA: the next Message ID */
	next.teks[0].spi = 0x700f;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	assert_int_equal(inband(w, &next), 1);
	/* a third before the second is answered waits for the window */
	assert_int_equal(inband(w, &next), 1);
	pump(w);
	assert_non_null(live(t, 0x700f));
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 3);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	gdoi_policy_clear(&next);
	world_free(w);
}

static void test_inband_retransmit_duplicate_wrong_mid(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
	struct gdoi_out o[4];
	uint8_t req[4][2048], rex[4][2048], ans[4][2048], ans2[4][2048];
	size_t rl[4], xl[4], al[4], al2[4];
	assert_int_equal(inband(w, &next), 1);
	assert_int_equal(take(o, 4, true, w, req, rl), 1);
	assert_int_equal(req[0][18], GIKE2_EXCH_GSA_INBAND_REKEY);
	assert_int_equal(req[0][19] & GDOI_IKE2_FLAG_RESPONSE, 0);
	/* lost: the GCKS sends it again after its retransmission timer */
	assert_true(gike2_gcks_engine_deadline(w->ks) > 0);
	w->now.mono_ms += 600;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(take(o, 4, true, w, rex, xl), 1);
	assert_int_equal(xl[0], rl[0]);
	assert_memory_equal(rex[0], req[0], rl[0]);
	/* a copy under another Message ID: dropped, nothing applied, no answer */
	uint8_t bad[2048];
	memcpy(bad, req[0], rl[0]);
	bad[23] ^= 1;
	assert_true(gike2_member_input(w->gm, bad, rl[0], &KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now) < 0);
	assert_int_equal(take(o, 4, false, w, ans, al), 0);
	assert_null(live(gike2_member_teks(w->gm), 0x700e));
	/* the first copy: applied and answered; its answer lost */
	assert_int_equal(gike2_member_input(w->gm, req[0], rl[0], &KS_ADDR, GDOI_MEMBER_VIA_UNICAST,
					    w->now),
			 0);
	assert_int_equal(take(o, 4, false, w, ans, al), 1);
	assert_true(ans[0][19] & GDOI_IKE2_FLAG_RESPONSE);
	assert_non_null(live(gike2_member_teks(w->gm), 0x700e));
	/* the retransmission: the cached answer again, octet for octet, applied once */
	(void)gike2_member_input(w->gm, rex[0], xl[0], &KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now);
	assert_int_equal(take(o, 4, false, w, ans2, al2), 1);
	assert_int_equal(al2[0], al[0]);
	assert_memory_equal(ans2[0], ans[0], al[0]);
	assert_int_equal(gike2_member_stats(w->gm)->pushes, 1);
	/* the GCKS takes the answer once */
	assert_int_equal(gike2_gcks_engine_input(w->ks, ans[0], al[0], &GM_ADDR, w->now), 0);
	assert_true(gike2_gcks_engine_input(w->ks, ans2[0], al2[0], &GM_ADDR, w->now) < 0);
	struct gike2_gcks_event kev;
	assert_true(ks_event(w, GIKE2_GCKS_EV_INBAND_ANSWERED, &kev));
	w->now.mono_ms += 60000;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_false(gike2_gcks_engine_next_out(w->ks, &o[0]));	/* nothing outstanding */
	gdoi_policy_clear(&next);
	world_free(w);
}

static void test_inband_no_answer(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
	struct gdoi_out o;
	assert_int_equal(inband(w, &next), 1);
	unsigned sent = 0;
	struct gike2_gcks_event kev;
	bool closed = false;
	for (int i = 0; i < 20 && !closed; i++) {
		while (gike2_gcks_engine_next_out(w->ks, &o))
			sent++;	/* never delivered */
		w->now.mono_ms += 10000;
		gike2_gcks_engine_timer(w->ks, w->now);
		closed = ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev);
	}
	assert_true(closed);
	assert_non_null(strstr(kev.reason, "no answer"));
	assert_int_equal(sent, 5);	/* the core's max_transmits */
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 0);
	assert_int_equal(inband(w, &next), 0);	/* nobody left */
	gdoi_policy_clear(&next);
	world_free(w);
}

static void test_inband_delete_peer(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
	struct gdoi_member_event ev;
	while (gike2_member_next_event(w->gm, &ev))
		;
	struct gdoi_ike2_id other = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm2.example", 11) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &other, w->now), 0);
	struct gdoi_ike2_id id = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &id, w->now), 1);
	pump(w);
	assert_true(member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_non_null(strstr(ev.text, "deleted the IKE SA: registering again, with the next key server"));
	/* no Rekey SA: the IKE SA was its only rekey path, so it registers again (with the
	 * next key server the application names; this one, unless it does) */
	assert_int_equal(gike2_member_deadline(w->gm), w->now.mono_ms + 1000);
	struct gike2_gcks_event kev;
	assert_true(ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev));
	assert_non_null(strstr(kev.reason, "evicted"));
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	assert_int_equal(inband(w, &next), 0);	/* no further keys */
	assert_null(live(gike2_member_teks(w->gm), 0x700e));
	gdoi_policy_clear(&next);
	world_free(w);
}

/* gikev2_rekey = both: a GSA_INBAND_REKEY hands over a new Rekey SA with its
 * AUTH_KEY (as a registration does), under which the next GSA_REKEY is
 * accepted; a multicast-only member gets no GSA_INBAND_REKEY at all. */
static void test_inband_new_rekey_sa(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = registered(false, false, 0);
	assert_int_equal(inband(w, &w->policy), 0);	/* multicast only */
	world_free(w);
	w = registered(false, true, 0);
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
	pump(w);
	assert_non_null(live(gike2_member_teks(w->gm), 0x700e));
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
	assert_int_equal(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
					    w->now),
			 0);
	assert_non_null(live(gike2_member_teks(w->gm), 0x7010));
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
	assert_true(gike2_member_input(w->gm, dg.buf, dg.len, &KS_ADDR, GDOI_MEMBER_VIA_MULTICAST,
				       w->now) < 0);
	assert_null(live(gike2_member_teks(w->gm), 0x7011));
	gdoi_writer_free(&dg);
	gdoi_arena_free(ar);
	gike2_rekey_sa_clear(&nr);
	gdoi_policy_clear(&next);
	world_free(w);
}

/* A member with a Rekey SA whose IKE SA the GCKS deletes keeps its keys and
 * waits for GSA_REKEY: nothing is due (a deadline in the past made the
 * sidecar spin at full CPU, deaf to SIGTERM). */
static void test_deleted_with_rekey_sa_idle(void **state)
{
	(void)state;
	struct world *w = registered(false, false, 0);
	struct gdoi_ike2_id id = { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
	assert_int_equal(gike2_gcks_engine_delete_peer(w->ks, &id, w->now), 1);
	pump(w);
	assert_int_equal(gike2_member_deadline(w->gm), 0);
	gike2_member_timer(w->gm, w->now);
	struct gdoi_out o;
	assert_false(gike2_member_next_out(w->gm, &o));	/* no new GSA_AUTH */
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_non_null(live(gike2_member_teks(w->gm), 0x700d));
	world_free(w);
}

/* A member that starts over (a new IKE SA with INITIAL_CONTACT, RFC 7296
 * §2.4) replaces its older IKE SA: only the new one gets GSA_INBAND_REKEY. */
static void test_inband_initial_contact(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
	gike2_member_free(w->gm);	/* restarted: its IKE SA is lost */
	w->gm_ike.initial_contact = true;
	struct gike2_member_cfg mc = { .ike = &w->gm_ike, .ks = KS_ADDR, .name = "audio",
				       .group = { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) } };
	w->gm = gike2_member_new(&mc);
	gike2_member_timer(w->gm, w->now);
	pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	assert_int_equal(gike2_gcks_engine_sa_count(w->ks), 1);
	assert_int_equal(inband(w, &next), 1);
	pump(w);
	assert_non_null(live(gike2_member_teks(w->gm), 0x700e));
	gdoi_policy_clear(&next);
	world_free(w);
}

static void test_inband_sa_lifetime(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(30, &next);
	gike2_gcks_engine_timer(w->ks, w->now);
	uint64_t d = gike2_gcks_engine_deadline(w->ks);
	assert_true(d > w->now.mono_ms && d <= w->now.mono_ms + 30000);
	w->now.mono_ms += 29000;
	gike2_gcks_engine_timer(w->ks, w->now);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	w->now.mono_ms += 1000;
	gike2_gcks_engine_timer(w->ks, w->now);
	struct gike2_gcks_event kev;
	assert_true(ks_event(w, GIKE2_GCKS_EV_SA_CLOSED, &kev));
	assert_non_null(strstr(kev.reason, "lifetime"));
	pump(w);	/* the Delete reaches the member */
	struct gdoi_member_event ev;
	assert_true(member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 0);
	gdoi_policy_clear(&next);
	world_free(w);
}

/* Shutdown: every established IKE SA deleted at once, without SA_CLOSED events (the
 * key server logs one line); the member is told and registers again elsewhere. */
static void test_gcks_delete_all(void **state)
{
	(void)state;
	struct gdoi_policy next;
	struct world *w = inband_world(0, &next);
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
	pump(w);
	assert_true(member_event(w, GDOI_MEMBER_EV_FAILOVER, &ev));
	assert_non_null(strstr(ev.text, "the GCKS deleted the IKE SA"));
	assert_int_equal(gike2_gcks_engine_delete_all(w->ks, w->now), 0);	/* none left */
	assert_non_null(gike2_member_teks(w->gm)->pol);	/* its keys stay */
	gdoi_policy_clear(&next);
	world_free(w);
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
		cmocka_unit_test(test_inband_round_trip),
		cmocka_unit_test(test_inband_retransmit_duplicate_wrong_mid),
		cmocka_unit_test(test_inband_no_answer),
		cmocka_unit_test(test_inband_delete_peer),
		cmocka_unit_test(test_inband_sa_lifetime),
		cmocka_unit_test(test_inband_initial_contact),
		cmocka_unit_test(test_deleted_with_rekey_sa_idle),
		cmocka_unit_test(test_inband_new_rekey_sa),
		cmocka_unit_test(test_gcks_delete_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
