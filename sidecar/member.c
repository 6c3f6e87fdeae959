/*
 * member.c - the group member's sockets and timer around the member engine
 * (gdoi/member.h): one UDP socket for Phase 1, GROUPKEY-PULL and unicast
 * pushes, one per multicast rekey group, and one timer re-armed at the
 * engine's deadline. Every datagram goes into the engine whole; what it
 * queued is sent to the key server it names, and its events become log lines,
 * SSRC leases and snapshots.
 */
#include "sidecar.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/udp.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"

_Static_assert(SC_MAX_KS <= GDOI_MEMBER_MAX_KS, "every key server fits the engine");
_Static_assert(SC_MAX_GROUPS <= GDOI_MEMBER_MAX_GROUPS, "every group fits the engine");

struct gdoi_now sc_now(void)
{
	return (struct gdoi_now){ .mono_ms = sc_mono(), .unix_s = sc_wall() };
}

void sc_member_send(struct sidecar *sc, const struct gdoi_out *o)
{
	struct sockaddr_storage to;
	uv_buf_t b = uv_buf_init((char *)o->buf, (unsigned)o->len);
	char name[64];
	int rc;

	if (!dm_sockaddr_make(sc->udp_family, o->to.ip, o->to.len, o->to.port, &to)) {
		dm_addr_format(o->to.ip, o->to.len, o->to.port, name, sizeof name);
		sc_log_limited("send family", "cannot send to %s from the registration socket's family",
			       name);
		return;
	}
	rc = uv_udp_try_send(&sc->udp, &b, 1, (const struct sockaddr *)&to);
	if (rc < 0)
		sc_log_limited("send", "send to key server: %s", uv_strerror(rc));
}

void sc_member_event(struct sidecar *sc, const struct gdoi_member_event *ev)
{
	struct sc_group *g = ev->group >= 0 ? &sc->groups[ev->group] : NULL;

	switch (ev->type) {
	case GDOI_MEMBER_EV_LOG:
	case GDOI_MEMBER_EV_DROPPED:
		if (ev->limit_key[0])
			dm_log_limited(ev->level == GDOI_MEMBER_DEBUG ? DM_DEBUG : DM_WARN, ev->limit_key, "%s",
				       ev->text);
		else if (ev->level == GDOI_MEMBER_DEBUG)
			sc_debug("%s", ev->text);
		else if (ev->level == GDOI_MEMBER_WARN)
			sc_warn("%s", ev->text);
		else
			sc_log("%s", ev->text);
		break;
	case GDOI_MEMBER_EV_REGISTERED:
		if (g)
			sc_group_registered(g, ev, sc_wall());
		break;
	case GDOI_MEMBER_EV_KEYS_CHANGED:
		if (g)
			sc_group_keys_changed(g, sc_wall());
		break;
	case GDOI_MEMBER_EV_FAILOVER:
		sc_resolve_failover(sc, ev->ks);
		break;
	default:
		break;
	}
}

/* Sends what the engine queued and acts on its events. */
static void drain(struct sidecar *sc)
{
	struct gdoi_out o;
	struct gdoi_member_event ev;

	while (gdoi_member_next_out(sc->member, &o))
		sc_member_send(sc, &o);
	while (gdoi_member_next_event(sc->member, &ev)) {
		sc_member_event(sc, &ev);
		sc_ikev2_gdoi_event(sc, &ev);
	}
}

static void on_timer(uv_timer_t *t)
{
	sc_service(t->data);
}

static void rearm(struct sidecar *sc)
{
	uint64_t now = sc_mono(), next = sc_ikev2_timer(sc, sc_now(), gdoi_member_deadline(sc->member));

	uv_timer_start(&sc->timer, on_timer, next > now ? next - now : 0, 0);
}

void sc_service(struct sidecar *sc)
{
	if (sc->stopping)
		return;
	sc->serviced = true;
	gdoi_member_timer(sc->member, sc_now());
	drain(sc);
	rearm(sc);
}

/* ---- the sockets ----------------------------------------------------------------- */

static uint8_t rxbuf[65536];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init((char *)rxbuf, sizeof rxbuf);
}

static void input(struct sidecar *sc, const uv_buf_t *buf, ssize_t n, const struct sockaddr *from,
		  enum gdoi_member_via via)
{
	struct gdoi_addr a = { 0 };

	if (n <= 0 || !from || sc->stopping)
		return;
	a.len = (uint8_t)dm_sockaddr_split(from, a.ip, &a.port);
	if (!sc_ikev2_input(sc, (const uint8_t *)buf->base, (size_t)n, &a, via, sc_now()))
		gdoi_member_input(sc->member, (const uint8_t *)buf->base, (size_t)n, &a, via, sc_now());
	drain(sc);
	rearm(sc);
}

static void on_udp(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		   unsigned flags)
{
	(void)flags;
	input(h->data, buf, n, from, GDOI_MEMBER_VIA_UNICAST);
}

/* Whether every group takes its keys by G-IKEv2 (no GDOI member to hand a push to). */
static bool ikev2_only(const struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->cfg.groups[i].protocol != SC_PROTO_GIKEV2)
			return false;
	return true;
}

static void on_mcast(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		     unsigned flags)
{
	struct sc_group *g = h->data;

	(void)flags;
	/* a group served by both protocols multicasts GDOI pushes beside the GSA_REKEYs */
	const uint8_t *d = (const uint8_t *)buf->base;
	enum gdoi_front_end fe = n > 0 ? gdoi_engine_classify(d, (size_t)n) : GDOI_FE_NONE;
	if (n > 0 && ikev2_only(g->sc) && fe != GDOI_FE_IKEV2) {
		if (fe != GDOI_FE_IKEV1 || d[18] != GDOI_EXCH_PUSH)	/* junk, not a GDOI push */
			dm_log_limited(DM_DEBUG, "rekey group junk", "group %s: ignored a %zd-octet datagram "
				       "on the rekey group: neither IKEv2 nor a GDOI push (header at "
				       "offset 0, version at 17)", g->cfg->name, n);
		return;
	}
	input(g->sc, buf, n, from, GDOI_MEMBER_VIA_MULTICAST);
}

/* SSM (232.0.0.0/8, ff3x::/96 ranges): the channel is (key server, group). */
static bool is_ssm(const struct dm_addr *g)
{
	return g->family == AF_INET6 ? g->ip[0] == 0xff && (g->ip[1] & 0xf0) == 0x30 : g->ip[0] == 232;
}

/* One source-specific join per configured literal key server of the group's family;
 * false when there is none to join (the caller joins any source). */
static int join_sources(struct sidecar *sc, uv_os_fd_t fd, const struct sc_group_cfg *c, int index,
			bool *joined)
{
	struct group_source_req r = { .gsr_interface = (uint32_t)index };
	int level = c->rekey.family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;

	*joined = false;
	dm_sockaddr_make(c->rekey.family, c->rekey.ip, c->rekey.family == AF_INET6 ? 16 : 4, 0,
			 &r.gsr_group);
	for (size_t i = 0; i < sc->cfg.nks; i++) {
		const struct dm_addr *ks = &sc->cfg.ks[i].addr;
		if (sc->cfg.ks[i].host[0] || ks->family != c->rekey.family)
			continue;
		dm_sockaddr_make(ks->family, ks->ip, ks->family == AF_INET6 ? 16 : 4, 0, &r.gsr_source);
		if (setsockopt(fd, level, MCAST_JOIN_SOURCE_GROUP, &r, sizeof r))
			return uv_translate_sys_error(errno);
		*joined = true;
	}
	return 0;
}

/* IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP (ff3x:: and 232/8: source-specific, the key
 * servers as sources) on the configured interface. 0 or a libuv error. */
static int membership(struct sidecar *sc, uv_udp_t *h, const struct sc_group_cfg *c, char *why,
		      size_t wl)
{
	uv_os_fd_t fd;
	bool joined = false;
	int index, rc;

	if ((rc = uv_fileno((uv_handle_t *)h, &fd)))
		return rc;
	if ((index = dm_if_index(&c->rekey_if, why, wl)) < 0)
		return index == -ENODEV ? UV_ENODEV : UV_EADDRNOTAVAIL;
	if (is_ssm(&c->rekey) && (rc = join_sources(sc, fd, c, index, &joined)))
		return rc;
	if (joined)
		return 0;
	if (c->rekey.family == AF_INET6) {
		struct ipv6_mreq m6 = { .ipv6mr_interface = (unsigned)index };
		memcpy(&m6.ipv6mr_multiaddr, c->rekey.ip, 16);
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6);
	} else {
		struct ip_mreqn m4 = { .imr_ifindex = index };
		memcpy(&m4.imr_multiaddr, c->rekey.ip, 4);
		if (c->rekey_if.by_addr)
			memcpy(&m4.imr_address, c->rekey_if.addr.ip, 4);
		rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof m4);
	}
	return rc ? uv_translate_sys_error(errno) : 0;
}

static bool same_rekey(const struct sc_group_cfg *a, const struct sc_group_cfg *b)
{
	return a->rekey.family == b->rekey.family && a->rekey.port == b->rekey.port &&
	       !memcmp(a->rekey.ip, b->rekey.ip, 16);
}

static int join_mcast(struct sidecar *sc, struct sc_group *g, char *err, size_t errlen)
{
	const struct sc_group_cfg *c = g->cfg;
	char a[64], ifs[64], why[96] = "";
	int rc;

	/* groups sharing a rekey address and port share one socket */
	for (struct sc_group *o = sc->groups; o < g; o++)
		if (o->mcast_open && same_rekey(o->cfg, c))
			return 0;
	dm_addr_format(c->rekey.ip, c->rekey.family == AF_INET6 ? 16 : 4, c->rekey.port, a, sizeof a);
	dm_if_format(&c->rekey_if, ifs, sizeof ifs);
	uv_udp_init_ex(sc->loop, &g->mcast, (unsigned)c->rekey.family);
	g->mcast.data = g;
	g->mcast_open = true;
	rc = dm_udp_bind(&g->mcast, c->rekey.family, c->rekey.ip, c->rekey.port, UV_UDP_REUSEADDR);
	if (!rc)
		rc = membership(sc, &g->mcast, c, why, sizeof why);
	if (!rc)
		rc = uv_udp_recv_start(&g->mcast, on_alloc, on_mcast);
	if (rc) {
		snprintf(err, errlen, "group %s: rekey multicast %s on interface %s: %s", c->name, a, ifs,
			 why[0] ? why : uv_strerror(rc));
		return -1;
	}
	sc_log("group %s: listening for rekeys on %s (interface %s%s)", c->name, a, ifs,
	       is_ssm(&c->rekey) ? ", source-specific" : "");
	return 0;
}

/* ---- start, stop ------------------------------------------------------------------ */

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

bool sc_ks_identity_ok(const struct sidecar *sc, uint8_t type, const uint8_t *data, size_t len)
{
	const struct sc_config *c = &sc->cfg;
	if (!c->ks_id_set || (type == c->ks_id_type && len == c->ks_id_len && !memcmp(data, c->ks_id_data, len)))
		return true;
	char got[SC_MAX_ID + 1];
	size_t n = len < SC_MAX_ID ? len : SC_MAX_ID;
	for (size_t i = 0; i < n; i++)
		got[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
	got[n] = '\0';
	sc_log_limited("ks-identity", "a key server authenticated as ID type %u \"%s\", not the "
		       "keyserver_identity: refused (similar refusals rate-limited)", type,
		       type == GDOI_ID_FQDN || type == GDOI_ID_USER_FQDN ? got : "(address)");
	return false;
}

/* GDOI Phase 1: the key server's authenticated ID (message 6). */
static bool p1_ks_allowed(void *ctx, const struct gdoi_id *id, uint16_t auth, const struct gdoi_addr *addr)
{
	(void)auth;
	(void)addr;
	return sc_ks_identity_ok(ctx, id->type, id->data.ptr, id->data.len);
}

/* The engine's configuration from the sidecar's. */
static int start_engine(struct sidecar *sc, char *err, size_t errlen)
{
	struct gdoi_member_cfg *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*c = (struct gdoi_member_cfg){
		.p1 = &sc->p1cfg, .ngroups = sc->cfg.ngroups,
		.retry_min_ms = sc->cfg.retry_min_ms, .retry_max_ms = sc->cfg.retry_max_ms,
		.exchange_ms = sc->cfg.exchange_ms, .unknown_kek_rereg_s = sc->cfg.unknown_kek_rereg_s,
	};
	sc_ks_list(sc, sc->slots, &c->nks);
	memcpy(c->ks, sc->slots, sizeof c->ks);
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		const struct sc_group_cfg *g = &sc->cfg.groups[i];
		snprintf(c->groups[i].name, sizeof c->groups[i].name, "%s", g->name);
		c->groups[i].id = g->id;
		c->groups[i].sid_request = g->send ? g->ssrcs : 0;
		c->groups[i].elsewhere = g->protocol != SC_PROTO_GDOI;	/* auto: G-IKEv2 first */
	}
	sc->member = gdoi_member_new(c);
	free(c);
	if (!sc->member) {
		snprintf(err, errlen, "member engine: bad configuration or out of memory");
		return -1;
	}
	return 0;
}

/* The registration socket: local, or [::]:0 dual-stack, or 0.0.0.0:0 where the host
 * has no IPv6. */
static int open_registration(struct sidecar *sc, char *err, size_t errlen)
{
	struct dm_addr any6 = { .family = AF_INET6 }, any4 = { .family = AF_INET };
	const struct dm_addr *l = sc->cfg.local_set ? &sc->cfg.local : &any6;
	struct sockaddr_storage me;
	char a[64], first[64];
	int rc, len = sizeof me;
	uint16_t port;
	uint8_t ip[16];
	size_t n;

	rc = uv_udp_init_ex(sc->loop, &sc->udp, (unsigned)l->family);
	if (rc == UV_EAFNOSUPPORT && !sc->cfg.local_set) {
		l = &any4;	/* no IPv6 on this host: IPv4 key servers only */
		rc = uv_udp_init_ex(sc->loop, &sc->udp, AF_INET);
	}
	if (rc) {
		snprintf(err, errlen, "registration socket: %s", uv_strerror(rc));
		return -1;
	}
	sc->udp_open = true;
	sc->udp_family = l->family;
	sc->udp.data = sc;
	rc = dm_udp_bind(&sc->udp, l->family, l->ip, l->port, 0);
	if (!rc)
		rc = uv_udp_recv_start(&sc->udp, on_alloc, on_udp);
	if (rc) {
		snprintf(err, errlen, "registration socket: %s", uv_strerror(rc));
		return -1;
	}
	gdoi_member_ks_name(sc->member, 0, first, sizeof first);
	uv_udp_getsockname(&sc->udp, (struct sockaddr *)&me, &len);
	n = dm_sockaddr_split((struct sockaddr *)&me, ip, &port);
	dm_addr_format(ip, n, port, a, sizeof a);
	sc_log("registration socket %s%s; %zu key server(s), first %s", a,
	       l->family == AF_INET6 && !sc->cfg.local_set ? " (dual-stack)" : "", sc->cfg.nks, first);
	return 0;
}

static int start(struct sidecar *sc, char *err, size_t errlen);

int sc_member_start(struct sidecar *sc, char *err, size_t errlen)
{
	if (!start(sc, err, errlen))
		return 0;
	gdoi_member_free(sc->member);
	sc->member = NULL;
	return -1;
}

static int start(struct sidecar *sc, char *err, size_t errlen)
{
	uint16_t auth;

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
		.retransmit_ms = sc->cfg.exchange_ms, .max_transmits = 4,
		.initial_contact = true, .peer_allowed = p1_ks_allowed, .ctx = sc,
	};
	if (sc->cfg.ks_id_any)
		dm_log(DM_WARN, "keyserver_identity = any: any certificate of the CA (a member's too) "
		       "passes for the key server's");
	if (start_engine(sc, err, errlen))
		return -1;
	if (open_registration(sc, err, errlen) || sc_ikev2_start(sc, err, errlen))
		return -1;
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		g->cfg = &sc->cfg.groups[i];
		g->index = i;
		if (g->cfg->rekey_mcast && join_mcast(sc, g, err, errlen))
			return -1;
	}
	uv_timer_init(sc->loop, &sc->timer);
	sc->timer.data = sc;
	if (!sc_resolve_all(sc))
		sc_service(sc);	/* else once every host name was tried (resolve.c) */
	return 0;
}

void sc_member_stop(struct sidecar *sc)
{
	if (sc->member) {
		gdoi_member_shutdown(sc->member, sc_now());
		drain(sc);	/* the Delete to the key server */
	}
	sc_ikev2_shutdown(sc);
	sc->stopping = true;
	if (sc->udp_open)
		uv_close((uv_handle_t *)&sc->udp, NULL);
	uv_close((uv_handle_t *)&sc->timer, NULL);
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].mcast_open)
			uv_close((uv_handle_t *)&sc->groups[i].mcast, NULL);
	gdoi_member_free(sc->member);
	sc->member = NULL;
	sc_ikev2_stop(sc);
	dm_cred_free(&sc->cred);
}
