/* udp.c - see udp.h. */
#include "daemon/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int dm_udp_bind(uv_udp_t *h, int family, const uint8_t *ip, uint16_t port, unsigned flags)
{
	static const uint8_t any6[16];
	struct sockaddr_storage sa;
	uv_os_fd_t fd;
	int rc;

	if (!dm_sockaddr_make(family, ip, family == AF_INET6 ? 16 : 4, port, &sa))
		return UV_EAFNOSUPPORT;
	if (family == AF_INET6) {
		int v6only = memcmp(ip, any6, 16) != 0;
		if ((rc = uv_fileno((uv_handle_t *)h, &fd)))
			return rc;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
			return uv_translate_sys_error(errno);
	}
	return uv_udp_bind(h, (const struct sockaddr *)&sa, flags);
}
