/*
 * engine.h - what every datagram engine of the core has in common
 * (docs/architecture.md, "The engines").
 *
 * An engine is one object per role (gdoi/member.h: the group member;
 * gdoi/gcks.h: the key server). The application owns sockets, clocks and
 * timers; the engine owns the protocol state. The application:
 *   - hands the engine each whole datagram with its peer and the time
 *     (gdoi_*_input), and calls it when its deadline passes (gdoi_*_timer);
 *   - takes the datagrams the engine queued (gdoi_*_next_out) and sends them,
 *     each to its own destination;
 *   - takes the events the engine queued (gdoi_*_next_event) and acts on them
 *     (publish keys, store state, log the reason);
 *   - re-arms one timer at gdoi_*_deadline().
 * Nothing here does I/O or reads a clock: "now" always comes in.
 *
 * A second protocol front end (G-IKEv2, RFC 9838) plugs in behind the same
 * entry points: the engine tells the front ends apart by the header version
 * (gdoi_engine_classify) and shares the group policy and key model.
 */
#ifndef GDOI_ENGINE_H
#define GDOI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phase1.h"	/* struct gdoi_addr */

/* The time, both ways: monotonic milliseconds for timers, Unix seconds for
 * key validity and certificates. */
struct gdoi_now {
	uint64_t mono_ms;
	int64_t unix_s;
};

/* One datagram to send. buf is owned by the engine until the next call to
 * gdoi_*_next_out(s) or the engine's free. Consecutive datagrams with the same
 * bytes for many destinations (a push) may share one buf. */
struct gdoi_out {
	struct gdoi_addr to;
	const uint8_t *buf;
	size_t len;
};

/* The most datagrams one gdoi_*_next_outs call returns (one sendmmsg batch). */
#define GDOI_OUT_BATCH 64

/* Which front end a datagram is for, from its header alone (no state). */
enum gdoi_front_end {
	GDOI_FE_NONE = 0,	/* too short, or not a version we speak: drop */
	GDOI_FE_IKEV1,		/* ISAKMP version 1.0: Phase 1, GDOI PULL/PUSH */
	GDOI_FE_IKEV2,		/* IKEv2 version 2.0: G-IKEv2 (not yet served) */
};
/* By the header's version; a Non-ESP Marker (four zero octets) before an
 * IKEv2 header is IKEv2 too (the IKEv2 core strips it). */
enum gdoi_front_end gdoi_engine_classify(const uint8_t *dgram, size_t len);

#endif
