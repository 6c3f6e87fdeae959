/*
 * gike2_rekey.c - GSA_REKEY build and open (RFC 9838 §2.4.1~, §2.4.1.1~):
 * the Rekey SA's keys, the inner payload chain, SK with AES-GCM-16 (RFC 5282),
 * the RFC 7427 signature over A | P, and Message ID replay protection.
 */
#include "codec.h"
#include "gike2_rekey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SK_HDR_LEN 4
#define AUTH_FIXED 4		/* Auth Method (1) RESERVED (3) */
#define SIGN_TRIES 64		/* ECDSA DER length must match the zeroed field */

/* ---- Rekey SA keys (§3.4~: KEYMAT = GSK_e | GSK_a | GSK_w) --------------- */

static size_t gsk_e_len(const struct gike2_rekey_sa *sa)
{
	if (sa->encr != GIKE2_ENCR_AES_GCM_16)
		return 0;
	if (sa->encr_key_bits != 128 && sa->encr_key_bits != 256)
		return 0;
	return sa->encr_key_bits / 8u + GIKE2_GCM_SALT_LEN;
}

size_t gike2_rekey_keymat_len(const struct gike2_rekey_sa *sa)
{
	size_t e = gsk_e_len(sa), w = gike2_kwa_key_len(sa->kwa);
	return e && w ? e + w : 0;
}

int gike2_rekey_set_keys(struct gike2_rekey_sa *sa, gdoi_bytes keymat)
{
	size_t e = gsk_e_len(sa), w = gike2_kwa_key_len(sa->kwa);

	if (!e || !w)
		return GDOI_ERR_UNSUPPORTED;
	if (keymat.ptr == NULL || keymat.len != e + w)
		return GDOI_ERR_LENGTH;
	memcpy(sa->gsk_e, keymat.ptr, e);
	memcpy(sa->gsk_w, keymat.ptr + e, w);
	sa->gsk_e_len = e;
	sa->gsk_w_len = w;
	return 0;
}

void gike2_rekey_sa_clear(struct gike2_rekey_sa *sa)
{
	OPENSSL_cleanse(sa, sizeof(*sa));
}

/* ---- inner payload chain ------------------------------------------------- */

int gike2_chain_build(struct gdoi_writer *w, const struct gike2_pl *pl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pl[i].body.len > 0xffff - 4)
			return GDOI_ERR_TOO_BIG;
		gdoi_write_u8(w, i + 1 < n ? pl[i + 1].type : GIKE2_PL_NONE);
		gdoi_write_u8(w, pl[i].critical ? 0x80 : 0);
		gdoi_write_u16(w, (uint16_t)(pl[i].body.len + 4));
		gdoi_write_bytes(w, pl[i].body.ptr, pl[i].body.len);
	}
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

static bool known_inner(uint8_t type)
{
	return type == GIKE2_PL_GSA || type == GIKE2_PL_KD || type == GIKE2_PL_NOTIFY ||
	       type == GIKE2_PL_DELETE || type == GIKE2_PL_AUTH;
}

int gike2_chain_parse(struct gdoi_reader *r, uint8_t first, struct gdoi_arena *a,
		      struct gike2_pl **out, size_t *n, struct gdoi_parse_error *err)
{
	struct codec_ctx c = { a, err, 0 };
	size_t cap = gdoi_reader_left(r) / 4 + 1;
	uint8_t type = first;

	if (err)
		memset(err, 0, sizeof(*err));
	*n = 0;
	if ((*out = gdoi_arena_calloc(a, cap, sizeof(**out))) == NULL)
		return codec_fail(&c, GDOI_ERR_NOMEM, type, gdoi_reader_offset(r), "payload chain");
	while (type != GIKE2_PL_NONE) {
		size_t at = gdoi_reader_offset(r);
		uint8_t next, flags;
		uint16_t len;
		struct gike2_pl *p = &(*out)[*n];

		if (*n + 1 >= cap || !gdoi_read_u8(r, &next) || !gdoi_read_u8(r, &flags) ||
		    !gdoi_read_u16(r, &len))
			return codec_fail(&c, GDOI_ERR_TRUNCATED, type, at, "generic payload header");
		if (len < 4)
			return codec_fail(&c, GDOI_ERR_LENGTH, type, at + 2, "Payload Length");
		if (!gdoi_read_bytes(r, (size_t)len - 4, &p->body))
			return codec_fail(&c, GDOI_ERR_TRUNCATED, type, at + 2, "Payload Length");
		p->type = type;
		p->critical = flags & 0x80;
		if (flags & 0x7f)
			return codec_fail(&c, GDOI_ERR_RESERVED, type, at + 1, "RESERVED");
		if (!known_inner(type)) {
			if (p->critical)	/* RFC 7296 §2.5: UNSUPPORTED_CRITICAL_PAYLOAD */
				return codec_fail(&c, GDOI_ERR_PAYLOAD_TYPE, type, at, "critical payload");
		} else {
			(*n)++;
		}
		type = next;
	}
	if (gdoi_reader_left(r))
		return codec_fail(&c, GDOI_ERR_TRAILING, 0, gdoi_reader_offset(r), "after payload chain");
	return 0;
}

/* ---- AES-GCM-16 SK payload (RFC 5282) ------------------------------------- */

static const EVP_CIPHER *gcm_cipher(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
}

/* aead(enc): nonce = salt | iv; aad; in -> out; tag written (enc) or checked. */
static int gcm(const struct gike2_rekey_sa *sa, bool enc, const uint8_t *iv, gdoi_bytes aad,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	size_t klen = sa->gsk_e_len - GIKE2_GCM_SALT_LEN;
	const EVP_CIPHER *ci = gcm_cipher(klen);
	uint8_t nonce[GIKE2_GCM_SALT_LEN + GIKE2_GCM_IV_LEN];
	EVP_CIPHER_CTX *ctx;
	int n, rc = enc ? GDOI_ERR_CRYPTO : GDOI_ERR_AUTH;

	if (ci == NULL || len > 0x7fffffff)
		return GDOI_ERR_INVALID_ARG;
	memcpy(nonce, sa->gsk_e + klen, GIKE2_GCM_SALT_LEN);
	memcpy(nonce + GIKE2_GCM_SALT_LEN, iv, GIKE2_GCM_IV_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return GDOI_ERR_NOMEM;
	if (EVP_CipherInit_ex(ctx, ci, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, sa->gsk_e, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad.ptr, (int)aad.len) != 1 ||
	    (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1))
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GIKE2_GCM_ICV_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1) {
		if (!enc)
			OPENSSL_cleanse(out, len);
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GIKE2_GCM_ICV_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* ---- the data GSA_REKEY's AUTH signs (§2.4.1.1~) ------------------------- */

/*
 * A = IKE header with Length = |A| + |P| | SK header with Length = 4 + |P|;
 * P = the inner payloads in plaintext, the AUTH payload's Authentication
 * Data (the signature) zeroed; its header, method, ASN.1 length and
 * AlgorithmIdentifier as sent.
 */
static void adjusted_a(const uint8_t *hdr_sk, size_t p_len, uint8_t a[GIKE2_HDR_LEN + SK_HDR_LEN])
{
	memcpy(a, hdr_sk, GIKE2_HDR_LEN + SK_HDR_LEN);
	gdoi_put_u32(a + 24, (uint32_t)(GIKE2_HDR_LEN + SK_HDR_LEN + p_len));
	gdoi_put_u16(a + GIKE2_HDR_LEN + 2, (uint16_t)(SK_HDR_LEN + p_len));
}

static void write_hdr(struct gdoi_writer *w, const struct gike2_rekey_sa *sa, uint8_t first,
		      uint32_t msgid)
{
	gdoi_write_bytes(w, sa->spi, GIKE2_SPI_SIZE_REKEY);
	gdoi_write_u8(w, GIKE2_PL_SK);
	gdoi_write_u8(w, GIKE2_VERSION);
	gdoi_write_u8(w, GIKE2_EXCH_GSA_REKEY);
	gdoi_write_u8(w, GIKE2_FLAG_INITIATOR);
	gdoi_write_u32(w, msgid);
	gdoi_write_u32(w, 0);	/* Length, patched */
	gdoi_write_u8(w, first);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, 0);	/* SK Payload Length, patched */
}

/* Builds P with the AUTH payload last and its signature field sig_len zeros;
 * *sig_at gets the field's offset in P. */
static int build_p(struct gdoi_writer *p, const struct gike2_pl *pl, size_t n, gdoi_bytes algid,
		   size_t sig_len, size_t *sig_at)
{
	struct gike2_pl *all = calloc(n + 1, sizeof(*all));
	struct gdoi_writer auth;
	int rc;

	if (!all)
		return GDOI_ERR_NOMEM;
	memcpy(all, pl, n * sizeof(*all));
	gdoi_writer_init(&auth);
	if (algid.len) {
		gdoi_write_u8(&auth, GIKE2_AUTH_DIGITAL_SIGNATURE);
		gdoi_write_zeros(&auth, 3);
		gdoi_write_u8(&auth, (uint8_t)algid.len);
		gdoi_write_bytes(&auth, algid.ptr, algid.len);
		gdoi_write_zeros(&auth, sig_len);
		all[n++] = (struct gike2_pl){ GIKE2_PL_AUTH, false, GDOI_BYTES(auth.buf, auth.len) };
	}
	rc = auth.failed ? GDOI_ERR_NOMEM : gike2_chain_build(p, all, n);
	*sig_at = p->len - sig_len;
	gdoi_writer_free(&auth);
	free(all);
	return rc;
}

static size_t predict_sig_len(const struct gdoi_key *k)
{
	if (gdoi_key_kind(k) == GDOI_KEYKIND_RSA)
		return gdoi_key_sig_len(k);
	/* DER SEQUENCE { INTEGER r, INTEGER s }: the most common length is with
	 * neither integer padded; other lengths are retried. */
	size_t c = gdoi_key_sig_len(k) / 2;
	return 2 + 2 * (2 + c) + (c > 60 ? 1 : 0);
}

int gike2_rekey_build(struct gike2_rekey_sa *sa, const struct gike2_pl *pl, size_t n,
		      const struct gdoi_key *signer, struct gdoi_writer *out)
{
	bool sign = sa->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	struct gdoi_writer p;
	uint8_t iv[GIKE2_GCM_IV_LEN], sig[GDOI_SIG_MAX_LEN];
	gdoi_bytes algid = GDOI_BYTES_NONE;
	size_t sig_len = 0, sig_at = 0, start = out->len;
	int rc;

	if (n == 0 && !sign)
		return GDOI_ERR_INVALID_ARG;
	if (sa->exhausted)
		return GDOI_ERR_STATE;	/* a new Rekey SA is needed */
	if (!gsk_e_len(sa) || sa->gsk_e_len != gsk_e_len(sa))
		return GDOI_ERR_UNSUPPORTED;
	if (sign) {
		if (signer == NULL || !gdoi_key_has_private(signer))
			return GDOI_ERR_INVALID_ARG;
		if ((rc = gdoi_sig7427_algid(signer, sa->sig_md, &algid)))
			return rc;
	} else if (sa->gcauth != GIKE2_GCAUTH_IMPLICIT) {
		return GDOI_ERR_UNSUPPORTED;
	}
	uint8_t first = n ? pl[0].type : GIKE2_PL_AUTH;
	gdoi_writer_init(&p);
	for (int tries = 0;; tries++) {
		size_t want = sign ? predict_sig_len(signer) : 0;
		p.len = 0;
		if ((rc = build_p(&p, pl, n, algid, want, &sig_at)))
			goto done;
		if (!sign)
			break;
		uint8_t a[GIKE2_HDR_LEN + SK_HDR_LEN];
		struct gdoi_writer h;
		gdoi_writer_init(&h);
		write_hdr(&h, sa, first, sa->msgid);
		if (h.failed) {
			gdoi_writer_free(&h);
			rc = GDOI_ERR_NOMEM;
			goto done;
		}
		adjusted_a(h.buf, p.len, a);
		gdoi_writer_free(&h);
		gdoi_bytes parts[2] = { GDOI_BYTES(a, sizeof(a)), GDOI_BYTES(p.buf, p.len) };
		if ((rc = gdoi_sig7427_sign(signer, sa->sig_md, parts, 2, sig, sizeof(sig), &sig_len)))
			goto done;
		if (sig_len == want) {
			memcpy(p.buf + sig_at, sig, sig_len);
			break;
		}
		if (tries == SIGN_TRIES) {
			rc = GDOI_ERR_CRYPTO;
			goto done;
		}
	}
	/* Pad Length 0: GCM needs no padding (RFC 5282 §3). */
	gdoi_write_u8(&p, 0);
	if (p.failed || (rc = gdoi_random(iv, sizeof(iv)))) {
		rc = rc ? rc : GDOI_ERR_NOMEM;
		goto done;
	}
	size_t total = GIKE2_HDR_LEN + SK_HDR_LEN + sizeof(iv) + p.len + GIKE2_GCM_ICV_LEN;
	if (total > 0xffff) {	/* one datagram; IKE fragmentation is not done here */
		rc = GDOI_ERR_TOO_BIG;
		goto done;
	}
	write_hdr(out, sa, first, sa->msgid);
	gdoi_write_bytes(out, iv, sizeof(iv));
	size_t ct_at = gdoi_write_reserve(out, p.len + GIKE2_GCM_ICV_LEN);
	if (out->failed) {
		rc = GDOI_ERR_NOMEM;
		goto done;
	}
	uint8_t *m = out->buf + start;
	gdoi_put_u32(m + 24, (uint32_t)total);
	gdoi_put_u16(m + GIKE2_HDR_LEN + 2, (uint16_t)(total - GIKE2_HDR_LEN));
	rc = gcm(sa, true, iv, GDOI_BYTES(m, GIKE2_HDR_LEN + SK_HDR_LEN), p.buf, p.len,
		 out->buf + ct_at, out->buf + ct_at + p.len);
	if (rc == 0) {
		if (sa->msgid == UINT32_MAX)
			sa->exhausted = true;
		else
			sa->msgid++;
	}
done:
	if (rc)
		out->len = start;
	gdoi_writer_free(&p);
	return rc;
}

/* ---- open ------------------------------------------------------------------ */

static int verify_auth(const struct gike2_rekey_sa *sa, const uint8_t *msg, uint8_t *plain,
		       size_t p_len, const struct gike2_pl *auth, const struct gdoi_key *key,
		       struct codec_ctx *c, size_t auth_off)
{
	struct gdoi_reader r = gdoi_reader_init(auth->body.ptr, auth->body.len, auth_off);
	uint8_t method, alen;
	gdoi_bytes res, algid, sig;
	uint8_t a[GIKE2_HDR_LEN + SK_HDR_LEN];

	if (!gdoi_read_u8(&r, &method) || !gdoi_read_bytes(&r, 3, &res) || !gdoi_read_u8(&r, &alen))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GIKE2_PL_AUTH, auth_off, "AUTH");
	if (method != GIKE2_AUTH_DIGITAL_SIGNATURE)
		return codec_fail(c, GDOI_ERR_AUTH, GIKE2_PL_AUTH, auth_off, "AUTH Method");
	if (res.ptr[0] | res.ptr[1] | res.ptr[2])
		return codec_fail(c, GDOI_ERR_RESERVED, GIKE2_PL_AUTH, auth_off + 1, "AUTH RESERVED");
	if (!gdoi_read_bytes(&r, alen, &algid) || gdoi_reader_left(&r) == 0)
		return codec_fail(c, GDOI_ERR_TRUNCATED, GIKE2_PL_AUTH, auth_off + 4, "AUTH data");
	gdoi_read_bytes(&r, gdoi_reader_left(&r), &sig);
	/* The signature as received, then zeroed in P for the check. */
	uint8_t *copy = malloc(sig.len);
	if (!copy)
		return GDOI_ERR_NOMEM;
	memcpy(copy, sig.ptr, sig.len);
	memset((uint8_t *)sig.ptr, 0, sig.len);	/* sig points into plain (ours) */
	adjusted_a(msg, p_len, a);
	gdoi_bytes parts[2] = { GDOI_BYTES(a, sizeof(a)), GDOI_BYTES(plain, p_len) };
	int rc = gdoi_sig7427_verify(key, algid, parts, 2, GDOI_BYTES(copy, sig.len));
	gdoi_bytes want;
	if (rc == 0 && (gdoi_sig7427_algid(key, sa->sig_md, &want) || want.len != algid.len ||
			memcmp(want.ptr, algid.ptr, algid.len)))
		rc = GDOI_ERR_AUTH;	/* not the hash the GSA policy named */
	memcpy((uint8_t *)sig.ptr, copy, sig.len);
	free(copy);
	if (rc)
		return codec_fail(c, GDOI_ERR_AUTH, GIKE2_PL_AUTH, auth_off, "GSA_REKEY signature");
	return 0;
}

int gike2_rekey_open(struct gike2_rekey_sa *sa, const uint8_t *msg, size_t len,
		     const struct gdoi_key *gcks_key, struct gdoi_arena *a, struct gike2_pl **pl,
		     size_t *n, uint32_t *msgid, struct gdoi_parse_error *err)
{
	struct codec_ctx c = { a, err, 0 };
	bool sign = sa->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	const size_t fixed = GIKE2_HDR_LEN + SK_HDR_LEN + GIKE2_GCM_IV_LEN + GIKE2_GCM_ICV_LEN;

	if (err)
		memset(err, 0, sizeof(*err));
	*pl = NULL;
	*n = 0;
	if (msg == NULL || len < fixed + 1)
		return codec_fail(&c, GDOI_ERR_TRUNCATED, 0, 0, "GSA_REKEY");
	if (gdoi_get_u32(msg + 24) != len)
		return codec_fail(&c, GDOI_ERR_LENGTH, 0, 24, "IKE header Length");
	if (msg[17] != GIKE2_VERSION)
		return codec_fail(&c, GDOI_ERR_VERSION, 0, 17, "IKE header version");
	if (msg[18] != GIKE2_EXCH_GSA_REKEY)
		return codec_fail(&c, GDOI_ERR_VALUE, 0, 18, "Exchange Type");
	if ((msg[19] & (GIKE2_FLAG_INITIATOR | GIKE2_FLAG_RESPONSE)) != GIKE2_FLAG_INITIATOR)
		return codec_fail(&c, GDOI_ERR_VALUE, 0, 19, "Flags");
	if (msg[16] != GIKE2_PL_SK)
		return codec_fail(&c, GDOI_ERR_PAYLOAD_TYPE, 0, 16, "Next Payload (SK)");
	if (memcmp(msg, sa->spi, GIKE2_SPI_SIZE_REKEY) != 0)
		return codec_fail(&c, GDOI_ERR_NOT_FOUND, 0, 0, "Rekey SA SPIs");
	if (gdoi_get_u16(msg + GIKE2_HDR_LEN + 2) != len - GIKE2_HDR_LEN)
		return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_SK, GIKE2_HDR_LEN + 2, "SK Length");
	if (msg[GIKE2_HDR_LEN + 1])
		return codec_fail(&c, GDOI_ERR_RESERVED, GIKE2_PL_SK, GIKE2_HDR_LEN + 1, "SK flags");
	uint32_t id = gdoi_get_u32(msg + 20);
	if (id < sa->msgid || sa->exhausted)	/* cheap refusal before any crypto */
		return codec_fail(&c, GDOI_ERR_REPLAY, 0, 20, "Message ID");
	if (!sa->gsk_e_len || sa->gsk_e_len != gsk_e_len(sa))
		return GDOI_ERR_UNSUPPORTED;
	if (sign && gcks_key == NULL)
		return GDOI_ERR_INVALID_ARG;

	size_t ct_len = len - fixed;
	const uint8_t *iv = msg + GIKE2_HDR_LEN + SK_HDR_LEN;
	uint8_t *plain = gdoi_arena_alloc(a, ct_len);
	if (!plain)
		return codec_fail(&c, GDOI_ERR_NOMEM, GIKE2_PL_SK, 0, "GSA_REKEY");
	int rc = gcm(sa, false, iv, GDOI_BYTES(msg, GIKE2_HDR_LEN + SK_HDR_LEN),
		     iv + GIKE2_GCM_IV_LEN, ct_len, plain, (uint8_t *)(msg + len - GIKE2_GCM_ICV_LEN));
	if (rc)
		return codec_fail(&c, GDOI_ERR_AUTH, GIKE2_PL_SK, GIKE2_HDR_LEN, "SK ICV");
	uint8_t pad = plain[ct_len - 1];
	if ((size_t)pad + 1 > ct_len)
		return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_SK, len - GIKE2_GCM_ICV_LEN - 1,
				  "Pad Length");
	size_t p_len = ct_len - 1 - pad;
	size_t p_off = GIKE2_HDR_LEN + SK_HDR_LEN + GIKE2_GCM_IV_LEN;
	struct gdoi_reader r = gdoi_reader_init(plain, p_len, p_off);
	struct gike2_pl *all;
	size_t nall;
	if ((rc = gike2_chain_parse(&r, msg[GIKE2_HDR_LEN], a, &all, &nall, err)))
		return rc;
	/* AUTH: last and only with a signature policy (§2.4.1~). */
	size_t nauth = 0;
	for (size_t i = 0; i < nall; i++)
		nauth += all[i].type == GIKE2_PL_AUTH;
	if (sign) {
		if (nauth != 1 || all[nall - 1].type != GIKE2_PL_AUTH)
			return codec_fail(&c, GDOI_ERR_MISSING, GIKE2_PL_AUTH, p_off, "AUTH (last)");
		size_t auth_off = p_off + (size_t)(all[nall - 1].body.ptr - plain);
		if ((rc = verify_auth(sa, msg, plain, p_len, &all[nall - 1], gcks_key, &c, auth_off)))
			return rc;
		nall--;
	} else if (nauth) {
		return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_AUTH, p_off, "AUTH with implicit auth");
	}
	/* Accepted: only now does the replay state move. */
	if (id == UINT32_MAX)
		sa->exhausted = true;
	else
		sa->msgid = id + 1;
	*pl = all;
	*n = nall;
	if (msgid)
		*msgid = id;
	return 0;
}
