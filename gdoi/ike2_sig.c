/*
 * ike2_sig.c - IKEv2 Digital Signature authentication (RFC 7427, Auth
 * Method 14) with X.509 certificates (RFC 7296 §3.6, encoding 4):
 *
 *   AUTH data = ASN.1 Length (1 octet) | AlgorithmIdentifier (DER) | Signature
 *
 * over the same <SignedOctets> as the shared-key method (RFC 7296 §2.15). The
 * hash follows the peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4); RSA keys sign
 * PKCS#1 v1.5, or RSASSA-PSS with SHA-256 when cfg->rsa_pss. The peer's
 * end-entity certificate (its first CERT payload; further ones are
 * intermediates) must chain to a configured CA at the caller's wall clock and
 * vouch for the peer's ID (subject DN or a subjectAltName, gdoi/cert.h).
 */
#include "ike2_int.h"

#include <string.h>

#include "cert.h"
#include "crypto.h"
#include "sign.h"

#define MAX_INTERMEDIATES 8
#define MAX_ALGID 80		/* RSASSA-PSS's is 67 octets */

static const struct {
	uint16_t id;
	enum gdoi_md md;
} hashes[] = {
	{ GDOI_IKE2_HASH_SHA2_256, GDOI_MD_SHA256 },
	{ GDOI_IKE2_HASH_SHA2_384, GDOI_MD_SHA384 },
	{ GDOI_IKE2_HASH_SHA2_512, GDOI_MD_SHA512 },
};

bool ike2_sig_enabled(const struct gdoi_ike2_config *cfg)
{
	return cfg->key != NULL || cfg->trust != NULL;
}

gdoi_bytes ike2_sig_hashes(void)
{
	static const uint8_t data[] = { 0, GDOI_IKE2_HASH_SHA2_256, 0, GDOI_IKE2_HASH_SHA2_384,
					0, GDOI_IKE2_HASH_SHA2_512 };
	return GDOI_BYTES(data, sizeof(data));
}

uint8_t ike2_sig_hashes_parse(const struct gdoi_ike2_chain *c)
{
	struct gdoi_ike2_notify n;
	uint8_t set = 0;

	if (!gdoi_ike2_find_notify(c, GDOI_IKE2_N_SIGNATURE_HASH_ALGORITHMS, &n))
		return 0;
	for (size_t i = 0; i + 1 < n.data.len; i += 2) {
		uint16_t h = (uint16_t)(n.data.ptr[i] << 8 | n.data.ptr[i + 1]);
		if (h < 8)
			set |= (uint8_t)(1u << h);
	}
	return set;
}

/* The configured hash if the peer announced it (or announced nothing), else
 * the first SHA-2 hash it did announce. */
static enum gdoi_md pick_md(const struct gdoi_ike2_sa *sa)
{
	enum gdoi_md want = sa->cfg->sig_md ? sa->cfg->sig_md : GDOI_MD_SHA256;

	if (sa->peer_hashes == 0)
		return want;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].md == want && (sa->peer_hashes & (1u << hashes[i].id)))
			return want;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (sa->peer_hashes & (1u << hashes[i].id))
			return hashes[i].md;
	return want;
}

int ike2_sig_put_cert(struct gdoi_ike2_sa *sa, struct gdoi_ike2_builder *b)
{
	size_t at;

	if (sa->cfg->key == NULL || sa->cfg->cert.len == 0)
		return GDOI_ERR_INVALID_ARG;
	at = gdoi_ike2_begin(b, GDOI_IKE2_PL_CERT, false);
	gdoi_write_u8(b->w, GDOI_IKE2_CERT_X509_SIG);
	gdoi_write_bytes(b->w, sa->cfg->cert.ptr, sa->cfg->cert.len);
	gdoi_ike2_end(b, at);
	return b->w->failed ? GDOI_ERR_NOMEM : GDOI_OK;
}

void ike2_sig_put_certreq(const struct gdoi_ike2_config *cfg, struct gdoi_ike2_builder *b)
{
	gdoi_bytes cas = gdoi_trust_ca_hashes(cfg->trust);
	size_t at;

	if (cas.len == 0)
		return;
	at = gdoi_ike2_begin(b, GDOI_IKE2_PL_CERTREQ, false);
	gdoi_write_u8(b->w, GDOI_IKE2_CERT_X509_SIG);
	gdoi_write_bytes(b->w, cas.ptr, cas.len);
	gdoi_ike2_end(b, at);
}

int ike2_sig_put_auth(struct gdoi_ike2_sa *sa, struct gdoi_ike2_builder *b, gdoi_bytes id_body)
{
	uint8_t macid[GDOI_MD_MAX_LEN], data[1 + MAX_ALGID + GDOI_SIG_MAX_LEN];
	gdoi_bytes parts[3], algid;
	enum gdoi_md md = pick_md(sa);
	size_t sig_len = 0, at;
	int rc;

	bool pss = sa->cfg->rsa_pss && gdoi_key_kind(sa->cfg->key) == GDOI_KEYKIND_RSA;

	if (pss)
		algid = gdoi_sig7427_algid_pss();
	else if ((rc = gdoi_sig7427_algid(sa->cfg->key, md, &algid)) != GDOI_OK)
		return rc;
	if (algid.len > MAX_ALGID)
		return GDOI_ERR_TOO_BIG;
	data[0] = (uint8_t)algid.len;
	memcpy(data + 1, algid.ptr, algid.len);
	if ((rc = ike2_signed_octets(sa, sa->initiator, id_body, macid, parts)) == GDOI_OK)
		rc = pss ? gdoi_sig7427_sign_pss(sa->cfg->key, parts, 3, data + 1 + algid.len,
						 sizeof(data) - 1 - algid.len, &sig_len)
			 : gdoi_sig7427_sign(sa->cfg->key, md, parts, 3, data + 1 + algid.len,
					     sizeof(data) - 1 - algid.len, &sig_len);
	gdoi_wipe(macid, sizeof(macid));
	if (rc != GDOI_OK)
		return rc;
	at = gdoi_ike2_begin(b, GDOI_IKE2_PL_AUTH, false);
	gdoi_ike2_auth_write(b->w, GDOI_IKE2_AUTH_DIGITAL_SIG, GDOI_BYTES(data, 1 + algid.len + sig_len));
	gdoi_ike2_end(b, at);
	return b->w->failed ? GDOI_ERR_NOMEM : GDOI_OK;
}

/* The peer's certificates: leaf and intermediates (encoding 4 only). */
static int peer_certs(const struct gdoi_ike2_chain *c, gdoi_bytes *leaf, gdoi_bytes *inter,
		      size_t *ninter)
{
	const struct gdoi_ike2_payload *p;
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_cert cert;
	bool have_leaf = false;

	*ninter = 0;
	for (size_t k = 0; (p = gdoi_ike2_chain_find(c, GDOI_IKE2_PL_CERT, k)) != NULL; k++) {
		if (gdoi_ike2_cert_parse(p, c->off[p - c->p], &cert, &e) != GDOI_OK ||
		    cert.encoding != GDOI_IKE2_CERT_X509_SIG)
			continue;
		if (!have_leaf) {
			*leaf = cert.data;
			have_leaf = true;
		} else if (*ninter < MAX_INTERMEDIATES) {
			inter[(*ninter)++] = cert.data;
		}
	}
	return have_leaf ? GDOI_OK : GDOI_ERR_MISSING;
}

int ike2_sig_verify(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *c,
		    const struct gdoi_ike2_id *id, gdoi_bytes id_body,
		    const struct gdoi_ike2_auth *a, struct gdoi_ike2_result *res)
{
	const struct gdoi_ike2_config *cfg = sa->cfg;
	gdoi_bytes leaf_der, inter[MAX_INTERMEDIATES], parts[3], algid, sig;
	struct gdoi_cert *leaf = NULL;
	struct gdoi_key *pub = NULL;
	uint8_t macid[GDOI_MD_MAX_LEN];
	const char *why = NULL;
	size_t ninter, alen;
	int rc;

	if (cfg->trust == NULL || cfg->unix_now == NULL)
		return ike2_drop(res, GDOI_ERR_NOT_AUTHORIZED,
				 "%s: no CA (or no wall clock) for signature authentication", __func__);
	if (a->data.len < 1 || (alen = a->data.ptr[0]) == 0 || 1 + alen >= a->data.len)
		return ike2_drop(res, GDOI_ERR_TRUNCATED, "%s: AUTH AlgorithmIdentifier", __func__);
	algid = GDOI_BYTES(a->data.ptr + 1, alen);
	sig = GDOI_BYTES(a->data.ptr + 1 + alen, a->data.len - 1 - alen);
	if (peer_certs(c, &leaf_der, inter, &ninter) != GDOI_OK)
		return ike2_drop(res, GDOI_ERR_MISSING, "%s: no X.509 certificate from the peer", __func__);
	if ((rc = gdoi_trust_verify(cfg->trust, leaf_der, inter, ninter, cfg->unix_now(cfg->ctx),
				    &leaf, &why)) != GDOI_OK)
		return ike2_drop(res, rc, "%s: peer certificate does not verify: %s", __func__,
				 why ? why : "?");
	if ((rc = gdoi_cert_match_id(leaf, id->type, id->data)) != GDOI_OK) {
		gdoi_cert_free(leaf);
		return ike2_drop(res, rc, "%s: peer ID (type %u) is not the certificate's", __func__,
				 id->type);
	}
	rc = gdoi_cert_public_key(leaf, &pub);
	gdoi_cert_free(leaf);
	if (rc != GDOI_OK)
		return ike2_drop(res, rc, "%s: certificate key: %s", __func__, gdoi_strerror(rc));
	if ((rc = ike2_signed_octets(sa, !sa->initiator, id_body, macid, parts)) == GDOI_OK)
		rc = gdoi_sig7427_verify(pub, algid, parts, 3, sig);
	gdoi_wipe(macid, sizeof(macid));
	gdoi_key_free(pub);
	if (rc != GDOI_OK)
		return ike2_drop(res, GDOI_ERR_AUTH, "%s: AUTH signature did not verify", __func__);
	return GDOI_OK;
}
