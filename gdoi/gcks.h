/*
 * gcks.h - the key-server engine (the group controller / key server role),
 * on the contract of engine.h: whole datagrams with their peer and the time
 * in; datagrams to send, events and the next deadline out.
 *
 * It owns what registration needs on the wire: routing by exchange type
 * (Main Mode and Informational to the Phase 1 responder and its SA table,
 * GROUPKEY-PULL under an established SA to the PULL key server and its
 * per-exchange state), the expiry of both, and per-source flood limits
 * (new Phase 1 exchanges, and datagrams dropped as junk), with counters.
 * The key server keeps the sockets, the timer, the configuration and the
 * group / member policy and storage, which the engine reaches through the
 * callbacks of gdoi_p1_config (peer_allowed) and gdoi_pull_ks_cfg (lookup,
 * assign_sids, admit); everything worth a log line comes out as an event.
 * Pushes: the application decides what a rekey carries (keys, SEQ, both
 * committed to its storage first) and hands the engine the push parameters
 * and the destinations (gdoi_gcks_push); the engine builds the datagram with
 * gdoi_push_build (push.h), queues it for each destination, sends the same
 * bytes again at each retransmission its deadline brings, and, when the
 * group asks for RFC 8263 acknowledgements, verifies each member's ACK
 * (push_ack.h) and stops resending to the members that acknowledged.
 */
#ifndef GDOI_GCKS_H
#define GDOI_GCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "phase1.h"
#include "pull.h"
#include "push.h"

/* Per source address: a token bucket each (rate per second, burst). 0 = default. */
struct gdoi_gcks_limits {
	uint32_t mm1_per_s;	/* Main Mode message 1 (a new exchange); default 1000 */
	uint32_t mm1_burst;	/* default 4 * rate */
	uint32_t junk_per_s;	/* datagrams dropped undecoded or refused; default 100 */
	uint32_t junk_burst;	/* default 4 * rate; a source over it is not even parsed */
};

struct gdoi_gcks_cfg {
	/* Phase 1 responder: suites, credentials, peer_allowed. Its unix_now is
	 * ignored (the engine answers with the now of each call). Copied. */
	const struct gdoi_p1_config *p1;
	struct gdoi_pull_ks_cfg pull;	/* copied */
	struct gdoi_gcks_limits limits;
};

enum gdoi_gcks_event_type {
	GDOI_GCKS_EV_NONE = 0,
	GDOI_GCKS_EV_P1_ESTABLISHED,	/* id: the authenticated peer */
	GDOI_GCKS_EV_P1_FAILED,		/* reason, notify (sent, if any) */
	GDOI_GCKS_EV_P1_DELETED,	/* the peer deleted its Phase 1 SA */
	GDOI_GCKS_EV_P1_NOTIFY,		/* an authenticated Notify arrived */
	GDOI_GCKS_EV_REGISTERED,	/* id completed GROUPKEY-PULL for group_id */
	GDOI_GCKS_EV_REFUSED,		/* a registration refused: reason, notify sent */
	GDOI_GCKS_EV_PULL_ANSWERED,	/* a PULL message answered (debug) */
	GDOI_GCKS_EV_DROPPED,		/* datagram dropped: reason (pull: in a PULL exchange;
					 * limited: by a flood limit, reason names which) */
	GDOI_GCKS_EV_PUSH_ACKED,	/* id acknowledged push seq of group_id (RFC 8263) */
	GDOI_GCKS_EV_PUSH_UNACKED,	/* id never acknowledged push seq: every send done */
};

#define GDOI_GCKS_ID_MAX 256

struct gdoi_gcks_event {
	enum gdoi_gcks_event_type type;
	struct gdoi_addr peer;
	bool has_id;			/* the Phase 1 peer's identity */
	uint8_t id_type;
	size_t id_len;
	uint8_t id_data[GDOI_GCKS_ID_MAX];
	uint32_t group_id;		/* REGISTERED: as the member sent it; PUSH_*: as pushed */
	uint32_t seq;			/* PUSH_*: the push's SEQ */
	uint16_t notify;
	int err;
	bool pull;
	bool limited;
	char reason[192];		/* for the log; never holds keys */
};

/* The identity of an event as the core's type (points into ev). */
static inline struct gdoi_id gdoi_gcks_event_id(const struct gdoi_gcks_event *ev)
{
	struct gdoi_id id = { .type = ev->id_type, .data = { ev->id_data, ev->id_len } };
	return id;
}

struct gdoi_gcks_stats {
	uint64_t datagrams;		/* handed to gdoi_gcks_input */
	uint64_t dropped;		/* of those, dropped (limits included) */
	uint64_t mm1_limited;		/* Main Mode message 1 over its source's limit */
	uint64_t junk_limited;		/* from a source over its junk limit, not parsed */
	uint64_t registrations;
	uint64_t pushes;		/* gdoi_gcks_push calls that queued a datagram */
	uint64_t push_sent;		/* push datagrams queued, first sends */
	uint64_t push_retransmitted;	/* push datagrams queued again */
	uint64_t push_acked;		/* acknowledgements verified (first per member and push) */
	uint64_t push_ack_dup;		/* verified again after the first (the member resent) */
};

struct gdoi_gcks;

struct gdoi_gcks *gdoi_gcks_new(const struct gdoi_gcks_cfg *cfg);
void gdoi_gcks_free(struct gdoi_gcks *k);

/* One datagram from peer. 0, or a negative gdoi_err when it was dropped
 * (the reason is in a DROPPED / *_FAILED event). */
int gdoi_gcks_input(struct gdoi_gcks *k, const uint8_t *dgram, size_t len,
		    const struct gdoi_addr *from, struct gdoi_now now);
/* How one group's pushes are delivered. */
struct gdoi_gcks_push_cfg {
	uint32_t group_id;		/* reported in the PUSH_* events */
	unsigned retransmits;		/* sends after the first */
	uint32_t interval_ms;		/* between sends; 0 = 1000 */
	/* KEK_ACK_REQUESTED value (RFC 8263) the group's KEK carries; 0: no
	 * ACKs. With it, unicast destinations are resent to until they ACK, and
	 * one interval after the last send each silent member is reported. */
	uint16_t ack_method;
};

/* One destination: the multicast rekey address (member NULL) or one member
 * by unicast (member: its Phase 1 identity, which its ACK names). */
struct gdoi_gcks_push_dest {
	struct gdoi_addr to;
	const struct gdoi_id *member;
};

/* Builds the push of p (gdoi_push_build) and queues it for each of the n
 * destinations; retransmissions follow from gdoi_gcks_timer. Returns the
 * number of datagrams queued, or a negative gdoi_err (nothing queued). */
int gdoi_gcks_push(struct gdoi_gcks *k, const struct gdoi_gcks_push_cfg *d,
		   const struct gdoi_push_params *p, const struct gdoi_gcks_push_dest *dests, size_t n,
		   struct gdoi_now now);
/* Pushes still being sent or waiting for ACKs. */
size_t gdoi_gcks_push_count(const struct gdoi_gcks *k);

/* True for a datagram only the engine that sent the pushes can take: an
 * RFC 8263 acknowledgement (exchange 35, verified against the push it names).
 * A key server with several engines hands these to its pushing one. */
bool gdoi_gcks_is_push_ack(const uint8_t *dgram, size_t len);

/* Expires Phase 1 SAs, pending offers and PULL exchanges; resends pushes. */
void gdoi_gcks_timer(struct gdoi_gcks *k, struct gdoi_now now);
/* When gdoi_gcks_timer is next due (monotonic ms; 0 = nothing pending). */
uint64_t gdoi_gcks_deadline(const struct gdoi_gcks *k);

/* The next datagram to send (true), valid until the next call or free. */
bool gdoi_gcks_next_out(struct gdoi_gcks *k, struct gdoi_out *out);
/* Up to max (at most GDOI_OUT_BATCH) datagrams at once, in order; their buffers
 * stay valid together until the next call of either. */
size_t gdoi_gcks_next_outs(struct gdoi_gcks *k, struct gdoi_out *out, size_t max);
/* The next event (true); copied into ev. */
bool gdoi_gcks_next_event(struct gdoi_gcks *k, struct gdoi_gcks_event *ev);

const struct gdoi_gcks_stats *gdoi_gcks_stats(const struct gdoi_gcks *k);
size_t gdoi_gcks_sa_count(const struct gdoi_gcks *k);

#endif
