/* ike_keys.c - IKEv1 Phase 1 key schedule, RFC 2409 §5 and App. B (see ike_keys.h). */
#include "ike_keys.h"

#include <string.h>

#include "err.h"

int gdoi_ike_skeyid_psk(enum gdoi_md md, gdoi_bytes psk, gdoi_bytes ni_b, gdoi_bytes nr_b,
			uint8_t *skeyid)
{
	gdoi_bytes parts[] = { ni_b, nr_b };

	return gdoi_prf(md, psk, parts, 2, skeyid);
}

int gdoi_ike_skeyid_sig(enum gdoi_md md, gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			uint8_t *skeyid)
{
	uint8_t key[2 * 256];	/* nonces are at most 256 octets each (RFC 2409 §5) */
	int rc;

	if (ni_b.len > 256 || nr_b.len > 256)
		return GDOI_ERR_LENGTH;
	/* The key is the nonce pair: one contiguous buffer for HMAC. */
	if (ni_b.len)
		memcpy(key, ni_b.ptr, ni_b.len);
	if (nr_b.len)
		memcpy(key + ni_b.len, nr_b.ptr, nr_b.len);
	rc = gdoi_prf(md, GDOI_BYTES(key, ni_b.len + nr_b.len), &gxy, 1, skeyid);
	gdoi_wipe(key, sizeof(key));
	return rc;
}

int gdoi_ike_enc_key(enum gdoi_md md, gdoi_bytes skeyid_e, size_t key_len, uint8_t *key)
{
	uint8_t k[GDOI_MD_MAX_LEN];
	size_t hlen = gdoi_md_len(md), done = 0;
	int rc = GDOI_OK;

	if (hlen == 0)
		return GDOI_ERR_UNSUPPORTED;
	if (key == NULL || skeyid_e.len != hlen || key_len > GDOI_CIPHER_MAX_KEY_LEN)
		return GDOI_ERR_INVALID_ARG;
	if (skeyid_e.len >= key_len) {
		memcpy(key, skeyid_e.ptr, key_len);
		return GDOI_OK;
	}
	/* K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1) */
	k[0] = 0;
	gdoi_bytes prev = GDOI_BYTES(k, 1);
	while (done < key_len) {
		if ((rc = gdoi_prf(md, skeyid_e, &prev, 1, k)) != GDOI_OK)
			break;
		prev = GDOI_BYTES(k, hlen);
		size_t n = key_len - done < hlen ? key_len - done : hlen;
		memcpy(key + done, k, n);
		done += n;
	}
	gdoi_wipe(k, sizeof(k));
	if (rc != GDOI_OK)
		gdoi_wipe(key, key_len);
	return rc;
}

int gdoi_ike_keys_derive(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			 gdoi_bytes skeyid, gdoi_bytes gxy,
			 const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			 const uint8_t cky_r[GDOI_IKE_COOKIE_LEN])
{
	static const uint8_t n0 = 0, n1 = 1, n2 = 2;
	size_t hlen = gdoi_md_len(md), klen = gdoi_cipher_key_len(cipher);
	int rc;

	if (k == NULL || cky_i == NULL || cky_r == NULL)
		return GDOI_ERR_INVALID_ARG;
	memset(k, 0, sizeof(*k));
	if (hlen == 0 || klen == 0)
		return GDOI_ERR_UNSUPPORTED;
	if (skeyid.ptr == NULL || skeyid.len != hlen || gxy.ptr == NULL || gxy.len == 0)
		return GDOI_ERR_INVALID_ARG;
	k->md = md;
	k->cipher = cipher;
	k->len = hlen;
	memcpy(k->skeyid, skeyid.ptr, hlen);

	gdoi_bytes ck_i = GDOI_BYTES(cky_i, GDOI_IKE_COOKIE_LEN);
	gdoi_bytes ck_r = GDOI_BYTES(cky_r, GDOI_IKE_COOKIE_LEN);
	gdoi_bytes key = GDOI_BYTES(k->skeyid, hlen);
	gdoi_bytes d_parts[] = { gxy, ck_i, ck_r, GDOI_BYTES(&n0, 1) };
	gdoi_bytes a_parts[] = { GDOI_BYTES(k->skeyid_d, hlen), gxy, ck_i, ck_r, GDOI_BYTES(&n1, 1) };
	gdoi_bytes e_parts[] = { GDOI_BYTES(k->skeyid_a, hlen), gxy, ck_i, ck_r, GDOI_BYTES(&n2, 1) };

	if ((rc = gdoi_prf(md, key, d_parts, 4, k->skeyid_d)) != GDOI_OK ||
	    (rc = gdoi_prf(md, key, a_parts, 5, k->skeyid_a)) != GDOI_OK ||
	    (rc = gdoi_prf(md, key, e_parts, 5, k->skeyid_e)) != GDOI_OK ||
	    (rc = gdoi_ike_enc_key(md, GDOI_BYTES(k->skeyid_e, hlen), klen, k->enc_key)) != GDOI_OK) {
		gdoi_ike_keys_clear(k);
		return rc;
	}
	k->enc_key_len = klen;
	return GDOI_OK;
}

int gdoi_ike_keys_derive_psk(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			     gdoi_bytes psk, gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			     const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			     const uint8_t cky_r[GDOI_IKE_COOKIE_LEN])
{
	uint8_t skeyid[GDOI_MD_MAX_LEN];
	int rc = gdoi_ike_skeyid_psk(md, psk, ni_b, nr_b, skeyid);

	if (rc == GDOI_OK)
		rc = gdoi_ike_keys_derive(k, md, cipher, GDOI_BYTES(skeyid, gdoi_md_len(md)),
					  gxy, cky_i, cky_r);
	gdoi_wipe(skeyid, sizeof(skeyid));
	return rc;
}

int gdoi_ike_keys_derive_sig(struct gdoi_ike_keys *k, enum gdoi_md md, enum gdoi_cipher cipher,
			     gdoi_bytes ni_b, gdoi_bytes nr_b, gdoi_bytes gxy,
			     const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
			     const uint8_t cky_r[GDOI_IKE_COOKIE_LEN])
{
	uint8_t skeyid[GDOI_MD_MAX_LEN];
	int rc = gdoi_ike_skeyid_sig(md, ni_b, nr_b, gxy, skeyid);

	if (rc == GDOI_OK)
		rc = gdoi_ike_keys_derive(k, md, cipher, GDOI_BYTES(skeyid, gdoi_md_len(md)),
					  gxy, cky_i, cky_r);
	gdoi_wipe(skeyid, sizeof(skeyid));
	return rc;
}

void gdoi_ike_keys_clear(struct gdoi_ike_keys *k)
{
	if (k != NULL)
		gdoi_wipe(k, sizeof(*k));
}

/* prf(SKEYID, g^x1 | g^x2 | CKY-1 | CKY-2 | SAi_b | ID_b): HASH_I and HASH_R differ
 * only in the order of the DH values and cookies. */
static int auth_hash(const struct gdoi_ike_keys *k, gdoi_bytes gx1, gdoi_bytes gx2,
		     const uint8_t *cky1, const uint8_t *cky2, gdoi_bytes sai_b, gdoi_bytes id_b,
		     uint8_t *out)
{
	if (k == NULL || k->len == 0 || cky1 == NULL || cky2 == NULL || out == NULL)
		return GDOI_ERR_INVALID_ARG;
	gdoi_bytes parts[] = { gx1, gx2, GDOI_BYTES(cky1, GDOI_IKE_COOKIE_LEN),
			       GDOI_BYTES(cky2, GDOI_IKE_COOKIE_LEN), sai_b, id_b };
	return gdoi_prf(k->md, GDOI_BYTES(k->skeyid, k->len), parts, 6, out);
}

int gdoi_ike_hash_i(const struct gdoi_ike_keys *k, gdoi_bytes gxi, gdoi_bytes gxr,
		    const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
		    const uint8_t cky_r[GDOI_IKE_COOKIE_LEN],
		    gdoi_bytes sai_b, gdoi_bytes idii_b, uint8_t *out)
{
	return auth_hash(k, gxi, gxr, cky_i, cky_r, sai_b, idii_b, out);
}

int gdoi_ike_hash_r(const struct gdoi_ike_keys *k, gdoi_bytes gxi, gdoi_bytes gxr,
		    const uint8_t cky_i[GDOI_IKE_COOKIE_LEN],
		    const uint8_t cky_r[GDOI_IKE_COOKIE_LEN],
		    gdoi_bytes sai_b, gdoi_bytes idir_b, uint8_t *out)
{
	return auth_hash(k, gxr, gxi, cky_r, cky_i, sai_b, idir_b, out);
}

/* hash(parts) truncated to the block length. */
static int truncated_hash(enum gdoi_md md, enum gdoi_cipher cipher, const gdoi_bytes *parts,
			  size_t nparts, uint8_t *iv)
{
	uint8_t h[GDOI_MD_MAX_LEN];
	size_t bl = gdoi_cipher_block_len(cipher);
	int rc;

	if (bl == 0 || gdoi_md_len(md) == 0)
		return GDOI_ERR_UNSUPPORTED;
	if (gdoi_md_len(md) < bl)
		return GDOI_ERR_UNSUPPORTED;	/* no IKE hash is shorter than a block */
	if (iv == NULL)
		return GDOI_ERR_INVALID_ARG;
	if ((rc = gdoi_hash(md, parts, nparts, h)) == GDOI_OK)
		memcpy(iv, h, bl);
	return rc;
}

int gdoi_ike_phase1_iv(enum gdoi_md md, enum gdoi_cipher cipher, gdoi_bytes gxi,
		       gdoi_bytes gxr, uint8_t *iv)
{
	gdoi_bytes parts[] = { gxi, gxr };

	if (gxi.len == 0 || gxr.len == 0)
		return GDOI_ERR_INVALID_ARG;
	return truncated_hash(md, cipher, parts, 2, iv);
}

int gdoi_ike_phase2_iv(enum gdoi_md md, enum gdoi_cipher cipher, gdoi_bytes last_block,
		       uint32_t msg_id, uint8_t *iv)
{
	uint8_t mid[4];

	if (gdoi_cipher_block_len(cipher) == 0)
		return GDOI_ERR_UNSUPPORTED;
	if (last_block.ptr == NULL || last_block.len != gdoi_cipher_block_len(cipher))
		return GDOI_ERR_INVALID_ARG;
	gdoi_put_u32(mid, msg_id);
	gdoi_bytes parts[] = { last_block, GDOI_BYTES(mid, 4) };
	return truncated_hash(md, cipher, parts, 2, iv);
}
