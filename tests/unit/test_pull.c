/*
 * test_pull.c - GROUPKEY-PULL, member against key server in memory: SRTP
 * TEKs of every profile, ESP and AH TEKs, with and without KEK and SSRC
 * requests, several exchanges under one Phase 1; then every refusal: bad
 * HASH(1)..HASH(4), nonces of 7 and 129 octets, unknown group, identity not
 * allowed, unknown SA attribute, KD missing a key, replayed message 3, a
 * message for an exchange that does not exist, rekey key = Phase 1 key.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike_keys.h"
#include "gdoi/msg_crypt.h"
#include "gdoi/pull.h"
#include "gdoi/sign.h"
#include "gdoi/wire.h"
#include "tests/lib/certgen.h"
#include "tests/lib/p1pair.h"

#define GROUP 4711

/* ---- a key server's world: groups, authorization, SSRC allocation --------- */

static struct {
	struct gdoi_policy policy;
	uint32_t group;
	bool deny;
	int unavailable;		/* lookup's error when the key server cannot serve now */
	unsigned assign_calls;
	uint32_t next_ssrc;
	uint8_t rekey_spki[200];
	size_t rekey_spki_len;
	struct gdoi_key *rekey_key;
} world;

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)member; (void)a;
	if (group != world.group)
		return GDOI_ERR_NOT_FOUND;
	if (world.deny)
		return GDOI_ERR_NOT_AUTHORIZED;
	if (world.unavailable)
		return world.unavailable;
	*p = &world.policy;
	return 0;
}

static int assign(void *ctx, uint32_t group, const struct gdoi_id *member, unsigned count,
		  uint32_t *sids, size_t *n)
{
	(void)ctx; (void)group; (void)member;
	world.assign_calls++;
	for (unsigned i = 0; i < count; i++)
		sids[i] = world.next_ssrc++;
	*n = count;
	return 0;
}

static const uint8_t mcast[4] = { 239, 1, 2, 3 }, any[8] = { 0 };

static void add_srtp(uint16_t profile, uint32_t spi)
{
	struct gdoi_tek *t = &world.policy.teks[world.policy.nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4 },
		.u.srtp = { .profile = profile, .flags = GDOI_SRTP_FLAG_SRTCP | GDOI_SRTP_FLAG_MKI,
			    .lifetime = 3600, .replay_window = 256, .ssrc_assigned = true } };
	memcpy(t->src.addr, any, 8);
	memcpy(t->dst.addr, mcast, 4);
}

static void add_ipsec(enum gdoi_tek_kind kind, uint8_t transform, uint16_t bits, uint16_t auth,
		      uint32_t spi)
{
	struct gdoi_tek *t = &world.policy.teks[world.policy.nteks++];
	*t = (struct gdoi_tek){ .kind = kind, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4 },
		.u.ipsec = { .transform_id = transform, .key_bits = bits, .auth_alg = auth,
			     .encap_mode = 1, .lifetime = 3600 } };
	memcpy(t->dst.addr, mcast, 4);
}

static void add_kek(void)
{
	struct gdoi_kek_policy *k = &world.policy.kek;
	world.policy.has_kek = true;
	*k = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 256,
		.lifetime = 86400, .sig_alg = GDOI_SIG_ALG_ECDSA_256, .sig_hash = GDOI_SIG_HASH_SHA256,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .addr = { 127, 0, 0, 2 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 1849, .addr_len = 4 } };
	memcpy(k->dst.addr, mcast, 4);
	assert_int_equal(gdoi_random(k->spi, 16), 0);
	memcpy(k->rekey_pub, world.rekey_spki, world.rekey_spki_len);
	k->rekey_pub_len = world.rekey_spki_len;
	world.policy.seq = 41;
}

static int setup(void **s)
{
	(void)s;
	memset(&world, 0, sizeof(world));
	world.group = GROUP;
	world.next_ssrc = 0x10000;
	EVP_PKEY *k = certgen_key("p256");
	size_t dl;
	uint8_t *der = certgen_key_der(k, &dl);
	EVP_PKEY_free(k);
	if (gdoi_key_load_private(GDOI_BYTES(der, dl), &world.rekey_key))
		return -1;
	free(der);
	uint8_t *spki;
	if (gdoi_key_to_spki(world.rekey_key, &spki, &world.rekey_spki_len))
		return -1;
	memcpy(world.rekey_spki, spki, world.rekey_spki_len);
	free(spki);
	world.policy.group_id = GROUP;
	world.policy.has_gap = true;
	world.policy.atd = 5;
	world.policy.dtd = 30;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	gdoi_key_free(world.rekey_key);
	gdoi_policy_clear(&world.policy);
	return 0;
}

/* ---- driving an exchange ------------------------------------------------- */

struct reg {
	struct p1pair p;
	struct gdoi_pull_ks *ks;
	struct gdoi_pull_ks_cfg ks_cfg;
	struct gdoi_pull_member *pm;
	struct gdoi_pull_member_cfg cfg;
	uint8_t *msg[5];
	size_t len[5];
};

static uint8_t *take(struct gdoi_pull_result *r, size_t *len)
{
	uint8_t *m = r->out;
	*len = r->out_len;
	r->out = NULL;
	return m;
}

static void reg_init(struct reg *r, unsigned sids)
{
	memset(r, 0, sizeof(*r));
	p1pair_establish(&r->p, 0);
	r->ks_cfg = (struct gdoi_pull_ks_cfg){ .lookup = lookup, .assign_sids = assign };
	r->ks = gdoi_pull_ks_new(&r->ks_cfg);
	r->cfg = (struct gdoi_pull_member_cfg){ .group_id = GROUP, .sid_request = sids };
}

static void reg_free(struct reg *r)
{
	for (int i = 0; i < 5; i++)
		free(r->msg[i]);
	gdoi_pull_member_free(r->pm);
	gdoi_pull_ks_free(r->ks);
	p1pair_free(&r->p);
}

/* Runs the four messages; returns the member's final result (caller clears). */
static void reg_run(struct reg *r, struct gdoi_pull_result *final, struct gdoi_pull_result *ks_final)
{
	struct gdoi_pull_result res = { 0 };
	assert_int_equal(gdoi_pull_member_start(r->p.gm, &r->cfg, 0, &r->pm, &res), 0);
	r->msg[1] = take(&res, &r->len[1]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_input(r->ks, r->p.ks, r->msg[1], r->len[1], 0, &res), 0);
	r->msg[2] = take(&res, &r->len[2]);
	gdoi_pull_result_clear(&res);
	assert_non_null(r->msg[2]);
	assert_int_equal(gdoi_pull_member_input(r->pm, r->msg[2], r->len[2], 0, &res), 0);
	r->msg[3] = take(&res, &r->len[3]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_input(r->ks, r->p.ks, r->msg[3], r->len[3], 0, ks_final), 0);
	r->msg[4] = take(ks_final, &r->len[4]);
	assert_int_equal(gdoi_pull_member_input(r->pm, r->msg[4], r->len[4], 0, final), 0);
}

static void assert_policy_equal(const struct gdoi_policy *got, const struct gdoi_policy *want)
{
	assert_int_equal(got->nteks, want->nteks);
	assert_int_equal(got->has_kek, want->has_kek);
	assert_int_equal(got->has_gap, want->has_gap);
	assert_int_equal(got->atd, want->atd);
	assert_int_equal(got->dtd, want->dtd);
	for (size_t i = 0; i < want->nteks; i++) {
		const struct gdoi_tek *a = &got->teks[i], *b = &want->teks[i];
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->spi, b->spi);
		assert_true(a->have_keys);
		assert_bytes_equal(a->key, a->key_len, b->key, b->key_len);
		assert_bytes_equal(a->integrity, a->integrity_len, b->integrity, b->integrity_len);
		assert_memory_equal(&a->src, &b->src, sizeof(a->src));
		assert_memory_equal(&a->dst, &b->dst, sizeof(a->dst));
		if (a->kind == GDOI_TEK_SRTP)
			assert_memory_equal(&a->u.srtp, &b->u.srtp, sizeof(a->u.srtp));
		else
			assert_memory_equal(&a->u.ipsec, &b->u.ipsec, sizeof(a->u.ipsec));
	}
	if (want->has_kek) {
		assert_memory_equal(got->kek.spi, want->kek.spi, 16);
		assert_memory_equal(got->kek.iv, want->kek.iv, 16);
		assert_memory_equal(got->kek.key, want->kek.key, 32);
		assert_bytes_equal(got->kek.rekey_pub, got->kek.rekey_pub_len, want->kek.rekey_pub,
				   want->kek.rekey_pub_len);
		assert_int_equal(got->kek.sig_alg, want->kek.sig_alg);
		assert_true(got->has_seq);
		assert_int_equal(got->seq, want->seq);
	} else {
		assert_false(got->has_seq);
	}
}

static void register_and_check(unsigned sids)
{
	struct reg r;
	struct gdoi_pull_result res = { 0 }, ksres = { 0 };
	reg_init(&r, sids);
	unsigned calls = world.assign_calls;
	reg_run(&r, &res, &ksres);
	assert_int_equal(res.event, GDOI_PULL_EV_INSTALLED);
	assert_int_equal(ksres.event, GDOI_PULL_EV_REGISTERED);
	assert_int_equal(ksres.group_id, GROUP);
	assert_policy_equal(res.policy, &world.policy);
	assert_int_equal(res.policy->nsids, sids);
	assert_int_equal(world.assign_calls, calls + (sids ? 1 : 0));
	for (unsigned i = 1; i < sids; i++)
		assert_int_equal(res.policy->sids[i], res.policy->sids[0] + i);
	if (sids)
		assert_int_equal(res.policy->sid_bits, 32);
	gdoi_pull_result_clear(&res);
	gdoi_pull_result_clear(&ksres);
	reg_free(&r);
}

static void test_pull_installs_every_srtp_profile_with_kek(void **s)
{
	(void)s;
	static const uint16_t profiles[] = { 1, 2, 5, 6, 7, 8 };
	for (size_t i = 0; i < 6; i++)
		add_srtp(profiles[i], 0x100 + (uint32_t)i);
	add_kek();
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	assert_int_equal(world.policy.teks[4].key_len, 28);	/* AEAD_AES_128_GCM: 16 + 12 */
	assert_int_equal(world.policy.teks[5].key_len, 44);	/* AEAD_AES_256_GCM: 32 + 12 */
	assert_int_equal(world.policy.teks[0].key_len, 30);
	register_and_check(2);
	register_and_check(0);
}

static void test_pull_installs_srtp_without_kek(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0xabc);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	register_and_check(1);
	register_and_check(0);
}

static void test_pull_installs_esp_and_ah_teks(void **s)
{
	(void)s;
	add_ipsec(GDOI_TEK_ESP, 12, 128, 5, 0x1001);	/* AES-CBC-128 + HMAC-SHA2-256 */
	add_ipsec(GDOI_TEK_ESP, 3, 0, 2, 0x1002);	/* 3DES + HMAC-SHA1 */
	add_ipsec(GDOI_TEK_ESP, 20, 256, 0, 0x1003);	/* AES-GCM-16-256 */
	add_ipsec(GDOI_TEK_AH, 5, 0, 0, 0x1004);	/* AH HMAC-SHA2-256 */
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	assert_int_equal(world.policy.teks[2].key_len, 36);
	assert_int_equal(world.policy.teks[3].integrity_len, 32);
	register_and_check(0);
	add_kek();
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	register_and_check(0);
}

/* Two registrations for two groups interleaved under one Phase 1 SA. */
static void test_pull_runs_two_exchanges_under_one_phase1_sa(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x55);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	reg_init(&r, 1);
	struct gdoi_pull_member *pm2 = NULL;
	struct gdoi_pull_result a = { 0 }, b = { 0 };
	struct gdoi_pull_member_cfg cfg2 = r.cfg;
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &a), 0);
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &cfg2, 0, &pm2, &b), 0);
	assert_int_not_equal(gdoi_pull_member_msgid(r.pm), gdoi_pull_member_msgid(pm2));
	struct gdoi_pull_member *who[2] = { r.pm, pm2 };
	struct gdoi_pull_result *res[2] = { &a, &b };
	/* Ping-pong both exchanges, B's messages always first. */
	for (int round = 0; round < 2; round++) {
		for (int k = 1; k >= 0; k--) {
			struct gdoi_pull_result ks = { 0 };
			assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, res[k]->out, res[k]->out_len, 0, &ks), 0);
			gdoi_pull_result_clear(res[k]);
			assert_int_equal(gdoi_pull_member_input(who[k], ks.out, ks.out_len, 0, res[k]), 0);
			gdoi_pull_result_clear(&ks);
		}
	}
	assert_int_equal(a.event, GDOI_PULL_EV_INSTALLED);
	assert_int_equal(b.event, GDOI_PULL_EV_INSTALLED);
	assert_int_not_equal(a.policy->sids[0], b.policy->sids[0]);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 2);
	gdoi_pull_result_clear(&a);
	gdoi_pull_result_clear(&b);
	gdoi_pull_member_free(pm2);
	reg_free(&r);
}

/* ---- crafted messages --------------------------------------------------- */

/* A PULL message as the peer of rx would send it: keys and the IV chain of rx
 * (no chain is advanced); break_hash flips one bit of the HASH. */
static uint8_t *craft(struct gdoi_p1_sa *rx, uint32_t msgid, struct gdoi_payload *pl, size_t n,
		      gdoi_bytes ni, gdoi_bytes nr, bool break_hash, size_t *len)
{
	const struct gdoi_ike_keys *k = gdoi_p1_keys(rx);
	uint8_t zero[64] = { 0 }, iv[16], mid[4];
	size_t offs[8];
	struct gdoi_hdr h = { .exchange = GDOI_EXCH_PULL, .msgid = msgid };
	struct gdoi_writer w;
	gdoi_p1_cookies(rx, h.icookie, h.rcookie);
	pl[0] = (struct gdoi_payload){ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(zero, k->len) };
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, pl, n, offs), 0);
	gdoi_put_u32(mid, msgid);
	gdoi_bytes parts[] = { GDOI_BYTES(mid, 4), ni, nr,
			       GDOI_BYTES(w.buf + offs[1], offs[n] - offs[1]) };
	uint8_t *hash = w.buf + offs[0] + 4;
	assert_int_equal(gdoi_prf(k->md, GDOI_BYTES(k->skeyid_a, k->len), parts, 4, hash), 0);
	if (break_hash)
		hash[3] ^= 0x20;
	assert_int_equal(gdoi_p1_iv_get(rx, msgid, iv), 0);
	assert_int_equal(gdoi_msg_seal(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
				       GDOI_BYTES(iv, 16), &w, 0, NULL), 0);
	return gdoi_writer_take(&w, len);
}

static const uint8_t ni_fixed[16] = { 'n', 'i', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static const uint8_t nr_fixed[16] = { 'n', 'r', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

/* The member's message 1 with a fixed nonce, so that a test can play the key server. */
static void member_sends_msg1(struct reg *r)
{
	struct gdoi_pull_result res = { 0 };
	r->cfg.fixed_nonce = ni_fixed;
	r->cfg.fixed_nonce_len = 16;
	assert_int_equal(gdoi_pull_member_start(r->p.gm, &r->cfg, 0, &r->pm, &res), 0);
	r->msg[1] = take(&res, &r->len[1]);
	gdoi_pull_result_clear(&res);
}

static uint8_t *ks_msg2(struct reg *r, const struct gdoi_policy *pol, bool break_hash, size_t *len)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3] = { [1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(nr_fixed, 16) } };
	assert_int_equal(gdoi_policy_to_sa(pol, true, a, &pl[2]), 0);
	uint8_t *m = craft(r->p.gm, gdoi_pull_member_msgid(r->pm), pl, 3, GDOI_BYTES(ni_fixed, 16),
			   GDOI_BYTES_NONE, break_hash, len);
	gdoi_arena_free(a);
	return m;
}

static uint8_t *ks_msg4(struct reg *r, const struct gdoi_policy *pol, bool break_hash, size_t *len)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3];
	size_t n = 1;
	if (pol->has_kek)
		pl[n++] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = pol->seq };
	assert_int_equal(gdoi_policy_to_kd(pol, true, NULL, 0, a, &pl[n++]), 0);
	uint8_t *m = craft(r->p.gm, gdoi_pull_member_msgid(r->pm), pl, n, GDOI_BYTES(ni_fixed, 16),
			   GDOI_BYTES(nr_fixed, 16), break_hash, len);
	gdoi_arena_free(a);
	return m;
}

static void test_pull_drops_bad_hash_in_each_message(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x77);
	add_kek();
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	size_t len;
	reg_init(&r, 0);

	/* HASH(1): the key server drops it and keeps no exchange. */
	uint8_t gid[4];
	gdoi_put_u32(gid, GROUP);
	struct gdoi_payload m1[3] = {
		[1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(ni_fixed, 16) },
		[2] = { .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_KEY_ID, .data = GDOI_BYTES(gid, 4) } },
	};
	uint8_t *bad = craft(r.p.ks, 0x1234, m1, 3, GDOI_BYTES_NONE, GDOI_BYTES_NONE, true, &len);
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, bad, len, 0, &res), GDOI_ERR_AUTH);
	assert_null(res.out);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 0);
	gdoi_pull_result_clear(&res);
	free(bad);

	/* HASH(2): the member drops it, then takes the genuine one. */
	member_sends_msg1(&r);
	bad = ks_msg2(&r, &world.policy, true, &len);
	assert_int_equal(gdoi_pull_member_input(r.pm, bad, len, 0, &res), GDOI_ERR_AUTH);
	assert_null(res.out);
	gdoi_pull_result_clear(&res);
	free(bad);
	r.msg[2] = ks_msg2(&r, &world.policy, false, &r.len[2]);
	assert_int_equal(gdoi_pull_member_input(r.pm, r.msg[2], r.len[2], 0, &res), 0);
	r.msg[3] = take(&res, &r.len[3]);
	assert_non_null(r.msg[3]);
	gdoi_pull_result_clear(&res);

	/* HASH(4): dropped; the genuine message 4 installs. */
	bad = ks_msg4(&r, &world.policy, true, &len);
	assert_int_equal(gdoi_pull_member_input(r.pm, bad, len, 0, &res), GDOI_ERR_AUTH);
	assert_int_equal(res.event, GDOI_PULL_EV_NONE);
	gdoi_pull_result_clear(&res);
	free(bad);
	r.msg[4] = ks_msg4(&r, &world.policy, false, &r.len[4]);
	assert_int_equal(gdoi_pull_member_input(r.pm, r.msg[4], r.len[4], 0, &res), 0);
	assert_int_equal(res.event, GDOI_PULL_EV_INSTALLED);
	assert_policy_equal(res.policy, &world.policy);
	gdoi_pull_result_clear(&res);
	reg_free(&r);

	/* HASH(3): the key server drops it and assigns nothing. */
	reg_init(&r, 2);
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &res), 0);
	r.msg[1] = take(&res, &r.len[1]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &res), 0);
	gdoi_pull_result_clear(&res);
	struct gdoi_payload m3[1];
	bad = craft(r.p.ks, gdoi_pull_member_msgid(r.pm), m3, 1, GDOI_BYTES(ni_fixed, 16),
		    GDOI_BYTES(nr_fixed, 16), true, &len);
	unsigned calls = world.assign_calls;
	assert_true(gdoi_pull_ks_input(r.ks, r.p.ks, bad, len, 0, &res) < 0);
	assert_null(res.out);
	assert_int_equal(world.assign_calls, calls);
	gdoi_pull_result_clear(&res);
	free(bad);
	reg_free(&r);
}

static void test_pull_refuses_nonces_outside_8_to_128_octets(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x78);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	static const uint8_t big[129] = { 1 };
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	size_t len;
	reg_init(&r, 0);
	/* The member refuses to send them ... */
	for (size_t n = 7; n <= 129; n += 122) {
		r.cfg.fixed_nonce = big;
		r.cfg.fixed_nonce_len = n;
		assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &res), GDOI_ERR_VALUE);
		assert_null(r.pm);
		gdoi_pull_result_clear(&res);
	}
	/* ... and the key server refuses to take them (valid HASH(1) otherwise). */
	uint8_t gid[4];
	gdoi_put_u32(gid, GROUP);
	for (size_t n = 7; n <= 129; n += 122) {
		struct gdoi_payload m1[3] = {
			[1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(big, n) },
			[2] = { .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_KEY_ID, .data = GDOI_BYTES(gid, 4) } },
		};
		uint8_t *m = craft(r.p.ks, 0x2000 + (uint32_t)n, m1, 3, GDOI_BYTES_NONE, GDOI_BYTES_NONE,
				   false, &len);
		assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, m, len, 0, &res), GDOI_ERR_VALUE);
		assert_null(res.out);
		assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 0);
		gdoi_pull_result_clear(&res);
		free(m);
	}
	/* 8 and 128 are fine. */
	for (size_t n = 8; n <= 128; n += 120) {
		struct gdoi_payload m1[3] = {
			[1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(big, n) },
			[2] = { .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_KEY_ID, .data = GDOI_BYTES(gid, 4) } },
		};
		uint8_t *m = craft(r.p.ks, 0x3000 + (uint32_t)n, m1, 3, GDOI_BYTES_NONE, GDOI_BYTES_NONE,
				   false, &len);
		assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, m, len, 0, &res), 0);
		assert_non_null(res.out);
		gdoi_pull_result_clear(&res);
		free(m);
	}
	reg_free(&r);
}

/* Refusals arrive at the member as a protected Informational Notify. */
static void refused_with(uint16_t notify)
{
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	reg_init(&r, 0);
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &res), 0);
	r.msg[1] = take(&res, &r.len[1]);
	gdoi_pull_result_clear(&res);
	assert_true(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &res) < 0);
	assert_int_equal(res.event, GDOI_PULL_EV_FAILED);
	assert_int_equal(res.notify, notify);
	assert_non_null(res.out);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 0);
	struct gdoi_p1_result p1 = { 0 };
	assert_int_equal(gdoi_p1_input(r.p.gm, res.out, res.out_len, 0, &p1), 0);
	assert_int_equal(p1.event, GDOI_P1_EV_NOTIFY);
	assert_int_equal(p1.notify, notify);
	gdoi_p1_result_clear(&p1);
	gdoi_pull_result_clear(&res);
	reg_free(&r);
}

static void test_pull_refuses_unknown_group_or_identity_with_notify(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x79);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	world.group = GROUP + 1;
	refused_with(GDOI_N_INVALID_ID_INFORMATION);
	world.group = GROUP;
	world.deny = true;
	refused_with(GDOI_N_AUTHENTICATION_FAILED);
	world.deny = false;
	/* a key server that cannot serve now (its state unreachable) says so: not bad credentials */
	world.unavailable = GDOI_ERR_STATE;
	refused_with(GDOI_N_PRIVATE_UNAVAILABLE);
	world.unavailable = 0;
	/* The Phase 1 key may not double as the rekey key. */
	add_kek();
	struct reg r;
	reg_init(&r, 0);
	r.ks_cfg.p1_key = world.rekey_key;
	gdoi_pull_ks_free(r.ks);
	r.ks = gdoi_pull_ks_new(&r.ks_cfg);
	struct gdoi_pull_result res = { 0 };
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &res), 0);
	r.msg[1] = take(&res, &r.len[1]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &res),
			 GDOI_ERR_INVALID_ARG);
	assert_int_equal(res.notify, GDOI_N_INVALID_KEY_INFORMATION);
	gdoi_pull_result_clear(&res);
	reg_free(&r);
}

/* An SA the member does not understand: Delete of the Phase 1 SA, nothing installed. */
static void test_member_deletes_phase1_sa_on_unknown_attribute(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x7a);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	size_t len;
	reg_init(&r, 0);
	member_sends_msg1(&r);
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3] = { [1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(nr_fixed, 16) } };
	assert_int_equal(gdoi_policy_to_sa(&world.policy, true, a, &pl[2]), 0);
	struct gdoi_tek_srtp *t = &pl[2].u.sa.sats[0].u.srtp;
	struct gdoi_attr *more = gdoi_arena_calloc(a, t->attrs.n + 1, sizeof(*more));
	memcpy(more, t->attrs.v, t->attrs.n * sizeof(*more));
	more[t->attrs.n] = gdoi_attr_basic(99, 1);	/* not in docs/srtp-tek.md */
	t->attrs = (struct gdoi_attr_list){ more, t->attrs.n + 1 };
	uint8_t *m = craft(r.p.gm, gdoi_pull_member_msgid(r.pm), pl, 3, GDOI_BYTES(ni_fixed, 16),
			   GDOI_BYTES_NONE, false, &len);
	gdoi_arena_free(a);
	assert_int_equal(gdoi_pull_member_input(r.pm, m, len, 0, &res), GDOI_ERR_UNSUPPORTED);
	free(m);
	assert_int_equal(res.event, GDOI_PULL_EV_FAILED);
	assert_true(res.teardown);
	assert_null(res.policy);
	assert_true(gdoi_p1_dead(r.p.gm));
	/* What goes out is the Delete, and the key server's Phase 1 learns it. */
	struct gdoi_p1_result p1 = { 0 };
	struct gdoi_p1_sa *sa = NULL;
	assert_int_equal(gdoi_p1_responder_input(r.p.resp, res.out, res.out_len, &p1pair_gm_addr, 0,
						 &p1, &sa), 0);
	assert_int_equal(p1.event, GDOI_P1_EV_DELETED);
	gdoi_p1_result_clear(&p1);
	gdoi_pull_result_clear(&res);
	reg_free(&r);
}

static void test_member_refuses_kd_missing_a_tek_key(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x7b);
	add_srtp(GDOI_SRTP_AEAD_AES_128_GCM, 0x7c);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	size_t len;
	reg_init(&r, 0);
	member_sends_msg1(&r);
	r.msg[2] = ks_msg2(&r, &world.policy, false, &r.len[2]);
	assert_int_equal(gdoi_pull_member_input(r.pm, r.msg[2], r.len[2], 0, &res), 0);
	gdoi_pull_result_clear(&res);
	/* The KD of a policy that has only the first TEK. */
	struct gdoi_policy *half = malloc(sizeof(*half));
	memcpy(half, &world.policy, sizeof(*half));
	half->nteks = 1;
	uint8_t *m = ks_msg4(&r, half, false, &len);
	gdoi_policy_clear(half);
	free(half);
	assert_int_equal(gdoi_pull_member_input(r.pm, m, len, 0, &res), GDOI_ERR_MISSING);
	assert_int_equal(res.event, GDOI_PULL_EV_FAILED);
	assert_null(res.policy);
	free(m);
	gdoi_pull_result_clear(&res);
	reg_free(&r);
}

static void test_pull_answers_replays_from_cache_drops_strangers(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x7d);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	struct gdoi_pull_result res = { 0 }, ksres = { 0 };
	reg_init(&r, 3);
	unsigned calls = world.assign_calls;
	reg_run(&r, &res, &ksres);
	assert_int_equal(res.event, GDOI_PULL_EV_INSTALLED);
	gdoi_pull_result_clear(&res);
	gdoi_pull_result_clear(&ksres);
	assert_int_equal(world.assign_calls, calls + 1);
	/* Message 3 replayed: the cached message 4, byte for byte; no second allocation. */
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[3], r.len[3], 0, &ksres), 0);
	assert_bytes_equal(ksres.out, ksres.out_len, r.msg[4], r.len[4]);
	assert_int_equal(ksres.event, GDOI_PULL_EV_NONE);
	assert_int_equal(world.assign_calls, calls + 1);
	gdoi_pull_result_clear(&ksres);
	/* Message 1 replayed after the end: stale, dropped without an answer. */
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &ksres), GDOI_ERR_STATE);
	assert_null(ksres.out);
	gdoi_pull_result_clear(&ksres);
	/* Message 4 replayed to the member: the exchange is over; nothing happens. */
	assert_true(gdoi_pull_member_input(r.pm, r.msg[4], r.len[4], 0, &res) < 0);
	assert_int_equal(res.event, GDOI_PULL_EV_NONE);
	gdoi_pull_result_clear(&res);
	/* A message 4 for an exchange that does not exist: another Message ID. */
	uint8_t *other = malloc(r.len[4]);
	memcpy(other, r.msg[4], r.len[4]);
	other[23] ^= 1;
	assert_int_equal(gdoi_pull_member_input(r.pm, other, r.len[4], 0, &res), GDOI_ERR_NOT_FOUND);
	gdoi_pull_result_clear(&res);
	/* To the key server it is a message 1 whose HASH(1) cannot verify. */
	assert_true(gdoi_pull_ks_input(r.ks, r.p.ks, other, r.len[4], 0, &ksres) < 0);
	assert_null(ksres.out);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 1);
	gdoi_pull_result_clear(&ksres);
	free(other);
	/* Finished exchanges expire from the cache. */
	assert_int_equal(gdoi_pull_ks_expire(r.ks, 29999), 30000);
	assert_int_equal(gdoi_pull_ks_expire(r.ks, 30000), 0);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 0);
	reg_free(&r);
}

static void test_member_retransmits(void **s)
{
	(void)s;
	add_srtp(GDOI_SRTP_AES128_CM_SHA1_80, 0x7e);
	assert_int_equal(gdoi_policy_generate_keys(&world.policy), 0);
	struct reg r;
	struct gdoi_pull_result res = { 0 };
	reg_init(&r, 0);
	assert_int_equal(gdoi_pull_member_start(r.p.gm, &r.cfg, 0, &r.pm, &res), 0);
	r.msg[1] = take(&res, &r.len[1]);
	gdoi_pull_result_clear(&res);
	/* The key server's message 2 is lost; the member sends message 1 again and
	 * gets the very same message 2 from the cache. */
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &res), 0);
	r.msg[2] = take(&res, &r.len[2]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_member_next_timer(r.pm), 1000);
	gdoi_pull_member_timer(r.pm, 1000, &res);
	assert_bytes_equal(res.out, res.out_len, r.msg[1], r.len[1]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_input(r.ks, r.p.ks, r.msg[1], r.len[1], 0, &res), 0);
	assert_bytes_equal(res.out, res.out_len, r.msg[2], r.len[2]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_ks_exchanges(r.ks), 1);
	/* Now the key server goes silent after message 3: retries, then failure. */
	assert_int_equal(gdoi_pull_member_input(r.pm, r.msg[2], r.len[2], 1500, &res), 0);
	r.msg[3] = take(&res, &r.len[3]);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_member_next_timer(r.pm), 2500);
	for (uint64_t t = 2500; t < 40000 && !gdoi_pull_member_done(r.pm); t = gdoi_pull_member_next_timer(r.pm)) {
		gdoi_pull_member_timer(r.pm, t, &res);
		if (res.event == GDOI_PULL_EV_FAILED)
			break;
		gdoi_pull_result_clear(&res);
	}
	assert_int_equal(res.event, GDOI_PULL_EV_FAILED);
	assert_true(gdoi_pull_member_done(r.pm));
	gdoi_pull_result_clear(&res);
	reg_free(&r);
}

static int reset(void **s)
{
	(void)s;
	gdoi_policy_clear(&world.policy);
	world.policy.group_id = GROUP;
	world.policy.has_gap = true;
	world.policy.atd = 5;
	world.policy.dtd = 30;
	world.group = GROUP;
	world.deny = false;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pull_installs_every_srtp_profile_with_kek, reset),
		cmocka_unit_test_setup(test_pull_installs_srtp_without_kek, reset),
		cmocka_unit_test_setup(test_pull_installs_esp_and_ah_teks, reset),
		cmocka_unit_test_setup(test_pull_runs_two_exchanges_under_one_phase1_sa, reset),
		cmocka_unit_test_setup(test_pull_drops_bad_hash_in_each_message, reset),
		cmocka_unit_test_setup(test_pull_refuses_nonces_outside_8_to_128_octets, reset),
		cmocka_unit_test_setup(test_pull_refuses_unknown_group_or_identity_with_notify, reset),
		cmocka_unit_test_setup(test_member_deletes_phase1_sa_on_unknown_attribute, reset),
		cmocka_unit_test_setup(test_member_refuses_kd_missing_a_tek_key, reset),
		cmocka_unit_test_setup(test_pull_answers_replays_from_cache_drops_strangers, reset),
		cmocka_unit_test_setup(test_member_retransmits, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
