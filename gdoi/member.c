/*
 * member.c - the group-member engine (member.h): the object, its queues,
 * the route of one datagram (member_route.c) to the Phase 1 SA pair, the
 * registration in progress or the group whose KEK a push names, the unknown-KEK
 * re-registration rule, the refusal counters, and the views an application
 * builds its snapshots and status from. Registration and the timer are in
 * member_reg.c.
 */
#include "member_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "member_route.h"
#include "numbers.h"
#include "push_ack.h"
#include "secret.h"

#define WANT_REGISTER_MIN_MS 1000	/* asked-for re-registrations, at most one per second */

static int64_t engine_unix_now(void *ctx)
{
	const struct gdoi_member *m = ctx;
	return m->now.unix_s;
}

static bool engine_peer_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth,
				const struct gdoi_addr *addr)
{
	const struct gdoi_member *m = ctx;
	return m->peer_allowed(m->peer_ctx, id, auth, addr);
}

static void addr_name(const struct gdoi_addr *a, bool port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (!a->len)
		snprintf(ip, sizeof ip, "(no address)");
	else if (a->len == 4 || a->len == 16)
		inet_ntop(a->len == 4 ? AF_INET : AF_INET6, a->ip, ip, sizeof ip);
	if (port)	/* [v6]:port, as configuration files write it */
		snprintf(buf, len, a->len == 16 ? "[%s]:%u" : "%s:%u", ip, (unsigned)a->port);
	else
		snprintf(buf, len, "%s", ip);
}

struct gdoi_member *gdoi_member_new(const struct gdoi_member_cfg *cfg)
{
	if (!cfg || !cfg->p1 || !cfg->nks || cfg->nks > GDOI_MEMBER_MAX_KS ||
	    cfg->ngroups > GDOI_MEMBER_MAX_GROUPS)
		return NULL;
	struct gdoi_member *m = gdoi_secret_calloc(sizeof(*m));
	if (!m)
		return NULL;
	m->p1cfg = *cfg->p1;
	m->p1cfg.unix_now = engine_unix_now;
	if (cfg->p1->peer_allowed) {
		m->peer_allowed = cfg->p1->peer_allowed;
		m->peer_ctx = cfg->p1->ctx;
		m->p1cfg.peer_allowed = engine_peer_allowed;
	}
	m->p1cfg.ctx = m;
	m->nks = cfg->nks;
	memcpy(m->ks, cfg->ks, sizeof m->ks);
	for (size_t i = 0; i < m->nks; i++)
		addr_name(&m->ks[i], true, m->ks_names[i], sizeof m->ks_names[i]);
	m->retry_min_ms = cfg->retry_min_ms;
	m->retry_max_ms = cfg->retry_max_ms;
	m->exchange_ms = cfg->exchange_ms;
	m->unknown_kek_rereg_s = cfg->unknown_kek_rereg_s;
	m->ngroups = cfg->ngroups;
	for (size_t i = 0; i < m->ngroups; i++) {
		m->groups[i].cfg = cfg->groups[i];
		m->groups[i].want_register = true;
	}
	return m;
}

void gdoi_member_shutdown(struct gdoi_member *m, struct gdoi_now now)
{
	m->now = now;
	m->stopped = true;
	member_abort_pulls(m);
	member_drop_sa(m, &m->sa_next, false);
	member_drop_sa(m, &m->sa, true);	/* tell the key server */
}

void gdoi_member_free(struct gdoi_member *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ngroups; i++) {
		gdoi_pull_member_free(m->groups[i].pm);
		gdoi_member_teks_clear(&m->groups[i].keys);
	}
	gdoi_p1_free(m->sa_next);
	gdoi_p1_free(m->sa);
	gdoi_outq_free(&m->out);
	gdoi_evq_free(&m->ev, sizeof(struct gdoi_member_event));
	gdoi_secret_free(m, sizeof(*m));
}

/* ---- queues -------------------------------------------------------------- */

/* Queues buf (taken over) for the current key server; when it cannot be queued it is
 * as if lost on the way: the exchange retransmits. */
void member_send(struct gdoi_member *m, uint8_t **buf, size_t len)
{
	gdoi_outq_push(&m->out, buf, len, &m->ks[m->ks_index]);
}

struct gdoi_member_event *member_event(struct gdoi_member *m, enum gdoi_member_event_type type,
				       int group)
{
	struct gdoi_member_event *ev = gdoi_evq_push(&m->ev, sizeof(*ev), MEMBER_EVENTS_MAX);

	if (!ev) {
		m->stats.events_lost++;
		return NULL;
	}
	ev->type = type;
	ev->group = group;
	return ev;
}

void member_log(struct gdoi_member *m, enum gdoi_member_level level, const char *limit_key,
		const char *fmt, ...)
{
	struct gdoi_member_event *ev = member_event(m, GDOI_MEMBER_EV_LOG, -1);
	va_list ap;

	if (!ev)
		return;
	ev->level = level;
	if (limit_key)
		snprintf(ev->limit_key, sizeof ev->limit_key, "%s", limit_key);
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof ev->text, fmt, ap);
	va_end(ap);
}

/* The TEK lifecycle's notes of a group, as log lines. */
void member_notes(struct gdoi_member *m, size_t group, const struct gdoi_notes *n)
{
	const char *name = m->groups[group].cfg.name;

	for (size_t i = 0; i < n->n; i++)
		member_log(m, GDOI_MEMBER_INFO, NULL, "group %s: %s", name, n->line[i]);
	if (n->lost)
		member_log(m, GDOI_MEMBER_INFO, NULL, "group %s: %u more key change(s) not logged", name,
			   n->lost);
}

const char *member_ks_name(const struct gdoi_member *m)
{
	return m->ks_names[m->ks_index];
}

bool gdoi_member_next_out(struct gdoi_member *m, struct gdoi_out *out)
{
	return gdoi_outq_next(&m->out, out);
}

bool gdoi_member_next_event(struct gdoi_member *m, struct gdoi_member_event *ev)
{
	return gdoi_evq_next(&m->ev, sizeof(*ev), ev);
}

/* ---- input ----------------------------------------------------------------- */

/* A refused datagram: counted by reason, one rate-limited line. */
static int refused(struct gdoi_member *m, enum gdoi_member_drop reason, int rc, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refused(struct gdoi_member *m, enum gdoi_member_drop reason, int rc, const char *key,
		   const char *fmt, ...)
{
	struct gdoi_member_event *ev = member_event(m, GDOI_MEMBER_EV_DROPPED, -1);
	va_list ap;

	m->stats.dropped[reason]++;
	if (ev) {
		ev->reason = reason;
		snprintf(ev->limit_key, sizeof ev->limit_key, "%s", key);
		va_start(ap, fmt);
		vsnprintf(ev->text, sizeof ev->text, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A datagram no part of the member takes, with the header field and offset when the
 * header itself was wrong. */
static int junk(struct gdoi_member *m, const struct gdoi_addr *from, enum gdoi_member_drop reason,
		const struct gdoi_member_route *r)
{
	char a[INET6_ADDRSTRLEN + 8];

	addr_name(from, false, a, sizeof a);
	if (r->err.code)
		return refused(m, reason, GDOI_ERR_VALUE, "junk",
			       "ignored a datagram from %s: %s: %s at offset %zu", a, r->why,
			       r->err.what, r->err.offset);
	return refused(m, reason, GDOI_ERR_NOT_FOUND, "junk", "ignored a datagram from %s: %s", a,
		       r->why);
}

/* After a push was applied. */
static void push_applied(struct gdoi_member *m, size_t group, bool changed)
{
	m->stats.pushes++;
	m->groups[group].stats.pushes_applied++;
	if (changed)
		member_event(m, GDOI_MEMBER_EV_KEYS_CHANGED, (int)group);
}

/* The RFC 8263 acknowledgement of push SEQ seq, under the KEK it came under,
 * naming us by our Phase 1 identity, to the key server we registered with. */
static void push_ack(struct gdoi_member *m, size_t group, const struct gdoi_kek_policy *kek,
		     uint32_t seq)
{
	struct member_group *g = &m->groups[group];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = gdoi_push_ack_build(kek->ack_method, kek, seq, &m->p1cfg.local_id, &buf, &len);

	if (rc) {
		member_log(m, GDOI_MEMBER_INFO, "push ack", "group %s: cannot acknowledge push SEQ %u: %s",
			   g->cfg.name, (unsigned)seq, gdoi_strerror(rc));
		return;
	}
	member_send(m, &buf, len);
	g->stats.acks_sent++;
}

/* A push under a KEK none of our groups holds means a missed KEK change or a key
 * server restart: register every group with a KEK again, at most once per
 * unknown_kek_rereg_s. */
static void unknown_kek(struct gdoi_member *m)
{
	int64_t now = m->now.unix_s;
	bool any = false;

	if (now - m->last_unknown_kek_rereg < (int64_t)m->unknown_kek_rereg_s)
		return;
	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i].keys.pol && m->groups[i].keys.pol->has_kek) {
			m->groups[i].want_register = true;
			any = true;
		}
	if (!any)
		return;
	m->last_unknown_kek_rereg = now;
	member_log(m, GDOI_MEMBER_INFO, NULL, "re-registering: a push under an unknown KEK means a "
		   "missed KEK change or a key server restart");
	member_drop_sa(m, &m->sa_next, false);
	member_drop_sa(m, &m->sa, false);
	m->retry_at = 0;
	member_service(m);
}

/*
 * A push of one of our groups. Its ACK (RFC 8263), when the group's KEK asks
 * for one, goes only for a push that came by unicast from the key server we
 * registered with: multicast pushes are not acknowledged (the key server
 * waits for ACKs from its unicast destinations only, and a multicast rekey
 * answered by every member at once would converge on the key server), and a
 * push from any other address gets no answer, so that a forged source cannot
 * turn us into a reflector. A duplicate of the last push applied under its KEK
 * (the key server resending because our first ACK was lost) is acknowledged
 * again and counted as a duplicate, a debug line rather than a refusal.
 */
static int push_input(struct gdoi_member *m, const uint8_t *msg, size_t len, bool mcast,
		      bool from_ks)
{
	const char *via = mcast ? "multicast" : "unicast";
	struct gdoi_kek_policy ack_kek;
	char why[200], key[96];

	for (size_t i = 0; i < m->ngroups; i++) {
		struct member_group *g = &m->groups[i];
		struct gdoi_notes notes = { 0 };
		bool changed = false;
		uint32_t seq = 0, last_seq = 0;
		/* Taken first: the push may replace or delete the KEK it came under. */
		bool ack = !mcast && from_ks &&
			   gdoi_member_teks_ack_kek(&g->keys, msg, len, &ack_kek, &last_seq);
		/* Ours when the cookies name its KEK (or the one it replaced): any refusal
		 * after that is this group's, with the core's reason. */
		why[0] = '\0';
		int rc = gdoi_member_teks_push(&g->keys, msg, len, m->now.unix_s, &changed, &seq, why,
					       sizeof why, &notes);
		if (rc == GDOI_ERR_NOT_FOUND && !why[0]) {
			if (ack)
				gdoi_wipe(&ack_kek, sizeof ack_kek);
			continue;
		}
		member_notes(m, i, &notes);
		if (rc == GDOI_ERR_REPLAY) {
			struct gdoi_member_event *ev = member_event(m, GDOI_MEMBER_EV_DROPPED, (int)i);
			g->stats.pushes_duplicate++;
			m->stats.dropped[GDOI_MEMBER_DROP_PUSH]++;
			if (ev) {
				ev->reason = GDOI_MEMBER_DROP_PUSH;
				ev->level = GDOI_MEMBER_DEBUG;
				/* counted always; logged rate-limited: replays on demand must not
				 * flood a -v log either */
				snprintf(ev->limit_key, sizeof ev->limit_key, "push %s duplicate", g->cfg.name);
				snprintf(ev->text, sizeof ev->text, "group %s: duplicate push via %s: %s",
					 g->cfg.name, via, why);
			}
		} else if (rc) {
			g->stats.pushes_refused[gdoi_err_slot(rc)]++;
			snprintf(key, sizeof key, "push %s %d", g->cfg.name, rc);
			refused(m, GDOI_MEMBER_DROP_PUSH, rc, key, "group %s: push via %s refused: %s%s%s",
				g->cfg.name, via, rc == GDOI_ERR_AUTH ? "bad signature" : gdoi_strerror(rc),
				why[0] ? ": " : "", why);
		} else {
			push_applied(m, i, changed);
		}
		if (ack && (!rc || (rc == GDOI_ERR_REPLAY && seq && seq == last_seq)))
			push_ack(m, i, &ack_kek, seq);
		if (ack)
			gdoi_wipe(&ack_kek, sizeof ack_kek);
		member_service(m);
		return rc;
	}
	refused(m, GDOI_MEMBER_DROP_UNKNOWN_KEK, GDOI_ERR_NOT_FOUND, "push unknown KEK",
		"push via %s refused: unknown KEK (no group of ours)", via);
	unknown_kek(m);
	return GDOI_ERR_NOT_FOUND;
}

static int pull_input(struct gdoi_member *m, const uint8_t *msg, size_t len,
		      const struct gdoi_member_route *rt)
{
	for (size_t i = 0; i < m->ngroups; i++) {
		struct member_group *g = &m->groups[i];
		if (!g->pm || gdoi_pull_member_msgid(g->pm) != rt->hdr.msgid)
			continue;
		struct gdoi_pull_result r = { 0 };
		int rc = gdoi_pull_member_input(g->pm, msg, len, m->now.mono_ms, &r);
		if (rc && r.event == GDOI_PULL_EV_NONE)
			refused(m, GDOI_MEMBER_DROP_PULL, rc, "pull input",
				"group %s: registration message refused: %s", g->cfg.name,
				r.reason[0] ? r.reason : gdoi_strerror(rc));
		member_pull_result(m, g, &r);
		member_service(m);
		return rc;
	}
	return GDOI_ERR_NOT_FOUND;
}

static int p1_input(struct gdoi_member *m, const uint8_t *msg, size_t len,
		    const struct gdoi_member_route *rt)
{
	struct gdoi_p1_sa *const sas[2] = { m->sa, m->sa_next };
	struct gdoi_p1_sa *sa = gdoi_member_route_sa(sas, 2, &rt->hdr);
	struct gdoi_p1_result r = { 0 };

	if (!sa)
		return GDOI_ERR_NOT_FOUND;
	int rc = gdoi_p1_input(sa, msg, len, m->now.mono_ms, &r);
	if (rc && r.event == GDOI_P1_EV_NONE)
		refused(m, GDOI_MEMBER_DROP_P1, rc, "p1 input", "phase 1 message refused: %s",
			r.reason[0] ? r.reason : gdoi_strerror(rc));
	member_p1_result(m, sa, &r);
	member_service(m);
	return rc;
}

static bool same_addr(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && a->port == b->port && !memcmp(a->ip, b->ip, a->len);
}

int gdoi_member_input(struct gdoi_member *m, const uint8_t *msg, size_t len,
		      const struct gdoi_addr *from, enum gdoi_member_via via, struct gdoi_now now)
{
	struct gdoi_member_route rt;
	bool mcast = via == GDOI_MEMBER_VIA_MULTICAST;
	bool from_ks = same_addr(from, &m->ks[m->ks_index]);
	int rc;

	m->now = now;
	m->stats.datagrams++;
	if (m->stopped)
		return GDOI_ERR_STATE;
	switch (gdoi_member_route(msg, len, mcast, from_ks, &rt)) {
	case GDOI_MEMBER_PUSH:
		return push_input(m, msg, len, mcast, from_ks);
	case GDOI_MEMBER_PULL:
		if ((rc = pull_input(m, msg, len, &rt)) != GDOI_ERR_NOT_FOUND)
			return rc;
		rt.why = "GROUPKEY-PULL for no exchange of ours";
		return junk(m, from, GDOI_MEMBER_DROP_NO_EXCHANGE, &rt);
	case GDOI_MEMBER_PHASE1:
		if ((rc = p1_input(m, msg, len, &rt)) != GDOI_ERR_NOT_FOUND)
			return rc;
		rt.why = "cookies of no SA of ours";
		return junk(m, from, GDOI_MEMBER_DROP_NO_SA, &rt);
	case GDOI_MEMBER_DROP:
		break;
	}
	/* from the key server on the unicast socket, only the header can be wrong */
	return junk(m, from, rt.err.code || (from_ks && !mcast) ? GDOI_MEMBER_DROP_HEADER :
		    GDOI_MEMBER_DROP_SOURCE, &rt);
}

int gdoi_member_want_register(struct gdoi_member *m, size_t group, struct gdoi_now now)
{
	if (group >= m->ngroups)
		return GDOI_ERR_INVALID_ARG;
	struct member_group *g = &m->groups[group];
	m->now = now;
	if (g->want_register || g->pm || (g->asked_at && now.mono_ms < g->asked_at + WANT_REGISTER_MIN_MS))
		return GDOI_ERR_STATE;
	g->asked_at = now.mono_ms;
	g->want_register = true;
	return 0;
}

int gdoi_member_group_elsewhere(struct gdoi_member *m, size_t group, bool elsewhere,
				struct gdoi_now now)
{
	if (group >= m->ngroups)
		return GDOI_ERR_INVALID_ARG;
	struct member_group *g = &m->groups[group];
	m->now = now;
	if (g->cfg.elsewhere == elsewhere)
		return 0;
	g->cfg.elsewhere = elsewhere;
	if (elsewhere && g->pm) {
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
	}
	if (!elsewhere) {	/* registers at the next gdoi_member_timer */
		g->want_register = true;
		g->retry_at = 0;
	}
	m->deadline = now.mono_ms;
	return 0;
}

/* ---- views ----------------------------------------------------------------- */

const struct gdoi_member_stats *gdoi_member_stats(const struct gdoi_member *m)
{
	return &m->stats;
}

const struct gdoi_member_group_stats *gdoi_member_group_stats(const struct gdoi_member *m,
							      size_t group)
{
	return group < m->ngroups ? &m->groups[group].stats : NULL;
}

const struct gdoi_member_teks *gdoi_member_group_teks(const struct gdoi_member *m, size_t group)
{
	return group < m->ngroups ? &m->groups[group].keys : NULL;
}

enum gdoi_member_group_state gdoi_member_group_state(const struct gdoi_member *m, size_t group)
{
	const struct member_group *g = &m->groups[group];

	return g->pm ? GDOI_MEMBER_GROUP_REGISTERING : g->want_register ? GDOI_MEMBER_GROUP_WAITING :
	       g->keys.pol ? GDOI_MEMBER_GROUP_REGISTERED : GDOI_MEMBER_GROUP_UNREGISTERED;
}

int64_t gdoi_member_group_next_registration(const struct gdoi_member *m, size_t group)
{
	const struct member_group *g = &m->groups[group];

	return g->want_register || g->pm ? 0 : gdoi_member_teks_rereg_due(&g->keys);
}

void gdoi_member_ks_status(const struct gdoi_member *m, size_t ks, struct gdoi_member_ks_status *st)
{
	*st = m->ks_st[ks];
	st->state = ks != m->ks_index ? GDOI_MEMBER_KS_STANDBY :
		    m->sa && gdoi_p1_established(m->sa) ? GDOI_MEMBER_KS_CONNECTED :
		    m->sa ? GDOI_MEMBER_KS_CONNECTING : GDOI_MEMBER_KS_IDLE;
}

static bool same_addr(const struct gdoi_addr *a, const struct gdoi_addr *b);

int gdoi_member_set_ks(struct gdoi_member *m, const struct gdoi_addr *ks, size_t nks,
		       size_t current, struct gdoi_now now)
{
	struct gdoi_member_ks_status st[GDOI_MEMBER_MAX_KS] = { 0 };
	bool moved;

	if (!nks || nks > GDOI_MEMBER_MAX_KS || current >= nks)
		return GDOI_ERR_INVALID_ARG;
	m->now = now;
	moved = !same_addr(&ks[current], &m->ks[m->ks_index]);
	for (size_t i = 0; i < nks; i++)
		for (size_t j = 0; j < m->nks; j++)
			if (ks[i].len && same_addr(&ks[i], &m->ks[j])) {
				st[i] = m->ks_st[j];
				break;
			}
	memset(m->ks, 0, sizeof m->ks);
	memcpy(m->ks, ks, nks * sizeof ks[0]);
	memcpy(m->ks_st, st, sizeof st);
	m->nks = nks;
	for (size_t i = 0; i < nks; i++)
		addr_name(&m->ks[i], true, m->ks_names[i], sizeof m->ks_names[i]);
	m->ks_index = current;
	if (moved) {	/* a new address: no exchange with the old one, no backoff for it */
		member_drop_sa(m, &m->sa_next, false);
		member_drop_sa(m, &m->sa, false);
		m->retry_at = 0;
	}
	m->deadline = now.mono_ms;	/* the application's next gdoi_member_timer acts on it */
	return 0;
}

size_t gdoi_member_nks(const struct gdoi_member *m)
{
	return m->nks;
}

size_t gdoi_member_ks_current(const struct gdoi_member *m)
{
	return m->ks_index;
}

void gdoi_member_ks_name(const struct gdoi_member *m, size_t ks, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ks < m->nks ? m->ks_names[ks] : "?");
}
