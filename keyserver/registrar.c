/*
 * registrar.c - registration: the key-server engine (gdoi/gcks.h, which owns
 * the Phase 1 SA table, the GROUPKEY-PULL exchanges, routing and flood
 * limits) wired to the UDP socket, with the callbacks that make the decisions:
 *   peer_allowed  the authenticated identity is a configured, non-evicted member;
 *   lookup        the group exists and the member may join it; its policy, in
 *                 the reference implementation's SA KEK form for compat members;
 *   assign_sids   may_send members get fresh SSRCs at each registration, others none;
 *   admit         the member is recorded (for unicast rekeys) before its keys
 *                 leave: a member that cannot be recorded would miss every
 *                 rekey, so a storage failure refuses the registration.
 * The engine's events become log lines (rate-limited where a peer can repeat
 * them), with the core's reason; a registration event may owe a catch-up push.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/addr.h"
#include "daemon/cred.h"
#include "gdoi/cert.h"
#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "gdoi/pull.h"
#include "gdoi/sign.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"
#include "keyserver/registrar_ikev2.h"

struct ks_registrar {
	struct ks *ks;
	struct ks_worker *w;		/* NULL: the main thread's (pushes, ACKs) */
	uv_loop_t *loop;		/* where its socket and timer live */
	uv_udp_t *udp;
	struct ks_udpb *udpb;		/* udp's sender: sendmmsg batches, backlog */
	uv_timer_t *timer;
	bool *stopping;
	bool held;			/* a worker's: the lock kept from admit() to drain() */
	struct gdoi_p1_config p1cfg;
	struct gdoi_p1_suite suites[KS_MAX_SUITES * 2];
	struct gdoi_p1_psk *psks;
	struct gdoi_key *key;		/* Phase 1 signature key (certificates) */
	uint8_t *cert_der;
	size_t cert_len;
	struct gdoi_trust *trust;
	struct gdoi_gcks *engine;
	struct ks_ikev2 *ikev2;		/* G-IKEv2 front end (registrar_ikev2.c); NULL: none */
	struct gdoi_policy scratch;	/* the policy lent to the PULL layer */
	struct ks_pending *pend;	/* per configured member: what its message 1 got */
	size_t npend;
};

static struct gdoi_now now_of(struct ks_registrar *r)
{
	uv_update_time(r->loop);
	return (struct gdoi_now){ .mono_ms = uv_now(r->loop), .unix_s = ks_unix_now() };
}

/* A worker's callbacks and bookkeeping touch what the main thread owns (groups,
 * state, counters): under the key server's lock, which the main thread holds
 * whenever it is not waiting for I/O (docs/keyserver.md, "Workers"). */
static void guard(const struct ks_registrar *r)
{
	if (r->w && !r->held)
		uv_mutex_lock(&r->ks->lock);
}

static void unguard(const struct ks_registrar *r)
{
	if (r->w && !r->held)
		uv_mutex_unlock(&r->ks->lock);
}

static const struct ks_member_cfg *member_of(struct ks *ks, const struct gdoi_id *id)
{
	return id ? ks_config_member_by_id(ks->cfg, id->type, id->data.ptr, id->data.len) : NULL;
}

static void fmt_id(const struct gdoi_id *id, char *out, size_t cap)
{
	if (!id) {
		snprintf(out, cap, "(none)");
		return;
	}
	ks_ident_format(id->type, id->data.ptr, id->data.len, out, cap);
}

static void fmt_addr(const struct gdoi_addr *a, char *out, size_t cap)
{
	dm_addr_format(a->ip, a->len, a->port, out, cap);
}

/* ---- callbacks --------------------------------------------------------------- */

static bool peer_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *addr)
{
	struct ks_registrar *r = ctx;
	guard(r);
	const struct ks_member_cfg *m = member_of(r->ks, id);
	/* a member configured psk only may not come with a certificate, even one of
	 * our CA (the same rule as G-IKEv2's, registrar_ikev2.c) */
	bool sig_refused = m && auth != GDOI_IKE_AUTH_PSK && !m->cert;
	/* a blocked check that cannot be made now (the database is unreachable) lets
	 * Phase 1 finish: the GROUPKEY-PULL checks again and refuses with UNAVAILABLE,
	 * which the member reads as "try elsewhere or later", not as bad credentials */
	bool ok = m && !sig_refused && ks_state_blocked_check(r->ks->st, m->name) != 1;
	if (sig_refused) {
		char ids[300], where[64];
		fmt_id(id, ids, sizeof(ids));
		fmt_addr(addr, where, sizeof(where));
		ks_log_limited(KS_WARN, "gdoi-sig-not-cert", "Phase 1 from %s: member %s (%s) authenticated "
			       "by a certificate, but its member is not configured auth = cert: refused "
			       "(similar refusals rate-limited)", where, m->name, ids);
	}
	unguard(r);
	return ok;
}

static int lookup_locked(struct ks_registrar *r, uint32_t group_id, const struct gdoi_id *member,
			 const struct gdoi_policy **policy)
{
	struct ks_group *g = ks_find_group(r->ks, group_id);
	if (!g || !ks_group_speaks(g->cfg, KS_PROTO_GDOI))
		return GDOI_ERR_NOT_FOUND;
	const struct ks_member_cfg *m = member_of(r->ks, member);
	if (!m || !ks_member_in_group(m, g->id))
		return GDOI_ERR_NOT_AUTHORIZED;
	int blocked = ks_state_blocked_check(r->ks->st, m->name);
	if (blocked)
		return blocked > 0 ? GDOI_ERR_NOT_AUTHORIZED : GDOI_ERR_STATE;	/* UNAVAILABLE */
	/* another key server leads: its last commit, not a notice that may be in flight */
	if (!g->leader && ks_cluster_reload(g))
		return GDOI_ERR_STATE;
	ks_group_build_policy(g, ks_unix_now());	/* lifetimes as of now */
	gdoi_policy_clear(&r->scratch);
	memcpy(&r->scratch, &g->pol, sizeof(r->scratch));
	if (m->compat_gdoid && r->scratch.has_kek)
		r->scratch.kek.trailer_len = 6;
	/* What this member is being given, to catch it up at message 4 if the group
	 * is rekeyed in between (the PULL layer sends this copy, not the group's). */
	struct ks_pending *pe = &r->pend[m - r->ks->cfg->members];
	pe->used = true;
	pe->gid = g->id;
	pe->has_kek = r->scratch.has_kek;
	memcpy(pe->kek_spi, r->scratch.kek.spi, sizeof(pe->kek_spi));
	pe->seq = r->scratch.seq;
	pe->nspis = 0;
	for (size_t i = 0; i < r->scratch.nteks && i < GDOI_MAX_TEKS; i++)
		pe->spis[pe->nspis++] = r->scratch.teks[i].spi;
	*policy = &r->scratch;
	return 0;
}

/* The group's policy as of now, copied while the lock is held: a rekey by the
 * main thread comes wholly before the copy or after it (then the catch-up push
 * of registered() brings the member to the new keys). */
static int lookup(void *ctx, uint32_t group_id, const struct gdoi_id *member, const struct gdoi_addr *addr,
		  const struct gdoi_policy **policy)
{
	struct ks_registrar *r = ctx;
	(void)addr;
	guard(r);
	int rc = lookup_locked(r, group_id, member, policy);
	unguard(r);
	return rc;
}

static int assign_sids_locked(struct ks_registrar *r, uint32_t group_id, const struct gdoi_id *member,
			      unsigned count, uint32_t *sids, size_t *n)
{
	struct ks_group *g = ks_find_group(r->ks, group_id);
	const struct ks_member_cfg *m = member_of(r->ks, member);
	*n = 0;
	if (!g || !m)
		return GDOI_ERR_NOT_FOUND;
	if (!m->may_send) {
		ks_log(KS_WARN, "group %s: member %s asked for %u SSRC(s) but may not send", g->cfg->name,
		       m->name, count);
		return GDOI_ERR_NOT_AUTHORIZED;
	}
	if (count > m->max_ssrcs)
		count = m->max_ssrcs;
	if (ks_group_assign_ssrcs(g, m->name, count, sids, n)) {
		ks_log(KS_ERR, "group %s: member %s: cannot assign its SSRCs (state storage failed): "
		       "registration refused", g->cfg->name, m->name);
		return GDOI_ERR_STATE;
	}
	return 0;
}

static int assign_sids(void *ctx, uint32_t group_id, const struct gdoi_id *member, unsigned count,
		       uint32_t *sids, size_t *n)
{
	struct ks_registrar *r = ctx;
	guard(r);
	int rc = assign_sids_locked(r, group_id, member, count, sids, n);
	unguard(r);
	return rc;
}

static int admit_locked(struct ks_registrar *r, uint32_t group_id, const struct gdoi_id *member,
			const struct gdoi_addr *addr)
{
	struct ks_group *g = ks_find_group(r->ks, group_id);
	const struct ks_member_cfg *m = member_of(r->ks, member);
	if (!g || !m)
		return GDOI_ERR_NOT_FOUND;
	char ids[300], peer[64];
	fmt_id(member, ids, sizeof(ids));
	int blocked = ks_state_blocked_check(r->ks->st, m->name);
	if (blocked < 0)
		return GDOI_ERR_STATE;	/* the state cannot be read: UNAVAILABLE */
	if (blocked) {
		/* evicted between its message 1 and 3: its keys are already rotated away */
		ks_log(KS_WARN, "group %s: member %s (%s) evicted during its registration: refused", g->cfg->name,
		       m->name, ids);
		return GDOI_ERR_NOT_AUTHORIZED;
	}
	fmt_addr(addr, peer, sizeof(peer));
	if (ks_state_member_seen(r->ks->st, g->id, m->name, ids, peer, false, ks_unix_now())) {
		ks_log(KS_ERR, "group %s: member %s (%s) at %s: cannot record the registration (state storage "
		       "failed): refused, since an unrecorded member would miss every rekey", g->cfg->name,
		       m->name, ids, peer);
		return GDOI_ERR_STATE;
	}
	/* Another key server leads, and only it pushes: keys it replaced since message 1
	 * must not leave here (this member is on record now, so its next push reaches
	 * it). Refused: the member registers again and gets the new keys. */
	const struct ks_pending *pe = &r->pend[m - r->ks->cfg->members];
	if (!g->leader && pe->used && pe->gid == g->id) {
		if (ks_cluster_reload(g) || pe->seq != g->rec.seq || pe->has_kek != g->rec.has_kek ||
		    memcmp(pe->kek_spi, g->rec.kek_spi, GDOI_KEK_SPI_LEN)) {
			ks_log(KS_WARN, "group %s: member %s: the rekey leader changed the keys during its "
			       "registration (or the state cannot be read): refused, it registers again",
			       g->cfg->name, m->name);
			return GDOI_ERR_STATE;
		}
	}
	return 0;
}

/* A worker keeps the lock from a successful admit until its message 4 is sent and
 * its REGISTERED event looked at (drain): no rekey comes in between, so the member
 * is either not on that rekey's list and caught up (its message 1 saw the old
 * keys), or on it and the push leaves after its message 4, as with one thread. */
static int admit(void *ctx, uint32_t group_id, const struct gdoi_id *member, const struct gdoi_addr *addr)
{
	struct ks_registrar *r = ctx;
	guard(r);
	int rc = admit_locked(r, group_id, member, addr);
	if (rc || !r->w)
		unguard(r);
	else
		r->held = true;
	return rc;
}

/* ---- set-up ------------------------------------------------------------------- */

/* The certificate credentials (daemon/cred.c); the registrar takes them over. */
static int load_certs(struct ks_registrar *r, char *err, size_t errlen)
{
	const struct ks_config *c = r->ks->cfg;
	struct dm_cred cred;

	if (dm_cred_load(&cred, c->key_file, c->cert_file, c->ca_file, err, errlen))
		return -1;
	r->key = cred.key;
	r->cert_der = cred.cert_der;
	r->cert_len = cred.cert_len;
	r->trust = cred.trust;
	return 0;
}

int ks_registrar_new(struct ks *ks, struct ks_worker *w, struct ks_registrar **out, char *err, size_t errlen)
{
	const struct ks_config *c = ks->cfg;
	struct ks_registrar *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->ks = ks;
	r->w = w;
	r->loop = w ? &w->loop : ks->loop;
	r->udp = w ? &w->udp : &ks->udp;
	r->udpb = w ? &w->udpb : &ks->udpb;
	r->timer = w ? &w->timer : &ks->expire_timer;
	r->stopping = w ? &w->stopping : &ks->stopping;
	bool any_psk = false, any_cert = false;
	size_t cap = 1;
	for (size_t i = 0; i < c->nmembers; i++)
		cap += c->members[i].naddrs ? c->members[i].naddrs : 1;
	r->psks = calloc(cap, sizeof(*r->psks));
	r->pend = calloc(c->nmembers ? c->nmembers : 1, sizeof(*r->pend));
	if (!r->psks || !r->pend)
		goto fail;
	r->npend = c->nmembers;
	size_t npsks = 0;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct ks_member_cfg *m = &c->members[i];
		any_cert |= m->cert;
		if (!m->psk)
			continue;
		any_psk = true;
		/* With addresses, one key per address (bound to the identity as well):
		 * the responder selects it by the peer's address, and never tries it
		 * from another address. Without, one identity-bound key, found by
		 * trying each such key against message 5. */
		size_t k = 0;
		do {
			struct gdoi_p1_psk *ps = &r->psks[npsks++];
			*ps = (struct gdoi_p1_psk){
				.id = { .type = m->id.type, .data = GDOI_BYTES(m->id.data, m->id.len) },
				.key = GDOI_BYTES(m->psk, m->psk_len) };
			if (m->naddrs) {
				ps->addr.len = m->addrs[k].len;
				memcpy(ps->addr.ip, m->addrs[k].ip, m->addrs[k].len);
			}
		} while (++k < m->naddrs);
	}
	if (c->key_file[0] && load_certs(r, err, errlen))
		goto fail;
	size_t ns = 0;
	for (size_t i = 0; i < c->nsuites; i++) {
		struct gdoi_p1_suite s = c->suites[i];
		s.lifetime = c->p1_lifetime;
		if (any_psk) {
			s.auth = GDOI_IKE_AUTH_PSK;
			r->suites[ns++] = s;
		}
		if (r->key && (any_cert || !any_psk)) {
			s.auth = gdoi_key_ike_auth(r->key);
			r->suites[ns++] = s;
		}
	}
	r->p1cfg = (struct gdoi_p1_config){ .suites = r->suites, .nsuites = ns,
		.local_id = { .type = c->local_id.type, .data = GDOI_BYTES(c->local_id.data, c->local_id.len) },
		.psks = r->psks, .npsks = npsks, .key = r->key,
		.cert = r->cert_der ? GDOI_BYTES(r->cert_der, r->cert_len) : GDOI_BYTES_NONE,
		.trust = r->trust, .peer_allowed = peer_allowed, .ctx = r };
	struct gdoi_gcks_cfg ec = { .p1 = &r->p1cfg,
		.pull = { .lookup = lookup, .assign_sids = assign_sids, .admit = admit, .ctx = r,
			  .p1_key = r->key },
		.limits = { .mm1_per_s = ks->cfg->mm1_per_s, .mm1_burst = ks->cfg->mm1_burst,
			    .junk_per_s = ks->cfg->junk_per_s, .junk_burst = ks->cfg->junk_burst } };
	r->engine = gdoi_gcks_new(&ec);
	/* G-IKEv2 signs and verifies with the same credentials (freed after it) */
	struct ks_ikev2_cred ic = { .key = r->key, .cert = r->p1cfg.cert, .trust = r->trust };
	if (!r->engine || ks_ikev2_new(ks, r->udp, r->udpb, w ? &ks->lock : NULL, &ic, &r->ikev2)) {
		snprintf(err, errlen, "cannot create the key-server engine");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	ks_registrar_free(r);
	return -1;
}

void ks_registrar_adopt(struct ks_registrar *r, struct ks_registrar *old)
{
	if (r && old)
		ks_ikev2_adopt(r->ikev2, old->ikev2);
}

void ks_registrar_free(struct ks_registrar *r)
{
	if (!r)
		return;
	gdoi_gcks_free(r->engine);
	ks_ikev2_free(r->ikev2);
	gdoi_key_free(r->key);
	gdoi_trust_free(r->trust);
	free(r->cert_der);
	gdoi_wipe_free(r->pend, sizeof(*r->pend) * r->npend);
	free(r->psks);	/* keys point into the configuration, which wipes them */
	gdoi_policy_clear(&r->scratch);
	free(r);
}

size_t ks_registrar_sa_count(const struct ks_registrar *r)
{
	return gdoi_gcks_sa_count(r->engine);
}

const struct gdoi_gcks_stats *ks_registrar_stats(const struct ks_registrar *r)
{
	return gdoi_gcks_stats(r->engine);
}

static void drain(struct ks_registrar *r, size_t len);

static void on_expire(uv_timer_t *t)
{
	ks_registrar_expire(t->data);
}

/* The engine's deadline (push retransmissions, the wait for ACKs), and at
 * least once a second for the expiry of Phase 1 SAs and PULL exchanges. */
void ks_registrar_arm(struct ks_registrar *r)
{
	if (!r || *r->stopping)
		return;
	uint64_t at = gdoi_gcks_deadline(r->engine), now = uv_now(r->loop), ms = 1000;
	uint64_t at2 = ks_ikev2_deadline(r->ikev2);	/* GSA_INBAND_REKEY retransmissions */
	if (at2 && (!at || at2 < at))
		at = at2;
	uint64_t at3 = ks_udpb_deadline(r->udpb);	/* datagrams waiting for room */
	if (at3 && (!at || at3 < at))
		at = at3;
	if (at)
		ms = at <= now ? 0 : at - now < ms ? at - now : ms;
	r->timer->data = r;
	uv_timer_start(r->timer, on_expire, ms, 0);
}

void ks_registrar_expire(struct ks_registrar *r)
{
	struct gdoi_now now = now_of(r);
	uint64_t due = ks_udpb_deadline(r->udpb);
	if (due && due <= now.mono_ms)
		ks_udpb_flush(r->udpb, now.mono_ms);	/* first: they are older than what the timers send */
	gdoi_gcks_timer(r->engine, now);
	ks_ikev2_timer(r->ikev2, now);
	drain(r, 0);
}

void ks_registrar_inband(struct ks *ks, struct ks_group *g, const struct gdoi_push_delete *dels,
			 size_t ndels)
{
	if (!ks->reg || !ks->reg->ikev2)
		return;
	if (ks->nworkers) {	/* the IKE SAs are the workers' (the main engine only sends) */
		ks_workers_post_inband(ks, g->id, dels, ndels);
		return;
	}
	ks_ikev2_inband(ks->reg->ikev2, g, dels, ndels);
	ks_registrar_arm(ks->reg);
}

/* A worker (its thread, the lock not held) runs what ks_workers_post_* queued.
 * The group and member found stay valid until the worker parks: a reload, which
 * frees them, first waits for every worker to park (ks_workers_pause). */
void ks_registrar_worker_inband(struct ks_registrar *r, uint32_t gid, const struct gdoi_push_delete *dels,
				size_t ndels)
{
	if (!r || !r->ikev2)
		return;
	uv_mutex_lock(&r->ks->lock);
	struct ks_group *g = ks_find_group(r->ks, gid);
	uv_mutex_unlock(&r->ks->lock);
	if (g)
		ks_ikev2_inband(r->ikev2, g, dels, ndels);
	ks_registrar_arm(r);
}

void ks_registrar_worker_evict(struct ks_registrar *r, const char *member)
{
	if (!r || !r->ikev2)
		return;
	uv_mutex_lock(&r->ks->lock);
	const struct ks_member_cfg *m = ks_config_member(r->ks->cfg, member);
	uv_mutex_unlock(&r->ks->lock);
	if (m && ks_ikev2_evict(r->ikev2, m))
		ks_registrar_arm(r);
}

void ks_registrar_shutdown(struct ks_registrar *r)
{
	if (r && r->ikev2)
		ks_ikev2_shutdown(r->ikev2);
}

void ks_registrar_evict(struct ks *ks, const struct ks_member_cfg *m)
{
	if (ks->nworkers && m) {
		ks_workers_post_evict(ks, m->name);
		return;
	}
	if (ks->reg && ks->reg->ikev2 && ks_ikev2_evict(ks->reg->ikev2, m))
		ks_registrar_arm(ks->reg);
}

int ks_registrar_push(struct ks *ks, const struct gdoi_gcks_push_cfg *d, const struct gdoi_push_params *p,
		      const struct gdoi_gcks_push_dest *dests, size_t n)
{
	int rc = gdoi_gcks_push(ks->reg->engine, d, p, dests, n, now_of(ks->reg));
	drain(ks->reg, 0);
	return rc;
}

/* ---- output and events ------------------------------------------------------------ */

/* A completed registration: the counters, and what the log line says (SEQ, the
 * SSRCs on record); the caller logs it (outside the lock, from a worker). */
struct reg_note {
	char line[600];
};

static void record_registration(struct ks *ks, struct ks_group *g, const struct ks_member_cfg *m,
				const struct gdoi_gcks_event *ev, struct reg_note *note)
{
	char peer[64], ids[300];
	struct gdoi_id idv = gdoi_gcks_event_id(ev);
	fmt_addr(&ev->peer, peer, sizeof(peer));
	fmt_id(ev->has_id ? &idv : NULL, ids, sizeof(ids));
	ks->registrations++;	/* recorded by admit() */
	g->registrations++;
	uint32_t ssrcs[GDOI_MAX_SIDS];
	size_t n = 0;
	ks_state_ssrc_list(ks->st, g->id, m->name, ssrcs, GDOI_MAX_SIDS, &n);
	snprintf(note->line, sizeof(note->line), "group %s: member %s (%s) registered from %s%s, SEQ %u, %zu SSRC(s) "
		 "on record", g->cfg->name, m->name, ids, peer,
		 ev->group_id != g->id ? " (byte-swapped group id)" : "", g->rec.seq, n);
}

/* Whether the main thread owes the member a push now: a catch-up (the group was
 * rekeyed since its message 1) or the new sender list. */
static bool follow_up_due(const struct ks_group *g, const struct ks_pending *pe)
{
	return g->senders_changed || (pe && pe->used && pe->gid == g->id && ks_rekey_catch_up_due(g, pe));
}

void ks_registrar_follow_up(struct ks *ks, const struct gdoi_gcks_event *ev, struct ks_pending *pe)
{
	struct ks_group *g = ks_find_group(ks, ev->group_id);
	struct gdoi_id idv = gdoi_gcks_event_id(ev);
	const struct ks_member_cfg *m = member_of(ks, ev->has_id ? &idv : NULL);
	if (!g || !m)
		return;
	struct ks_inet from = { .len = ev->peer.len, .port = ev->peer.port };
	memcpy(from.ip, ev->peer.ip, sizeof from.ip);
	if (pe && pe->used && pe->gid == g->id)
		ks_rekey_catch_up(g, m, pe, &from);
	if (pe)
		pe->used = false;
	if (g->senders_changed)
		ks_rekey_senders(g);	/* right after message 4: receivers learn the new sender */
}

/* The engine's own REGISTERED event: the main thread's is followed up here, a
 * worker's goes to the main thread (catch-up and sender pushes are its), with a
 * copy of what the member's message 1 got. */
static void registered(struct ks_registrar *r, const struct gdoi_gcks_event *ev)
{
	struct ks *ks = r->ks;
	struct gdoi_id idv = gdoi_gcks_event_id(ev);
	const struct ks_member_cfg *m = member_of(ks, ev->has_id ? &idv : NULL);
	struct ks_pending *pe = m ? &r->pend[m - ks->cfg->members] : NULL;
	struct reg_note note = { "" };
	bool due = false;
	guard(r);
	struct ks_group *g = ks_find_group(ks, ev->group_id);
	if (g && m) {
		record_registration(ks, g, m, ev, &note);
		due = follow_up_due(g, pe);
	}
	unguard(r);
	if (note.line[0])
		ks_log(KS_INFO, "%s", note.line);
	if (!due) {
		if (pe)
			pe->used = false;
		return;
	}
	if (r->w)	/* pushes are the main thread's */
		ks_worker_forward_registered(r->w, ev, pe);
	else
		ks_registrar_follow_up(ks, ev, pe);
	if (pe)
		pe->used = false;
}

/* RFC 8263: the last acknowledged SEQ is kept per member; a member missing
 * push_ack_misses pushes in a row is dropped from the group (no more unicast
 * pushes; it must register again), as GET VPN does. */
static void push_acked(struct ks *ks, const struct gdoi_gcks_event *ev, bool acked)
{
	struct ks_group *g = ks_find_group(ks, ev->group_id);
	struct gdoi_id idv = gdoi_gcks_event_id(ev);
	const struct ks_member_cfg *m = member_of(ks, ev->has_id ? &idv : NULL);
	if (!g || !m)
		return;
	if (acked) {
		if (ks_state_member_acked(ks->st, g->id, m->name, ev->seq) == 0)
			ks_log(KS_DEBUG, "group %s: member %s acknowledged push SEQ %u", g->cfg->name, m->name,
			       ev->seq);
		return;
	}
	unsigned misses = 0;
	if (ks_state_member_missed(ks->st, g->id, m->name, &misses))
		return;
	ks_log(KS_WARN, "group %s: member %s did not acknowledge push SEQ %u (%u of %u in a row)", g->cfg->name,
	       m->name, ev->seq, misses, g->cfg->push_ack_misses);
	if (misses < g->cfg->push_ack_misses)
		return;
	if (ks_state_member_remove(ks->st, g->id, m->name))
		return;
	ks_group_load_senders(g);
	ks_log(KS_WARN, "group %s: member %s dropped after %u unacknowledged pushes: no more rekeys for it "
	       "until it registers again", g->cfg->name, m->name, misses);
}

/* One log line per event; what a peer can repeat at will is rate-limited by reason. */
/* The daemon's counters (the main thread's; a worker's bump under the lock). */
static void bump(struct ks_registrar *r, uint64_t *a, uint64_t *b)
{
	guard(r);
	(*a)++;
	if (b)
		(*b)++;
	unguard(r);
}

/* Logging is thread-safe (daemon/log.c); a worker's REGISTERED goes to the main
 * thread without the lock (registered()). */
static void on_event(struct ks_registrar *r, const struct gdoi_gcks_event *ev, size_t len)
{
	struct ks *ks = r->ks;
	char ps[64], ids[300];
	fmt_addr(&ev->peer, ps, sizeof(ps));
	struct gdoi_id idv = gdoi_gcks_event_id(ev);
	fmt_id(ev->has_id ? &idv : NULL, ids, sizeof(ids));
	const char *why = ev->reason[0] ? ev->reason : gdoi_strerror(ev->err);
	switch (ev->type) {
	case GDOI_GCKS_EV_P1_ESTABLISHED:
		bump(r, &ks->p1_established, NULL);
		ks_log(KS_INFO, "Phase 1 established with %s at %s", ids, ps);
		break;
	case GDOI_GCKS_EV_P1_FAILED:
		bump(r, &ks->dropped, &ks->p1_failed[gdoi_err_slot(ev->err)]);
		ks_log_limited(KS_WARN, ev->reason, "Phase 1 with %s failed: %s%s%s", ps, ev->reason,
			       ev->notify ? ", sent " : "", ev->notify ? gdoi_notify_name(ev->notify) : "");
		break;
	case GDOI_GCKS_EV_P1_DELETED:
		ks_log(KS_INFO, "Phase 1 SA with %s deleted by the peer", ps);
		break;
	case GDOI_GCKS_EV_P1_NOTIFY:
		ks_log(KS_INFO, "notify %s from %s", gdoi_notify_name(ev->notify), ps);
		break;
	case GDOI_GCKS_EV_REGISTERED:
		registered(r, ev);
		break;
	case GDOI_GCKS_EV_REFUSED:
		bump(r, &ks->refused[gdoi_err_slot(ev->err)], NULL);
		if (ev->notify == GDOI_N_PRIVATE_UNAVAILABLE)	/* the state's outage: every member, each retry */
			ks_log_limited(KS_WARN, "refused unavailable", "registration of %s at %s refused: %s, sent %s "
				       "(similar refusals rate-limited)", ids, ps, ev->reason,
				       gdoi_notify_name(ev->notify));
		else
			ks_log(KS_WARN, "registration of %s at %s refused: %s%s%s", ids, ps, ev->reason,
			       ev->notify ? ", sent " : "", ev->notify ? gdoi_notify_name(ev->notify) : "");
		break;
	case GDOI_GCKS_EV_PULL_ANSWERED:
		ks_log(KS_DEBUG, "GROUPKEY-PULL from %s: %s", ps, ev->reason[0] ? ev->reason : "answered");
		break;
	case GDOI_GCKS_EV_PUSH_ACKED:
	case GDOI_GCKS_EV_PUSH_UNACKED:
		push_acked(ks, ev, ev->type == GDOI_GCKS_EV_PUSH_ACKED);
		break;
	case GDOI_GCKS_EV_DROPPED:
		bump(r, &ks->dropped, NULL);
		if (ev->pull)
			ks_log_limited(KS_WARN, why, "GROUPKEY-PULL datagram from %s dropped: %s", ps, why);
		else
			ks_log_limited(KS_WARN, why, "datagram of %zu octets from %s dropped: %s", len, ps,
				       why);
		break;
	default:
		break;
	}
}

/* The group whose multicast rekey address to is: its socket sends it. */
static struct ks_group *mcast_group(struct ks *ks, const struct gdoi_addr *to)
{
	for (size_t i = 0; i < ks->ngroups; i++) {
		struct ks_group *g = ks->groups[i];
		const struct ks_group_cfg *c = g->cfg;
		if (c->mcast && g->mcast_open && c->mcast_addr.len == to->len && c->mcast_addr.port == to->port &&
		    !memcmp(c->mcast_addr.ip, to->ip, to->len))
			return g;
	}
	return NULL;
}

/* By the group's own sender (keyserver/mcast.c: its family, interface and hop limit). */
static void send_mcast(struct ks_group *g, const uint8_t *msg, size_t len, const struct gdoi_addr *to)
{
	struct sockaddr_storage ss;
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	int rc = dm_sockaddr_make(g->mcast_family, to->ip, to->len, to->port, &ss) ?
		 uv_udp_try_send(&g->mcast, &b, 1, (const struct sockaddr *)&ss) : UV_EAFNOSUPPORT;
	if (rc < 0)
		ks_log(KS_WARN, "group %s: multicast push failed: %s", g->cfg->name, uv_strerror(rc));
}

/* Replies first (in the order the engine queued them), then what they mean;
 * len: of the datagram being served (0 from the timer). */
static void drain(struct ks_registrar *r, size_t len)
{
	struct ks *ks = r->ks;
	struct gdoi_gcks *e = r->engine;
	struct gdoi_out o[GDOI_OUT_BATCH];
	size_t n;
	/* unicast by sendmmsg batches (a push to every member: one buffer for all) */
	while ((n = gdoi_gcks_next_outs(e, o, GDOI_OUT_BATCH))) {
		size_t from = 0;
		for (size_t i = 0; i < n; i++) {
			/* a worker's engine never pushes: unicast replies only */
			struct ks_group *g = !r->w && dm_addr_is_multicast(o[i].to.ip, o[i].to.len) ?
					     mcast_group(ks, &o[i].to) : NULL;
			if (!g)
				continue;
			ks_udpb_send(r->udpb, o + from, i - from, uv_now(r->loop));
			send_mcast(g, o[i].buf, o[i].len, &o[i].to);
			from = i + 1;
		}
		ks_udpb_send(r->udpb, o + from, n - from, uv_now(r->loop));
	}
	struct gdoi_gcks_event ev;
	while (gdoi_gcks_next_event(e, &ev))
		on_event(r, &ev, len);
	gdoi_wipe(&ev, sizeof(ev));
	if (r->held) {	/* since admit() */
		r->held = false;
		uv_mutex_unlock(&ks->lock);
	}
	if (r->w)
		ks_worker_publish(r->w, gdoi_gcks_stats(e), gdoi_gcks_sa_count(e));
	ks_registrar_arm(r);
}

/* ---- input ---------------------------------------------------------------------- */

void ks_registrar_input(struct ks_registrar *r, const uint8_t *msg, size_t len, const struct sockaddr *from)
{
	struct gdoi_addr peer = { 0 };
	/* an IPv4 peer of a dual-stack socket is IPv4 here (::ffff: unmapped), so its
	 * cookie, address-bound PSK and recorded address are those of an IPv4 socket */
	peer.len = (uint8_t)dm_sockaddr_split(from, peer.ip, &peer.port);
	if (!peer.len)
		return;
	if (r->ikev2 && gdoi_engine_classify(msg, len) == GDOI_FE_IKEV2) {
		ks_ikev2_input(r->ikev2, msg, len, &peer, now_of(r));
		if (ks_udpb_deadline(r->udpb))
			ks_registrar_arm(r);	/* some wait for room in the send buffer */
		return;
	}
	gdoi_gcks_input(r->engine, msg, len, &peer, now_of(r));
	drain(r, len);
}
