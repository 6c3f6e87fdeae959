/*
 * server.c - the libuv server half of docs/ipc.md (see server.h).
 */
#include "ipc/server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/snapshot.h"

#define READ_CHUNK 16384
/*
 * A connection's input buffer starts at one page and doubles while a line being
 * received needs more, up to a whole line and one read; a grown buffer is freed
 * once it holds nothing unparsed, the first page is kept until the connection
 * closes (no allocation per request). Requests are a few hundred octets: 100 subscribers
 * held 8 MiB when each connection carried the worst case (docs/performance.md).
 */
#define IN_FIRST 4096
#define IN_MAX (IPC_MAX_LINE + READ_CHUNK)

struct ipc_conn {
	uv_pipe_t pipe;			/* first: the handle's address is the conn's */
	uv_shutdown_t shutdown;
	struct ipc_server *srv;
	struct ipc_conn *next, *prev;
	struct ipc_peer peer;
	bool closing;
	bool discarding;		/* inside a line that was too long */
	bool paused;			/* output queue past max_output: not reading */
	bool pause_logged;		/* once per connection: a slow reader pauses often */
	bool eof;			/* the peer sent EOF: answer what is buffered, then close */
	bool draining;			/* uv_shutdown issued: no more writes */
	size_t inoff, inlen;		/* unparsed input: in[inoff..inlen) */
	size_t incap;			/* octets at in; 0: none allocated */
	char *in;
	size_t nsubs;
	uint32_t subs[IPC_MAX_SUBSCRIPTIONS];
	unsigned long id;
};

struct ipc_server {
	uv_pipe_t listen;
	uv_loop_t *loop;
	struct ipc_server_cfg cfg;
	char *path;
	struct ipc_conn *conns;
	size_t nconns;
	unsigned long refused_full;	/* connections refused since the last accepted one */
	unsigned long next_id;
	bool closing;
};

struct wreq {
	uv_write_t req;
	size_t len;
	char data[];
};

static void logf_(struct ipc_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct ipc_server *s, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (!s->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.ctx, msg);
}

bool ipc_peer_has_uid(const struct ipc_peer *p, uid_t uid)
{
	return p->uid == uid;
}

bool ipc_peer_has_gid(const struct ipc_peer *p, gid_t gid)
{
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

const struct ipc_peer *ipc_conn_peer(const struct ipc_conn *c)
{
	return &c->peer;
}

uint64_t ipc_conn_id(const struct ipc_conn *c)
{
	return c->id;
}

/* ---- connections ---------------------------------------------------------- */

/* Wipes and frees the input buffer (requests may name what a client asks for). */
static void in_release(struct ipc_conn *c)
{
	if (c->in) {
		explicit_bzero(c->in, c->incap);
		free(c->in);
	}
	c->in = NULL;
	c->incap = 0;
}

/* Makes room to read into: a first page, or twice the buffer when less than a
 * quarter is free. Failing leaves the buffer as it was (full: ENOBUFS closes). */
static void in_grow(struct ipc_conn *c)
{
	size_t cap;
	char *n;

	if (c->incap && (c->incap == IN_MAX || c->incap - c->inlen >= c->incap / 4))
		return;
	cap = c->incap ? c->incap * 2 : IN_FIRST;
	if (cap > IN_MAX)
		cap = IN_MAX;
	if (c->inlen > cap || (n = malloc(cap)) == NULL)
		return;
	if (c->inlen)
		memcpy(n, c->in, c->inlen);
	in_release(c);
	c->in = n;
	c->incap = cap;
}

static void conn_closed(uv_handle_t *h)
{
	struct ipc_conn *c = (struct ipc_conn *)h;

	in_release(c);
	free(c);
}

static void conn_close(struct ipc_conn *c, const char *why)
{
	struct ipc_server *s = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	if (s->cfg.closed)
		s->cfg.closed(s->cfg.ctx, c);
	if (why)
		logf_(s, "ipc: client %lu (pid %ld uid %ld) disconnected: %s", c->id, (long)c->peer.pid,
		      (long)c->peer.uid, why);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_process(struct ipc_conn *c);
static void conn_resume(struct ipc_conn *c);

static size_t conn_queued(struct ipc_conn *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct ipc_conn *c = req->data;

	(void)status;	/* a failed write shows up as a read error / EOF */
	explicit_bzero(w->data, w->len);
	free(w);
	if (c->paused && !c->closing && conn_queued(c) <= c->srv->cfg.max_output / 2)
		conn_resume(c);
}

/* Queues one encoded line. Replies are never dropped (reading stops instead,
 * see conn_process); an event that would pass the bound disconnects the
 * client, which fell behind. */
static void conn_write(struct ipc_conn *c, const char *line, size_t len, bool event)
{
	struct ipc_server *s = c->srv;
	struct wreq *w;
	uv_buf_t b;
	int rc;

	if (c->closing || c->draining)
		return;
	if (event && conn_queued(c) + len > s->cfg.max_output) {
		conn_close(c, "too slow: output buffer full");
		return;
	}
	w = malloc(sizeof *w + len);
	if (!w) {
		conn_close(c, "out of memory");
		return;
	}
	w->len = len;
	w->req.data = c;
	memcpy(w->data, line, len);
	b = uv_buf_init(w->data, (unsigned)len);
	rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_done);
	if (rc) {
		explicit_bzero(w->data, len);
		free(w);
		conn_close(c, uv_strerror(rc));
	}
}

static void conn_send(struct ipc_conn *c, const json_t *msg, bool event)
{
	size_t len;
	char *line = ipc_encode_line_max(msg, c->srv->cfg.max_line_out, &len);

	if (!line) {
		json_t *e = ipc_reply_error(json_object_get(msg, "id"), IPC_E_INTERNAL,
					    "the reply could not be encoded (over %zu octets?)",
					    c->srv->cfg.max_line_out);
		line = e ? ipc_encode_line(e, &len) : NULL;
		json_decref(e);
		if (!line) {
			conn_close(c, "out of memory");
			return;
		}
	}
	conn_write(c, line, len, event);
	explicit_bzero(line, len);
	free(line);
}

void ipc_conn_send(struct ipc_conn *c, const json_t *msg)
{
	conn_send(c, msg, false);
}

static void handle_line(struct ipc_conn *c, const char *line, size_t len)
{
	struct ipc_server *s = c->srv;
	struct ipc_message msg;
	bool blank;
	json_t *reply = ipc_message_parse(line, len, &msg, &blank);

	if (blank)
		return;
	if (!reply && !msg.op) {	/* refused, but no reply could be made (no memory) */
		conn_close(c, "out of memory");
		return;
	}
	if (!reply) {
		reply = s->cfg.handle(s->cfg.ctx, c, &msg);
		if (!reply)
			reply = ipc_reply_error(msg.id, IPC_E_INTERNAL, "internal error");
		ipc_message_free(&msg);
	}
	if (reply) {
		conn_send(c, reply, false);
		json_decref(reply);
	} else {
		conn_close(c, "out of memory");
	}
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct ipc_conn *c = req->data;

	(void)status;
	conn_close(c, NULL);
}

/* After the peer's EOF: once every complete line is answered, the queued
 * replies are flushed (uv_shutdown completes after the pending writes) and
 * the connection closed. A last line without its newline is not a request. */
static void conn_finish(struct ipc_conn *c)
{
	if (c->draining || c->closing)
		return;
	c->draining = true;
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown))
		conn_close(c, NULL);
}

static void too_long(struct ipc_conn *c)
{
	json_t *e = ipc_reply_error(NULL, IPC_E_TOO_LONG, "line longer than %d octets", IPC_MAX_LINE);

	c->discarding = true;
	if (e) {
		conn_send(c, e, false);
		json_decref(e);
	}
}

/*
 * Answers the complete lines buffered, in order. The 65536-octet limit is per
 * line: any number of lines may come in one read. While the client's unsent
 * replies pass max_output, the rest waits in the buffer and reading stops
 * (the client's writes then block in its kernel): a client that never reads
 * costs at most max_output plus one reply.
 */
static void conn_process(struct ipc_conn *c)
{
	while (!c->closing && !c->draining && c->inoff < c->inlen) {
		char *p = c->in + c->inoff;
		size_t avail = c->inlen - c->inoff;
		char *nl = memchr(p, '\n', avail);

		if (conn_queued(c) > c->srv->cfg.max_output) {
			if (!c->paused) {
				if (!c->pause_logged)
					logf_(c->srv, "ipc: client %lu (pid %ld uid %ld): output queue at %zu "
					      "octets: reading paused until it reads", c->id,
					      (long)c->peer.pid, (long)c->peer.uid, conn_queued(c));
				c->pause_logged = true;
				c->paused = true;
				uv_read_stop((uv_stream_t *)&c->pipe);
			}
			return;
		}
		if (!nl) {
			if (avail >= IPC_MAX_LINE && !c->discarding)
				too_long(c);
			if (c->discarding)
				c->inoff = c->inlen;
			break;
		}
		c->inoff += (size_t)(nl - p) + 1;
		if (c->discarding)
			c->discarding = false;
		else if ((size_t)(nl - p) + 1 > IPC_MAX_LINE) {
			too_long(c);
			c->discarding = false;	/* the line is complete: nothing more to skip */
		} else
			handle_line(c, p, (size_t)(nl - p));
	}
	if (c->closing)
		return;
	/* keep the unparsed tail at the front: on_alloc hands out what follows it */
	if (c->inoff) {
		memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
		c->inlen -= c->inoff;
		c->inoff = 0;
	}
	if (!c->inlen && c->incap > IN_FIRST)
		in_release(c);	/* a long line grew it: back to a page at the next read */
	if (c->eof && !c->paused)
		conn_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ipc_conn *c = (struct ipc_conn *)h;

	(void)suggested;
	in_grow(c);
	*buf = c->in ? uv_buf_init(c->in + c->inlen, (unsigned)(c->incap - c->inlen)) : uv_buf_init(NULL, 0);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct ipc_conn *c = (struct ipc_conn *)st;

	(void)buf;
	if (n == UV_EOF) {
		c->eof = true;
		uv_read_stop(st);
	} else if (n < 0) {
		conn_close(c, uv_strerror((int)n));
		return;
	} else {
		c->inlen += (size_t)n;
	}
	conn_process(c);
}

static void conn_resume(struct ipc_conn *c)
{
	c->paused = false;
	conn_process(c);
	if (!c->paused && !c->eof && !c->closing && !c->draining &&
	    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read))
		conn_close(c, "cannot read");
}

static void read_peer(struct ipc_conn *c)
{
	uv_os_fd_t fd;
	struct ucred cr;
	socklen_t l = sizeof cr;
	gid_t groups[256];

	c->peer.uid = (uid_t)-1;
	c->peer.gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd))
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0) {
		c->peer.pid = cr.pid;
		c->peer.uid = cr.uid;
		c->peer.gid = cr.gid;
	}
#ifdef SO_PEERGROUPS
	l = sizeof groups;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &l) == 0) {
		size_t n = l / sizeof(gid_t);
		if (n > IPC_MAX_PEER_GROUPS)
			n = IPC_MAX_PEER_GROUPS;
		memcpy(c->peer.groups, groups, n * sizeof(gid_t));
		c->peer.ngroups = n;
	}
#else
	(void)groups;
#endif
}

/* A peer the owner does not accept: told why, logged, closed once told. */
static void refuse(struct ipc_conn *c)
{
	json_t *e = ipc_reply_error(NULL, IPC_E_NOT_AUTHORIZED, "uid %ld may not use this socket",
				    (long)c->peer.uid);

	logf_(c->srv, "ipc: client %lu (pid %ld uid %ld gid %ld): not allowed on %s", c->id,
	      (long)c->peer.pid, (long)c->peer.uid, (long)c->peer.gid, c->srv->path);
	if (e) {
		conn_send(c, e, false);
		json_decref(e);
	}
	conn_finish(c);
}

static void on_connection(uv_stream_t *ls, int status)
{
	struct ipc_server *s = (struct ipc_server *)ls;
	struct ipc_conn *c;

	if (status < 0) {
		logf_(s, "ipc: accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c || uv_pipe_init(s->loop, &c->pipe, 0)) {
		free(c);
		return;
	}
	c->srv = s;
	if (uv_accept(ls, (uv_stream_t *)&c->pipe)) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	c->id = ++s->next_id;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	read_peer(c);
	if (s->nconns > s->cfg.max_clients) {
		/* one line per episode, not per connect: connects cost a local attacker nothing */
		if (!s->refused_full++)
			logf_(s, "ipc: %zu clients connected (max_clients): refusing more until one leaves",
			      s->cfg.max_clients);
		conn_close(c, NULL);
		return;
	}
	if (s->refused_full) {
		logf_(s, "ipc: %lu connection(s) refused while at max_clients", s->refused_full);
		s->refused_full = 0;
	}
	if (s->cfg.accept && !s->cfg.accept(s->cfg.ctx, &c->peer)) {
		refuse(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read))
		conn_close(c, "cannot read");
}

/* ---- subscriptions and fan-out ------------------------------------------------ */

int ipc_conn_subscribe(struct ipc_conn *c, uint32_t group)
{
	if (ipc_conn_subscribed(c, group))
		return 0;
	if (c->nsubs == IPC_MAX_SUBSCRIPTIONS)
		return -1;
	c->subs[c->nsubs++] = group;
	return 0;
}

void ipc_conn_unsubscribe(struct ipc_conn *c, uint32_t group)
{
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i] == group) {
			c->subs[i] = c->subs[--c->nsubs];
			return;
		}
}

bool ipc_conn_subscribed(const struct ipc_conn *c, uint32_t group)
{
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i] == group)
			return true;
	return false;
}

void ipc_server_publish(struct ipc_server *s, uint32_t group, const json_t *msg)
{
	struct ipc_conn *c, *next;
	size_t len;
	char *line;

	if (!ipc_server_subscribers(s, group))
		return;
	line = ipc_encode_line(msg, &len);
	if (!line) {
		logf_(s, "ipc: group %u: event could not be encoded", (unsigned)group);
		return;
	}
	for (c = s->conns; c; c = next) {
		next = c->next;	/* conn_write may unlink c */
		if (ipc_conn_subscribed(c, group))
			conn_write(c, line, len, true);
	}
	explicit_bzero(line, len);
	free(line);
}

void ipc_server_forget_group(struct ipc_server *s, uint32_t group)
{
	for (struct ipc_conn *c = s->conns; c; c = c->next)
		ipc_conn_unsubscribe(c, group);
}

size_t ipc_server_clients(const struct ipc_server *s)
{
	return s->nconns;
}

size_t ipc_server_subscribers(const struct ipc_server *s, uint32_t group)
{
	size_t n = 0;

	for (const struct ipc_conn *c = s->conns; c; c = c->next)
		n += ipc_conn_subscribed(c, group);
	return n;
}

/* ---- the socket ------------------------------------------------------------------ */

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Creates the socket's directory when missing (then with dir_mode and group). */
static int make_dir(const struct ipc_server_cfg *cfg, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof dir, "%s", cfg->path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : errf(err, errlen, "%s is not a directory", dir);
	if (mkdir(dir, cfg->dir_mode) && errno != EEXIST)
		return errf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
	if (chmod(dir, cfg->dir_mode))
		return errf(err, errlen, "chmod %s: %s", dir, strerror(errno));
	if (cfg->set_group && chown(dir, (uid_t)-1, cfg->gid))
		return errf(err, errlen, "chown %s: %s", dir, strerror(errno));
	return 0;
}

/* A stale socket (nobody listening) is removed; a live one is an error. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : errf(err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, "socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	if (rc == 0)
		return errf(err, errlen, "%s: another process is listening there", path);
	if (unlink(path))
		return errf(err, errlen, "unlink %s: %s", path, strerror(errno));
	return 0;
}

int ipc_server_start(uv_loop_t *loop, const struct ipc_server_cfg *cfg, struct ipc_server **out,
		     char *err, size_t errlen)
{
	struct ipc_server *s;
	mode_t old;
	int rc;

	*out = NULL;
	if (!cfg->path || !cfg->handle)
		return errf(err, errlen, "no socket path or handler");
	if (strlen(cfg->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return errf(err, errlen, "socket path too long: %s", cfg->path);
	s = calloc(1, sizeof *s);
	if (!s)
		return errf(err, errlen, "out of memory");
	s->loop = loop;
	s->cfg = *cfg;
	if (!s->cfg.dir_mode)
		s->cfg.dir_mode = 0750;
	if (!s->cfg.sock_mode)
		s->cfg.sock_mode = 0660;
	if (!s->cfg.max_output)
		s->cfg.max_output = IPC_DEFAULT_MAX_OUTPUT;
	if (!s->cfg.max_clients)
		s->cfg.max_clients = 256;
	if (!s->cfg.max_line_out)
		s->cfg.max_line_out = IPC_MAX_LINE;
	s->path = strdup(cfg->path);
	s->cfg.path = s->path;
	if (!s->path) {
		free(s);
		return errf(err, errlen, "out of memory");
	}
	if (make_dir(&s->cfg, err, errlen) || clear_stale(s->path, err, errlen)) {
		free(s->path);
		free(s);
		return -1;
	}
	uv_pipe_init(loop, &s->listen, 0);
	old = umask(0177);	/* nobody but us until the modes below are set */
	rc = uv_pipe_bind(&s->listen, s->path);
	umask(old);
	if (!rc && chmod(s->path, s->cfg.sock_mode))
		rc = uv_translate_sys_error(errno);
	if (!rc && s->cfg.set_group && chown(s->path, (uid_t)-1, s->cfg.gid))
		rc = uv_translate_sys_error(errno);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&s->listen, SOMAXCONN, on_connection);
	if (rc) {
		errf(err, errlen, "%s: %s", s->path, uv_strerror(rc));
		s->closing = true;
		unlink(s->path);
		uv_close((uv_handle_t *)&s->listen, NULL);
		/* freed after the loop runs the close: keep it simple, leak-free */
		uv_run(loop, UV_RUN_NOWAIT);
		free(s->path);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void listen_closed(uv_handle_t *h)
{
	struct ipc_server *s = (struct ipc_server *)h;

	free(s->path);
	free(s);
}

void ipc_server_close(struct ipc_server *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	while (s->conns)
		conn_close(s->conns, NULL);
	unlink(s->path);
	uv_close((uv_handle_t *)&s->listen, listen_closed);
}
