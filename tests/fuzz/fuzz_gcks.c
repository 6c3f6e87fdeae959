/*
 * fuzz_gcks.c - libFuzzer target for the key-server engine (gcks.h) as the
 * network sees it: whole datagrams from many sources into an engine serving
 * one group to a PSK member, on a fake clock, with a real member (Phase 1
 * initiator, then GROUPKEY-PULL member) taking steps in between, so that the
 * attacker's datagrams land in every state of a registration.
 *
 * Input: octet 0 = configuration (bits 0-1: flood limits tight / default /
 * loose / junk-only), then at most MAX_OPS chunks: op (1), length (2, big
 * endian), data (length, cut to what remains). Op bits 0-2:
 *   0 datagram data from source (op >> 4) (0 = the member's address)
 *   1 clock += data[0..2] * 10 ms, then the engine's timer
 *   2 the member sends its pending datagram and takes the replies
 *   3 as 0 from the member, data[0..16] overwritten by the member's cookies
 *   4 flips octet data[0] of the member's pending datagram (data[1] xor)
 *   5 the member's first Main Mode message, again, from source (op >> 4)
 *   6 GROUPKEY-PULL message 1 under the member's Phase 1 SA (fuzz_gcks_insider.h):
 *     Message ID data[0..4], first payload type data[4], the payload chain after
 *   7 message 3 of that exchange: first payload type data[0], the chain after
 * Invariants (abort()): every reply goes to the datagram's sender, has an
 * ISAKMP header whose Length is its size, one input queues at most 2 replies
 * and 3 events; Main Mode message 1 from one source is answered at most
 * burst + rate * t times; an input of only member steps registers.
 * LeakSanitizer checks that everything is freed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "gdoi/policy.h"
#include "gdoi/pull.h"
#include "gdoi/wire.h"
#include "tests/fuzz/fuzz_gcks_insider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GROUP 0x04d2
#define MAX_OPS 48
#define NSRC 16

static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };
static const struct gdoi_addr gm_addr = { 4, { 127, 0, 0, 1 }, 848 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const char psk[] = "fuzz gcks key";

static struct gdoi_p1_suite suite;
static struct gdoi_p1_psk gm_psk, ks_psk;
static struct gdoi_p1_config gm_cfg, ks_cfg;
static struct gdoi_policy policy;

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)member; (void)a;
	if (group != GROUP)
		return GDOI_ERR_NOT_FOUND;
	*p = &policy;
	return 0;
}

static int assign(void *ctx, uint32_t group, const struct gdoi_id *member, unsigned count, uint32_t *sids,
		  size_t *n)
{
	(void)ctx; (void)group; (void)member;
	*n = 0;
	for (unsigned i = 0; i < count && i < 4; i++)
		sids[(*n)++] = 100 + i;
	return 0;
}

static int admit(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a)
{
	(void)ctx; (void)group; (void)member; (void)a;
	return 0;
}

static void init(void)
{
	suite = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 19, GDOI_IKE_AUTH_PSK, 600 };
	gm_psk = (struct gdoi_p1_psk){ .addr = ks_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	ks_psk = (struct gdoi_p1_psk){ .addr = gm_addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	gm_cfg = (struct gdoi_p1_config){ .suites = &suite, .nsuites = 1, .psks = &gm_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(gm_ip, 4) } };
	ks_cfg = (struct gdoi_p1_config){ .suites = &suite, .nsuites = 1, .psks = &ks_psk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ks_ip, 4) } };
	policy.group_id = GROUP;
	struct gdoi_tek *t = &policy.teks[policy.nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 0x1234,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 1, 2, 3 } },
		.u.srtp = { .profile = 1, .flags = GDOI_SRTP_FLAG_SRTCP, .lifetime = 3600, .replay_window = 64 } };
	if (gdoi_policy_generate_keys(&policy))
		abort();
}

static struct gdoi_addr source(unsigned n)
{
	struct gdoi_addr a = gm_addr;
	if (n % NSRC) {
		a.ip[2] = (uint8_t)(n % NSRC);
		a.port = (uint16_t)(1000 + n);
	}
	return a;
}

/* One run: the engine, the member, the clock, and per source the MM1 answers. */
struct run {
	struct gdoi_gcks *k;
	struct gdoi_gcks_limits lim;
	struct gdoi_now now, start;
	struct gdoi_p1_sa *gm;
	struct gdoi_pull_member *pm;
	struct gdoi_policy *installed;
	uint8_t *pending, *mm1;
	size_t pending_len, mm1_len;
	uint64_t mm1_answers[NSRC];
	bool only_steps;
	/* ops 6 and 7: the insider's exchange, its nonces, the answer to message 1 */
	uint32_t in_msgid;
	uint8_t ni[INSIDER_NONCE_MAX], nr[INSIDER_NONCE_MAX];
	size_t ni_len, nr_len;
	bool capture;
	uint8_t *answer;
	size_t answer_len;
};

static void set_pending(uint8_t **slot, size_t *slot_len, const uint8_t *b, size_t len)
{
	free(*slot);
	*slot = NULL;
	*slot_len = 0;
	if (!b || !len)
		return;
	*slot = malloc(len);
	if (!*slot)
		abort();
	memcpy(*slot, b, len);
	*slot_len = len;
}

static bool is_mm1(const uint8_t *m, size_t len)
{
	static const uint8_t zero[8];
	return len > 18 && m[18] == GDOI_EXCH_IDENT_PROT && !memcmp(m + 8, zero, 8);
}

static void member_take(struct run *r, const uint8_t *reply, size_t len)
{
	if (!r->gm)
		return;
	if (!gdoi_p1_established(r->gm)) {
		struct gdoi_p1_result pr = { 0 };
		gdoi_p1_input(r->gm, reply, len, r->now.mono_ms, &pr);
		if (pr.out)
			set_pending(&r->pending, &r->pending_len, pr.out, pr.out_len);
		gdoi_p1_result_clear(&pr);
		if (!gdoi_p1_established(r->gm) || r->pm)
			return;
		struct gdoi_pull_member_cfg mc = { .group_id = GROUP, .sid_request = 1 };
		struct gdoi_pull_result pl = { 0 };
		if (gdoi_pull_member_start(r->gm, &mc, r->now.mono_ms, &r->pm, &pl) == 0)
			set_pending(&r->pending, &r->pending_len, pl.out, pl.out_len);
		gdoi_pull_result_clear(&pl);
		return;
	}
	if (!r->pm)
		return;
	struct gdoi_pull_result pl = { 0 };
	gdoi_pull_member_input(r->pm, reply, len, r->now.mono_ms, &pl);
	if (pl.out)
		set_pending(&r->pending, &r->pending_len, pl.out, pl.out_len);
	if (pl.event == GDOI_PULL_EV_INSTALLED && pl.policy && !r->installed) {
		r->installed = pl.policy;
		pl.policy = NULL;
	}
	gdoi_pull_result_clear(&pl);
}

/* One datagram into the engine; checks and takes what comes out. */
static void deliver(struct run *r, const uint8_t *m, size_t len, unsigned src)
{
	struct gdoi_addr from = source(src);
	bool mm1 = is_mm1(m, len);
	gdoi_gcks_input(r->k, m, len, &from, r->now);
	struct gdoi_out o;
	unsigned nout = 0, nev = 0;
	uint8_t *replies[2] = { 0 };
	size_t rlen[2] = { 0 };
	while (gdoi_gcks_next_out(r->k, &o)) {
		if (++nout > 2 || memcmp(&o.to, &from, sizeof(from)))
			abort();
		struct gdoi_hdr h;
		struct gdoi_parse_error pe;
		if (gdoi_hdr_parse(o.buf, o.len, &h, &pe) || h.length != o.len)
			abort();
		set_pending(&replies[nout - 1], &rlen[nout - 1], o.buf, o.len);
	}
	struct gdoi_gcks_event ev;
	while (gdoi_gcks_next_event(r->k, &ev))
		if (++nev > 3)
			abort();
	if (mm1 && nout) {
		uint64_t secs = (r->now.mono_ms - r->start.mono_ms) / 1000 + 1;
		uint64_t cap = r->lim.mm1_burst + (uint64_t)r->lim.mm1_per_s * secs;
		if (++r->mm1_answers[src % NSRC] > cap)
			abort();
	}
	for (unsigned i = 0; i < nout; i++) {
		if (r->capture && i == 0)
			set_pending(&r->answer, &r->answer_len, replies[i], rlen[i]);
		else if (src % NSRC == 0)
			member_take(r, replies[i], rlen[i]);
		free(replies[i]);
	}
}

static void member_step(struct run *r)
{
	if (!r->gm) {
		struct gdoi_p1_result pr = { 0 };
		if (gdoi_p1_initiate(&gm_cfg, &ks_addr, r->now.mono_ms, &r->gm, &pr) == 0 && pr.out) {
			set_pending(&r->pending, &r->pending_len, pr.out, pr.out_len);
			set_pending(&r->mm1, &r->mm1_len, pr.out, pr.out_len);
		}
		gdoi_p1_result_clear(&pr);
	}
	if (!r->pending)
		return;
	uint8_t *m = r->pending;
	size_t len = r->pending_len;
	r->pending = NULL;
	r->pending_len = 0;
	deliver(r, m, len, 0);
	free(m);
}

/* Ops 6 and 7: the member's Phase 1 SA protects the attacker's payloads. */
static void insider(struct run *r, bool third, const uint8_t *d, size_t n)
{
	struct gdoi_writer w;
	int rc;

	if (!r->gm || !gdoi_p1_established(r->gm) || n < (third ? 1u : 5u))
		return;
	if (third && (!r->in_msgid || !r->answer ||
		      !insider_nr(r->gm, r->in_msgid, r->answer, r->answer_len, r->nr, &r->nr_len)))
		return;
	if (!third) {
		if (!(r->in_msgid = gdoi_get_u32(d)))
			return;
		d += 4;
		n -= 4;
		r->ni_len = 0;
		insider_nonce(d[0], d + 1, n - 1, r->ni, &r->ni_len);
	}
	gdoi_writer_init(&w);
	rc = third ? insider_seal(r->gm, r->in_msgid, GDOI_BYTES(r->ni, r->ni_len),
				  GDOI_BYTES(r->nr, r->nr_len), d[0], d + 1, n - 1, &w)
		   : insider_seal(r->gm, r->in_msgid, GDOI_BYTES_NONE, GDOI_BYTES_NONE, d[0], d + 1,
				  n - 1, &w);
	if (rc == 0) {
		set_pending(&r->answer, &r->answer_len, NULL, 0);
		r->capture = true;
		deliver(r, w.buf, w.len, 0);
		r->capture = false;
	}
	gdoi_writer_free(&w);
}

static void run_op(struct run *r, uint8_t op, const uint8_t *d, size_t n)
{
	unsigned src = op >> 4;
	if ((op & 7) != 2)
		r->only_steps = false;
	switch (op & 7) {
	case 0:
		deliver(r, d, n, src);
		break;
	case 1: {
		unsigned ms = n >= 2 ? (unsigned)(d[0] << 8 | d[1]) * 10u : 1000u;
		r->now.mono_ms += ms;
		r->now.unix_s += ms / 1000;
		gdoi_gcks_timer(r->k, r->now);
		break;
	}
	case 2:
		member_step(r);
		break;
	case 3: {
		if (!r->gm || n < 16)
			break;
		uint8_t *m = malloc(n);
		if (!m)
			abort();
		memcpy(m, d, n);
		gdoi_p1_cookies(r->gm, m, m + 8);
		deliver(r, m, n, 0);
		free(m);
		break;
	}
	case 4:
		if (r->pending && n >= 2)
			r->pending[d[0] % r->pending_len] ^= d[1] ? d[1] : 1;
		break;
	case 5:
		if (r->mm1) {
			uint8_t *m = malloc(r->mm1_len);
			if (!m)
				abort();
			memcpy(m, r->mm1, r->mm1_len);
			deliver(r, m, r->mm1_len, src);
			free(m);
		}
		break;
	case 6:
	case 7:
		insider(r, (op & 7) == 7, d, n);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 1)
		return 0;
	static const struct gdoi_gcks_limits limits[4] = {
		{ 2, 3, 5, 8 }, { 100, 400, 100, 400 }, { 1000, 4000, 1000, 4000 }, { 100, 400, 1, 2 },
	};
	struct run r = { .lim = limits[data[0] & 3], .only_steps = true };
	r.now = r.start = (struct gdoi_now){ .mono_ms = 5000, .unix_s = 1700000000 };
	struct gdoi_gcks_cfg c = { .p1 = &ks_cfg, .pull = { .lookup = lookup, .assign_sids = assign, .admit = admit },
				   .limits = r.lim };
	r.k = gdoi_gcks_new(&c);
	if (!r.k)
		abort();
	size_t off = 1, steps = 0;
	for (unsigned ops = 0; ops < MAX_OPS && off + 3 <= size; ops++) {
		uint8_t op = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		run_op(&r, op, data + off, n);
		steps += (op & 7) == 2;
		off += n;
	}
	/* Main Mode is 3 round trips, PULL 2: six member steps register. */
	if (r.only_steps && steps >= 6 && !r.installed)
		abort();
	if (gdoi_gcks_sa_count(r.k) > MAX_OPS)
		abort();
	if (r.installed)
		gdoi_pull_policy_free(r.installed);
	gdoi_pull_member_free(r.pm);
	gdoi_p1_free(r.gm);
	free(r.pending);
	free(r.mm1);
	free(r.answer);
	gdoi_gcks_free(r.k);
	return 0;
}
