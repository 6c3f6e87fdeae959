/*
 * addr.h - the ADDR[:PORT] addresses configuration files and command lines give both
 * daemons. The text is split first ("A.B.C.D:PORT", "[V6]:PORT", a bare address, or a
 * bare IPv6 address with no brackets and no port), then the host is read by family.
 * Callers that hold IPv4 only refuse IPv6 by family; the others turn addresses into
 * socket addresses (and back) with the dm_sockaddr_* helpers, which also hide the
 * IPv4-mapped form a dual-stack socket uses.
 */
#ifndef DM_ADDR_H
#define DM_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
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

/* A host name and optional port, "ks1.example[:PORT]" (RFC 1123 labels: letters,
 * digits, '-', at most 63 octets each and 253 in all; the last label not all digits,
 * so "1.2.3" is no name). DEFAULT_PORT stands when none is written. 0, -EINVAL or
 * -ENAMETOOLONG (HOST holds HOSTLEN octets with its NUL). */
int dm_host_parse(const char *s, uint16_t default_port, char *host, size_t hostlen, uint16_t *port);

/* Whether A is 127.0.0.0/8 or ::1. */
bool dm_addr_is_loopback(const struct dm_addr *a);

/* The IPv4 socket address of A; -EAFNOSUPPORT when A is not IPv4. */
int dm_addr_sin(const struct dm_addr *a, struct sockaddr_in *out);

/* The socket address of the LEN-octet address IP (4 IPv4, 16 IPv6) and PORT, as a
 * socket of SOCK_FAMILY sends to it: an IPv4 address on an AF_INET6 (dual-stack)
 * socket becomes ::ffff:A.B.C.D. Returns its length, 0 when that socket cannot
 * reach it (IPv6 on AF_INET, or LEN neither 4 nor 16). */
socklen_t dm_sockaddr_make(int sock_family, const uint8_t *ip, size_t len, uint16_t port,
			   struct sockaddr_storage *out);

/* The address of SA into IP and PORT; returns its length (4 or 16), 0 for another
 * family. An IPv4-mapped IPv6 address (how a dual-stack socket reports an IPv4
 * peer) comes back as the IPv4 address, so peers compare alike on either socket. */
size_t dm_sockaddr_split(const struct sockaddr *sa, uint8_t ip[16], uint16_t *port);

/* "A.B.C.D:PORT" or "[V6]:PORT" of the LEN-octet address IP (56 octets suffice). */
void dm_addr_format(const uint8_t *ip, size_t len, uint16_t port, char *out, size_t cap);

/* Multicast: 224.0.0.0/4 or ff00::/8. */
bool dm_addr_is_multicast(const uint8_t *ip, size_t len);

#endif
