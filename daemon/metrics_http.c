/*
 * metrics_http.c - see metrics_http.h. A connection reads its request head
 * into a fixed buffer, is answered once, then shuts its side down and reads
 * (discarding) until the client closes or the linger timer fires: closing
 * with unread input would reset the connection and could lose the answer
 * (a 400 to an oversized head, typically).
 */
#include "daemon/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

enum conn_state { CONN_READING, CONN_ANSWERED, CONN_CLOSING };

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write;
	uv_shutdown_t shutdown;
	struct dm_metrics_http *srv;
	struct conn *next, *prev;
	enum conn_state state;
	int open_handles;
	size_t len;
	char in[DM_HTTP_MAX_REQUEST];
	char discard[512];
	char head[256];
	char text[64];			/* the body of an error answer */
	struct dm_metrics page;
};

struct dm_metrics_http {
	uv_tcp_t listen;
	dm_metrics_collect collect;
	void *ctx;
	struct conn *conns;
	size_t nconns;
	bool closing, listen_closed;
};

int dm_metrics_listen_parse(const char *s, struct dm_addr *out)
{
	if (dm_addr_parse(s, 0, DM_ADDR_NEED_PORT, out) || !out->port || !dm_addr_is_loopback(out))
		return -EINVAL;
	return 0;
}

void dm_metrics_listen_format(const struct dm_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->ip, ip, sizeof ip))
		snprintf(ip, sizeof ip, "?");
	snprintf(out, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, a->port);
}

static void server_maybe_free(struct dm_metrics_http *h)
{
	if (h->closing && h->listen_closed && !h->nconns)
		free(h);
}

static void conn_handle_closed(uv_handle_t *hd)
{
	struct conn *c = hd->data;
	struct dm_metrics_http *h = c->srv;

	if (--c->open_handles)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	dm_metrics_free(&c->page);
	free(c);
	server_maybe_free(h);
}

static void conn_close(struct conn *c)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_timer(uv_timer_t *t)
{
	conn_close(t->data);	/* head too slow, or lingering done */
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)req;
	(void)status;	/* lingering goes on until EOF or the timer */
}

static void on_written(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	if (c->state != CONN_ANSWERED)
		return;
	if (status || uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timer, DM_HTTP_LINGER_MS, 0);
}

static void answer(struct conn *c, int code, const char *reason, const char *extra, const char *body,
		   size_t body_len, bool head_only)
{
	uv_buf_t bufs[2];
	int n;

	n = snprintf(c->head, sizeof c->head,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
		     code, reason, code == 200 ? DM_METRICS_CONTENT_TYPE : "text/plain; charset=utf-8",
		     body_len, extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof c->head) {
		conn_close(c);
		return;
	}
	c->state = CONN_ANSWERED;
	uv_timer_stop(&c->timer);
	bufs[0] = uv_buf_init(c->head, (unsigned)n);
	bufs[1] = uv_buf_init((char *)body, (unsigned)body_len);
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, bufs, head_only || !body_len ? 1 : 2, on_written))
		conn_close(c);
}

static void answer_text(struct conn *c, int code, const char *reason, const char *extra, bool head_only)
{
	snprintf(c->text, sizeof c->text, "%d %s\n", code, reason);
	answer(c, code, reason, extra, c->text, strlen(c->text), head_only);
}

static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Every header line: a token, a colon, then visible characters, spaces or tabs. */
static bool headers_ok(const char *p, const char *end)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		if (stop > p && stop[-1] == '\r')
			stop--;
		if (stop == p)
			return true;	/* the blank line */
		const char *q = p;
		while (q < stop && is_tchar(*q))
			q++;
		if (q == p || q == stop || *q != ':')
			return false;
		for (q++; q < stop; q++)
			if ((unsigned char)*q < 0x20 ? *q != '\t' : *q == 0x7f)
				return false;
		if (!eol)
			return false;
		p = eol + 1;
	}
	return false;
}

/* The request head is complete in c->in[0..end): answer it. */
static void serve(struct conn *c, size_t end)
{
	const char *p = c->in, *stop = c->in + end;
	const char *eol = memchr(p, '\n', end), *line_end, *sp1, *sp2;
	size_t mlen, tlen;

	if (!eol)
		goto bad;
	line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
	sp1 = memchr(p, ' ', (size_t)(line_end - p));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || (size_t)(line_end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		goto bad;
	mlen = (size_t)(sp1 - p);
	tlen = (size_t)(sp2 - sp1 - 1);
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			goto bad;
	if (!mlen || !tlen || sp1[1] != '/')
		goto bad;
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			goto bad;
	if (!headers_ok(eol + 1, stop))
		goto bad;
	bool get = mlen == 3 && !memcmp(p, "GET", 3), head = mlen == 4 && !memcmp(p, "HEAD", 4);
	if (!get && !head) {
		answer_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", false);
		return;
	}
	if (!(tlen == 8 || (tlen > 8 && sp1[9] == '?')) || memcmp(sp1 + 1, "/metrics", 8)) {
		answer_text(c, 404, "Not Found", NULL, head);
		return;
	}
	const char *page;
	size_t len;
	dm_metrics_init(&c->page);
	c->srv->collect(c->srv->ctx, &c->page);
	int rc = dm_metrics_finish(&c->page, &page, &len);
	if (rc) {
		dm_log_limited(DM_ERR, "metrics page", "%s: cannot render the metrics page: %s", __func__,
			       strerror(-rc));
		answer_text(c, 500, "Internal Server Error", NULL, head);
		return;
	}
	answer(c, 200, "OK", NULL, page, len, head);
	return;
bad:
	dm_log_limited(DM_DEBUG, "metrics bad request", "metrics: malformed HTTP request refused (400)");
	answer_text(c, 400, "Bad Request", NULL, false);
}

/* The end of the head (just past the blank line), or 0. */
static size_t head_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\n')
			continue;
		if (s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = hd->data;

	(void)suggested;
	if (c->state == CONN_READING)
		*buf = uv_buf_init(c->in + c->len, (unsigned)(sizeof c->in - c->len));
	else
		*buf = uv_buf_init(c->discard, sizeof c->discard);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	size_t end;

	(void)buf;
	if (c->state == CONN_CLOSING || nread == 0)
		return;
	if (nread < 0 || c->state == CONN_ANSWERED) {
		if (nread < 0)
			conn_close(c);	/* EOF or error; while answering too: nobody reads it */
		return;
	}
	size_t old = c->len;
	c->len += (size_t)nread;
	/* a blank line may straddle two reads: search from just before the new bytes */
	size_t from = old > 3 ? old - 3 : 0;
	end = head_end(c->in + from, c->len - from);
	if (end) {
		serve(c, from + end);
	} else if (c->len == sizeof c->in) {
		dm_log_limited(DM_DEBUG, "metrics oversized request",
			       "metrics: request head over %d octets refused (400)", DM_HTTP_MAX_REQUEST);
		answer_text(c, 400, "Bad Request", NULL, false);
	}
}

static void on_connection(uv_stream_t *ls, int status)
{
	struct dm_metrics_http *h = ls->data;
	struct conn *c;

	if (status < 0 || h->closing)
		return;
	c = calloc(1, sizeof *c);
	if (!c || uv_tcp_init(ls->loop, &c->tcp)) {
		free(c);
		return;	/* the connection stays in the backlog until memory comes back */
	}
	c->srv = h;
	c->tcp.data = c->timer.data = c;
	uv_timer_init(ls->loop, &c->timer);
	c->open_handles = 2;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	if (h->nconns > DM_HTTP_MAX_CONNS) {
		dm_log_limited(DM_WARN, "metrics connections",
			       "metrics: more than %d connections at once: closing the newest",
			       DM_HTTP_MAX_CONNS);
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timer, DM_HTTP_HEADER_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		conn_close(c);
}

static void listen_closed(uv_handle_t *hd)
{
	struct dm_metrics_http *h = hd->data;

	h->listen_closed = true;
	server_maybe_free(h);
}

int dm_metrics_http_start(uv_loop_t *loop, const struct dm_addr *addr, dm_metrics_collect collect,
			  void *ctx, struct dm_metrics_http **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	char as[64];
	int rc;

	dm_metrics_listen_format(addr, as, sizeof as);
	if (addr->family == AF_INET) {
		dm_addr_sin(addr, (struct sockaddr_in *)&ss);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr->ip, 16);
		s6->sin6_port = htons(addr->port);
	}
	struct dm_metrics_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "metrics %s: out of memory", as);
		return -1;
	}
	h->collect = collect;
	h->ctx = ctx;
	h->listen.data = h;
	uv_tcp_init(loop, &h->listen);
	rc = uv_tcp_bind(&h->listen, (const struct sockaddr *)&ss,
			 addr->family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&h->listen, 64, on_connection);
	if (rc) {
		snprintf(err, errlen, "metrics: cannot listen on TCP %s: %s", as, uv_strerror(rc));
		h->closing = true;
		uv_close((uv_handle_t *)&h->listen, listen_closed);
		return -1;
	}
	*out = h;
	return 0;
}

void dm_metrics_http_close(struct dm_metrics_http *h)
{
	if (!h || h->closing)
		return;
	h->closing = true;
	for (struct conn *c = h->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&h->listen, listen_closed);
}
