/*
 * lease.c - SSRC leases of one group (see lease.h).
 */
#include "sidecar/lease.h"

static struct sc_lease *find(struct sc_leases *l, uint32_t ssrc)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].ssrc == ssrc)
			return &l->e[i];
	return NULL;
}

/* Room for one more: a free slot, or the oldest burned entry dropped. */
static struct sc_lease *room(struct sc_leases *l)
{
	size_t old = l->n;

	if (l->n < SC_LEASE_MAX)
		return &l->e[l->n++];
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].state == SC_SSRC_BURNED && (old == l->n || l->e[i].order < l->e[old].order))
			old = i;
	return old < l->n ? &l->e[old] : NULL;
}

size_t sc_leases_add(struct sc_leases *l, const uint32_t *ssrcs, size_t n)
{
	size_t added = 0;

	for (size_t i = 0; i < n; i++) {
		struct sc_lease *e;
		if (!ssrcs[i] || find(l, ssrcs[i]))
			continue;
		if (!(e = room(l)))
			break;
		*e = (struct sc_lease){ .ssrc = ssrcs[i], .state = SC_SSRC_FREE, .order = ++l->added };
		added++;
	}
	return added;
}

int sc_leases_take(struct sc_leases *l, uint64_t holder, uint32_t *ssrc)
{
	struct sc_lease *best = NULL;

	if (!holder)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].state == SC_SSRC_FREE && (!best || l->e[i].order < best->order))
			best = &l->e[i];
	if (!best)
		return -1;
	best->state = SC_SSRC_LEASED;
	best->holder = holder;
	*ssrc = best->ssrc;
	return 0;
}

size_t sc_leases_release(struct sc_leases *l, uint64_t holder)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].state == SC_SSRC_LEASED && l->e[i].holder == holder) {
			l->e[i].state = SC_SSRC_BURNED;
			l->e[i].holder = 0;
			n++;
		}
	return n;
}

size_t sc_leases_of(const struct sc_leases *l, uint64_t holder, uint32_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n && n < cap; i++)
		if (l->e[i].state == SC_SSRC_LEASED && l->e[i].holder == holder)
			out[n++] = l->e[i].ssrc;
	return n;
}

size_t sc_leases_usable(const struct sc_leases *l, uint32_t *out, size_t cap)
{
	size_t n = 0;

	/* entries are kept in arrival order except where a burned one was replaced */
	for (uint64_t o = 0, next; n < cap; o = next) {
		const struct sc_lease *pick = NULL;
		next = UINT64_MAX;
		for (size_t i = 0; i < l->n; i++)
			if (l->e[i].state != SC_SSRC_BURNED && l->e[i].order > o && l->e[i].order < next) {
				next = l->e[i].order;
				pick = &l->e[i];
			}
		if (!pick)
			break;
		out[n++] = pick->ssrc;
	}
	return n;
}

size_t sc_leases_count(const struct sc_leases *l, enum sc_ssrc_state state)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->e[i].state == state;
	return n;
}
