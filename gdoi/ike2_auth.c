/*
 * ike2_auth.c - IKE_AUTH (RFC 7296 §1.2, §2.15), or its G-IKEv2 form
 * GSA_AUTH (RFC 9838), both roles, with shared-key authentication (method 2)
 * or Digital Signature authentication (method 14, ike2_sig.c):
 *
 *   AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, IDi')
 *   ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, IDr')
 *
 * where IDx' is the ID payload body (ID Type | RESERVED | data). The
 * responder answers without a child SA: a request's SA/TSi/TSr, if the hooks
 * do not take them, get N(NO_PROPOSAL_CHOSEN), which does not prevent the
 * IKE SA (§1.2); G-IKEv2 adds its payloads through the hooks.
 */
#include "ike2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "secret.h"

bool ike2_is_auth_exchange(const struct gdoi_ike2_config *cfg, uint8_t exch)
{
	if (exch == GDOI_IKE2_EXCH_IKE_AUTH)
		return true;
	for (size_t i = 0; i < cfg->nauth_exchanges; i++)
		if (cfg->auth_exchanges[i] == exch)
			return true;
	return false;
}

static bool id_equal(const struct gdoi_ike2_id *a, const struct gdoi_ike2_id *b)
{
	return a->type == b->type && a->data.len == b->data.len &&
	       (a->data.len == 0 || memcmp(a->data.ptr, b->data.ptr, a->data.len) == 0);
}

/* The PSK for a peer ID (NULL: the initiator before it knows IDr). */
static const struct gdoi_ike2_psk *find_psk(const struct gdoi_ike2_config *cfg,
					    const struct gdoi_ike2_id *peer)
{
	const struct gdoi_ike2_psk *any = NULL;
	for (size_t i = 0; i < cfg->npsks; i++) {
		const struct gdoi_ike2_psk *k = &cfg->psks[i];
		if (k->id.type == 0) {
			if (any == NULL)
				any = k;
		} else if (peer != NULL && id_equal(&k->id, peer)) {
			return k;
		}
	}
	if (peer == NULL && any == NULL && cfg->npsks > 0)
		return &cfg->psks[0];
	return any;
}

int ike2_signed_octets(const struct gdoi_ike2_sa *sa, bool of_initiator, gdoi_bytes id_body,
		       uint8_t *macid, gdoi_bytes parts[3])
{
	const struct gdoi_ike2_keys *k = sa->keys;
	int rc = gdoi_prf(k->prf_md, GDOI_BYTES(of_initiator ? k->sk_pi : k->sk_pr, k->prf_len),
			  &id_body, 1, macid);

	parts[0] = of_initiator ? GDOI_BYTES(sa->msg1, sa->msg1_len) : GDOI_BYTES(sa->msg2, sa->msg2_len);
	parts[1] = of_initiator ? GDOI_BYTES(sa->nr, sa->nr_len) : GDOI_BYTES(sa->ni, sa->ni_len);
	parts[2] = GDOI_BYTES(macid, k->prf_len);
	return rc;
}

/* AUTH data of the shared-key method for the side "of_initiator". */
static int psk_auth(const struct gdoi_ike2_sa *sa, gdoi_bytes psk, bool of_initiator,
		    gdoi_bytes id_body, uint8_t *out)
{
	const struct gdoi_ike2_keys *k = sa->keys;
	uint8_t macid[GDOI_MD_MAX_LEN], *pad;
	gdoi_bytes pad_in = GDOI_BYTES(GDOI_IKE2_KEY_PAD, GDOI_IKE2_KEY_PAD_LEN), parts[3];
	int rc;

	if ((pad = gdoi_secret_calloc(GDOI_MD_MAX_LEN)) == NULL)
		return GDOI_ERR_NOMEM;
	rc = ike2_signed_octets(sa, of_initiator, id_body, macid, parts);
	if (rc == GDOI_OK)
		rc = gdoi_prf(k->prf_md, psk, &pad_in, 1, pad);
	if (rc == GDOI_OK)
		rc = gdoi_prf(k->prf_md, GDOI_BYTES(pad, k->prf_len), parts, 3, out);
	gdoi_wipe(macid, sizeof(macid));
	gdoi_secret_free(pad, GDOI_MD_MAX_LEN);
	return rc;
}

/* Checks the peer's ID and AUTH payloads; fills sa->peer_id. */
static int verify_peer(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *c,
		       struct gdoi_ike2_result *res)
{
	uint8_t idt = sa->initiator ? GDOI_IKE2_PL_IDR : GDOI_IKE2_PL_IDI;
	const struct gdoi_ike2_payload *pid = gdoi_ike2_chain_find(c, idt, 0);
	const struct gdoi_ike2_payload *pa = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_AUTH, 0);
	const struct gdoi_ike2_psk *psk;
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_id id;
	struct gdoi_ike2_auth a;
	uint8_t want[GDOI_MD_MAX_LEN];
	int rc;

	if (pid == NULL || pa == NULL)
		return ike2_drop(res, GDOI_ERR_MISSING, "%s: ID or AUTH missing", __func__);
	if ((rc = gdoi_ike2_id_parse(pid, c->off[pid - c->p], &id, &e)) != GDOI_OK ||
	    (rc = gdoi_ike2_auth_parse(pa, c->off[pa - c->p], &a, &e)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: %s at %zu", __func__, e.what, e.offset);
	if (id.data.len > sizeof(sa->peer_id_buf))
		return ike2_drop(res, GDOI_ERR_TOO_BIG, "%s: peer ID too long", __func__);
	if (a.method == GDOI_IKE2_AUTH_DIGITAL_SIG) {
		if ((rc = ike2_sig_verify(sa, c, &id, pid->body, &a, res)) != GDOI_OK)
			return rc;
	} else if (a.method == GDOI_IKE2_AUTH_SHARED_KEY) {
		if ((psk = find_psk(sa->cfg, &id)) == NULL)
			return ike2_drop(res, GDOI_ERR_NOT_AUTHORIZED, "%s: no pre-shared key for the peer",
					 __func__);
		if ((rc = psk_auth(sa, psk->key, !sa->initiator, pid->body, want)) != GDOI_OK)
			return ike2_drop(res, rc, "%s: %s", __func__, gdoi_strerror(rc));
		rc = a.data.len == sa->keys->prf_len && gdoi_ct_equal(want, a.data.ptr, a.data.len);
		gdoi_wipe(want, sizeof(want));
		if (!rc)
			return ike2_drop(res, GDOI_ERR_AUTH, "%s: AUTH did not verify", __func__);
	} else {
		return ike2_drop(res, GDOI_ERR_UNSUPPORTED, "%s: auth method %u", __func__, a.method);
	}
	memcpy(sa->peer_id_buf, id.data.ptr, id.data.len);
	sa->peer_id.type = id.type;
	sa->peer_id.data = GDOI_BYTES(sa->peer_id_buf, id.data.len);
	sa->peer_auth = a.method;
	if (sa->cfg->peer_allowed &&
	    !sa->cfg->peer_allowed(sa->cfg->ctx, &sa->peer_id, a.method, &sa->peer))
		return ike2_drop(res, GDOI_ERR_NOT_AUTHORIZED, "%s: peer not authorized", __func__);
	return GDOI_OK;
}

/* Our ID and AUTH payloads into b. */
static int put_id_auth(struct gdoi_ike2_sa *sa, struct gdoi_ike2_builder *b)
{
	uint8_t idt = sa->initiator ? GDOI_IKE2_PL_IDI : GDOI_IKE2_PL_IDR;
	/* The initiator signs when it has a key. The responder answers with the
	 * method the initiator used: RFC 7296 §2.15 lets each side pick its own,
	 * but a PSK-only initiator (charon with remote auth = psk, a member
	 * without a CA) cannot verify a signature, and a signing one expects one
	 * back. */
	bool sig = sa->cfg->key != NULL &&
		   (sa->initiator || sa->peer_auth == GDOI_IKE2_AUTH_DIGITAL_SIG);
	const struct gdoi_ike2_psk *psk = sig ? NULL : find_psk(sa->cfg, sa->initiator ? NULL : &sa->peer_id);
	uint8_t auth[GDOI_MD_MAX_LEN];
	size_t at, id_at;
	int rc;

	if (!sig && psk == NULL)
		return GDOI_ERR_NOT_AUTHORIZED;
	at = gdoi_ike2_begin(b, idt, false);
	id_at = at + GDOI_IKE2_GENERIC_HDR_LEN;
	gdoi_ike2_id_write(b->w, &sa->cfg->local_id);
	gdoi_ike2_end(b, at);
	if (b->w->failed)
		return GDOI_ERR_NOMEM;
	if (sig && (rc = ike2_sig_put_cert(sa, b)) != GDOI_OK)
		return rc;
	if (sa->initiator)	/* §1.2: IDi, [CERT,] [CERTREQ,] [IDr,] AUTH */
		ike2_sig_put_certreq(sa->cfg, b);
	if (sa->initiator && sa->cfg->initial_contact) {
		at = gdoi_ike2_begin(b, GDOI_IKE2_PL_NOTIFY, false);
		gdoi_ike2_notify_write(b->w, 0, GDOI_IKE2_N_INITIAL_CONTACT, GDOI_BYTES_NONE, GDOI_BYTES_NONE);
		gdoi_ike2_end(b, at);
	}
	if (b->w->failed)
		return GDOI_ERR_NOMEM;
	/* id_at stays valid: the writer's buffer may move, offsets do not */
	if (sig)
		return ike2_sig_put_auth(sa, b, GDOI_BYTES(b->w->buf + id_at,
							  4 + sa->cfg->local_id.data.len));
	rc = psk_auth(sa, psk->key, sa->initiator,
		      GDOI_BYTES(b->w->buf + id_at, 4 + sa->cfg->local_id.data.len), auth);
	if (rc != GDOI_OK)
		return rc;
	at = gdoi_ike2_begin(b, GDOI_IKE2_PL_AUTH, false);
	gdoi_ike2_auth_write(b->w, GDOI_IKE2_AUTH_SHARED_KEY, GDOI_BYTES(auth, sa->keys->prf_len));
	gdoi_ike2_end(b, at);
	gdoi_wipe(auth, sizeof(auth));
	return b->w->failed ? GDOI_ERR_NOMEM : GDOI_OK;
}

int ike2_auth_send(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	struct gdoi_ike2_plist extra;
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	uint8_t exch = cfg->auth_exchange ? cfg->auth_exchange : GDOI_IKE2_EXCH_IKE_AUTH;
	int rc;

	memset(&extra, 0, sizeof(extra));
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	rc = put_id_auth(sa, &b);
	if (rc == GDOI_OK && cfg->hooks.auth_add)
		rc = cfg->hooks.auth_add(cfg->hooks.ctx, sa, &extra);
	if (rc == GDOI_OK) {
		ike2_put_plist(&b, &extra);
		rc = w.failed ? GDOI_ERR_NOMEM
			      : ike2_send_protected(sa, exch, false, 1, b.first, GDOI_BYTES(w.buf, w.len),
						    now, res);
	}
	gdoi_writer_free(&w);
	gdoi_ike2_plist_free(&extra);
	if (rc != GDOI_OK) {
		ike2_sa_kill(sa);
		return ike2_fail(res, 0, rc, "%s: IKE_AUTH request: %s", __func__, gdoi_strerror(rc));
	}
	sa->state = IKE2_S_AUTH_SENT;
	snprintf(res->reason, sizeof(res->reason), "IKE_SA_INIT done, IKE_AUTH sent");
	return GDOI_OK;
}

static const uint8_t consumed[] = { GDOI_IKE2_PL_IDI, GDOI_IKE2_PL_IDR, GDOI_IKE2_PL_AUTH,
				    GDOI_IKE2_PL_CERT, GDOI_IKE2_PL_CERTREQ };

int ike2_auth_request(struct gdoi_ike2_sa *sa, uint8_t exch, const struct gdoi_ike2_chain *c,
		      uint64_t now, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	struct gdoi_ike2_payload in[GDOI_IKE2_CHAIN_MAX];
	struct gdoi_ike2_plist out;
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	uint16_t notify = 0;
	size_t nin;
	bool child_asked, child_taken = false;
	int rc;

	memset(&out, 0, sizeof(out));
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	sa->peer_mid = 2;
	{	/* a malformed CERTREQ (§3.7: whole 20-octet hashes): INVALID_SYNTAX */
		struct gdoi_parse_error e = { 0 };
		if ((rc = gdoi_ike2_certreqs_check(c, &e)) != GDOI_OK) {
			gdoi_writer_free(&w);
			ike2_answer_notify(sa, exch, 1, GDOI_IKE2_N_INVALID_SYNTAX, GDOI_BYTES_NONE, now, res);
			ike2_sa_kill(sa);
			return ike2_fail(res, GDOI_IKE2_N_INVALID_SYNTAX, rc, "%s: payload %u at %zu: %s",
					 __func__, e.payload, e.offset, e.what);
		}
	}
	if ((rc = verify_peer(sa, c, res)) != GDOI_OK) {
		int err = rc;
		char why[sizeof(res->reason)];
		memcpy(why, res->reason, sizeof(why));
		/* §2.21.2: the answer is AUTHENTICATION_FAILED alone. */
		gdoi_writer_free(&w);
		ike2_answer_notify(sa, exch, 1, GDOI_IKE2_N_AUTHENTICATION_FAILED, GDOI_BYTES_NONE, now, res);
		ike2_sa_kill(sa);
		return ike2_fail(res, GDOI_IKE2_N_AUTHENTICATION_FAILED, err, "%s", why);
	}
	{
		struct gdoi_ike2_notify ic;
		sa->initial_contact = gdoi_ike2_find_notify(c, GDOI_IKE2_N_INITIAL_CONTACT, &ic);
	}
	nin = ike2_hook_payloads(c, consumed, sizeof(consumed), in, GDOI_IKE2_CHAIN_MAX);
	child_asked = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_SA, 0) != NULL;
	if (cfg->hooks.auth_request)
		rc = cfg->hooks.auth_request(cfg->hooks.ctx, sa, exch, in, nin, &out, &notify);
	if (rc != GDOI_OK) {
		/* The peer is authenticated but the front end refuses: the error
		 * alone, and the IKE SA is not kept. */
		uint16_t n = notify ? notify : GDOI_IKE2_N_AUTHENTICATION_FAILED;
		gdoi_writer_free(&w);
		ike2_answer_notify(sa, exch, 1, n, GDOI_BYTES_NONE, now, res);
		gdoi_ike2_plist_free(&out);
		ike2_sa_kill(sa);
		return ike2_fail(res, n, rc, "%s: front end refused the peer", __func__);
	}
	for (size_t i = 0; i < out.n; i++)
		child_taken = child_taken || out.p[i].type == GDOI_IKE2_PL_SA;
	if ((rc = put_id_auth(sa, &b)) == GDOI_OK) {
		ike2_put_plist(&b, &out);
		if (child_asked && !child_taken) {
			size_t at = gdoi_ike2_begin(&b, GDOI_IKE2_PL_NOTIFY, false);
			gdoi_ike2_notify_write(&w, 0, GDOI_IKE2_N_NO_PROPOSAL_CHOSEN, GDOI_BYTES_NONE,
					       GDOI_BYTES_NONE);
			gdoi_ike2_end(&b, at);
		}
		rc = w.failed ? GDOI_ERR_NOMEM
			      : ike2_send_protected(sa, exch, true, 1, b.first, GDOI_BYTES(w.buf, w.len),
						    now, res);
	}
	gdoi_writer_free(&w);
	gdoi_ike2_plist_free(&out);
	if (rc != GDOI_OK) {
		ike2_sa_kill(sa);
		return ike2_fail(res, 0, rc, "%s: IKE_AUTH response: %s", __func__, gdoi_strerror(rc));
	}
	ike2_set_established(sa, res);
	return GDOI_OK;
}

int ike2_auth_response(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *c,
		       uint64_t now, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	struct gdoi_ike2_payload in[GDOI_IKE2_CHAIN_MAX];
	struct gdoi_ike2_notify n;
	uint16_t notify = 0;
	size_t nin;
	int rc;

	(void)now;
	sa->pending = false;
	ike2_dgrams_free(&sa->req);
	if (gdoi_ike2_chain_find(c, GDOI_IKE2_PL_AUTH, 0) == NULL) {
		for (size_t i = 0; i < c->n; i++)
			if (c->p[i].type == GDOI_IKE2_PL_NOTIFY &&
			    gdoi_ike2_notify_parse(&c->p[i], c->off[i], &n, NULL) == GDOI_OK &&
			    n.type <= GDOI_IKE2_N_ERROR_MAX) {
				ike2_sa_kill(sa);
				return ike2_fail(res, n.type, GDOI_ERR_AUTH,
						 "%s: responder refused: Notify %u", __func__, n.type);
			}
	}
	if ((rc = verify_peer(sa, c, res)) != GDOI_OK) {
		char why[sizeof(res->reason)];
		memcpy(why, res->reason, sizeof(why));
		ike2_sa_kill(sa);
		return ike2_fail(res, GDOI_IKE2_N_AUTHENTICATION_FAILED, rc, "%s", why);
	}
	nin = ike2_hook_payloads(c, consumed, sizeof(consumed), in, GDOI_IKE2_CHAIN_MAX);
	if (cfg->hooks.auth_response &&
	    (rc = cfg->hooks.auth_response(cfg->hooks.ctx, sa, in, nin, &notify)) != GDOI_OK) {
		ike2_sa_kill(sa);
		return ike2_fail(res, notify, rc, "%s: front end refused the response", __func__);
	}
	sa->my_mid = 2;
	ike2_set_established(sa, res);
	return GDOI_OK;
}
