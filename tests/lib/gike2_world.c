/* gike2_world.c - see gike2_world.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "gdoi/arena.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gike2_gcks.h"
#include "gdoi/gike2_member.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/numbers.h"
#include "gdoi/secret.h"
#include "tests/lib/certgen.h"
#include "tests/lib/gike2_fixture.h"
#include "tests/lib/gike2_world.h"

const struct gdoi_addr GW_GM_ADDR = { 4, { 127, 0, 0, 1 }, 18621 };
const struct gdoi_addr GW_KS_ADDR = { 4, { 127, 0, 0, 1 }, 18620 };
const struct gdoi_ike2_suite GW_SUITE = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };


static int lookup(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		  const struct gdoi_addr *peer, struct gike2_gcks *k)
{
	struct world *w = ctx;
	(void)peer;
	w->lookups++;
	assert_non_null(member);
	if (w->unavailable)
		return GDOI_ERR_UNAVAILABLE;
	if (idg->id_type != GIKE2_ID_KEY_ID || idg->data.len != 5 || memcmp(idg->data.ptr, "audio", 5))
		return GDOI_ERR_NOT_FOUND;
	k->policy = &w->policy;
	k->tag = 7;
	k->inband = w->inband || w->both;
	if (w->inband)
		return 0;
	k->rekey = &w->rekey;
	k->signer = w->signer;
	k->next_sid = 0x1;	/* not used: assign_sids gives them */
	return 0;
}

static int assign_sids(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		       uint32_t count, uint32_t *sids, size_t cap, size_t *n)
{
	struct world *w = ctx;
	assert_int_equal(idg->data.len, 5);
	assert_non_null(member);
	assert_true(count <= cap);
	for (*n = 0; *n < count; (*n)++)
		sids[*n] = w->next_sid++;
	return 0;
}

static void ike(struct gdoi_ike2_config *c, struct gdoi_ike2_psk *psk, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->suites = &GW_SUITE;
	c->nsuites = 1;
	c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES(id, strlen(id)) };
	c->psks = psk;
	c->npsks = 1;
}

/* inband: the group's rekeys go by GSA_INBAND_REKEY only; both: and a Rekey SA */
struct world *gw_world_new_cfg(const char *group, bool inband, bool both, uint32_t lifetime_s)
{
	struct world *w = calloc(1, sizeof(*w));
	w->signer = gike2_fixture_signer();
	gike2_fixture_policy(&w->policy, 0x700d, 18630);
	gike2_fixture_rekey(&w->rekey, 18620, 18631);

	w->psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE }, GDOI_BYTES("group psk", 9) };
	ike(&w->gm_ike, &w->psk, "gm.example");
	ike(&w->ks_ike, &w->psk, "ks.example");
	w->now = (struct gdoi_now){ 5000, 1800000000 };
	w->next_sid = 0x52000;
	w->inband = inband;
	w->both = both;
	struct gike2_gcks_engine_cfg kc = { .ike = &w->ks_ike, .lookup = lookup,
					    .assign_sids = assign_sids, .ctx = w,
					    .sa_lifetime_s = lifetime_s };
	w->ks = gike2_gcks_engine_new(&kc, w->now);
	assert_non_null(w->ks);
	struct gike2_member_cfg mc = { .ike = &w->gm_ike, .ks = GW_KS_ADDR, .name = "audio",
				       .group = { GIKE2_ID_KEY_ID, GDOI_BYTES(group, strlen(group)) },
				       .sid_request = 2 };
	w->gm = gike2_member_new(&mc);
	assert_non_null(w->gm);
	return w;
}

struct world *gw_world_new(const char *group)
{
	return gw_world_new_cfg(group, false, false, 0);
}

void gw_world_free(struct world *w)
{
	gike2_member_free(w->gm);
	gike2_gcks_engine_free(w->ks);
	gdoi_policy_clear(&w->policy);
	gike2_rekey_sa_clear(&w->rekey);
	gdoi_key_free(w->signer);
	free(w);
}

/* Carries datagrams both ways until both queues are empty. */
void gw_pump(struct world *w)
{
	for (int round = 0; round < 16; round++) {
		struct gdoi_out o;
		bool any = false;
		while (gike2_member_next_out(w->gm, &o)) {
			assert_memory_equal(&o.to, &GW_KS_ADDR, sizeof(GW_KS_ADDR));
			assert_int_equal(gdoi_engine_classify(o.buf, o.len), GDOI_FE_IKEV2);
			gike2_gcks_engine_input(w->ks, o.buf, o.len, &GW_GM_ADDR, w->now);
			any = true;
		}
		while (gike2_gcks_engine_next_out(w->ks, &o)) {
			assert_memory_equal(&o.to, &GW_GM_ADDR, sizeof(GW_GM_ADDR));
			gike2_member_input(w->gm, o.buf, o.len, &GW_KS_ADDR, GDOI_MEMBER_VIA_UNICAST, w->now);
			any = true;
		}
		if (!any)
			return;
	}
	fail_msg("datagrams kept coming");
}

bool gw_member_event(struct world *w, enum gdoi_member_event_type t, struct gdoi_member_event *out)
{
	struct gdoi_member_event ev;
	bool found = false;
	while (gike2_member_next_event(w->gm, &ev))
		if (ev.type == t && !found) {
			*out = ev;
			found = true;
		}
	return found;
}

const struct gdoi_live_tek *gw_live(const struct gdoi_member_teks *t, uint32_t spi)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i].tek.spi == spi)
			return &t->live[i];
	return NULL;
}

/* The GSA_REKEY under w's Rekey SA carrying p's TEKs and a Delete of del (ndel), signed,
 * into dg (initialized). */
void gw_rekey_dg(struct world *w, const struct gdoi_policy *p, const uint32_t *del, size_t ndel,
		     struct gdoi_writer *dg)
{
	struct gdoi_arena *ar = gdoi_arena_new();
	struct gike2_pl pl[3];
	size_t n = 0;
	assert_int_equal(gike2_rekey_content_build(p, &w->rekey, NULL, w->signer, del, ndel, ar, pl,
						   3, &n),
			 0);
	assert_int_equal(gike2_rekey_build(&w->rekey, pl, n, w->signer, dg), 0);
	gdoi_arena_free(ar);
}

bool gw_ks_event(struct world *w, enum gike2_gcks_event_type t, struct gike2_gcks_event *out)
{
	struct gike2_gcks_event ev;
	bool found = false;
	while (gike2_gcks_engine_next_event(w->ks, &ev))
		if (ev.type == t && !found) {
			*out = ev;
			found = true;
		}
	return found;
}

/* A registered member of an inband group, and the group's next TEK 0x700e
 * with the Delete of 0x700d handed to the engine. */
struct world *gw_registered(bool inband, bool both, uint32_t lifetime_s)
{
	struct world *w = gw_world_new_cfg("audio", inband, both, lifetime_s);
	gike2_member_timer(w->gm, w->now);
	gw_pump(w);
	assert_int_equal(gike2_member_state(w->gm), GDOI_MEMBER_GROUP_REGISTERED);
	assert_int_equal(gike2_gcks_engine_kept(w->ks), 1);
	return w;
}

struct world *gw_inband_world(uint32_t lifetime_s, struct gdoi_policy *next)
{
	struct world *w = gw_registered(true, false, lifetime_s);
	struct gdoi_addr mc;
	assert_false(gike2_member_rekey_dst(w->gm, &mc));	/* no Rekey SA: inband only */
	*next = w->policy;
	next->teks[0].spi = 0x700e;
	assert_int_equal(gdoi_policy_generate_keys(next), 0);
	return w;
}

int gw_inband(struct world *w, const struct gdoi_policy *p)
{
	static const uint32_t del[] = { 0x700d };
	struct gike2_gcks_inband r = { .tag = 7, .policy = p, .del = del, .ndel = 1 };
	return gike2_gcks_engine_inband_rekey(w->ks, &r, w->now);
}

size_t gw_take(struct gdoi_out *o, size_t cap, bool from_ks, struct world *w, uint8_t (*buf)[2048],
		   size_t *len)
{
	size_t n = 0;
	while (n < cap && (from_ks ? gike2_gcks_engine_next_out(w->ks, &o[n])
				   : gike2_member_next_out(w->gm, &o[n]))) {
		assert_true(o[n].len <= sizeof(buf[n]));
		memcpy(buf[n], o[n].buf, o[n].len);
		len[n] = o[n].len;
		n++;
	}
	return n;
}
