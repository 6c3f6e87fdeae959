/*
 * resolve.c - key servers given by host name: resolved with uv_getaddrinfo (in
 * libuv's thread pool, never blocking the loop) at start and again on failover,
 * each name's addresses tried in order as failover candidates. The member engine
 * takes addresses only: after each resolution the sidecar gives it the whole list
 * anew (gdoi_member_set_ks), each configured key server's addresses in order,
 * docs/architecture.md "The member half". A name that cannot be resolved keeps the
 * addresses it had; with none it is one empty address in the list, which the engine
 * counts as a failed attempt, so resolution is retried at the engine's backoff.
 */
#include "sidecar.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

static void to_gdoi(const struct dm_addr *in, struct gdoi_addr *a)
{
	*a = (struct gdoi_addr){ .len = in->family == AF_INET6 ? 16 : 4, .port = in->port };
	memcpy(a->ip, in->ip, a->len);
}

static bool same(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && a->port == b->port && !memcmp(a->ip, b->ip, a->len);
}

void sc_ks_list(struct sidecar *sc, struct gdoi_addr *out, size_t *n)
{
	*n = 0;
	for (size_t e = 0; e < sc->cfg.nks; e++) {
		struct sc_ks_addrs *k = &sc->ks_addrs[e];
		const struct sc_ks_cfg *c = &sc->cfg.ks[e];
		k->sc = sc;
		k->entry = e;
		if (!c->host[0]) {
			k->naddr = 1;
			to_gdoi(&c->addr, &k->addr[0]);
		}
		/* every key server keeps a place, its first address at least */
		size_t room = GDOI_MEMBER_MAX_KS - *n - (sc->cfg.nks - e - 1);
		size_t take = k->naddr < room ? k->naddr : room;
		if (!take) {
			out[*n] = (struct gdoi_addr){ .port = c->addr.port };
			sc->slot_entry[(*n)++] = e;
			continue;
		}
		for (size_t i = 0; i < take; i++) {
			out[*n] = k->addr[i];
			sc->slot_entry[(*n)++] = e;
		}
	}
	sc->nslots = *n;
}

size_t sc_ks_entry(const struct sidecar *sc, size_t slot)
{
	return slot < sc->nslots ? sc->slot_entry[slot] : 0;
}

/* The new list to the engine, the current key server kept where its address stays. */
static void apply(struct sidecar *sc)
{
	size_t cur = gdoi_member_ks_current(sc->member), entry = sc_ks_entry(sc, cur), at = SIZE_MAX, n;
	struct gdoi_addr was = sc->slots[cur];

	sc_ks_list(sc, sc->slots, &n);
	for (size_t i = 0; i < n && at == SIZE_MAX; i++)
		if (sc->slot_entry[i] == entry && same(&sc->slots[i], &was))
			at = i;
	for (size_t i = 0; i < n && at == SIZE_MAX; i++)
		if (sc->slot_entry[i] == entry)
			at = i;
	gdoi_member_set_ks(sc->member, sc->slots, n, at == SIZE_MAX ? 0 : at, sc_now());
	sc_ikev2_ks_changed(sc);
}

/* The addresses of RES a socket of the registration family reaches, in order, once each. */
static size_t collect(const struct sidecar *sc, const struct addrinfo *res, uint16_t port,
		      struct gdoi_addr *out)
{
	size_t n = 0;

	for (const struct addrinfo *r = res; r && n < SC_MAX_KS_ADDRS; r = r->ai_next) {
		struct gdoi_addr a = { .port = port };
		uint16_t ignored;
		bool dup = false;
		a.len = (uint8_t)dm_sockaddr_split(r->ai_addr, a.ip, &ignored);
		if (!a.len || !sc_local_reaches(&sc->cfg, a.len) || (a.len == 16 && sc->udp_family != AF_INET6))
			continue;
		for (size_t i = 0; i < n; i++)
			dup |= same(&out[i], &a);
		if (!dup)
			out[n++] = a;
	}
	return n;
}

static void log_addrs(const struct sc_ks_addrs *k)
{
	char line[SC_MAX_KS_ADDRS * 58 + 8] = "", a[64];

	for (size_t i = 0; i < k->naddr; i++) {
		dm_addr_format(k->addr[i].ip, k->addr[i].len, k->addr[i].port, a, sizeof a);
		snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? ", " : "", a);
	}
	sc_log("key server %s: resolved to %s", k->sc->cfg.ks[k->entry].host, line);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct sc_ks_addrs *k = req->data;
	struct sidecar *sc = k->sc;
	const struct sc_ks_cfg *c = &sc->cfg.ks[k->entry];
	struct gdoi_addr got[SC_MAX_KS_ADDRS];
	size_t n = status ? 0 : collect(sc, res, c->addr.port, got);
	char key[300];

	uv_freeaddrinfo(res);
	k->busy = false;
	sc->resolving--;
	if (sc->stopping)
		return;
	if (!n) {
		snprintf(key, sizeof key, "resolve %s", c->host);
		sc_log_limited(key, "key server %s: cannot resolve: %s; %s", c->host,
			       status ? uv_strerror(status) : "no address of the registration socket's family",
			       k->naddr ? "keeping its last addresses" : "trying again at the next failover");
	} else if (n != k->naddr || memcmp(got, k->addr, n * sizeof got[0])) {
		memcpy(k->addr, got, n * sizeof got[0]);
		k->naddr = n;
		log_addrs(k);
		apply(sc);
	}
	/* the first registration waits until every name was tried once */
	if (sc->serviced || !sc->resolving)
		sc_service(sc);
}

static bool resolve(struct sc_ks_addrs *k)
{
	struct sidecar *sc = k->sc;
	const struct sc_ks_cfg *c = &sc->cfg.ks[k->entry];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP };
	int rc;

	if (!c->host[0] || k->busy)
		return false;
	hints.ai_family = sc->udp_family == AF_INET ? AF_INET :
			  sc->cfg.local_set && !sc_local_reaches(&sc->cfg, 4) ? AF_INET6 : AF_UNSPEC;
	k->req.data = k;
	if ((rc = uv_getaddrinfo(sc->loop, &k->req, on_resolved, c->host, NULL, &hints))) {
		char key[300];
		snprintf(key, sizeof key, "resolve %s", c->host);
		sc_log_limited(key, "key server %s: cannot resolve: %s", c->host, uv_strerror(rc));
		return false;
	}
	k->busy = true;
	sc->resolving++;
	return true;
}

unsigned sc_resolve_all(struct sidecar *sc)
{
	unsigned n = 0;

	for (size_t e = 0; e < sc->cfg.nks; e++)
		n += resolve(&sc->ks_addrs[e]);
	return n;
}

void sc_resolve_failover(struct sidecar *sc, size_t slot)
{
	size_t entry = sc_ks_entry(sc, slot), next = sc->nslots ? (slot + 1) % sc->nslots : 0;

	if (next == 0 || sc_ks_entry(sc, next) != entry)
		resolve(&sc->ks_addrs[entry]);
}
