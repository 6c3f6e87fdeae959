/*
 * registrar_ikev2.c - the G-IKEv2 front end of the key server (RFC 9838):
 * IKEv2 datagrams arriving on the one registration port (registrar.c hands
 * them over by their header's version, gdoi_engine_classify) go to the
 * G-IKEv2 key-server engine (gdoi/gike2_gcks.h), with the callbacks that
 * make the same decisions as for GDOI:
 *   lookup       IDg names a group (ID_KEY_ID of its 4-octet id, as GDOI's
 *                group id, or its name) whose `protocols` include g-ikev2,
 *                the authenticated IKE identity is a configured member of it
 *                and not evicted; the group's current policy, the very
 *                struct gdoi_policy GROUPKEY-PULL hands out;
 *   assign_sids  may_send members get fresh, stored SSRCs (ks_group_assign_ssrcs);
 * and the member is recorded (ks_state_member_seen) as for GDOI.
 *   peer_allowed the authenticated IKE identity is a configured, non-evicted
 *                member (as registrar.c's for GDOI) that may use the method
 *                it authenticated by: a PSK its `psk`, a signature (RFC 7427,
 *                AUTH method 14, its certificate chained to [server] ca) its
 *                `auth = cert`;
 * PSK authentication with each member's configured key, signatures with the
 * registrar's certificate credentials ([server] certificate, private_key,
 * ca, loaded by registrar.c); each IKE SA is answered with the method its
 * initiator used (gdoi/ike2_auth.c). The IKE SA suites are the core's
 * defaults. Groups with a KEK and a multicast rekey address hand out their
 * Rekey SA (rekey_ikev2.c) and its GSA_REKEY signing key.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/addr.h"
#include "gdoi/err.h"
#include "gdoi/gike2_gcks.h"
#include "gdoi/ike2_numbers.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"
#include "keyserver/registrar_ikev2.h"
#include "keyserver/rekey_ikev2.h"

/* IKE SAs of registered members an engine keeps at least, by default */
#define KS_IKEV2_KEPT_MIN 4096

struct ks_ikev2 {
	struct ks *ks;
	uv_mutex_t *lock;		/* a worker's: the key server's lock; NULL on the main thread */
	uv_udp_t *udp;
	struct ks_udpb *udpb;		/* udp's sender (the registrar's) */
	struct gdoi_ike2_suite suites[16];
	struct gdoi_ike2_psk *psks;
	struct gdoi_ike2_config ike;
	struct gike2_gcks_engine_cfg ec;	/* the engine's, kept for a reload's adoption */
	struct gike2_gcks_engine *engine;
	struct gdoi_policy scratch;	/* the policy lent to the engine for one answer */
	struct gike2_rekey_sa rekey;	/* and the group's Rekey SA (rekey_ikev2.c) */
	struct ks_group *group;		/* of the lookup being answered */
	const struct ks_member_cfg *member;
};

static struct gdoi_now ikev2_now(struct ks_ikev2 *x);

static const struct ks_member_cfg *ikev2_member_of(struct ks *ks, const struct gdoi_ike2_id *id)
{
	/* IKEv2 ID types 1, 2, 3, 5, 11 are ISAKMP's (RFC 7296 §3.5, RFC 2407 §4.6.2.1) */
	return id ? ks_config_member_by_id(ks->cfg, id->type, id->data.ptr, id->data.len) : NULL;
}

static const char *ikev2_method_name(uint8_t method)
{
	return method == GDOI_IKE2_AUTH_DIGITAL_SIG ? "signature"
	       : method == GDOI_IKE2_AUTH_SHARED_KEY ? "PSK" : "?";
}

/* Whether a member with `address` authenticates by PSK from one of them. */
static bool ikev2_psk_addr_ok(const struct ks_member_cfg *m, const struct gdoi_addr *addr)
{
	for (size_t k = 0; k < m->naddrs; k++)
		if (m->addrs[k].len == addr->len && !memcmp(m->addrs[k].ip, addr->ip, addr->len))
			return true;
	return m->naddrs == 0;
}

/* The GDOI registrar's rules (registrar.c peer_allowed, and its PSKs bound to
 * a member's `address`), and the method: a member configured with a PSK only
 * may not come with a certificate, even one of our CA, nor an `auth = cert`
 * member without a PSK by PSK (the core finds no key for it). A blocked check
 * that cannot be made now lets the IKE SA up: the registration checks again
 * and answers TEMPORARY_FAILURE. */
static bool ikev2_peer_allowed(void *ctx, const struct gdoi_ike2_id *id, uint8_t method,
			       const struct gdoi_addr *addr)
{
	struct ks_ikev2 *x = ctx;
	char ids[300], where[64];
	const char *why = NULL;
	if (x->lock)
		uv_mutex_lock(x->lock);
	const struct ks_member_cfg *m = ikev2_member_of(x->ks, id);
	if (!m)
		why = "not a configured member";
	else if (method == GDOI_IKE2_AUTH_DIGITAL_SIG ? !m->cert : !m->psk)
		why = method == GDOI_IKE2_AUTH_DIGITAL_SIG ? "authenticated by a certificate, but its member "
							    "is not configured auth = cert"
							  : "authenticated by PSK, but its member has no psk";
	else if (method == GDOI_IKE2_AUTH_SHARED_KEY && !ikev2_psk_addr_ok(m, addr))
		why = "authenticated by PSK from an address that is not its member's";
	else if (ks_state_blocked_check(x->ks->st, m->name) == 1)
		why = "evicted";
	if (why) {
		ks_ident_format(id->type, id->data.ptr, id->data.len, ids, sizeof(ids));
		dm_addr_format(addr->ip, addr->len, addr->port, where, sizeof(where));
		ks_log_limited(KS_WARN, why, "G-IKEv2 from %s: %s%s%s(%s) %s: refused with "
			       "AUTHENTICATION_FAILED (similar refusals rate-limited)", where,
			       m ? "member " : "", m ? m->name : "", m ? " " : "", ids, why);
	}
	if (x->lock)
		uv_mutex_unlock(x->lock);
	return why == NULL;
}

static int64_t ikev2_unix_now(void *ctx)
{
	(void)ctx;
	return ks_unix_now();
}

static struct ks_group *ikev2_group_of(struct ks *ks, const struct gike2_idg *idg)
{
	if (idg->id_type == GIKE2_ID_KEY_ID && idg->data.len == 4) {
		const uint8_t *d = idg->data.ptr;
		struct ks_group *g = ks_find_group(ks, (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
							   (uint32_t)d[2] << 8 | d[3]);
		if (g)
			return g;
	}
	char ref[65];
	if (idg->data.len >= sizeof(ref))
		return NULL;
	memcpy(ref, idg->data.ptr, idg->data.len);
	ref[idg->data.len] = '\0';
	return ks_find_group_ref(ks, ref);
}

static int ikev2_lookup_locked(struct ks_ikev2 *x, const struct gike2_idg *idg,
			 const struct gdoi_ike2_id *id, const struct gdoi_addr *peer, struct gike2_gcks *k)
{
	struct ks_group *g = ikev2_group_of(x->ks, idg);
	if (!g || !ks_group_speaks(g->cfg, KS_PROTO_GIKEV2))
		return GDOI_ERR_NOT_FOUND;
	const struct ks_member_cfg *m = ikev2_member_of(x->ks, id);
	int blocked = m && ks_member_in_group(m, g->id) ? ks_state_blocked_check(x->ks->st, m->name) : 1;
	if (blocked < 0) {	/* the state cannot be read now: TEMPORARY_FAILURE, not "not a member" */
		snprintf(k->why, sizeof(k->why), "the key server cannot serve registrations now (state unreachable)");
		return GDOI_ERR_UNAVAILABLE;
	}
	if (blocked) {
		snprintf(k->why, sizeof(k->why), "not a member of group %s", g->cfg->name);
		return GDOI_ERR_NOT_AUTHORIZED;
	}
	if (!g->leader && ks_cluster_reload(g))
		return GDOI_ERR_UNAVAILABLE;	/* the shared state cannot be read now */
	char ids[300], where[64];
	ks_ident_format(id->type, id->data.ptr, id->data.len, ids, sizeof(ids));
	dm_addr_format(peer->ip, peer->len, peer->port, where, sizeof(where));
	if (ks_state_member_seen(x->ks->st, g->id, m->name, ids, where, true, ks_unix_now())) {
		ks_log(KS_ERR, "group %s: member %s (%s): cannot record the G-IKEv2 registration (state "
		       "storage failed): refused", g->cfg->name, m->name, ids);
		return GDOI_ERR_STATE;
	}
	ks_group_build_policy(g, ks_unix_now());
	gdoi_policy_clear(&x->scratch);
	memcpy(&x->scratch, &g->pol, sizeof(x->scratch));
	x->scratch.nsids = 0;
	x->group = g;
	x->member = m;
	k->policy = &x->scratch;
	gike2_rekey_sa_clear(&x->rekey);
	unsigned how = ks_group_gikev2_rekey(g->cfg);
	k->tag = g->id;
	k->inband = (how & KS_GIKEV2_REKEY_INBAND) != 0;
	if ((how & KS_GIKEV2_REKEY_MULTICAST) && g->cfg->mcast && g->rec.has_kek &&
	    !ks_ikev2_rekey_sa(g, &g->pol.kek, g->rec.seq + 1, &x->rekey)) {
		k->rekey = &x->rekey;
		k->signer = g->sign_key;
	}
	k->max_sids = m->may_send ? m->max_ssrcs : 0;
	return 0;
}

static int ikev2_lookup(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *id,
		  const struct gdoi_addr *peer, struct gike2_gcks *k)
{
	struct ks_ikev2 *x = ctx;
	if (x->lock)
		uv_mutex_lock(x->lock);
	x->group = NULL;
	int rc = ikev2_lookup_locked(x, idg, id, peer, k);
	if (x->lock)
		uv_mutex_unlock(x->lock);
	return rc;
}

static int ikev2_assign_sids(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *id,
		       uint32_t count, uint32_t *sids, size_t cap, size_t *n)
{
	struct ks_ikev2 *x = ctx;
	(void)idg;
	(void)id;
	*n = 0;
	if (!x->group || !x->member)
		return GDOI_ERR_STATE;
	if (!x->member->may_send)
		return GDOI_ERR_NOT_AUTHORIZED;
	if (count > cap)
		count = (uint32_t)cap;
	if (x->lock)
		uv_mutex_lock(x->lock);
	int rc = ks_group_assign_ssrcs(x->group, x->member->name, count, sids, n) ? GDOI_ERR_STATE : 0;
	if (x->lock)
		uv_mutex_unlock(x->lock);
	return rc;
}

int ks_ikev2_new(struct ks *ks, uv_udp_t *udp, struct ks_udpb *udpb, uv_mutex_t *lock,
		 const struct ks_ikev2_cred *cred, struct ks_ikev2 **out)
{
	const struct ks_config *c = ks->cfg;
	*out = NULL;
	bool any = false;
	for (size_t i = 0; i < c->ngroups; i++)
		any |= ks_group_speaks(&c->groups[i], KS_PROTO_GIKEV2);
	if (!any)
		return 0;	/* no group speaks G-IKEv2: IKEv2 datagrams stay refused */
	struct ks_ikev2 *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->ks = ks;
	x->lock = lock;
	x->udp = udp;
	x->udpb = udpb;
	x->psks = calloc(c->nmembers ? c->nmembers : 1, sizeof(*x->psks));
	if (!x->psks) {
		free(x);
		return -1;
	}
	size_t np = 0;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct ks_member_cfg *m = &c->members[i];
		if (m->psk)
			x->psks[np++] = (struct gdoi_ike2_psk){
				{ m->id.type, GDOI_BYTES(m->id.data, m->id.len) },
				GDOI_BYTES(m->psk, m->psk_len) };
	}
	x->ike = (struct gdoi_ike2_config){
		.suites = x->suites,
		.nsuites = gdoi_ike2_suites_default(x->suites, sizeof(x->suites) / sizeof(x->suites[0])),
		.local_id = { c->local_id.type, GDOI_BYTES(c->local_id.data, c->local_id.len) },
		.psks = x->psks, .npsks = np, .fragmentation = true,
		.cookie_threshold = c->gikev2_cookie_threshold,
		.peer_allowed = ikev2_peer_allowed, .unix_now = ikev2_unix_now, .ctx = x };
	if (cred && cred->key && cred->cert.len) {	/* borrowed from the registrar */
		x->ike.key = cred->key;
		x->ike.cert = cred->cert;
		x->ike.trust = cred->trust;
	}
	/* every configured member can keep its IKE SA: an engine that kept fewer
	 * would leave the rest without GSA_INBAND_REKEY */
	size_t kept = c->gikev2_max_sas ? c->gikev2_max_sas
					: (c->nmembers > KS_IKEV2_KEPT_MIN ? c->nmembers : KS_IKEV2_KEPT_MIN);
	x->ec = (struct gike2_gcks_engine_cfg){ .ike = &x->ike, .lookup = ikev2_lookup,
						.assign_sids = ikev2_assign_sids, .ctx = x,
						.max_kept = kept, .sa_lifetime_s = c->gikev2_sa_lifetime };
	uv_update_time(ks->loop);
	x->engine = gike2_gcks_engine_new(&x->ec, (struct gdoi_now){ uv_now(ks->loop), ks_unix_now() });
	if (!x->engine) {
		ks_ikev2_free(x);
		return -1;
	}
	*out = x;
	return 0;
}

/* A member's IKE SA survives a reload if the member is still configured, not
 * evicted, and (for a kept registration) still in the group it registered for. */
static bool ikev2_still_allowed(void *ctx, const struct gdoi_ike2_id *id, uint64_t tag)
{
	struct ks_ikev2 *x = ctx;
	const struct ks_member_cfg *m = ikev2_member_of(x->ks, id);
	if (!m || (tag && !ks_member_in_group(m, (uint32_t)tag)))
		return false;
	return ks_state_blocked_check(x->ks->st, m->name) != 1;
}

void ks_ikev2_adopt(struct ks_ikev2 *x, struct ks_ikev2 *old)
{
	if (!x || !old || !old->engine || gike2_gcks_engine_reconfigure(old->engine, &x->ec))
		return;	/* no G-IKEv2 any more: the old engine goes with old */
	gike2_gcks_engine_free(x->engine);
	x->engine = old->engine;
	old->engine = NULL;
	/* no GSA_INBAND_REKEY for a member the new configuration took out */
	size_t gone = gike2_gcks_engine_prune(x->engine, ikev2_still_allowed, x,
					      "member no longer in the configuration (reload): IKE SA deleted",
					      ikev2_now(x));
	ks_log(KS_INFO, "reload: G-IKEv2 keeps %zu IKE SA(s) (%zu kept for GSA_INBAND_REKEY), %zu deleted",
	       gike2_gcks_engine_sa_count(x->engine) - gone, gike2_gcks_engine_kept(x->engine), gone);
}

void ks_ikev2_free(struct ks_ikev2 *x)
{
	if (!x)
		return;
	gike2_gcks_engine_free(x->engine);
	free(x->psks);	/* keys point into the configuration */
	gdoi_policy_clear(&x->scratch);
	gike2_rekey_sa_clear(&x->rekey);
	free(x);
}

static void ikev2_on_event(struct ks_ikev2 *x, const struct gike2_gcks_event *ev)
{
	char where[64];
	dm_addr_format(ev->peer.ip, ev->peer.len, ev->peer.port, where, sizeof(where));
	switch (ev->type) {
	case GIKE2_GCKS_EV_REGISTERED:
		if (x->group)
			x->ks->registrations++;
		ks_log(KS_INFO, "group %s: member %s (%s) registered by G-IKEv2 %s, %zu SSRC(s), "
		       "authenticated by %s", x->group ? x->group->cfg->name : "?",
		       x->member ? x->member->name : "?", where,
		       ev->exchange == GIKE2_EXCH_GSA_AUTH ? "GSA_AUTH" : "GSA_REGISTRATION", ev->nsids,
		       ikev2_method_name(ev->auth_method));
		break;
	case GIKE2_GCKS_EV_REFUSED:
		ks_log(KS_WARN, "G-IKEv2 registration from %s (%s) refused, notify %u: %s", where, ev->id,
		       ev->notify, ev->reason);
		break;
	case GIKE2_GCKS_EV_FAILED:	/* an unauthenticated peer repeats these at will */
		ks_log_limited(KS_WARN, ev->reason, "G-IKEv2 from %s: IKE SA failed (notify %u): %s "
			       "(similar failures rate-limited)", where, ev->notify, ev->reason);
		break;
	case GIKE2_GCKS_EV_DELETED:
		ks_log(KS_INFO, "G-IKEv2 member %s (%s) deleted its IKE SA", where, ev->id);
		break;
	case GIKE2_GCKS_EV_INBAND_ANSWERED:
		ks_log(ev->notify ? KS_WARN : KS_DEBUG, "G-IKEv2 member %s (%s) answered GSA_INBAND_REKEY%s%.0u",
		       where, ev->id, ev->notify ? " with error notify " : "", ev->notify);
		break;
	case GIKE2_GCKS_EV_ESTABLISHED:
		ks_log(KS_INFO, "G-IKEv2 member %s (%s) authenticated by %s: IKE SA established by "
		       "IKE_AUTH, no group yet", where, ev->id, ikev2_method_name(ev->auth_method));
		break;
	case GIKE2_GCKS_EV_SA_CLOSED:
		ks_log(KS_INFO, "G-IKEv2 member %s (%s): %s", where, ev->id, ev->reason);
		break;
	default:
		ks_log_limited(KS_WARN, ev->reason, "G-IKEv2 datagram from %s dropped: %s", where,
			       ev->reason);
		break;
	}
}

/* What the engine queued: datagrams out, then its events. */
static void ikev2_flush(struct ks_ikev2 *x)
{
	/* GSA_INBAND_REKEY to every member is one datagram an IKE SA (each its own
	 * encryption): sendmmsg batches of them */
	struct gdoi_out o[GDOI_OUT_BATCH];
	size_t n;
	while ((n = gike2_gcks_engine_next_outs(x->engine, o, GDOI_OUT_BATCH)))
		ks_udpb_send(x->udpb, o, n, uv_now(x->udp->loop));
	struct gike2_gcks_event ev;
	if (x->lock)
		uv_mutex_lock(x->lock);
	while (gike2_gcks_engine_next_event(x->engine, &ev))
		ikev2_on_event(x, &ev);
	if (x->lock)
		uv_mutex_unlock(x->lock);
}

void ks_ikev2_input(struct ks_ikev2 *x, const uint8_t *msg, size_t len, const struct gdoi_addr *peer,
		    struct gdoi_now now)
{
	gike2_gcks_engine_input(x->engine, msg, len, peer, now);
	ikev2_flush(x);
	/* The SAs' timers walk every SA: when one is due, not at every datagram
	 * (the engine keeps the deadline within a second while it holds SAs). */
	uint64_t due = gike2_gcks_engine_deadline(x->engine);
	if (due && due <= now.mono_ms)
		ks_ikev2_timer(x, now);
}

void ks_ikev2_timer(struct ks_ikev2 *x, struct gdoi_now now)
{
	if (!x)
		return;
	gike2_gcks_engine_timer(x->engine, now);
	ikev2_flush(x);
}

uint64_t ks_ikev2_deadline(const struct ks_ikev2 *x)
{
	return x ? gike2_gcks_engine_deadline(x->engine) : 0;
}

/* The clock of the loop this engine runs on (a worker's own). */
static struct gdoi_now ikev2_now(struct ks_ikev2 *x)
{
	uv_update_time(x->udp->loop);
	return (struct gdoi_now){ uv_now(x->udp->loop), ks_unix_now() };
}

int ks_ikev2_inband(struct ks_ikev2 *x, struct ks_group *g, const struct gdoi_push_delete *dels,
		    size_t ndels)
{
	unsigned how = ks_group_gikev2_rekey(g->cfg);
	if (!x || !ks_group_speaks(g->cfg, KS_PROTO_GIKEV2) || !(how & KS_GIKEV2_REKEY_INBAND))
		return 0;
	uint32_t del[GDOI_PUSH_MAX_DELETES];
	size_t nd = 0;
	for (size_t i = 0; i < ndels && nd < GDOI_PUSH_MAX_DELETES; i++)
		if (!dels[i].all)
			del[nd++] = dels[i].spi;
	if (x->lock)	/* a worker's: the group's policy and keys are the main thread's */
		uv_mutex_lock(x->lock);
	gdoi_policy_clear(&x->scratch);
	memcpy(&x->scratch, &g->pol, sizeof(x->scratch));
	x->scratch.nsids = 0;	/* each member keeps its own Sender-IDs */
	gike2_rekey_sa_clear(&x->rekey);
	bool rekey = (how & KS_GIKEV2_REKEY_MULTICAST) && g->cfg->mcast && g->rec.has_kek &&
		     !ks_ikev2_rekey_sa(g, &g->pol.kek, g->rec.seq + 1, &x->rekey);
	struct gike2_gcks_inband r = { .tag = g->id, .policy = &x->scratch,
				       .rekey = rekey ? &x->rekey : NULL, .signer = g->sign_key,
				       .del = del, .ndel = nd };
	int n = gike2_gcks_engine_inband_rekey(x->engine, &r, ikev2_now(x));
	gdoi_policy_clear(&x->scratch);
	if (n < 0)
		ks_log(KS_ERR, "group %s: GSA_INBAND_REKEY not built: %s", g->cfg->name, gdoi_strerror(n));
	else
		ks_log(KS_INFO, "group %s: GSA_INBAND_REKEY (%zu TEK(s), %zu deleted%s) to %d member(s)",
		       g->cfg->name, g->pol.nteks, nd, rekey ? ", Rekey SA" : "", n);
	if (x->lock)
		uv_mutex_unlock(x->lock);
	ikev2_flush(x);	/* takes the lock itself for the events */
	return n;
}

size_t ks_ikev2_evict(struct ks_ikev2 *x, const struct ks_member_cfg *m)
{
	if (!x || !m)
		return 0;
	struct gdoi_ike2_id id = { m->id.type, GDOI_BYTES(m->id.data, m->id.len) };
	size_t n = gike2_gcks_engine_delete_peer(x->engine, &id, ikev2_now(x));
	ikev2_flush(x);
	return n;
}

/* Shutdown (docs/keyserver.md): each established IKE SA's INFORMATIONAL Delete, sent
 * once, best effort: a full socket buffer is waited for at most KS_IKEV2_DELETE_MS in
 * all; no answer is awaited. One line for all, not one per member. */
size_t ks_ikev2_shutdown(struct ks_ikev2 *x)
{
	if (!x)
		return 0;
	size_t n = gike2_gcks_engine_delete_all(x->engine, ikev2_now(x)), unsent = 0;
	uint64_t until = uv_hrtime() / 1000000 + KS_IKEV2_DELETE_MS;
	uv_os_fd_t fd = -1;
	struct gdoi_out o;
	uv_fileno((uv_handle_t *)x->udp, &fd);
	while (gike2_gcks_engine_next_out(x->engine, &o)) {
		struct sockaddr_storage sa;
		uv_buf_t b = uv_buf_init((char *)o.buf, (unsigned)o.len);
		int rc = dm_sockaddr_make(x->ks->udp_family, o.to.ip, o.to.len, o.to.port, &sa)
				 ? UV_EAGAIN : UV_EAFNOSUPPORT;
		for (;;) {
			if (rc == UV_EAGAIN)
				rc = uv_udp_try_send(x->udp, &b, 1, (const struct sockaddr *)&sa);
			uint64_t now = uv_hrtime() / 1000000;
			if (rc != UV_EAGAIN || now >= until)
				break;
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			(void)poll(&p, 1, (int)(until - now));
		}
		unsent += rc < 0;
	}
	if (n)
		ks_log(KS_INFO, "shutdown: INFORMATIONAL Delete sent for %zu G-IKEv2 IKE SA(s)%s%.0zu",
		       n - unsent, unsent ? ", not sent (socket full): " : "", unsent);
	return n;
}
