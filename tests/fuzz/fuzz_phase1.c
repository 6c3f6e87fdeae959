/*
 * fuzz_phase1.c - libFuzzer target for the IKEv1 Main Mode state machines
 * (phase1.h), initiator and stateless-cookie responder, as an active attacker
 * on the network between them.
 *
 * One input = one exchange between a real initiator and a real responder
 * (pre-shared key; groups 19 and 2 only, so that DH stays cheap). The network
 * holds, for each direction, the last datagram sent and not yet delivered;
 * the input is a script that delivers, mutates, drops, replays or reflects
 * those datagrams, injects its own (optionally carrying the live cookies),
 * advances the clock and runs the timers, and has either side send a
 * protected Notify or Delete once established.
 *
 * Input: octet 0 = configuration (bits 0-1 the initiator's offer: g19, g2,
 * g19+g2, g2+g19; bit 2 the responder prefers the legacy suite; bit 3 short
 * nonces; bit 4 pump the remaining datagrams unmodified at the end), then
 * at most MAX_OPS chunks: op (1), length (2, big endian), data (length,
 * cut to what remains). Op bits 0-2 choose the action (see run_op), bit 5
 * sends responder-bound datagrams from another address, bit 6 writes the
 * initiator's cookie into data[0..8], bit 7 the last responder cookie seen
 * into data[8..16].
 *
 * Invariants (abort() on violation), all of which hold whatever the
 * attacker does, because it knows neither the PSK nor a DH private value
 * and sees no responder cookie but those it is handed:
 *  - every datagram either side emits has a valid ISAKMP header whose Length
 *    is the datagram's, and parses in full when it is not encrypted;
 *  - the responder holds SAs only for cookie pairs it has itself sent out
 *    (message 1 costs no state; no SA without a returned cookie);
 *  - a responder SA that reports ESTABLISHED has the initiator's cookies and
 *    the initiator's keys (SKEYID_a, SKEYID_e, encryption key);
 *  - the initiator established implies the responder established an SA with
 *    its cookies and the same keys;
 *  - EV_NOTIFY / EV_DELETED only after a side really sent that Notify type /
 *    a Delete (replays and reflections are possible in IKEv1, forgeries not);
 *  - an established SA dies only from its lifetime or an authenticated Delete;
 *  - an input that only delivers the datagrams unmodified establishes both.
 * LeakSanitizer checks that everything is freed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/ike_keys.h"
#include "gdoi/numbers.h"
#include "gdoi/phase1.h"
#include "gdoi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64
#define MAX_HIST 32
#define MAX_PAIRS 256
#define LIFETIME 600

static const struct gdoi_addr gm_addr = { 4, { 127, 0, 0, 1 }, 848 };
static const struct gdoi_addr gm2_addr = { 4, { 127, 0, 0, 3 }, 849 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };
static const char psk_key[] = "fuzz pre-shared key";

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

struct dgram {
	uint8_t *p;
	size_t len;
	bool to_r;	/* direction: initiator -> responder */
};

struct net {
	struct gdoi_p1_config icfg, rcfg;
	struct gdoi_p1_suite isuites[2], rsuites[2];
	struct gdoi_p1_psk ipsk, rpsk;
	struct gdoi_p1_sa *i;
	struct gdoi_p1_responder *r;
	uint64_t now;
	struct dgram flight[2];		/* [0] to the responder, [1] to the initiator */
	struct dgram hist[MAX_HIST];
	size_t nhist;
	uint8_t pairs[MAX_PAIRS][16];	/* cookie pairs the responder has sent out */
	size_t npairs;
	bool pairs_overflow;
	uint8_t last_rcookie[8];
	/* what the responder established, and what was really sent */
	bool r_established;
	struct gdoi_ike_keys r_keys;
	uint32_t notify_sent[65536 / 32];
	bool delete_sent;
	bool i_was_established, r_sa_was_established;
	bool tainted;			/* anything but unmodified delivery happened */
};

static void add_pair(struct net *n, const uint8_t *hdr)
{
	for (size_t k = 0; k < n->npairs; k++)
		if (!memcmp(n->pairs[k], hdr, 16))
			return;
	if (n->npairs == MAX_PAIRS) {
		n->pairs_overflow = true;
		return;
	}
	memcpy(n->pairs[n->npairs++], hdr, 16);
}

/* Every datagram we emit must be well formed; it goes into flight and history. */
static void emitted(struct net *n, struct gdoi_p1_result *res, bool to_r)
{
	if (!res->out) {
		CHECK(res->out_len == 0);
		return;
	}
	struct gdoi_hdr h;
	CHECK(gdoi_hdr_parse(res->out, res->out_len, &h, NULL) == 0);
	if (!(h.flags & GDOI_FLAG_ENC)) {
		struct gdoi_msg *m = NULL;
		CHECK(gdoi_msg_parse(res->out, res->out_len, &m, NULL) == 0);
		gdoi_msg_free(m);
	}
	if (!to_r) {
		add_pair(n, res->out);
		memcpy(n->last_rcookie, res->out + 8, 8);
	}
	struct dgram *f = &n->flight[to_r ? 0 : 1];
	free(f->p);
	f->p = res->out;
	f->len = res->out_len;
	f->to_r = to_r;
	if (n->nhist < MAX_HIST) {
		struct dgram *hd = &n->hist[n->nhist++];
		hd->p = malloc(res->out_len);
		CHECK(hd->p != NULL);
		memcpy(hd->p, res->out, res->out_len);
		hd->len = res->out_len;
		hd->to_r = to_r;
	}
	res->out = NULL;
	res->out_len = 0;
}

static bool same_keys(const struct gdoi_ike_keys *a, const struct gdoi_ike_keys *b)
{
	return a->len == b->len && !memcmp(a->skeyid_a, b->skeyid_a, a->len) &&
	       !memcmp(a->skeyid_e, b->skeyid_e, a->len) && a->enc_key_len == b->enc_key_len &&
	       !memcmp(a->enc_key, b->enc_key, a->enc_key_len);
}

static bool notify_was_sent(const struct net *n, uint16_t t)
{
	return n->notify_sent[t / 32] & (1u << (t % 32));
}

/* The responder's SA for the initiator's cookies, or NULL. */
static struct gdoi_p1_sa *r_sa(struct net *n)
{
	uint8_t ic[8], rc[8];
	gdoi_p1_cookies(n->i, ic, rc);
	return gdoi_p1_responder_find(n->r, ic, rc);
}

static void check_event(const struct net *n, const struct gdoi_p1_result *res)
{
	if (res->event == GDOI_P1_EV_NOTIFY)
		CHECK(notify_was_sent(n, res->notify));
	if (res->event == GDOI_P1_EV_DELETED)
		CHECK(n->delete_sent);
}

static void to_responder(struct net *n, const uint8_t *p, size_t len, bool alt)
{
	struct gdoi_p1_result res = { 0 };
	struct gdoi_p1_sa *sa = NULL;
	gdoi_p1_responder_input(n->r, p, len, alt ? &gm2_addr : &gm_addr, n->now, &res, &sa);
	check_event(n, &res);
	if (res.event == GDOI_P1_EV_ESTABLISHED) {
		/* Only the initiator can have written a message 5 that authenticates. */
		CHECK(sa != NULL && gdoi_p1_established(sa));
		uint8_t ic[8], rc[8], sic[8], src[8];
		gdoi_p1_cookies(n->i, ic, rc);
		gdoi_p1_cookies(sa, sic, src);
		CHECK(!memcmp(ic, sic, 8) && !memcmp(rc, src, 8));
		const struct gdoi_ike_keys *ik = gdoi_p1_keys(n->i), *rk = gdoi_p1_keys(sa);
		CHECK(ik && rk && same_keys(ik, rk));
		const struct gdoi_id *id = gdoi_p1_peer_id(sa);
		CHECK(id->type == GDOI_ID_IPV4_ADDR && id->data.len == 4 &&
		      !memcmp(id->data.ptr, gm_ip, 4));
		CHECK(!n->r_established);	/* one initiator, one Phase 1 SA */
		n->r_established = true;
		n->r_keys = *rk;
	}
	emitted(n, &res, false);
	gdoi_p1_result_clear(&res);
}

static void to_initiator(struct net *n, const uint8_t *p, size_t len)
{
	struct gdoi_p1_result res = { 0 };
	gdoi_p1_input(n->i, p, len, n->now, &res);
	check_event(n, &res);
	if (res.event == GDOI_P1_EV_ESTABLISHED)
		CHECK(gdoi_p1_established(n->i));
	emitted(n, &res, true);
	gdoi_p1_result_clear(&res);
}

/* Delivers flight[k] (k = 0: to the responder), altered by mode/data. */
static void deliver(struct net *n, int k, unsigned mode, const uint8_t *d, size_t dl, bool alt)
{
	struct dgram f = n->flight[k];
	n->flight[k] = (struct dgram){ 0 };
	if (!f.p)
		return;
	size_t len = f.len;
	if (mode == 1 && dl >= 2) {		/* xor data in at an offset */
		size_t off = ((size_t)d[0] << 8 | d[1]) % len;
		for (size_t j = 2; j < dl && off < len; j++, off++)
			f.p[off] ^= d[j];
	} else if (mode == 2 && dl >= 2) {	/* truncate */
		len = ((size_t)d[0] << 8 | d[1]) % len;
	} else if (mode == 3 && dl >= 2) {	/* overwrite from an offset, maybe longer */
		size_t off = ((size_t)d[0] << 8 | d[1]) % len;
		uint8_t *q = malloc(off + dl - 2 + 1);
		CHECK(q != NULL);
		memcpy(q, f.p, off);
		memcpy(q + off, d + 2, dl - 2);
		free(f.p);
		f.p = q;
		len = off + dl - 2;
	}
	if (mode || alt)
		n->tainted = true;
	if (k == 0)
		to_responder(n, f.p, len, alt);
	else
		to_initiator(n, f.p, len);
	free(f.p);
}

static void run_op(struct net *n, uint8_t op, const uint8_t *d, size_t dl)
{
	bool alt = op & 0x20;
	unsigned sub = (op >> 3) & 3;
	switch (op & 7) {
	case 0:		/* inject to the responder */
	case 1: {	/* inject to the initiator */
		uint8_t *p = malloc(dl + 1);
		CHECK(p != NULL);
		memcpy(p, d, dl);
		uint8_t ic[8], rc[8];
		gdoi_p1_cookies(n->i, ic, rc);
		if ((op & 0x40) && dl >= 8)
			memcpy(p, ic, 8);
		if ((op & 0x80) && dl >= 16)
			memcpy(p + 8, n->last_rcookie, 8);
		n->tainted = true;
		if (op & 1)
			to_initiator(n, p, dl);
		else
			to_responder(n, p, dl, alt);
		free(p);
		break;
	}
	case 2:
	case 3:
		deliver(n, (op & 1), sub, d, dl, (op & 1) ? false : alt);
		break;
	case 4: {	/* clock and timers */
		uint64_t v = dl >= 2 ? ((uint64_t)d[0] << 8 | d[1]) : dl ? d[0] : 1;
		n->now += (sub & 1) ? v * 1000 : v;
		n->tainted = true;
		if (!(sub & 2) || (op & 0x40)) {
			struct gdoi_p1_result res = { 0 };
			gdoi_p1_timer(n->i, n->now, &res);
			CHECK(res.event != GDOI_P1_EV_ESTABLISHED && res.event != GDOI_P1_EV_NOTIFY &&
			      res.event != GDOI_P1_EV_DELETED);
			emitted(n, &res, true);
			gdoi_p1_result_clear(&res);
		}
		if ((sub & 2) || (op & 0x80))
			gdoi_p1_responder_expire(n->r, n->now);
		break;
	}
	case 5: {	/* replay (sub bit 0: reflect to the other side) an earlier datagram */
		if (!n->nhist || !dl)
			break;
		const struct dgram *h = &n->hist[d[0] % n->nhist];
		bool to_r = (sub & 1) ? !h->to_r : h->to_r;
		n->tainted = true;
		if (to_r)
			to_responder(n, h->p, h->len, alt);
		else
			to_initiator(n, h->p, h->len);
		break;
	}
	case 6: {	/* Informational from an established SA */
		struct gdoi_p1_sa *sa = (sub & 1) ? r_sa(n) : n->i;
		if (!sa || !gdoi_p1_established(sa))
			break;
		struct gdoi_p1_result res = { 0 };
		if (n->flight[(sub & 1) ? 1 : 0].p)
			n->tainted = true;	/* overwrites what was in flight */
		if (sub & 2) {
			n->delete_sent = true;
			n->tainted = true;
			CHECK(gdoi_p1_send_delete(sa, &res) == 0);
		} else {
			uint16_t t = dl >= 2 ? (uint16_t)(d[0] << 8 | d[1]) : GDOI_N_INITIAL_CONTACT;
			n->notify_sent[t / 32] |= 1u << (t % 32);
			size_t ndl = dl > 2 ? dl - 2 : 0;
			gdoi_bytes nd = ndl ? GDOI_BYTES(d + 2, ndl < 200 ? ndl : 200) : GDOI_BYTES_NONE;
			CHECK(gdoi_p1_send_notify(sa, t, nd, &res) == 0);
		}
		emitted(n, &res, !(sub & 1));
		gdoi_p1_result_clear(&res);
		break;
	}
	case 7:		/* drop what is in flight */
		n->tainted = true;
		free(n->flight[sub & 1].p);
		n->flight[sub & 1] = (struct dgram){ 0 };
		break;
	}
}

/* Checked after every step. */
static void check_state(struct net *n, bool expired)
{
	/* SAs only for cookie pairs the responder sent out. */
	if (!n->pairs_overflow) {
		size_t found = 0;
		for (size_t k = 0; k < n->npairs; k++)
			found += gdoi_p1_responder_find(n->r, n->pairs[k], n->pairs[k] + 8) != NULL;
		CHECK(gdoi_p1_responder_sa_count(n->r) == found);
	}
	CHECK(gdoi_p1_responder_pending_count(n->r) <= 256);
	/* Established initiator: the responder established with the same keys. */
	if (gdoi_p1_established(n->i)) {
		CHECK(n->r_established);
		CHECK(same_keys(gdoi_p1_keys(n->i), &n->r_keys));
		struct gdoi_p1_sa *sa = r_sa(n);
		if (sa) {
			CHECK(gdoi_p1_keys(sa) && same_keys(gdoi_p1_keys(sa), &n->r_keys));
			CHECK(!memcmp(gdoi_p1_suite(sa), gdoi_p1_suite(n->i), sizeof(struct gdoi_p1_suite)));
		}
		n->i_was_established = true;
	} else if (n->i_was_established) {
		/* Dead, by its lifetime or a Delete only. */
		CHECK(gdoi_p1_dead(n->i) && (expired || n->delete_sent));
		n->i_was_established = false;
	}
	struct gdoi_p1_sa *sa = n->r_established ? r_sa(n) : NULL;
	if (sa && gdoi_p1_established(sa)) {
		n->r_sa_was_established = true;
	} else if (n->r_sa_was_established) {
		CHECK(expired || n->delete_sent);
		n->r_sa_was_established = false;
	}
}

static void net_free(struct net *n)
{
	for (int k = 0; k < 2; k++)
		free(n->flight[k].p);
	for (size_t k = 0; k < n->nhist; k++)
		free(n->hist[k].p);
	gdoi_p1_free(n->i);
	gdoi_p1_responder_free(n->r);
}

static void setup(struct net *n, uint8_t conf)
{
	struct gdoi_p1_suite def[4];
	size_t nd = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, LIFETIME, true, def, 4);
	struct gdoi_p1_suite g19 = { 0 }, g2 = { 0 };
	for (size_t k = 0; k < nd; k++) {	/* group 14 is left out: too slow to fuzz */
		if (def[k].group == 19 && !g19.group)
			g19 = def[k];
		if (def[k].group == 2 && !g2.group)
			g2 = def[k];
	}
	CHECK(g19.group == 19 && g2.group == 2);
	switch (conf & 3) {
	case 0: n->isuites[0] = g19; n->icfg.nsuites = 1; break;
	case 1: n->isuites[0] = g2; n->icfg.nsuites = 1; break;
	case 2: n->isuites[0] = g19; n->isuites[1] = g2; n->icfg.nsuites = 2; break;
	default: n->isuites[0] = g2; n->isuites[1] = g19; n->icfg.nsuites = 2; break;
	}
	n->rsuites[0] = (conf & 4) ? g2 : g19;
	n->rsuites[1] = (conf & 4) ? g19 : g2;
	n->rcfg.nsuites = 2;
	n->icfg.suites = n->isuites;
	n->rcfg.suites = n->rsuites;
	n->icfg.local_id = (struct gdoi_id){ .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(gm_ip, 4) };
	n->rcfg.local_id = (struct gdoi_id){ .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) };
	n->ipsk.addr = ks_addr;
	n->rpsk.addr = gm_addr;
	n->ipsk.key = n->rpsk.key = GDOI_BYTES(psk_key, sizeof(psk_key) - 1);
	n->icfg.psks = &n->ipsk;
	n->rcfg.psks = &n->rpsk;
	n->icfg.npsks = n->rcfg.npsks = 1;
	n->icfg.initial_contact = true;
	if (conf & 8)
		n->icfg.nonce_len = n->rcfg.nonce_len = 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct net n;	/* large: keep it off the stack */
	memset(&n, 0, sizeof(n));
	uint8_t conf = size ? data[0] : 0;
	setup(&n, conf);
	n.now = 1000;
	n.r = gdoi_p1_responder_new(&n.rcfg, n.now);
	CHECK(n.r != NULL);
	struct gdoi_p1_result res = { 0 };
	CHECK(gdoi_p1_initiate(&n.icfg, &ks_addr, n.now, &n.i, &res) == 0);
	emitted(&n, &res, true);
	gdoi_p1_result_clear(&res);

	size_t off = 1;
	for (int ops = 0; ops < MAX_OPS && off + 3 <= size; ops++) {
		uint8_t op = data[off];
		size_t dl = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (dl > size - off)
			dl = size - off;
		const uint8_t *d = data + off;
		off += dl;
		run_op(&n, op, d, dl);
		check_state(&n, (op & 7) == 4);
	}
	if (conf & 0x10) {	/* pump: deliver everything in flight, unmodified */
		for (int k = 0; k < 16 && (n.flight[0].p || n.flight[1].p); k++) {
			deliver(&n, 0, 0, NULL, 0, false);
			check_state(&n, false);
			deliver(&n, 1, 0, NULL, 0, false);
			check_state(&n, false);
		}
		if (!n.tainted) {
			CHECK(gdoi_p1_established(n.i));
			CHECK(n.r_established && r_sa(&n) && gdoi_p1_established(r_sa(&n)));
		}
	}
	net_free(&n);
	return 0;
}
