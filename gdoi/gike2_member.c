/*
 * gike2_member.c - the G-IKEv2 group-member engine (gike2_member.h).
 */
#include "gike2_member.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "arena.h"
#include "crypto.h"
#include "engine_queue.h"
#include "gike2_numbers.h"
#include "ike2_numbers.h"
#include "pull.h"
#include "secret.h"
#include "sign.h"

#define MEMBER_EVENTS_MAX 256
#define IKE2_EXCH_OFF 18	/* SPIi, SPIr, Next Payload, Version: RFC 7296 §3.1 */

struct gike2_member {
	struct gike2_member_cfg cfg;
	uint8_t idg[64];
	struct gdoi_ike2_config ike;
	struct gike2_gm gm;
	struct gdoi_ike2_sa *sa;
	enum gdoi_member_group_state state;
	uint64_t next_try, backoff_ms;
	/* the IKE SA deleted by the GCKS soon after each registration (a GCKS
	 * over its limit of kept SAs): registering again backs off */
	uint64_t registered_ms, rejoin_backoff_ms;
	uint64_t rejoin_not_before;	/* that backoff's end (monotonic ms) */
	struct gdoi_member_teks teks;
	struct gdoi_member_stats stats;
	struct gdoi_member_group_stats gstats;	/* the group's, as the GDOI engine counts them */
	struct gdoi_outq outq;
	struct gdoi_evq evq;
	/* the GSA_INBAND_REKEY just answered (inband_request), for after_ike */
	bool inband, inband_excluded;
	bool rejoin;	/* registered, IKE SA deleted by the GCKS, no Rekey SA: register again */
	bool heard;	/* this attempt's key server answered in IKEv2 */
	bool last_heard;	/* and the last failed attempt's */
	uint16_t last_notify;	/* the last failed attempt's error notify (0: none) */
	char inband_why[160];
};

static struct gdoi_member_event *event(struct gike2_member *m, enum gdoi_member_event_type t,
				       enum gdoi_member_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct gdoi_member_event *event(struct gike2_member *m, enum gdoi_member_event_type t,
				       enum gdoi_member_level lvl, const char *fmt, ...)
{
	struct gdoi_member_event *ev = gdoi_evq_push(&m->evq, sizeof(*ev), MEMBER_EVENTS_MAX);
	if (!ev) {
		m->stats.events_lost++;
		return NULL;
	}
	ev->type = t;
	ev->level = lvl;
	ev->group = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
	return ev;
}

static void notes_out(struct gike2_member *m, const struct gdoi_notes *n)
{
	for (size_t i = 0; i < n->n && i < GDOI_NOTES_MAX; i++)
		event(m, GDOI_MEMBER_EV_LOG, GDOI_MEMBER_INFO, "%s: %s", m->cfg.name, n->line[i]);
}

static void dropped(struct gike2_member *m, enum gdoi_member_drop why, const char *what,
		    const char *detail)
{
	m->stats.dropped[why]++;
	struct gdoi_member_event *ev = event(m, GDOI_MEMBER_EV_DROPPED, GDOI_MEMBER_DEBUG,
					     "%s: %s%s", m->cfg.name, what, detail);
	if (ev) {
		ev->reason = why;
		snprintf(ev->limit_key, sizeof(ev->limit_key), "gike2 %.40s drop %d", m->cfg.name, (int)why);
	}
}

/*
 * A request from the GCKS on the IKE SA (the member is the responder of
 * these exchanges, RFC 9838 §2.4.2~): GSA_INBAND_REKEY is applied as a
 * GSA_REKEY is, with keys under the IKE SA's GSK_w, and answered with an
 * empty SK{}; a liveness INFORMATIONAL is answered empty too. The core has
 * checked the Message ID (a retransmission gets the cached answer, a wrong
 * one is dropped) and the ICV before this runs.
 */
static int inband_request(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			  const struct gdoi_ike2_payload *in, size_t nin,
			  struct gdoi_ike2_plist *out, uint16_t *notify)
{
	struct gike2_member *m = gdoi_ike2_user(sa);
	(void)ctx;
	(void)out;
	if (exchange == GDOI_IKE2_EXCH_INFORMATIONAL)
		return 0;
	if (exchange != GIKE2_EXCH_GSA_INBAND_REKEY || !m) {
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		return GDOI_ERR_UNSUPPORTED;
	}
	m->inband = true;
	m->inband_excluded = false;
	m->inband_why[0] = '\0';
	if (!m->gm.registered) {
		snprintf(m->inband_why, sizeof(m->inband_why), "not registered");
		*notify = GIKE2_N_REGISTRATION_FAILED;
		return GDOI_ERR_STATE;
	}
	uint8_t w[GIKE2_KWK_MAX];
	size_t wl = 0;
	struct gike2_rekey_sa next;
	struct gdoi_key *key = NULL;
	bool has_next = false, excluded = false;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl *pl = a ? gdoi_arena_calloc(a, nin ? nin : 1, sizeof(*pl)) : NULL;
	memset(&next, 0, sizeof(next));
	int rc = pl ? gike2_ike_gsk_w(sa, w, &wl) : GDOI_ERR_NOMEM;
	for (size_t i = 0; rc == 0 && i < nin; i++)
		pl[i] = (struct gike2_pl){ in[i].type, in[i].critical, in[i].body };
	if (rc == 0)
		rc = gike2_inband_content_apply(pl, nin, GDOI_BYTES(w, wl), a, &m->gm.policy, &next,
						&has_next, &key, &excluded, m->inband_why,
						sizeof(m->inband_why));
	else
		snprintf(m->inband_why, sizeof(m->inband_why), "%s", gdoi_strerror(rc));
	OPENSSL_cleanse(w, sizeof(w));
	gdoi_arena_free(a);
	if (rc) {
		*notify = GDOI_IKE2_N_INVALID_SYNTAX;
		return rc;
	}
	if (has_next) {
		gike2_rekey_sa_clear(&m->gm.rekey);
		m->gm.rekey = next;
		m->gm.has_rekey = true;
		if (key) {
			gdoi_key_free(m->gm.gcks_key);
			m->gm.gcks_key = key;
		}
	} else {
		gdoi_key_free(key);
	}
	m->inband_excluded = excluded;
	return 0;
}

static bool install_rekey(struct gike2_member *m, struct gdoi_now now);

/* After the GCKS's GSA_INBAND_REKEY was answered: the TEK set, and the events
 * a GSA_REKEY gives. */
static void inband_done(struct gike2_member *m, struct gdoi_now now)
{
	m->inband = false;
	if (m->inband_why[0]) {
		m->gstats.pushes_refused[gdoi_err_slot(GDOI_ERR_VALUE)]++;
		dropped(m, GDOI_MEMBER_DROP_PUSH, "GSA_INBAND_REKEY refused: ", m->inband_why);
		return;
	}
	m->stats.pushes++;
	m->gstats.pushes_applied++;
	if (m->inband_excluded) {
		event(m, GDOI_MEMBER_EV_LOG, GDOI_MEMBER_WARN,
		      "%s: GSA_INBAND_REKEY removed this member from the group", m->cfg.name);
		gdoi_member_teks_clear(&m->teks);
		gike2_gm_clear(&m->gm);
		m->state = GDOI_MEMBER_GROUP_UNREGISTERED;
		event(m, GDOI_MEMBER_EV_KEYS_CHANGED, GDOI_MEMBER_INFO, "%s: keys withdrawn",
		      m->cfg.name);
		return;
	}
	/* the same TEK times and order as a GSA_REKEY (or a GDOI push) gives */
	bool ch = install_rekey(m, now);
	event(m, ch ? GDOI_MEMBER_EV_KEYS_CHANGED : GDOI_MEMBER_EV_LOG, GDOI_MEMBER_INFO,
	      "%s: GSA_INBAND_REKEY applied (%zu TEKs)%s", m->cfg.name, m->gm.policy.nteks,
	      ch ? "" : ", nothing changed");
}

struct gike2_member *gike2_member_new(const struct gike2_member_cfg *cfg)
{
	if (!cfg || !cfg->ike || cfg->group.data.len > sizeof(((struct gike2_member *)0)->idg) ||
	    cfg->sid_request > GDOI_MEMBER_MAX_SIDS)
		return NULL;
	struct gike2_member *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (!m->cfg.retry_min_ms)
		m->cfg.retry_min_ms = 1000;
	if (!m->cfg.retry_max_ms)
		m->cfg.retry_max_ms = 30000;
	memcpy(m->idg, cfg->group.data.ptr, cfg->group.data.len);
	m->gm.rq.idg = (struct gike2_idg){ cfg->group.id_type, GDOI_BYTES(m->idg, cfg->group.data.len) };
	m->gm.rq.senders = cfg->sid_request;
	m->ike = *cfg->ike;
	gike2_gm_attach(&m->gm, &m->ike);
	m->ike.hooks.request = inband_request;
	m->state = GDOI_MEMBER_GROUP_WAITING;
	return m;
}

void gike2_member_free(struct gike2_member *m)
{
	if (!m)
		return;
	gdoi_ike2_free(m->sa);
	gike2_gm_clear(&m->gm);
	gdoi_member_teks_clear(&m->teks);
	gdoi_outq_free(&m->outq);
	gdoi_evq_free(&m->evq, sizeof(struct gdoi_member_event));
	free(m);
}

static void queue_result(struct gike2_member *m, struct gdoi_ike2_result *r)
{
	for (size_t i = 0; i < r->nout; i++)
		(void)gdoi_outq_push(&m->outq, &r->out[i], r->out_len[i], &m->cfg.ks);
	r->nout = 0;
}

void gike2_member_shutdown(struct gike2_member *m, struct gdoi_now now)
{
	struct gdoi_ike2_result r = { 0 };
	if (m->sa && gdoi_ike2_established(m->sa) &&
	    gdoi_ike2_send_delete(m->sa, now.mono_ms, &r) == 0)
		queue_result(m, &r);
	gdoi_ike2_result_clear(&r);
	m->state = GDOI_MEMBER_GROUP_UNREGISTERED;
	m->next_try = 0;
}

typedef bool (*teks_take_fn)(struct gdoi_member_teks *, struct gdoi_policy *, int64_t,
			     struct gdoi_notes *);

/* A copy of gm's policy handed to the TEK set by take. */
static bool hand_over(struct gike2_member *m, struct gdoi_now now, teks_take_fn take)
{
	/* key-holding memory: the TEK set releases it with gdoi_secret_free */
	struct gdoi_policy *p = gdoi_secret_calloc(sizeof(*p));
	struct gdoi_notes notes = { 0 };
	if (!p)
		return false;
	*p = m->gm.policy;	/* plain data: keys inline (policy.h) */
	/* the snapshot's seq as a GDOI member of the group sees it: the group's
	 * SEQ, by which the GCKS numbers its GSA_REKEYs (the Rekey SA's next
	 * acceptable Message ID less one) */
	if (m->gm.has_rekey && m->gm.rekey.msgid) {
		p->has_seq = true;
		p->seq = m->gm.rekey.msgid - 1;
	}
	bool ch = take(&m->teks, p, now.unix_s, &notes);
	notes_out(m, &notes);
	return ch;
}

/* The policy the registration left in gm, handed to the TEK set. */
static bool install(struct gike2_member *m, struct gdoi_now now)
{
	return hand_over(m, now, gdoi_member_teks_registered);
}

/* The policy a rekey left in gm, handed to the TEK set with the times the same rekey's
 * GROUPKEY-PUSH gives (member_teks.h); what it phases out also leaves gm's policy, so
 * that the next rekey does not join it again. */
static bool install_rekey(struct gike2_member *m, struct gdoi_now now)
{
	bool ch = hand_over(m, now, gdoi_member_teks_rekeyed);
	struct gdoi_policy *gp = &m->gm.policy;
	if (!m->teks.pol)
		return ch;
	gdoi_wipe(gp->teks, sizeof(gp->teks));
	memcpy(gp->teks, m->teks.pol->teks, m->teks.pol->nteks * sizeof(gp->teks[0]));
	gp->nteks = m->teks.pol->nteks;
	return ch;
}

static void registered(struct gike2_member *m, struct gdoi_now now)
{
	bool ch = install(m, now);
	m->state = GDOI_MEMBER_GROUP_REGISTERED;
	m->backoff_ms = 0;
	m->rejoin = false;
	m->registered_ms = now.mono_ms;
	m->stats.registrations++;
	m->gstats.registrations++;
	struct gdoi_member_event *ev = event(m, GDOI_MEMBER_EV_REGISTERED, GDOI_MEMBER_INFO,
					     "%s: registered by G-IKEv2 (%zu TEKs, %zu Sender-IDs%s)",
					     m->cfg.name, m->gm.policy.nteks, m->gm.policy.nsids,
					     m->gm.has_rekey ? ", Rekey SA" : "");
	if (ev) {
		ev->has_kek = m->gm.has_rekey;
		ev->changed = ch;
		ev->nteks = (unsigned)m->gm.policy.nteks;
		ev->nsids = m->gm.policy.nsids < GDOI_MEMBER_MAX_SIDS ? m->gm.policy.nsids
								       : GDOI_MEMBER_MAX_SIDS;
		memcpy(ev->sids, m->gm.policy.sids, ev->nsids * sizeof(ev->sids[0]));
	}
}

/* The GCKS answered and refused this group or this member (RFC 9838 §2.3.2~): the
 * group backs off with the same key server. Anything else (no answer, the IKE SA
 * failed or timed out, TEMPORARY_FAILURE, a failed IKE_SA_INIT or authentication) is
 * the key server's failure: a FAILOVER event, and the application names the next key
 * server (gike2_member_set_ks), as the GDOI engine fails over. */
static bool group_refusal(uint16_t notify)
{
	return notify == GIKE2_N_INVALID_GROUP_ID || notify == GIKE2_N_AUTHORIZATION_FAILED ||
	       notify == GIKE2_N_REGISTRATION_FAILED;
}

static void failed(struct gike2_member *m, struct gdoi_now now, const char *why, uint16_t notify)
{
	bool refused = group_refusal(notify);
	m->stats.attempts_failed++;
	m->gstats.refusals += refused;
	m->last_notify = notify;
	m->last_heard = m->heard;
	gdoi_ike2_free(m->sa);
	m->sa = NULL;
	m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : m->cfg.retry_min_ms;
	if (m->backoff_ms > m->cfg.retry_max_ms)
		m->backoff_ms = m->cfg.retry_max_ms;
	m->next_try = now.mono_ms + m->backoff_ms;
	if (m->state != GDOI_MEMBER_GROUP_REGISTERED)
		m->state = GDOI_MEMBER_GROUP_WAITING;
	struct gdoi_member_event *ev =
		event(m, refused ? GDOI_MEMBER_EV_LOG : GDOI_MEMBER_EV_FAILOVER, GDOI_MEMBER_WARN,
		      "%s: G-IKEv2 registration %s (notify %u): %s%s%s%s", m->cfg.name,
		      refused ? "refused" : "failed", notify, why, m->gm.why[0] ? ": " : "", m->gm.why,
		      refused ? "; the group backs off" : "");
	if (ev)
		ev->ks = 0;
}

void gike2_member_set_ks(struct gike2_member *m, const struct gdoi_addr *ks, uint64_t at_ms)
{
	bool moved = ks->len != m->cfg.ks.len || ks->port != m->cfg.ks.port ||
		     memcmp(ks->ip, m->cfg.ks.ip, ks->len <= sizeof(ks->ip) ? ks->len : 0) != 0;
	m->cfg.ks = *ks;
	if (moved && m->sa) {	/* no exchange with the old address goes on */
		gdoi_ike2_free(m->sa);
		m->sa = NULL;
	}
	if (m->sa)
		return;
	/* not before the backoff of a member whose IKE SAs are deleted at once
	 * (a key server over its limit of kept IKE SAs) */
	m->next_try = at_ms ? at_ms : 1;
	if (m->next_try < m->rejoin_not_before)
		m->next_try = m->rejoin_not_before;
	/* registered: the keys it holds came from the key server that failed */
	if (m->state == GDOI_MEMBER_GROUP_REGISTERED)
		m->rejoin = true;
}

/* Near expiry (docs/sidecar.md): while the group still holds a valid TEK, the IKEv2
 * retransmissions of its registration are spaced no wider than an eighth of the time
 * left before the last one ends (250 ms at least), as GDOI's are, so that a key
 * server that went away is given up on, and the next one tried, before the keys run
 * out. Set before each exchange and each retransmission (the SA reads m->ike). */
static void near_expiry(struct gike2_member *m, struct gdoi_now now)
{
	int64_t last = gdoi_member_teks_last_valid(&m->teks);
	uint64_t rto = m->cfg.ike->retransmit_ms ? m->cfg.ike->retransmit_ms : 500;
	uint64_t cap = m->cfg.ike->retransmit_cap_ms ? m->cfg.ike->retransmit_cap_ms : 8000;
	if (last > now.unix_s) {
		uint64_t c = (uint64_t)(last - now.unix_s) * 1000 / 8;
		c = c < 250 ? 250 : c;
		cap = c < cap ? c : cap;
		rto = rto < cap ? rto : cap;
	}
	m->ike.retransmit_ms = (uint32_t)rto;
	m->ike.retransmit_cap_ms = (uint32_t)cap;
}

static void start(struct gike2_member *m, struct gdoi_now now)
{
	struct gdoi_ike2_result r = { 0 };
	gdoi_ike2_free(m->sa);
	m->sa = NULL;
	m->gm.why[0] = '\0';
	m->heard = false;
	near_expiry(m, now);
	int rc = gdoi_ike2_initiate(&m->ike, &m->cfg.ks, now.mono_ms, &m->sa, &r);
	gdoi_ike2_set_user(m->sa, m);	/* for inband_request */
	queue_result(m, &r);
	gdoi_ike2_result_clear(&r);
	if (rc) {
		failed(m, now, gdoi_strerror(rc), 0);
		return;
	}
	if (m->state != GDOI_MEMBER_GROUP_REGISTERED)
		m->state = GDOI_MEMBER_GROUP_REGISTERING;
	m->next_try = 0;
}

static void after_ike(struct gike2_member *m, struct gdoi_ike2_result *r, struct gdoi_now now)
{
	struct gdoi_member_event *ev;
	queue_result(m, r);
	switch (r->event) {
	case GDOI_IKE2_EV_ESTABLISHED:
		m->stats.p1_established++;
		/* fall through */
	case GDOI_IKE2_EV_RESPONSE:
		if (m->gm.registered)
			registered(m, now);
		else
			failed(m, now, r->reason[0] ? r->reason : "no GSA in the response", r->notify);
		break;
	case GDOI_IKE2_EV_FAILED:
		failed(m, now, r->reason, r->notify);
		break;
	case GDOI_IKE2_EV_DELETED:
		gdoi_ike2_free(m->sa);
		m->sa = NULL;
		/* Without a Rekey SA the IKE SA was the only way rekeys came: register
		 * again, with the next key server (a FAILOVER event: a GCKS deletes its
		 * members' IKE SAs when it shuts down, so that they go elsewhere at once
		 * rather than after their retransmissions to it time out). With one, the
		 * keys stay and GSA_REKEY still comes (from any GCKS of the group). */
		m->rejoin = m->state == GDOI_MEMBER_GROUP_REGISTERED && !m->gm.has_rekey;
		if (m->rejoin) {
			bool soon = now.mono_ms - m->registered_ms < m->cfg.retry_max_ms;
			uint64_t b = soon && m->rejoin_backoff_ms ? m->rejoin_backoff_ms * 2 : m->cfg.retry_min_ms;
			m->rejoin_backoff_ms = b < m->cfg.retry_max_ms ? b : m->cfg.retry_max_ms;
			m->next_try = m->rejoin_not_before = now.mono_ms + m->rejoin_backoff_ms;
		}
		if (m->rejoin)
			ev = event(m, GDOI_MEMBER_EV_FAILOVER, GDOI_MEMBER_INFO, "%s: the GCKS deleted the "
				   "IKE SA: registering again, with the next key server, in %llu ms", m->cfg.name,
				   (unsigned long long)m->rejoin_backoff_ms);
		else
			ev = event(m, GDOI_MEMBER_EV_LOG, GDOI_MEMBER_INFO, "%s: the GCKS deleted the IKE "
				   "SA: keys kept, GSA_REKEY expected", m->cfg.name);
		if (ev) {
			ev->ks = 0;
			ev->ks_deleted = m->rejoin;
		}
		break;
	default:
		break;
	}
}

/*
 * A GSA_REKEY refused: counted as the GDOI engine counts a refused push (a replay
 * as a duplicate, another Rekey SA's as an unknown KEK), and one line naming the
 * field and its offset, rate-limited per group and field: one flood of a kind
 * does not hide the next kind.
 */
static void rekey_refused(struct gike2_member *m, int rc, const struct gdoi_parse_error *pe,
			  const uint8_t *msg, size_t len, const char *why)
{
	enum gdoi_member_drop d = rc == GDOI_ERR_NOT_FOUND ? GDOI_MEMBER_DROP_UNKNOWN_KEK
							     : GDOI_MEMBER_DROP_PUSH;
	uint32_t id = len >= GIKE2_HDR_LEN ? gdoi_get_u32(msg + 20) : 0;
	if (rc == GDOI_ERR_REPLAY)
		m->gstats.pushes_duplicate++;
	else if (rc != GDOI_ERR_NOT_FOUND)
		m->gstats.pushes_refused[gdoi_err_slot(rc)]++;
	m->stats.dropped[d]++;
	struct gdoi_member_event *ev =
		event(m, GDOI_MEMBER_EV_DROPPED, GDOI_MEMBER_DEBUG, "%s: GSA_REKEY %s: %s%s%s at offset %zu "
		      "(Message ID %u, %zu octets)", m->cfg.name,
		      rc == GDOI_ERR_NOT_FOUND ? "under another Rekey SA" : "refused", why,
		      pe->what[0] ? ": " : "", pe->what, pe->offset, id, len);
	if (ev) {
		ev->reason = d;
		snprintf(ev->limit_key, sizeof(ev->limit_key), "gike2 %.40s rekey %.40s", m->cfg.name,
			 pe->what[0] ? pe->what : why);
	}
}

/* A GSA_REKEY: opened (Message ID, ICV, signature) before anything is applied. */
static int rekey_input(struct gike2_member *m, const uint8_t *msg, size_t len, struct gdoi_now now)
{
	if (!m->gm.registered || !m->gm.has_rekey) {
		dropped(m, GDOI_MEMBER_DROP_UNKNOWN_KEK, "GSA_REKEY ", "without a Rekey SA");
		return GDOI_ERR_NOT_FOUND;
	}
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl *pl = NULL;
	size_t n = 0;
	uint32_t msgid = 0;
	struct gdoi_parse_error pe = { 0 };
	struct gike2_rekey_sa next;
	bool has_next = false, excluded = false;
	char why[160] = "";
	memset(&next, 0, sizeof(next));
	int rc = a ? gike2_rekey_open(&m->gm.rekey, msg, len, m->gm.gcks_key, a, &pl, &n, &msgid, &pe)
		   : GDOI_ERR_NOMEM;
	if (rc) {
		snprintf(why, sizeof(why), "%s", gdoi_strerror(rc));
	} else {
		rc = gike2_rekey_content_apply(pl, n, &m->gm.rekey, a, &m->gm.policy, &next, &has_next,
					       &excluded, why, sizeof(why));
	}
	gdoi_arena_free(a);
	if (rc) {
		gike2_rekey_sa_clear(&next);
		rekey_refused(m, rc, &pe, msg, len, why);
		return rc;
	}
	m->stats.pushes++;
	m->gstats.pushes_applied++;
	if (has_next) {
		gike2_rekey_sa_clear(&m->gm.rekey);
		m->gm.rekey = next;
	}
	if (excluded) {
		event(m, GDOI_MEMBER_EV_LOG, GDOI_MEMBER_WARN,
		      "%s: GSA_REKEY %u removed this member from the group", m->cfg.name, msgid);
		gdoi_member_teks_clear(&m->teks);
		gike2_gm_clear(&m->gm);
		m->state = GDOI_MEMBER_GROUP_UNREGISTERED;
		event(m, GDOI_MEMBER_EV_KEYS_CHANGED, GDOI_MEMBER_INFO, "%s: keys withdrawn",
		      m->cfg.name);
		return 0;
	}
	bool ch = install_rekey(m, now);
	/* KEYS_CHANGED only for a change (a new snapshot), as for a GDOI push */
	event(m, ch ? GDOI_MEMBER_EV_KEYS_CHANGED : GDOI_MEMBER_EV_LOG, GDOI_MEMBER_INFO,
	      "%s: GSA_REKEY %u applied (%zu TEKs)%s", m->cfg.name, msgid, m->gm.policy.nteks,
	      ch ? "" : ", nothing changed");
	return 0;
}

int gike2_member_input(struct gike2_member *m, const uint8_t *msg, size_t len,
		       const struct gdoi_addr *from, enum gdoi_member_via via, struct gdoi_now now)
{
	m->stats.datagrams++;
	if (gdoi_engine_classify(msg, len) != GDOI_FE_IKEV2 || len <= IKE2_EXCH_OFF) {
		dropped(m, GDOI_MEMBER_DROP_HEADER, "", "not an IKEv2 datagram");
		return GDOI_ERR_UNSUPPORTED;
	}
	if (msg[IKE2_EXCH_OFF] == GIKE2_EXCH_GSA_REKEY)
		return rekey_input(m, msg, len, now);
	if (via == GDOI_MEMBER_VIA_MULTICAST) {	/* only GSA_REKEY comes to the group */
		char d[80];
		snprintf(d, sizeof(d), "Exchange Type %u at offset %d is not GSA_REKEY (%zu octets)",
			 msg[IKE2_EXCH_OFF], IKE2_EXCH_OFF, len);
		dropped(m, GDOI_MEMBER_DROP_HEADER, "ignored an IKEv2 datagram on the rekey group: ", d);
		return GDOI_ERR_VALUE;
	}
	if (via != GDOI_MEMBER_VIA_UNICAST || from->len != m->cfg.ks.len ||
	    memcmp(from->ip, m->cfg.ks.ip, from->len) != 0 || from->port != m->cfg.ks.port) {
		dropped(m, GDOI_MEMBER_DROP_SOURCE, "", "not from the GCKS");
		return GDOI_ERR_NOT_FOUND;
	}
	if (!m->sa) {
		dropped(m, GDOI_MEMBER_DROP_NO_SA, "", "no IKE SA");
		return GDOI_ERR_NOT_FOUND;
	}
	struct gdoi_ike2_result r = { 0 };
	int rc = gdoi_ike2_input(m->sa, msg, len, now.mono_ms, &r);
	m->heard |= rc >= 0 || r.event != GDOI_IKE2_EV_NONE;
	if (rc < 0 && r.event == GDOI_IKE2_EV_NONE)
		dropped(m, GDOI_MEMBER_DROP_P1, "IKEv2: ", r.reason[0] ? r.reason : "refused");
	after_ike(m, &r, now);
	if (m->inband)
		inband_done(m, now);
	gdoi_ike2_result_clear(&r);
	return rc < 0 ? rc : 0;
}

void gike2_member_timer(struct gike2_member *m, struct gdoi_now now)
{
	if (m->sa && gdoi_ike2_next_timer(m->sa) && gdoi_ike2_next_timer(m->sa) <= now.mono_ms) {
		struct gdoi_ike2_result r = { 0 };
		near_expiry(m, now);
		gdoi_ike2_timer(m->sa, now.mono_ms, &r);
		after_ike(m, &r, now);
		gdoi_ike2_result_clear(&r);
	}
	if (!m->sa && m->state != GDOI_MEMBER_GROUP_UNREGISTERED &&
	    (m->state != GDOI_MEMBER_GROUP_REGISTERED || m->rejoin) && m->next_try <= now.mono_ms)
		start(m, now);
	if (m->teks.pol) {
		bool ch = false;
		struct gdoi_notes notes = { 0 };
		gdoi_member_teks_expire(&m->teks, now.unix_s, &ch, &notes);
		notes_out(m, &notes);
		if (ch)
			event(m, GDOI_MEMBER_EV_KEYS_CHANGED, GDOI_MEMBER_INFO, "%s: TEKs expired",
			      m->cfg.name);
		int64_t due = gdoi_member_teks_rereg_due(&m->teks);
		/* without an IKE SA, not before the retry time a failure set */
		if (m->state == GDOI_MEMBER_GROUP_REGISTERED && due && due <= now.unix_s &&
		    (m->sa || m->next_try <= now.mono_ms))
			gike2_member_want_register(m, now);
	}
}

uint64_t gike2_member_deadline(const struct gike2_member *m)
{
	/* no SA and no backoff: a start is due at once (the first timer call) */
	uint64_t d = m->sa ? 0 : m->next_try ? m->next_try : 1;
	/* registered without an IKE SA: nothing is due until a re-registration is */
	if (!m->sa && m->state == GDOI_MEMBER_GROUP_REGISTERED && !m->rejoin)
		d = 0;
	uint64_t t = m->sa ? gdoi_ike2_next_timer(m->sa) : 0;
	if (t && (!d || t < d))
		d = t;
	if (m->state == GDOI_MEMBER_GROUP_UNREGISTERED && !m->sa)
		d = 0;
	return d;	/* 0: nothing due; the application polls each second for TEK expiry */
}

bool gike2_member_next_out(struct gike2_member *m, struct gdoi_out *out)
{
	return gdoi_outq_next(&m->outq, out);
}

bool gike2_member_next_event(struct gike2_member *m, struct gdoi_member_event *ev)
{
	return gdoi_evq_next(&m->evq, sizeof(*ev), ev);
}

int gike2_member_want_register(struct gike2_member *m, struct gdoi_now now)
{
	if (m->sa && gdoi_ike2_request_pending(m->sa))
		return GDOI_ERR_STATE;	/* one exchange at a time: the one in flight goes on */
	if (m->sa && gdoi_ike2_established(m->sa)) {
		struct gdoi_ike2_plist pl = { 0 };
		struct gdoi_ike2_result r = { 0 };
		int rc = gike2_gm_registration(&m->gm, &pl);
		near_expiry(m, now);
		if (rc == 0)
			rc = gdoi_ike2_send_request(m->sa, GIKE2_EXCH_GSA_REGISTRATION, &pl, now.mono_ms, &r);
		gdoi_ike2_plist_free(&pl);
		queue_result(m, &r);
		gdoi_ike2_result_clear(&r);
		return rc;
	}
	if (m->sa && !gdoi_ike2_established(m->sa))
		return GDOI_ERR_STATE;
	start(m, now);
	return 0;
}

const struct gdoi_member_teks *gike2_member_teks(const struct gike2_member *m)
{
	return &m->teks;
}

enum gdoi_member_group_state gike2_member_state(const struct gike2_member *m)
{
	return m->state;
}

const struct gdoi_member_stats *gike2_member_stats(const struct gike2_member *m)
{
	return &m->stats;
}

const struct gdoi_member_group_stats *gike2_member_group_stats(const struct gike2_member *m)
{
	return &m->gstats;
}

bool gike2_member_has_rekey_sa(const struct gike2_member *m)
{
	return m->gm.registered && m->gm.has_rekey;
}

bool gike2_member_rekey_owns(const struct gike2_member *m, const uint8_t *msg, size_t len)
{
	return m->gm.registered && m->gm.has_rekey && len >= GIKE2_SPI_SIZE_REKEY &&
	       memcmp(msg, m->gm.rekey.spi, GIKE2_SPI_SIZE_REKEY) == 0;
}

bool gike2_member_rekey_dst(const struct gike2_member *m, struct gdoi_addr *to)
{
	if (!m->gm.registered || !m->gm.has_rekey)
		return false;
	const struct gike2_ts *d = &m->gm.rekey.dst;
	memset(to, 0, sizeof(*to));
	to->len = d->addr_len;
	memcpy(to->ip, d->start, d->addr_len <= sizeof(to->ip) ? d->addr_len : 0);
	to->port = d->start_port;
	return true;
}

uint16_t gike2_member_last_failure(const struct gike2_member *m, bool *heard)
{
	*heard = m->last_heard;
	return m->last_notify;
}
