/*
 * group.c - one group's keys as the sidecar holds them: the GDOI policy
 * (KEK, SEQ, rekey key) and the live SRTP TEKs with their validity times
 * (docs/ipc.md): registration keys from receipt, pushed keys from receipt
 * plus ATD, replaced keys until receipt plus DTD, every key gone at
 * not_after. Every change publishes a full snapshot.
 */
#include "sidecar.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "srtp-bridge/describe.h"

#define REF_SRTP_LIFETIME 3600	/* the reference's TEK carries none we read */

static bool is_srtp(const struct gdoi_tek *t)
{
	return t->kind == GDOI_TEK_SRTP || t->kind == GDOI_TEK_REF_SRTP;
}

static uint32_t lifetime(const struct gdoi_tek *t)
{
	if (t->kind == GDOI_TEK_REF_SRTP || !t->u.srtp.lifetime)
		return REF_SRTP_LIFETIME;
	return t->u.srtp.lifetime;
}

static struct ipc_tek *find_live(struct sc_group *g, uint32_t spi)
{
	for (size_t i = 0; i < g->nlive; i++)
		if (g->live[i].spi == spi)
			return &g->live[i];
	return NULL;
}

static void remove_live(struct sc_group *g, size_t i)
{
	gdoi_wipe(&g->live[i], sizeof g->live[i]);
	memmove(&g->live[i], &g->live[i + 1], (g->nlive - i - 1) * sizeof g->live[0]);
	g->nlive--;
	gdoi_wipe(&g->live[g->nlive], sizeof g->live[0]);
}

static int by_not_before(const void *a, const void *b)
{
	const struct ipc_tek *x = a, *y = b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return x->spi < y->spi ? -1 : x->spi > y->spi;
}

static void warn_kinds(struct sc_group *g, const struct gdoi_policy *p)
{
	for (size_t i = 0; i < p->nteks; i++)
		if (!is_srtp(&p->teks[i]))
			sc_log("group %s: TEK SPI 0x%08x is not SRTP (%s): ignored", g->cfg->name,
			       (unsigned)p->teks[i].spi,
			       p->teks[i].kind == GDOI_TEK_ESP ? "ESP" : "AH");
}

/* Adds (or refreshes) the SRTP TEK t; returns true when the snapshot changed. */
static bool add_live(struct sc_group *g, const struct gdoi_tek *t, int64_t nb, int64_t now)
{
	struct ipc_tek n, *cur = find_live(g, t->spi);

	if (bridge_describe_tek(t, &n)) {
		sc_log("group %s: TEK SPI 0x%08x: keys do not fit profile %u: ignored", g->cfg->name,
		       (unsigned)t->spi, (unsigned)t->u.srtp.profile);
		return false;
	}
	if (cur && cur->profile_id == n.profile_id && cur->master_key_len == n.master_key_len &&
	    !memcmp(cur->master_key, n.master_key, n.master_key_len) &&
	    !memcmp(cur->master_salt, n.master_salt, n.master_salt_len)) {
		gdoi_wipe(&n, sizeof n);
		return false;	/* the same key again: its times stand */
	}
	n.not_before = nb;
	n.not_after = now + lifetime(t);
	if (!cur) {
		if (g->nlive == IPC_MAX_TEKS) {
			/* drop the one that ends first */
			size_t j = 0;
			for (size_t i = 1; i < g->nlive; i++)
				if (g->live[i].not_after < g->live[j].not_after)
					j = i;
			sc_log("group %s: more than %d TEKs: SPI 0x%08x dropped early", g->cfg->name,
			       IPC_MAX_TEKS, (unsigned)g->live[j].spi);
			remove_live(g, j);
		}
		cur = &g->live[g->nlive++];
	}
	*cur = n;
	gdoi_wipe(&n, sizeof n);
	return true;
}

static bool phase_out(struct sc_group *g, struct ipc_tek *t, int64_t until)
{
	if (t->not_after > until)
		sc_debug("group %s: TEK SPI 0x%08x phased out at +%lld s", g->cfg->name,
			 (unsigned)t->spi, (long long)(until - sc_wall()));
	if (t->not_after <= until)
		return false;
	t->not_after = until < t->not_before ? t->not_before : until;
	return true;
}

/* Whether a Delete payload of u names the SRTP TEK spi (either SRTP Protocol-ID:
 * the snapshot keeps no kind, and a group holds one of them). */
static bool push_deletes(const struct gdoi_push_update *u, uint32_t spi)
{
	for (size_t d = 0; d < u->ndeletes; d++)
		if ((u->deletes[d].proto == GDOI_TEK_PROTO_SRTP ||
		     u->deletes[d].proto == GDOI_TEK_PROTO_REF_SRTP) &&
		    (u->deletes[d].all || u->deletes[d].spi == spi))
			return true;
	return false;
}

static void changed(struct sc_group *g, int64_t now)
{
	qsort(g->live, g->nlive, sizeof g->live[0], by_not_before);
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
	bool ch = g->version == 0;
	unsigned n = 0;

	warn_kinds(g, p);
	/* TEKs we hold that the key server no longer lists are phased out as if replaced. */
	for (size_t i = 0; i < g->nlive; i++)
		if (!gdoi_policy_find_tek(p, g->live[i].spi))
			ch |= phase_out(g, &g->live[i], now + p->dtd);
	for (size_t i = 0; i < p->nteks; i++)
		if (is_srtp(&p->teks[i])) {
			ch |= add_live(g, &p->teks[i], now, now);
			n++;
		}
	/* fresh SSRCs join the lease table; ones leased or burned before keep their state */
	sc_leases_add(&g->leases, p->sids, p->nsids);
	ch |= usable_ssrcs(g);
	if (g->pol)
		gdoi_pull_policy_free(g->pol);
	g->pol = p;
	g->kek_expires = p->has_kek ? now + p->kek.lifetime : 0;
	g->seq = p->has_seq ? p->seq : 0;
	g->registered_at = now;
	snprintf(g->keyserver, sizeof g->keyserver, "%s", ks);
	sc_log("group %s (%u): registered with %s: %u SRTP TEK(s), %zu SSRC(s), %s, SEQ %u",
	       g->cfg->name, (unsigned)g->cfg->id, ks, n, g->nssrcs,
	       p->has_kek ? "KEK (rekeys expected)" : "no KEK (no rekeys)", (unsigned)g->seq);
	if (ch)
		changed(g, now);
}

int sc_group_push(struct sc_group *g, const uint8_t *msg, size_t len, int64_t now, char *why,
		  size_t wl)
{
	struct gdoi_push_update *u;
	bool ch = false, fresh_srtp = false, new_kek = false;
	int rc;

	if (!g->pol || !gdoi_push_names_kek(g->pol, msg, len))
		return GDOI_ERR_NOT_FOUND;
	u = calloc(1, sizeof *u);
	if (!u)
		return GDOI_ERR_NOMEM;
	rc = gdoi_push_open(g->pol, NULL, msg, len, u, why, wl);
	if (rc)
		goto out;
	new_kek = u->has_sa && u->fresh.has_kek &&
		  memcmp(u->fresh.kek.spi, g->pol->kek.spi, GDOI_KEK_SPI_LEN) != 0;
	rc = gdoi_push_apply(g->pol, u);
	if (rc) {
		snprintf(why, wl, "cannot apply: %s", gdoi_strerror(rc));
		goto out;
	}
	g->seq = u->seq;
	g->last_rekey = now;
	uint16_t atd = g->pol->atd, dtd = g->pol->dtd;
	if (u->has_sa && u->fresh.has_kek)
		g->kek_expires = now + g->pol->kek.lifetime;
	if (u->has_sa) {
		warn_kinds(g, &u->fresh);
		for (size_t i = 0; i < u->fresh.nteks; i++)
			if (is_srtp(&u->fresh.teks[i])) {
				fresh_srtp = true;
				ch |= add_live(g, &u->fresh.teks[i], now + atd, now);
			}
	}
	/* Replaced: TEKs a Delete payload of this push names, and older TEKs for the same
	 * destination as a new one. They stay until receipt + DTD, unless the push only
	 * deletes (then at once). A push without a Delete deletes nothing: TEKs phased out
	 * earlier keep their not_after (they are no longer in the policy). */
	for (size_t i = 0; i < g->nlive;) {
		struct ipc_tek *t = &g->live[i];
		bool in_fresh = u->has_sa && gdoi_policy_find_tek(&u->fresh, t->spi);
		bool deleted = push_deletes(u, t->spi);
		bool same_dst = false;
		for (size_t k = 0; fresh_srtp && !in_fresh && k < u->fresh.nteks; k++) {
			struct ipc_tek tmp;
			if (is_srtp(&u->fresh.teks[k]) && !bridge_describe_tek(&u->fresh.teks[k], &tmp)) {
				same_dst |= !strcmp(tmp.dst_addr, t->dst_addr) &&
					    tmp.dst_port == t->dst_port;
			}
			gdoi_wipe(&tmp, sizeof tmp);
		}
		if (in_fresh || (!deleted && !same_dst)) {
			i++;
			continue;
		}
		if (!fresh_srtp) {
			sc_log("group %s: TEK SPI 0x%08x deleted by the key server", g->cfg->name,
			       (unsigned)t->spi);
			remove_live(g, i);
			ch = true;
			continue;
		}
		ch |= phase_out(g, t, now + dtd);
		i++;
	}
	/* The policy keeps only what may still be renewed; phased-out TEKs live on in
	 * the snapshot only (so that the policy never fills up). */
	for (size_t i = 0; i < g->pol->nteks;) {
		struct ipc_tek *t = find_live(g, g->pol->teks[i].spi);
		bool keep = !is_srtp(&g->pol->teks[i]) || !t ||
			    (u->has_sa && gdoi_policy_find_tek(&u->fresh, t->spi)) ||
			    t->not_after > now + dtd;
		if (keep) {
			i++;
			continue;
		}
		gdoi_wipe(&g->pol->teks[i], sizeof g->pol->teks[i]);
		memmove(&g->pol->teks[i], &g->pol->teks[i + 1],
			(g->pol->nteks - i - 1) * sizeof g->pol->teks[0]);
		g->pol->nteks--;
	}
	sc_log("group %s: rekey SEQ %u applied: %zu new TEK(s), %zu delete(s)%s; ATD %u s, DTD %u s",
	       g->cfg->name, (unsigned)u->seq, u->has_sa ? u->fresh.nteks : 0, u->ndeletes,
	       !new_kek ? "" : u->kek_renamed ? ", new KEK (key named by the old SPI, SEQ goes on)" :
	       ", new KEK", atd, dtd);
	if (ch)
		changed(g, now);
out:
	gdoi_push_update_clear(u);
	free(u);
	return rc;
}

int64_t sc_group_expire(struct sc_group *g, int64_t now)
{
	int64_t next = 0;
	bool ch = false;

	for (size_t i = 0; i < g->nlive;) {
		if (g->live[i].not_after <= now) {
			sc_log("group %s: TEK SPI 0x%08x expired", g->cfg->name,
			       (unsigned)g->live[i].spi);
			if (g->pol) {
				for (size_t k = 0; k < g->pol->nteks; k++)
					if (g->pol->teks[k].spi == g->live[i].spi) {
						gdoi_wipe(&g->pol->teks[k], sizeof g->pol->teks[k]);
						memmove(&g->pol->teks[k], &g->pol->teks[k + 1],
							(g->pol->nteks - k - 1) * sizeof g->pol->teks[0]);
						g->pol->nteks--;
						break;
					}
			}
			remove_live(g, i);
			ch = true;
			continue;
		}
		if (!next || g->live[i].not_after < next)
			next = g->live[i].not_after;
		i++;
	}
	if (ch)
		changed(g, now);
	return next;
}

uint64_t sc_group_rereg_deadline(const struct sc_group *g, int64_t now_wall, uint64_t now_mono)
{
	int64_t newest = 0, due, margin, life;

	if (!g->pol)
		return 0;
	for (size_t i = 0; i < g->nlive; i++)
		if (g->live[i].not_after > newest)
			newest = g->live[i].not_after;
	due = newest;
	if (g->kek_expires && (!due || g->kek_expires < due))
		due = g->kek_expires;
	if (!due)
		due = g->registered_at + 60;	/* nothing to use: try again soon */
	life = due - g->registered_at;
	if (g->last_rekey > g->registered_at)
		life = due - g->last_rekey;
	margin = life / 10;
	if (margin < 2)
		margin = 2;
	if (margin > 300)
		margin = 300;
	due -= margin;
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
	s->seq = g->seq;
	s->updated = g->updated;
	s->atd = g->pol ? g->pol->atd : 0;
	s->dtd = g->pol ? g->pol->dtd : 0;
	s->nssrcs = g->nssrcs;
	memcpy(s->ssrcs, g->ssrcs, sizeof s->ssrcs);
	s->nteks = g->nlive;
	memcpy(s->teks, g->live, sizeof s->teks);
	j = ipc_snapshot_to_json(s);
	ipc_snapshot_clear(s);
	free(s);
	return j;
}

void sc_group_free(struct sc_group *g)
{
	if (g->pm)
		gdoi_pull_member_free(g->pm);
	if (g->pol)
		gdoi_pull_policy_free(g->pol);
	g->pm = NULL;
	g->pol = NULL;
	gdoi_wipe(g->live, sizeof g->live);
	g->nlive = 0;
}
