/*
 * member.c - the group member on the wire: one UDP socket for Phase 1,
 * GROUPKEY-PULL and unicast pushes; one per multicast rekey group;
 * registration with failover across key servers and capped exponential
 * backoff with jitter; Phase 1 renewal; re-registration before keys run
 * out; one timer for every deadline.
 */
#include "sidecar.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/cert.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "gdoi/sign.h"

#define HDR_LEN 28

static void ks_name(const struct sidecar *sc, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	const struct sockaddr_in *k = &sc->cfg.ks[sc->ks_index];

	inet_ntop(AF_INET, &k->sin_addr, a, sizeof a);
	snprintf(buf, len, "%s:%u", a, ntohs(k->sin_port));
}

static void select_ks(struct sidecar *sc, size_t i)
{
	const struct sockaddr_in *k = &sc->cfg.ks[i];

	sc->ks_index = i;
	sc->ks_addr.len = 4;
	memcpy(sc->ks_addr.ip, &k->sin_addr, 4);
	sc->ks_addr.port = ntohs(k->sin_port);
}

static void send_ks(struct sidecar *sc, const uint8_t *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc = uv_udp_try_send(&sc->udp, &b, 1, (const struct sockaddr *)&sc->cfg.ks[sc->ks_index]);

	if (rc < 0)
		sc_log_limited("send", "send to key server: %s", uv_strerror(rc));
}

static bool any_pull(const struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].pm)
			return true;
	return false;
}

/* Abandons registrations in progress (their SA is going away); they start again. */
static void abort_pulls(struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		if (g->pm) {
			gdoi_pull_member_free(g->pm);
			g->pm = NULL;
			g->want_register = true;
		}
	}
}

static void drop_sa(struct sidecar *sc, struct gdoi_p1_sa **sa, bool send_delete)
{
	if (!*sa)
		return;
	if (*sa == sc->sa)
		abort_pulls(sc);
	if (send_delete && gdoi_p1_established(*sa)) {
		struct gdoi_p1_result r = { 0 };
		if (gdoi_p1_send_delete(*sa, &r) == 0 && r.out)
			send_ks(sc, r.out, r.out_len);
		gdoi_p1_result_clear(&r);
	}
	gdoi_p1_free(*sa);
	*sa = NULL;
}

/* A failed attempt with the current key server: the next one at once, or, after a
 * whole round, the first one again after a capped exponential backoff with jitter. */
static void failed(struct sidecar *sc, const char *why)
{
	char name[32];
	uint64_t delay = 0;

	sc->ctr.attempts_failed++;
	ks_name(sc, name, sizeof name);
	snprintf(sc->ks[sc->ks_index].last_error, sizeof sc->ks[0].last_error, "%.150s", why);
	drop_sa(sc, &sc->sa_next, false);
	drop_sa(sc, &sc->sa, false);
	select_ks(sc, (sc->ks_index + 1) % sc->cfg.nks);
	if (sc->ks_index == 0) {
		unsigned shift = sc->attempt < 20 ? sc->attempt : 20;
		uint32_t r;
		sc->attempt++;
		delay = (uint64_t)sc->cfg.retry_min_ms << shift;
		if (delay > sc->cfg.retry_max_ms)
			delay = sc->cfg.retry_max_ms;
		if (gdoi_random((uint8_t *)&r, sizeof r))
			r = 0x80000000u;
		delay = delay * 3 / 4 + (uint64_t)((double)delay / 2 * ((double)r / 4294967296.0));
	}
	sc->retry_at = sc_mono() + delay;
	sc_log("registration with %s failed: %s; next try with %s in %.1f s", name, why,
	       sc->ks[sc->ks_index].name, (double)delay / 1000);
}

static void group_refused(struct sidecar *sc, struct sc_group *g, const char *why);

static void p1_start(struct sidecar *sc, bool renewal)
{
	struct gdoi_p1_result r = { 0 };
	struct gdoi_p1_sa *sa = NULL;
	char name[32];
	int rc;

	ks_name(sc, name, sizeof name);
	rc = gdoi_p1_initiate(&sc->p1cfg, &sc->ks_addr, sc_mono(), &sa, &r);
	if (rc) {
		gdoi_p1_result_clear(&r);
		failed(sc, gdoi_strerror(rc));
		return;
	}
	sc_log("phase 1 %s with %s", renewal ? "renewal started" : "started", name);
	if (r.out)
		send_ks(sc, r.out, r.out_len);
	gdoi_p1_result_clear(&r);
	if (renewal)
		sc->sa_next = sa;
	else
		sc->sa = sa;
}

static void p1_result(struct sidecar *sc, struct gdoi_p1_sa *sa, struct gdoi_p1_result *r)
{
	char name[32];

	ks_name(sc, name, sizeof name);
	if (r->out)
		send_ks(sc, r->out, r->out_len);
	switch (r->event) {
	case GDOI_P1_EV_ESTABLISHED: {
		const struct gdoi_p1_suite *s = gdoi_p1_suite(sa);
		sc->ctr.p1_established++;
		sc_log("phase 1 established with %s (enc %u/%u, hash %u, group %u, lifetime %u s)",
		       name, s->enc, s->key_bits, s->hash, s->group, (unsigned)s->lifetime);
		if (sa == sc->sa_next) {
			/* renewal done: registrations in progress restart on the new SA */
			drop_sa(sc, &sc->sa, true);
			sc->sa = sc->sa_next;
			sc->sa_next = NULL;
		}
		break;
	}
	case GDOI_P1_EV_FAILED:
		if (sa == sc->sa_next) {
			sc_log("phase 1 renewal with %s failed: %s (the current SA stays)", name,
			       r->reason);
			drop_sa(sc, &sc->sa_next, false);
		} else {
			char why[200];
			snprintf(why, sizeof why, "phase 1: %s", r->reason[0] ? r->reason :
				 gdoi_strerror(r->err));
			failed(sc, why);
		}
		break;
	case GDOI_P1_EV_REKEY:
		if (sa == sc->sa && !sc->sa_next) {
			sc_log("phase 1 with %s reaches its soft lifetime: renewing", name);
			p1_start(sc, true);
		}
		break;
	case GDOI_P1_EV_EXPIRED:
	case GDOI_P1_EV_DELETED:
		sc_log("phase 1 with %s %s", name,
		       r->event == GDOI_P1_EV_EXPIRED ? "expired" : "deleted by the key server");
		if (sa == sc->sa) {
			drop_sa(sc, &sc->sa, false);
			sc->sa = sc->sa_next;
			sc->sa_next = NULL;
		} else {
			drop_sa(sc, &sc->sa_next, false);
		}
		break;
	case GDOI_P1_EV_NOTIFY:
		/* Registrations run one at a time, so an error Notify under the SA while
		 * one is in progress is the key server's answer to it. */
		if (r->notify < GDOI_N_CONNECTED && sa == sc->sa) {	/* 1..16383: errors */
			for (size_t i = 0; i < sc->cfg.ngroups; i++)
				if (sc->groups[i].pm) {
					char why[120];
					snprintf(why, sizeof why, "group %.63s: Notify %u from the key server",
						 sc->groups[i].cfg->name, (unsigned)r->notify);
					group_refused(sc, &sc->groups[i], why);
					break;
				}
		} else {
			sc_log("key server %s notified %u", name, (unsigned)r->notify);
		}
		break;
	default:
		break;
	}
	gdoi_p1_result_clear(r);
}

/* The key server answered and refused this group: back off this group only; the SA
 * and the other groups carry on. */
static void group_refused(struct sidecar *sc, struct sc_group *g, const char *why)
{
	unsigned shift = g->attempts < 20 ? g->attempts : 20;
	uint64_t delay = (uint64_t)sc->cfg.retry_min_ms << shift;
	char name[32];

	ks_name(sc, name, sizeof name);
	if (delay > sc->cfg.retry_max_ms)
		delay = sc->cfg.retry_max_ms;
	if (g->pm) {
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
	}
	g->attempts++;
	g->ctr.refusals++;
	g->retry_at = sc_mono() + delay;
	sc_log("registration refused by %s: %s; group %s tries again in %.1f s", name, why,
	       g->cfg->name, (double)delay / 1000);
}

static void pull_result(struct sidecar *sc, struct sc_group *g, struct gdoi_pull_result *r)
{
	char name[32];

	ks_name(sc, name, sizeof name);
	if (r->out)
		send_ks(sc, r->out, r->out_len);
	if (r->event == GDOI_PULL_EV_INSTALLED) {
		g->ctr.registrations++;
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
		g->want_register = false;
		g->attempts = 0;
		g->retry_at = 0;
		sc->attempt = 0;
		sc->ks[sc->ks_index].last_ok = sc_wall();
		sc->ks[sc->ks_index].last_error[0] = '\0';
		sc_group_registered(g, r->policy, name, sc_wall());
		r->policy = NULL;
	} else if (r->event == GDOI_PULL_EV_FAILED) {
		char why[300];
		snprintf(why, sizeof why, "group %.63s: %.200s", g->cfg->name,
			 r->reason[0] ? r->reason : gdoi_strerror(r->err));
		gdoi_pull_member_free(g->pm);
		g->pm = NULL;
		if (r->notify && !r->teardown) {
			group_refused(sc, g, why);
		} else {
			/* No answer: a key server that restarted has forgotten our SA, or is
			 * down. Start afresh (next key server, backoff). */
			failed(sc, why);
		}
	}
	gdoi_pull_result_clear(r);
}

static void pull_start(struct sidecar *sc, struct sc_group *g)
{
	struct gdoi_pull_member_cfg c = {
		.group_id = g->cfg->id,
		.sid_request = g->cfg->send ? g->cfg->ssrcs : 0,
		.retransmit_ms = sc->cfg.exchange_ms,
		.max_transmits = 4,
	};
	struct gdoi_pull_result r = { 0 };
	int rc = gdoi_pull_member_start(sc->sa, &c, sc_mono(), &g->pm, &r);

	if (rc) {
		char why[300];
		snprintf(why, sizeof why, "group %.63s: %.200s", g->cfg->name,
			 r.reason[0] ? r.reason : gdoi_strerror(rc));
		gdoi_pull_result_clear(&r);
		failed(sc, why);
		return;
	}
	sc_debug("group %s: registration started", g->cfg->name);
	pull_result(sc, g, &r);
}

/* ---- pushes ---------------------------------------------------------------- */

void sc_handle_push(struct sidecar *sc, const uint8_t *msg, size_t len, const char *via)
{
	int64_t now = sc_wall();
	char why[200], key[96];

	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		int rc;
		/* Ours when the cookies name its KEK (or the one it replaced): any refusal
		 * after that is this group's, logged with the core's reason. */
		if (!g->pol || !gdoi_push_names_kek(g->pol, msg, len))
			continue;
		why[0] = '\0';
		rc = sc_group_push(g, msg, len, now, why, sizeof why);
		if (!rc)
			g->ctr.pushes_applied++;
		else if (rc == GDOI_ERR_REPLAY)
			g->ctr.pushes_duplicate++;
		else
			g->ctr.pushes_refused[gdoi_err_slot(rc)]++;
		if (rc) {
			snprintf(key, sizeof key, "push %s %d", g->cfg->name, rc);
			sc_log_limited(key, "group %s: push via %s refused: %s%s%s", g->cfg->name, via,
				       rc == GDOI_ERR_REPLAY ? "replay" :
				       rc == GDOI_ERR_AUTH ? "bad signature" : gdoi_strerror(rc),
				       why[0] ? ": " : "", why);
		}
		sc_service(sc);
		return;
	}
	sc->ctr.pushes_unknown_kek++;
	sc_log_limited("push unknown KEK", "push via %s refused: unknown KEK (no group of ours)", via);
	if (now - sc->last_unknown_kek_rereg >= (int64_t)sc->cfg.unknown_kek_rereg_s) {
		bool any = false;
		for (size_t i = 0; i < sc->cfg.ngroups; i++)
			if (sc->groups[i].pol && sc->groups[i].pol->has_kek) {
				sc->groups[i].want_register = true;
				any = true;
			}
		if (any) {
			sc->last_unknown_kek_rereg = now;
			sc_log("re-registering: a push under an unknown KEK means a missed KEK "
			       "change or a key server restart");
			drop_sa(sc, &sc->sa_next, false);
			drop_sa(sc, &sc->sa, false);
			sc->retry_at = 0;
			sc_service(sc);
		}
	}
}

/* ---- the registration socket ------------------------------------------------------ */

static uint8_t rxbuf[65536];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init((char *)rxbuf, sizeof rxbuf);
}

static void junk(const struct sockaddr *from, const char *why)
{
	char a[INET_ADDRSTRLEN] = "?";

	if (from && from->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr, a, sizeof a);
	sc_log_limited("junk", "ignored a datagram from %s: %s", a, why);
}

static bool cookies_match(struct gdoi_p1_sa *sa, const uint8_t *msg)
{
	uint8_t ic[8], rc[8];

	if (!sa)
		return false;
	gdoi_p1_cookies(sa, ic, rc);
	return memcmp(ic, msg, 8) == 0;
}

static void on_udp(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		   unsigned flags)
{
	struct sidecar *sc = h->data;
	const uint8_t *m = (const uint8_t *)buf->base;
	const struct sockaddr_in *ks = &sc->cfg.ks[sc->ks_index];
	const struct sockaddr_in *f = (const struct sockaddr_in *)from;
	uint8_t exch;

	(void)flags;
	if (n <= 0 || !from)
		return;
	if (n < HDR_LEN) {
		junk(from, "shorter than an ISAKMP header");
		return;
	}
	exch = m[18];
	if (exch == GDOI_EXCH_PUSH) {
		sc_handle_push(sc, m, (size_t)n, "unicast");
		return;
	}
	if (from->sa_family != AF_INET || f->sin_addr.s_addr != ks->sin_addr.s_addr ||
	    f->sin_port != ks->sin_port) {
		junk(from, "not from the current key server");
		return;
	}
	if (exch == GDOI_EXCH_PULL) {
		uint32_t msgid = (uint32_t)m[20] << 24 | (uint32_t)m[21] << 16 | (uint32_t)m[22] << 8 | m[23];
		for (size_t i = 0; i < sc->cfg.ngroups; i++) {
			struct sc_group *g = &sc->groups[i];
			if (g->pm && gdoi_pull_member_msgid(g->pm) == msgid) {
				struct gdoi_pull_result r = { 0 };
				int rc = gdoi_pull_member_input(g->pm, m, (size_t)n, sc_mono(), &r);
				if (rc && r.event == GDOI_PULL_EV_NONE) {
					sc_log_limited("pull input", "group %s: registration message refused: %s",
						       g->cfg->name, r.reason[0] ? r.reason : gdoi_strerror(rc));
				}
				pull_result(sc, g, &r);
				sc_service(sc);
				return;
			}
		}
		junk(from, "GROUPKEY-PULL for no exchange of ours");
		return;
	}
	if (exch == GDOI_EXCH_IDENT_PROT || exch == GDOI_EXCH_INFO) {
		struct gdoi_p1_sa *sa = cookies_match(sc->sa, m) ? sc->sa :
					cookies_match(sc->sa_next, m) ? sc->sa_next : NULL;
		if (!sa) {
			junk(from, "cookies of no SA of ours");
			return;
		}
		struct gdoi_p1_result r = { 0 };
		int rc = gdoi_p1_input(sa, m, (size_t)n, sc_mono(), &r);
		if (rc && r.event == GDOI_P1_EV_NONE)
			sc_log_limited("p1 input", "phase 1 message refused: %s",
				       r.reason[0] ? r.reason : gdoi_strerror(rc));
		p1_result(sc, sa, &r);
		sc_service(sc);
		return;
	}
	junk(from, "exchange type we do not take");
}

static void on_mcast(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		     unsigned flags)
{
	struct sc_group *g = h->data;
	const uint8_t *m = (const uint8_t *)buf->base;

	(void)flags;
	if (n <= 0 || !from)
		return;
	if (n < HDR_LEN || m[18] != GDOI_EXCH_PUSH) {
		junk(from, "not a GROUPKEY-PUSH on the rekey group");
		return;
	}
	sc_handle_push(g->sc, m, (size_t)n, "multicast");
}

static int join_mcast(struct sidecar *sc, struct sc_group *g, char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN];
	int rc;

	/* groups sharing a rekey address and port share one socket */
	for (struct sc_group *o = sc->groups; o < g; o++)
		if (o->mcast_open && o->cfg->rekey.sin_addr.s_addr == g->cfg->rekey.sin_addr.s_addr &&
		    o->cfg->rekey.sin_port == g->cfg->rekey.sin_port)
			return 0;
	inet_ntop(AF_INET, &g->cfg->rekey.sin_addr, a, sizeof a);
	inet_ntop(AF_INET, &g->cfg->rekey_if, ifa, sizeof ifa);
	uv_udp_init(sc->loop, &g->mcast);
	g->mcast.data = g;
	g->mcast_open = true;
	rc = uv_udp_bind(&g->mcast, (const struct sockaddr *)&g->cfg->rekey, UV_UDP_REUSEADDR);
	if (!rc)
		rc = uv_udp_set_membership(&g->mcast, a, g->cfg->rekey_if.s_addr ? ifa : NULL,
					   UV_JOIN_GROUP);
	if (!rc)
		rc = uv_udp_recv_start(&g->mcast, on_alloc, on_mcast);
	if (rc) {
		snprintf(err, errlen, "group %s: rekey multicast %s:%u on %s: %s", g->cfg->name, a,
			 ntohs(g->cfg->rekey.sin_port), g->cfg->rekey_if.s_addr ? ifa : "any interface",
			 uv_strerror(rc));
		return -1;
	}
	sc_log("group %s: listening for rekeys on %s:%u (interface %s)", g->cfg->name, a,
	       ntohs(g->cfg->rekey.sin_port), g->cfg->rekey_if.s_addr ? ifa : "default");
	return 0;
}

/* ---- start, stop, the timer ---------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
	sc_service(t->data);
}

static int64_t unix_now(void *ctx)
{
	(void)ctx;
	return sc_wall();
}

/* Certificate credentials when configured (the key type picks the IKE method), else PSK. */
static int load_credentials(struct sidecar *sc, uint16_t *auth, char *err, size_t errlen)
{
	*auth = GDOI_IKE_AUTH_PSK;
	if (!sc->cfg.cert_file[0])
		return 0;
	if (dm_cred_load(&sc->cred, sc->cfg.key_file, sc->cfg.cert_file, sc->cfg.ca_file, err, errlen))
		return -1;
	*auth = sc->cred.auth;
	return 0;
}

int sc_member_start(struct sidecar *sc, char *err, size_t errlen)
{
	uint16_t auth;
	int rc;

	err[0] = '\0';
	if (!sc->cfg.nks) {
		snprintf(err, errlen, "no key server configured (keyserver = ADDR:PORT or --server)");
		return -1;
	}
	if (load_credentials(sc, &auth, err, errlen))
		return -1;
	size_t ns = gdoi_p1_suites_default(auth, sc->cfg.p1_lifetime, sc->cfg.legacy, sc->suites,
					   SC_MAX_SUITES);
	sc->psk = (struct gdoi_p1_psk){ .key = GDOI_BYTES(sc->cfg.psk, sc->cfg.psk_len) };
	sc->p1cfg = (struct gdoi_p1_config){
		.suites = sc->suites, .nsuites = ns,
		.local_id = { .type = sc->cfg.id_type,
			      .data = GDOI_BYTES(sc->cfg.id_data, sc->cfg.id_len) },
		.psks = sc->cfg.psk ? &sc->psk : NULL, .npsks = sc->cfg.psk ? 1 : 0,
		.key = sc->cred.key, .cert = GDOI_BYTES(sc->cred.cert_der, sc->cred.cert_len),
		.trust = sc->cred.trust,
		.unix_now = unix_now, .ctx = sc,
		.retransmit_ms = sc->cfg.exchange_ms, .max_transmits = 4,
		.initial_contact = true,
	};
	select_ks(sc, 0);
	for (size_t i = 0; i < sc->cfg.nks; i++) {
		select_ks(sc, i);
		ks_name(sc, sc->ks[i].name, sizeof sc->ks[i].name);
	}
	select_ks(sc, 0);
	uv_udp_init(sc->loop, &sc->udp);
	sc->udp.data = sc;
	rc = uv_udp_bind(&sc->udp, (const struct sockaddr *)&sc->cfg.local, 0);
	if (!rc)
		rc = uv_udp_recv_start(&sc->udp, on_alloc, on_udp);
	if (rc) {
		snprintf(err, errlen, "registration socket: %s", uv_strerror(rc));
		return -1;
	}
	{
		struct sockaddr_in me;
		int l = sizeof me;
		char a[INET_ADDRSTRLEN];
		uv_udp_getsockname(&sc->udp, (struct sockaddr *)&me, &l);
		inet_ntop(AF_INET, &me.sin_addr, a, sizeof a);
		sc_log("registration socket %s:%u; %zu key server(s), first %s", a, ntohs(me.sin_port),
		       sc->cfg.nks, sc->ks[0].name);
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		g->cfg = &sc->cfg.groups[i];
		g->want_register = true;
		if (g->cfg->rekey_mcast && join_mcast(sc, g, err, errlen))
			return -1;
	}
	uv_timer_init(sc->loop, &sc->timer);
	sc->timer.data = sc;
	sc_service(sc);
	return 0;
}

void sc_member_stop(struct sidecar *sc)
{
	sc->stopping = true;
	abort_pulls(sc);
	drop_sa(sc, &sc->sa_next, false);
	drop_sa(sc, &sc->sa, true);	/* tell the key server */
	uv_close((uv_handle_t *)&sc->udp, NULL);
	uv_close((uv_handle_t *)&sc->timer, NULL);
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		if (sc->groups[i].mcast_open)
			uv_close((uv_handle_t *)&sc->groups[i].mcast, NULL);
		sc_group_free(&sc->groups[i]);
	}
	dm_cred_free(&sc->cred);
}

static void earliest(uint64_t *next, uint64_t t)
{
	if (t && (!*next || t < *next))
		*next = t;
}

void sc_service(struct sidecar *sc)
{
	uint64_t now = sc_mono(), next = 0;
	int64_t wall = sc_wall();
	bool want = false;

	if (sc->stopping)
		return;
	struct gdoi_p1_sa *sas[2] = { sc->sa, sc->sa_next };
	for (int i = 0; i < 2; i++) {
		uint64_t t;
		if (!sas[i] || (sas[i] != sc->sa && sas[i] != sc->sa_next))
			continue;	/* gone while handling the first */
		t = gdoi_p1_next_timer(sas[i]);
		if (t && t <= now) {
			struct gdoi_p1_result r = { 0 };
			gdoi_p1_timer(sas[i], now, &r);
			p1_result(sc, sas[i], &r);
		}
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		uint64_t t = g->pm ? gdoi_pull_member_next_timer(g->pm) : 0;
		if (t && t <= now) {
			struct gdoi_pull_result r = { 0 };
			gdoi_pull_member_timer(g->pm, now, &r);
			pull_result(sc, g, &r);
		}
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		int64_t exp = sc_group_expire(g, wall);
		if (exp)
			earliest(&next, now + (uint64_t)(exp - wall) * 1000);
		if (g->pol && !g->want_register && !g->pm) {
			uint64_t d = sc_group_rereg_deadline(g, wall, now);
			if (d && d <= now) {
				sc_log("group %s: re-registering: keys run out soon and no push renewed them",
				       g->cfg->name);
				g->want_register = true;
			} else {
				earliest(&next, d);
			}
		}
		want |= g->want_register;
	}
	if (want) {
		if (!sc->sa) {
			if (now >= sc->retry_at)
				p1_start(sc, false);
			else
				earliest(&next, sc->retry_at);
		}
		if (sc->sa && gdoi_p1_established(sc->sa))
			for (size_t i = 0; i < sc->cfg.ngroups && sc->sa; i++) {
				struct sc_group *g = &sc->groups[i];
				if (g->want_register && !g->pm) {
					if (any_pull(sc))
						break;	/* one registration at a time */
					if (now >= g->retry_at)
						pull_start(sc, g);
					else
						earliest(&next, g->retry_at);
				}
			}
		if (!sc->sa)
			earliest(&next, sc->retry_at > now ? sc->retry_at : now + 1);
	}
	if (sc->sa)
		earliest(&next, gdoi_p1_next_timer(sc->sa));
	if (sc->sa_next)
		earliest(&next, gdoi_p1_next_timer(sc->sa_next));
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].pm)
			earliest(&next, gdoi_pull_member_next_timer(sc->groups[i].pm));
	if (!next || next > now + 60000)
		next = now + 60000;
	uv_timer_start(&sc->timer, on_timer, next > now ? next - now : 0, 0);
}
