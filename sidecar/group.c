/*
 * group.c - one group as the sidecar serves it: the key state of the member
 * engine's TEK lifecycle (gdoi/member_teks.c) turned into snapshots, the SSRC
 * leases, and the log lines the lifecycle notes. Every change of the live TEKs
 * publishes a full snapshot.
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

static void log_notes(const struct sc_group *g, const struct gdoi_notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		sc_log("group %s: %s", g->cfg->name, n->line[i]);
	if (n->lost)
		sc_log("group %s: %u more key change(s) not logged", g->cfg->name, n->lost);
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

void sc_group_registered(struct sc_group *g, struct gdoi_policy *p, const char *ks, int64_t now)
{
	struct gdoi_notes notes = { 0 };
	bool ch = g->version == 0;
	unsigned n = 0;

	for (size_t i = 0; i < p->nteks; i++)
		n += p->teks[i].kind == GDOI_TEK_SRTP || p->teks[i].kind == GDOI_TEK_REF_SRTP;
	ch |= gdoi_member_teks_registered(&g->keys, p, now, &notes);
	log_notes(g, &notes);
	/* fresh SSRCs join the lease table; ones leased or burned before keep their state */
	sc_leases_add(&g->leases, p->sids, p->nsids);
	ch |= usable_ssrcs(g);
	snprintf(g->keyserver, sizeof g->keyserver, "%s", ks);
	sc_log("group %s (%u): registered with %s: %u SRTP TEK(s), %zu SSRC(s), %s, SEQ %u",
	       g->cfg->name, (unsigned)g->cfg->id, ks, n, g->nssrcs,
	       p->has_kek ? "KEK (rekeys expected)" : "no KEK (no rekeys)", (unsigned)g->keys.seq);
	if (ch)
		changed(g, now);
}

int sc_group_push(struct sc_group *g, const uint8_t *msg, size_t len, int64_t now, char *why,
		  size_t wl)
{
	struct gdoi_notes notes = { 0 };
	bool ch;
	int rc = gdoi_member_teks_push(&g->keys, msg, len, now, &ch, why, wl, &notes);

	log_notes(g, &notes);
	if (!rc && ch)
		changed(g, now);
	return rc;
}

int64_t sc_group_expire(struct sc_group *g, int64_t now)
{
	struct gdoi_notes notes = { 0 };
	bool ch;
	int64_t next = gdoi_member_teks_expire(&g->keys, now, &ch, &notes);

	log_notes(g, &notes);
	if (ch)
		changed(g, now);
	return next;
}

uint64_t sc_group_rereg_deadline(const struct sc_group *g, int64_t now_wall, uint64_t now_mono)
{
	int64_t due = gdoi_member_teks_rereg_due(&g->keys);

	if (!due)
		return 0;
	if (due <= now_wall)
		return now_mono;
	return now_mono + (uint64_t)(due - now_wall) * 1000;
}

json_t *sc_group_snapshot(const struct sc_group *g)
{
	struct ipc_snapshot *s = calloc(1, sizeof *s);
	json_t *j;

	if (!s)
		return NULL;
	s->group = g->cfg->id;
	snprintf(s->name, sizeof s->name, "%s", g->cfg->name);
	s->version = g->version;
	snprintf(s->keyserver, sizeof s->keyserver, "%s", g->keyserver);
	s->seq = g->keys.seq;
	s->updated = g->updated;
	s->atd = g->keys.pol ? g->keys.pol->atd : 0;
	s->dtd = g->keys.pol ? g->keys.pol->dtd : 0;
	s->nssrcs = g->nssrcs;
	memcpy(s->ssrcs, g->ssrcs, sizeof s->ssrcs);
	if (g->keys.pol && g->keys.pol->has_senders && g->keys.pol->nsenders <= IPC_MAX_SENDERS) {
		s->has_senders = true;
		s->nsenders = g->keys.pol->nsenders;
		memcpy(s->senders, g->keys.pol->senders, s->nsenders * sizeof s->senders[0]);
	}
	for (size_t i = 0; i < g->keys.nlive && s->nteks < IPC_MAX_TEKS; i++)
		if (!to_ipc(&g->keys.live[i], &s->teks[s->nteks]))
			s->nteks++;
	j = ipc_snapshot_to_json(s);
	ipc_snapshot_clear(s);
	free(s);
	return j;
}

void sc_group_free(struct sc_group *g)
{
	if (g->pm)
		gdoi_pull_member_free(g->pm);
	g->pm = NULL;
	gdoi_member_teks_clear(&g->keys);
}
