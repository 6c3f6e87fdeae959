/*
 * phase1_auth.c - Main Mode messages 5 and 6: identities, HASH_I / HASH_R
 * (pre-shared keys) and SIG_I / SIG_R with certificates (RFC 2409 §5.1, §5.4),
 * and the authorization of the authenticated peer.
 */
#include "phase1_int.h"

#include <string.h>

#include "cert.h"
#include "msg_crypt.h"
#include "sign.h"

static bool addr_equal(const struct gdoi_addr *a, const struct gdoi_addr *b)
{
	return a->len == b->len && memcmp(a->ip, b->ip, a->len) == 0;
}

static bool id_equal(const struct gdoi_id *a, const struct gdoi_id *b)
{
	return a->type == b->type && a->data.len == b->data.len &&
	       memcmp(a->data.ptr, b->data.ptr, a->data.len) == 0;
}

const struct gdoi_p1_psk *p1_psk_by_addr(const struct gdoi_p1_config *cfg,
					 const struct gdoi_addr *peer)
{
	for (size_t i = 0; i < cfg->npsks; i++)
		if (cfg->psks[i].addr.len && addr_equal(&cfg->psks[i].addr, peer))
			return &cfg->psks[i];
	return NULL;
}

int p1_derive_keys(struct gdoi_p1_sa *sa, const struct gdoi_p1_psk *psk)
{
	gdoi_bytes ni = GDOI_BYTES(sa->n->ni, sa->n->ni_len), nr = GDOI_BYTES(sa->n->nr, sa->n->nr_len);
	gdoi_bytes gxy = GDOI_BYTES(sa->n->gxy, sa->n->gxy_len);
	int rc = psk ? gdoi_ike_keys_derive_psk(&sa->keys, sa->md, sa->cipher, psk->key, ni, nr,
						gxy, sa->icookie, sa->rcookie)
		     : gdoi_ike_keys_derive_sig(&sa->keys, sa->md, sa->cipher, ni, nr, gxy,
						sa->icookie, sa->rcookie);
	if (rc)
		return rc;
	sa->have_keys = true;
	return gdoi_ike_phase1_iv(sa->md, sa->cipher, GDOI_BYTES(sa->n->gxi, sa->n->gx_len),
				  GDOI_BYTES(sa->n->gxr, sa->n->gx_len), sa->iv);
}

/* ID payload body as hashed: type | protocol | port | data. */
static gdoi_bytes id_body(struct gdoi_arena *a, const struct gdoi_id *id)
{
	uint8_t *b = gdoi_arena_alloc(a, 4 + id->data.len);
	if (!b)
		return GDOI_BYTES_NONE;
	b[0] = id->type;
	b[1] = id->proto;
	gdoi_put_u16(b + 2, id->port);
	memcpy(b + 4, id->data.ptr, id->data.len);
	return GDOI_BYTES(b, 4 + id->data.len);
}

/* HASH_I when we are (or the peer is) the initiator: who = the ID's owner. */
static int auth_hash(const struct gdoi_p1_sa *sa, bool of_initiator, gdoi_bytes idb, uint8_t *out)
{
	gdoi_bytes gxi = GDOI_BYTES(sa->n->gxi, sa->n->gx_len), gxr = GDOI_BYTES(sa->n->gxr, sa->n->gx_len);
	gdoi_bytes sai = GDOI_BYTES(sa->n->sai_b, sa->n->sai_b_len);
	return of_initiator
	       ? gdoi_ike_hash_i(&sa->keys, gxi, gxr, sa->icookie, sa->rcookie, sai, idb, out)
	       : gdoi_ike_hash_r(&sa->keys, gxi, gxr, sa->icookie, sa->rcookie, sai, idb, out);
}

int p1_auth_payloads(struct gdoi_p1_sa *sa, struct gdoi_arena *a, struct gdoi_payload *pl,
		     size_t *n)
{
	const struct gdoi_p1_config *cfg = sa->cfg;
	struct gdoi_id me = cfg->local_id;
	me.proto = 0;
	me.port = 0;
	gdoi_bytes idb = id_body(a, &me);
	uint8_t *hash = gdoi_arena_alloc(a, GDOI_MD_MAX_LEN);
	if (!idb.ptr || !hash)
		return GDOI_ERR_NOMEM;
	int rc = auth_hash(sa, sa->initiator, idb, hash);
	if (rc)
		return rc;
	pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_ID, .u.id = me };
	if (sa->suite.auth == GDOI_IKE_AUTH_PSK) {
		pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_HASH,
						    .u.data = GDOI_BYTES(hash, sa->keys.len) };
	} else {
		if (!cfg->key)
			return GDOI_ERR_INVALID_ARG;
		size_t cap = gdoi_key_sig_len(cfg->key), sig_len;
		uint8_t *sig = gdoi_arena_alloc(a, cap);
		if (!sig)
			return GDOI_ERR_NOMEM;
		rc = gdoi_ike_sign(cfg->key, sa->suite.auth, GDOI_BYTES(hash, sa->keys.len), sig,
				   cap, &sig_len);
		if (rc)
			return rc;
		if (cfg->cert.len)
			pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_CERT,
				.u.cert = { GDOI_CERT_X509_SIG, cfg->cert } };
		pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_SIG,
						    .u.data = GDOI_BYTES(sig, sig_len) };
	}
	if (sa->initiator && cfg->initial_contact) {
		uint8_t *spi = gdoi_arena_alloc(a, 16);
		if (!spi)
			return GDOI_ERR_NOMEM;
		memcpy(spi, sa->icookie, 8);
		memcpy(spi + 8, sa->rcookie, 8);
		pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_NOTIFY, .u.notify = {
			.doi = GDOI_DOI_IPSEC, .proto = GDOI_PROTO_ISAKMP,
			.type = GDOI_N_INITIAL_CONTACT, .spi = GDOI_BYTES(spi, 16) } };
	}
	return 0;
}

int p1_send_auth(struct gdoi_p1_sa *sa, uint64_t now, bool retransmit, uint8_t *next_iv,
		 struct gdoi_p1_result *res)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[4];
	size_t n = 0;
	struct gdoi_hdr h;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	int rc = a ? p1_auth_payloads(sa, a, pl, &n) : GDOI_ERR_NOMEM;
	p1_header(&h, sa, GDOI_EXCH_IDENT_PROT, 0);
	if (!rc)
		rc = gdoi_msg_build(&w, &h, pl, n, NULL);
	if (!rc)
		rc = gdoi_msg_seal(sa->cipher, GDOI_BYTES(sa->keys.enc_key, sa->keys.enc_key_len),
				   GDOI_BYTES(sa->iv, sa->blk), &w, 0, next_iv);
	if (!rc)
		rc = p1_send(sa, &w, now, retransmit, res);
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	return rc;
}

static int check_signature(struct gdoi_p1_sa *sa, const struct gdoi_msg *m, const struct gdoi_id *id,
			   const uint8_t *hash, struct gdoi_p1_result *res)
{
	const struct gdoi_payload *sig = gdoi_msg_find(m, GDOI_PL_SIG, NULL);
	const struct gdoi_payload *cert = gdoi_msg_find(m, GDOI_PL_CERT, NULL);
	if (!sig)
		return p1_fail(res, GDOI_N_INVALID_SIGNATURE, GDOI_ERR_MISSING, "no SIG payload");
	if (!cert || cert->u.cert.type != GDOI_CERT_X509_SIG)
		return p1_fail(res, GDOI_N_CERTIFICATE_UNAVAILABLE, GDOI_ERR_MISSING,
			       "no X.509 certificate from the peer");
	if (!sa->cfg->trust)
		return p1_fail(res, GDOI_N_INVALID_CERT_AUTHORITY, GDOI_ERR_CERT,
			       "no trusted CAs configured for signature authentication");
	if (!sa->cfg->unix_now)
		return p1_fail(res, GDOI_N_INVALID_CERTIFICATE, GDOI_ERR_INVALID_ARG,
			       "no wall clock to check certificate validity");
	/* Further CERT payloads are intermediates. */
	gdoi_bytes chain[8];
	size_t nchain = 0, from = 0;
	gdoi_msg_find(m, GDOI_PL_CERT, &from);
	for (const struct gdoi_payload *c; nchain < 8 && (c = gdoi_msg_find(m, GDOI_PL_CERT, &from));)
		chain[nchain++] = c->u.cert.data;
	struct gdoi_cert *leaf = NULL;
	struct gdoi_key *pub = NULL;
	const char *why = NULL;
	int rc = gdoi_trust_verify(sa->cfg->trust, cert->u.cert.data, chain, nchain,
				   sa->cfg->unix_now(sa->cfg->ctx), &leaf, &why);
	if (rc)
		return p1_fail(res, GDOI_N_INVALID_CERTIFICATE, rc,
			       "peer certificate does not verify: %s", why ? why : "?");
	rc = gdoi_cert_match_id(leaf, id->type, id->data);
	if (!rc)
		rc = gdoi_cert_public_key(leaf, &pub);
	gdoi_cert_free(leaf);
	if (rc)
		return p1_fail(res, GDOI_N_INVALID_ID_INFORMATION, rc,
			       "peer ID (%s) is not the certificate's", gdoi_id_type_name(id->type));
	rc = gdoi_ike_verify(pub, sa->suite.auth, GDOI_BYTES(hash, sa->keys.len), sig->u.data);
	gdoi_key_free(pub);
	if (rc)
		return p1_fail(res, GDOI_N_INVALID_SIGNATURE, rc, "peer signature does not verify");
	return 0;
}

int p1_auth_check(struct gdoi_p1_sa *sa, const struct gdoi_msg *m, struct gdoi_p1_result *res)
{
	const struct gdoi_payload *idp = gdoi_msg_find(m, GDOI_PL_ID, NULL);
	if (!idp)
		return p1_fail(res, GDOI_N_INVALID_ID_INFORMATION, GDOI_ERR_MISSING,
			       "no ID payload in message %d", sa->initiator ? 6 : 5);
	const struct gdoi_id *id = &idp->u.id;
	uint8_t hash[GDOI_MD_MAX_LEN];
	/* The ID body as received, after its generic header. */
	gdoi_bytes idb = GDOI_BYTES(idp->raw.ptr + 4, idp->raw.len - 4);
	int rc = auth_hash(sa, !sa->initiator, idb, hash);
	if (rc)
		return p1_fail(res, GDOI_N_AUTHENTICATION_FAILED, rc, "hash computation failed");
	if (sa->suite.auth == GDOI_IKE_AUTH_PSK) {
		const struct gdoi_payload *h = gdoi_msg_find(m, GDOI_PL_HASH, NULL);
		if (!h)
			return p1_fail(res, GDOI_N_INVALID_HASH_INFORMATION, GDOI_ERR_MISSING,
				       "no HASH payload");
		if (h->u.data.len != sa->keys.len ||
		    !gdoi_ct_equal(h->u.data.ptr, hash, sa->keys.len))
			return p1_fail(res, GDOI_N_INVALID_HASH_INFORMATION, GDOI_ERR_AUTH,
				       "HASH_%c does not verify (pre-shared key mismatch?)",
				       sa->initiator ? 'R' : 'I');
	} else {
		rc = check_signature(sa, m, id, hash, res);
		if (rc)
			return rc;
	}
	if (sa->cfg->peer_allowed &&
	    !sa->cfg->peer_allowed(sa->cfg->ctx, id, sa->suite.auth, &sa->peer))
		return p1_fail(res, GDOI_N_AUTHENTICATION_FAILED, GDOI_ERR_NOT_AUTHORIZED,
			       "peer identity %s not authorized", gdoi_id_type_name(id->type));
	rc = p1_set_peer_id(sa, id);
	if (rc)
		return p1_fail(res, GDOI_N_INVALID_ID_INFORMATION, rc, "peer ID too long");
	return 0;
}

/* For a PSK bound to an identity, the peer must claim that identity. */
bool p1_psk_id_ok(const struct gdoi_p1_psk *psk, const struct gdoi_msg *m)
{
	if (!psk || psk->id.type == 0)
		return true;
	const struct gdoi_payload *idp = gdoi_msg_find(m, GDOI_PL_ID, NULL);
	return idp && id_equal(&psk->id, &idp->u.id);
}
