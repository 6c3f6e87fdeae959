/*
 * phase1_initiator.c - Main Mode, initiator side (the group member):
 *   MM1 SA -> MM2 SA(choice) -> MM3 KE, Ni [CR] -> MM4 KE, Nr -> MM5* ID, auth
 *   -> MM6* ID, auth.
 */
#include "phase1_int.h"

#include <stdlib.h>
#include <string.h>

#include "msg_crypt.h"

static size_t nonce_len(const struct gdoi_p1_config *cfg)
{
	size_t n = cfg->nonce_len ? cfg->nonce_len : 32;
	return n < P1_MIN_NONCE ? P1_MIN_NONCE : n > P1_MAX_NONCE ? P1_MAX_NONCE : n;
}

int gdoi_p1_initiate(const struct gdoi_p1_config *cfg, const struct gdoi_addr *peer,
		     uint64_t now, struct gdoi_p1_sa **out, struct gdoi_p1_result *res)
{
	*out = NULL;
	struct gdoi_p1_sa *sa = p1_sa_new(cfg, true, peer, now);
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_writer w;
	struct gdoi_payload sa_pl;
	struct gdoi_hdr h;
	size_t offs[2];
	int rc = GDOI_ERR_NOMEM;
	gdoi_writer_init(&w);
	if (!sa || !a)
		goto fail;
	if ((rc = gdoi_random(sa->icookie, 8)) || (rc = p1_offer_payload(cfg, a, &sa_pl)))
		goto fail;
	p1_header(&h, sa, GDOI_EXCH_IDENT_PROT, 0);
	if ((rc = gdoi_msg_build(&w, &h, &sa_pl, 1, offs)))
		goto fail;
	/* SAi_b: the SA body as sent, hashed into HASH_I / HASH_R. */
	sa->n->sai_b_len = offs[1] - offs[0] - GDOI_GENERIC_HDR_LEN;
	sa->n->sai_b = malloc(sa->n->sai_b_len);
	if (!sa->n->sai_b) {
		rc = GDOI_ERR_NOMEM;
		goto fail;
	}
	memcpy(sa->n->sai_b, w.buf + offs[0] + GDOI_GENERIC_HDR_LEN, sa->n->sai_b_len);
	if ((rc = p1_send(sa, &w, now, true, res)))
		goto fail;
	sa->state = P1_I_MM1_SENT;
	gdoi_arena_free(a);
	*out = sa;
	return 0;
fail:
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	gdoi_p1_free(sa);
	return p1_fail(res, 0, rc, "cannot start Main Mode: %s", gdoi_strerror(rc));
}

static int on_mm2(struct gdoi_p1_sa *sa, const struct gdoi_msg *m, uint64_t now,
		  struct gdoi_p1_result *res)
{
	const struct gdoi_payload *sap = gdoi_msg_find(m, GDOI_PL_SA, NULL);
	if (!sap || m->pl[0].type != GDOI_PL_SA)
		return p1_fail(res, GDOI_N_PAYLOAD_MALFORMED, GDOI_ERR_MISSING,
			       "message 2 does not start with an SA payload");
	static const uint8_t zero[8];
	if (!memcmp(m->hdr.rcookie, zero, 8))
		return p1_fail(res, GDOI_N_INVALID_COOKIE, GDOI_ERR_VALUE, "responder cookie is 0");
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload mine;
	struct gdoi_p1_suite s;
	int rc = a ? p1_offer_payload(sa->cfg, a, &mine) : GDOI_ERR_NOMEM;
	if (!rc)
		rc = p1_accept_choice(sa->cfg, &mine.u.sa_ike, &sap->u.sa_ike, &s);
	gdoi_arena_free(a);
	if (rc)
		return p1_fail(res, GDOI_N_NO_PROPOSAL_CHOSEN, rc,
			       "responder chose a transform we did not offer");
	if ((rc = p1_apply_suite(sa, &s)))
		return p1_fail(res, GDOI_N_NO_PROPOSAL_CHOSEN, rc, "unsupported suite");
	if (s.auth == GDOI_IKE_AUTH_PSK && !p1_psk_by_addr(sa->cfg, &sa->peer) &&
	    sa->cfg->npsks != 1)
		return p1_fail(res, GDOI_N_AUTHENTICATION_FAILED, GDOI_ERR_NOT_FOUND,
			       "no pre-shared key for this key server");
	memcpy(sa->rcookie, m->hdr.rcookie, 8);

	/* MM3: KE, Ni [, CR] */
	if ((rc = gdoi_dh_new(s.group, &sa->n->dh)))
		return p1_fail(res, 0, rc, "DH key generation failed");
	gdoi_bytes pub = gdoi_dh_public(sa->n->dh);
	memcpy(sa->n->gxi, pub.ptr, pub.len);
	sa->n->ni_len = nonce_len(sa->cfg);
	if ((rc = gdoi_random(sa->n->ni, sa->n->ni_len)))
		return p1_fail(res, 0, rc, "no randomness");
	struct gdoi_payload pl[3] = {
		{ .type = GDOI_PL_KE, .u.data = pub },
		{ .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(sa->n->ni, sa->n->ni_len) },
		{ .type = GDOI_PL_CR, .u.cert = { GDOI_CERT_X509_SIG, GDOI_BYTES_NONE } },
	};
	struct gdoi_hdr h;
	struct gdoi_writer w;
	p1_header(&h, sa, GDOI_EXCH_IDENT_PROT, 0);
	gdoi_writer_init(&w);
	rc = gdoi_msg_build(&w, &h, pl, p1_is_sig_auth(s.auth) ? 3 : 2, NULL);
	if (!rc)
		rc = p1_send(sa, &w, now, true, res);
	gdoi_writer_free(&w);
	if (rc)
		return p1_fail(res, 0, rc, "cannot build message 3");
	sa->state = P1_I_MM3_SENT;
	return 0;
}

static int on_mm4(struct gdoi_p1_sa *sa, const struct gdoi_msg *m, uint64_t now,
		  struct gdoi_p1_result *res)
{
	const struct gdoi_payload *ke = gdoi_msg_find(m, GDOI_PL_KE, NULL);
	const struct gdoi_payload *nr = gdoi_msg_find(m, GDOI_PL_NONCE, NULL);
	int rc;
	if (!ke || !nr)
		return p1_fail(res, GDOI_N_PAYLOAD_MALFORMED, GDOI_ERR_MISSING,
			       "message 4 lacks KE or Nonce");
	if ((rc = p1_check_nonce(nr->u.data.len, res)) || (rc = p1_store_ke(sa, ke, sa->n->gxr, res)))
		return rc;
	memcpy(sa->n->nr, nr->u.data.ptr, nr->u.data.len);
	sa->n->nr_len = nr->u.data.len;
	sa->peer_wants_cert = gdoi_msg_find(m, GDOI_PL_CR, NULL) != NULL;
	if ((rc = p1_derive_gxy(sa, sa->n->gxr, res)))
		return rc;
	const struct gdoi_p1_psk *psk = NULL;
	if (sa->suite.auth == GDOI_IKE_AUTH_PSK)
		psk = p1_psk_by_addr(sa->cfg, &sa->peer) ? p1_psk_by_addr(sa->cfg, &sa->peer)
							 : &sa->cfg->psks[0];
	if ((rc = p1_derive_keys(sa, psk)))
		return p1_fail(res, 0, rc, "key derivation failed");

	/* MM5*: ID, HASH_I or [CERT] SIG_I [, N(INITIAL-CONTACT)] */
	rc = p1_send_auth(sa, now, true, sa->iv, res);
	if (rc)
		return p1_fail(res, 0, rc, "cannot build message 5: %s", gdoi_strerror(rc));
	sa->state = P1_I_MM5_SENT;
	return 0;
}

static int on_mm6(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		  struct gdoi_p1_result *res)
{
	uint8_t *plain = NULL, next_iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	struct gdoi_msg *m = NULL;
	int rc = gdoi_msg_open(sa->cipher, GDOI_BYTES(sa->keys.enc_key, sa->keys.enc_key_len),
			       GDOI_BYTES(sa->iv, sa->blk), msg, len, &plain, next_iv);
	if (rc)
		return p1_fail(res, 0, rc, "message 6 is not a whole number of cipher blocks");
	rc = gdoi_msg_parse_decrypted(plain, len, &m, NULL);
	if (rc) {
		gdoi_msg_plain_free(plain, len);
		return p1_fail(res, GDOI_N_AUTHENTICATION_FAILED, rc,
			       "message 6 does not decrypt to a valid message (keys differ)");
	}
	rc = p1_auth_check(sa, m, res);
	if (!rc && sa->suite.auth == GDOI_IKE_AUTH_PSK) {
		const struct gdoi_p1_psk *psk = p1_psk_by_addr(sa->cfg, &sa->peer);
		if (!p1_psk_id_ok(psk ? psk : &sa->cfg->psks[0], m))
			rc = p1_fail(res, GDOI_N_INVALID_ID_INFORMATION, GDOI_ERR_NOT_AUTHORIZED,
				     "key server identity is not the configured one");
	}
	gdoi_msg_free(m);
	gdoi_msg_plain_free(plain, len);
	if (rc)
		return rc;
	memcpy(sa->iv, next_iv, sa->blk);
	memcpy(sa->last_block, next_iv, sa->blk);
	p1_established(sa, now, res);
	return 0;
}

int p1_initiator_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		       struct gdoi_p1_result *res)
{
	struct gdoi_hdr hdr;
	struct gdoi_parse_error perr;
	int rc = gdoi_hdr_parse(msg, len, &hdr, &perr);
	if (rc)
		return p1_drop(res, rc, "malformed header");
	if (memcmp(hdr.icookie, sa->icookie, 8) != 0)
		return p1_drop(res, GDOI_ERR_NOT_FOUND, "not our initiator cookie");
	if (hdr.exchange == GDOI_EXCH_INFO)
		return p1_handle_info(sa, msg, len, res);
	if (hdr.exchange != GDOI_EXCH_IDENT_PROT || hdr.msgid != 0)
		return p1_drop(res, GDOI_ERR_STATE, "unexpected exchange %u", hdr.exchange);
	if (sa->state == P1_DEAD)
		return p1_drop(res, GDOI_ERR_STATE, "SA is dead");
	if (sa->state != P1_I_MM1_SENT && memcmp(hdr.rcookie, sa->rcookie, 8) != 0)
		return p1_drop(res, GDOI_ERR_NOT_FOUND, "wrong responder cookie");
	if (p1_duplicate(sa, msg, len, res)) {
		/* Main Mode replies repeat only when our next message was lost; resending it is
		 * the initiator's timer's job, so a duplicate reply is simply absorbed. */
		free(res->out);
		res->out = NULL;
		res->out_len = 0;
		return 0;
	}
	bool want_enc = sa->state == P1_I_MM5_SENT;
	if (sa->state == P1_ESTABLISHED)
		return p1_drop(res, GDOI_ERR_STATE, "Main Mode message after completion");
	if (!!(hdr.flags & GDOI_FLAG_ENC) != want_enc)
		return p1_drop(res, GDOI_ERR_STATE, "message encryption does not match the state");
	if (sa->state == P1_I_MM5_SENT) {
		rc = on_mm6(sa, msg, len, now, res);
	} else {
		struct gdoi_msg *m = NULL;
		rc = gdoi_msg_parse(msg, len, &m, &perr);
		if (rc) {
			char why[200];
			gdoi_parse_error_format(&perr, why, sizeof(why));
			return p1_drop(res, rc, "malformed message dropped: %s", why);
		}
		if (sa->state == P1_I_MM1_SENT)
			rc = on_mm2(sa, m, now, res);
		else
			rc = on_mm4(sa, m, now, res);
		gdoi_msg_free(m);
	}
	if (rc == 0)
		p1_remember_input(sa, msg, len);
	else if (res->event == GDOI_P1_EV_FAILED)
		sa->state = P1_DEAD;
	return rc;
}
