/*
 * lease.h - which sender session holds which SSRC of a group (docs/bridge.md,
 * "Keystream uniqueness"). Pure bookkeeping, no I/O: the key server gives the
 * member fresh SSRCs at every registration; this hands each one to at most
 * one IPC connection, once: free -> leased (to one holder) -> burned when the
 * holder goes away. A burned SSRC is never leased again by this process, and
 * a restarted sidecar registers afresh and gets SSRCs nobody used before.
 */
#ifndef SC_LEASE_H
#define SC_LEASE_H

#include <stddef.h>
#include <stdint.h>

#define SC_LEASE_MAX 64			/* SSRCs remembered per group */

enum sc_ssrc_state { SC_SSRC_FREE = 0, SC_SSRC_LEASED, SC_SSRC_BURNED };

struct sc_lease {
	uint32_t ssrc;
	uint8_t state;			/* enum sc_ssrc_state */
	uint64_t holder;		/* the IPC connection while leased */
	uint64_t order;			/* when it was added (oldest burned ones go first) */
};

struct sc_leases {
	size_t n;
	uint64_t added;
	struct sc_lease e[SC_LEASE_MAX];
};

/* SSRCs a registration brought: those not known yet become free; a known one keeps
 * its state (a burned SSRC handed out again stays burned). When the table is full,
 * the oldest burned entries make room; leased and free ones never do. Returns how
 * many SSRCs were added (the rest did not fit). */
size_t sc_leases_add(struct sc_leases *l, const uint32_t *ssrcs, size_t n);
/* Leases a free SSRC (the oldest) to holder (!= 0): 0, or -1 when none is free. */
int sc_leases_take(struct sc_leases *l, uint64_t holder, uint32_t *ssrc);
/* The holder went away: its SSRCs are burned. Returns how many. */
size_t sc_leases_release(struct sc_leases *l, uint64_t holder);
/* The SSRCs leased to holder (at most cap). */
size_t sc_leases_of(const struct sc_leases *l, uint64_t holder, uint32_t *out, size_t cap);
/* The SSRCs that are not burned (free or leased), in the order they came (at most cap). */
size_t sc_leases_usable(const struct sc_leases *l, uint32_t *out, size_t cap);
size_t sc_leases_count(const struct sc_leases *l, enum sc_ssrc_state state);

#endif
