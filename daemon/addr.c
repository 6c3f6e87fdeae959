/* addr.c - see addr.h. */
#include "daemon/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits S into HOST (a copy, brackets removed) and PORT (NULL when none). */
static int split(const char *s, char *host, size_t hostlen, const char **port)
{
	const char *h = s, *end, *colon;

	*port = NULL;
	if (*s == '[') {
		h = s + 1;
		end = strchr(h, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		if (end[1] == ':')
			*port = end + 2;
	} else {
		colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) { /* one colon: ADDR:PORT */
			end = colon;
			*port = colon + 1;
		} else { /* none, or a bare IPv6 address */
			end = s + strlen(s);
		}
	}
	if (end == h)
		return -EINVAL;
	if ((size_t)(end - h) >= hostlen)
		return -ENAMETOOLONG;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int dm_addr_parse(const char *s, uint16_t default_port, unsigned flags, struct dm_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = split(s, host, sizeof host, &port)))
		return rc;
	if (inet_pton(AF_INET, host, out->ip) == 1 && *s != '[')
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->ip) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	out->port = default_port;
	if (port) {
		if ((rc = parse_port(port, &out->port)))
			return rc;
		out->has_port = true;
	} else if (flags & DM_ADDR_NEED_PORT) {
		return -ENOENT;
	}
	return 0;
}

static bool host_name_ok(const char *h)
{
	size_t label = 0;
	bool digits = true;

	if (!*h || strlen(h) > 253)
		return false;
	for (const char *c = h; *c; c++) {
		if (*c == '.') {
			if (!label || c[-1] == '-')
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      (*c == '-' && label)))
			return false;
		digits &= *c >= '0' && *c <= '9';
		if (++label > 63)
			return false;
	}
	return label ? !digits && h[strlen(h) - 1] != '-' : true;	/* "name." ends in a dot */
}

int dm_host_parse(const char *s, uint16_t default_port, char *host, size_t hostlen, uint16_t *port)
{
	const char *p;
	int rc;

	if (*s == '[')
		return -EINVAL;	/* brackets hold IPv6 literals only */
	if ((rc = split(s, host, hostlen, &p)))
		return rc;
	if (!host_name_ok(host))
		return -EINVAL;
	*port = default_port;
	return p ? parse_port(p, port) : 0;
}

int dm_addr_sin(const struct dm_addr *a, struct sockaddr_in *out)
{
	if (a->family != AF_INET)
		return -EAFNOSUPPORT;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	memcpy(&out->sin_addr, a->ip, 4);
	out->sin_port = htons(a->port);
	return 0;
}

bool dm_addr_is_loopback(const struct dm_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->ip[0] == 127;
	return a->family == AF_INET6 && !memcmp(a->ip, v6_loopback, sizeof v6_loopback);
}

socklen_t dm_sockaddr_make(int sock_family, const uint8_t *ip, size_t len, uint16_t port,
			   struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	if (len == 4 && sock_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip, 4);
		return sizeof *sin;
	}
	if ((len == 4 || len == 16) && sock_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (len == 4) {	/* ::ffff:A.B.C.D */
			sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6->sin6_addr.s6_addr[12], ip, 4);
		} else {
			memcpy(&sin6->sin6_addr, ip, 16);
		}
		return sizeof *sin6;
	}
	return 0;
}

size_t dm_sockaddr_split(const struct sockaddr *sa, uint8_t ip[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memcpy(ip, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(ip, &sin6->sin6_addr.s6_addr[12], 4);
			return 4;
		}
		memcpy(ip, &sin6->sin6_addr, 16);
		return 16;
	}
	return 0;
}

void dm_addr_format(const uint8_t *ip, size_t len, uint16_t port, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (len != 4 && len != 16) {
		snprintf(out, cap, "?:%u", port);
		return;
	}
	inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, a, sizeof a);
	snprintf(out, cap, len == 4 ? "%s:%u" : "[%s]:%u", a, port);
}

bool dm_addr_is_multicast(const uint8_t *ip, size_t len)
{
	return (len == 4 && (ip[0] & 0xf0) == 0xe0) || (len == 16 && ip[0] == 0xff);
}
