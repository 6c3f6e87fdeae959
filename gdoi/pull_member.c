/*
 * pull_member.c - GROUPKEY-PULL, group member side (RFC 6407 §3.3).
 * The member changes nothing it holds until message 4 has verified; an
 * unacceptable policy in message 2 is answered by deleting the Phase 1 SA.
 */
#include "pull_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "secret.h"

enum pm_state { PM_WAIT2, PM_WAIT4, PM_DONE };

struct gdoi_pull_member {
	struct gdoi_p1_sa *sa;
	struct gdoi_pull_member_cfg cfg;
	enum pm_state state;
	uint32_t msgid;
	uint8_t ni[PULL_MAX_NONCE], nr[PULL_MAX_NONCE];
	size_t ni_len, nr_len;
	struct gdoi_policy *policy;	/* from message 2, completed by message 4 */
	uint8_t *last_out;
	size_t last_out_len;
	uint8_t last_in[32];
	bool have_last_in;
	unsigned transmits;
	uint32_t rto;
	uint32_t rto_cap;	/* 0 = none */
	uint64_t retransmit_at;
};

static uint32_t cfg_rto(const struct gdoi_pull_member_cfg *c) { return c->retransmit_ms ? c->retransmit_ms : 1000; }

static int send_msg(struct gdoi_pull_member *pm, struct gdoi_payload *pl, size_t n, gdoi_bytes ni,
		    gdoi_bytes nr, uint64_t now, struct gdoi_pull_result *res)
{
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	int rc = pull_seal(pm->sa, pm->msgid, pl, n, ni, nr, &w);
	if (!rc)
		rc = pull_emit(&w, &pm->last_out, &pm->last_out_len, res);
	gdoi_writer_free(&w);
	pm->transmits = 1;
	pm->rto = gdoi_rto_capped(cfg_rto(&pm->cfg), pm->rto_cap);
	pm->retransmit_at = now + pm->rto;
	return rc;
}

int gdoi_pull_member_start(struct gdoi_p1_sa *sa, const struct gdoi_pull_member_cfg *cfg,
			   uint64_t now, struct gdoi_pull_member **out, struct gdoi_pull_result *res)
{
	*out = NULL;
	if (!gdoi_p1_established(sa))
		return pull_fail(res, GDOI_ERR_STATE, "Phase 1 SA not established");
	struct gdoi_pull_member *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return pull_fail(res, GDOI_ERR_NOMEM, "out of memory");
	pm->sa = sa;
	pm->cfg = *cfg;
	int rc = 0;
	if (cfg->fixed_nonce) {
		pm->ni_len = cfg->fixed_nonce_len;
		if (pm->ni_len >= PULL_MIN_NONCE && pm->ni_len <= PULL_MAX_NONCE)
			memcpy(pm->ni, cfg->fixed_nonce, pm->ni_len);
	} else {
		pm->ni_len = cfg->nonce_len ? cfg->nonce_len : 32;
		if (pm->ni_len >= PULL_MIN_NONCE && pm->ni_len <= PULL_MAX_NONCE)
			rc = gdoi_random(pm->ni, pm->ni_len);
	}
	if (pm->ni_len < PULL_MIN_NONCE || pm->ni_len > PULL_MAX_NONCE) {
		free(pm);
		return pull_fail(res, GDOI_ERR_VALUE, "nonce of %zu octets outside 8..128", cfg->nonce_len);
	}
	pm->msgid = cfg->fixed_msgid;
	while (!rc && pm->msgid == 0)
		rc = gdoi_random((uint8_t *)&pm->msgid, sizeof(pm->msgid));
	uint8_t gid[4];
	gdoi_put_u32(gid, cfg->group_id);
	struct gdoi_payload pl[3] = {
		[1] = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(pm->ni, pm->ni_len) },
		[2] = { .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_KEY_ID, .data = GDOI_BYTES(gid, 4) } },
	};
	if (!rc)
		rc = send_msg(pm, pl, 3, GDOI_BYTES_NONE, GDOI_BYTES_NONE, now, res);
	if (rc) {
		gdoi_pull_member_free(pm);
		return pull_fail(res, rc, "cannot build GROUPKEY-PULL message 1");
	}
	pm->state = PM_WAIT2;
	*out = pm;
	return 0;
}

/* Message 2: HASH(2), Nr, SA. */
static int on_msg2(struct gdoi_pull_member *pm, const struct gdoi_msg *m, uint64_t now,
		   struct gdoi_pull_result *res)
{
	const struct gdoi_payload *nr = gdoi_msg_find(m, GDOI_PL_NONCE, NULL);
	const struct gdoi_payload *sa = gdoi_msg_find(m, GDOI_PL_SA, NULL);
	if (!nr || !sa)
		return pull_drop(res, GDOI_ERR_MISSING, "message 2 lacks Nonce or SA: dropped");
	if (nr->u.data.len < PULL_MIN_NONCE || nr->u.data.len > PULL_MAX_NONCE)
		return pull_drop(res, GDOI_ERR_VALUE, "message 2 nonce of %zu octets outside 8..128",
				 nr->u.data.len);
	memcpy(pm->nr, nr->u.data.ptr, nr->u.data.len);
	pm->nr_len = nr->u.data.len;
	pm->policy = gdoi_secret_calloc(sizeof(*pm->policy));
	if (!pm->policy)
		return pull_fail(res, GDOI_ERR_NOMEM, "out of memory");
	char why[128];
	int rc = gdoi_policy_from_sa(pm->policy, &sa->u.sa, why, sizeof(why));
	if (rc) {
		/* RFC 6407 §3.3: an unacceptable policy ends the registration and the Phase 1 SA. */
		struct gdoi_p1_result p1 = { 0 };
		gdoi_p1_send_delete(pm->sa, &p1);
		res->out = p1.out;
		res->out_len = p1.out_len;
		p1.out = NULL;
		gdoi_p1_result_clear(&p1);
		res->teardown = true;
		pm->state = PM_DONE;
		return pull_fail(res, rc, "group policy unacceptable: %s", why);
	}
	pm->policy->group_id = pm->cfg.group_id;
	struct gdoi_attr sid = gdoi_attr_basic(GDOI_GAP_SENDER_ID_REQUEST,
					       (uint16_t)(pm->cfg.sid_request > GDOI_MAX_SIDS
							  ? GDOI_MAX_SIDS : pm->cfg.sid_request));
	struct gdoi_payload pl[2] = {
		[1] = { .type = GDOI_PL_GAP, .u.gap = { &sid, 1 } },
	};
	rc = send_msg(pm, pl, pm->cfg.sid_request ? 2 : 1, GDOI_BYTES(pm->ni, pm->ni_len),
		      GDOI_BYTES(pm->nr, pm->nr_len), now, res);
	if (rc)
		return pull_fail(res, rc, "cannot build message 3");
	pm->state = PM_WAIT4;
	return 0;
}

static bool needs_sids(const struct gdoi_policy *p)
{
	for (size_t i = 0; i < p->nteks; i++)
		if (p->teks[i].kind == GDOI_TEK_SRTP && p->teks[i].u.srtp.ssrc_assigned)
			return true;
	return false;
}

/* Message 4: HASH(4) [, SEQ], KD. */
static int on_msg4(struct gdoi_pull_member *pm, const struct gdoi_msg *m, struct gdoi_pull_result *res)
{
	const struct gdoi_payload *kd = gdoi_msg_find(m, GDOI_PL_KD, NULL);
	const struct gdoi_payload *seq = gdoi_msg_find(m, GDOI_PL_SEQ, NULL);
	struct gdoi_policy *p = pm->policy;
	char why[128];
	if (!kd)
		return pull_fail(res, GDOI_ERR_MISSING, "message 4 without KD");
	if (p->has_kek != (seq != NULL))
		return pull_fail(res, GDOI_ERR_VALUE, "message 4 %s SEQ payload", seq ? "with an unexpected"
									    : "lacks the");
	int rc = gdoi_policy_apply_kd(p, &kd->u.kd, why, sizeof(why));
	if (rc)
		return pull_fail(res, rc, "key download refused: %s", why);
	if (seq) {
		p->has_seq = true;
		p->seq = seq->u.seq;
	}
	if (p->has_kek) {
		struct gdoi_key *pub = NULL;
		if (!p->kek.rekey_pub_len)
			return pull_fail(res, GDOI_ERR_MISSING, "KEK without the key server's rekey key");
		rc = gdoi_key_from_spki(GDOI_BYTES(p->kek.rekey_pub, p->kek.rekey_pub_len), &pub);
		gdoi_key_free(pub);
		if (rc)
			return pull_fail(res, rc, "rekey public key is not a usable SubjectPublicKeyInfo");
	}
	/* A sender must never use a shared SRTP key without its own SSRC (RFC 3711 §9.1). */
	if (pm->cfg.sid_request && needs_sids(p) && p->nsids == 0)
		return pull_fail(res, GDOI_ERR_MISSING, "sender registration got no SSRCs");
	res->event = GDOI_PULL_EV_INSTALLED;
	res->policy = p;
	pm->policy = NULL;
	snprintf(res->reason, sizeof(res->reason), "group %u installed: %zu TEK(s)%s, %zu SSRC(s)",
		 p->group_id, p->nteks, p->has_kek ? ", KEK" : "", p->nsids);
	return 0;
}

int gdoi_pull_member_input(struct gdoi_pull_member *pm, const uint8_t *msg, size_t len,
			   uint64_t now, struct gdoi_pull_result *res)
{
	uint8_t icky[8], rcky[8], d[32], next_iv[GDOI_CIPHER_MAX_BLOCK_LEN], *plain = NULL;
	struct gdoi_msg *m = NULL;
	gdoi_p1_cookies(pm->sa, icky, rcky);
	if (len < GDOI_HDR_LEN || memcmp(msg, icky, 8) || memcmp(msg + 8, rcky, 8) ||
	    msg[18] != GDOI_EXCH_PULL || gdoi_get_u32(msg + 20) != pm->msgid)
		return pull_drop(res, GDOI_ERR_NOT_FOUND, "not a message of this exchange");
	pull_digest(msg, len, d);
	if (pm->have_last_in && !memcmp(d, pm->last_in, 32))
		return pull_drop(res, GDOI_ERR_REPLAY, "duplicate message ignored");
	if (pm->state == PM_DONE)
		return pull_drop(res, GDOI_ERR_STATE, "exchange already finished");
	bool msg2 = pm->state == PM_WAIT2;
	int rc = pull_open(pm->sa, msg, len, GDOI_BYTES(pm->ni, pm->ni_len),
			   msg2 ? GDOI_BYTES_NONE : GDOI_BYTES(pm->nr, pm->nr_len), &m, &plain,
			   next_iv, res);
	if (rc)
		return rc;
	/* Authenticated: it moves the IV chain and counts as received. */
	gdoi_p1_iv_set(pm->sa, pm->msgid, next_iv);
	memcpy(pm->last_in, d, 32);
	pm->have_last_in = true;
	pm->retransmit_at = 0;
	rc = msg2 ? on_msg2(pm, m, now, res) : on_msg4(pm, m, res);
	pull_close(m, plain, len);
	if (!msg2 || res->event == GDOI_PULL_EV_FAILED) {
		pm->state = PM_DONE;
		pm->retransmit_at = 0;
		gdoi_p1_iv_drop(pm->sa, pm->msgid);
	}
	return rc;
}

uint32_t gdoi_pull_member_msgid(const struct gdoi_pull_member *pm) { return pm->msgid; }
bool gdoi_pull_member_done(const struct gdoi_pull_member *pm) { return pm->state == PM_DONE; }

uint64_t gdoi_pull_member_next_timer(const struct gdoi_pull_member *pm)
{
	return pm->state == PM_DONE ? 0 : pm->retransmit_at;
}

void gdoi_pull_member_timer(struct gdoi_pull_member *pm, uint64_t now, struct gdoi_pull_result *res)
{
	if (pm->state == PM_DONE || !pm->retransmit_at || now < pm->retransmit_at)
		return;
	unsigned max = pm->cfg.max_transmits ? pm->cfg.max_transmits : 5;
	if (pm->transmits >= max) {
		pm->state = PM_DONE;
		gdoi_p1_iv_drop(pm->sa, pm->msgid);
		pull_fail(res, GDOI_ERR_STATE, "key server did not answer after %u transmissions",
			  pm->transmits);
		return;
	}
	res->out = malloc(pm->last_out_len);
	if (res->out) {
		memcpy(res->out, pm->last_out, pm->last_out_len);
		res->out_len = pm->last_out_len;
	}
	pm->transmits++;
	pm->rto = gdoi_rto_capped(pm->rto * 2, pm->rto_cap);
	pm->retransmit_at = now + pm->rto;
}

void gdoi_pull_member_cap_retransmit(struct gdoi_pull_member *pm, uint64_t now, uint32_t cap_ms)
{
	pm->rto_cap = cap_ms;
	pm->rto = gdoi_rto_capped(pm->rto, cap_ms);
	if (cap_ms && pm->retransmit_at > now + cap_ms)
		pm->retransmit_at = now + cap_ms;
}

void gdoi_pull_member_free(struct gdoi_pull_member *pm)
{
	if (!pm)
		return;
	gdoi_pull_policy_free(pm->policy);
	free(pm->last_out);
	gdoi_wipe_free(pm, sizeof(*pm));
}
