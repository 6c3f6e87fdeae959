/* msg_crypt.c - see msg_crypt.h. */
#include "msg_crypt.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "numbers.h"

int gdoi_msg_seal(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv, struct gdoi_writer *w,
		  size_t start, uint8_t *next_iv)
{
	size_t blk = gdoi_cipher_block_len(c);
	if (!blk || w->failed || w->len < start + GDOI_HDR_LEN)
		return GDOI_ERR_INVALID_ARG;
	size_t body = w->len - start - GDOI_HDR_LEN;
	size_t pad = (blk - body % blk) % blk;
	if (body == 0)
		pad = blk;	/* never send an empty ciphertext */
	gdoi_write_zeros(w, pad);
	if (w->failed)
		return GDOI_ERR_NOMEM;
	uint8_t *msg = w->buf + start;
	size_t len = w->len - start;
	if (len > UINT32_MAX)
		return GDOI_ERR_TOO_BIG;
	msg[19] |= GDOI_FLAG_ENC;
	gdoi_put_u32(msg + 24, (uint32_t)len);
	int rc = gdoi_cbc_encrypt(c, key, iv, msg + GDOI_HDR_LEN, len - GDOI_HDR_LEN,
				  msg + GDOI_HDR_LEN);
	if (rc == 0 && next_iv)
		memcpy(next_iv, msg + len - blk, blk);
	return rc;
}

int gdoi_msg_open(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv, const uint8_t *in,
		  size_t len, uint8_t **plain, uint8_t *next_iv)
{
	size_t blk = gdoi_cipher_block_len(c);
	*plain = NULL;
	if (!blk)
		return GDOI_ERR_INVALID_ARG;
	if (len <= GDOI_HDR_LEN || (len - GDOI_HDR_LEN) % blk)
		return GDOI_ERR_LENGTH;
	uint8_t *p = malloc(len);
	if (!p)
		return GDOI_ERR_NOMEM;
	memcpy(p, in, GDOI_HDR_LEN);
	int rc = gdoi_cbc_decrypt(c, key, iv, in + GDOI_HDR_LEN, len - GDOI_HDR_LEN,
				  p + GDOI_HDR_LEN);
	if (rc) {
		gdoi_msg_plain_free(p, len);
		return rc;
	}
	if (next_iv)
		memcpy(next_iv, in + len - blk, blk);
	*plain = p;
	return 0;
}

void gdoi_msg_plain_free(uint8_t *plain, size_t len)
{
	gdoi_wipe_free(plain, len);
}
