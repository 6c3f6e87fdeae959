/*
 * metrics.c - gdoictl metrics: one HTTP/1.1 GET of a daemon's metrics page
 * (docs/metrics.md), printed as it came. The target is ADDR:PORT (path
 * /metrics) or http://ADDR[:PORT]/PATH, numeric addresses only: the
 * daemons listen on loopback, and a name would need a resolver for nothing.
 * Bounded: 5 s to connect, 10 s for the whole answer, 16 MiB at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/addr.h"
#include "tools/gdoictl/gdoictl.h"

#define CONNECT_MS 5000
#define ANSWER_MS 10000
#define MAX_ANSWER (16 * 1024 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits target into an address, its text (the Host header) and a path; 0 or -1 (said why). */
static int parse_target(const char *target, struct dm_addr *a, char hostport[128], char *path, size_t cap)
{
	const char *p = target, *slash;
	bool url = !strncmp(target, "http://", 7);

	if (!strncmp(target, "https://", 8)) {
		fprintf(stderr, "gdoictl: metrics: https is not supported (the daemons serve plain HTTP on "
			"loopback)\n");
		return -1;
	}
	if (url)
		p += 7;
	slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (!hl || hl >= 128 || (slash && strlen(slash) >= cap)) {
		fprintf(stderr, "gdoictl: metrics: expected ADDR:PORT or http://ADDR:PORT/PATH, got '%s'\n", target);
		return -1;
	}
	memcpy(hostport, p, hl);
	hostport[hl] = '\0';
	snprintf(path, cap, "%s", slash ? slash : "/metrics");
	for (const char *q = path; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
			fprintf(stderr, "gdoictl: metrics: the path may not hold spaces or control characters\n");
			return -1;
		}
	if (dm_addr_parse(hostport, 80, url ? 0 : DM_ADDR_NEED_PORT, a)) {
		fprintf(stderr, "gdoictl: metrics: expected a numeric ADDR:PORT (127.0.0.1:9848, [::1]:9848), "
			"got '%s'\n", hostport);
		return -1;
	}
	return 0;
}

/* Waits for events on fd until deadline; 0 ready, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int dial(const struct dm_addr *a)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, err = 0;
	socklen_t el = sizeof err;

	if (a->family == AF_INET) {
		dm_addr_sin(a, (struct sockaddr_in *)&ss);
		sl = sizeof(struct sockaddr_in);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		sl = sizeof *s6;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	int rc = wait_fd(fd, POLLOUT, now_ms() + CONNECT_MS);
	if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
		err = errno;
	if (rc || err) {
		close(fd);
		return rc ? rc : -err;
	}
	return fd;
}

/* The whole answer until the server closes; 0 or -errno. */
static int exchange(int fd, const char *req, char **out, size_t *outlen)
{
	long long deadline = now_ms() + ANSWER_MS;
	size_t off = 0, len = strlen(req), cap = 65536, n = 0;
	char *buf;
	int rc;

	while (off < len) {
		if ((rc = wait_fd(fd, POLLOUT, deadline)))
			return rc;
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		off += w > 0 ? (size_t)w : 0;
	}
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	for (;;) {
		if ((rc = wait_fd(fd, POLLIN, deadline)))
			goto fail;
		if (n + 1 == cap) {
			char *b = cap * 2 <= MAX_ANSWER ? realloc(buf, cap * 2) : NULL;
			if (!b) {
				rc = -EFBIG;
				goto fail;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
fail:
	free(buf);
	return rc;
}

int gdoictl_metrics(const char *target)
{
	struct dm_addr a;
	char host[128], path[1024], req[1300], *ans = NULL, *body;
	size_t n = 0;
	int fd, rc, code;

	if (parse_target(target, &a, host, path, sizeof path))
		return 2;
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
		 path, host);
	if ((fd = dial(&a)) < 0) {
		fprintf(stderr, "gdoictl: metrics: cannot connect to %s: %s (is the daemon's metrics listener on?)\n",
			target, strerror(-fd));
		return 3;
	}
	rc = exchange(fd, req, &ans, &n);
	close(fd);
	if (rc) {
		fprintf(stderr, "gdoictl: metrics: %s: %s\n", target,
			rc == -EFBIG ? "answer over 16 MiB" : strerror(-rc));
		return 3;
	}
	body = strstr(ans, "\r\n\r\n");
	if (sscanf(ans, "HTTP/1.%*1[01] %3d", &code) != 1 || !body) {
		fprintf(stderr, "gdoictl: metrics: %s: not an HTTP answer\n", target);
		free(ans);
		return 3;
	}
	body += 4;
	if (code != 200) {
		fprintf(stderr, "gdoictl: metrics: %s: HTTP %d\n", target, code);
		free(ans);
		return 3;
	}
	fwrite(body, 1, n - (size_t)(body - ans), stdout);
	free(ans);
	return fflush(stdout) ? 3 : 0;
}
