/*
 * fuzz_ike2.c - libFuzzer target for the IKEv2 core (gdoi/ike2*.c): the
 * codec on the raw input, and a real initiator and responder (PSK, group 19
 * or 31 so that DH stays cheap) with the attacker on the network between
 * them.
 *
 * Input: octet 0 = configuration (bit 0 group 31 instead of 19; bit 1 CBC
 * instead of GCM; bit 2 fragmentation with 300-octet fragments; bit 3 the
 * responder asks for cookies (threshold 1, with a half-open SA made first);
 * bit 4 pump the remaining datagrams unmodified at the end), then a script
 * of ops: op (1), length (1), data (length). op & 7: 0 deliver the next
 * datagram to the responder, 1 to the initiator; 2 / 3 the same after XOR-ing
 * data[2] into the octet at (data[0] << 8 | data[1]) modulo its length; 4 inject data to the responder as a datagram (bit 3: with the live
 * SPIs written first); 5 advance the clock by data[0]*100 ms and run the
 * timers; 6 a request on the established SA (bit 3: from the responder),
 * 7 a Delete. The whole input is also parsed as an IKE message.
 *
 * Invariants (abort() on violation), which hold whatever the attacker does
 * since it knows neither the PSK nor a DH private value:
 *  - every datagram either side sends has a valid header whose Length is
 *    the datagram's;
 *  - a responder SA reporting ESTABLISHED has the initiator's SPIs and the
 *    initiator's SK_d (the initiator computed the same keys);
 *  - the initiator ESTABLISHED implies the responder SA is (or was, when the
 *    script had the responder delete it), with equal keys;
 *  - an input that only delivers the datagrams unmodified establishes both.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_wire.h"

#define QMAX 64

struct queue {
	size_t n;
	uint8_t *d[QMAX];
	size_t len[QMAX];
};

static const struct gdoi_addr A_I = { 4, { 127, 0, 0, 1 }, 500 };
static const struct gdoi_addr A_X = { 4, { 127, 0, 0, 9 }, 500 };
static const struct gdoi_addr A_R = { 4, { 127, 0, 0, 2 }, 500 };

static void codec(const uint8_t *d, size_t n)
{
	struct gdoi_ike2_hdr h;
	struct gdoi_ike2_chain *c = malloc(sizeof(*c));
	struct gdoi_ike2_sa_payload *sa = malloc(sizeof(*sa));
	static const uint8_t extra[] = { 50, 51, 52 };

	if (c == NULL || sa == NULL)
		abort();
	if (gdoi_ike2_hdr_parse(d, n, &h, NULL) == GDOI_OK &&
	    gdoi_ike2_chain_parse(d + 28, n - 28, 28, h.next, true, extra, 3, c, NULL) == GDOI_OK) {
		for (size_t i = 0; i < c->n; i++) {
			const struct gdoi_ike2_payload *p = &c->p[i];
			union {
				struct gdoi_ike2_ke ke;
				struct gdoi_ike2_id id;
				struct gdoi_ike2_auth a;
				struct gdoi_ike2_notify no;
				struct gdoi_ike2_delete de;
				struct gdoi_ike2_cert ce;
				gdoi_bytes nonce;
			} u;
			if (p->body.len && p->body.ptr + p->body.len > d + n)
				abort();
			switch (p->type) {
			case GDOI_IKE2_PL_SA: gdoi_ike2_sa_parse(p, c->off[i], sa, NULL); break;
			case GDOI_IKE2_PL_KE: gdoi_ike2_ke_parse(p, c->off[i], &u.ke, NULL); break;
			case GDOI_IKE2_PL_IDI:
			case GDOI_IKE2_PL_IDR: gdoi_ike2_id_parse(p, c->off[i], &u.id, NULL); break;
			case GDOI_IKE2_PL_AUTH: gdoi_ike2_auth_parse(p, c->off[i], &u.a, NULL); break;
			case GDOI_IKE2_PL_NONCE: gdoi_ike2_nonce_parse(p, c->off[i], &u.nonce, NULL); break;
			case GDOI_IKE2_PL_NOTIFY: gdoi_ike2_notify_parse(p, c->off[i], &u.no, NULL); break;
			case GDOI_IKE2_PL_DELETE: gdoi_ike2_delete_parse(p, c->off[i], &u.de, NULL); break;
			case GDOI_IKE2_PL_CERT:
			case GDOI_IKE2_PL_CERTREQ: gdoi_ike2_cert_parse(p, c->off[i], &u.ce, NULL); break;
			default: break;
			}
		}
		if (c->sk_type == GDOI_IKE2_PL_SKF) {
			uint16_t a, b;
			gdoi_ike2_skf_parse(c->sk_body, c->sk_off, &a, &b, NULL);
		}
	}
	free(c);
	free(sa);
}

static void check_out(const struct gdoi_ike2_result *r)
{
	for (size_t i = 0; i < r->nout; i++) {
		struct gdoi_ike2_hdr h;
		if (gdoi_ike2_hdr_parse(r->out[i], r->out_len[i], &h, NULL) != GDOI_OK)
			abort();
	}
}

static void take(struct queue *q, struct gdoi_ike2_result *r)
{
	check_out(r);
	for (size_t i = 0; i < r->nout; i++) {
		if (q->n == QMAX) {
			free(r->out[i]);
			continue;
		}
		q->d[q->n] = r->out[i];
		q->len[q->n++] = r->out_len[i];
	}
	r->nout = 0;
}

static void pop(struct queue *q)
{
	free(q->d[0]);
	memmove(q->d, q->d + 1, (q->n - 1) * sizeof(q->d[0]));
	memmove(q->len, q->len + 1, (q->n - 1) * sizeof(q->len[0]));
	q->n--;
}

struct world {
	struct gdoi_ike2_responder *r;
	struct gdoi_ike2_sa *i, *rsa;
	struct queue to_r, to_i;
	uint64_t now;
	bool i_est, r_est;
	bool r_deleted;		/* the responder deleted its SA itself (op 7) */
	uint8_t i_skd[64];	/* the initiator's SK_d, last seen alive */
	size_t i_skd_len;
	uint8_t r_skd[64];	/* the responder's SK_d when it reported ESTABLISHED */
	size_t r_skd_len;
};

/* The initiator's SK_d as long as it is alive (a dead SA's keys are wiped). */
static void snap_initiator(struct world *w)
{
	if (w->i && !gdoi_ike2_dead(w->i)) {
		w->i_skd_len = gdoi_ike2_keys(w->i)->prf_len;
		memcpy(w->i_skd, gdoi_ike2_keys(w->i)->sk_d, w->i_skd_len);
	}
}

static void same_keys_or_die(const struct world *w, struct gdoi_ike2_sa *rsa)
{
	uint8_t a[8], b[8], c[8], d[8];
	if (w->i == NULL || rsa == NULL)
		abort();
	gdoi_ike2_spis(w->i, a, b);
	gdoi_ike2_spis(rsa, c, d);
	if (memcmp(a, c, 8) || memcmp(b, d, 8))
		abort();
	if (w->i_skd_len != gdoi_ike2_keys(rsa)->prf_len ||
	    memcmp(w->i_skd, gdoi_ike2_keys(rsa)->sk_d, w->i_skd_len) != 0)
		abort();
}

static void to_responder(struct world *w, const uint8_t *d, size_t n, const struct gdoi_addr *from)
{
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *sa = NULL;
	gdoi_ike2_responder_input(w->r, d, n, from, w->now, &res, &sa);
	if (res.event == GDOI_IKE2_EV_ESTABLISHED) {
		same_keys_or_die(w, sa);
		w->r_skd_len = gdoi_ike2_keys(sa)->prf_len;
		memcpy(w->r_skd, gdoi_ike2_keys(sa)->sk_d, w->r_skd_len);
		w->rsa = sa;
		w->r_est = true;
	}
	take(&w->to_i, &res);
	gdoi_ike2_result_clear(&res);
}

static void to_initiator(struct world *w, const uint8_t *d, size_t n)
{
	struct gdoi_ike2_result res = { 0 };
	gdoi_ike2_input(w->i, d, n, w->now, &res);
	snap_initiator(w);
	if (res.event == GDOI_IKE2_EV_ESTABLISHED) {
		/* the responder established (and is, unless it deleted the SA itself) */
		if (!w->r_est || (!w->r_deleted && (w->rsa == NULL || !gdoi_ike2_established(w->rsa))))
			abort();
		if (gdoi_ike2_keys(w->i)->prf_len != w->r_skd_len ||
		    memcmp(gdoi_ike2_keys(w->i)->sk_d, w->r_skd, w->r_skd_len) != 0)
			abort();
		w->i_est = true;
	}
	take(&w->to_r, &res);
	gdoi_ike2_result_clear(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdoi_ike2_suite suite = { GDOI_IKE2_ENCR_AES_GCM_16, 128, GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };
	struct gdoi_ike2_config ci = { 0 }, cr = { 0 };
	struct gdoi_ike2_psk psk = { { 0, { NULL, 0 } }, { (const uint8_t *)"fuzz psk", 8 } };
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *half = NULL;
	struct world w;
	uint8_t conf;
	bool mutated = false;
	size_t pos = 1;

	codec(data, size);
	if (size < 1)
		return 0;
	conf = data[0];
	memset(&w, 0, sizeof(w));
	w.now = 1000;
	if (conf & 1)
		suite.group = 31;
	if (conf & 2) {
		suite.encr = GDOI_IKE2_ENCR_AES_CBC;
		suite.integ = GDOI_IKE2_AUTH_HMAC_SHA2_256_128;
	}
	ci.suites = cr.suites = &suite;
	ci.nsuites = cr.nsuites = 1;
	ci.psks = cr.psks = &psk;
	ci.npsks = cr.npsks = 1;
	ci.local_id.type = cr.local_id.type = GDOI_IKE2_ID_FQDN;
	ci.local_id.data = GDOI_BYTES("gm", 2);
	cr.local_id.data = GDOI_BYTES("ks", 2);
	ci.retransmit_ms = cr.retransmit_ms = 100;
	if (conf & 4) {
		ci.fragmentation = cr.fragmentation = true;
		ci.fragment_size = cr.fragment_size = 300;
	}
	if (conf & 8)
		cr.cookie_threshold = 1;
	if ((w.r = gdoi_ike2_responder_new(&cr, w.now)) == NULL)
		abort();
	if (conf & 8) {	/* one half-open SA from elsewhere, so cookies are asked */
		if (gdoi_ike2_initiate(&ci, &A_R, w.now, &half, &res) != GDOI_OK)
			abort();
		gdoi_ike2_responder_input(w.r, res.out[0], res.out_len[0], &A_X, w.now, &res, NULL);
		gdoi_ike2_result_clear(&res);
	}
	if (gdoi_ike2_initiate(&ci, &A_R, w.now, &w.i, &res) != GDOI_OK)
		abort();
	take(&w.to_r, &res);
	gdoi_ike2_result_clear(&res);
	for (unsigned ops = 0; pos + 2 <= size && ops < 64; ops++) {
		uint8_t op = data[pos], len = data[pos + 1];
		const uint8_t *d = data + pos + 2;
		if ((size_t)len > size - pos - 2)
			len = (uint8_t)(size - pos - 2);
		pos += 2 + (size_t)len;
		switch (op & 7) {
		case 0:
		case 2:
			if (w.to_r.n == 0)
				break;
			if ((op & 7) == 2 && len >= 3 && w.to_r.len[0]) {
				w.to_r.d[0][(d[0] << 8 | d[1]) % w.to_r.len[0]] ^= d[2] ? d[2] : 1;
				mutated = true;
			}
			to_responder(&w, w.to_r.d[0], w.to_r.len[0], &A_I);
			pop(&w.to_r);
			break;
		case 1:
		case 3:
			if (w.to_i.n == 0)
				break;
			if ((op & 7) == 3 && len >= 3 && w.to_i.len[0]) {
				w.to_i.d[0][(d[0] << 8 | d[1]) % w.to_i.len[0]] ^= d[2] ? d[2] : 1;
				mutated = true;
			}
			to_initiator(&w, w.to_i.d[0], w.to_i.len[0]);
			pop(&w.to_i);
			break;
		case 4: {
			uint8_t buf[256];
			memcpy(buf, d, len);
			if ((op & 8) && len >= 16)
				gdoi_ike2_spis(w.i, buf, buf + 8);
			to_responder(&w, buf, len, &A_I);
			mutated = true;
			break;
		}
		case 5: {
			struct gdoi_ike2_result r2 = { 0 };
			w.now += (uint64_t)(len ? d[0] : 1) * 100;
			snap_initiator(&w);
			gdoi_ike2_timer(w.i, w.now, &r2);
			take(&w.to_r, &r2);
			gdoi_ike2_result_clear(&r2);
			gdoi_ike2_responder_expire(w.r, w.now, &r2);
			take(&w.to_i, &r2);
			gdoi_ike2_result_clear(&r2);
			/* the responder may have freed a dead SA */
			if (w.rsa) {
				uint8_t a[8], b[8];
				gdoi_ike2_spis(w.i, a, b);
				w.rsa = gdoi_ike2_responder_find(w.r, a, b);
			}
			break;
		}
		case 6: {
			struct gdoi_ike2_plist pl = { 0 };
			struct gdoi_ike2_sa *sa = (op & 8) ? w.rsa : w.i;
			struct gdoi_ike2_result r2 = { 0 };
			if (sa == NULL || !gdoi_ike2_established(sa))
				break;
			gdoi_ike2_plist_add(&pl, GDOI_IKE2_PL_VENDOR, false, d, len);
			gdoi_ike2_send_request(sa, GDOI_IKE2_EXCH_INFORMATIONAL, &pl, w.now, &r2);
			take((op & 8) ? &w.to_i : &w.to_r, &r2);
			gdoi_ike2_result_clear(&r2);
			gdoi_ike2_plist_free(&pl);
			break;
		}
		case 7: {
			struct gdoi_ike2_sa *sa = (op & 8) ? w.rsa : w.i;
			struct gdoi_ike2_result r2 = { 0 };
			if (sa == NULL || !gdoi_ike2_established(sa))
				break;
			if (gdoi_ike2_send_delete(sa, w.now, &r2) == GDOI_OK && (op & 8))
				w.r_deleted = true;
			take((op & 8) ? &w.to_i : &w.to_r, &r2);
			gdoi_ike2_result_clear(&r2);
			mutated = true;	/* establishment is no longer expected */
			break;
		}
		}
	}
	if (conf & 0x10) {
		for (int k = 0; k < 16 && (w.to_r.n || w.to_i.n); k++) {
			while (w.to_r.n) {
				to_responder(&w, w.to_r.d[0], w.to_r.len[0], &A_I);
				pop(&w.to_r);
			}
			while (w.to_i.n) {
				to_initiator(&w, w.to_i.d[0], w.to_i.len[0]);
				pop(&w.to_i);
			}
		}
		if (!mutated && pos >= size && !(w.i_est && w.r_est) && !gdoi_ike2_dead(w.i))
			abort();
	}
	while (w.to_r.n)
		pop(&w.to_r);
	while (w.to_i.n)
		pop(&w.to_i);
	gdoi_ike2_free(w.i);
	gdoi_ike2_free(half);
	gdoi_ike2_responder_free(w.r);
	return 0;
}
