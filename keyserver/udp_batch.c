/*
 * udp_batch.c - sendmmsg batches and the backlog of what the kernel could not
 * take yet (udp_batch.h).
 */
#include "keyserver/udp_batch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/addr.h"
#include "keyserver/log.h"

/* One copy of a datagram, shared by the backlog entries that send it (a push:
 * the same bytes for every member). */
struct ks_udpb_buf {
	size_t refs, len;
	uint8_t data[];
};

struct ks_udpb_item {
	struct gdoi_addr to;
	struct ks_udpb_buf *buf;
};

void ks_udpb_init(struct ks_udpb *b, uv_udp_t *udp, int family)
{
	*b = (struct ks_udpb){ .udp = udp, .family = family };
}

static bool transient(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM;
}

static void unref(struct ks_udpb_buf *p)
{
	if (p && !--p->refs)
		free(p);
}

/* The key names the reason only: a flood of failures prints one line a while. */
static void given_up(struct ks_udpb *b, const struct gdoi_addr *to, int err, const char *what)
{
	char a[64], key[96];
	b->stats.failed++;
	dm_addr_format(to->ip, to->len, to->port, a, sizeof(a));
	snprintf(key, sizeof(key), "UDP send: %s%s", strerror(err), what);
	ks_log_limited(KS_WARN, key, "send to %s failed: %s%s", a, strerror(err), what);
}

/* A datagram of out, or of the backlog, as sendmmsg takes it. */
struct batch {
	struct mmsghdr mh[GDOI_OUT_BATCH];
	struct iovec iov[GDOI_OUT_BATCH];
	struct sockaddr_storage sa[GDOI_OUT_BATCH];
};

static bool fill(struct ks_udpb *b, struct batch *x, size_t i, const uint8_t *buf, size_t len,
		 const struct gdoi_addr *to)
{
	socklen_t sl = dm_sockaddr_make(b->family, to->ip, to->len, to->port, &x->sa[i]);
	if (!sl)
		return false;
	x->iov[i] = (struct iovec){ .iov_base = (void *)buf, .iov_len = len };
	x->mh[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &x->sa[i], .msg_namelen = sl,
						  .msg_iov = &x->iov[i], .msg_iovlen = 1 } };
	return true;
}

/* Sends x->mh[0..n) as far as the kernel takes them: returns how many were
 * dealt with (sent, or refused for good and given up through to[]); fewer
 * than n when the kernel has no room now (*err transient). */
static size_t send_batch(struct ks_udpb *b, struct batch *x, size_t n, const struct gdoi_addr *const *to,
			 int *err)
{
	uv_os_fd_t fd;
	*err = 0;
	if (uv_fileno((const uv_handle_t *)b->udp, &fd)) {
		*err = EBADF;
		for (size_t i = 0; i < n; i++)
			given_up(b, to[i], EBADF, "");
		return n;
	}
	size_t i = 0;
	while (i < n) {
		int r = sendmmsg(fd, &x->mh[i], (unsigned)(n - i), MSG_DONTWAIT);
		if (r > 0) {
			i += (size_t)r;
			b->stats.sent += (uint64_t)r;
			b->stats.calls++;
			continue;
		}
		int e = r < 0 ? errno : EIO;
		if (e == EINTR)
			continue;
		if (transient(e)) {
			*err = e;
			return i;
		}
		/* this destination only (EHOSTUNREACH, EPERM of a firewall, ...): the rest go on */
		given_up(b, to[i], e, "");
		i++;
	}
	return n;
}

static bool room(struct ks_udpb *b, size_t more)
{
	if (b->head == b->n)
		b->head = b->n = 0;
	if (b->cap - b->n >= more)
		return true;
	if (b->head) {	/* compact before growing */
		memmove(b->v, b->v + b->head, (b->n - b->head) * sizeof(*b->v));
		b->n -= b->head;
		b->head = 0;
		if (b->cap - b->n >= more)
			return true;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->n < more)
		cap *= 2;
	struct ks_udpb_item *v = realloc(b->v, cap * sizeof(*v));
	if (!v)
		return false;
	b->v = v;
	b->cap = cap;
	return true;
}

/* Appends out[0..n) to the backlog, one copy per distinct buffer (consecutive
 * datagrams of a push share theirs). */
static void defer(struct ks_udpb *b, const struct gdoi_out *out, size_t n, uint64_t now_ms)
{
	size_t waiting = b->n - b->head;
	if (waiting + n > KS_UDPB_MAX_BACKLOG || !room(b, n)) {
		for (size_t i = 0; i < n; i++)
			given_up(b, &out[i].to, ENOBUFS, " (send backlog full)");
		return;
	}
	struct ks_udpb_buf *p = NULL;
	const uint8_t *src = NULL;	/* the buffer p copies */
	struct sockaddr_storage sa;
	for (size_t i = 0; i < n; i++) {
		/* what flush sends must make a socket address (fill) */
		if (!dm_sockaddr_make(b->family, out[i].to.ip, out[i].to.len, out[i].to.port, &sa)) {
			given_up(b, &out[i].to, EAFNOSUPPORT, "");
			continue;
		}
		if (!p || out[i].buf != src || out[i].len != p->len) {
			p = malloc(sizeof(*p) + out[i].len);
			src = out[i].buf;
			if (!p) {
				given_up(b, &out[i].to, ENOMEM, " (send backlog)");
				continue;
			}
			p->refs = 0;
			p->len = out[i].len;
			memcpy(p->data, out[i].buf, out[i].len);
		}
		p->refs++;
		b->v[b->n++] = (struct ks_udpb_item){ .to = out[i].to, .buf = p };
		b->stats.deferred++;
	}
	if (!b->retry_at) {	/* a new backlog */
		b->retry_at = now_ms + KS_UDPB_RETRY_MS;
		b->progress_at = now_ms;
	}
}

void ks_udpb_send(struct ks_udpb *b, const struct gdoi_out *out, size_t n, uint64_t now_ms)
{
	struct batch x;
	const struct gdoi_addr *to[GDOI_OUT_BATCH];
	size_t at[GDOI_OUT_BATCH];	/* batch entry -> index in out */
	if (!n)
		return;
	if (b->n > b->head) {	/* behind what waits already */
		defer(b, out, n, now_ms);
		return;
	}
	size_t i = 0;
	while (i < n) {
		size_t k = 0;
		/* a destination the socket cannot reach (IPv6 on an IPv4 socket) is given up alone */
		for (; i < n && k < GDOI_OUT_BATCH; i++) {
			if (!fill(b, &x, k, out[i].buf, out[i].len, &out[i].to)) {
				given_up(b, &out[i].to, EAFNOSUPPORT, "");
				continue;
			}
			to[k] = &out[i].to;
			at[k++] = i;
		}
		int err;
		size_t done = send_batch(b, &x, k, to, &err);
		if (done < k) {	/* the kernel has no room: the rest wait, in order */
			defer(b, out + at[done], n - at[done], now_ms);
			return;
		}
	}
}

/* The backlog's oldest first, a batch at a time, until the kernel has no room.
 * A socket that took nothing for KS_UDPB_GIVE_UP_MS will not: all of it is given up. */
void ks_udpb_flush(struct ks_udpb *b, uint64_t now_ms)
{
	struct batch x;
	const struct gdoi_addr *to[GDOI_OUT_BATCH];
	while (b->n > b->head) {
		struct ks_udpb_item *v = b->v + b->head;
		size_t waiting = b->n - b->head, k = 0;
		for (; k < waiting && k < GDOI_OUT_BATCH; k++) {
			fill(b, &x, k, v[k].buf->data, v[k].buf->len, &v[k].to);	/* made once already */
			to[k] = &v[k].to;
		}
		int err;
		size_t done = send_batch(b, &x, k, to, &err);
		for (size_t i = 0; i < done; i++)
			unref(v[i].buf);
		b->head += done;
		if (done)
			b->progress_at = now_ms;
		if (done < k)
			break;
	}
	if (b->n > b->head && now_ms - b->progress_at >= KS_UDPB_GIVE_UP_MS) {
		for (size_t i = b->head; i < b->n; i++) {
			given_up(b, &b->v[i].to, EAGAIN, " (the socket took nothing for 2 s)");
			unref(b->v[i].buf);
		}
		b->head = b->n;
	}
	if (b->head == b->n) {
		b->head = b->n = 0;
		b->retry_at = 0;
	} else {
		b->retry_at = now_ms + KS_UDPB_RETRY_MS;
	}
}

uint64_t ks_udpb_deadline(const struct ks_udpb *b)
{
	return b->retry_at;
}

void ks_udpb_free(struct ks_udpb *b)
{
	for (size_t i = b->head; i < b->n; i++) {
		given_up(b, &b->v[i].to, EAGAIN, " (still waiting for room at shutdown)");
		unref(b->v[i].buf);
	}
	free(b->v);
	b->v = NULL;
	b->head = b->n = b->cap = 0;
	b->retry_at = 0;
}
