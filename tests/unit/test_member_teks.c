/*
 * test_member_teks.c - the member engine's TEK lifecycle (gdoi/member_teks.c)
 * under pushes from our key server side: TEKs leave the live table only by a
 * Delete payload or at their own not_after (phased out at receipt + DTD when
 * replaced); a push without a Delete deletes nothing.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/member_teks.h"
#include "tests/lib/push_group.h"

/* t registered with the member's policy of pg at time now. */
static void registered(struct gdoi_member_teks *t, const struct group *pg, int64_t now)
{
	struct gdoi_policy *p = malloc(sizeof(*p));
	struct gdoi_notes notes = { 0 };
	assert_non_null(p);
	memcpy(p, &pg->member, sizeof(*p));
	memset(t, 0, sizeof(*t));
	assert_true(gdoi_member_teks_registered(t, p, now, &notes));
	assert_int_equal(notes.n, 0);
}

static void apply(struct gdoi_member_teks *t, const uint8_t *m, size_t len, int64_t now)
{
	char why[200] = "";
	struct gdoi_notes notes = { 0 };
	bool changed;
	int rc = gdoi_member_teks_push(t, m, len, now, &changed, NULL, why, sizeof(why), &notes);
	if (rc)
		print_error("push refused: %s\n", why);
	assert_int_equal(rc, 0);
	assert_true(notes.n >= 1);
	assert_non_null(strstr(notes.line[notes.n - 1], "applied"));
}

static const struct gdoi_live_tek *live(const struct gdoi_member_teks *t, uint32_t spi)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i].tek.spi == spi)
			return &t->live[i];
	return NULL;
}

/*
 * TEK 0x1001 from the registration is replaced by 0x1002 (same destination):
 * it stays until receipt + DTD. A later push that carries only the KEK (as the
 * reference's KEK rotation does) or only another TEK must leave it, and its
 * not_after, alone; it goes at that not_after, or at once by a Delete.
 */
static void test_push_without_delete_deletes_nothing(void **s)
{
	(void)s;
	struct group pg;
	group_init(&pg, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	struct gdoi_member_teks g;
	int64_t t0 = 1000000;
	registered(&g, &pg, t0);
	assert_int_equal(g.nlive, 1);

	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	tek(upd, 0x1002, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	size_t len;
	uint8_t *m = push(&pg, upd, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 1);
	free(m);
	const struct gdoi_live_tek *old = live(&g, 0x1001);
	assert_non_null(old);
	assert_int_equal(old->not_after, t0 + 1 + pg.ks.dtd);	/* phased out */
	assert_non_null(live(&g, 0x1002));

	/* A KEK-only push (same KEK again, no Delete): nothing leaves, no time moves. */
	struct gdoi_policy *kek_only = calloc(1, sizeof(*kek_only));
	kek_only->has_kek = true;
	kek_only->kek = pg.ks.kek;
	m = push(&pg, kek_only, true, NULL, 0, &len);
	apply(&g, m, len, t0 + 2);
	free(m);
	assert_int_equal(g.nlive, 2);
	old = live(&g, 0x1001);
	assert_non_null(old);
	assert_int_equal(old->not_after, t0 + 1 + pg.ks.dtd);

	/* A push with a TEK for another destination: still nothing leaves. */
	struct gdoi_policy *elsewhere = calloc(1, sizeof(*elsewhere));
	tek(elsewhere, 0x1003, GDOI_SRTP_AES128_CM_SHA1_80);
	elsewhere->teks[0].dst.port = 6004;
	assert_int_equal(gdoi_policy_generate_keys(elsewhere), 0);
	m = push(&pg, elsewhere, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 3);
	free(m);
	assert_int_equal(g.nlive, 3);
	assert_int_equal(live(&g, 0x1001)->not_after, t0 + 1 + pg.ks.dtd);

	/* Its own lifecycle: gone at not_after. */
	bool changed;
	struct gdoi_notes notes = { 0 };
	assert_int_equal(gdoi_member_teks_expire(&g, t0 + pg.ks.dtd, &changed, &notes),
			 t0 + 1 + pg.ks.dtd);
	assert_false(changed);
	assert_int_equal(gdoi_member_teks_expire(&g, t0 + 1 + pg.ks.dtd, &changed, &notes),
			 live(&g, 0x1002)->not_after < live(&g, 0x1003)->not_after ?
			 live(&g, 0x1002)->not_after : live(&g, 0x1003)->not_after);
	assert_true(changed);
	assert_string_equal(notes.line[0], "TEK SPI 0x00001001 expired");
	assert_null(live(&g, 0x1001));
	assert_int_equal(g.nlive, 2);

	/* A Delete-only push removes at once, and only what it names. */
	struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .spi = 0x1003 };
	m = push(&pg, NULL, false, &del, 1, &len);
	apply(&g, m, len, t0 + 20);
	free(m);
	assert_null(live(&g, 0x1003));
	assert_non_null(live(&g, 0x1002));
	assert_int_equal(g.nlive, 1);

	gdoi_policy_clear(upd);
	gdoi_policy_clear(kek_only);
	gdoi_policy_clear(elsewhere);
	free(upd);
	free(kek_only);
	free(elsewhere);
	gdoi_member_teks_clear(&g);
	group_free(&pg);
}

/* The senders t holds as "a,b,..", "" when the key server sent no list. */
static void senders_of(const struct gdoi_member_teks *t, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	if (!t->pol || !t->pol->has_senders)
		return;
	if (!t->pol->nsenders)
		snprintf(out, cap, "[]");
	for (size_t i = 0; i < t->pol->nsenders; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%u", i ? "," : "", (unsigned)t->pol->senders[i]);
}

static bool apply_changed(struct gdoi_member_teks *t, const uint8_t *m, size_t len, int64_t now)
{
	char why[200] = "";
	struct gdoi_notes notes = { 0 };
	bool changed;
	assert_int_equal(gdoi_member_teks_push(t, m, len, now, &changed, NULL, why, sizeof(why), &notes), 0);
	return changed;
}

/* The key server's sender list (the snapshot's "senders") comes from the
 * registration and from each push that carries one; a push that carries none
 * leaves it; only a change reports the group changed (a new snapshot). */
static void test_senders_follow_registration_and_pushes(void **s)
{
	(void)s;
	struct group pg;
	char got[256];
	group_init(&pg, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	struct gdoi_member_teks g;
	int64_t t0 = 1000000;
	registered(&g, &pg, t0);
	senders_of(&g, got, sizeof(got));
	assert_string_equal(got, "");	/* no list from the key server */
	gdoi_member_teks_clear(&g);

	pg.member.has_senders = true;
	pg.member.nsenders = 1;
	pg.member.senders[0] = 777;
	registered(&g, &pg, t0);
	senders_of(&g, got, sizeof(got));
	assert_string_equal(got, "777");

	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	memcpy(upd, &pg.member, sizeof(*upd));
	upd->has_kek = false;
	upd->nsenders = 2;
	upd->senders[0] = 12345;
	upd->senders[1] = 3000000000u;
	size_t len;
	uint8_t *m = push(&pg, upd, false, NULL, 0, &len);
	assert_true(apply_changed(&g, m, len, t0 + 1));
	free(m);
	senders_of(&g, got, sizeof(got));
	assert_string_equal(got, "12345,3000000000");
	/* the same list again (the same TEK too): nothing changed */
	m = push(&pg, upd, false, NULL, 0, &len);
	assert_false(apply_changed(&g, m, len, t0 + 2));
	free(m);
	/* a push without a list keeps it */
	upd->has_senders = false;
	m = push(&pg, upd, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 3);
	free(m);
	senders_of(&g, got, sizeof(got));
	assert_string_equal(got, "12345,3000000000");
	gdoi_policy_clear(upd);
	free(upd);
	gdoi_member_teks_clear(&g);
	group_free(&pg);
}

/* G-IKEv2 member h applies the GSA_REKEY of a key server holding the TEKs of ks (it
 * sends them all) that deletes del (0: none): h's policy joined with ks, del removed,
 * as gike2_rekey_content_apply leaves it. */
static void gsa_rekey(struct gdoi_member_teks *h, const struct gdoi_policy *ks, uint32_t del,
		      int64_t now)
{
	struct gdoi_policy *p = malloc(sizeof(*p));
	struct gdoi_notes notes = { 0 };
	assert_non_null(p);
	memcpy(p, h->pol, sizeof(*p));
	for (size_t i = 0; i < ks->nteks; i++) {
		size_t k = 0;
		while (k < p->nteks && p->teks[k].spi != ks->teks[i].spi)
			k++;
		assert_true(k < GDOI_MAX_TEKS);
		p->teks[k] = ks->teks[i];
		p->nteks += k == p->nteks;
	}
	for (size_t k = 0; k < p->nteks; k++)
		if (del && p->teks[k].spi == del) {
			memmove(&p->teks[k], &p->teks[k + 1], (p->nteks - k - 1) * sizeof(p->teks[0]));
			p->nteks--;
		}
	gdoi_member_teks_rekeyed(h, p, now, &notes);
}

/* g and h hand out the same TEKs, in the same order, with the same times. */
static void same_live(const struct gdoi_member_teks *g, const struct gdoi_member_teks *h, size_t n)
{
	assert_int_equal(g->nlive, n);
	assert_int_equal(h->nlive, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(g->live[i].tek.spi, h->live[i].tek.spi);
		assert_int_equal(g->live[i].not_before, h->live[i].not_before);
		assert_int_equal(g->live[i].not_after, h->live[i].not_after);
		assert_int_equal(g->live[i].tek.key_len, h->live[i].tek.key_len);
		assert_memory_equal(g->live[i].tek.key, h->live[i].tek.key, g->live[i].tek.key_len);
	}
}

/* The GROUPKEY-PUSH of a rekey bringing new TEK spi and deleting del (0: none), applied
 * by g at now; the new TEK in *nt. */
static void rekey_push(struct group *pg, struct gdoi_member_teks *g, uint32_t spi, uint32_t del,
		       int64_t now, struct gdoi_tek *nt)
{
	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	assert_non_null(upd);
	tek(upd, spi, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(gdoi_policy_generate_keys(upd), 0);
	struct gdoi_push_delete d = { .proto = GDOI_TEK_PROTO_SRTP, .spi = del };
	size_t len;
	uint8_t *m = push(pg, upd, false, &d, del ? 1 : 0, &len);
	apply(g, m, len, now);
	free(m);
	*nt = upd->teks[0];
	gdoi_policy_clear(upd);
	free(upd);
}

/*
 * One key server's rekeys as GROUPKEY-PUSHes (the new TEK, the Delete of the generation
 * before the one replaced) to GDOI member g and as GSA_REKEYs (every TEK it holds, the
 * previous generation with the rest of its DTD, the same Delete) to G-IKEv2 member h:
 * after each, both hold the same TEKs in the same order with the same times - a rekey
 * in the registration's second, one after a generation left the key server at the end
 * of its DTD without a Delete, a KEK-only rekey.
 */
static void test_gsa_rekey_as_push(void **s)
{
	(void)s;
	struct group pg;
	group_init(&pg, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	struct gdoi_member_teks g, h;
	int64_t t0 = 1000000, dtd = pg.ks.dtd;
	registered(&g, &pg, t0);
	registered(&h, &pg, t0);
	struct gdoi_policy *ks = calloc(1, sizeof(*ks));
	assert_non_null(ks);
	ks->nteks = 2;
	ks->teks[0] = pg.ks.teks[0];	/* 0x1001, now the previous generation */
	ks->teks[0].u.srtp.lifetime = (uint32_t)dtd;

	/* in the registration's second: 0x1000 (an SPI below the one it replaces) */
	rekey_push(&pg, &g, 0x1000, 0, t0, &ks->teks[1]);
	gsa_rekey(&h, ks, 0, t0);
	same_live(&g, &h, 2);
	assert_int_equal(g.live[0].tek.spi, 0x1001);	/* by activation, not by SPI */

	/* two seconds later: 0x1002, 0x1001 deleted */
	ks->teks[0] = ks->teks[1];
	ks->teks[0].u.srtp.lifetime = (uint32_t)dtd;
	rekey_push(&pg, &g, 0x1002, 0x1001, t0 + 2, &ks->teks[1]);
	gsa_rekey(&h, ks, 0x1001, t0 + 2);
	same_live(&g, &h, 3);

	/* the DTD of 0x1000 over: gone from both members and from the key server */
	bool changed;
	struct gdoi_notes notes = { 0 };
	gdoi_member_teks_expire(&g, t0 + 2 + dtd, &changed, &notes);
	gdoi_member_teks_expire(&h, t0 + 2 + dtd, &changed, &notes);
	same_live(&g, &h, 1);

	/* the next rekey has no Delete: 0x1000 does not come back to h */
	ks->teks[0] = ks->teks[1];
	ks->teks[0].u.srtp.lifetime = (uint32_t)dtd;
	rekey_push(&pg, &g, 0x0fff, 0, t0 + 3 + dtd, &ks->teks[1]);
	gsa_rekey(&h, ks, 0, t0 + 3 + dtd);
	same_live(&g, &h, 2);

	/* a KEK-only rekey (the rotation's GSA_REKEY lists the TEKs again): nothing moves */
	struct gdoi_policy *kek_only = calloc(1, sizeof(*kek_only));
	assert_non_null(kek_only);
	kek_only->has_kek = true;
	kek_only->kek = pg.ks.kek;
	size_t len;
	uint8_t *m = push(&pg, kek_only, true, NULL, 0, &len);
	apply(&g, m, len, t0 + 4 + dtd);
	free(m);
	gsa_rekey(&h, ks, 0, t0 + 4 + dtd);
	same_live(&g, &h, 2);

	gdoi_policy_clear(kek_only);
	free(kek_only);
	gdoi_policy_clear(ks);
	free(ks);
	gdoi_member_teks_clear(&g);
	gdoi_member_teks_clear(&h);
	group_free(&pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_without_delete_deletes_nothing),
		cmocka_unit_test(test_senders_follow_registration_and_pushes),
		cmocka_unit_test(test_gsa_rekey_as_push),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
