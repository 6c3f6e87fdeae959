/*
 * udp_batch.h - a UDP socket's batched sender: what an engine queued goes out
 * by sendmmsg(2), GDOI_OUT_BATCH datagrams a system call, on the fd of the
 * socket's libuv handle (libuv 1.44 has no uv_udp_try_send2). A unicast push
 * to 10,000 members is 157 system calls instead of 10,000.
 *
 * Datagrams the kernel cannot take now (EAGAIN, ENOBUFS: a full send buffer)
 * wait in a backlog, in order, and are sent again when the owner's timer
 * calls ks_udpb_flush (ks_udpb_deadline says when: a short retry, never a busy
 * loop; uv_poll cannot watch the fd, libuv refuses a second watcher of it).
 * While a backlog waits, new datagrams join its tail, so nothing overtakes.
 * A backlog the kernel took nothing of for KS_UDPB_GIVE_UP_MS, or a datagram
 * refused for another reason (no route, a firewall's EPERM), is given up:
 * counted and logged (rate-limited); push retransmissions and members'
 * re-registration recover it as they would a datagram lost on the way.
 *
 * One thread owns a sender (its socket's loop); no handles of its own.
 */
#ifndef KS_UDP_BATCH_H
#define KS_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "gdoi/engine.h"

#define KS_UDPB_RETRY_MS 2
#define KS_UDPB_GIVE_UP_MS 2000
#define KS_UDPB_MAX_BACKLOG 200000	/* datagrams; past it new ones are given up */

struct ks_udpb_stats {
	uint64_t sent;		/* datagrams the kernel took */
	uint64_t calls;		/* sendmmsg calls that sent some */
	uint64_t deferred;	/* datagrams put in the backlog (EAGAIN, ENOBUFS) */
	uint64_t failed;	/* refused for another reason, or given up from the backlog */
};

struct ks_udpb_item;
struct ks_udpb {
	uv_udp_t *udp;
	int family;
	struct ks_udpb_item *v;	/* the backlog, oldest first from head */
	size_t head, n, cap;
	uint64_t retry_at;	/* monotonic ms (uv_now) of the next flush; 0: no backlog */
	uint64_t progress_at;	/* when the backlog began or the kernel last took some of it */
	struct ks_udpb_stats stats;
};

void ks_udpb_init(struct ks_udpb *b, uv_udp_t *udp, int family);
/* Sends out[0..n) (their buffers only need to live until this returns). */
void ks_udpb_send(struct ks_udpb *b, const struct gdoi_out *out, size_t n, uint64_t now_ms);
/* Sends what the backlog holds and the kernel takes now; gives up what waited too long. */
void ks_udpb_flush(struct ks_udpb *b, uint64_t now_ms);
/* When ks_udpb_flush is due (monotonic ms), 0 when nothing waits. */
uint64_t ks_udpb_deadline(const struct ks_udpb *b);
/* Gives up (counted and logged) what still waits, frees the backlog. */
void ks_udpb_free(struct ks_udpb *b);

#endif
