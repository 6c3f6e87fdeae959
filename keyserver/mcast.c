/*
 * mcast.c - a group's multicast push sender: a UDP socket of the group's family
 * (rekey_multicast IPv4 or IPv6), leaving by rekey_interface and with rekey_ttl
 * as its TTL / hop limit. The interface is given by address, name or index
 * (docs/keyserver.md); a name is resolved when the sender opens, so an interface
 * that comes up after the daemon is found on the next reload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/addr.h"
#include "daemon/ifaddr.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"

/* IP_MULTICAST_IF / IPV6_MULTICAST_IF from the configured interface; 0 or -errno. */
static int set_interface(int fd, int family, const struct ks_mcast_if *mi, char *what, size_t wl)
{
	unsigned index = mi->index;

	if (mi->name[0] && !(index = if_nametoindex(mi->name))) {
		snprintf(what, wl, "no interface named '%s'", mi->name);
		return -ENODEV;
	}
	if (family == AF_INET6) {
		if (mi->addr.len == 16 && !(index = dm_if_index_of_addr6(mi->addr.ip))) {
			snprintf(what, wl, "no interface holds the address");
			return -EADDRNOTAVAIL;
		}
		return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof(index)) ? -errno : 0;
	}
	struct ip_mreqn mr = { .imr_ifindex = (int)index };
	if (mi->addr.len == 4)
		memcpy(&mr.imr_address, mi->addr.ip, 4);
	return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ? -errno : 0;
}

static void interface_name(const struct ks_mcast_if *mi, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (mi->addr.len)
		snprintf(out, cap, "%s", inet_ntop(mi->addr.len == 4 ? AF_INET : AF_INET6, mi->addr.ip, a, sizeof(a)));
	else if (mi->name[0])
		snprintf(out, cap, "%s", mi->name);
	else if (mi->index)
		snprintf(out, cap, "index %u", mi->index);
	else
		snprintf(out, cap, "default");
}

/* Interface, hop limit and loopback on the open sender. */
static int apply(struct ks_group *g, char *what, size_t wl)
{
	const struct ks_group_cfg *c = g->cfg;
	uv_os_fd_t fd;
	int rc = uv_fileno((uv_handle_t *)&g->mcast, &fd);

	if (!rc && ks_mcast_if_set(&c->mcast_if))
		rc = set_interface(fd, g->mcast_family, &c->mcast_if, what, wl);
	if (!rc)
		rc = uv_udp_set_multicast_ttl(&g->mcast, c->mcast_ttl);
	if (!rc)
		rc = uv_udp_set_multicast_loop(&g->mcast, 1);
	return rc;
}

void ks_mcast_open(struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	struct sockaddr_storage any;
	char ifs[64], what[96] = "";
	int rc, family = c->mcast_addr.len == 16 ? AF_INET6 : AF_INET;

	if (!c->mcast)
		return;
	interface_name(&c->mcast_if, ifs, sizeof(ifs));
	if (g->mcast_open) {
		if (family != g->mcast_family) {
			ks_log(KS_WARN, "group %s: rekey_multicast changed address family: a restart applies it",
			       c->name);
			return;
		}
		rc = apply(g, what, sizeof(what));
	} else {
		/* bound to the interface's address when given by address (its source) */
		static const uint8_t unspecified[16];
		const uint8_t *src = c->mcast_if.addr.len ? c->mcast_if.addr.ip : unspecified;
		dm_sockaddr_make(family, src, family == AF_INET ? 4 : 16, 0, &any);
		rc = uv_udp_init_ex(g->ks->loop, &g->mcast, (unsigned)family);
		if (!rc) {
			g->mcast_open = true;
			g->mcast_family = family;
			rc = uv_udp_bind(&g->mcast, (const struct sockaddr *)&any, 0);
		}
		if (!rc)
			rc = apply(g, what, sizeof(what));
	}
	if (rc)
		ks_log(KS_ERR, "group %s: multicast sender (interface %s): %s%s%s", c->name, ifs,
		       uv_strerror(rc), what[0] ? ": " : "", what);
}
