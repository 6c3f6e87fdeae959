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

#endif
