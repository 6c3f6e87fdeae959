/*
 * test_gcks_push.c - push delivery through the key-server engine
 * (gdoi_gcks_push), in memory: one datagram per destination, the same bytes
 * again at each retransmission its deadline brings, a member's push opened
 * as the member would; RFC 8263 acknowledgements built with the codec: a good
 * one stops the resends to that member and is reported once; a bad HASH, a
 * wrong SEQ and an unknown member are dropped with their reason; a member
 * that never answers is reported once every send is done; many destinations
 * taken in batches from one shared copy.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "gdoi/push_ack.h"
#include "tests/lib/push_group.h"

#define GROUP 77

static const uint8_t a_ip[4] = { 127, 0, 0, 11 }, b_ip[4] = { 127, 0, 0, 12 };
static const struct gdoi_addr mcast = { 4, { 239, 1, 1, 1 }, 1848 };
static const struct gdoi_addr a_addr = { 4, { 127, 0, 0, 11 }, 1848 };
static const struct gdoi_addr b_addr = { 4, { 127, 0, 0, 12 }, 1848 };

static struct gdoi_p1_suite suite = { GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14, GDOI_IKE_AUTH_PSK,
				      3600 };

static int no_lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		     const struct gdoi_policy **p)
{
	(void)ctx; (void)group; (void)member; (void)a; (void)p;
	return GDOI_ERR_NOT_FOUND;	/* no registrations here */
}

static struct gdoi_gcks *engine(void)
{
	static const char psk[] = "unused here";
	static struct gdoi_p1_psk ps;
	static struct gdoi_p1_config p1;
	ps = (struct gdoi_p1_psk){ .addr = a_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	p1 = (struct gdoi_p1_config){ .suites = &suite, .nsuites = 1, .psks = &ps, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(b_ip, 4) } };
	struct gdoi_gcks_cfg c = { .p1 = &p1, .pull = { .lookup = no_lookup } };
	struct gdoi_gcks *k = gdoi_gcks_new(&c);
	assert_non_null(k);
	return k;
}

static struct gdoi_now at(uint64_t ms)
{
	return (struct gdoi_now){ .mono_ms = ms, .unix_s = 1700000000 };
}

struct sent {
	size_t n;
	struct gdoi_addr to[8];
	uint8_t *buf[8];
	size_t len[8];
};

static void drain(struct gdoi_gcks *k, struct sent *s)
{
	struct gdoi_out o;
	memset(s, 0, sizeof(*s));
	while (gdoi_gcks_next_out(k, &o)) {
		assert_true(s->n < 8);
		s->to[s->n] = o.to;
		s->buf[s->n] = malloc(o.len);
		assert_non_null(s->buf[s->n]);
		memcpy(s->buf[s->n], o.buf, o.len);
		s->len[s->n++] = o.len;
	}
}

static void sent_free(struct sent *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->buf[i]);
	s->n = 0;
}

static size_t count_events(struct gdoi_gcks *k, enum gdoi_gcks_event_type t, struct gdoi_gcks_event *last)
{
	struct gdoi_gcks_event ev;
	size_t n = 0;
	while (gdoi_gcks_next_event(k, &ev))
		if (ev.type == t) {
			n++;
			if (last)
				*last = ev;
		}
	return n;
}

static int push_to(struct gdoi_gcks *k, struct group *g, const struct gdoi_gcks_push_cfg *d, uint32_t seq,
		   const struct gdoi_gcks_push_dest *dests, size_t n, uint64_t now)
{
	struct gdoi_push_params p = { .kek = &g->ks.kek, .sign_key = g->sign, .seq = seq, .update = &g->ks };
	return gdoi_gcks_push(k, d, &p, dests, n, at(now));
}

/* Field by field: struct gdoi_addr has a padding octet nobody writes. */
static bool same_addr(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && a->port == b->port && !memcmp(a->ip, b->ip, a->len);
}

static void test_gcks_retransmits_push_at_deadline(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256);
	struct gdoi_gcks *k = engine();
	struct gdoi_id a_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(a_ip, 4) };
	struct gdoi_gcks_push_dest dests[] = { { mcast, NULL }, { a_addr, &a_id } };
	struct gdoi_gcks_push_cfg d = { .group_id = GROUP, .retransmits = 2, .interval_ms = 500 };
	assert_int_equal(push_to(k, &g, &d, 1, dests, 2, 1000), 2);
	assert_int_equal(gdoi_gcks_deadline(k), 1500);
	struct sent first, again;
	drain(k, &first);
	assert_int_equal(first.n, 2);
	assert_true(same_addr(&first.to[0], &mcast));
	assert_true(same_addr(&first.to[1], &a_addr));
	assert_bytes_equal(first.buf[0], first.len[0], first.buf[1], first.len[1]);
	/* the member opens it and would apply it */
	struct gdoi_push_update u;
	char why[200];
	assert_int_equal(gdoi_push_open(&g.member, NULL, first.buf[0], first.len[0], &u, why, sizeof(why)), 0);
	assert_int_equal(u.seq, 1);
	gdoi_push_update_clear(&u);
	/* not due yet: nothing */
	gdoi_gcks_timer(k, at(1499));
	drain(k, &again);
	assert_int_equal(again.n, 0);
	for (int round = 0; round < 2; round++) {
		gdoi_gcks_timer(k, at(1500 + 500 * (uint64_t)round));
		drain(k, &again);
		assert_int_equal(again.n, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_true(same_addr(&again.to[i], &first.to[i]));
			assert_bytes_equal(again.buf[i], again.len[i], first.buf[i], first.len[i]);
		}
		sent_free(&again);
	}
	/* two retransmissions done, no ACKs asked: the push is over */
	assert_int_equal(gdoi_gcks_push_count(k), 0);
	assert_int_equal(gdoi_gcks_deadline(k), 0);
	gdoi_gcks_timer(k, at(10000));
	drain(k, &again);
	assert_int_equal(again.n, 0);
	const struct gdoi_gcks_stats *st = gdoi_gcks_stats(k);
	assert_int_equal(st->pushes, 1);
	assert_int_equal(st->push_sent, 2);
	assert_int_equal(st->push_retransmitted, 4);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_UNACKED, NULL), 0);
	sent_free(&first);
	gdoi_gcks_free(k);
	group_free(&g);
}

/* 1000 destinations, taken GDOI_OUT_BATCH at a time: each exactly once, in
 * order, one shared copy of the bytes (ASan: every buffer of a batch still
 * readable when the batch is read, none leaked when the engine is freed with
 * a retransmission half taken). */
static void test_gcks_push_batches_share_one_copy(void **s)
{
	(void)s;
	enum { N = 1000 };
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256);
	struct gdoi_gcks *k = engine();
	struct gdoi_gcks_push_dest *dests = calloc(N, sizeof(*dests));
	assert_non_null(dests);
	for (size_t i = 0; i < N; i++)
		dests[i].to = (struct gdoi_addr){ 4, { 127, 2, (uint8_t)(i >> 8), (uint8_t)i }, 1848 };
	struct gdoi_gcks_push_cfg d = { .group_id = GROUP, .retransmits = 1, .interval_ms = 500 };
	assert_int_equal(push_to(k, &g, &d, 1, dests, N, 1000), N);
	struct gdoi_out o[GDOI_OUT_BATCH + 1];
	uint8_t *first = NULL;
	size_t first_len = 0, seen = 0, n, batches = 0;
	while ((n = gdoi_gcks_next_outs(k, o, GDOI_OUT_BATCH + 1))) {
		assert_true(n <= GDOI_OUT_BATCH);
		batches++;
		for (size_t i = 0; i < n; i++, seen++) {
			assert_true(seen < N);
			assert_true(same_addr(&o[i].to, &dests[seen].to));
			if (!first) {
				first = malloc(o[i].len);
				assert_non_null(first);
				memcpy(first, o[i].buf, o[i].len);
				first_len = o[i].len;
			}
			assert_bytes_equal(o[i].buf, o[i].len, first, first_len);
			assert_ptr_equal(o[i].buf, o[0].buf);	/* the same copy */
		}
	}
	assert_int_equal(seen, N);
	assert_int_equal(batches, (N + GDOI_OUT_BATCH - 1) / GDOI_OUT_BATCH);
	assert_int_equal(gdoi_gcks_stats(k)->push_sent, N);
	/* the retransmission, taken in part: the rest is freed with the engine */
	gdoi_gcks_timer(k, at(1500));
	assert_int_equal(gdoi_gcks_next_outs(k, o, 3), 3);
	assert_bytes_equal(o[2].buf, o[2].len, first, first_len);
	struct gdoi_out one;
	assert_true(gdoi_gcks_next_out(k, &one));
	assert_true(same_addr(&one.to, &dests[3].to));
	free(first);
	free(dests);
	gdoi_gcks_free(k);
	group_free(&g);
}

static void feed_ack(struct gdoi_gcks *k, const struct gdoi_kek_policy *kek, uint32_t seq,
		     const struct gdoi_id *id, const struct gdoi_addr *from, uint64_t now, int want)
{
	uint8_t *ack = NULL;
	size_t len = 0;
	assert_int_equal(gdoi_push_ack_build(GDOI_REKEY_ACK_KEK_SHA256, kek, seq, id, &ack, &len), 0);
	assert_int_equal(gdoi_gcks_input(k, ack, len, from, at(now)), want);
	free(ack);
}

static void test_gcks_resends_only_to_members_without_ack(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256);
	struct gdoi_gcks *k = engine();
	struct gdoi_id a_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(a_ip, 4) };
	struct gdoi_id b_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(b_ip, 4) };
	static const uint8_t c_ip[4] = { 127, 0, 0, 13 };
	struct gdoi_id c_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(c_ip, 4) };
	struct gdoi_gcks_push_dest dests[] = { { a_addr, &a_id }, { b_addr, &b_id } };
	struct gdoi_gcks_push_cfg d = { .group_id = GROUP, .retransmits = 1, .interval_ms = 1000,
					.ack_method = GDOI_REKEY_ACK_KEK_SHA256 };
	assert_int_equal(push_to(k, &g, &d, 5, dests, 2, 0), 2);
	struct sent out;
	drain(k, &out);
	assert_int_equal(out.n, 2);
	sent_free(&out);

	/* a bad HASH: under another KEK key, same SPI */
	struct gdoi_kek_policy wrong = g.ks.kek;
	wrong.key[0] ^= 0x80;
	feed_ack(k, &wrong, 5, &a_id, &a_addr, 10, GDOI_ERR_AUTH);
	struct gdoi_gcks_event ev;
	assert_int_equal(count_events(k, GDOI_GCKS_EV_DROPPED, &ev), 1);
	assert_non_null(strstr(ev.reason, "HASH"));
	/* a SEQ that was never pushed */
	feed_ack(k, &g.ks.kek, 4, &a_id, &a_addr, 20, GDOI_ERR_NOT_FOUND);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_DROPPED, &ev), 1);
	assert_non_null(strstr(ev.reason, "SEQ"));
	/* a member the push did not go to */
	feed_ack(k, &g.ks.kek, 5, &c_id, &a_addr, 30, GDOI_ERR_NOT_FOUND);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_DROPPED, &ev), 1);
	assert_non_null(strstr(ev.reason, "member"));
	/* garbage with the ACK's exchange type */
	uint8_t junk[40] = { 0 };
	junk[17] = GDOI_ISAKMP_VERSION;
	junk[18] = GDOI_EXCH_PUSH_ACK;
	assert_int_not_equal(gdoi_gcks_input(k, junk, sizeof(junk), &a_addr, at(40)), 0);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_DROPPED, NULL), 1);
	assert_int_equal(gdoi_gcks_stats(k)->push_acked, 0);

	/* a good ACK from A: reported once, counted, A is not resent to */
	feed_ack(k, &g.ks.kek, 5, &a_id, &a_addr, 50, 0);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_ACKED, &ev), 1);
	assert_int_equal(ev.group_id, GROUP);
	assert_int_equal(ev.seq, 5);
	assert_memory_equal(ev.id_data, a_ip, 4);
	feed_ack(k, &g.ks.kek, 5, &a_id, &a_addr, 60, 0);	/* a repeat */
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_ACKED, NULL), 0);
	assert_int_equal(gdoi_gcks_stats(k)->push_acked, 1);
	assert_int_equal(gdoi_gcks_stats(k)->push_ack_dup, 1);
	gdoi_gcks_timer(k, at(1000));
	drain(k, &out);
	assert_int_equal(out.n, 1);
	assert_true(same_addr(&out.to[0], &b_addr));
	sent_free(&out);
	/* one interval after the last send B is reported, once */
	gdoi_gcks_timer(k, at(1999));
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_UNACKED, NULL), 0);
	gdoi_gcks_timer(k, at(2000));
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_UNACKED, &ev), 1);
	assert_memory_equal(ev.id_data, b_ip, 4);
	assert_int_equal(ev.seq, 5);
	assert_int_equal(gdoi_gcks_push_count(k), 0);
	/* a late ACK finds nothing */
	feed_ack(k, &g.ks.kek, 5, &b_id, &b_addr, 3000, GDOI_ERR_NOT_FOUND);

	/* every member acknowledging ends the push before its resends */
	assert_int_equal(push_to(k, &g, &d, 6, dests, 2, 4000), 2);
	drain(k, &out);
	sent_free(&out);
	feed_ack(k, &g.ks.kek, 6, &a_id, &a_addr, 4010, 0);
	feed_ack(k, &g.ks.kek, 6, &b_id, &b_addr, 4020, 0);
	assert_int_equal(gdoi_gcks_push_count(k), 0);
	gdoi_gcks_timer(k, at(5000));
	drain(k, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(count_events(k, GDOI_GCKS_EV_PUSH_UNACKED, NULL), 0);
	assert_int_equal(gdoi_gcks_stats(k)->push_acked, 3);
	gdoi_gcks_free(k);
	group_free(&g);
}

static void test_gcks_push_refuses_bad_calls(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256);
	struct gdoi_gcks *k = engine();
	struct gdoi_gcks_push_dest dests[] = { { mcast, NULL } };
	struct gdoi_gcks_push_cfg d = { .group_id = GROUP, .ack_method = GDOI_REKEY_ACK_LKH_SHA256 };
	assert_int_equal(push_to(k, &g, &d, 1, dests, 1, 0), GDOI_ERR_UNSUPPORTED);
	d.ack_method = 0;
	/* sent once, nothing to resend or wait for */
	assert_int_equal(push_to(k, &g, &d, 1, dests, 1, 0), 1);
	assert_int_equal(gdoi_gcks_push_count(k), 0);
	struct sent out;
	drain(k, &out);
	assert_int_equal(out.n, 1);
	sent_free(&out);
	gdoi_gcks_free(k);
	group_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcks_retransmits_push_at_deadline),
		cmocka_unit_test(test_gcks_resends_only_to_members_without_ack),
		cmocka_unit_test(test_gcks_push_refuses_bad_calls),
		cmocka_unit_test(test_gcks_push_batches_share_one_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
