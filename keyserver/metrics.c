/*
 * metrics.c - the gdoi-ks metrics page (docs/metrics.md), read at scrape time
 * from the counters the daemon keeps (struct ks, struct ks_group), the
 * key-server engine's statistics and the state (member counts). Every
 * family is written even when it has no sample yet, so that an alert on a
 * name finds it; per-reason families list the reasons seen.
 */
#include <stdio.h>

#include "daemon/metrics.h"
#include "gdoi/err.h"
#include "ipc/server.h"
#include "keyserver/ks.h"

#define C DM_METRIC_COUNTER
#define G DM_METRIC_GAUGE

static void count_member(void *ctx, const struct ks_member_rec *m)
{
	(void)m;
	(*(int64_t *)ctx)++;
}

static void by_reason(struct dm_metrics *m, const char *name, const char *help, const uint64_t *slots)
{
	dm_metrics_family(m, name, C, help);
	for (size_t i = 0; i < GDOI_ERR_SLOTS; i++) {
		if (!slots[i])
			continue;
		struct dm_label l = { "reason", gdoi_err_slot_name(i) };
		dm_metrics_u64(m, &l, 1, slots[i]);
	}
}

/* One sample per group of a per-group value. */
#define PER_GROUP(m, ks, expr)                                                   \
	do {                                                                     \
		for (size_t i_ = 0; i_ < (ks)->ngroups; i_++) {                  \
			const struct ks_group *g = (ks)->groups[i_];             \
			struct dm_label l_ = { "group", g->cfg->name };           \
			dm_metrics_i64((m), &l_, 1, (int64_t)(expr));            \
		}                                                                \
	} while (0)

static void engine(struct dm_metrics *m, struct ks *ks)
{
	struct gdoi_gcks_stats t;
	size_t sas;

	ks_engine_totals(ks, &t, &sas);
	dm_metrics_single(m, "gdoi_ks_datagrams_total", C, "UDP datagrams handed to the key-server engine.",
			  (int64_t)t.datagrams);
	dm_metrics_single(m, "gdoi_ks_datagrams_dropped_total", C,
			  "Datagrams dropped: undecodable, refused or over a flood limit (limits included).",
			  (int64_t)t.dropped);
	dm_metrics_family(m, "gdoi_ks_flood_limited_total", C,
			  "Datagrams dropped unread by a per-source flood limit, by limit.");
	struct dm_label l = { "limit", "phase1_start" };
	dm_metrics_u64(m, &l, 1, t.mm1_limited);
	l.value = "junk";
	dm_metrics_u64(m, &l, 1, t.junk_limited);
	struct ks_udpb_stats s;
	ks_send_totals(ks, &s);
	dm_metrics_single(m, "gdoi_ks_udp_sent_total", C, "Unicast datagrams the kernel took (sendmmsg).",
			  (int64_t)s.sent);
	dm_metrics_single(m, "gdoi_ks_udp_send_deferred_total", C,
			  "Unicast datagrams that waited for room in the socket's send buffer.", (int64_t)s.deferred);
	dm_metrics_single(m, "gdoi_ks_udp_send_failed_total", C,
			  "Unicast datagrams not sent: refused by the kernel, or no room for 2 s.", (int64_t)s.failed);
	dm_metrics_single(m, "gdoi_ks_phase1_sas", G, "Phase 1 SAs established and not expired.",
			  (int64_t)sas);
	dm_metrics_single(m, "gdoi_ks_phase1_established_total", C, "Phase 1 exchanges completed.",
			  (int64_t)ks->p1_established);
	by_reason(m, "gdoi_ks_phase1_failed_total", "Phase 1 exchanges that failed, by reason.", ks->p1_failed);
}

static void groups(struct dm_metrics *m, struct ks *ks)
{
	int64_t now = ks_unix_now();
	struct dm_label l[2];

	dm_metrics_family(m, "gdoi_ks_registrations_total", C,
			  "GROUPKEY-PULL registrations completed (keys handed out), by group.");
	PER_GROUP(m, ks, g->registrations);
	by_reason(m, "gdoi_ks_registrations_refused_total",
		  "Registrations refused (not_authorized: not a member or evicted; not_found: unknown "
		  "group; state: storage failed), by reason.", ks->refused);
	dm_metrics_family(m, "gdoi_ks_pushes_total", C,
			  "GROUPKEY-PUSH messages sent (rekeys, sender lists, catch-ups), by group.");
	PER_GROUP(m, ks, g->pushes);
	dm_metrics_family(m, "gdoi_ks_push_datagrams_total", C,
			  "Datagrams carrying those pushes, by group and transport (multicast, unicast).");
	for (size_t i = 0; i < ks->ngroups; i++) {
		const struct ks_group *g = ks->groups[i];
		l[0] = (struct dm_label){ "group", g->cfg->name };
		l[1] = (struct dm_label){ "transport", "multicast" };
		dm_metrics_u64(m, l, 2, g->push_mcast);
		l[1].value = "unicast";
		dm_metrics_u64(m, l, 2, g->push_unicast);
	}
	dm_metrics_family(m, "gdoi_ks_members", G, "Members on record (registered, not evicted), by group.");
	for (size_t i = 0; i < ks->ngroups; i++) {
		int64_t n = 0;
		ks_state_members_nossrc(ks->st, ks->groups[i]->id, count_member, &n);
		l[0] = (struct dm_label){ "group", ks->groups[i]->cfg->name };
		dm_metrics_i64(m, l, 1, n);
	}
	dm_metrics_family(m, "gdoi_ks_seq", G, "Last GROUPKEY-PUSH SEQ used under the current KEK, by group.");
	PER_GROUP(m, ks, g->rec.seq);
	dm_metrics_family(m, "gdoi_ks_tek_age_seconds", G, "Age of the current TEK generation, by group.");
	PER_GROUP(m, ks, now - g->rec.tek_created);
	dm_metrics_family(m, "gdoi_ks_kek_age_seconds", G, "Age of the current KEK, by group (groups with a KEK).");
	for (size_t i = 0; i < ks->ngroups; i++) {
		const struct ks_group *g = ks->groups[i];
		if (!g->rec.has_kek)
			continue;
		l[0] = (struct dm_label){ "group", g->cfg->name };
		dm_metrics_i64(m, l, 1, now - g->rec.kek_created);
	}
	dm_metrics_family(m, "gdoi_ks_next_rekey_seconds", G,
			  "Seconds until the group's next rekey (new TEKs or a new KEK; 0: due now), by group.");
	PER_GROUP(m, ks, ks_rekey_next_rekey(g) > now ? ks_rekey_next_rekey(g) - now : 0);
}

void ks_metrics_collect(void *ctx, struct dm_metrics *m)
{
	struct ks *ks = ctx;
	struct dm_label v = { "version", GDOI_VERSION };

	dm_metrics_family(m, "gdoi_ks_info", G, "Constant 1; the version in a label.");
	dm_metrics_u64(m, &v, 1, 1);
	dm_metrics_single(m, "gdoi_ks_start_time_seconds", G, "Unix time the daemon started.", ks->started);
	engine(m, ks);
	groups(m, ks);
	dm_metrics_single(m, "gdoi_ks_admin_clients", G, "Connections open on the admin socket.",
			  ks->admin ? (int64_t)ipc_server_clients(ks->admin) : 0);
}
