/*
 * fuzz_gike2_insider.c - libFuzzer target for the G-IKEv2 engines (gike2_gcks.c,
 * gike2_member.c, gike2_ike.c) past the IKE SA's encryption. A network attacker's
 * datagrams (fuzz_ike2) stop at the SK payload; here the attacker is a peer that
 * knows the PSK, a raw IKEv2 end (ike2.h) whose hooks put the input's payloads
 * inside SK, so they reach the engines' parsers:
 *   mode 0: a malicious member (initiator) against the GCKS engine: GSA_AUTH,
 *     then GSA_REGISTRATION / INFORMATIONAL / any exchange on the IKE SA;
 *   mode 1: a malicious key server (responder) against the member engine: the
 *     GSA_AUTH answer, then GSA_INBAND_REKEY / INFORMATIONAL requests, and
 *     GSA_REKEY (exchange 41) under the Rekey SA it handed over, to the group.
 *
 * Input: octet 0 = configuration (bit 0 mode; bit 1 the group is rekeyed in
 * band (mode 0) / the built answers hand over a Rekey SA (mode 1)), then at
 * most MAX_MSG messages: exchange (1), flags (1: bit 0 start from what the
 * honest side would send, built by gike2_msg.c under this IKE SA's GSK_w so
 * that its keys unwrap), nmut (1) and nmut mutations of those built payloads
 * (payload index, offset (2), xor), npl (1) and npl payloads of the input's
 * own (type | critical << 7, length (2), body cut to what remains). Message 0
 * is the authentication exchange's G-IKEv2 part; each next one a request on
 * the SA of its exchange type, after the previous answer (or a timer).
 * Invariants (abort()): every datagram goes to the peer it answers; the
 * datagrams stop; mode 0 with only unmodified built messages registers.
 * LeakSanitizer checks that everything is freed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/arena.h"
#include "gdoi/err.h"
#include "gdoi/gike2_gcks.h"
#include "gdoi/gike2_member.h"
#include "gdoi/gike2_msg.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/ike2_numbers.h"
#include "tests/fuzz/fuzz_signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSG 8
#define QMAX 64

static const struct gdoi_addr GM = { 4, { 127, 0, 0, 1 }, 18621 };
static const struct gdoi_addr KS = { 4, { 127, 0, 0, 2 }, 848 };
static const struct gdoi_ike2_suite suite = { GDOI_IKE2_ENCR_AES_GCM_16, 128,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 31 };
static const uint8_t extra[] = { GIKE2_PL_IDG, GIKE2_PL_GSA, GIKE2_PL_KD };
static const uint8_t auth_exch[] = { GIKE2_EXCH_GSA_AUTH };

static struct gdoi_policy policy, next_policy;
static struct gike2_rekey_sa rekey;

static void init(void)
{
	struct gdoi_tek *t = &policy.teks[policy.nteks++];
	policy.sid_bits = 32;
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 0x700d,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 18630, .addr_len = 4,
			 .addr = { 239, 2, 2, 2 } },
		.u.srtp = { .profile = 1, .flags = 1, .lifetime = 120, .replay_window = 128,
			    .ssrc_assigned = true } };
	next_policy = policy;
	next_policy.teks[0].spi = 0x700e;
	if (gdoi_policy_generate_keys(&policy) || gdoi_policy_generate_keys(&next_policy))
		abort();
	uint8_t km[36];
	memset(rekey.spi, 0x4e, sizeof(rekey.spi));
	rekey.encr = GIKE2_ENCR_AES_GCM_16;
	rekey.encr_key_bits = 128;
	rekey.kwa = GIKE2_KWA_5649_128;
	rekey.gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	rekey.sig_md = GDOI_MD_SHA256;
	rekey.lifetime = 600;
	rekey.msgid = 1;
	rekey.src = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, 848, 848, 4,
				       { 127, 0, 0, 2 }, { 127, 0, 0, 2 } };
	rekey.dst = (struct gike2_ts){ GIKE2_TS_IPV4_ADDR_RANGE, 17, 18631, 18631, 4,
				       { 239, 2, 2, 3 }, { 239, 2, 2, 3 } };
	for (size_t i = 0; i < sizeof(km); i++)
		km[i] = (uint8_t)(7 * i + 1);
	if (gike2_rekey_set_keys(&rekey, GDOI_BYTES(km, sizeof(km))))
		abort();
	fuzz_signer();
}

struct queue {
	size_t n;
	uint8_t *d[QMAX];
	size_t len[QMAX];
};

static void q_push(struct queue *q, const uint8_t *b, size_t len)
{
	if (q->n == QMAX || !len)
		return;
	if (!(q->d[q->n] = malloc(len)))
		abort();
	memcpy(q->d[q->n], b, len);
	q->len[q->n++] = len;
}

static void q_free(struct queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->d[i]);
	q->n = 0;
}

struct msg {
	uint8_t exch, flags;
	const uint8_t *mut, *pl;
	size_t nmut, npl, pl_len;
};

/* One run: the honest engine, the attacker's IKEv2 end, the datagrams between. */
struct run {
	bool mode, inband, modified;
	struct gdoi_now now;
	struct gike2_gcks_engine *ks;	/* mode 0 */
	struct gike2_member *gm;	/* mode 1 */
	struct gdoi_ike2_config cfg;
	struct gdoi_ike2_psk psk;
	struct gdoi_ike2_sa *sa;	/* the attacker's (mode 0: initiator) */
	struct gdoi_ike2_responder *resp;	/* mode 1 */
	uint8_t spi_i[8], spi_r[8];	/* mode 1: r->sa's, to find it again after expiry */
	struct msg m[MAX_MSG];
	size_t nmsg, cur;
	struct queue to_eng, to_att;
	uint32_t next_sid;
	struct gike2_rekey_sa rk;	/* mode 1: the Rekey SA handed over, GCKS side */
};

static int lookup(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		  const struct gdoi_addr *peer, struct gike2_gcks *k)
{
	struct run *r = ctx;
	(void)member; (void)peer;
	if (idg->id_type != GIKE2_ID_KEY_ID || idg->data.len != 5 || memcmp(idg->data.ptr, "audio", 5))
		return GDOI_ERR_NOT_FOUND;
	k->policy = &policy;
	k->tag = 7;
	k->inband = r->inband;
	k->rekey = r->inband ? NULL : &rekey;
	k->signer = fuzz_signer();
	k->next_sid = r->next_sid;
	return 0;
}

/* What the honest side would put in message i: the member's IDg + N(SENDER), the
 * GCKS's GSA + KD (registration or in band), under sa's GSK_w. */
static size_t built(struct run *r, struct gdoi_ike2_sa *sa, uint8_t exch, struct gdoi_arena *a,
		    struct gike2_pl *out, size_t cap)
{
	size_t n = 0;
	uint8_t w[GIKE2_KWK_MAX];
	size_t wl = 0;
	if (!r->mode) {
		struct gike2_reg_request rq = { { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) }, 2 };
		return gike2_reg_request_build(&rq, a, out, cap, &n) ? 0 : n;
	}
	const uint32_t sids[2] = { 0x52000, 0x52001 }, del = 0x700d;
	if (exch == GIKE2_EXCH_GSA_REKEY)
		return gike2_rekey_content_build(&next_policy, &r->rk, NULL, fuzz_signer(), &del, 1, a,
						 out, cap, &n) ? 0 : n;
	if (gike2_ike_gsk_w(sa, w, &wl))
		return 0;
	const struct gike2_rekey_sa *rk = r->inband ? &rekey : NULL;
	int rc = exch == GIKE2_EXCH_GSA_INBAND_REKEY
		? gike2_inband_content_build(&policy, GDOI_BYTES(w, wl), rk, fuzz_signer(), &del, 1, a,
					     out, cap, &n)
		: gike2_reg_response_build(&policy, rk, fuzz_signer(), GDOI_BYTES(w, wl), sids, 2, a,
					   out, cap, &n);
	return rc ? 0 : n;
}

/* Message i's payloads: the built ones (mutated) then the input's own. */
static int fill(struct run *r, struct gdoi_ike2_sa *sa, uint8_t exch, struct gdoi_ike2_plist *out)
{
	if (r->cur >= r->nmsg)
		return 0;
	const struct msg *m = &r->m[r->cur++];
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl pl[8];
	size_t n = 0;
	if (!a)
		return GDOI_ERR_NOMEM;
	if (m->flags & 1)
		n = built(r, sa, exch, a, pl, 8);
	for (size_t i = 0; i < m->nmut && n; i++) {
		const uint8_t *u = m->mut + 4 * i;
		struct gike2_pl *p = &pl[u[0] % n];
		if (!p->body.len)
			continue;
		uint8_t *b = gdoi_arena_alloc(a, p->body.len);
		if (!b)
			break;
		memcpy(b, p->body.ptr, p->body.len);
		b[(size_t)(u[1] << 8 | u[2]) % p->body.len] ^= u[3] ? u[3] : 1;
		p->body = GDOI_BYTES(b, p->body.len);
		r->modified = true;
	}
	for (size_t i = 0; i < n; i++)
		gdoi_ike2_plist_add(out, pl[i].type, pl[i].critical, pl[i].body.ptr, pl[i].body.len);
	const uint8_t *q = m->pl, *end = m->pl + m->pl_len;
	for (size_t i = 0; i < m->npl && end - q >= 3; i++) {
		size_t len = (size_t)q[1] << 8 | q[2];
		if (len > (size_t)(end - q - 3))
			len = (size_t)(end - q - 3);
		gdoi_ike2_plist_add(out, q[0] & 0x7f, q[0] & 0x80, q + 3, len);
		q += 3 + len;
		r->modified = true;
	}
	gdoi_arena_free(a);
	return 0;
}

static int h_auth_add(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out)
{
	return fill(ctx, sa, GIKE2_EXCH_GSA_AUTH, out);
}

static int h_auth_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			  const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
			  uint16_t *notify)
{
	(void)in; (void)nin; (void)notify;
	return fill(ctx, sa, exchange, out);
}

static int h_auth_response(void *ctx, struct gdoi_ike2_sa *sa, const struct gdoi_ike2_payload *in,
			   size_t nin, uint16_t *notify)
{
	(void)ctx; (void)sa; (void)in; (void)nin; (void)notify;
	return 0;
}

/* The honest side's requests (GSA_INBAND_REKEY, GSA_REGISTRATION, ...): an empty answer. */
static int h_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
		     const struct gdoi_ike2_payload *in, size_t nin, struct gdoi_ike2_plist *out,
		     uint16_t *notify)
{
	struct run *r = ctx;
	(void)in; (void)nin; (void)notify;
	return exchange == GIKE2_EXCH_GSA_REGISTRATION ? fill(r, sa, exchange, out) : 0;
}

static void h_response(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
		       const struct gdoi_ike2_payload *in, size_t nin)
{
	(void)ctx; (void)sa; (void)exchange; (void)in; (void)nin;
}

static void take(struct run *r, struct gdoi_ike2_result *res)
{
	for (size_t i = 0; i < res->nout; i++)
		q_push(&r->to_eng, res->out[i], res->out_len[i]);
	gdoi_ike2_result_clear(res);
}

static void drain_engine(struct run *r)
{
	struct gdoi_out o;
	const struct gdoi_addr *peer = r->mode ? &KS : &GM;
	while (r->mode ? gike2_member_next_out(r->gm, &o) : gike2_gcks_engine_next_out(r->ks, &o)) {
		if (memcmp(&o.to, peer, sizeof(*peer)))
			abort();
		q_push(&r->to_att, o.buf, o.len);
	}
	struct gike2_gcks_event ke;
	struct gdoi_member_event me;
	while (r->mode ? gike2_member_next_event(r->gm, &me) : gike2_gcks_engine_next_event(r->ks, &ke))
		;
}

/* Carries datagrams both ways until none is left. */
static void pump(struct run *r)
{
	for (int round = 0; round < 32; round++) {
		drain_engine(r);
		if (!r->to_eng.n && !r->to_att.n)
			return;
		struct queue q = r->to_att;
		r->to_att.n = 0;
		for (size_t i = 0; i < q.n; i++) {
			struct gdoi_ike2_result res = { 0 };
			if (!r->mode) {
				if (r->sa)
					gdoi_ike2_input(r->sa, q.d[i], q.len[i], r->now.mono_ms, &res);
			} else {
				struct gdoi_ike2_sa *s = NULL;
				gdoi_ike2_responder_input(r->resp, q.d[i], q.len[i], &GM, r->now.mono_ms,
							  &res, &s);
				if (s) {
					r->sa = s;
					gdoi_ike2_spis(s, r->spi_i, r->spi_r);
				}
			}
			take(r, &res);
		}
		q_free(&q);
		q = r->to_eng;
		r->to_eng.n = 0;
		for (size_t i = 0; i < q.n; i++) {
			if (r->mode)
				gike2_member_input(r->gm, q.d[i], q.len[i], &KS, GDOI_MEMBER_VIA_UNICAST,
						   r->now);
			else
				gike2_gcks_engine_input(r->ks, q.d[i], q.len[i], &GM, r->now);
		}
		q_free(&q);
	}
	abort();	/* the datagrams never stopped */
}

/* Mode 1: a GSA_REKEY under the Rekey SA handed over, signed, to the group. */
static void send_rekey(struct run *r)
{
	struct gdoi_ike2_plist l = { 0 };
	struct gike2_pl pl[GDOI_IKE2_PLIST_MAX];
	struct gdoi_writer w;
	fill(r, NULL, GIKE2_EXCH_GSA_REKEY, &l);
	for (size_t i = 0; i < l.n; i++)	/* empty bodies only: no buffer at all */
		pl[i] = (struct gike2_pl){ l.p[i].type, l.p[i].critical,
					   l.p[i].len ? GDOI_BYTES(l.buf.buf + l.p[i].off, l.p[i].len)
						      : GDOI_BYTES_NONE };
	gdoi_writer_init(&w);
	if (gike2_rekey_build(&r->rk, pl, l.n, fuzz_signer(), &w) == 0)
		gike2_member_input(r->gm, w.buf, w.len, &KS, GDOI_MEMBER_VIA_MULTICAST, r->now);
	gdoi_writer_free(&w);
	gdoi_ike2_plist_free(&l);
	pump(r);
}

static void timers(struct run *r, uint64_t ms)
{
	struct gdoi_ike2_result res = { 0 };
	r->now.mono_ms += ms;
	r->now.unix_s += ms / 1000;
	if (r->mode) {
		gike2_member_timer(r->gm, r->now);
		gdoi_ike2_responder_expire(r->resp, r->now.mono_ms, &res);
		if (r->sa)	/* the responder may have freed it */
			r->sa = gdoi_ike2_responder_find(r->resp, r->spi_i, r->spi_r);
	} else {
		gike2_gcks_engine_timer(r->ks, r->now);
		if (r->sa)
			gdoi_ike2_timer(r->sa, r->now.mono_ms, &res);
	}
	take(r, &res);
	pump(r);
}

static size_t parse(struct run *r, const uint8_t *d, size_t size)
{
	size_t off = 0;
	while (r->nmsg < MAX_MSG && off + 4 <= size) {
		struct msg *m = &r->m[r->nmsg++];
		m->exch = d[off];
		m->flags = d[off + 1];
		m->nmut = d[off + 2];
		off += 3;
		if (m->nmut * 4 > size - off)
			m->nmut = (size - off) / 4;
		m->mut = d + off;
		off += 4 * m->nmut;
		m->pl = d + off;	/* npl 0 when the input ends here */
		if (off >= size)
			break;
		m->npl = d[off++];
		m->pl = d + off;
		/* payloads run to the next message: their own lengths say where */
		size_t p = off;
		for (size_t i = 0; i < m->npl && p + 3 <= size; i++) {
			size_t len = (size_t)d[p + 1] << 8 | d[p + 2];
			p += 3 + (len < size - p - 3 ? len : size - p - 3);
		}
		m->pl_len = p - off;
		off = p;
	}
	return r->nmsg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		init();
		ready = true;
	}
	if (size < 1)
		return 0;
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->mode = data[0] & 1;
	r->inband = data[0] & 2;
	r->now = (struct gdoi_now){ 5000, 1800000000 };
	r->next_sid = 0x52000;
	r->rk = rekey;
	parse(r, data + 1, size - 1);
	r->psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE }, GDOI_BYTES("group psk", 9) };
	struct gdoi_ike2_config *c = &r->cfg;
	c->suites = &suite;
	c->nsuites = 1;
	c->psks = &r->psk;
	c->npsks = 1;
	c->extra_payloads = extra;
	c->nextra_payloads = sizeof(extra);
	c->hooks = (struct gdoi_ike2_hooks){ h_auth_add, h_auth_request, h_auth_response, h_request,
					     h_response, r };
	struct gdoi_ike2_config honest = { .suites = &suite, .nsuites = 1, .psks = &r->psk, .npsks = 1 };
	if (!r->mode) {
		c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
		c->auth_exchange = GIKE2_EXCH_GSA_AUTH;
		honest.local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES("ks.example", 10) };
		struct gike2_gcks_engine_cfg kc = { .ike = &honest, .lookup = lookup, .ctx = r };
		if (!(r->ks = gike2_gcks_engine_new(&kc, r->now)))
			abort();
		struct gdoi_ike2_result res = { 0 };
		if (gdoi_ike2_initiate(c, &KS, r->now.mono_ms, &r->sa, &res))
			abort();
		take(r, &res);
	} else {
		c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES("ks.example", 10) };
		c->auth_exchanges = auth_exch;
		c->nauth_exchanges = sizeof(auth_exch);
		honest.local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) };
		struct gike2_member_cfg mc = { .ike = &honest, .ks = KS, .name = "audio",
					       .group = { GIKE2_ID_KEY_ID, GDOI_BYTES("audio", 5) },
					       .sid_request = 2 };
		if (!(r->gm = gike2_member_new(&mc)) || !(r->resp = gdoi_ike2_responder_new(c, r->now.mono_ms)))
			abort();
		gike2_member_timer(r->gm, r->now);
	}
	pump(r);
	/* Mode 0 with message 0 unmodified and built: the member registered. */
	if (!r->mode && r->nmsg && !r->modified && r->m[0].flags & 1 &&
	    gike2_gcks_engine_kept(r->ks) != 1)
		abort();
	while (r->cur < r->nmsg) {
		uint8_t exch = r->m[r->cur].exch;
		if (r->mode && exch == GIKE2_EXCH_GSA_REKEY) {
			send_rekey(r);
			continue;
		}
		if (!r->sa || !gdoi_ike2_established(r->sa) || gdoi_ike2_request_pending(r->sa)) {
			timers(r, 1000);
			if (!r->sa || !gdoi_ike2_established(r->sa)) {
				r->cur++;
				continue;
			}
		}
		struct gdoi_ike2_plist pl = { 0 };
		struct gdoi_ike2_result res = { 0 };
		fill(r, r->sa, exch, &pl);
		gdoi_ike2_send_request(r->sa, exch, &pl, r->now.mono_ms, &res);
		gdoi_ike2_plist_free(&pl);
		take(r, &res);
		pump(r);
	}
	if (r->inband && !r->mode) {
		struct gike2_gcks_inband ib = { .tag = 7, .policy = &policy };
		gike2_gcks_engine_inband_rekey(r->ks, &ib, r->now);
		pump(r);
	}
	timers(r, 200000);	/* SA lifetimes, keys' expiry, retransmissions to the end */
	if (r->mode) {
		gike2_member_free(r->gm);
		gdoi_ike2_responder_free(r->resp);
	} else {
		gdoi_ike2_free(r->sa);
		gike2_gcks_engine_free(r->ks);
	}
	q_free(&r->to_eng);
	q_free(&r->to_att);
	gike2_rekey_sa_clear(&r->rk);
	free(r);
	return 0;
}
