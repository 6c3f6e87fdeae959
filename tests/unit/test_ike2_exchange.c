/*
 * test_ike2_exchange.c - our IKEv2 initiator against our responder, in
 * memory (gdoi/ike2.h): IKE_SA_INIT + IKE_AUTH (PSK) for each group and each
 * SK cipher, the cookie path (RFC 7296 §2.6), INVALID_KE_PAYLOAD (§1.2),
 * retransmission with backoff, a tampered message dropped, a wrong PSK,
 * RFC 7383 fragmentation of a large IKE_AUTH, the hooks G-IKEv2 uses
 * (payloads in IKE_AUTH, a further exchange), and the Delete of the IKE SA.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct gdoi_addr ADDR_I = { 4, { 127, 0, 0, 1 }, 18560 };
static const struct gdoi_addr ADDR_I2 = { 4, { 127, 0, 0, 2 }, 18561 };
static const struct gdoi_addr ADDR_R = { 4, { 127, 0, 0, 1 }, 18562 };

struct side {
	struct gdoi_ike2_config cfg;
	struct gdoi_ike2_psk psk;
	struct gdoi_ike2_suite suites[4];
};

static void side_init(struct side *s, const char *id, const char *psk,
		      const struct gdoi_ike2_suite *suites, size_t n)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->suites, suites, n * sizeof(*suites));
	s->cfg.suites = s->suites;
	s->cfg.nsuites = n;
	s->cfg.local_id.type = GDOI_IKE2_ID_FQDN;
	s->cfg.local_id.data = GDOI_BYTES(id, strlen(id));
	s->psk.key = GDOI_BYTES(psk, strlen(psk));
	s->cfg.psks = &s->psk;
	s->cfg.npsks = 1;
}

static const struct gdoi_ike2_suite GCM19 = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };

/* Moves every datagram of from to the other side; returns the count moved.
 * to_resp: deliver to the responder, else to the initiator SA. */
struct net {
	struct gdoi_ike2_responder *r;
	struct gdoi_ike2_sa *i;
	struct gdoi_ike2_sa *rsa;	/* the responder's SA last seen */
	struct gdoi_ike2_result ri, rr;	/* last results */
	uint64_t now;
	bool i_est, r_est;
	uint16_t i_notify;
	int fail_i, fail_r;
};

static void deliver(struct net *n, bool to_resp, struct gdoi_ike2_result *from)
{
	struct gdoi_ike2_result src = *from;
	memset(from, 0, sizeof(*from));
	for (size_t k = 0; k < src.nout; k++) {
		if (to_resp) {
			struct gdoi_ike2_sa *sa = NULL;
			gdoi_ike2_result_clear(&n->rr);
			gdoi_ike2_responder_input(n->r, src.out[k], src.out_len[k], &ADDR_I, n->now, &n->rr, &sa);
			if (sa)
				n->rsa = sa;
			if (n->rr.event == GDOI_IKE2_EV_ESTABLISHED)
				n->r_est = true;
			if (n->rr.event == GDOI_IKE2_EV_FAILED)
				n->fail_r++;
			if (n->rr.nout)
				deliver(n, false, &n->rr);
		} else {
			gdoi_ike2_result_clear(&n->ri);
			gdoi_ike2_input(n->i, src.out[k], src.out_len[k], n->now, &n->ri);
			if (n->ri.event == GDOI_IKE2_EV_ESTABLISHED)
				n->i_est = true;
			if (n->ri.event == GDOI_IKE2_EV_FAILED) {
				n->fail_i++;
				n->i_notify = n->ri.notify;
			}
			if (n->ri.nout)
				deliver(n, true, &n->ri);
		}
	}
	for (size_t k = 0; k < src.nout; k++)
		free(src.out[k]);
}

static void run(struct net *n, struct side *si, struct side *sr)
{
	struct gdoi_ike2_result res = { 0 };
	memset(n, 0, sizeof(*n));
	n->now = 1000;
	n->r = gdoi_ike2_responder_new(&sr->cfg, n->now);
	assert_non_null(n->r);
	assert_int_equal(gdoi_ike2_initiate(&si->cfg, &ADDR_R, n->now, &n->i, &res), GDOI_OK);
	deliver(n, true, &res);
}

static void done(struct net *n)
{
	gdoi_ike2_result_clear(&n->ri);
	gdoi_ike2_result_clear(&n->rr);
	gdoi_ike2_free(n->i);
	gdoi_ike2_responder_free(n->r);
}

static void assert_same_keys(const struct net *n)
{
	const struct gdoi_ike2_keys *a = gdoi_ike2_keys(n->i), *b = gdoi_ike2_keys(n->rsa);
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a->sk_d, b->sk_d, sizeof(a->sk_d));
	assert_memory_equal(a->sk_ei, b->sk_ei, sizeof(a->sk_ei));
	assert_memory_equal(a->sk_er, b->sk_er, sizeof(a->sk_er));
	assert_memory_equal(a->sk_ai, b->sk_ai, sizeof(a->sk_ai));
	assert_memory_equal(a->sk_pr, b->sk_pr, sizeof(a->sk_pr));
	assert_memory_equal(gdoi_ike2_sk_d(n->i).ptr, gdoi_ike2_sk_d(n->rsa).ptr, a->prf_len);
}

/* Both sides for suite, a responder, and the initiator's first request in res. */
static struct gdoi_ike2_responder *start(struct side *si, struct side *sr,
					 const struct gdoi_ike2_suite *suite, struct gdoi_ike2_sa **i,
					 struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_responder *r;
	side_init(si, "gm.example", "k", suite, 1);
	side_init(sr, "ks.example", "k", suite, 1);
	r = gdoi_ike2_responder_new(&sr->cfg, 0);
	assert_non_null(r);
	assert_int_equal(gdoi_ike2_initiate(&si->cfg, &ADDR_R, 0, i, res), GDOI_OK);
	return r;
}

static void test_every_group_and_cipher_establishes(void **state)
{
	static const uint16_t groups[] = { 14, 19, 20, 31 };
	static const struct gdoi_ike2_suite ciphers[] = {
		{ GDOI_IKE2_ENCR_AES_GCM_16, 128, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 0 },
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_384, 0, 0 },
		{ GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256, GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 0 },
		{ GDOI_IKE2_ENCR_AES_CBC, 256, GDOI_IKE2_PRF_HMAC_SHA2_384, GDOI_IKE2_AUTH_HMAC_SHA2_384_192, 0 },
		{ GDOI_IKE2_ENCR_AES_CBC, 192, GDOI_IKE2_PRF_HMAC_SHA2_512, GDOI_IKE2_AUTH_HMAC_SHA2_512_256, 0 },
	};
	(void)state;
	for (size_t g = 0; g < N(groups); g++)
		for (size_t c = 0; c < N(ciphers); c++) {
			struct side si, sr;
			struct gdoi_ike2_suite s = ciphers[c];
			struct net n;
			s.group = groups[g];
			side_init(&si, "gm.example", "secret psk", &s, 1);
			side_init(&sr, "ks.example", "secret psk", &s, 1);
			run(&n, &si, &sr);
			if (!n.i_est || !n.r_est)
				fail_msg("group %u cipher %zu: i %d r %d (%s / %s)", groups[g], c, n.i_est,
					 n.r_est, n.ri.reason, n.rr.reason);
			assert_true(gdoi_ike2_established(n.i));
			assert_true(gdoi_ike2_established(n.rsa));
			assert_same_keys(&n);
			assert_memory_equal(gdoi_ike2_suite(n.rsa), &s, sizeof(s));
			assert_int_equal(gdoi_ike2_peer_id(n.rsa)->type, GDOI_IKE2_ID_FQDN);
			assert_memory_equal(gdoi_ike2_peer_id(n.rsa)->data.ptr, "gm.example", 10);
			assert_memory_equal(gdoi_ike2_peer_id(n.i)->data.ptr, "ks.example", 10);
			assert_int_equal(gdoi_ike2_responder_half_open(n.r), 0);
			done(&n);
		}
}

static void test_wrong_psk_fails_both_sides(void **state)
{
	struct side si, sr;
	struct net n;
	(void)state;
	side_init(&si, "gm.example", "secret psk", &GCM19, 1);
	side_init(&sr, "ks.example", "another psk", &GCM19, 1);
	run(&n, &si, &sr);
	assert_false(n.i_est);
	assert_false(n.r_est);
	assert_int_equal(n.fail_r, 1);
	assert_int_equal(n.fail_i, 1);
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_true(gdoi_ike2_dead(n.i));
	done(&n);
}

static void test_invalid_ke_makes_initiator_retry_with_asked_group(void **state)
{
	static const struct gdoi_ike2_suite offer[] = {
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 },
		{ GDOI_IKE2_ENCR_AES_GCM_16, 256, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 31 },
	};
	struct side si, sr;
	struct net n;
	(void)state;
	side_init(&si, "gm.example", "k", offer, 2);
	side_init(&sr, "ks.example", "k", &offer[1], 1);	/* X25519 only */
	run(&n, &si, &sr);
	if (!n.i_est || !n.r_est)
		fail_msg("i: %s / r: %s", n.ri.reason, n.rr.reason);
	assert_int_equal(gdoi_ike2_suite(n.i)->group, 31);
	assert_int_equal(gdoi_ike2_suite(n.rsa)->group, 31);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 1);	/* the first try kept no state */
	done(&n);
}

static void test_no_common_proposal_fails(void **state)
{
	struct gdoi_ike2_suite other = GCM19;
	struct side si, sr;
	struct net n;
	(void)state;
	other.encr = GDOI_IKE2_ENCR_AES_CBC;
	other.integ = GDOI_IKE2_AUTH_HMAC_SHA2_256_128;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	side_init(&sr, "ks.example", "k", &other, 1);
	run(&n, &si, &sr);
	assert_false(n.i_est);
	assert_int_equal(n.i_notify, GDOI_IKE2_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 0);
	done(&n);
}

static void test_cookie_asked_above_threshold_and_returned(void **state)
{
	struct side si, sr;
	struct gdoi_ike2_result res = { 0 }, rr = { 0 };
	struct gdoi_ike2_sa *first = NULL, *sa = NULL;
	struct net n;
	(void)state;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	side_init(&sr, "ks.example", "k", &GCM19, 1);
	sr.cfg.cookie_threshold = 1;
	memset(&n, 0, sizeof(n));
	n.now = 1000;
	n.r = gdoi_ike2_responder_new(&sr.cfg, n.now);
	/* One initiator leaves its SA half open (its IKE_AUTH never comes). */
	assert_int_equal(gdoi_ike2_initiate(&si.cfg, &ADDR_R, n.now, &first, &res), GDOI_OK);
	gdoi_ike2_responder_input(n.r, res.out[0], res.out_len[0], &ADDR_I2, n.now, &rr, &sa);
	assert_int_equal(rr.nout, 1);
	assert_int_equal(gdoi_ike2_responder_half_open(n.r), 1);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_result_clear(&rr);
	/* Now the responder answers statelessly with a COOKIE first. */
	assert_int_equal(gdoi_ike2_initiate(&si.cfg, &ADDR_R, n.now, &n.i, &res), GDOI_OK);
	assert_int_equal(gdoi_ike2_responder_input(n.r, res.out[0], res.out_len[0], &ADDR_I, n.now, &rr,
						   &sa), GDOI_ERR_LIMIT);
	assert_int_equal(rr.notify, GDOI_IKE2_N_COOKIE);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 1);
	/* The same cookie from another address is refused. */
	{
		struct gdoi_ike2_result r2 = { 0 }, r3 = { 0 };
		gdoi_ike2_input(n.i, rr.out[0], rr.out_len[0], n.now, &r2);
		assert_int_equal(r2.nout, 1);
		assert_int_equal(gdoi_ike2_responder_input(n.r, r2.out[0], r2.out_len[0], &ADDR_I2, n.now,
							   &r3, &sa), GDOI_ERR_LIMIT);
		assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 1);
		gdoi_ike2_result_clear(&r3);
		/* From the right address it is accepted and the exchange completes. */
		deliver(&n, true, &r2);
	}
	gdoi_ike2_result_clear(&rr);
	assert_true(n.i_est);
	assert_true(n.r_est);
	assert_true(gdoi_ike2_established(n.rsa));
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 2);
	assert_int_equal(gdoi_ike2_responder_half_open(n.r), 1);
	/* The half-open SA times out. */
	gdoi_ike2_responder_expire(n.r, n.now + 31000, NULL);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 1);
	assert_int_equal(gdoi_ike2_responder_half_open(n.r), 0);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_free(first);
	done(&n);
}

static void test_retransmission_backoff_and_give_up(void **state)
{
	struct side si;
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *sa;
	uint64_t t = 1000, prev = 0;
	uint64_t gaps[8];
	size_t ng = 0;
	(void)state;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	si.cfg.retransmit_ms = 100;
	si.cfg.max_transmits = 4;
	assert_int_equal(gdoi_ike2_initiate(&si.cfg, &ADDR_R, t, &sa, &res), GDOI_OK);
	uint8_t *first = malloc(res.out_len[0]);
	size_t flen = res.out_len[0];
	memcpy(first, res.out[0], flen);
	gdoi_ike2_result_clear(&res);
	prev = t;
	for (;;) {
		uint64_t d = gdoi_ike2_next_timer(sa);
		assert_true(d > prev);
		gdoi_ike2_timer(sa, d - 1, &res);
		assert_int_equal(res.nout, 0);	/* not before its time */
		gdoi_ike2_timer(sa, d, &res);
		if (res.event == GDOI_IKE2_EV_FAILED)
			break;
		assert_int_equal(res.nout, 1);
		assert_int_equal(res.out_len[0], flen);
		assert_memory_equal(res.out[0], first, flen);	/* the same request again */
		gaps[ng++] = d - prev;
		prev = d;
		gdoi_ike2_result_clear(&res);
	}
	assert_int_equal(ng, 3);	/* 4 transmissions in all */
	assert_int_equal(gaps[0], 100);
	assert_int_equal(gaps[1], 200);
	assert_int_equal(gaps[2], 400);
	assert_true(gdoi_ike2_dead(sa));
	gdoi_ike2_result_clear(&res);
	free(first);
	gdoi_ike2_free(sa);
}

/* A retransmitted IKE_AUTH gets the same response; the responder SA is unchanged. */
static void test_responder_answers_retransmitted_requests_again(void **state)
{
	struct side si, sr;
	struct gdoi_ike2_result res = { 0 }, rr = { 0 }, ri = { 0 }, rr2 = { 0 };
	struct gdoi_ike2_sa *i, *rsa = NULL;
	struct gdoi_ike2_responder *r;
	(void)state;
	r = start(&si, &sr, &GCM19, &i, &res);
	gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &rsa);
	/* IKE_SA_INIT again: the same answer, no second SA */
	gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr2, &rsa);
	assert_int_equal(rr2.nout, 1);
	assert_int_equal(rr2.out_len[0], rr.out_len[0]);
	assert_memory_equal(rr2.out[0], rr.out[0], rr.out_len[0]);
	assert_int_equal(gdoi_ike2_responder_sa_count(r), 1);
	gdoi_ike2_result_clear(&rr2);
	gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &ri);	/* -> IKE_AUTH */
	assert_int_equal(ri.nout, 1);
	gdoi_ike2_result_clear(&rr);
	gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &rr, &rsa);
	assert_int_equal(rr.event, GDOI_IKE2_EV_ESTABLISHED);
	gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &rr2, &rsa);
	assert_int_equal(rr2.event, GDOI_IKE2_EV_NONE);
	assert_int_equal(rr2.err, GDOI_ERR_REPLAY);
	assert_int_equal(rr2.nout, 1);
	assert_memory_equal(rr2.out[0], rr.out[0], rr.out_len[0]);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_input(i, rr2.out[0], rr2.out_len[0], 0, &res);
	assert_int_equal(res.event, GDOI_IKE2_EV_ESTABLISHED);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &res);	/* a duplicate response: dropped */
	assert_int_equal(res.event, GDOI_IKE2_EV_NONE);
	assert_int_equal(res.nout, 0);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_result_clear(&rr);
	gdoi_ike2_result_clear(&rr2);
	gdoi_ike2_result_clear(&ri);
	gdoi_ike2_free(i);
	gdoi_ike2_responder_free(r);
}

/* Every octet of the protected IKE_AUTH request flipped: each one dropped,
 * the responder stays half open, and the untouched one then works. */
static void test_tampered_ike_auth_dropped(void **state)
{
	static const struct gdoi_ike2_suite cbc = { GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256,
						    GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 19 };
	const struct gdoi_ike2_suite *suites[] = { &GCM19, &cbc };
	(void)state;
	for (size_t s = 0; s < 2; s++) {
		struct side si, sr;
		struct gdoi_ike2_result res = { 0 }, rr = { 0 }, ri = { 0 };
		struct gdoi_ike2_sa *i, *rsa = NULL;
		struct gdoi_ike2_responder *r;
		r = start(&si, &sr, suites[s], &i, &res);
		gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &rsa);
		gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &ri);
		assert_int_equal(ri.nout, 1);
		for (size_t k = GDOI_IKE2_HDR_LEN; k < ri.out_len[0]; k++) {
			struct gdoi_ike2_result x = { 0 };
			ri.out[0][k] ^= 0x01;
			gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &x, &rsa);
			ri.out[0][k] ^= 0x01;
			assert_int_not_equal(x.event, GDOI_IKE2_EV_ESTABLISHED);
			assert_int_equal(x.nout, 0);
			gdoi_ike2_result_clear(&x);
		}
		assert_int_equal(gdoi_ike2_responder_half_open(r), 1);
		gdoi_ike2_result_clear(&rr);
		gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &rr, &rsa);
		assert_int_equal(rr.event, GDOI_IKE2_EV_ESTABLISHED);
		gdoi_ike2_result_clear(&res);
		gdoi_ike2_result_clear(&rr);
		gdoi_ike2_result_clear(&ri);
		gdoi_ike2_free(i);
		gdoi_ike2_responder_free(r);
	}
}

/* --- hooks: G-IKEv2 style payloads in IKE_AUTH and a further exchange --- */

#define PL_TEST 51	/* stands for a G-IKEv2 payload type */
static const uint8_t extra_types[] = { PL_TEST };
static uint8_t big[6000];

struct hookstate {
	size_t auth_req_seen, auth_resp_seen, requests, responses;
	size_t big_len;
	bool big_ok;
};

static int h_auth_add(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out)
{
	(void)ctx; (void)sa;
	return gdoi_ike2_plist_add(out, PL_TEST, false, "member-asks", 11);
}

static int h_auth_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exch,
			  const struct gdoi_ike2_payload *in, size_t nin,
			  struct gdoi_ike2_plist *out, uint16_t *notify)
{
	struct hookstate *h = ctx;
	(void)sa; (void)notify;
	assert_int_equal(exch, GDOI_IKE2_EXCH_IKE_AUTH);
	for (size_t i = 0; i < nin; i++)
		if (in[i].type == PL_TEST && in[i].body.len == 11 && memcmp(in[i].body.ptr, "member-asks", 11) == 0)
			h->auth_req_seen++;
	return gdoi_ike2_plist_add(out, PL_TEST, false, big, h->big_len);
}

static int h_auth_response(void *ctx, struct gdoi_ike2_sa *sa, const struct gdoi_ike2_payload *in,
			   size_t nin, uint16_t *notify)
{
	struct hookstate *h = ctx;
	(void)sa; (void)notify;
	for (size_t i = 0; i < nin; i++)
		if (in[i].type == PL_TEST) {
			h->auth_resp_seen++;
			h->big_ok = in[i].body.len == h->big_len && memcmp(in[i].body.ptr, big, h->big_len) == 0;
		}
	return GDOI_OK;
}

static int h_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exch,
		     const struct gdoi_ike2_payload *in, size_t nin,
		     struct gdoi_ike2_plist *out, uint16_t *notify)
{
	struct hookstate *h = ctx;
	(void)sa; (void)notify;
	assert_int_equal(exch, 40);
	assert_int_equal(nin, 1);
	assert_memory_equal(in[0].body.ptr, "register", 8);
	h->requests++;
	return gdoi_ike2_plist_add(out, PL_TEST, false, "registered", 10);
}

static void h_response(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exch,
		       const struct gdoi_ike2_payload *in, size_t nin)
{
	struct hookstate *h = ctx;
	(void)sa;
	if (exch == 40 && nin == 1 && in[0].body.len == 10 && memcmp(in[0].body.ptr, "registered", 10) == 0)
		h->responses++;
}

static void hooked(struct side *s, struct hookstate *h)
{
	s->cfg.hooks.auth_add = h_auth_add;
	s->cfg.hooks.auth_request = h_auth_request;
	s->cfg.hooks.auth_response = h_auth_response;
	s->cfg.hooks.request = h_request;
	s->cfg.hooks.response = h_response;
	s->cfg.hooks.ctx = h;
	s->cfg.extra_payloads = extra_types;
	s->cfg.nextra_payloads = 1;
	s->cfg.fragmentation = true;
}

static void test_hooks_fragmented_auth_further_exchange_and_delete(void **state)
{
	static const struct gdoi_ike2_suite cbc = { GDOI_IKE2_ENCR_AES_CBC, 256, GDOI_IKE2_PRF_HMAC_SHA2_256,
						    GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 19 };
	const struct gdoi_ike2_suite *suites[] = { &GCM19, &cbc };
	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	for (size_t s = 0; s < 2; s++) {
		struct side si, sr;
		struct hookstate hi = { 0 }, hr = { 0 };
		struct gdoi_ike2_plist pl = { 0 };
		struct gdoi_ike2_result res = { 0 };
		struct net n;
		side_init(&si, "gm.example", "k", suites[s], 1);
		side_init(&sr, "ks.example", "k", suites[s], 1);
		hooked(&si, &hi);
		hooked(&sr, &hr);
		hi.big_len = hr.big_len = sizeof(big);
		run(&n, &si, &sr);
		assert_true(n.i_est);
		assert_true(n.r_est);
		assert_int_equal(hr.auth_req_seen, 1);
		assert_int_equal(hi.auth_resp_seen, 1);
		assert_true(hi.big_ok);
		/* the responder's IKE_AUTH answer went out in fragments */
		/* a further exchange of another type on the SA */
		assert_int_equal(gdoi_ike2_plist_add(&pl, PL_TEST, false, "register", 8), GDOI_OK);
		assert_int_equal(gdoi_ike2_send_request(n.i, 40, &pl, n.now, &res), GDOI_OK);
		assert_true(gdoi_ike2_request_pending(n.i));
		assert_int_equal(gdoi_ike2_send_request(n.i, 40, &pl, n.now, &n.ri), GDOI_ERR_STATE);
		deliver(&n, true, &res);
		assert_int_equal(hr.requests, 1);
		assert_int_equal(hi.responses, 1);
		assert_false(gdoi_ike2_request_pending(n.i));
		/* the responder may start one too (GSA_INBAND_REKEY) */
		assert_int_equal(gdoi_ike2_send_request(n.rsa, 40, &pl, n.now, &res), GDOI_OK);
		deliver(&n, false, &res);
		assert_int_equal(hi.requests, 1);
		assert_int_equal(hr.responses, 1);
		/* Delete of the IKE SA */
		assert_int_equal(gdoi_ike2_send_delete(n.i, n.now, &res), GDOI_OK);
		assert_true(gdoi_ike2_dead(n.i));
		deliver(&n, true, &res);
		assert_int_equal(n.rr.event, GDOI_IKE2_EV_NONE);	/* reset by the reply delivery */
		assert_true(gdoi_ike2_dead(n.rsa));
		gdoi_ike2_responder_expire(n.r, n.now, NULL);
		assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 0);
		gdoi_ike2_plist_free(&pl);
		done(&n);
	}
}

static void test_large_auth_is_sent_in_fragments_of_bounded_size(void **state)
{
	struct side si, sr;
	struct hookstate hi = { 0 }, hr = { 0 };
	struct gdoi_ike2_result res = { 0 }, rr = { 0 }, ri = { 0 }, rr2 = { 0 };
	struct gdoi_ike2_sa *i, *rsa = NULL;
	struct gdoi_ike2_responder *r;
	(void)state;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	side_init(&sr, "ks.example", "k", &GCM19, 1);
	hooked(&si, &hi);
	hooked(&sr, &hr);
	hi.big_len = hr.big_len = sizeof(big);
	sr.cfg.fragment_size = 576;
	r = gdoi_ike2_responder_new(&sr.cfg, 0);
	assert_int_equal(gdoi_ike2_initiate(&si.cfg, &ADDR_R, 0, &i, &res), GDOI_OK);
	gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &rsa);
	gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &ri);
	gdoi_ike2_result_clear(&rr);
	gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &rr, &rsa);
	assert_int_equal(rr.event, GDOI_IKE2_EV_ESTABLISHED);
	assert_true(rr.nout >= sizeof(big) / 576);
	for (size_t k = 0; k < rr.nout; k++) {
		assert_true(rr.out_len[k] <= 576);
		assert_int_equal(rr.out[k][16], GDOI_IKE2_PL_SKF);
	}
	/* delivered in reverse order, with a duplicate: reassembled once */
	gdoi_ike2_result_clear(&res);
	for (size_t k = rr.nout; k-- > 0;) {
		gdoi_ike2_result_clear(&res);
		gdoi_ike2_input(i, rr.out[k], rr.out_len[k], 0, &res);
		if (k == rr.nout - 1) {
			gdoi_ike2_result_clear(&res);
			gdoi_ike2_input(i, rr.out[k], rr.out_len[k], 0, &res);
			assert_int_equal(res.err, GDOI_ERR_REPLAY);
		}
		assert_int_equal(res.event, k == 0 ? GDOI_IKE2_EV_ESTABLISHED : GDOI_IKE2_EV_NONE);
	}
	assert_true(hi.big_ok);
	/* a retransmitted fragmented request: the whole answer once, on fragment 1 */
	gdoi_ike2_responder_input(r, ri.out[0], ri.out_len[0], &ADDR_I, 0, &rr2, &rsa);
	assert_int_equal(rr2.nout, rr.nout);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_result_clear(&rr);
	gdoi_ike2_result_clear(&rr2);
	gdoi_ike2_result_clear(&ri);
	gdoi_ike2_free(i);
	gdoi_ike2_responder_free(r);
}

/* A child SA asked in IKE_AUTH (as charon does): SA and TSi/TSr in the
 * request, no hook takes them: the answer carries N(NO_PROPOSAL_CHOSEN),
 * which leaves the IKE SA up (RFC 7296 §1.2). */
static const uint8_t child_sa[] = { 0, 0, 0, 20, 1, GDOI_IKE2_PROTO_ESP, 4, 1, 0xde, 0xad, 0xbe, 0xef,
				    0, 0, 0, 8, GDOI_IKE2_TT_ENCR, 0, 0, 20 };
static int child_add(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out)
{
	(void)ctx; (void)sa;
	return gdoi_ike2_plist_add(out, GDOI_IKE2_PL_SA, false, child_sa, sizeof(child_sa));
}
static int child_resp(void *ctx, struct gdoi_ike2_sa *sa, const struct gdoi_ike2_payload *in,
		      size_t nin, uint16_t *notify)
{
	int *seen = ctx;
	(void)sa; (void)notify;
	for (size_t i = 0; i < nin; i++)
		if (in[i].type == GDOI_IKE2_PL_NOTIFY && in[i].body.len == 4 &&
		    gdoi_get_u16(in[i].body.ptr + 2) == GDOI_IKE2_N_NO_PROPOSAL_CHOSEN)
			(*seen)++;
	return GDOI_OK;
}

static void test_ike_auth_with_child_request_answers_without_child(void **state)
{
	struct side si, sr;
	struct net n;
	int seen = 0;
	(void)state;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	side_init(&sr, "ks.example", "k", &GCM19, 1);
	si.cfg.hooks.auth_add = child_add;
	si.cfg.hooks.auth_response = child_resp;
	si.cfg.hooks.ctx = &seen;
	run(&n, &si, &sr);
	assert_true(n.i_est);
	assert_true(n.r_est);
	assert_int_equal(seen, 1);
	done(&n);
}

/* An unknown payload with the critical bit in IKE_SA_INIT: answered with
 * UNSUPPORTED_CRITICAL_PAYLOAD naming its type, no state kept (§2.5). */
static void test_unknown_critical_payload_answered(void **state)
{
	struct side si, sr;
	struct gdoi_ike2_result res = { 0 }, rr = { 0 };
	struct gdoi_ike2_sa *i, *sa = NULL;
	struct gdoi_ike2_responder *r;
	(void)state;
	r = start(&si, &sr, &GCM19, &i, &res);
	assert_int_equal(res.out[0][16], GDOI_IKE2_PL_SA);
	res.out[0][16] = 222;			/* the first payload becomes unknown ... */
	res.out[0][28 + 1] = GDOI_IKE2_CRITICAL;	/* ... and critical */
	assert_int_equal(gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &sa),
			 GDOI_ERR_PAYLOAD_TYPE);
	assert_int_equal(rr.notify, GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_int_equal(rr.nout, 1);
	/* N body: proto 0, SPI size 0, type, data = the payload type */
	assert_int_equal(rr.out_len[0], 28 + 4 + 4 + 1);
	assert_int_equal(gdoi_get_u16(rr.out[0] + 28 + 6), GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_int_equal(rr.out[0][28 + 8], 222);
	assert_int_equal(gdoi_ike2_responder_sa_count(r), 0);
	/* the initiator takes the error as final */
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &res);
	assert_int_equal(res.event, GDOI_IKE2_EV_FAILED);
	assert_int_equal(res.notify, GDOI_IKE2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	gdoi_ike2_result_clear(&res);
	gdoi_ike2_result_clear(&rr);
	gdoi_ike2_free(i);
	gdoi_ike2_responder_free(r);
}

/* The Non-ESP Marker (charon puts it before every message to a port other
 * than 500): an initiator with nonesp_marker sends it; the responder strips
 * it and marks its answers; an unmarked peer gets unmarked answers. */
static void test_nonesp_marker_mirrored(void **state)
{
	for (int marked = 0; marked < 2; marked++) {
		struct side si, sr;
		struct gdoi_ike2_result res = { 0 }, rr = { 0 };
		struct gdoi_ike2_sa *i, *rsa = NULL;
		struct gdoi_ike2_responder *r;
		static const uint8_t zero[4];
		(void)state;
		side_init(&si, "gm.example", "k", &GCM19, 1);
		side_init(&sr, "ks.example", "k", &GCM19, 1);
		si.cfg.nonesp_marker = marked;
		r = gdoi_ike2_responder_new(&sr.cfg, 0);
		assert_int_equal(gdoi_ike2_initiate(&si.cfg, &ADDR_R, 0, &i, &res), GDOI_OK);
		assert_int_equal(memcmp(res.out[0], zero, 4) == 0, marked);
		gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &rsa);
		assert_int_equal(rr.nout, 1);
		assert_int_equal(memcmp(rr.out[0], zero, 4) == 0, marked);
		gdoi_ike2_result_clear(&res);
		gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &res);	/* IKE_AUTH */
		assert_int_equal(res.nout, 1);
		assert_int_equal(memcmp(res.out[0], zero, 4) == 0, marked);
		gdoi_ike2_result_clear(&rr);
		gdoi_ike2_responder_input(r, res.out[0], res.out_len[0], &ADDR_I, 0, &rr, &rsa);
		assert_int_equal(rr.event, GDOI_IKE2_EV_ESTABLISHED);
		assert_int_equal(memcmp(rr.out[0], zero, 4) == 0, marked);
		gdoi_ike2_result_clear(&res);
		gdoi_ike2_input(i, rr.out[0], rr.out_len[0], 0, &res);
		assert_int_equal(res.event, GDOI_IKE2_EV_ESTABLISHED);
		/* the responder's own request (GSA_INBAND_REKEY) is marked too */
		gdoi_ike2_result_clear(&res);
		assert_int_equal(gdoi_ike2_send_delete(rsa, 0, &res), GDOI_OK);
		assert_int_equal(memcmp(res.out[0], zero, 4) == 0, marked);
		gdoi_ike2_result_clear(&res);
		gdoi_ike2_result_clear(&rr);
		gdoi_ike2_free(i);
		gdoi_ike2_responder_free(r);
	}
}

/* One more IKE SA of si on n's responder (n->i replaced). */
static void establish_again(struct net *n, struct side *si)
{
	struct gdoi_ike2_result res = { 0 };
	gdoi_ike2_free(n->i);
	n->i = NULL;
	n->i_est = n->r_est = false;
	assert_int_equal(gdoi_ike2_initiate(&si->cfg, &ADDR_R, n->now, &n->i, &res), GDOI_OK);
	deliver(n, true, &res);
	assert_true(n->i_est);
	assert_true(n->r_est);
}

/* RFC 7296 §2.4: an IKE SA established with INITIAL_CONTACT replaces the
 * responder's other IKE SAs with that authenticated identity (a member that
 * registers again would otherwise leave one behind each time); another
 * identity's SA, and SAs set up without the notify, stay. */
static void test_initial_contact_replaces_the_peers_older_sas(void **state)
{
	struct side si, other, sr;
	struct net n;
	struct gdoi_ike2_sa *b;
	(void)state;
	side_init(&si, "gm.example", "k", &GCM19, 1);
	side_init(&other, "gm2.example", "k", &GCM19, 1);
	side_init(&sr, "ks.example", "k", &GCM19, 1);
	run(&n, &other, &sr);
	assert_true(n.r_est);
	b = n.rsa;
	establish_again(&n, &si);
	establish_again(&n, &si);	/* no INITIAL_CONTACT: both kept */
	gdoi_ike2_responder_expire(n.r, n.now, NULL);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 3);
	si.cfg.initial_contact = true;
	establish_again(&n, &si);
	gdoi_ike2_responder_expire(n.r, n.now, NULL);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 2);
	assert_true(gdoi_ike2_established(n.rsa));
	assert_true(gdoi_ike2_established(b));
	/* the freed SAs left the identity table: once more, only the last goes */
	establish_again(&n, &si);
	gdoi_ike2_responder_expire(n.r, n.now, NULL);
	assert_int_equal(gdoi_ike2_responder_sa_count(n.r), 2);
	assert_true(gdoi_ike2_established(b));
	done(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_group_and_cipher_establishes),
		cmocka_unit_test(test_wrong_psk_fails_both_sides),
		cmocka_unit_test(test_invalid_ke_makes_initiator_retry_with_asked_group),
		cmocka_unit_test(test_no_common_proposal_fails),
		cmocka_unit_test(test_cookie_asked_above_threshold_and_returned),
		cmocka_unit_test(test_retransmission_backoff_and_give_up),
		cmocka_unit_test(test_responder_answers_retransmitted_requests_again),
		cmocka_unit_test(test_tampered_ike_auth_dropped),
		cmocka_unit_test(test_hooks_fragmented_auth_further_exchange_and_delete),
		cmocka_unit_test(test_large_auth_is_sent_in_fragments_of_bounded_size),
		cmocka_unit_test(test_ike_auth_with_child_request_answers_without_child),
		cmocka_unit_test(test_unknown_critical_payload_answered),
		cmocka_unit_test(test_nonesp_marker_mirrored),
		cmocka_unit_test(test_initial_contact_replaces_the_peers_older_sas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
