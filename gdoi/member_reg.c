/*
 * member_reg.c - how the member engine gets its keys: the Phase 1 SA pair
 * (the current SA and its renewal), failover across key servers with capped
 * exponential backoff and jitter, one GROUPKEY-PULL at a time, each group's
 * refusal backoff, re-registration before keys run out, and the one deadline
 * all of it comes down to.
 */
#include "member_int.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "numbers.h"

#define MAX_TRANSMITS 4
#define IDLE_WAKE_MS 60000	/* the deadline is never further than this */

/* Abandons registrations in progress (their SA is going away); they start again. */
void member_abort_pulls(struct gdoi_member *m)
{
	for (size_t i = 0; i < m->ngroups; i++) {
		struct member_group *g = &m->groups[i];
		if (g->pm) {
			gdoi_pull_member_free(g->pm);
			g->pm = NULL;
			g->want_register = true;
		}
	}
}

void member_drop_sa(struct gdoi_member *m, struct gdoi_p1_sa **sa, bool send_delete)
{
	if (!*sa)
		return;
	if (*sa == m->sa)
		member_abort_pulls(m);
	if (send_delete && gdoi_p1_established(*sa)) {
		struct gdoi_p1_result r = { 0 };
		if (gdoi_p1_send_delete(*sa, &r) == 0 && r.out)
			member_send(m, &r.out, r.out_len);
		gdoi_p1_result_clear(&r);
	}
	gdoi_p1_free(*sa);
	*sa = NULL;
}

static bool any_pull(const struct gdoi_member *m)
{
	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i].pm)
			return true;
	return false;
}

/* Near expiry (docs/sidecar.md): while a group that needs keys still holds a valid
 * one, no wait (retry delay, retransmission spacing) exceeds an eighth of the time left
 * before its last valid key ends, 250 ms at least, so that a key server coming back is
 * found before the keys run out. Returns that cap in ms, 0 when no group is in that state. */
#define NEAR_EXPIRY_FLOOR_MS 250
static uint64_t near_expiry_cap(const struct gdoi_member *m)
{
	int64_t wall = m->now.unix_s;
	uint64_t cap = 0;

	for (size_t i = 0; i < m->ngroups; i++) {
		const struct member_group *g = &m->groups[i];
		int64_t last = gdoi_member_teks_last_valid(&g->keys);
		uint64_t c;
		if (!g->want_register && !g->pm)
			continue;
		if (last <= wall)
			continue;
		c = (uint64_t)(last - wall) * 1000 / 8;
		if (c < NEAR_EXPIRY_FLOOR_MS)
			c = NEAR_EXPIRY_FLOOR_MS;
		if (!cap || c < cap)
			cap = c;
	}
	return cap;
}

static void select_ks(struct gdoi_member *m, size_t i)
{
	m->ks_index = i;
}

/* A failed attempt with the current key server: the next one at once, or, after a
 * whole round, the first one again after a capped exponential backoff with jitter
 * (no longer than the near-expiry cap allows). */
static void failed(struct gdoi_member *m, const char *why)
{
	const char *name = member_ks_name(m);
	uint64_t delay = 0, cap;

	struct gdoi_member_event *ev = member_event(m, GDOI_MEMBER_EV_FAILOVER, -1);

	if (ev)
		ev->ks = m->ks_index;
	m->stats.attempts_failed++;
	snprintf(m->ks_st[m->ks_index].last_error, sizeof m->ks_st[0].last_error, "%.150s", why);
	member_drop_sa(m, &m->sa_next, false);
	member_drop_sa(m, &m->sa, false);
	select_ks(m, (m->ks_index + 1) % m->nks);
	if (m->ks_index == 0) {
		unsigned shift = m->attempt < 20 ? m->attempt : 20;
		uint32_t r;
		m->attempt++;
		delay = (uint64_t)m->retry_min_ms << shift;
		if (delay > m->retry_max_ms)
			delay = m->retry_max_ms;
		cap = near_expiry_cap(m);
		if (cap && delay > cap)
			delay = cap;
		if (gdoi_random((uint8_t *)&r, sizeof r))
			r = 0x80000000u;
		delay = delay * 3 / 4 + (uint64_t)((double)delay / 2 * ((double)r / 4294967296.0));
	}
	m->retry_at = m->now.mono_ms + delay;
	member_log(m, GDOI_MEMBER_WARN, NULL,
		   "registration with %s failed: %s; next try with %s in %.1f s", name, why,
		   member_ks_name(m), (double)delay / 1000);
}

static void p1_start(struct gdoi_member *m, bool renewal)
{
	struct gdoi_p1_result r = { 0 };
	struct gdoi_p1_sa *sa = NULL;
	int rc;

	if (!m->ks[m->ks_index].len) {	/* a host name the application could not resolve */
		failed(m, "no address (host name not resolved)");
		return;
	}
	rc = gdoi_p1_initiate(&m->p1cfg, &m->ks[m->ks_index], m->now.mono_ms, &sa, &r);
	if (rc) {
		gdoi_p1_result_clear(&r);
		failed(m, gdoi_strerror(rc));
		return;
	}
	member_log(m, GDOI_MEMBER_INFO, NULL, "phase 1 %s with %s",
		   renewal ? "renewal started" : "started", member_ks_name(m));
	if (r.out)
		member_send(m, &r.out, r.out_len);
	gdoi_p1_result_clear(&r);
	if (renewal)
		m->sa_next = sa;
	else
		m->sa = sa;
}

/* The key server answered and refused this group: back off this group only; the SA
 * and the other groups carry on. */
static void group_refused(struct gdoi_member *m, struct member_group *g, const char *why)
{
	unsigned shift = g->attempts < 20 ? g->attempts : 20;
	uint64_t delay = (uint64_t)m->retry_min_ms << shift;

	if (delay > m->retry_max_ms)
		delay = m->retry_max_ms;
	if (g->pm) {
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
	}
	g->attempts++;
	g->stats.refusals++;
	g->retry_at = m->now.mono_ms + delay;
	member_log(m, GDOI_MEMBER_WARN, NULL,
		   "registration refused by %s: %s; group %s tries again in %.1f s",
		   member_ks_name(m), why, g->cfg.name, (double)delay / 1000);
}

void member_p1_result(struct gdoi_member *m, struct gdoi_p1_sa *sa, struct gdoi_p1_result *r)
{
	const char *name = member_ks_name(m);

	if (r->out)
		member_send(m, &r->out, r->out_len);
	switch (r->event) {
	case GDOI_P1_EV_ESTABLISHED: {
		const struct gdoi_p1_suite *s = gdoi_p1_suite(sa);
		m->stats.p1_established++;
		member_log(m, GDOI_MEMBER_INFO, NULL,
			   "phase 1 established with %s (enc %u/%u, hash %u, group %u, lifetime %u s)",
			   name, s->enc, s->key_bits, s->hash, s->group, (unsigned)s->lifetime);
		if (sa == m->sa_next) {
			/* renewal done: registrations in progress restart on the new SA */
			member_drop_sa(m, &m->sa, true);
			m->sa = m->sa_next;
			m->sa_next = NULL;
		}
		break;
	}
	case GDOI_P1_EV_FAILED:
		if (sa == m->sa_next) {
			member_log(m, GDOI_MEMBER_WARN, NULL,
				   "phase 1 renewal with %s failed: %s (the current SA stays)", name,
				   r->reason);
			member_drop_sa(m, &m->sa_next, false);
		} else {
			char why[200];
			snprintf(why, sizeof why, "phase 1: %s",
				 r->reason[0] ? r->reason : gdoi_strerror(r->err));
			failed(m, why);
		}
		break;
	case GDOI_P1_EV_REKEY:
		if (sa == m->sa && !m->sa_next) {
			member_log(m, GDOI_MEMBER_INFO, NULL,
				   "phase 1 with %s reaches its soft lifetime: renewing", name);
			p1_start(m, true);
		}
		break;
	case GDOI_P1_EV_EXPIRED:
	case GDOI_P1_EV_DELETED:
		member_log(m, GDOI_MEMBER_INFO, NULL, "phase 1 with %s %s", name,
			   r->event == GDOI_P1_EV_EXPIRED ? "expired" : "deleted by the key server");
		if (sa == m->sa) {
			member_drop_sa(m, &m->sa, false);
			m->sa = m->sa_next;
			m->sa_next = NULL;
		} else {
			member_drop_sa(m, &m->sa_next, false);
		}
		break;
	case GDOI_P1_EV_NOTIFY:
		/* Registrations run one at a time, so an error Notify under the SA while
		 * one is in progress is the key server's answer to it. */
		if (r->notify < GDOI_N_CONNECTED && sa == m->sa) {	/* 1..16383: errors */
			for (size_t i = 0; i < m->ngroups; i++)
				if (m->groups[i].pm) {
					char why[160];
					if (r->notify == GDOI_N_PRIVATE_UNAVAILABLE) {
						/* not about us: this key server cannot serve now (its
						 * state is unreachable, its disk full): the next one */
						snprintf(why, sizeof why, "group %.63s: the key server cannot serve "
							 "registrations now (Notify %s)", m->groups[i].cfg.name,
							 gdoi_notify_name(r->notify));
						failed(m, why);	/* drops the SA and its pulls */
						break;
					}
					snprintf(why, sizeof why, "group %.63s: Notify %u from the key server",
						 m->groups[i].cfg.name, (unsigned)r->notify);
					group_refused(m, &m->groups[i], why);
					break;
				}
		} else {
			member_log(m, GDOI_MEMBER_INFO, NULL, "key server %s notified %u", name,
				   (unsigned)r->notify);
		}
		break;
	default:
		break;
	}
	gdoi_p1_result_clear(r);
}

/* Keys delivered: the lifecycle's notes first, then the event, as they happened. */
static void registered(struct gdoi_member *m, struct member_group *g, struct gdoi_policy *p)
{
	struct gdoi_member_event reg = { .type = GDOI_MEMBER_EV_REGISTERED, .ks = m->ks_index,
					 .has_kek = p->has_kek };
	struct gdoi_notes notes = { 0 };
	size_t gi = (size_t)(g - m->groups);

	for (size_t i = 0; i < p->nteks; i++)
		reg.nteks += p->teks[i].kind == GDOI_TEK_SRTP || p->teks[i].kind == GDOI_TEK_REF_SRTP;
	reg.nsids = p->nsids < GDOI_MEMBER_MAX_SIDS ? p->nsids : GDOI_MEMBER_MAX_SIDS;
	memcpy(reg.sids, p->sids, reg.nsids * sizeof reg.sids[0]);
	reg.changed = gdoi_member_teks_registered(&g->keys, p, m->now.unix_s, &notes);
	member_notes(m, gi, &notes);
	struct gdoi_member_event *ev = member_event(m, GDOI_MEMBER_EV_REGISTERED, (int)gi);
	if (ev) {
		reg.group = ev->group;
		*ev = reg;
	}
	m->stats.registrations++;
	g->stats.registrations++;
}

void member_pull_result(struct gdoi_member *m, struct member_group *g, struct gdoi_pull_result *r)
{
	if (r->out)
		member_send(m, &r->out, r->out_len);
	if (r->event == GDOI_PULL_EV_INSTALLED) {
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
		g->want_register = false;
		g->attempts = 0;
		g->retry_at = 0;
		m->attempt = 0;
		m->ks_st[m->ks_index].last_ok = m->now.unix_s;
		m->ks_st[m->ks_index].last_error[0] = '\0';
		registered(m, g, r->policy);
		r->policy = NULL;
	} else if (r->event == GDOI_PULL_EV_FAILED) {
		char why[300];
		snprintf(why, sizeof why, "group %.63s: %.200s", g->cfg.name,
			 r->reason[0] ? r->reason : gdoi_strerror(r->err));
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
		if (r->notify && !r->teardown && r->notify != GDOI_N_PRIVATE_UNAVAILABLE) {
			group_refused(m, g, why);
		} else {
			/* No answer: a key server that restarted has forgotten our SA, or is
			 * down. Start afresh (next key server, backoff). */
			failed(m, why);
		}
	}
	gdoi_pull_result_clear(r);
}

static void pull_start(struct gdoi_member *m, struct member_group *g)
{
	struct gdoi_pull_member_cfg c = {
		.group_id = g->cfg.id,
		.sid_request = g->cfg.sid_request,
		.retransmit_ms = m->exchange_ms,
		.max_transmits = MAX_TRANSMITS,
	};
	struct gdoi_pull_result r = { 0 };
	int rc = gdoi_pull_member_start(m->sa, &c, m->now.mono_ms, &g->pm, &r);

	if (rc) {
		char why[300];
		snprintf(why, sizeof why, "group %.63s: %.200s", g->cfg.name,
			 r.reason[0] ? r.reason : gdoi_strerror(rc));
		gdoi_pull_result_clear(&r);
		failed(m, why);
		return;
	}
	member_log(m, GDOI_MEMBER_DEBUG, NULL, "group %s: registration started", g->cfg.name);
	member_pull_result(m, g, &r);
}

static void earliest(uint64_t *next, uint64_t t)
{
	if (t && (!*next || t < *next))
		*next = t;
}

/* When to register group g again without a push (monotonic ms), 0 = not needed. */
static uint64_t rereg_deadline(const struct gdoi_member *m, const struct member_group *g)
{
	int64_t due = gdoi_member_teks_rereg_due(&g->keys);

	if (!due)
		return 0;
	if (due <= m->now.unix_s)
		return m->now.mono_ms;
	return m->now.mono_ms + (uint64_t)(due - m->now.unix_s) * 1000;
}

/* Timers of the SA pair and the registrations in progress. */
static void run_timers(struct gdoi_member *m)
{
	uint64_t now = m->now.mono_ms;
	struct gdoi_p1_sa *sas[2] = { m->sa, m->sa_next };

	for (int i = 0; i < 2; i++) {
		uint64_t t;
		if (!sas[i] || (sas[i] != m->sa && sas[i] != m->sa_next))
			continue;	/* gone while handling the first */
		t = gdoi_p1_next_timer(sas[i]);
		if (t && t <= now) {
			struct gdoi_p1_result r = { 0 };
			gdoi_p1_timer(sas[i], now, &r);
			member_p1_result(m, sas[i], &r);
		}
	}
	for (size_t i = 0; i < m->ngroups; i++) {
		struct member_group *g = &m->groups[i];
		uint64_t t = g->pm ? gdoi_pull_member_next_timer(g->pm) : 0;
		if (t && t <= now) {
			struct gdoi_pull_result r = { 0 };
			gdoi_pull_member_timer(g->pm, now, &r);
			member_pull_result(m, g, &r);
		}
	}
}

/* TEK expiry and re-registration deadlines; true when a group wants registering. */
static bool keys_due(struct gdoi_member *m, uint64_t *next)
{
	uint64_t now = m->now.mono_ms;
	int64_t wall = m->now.unix_s;
	bool want = false;

	for (size_t i = 0; i < m->ngroups; i++) {
		struct member_group *g = &m->groups[i];
		struct gdoi_notes notes = { 0 };
		bool ch = false;
		int64_t exp = gdoi_member_teks_expire(&g->keys, wall, &ch, &notes);
		member_notes(m, i, &notes);
		if (ch)
			member_event(m, GDOI_MEMBER_EV_KEYS_CHANGED, (int)i);
		if (exp)
			earliest(next, now + (uint64_t)(exp - wall) * 1000);
		if (g->keys.pol && !g->want_register && !g->pm) {
			uint64_t d = rereg_deadline(m, g);
			if (d && d <= now) {
				member_log(m, GDOI_MEMBER_INFO, NULL,
					   "group %s: re-registering: keys run out soon and no push renewed them",
					   g->cfg.name);
				g->want_register = true;
			} else {
				earliest(next, d);
			}
		}
		want |= g->want_register && !g->cfg.elsewhere;
	}
	return want;
}

/* Phase 1 when there is none, then the next registration, one at a time. */
static void register_due(struct gdoi_member *m, uint64_t *next)
{
	uint64_t now = m->now.mono_ms;

	if (!m->sa) {
		if (now >= m->retry_at)
			p1_start(m, false);
		else
			earliest(next, m->retry_at);
	}
	if (m->sa && gdoi_p1_established(m->sa))
		for (size_t i = 0; i < m->ngroups && m->sa; i++) {
			struct member_group *g = &m->groups[i];
			if (g->want_register && !g->pm && !g->cfg.elsewhere) {
				if (any_pull(m))
					break;	/* one registration at a time */
				if (now >= g->retry_at)
					pull_start(m, g);
				else
					earliest(next, g->retry_at);
			}
		}
	if (!m->sa)
		earliest(next, m->retry_at > now ? m->retry_at : now + 1);
}

void member_service(struct gdoi_member *m)
{
	uint64_t now = m->now.mono_ms, next = 0, cap;

	if (m->stopped)
		return;
	run_timers(m);
	bool want = keys_due(m, &next);
	cap = near_expiry_cap(m);
	if (cap && m->retry_at > now + cap)
		m->retry_at = now + cap;
	if (want)
		register_due(m, &next);
	/* what was started or re-armed above, near expiry too */
	cap = near_expiry_cap(m);
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	if (m->sa)
		gdoi_p1_cap_retransmit(m->sa, now, (uint32_t)cap);
	if (m->sa_next)
		gdoi_p1_cap_retransmit(m->sa_next, now, (uint32_t)cap);
	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i].pm)
			gdoi_pull_member_cap_retransmit(m->groups[i].pm, now, (uint32_t)cap);
	if (m->sa)
		earliest(&next, gdoi_p1_next_timer(m->sa));
	if (m->sa_next)
		earliest(&next, gdoi_p1_next_timer(m->sa_next));
	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i].pm)
			earliest(&next, gdoi_pull_member_next_timer(m->groups[i].pm));
	if (!next || next > now + IDLE_WAKE_MS)
		next = now + IDLE_WAKE_MS;
	m->deadline = next;
}

void gdoi_member_timer(struct gdoi_member *m, struct gdoi_now now)
{
	m->now = now;
	member_service(m);
}

uint64_t gdoi_member_deadline(const struct gdoi_member *m)
{
	return m->deadline;
}
