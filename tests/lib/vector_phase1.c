/* vector_phase1.c - see vector_phase1.h. */
#include "tests/lib/testutil.h"

#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "tests/lib/vector_phase1.h"

/* A value the log must contain; fails the test when it does not. */
size_t need_block(const struct vlog *log, const char *label, unsigned occ,
			 uint8_t *out, size_t cap)
{
	long n = vlog_block(log, label, occ, out, cap);
	if (n <= 0)
		fail_msg("log has no value after \"%s\" #%u", label, occ);
	return (size_t)n;
}

size_t need_run(const struct vlog *log, const char *label, unsigned occ,
		       uint8_t *out, size_t cap)
{
	long n = vlog_run(log, label, occ, out, cap);
	if (n <= 0)
		fail_msg("log has no datagram \"%s\" #%u", label, occ);
	return (size_t)n;
}

/* Body of the first payload of a decrypted Main Mode message (the ID). */
static gdoi_bytes first_payload_body(const uint8_t *p, size_t len)
{
	assert_true(len >= 4);
	size_t plen = gdoi_get_u16(p + 2);
	assert_true(plen >= 4 && plen <= len);
	return GDOI_BYTES(p + 4, plen - 4);
}


void read_phase1(const struct vlog *log, int is_gm, struct phase1 *p)
{
	/* The initiator's datagrams are "message_send" on the GM and "message_recv" on the KS. */
	const char *from_i = is_gm ? "message_send:" : "message_recv:";
	uint8_t mm3[BUF];
	size_t n;

	p->gxi_len = need_block(log, "g^xi:", 0, p->gxi, sizeof(p->gxi));
	p->gxr_len = need_block(log, "g^xr:", 0, p->gxr, sizeof(p->gxr));
	p->gxy_len = need_block(log, "g^xy:", 0, p->gxy, sizeof(p->gxy));
	p->ni_len = need_block(log, "exchange_nonce: NONCE_i:", 0, p->ni, sizeof(p->ni));
	p->nr_len = need_block(log, "exchange_nonce: NONCE_r:", 0, p->nr, sizeof(p->nr));

	/* Cookies from MM3's header (MM1 still has CKY-R = 0). */
	n = need_run(log, from_i, 1, mm3, sizeof(mm3));
	assert_true(n >= 28);
	memcpy(p->cky_i, mm3, 8);
	memcpy(p->cky_r, mm3 + 8, 8);

	/* SAi_b: the body of MM1's SA, the first payload after the header. */
	p->mm1_len = need_run(log, from_i, 0, p->mm1, sizeof(p->mm1));
	assert_int_equal(p->mm1[16], 1);	/* next payload: SA */
	assert_true(p->mm1_len >= 32);
	p->sai_b = first_payload_body(p->mm1 + 28, p->mm1_len - 28);

	/* MM5 is encrypted by the GM and decrypted by the KS; MM6 the other way. */
	if (is_gm) {
		p->mm5_pt_len = need_block(log, "crypto_encrypt: before encryption:", 0, p->mm5_pt, BUF);
		p->mm5_ct_len = need_block(log, "crypto_encrypt: after encryption:", 0, p->mm5_ct, BUF);
		p->mm6_ct_len = need_block(log, "crypto_decrypt: before decryption:", 0, p->mm6_ct, BUF);
		p->mm6_pt_len = need_block(log, "crypto_decrypt: after decryption:", 0, p->mm6_pt, BUF);
	} else {
		p->mm5_ct_len = need_block(log, "crypto_decrypt: before decryption:", 0, p->mm5_ct, BUF);
		p->mm5_pt_len = need_block(log, "crypto_decrypt: after decryption:", 0, p->mm5_pt, BUF);
		p->mm6_pt_len = need_block(log, "crypto_encrypt: before encryption:", 0, p->mm6_pt, BUF);
		p->mm6_ct_len = need_block(log, "crypto_encrypt: after encryption:", 0, p->mm6_ct, BUF);
	}
	p->idii_b = first_payload_body(p->mm5_pt, p->mm5_pt_len);
	p->idir_b = first_payload_body(p->mm6_pt, p->mm6_pt_len);
}


void read_phase1_keys(const struct vlog *log, int is_gm, struct phase1 *p)
{
	read_phase1(log, is_gm, p);
	assert_int_equal(gdoi_ike_keys_derive_psk(&p->keys, GDOI_MD_SHA1, GDOI_CIPHER_3DES_CBC,
						  GDOI_BYTES(VECTOR_PSK, strlen(VECTOR_PSK)),
						  GDOI_BYTES(p->ni, p->ni_len),
						  GDOI_BYTES(p->nr, p->nr_len),
						  GDOI_BYTES(p->gxy, p->gxy_len), p->cky_i, p->cky_r),
			 GDOI_OK);
}
