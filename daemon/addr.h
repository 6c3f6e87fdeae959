/*
 * addr.h - the ADDR[:PORT] addresses configuration files and command lines give both
 * daemons. The text is split first ("A.B.C.D:PORT", "[V6]:PORT", a bare address, or a
 * bare IPv6 address with no brackets and no port), then the host is read by family:
 * IPv6 parses today, and callers that hold IPv4 only refuse it by family, so growing
 * IPv6 support touches the callers, not the syntax.
 */
#ifndef DM_ADDR_H
#define DM_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct dm_addr {
	int family;	/* AF_INET or AF_INET6 */
	uint8_t ip[16]; /* network order; the first 4 octets for AF_INET */
	uint16_t port;	/* the port given, else the default */
	bool has_port;	/* a port was written */
};

/* Parses S. DEFAULT_PORT stands when none is written; with DM_ADDR_NEED_PORT a port
 * must be written. Returns 0, -EINVAL (not an address, or a port out of 0..65535),
 * -ENOENT (DM_ADDR_NEED_PORT and no port) or -ENAMETOOLONG. */
#define DM_ADDR_NEED_PORT 0x1u
int dm_addr_parse(const char *s, uint16_t default_port, unsigned flags, struct dm_addr *out);

/* Whether A is 127.0.0.0/8 or ::1. */
bool dm_addr_is_loopback(const struct dm_addr *a);

/* The IPv4 socket address of A; -EAFNOSUPPORT when A is not IPv4. */
int dm_addr_sin(const struct dm_addr *a, struct sockaddr_in *out);

#endif
