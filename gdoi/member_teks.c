/*
 * member_teks.c - the member's TEK lifecycle (member_teks.h): which TEKs a
 * registration or a push makes live, when each starts and ends (ATD, DTD,
 * SRTP_LIFETIME), and when the member must register again.
 */
#include "member_teks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "numbers.h"
#include "pull.h"
#include "push.h"
#include "secret.h"

#define REF_SRTP_LIFETIME 3600	/* the reference's TEK carries none we read */

void gdoi_note(struct gdoi_notes *n, const char *fmt, ...)
{
	va_list ap;

	if (!n)
		return;
	if (n->n == GDOI_NOTES_MAX) {
		n->lost++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(n->line[n->n++], GDOI_NOTE_LEN, fmt, ap);
	va_end(ap);
}

static bool is_srtp(const struct gdoi_tek *t)
{
	return t->kind == GDOI_TEK_SRTP || t->kind == GDOI_TEK_REF_SRTP;
}

static uint16_t profile(const struct gdoi_tek *t)
{
	return t->kind == GDOI_TEK_REF_SRTP ? 1 : t->u.srtp.profile;
}

/* Whether t's keys are a master key and salt of its SRTP profile. */
static bool keys_fit(const struct gdoi_tek *t)
{
	size_t kl, sl;

	return gdoi_srtp_key_lengths(profile(t), &kl, &sl) && t->have_keys && t->key_len == kl + sl;
}

static uint32_t lifetime(const struct gdoi_tek *t)
{
	if (t->kind == GDOI_TEK_REF_SRTP || !t->u.srtp.lifetime)
		return REF_SRTP_LIFETIME;
	return t->u.srtp.lifetime;
}

/* The destination of a selector as compared between TEKs: family, address, port. */
static bool same_dst(const struct gdoi_selector *a, const struct gdoi_selector *b)
{
	bool v6a = a->id_type == GDOI_ID_IPV6_ADDR || a->id_type == GDOI_ID_IPV6_ADDR_SUBNET;
	bool v6b = b->id_type == GDOI_ID_IPV6_ADDR || b->id_type == GDOI_ID_IPV6_ADDR_SUBNET;
	size_t alen = v6a ? 16 : 4;
	uint8_t x[16] = { 0 }, y[16] = { 0 };

	if (v6a != v6b || a->port != b->port)
		return false;
	if (a->addr_len >= alen)
		memcpy(x, a->addr, alen);
	if (b->addr_len >= alen)
		memcpy(y, b->addr, alen);
	return memcmp(x, y, alen) == 0;
}

static struct gdoi_live_tek *find_live(struct gdoi_member_teks *t, uint32_t spi)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i].tek.spi == spi)
			return &t->live[i];
	return NULL;
}

static void remove_live(struct gdoi_member_teks *t, size_t i)
{
	gdoi_wipe(&t->live[i], sizeof t->live[i]);
	memmove(&t->live[i], &t->live[i + 1], (t->nlive - i - 1) * sizeof t->live[0]);
	t->nlive--;
	gdoi_wipe(&t->live[t->nlive], sizeof t->live[0]);
}

static void remove_policy_tek(struct gdoi_policy *p, size_t k)
{
	gdoi_wipe(&p->teks[k], sizeof p->teks[k]);
	memmove(&p->teks[k], &p->teks[k + 1], (p->nteks - k - 1) * sizeof p->teks[0]);
	p->nteks--;
}

static int by_not_before(const void *a, const void *b)
{
	const struct gdoi_live_tek *x = a, *y = b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return x->tek.spi < y->tek.spi ? -1 : x->tek.spi > y->tek.spi;
}

static void warn_kinds(const struct gdoi_policy *p, struct gdoi_notes *notes)
{
	for (size_t i = 0; i < p->nteks; i++)
		if (!is_srtp(&p->teks[i]))
			gdoi_note(notes, "TEK SPI 0x%08x is not SRTP (%s): ignored",
				  (unsigned)p->teks[i].spi, p->teks[i].kind == GDOI_TEK_ESP ? "ESP" : "AH");
}

/* Whether live TEK l (may be NULL) is k with the same key. */
static bool holds(const struct gdoi_live_tek *l, const struct gdoi_tek *k)
{
	return l && profile(&l->tek) == profile(k) && l->tek.key_len == k->key_len &&
	       !memcmp(l->tek.key, k->key, k->key_len);
}

/* Adds (or refreshes) the SRTP TEK k; returns true when the live TEKs changed. */
static bool add_live(struct gdoi_member_teks *t, const struct gdoi_tek *k, int64_t nb, int64_t now,
		     struct gdoi_notes *notes)
{
	struct gdoi_live_tek *cur = find_live(t, k->spi);

	if (!keys_fit(k)) {
		gdoi_note(notes, "TEK SPI 0x%08x: keys do not fit profile %u: ignored",
			  (unsigned)k->spi, (unsigned)k->u.srtp.profile);
		return false;
	}
	if (holds(cur, k))
		return false;	/* the same key again: its times stand */
	if (!cur) {
		if (t->nlive == GDOI_MEMBER_MAX_LIVE) {
			/* drop the one that ends first */
			size_t j = 0;
			for (size_t i = 1; i < t->nlive; i++)
				if (t->live[i].not_after < t->live[j].not_after)
					j = i;
			gdoi_note(notes, "more than %d TEKs: SPI 0x%08x dropped early",
				  GDOI_MEMBER_MAX_LIVE, (unsigned)t->live[j].tek.spi);
			remove_live(t, j);
		}
		cur = &t->live[t->nlive++];
	}
	gdoi_wipe(cur, sizeof *cur);
	cur->tek = *k;
	cur->not_before = nb;
	cur->not_after = now + lifetime(k);
	return true;
}

static bool phase_out(struct gdoi_live_tek *l, int64_t until)
{
	if (l->not_after <= until)
		return false;
	l->not_after = until < l->not_before ? l->not_before : until;
	return true;
}

/* Whether a Delete payload of u names the SRTP TEK spi (either SRTP Protocol-ID:
 * a group holds one of them). */
static bool push_deletes(const struct gdoi_push_update *u, uint32_t spi)
{
	for (size_t d = 0; d < u->ndeletes; d++)
		if ((u->deletes[d].proto == GDOI_TEK_PROTO_SRTP ||
		     u->deletes[d].proto == GDOI_TEK_PROTO_REF_SRTP) &&
		    (u->deletes[d].all || u->deletes[d].spi == spi))
			return true;
	return false;
}

/* Whether policy p lists other senders than old (NULL: none known). */
static bool senders_differ(const struct gdoi_policy *old, const struct gdoi_policy *p)
{
	bool had = old && old->has_senders;
	if (had != p->has_senders)
		return true;
	return had && (old->nsenders != p->nsenders ||
		       memcmp(old->senders, p->senders, p->nsenders * sizeof p->senders[0]));
}

static void sort_live(struct gdoi_member_teks *t)
{
	qsort(t->live, t->nlive, sizeof t->live[0], by_not_before);
}

bool gdoi_member_teks_registered(struct gdoi_member_teks *t, struct gdoi_policy *p, int64_t now,
				 struct gdoi_notes *notes)
{
	bool ch = false;

	warn_kinds(p, notes);
	/* TEKs we hold that the key server no longer lists are phased out as if replaced. */
	for (size_t i = 0; i < t->nlive; i++)
		if (!gdoi_policy_find_tek(p, t->live[i].tek.spi))
			ch |= phase_out(&t->live[i], now + p->dtd);
	for (size_t i = 0; i < p->nteks; i++)
		if (is_srtp(&p->teks[i]))
			ch |= add_live(t, &p->teks[i], now, now, notes);
	ch |= senders_differ(t->pol, p);
	if (t->pol)
		gdoi_pull_policy_free(t->pol);
	t->pol = p;
	t->kek_expires = p->has_kek ? now + p->kek.lifetime : 0;
	t->seq = p->has_seq ? p->seq : 0;
	t->registered_at = now;
	if (ch)
		sort_live(t);
	return ch;
}

bool gdoi_member_teks_names_kek(const struct gdoi_member_teks *t, const uint8_t *msg, size_t len)
{
	return t->pol && gdoi_push_names_kek(t->pol, msg, len);
}

/* Replaced: TEKs a Delete payload of u names, and older TEKs for the same destination
 * as a new one. They stay until receipt + DTD, unless the push only deletes (then at
 * once). A push without a Delete deletes nothing: TEKs phased out earlier keep their
 * not_after (they are no longer in the policy). */
static bool retire_replaced(struct gdoi_member_teks *t, const struct gdoi_push_update *u,
			    bool fresh_srtp, int64_t until, struct gdoi_notes *notes)
{
	bool ch = false;

	for (size_t i = 0; i < t->nlive;) {
		struct gdoi_live_tek *l = &t->live[i];
		bool in_fresh = u->has_sa && gdoi_policy_find_tek(&u->fresh, l->tek.spi);
		bool same = false;
		for (size_t k = 0; fresh_srtp && !in_fresh && k < u->fresh.nteks; k++)
			same |= is_srtp(&u->fresh.teks[k]) && keys_fit(&u->fresh.teks[k]) &&
				same_dst(&u->fresh.teks[k].dst, &l->tek.dst);
		if (in_fresh || (!push_deletes(u, l->tek.spi) && !same)) {
			i++;
			continue;
		}
		if (!fresh_srtp) {
			gdoi_note(notes, "TEK SPI 0x%08x deleted by the key server", (unsigned)l->tek.spi);
			remove_live(t, i);
			ch = true;
			continue;
		}
		ch |= phase_out(l, until);
		i++;
	}
	return ch;
}

bool gdoi_member_teks_ack_kek(const struct gdoi_member_teks *t, const uint8_t *msg, size_t len,
			      struct gdoi_kek_policy *kek, uint32_t *last_seq)
{
	const struct gdoi_policy *p = t->pol;

	if (!p || !p->has_kek || !p->kek.ack_method || len < GDOI_KEK_SPI_LEN)
		return false;
	if (!memcmp(msg, p->kek.spi, GDOI_KEK_SPI_LEN)) {
		*kek = p->kek;
		*last_seq = p->has_seq ? p->seq : 0;
		return true;
	}
	if (!p->has_prev_kek || memcmp(msg, p->prev_kek.spi, GDOI_KEK_SPI_LEN))
		return false;
	/* What the ack_key derivation reads of a KEK: SPI, cipher, key. */
	memset(kek, 0, sizeof *kek);
	memcpy(kek->spi, p->prev_kek.spi, GDOI_KEK_SPI_LEN);
	kek->alg = p->prev_kek.alg;
	kek->key_bits = p->prev_kek.key_bits;
	kek->ack_method = p->kek.ack_method;
	kek->have_keys = true;
	memcpy(kek->key, p->prev_kek.key, sizeof kek->key);
	*last_seq = p->prev_kek.seq;
	return true;
}

/* What rekey u (applied to t->pol) does to the TEKs: its new ones live from now + ATD,
 * the ones it deletes or replaces (an older TEK for a new one's destination) until now
 * + DTD (a rekey without a new TEK deletes at once); the policy keeps only what may
 * still be renewed, phased-out TEKs live on in the live table only (so that the policy
 * never fills up). True when the live TEKs changed. */
static bool rekey_teks(struct gdoi_member_teks *t, const struct gdoi_push_update *u, int64_t now,
		       struct gdoi_notes *notes)
{
	uint16_t atd = t->pol->atd, dtd = t->pol->dtd;
	bool ch = false, fresh_srtp = false;

	t->last_rekey = now;
	if (u->has_sa) {
		warn_kinds(&u->fresh, notes);
		for (size_t i = 0; i < u->fresh.nteks; i++)
			if (is_srtp(&u->fresh.teks[i])) {
				fresh_srtp = true;
				ch |= add_live(t, &u->fresh.teks[i], now + atd, now, notes);
			}
	}
	ch |= retire_replaced(t, u, fresh_srtp, now + dtd, notes);
	for (size_t i = 0; i < t->pol->nteks;) {
		struct gdoi_live_tek *l = find_live(t, t->pol->teks[i].spi);
		bool keep = !is_srtp(&t->pol->teks[i]) || !l ||
			    (u->has_sa && gdoi_policy_find_tek(&u->fresh, l->tek.spi)) ||
			    l->not_after > now + dtd;
		if (keep)
			i++;
		else
			remove_policy_tek(t->pol, i);
	}
	if (ch)
		sort_live(t);
	return ch;
}

int gdoi_member_teks_push(struct gdoi_member_teks *t, const uint8_t *msg, size_t len, int64_t now,
			  bool *changed, uint32_t *seq, char *why, size_t wl, struct gdoi_notes *notes)
{
	struct gdoi_push_update *u;
	bool ch = false, new_kek;
	int rc;

	*changed = false;
	if (seq)
		*seq = 0;
	if (!gdoi_member_teks_names_kek(t, msg, len))
		return GDOI_ERR_NOT_FOUND;
	u = gdoi_secret_calloc(sizeof *u);
	if (!u)
		return GDOI_ERR_NOMEM;
	rc = gdoi_push_open(t->pol, NULL, msg, len, u, why, wl);
	if (seq && (!rc || rc == GDOI_ERR_REPLAY))
		*seq = u->seq;
	if (rc)
		goto out;
	new_kek = u->has_sa && u->fresh.has_kek &&
		  memcmp(u->fresh.kek.spi, t->pol->kek.spi, GDOI_KEK_SPI_LEN) != 0;
	ch = u->fresh.has_senders && senders_differ(t->pol, &u->fresh);
	rc = gdoi_push_apply(t->pol, u);
	if (rc) {
		snprintf(why, wl, "cannot apply: %s", gdoi_strerror(rc));
		if (seq)
			*seq = 0;
		goto out;
	}
	t->seq = u->seq;
	uint16_t atd = t->pol->atd, dtd = t->pol->dtd;
	if (u->has_sa && u->fresh.has_kek)
		t->kek_expires = now + t->pol->kek.lifetime;
	ch |= rekey_teks(t, u, now, notes);
	gdoi_note(notes, "rekey SEQ %u applied: %zu new TEK(s), %zu delete(s)%s%s; ATD %u s, DTD %u s",
		  (unsigned)u->seq, u->has_sa ? u->fresh.nteks : 0, u->ndeletes,
		  u->fresh.has_senders ? ", sender list" : "",
		  !new_kek ? "" : u->kek_renamed ? ", new KEK (key named by the old SPI, SEQ goes on)" :
		  ", new KEK", atd, dtd);
	*changed = ch;
out:
	gdoi_push_update_clear(u);
	gdoi_secret_free(u, sizeof *u);
	return rc;
}

bool gdoi_member_teks_rekeyed(struct gdoi_member_teks *t, struct gdoi_policy *p, int64_t now,
			      struct gdoi_notes *notes)
{
	struct gdoi_push_update *u = t->pol ? gdoi_secret_calloc(sizeof *u) : NULL;

	if (!u)	/* nothing held yet (or no memory): as a registration */
		return gdoi_member_teks_registered(t, p, now, notes);
	/* the push this rekey is: the TEKs not held with these keys are new; the ones
	 * held that p no longer lists were deleted */
	u->has_sa = true;
	for (size_t i = 0; i < p->nteks; i++)
		if (is_srtp(&p->teks[i]) ? !holds(find_live(t, p->teks[i].spi), &p->teks[i])
					 : !gdoi_policy_find_tek(t->pol, p->teks[i].spi))
			u->fresh.teks[u->fresh.nteks++] = p->teks[i];
	for (size_t i = 0; i < t->pol->nteks && u->ndeletes < GDOI_PUSH_MAX_DELETES; i++)
		if (is_srtp(&t->pol->teks[i]) && !gdoi_policy_find_tek(p, t->pol->teks[i].spi))
			u->deletes[u->ndeletes++] = (struct gdoi_push_delete){
				.proto = GDOI_TEK_PROTO_SRTP, .spi = t->pol->teks[i].spi };
	bool ch = senders_differ(t->pol, p);
	if (p->has_seq)
		t->seq = p->seq;
	gdoi_pull_policy_free(t->pol);
	t->pol = p;
	ch |= rekey_teks(t, u, now, notes);
	gdoi_push_update_clear(u);
	gdoi_secret_free(u, sizeof *u);
	return ch;
}

int64_t gdoi_member_teks_expire(struct gdoi_member_teks *t, int64_t now, bool *changed,
				struct gdoi_notes *notes)
{
	int64_t next = 0;

	*changed = false;
	for (size_t i = 0; i < t->nlive;) {
		if (t->live[i].not_after <= now) {
			uint32_t spi = t->live[i].tek.spi;
			gdoi_note(notes, "TEK SPI 0x%08x expired", (unsigned)spi);
			for (size_t k = 0; t->pol && k < t->pol->nteks; k++)
				if (t->pol->teks[k].spi == spi) {
					remove_policy_tek(t->pol, k);
					break;
				}
			remove_live(t, i);
			*changed = true;
			continue;
		}
		if (!next || t->live[i].not_after < next)
			next = t->live[i].not_after;
		i++;
	}
	return next;
}

int64_t gdoi_member_teks_last_valid(const struct gdoi_member_teks *t)
{
	int64_t last = 0;

	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i].not_after > last)
			last = t->live[i].not_after;
	return last;
}

int64_t gdoi_member_teks_rereg_due(const struct gdoi_member_teks *t)
{
	int64_t due, margin, life;

	if (!t->pol)
		return 0;
	due = gdoi_member_teks_last_valid(t);
	if (t->kek_expires && (!due || t->kek_expires < due))
		due = t->kek_expires;
	if (!due)
		due = t->registered_at + 60;	/* nothing to use: try again soon */
	life = due - t->registered_at;
	if (t->last_rekey > t->registered_at)
		life = due - t->last_rekey;
	margin = life / 10;
	if (margin < 2)
		margin = 2;
	if (margin > 300)
		margin = 300;
	return due - margin;
}

void gdoi_member_teks_clear(struct gdoi_member_teks *t)
{
	if (t->pol)
		gdoi_pull_policy_free(t->pol);
	gdoi_wipe(t, sizeof *t);
}
