/*
 * payload_kd.c - Key Download payload (RFC 6407 §5.6): key packets for TEKs,
 * the KEK, Sender-IDs, the group's sender list (SRTP_SENDERS, a private-use
 * type of this project); LKH and other types are carried opaquely.
 */
#include "codec.h"

static int parse_packet(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_kd_packet *k)
{
	size_t at = gdoi_reader_offset(r);
	uint8_t reserved, spi_size;
	uint16_t len;
	struct gdoi_reader body;
	if (!gdoi_read_u8(r, &k->type) || !gdoi_read_u8(r, &reserved) || !gdoi_read_u16(r, &len))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_KD, at, "key packet header");
	if (reserved)
		return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_KD, at + 1, "key packet RESERVED");
	if (len < 5)
		return codec_fail(c, GDOI_ERR_LENGTH, GDOI_PL_KD, at + 2, "KD Length below 5");
	if (!gdoi_read_sub(r, len - 4, &body))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_KD, at + 2,
				  "key packet runs past the KD payload");
	gdoi_read_u8(&body, &spi_size);
	if (!gdoi_read_bytes(&body, spi_size, &k->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_KD, at + 4, "key packet SPI");
	switch (k->type) {
	case GDOI_KD_SID:
	case GDOI_KD_SRTP_SENDERS:
		if (spi_size != 0)
			return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_KD, at + 4,
					  "SID or SRTP_SENDERS key packet with an SPI");
		/* fall through */
	case GDOI_KD_TEK:
	case GDOI_KD_KEK:
		if (gdoi_reader_left(&body) == 0)
			return codec_fail(c, GDOI_ERR_MISSING, GDOI_PL_KD, at,
					  "key packet without attributes");
		return codec_parse_attrs(c, &body, GDOI_PL_KD, "key packet attribute", &k->attrs);
	}
	gdoi_read_bytes(&body, gdoi_reader_left(&body), &k->opaque);
	return 0;
}

int codec_parse_kd(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_kd *kd)
{
	size_t at = gdoi_reader_offset(r);
	uint16_t n, reserved2;
	if (!gdoi_read_u16(r, &n) || !gdoi_read_u16(r, &reserved2))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_KD, at, "KD header");
	if (reserved2)
		return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_KD, at + 2, "KD RESERVED2");
	if (n == 0)
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_KD, at, "KD without key packets");
	/* A key packet takes at least 5 octets: refuse counts the body cannot hold. */
	if ((size_t)n > gdoi_reader_left(r) / 5)
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_KD, at,
				  "Number of Key Packets exceeds the payload");
	kd->pkts = gdoi_arena_calloc(c->arena, n, sizeof(*kd->pkts));
	if (!kd->pkts)
		return codec_fail(c, GDOI_ERR_NOMEM, GDOI_PL_KD, at, "key packets");
	for (kd->n = 0; kd->n < n; kd->n++) {
		int rc = parse_packet(c, r, &kd->pkts[kd->n]);
		if (rc)
			return rc;
	}
	if (gdoi_reader_left(r))
		return codec_fail(c, GDOI_ERR_TRAILING, GDOI_PL_KD, gdoi_reader_offset(r),
				  "octets after the announced key packets");
	return 0;
}

int codec_build_kd(struct gdoi_writer *w, const struct gdoi_kd *kd)
{
	if (kd->n == 0 || kd->n > 0xffff)
		return GDOI_ERR_INVALID_ARG;
	gdoi_write_u16(w, (uint16_t)kd->n);
	gdoi_write_u16(w, 0);
	for (size_t i = 0; i < kd->n; i++) {
		const struct gdoi_kd_packet *k = &kd->pkts[i];
		if (k->spi.len > 0xff)
			return GDOI_ERR_INVALID_ARG;
		size_t start = w->len;
		gdoi_write_u8(w, k->type);
		gdoi_write_u8(w, 0);
		gdoi_write_u16(w, 0);
		gdoi_write_u8(w, (uint8_t)k->spi.len);
		gdoi_write_bytes(w, k->spi.ptr, k->spi.len);
		if (k->type == GDOI_KD_TEK || k->type == GDOI_KD_KEK || k->type == GDOI_KD_SID ||
		    k->type == GDOI_KD_SRTP_SENDERS)
			codec_build_attrs(w, &k->attrs);
		else
			gdoi_write_bytes(w, k->opaque.ptr, k->opaque.len);
		if (w->failed)
			return GDOI_ERR_NOMEM;
		size_t len = w->len - start;
		if (len > 0xffff)
			return GDOI_ERR_TOO_BIG;
		gdoi_patch_u16(w, start + 2, (uint16_t)len);
	}
	return 0;
}
