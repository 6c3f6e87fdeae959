/* pull.c - GROUPKEY-PULL helpers both roles use: HASH(n), sealing, opening. */
#include "pull_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_keys.h"
#include "msg_crypt.h"
#include "secret.h"

void gdoi_pull_result_clear(struct gdoi_pull_result *r)
{
	free(r->out);
	gdoi_pull_policy_free(r->policy);
	memset(r, 0, sizeof(*r));
}

void gdoi_pull_policy_free(struct gdoi_policy *p)
{
	if (!p)
		return;
	gdoi_secret_free(p, sizeof(*p));
}

static void vreason(struct gdoi_pull_result *res, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vreason(struct gdoi_pull_result *res, const char *fmt, va_list ap)
{
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
}

int pull_fail(struct gdoi_pull_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreason(res, fmt, ap);
	va_end(ap);
	res->event = GDOI_PULL_EV_FAILED;
	res->err = err ? err : GDOI_ERR_STATE;
	return res->err;
}

int pull_drop(struct gdoi_pull_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreason(res, fmt, ap);
	va_end(ap);
	res->err = err;
	return err;
}

void pull_digest(const uint8_t *msg, size_t len, uint8_t out[32])
{
	gdoi_bytes part = GDOI_BYTES(msg, len);
	gdoi_hash(GDOI_MD_SHA256, &part, 1, out);
}

static int pull_hash(const struct gdoi_ike_keys *k, uint32_t msgid, gdoi_bytes ni, gdoi_bytes nr,
		     gdoi_bytes rest, uint8_t *out)
{
	uint8_t mid[4];
	gdoi_put_u32(mid, msgid);
	gdoi_bytes parts[] = { GDOI_BYTES(mid, 4), ni, nr, rest };
	return gdoi_prf(k->md, GDOI_BYTES(k->skeyid_a, k->len), parts, 4, out);
}

int pull_seal(struct gdoi_p1_sa *sa, uint32_t msgid, struct gdoi_payload *pl, size_t n,
	      gdoi_bytes ni, gdoi_bytes nr, struct gdoi_writer *w)
{
	const struct gdoi_ike_keys *k = gdoi_p1_keys(sa);
	uint8_t zero[GDOI_MD_MAX_LEN] = { 0 }, iv[GDOI_CIPHER_MAX_BLOCK_LEN],
		next[GDOI_CIPHER_MAX_BLOCK_LEN];
	size_t offs[8];
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
			      .msgid = msgid };
	if (!k || n > 7)
		return GDOI_ERR_STATE;
	gdoi_p1_cookies(sa, h.icookie, h.rcookie);
	pl[0] = (struct gdoi_payload){ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(zero, k->len) };
	int rc = gdoi_msg_build(w, &h, pl, n, offs);
	if (!rc)
		rc = pull_hash(k, msgid, ni, nr, GDOI_BYTES(w->buf + offs[1], offs[n] - offs[1]),
			       w->buf + offs[0] + GDOI_GENERIC_HDR_LEN);
	if (!rc)
		rc = gdoi_p1_iv_get(sa, msgid, iv);
	if (!rc)
		rc = gdoi_msg_seal(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
				   GDOI_BYTES(iv, gdoi_cipher_block_len(k->cipher)), w, 0, next);
	if (!rc)
		gdoi_p1_iv_set(sa, msgid, next);
	return rc;
}

int pull_open(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, gdoi_bytes ni, gdoi_bytes nr,
	      struct gdoi_msg **m, uint8_t **plain, uint8_t *next_iv, struct gdoi_pull_result *res)
{
	const struct gdoi_ike_keys *k = gdoi_p1_keys(sa);
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN], want[GDOI_MD_MAX_LEN];
	struct gdoi_parse_error perr;
	*m = NULL;
	*plain = NULL;
	if (!k)
		return pull_drop(res, GDOI_ERR_STATE, "Phase 1 SA not established");
	if (len < GDOI_HDR_LEN || !(msg[19] & GDOI_FLAG_ENC))
		return pull_drop(res, GDOI_ERR_AUTH, "GROUPKEY-PULL message not encrypted: dropped");
	uint32_t msgid = gdoi_get_u32(msg + 20);
	int rc = gdoi_p1_iv_get(sa, msgid, iv);
	if (!rc)
		rc = gdoi_msg_open(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
				   GDOI_BYTES(iv, gdoi_cipher_block_len(k->cipher)), msg, len, plain,
				   next_iv);
	if (rc)
		return pull_drop(res, rc, "GROUPKEY-PULL message not a whole number of blocks");
	rc = gdoi_msg_parse_decrypted(*plain, len, m, &perr);
	if (rc) {
		char why[160];
		gdoi_parse_error_format(&perr, why, sizeof(why));
		pull_close(NULL, *plain, len);
		*plain = NULL;
		return pull_drop(res, rc, "GROUPKEY-PULL message dropped: %s", why);
	}
	const struct gdoi_msg *mm = *m;
	if (mm->npl < 1 || mm->pl[0].type != GDOI_PL_HASH || mm->pl[0].u.data.len != k->len) {
		rc = pull_drop(res, GDOI_ERR_MISSING, "GROUPKEY-PULL message does not start with HASH");
	} else {
		size_t from = mm->npl > 1 ? mm->pl[1].offset : mm->chain_end;
		rc = pull_hash(k, msgid, ni, nr, GDOI_BYTES(*plain + from, mm->chain_end - from), want);
		if (!rc && !gdoi_ct_equal(want, mm->pl[0].u.data.ptr, k->len))
			rc = pull_drop(res, GDOI_ERR_AUTH, "GROUPKEY-PULL HASH does not verify: dropped");
	}
	if (rc) {
		pull_close(*m, *plain, len);
		*m = NULL;
		*plain = NULL;
	}
	return rc;
}

void pull_close(struct gdoi_msg *m, uint8_t *plain, size_t len)
{
	gdoi_msg_free(m);
	gdoi_msg_plain_free(plain, len);
}

int pull_emit(struct gdoi_writer *w, uint8_t **keep, size_t *keep_len, struct gdoi_pull_result *res)
{
	size_t len;
	uint8_t *msg = gdoi_writer_take(w, &len);
	uint8_t *copy = msg ? malloc(len) : NULL;
	if (!copy) {
		free(msg);
		return GDOI_ERR_NOMEM;
	}
	memcpy(copy, msg, len);
	free(*keep);
	*keep = copy;
	*keep_len = len;
	free(res->out);
	res->out = msg;
	res->out_len = len;
	return 0;
}
