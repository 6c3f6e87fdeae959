/*
 * group.c - one group as the sidecar serves it: the member engine's TEK view
 * (gdoi/member.h) turned into snapshots, and the SSRC leases. Every change of
 * the live TEKs publishes a full snapshot.
 */
#include "sidecar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "srtp-bridge/describe.h"

/* The ipc_tek of a live SRTP TEK (srtp-bridge/describe.c) with its validity
 * times; -1 when its keys do not fit the profile. */
static int to_ipc(const struct gdoi_live_tek *l, struct ipc_tek *o)
{
	if (bridge_describe_tek(&l->tek, o))
		return -1;
	o->not_before = l->not_before;
	o->not_after = l->not_after;
	return 0;
}

const struct gdoi_member_teks *sc_group_keys(const struct sc_group *g)
{
	return g->gike2 ? sc_ikev2_keys(g) : gdoi_member_group_teks(g->sc->member, g->index);
}

static void changed(struct sc_group *g, int64_t now)
{
	g->version++;
	g->updated = now;
	sc_publish(g);
}

/* g->ssrcs from the lease table; true when it changed. */
static bool usable_ssrcs(struct sc_group *g)
{
	uint32_t now[IPC_MAX_SSRCS];
	size_t n = sc_leases_usable(&g->leases, now, IPC_MAX_SSRCS);
	bool ch = n != g->nssrcs || memcmp(now, g->ssrcs, n * sizeof now[0]);

	g->nssrcs = n;
	memcpy(g->ssrcs, now, n * sizeof now[0]);
	return ch;
}

void sc_group_ssrcs_changed(struct sc_group *g, int64_t now)
{
	if (usable_ssrcs(g) && g->version)
		changed(g, now);
}

void sc_group_registered(struct sc_group *g, const struct gdoi_member_event *ev, int64_t now)
{
	bool ch = g->version == 0 || ev->changed;

	/* fresh SSRCs join the lease table; ones leased or burned before keep their state */
	sc_leases_add(&g->leases, ev->sids, ev->nsids);
	ch |= usable_ssrcs(g);
	gdoi_member_ks_name(g->sc->member, ev->ks, g->keyserver, sizeof g->keyserver);
	sc_log("group %s (%u): registered with %s: %u SRTP TEK(s), %zu SSRC(s), %s, SEQ %u",
	       g->cfg->name, (unsigned)g->cfg->id, g->keyserver, ev->nteks, g->nssrcs,
	       ev->has_kek ? "KEK (rekeys expected)" : "no KEK (no rekeys)",
	       (unsigned)sc_group_keys(g)->seq);
	if (ch)
		changed(g, now);
}

void sc_group_keys_changed(struct sc_group *g, int64_t now)
{
	changed(g, now);
}

json_t *sc_group_snapshot(const struct sc_group *g)
{
	const struct gdoi_member_teks *keys = sc_group_keys(g);
	struct ipc_snapshot *s = calloc(1, sizeof *s);
	json_t *j;

	if (!s)
		return NULL;
	s->group = g->cfg->id;
	snprintf(s->name, sizeof s->name, "%s", g->cfg->name);
	s->version = g->version;
	snprintf(s->keyserver, sizeof s->keyserver, "%s", g->keyserver);
	s->seq = keys->seq;
	s->updated = g->updated;
	s->atd = keys->pol ? keys->pol->atd : 0;
	s->dtd = keys->pol ? keys->pol->dtd : 0;
	s->nssrcs = g->nssrcs;
	memcpy(s->ssrcs, g->ssrcs, sizeof s->ssrcs);
	if (keys->pol && keys->pol->has_senders && keys->pol->nsenders <= IPC_MAX_SENDERS) {
		s->has_senders = true;
		s->nsenders = keys->pol->nsenders;
		memcpy(s->senders, keys->pol->senders, s->nsenders * sizeof s->senders[0]);
	}
	for (size_t i = 0; i < keys->nlive && s->nteks < IPC_MAX_TEKS; i++)
		if (!to_ipc(&keys->live[i], &s->teks[s->nteks]))
			s->nteks++;
	j = ipc_snapshot_to_json(s);
	ipc_snapshot_clear(s);
	free(s);
	return j;
}
