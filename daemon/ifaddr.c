/* ifaddr.c - see ifaddr.h. */
#include "daemon/ifaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dm_if_parse(const char *s, struct dm_if *out)
{
	unsigned long v;
	char *end;

	memset(out, 0, sizeof *out);
	if (!dm_addr_parse(s, 0, 0, &out->addr)) {
		out->by_addr = true;
		return out->addr.has_port ? -EINVAL : 0;
	}
	if (*s >= '1' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end || errno || v > UINT32_MAX)
			return -EINVAL;
		out->index = (unsigned)v;
		return 0;
	}
	/* what the kernel could name an interface: no '/', ':', '[' or blanks */
	if (!*s || strlen(s) >= sizeof out->name || strpbrk(s, "/:[] \t"))
		return -EINVAL;
	snprintf(out->name, sizeof out->name, "%s", s);
	return 0;
}

bool dm_if_set(const struct dm_if *i)
{
	return i->by_addr || i->name[0] || i->index;
}

unsigned dm_if_index_of_addr6(const uint8_t ip[16])
{
	struct ifaddrs *ifs, *i;
	unsigned index = 0;

	if (getifaddrs(&ifs))
		return 0;
	for (i = ifs; i && !index; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
		    !memcmp(&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr, ip, 16))
			index = if_nametoindex(i->ifa_name);
	freeifaddrs(ifs);
	return index;
}

int dm_if_index(const struct dm_if *i, char *why, size_t wl)
{
	unsigned index = i->index;

	if (i->name[0] && !(index = if_nametoindex(i->name))) {
		snprintf(why, wl, "no interface named '%s'", i->name);
		return -ENODEV;
	}
	if (i->by_addr && i->addr.family == AF_INET6 && !(index = dm_if_index_of_addr6(i->addr.ip))) {
		snprintf(why, wl, "no interface holds the address");
		return -EADDRNOTAVAIL;
	}
	return index > INT32_MAX ? -ENODEV : (int)index;
}

void dm_if_format(const struct dm_if *i, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (i->by_addr)
		snprintf(out, cap, "%s", inet_ntop(i->addr.family, i->addr.ip, a, sizeof a));
	else if (i->name[0])
		snprintf(out, cap, "%s", i->name);
	else if (i->index)
		snprintf(out, cap, "index %u", i->index);
	else
		snprintf(out, cap, "default");
}
