/*
 * pull_ks.c - GROUPKEY-PULL, key server side (RFC 6407 §3.4, §7.2.5).
 *
 * Message 1 is authorized against the Phase 1 identity and answered with
 * the policy; nothing of the group's state changes until a message 3 with a
 * valid HASH(3) proves the member holds Nr. Only then are Sender-IDs
 * assigned and the keys sent. A byte-identical retransmission is answered
 * from the cache; exchanges are keyed by cookies and Message ID, so several
 * may run under one Phase 1 SA.
 */
#include "pull_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "secret.h"

#define BUCKETS 4096

enum kx_state { KX_SENT2, KX_DONE };

struct kx {
	struct kx *next;		/* in its bucket */
	struct kx *older, *newer;	/* in deadline order */
	uint8_t icookie[8], rcookie[8];
	uint32_t msgid;
	enum kx_state state;
	uint32_t group_id;
	struct gdoi_policy *policy;	/* the policy sent in message 2, until message 4 */
	uint8_t ni[PULL_MAX_NONCE], nr[PULL_MAX_NONCE];
	size_t ni_len, nr_len;
	uint8_t last_in[32];
	uint8_t *last_out;
	size_t last_out_len;
	uint64_t deadline;
};

struct gdoi_pull_ks {
	struct gdoi_pull_ks_cfg cfg;
	uint8_t *p1_spki;	/* the Phase 1 key's public half, encoded once */
	size_t p1_spki_len;
	struct kx *buckets[BUCKETS];
	size_t count;
	/* Exchanges in deadline order: a deadline is always now + the timeout, so
	 * an exchange whose deadline is set moves to the newest end, and expiry
	 * takes from the oldest end instead of walking every exchange. */
	struct kx *oldest, *newest;
};

struct gdoi_pull_ks *gdoi_pull_ks_new(const struct gdoi_pull_ks_cfg *cfg)
{
	if (!cfg->lookup)
		return NULL;
	struct gdoi_pull_ks *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return NULL;
	ks->cfg = *cfg;
	if (cfg->p1_key && gdoi_key_to_spki(cfg->p1_key, &ks->p1_spki, &ks->p1_spki_len)) {
		free(ks);
		return NULL;
	}
	return ks;
}

static void kx_free(struct kx *x)
{
	gdoi_pull_policy_free(x->policy);
	free(x->last_out);
	gdoi_wipe_free(x, sizeof(*x));
}

void gdoi_pull_ks_free(struct gdoi_pull_ks *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct kx *x = ks->buckets[i], *n; x; x = n) {
			n = x->next;
			kx_free(x);
		}
	free(ks->p1_spki);
	free(ks);
}

size_t gdoi_pull_ks_exchanges(const struct gdoi_pull_ks *ks) { return ks->count; }

static size_t bucket(const uint8_t *icookie, uint32_t msgid)
{
	return (gdoi_get_u32(icookie) ^ gdoi_get_u32(icookie + 4) ^ msgid) % BUCKETS;
}

static uint32_t timeout(const struct gdoi_pull_ks *ks);

static void order_unlink(struct gdoi_pull_ks *ks, struct kx *x)
{
	if (x->older)
		x->older->newer = x->newer;
	else
		ks->oldest = x->newer;
	if (x->newer)
		x->newer->older = x->older;
	else
		ks->newest = x->older;
	x->older = x->newer = NULL;
}

static void order_append(struct gdoi_pull_ks *ks, struct kx *x)
{
	x->older = ks->newest;
	x->newer = NULL;
	if (ks->newest)
		ks->newest->newer = x;
	else
		ks->oldest = x;
	ks->newest = x;
}

/* A new deadline for an exchange in the table. */
static void kx_extend(struct gdoi_pull_ks *ks, struct kx *x, uint64_t now)
{
	x->deadline = now + timeout(ks);
	order_unlink(ks, x);
	order_append(ks, x);
}

static struct kx *find(struct gdoi_pull_ks *ks, const uint8_t *msg)
{
	uint32_t msgid = gdoi_get_u32(msg + 20);
	for (struct kx *x = ks->buckets[bucket(msg, msgid)]; x; x = x->next)
		if (x->msgid == msgid && !memcmp(x->icookie, msg, 8) && !memcmp(x->rcookie, msg + 8, 8))
			return x;
	return NULL;
}

static uint32_t timeout(const struct gdoi_pull_ks *ks)
{
	return ks->cfg.exchange_timeout_ms ? ks->cfg.exchange_timeout_ms : 30000;
}

/* Refuses politely: a protected Notify under the Phase 1 SA. */
static int refuse(struct gdoi_p1_sa *sa, uint16_t type, int err, struct gdoi_pull_result *res,
		  const char *what, uint32_t group)
{
	struct gdoi_p1_result p1 = { 0 };
	if (gdoi_p1_send_notify(sa, type, GDOI_BYTES_NONE, &p1) == 0) {
		res->out = p1.out;
		res->out_len = p1.out_len;
		p1.out = NULL;
	}
	gdoi_p1_result_clear(&p1);
	res->notify = type;
	const struct gdoi_id *id = gdoi_p1_peer_id(sa);
	return pull_fail(res, err, "registration for group %u refused (%s, member ID type %s): %s",
			 group, gdoi_notify_name(type), gdoi_id_type_name(id->type), what);
}

static bool same_spki_as(const struct gdoi_pull_ks *ks, const struct gdoi_kek_policy *kek)
{
	return ks->p1_spki && kek->rekey_pub_len == ks->p1_spki_len &&
	       !memcmp(ks->p1_spki, kek->rekey_pub, ks->p1_spki_len);
}

static int on_msg1(struct gdoi_pull_ks *ks, struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		   uint64_t now, struct gdoi_pull_result *res)
{
	uint8_t next_iv[GDOI_CIPHER_MAX_BLOCK_LEN], *plain = NULL;
	struct gdoi_msg *m = NULL;
	uint32_t msgid = gdoi_get_u32(msg + 20);
	if (msgid == 0)
		return pull_drop(res, GDOI_ERR_VALUE, "GROUPKEY-PULL with Message ID 0 dropped");
	int rc = pull_open(sa, msg, len, GDOI_BYTES_NONE, GDOI_BYTES_NONE, &m, &plain, next_iv, res);
	if (rc)
		return rc;
	const struct gdoi_payload *ni = gdoi_msg_find(m, GDOI_PL_NONCE, NULL);
	const struct gdoi_payload *id = gdoi_msg_find(m, GDOI_PL_ID, NULL);
	if (!ni || !id || id->u.id.type != GDOI_ID_KEY_ID || id->u.id.data.len != 4) {
		pull_close(m, plain, len);
		return pull_drop(res, GDOI_ERR_MISSING, "message 1 needs Nonce and a 4-octet KEY_ID group");
	}
	if (ni->u.data.len < PULL_MIN_NONCE || ni->u.data.len > PULL_MAX_NONCE) {
		size_t n = ni->u.data.len;
		pull_close(m, plain, len);
		return pull_drop(res, GDOI_ERR_VALUE, "message 1 nonce of %zu octets outside 8..128", n);
	}
	gdoi_p1_iv_set(sa, msgid, next_iv);
	struct kx *x = calloc(1, sizeof(*x));
	if (!x) {
		pull_close(m, plain, len);
		return pull_drop(res, GDOI_ERR_NOMEM, "out of memory");
	}
	memcpy(x->icookie, msg, 8);
	memcpy(x->rcookie, msg + 8, 8);
	x->msgid = msgid;
	x->group_id = gdoi_get_u32(id->u.id.data.ptr);
	x->ni_len = ni->u.data.len;
	memcpy(x->ni, ni->u.data.ptr, x->ni_len);
	pull_digest(msg, len, x->last_in);
	x->deadline = now + timeout(ks);
	pull_close(m, plain, len);

	const struct gdoi_policy *pol = NULL;
	rc = ks->cfg.lookup(ks->cfg.ctx, x->group_id, gdoi_p1_peer_id(sa), gdoi_p1_peer_addr(sa), &pol);
	bool shared_key = rc == 0 && pol && pol->has_kek && same_spki_as(ks, &pol->kek);
	if (rc || !pol || shared_key) {
		uint32_t g = x->group_id;
		kx_free(x);
		gdoi_p1_iv_drop(sa, msgid);
		if (shared_key)
			return refuse(sa, GDOI_N_INVALID_KEY_INFORMATION, GDOI_ERR_INVALID_ARG, res,
				      "the group's rekey key is the Phase 1 key: fix the configuration", g);
		if (rc == GDOI_ERR_NOT_AUTHORIZED)
			return refuse(sa, GDOI_N_AUTHENTICATION_FAILED, rc, res, "identity not allowed in this group",
				      g);
		if (rc && rc != GDOI_ERR_NOT_FOUND)	/* e.g. its state is unreachable: not the member's fault */
			return refuse(sa, GDOI_N_PRIVATE_UNAVAILABLE, rc, res,
				      "the key server cannot serve registrations now", g);
		return refuse(sa, GDOI_N_INVALID_ID_INFORMATION, GDOI_ERR_NOT_FOUND, res, "unknown group", g);
	}
	x->policy = gdoi_secret_calloc(sizeof(*x->policy));
	x->nr_len = ks->cfg.nonce_len >= PULL_MIN_NONCE && ks->cfg.nonce_len <= PULL_MAX_NONCE
		    ? ks->cfg.nonce_len : 32;
	rc = x->policy ? gdoi_random(x->nr, x->nr_len) : GDOI_ERR_NOMEM;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3] = {
		[1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(x->nr, x->nr_len) },
	};
	if (!rc && !a)
		rc = GDOI_ERR_NOMEM;
	if (!rc) {
		memcpy(x->policy, pol, sizeof(*pol));
		rc = gdoi_policy_to_sa(x->policy, true, a, &pl[2]);
	}
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	if (!rc)
		rc = pull_seal(sa, msgid, pl, 3, GDOI_BYTES(x->ni, x->ni_len), GDOI_BYTES_NONE, &w);
	if (!rc)
		rc = pull_emit(&w, &x->last_out, &x->last_out_len, res);
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	if (rc) {
		uint32_t g = x->group_id;
		kx_free(x);
		gdoi_p1_iv_drop(sa, msgid);
		return pull_fail(res, rc, "cannot build message 2 for group %u", g);
	}
	x->state = KX_SENT2;
	size_t b = bucket(x->icookie, msgid);
	x->next = ks->buckets[b];
	ks->buckets[b] = x;
	order_append(ks, x);
	ks->count++;
	res->group_id = x->group_id;
	return 0;
}

static int on_msg3(struct gdoi_pull_ks *ks, struct gdoi_p1_sa *sa, struct kx *x, const uint8_t *msg,
		   size_t len, uint64_t now, struct gdoi_pull_result *res)
{
	uint8_t next_iv[GDOI_CIPHER_MAX_BLOCK_LEN], *plain = NULL;
	struct gdoi_msg *m = NULL;
	int rc = pull_open(sa, msg, len, GDOI_BYTES(x->ni, x->ni_len), GDOI_BYTES(x->nr, x->nr_len),
			   &m, &plain, next_iv, res);
	if (rc)
		return rc;
	unsigned want = 0;
	const struct gdoi_payload *gap = gdoi_msg_find(m, GDOI_PL_GAP, NULL);
	if (gap) {
		const struct gdoi_attr *a = gdoi_attr_find(&gap->u.gap, GDOI_GAP_SENDER_ID_REQUEST);
		uint32_t v = 0;
		if (a)
			gdoi_attr_u32(a, &v);
		want = v > GDOI_MAX_SIDS ? GDOI_MAX_SIDS : v;
	}
	pull_close(m, plain, len);
	/* Nr is proven: now, and only now, the group's state may change. */
	gdoi_p1_iv_set(sa, x->msgid, next_iv);
	pull_digest(msg, len, x->last_in);
	uint32_t sids[GDOI_MAX_SIDS];
	size_t nsids = 0;
	uint16_t refusal = 0;
	const char *why = NULL;
	if (want && ks->cfg.assign_sids) {
		rc = ks->cfg.assign_sids(ks->cfg.ctx, x->group_id, gdoi_p1_peer_id(sa), want, sids, &nsids);
		if (rc && rc != GDOI_ERR_NOT_AUTHORIZED) {
			refusal = GDOI_N_PRIVATE_UNAVAILABLE;
			why = "the key server cannot assign Sender-IDs now";
		} else if (rc || nsids > want || nsids == 0) {
			/* A sender without SSRCs must not get the keys (RFC 3711 §9.1): say so. */
			refusal = GDOI_N_INVALID_ID_INFORMATION;
			why = "no Sender-IDs for this member";
			rc = rc ? rc : GDOI_ERR_NOT_AUTHORIZED;
		}
	}
	if (!refusal && ks->cfg.admit) {
		rc = ks->cfg.admit(ks->cfg.ctx, x->group_id, gdoi_p1_peer_id(sa), gdoi_p1_peer_addr(sa));
		if (rc) {
			refusal = rc == GDOI_ERR_NOT_AUTHORIZED ? GDOI_N_AUTHENTICATION_FAILED
								: GDOI_N_PRIVATE_UNAVAILABLE;
			why = rc == GDOI_ERR_NOT_AUTHORIZED ? "member not admitted"
							    : "the key server cannot record the registration now";
		}
	}
	if (refusal) {
		uint32_t g = x->group_id;
		gdoi_pull_policy_free(x->policy);
		x->policy = NULL;
		x->state = KX_DONE;
		kx_extend(ks, x, now);
		gdoi_p1_iv_drop(sa, x->msgid);
		return refuse(sa, refusal, rc, res, why, g);
	}
	const struct gdoi_policy *p = x->policy;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3];
	size_t n = 1;
	if (p->has_kek)
		pl[n++] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = p->seq };
	rc = a ? gdoi_policy_to_kd(p, true, sids, nsids, a, &pl[n++]) : GDOI_ERR_NOMEM;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	if (!rc)
		rc = pull_seal(sa, x->msgid, pl, n, GDOI_BYTES(x->ni, x->ni_len),
			       GDOI_BYTES(x->nr, x->nr_len), &w);
	if (!rc)
		rc = pull_emit(&w, &x->last_out, &x->last_out_len, res);
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	/* Keys are out (or failed): keep only the reply, for retransmissions. */
	gdoi_pull_policy_free(x->policy);
	x->policy = NULL;
	x->state = KX_DONE;
	kx_extend(ks, x, now);
	gdoi_p1_iv_drop(sa, x->msgid);
	res->group_id = x->group_id;
	if (rc)
		return pull_fail(res, rc, "cannot build message 4 for group %u", x->group_id);
	res->event = GDOI_PULL_EV_REGISTERED;
	snprintf(res->reason, sizeof(res->reason), "member registered for group %u with %zu SSRC(s)",
		 x->group_id, nsids);
	return 0;
}

int gdoi_pull_ks_input(struct gdoi_pull_ks *ks, struct gdoi_p1_sa *sa, const uint8_t *msg,
		       size_t len, uint64_t now, struct gdoi_pull_result *res)
{
	uint8_t icky[8], rcky[8], d[32];
	if (!gdoi_p1_established(sa))
		return pull_drop(res, GDOI_ERR_STATE, "GROUPKEY-PULL before Phase 1 completed: dropped");
	gdoi_p1_cookies(sa, icky, rcky);
	if (len < GDOI_HDR_LEN || memcmp(msg, icky, 8) || memcmp(msg + 8, rcky, 8) ||
	    msg[18] != GDOI_EXCH_PULL)
		return pull_drop(res, GDOI_ERR_NOT_FOUND, "not a GROUPKEY-PULL of this SA");
	struct kx *x = find(ks, msg);
	if (!x)
		return on_msg1(ks, sa, msg, len, now, res);
	pull_digest(msg, len, d);
	if (!memcmp(d, x->last_in, 32)) {
		/* The member lost our reply: the cached one again, no new state. */
		res->out = malloc(x->last_out_len);
		if (res->out) {
			memcpy(res->out, x->last_out, x->last_out_len);
			res->out_len = x->last_out_len;
		}
		return pull_drop(res, 0, "retransmission answered from the cache");
	}
	if (x->state != KX_SENT2)
		return pull_drop(res, GDOI_ERR_STATE, "message for a finished exchange dropped");
	return on_msg3(ks, sa, x, msg, len, now, res);
}

uint64_t gdoi_pull_ks_expire(struct gdoi_pull_ks *ks, uint64_t now)
{
	while (ks->oldest && ks->oldest->deadline <= now) {
		struct kx *x = ks->oldest, **pp = &ks->buckets[bucket(x->icookie, x->msgid)];
		while (*pp && *pp != x)
			pp = &(*pp)->next;
		if (*pp)
			*pp = x->next;
		order_unlink(ks, x);
		ks->count--;
		kx_free(x);
	}
	return ks->oldest ? ks->oldest->deadline : 0;
}
