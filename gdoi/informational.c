/*
 * informational.c - the Informational exchange under a Phase 1 SA
 * (RFC 2409 §5.7): HDR*, HASH(1), N or D, with
 * HASH(1) = prf(SKEYID_a, M-ID | N/D payload) and IV = hash(last Phase 1
 * block | M-ID). Before Phase 1 completes, notifies travel in clear.
 */
#include "phase1_int.h"

#include <stdlib.h>
#include <string.h>

#include "msg_crypt.h"

static int send_protected(struct gdoi_p1_sa *sa, struct gdoi_payload *body,
			  struct gdoi_p1_result *res)
{
	if (sa->state != P1_ESTABLISHED)
		return GDOI_ERR_STATE;
	uint32_t msgid = 0;
	while (msgid == 0)
		if (gdoi_random((uint8_t *)&msgid, sizeof(msgid)))
			return GDOI_ERR_CRYPTO;
	uint8_t hash[GDOI_MD_MAX_LEN] = { 0 }, iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	struct gdoi_payload pl[2] = {
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(hash, sa->keys.len) },
		*body,
	};
	struct gdoi_hdr h;
	struct gdoi_writer w;
	size_t offs[3];
	p1_header(&h, sa, GDOI_EXCH_INFO, msgid);
	gdoi_writer_init(&w);
	int rc = gdoi_msg_build(&w, &h, pl, 2, offs);
	if (!rc) {
		uint8_t mid[4];
		gdoi_put_u32(mid, msgid);
		gdoi_bytes parts[] = { GDOI_BYTES(mid, 4),
				       GDOI_BYTES(w.buf + offs[1], offs[2] - offs[1]) };
		rc = gdoi_prf(sa->md, GDOI_BYTES(sa->keys.skeyid_a, sa->keys.len), parts, 2,
			      w.buf + offs[0] + GDOI_GENERIC_HDR_LEN);
	}
	if (!rc)
		rc = gdoi_p1_iv_get(sa, msgid, iv);
	if (!rc)
		rc = gdoi_msg_seal(sa->cipher, GDOI_BYTES(sa->keys.enc_key, sa->keys.enc_key_len),
				   GDOI_BYTES(iv, sa->blk), &w, 0, NULL);
	if (!rc) {
		free(res->out);
		res->out = gdoi_writer_take(&w, &res->out_len);
		rc = res->out ? 0 : GDOI_ERR_NOMEM;
	}
	gdoi_writer_free(&w);
	return rc;
}

int gdoi_p1_send_notify(struct gdoi_p1_sa *sa, uint16_t type, gdoi_bytes data,
			struct gdoi_p1_result *res)
{
	uint8_t spi[16];
	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	struct gdoi_payload n = { .type = GDOI_PL_NOTIFY, .u.notify = {
		.doi = GDOI_DOI_GDOI, .proto = GDOI_PROTO_ISAKMP, .type = type,
		.spi = GDOI_BYTES(spi, 16), .data = data } };
	int rc = send_protected(sa, &n, res);
	if (!rc)
		res->notify = type;
	return rc;
}

int gdoi_p1_send_delete(struct gdoi_p1_sa *sa, struct gdoi_p1_result *res)
{
	uint8_t spi[16];
	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	struct gdoi_payload d = { .type = GDOI_PL_DELETE, .u.del = {
		.doi = GDOI_DOI_GDOI, .proto = GDOI_PROTO_ISAKMP, .spi_size = 16, .nspis = 1,
		.spis = GDOI_BYTES(spi, 16) } };
	int rc = send_protected(sa, &d, res);
	sa->state = P1_DEAD;
	p1_note(res, "Phase 1 SA deleted by us");
	return rc;
}

/* Before keys: only an error Notify for our cookies means anything. */
static int clear_info(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		      struct gdoi_p1_result *res)
{
	struct gdoi_msg *m = NULL;
	int rc = gdoi_msg_parse(msg, len, &m, NULL);
	if (rc)
		return p1_drop(res, rc, "malformed Informational dropped");
	const struct gdoi_payload *n = gdoi_msg_find(m, GDOI_PL_NOTIFY, NULL);
	if (!n || n->u.notify.type == 0 || n->u.notify.type >= GDOI_N_CONNECTED) {
		gdoi_msg_free(m);
		return p1_drop(res, GDOI_ERR_VALUE, "unprotected Informational ignored");
	}
	uint16_t type = n->u.notify.type;
	gdoi_msg_free(m);
	sa->state = P1_DEAD;
	return p1_fail(res, type, GDOI_ERR_AUTH, "peer refused: %s (unauthenticated notify)",
		       gdoi_notify_name(type));
}

int p1_handle_info(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		   struct gdoi_p1_result *res)
{
	struct gdoi_hdr hdr;
	if (gdoi_hdr_parse(msg, len, &hdr, NULL))
		return p1_drop(res, GDOI_ERR_LENGTH, "malformed header");
	if (sa->state == P1_DEAD)
		return p1_drop(res, GDOI_ERR_STATE, "SA is dead");
	if (sa->state != P1_ESTABLISHED)
		return (hdr.flags & GDOI_FLAG_ENC) ? p1_drop(res, GDOI_ERR_STATE,
							     "encrypted Informational before keys")
						   : clear_info(sa, msg, len, res);
	if (!(hdr.flags & GDOI_FLAG_ENC) || hdr.msgid == 0)
		return p1_drop(res, GDOI_ERR_AUTH, "unprotected Informational after Phase 1 ignored");
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN], *plain = NULL;
	struct gdoi_msg *m = NULL;
	int rc = gdoi_p1_iv_get(sa, hdr.msgid, iv);
	if (!rc)
		rc = gdoi_msg_open(sa->cipher, GDOI_BYTES(sa->keys.enc_key, sa->keys.enc_key_len),
				   GDOI_BYTES(iv, sa->blk), msg, len, &plain, NULL);
	if (!rc)
		rc = gdoi_msg_parse_decrypted(plain, len, &m, NULL);
	if (rc) {
		gdoi_msg_plain_free(plain, len);
		return p1_drop(res, rc, "Informational does not decrypt to a valid message");
	}
	uint8_t want[GDOI_MD_MAX_LEN], mid[4];
	gdoi_put_u32(mid, hdr.msgid);
	if (m->npl < 2 || m->pl[0].type != GDOI_PL_HASH) {
		rc = p1_drop(res, GDOI_ERR_MISSING, "Informational without HASH(1) first");
		goto out;
	}
	gdoi_bytes parts[] = { GDOI_BYTES(mid, 4),
			       GDOI_BYTES(plain + m->pl[1].offset, m->chain_end - m->pl[1].offset) };
	rc = gdoi_prf(sa->md, GDOI_BYTES(sa->keys.skeyid_a, sa->keys.len), parts, 2, want);
	if (rc || m->pl[0].u.data.len != sa->keys.len ||
	    !gdoi_ct_equal(want, m->pl[0].u.data.ptr, sa->keys.len)) {
		rc = p1_drop(res, GDOI_ERR_AUTH, "Informational HASH(1) does not verify");
		goto out;
	}
	for (size_t i = 1; i < m->npl; i++) {
		const struct gdoi_payload *p = &m->pl[i];
		if (p->type == GDOI_PL_DELETE && p->u.del.proto == GDOI_PROTO_ISAKMP &&
		    p->u.del.spi_size == 16 && !memcmp(p->u.del.spis.ptr, sa->icookie, 8) &&
		    !memcmp(p->u.del.spis.ptr + 8, sa->rcookie, 8)) {
			sa->state = P1_DEAD;
			res->event = GDOI_P1_EV_DELETED;
			p1_note(res, "peer deleted the Phase 1 SA");
		} else if (p->type == GDOI_PL_NOTIFY && res->event == GDOI_P1_EV_NONE) {
			res->event = GDOI_P1_EV_NOTIFY;
			res->notify = p->u.notify.type;
			p1_note(res, "peer notifies %s", gdoi_notify_name(p->u.notify.type));
		}
	}
out:
	gdoi_msg_free(m);
	gdoi_msg_plain_free(plain, len);
	return rc;
}
