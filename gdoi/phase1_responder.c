/*
 * phase1_responder.c - Main Mode, responder side (the key server).
 *
 * Message 1 creates no SA. The responder cookie is the first 8 octets of
 * HMAC-SHA256(secret, CKY-I | peer address | port | SHA-256(SAi_b)) under a
 * local secret that rotates every COOKIE_ROTATE_MS (the previous one is
 * still accepted). RFC 2409 makes the responder hash the initiator's SA
 * offer into HASH_I/HASH_R, and message 3 does not repeat it, so the chosen
 * offer waits in a fixed ring of PENDING_SLOTS entries: a flood of message
 * 1s overwrites the ring and never grows memory. An SA exists only once a
 * message 3 arrives with a cookie that verifies.
 *
 * SAs are found by initiator cookie in a table that doubles as SAs come
 * (from BUCKETS_MIN), and established ones by peer identity in a second
 * table of the same size: INITIAL-CONTACT (RFC 2407 §4.6.3.3) kills the
 * older SAs of one identity without a walk over every SA (a walk made each
 * registration cost O(SAs): 5 ms each with 25,000 SAs held).
 */
#include "phase1_int.h"

#include <stdlib.h>
#include <string.h>

#include "msg_crypt.h"
#include "sa_hash.h"

#define COOKIE_ROTATE_MS 120000
#define PENDING_SLOTS 256
#define BUCKETS_MIN 64
#define BUCKETS_MAX (1u << 20)

struct p1_pending {
	bool used;
	uint8_t icookie[8], rcookie[8];
	struct gdoi_addr peer;
	struct gdoi_p1_suite suite;
	uint8_t *sai_b;
	size_t sai_b_len;
};

struct gdoi_p1_responder {
	const struct gdoi_p1_config *cfg;
	uint8_t secret[2][32];		/* [0] current, [1] previous */
	uint64_t rotated_at;
	struct p1_pending pending[PENDING_SLOTS];
	size_t pending_next;
	struct gdoi_p1_sa **buckets;	/* by initiator cookie */
	struct gdoi_p1_sa **by_id;	/* established SAs by peer identity */
	size_t nbuckets;		/* of each: a power of two */
	uint64_t hash_key;
	size_t count;
	/* The earliest SA timer known (0: none) and when the SAs were last walked:
	 * the walk is skipped before either is due (it is O(SAs), and the caller
	 * runs it at each PULL exchange's expiry too). */
	uint64_t next_due, walked_at;
	bool walked;
};

/* Walk the SAs at least this often (SAs that an informational exchange left
 * dead are freed then). */
#define WALK_EVERY_MS 1000

struct gdoi_p1_responder *gdoi_p1_responder_new(const struct gdoi_p1_config *cfg, uint64_t now)
{
	struct gdoi_p1_responder *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = cfg;
	r->rotated_at = now;
	r->nbuckets = BUCKETS_MIN;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	r->by_id = calloc(r->nbuckets, sizeof(*r->by_id));
	if (!r->buckets || !r->by_id || gdoi_random(r->secret[0], 32) || gdoi_random(r->secret[1], 32) ||
	    gdoi_random((uint8_t *)&r->hash_key, sizeof(r->hash_key))) {
		free(r->buckets);
		free(r->by_id);
		free(r);
		return NULL;
	}
	return r;
}

static void pending_clear(struct p1_pending *p)
{
	free(p->sai_b);
	memset(p, 0, sizeof(*p));
}

void gdoi_p1_responder_free(struct gdoi_p1_responder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < PENDING_SLOTS; i++)
		pending_clear(&r->pending[i]);
	for (size_t i = 0; i < r->nbuckets; i++) {
		for (struct gdoi_p1_sa *sa = r->buckets[i], *next; sa; sa = next) {
			next = sa->bucket_next;
			gdoi_p1_free(sa);
		}
	}
	gdoi_wipe(r->secret, sizeof(r->secret));
	free(r->buckets);
	free(r->by_id);
	free(r);
}

static size_t bucket_of(const struct gdoi_p1_responder *r, const uint8_t icookie[8])
{
	return (size_t)(gdoi_sa_hash8(r->hash_key, icookie) >> 32) & (r->nbuckets - 1);
}

static size_t id_bucket_of(const struct gdoi_p1_responder *r, const struct gdoi_id *id)
{
	return (size_t)(gdoi_sa_hash_id(r->hash_key, id->type, id->data.ptr, id->data.len) >> 32) &
	       (r->nbuckets - 1);
}

static bool same_id(const struct gdoi_id *a, const struct gdoi_id *b)
{
	return a->type == b->type && a->data.len == b->data.len &&
	       !memcmp(a->data.ptr, b->data.ptr, a->data.len);
}

/* Doubles both tables when they hold twice as many SAs as buckets; a failed
 * allocation keeps the old ones (longer chains, nothing lost). */
static void grow(struct gdoi_p1_responder *r)
{
	if (r->count <= 2 * r->nbuckets || r->nbuckets >= BUCKETS_MAX)
		return;
	size_t old_n = r->nbuckets;
	struct gdoi_p1_sa **old = r->buckets, **nb = calloc(old_n * 2, sizeof(*nb)),
			  **ni = calloc(old_n * 2, sizeof(*ni));
	if (!nb || !ni) {
		free(nb);
		free(ni);
		return;
	}
	free(r->by_id);
	r->buckets = nb;
	r->by_id = ni;
	r->nbuckets = old_n * 2;
	for (size_t i = 0; i < old_n; i++)
		for (struct gdoi_p1_sa *sa = old[i], *next; sa; sa = next) {
			next = sa->bucket_next;
			size_t b = bucket_of(r, sa->icookie);
			sa->bucket_next = nb[b];
			nb[b] = sa;
			if (sa->id_linked) {
				b = id_bucket_of(r, &sa->peer_id);
				sa->id_next = ni[b];
				ni[b] = sa;
			}
		}
	free(old);
}

static void id_link(struct gdoi_p1_responder *r, struct gdoi_p1_sa *sa)
{
	size_t b = id_bucket_of(r, &sa->peer_id);
	sa->id_next = r->by_id[b];
	r->by_id[b] = sa;
	sa->id_linked = true;
}

static void id_unlink(struct gdoi_p1_responder *r, struct gdoi_p1_sa *sa)
{
	if (!sa->id_linked)
		return;
	struct gdoi_p1_sa **pp = &r->by_id[id_bucket_of(r, &sa->peer_id)];
	while (*pp && *pp != sa)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = sa->id_next;
	sa->id_linked = false;
}

struct gdoi_p1_sa *gdoi_p1_responder_find(struct gdoi_p1_responder *r, const uint8_t icookie[8],
					  const uint8_t rcookie[8])
{
	for (struct gdoi_p1_sa *sa = r->buckets[bucket_of(r, icookie)]; sa; sa = sa->bucket_next)
		if (!memcmp(sa->icookie, icookie, 8) && !memcmp(sa->rcookie, rcookie, 8))
			return sa;
	return NULL;
}

size_t gdoi_p1_responder_sa_count(const struct gdoi_p1_responder *r) { return r->count; }

size_t gdoi_p1_responder_pending_count(const struct gdoi_p1_responder *r)
{
	size_t n = 0;
	for (size_t i = 0; i < PENDING_SLOTS; i++)
		n += r->pending[i].used;
	return n;
}

static void rotate(struct gdoi_p1_responder *r, uint64_t now)
{
	if (now - r->rotated_at < COOKIE_ROTATE_MS)
		return;
	memcpy(r->secret[1], r->secret[0], 32);
	if (gdoi_random(r->secret[0], 32) == 0)
		r->rotated_at = now;
}

static int make_cookie(const uint8_t secret[32], const uint8_t icookie[8],
		       const struct gdoi_addr *peer, gdoi_bytes sai_b, uint8_t out[8])
{
	uint8_t offer[32], mac[32], port[2];
	int rc = gdoi_hash(GDOI_MD_SHA256, &sai_b, 1, offer);
	gdoi_put_u16(port, peer->port);
	gdoi_bytes parts[] = { GDOI_BYTES(icookie, 8), GDOI_BYTES(peer->ip, peer->len),
			       GDOI_BYTES(port, 2), GDOI_BYTES(offer, 32) };
	if (!rc)
		rc = gdoi_prf(GDOI_MD_SHA256, GDOI_BYTES(secret, 32), parts, 4, mac);
	/* on failure mac was never written: give no cookie rather than stack contents */
	if (rc)
		memset(out, 0, 8);
	else
		memcpy(out, mac, 8);
	gdoi_wipe(mac, sizeof(mac));
	return rc;
}

static bool addr_equal(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && a->port == b->port && !memcmp(a->ip, b->ip, a->len);
}

/* Message 1: choose, answer, remember only the offer in the ring. */
static int on_mm1(struct gdoi_p1_responder *r, const uint8_t *msg, size_t len,
		  const struct gdoi_addr *peer, struct gdoi_p1_result *res)
{
	struct gdoi_msg *m = NULL;
	struct gdoi_parse_error perr;
	int rc = gdoi_msg_parse(msg, len, &m, &perr);
	if (rc) {
		char why[200];
		gdoi_parse_error_format(&perr, why, sizeof(why));
		return p1_drop(res, rc, "malformed message 1 dropped: %s", why);
	}
	if (m->hdr.msgid != 0 || (m->hdr.flags & GDOI_FLAG_ENC) || m->pl[0].type != GDOI_PL_SA) {
		gdoi_msg_free(m);
		return p1_drop(res, GDOI_ERR_VALUE, "message 1 must be clear and start with SA");
	}
	const struct gdoi_payload *sap = &m->pl[0];
	gdoi_bytes sai_b = GDOI_BYTES(sap->raw.ptr + 4, sap->raw.len - 4);
	if (sai_b.len > P1_MAX_OFFER) {
		gdoi_msg_free(m);
		return p1_drop(res, GDOI_ERR_TOO_BIG, "offer of %zu octets refused", sai_b.len);
	}
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload reply;
	struct gdoi_p1_suite chosen;
	rc = a ? p1_choose(r->cfg, &sap->u.sa_ike, a, &reply, &chosen) : GDOI_ERR_NOMEM;
	if (rc) {
		static const uint8_t zero[8];
		gdoi_arena_free(a);
		gdoi_msg_free(m);
		p1_clear_notify(msg, zero, GDOI_N_NO_PROPOSAL_CHOSEN, res);
		return p1_drop(res, GDOI_ERR_NO_PROPOSAL, "no acceptable proposal in message 1");
	}
	uint8_t rcookie[8];
	rc = make_cookie(r->secret[0], msg, peer, sai_b, rcookie);
	/* Slot: the same initiator retransmitting reuses its slot, else the oldest. */
	struct p1_pending *slot = NULL;
	for (size_t i = 0; i < PENDING_SLOTS && !slot; i++)
		if (r->pending[i].used && !memcmp(r->pending[i].icookie, msg, 8) &&
		    addr_equal(&r->pending[i].peer, peer))
			slot = &r->pending[i];
	if (!slot) {
		slot = &r->pending[r->pending_next];
		r->pending_next = (r->pending_next + 1) % PENDING_SLOTS;
	}
	pending_clear(slot);
	slot->sai_b = malloc(sai_b.len);
	if (!rc && !slot->sai_b)
		rc = GDOI_ERR_NOMEM;
	if (!rc) {
		slot->used = true;
		memcpy(slot->icookie, msg, 8);
		memcpy(slot->rcookie, rcookie, 8);
		slot->peer = *peer;
		slot->suite = chosen;
		memcpy(slot->sai_b, sai_b.ptr, sai_b.len);
		slot->sai_b_len = sai_b.len;
		struct gdoi_hdr h = m->hdr;
		memcpy(h.rcookie, rcookie, 8);
		struct gdoi_writer w;
		gdoi_writer_init(&w);
		rc = gdoi_msg_build(&w, &h, &reply, 1, NULL);
		free(res->out);
		res->out = rc ? NULL : gdoi_writer_take(&w, &res->out_len);
		gdoi_writer_free(&w);
		if (!rc && !res->out)
			rc = GDOI_ERR_NOMEM;
	}
	gdoi_arena_free(a);
	gdoi_msg_free(m);
	return rc ? p1_drop(res, rc, "cannot answer message 1") : 0;
}

static struct p1_pending *find_pending(struct gdoi_p1_responder *r, const struct gdoi_hdr *h,
				       const struct gdoi_addr *peer)
{
	for (size_t i = 0; i < PENDING_SLOTS; i++) {
		struct p1_pending *p = &r->pending[i];
		if (!p->used || memcmp(p->icookie, h->icookie, 8) || memcmp(p->rcookie, h->rcookie, 8) ||
		    !addr_equal(&p->peer, peer))
			continue;
		/* The cookie must still verify under the current or previous secret. */
		for (int k = 0; k < 2; k++) {
			uint8_t c[8];
			if (!make_cookie(r->secret[k], p->icookie, peer,
					 GDOI_BYTES(p->sai_b, p->sai_b_len), c) &&
			    gdoi_ct_equal(c, h->rcookie, 8))
				return p;
		}
	}
	return NULL;
}

/* Message 3: the first message that costs state. */
static int on_mm3(struct gdoi_p1_responder *r, struct p1_pending *p, const uint8_t *msg,
		  size_t len, uint64_t now, struct gdoi_p1_result *res, struct gdoi_p1_sa **out)
{
	struct gdoi_msg *m = NULL;
	struct gdoi_parse_error perr;
	int rc = gdoi_msg_parse(msg, len, &m, &perr);
	if (rc) {
		char why[200];
		gdoi_parse_error_format(&perr, why, sizeof(why));
		return p1_drop(res, rc, "malformed message 3 dropped: %s", why);
	}
	struct gdoi_p1_sa *sa = p1_sa_new(r->cfg, false, &p->peer, now);
	const struct gdoi_payload *ke = gdoi_msg_find(m, GDOI_PL_KE, NULL);
	const struct gdoi_payload *ni = gdoi_msg_find(m, GDOI_PL_NONCE, NULL);
	if (!sa) {
		gdoi_msg_free(m);
		return p1_drop(res, GDOI_ERR_NOMEM, "out of memory");
	}
	memcpy(sa->icookie, p->icookie, 8);
	memcpy(sa->rcookie, p->rcookie, 8);
	rc = p1_apply_suite(sa, &p->suite);
	if (!rc && (!ke || !ni || (m->hdr.flags & GDOI_FLAG_ENC)))
		rc = p1_drop(res, GDOI_ERR_MISSING, "message 3 lacks KE or Nonce");
	if (!rc)
		rc = p1_check_nonce(ni->u.data.len, res);
	if (!rc)
		rc = p1_store_ke(sa, ke, sa->n->gxi, res);
	if (!rc)
		rc = gdoi_dh_new(sa->suite.group, &sa->n->dh);
	if (!rc) {
		memcpy(sa->n->ni, ni->u.data.ptr, ni->u.data.len);
		sa->n->ni_len = ni->u.data.len;
		sa->peer_wants_cert = gdoi_msg_find(m, GDOI_PL_CR, NULL) != NULL;
		gdoi_bytes pub = gdoi_dh_public(sa->n->dh);
		memcpy(sa->n->gxr, pub.ptr, pub.len);
		rc = p1_derive_gxy(sa, sa->n->gxi, res);
	}
	if (!rc) {
		sa->n->nr_len = r->cfg->nonce_len ? r->cfg->nonce_len : 32;
		if (sa->n->nr_len < P1_MIN_NONCE || sa->n->nr_len > P1_MAX_NONCE)
			sa->n->nr_len = 32;
		rc = gdoi_random(sa->n->nr, sa->n->nr_len);
	}
	if (!rc) {
		struct gdoi_payload pl[3] = {
			{ .type = GDOI_PL_KE, .u.data = GDOI_BYTES(sa->n->gxr, sa->n->gx_len) },
			{ .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(sa->n->nr, sa->n->nr_len) },
			{ .type = GDOI_PL_CR, .u.cert = { GDOI_CERT_X509_SIG, GDOI_BYTES_NONE } },
		};
		struct gdoi_hdr h;
		struct gdoi_writer w;
		p1_header(&h, sa, GDOI_EXCH_IDENT_PROT, 0);
		gdoi_writer_init(&w);
		rc = gdoi_msg_build(&w, &h, pl, p1_is_sig_auth(sa->suite.auth) ? 3 : 2, NULL);
		if (!rc)
			rc = p1_send(sa, &w, now, false, res);
		gdoi_writer_free(&w);
	}
	gdoi_msg_free(m);
	if (rc) {
		gdoi_p1_free(sa);
		/* A bad message 3 from a cookie-proven peer: it can try again. */
		res->event = GDOI_P1_EV_NONE;
		return rc;
	}
	/* The offer moves from the ring into the SA. */
	sa->n->sai_b = p->sai_b;
	sa->n->sai_b_len = p->sai_b_len;
	p->sai_b = NULL;
	pending_clear(p);
	sa->state = P1_R_MM4_SENT;
	p1_remember_input(sa, msg, len);
	size_t b = bucket_of(r, sa->icookie);
	sa->bucket_next = r->buckets[b];
	r->buckets[b] = sa;
	r->count++;
	grow(r);
	*out = sa;
	p1_note(res, "message 3 accepted: SA created");
	return 0;
}

/* Tries one pre-shared key (or none, for signatures) against message 5. */
static int try_mm5(struct gdoi_p1_sa *sa, const struct gdoi_p1_psk *psk, const uint8_t *msg,
		   size_t len, uint8_t **plain, struct gdoi_msg **m, uint8_t *next_iv)
{
	int rc = p1_derive_keys(sa, psk);
	if (!rc)
		rc = gdoi_msg_open(sa->cipher, GDOI_BYTES(sa->keys.enc_key, sa->keys.enc_key_len),
				   GDOI_BYTES(sa->iv, sa->blk), msg, len, plain, next_iv);
	if (!rc) {
		rc = gdoi_msg_parse_decrypted(*plain, len, m, NULL);
		if (rc) {
			gdoi_msg_plain_free(*plain, len);
			*plain = NULL;
		}
	}
	if (rc)
		return rc;
	if (psk && !p1_psk_id_ok(psk, *m))
		return GDOI_ERR_NOT_AUTHORIZED;
	return 0;
}

static int on_mm5(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		  struct gdoi_p1_result *res)
{
	const struct gdoi_p1_config *cfg = sa->cfg;
	uint8_t *plain = NULL, next_iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	struct gdoi_msg *m = NULL;
	int rc = GDOI_ERR_NOT_FOUND;
	if (sa->suite.auth != GDOI_IKE_AUTH_PSK) {
		rc = try_mm5(sa, NULL, msg, len, &plain, &m, next_iv);
	} else {
		/* The key for this address, else each key bound to an identity alone. */
		const struct gdoi_p1_psk *by_addr = p1_psk_by_addr(cfg, &sa->peer);
		for (size_t i = 0; i < cfg->npsks + 1 && rc; i++) {
			const struct gdoi_p1_psk *psk = i == 0 ? by_addr : &cfg->psks[i - 1];
			/* After the address-bound key: keys bound to an identity, or to nobody. */
			if (!psk || (i > 0 && psk->addr.len))
				continue;
			gdoi_msg_free(m);
			gdoi_msg_plain_free(plain, len);
			m = NULL;
			plain = NULL;
			res->event = GDOI_P1_EV_NONE;	/* forget the previous candidate's verdict */
			res->notify = 0;
			res->err = 0;
			rc = try_mm5(sa, psk, msg, len, &plain, &m, next_iv);
			if (rc == 0) {
				/* Identity matched: the HASH decides. Keep these keys. */
				rc = p1_auth_check(sa, m, res);
				if (rc && i == 0)
					break;
			}
		}
	}
	if (rc == 0 && sa->suite.auth != GDOI_IKE_AUTH_PSK)
		rc = p1_auth_check(sa, m, res);
	if (rc && res->event != GDOI_P1_EV_FAILED)
		p1_fail(res, GDOI_N_AUTHENTICATION_FAILED, rc,
			"message 5 does not decrypt and authenticate with any configured key");
	if (rc) {
		gdoi_msg_free(m);
		gdoi_msg_plain_free(plain, len);
		sa->state = P1_DEAD;
		uint16_t n = res->notify;
		p1_clear_notify(sa->icookie, sa->rcookie, n, res);
		return rc;
	}
	for (size_t i = 0; i < m->npl; i++)
		if (m->pl[i].type == GDOI_PL_NOTIFY && m->pl[i].u.notify.type == GDOI_N_INITIAL_CONTACT)
			sa->initial_contact = true;
	gdoi_msg_free(m);
	gdoi_msg_plain_free(plain, len);
	memcpy(sa->iv, next_iv, sa->blk);

	/* MM6*: ID, HASH_R or [CERT] SIG_R */
	rc = p1_send_auth(sa, now, false, sa->last_block, res);
	if (rc) {
		sa->state = P1_DEAD;
		return p1_fail(res, 0, rc, "cannot build message 6");
	}
	memcpy(sa->iv, sa->last_block, sa->blk);
	p1_established(sa, now, res);
	return 0;
}

int p1_responder_sa_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
			  struct gdoi_p1_result *res)
{
	struct gdoi_hdr hdr;
	if (gdoi_hdr_parse(msg, len, &hdr, NULL))
		return p1_drop(res, GDOI_ERR_LENGTH, "malformed header");
	if (hdr.exchange == GDOI_EXCH_INFO)
		return p1_handle_info(sa, msg, len, res);
	if (hdr.exchange != GDOI_EXCH_IDENT_PROT || hdr.msgid != 0)
		return p1_drop(res, GDOI_ERR_STATE, "exchange %u is not Main Mode", hdr.exchange);
	if (sa->state == P1_DEAD)
		return p1_drop(res, GDOI_ERR_STATE, "SA is dead");
	if (p1_duplicate(sa, msg, len, res))
		return 0;
	if (sa->state != P1_R_MM4_SENT)
		return p1_drop(res, GDOI_ERR_STATE, "unexpected Main Mode message");
	if (!(hdr.flags & GDOI_FLAG_ENC))
		return p1_drop(res, GDOI_ERR_STATE, "message 5 must be encrypted");
	int rc = on_mm5(sa, msg, len, now, res);
	if (rc == 0)
		p1_remember_input(sa, msg, len);
	return rc;
}

int gdoi_p1_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		  struct gdoi_p1_result *res)
{
	return sa->initiator ? p1_initiator_input(sa, msg, len, now, res)
			     : p1_responder_sa_input(sa, msg, len, now, res);
}

/* An SA just established is found by its identity from now on; with
 * INITIAL-CONTACT (RFC 2407 §4.6.3.3) the peer has no memory of older SAs,
 * so those of the same identity are deleted. */
static void established(struct gdoi_p1_responder *r, struct gdoi_p1_sa *fresh)
{
	/* the dead leave this table at once (the next expire frees them), so
	 * that an identity registering again walks only its live SAs */
	struct gdoi_p1_sa **pp = &r->by_id[id_bucket_of(r, &fresh->peer_id)], *sa;
	while (fresh->initial_contact && (sa = *pp) != NULL) {
		if (sa == fresh || !same_id(&sa->peer_id, &fresh->peer_id)) {
			pp = &sa->id_next;
			continue;
		}
		sa->state = P1_DEAD;
		*pp = sa->id_next;
		sa->id_linked = false;
	}
	if (!fresh->id_linked)
		id_link(r, fresh);
}

static int responder_input(struct gdoi_p1_responder *r, const uint8_t *msg, size_t len,
			   const struct gdoi_addr *peer, uint64_t now,
			   struct gdoi_p1_result *res, struct gdoi_p1_sa **sa_out)
{
	struct gdoi_hdr hdr;
	struct gdoi_parse_error perr;
	static const uint8_t zero[8];
	struct gdoi_p1_sa *dummy;
	if (!sa_out)
		sa_out = &dummy;
	*sa_out = NULL;
	rotate(r, now);
	int rc = gdoi_hdr_parse(msg, len, &hdr, &perr);
	if (rc) {
		char why[200];
		gdoi_parse_error_format(&perr, why, sizeof(why));
		return p1_drop(res, rc, "datagram dropped: %s", why);
	}
	if (!memcmp(hdr.rcookie, zero, 8)) {
		if (hdr.exchange != GDOI_EXCH_IDENT_PROT)
			return p1_drop(res, GDOI_ERR_UNSUPPORTED,
				       "exchange %u without responder cookie", hdr.exchange);
		return on_mm1(r, msg, len, peer, res);
	}
	struct gdoi_p1_sa *sa = gdoi_p1_responder_find(r, hdr.icookie, hdr.rcookie);
	if (sa) {
		if (!addr_equal(&sa->peer, peer) && sa->state != P1_ESTABLISHED)
			return p1_drop(res, GDOI_ERR_NOT_FOUND, "message from another address");
		*sa_out = sa;
		if (hdr.exchange != GDOI_EXCH_IDENT_PROT && hdr.exchange != GDOI_EXCH_INFO)
			return 0;	/* another layer's exchange (GROUPKEY-PULL) */
		rc = p1_responder_sa_input(sa, msg, len, now, res);
		if (rc == 0 && res->event == GDOI_P1_EV_ESTABLISHED)
			established(r, sa);
		return rc;
	}
	if (hdr.exchange != GDOI_EXCH_IDENT_PROT)
		return p1_drop(res, GDOI_ERR_NOT_FOUND, "no SA for these cookies");
	struct p1_pending *p = find_pending(r, &hdr, peer);
	if (!p)
		return p1_drop(res, GDOI_ERR_NOT_FOUND, "unknown or expired responder cookie");
	return on_mm3(r, p, msg, len, now, res, sa_out);
}

/* SA timers are set when an SA is created or takes a message, both here. */
int gdoi_p1_responder_input(struct gdoi_p1_responder *r, const uint8_t *msg, size_t len,
			    const struct gdoi_addr *peer, uint64_t now,
			    struct gdoi_p1_result *res, struct gdoi_p1_sa **sa_out)
{
	struct gdoi_p1_sa *sa = NULL;
	int rc = responder_input(r, msg, len, peer, now, res, &sa);
	uint64_t t = sa ? gdoi_p1_next_timer(sa) : 0;
	if (t && (!r->next_due || t < r->next_due))
		r->next_due = t;
	if (sa_out)
		*sa_out = sa;
	return rc;
}

uint64_t gdoi_p1_responder_expire(struct gdoi_p1_responder *r, uint64_t now)
{
	uint64_t next = 0;
	if (r->walked && (!r->next_due || now < r->next_due) && now < r->walked_at + WALK_EVERY_MS)
		return r->next_due;
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct gdoi_p1_sa **pp = &r->buckets[i];
		while (*pp) {
			struct gdoi_p1_sa *sa = *pp;
			struct gdoi_p1_result res = { 0 };
			uint64_t t = gdoi_p1_next_timer(sa);
			if (t && t <= now)
				gdoi_p1_timer(sa, now, &res);
			gdoi_p1_result_clear(&res);
			if (sa->state == P1_DEAD) {
				*pp = sa->bucket_next;
				id_unlink(r, sa);
				r->count--;
				gdoi_p1_free(sa);
				continue;
			}
			t = gdoi_p1_next_timer(sa);
			if (t && (!next || t < next))
				next = t;
			pp = &sa->bucket_next;
		}
	}
	r->next_due = next;
	r->walked_at = now;
	r->walked = true;
	return next;
}
