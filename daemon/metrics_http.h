/*
 * metrics_http.h - the metrics listener both daemons open when configured
 * ("metrics = ADDR:PORT", docs/metrics.md): a minimal HTTP/1.1 responder on
 * the daemon's libuv loop. GET or HEAD of /metrics answers the page the
 * collect function renders (Content-Type DM_METRICS_CONTENT_TYPE); another
 * path is 404, another method 405, a request line or header that is not
 * HTTP/1.x, or a request head over DM_HTTP_MAX_REQUEST octets, 400. One
 * request per connection (Connection: close), the head must arrive within
 * DM_HTTP_HEADER_MS, at most DM_HTTP_MAX_CONNS connections at once (more are
 * closed at accept). Bound to loopback only: the configuration refuses other
 * addresses (dm_metrics_listen_parse).
 */
#ifndef DM_METRICS_HTTP_H
#define DM_METRICS_HTTP_H

#include <stddef.h>
#include <uv.h>

#include "daemon/addr.h"
#include "daemon/metrics.h"

#define DM_HTTP_MAX_REQUEST 4096
#define DM_HTTP_HEADER_MS 5000
#define DM_HTTP_LINGER_MS 2000	/* after the answer, reading what the client still sends */
#define DM_HTTP_MAX_CONNS 16

/* What the configuration parsers say when dm_metrics_listen_parse refuses a value. */
#define DM_METRICS_LISTEN_EXPECTED \
	"expected a loopback ADDR:PORT with a port 1..65535 (127.0.0.1:9848, [::1]:9848)"

/* Fills the page; errors are the page's (dm_metrics_finish). */
typedef void (*dm_metrics_collect)(void *ctx, struct dm_metrics *m);

struct dm_metrics_http;

/* The value of a "metrics" key: 0, or -EINVAL (not ADDR:PORT, port 0, or not loopback). */
int dm_metrics_listen_parse(const char *s, struct dm_addr *out);
/* "127.0.0.1:9848" / "[::1]:9848" for the logs. */
void dm_metrics_listen_format(const struct dm_addr *a, char *out, size_t cap);

/* Listens on addr; 0, or -1 with err set (the address in use, ...). */
int dm_metrics_http_start(uv_loop_t *loop, const struct dm_addr *addr, dm_metrics_collect collect,
			  void *ctx, struct dm_metrics_http **out, char *err, size_t errlen);
/* Closes the listener and every connection; freed once libuv is done. NULL is fine. */
void dm_metrics_http_close(struct dm_metrics_http *h);

#endif
