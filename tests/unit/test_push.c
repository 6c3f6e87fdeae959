/*
 * test_push.c - GROUPKEY-PUSH between our key server side and our member
 * side: RSA (DigestInfo) and ECDSA signatures, new TEKs, deletions, a KEK
 * rotation followed by new TEKs (forward access control), and every way a
 * push must change nothing: replay, older SEQ, bad signature, wrong KEK,
 * tampering, truncation.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"
#include "tests/lib/certgen.h"

struct group {
	struct gdoi_policy ks;		/* the key server's view, keys included */
	struct gdoi_policy member;	/* what the member holds */
	struct gdoi_key *sign;		/* rekey key pair */
	struct gdoi_key *other;		/* someone else's key */
	uint32_t seq;
};

static struct gdoi_key *load_key(const char *kind)
{
	EVP_PKEY *k = certgen_key(kind);
	size_t n;
	uint8_t *der = certgen_key_der(k, &n);
	struct gdoi_key *key = NULL;
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &key), 0);
	free(der);
	EVP_PKEY_free(k);
	return key;
}

static void tek(struct gdoi_policy *p, uint32_t spi, uint16_t profile)
{
	struct gdoi_tek *t = &p->teks[p->nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 0, 0, 1 } },
		.u.srtp = { .profile = profile, .lifetime = 60, .replay_window = 128, .ssrc_assigned = true } };
}

static void new_kek(struct group *g, uint16_t sig_alg, uint16_t sig_hash, uint16_t bits)
{
	struct gdoi_kek_policy *k = &g->ks.kek;
	uint8_t *spki;
	size_t n;
	*k = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = bits,
		.lifetime = 3600, .sig_alg = sig_alg, .sig_hash = sig_hash,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .addr = { 127, 0, 0, 2 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 1849, .addr_len = 4, .addr = { 239, 0, 0, 9 } } };
	assert_int_equal(gdoi_random(k->spi, 16), 0);
	assert_int_equal(gdoi_key_to_spki(g->sign, &spki, &n), 0);
	memcpy(k->rekey_pub, spki, n);
	k->rekey_pub_len = n;
	free(spki);
	g->ks.has_kek = true;
}

/* A group as after registration: the member holds the same policy, SEQ 0. */
static void group_init(struct group *g, const char *kind, uint16_t sig_alg, uint16_t sig_hash)
{
	memset(g, 0, sizeof(*g));
	g->sign = load_key(kind);
	g->other = load_key(kind);
	new_kek(g, sig_alg, sig_hash, 128);
	tek(&g->ks, 0x1001, GDOI_SRTP_AES128_CM_SHA1_80);
	g->ks.has_gap = true;
	g->ks.atd = 2;
	g->ks.dtd = 10;
	assert_int_equal(gdoi_policy_generate_keys(&g->ks), 0);
	g->ks.has_seq = true;
	memcpy(&g->member, &g->ks, sizeof(g->member));
}

static void group_free(struct group *g)
{
	gdoi_key_free(g->sign);
	gdoi_key_free(g->other);
	gdoi_policy_clear(&g->ks);
	gdoi_policy_clear(&g->member);
}

static uint8_t *push(struct group *g, const struct gdoi_policy *update, bool with_kek,
		     const struct gdoi_push_delete *del, size_t ndel, size_t *len)
{
	struct gdoi_push_params p = { .kek = &g->ks.kek, .sign_key = g->sign, .seq = ++g->seq,
				      .deletes = del, .ndeletes = ndel, .update = update,
				      .with_kek = with_kek };
	uint8_t *out = NULL;
	assert_int_equal(gdoi_push_build(&p, &out, len), 0);
	assert_int_equal(out[18], GDOI_EXCH_PUSH);
	assert_int_equal(out[19], GDOI_FLAG_ENC);
	assert_memory_equal(out, g->ks.kek.spi, 16);
	assert_int_equal(gdoi_get_u32(out + 20), 0);
	assert_int_equal((*len - 28) % 16, 0);
	return out;
}

static int deliver(struct group *g, const uint8_t *msg, size_t len)
{
	static struct gdoi_push_update u;
	char why[200];
	int rc = gdoi_push_open(&g->member, NULL, msg, len, &u, why, sizeof(why));
	if (rc == 0)
		rc = gdoi_push_apply(&g->member, &u);
	gdoi_push_update_clear(&u);
	return rc;
}

/* Pushes that must be refused leave the member's state untouched. */
static void assert_refused(struct group *g, const uint8_t *msg, size_t len, int want)
{
	static struct gdoi_policy before;
	memcpy(&before, &g->member, sizeof(before));
	assert_int_equal(deliver(g, msg, len), want);
	assert_memory_equal(&before, &g->member, sizeof(before));
	gdoi_policy_clear(&before);
}

static void rekey_roundtrip(const char *kind, uint16_t sig_alg, uint16_t sig_hash)
{
	struct group g;
	group_init(&g, kind, sig_alg, sig_hash);
	/* New TEK: the member gets it with its keys. */
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	tek(upd, 0x1002, GDOI_SRTP_AEAD_AES_128_GCM);
	upd->has_gap = true;
	upd->atd = 3;
	upd->dtd = 12;
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	size_t len;
	uint8_t *m = push(&g, upd, false, NULL, 0, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	assert_int_equal(g.member.nteks, 2);
	const struct gdoi_tek *t = gdoi_policy_find_tek(&g.member, 0x1002);
	assert_non_null(t);
	assert_bytes_equal(t->key, t->key_len, upd->teks[0].key, upd->teks[0].key_len);
	assert_int_equal(g.member.seq, 1);
	assert_int_equal(g.member.atd, 3);
	/* The same push again, and an older one: stale. */
	assert_refused(&g, m, len, GDOI_ERR_REPLAY);
	free(m);
	/* Delete the old TEK by SPI. */
	struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .spi = 0x1001 };
	m = push(&g, NULL, false, &del, 1, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	assert_int_equal(g.member.nteks, 1);
	assert_int_equal(g.member.teks[0].spi, 0x1002);
	assert_int_equal(g.member.seq, 2);
	free(m);
	gdoi_policy_clear(upd);
	free(upd);
	group_free(&g);
}

static void test_rsa_sha256(void **s) { (void)s; rekey_roundtrip("rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA256); }
static void test_rsa_sha1(void **s) { (void)s; rekey_roundtrip("rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA1); }
static void test_ecdsa_p256(void **s) { (void)s; rekey_roundtrip("p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256); }

/* RFC 6407 §7.4: the KEK rotates first, the new TEKs come in a later push under it. */
static void test_forward_access_control(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	struct gdoi_policy *rot = calloc(1, sizeof(*rot));
	struct group next = g;	/* the new KEK, built under the old one */
	next.ks.nteks = 0;
	new_kek(&next, GDOI_SIG_ALG_ECDSA_256, 0, 256);
	rot->has_kek = true;
	rot->kek = next.ks.kek;
	assert_int_equal(gdoi_policy_generate_keys(rot), 0);
	size_t len;
	uint8_t *m = push(&g, rot, true, NULL, 0, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	assert_memory_equal(g.member.kek.spi, rot->kek.spi, 16);
	assert_memory_equal(g.member.kek.key, rot->kek.key, 32);
	assert_int_equal(g.member.kek.key_bits, 256);
	assert_int_equal(g.member.seq, 0);	/* the new KEK's own sequence */
	assert_int_equal(g.member.nteks, 1);	/* TEKs untouched by this push */
	/* A later push under the old KEK no longer opens. */
	uint8_t *stale = push(&g, NULL, false, &(struct gdoi_push_delete){ .proto = GDOI_TEK_PROTO_SRTP, .all = true }, 1, &len);
	assert_refused(&g, stale, len, GDOI_ERR_NOT_FOUND);
	free(stale);
	free(m);
	/* The key server moves to the new KEK; SEQ restarts at 1 with new TEKs. */
	g.ks.kek = rot->kek;
	g.seq = 0;
	struct gdoi_policy *teks = calloc(1, sizeof(*teks));
	tek(teks, 0x2001, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(teks), 0);
	struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .all = true };
	m = push(&g, teks, false, &del, 1, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	assert_int_equal(g.member.seq, 1);
	assert_int_equal(g.member.nteks, 1);
	assert_int_equal(g.member.teks[0].spi, 0x2001);
	free(m);
	gdoi_policy_clear(rot);
	gdoi_policy_clear(teks);
	free(rot);
	free(teks);
	group_free(&g);
}

static void test_refusals(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA256);
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	tek(upd, 0x3001, GDOI_SRTP_AES128_CM_SHA1_32);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	size_t len;

	/* Signed by someone else. */
	struct gdoi_key *real = g.sign;
	g.sign = g.other;
	uint8_t *m = push(&g, upd, false, NULL, 0, &len);
	g.sign = real;
	assert_refused(&g, m, len, GDOI_ERR_AUTH);
	free(m);

	/* Tampered: each ciphertext block in turn. */
	m = push(&g, upd, false, NULL, 0, &len);
	for (size_t off = 28; off < len; off += 16) {
		uint8_t *t = malloc(len);
		memcpy(t, m, len);
		t[off] ^= 0x04;
		static struct gdoi_push_update u;
		char why[200];
		static struct gdoi_policy before;
		memcpy(&before, &g.member, sizeof(before));
		assert_true(gdoi_push_open(&g.member, NULL, t, len, &u, why, sizeof(why)) < 0);
		assert_memory_equal(&before, &g.member, sizeof(before));
		free(t);
	}
	/* Truncated at every length. */
	for (size_t cut = 0; cut < len; cut += 5) {
		uint8_t *t = malloc(len);
		memcpy(t, m, cut);
		if (cut >= 28)
			gdoi_put_u32(t + 24, (uint32_t)cut);
		static struct gdoi_push_update u;
		static struct gdoi_policy before;
		char why[200];
		memcpy(&before, &g.member, sizeof(before));
		assert_true(gdoi_push_open(&g.member, NULL, t, cut, &u, why, sizeof(why)) < 0);
		assert_memory_equal(&before, &g.member, sizeof(before));
		free(t);
	}
	/* The genuine one still works after all that, once. */
	assert_int_equal(deliver(&g, m, len), 0);
	assert_refused(&g, m, len, GDOI_ERR_REPLAY);
	free(m);

	/* Wrong KEK: cookies of another group. */
	m = push(&g, upd, false, NULL, 0, &len);
	m[0] ^= 0xff;
	assert_refused(&g, m, len, GDOI_ERR_NOT_FOUND);
	free(m);

	/* An older SEQ that verifies is still refused. */
	g.seq = 0;
	m = push(&g, upd, false, NULL, 0, &len);
	assert_refused(&g, m, len, GDOI_ERR_REPLAY);
	free(m);

	/* Flags other than exactly E, and a non-zero Message ID. */
	g.seq = 10;
	m = push(&g, upd, false, NULL, 0, &len);
	m[19] |= GDOI_FLAG_COMMIT;
	assert_refused(&g, m, len, GDOI_ERR_VALUE);
	m[19] = GDOI_FLAG_ENC;
	m[23] = 1;
	assert_refused(&g, m, len, GDOI_ERR_VALUE);
	m[23] = 0;
	assert_int_equal(deliver(&g, m, len), 0);
	free(m);

	gdoi_policy_clear(upd);
	free(upd);
	group_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_sha256),
		cmocka_unit_test(test_rsa_sha1),
		cmocka_unit_test(test_ecdsa_p256),
		cmocka_unit_test(test_forward_access_control),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
