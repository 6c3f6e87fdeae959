/*
 * ike2_table.c - the IKEv2 responder's IKE SAs: its list (timers, expiry),
 * the table by SPIi (the initiator's choice, keyed first: gdoi/sa_hash.h)
 * and, once established, the table by peer identity, where INITIAL_CONTACT
 * (RFC 7296 §2.4) finds the identity's older SAs without a walk over every
 * SA (with 4,000 members holding IKE SAs the walk was about 100 µs of each
 * registration).
 */
#include "ike2_int.h"

#include <string.h>

#include "sa_hash.h"

static struct gdoi_ike2_sa **bucket_of(struct gdoi_ike2_responder *r, const uint8_t spi_i[8])
{
	return &r->bucket[gdoi_sa_hash8(r->bucket_key, spi_i) >> (64 - IKE2_BUCKET_BITS)];
}

static void unlink_bucket(struct gdoi_ike2_responder *r, const struct gdoi_ike2_sa *sa)
{
	struct gdoi_ike2_sa **pp = bucket_of(r, sa->spi_i);
	while (*pp && *pp != sa)
		pp = &(*pp)->bnext;
	if (*pp)
		*pp = sa->bnext;
}

void ike2_table_link(struct gdoi_ike2_responder *r, struct gdoi_ike2_sa *sa)
{
	struct gdoi_ike2_sa **b = bucket_of(r, sa->spi_i);
	sa->owner = r;
	sa->next = r->head;
	r->head = sa;
	sa->bnext = *b;
	*b = sa;
	r->count++;
	r->half_open++;
}

struct gdoi_ike2_sa *gdoi_ike2_responder_find(struct gdoi_ike2_responder *r,
					      const uint8_t spi_i[8], const uint8_t spi_r[8])
{
	for (struct gdoi_ike2_sa *sa = r ? *bucket_of(r, spi_i) : NULL; sa; sa = sa->bnext)
		if (memcmp(sa->spi_i, spi_i, 8) == 0 && memcmp(sa->spi_r, spi_r, 8) == 0)
			return sa;
	return NULL;
}

static struct gdoi_ike2_sa **id_bucket_of(struct gdoi_ike2_responder *r, const struct gdoi_ike2_id *id)
{
	uint64_t h = gdoi_sa_hash_id(r->bucket_key, id->type, id->data.ptr, id->data.len);
	return &r->by_id[h >> (64 - IKE2_BUCKET_BITS)];
}

static bool same_id(const struct gdoi_ike2_id *a, const struct gdoi_ike2_id *b)
{
	return a->type == b->type && a->data.len == b->data.len &&
	       memcmp(a->data.ptr, b->data.ptr, a->data.len) == 0;
}

static void id_unlink(struct gdoi_ike2_responder *r, struct gdoi_ike2_sa *sa)
{
	if (!sa->id_linked)
		return;
	struct gdoi_ike2_sa **pp = id_bucket_of(r, &sa->peer_id);
	while (*pp && *pp != sa)
		pp = &(*pp)->inext;
	if (*pp)
		*pp = sa->inext;
	sa->id_linked = false;
}

/* fresh is established: found by its identity from now on. With
 * INITIAL_CONTACT (RFC 7296 §2.4) the peer keeps no other IKE SA with us:
 * its older ones (same authenticated identity) are dead, leave this table
 * at once and are freed by the next expire. */
void ike2_table_established(struct gdoi_ike2_responder *r, struct gdoi_ike2_sa *fresh)
{
	struct gdoi_ike2_sa **pp = id_bucket_of(r, &fresh->peer_id), *sa;
	while (fresh->initial_contact && (sa = *pp) != NULL) {
		if (sa == fresh || !same_id(&sa->peer_id, &fresh->peer_id)) {
			pp = &sa->inext;
			continue;
		}
		*pp = sa->inext;
		sa->id_linked = false;
		if (sa->state == IKE2_S_ESTABLISHED)
			ike2_sa_kill(sa);
	}
	if (!fresh->id_linked) {
		pp = id_bucket_of(r, &fresh->peer_id);
		fresh->inext = *pp;
		*pp = fresh;
		fresh->id_linked = true;
	}
}

uint64_t gdoi_ike2_responder_expire(struct gdoi_ike2_responder *r, uint64_t now,
				    struct gdoi_ike2_result *res)
{
	struct gdoi_ike2_sa **pp, *sa;
	uint64_t next = 0;

	if (r == NULL)
		return 0;
	for (pp = &r->head; (sa = *pp) != NULL;) {
		bool half = sa->state == IKE2_S_HALF_OPEN;
		uint64_t t;
		if (res) {
			gdoi_ike2_timer(sa, now, res);
		} else {
			struct gdoi_ike2_result tmp = { 0 };
			gdoi_ike2_timer(sa, now, &tmp);
			gdoi_ike2_result_clear(&tmp);
		}
		if (half && sa->state != IKE2_S_HALF_OPEN && r->half_open)
			r->half_open--;
		if (sa->state == IKE2_S_DEAD) {
			*pp = sa->next;
			unlink_bucket(r, sa);
			id_unlink(r, sa);
			r->count--;
			gdoi_ike2_free(sa);
			continue;
		}
		t = gdoi_ike2_next_timer(sa);
		if (t && (next == 0 || t < next))
			next = t;
		pp = &sa->next;
	}
	return next;
}

size_t gdoi_ike2_responder_sa_count(const struct gdoi_ike2_responder *r) { return r ? r->count : 0; }
size_t gdoi_ike2_responder_half_open(const struct gdoi_ike2_responder *r) { return r ? r->half_open : 0; }

struct gdoi_ike2_sa *gdoi_ike2_responder_next(struct gdoi_ike2_responder *r,
					      struct gdoi_ike2_sa *prev)
{
	struct gdoi_ike2_sa *sa = prev ? prev->next : r ? r->head : NULL;
	while (sa && sa->state != IKE2_S_ESTABLISHED)
		sa = sa->next;
	return sa;
}

struct gdoi_ike2_sa *ike2_table_first(struct gdoi_ike2_responder *r, const uint8_t spi_i[8])
{
	return *bucket_of(r, spi_i);
}
