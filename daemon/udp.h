/*
 * udp.h - binding a daemon's UDP socket to a configured address. An IPv6
 * address serves IPv6 only, except [::], which is dual-stack whatever
 * net.ipv6.bindv6only says (IPv4 peers arrive as ::ffff:A.B.C.D; dm_sockaddr_split
 * unmaps them).
 */
#ifndef DM_UDP_H
#define DM_UDP_H

#include <uv.h>

#include "daemon/addr.h"

/* Binds H (made with uv_udp_init_ex for FAMILY) to IP (4 octets for AF_INET,
 * 16 for AF_INET6) and PORT. 0 or a libuv error. */
int dm_udp_bind(uv_udp_t *h, int family, const uint8_t *ip, uint16_t port, unsigned flags);

/* Joins H (made with uv_udp_init_ex, not yet bound) to the SO_REUSEPORT group
 * of the address it will be bound to: the kernel spreads datagrams over the
 * group's sockets by a hash of the peer's address and port, so one peer stays
 * on one socket. 0 or a libuv error. */
int dm_udp_reuseport(uv_udp_t *h);

/* 0 when nothing holds IP:PORT (a socket without SO_REUSEPORT is bound and let
 * go again), else the libuv error of that bind (UV_EADDRINUSE): a group of
 * SO_REUSEPORT sockets would otherwise quietly share the port with another
 * process of the same user that already has such a group. */
int dm_udp_port_free(int family, const uint8_t *ip, uint16_t port);

#endif
