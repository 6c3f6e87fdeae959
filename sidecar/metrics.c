/*
 * metrics.c - the gdoi-sidecar metrics page (docs/metrics.md). Everything is
 * read here, at scrape time: the member engine's counters (gdoi_member_stats,
 * gdoi_member_group_stats), its key state per group, and the sidecar's leases
 * and IPC. Every family is written even without samples; per-reason families
 * list the reasons seen.
 */
#include "sidecar.h"

#include "daemon/metrics.h"
#include "gdoi/gike2_member.h"

#define C DM_METRIC_COUNTER
#define G DM_METRIC_GAUGE

/* One family with one sample per group, the value computed by fn. */
static void per_group(struct dm_metrics *m, const struct sidecar *sc, const char *name,
		      enum dm_metric_type type, const char *help,
		      int64_t (*fn)(const struct sc_group *g, int64_t now), int64_t now)
{
	dm_metrics_family(m, name, type, help);
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		const struct sc_group *g = &sc->groups[i];
		struct dm_label l = { "group", g->cfg->name };
		dm_metrics_i64(m, &l, 1, fn(g, now));
	}
}

/* A G-IKEv2 group's counters are its G-IKEv2 engine's (the GDOI engine leaves the
 * group to it); protocol = auto: the chosen protocol's. */
static const struct gdoi_member_group_stats *gstats(const struct sc_group *g)
{
	if (g->gike2 && !g->auto_gdoi)
		return gike2_member_group_stats(g->gike2);
	return gdoi_member_group_stats(g->sc->member, g->index);
}

static int64_t registrations(const struct sc_group *g, int64_t now)
{
	(void)now;
	return (int64_t)gstats(g)->registrations;
}

static int64_t refusals(const struct sc_group *g, int64_t now)
{
	(void)now;
	return (int64_t)gstats(g)->refusals;
}

static int64_t applied(const struct sc_group *g, int64_t now)
{
	(void)now;
	return (int64_t)gstats(g)->pushes_applied;
}

static int64_t duplicates(const struct sc_group *g, int64_t now)
{
	(void)now;
	return (int64_t)gstats(g)->pushes_duplicate;
}

static int64_t acks(const struct sc_group *g, int64_t now)
{
	(void)now;
	return (int64_t)gstats(g)->acks_sent;
}

static int64_t registered(const struct sc_group *g, int64_t now)
{
	(void)now;
	return sc_group_keys(g)->pol != NULL;
}

static int64_t live_teks(const struct sc_group *g, int64_t now)
{
	int64_t n = 0;
	const struct gdoi_member_teks *k = sc_group_keys(g);
	for (size_t i = 0; i < k->nlive; i++)
		n += k->live[i].not_after > now;
	return n;
}

/* Until the last live TEK expires: how long media goes on if no rekey arrives. */
static int64_t tek_expiry(const struct sc_group *g, int64_t now)
{
	const struct gdoi_member_teks *k = sc_group_keys(g);
	int64_t last = now;
	for (size_t i = 0; i < k->nlive; i++)
		if (k->live[i].not_after > last)
			last = k->live[i].not_after;
	return last - now;
}

static int64_t kek_expiry(const struct sc_group *g, int64_t now)
{
	int64_t e = sc_group_keys(g)->kek_expires;
	return e > now ? e - now : 0;
}

static int64_t seq(const struct sc_group *g, int64_t now)
{
	(void)now;
	return sc_group_keys(g)->seq;
}

static int64_t subscribers(const struct sc_group *g, int64_t now)
{
	(void)now;
	return g->sc->ipc ? (int64_t)ipc_server_subscribers(g->sc->ipc, g->cfg->id) : 0;
}

static void leases(struct dm_metrics *m, const struct sidecar *sc)
{
	static const struct {
		enum sc_ssrc_state st;
		const char *name;
	} states[] = { { SC_SSRC_FREE, "free" }, { SC_SSRC_LEASED, "leased" }, { SC_SSRC_BURNED, "burned" } };

	dm_metrics_family(m, "gdoi_sidecar_ssrcs", G,
			  "SSRCs the key server assigned, by group and state (free, leased to a sender, burned).");
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		const struct sc_group *g = &sc->groups[i];
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
			struct dm_label l[2] = { { "group", g->cfg->name }, { "state", states[k].name } };
			dm_metrics_u64(m, l, 2, sc_leases_count(&g->leases, states[k].st));
		}
	}
}

void sc_metrics_collect(void *ctx, struct dm_metrics *m)
{
	const struct sidecar *sc = ctx;
	int64_t now = sc_wall();
	struct dm_label v = { "version", GDOI_VERSION };

	dm_metrics_family(m, "gdoi_sidecar_info", G, "Constant 1; the version in a label.");
	dm_metrics_u64(m, &v, 1, 1);
	dm_metrics_single(m, "gdoi_sidecar_start_time_seconds", G, "Unix time the daemon started.",
			  sc->started);
	dm_metrics_single(m, "gdoi_sidecar_phase1_established_total", C,
			  "Phase 1 SAs established with a key server (renewals included).",
			  (int64_t)gdoi_member_stats(sc->member)->p1_established);
	dm_metrics_single(m, "gdoi_sidecar_registration_failures_total", C,
			  "Registration attempts that got no usable answer (Phase 1 failed, timeout); "
			  "the next key server is tried.", (int64_t)gdoi_member_stats(sc->member)->attempts_failed);
	per_group(m, sc, "gdoi_sidecar_registrations_total", C,
		  "Registrations completed (keys installed by GROUPKEY-PULL), by group.", registrations, now);
	per_group(m, sc, "gdoi_sidecar_registrations_refused_total", C,
		  "Registrations the key server refused, by group.", refusals, now);
	per_group(m, sc, "gdoi_sidecar_pushes_applied_total", C, "GROUPKEY-PUSH messages applied, by group.",
		  applied, now);
	per_group(m, sc, "gdoi_sidecar_pushes_duplicate_total", C,
		  "Pushes ignored as already seen (SEQ not newer: the same push by multicast and unicast, "
		  "or a replay), by group.", duplicates, now);
	per_group(m, sc, "gdoi_sidecar_push_acks_total", C,
		  "RFC 8263 acknowledgements sent for unicast pushes (again for a resent one), by group.",
		  acks, now);
	dm_metrics_family(m, "gdoi_sidecar_pushes_refused_total", C,
			  "Pushes for one of our groups refused (auth: bad signature, ...), by group and reason.");
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		const struct sc_group *g = &sc->groups[i];
		for (size_t k = 0; k < GDOI_ERR_SLOTS; k++) {
			if (!gstats(g)->pushes_refused[k])
				continue;
			struct dm_label l[2] = { { "group", g->cfg->name }, { "reason", gdoi_err_slot_name(k) } };
			dm_metrics_u64(m, l, 2, gstats(g)->pushes_refused[k]);
		}
	}
	dm_metrics_single(m, "gdoi_sidecar_pushes_unknown_kek_total", C,
			  "Pushes (GSA_REKEYs) naming a KEK (Rekey SA) of none of our groups (a missed KEK change, or not ours).",
			  (int64_t)(gdoi_member_stats(sc->member)->dropped[GDOI_MEMBER_DROP_UNKNOWN_KEK] +
				    sc->gike2_unknown_rekey));
	per_group(m, sc, "gdoi_sidecar_registered", G, "1 when the group holds keys from a registration.",
		  registered, now);
	per_group(m, sc, "gdoi_sidecar_seq", G, "Last GROUPKEY-PUSH SEQ applied, by group.", seq, now);
	per_group(m, sc, "gdoi_sidecar_live_teks", G, "SRTP TEKs not expired, by group.", live_teks, now);
	per_group(m, sc, "gdoi_sidecar_tek_expiry_seconds", G,
		  "Seconds until the last live TEK expires (0: none), by group.", tek_expiry, now);
	per_group(m, sc, "gdoi_sidecar_kek_expiry_seconds", G, "Seconds until the KEK expires (0: none), by group.",
		  kek_expiry, now);
	leases(m, sc);
	dm_metrics_single(m, "gdoi_sidecar_ipc_clients", G, "Connections open on the IPC socket.",
			  sc->ipc ? (int64_t)ipc_server_clients(sc->ipc) : 0);
	per_group(m, sc, "gdoi_sidecar_ipc_subscribers", G, "IPC connections subscribed to the group.", subscribers,
		  now);
}
