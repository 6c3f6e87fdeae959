/*
 * gcks_push.c - the key-server engine's push delivery (gcks.h): each push
 * built once, queued for its destinations, queued again (the same bytes) at
 * each retransmission, and, in groups that ask for RFC 8263 acknowledgements,
 * resent by unicast only to the members that have not acknowledged it.
 *
 * A push stays in flight until its last send, then one interval more when it
 * waits for ACKs; a member still silent then is reported (PUSH_UNACKED), and
 * what follows from that (counting misses, dropping the member) is the
 * application's policy. The ACK's key is derived at push time from the KEK
 * the push travelled under, so a KEK rotation in between changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "gcks_int.h"
#include "push_ack.h"

#define DEFAULT_INTERVAL_MS 1000
/* Pushes in flight at once: a burst of rekeys past it ends the oldest early. */
#define MAX_PUSHES 64

static void push_free(struct gcks_push *p)
{
	if (!p)
		return;
	free(p->buf);
	gdoi_wipe_free(p->dests, p->ndests * sizeof(*p->dests));
	gdoi_wipe_free(p, sizeof(*p));
}

void gcks_push_free_all(struct gdoi_gcks *k)
{
	for (size_t i = 0; i < k->npushes; i++)
		push_free(k->pushes[i]);
	free(k->pushes);
	k->pushes = NULL;
	k->npushes = 0;
}

size_t gdoi_gcks_push_count(const struct gdoi_gcks *k)
{
	return k->npushes;
}

static bool waits_ack(const struct gcks_push *p, const struct gcks_dest *d)
{
	return p->cfg.ack_method && d->member && !d->acked;
}

static bool skips(const struct gcks_push *p, const struct gcks_dest *d, bool again)
{
	return again && p->cfg.ack_method && d->member && d->acked;
}

/* The same bytes go to every destination: one copy of the push (p->buf lives
 * on for the retransmissions) queued for all of them, owned by the last. */
static void send_all(struct gdoi_gcks *k, struct gcks_push *p, bool again)
{
	size_t n = 0, last = 0;
	for (size_t i = 0; i < p->ndests; i++)
		if (!skips(p, &p->dests[i], again)) {
			n++;
			last = i;
		}
	if (again)
		k->stats.push_retransmitted += n;
	else
		k->stats.push_sent += n;
	if (!n)
		return;
	uint8_t *copy = malloc(p->len);
	if (!copy || gdoi_outq_reserve(&k->out, n)) {
		free(copy);
		k->stats.dropped += n;	/* a retransmission or re-registration recovers them */
		return;
	}
	memcpy(copy, p->buf, p->len);
	for (size_t i = 0; i < last; i++)
		if (!skips(p, &p->dests[i], again))
			gdoi_outq_push_ref(&k->out, copy, p->len, &p->dests[i].to);
	gdoi_outq_push(&k->out, &copy, p->len, &p->dests[last].to);
}

static struct gdoi_id dest_id(const struct gcks_dest *d)
{
	struct gdoi_id id = { .type = d->id_type, .data = GDOI_BYTES(d->id, d->id_len) };
	return id;
}

/* Every send done: report the members that never acknowledged. */
static void finish(struct gdoi_gcks *k, struct gcks_push *p)
{
	for (size_t i = 0; i < p->ndests; i++) {
		struct gcks_dest *d = &p->dests[i];
		if (!waits_ack(p, d))
			continue;
		struct gdoi_id id = dest_id(d);
		struct gdoi_gcks_event *ev = gcks_queue_event(k, GDOI_GCKS_EV_PUSH_UNACKED, &d->to, &id);
		if (!ev)
			continue;
		ev->group_id = p->cfg.group_id;
		ev->seq = p->seq;
		snprintf(ev->reason, sizeof(ev->reason), "no acknowledgement of push SEQ %u after %u send(s)",
			 p->seq, p->cfg.retransmits + 1);
	}
}

static void remove_at(struct gdoi_gcks *k, size_t i)
{
	push_free(k->pushes[i]);
	memmove(&k->pushes[i], &k->pushes[i + 1], (k->npushes - i - 1) * sizeof(*k->pushes));
	k->npushes--;
}

static bool all_acked(const struct gcks_push *p)
{
	if (!p->cfg.ack_method)
		return false;
	for (size_t i = 0; i < p->ndests; i++)
		if (!p->dests[i].member || !p->dests[i].acked)
			return false;
	return true;
}

static int copy_dests(struct gcks_push *p, const struct gdoi_gcks_push_dest *dests, size_t n)
{
	p->dests = calloc(n, sizeof(*p->dests));
	if (!p->dests)
		return GDOI_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct gcks_dest *d = &p->dests[i];
		d->to = dests[i].to;
		if (!dests[i].member)
			continue;
		if (dests[i].member->data.len > sizeof(d->id))
			return GDOI_ERR_TOO_BIG;
		d->member = true;
		d->id_type = dests[i].member->type;
		d->id_len = dests[i].member->data.len;
		if (d->id_len)
			memcpy(d->id, dests[i].member->data.ptr, d->id_len);
	}
	p->ndests = n;
	return 0;
}

int gdoi_gcks_push(struct gdoi_gcks *k, const struct gdoi_gcks_push_cfg *d,
		   const struct gdoi_push_params *pp, const struct gdoi_gcks_push_dest *dests, size_t n,
		   struct gdoi_now now)
{
	k->now = now;
	if (!d || !pp || !pp->kek || (n && !dests))
		return GDOI_ERR_VALUE;
	if (d->ack_method && !gdoi_push_ack_method_ok(d->ack_method))
		return GDOI_ERR_UNSUPPORTED;
	struct gcks_push *p = calloc(1, sizeof(*p));
	if (!p)
		return GDOI_ERR_NOMEM;
	p->cfg = *d;
	if (!p->cfg.interval_ms)
		p->cfg.interval_ms = DEFAULT_INTERVAL_MS;
	p->seq = pp->seq;
	memcpy(p->kek_spi, pp->kek->spi, GDOI_KEK_SPI_LEN);
	int rc = copy_dests(p, dests, n);
	if (!rc && d->ack_method)
		rc = gdoi_push_ack_key(d->ack_method, pp->kek, p->ack_key, &p->ack_key_len);
	if (!rc)
		rc = gdoi_push_build(pp, &p->buf, &p->len);
	if (rc || !n) {
		push_free(p);
		return rc;
	}
	send_all(k, p, false);
	k->stats.pushes++;
	p->left = p->cfg.retransmits;
	p->next_ms = now.mono_ms + p->cfg.interval_ms;
	if (!p->left && !p->cfg.ack_method) {
		push_free(p);	/* sent once, nothing to wait for */
		return (int)n;
	}
	if (k->npushes == MAX_PUSHES) {
		finish(k, k->pushes[0]);
		remove_at(k, 0);
	}
	struct gcks_push **v = realloc(k->pushes, (k->npushes + 1) * sizeof(*v));
	if (!v) {
		push_free(p);	/* sent once; no retransmission */
		return (int)n;
	}
	k->pushes = v;
	k->pushes[k->npushes++] = p;
	k->deadline = gcks_earliest(k->deadline, p->next_ms);
	return (int)n;
}

uint64_t gcks_push_timer(struct gdoi_gcks *k, uint64_t now_ms)
{
	uint64_t next = 0;
	for (size_t i = 0; i < k->npushes;) {
		struct gcks_push *p = k->pushes[i];
		if (now_ms >= p->next_ms) {
			if (!p->left) {
				finish(k, p);
				remove_at(k, i);
				continue;
			}
			p->left--;
			send_all(k, p, true);
			p->next_ms = now_ms + p->cfg.interval_ms;
			if (!p->left && !p->cfg.ack_method) {
				remove_at(k, i);
				continue;
			}
		}
		next = gcks_earliest(next, p->next_ms);
		i++;
	}
	return next;
}

/* ---- acknowledgements ------------------------------------------------------------ */

static struct gcks_dest *find_member(struct gcks_push *p, const struct gdoi_id *id)
{
	for (size_t i = 0; i < p->ndests; i++) {
		struct gcks_dest *d = &p->dests[i];
		if (d->member && d->id_type == id->type && d->id_len == id->data.len &&
		    (!d->id_len || !memcmp(d->id, id->data.ptr, d->id_len)))
			return d;
	}
	return NULL;
}

int gcks_push_ack_input(struct gdoi_gcks *k, const uint8_t *msg, size_t len, const struct gdoi_addr *from)
{
	struct gdoi_push_ack a;
	char why[192];
	int rc = gdoi_push_ack_parse(msg, len, &a, why, sizeof(why));
	if (rc) {
		gcks_dropped(k, from, NULL, rc, why, false);
		return rc;
	}
	bool known_kek = false, known_seq = false;
	for (size_t i = 0; i < k->npushes; i++) {
		struct gcks_push *p = k->pushes[i];
		if (!p->cfg.ack_method || memcmp(p->kek_spi, a.kek_spi, GDOI_KEK_SPI_LEN))
			continue;
		known_kek = true;
		if (p->seq != a.seq)
			continue;
		known_seq = true;
		struct gcks_dest *d = find_member(p, &a.id);
		if (!d)
			continue;
		if (gdoi_push_ack_verify(p->cfg.ack_method, p->ack_key, p->ack_key_len, &a)) {
			gcks_dropped(k, from, &a.id, GDOI_ERR_AUTH, "GROUPKEY-PUSH ACK: HASH does not verify",
				     false);
			return GDOI_ERR_AUTH;
		}
		if (d->acked) {
			k->stats.push_ack_dup++;
			return 0;
		}
		d->acked = true;
		k->stats.push_acked++;
		struct gdoi_gcks_event *ev = gcks_queue_event(k, GDOI_GCKS_EV_PUSH_ACKED, from, &a.id);
		if (ev) {
			ev->group_id = p->cfg.group_id;
			ev->seq = p->seq;
		}
		if (all_acked(p))
			remove_at(k, i);
		return 0;
	}
	snprintf(why, sizeof(why), "GROUPKEY-PUSH ACK of SEQ %u: %s", a.seq,
		 !known_kek ? "no push awaiting ACKs under that KEK" :
		 !known_seq ? "no push with that SEQ awaits ACKs" : "the ID names no member it was sent to");
	gcks_dropped(k, from, NULL, GDOI_ERR_NOT_FOUND, why, false);
	return GDOI_ERR_NOT_FOUND;
}
