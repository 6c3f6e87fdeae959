/*
 * ifaddr.h - a network interface as configuration names it for multicast: by
 * address, by name (eth0, lo) or by index (2), and the index the kernel's
 * IPv6 multicast options (and IP_ADD_MEMBERSHIP's ip_mreqn) take. A name is
 * looked up when used, so an interface that appears later is found then.
 */
#ifndef DM_IFADDR_H
#define DM_IFADDR_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/addr.h"

struct dm_if {
	bool by_addr;
	struct dm_addr addr;		/* by_addr: an address of the interface */
	char name[IF_NAMESIZE];		/* "" = not by name */
	unsigned index;			/* 0 = not by index */
};

/* "192.0.2.7", "2001:db8::7", "eth0" or "2" (no port). 0 or -EINVAL. */
int dm_if_parse(const char *s, struct dm_if *out);
/* Whether anything was configured (else the kernel chooses). */
bool dm_if_set(const struct dm_if *i);
/* The interface index of I: its number, its name looked up, or (IPv6 address)
 * the interface holding that address. 0 with nothing configured or an IPv4
 * address (ip_mreqn takes the address itself); -ENODEV / -EADDRNOTAVAIL and a
 * reason in WHY when the name or address is on no interface. */
int dm_if_index(const struct dm_if *i, char *why, size_t wl);
/* The index of the interface holding the IPv6 address ip, 0 when none does. */
unsigned dm_if_index_of_addr6(const uint8_t ip[16]);
/* "eth0", "index 2", the address, or "default". */
void dm_if_format(const struct dm_if *i, char *out, size_t cap);

#endif
