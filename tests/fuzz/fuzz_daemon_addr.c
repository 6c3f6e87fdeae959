/*
 * fuzz_daemon_addr.c - libFuzzer target for dm_addr_parse (daemon/addr.h), the
 * ADDR[:PORT] parser of both daemons' configuration files and command lines.
 *
 * Input: octet 0 = flags (bit 0 DM_ADDR_NEED_PORT), octets 1-2 the default
 * port, then the text (a NUL ends it, as in a C string). Invariants (abort()):
 * the result is 0 or one of the documented errors; a parsed address is
 * AF_INET or AF_INET6 with the default port unless one was written, and
 * parses again from its own printed form to the same address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > 4096)
		return 0;
	unsigned flags = data[0] & 1 ? DM_ADDR_NEED_PORT : 0;
	uint16_t def = (uint16_t)(data[1] << 8 | data[2]);
	char *s = malloc(size - 2);
	if (!s)
		abort();
	memcpy(s, data + 3, size - 3);
	s[size - 3] = 0;
	struct dm_addr a;
	memset(&a, 0xa5, sizeof(a));
	int rc = dm_addr_parse(s, def, flags, &a);
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT && rc != -ENAMETOOLONG)
		abort();
	if (rc == 0) {
		if (a.family != AF_INET && a.family != AF_INET6)
			abort();
		if (!a.has_port && a.port != def)
			abort();
		char host[INET6_ADDRSTRLEN], again[INET6_ADDRSTRLEN + 16];
		if (!inet_ntop(a.family, a.ip, host, sizeof(host)))
			abort();
		snprintf(again, sizeof(again), a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, a.port);
		struct dm_addr b;
		if (dm_addr_parse(again, 0, DM_ADDR_NEED_PORT, &b) || b.family != a.family || b.port != a.port ||
		    memcmp(b.ip, a.ip, a.family == AF_INET ? 4 : 16))
			abort();
		struct sockaddr_in sin;
		int v4 = dm_addr_sin(&a, &sin);
		if ((a.family == AF_INET) != (v4 == 0))
			abort();
	}
	free(s);
	return 0;
}
