/*
 * client.c - the client half of docs/ipc.md (see client.h).
 */
#include "ipc/client.h"
#include "ipc/proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 4096

struct ipc_client {
	int fd;
	size_t max_line;	/* longest line accepted from the server */
	size_t len, cap;
	char *buf;		/* max_line + READ_CHUNK octets */
	json_t *queue;		/* events read while waiting for a reply */
};

int ipc_client_connect(const char *path, struct ipc_client **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ipc_client *c;
	int e;

	*out = NULL;
	if (!path)
		path = IPC_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	if ((e = ipc_client_set_max_line(c, IPC_MAX_LINE))) {
		ipc_client_close(c);
		return e;
	}
	c->queue = json_array();
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || !c->queue) {
		e = c->fd < 0 ? -errno : -ENOMEM;
		ipc_client_close(c);
		return e;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa)) {
		e = -errno;
		ipc_client_close(c);
		return e;
	}
	*out = c;
	return 0;
}

void ipc_client_close(struct ipc_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	json_decref(c->queue);
	if (c->buf)
		explicit_bzero(c->buf, c->cap);
	free(c->buf);
	free(c);
}

int ipc_client_set_max_line(struct ipc_client *c, size_t max_line)
{
	size_t cap = max_line + READ_CHUNK;
	char *nb;

	if (max_line < IPC_MAX_LINE || max_line > IPC_CLIENT_MAX_LINE || c->len > max_line)
		return -EINVAL;
	nb = malloc(cap);	/* not realloc: what the old buffer held is wiped */
	if (!nb)
		return -ENOMEM;
	if (c->buf) {
		memcpy(nb, c->buf, c->len);
		explicit_bzero(c->buf, c->cap);
		free(c->buf);
	}
	c->buf = nb;
	c->cap = cap;
	c->max_line = max_line;
	return 0;
}

int ipc_client_fd(const struct ipc_client *c)
{
	return c->fd;
}

int ipc_client_send(struct ipc_client *c, const json_t *msg)
{
	size_t len, off = 0;
	char *line = ipc_encode_line(msg, &len);
	int rc = 0;

	if (!line)
		return -EINVAL;
	while (off < len) {
		ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = c->fd, .events = POLLOUT };
				poll(&p, 1, -1);
				continue;
			}
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	explicit_bzero(line, len);
	free(line);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A complete line already buffered: 1 and *msg, 0 none, -EPROTO bad. */
static int take_line(struct ipc_client *c, json_t **msg)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n;
	json_t *j;

	if (!nl)
		return c->len >= c->max_line ? -EPROTO : 0;
	n = (size_t)(nl - c->buf);
	if (n + 1 > c->max_line)
		return -EPROTO;
	j = json_loadb(c->buf, n, JSON_REJECT_DUPLICATES, NULL);
	memmove(c->buf, nl + 1, c->len - n - 1);
	/* the line read and the copy the move leaves past the new end */
	explicit_bzero(c->buf + c->len - n - 1, n + 1);
	c->len -= n + 1;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return -EPROTO;
	}
	*msg = j;
	return 1;
}

static int read_raw(struct ipc_client *c, json_t **msg, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	for (;;) {
		int rc = take_line(c, msg);
		ssize_t n;
		if (rc)
			return rc;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int wait = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : (int)(deadline - now_ms());
		if (timeout_ms > 0 && wait < 0)
			wait = 0;
		rc = poll(&p, 1, wait);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (rc == 0)
			return 0;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		c->len += (size_t)n;
	}
}

int ipc_client_read(struct ipc_client *c, json_t **msg, int timeout_ms)
{
	*msg = NULL;
	if (json_array_size(c->queue)) {
		*msg = json_incref(json_array_get(c->queue, 0));
		json_array_remove(c->queue, 0);
		return 1;
	}
	return read_raw(c, msg, timeout_ms);
}

int ipc_client_request(struct ipc_client *c, const json_t *req, json_t **reply, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int rc;

	*reply = NULL;
	if ((rc = ipc_client_send(c, req))) {
		/* a server refusing us may have said why before closing: read it */
		json_t *m;
		if ((rc == -EPIPE || rc == -ECONNRESET) && read_raw(c, &m, 0) == 1) {
			if (json_object_get(m, "error") && !json_object_get(m, "event")) {
				*reply = m;
				return 1;
			}
			json_decref(m);
		}
		return rc;
	}
	for (;;) {
		json_t *m;
		int wait = timeout_ms <= 0 ? timeout_ms : (int)(deadline - now_ms());
		if (timeout_ms > 0 && wait <= 0)
			return 0;
		rc = read_raw(c, &m, wait);
		if (rc <= 0)
			return rc;
		if (json_object_get(m, "event")) {
			json_array_append_new(c->queue, m);
			continue;
		}
		/* requests are answered in order: a reply to another id is not ours */
		if (json_object_get(req, "id") &&
		    !json_equal(json_object_get(m, "id"), json_object_get(req, "id"))) {
			json_decref(m);
			return -EPROTO;
		}
		*reply = m;
		return 1;
	}
}

json_t *ipc_group_json(const char *group)
{
	char *end;
	unsigned long v;

	if (*group >= '0' && *group <= '9') {
		errno = 0;
		v = strtoul(group, &end, 10);
		if (!*end && !errno && v <= UINT32_MAX)
			return json_integer((json_int_t)v);
	}
	return json_string(group);
}

static void reply_error(const json_t *reply, char *err, size_t errlen)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	snprintf(err, errlen, "%s: %s", code ? code : "error", msg ? msg : "(no message)");
}

int ipc_client_get(struct ipc_client *c, const char *group, bool subscribe,
		   struct ipc_snapshot *snap, char *err, size_t errlen, int timeout_ms)
{
	json_t *req = json_pack("{s:s, s:o}", "op", subscribe ? "subscribe" : "get", "group",
				ipc_group_json(group));
	json_t *reply = NULL;
	int rc;

	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = ipc_client_request(c, req, &reply, timeout_ms);
	json_decref(req);
	if (rc <= 0) {
		snprintf(err, errlen, "%s", rc == 0 ? "no reply from the sidecar" : strerror(-rc));
		return -1;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		reply_error(reply, err, errlen);
		json_decref(reply);
		return -1;
	}
	rc = ipc_snapshot_from_json(json_object_get(reply, "snapshot"), snap, err, errlen);
	ipc_snapshot_json_wipe(reply);
	json_decref(reply);
	return rc;
}

int ipc_client_event_snapshot(const json_t *msg, struct ipc_snapshot *snap, char *err,
			      size_t errlen)
{
	const char *ev = json_string_value(json_object_get(msg, "event"));

	if (!ev || strcmp(ev, "snapshot") != 0)
		return 0;
	return ipc_snapshot_from_json(json_object_get(msg, "snapshot"), snap, err, errlen) ? -1 : 1;
}
