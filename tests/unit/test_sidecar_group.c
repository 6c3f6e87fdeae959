/*
 * test_sidecar_group.c - the sidecar's per-group key state (sidecar/group.c,
 * compiled into this test) under pushes from our key server side: TEKs leave
 * the snapshot only by a Delete payload or at their own not_after (phased out
 * at receipt + DTD when replaced); a push without a Delete deletes nothing.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "sidecar/group.c"
#include "sidecar/lease.c"
#include "sidecar/log.c"
#include "tests/lib/push_group.h"

static unsigned published;

void sc_publish(struct sc_group *g)
{
	(void)g;
	published++;
}

static const struct sc_group_cfg cfg = { .name = "g", .id = 1 };

/* g registered with the member's policy of pg at time now. */
static void registered(struct sc_group *g, const struct group *pg, int64_t now)
{
	struct gdoi_policy *p = malloc(sizeof(*p));
	assert_non_null(p);
	memcpy(p, &pg->member, sizeof(*p));
	memset(g, 0, sizeof(*g));
	g->cfg = &cfg;
	sc_group_registered(g, p, "127.0.0.2:848", now);
}

static void apply(struct sc_group *g, const uint8_t *m, size_t len, int64_t now)
{
	char why[200] = "";
	int rc = sc_group_push(g, m, len, now, why, sizeof(why));
	if (rc)
		print_error("push refused: %s\n", why);
	assert_int_equal(rc, 0);
}

static const struct ipc_tek *live(const struct sc_group *g, uint32_t spi)
{
	for (size_t i = 0; i < g->nlive; i++)
		if (g->live[i].spi == spi)
			return &g->live[i];
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
	struct sc_group g;
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
	const struct ipc_tek *old = live(&g, 0x1001);
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
	sc_group_expire(&g, t0 + 1 + pg.ks.dtd);
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
	sc_group_free(&g);
	group_free(&pg);
}

/* The senders of a snapshot's JSON as "a,b,..", "" when the member is absent. */
static void json_senders(const struct sc_group *g, char *out, size_t cap)
{
	json_t *j = sc_group_snapshot(g), *a = json_object_get(j, "senders"), *v;
	size_t i, n = 0;
	out[0] = 0;
	assert_true(a == NULL || json_is_array(a));
	json_array_foreach(a, i, v)
		n += (size_t)snprintf(out + n, cap - n, "%s%lld", i ? "," : "", (long long)json_integer_value(v));
	if (a && !json_array_size(a))
		snprintf(out, cap, "[]");
	json_decref(j);
}

/* The key server's sender list reaches the snapshot ("senders"), from the
 * registration and from each push that carries one; a push that carries none
 * leaves it; a change publishes a new snapshot. */
static void test_senders_in_snapshot(void **s)
{
	(void)s;
	struct group pg;
	char got[256];
	group_init(&pg, "p256", GDOI_SIG_ALG_ECDSA_256, 0);
	struct sc_group g;
	int64_t t0 = 1000000;
	registered(&g, &pg, t0);
	json_senders(&g, got, sizeof(got));
	assert_string_equal(got, "");	/* no list from the key server: no member */
	sc_group_free(&g);

	pg.member.has_senders = true;
	pg.member.nsenders = 1;
	pg.member.senders[0] = 777;
	registered(&g, &pg, t0);
	json_senders(&g, got, sizeof(got));
	assert_string_equal(got, "777");

	struct gdoi_policy *upd = calloc(1, sizeof(*upd));
	memcpy(upd, &pg.member, sizeof(*upd));
	upd->has_kek = false;
	upd->nsenders = 2;
	upd->senders[0] = 12345;
	upd->senders[1] = 3000000000u;
	size_t len;
	unsigned before = published;
	uint8_t *m = push(&pg, upd, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 1);
	free(m);
	assert_int_equal(published, before + 1);
	json_senders(&g, got, sizeof(got));
	assert_string_equal(got, "12345,3000000000");
	/* the same list again (the same TEK too): nothing new to publish */
	m = push(&pg, upd, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 2);
	free(m);
	assert_int_equal(published, before + 1);
	/* a push without a list keeps it */
	upd->has_senders = false;
	m = push(&pg, upd, false, NULL, 0, &len);
	apply(&g, m, len, t0 + 3);
	free(m);
	json_senders(&g, got, sizeof(got));
	assert_string_equal(got, "12345,3000000000");
	gdoi_policy_clear(upd);
	free(upd);
	sc_group_free(&g);
	group_free(&pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_without_delete_deletes_nothing),
		cmocka_unit_test(test_senders_in_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
