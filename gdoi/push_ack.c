/* push_ack.c - RFC 8263 GROUPKEY-PUSH acknowledgement: build, parse, verify (push_ack.h). */
#include "push_ack.h"

#include <string.h>

#include "crypto.h"
#include "err.h"
#include "numbers.h"
#include "wire.h"

/* The label of the ack_key derivation, its terminating zero octet included. */
static const char ack_label[] = "GROUPKEY-PUSH ACK";

static enum gdoi_md ack_md(uint16_t method)
{
	switch (method) {
	case GDOI_REKEY_ACK_KEK_SHA256: return GDOI_MD_SHA256;
	case GDOI_REKEY_ACK_KEK_SHA512: return GDOI_MD_SHA512;
	default: return GDOI_MD_NONE;	/* LKH methods and unknown values */
	}
}

bool gdoi_push_ack_method_ok(uint16_t method)
{
	return ack_md(method) != GDOI_MD_NONE;
}

int gdoi_push_ack_key(uint16_t method, const struct gdoi_kek_policy *kek,
		      uint8_t key[GDOI_PUSH_ACK_KEY_MAX], size_t *len)
{
	enum gdoi_md md = ack_md(method);
	size_t klen = gdoi_cipher_key_len(gdoi_kek_cipher(kek));
	if (md == GDOI_MD_NONE)
		return GDOI_ERR_UNSUPPORTED;
	if (!kek->have_keys || !klen || klen > sizeof(kek->key))
		return GDOI_ERR_MISSING;
	size_t out = gdoi_md_len(md);
	uint8_t l[2];
	gdoi_put_u16(l, (uint16_t)(out * 8));
	gdoi_bytes parts[] = { GDOI_BYTES(ack_label, sizeof(ack_label)),
			       GDOI_BYTES(kek->spi, GDOI_KEK_SPI_LEN), GDOI_BYTES(l, 2) };
	int rc = gdoi_prf(md, GDOI_BYTES(kek->key, klen), parts, 3, key);
	*len = rc ? 0 : out;
	return rc;
}

int gdoi_push_ack_build(uint16_t method, const struct gdoi_kek_policy *kek, uint32_t seq,
			const struct gdoi_id *id, uint8_t **out, size_t *len)
{
	uint8_t key[GDOI_PUSH_ACK_KEY_MAX], zero[GDOI_MD_MAX_LEN] = { 0 };
	size_t klen = 0, offs[4];
	*out = NULL;
	*len = 0;
	int rc = gdoi_push_ack_key(method, kek, key, &klen);
	if (rc)
		return rc;
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH_ACK };
	memcpy(h.icookie, kek->spi, GDOI_COOKIE_LEN);
	memcpy(h.rcookie, kek->spi + GDOI_COOKIE_LEN, GDOI_COOKIE_LEN);
	struct gdoi_payload pl[3] = {
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(zero, klen) },
		{ .type = GDOI_PL_SEQ, .u.seq = seq },
		{ .type = GDOI_PL_ID, .u.id = *id },
	};
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	rc = gdoi_msg_build(&w, &h, pl, 3, offs);
	if (!rc) {
		gdoi_bytes part = GDOI_BYTES(w.buf + offs[1], offs[3] - offs[1]);
		rc = gdoi_prf(ack_md(method), GDOI_BYTES(key, klen), &part, 1,
			      w.buf + offs[0] + GDOI_GENERIC_HDR_LEN);
	}
	gdoi_wipe(key, sizeof(key));
	if (rc) {
		gdoi_writer_free(&w);
		return rc;
	}
	*out = gdoi_writer_take(&w, len);
	return *out ? 0 : GDOI_ERR_NOMEM;
}

int gdoi_push_ack_parse(const uint8_t *msg, size_t len, struct gdoi_push_ack *a, char *why,
			size_t wl)
{
	struct gdoi_parse_error perr;
	struct gdoi_msg *m = NULL;
	memset(a, 0, sizeof(*a));
	int rc = gdoi_msg_parse(msg, len, &m, &perr);
	if (rc) {
		char e[160];
		gdoi_parse_error_format(&perr, e, sizeof(e));
		return gdoi_refuse(why, wl, rc, "malformed GROUPKEY-PUSH ACK: %s", e);
	}
	if (m->hdr.exchange != GDOI_EXCH_PUSH_ACK || (m->hdr.flags & GDOI_FLAG_ENC) || m->hdr.msgid) {
		rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
				 "GROUPKEY-PUSH ACK header: exchange %u, flags 0x%02x, "
				 "Message ID %u (want 35, no encryption, 0)",
				 m->hdr.exchange, m->hdr.flags, (unsigned)m->hdr.msgid);
		goto out;
	}
	if (m->npl != 3 || m->pl[0].type != GDOI_PL_HASH || m->pl[1].type != GDOI_PL_SEQ ||
	    m->pl[2].type != GDOI_PL_ID) {
		rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
				 "GROUPKEY-PUSH ACK at offset %u: payloads are not "
				 "HASH, SEQ, ID",
				 GDOI_HDR_LEN);
		goto out;
	}
	memcpy(a->kek_spi, m->hdr.icookie, GDOI_COOKIE_LEN);
	memcpy(a->kek_spi + GDOI_COOKIE_LEN, m->hdr.rcookie, GDOI_COOKIE_LEN);
	a->seq = m->pl[1].u.seq;
	a->id = m->pl[2].u.id;
	a->hash = m->pl[0].u.data;
	/* the payloads point into msg (the parser copies nothing it need not) */
	size_t from = m->pl[1].offset, to = m->chain_end;
	a->signed_part = GDOI_BYTES(msg + from, to - from);
out:
	gdoi_msg_free(m);
	return rc;
}

int gdoi_push_ack_verify(uint16_t method, const uint8_t *ack_key, size_t key_len,
			 const struct gdoi_push_ack *a)
{
	enum gdoi_md md = ack_md(method);
	uint8_t want[GDOI_MD_MAX_LEN];
	if (md == GDOI_MD_NONE)
		return GDOI_ERR_UNSUPPORTED;
	if (a->hash.len != gdoi_md_len(md))
		return GDOI_ERR_AUTH;
	if (gdoi_prf(md, GDOI_BYTES(ack_key, key_len), &a->signed_part, 1, want))
		return GDOI_ERR_AUTH;
	return gdoi_ct_equal(want, a->hash.ptr, a->hash.len) ? 0 : GDOI_ERR_AUTH;
}
