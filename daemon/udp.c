/* udp.c - see udp.h. */
#include "daemon/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint8_t any6[16];

/* [::] is dual-stack, any other IPv6 address IPv6 only. */
static int set_v6only(int fd, const uint8_t *ip)
{
	int v6only = memcmp(ip, any6, 16) != 0;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) ? uv_translate_sys_error(errno) : 0;
}

int dm_udp_bind(uv_udp_t *h, int family, const uint8_t *ip, uint16_t port, unsigned flags)
{
	struct sockaddr_storage sa;
	uv_os_fd_t fd;
	int rc;

	if (!dm_sockaddr_make(family, ip, family == AF_INET6 ? 16 : 4, port, &sa))
		return UV_EAFNOSUPPORT;
	if (family == AF_INET6) {
		if ((rc = uv_fileno((uv_handle_t *)h, &fd)) || (rc = set_v6only(fd, ip)))
			return rc;
	}
	return uv_udp_bind(h, (const struct sockaddr *)&sa, flags);
}

int dm_udp_reuseport(uv_udp_t *h)
{
	uv_os_fd_t fd;
	int one = 1, rc;

	if ((rc = uv_fileno((uv_handle_t *)h, &fd)))
		return rc;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		return uv_translate_sys_error(errno);
	return 0;
}

int dm_udp_port_free(int family, const uint8_t *ip, uint16_t port)
{
	struct sockaddr_storage sa;
	int rc = 0;

	if (!dm_sockaddr_make(family, ip, family == AF_INET6 ? 16 : 4, port, &sa))
		return UV_EAFNOSUPPORT;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return uv_translate_sys_error(errno);
	if (family == AF_INET6)
		rc = set_v6only(fd, ip);
	if (!rc && bind(fd, (const struct sockaddr *)&sa,
			family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
		rc = uv_translate_sys_error(errno);
	close(fd);
	return rc;
}
