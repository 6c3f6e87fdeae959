/*
 * rekey.c - the rekey scheduler, GROUPKEY-PUSH building (gdoi_push_build)
 * and delivery.
 *
 * Schedule (wall clock, so that it survives restarts): new TEKs are pushed
 * rekey_margin seconds before the current ones expire (with the GAP's ATD /
 * DTD: senders switch ATD seconds after receipt, receivers keep the old TEK
 * DTD seconds); the KEK is rotated rekey_margin seconds before it expires.
 * Each TEK push also deletes the generation before the one it replaces.
 *
 * SEQ: each KEK starts its own sequence (RFC 6407 §5.7), except in
 * compat = gdoid groups, where SEQ continues across a rotation as the
 * reference implementation's key server does and its member expects (one
 * replay counter per group): rotation push N under the old KEK, N + 1 next.
 *
 * Durability: the new keys and the push's SEQ are committed to the state
 * (synchronously, the SEQ mark first) before the push is built and sent, so a
 * crash at any point never makes a later push reuse or go below a SEQ that
 * members have seen; a state that lost commits is caught at start (state.h).
 *
 * Eviction (forward access control, RFC 6407 §7.4): the KEK rotates in one
 * push sent by unicast to each remaining registered member only - a
 * multicast copy would reach the evicted member too - and new TEKs follow in
 * a second push under the new KEK, delivered as configured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/addr.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "gdoi/push.h"
#include "keyserver/ks.h"
#include "keyserver/rekey_ikev2.h"
#include "keyserver/log.h"

int ks_udp_send(uv_udp_t *u, int family, const uint8_t *msg, size_t len, const struct ks_inet *to)
{
	struct sockaddr_storage sa;
	char a[64];
	int rc = -EAFNOSUPPORT;

	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	if (dm_sockaddr_make(family, to->ip, to->len, to->port, &sa))
		rc = uv_udp_try_send(u, &b, 1, (const struct sockaddr *)&sa);
	if (rc < 0) {
		ks_log(KS_WARN, "send to %s failed: %s", ks_inet_format(to, a, sizeof(a)), uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- delivery ------------------------------------------------------------ */

/*
 * The engine builds each push and sends it (and its retransmissions, and in
 * push_ack groups waits for each member's ACK): this only lists the
 * destinations. Members that need the reference implementation's SA KEK form
 * get their own push (the same SEQ) built from params6.
 */
struct dests {
	struct ks_group *g;
	bool compat_pass;		/* listing the members that take params6 */
	bool has_compat;		/* params6 given */
	size_t n, cap;
	struct gdoi_gcks_push_dest *v;	/* grown as members are listed */
	struct gdoi_id *ids;		/* v[i].member points here, set once listed */
	bool nomem;
};

/* Room for one more destination; false (and d->nomem) if memory ran out. */
static bool dests_room(struct dests *d)
{
	if (d->n < d->cap)
		return true;
	size_t cap = d->cap ? 2 * d->cap : 256;
	struct gdoi_gcks_push_dest *v = realloc(d->v, cap * sizeof(*v));
	if (v)
		d->v = v;
	struct gdoi_id *ids = v ? realloc(d->ids, cap * sizeof(*ids)) : NULL;
	if (!ids) {
		d->nomem = true;
		return false;
	}
	d->ids = ids;
	d->cap = cap;
	return true;
}

static void add_member(void *ctx, const struct ks_member_rec *m);

/* ks_state_members_nossrc fills d; the ids no longer move once it returns. */
static void list_members(struct dests *d)
{
	ks_state_members_nossrc(d->g->ks->st, d->g->id, add_member, d);
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].member)
			d->v[i].member = &d->ids[i];
}

static void add_member(void *ctx, const struct ks_member_rec *m)
{
	struct dests *d = ctx;
	struct ks_inet a;
	const struct ks_member_cfg *mc = ks_config_member(d->g->ks->cfg, m->name);
	/* a G-IKEv2 member takes GSA_REKEY / GSA_INBAND_REKEY (rekey_ikev2.c, registrar_ikev2.c) */
	if (!mc || m->gikev2 || ks_parse_inet(m->addr, &a, 0, true))
		return;
	if ((d->has_compat && mc->compat_gdoid) != d->compat_pass)
		return;
	if (!dests_room(d))
		return;
	/* rekey_port: the SA KEK's DST port, where the member listens for pushes */
	struct gdoi_gcks_push_dest *t = &d->v[d->n];
	*t = (struct gdoi_gcks_push_dest){ 0 };
	t->to = (struct gdoi_addr){ .len = a.len, .port = d->g->cfg->rekey_port ? d->g->cfg->rekey_port : a.port };
	memcpy(t->to.ip, a.ip, a.len);
	d->ids[d->n] = (struct gdoi_id){ .type = mc->id.type, .data = GDOI_BYTES(mc->id.data, mc->id.len) };
	t->member = &d->ids[d->n];	/* set again by list_members: ids may move */
	d->n++;
}

static struct gdoi_gcks_push_cfg push_cfg(const struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	return (struct gdoi_gcks_push_cfg){ .group_id = g->id, .retransmits = c->push_retransmits,
		.interval_ms = c->push_retransmit_interval,
		.ack_method = c->push_ack ? GDOI_REKEY_ACK_KEK_SHA256 : 0 };
}

static int deliver(struct ks_group *g, const struct gdoi_push_params *p, const struct gdoi_push_params *p6,
		   bool unicast_only, const char *what)
{
	const struct ks_group_cfg *c = g->cfg;
	struct dests *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->g = g;
	d->has_compat = p6 != NULL;
	bool mcast = c->mcast && !unicast_only && g->mcast_open;
	if (mcast && !dests_room(d)) {
		free(d);
		return -1;
	}
	if (mcast) {
		d->v[0] = (struct gdoi_gcks_push_dest){ 0 };
		d->v[0].to = (struct gdoi_addr){ .len = c->mcast_addr.len, .port = c->mcast_addr.port };
		memcpy(d->v[0].to.ip, c->mcast_addr.ip, c->mcast_addr.len);
		d->n = 1;
	}
	if (c->unicast || unicast_only)
		list_members(d);
	struct gdoi_gcks_push_cfg pc = push_cfg(g);
	int rc = ks_registrar_push(g->ks, &pc, p, d->v, d->n);
	unsigned unicast = rc > 0 ? (unsigned)rc - mcast : 0;
	if (rc >= 0 && p6 && (c->unicast || unicast_only)) {
		d->n = 0;
		d->compat_pass = true;
		list_members(d);
		int rc6 = ks_registrar_push(g->ks, &pc, p6, d->v, d->n);
		unicast += rc6 > 0 ? (unsigned)rc6 : 0;
		if (rc6 < 0)
			rc = rc6;
	}
	if (d->nomem)
		ks_log(KS_WARN, "group %s: out of memory: push SEQ %u goes by unicast to the first %zu members",
		       c->name, p->seq, d->n);
	free(d->v);
	free(d->ids);
	free(d);
	if (rc < 0) {
		ks_log(KS_ERR, "group %s: cannot build push SEQ %u: %s", c->name, p->seq, gdoi_strerror(rc));
		return -1;
	}
	g->pushes++;
	g->push_mcast += mcast;
	g->push_unicast += unicast;
	char mc[80] = "no multicast", ma[64];
	if (mcast)
		snprintf(mc, sizeof(mc), "multicast to %s", ks_inet_format(&c->mcast_addr, ma, sizeof(ma)));
	ks_log(KS_INFO, "group %s: push SEQ %u (%s): %s, unicast to %u member(s)%s", c->name, p->seq, what, mc,
	       unicast, c->push_retransmits ? ", retransmitted" : "");
	return 0;
}

/* ---- scheduler ------------------------------------------------------------ */

int64_t ks_rekey_next_rekey(const struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	const struct ks_group_rec *r = &g->rec;
	if (r->tek_push_due)
		return 0;
	int64_t due = r->tek_created + c->tek_lifetime - c->rekey_margin;
	if (r->has_kek) {
		int64_t k = r->kek_created + c->kek_lifetime - c->rekey_margin;
		if (k < due)
			due = k;
	}
	return due;
}

/* The next timer event: a rekey, or the previous TEK generation's end. */
static int64_t next_due(const struct ks_group *g)
{
	int64_t due = ks_rekey_next_rekey(g);
	const struct ks_group_rec *r = &g->rec;
	if (due && r->prev_until && r->prev_until < due)
		due = r->prev_until;
	return due;
}

static void on_timer(uv_timer_t *t)
{
	struct ks_group *g = t->data;
	const struct ks_group_cfg *c = g->cfg;
	struct ks_group_rec *r = &g->rec;
	int64_t now = ks_unix_now();
	if (r->tek_push_due) {
		ks_rekey_teks(g, "new TEKs owed after a KEK change (eviction or new KEK epoch)");
	} else if (r->has_kek && now >= r->kek_created + c->kek_lifetime - c->rekey_margin) {
		ks_rekey_kek(g, "KEK lifetime", false);
	} else if (now >= r->tek_created + c->tek_lifetime - c->rekey_margin) {
		ks_rekey_teks(g, "TEK lifetime");
	} else {
		/* previous generation's DTD over: registrations stop handing it out */
		ks_group_build_policy(g, now);
	}
	ks_rekey_schedule(g);
}

void ks_rekey_schedule(struct ks_group *g)
{
	if (!g->leader) {
		uv_timer_stop(&g->timer);	/* another key server rekeys this group */
		return;
	}
	int64_t now = ks_unix_now(), due = next_due(g);
	uint64_t ms = due <= now ? 0 : (uint64_t)(due - now) * 1000;
	uv_timer_start(&g->timer, on_timer, ms, 0);
	ks_log(KS_DEBUG, "group %s: next rekey event in %llu s", g->cfg->name, (unsigned long long)(ms / 1000));
}

/* ---- rekeys --------------------------------------------------------------- */

static struct gdoi_push_params params(const struct ks_group *g, const struct gdoi_kek_policy *kek, uint32_t seq,
					  const struct gdoi_policy *update, bool with_kek,
					  const struct gdoi_push_delete *dels, size_t ndels)
{
	return (struct gdoi_push_params){ .kek = kek, .sign_key = g->sign_key, .seq = seq, .deletes = dels,
					  .ndeletes = ndels, .update = update, .with_kek = with_kek,
					  .ref_form = g->cfg->compat_gdoid };
}

/* Restores the in-memory record from the state after a failed commit. On a shared
 * database that cannot be read now (it is why the commit failed), the group is not
 * led from here until the state can be reloaded (cluster.c takes the leadership
 * back, reloading first): neither its uncommitted keys nor an empty record may be
 * handed out or pushed. */
static void rollback(struct ks_group *g)
{
	ks_log(KS_ERR, "group %s: state commit failed: rekey abandoned, nothing sent", g->cfg->name);
	if (ks_state_shared(g->ks->st)) {
		if (ks_cluster_reload(g) == 0)
			return;
		g->leader = false;
		uv_timer_stop(&g->timer);
		ks_log(KS_WARN, "group %s: the state cannot be read: not rekeying until it is reloaded",
		       g->cfg->name);
		return;
	}
	gdoi_wipe(&g->rec, sizeof(g->rec));
	ks_state_load_group(g->ks->st, g->id, &g->rec);
	ks_group_build_policy(g, ks_unix_now());
}

/* Only the rekey leader changes keys and pushes (cluster.c). */
static int not_leader(const struct ks_group *g, const char *why)
{
	ks_log(KS_WARN, "group %s: rekey (%s) not done here: another key server is the rekey leader", g->cfg->name,
	       why);
	return -1;
}

int ks_rekey_teks(struct ks_group *g, const char *why)
{
	struct ks *ks = g->ks;
	if (!g->leader)
		return not_leader(g, why);
	int64_t now = ks_unix_now();
	struct gdoi_policy *u = calloc(1, sizeof(*u));
	struct gdoi_kek_policy *kek = malloc(sizeof(*kek));
	struct gdoi_push_delete dels[GDOI_PUSH_MAX_DELETES];
	size_t ndels = 0;
	int rc = -1;
	if (!u || !kek)
		goto out;
	memcpy(kek, &g->pol.kek, sizeof(*kek));	/* the KEK this push travels under */
	if (ks_group_new_teks(g, now, u, dels, &ndels))
		goto out_rollback;
	ks_group_senders_to(g, u);	/* repeated in every TEK push: a lost list push heals */
	g->rec.tek_push_due = false;
	if (g->rec.has_kek)
		g->rec.seq++;
	/* durable before anything leaves */
	if (ks_state_save_group(ks->st, &g->rec))
		goto out_rollback;
	ks_group_build_policy(g, now);
	ks_registrar_inband(ks, g, dels, ndels);	/* G-IKEv2 members over their IKE SAs */
	if (!g->rec.has_kek) {
		ks_log(KS_INFO, "group %s: new TEKs (%s); no KEK, so no push: GDOI members get them when "
		       "they register again", g->cfg->name, why);
		rc = 0;
		goto out;
	}
	/* compat = gdoid: like the reference, every push carries the current SA KEK and
	 * its key packet, and no Delete of its SRTP TEKs (it deletes none; its member
	 * deletes by 4-octet SPI only) */
	bool ref = g->cfg->compat_gdoid;
	if (ref) {
		u->has_kek = true;
		memcpy(&u->kek, &g->pol.kek, sizeof(u->kek));
	}
	if (ks_group_tek_proto(g) == GDOI_TEK_PROTO_REF_SRTP)
		ndels = 0;
	struct gdoi_push_params pp = params(g, kek, g->rec.seq, u, ref, dels, ndels);
	char what[160];
	snprintf(what, sizeof(what), "%zu new TEK(s), %zu deleted: %s", u->nteks, ndels, why);
	rc = deliver(g, &pp, NULL, false, what);
	if (!rc)
		ks_ikev2_rekey_push(g, kek, g->rec.seq, NULL, dels, ndels);
	goto out;
out_rollback:
	rollback(g);
out:
	gdoi_wipe_free(u, sizeof(*u));
	gdoi_wipe_free(kek, sizeof(*kek));
	ks_rekey_schedule(g);
	return rc;
}

int ks_rekey_kek(struct ks_group *g, const char *why, bool unicast_only)
{
	struct ks *ks = g->ks;
	if (!g->leader)
		return not_leader(g, why);
	if (!g->rec.has_kek) {
		ks_log(KS_WARN, "group %s: no KEK to rotate", g->cfg->name);
		return -1;
	}
	int64_t now = ks_unix_now();
	struct gdoi_policy *u = calloc(1, sizeof(*u));
	struct gdoi_kek_policy *old = malloc(sizeof(*old));
	struct gdoi_kek_policy *prev_save = NULL;
	bool had_prev = false;
	uint32_t prev_seq_save = 0;
	struct gdoi_policy *u6 = NULL;
	int rc = -1;
	if (!u || !old)
		goto out;
	memcpy(old, &g->pol.kek, sizeof(*old));
	uint32_t seq = g->rec.seq + 1;	/* the old KEK's last push */
	had_prev = g->has_prev_kek;
	prev_save = had_prev ? malloc(sizeof(*prev_save)) : NULL;
	prev_seq_save = g->prev_kek_seq;
	if (had_prev && !prev_save)
		goto out;
	if (prev_save)
		memcpy(prev_save, &g->prev_kek, sizeof(*prev_save));
	/* members registering across this rotation hold the old KEK (ks_rekey_catch_up) */
	memcpy(&g->prev_kek, old, sizeof(g->prev_kek));
	g->prev_kek_seq = seq;
	g->has_prev_kek = true;
	if (ks_group_new_kek(g, now, u))
		goto out_rollback;
	if (g->cfg->compat_gdoid) {
		g->rec.seq = seq;	/* its SEQ continues under the new KEK (groups.c) */
		/* the reference's rotation push carries the GAP too */
		u->has_gap = true;
		u->atd = g->cfg->atd;
		u->dtd = g->cfg->dtd;
	}
	if (unicast_only)
		g->rec.tek_push_due = true;	/* survives a crash before the TEK push */
	if (ks_state_save_group(ks->st, &g->rec))
		goto out_rollback;
	ks_group_build_policy(g, now);
	struct gdoi_push_params pp = params(g, old, seq, u, true, NULL, 0), pp6 = pp;
	/* the reference implementation's SA KEK form, for members that need it */
	if (!g->cfg->compat_gdoid) {
		if (!(u6 = malloc(sizeof(*u6))))
			goto out;
		memcpy(u6, u, sizeof(*u6));
		u6->kek.trailer_len = 6;
		pp6.update = u6;
	}
	char what[160];
	snprintf(what, sizeof(what), "new KEK: %s", why);
	rc = deliver(g, &pp, u6 ? &pp6 : NULL, unicast_only, what);
	if (!rc && !unicast_only)	/* an eviction's new KEK must not reach the group */
		ks_ikev2_rekey_push(g, old, seq, &g->pol.kek, NULL, 0);
	goto out;
out_rollback:
	rollback(g);
	g->has_prev_kek = had_prev;
	g->prev_kek_seq = prev_seq_save;
	if (prev_save)
		memcpy(&g->prev_kek, prev_save, sizeof(g->prev_kek));
	else
		gdoi_wipe(&g->prev_kek, sizeof(g->prev_kek));
out:
	gdoi_wipe_free(prev_save, sizeof(*prev_save));
	gdoi_wipe_free(u6, sizeof(*u6));
	gdoi_wipe_free(u, sizeof(*u));
	gdoi_wipe_free(old, sizeof(*old));
	ks_rekey_schedule(g);
	return rc;
}

/* ---- registration overlapping a rekey ---------------------------------------- */

/*
 * The PULL key server copies the policy at message 1 and sends it at message 4,
 * and the member is on the unicast list only from message 4 on: a push in between
 * passes it by. This builds one fresh push for that member alone, by unicast:
 * every TEK a member registering now would get (update), Deletes for the TEKs it
 * got that are gone, and the new KEK when the KEK rotated in between. It travels
 * under the KEK the member holds:
 *   - the current KEK: SEQ = the group's SEQ + 1, committed before the push is
 *     built (like every push; the other members just see a gap in SEQ);
 *   - the KEK before the last rotation (kept in memory): SEQ = its last SEQ + 1.
 *     That KEK pushes nothing else any more, and after a restart it is forgotten,
 *     so its SEQ never repeats. In compat = gdoid groups SEQ is one sequence
 *     across KEKs: the group's SEQ + 1, committed first, as above. After an eviction's rotation this is what the
 *     eviction push itself was: the new KEK under the old one, by unicast to a
 *     member that is not evicted (registered() drops blocked members). Two
 *     rotations back, the member is told in the log to register again.
 * Re-sending the pushes it missed would need every one of them kept (a burst of
 * rekeys during one registration is several), and still not cover a KEK rotation
 * whose push was built for the old KEK's holders.
 */
bool ks_rekey_catch_up_due(const struct ks_group *g, const struct ks_pending *pe)
{
	/* no KEK: nothing can be pushed (a KEK-less group re-registers); the same KEK
	 * and SEQ: nothing happened in between */
	return g->rec.has_kek && pe->has_kek &&
	       (memcmp(pe->kek_spi, g->rec.kek_spi, GDOI_KEK_SPI_LEN) || pe->seq != g->rec.seq);
}

int ks_rekey_catch_up(struct ks_group *g, const struct ks_member_cfg *m, const struct ks_pending *pe,
		      const struct ks_inet *to)
{
	if (!ks_rekey_catch_up_due(g, pe))
		return 0;
	bool same_kek = !memcmp(pe->kek_spi, g->rec.kek_spi, GDOI_KEK_SPI_LEN);
	bool prev_kek = !same_kek && g->has_prev_kek &&
			!memcmp(pe->kek_spi, g->prev_kek.spi, GDOI_KEK_SPI_LEN);
	if (!same_kek && !prev_kek) {
		ks_log(KS_WARN, "group %s: member %s registered with a KEK that is no longer current and cannot "
		       "be caught up: it must register again", g->cfg->name, m->name);
		return -1;
	}
	int64_t now = ks_unix_now();
	struct gdoi_policy *u = calloc(1, sizeof(*u));
	struct gdoi_kek_policy *kek = malloc(sizeof(*kek));
	int rc = -1;
	if (!u || !kek)
		goto out;
	uint32_t seq;
	/* compat = gdoid: one SEQ across KEKs, so a push under the replaced KEK takes
	 * the group's next SEQ too (the reference's member keeps one replay counter) */
	if (same_kek || g->cfg->compat_gdoid) {
		seq = g->rec.seq + 1;
		if (ks_state_save_seq(g->ks->st, g->id, seq))
			goto out;	/* nothing sent: the member keeps its keys until the next push */
		g->rec.seq = seq;
		ks_group_build_policy(g, now);
	} else {
		seq = ++g->prev_kek_seq;
	}
	memcpy(kek, same_kek ? &g->pol.kek : &g->prev_kek, sizeof(*kek));
	memcpy(u, &g->pol, sizeof(*u));
	if (m->compat_gdoid && !same_kek)
		u->kek.trailer_len = 6;
	struct gdoi_push_delete dels[GDOI_PUSH_MAX_DELETES];
	size_t ndels = 0;
	for (size_t i = 0; i < pe->nspis && ndels < GDOI_PUSH_MAX_DELETES; i++) {
		bool kept = false;
		for (size_t j = 0; j < u->nteks; j++)
			kept |= u->teks[j].spi == pe->spis[i];
		if (!kept)
			dels[ndels++] = (struct gdoi_push_delete){ .proto = ks_group_tek_proto(g), .spi = pe->spis[i] };
	}
	if (ks_group_tek_proto(g) == GDOI_TEK_PROTO_REF_SRTP)
		ndels = 0;	/* no Deletes of its SRTP TEKs (see ks_rekey_teks) */
	struct gdoi_push_params pp = params(g, kek, seq, u, !same_kek || g->cfg->compat_gdoid, dels, ndels);
	struct gdoi_id id = { .type = m->id.type, .data = GDOI_BYTES(m->id.data, m->id.len) };
	struct gdoi_gcks_push_dest dest = { .to = { .len = to->len, .port = to->port }, .member = &id };
	memcpy(dest.to.ip, to->ip, to->len);
	if (g->cfg->rekey_port)
		dest.to.port = g->cfg->rekey_port;
	struct gdoi_gcks_push_cfg pc = push_cfg(g);
	rc = ks_registrar_push(g->ks, &pc, &pp, &dest, 1);
	if (rc < 0) {
		ks_log(KS_ERR, "group %s: cannot build push SEQ %u: %s", g->cfg->name, seq, gdoi_strerror(rc));
		rc = -1;
		goto out;
	}
	g->pushes++;
	g->push_unicast++;
	ks_log(KS_INFO, "group %s: push SEQ %u (catch-up for member %s, whose registration began at SEQ %u%s; "
	       "%zu TEK(s), %zu deleted): unicast to 1 member", g->cfg->name, seq, m->name, pe->seq,
	       same_kek ? "" : " under the previous KEK, new KEK included", u->nteks, ndels);
	rc = 0;
out:
	gdoi_wipe_free(u, sizeof(*u));
	gdoi_wipe_free(kek, sizeof(*kek));
	return rc;
}

/* ---- the sender list ------------------------------------------------------- */

/*
 * After a registration that assigned SSRCs: every member learns the new list
 * right away, so that receivers accepting only assigned senders do not drop the
 * new sender's first packets. The SA re-announces the current TEKs (members
 * holding them keep their times); SEQ is committed first, as for every push.
 */
int ks_rekey_senders(struct ks_group *g)
{
	g->senders_changed = false;
	ks_group_load_senders(g);
	if (!g->leader)
		return 0;	/* the leader's next push carries the list */
	if (!g->senders_ok || !g->rec.has_kek || !g->pol.nteks)
		return 0;	/* nothing to push with: members get the list when they register */
	uint32_t seq = g->rec.seq + 1;
	if (ks_state_save_seq(g->ks->st, g->id, seq))
		return -1;
	g->rec.seq = seq;
	ks_group_build_policy(g, ks_unix_now());
	struct gdoi_policy *u = malloc(sizeof(*u));
	if (!u)
		return -1;
	memcpy(u, &g->pol, sizeof(*u));
	struct gdoi_push_params pp = params(g, &g->pol.kek, seq, u, false, NULL, 0);
	char what[80];
	snprintf(what, sizeof(what), "sender list of %zu SSRC(s), %zu TEK(s) again", u->nsenders, u->nteks);
	int rc = deliver(g, &pp, NULL, false, what);
	gdoi_wipe_free(u, sizeof(*u));
	return rc;
}

/* ---- eviction -------------------------------------------------------------- */

struct find_ctx {
	const char *name;
	bool found;
};

static void find_member(void *ctx, const struct ks_member_rec *m)
{
	struct find_ctx *f = ctx;
	if (!strcmp(m->name, f->name))
		f->found = true;
}

/* The eviction in one group, on its leader: the member's record removed (no push
 * goes to it), then the KEK by unicast to the remaining members and TEKs under
 * the new KEK. -2: the record could not be removed (nothing rotated), -1: the
 * rotation failed. */
int ks_evict_rotate(struct ks_group *g, const char *member)
{
	if (ks_state_member_remove(g->ks->st, g->id, member))
		return -2;
	ks_log(KS_INFO, "group %s: member %s evicted", g->cfg->name, member);
	ks_group_load_senders(g);	/* its SSRCs leave the list the TEK push carries */
	if (g->rec.has_kek && ks_rekey_kek(g, "eviction", true))
		return -1;
	return ks_rekey_teks(g, "eviction");
}

int ks_evict(struct ks *ks, const char *member, struct ks_forwarded *fw)
{
	fw->n = 0;
	if (ks_state_set_blocked(ks->st, member, true))
		return -1;
	/* its G-IKEv2 IKE SAs go before any rekey could reach them */
	for (size_t i = 0; i < ks->cfg->nmembers; i++)
		if (!strcmp(ks->cfg->members[i].name, member))
			ks_registrar_evict(ks, &ks->cfg->members[i]);
	int n = 0;
	for (size_t i = 0; i < ks->ngroups; i++) {
		struct ks_group *g = ks->groups[i];
		struct find_ctx f = { member, false };
		ks_state_members_nossrc(ks->st, g->id, find_member, &f);
		if (!f.found)
			continue;
		n++;
		if (g->leader) {
			if (ks_evict_rotate(g, member) == -2)
				return -1;
			continue;
		}
		/* another key server leads: it removes the record and rotates (the member is
		 * blocked already: no key server admits it again); a record left on failure
		 * here lets the operator's next evict find the group again */
		if (fw->n == KS_MAX_FORWARD || ks_state_cmd_add(ks->st, g->id, "evict", member, ks_unix_now(),
								&fw->ids[fw->n])) {
			ks_log(KS_ERR, "group %s: cannot hand the eviction of %s to the rekey leader", g->cfg->name,
			       member);
			return -1;
		}
		ks_log(KS_INFO, "group %s: eviction of %s handed to the rekey leader (command %lld)", g->cfg->name,
		       member, (long long)fw->ids[fw->n]);
		fw->n++;
	}
	return n;
}
