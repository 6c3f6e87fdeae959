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
#include "tests/lib/push_group.h"

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

static void test_push_round_trips_rsa_sha256(void **s) { (void)s; rekey_roundtrip("rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA256); }
static void test_push_round_trips_rsa_sha1(void **s) { (void)s; rekey_roundtrip("rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA1); }
static void test_push_round_trips_ecdsa_p256(void **s) { (void)s; rekey_roundtrip("p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256); }

/* RFC 6407 §7.4: the KEK rotates first, the new TEKs come in a later push under it. */
/* The sender list rides in a push (re-announcing a TEK the member has) and replaces
 * the member's whole list; a push without it leaves the list alone. */
static void test_push_sender_list_replaces_members_list(void **s)
{
	(void)s;
	struct group g;
	group_init(&g, "p256", GDOI_SIG_ALG_ECDSA_256, GDOI_SIG_HASH_SHA256);
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	memcpy(upd, &g.member, sizeof(*upd));
	upd->has_kek = false;
	upd->has_senders = true;
	upd->nsenders = 2;
	upd->senders[0] = 0x11;
	upd->senders[1] = 0x22;
	size_t len;
	uint8_t *m = push(&g, upd, false, NULL, 0, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	free(m);
	assert_true(g.member.has_senders);
	assert_int_equal(g.member.nsenders, 2);
	assert_int_equal(g.member.senders[1], 0x22);
	assert_int_equal(g.member.nteks, 1);
	upd->nsenders = 1;
	upd->senders[0] = 0x33;
	m = push(&g, upd, false, NULL, 0, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	free(m);
	assert_int_equal(g.member.nsenders, 1);
	assert_int_equal(g.member.senders[0], 0x33);
	upd->has_senders = false;
	m = push(&g, upd, false, NULL, 0, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	free(m);
	assert_true(g.member.has_senders);
	assert_int_equal(g.member.senders[0], 0x33);
	gdoi_policy_clear(upd);
	free(upd);
	group_free(&g);
}

static void test_member_refuses_pushes_under_replaced_kek(void **s)
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
	size_t len, rot_len;
	uint8_t *m = push(&g, rot, true, NULL, 0, &rot_len);
	assert_int_equal(deliver(&g, m, rot_len), 0);
	assert_memory_equal(g.member.kek.spi, rot->kek.spi, 16);
	assert_memory_equal(g.member.kek.key, rot->kek.key, 32);
	assert_int_equal(g.member.kek.key_bits, 256);
	assert_int_equal(g.member.seq, 0);	/* the new KEK's own sequence */
	assert_int_equal(g.member.nteks, 1);	/* TEKs untouched by this push */
	/* A later push under the old KEK no longer opens. */
	uint8_t *stale = push(&g, NULL, false, &(struct gdoi_push_delete){ .proto = GDOI_TEK_PROTO_SRTP, .all = true }, 1, &len);
	assert_refused(&g, stale, len, GDOI_ERR_NOT_FOUND);
	free(stale);
	/* The rotation push itself, replayed under the KEK it replaced: a replay. */
	assert_refused(&g, m, rot_len, GDOI_ERR_REPLAY);
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

static void test_member_refuses_bad_push(void **s)
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

/* The push is refused with code want, a reason containing what, and no change. */
static void assert_refused_why(struct group *g, const uint8_t *msg, size_t len, int want,
			       const char *what)
{
	static struct gdoi_push_update u;
	static struct gdoi_policy before;
	char why[200] = "";
	memcpy(&before, &g->member, sizeof(before));
	assert_int_equal(gdoi_push_open(&g->member, NULL, msg, len, &u, why, sizeof(why)), want);
	if (!strstr(why, what))
		print_error("reason \"%s\" lacks \"%s\"\n", why, what);
	assert_non_null(strstr(why, what));
	assert_memory_equal(&before, &g->member, sizeof(before));
	gdoi_policy_clear(&before);
}

/* A group (RSA, SHA-1, as the reference) and next, the same with a new KEK and keys. */
static void rotation_init(struct group *g, struct group *next)
{
	group_init(g, "rsa2048", GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA1);
	*next = *g;
	next->ks.nteks = 0;
	new_kek(next, GDOI_SIG_ALG_RSA, GDOI_SIG_HASH_SHA1, 128);
	assert_int_equal(gdoi_policy_generate_keys(&next->ks), 0);
}

/*
 * The reference implementation's KEK rotation (vectors/README.md): the SA KEK
 * names the new SPI, the one KEK key packet names the outgoing (header) SPI
 * and carries the new IV and key. It installs the new KEK, SEQ carries on
 * (3 -> 4 in the capture), and later pushes under the new KEK apply.
 */
static void test_member_applies_reference_kek_rotation(void **s)
{
	(void)s;
	struct group g, next;
	rotation_init(&g, &next);
	size_t len, len2;
	g.seq = 2;
	uint8_t *rot = ref_rotation_push(&g, &next.ks.kek, g.ks.kek.spi, REF_ROT_PLAIN, &len);
	assert_int_equal(deliver(&g, rot, len), 0);
	assert_memory_equal(g.member.kek.spi, next.ks.kek.spi, 16);
	assert_memory_equal(g.member.kek.iv, next.ks.kek.iv, 16);
	assert_memory_equal(g.member.kek.key, next.ks.kek.key, 16);
	assert_int_equal(g.member.seq, 3);	/* carried, not restarted */
	assert_int_equal(g.member.nteks, 1);	/* no Delete: the TEK stays */
	/* Replayed after the rotation: SEQ 3 is not greater than 3. */
	assert_refused_why(&g, rot, len, GDOI_ERR_REPLAY, "SEQ 3 not greater than 3");
	/* Under the new KEK SEQ goes on: 3 again is a replay, 4 applies. */
	uint32_t at = g.seq;
	g.ks.kek = next.ks.kek;
	g.seq = at - 1;
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	tek(upd, 0x4001, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	uint8_t *again = push(&g, upd, false, NULL, 0, &len2);
	assert_refused_why(&g, again, len2, GDOI_ERR_REPLAY, "not greater than 3");
	free(again);
	uint8_t *m = push(&g, upd, false, NULL, 0, &len2);
	assert_int_equal(deliver(&g, m, len2), 0);
	assert_int_equal(g.member.seq, 4);
	const struct gdoi_tek *t = gdoi_policy_find_tek(&g.member, 0x4001);
	assert_non_null(t);
	assert_bytes_equal(t->key, t->key_len, upd->teks[0].key, upd->teks[0].key_len);
	free(m);
	/* The rotation push once more, after a push under the new KEK: still a replay. */
	assert_refused_why(&g, rot, len, GDOI_ERR_REPLAY, "not greater than");
	free(rot);
	gdoi_policy_clear(upd);
	free(upd);
	gdoi_policy_clear(&next.ks);	/* next shares g's key pairs */
	group_free(&g);
}

/* The rotation rule applies only when it is unambiguous; otherwise a reason. */
static void test_member_refuses_ambiguous_rotation(void **s)
{
	(void)s;
	struct group g, next;
	rotation_init(&g, &next);
	size_t len;
	/* A KEK key packet naming an SPI that is neither the SA KEK's nor the header's. */
	uint8_t other[16];
	assert_int_equal(gdoi_random(other, sizeof(other)), 0);
	uint8_t *m = ref_rotation_push(&g, &next.ks.kek, other, REF_ROT_PLAIN, &len);
	assert_refused_why(&g, m, len, GDOI_ERR_NOT_FOUND, "unknown KEK");
	free(m);
	/* Two SA KEKs in the SA: which one would the key be for? */
	m = ref_rotation_push(&g, &next.ks.kek, g.ks.kek.spi, REF_ROT_TWO_SAKS, &len);
	assert_refused_why(&g, m, len, GDOI_ERR_PAYLOAD_TYPE, "payload SAK (15)");
	free(m);
	/* Two KEK key packets, one naming the new SPI and one the old. */
	m = ref_rotation_push(&g, &next.ks.kek, g.ks.kek.spi, REF_ROT_TWO_PACKETS, &len);
	assert_refused_why(&g, m, len, GDOI_ERR_VALUE, "two KEK key packets");
	free(m);
	/* Nothing of that changed the member: the genuine form still applies once. */
	m = ref_rotation_push(&g, &next.ks.kek, g.ks.kek.spi, REF_ROT_PLAIN, &len);
	assert_int_equal(deliver(&g, m, len), 0);
	assert_memory_equal(g.member.kek.spi, next.ks.kek.spi, 16);
	free(m);
	gdoi_policy_clear(&next.ks);	/* next shares g's key pairs */
	group_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_round_trips_rsa_sha256),
		cmocka_unit_test(test_push_round_trips_rsa_sha1),
		cmocka_unit_test(test_push_round_trips_ecdsa_p256),
		cmocka_unit_test(test_push_sender_list_replaces_members_list),
		cmocka_unit_test(test_member_refuses_pushes_under_replaced_kek),
		cmocka_unit_test(test_member_refuses_bad_push),
		cmocka_unit_test(test_member_applies_reference_kek_rotation),
		cmocka_unit_test(test_member_refuses_ambiguous_rotation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
