/*
 * fuzz_gcks_insider.h - fuzz_gcks's ops 6 and 7: GROUPKEY-PULL messages 1 and
 * 3 that the member's Phase 1 SA protects (HASH(1) / HASH(3) with SKEYID_a,
 * CBC on the exchange's IV chain) around the attacker's own payloads: a
 * member that authenticated and then sends what it likes. Without them the
 * key server's message parsers (on_msg1, on_msg3) only ever see the honest
 * member's messages, since nothing else gets past the decryption and HASH.
 */
#ifndef FUZZ_GCKS_INSIDER_H
#define FUZZ_GCKS_INSIDER_H

#include "gdoi/crypto.h"
#include "gdoi/ike_keys.h"
#include "gdoi/msg_crypt.h"
#include "gdoi/phase1.h"
#include "gdoi/wire.h"

#define INSIDER_NONCE_MAX 256

/* HDR*, HASH(n) = prf(SKEYID_a, M-ID | ni | nr | rest), rest: the attacker's
 * payload chain whose first type is first. The datagram is left in w. */
static int insider_seal(struct gdoi_p1_sa *sa, uint32_t msgid, gdoi_bytes ni, gdoi_bytes nr,
			uint8_t first, const uint8_t *rest, size_t n, struct gdoi_writer *w)
{
	const struct gdoi_ike_keys *k = gdoi_p1_keys(sa);
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN], next[GDOI_CIPHER_MAX_BLOCK_LEN], mid[4];
	uint8_t c[16];

	if (!k || 28 + 4 + k->len + n > 0xffff)
		return GDOI_ERR_STATE;
	gdoi_p1_cookies(sa, c, c + 8);
	gdoi_write_bytes(w, c, 16);
	gdoi_write_u8(w, GDOI_PL_HASH);
	gdoi_write_u8(w, GDOI_ISAKMP_VERSION);
	gdoi_write_u8(w, GDOI_EXCH_PULL);
	gdoi_write_u8(w, 0);
	gdoi_write_u32(w, msgid);
	gdoi_write_u32(w, 0);	/* Length: gdoi_msg_seal patches it */
	gdoi_write_u8(w, first);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, (uint16_t)(4 + k->len));
	size_t at = gdoi_write_reserve(w, k->len);
	gdoi_write_bytes(w, rest, n);
	if (w->failed)
		return GDOI_ERR_NOMEM;
	gdoi_put_u32(w->buf + 24, (uint32_t)w->len);
	gdoi_put_u32(mid, msgid);
	gdoi_bytes parts[] = { GDOI_BYTES(mid, 4), ni, nr, GDOI_BYTES(rest, n) };
	int rc = gdoi_prf(k->md, GDOI_BYTES(k->skeyid_a, k->len), parts, 4, w->buf + at);
	if (!rc)
		rc = gdoi_p1_iv_get(sa, msgid, iv);
	if (!rc)
		rc = gdoi_msg_seal(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
				   GDOI_BYTES(iv, gdoi_cipher_block_len(k->cipher)), w, 0, next);
	if (!rc)
		gdoi_p1_iv_set(sa, msgid, next);
	return rc;
}

/* The body of the first Nonce payload in a raw chain starting with type t. */
static bool insider_nonce(uint8_t t, const uint8_t *p, size_t n, uint8_t *out, size_t *out_len)
{
	while (t != 0 && n >= 4) {
		size_t len = (size_t)p[2] << 8 | p[3];
		if (len < 4 || len > n)
			return false;
		if (t == GDOI_PL_NONCE && len - 4 <= INSIDER_NONCE_MAX) {
			memcpy(out, p + 4, len - 4);
			*out_len = len - 4;
			return true;
		}
		t = p[0];
		p += len;
		n -= len;
	}
	return false;
}

/* The key server's message 2 opened on the exchange's IV chain (committed):
 * its Nonce, for HASH(3). Its HASH(2) is not checked: the attacker trusts it. */
static bool insider_nr(struct gdoi_p1_sa *sa, uint32_t msgid, const uint8_t *m, size_t len,
		       uint8_t *nr, size_t *nr_len)
{
	const struct gdoi_ike_keys *k = gdoi_p1_keys(sa);
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN], next[GDOI_CIPHER_MAX_BLOCK_LEN], *plain = NULL;
	bool ok = false;

	if (!k || len < 28 || gdoi_get_u32(m + 20) != msgid || gdoi_p1_iv_get(sa, msgid, iv) ||
	    gdoi_msg_open(k->cipher, GDOI_BYTES(k->enc_key, k->enc_key_len),
			  GDOI_BYTES(iv, gdoi_cipher_block_len(k->cipher)), m, len, &plain, next))
		return false;
	gdoi_p1_iv_set(sa, msgid, next);
	ok = insider_nonce(plain[16], plain + 28, len - 28, nr, nr_len);
	gdoi_msg_plain_free(plain, len);
	return ok;
}

#endif
