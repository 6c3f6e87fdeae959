/*
 * payload_tek.c - SA TEK payload bodies (RFC 6407 §5.5):
 *   ESP / AH (Protocol-ID 1, 2; RFC 6407 §5.5.1),
 *   the project's SRTP TEK (Protocol-ID 0xF5; docs/srtp-tek.md),
 *   the reference implementation's SRTP TEK (Protocol-ID 128; docs/protocol.md),
 *   any other Protocol-ID kept as opaque bytes for the policy layer to refuse.
 */
#include "codec.h"

static int parse_ipsec(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_tek_ipsec *t)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u8(r, &t->protocol))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at, "SA TEK Protocol");
	int rc = codec_parse_selector(c, r, GDOI_PL_SAT, "SA TEK SRC ID", &t->src);
	if (!rc)
		rc = codec_parse_selector(c, r, GDOI_PL_SAT, "SA TEK DST ID", &t->dst);
	if (rc)
		return rc;
	at = gdoi_reader_offset(r);
	if (!gdoi_read_u8(r, &t->transform_id) || !gdoi_read_u32(r, &t->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at,
				  "SA TEK Transform ID / SPI");
	return codec_parse_attrs(c, r, GDOI_PL_SAT, "IPsec SA attribute", &t->attrs);
}

static int parse_srtp(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_tek_srtp *t)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u8(r, &t->version) || !gdoi_read_u16(r, &t->profile) ||
	    !gdoi_read_u8(r, &t->flags))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at, "SRTP TEK fixed fields");
	if (t->version != GDOI_SRTP_TEK_VERSION)
		return codec_fail(c, GDOI_ERR_VERSION, GDOI_PL_SAT, at, "SRTP TEK Version");
	if (!gdoi_srtp_profile_known(t->profile))
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_SAT, at + 1, "SRTP TEK profile");
	if (t->flags & ~(GDOI_SRTP_FLAG_SRTCP | GDOI_SRTP_FLAG_MKI))
		return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_SAT, at + 3, "SRTP TEK Flags");
	int rc = codec_parse_selector(c, r, GDOI_PL_SAT, "SRTP TEK SRC ID", &t->src);
	if (!rc)
		rc = codec_parse_selector(c, r, GDOI_PL_SAT, "SRTP TEK DST ID", &t->dst);
	if (rc)
		return rc;
	at = gdoi_reader_offset(r);
	if (!gdoi_read_u32(r, &t->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at, "SRTP TEK SPI");
	if (t->spi == 0)
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_SAT, at, "SRTP TEK SPI is 0");
	return codec_parse_attrs(c, r, GDOI_PL_SAT, "SRTP attribute", &t->attrs);
}

static int parse_ref_srtp(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_tek_ref_srtp *t)
{
	int rc = codec_parse_selector(c, r, GDOI_PL_SAT, "reference SRTP TEK SRC ID", &t->src);
	if (!rc)
		rc = codec_parse_selector(c, r, GDOI_PL_SAT, "reference SRTP TEK DST ID", &t->dst);
	if (rc)
		return rc;
	size_t at = gdoi_reader_offset(r);
	uint8_t spi_size;
	if (!gdoi_read_u8(r, &t->replay_window) || !gdoi_read_u8(r, &t->kd_rate) ||
	    !gdoi_read_u8(r, &t->srtp_lifetime) || !gdoi_read_u8(r, &t->srtcp_lifetime) ||
	    !gdoi_read_u8(r, &spi_size))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at,
				  "reference SRTP TEK fixed fields");
	if (spi_size == 0 || !gdoi_read_bytes(r, spi_size, &t->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at + 4,
				  "reference SRTP TEK SPI");
	return codec_parse_attrs(c, r, GDOI_PL_SAT, "reference SRTP attribute", &t->attrs);
}

int codec_parse_sat(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_sat *t)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u8(r, &t->protocol_id))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAT, at, "SA TEK Protocol-ID");
	switch (t->protocol_id) {
	case GDOI_TEK_PROTO_ESP:
	case GDOI_TEK_PROTO_AH:
		return parse_ipsec(c, r, &t->u.ipsec);
	case GDOI_TEK_PROTO_SRTP:
		return parse_srtp(c, r, &t->u.srtp);
	case GDOI_TEK_PROTO_REF_SRTP:
		return parse_ref_srtp(c, r, &t->u.ref_srtp);
	}
	gdoi_read_bytes(r, gdoi_reader_left(r), &t->u.opaque);
	return 0;
}

int codec_build_sat(struct gdoi_writer *w, const struct gdoi_sat *t)
{
	gdoi_write_u8(w, t->protocol_id);
	switch (t->protocol_id) {
	case GDOI_TEK_PROTO_ESP:
	case GDOI_TEK_PROTO_AH: {
		const struct gdoi_tek_ipsec *e = &t->u.ipsec;
		gdoi_write_u8(w, e->protocol);
		codec_build_selector(w, &e->src);
		codec_build_selector(w, &e->dst);
		gdoi_write_u8(w, e->transform_id);
		gdoi_write_u32(w, e->spi);
		codec_build_attrs(w, &e->attrs);
		break;
	}
	case GDOI_TEK_PROTO_SRTP: {
		const struct gdoi_tek_srtp *s = &t->u.srtp;
		gdoi_write_u8(w, s->version ? s->version : GDOI_SRTP_TEK_VERSION);
		gdoi_write_u16(w, s->profile);
		gdoi_write_u8(w, s->flags);
		codec_build_selector(w, &s->src);
		codec_build_selector(w, &s->dst);
		gdoi_write_u32(w, s->spi);
		codec_build_attrs(w, &s->attrs);
		break;
	}
	case GDOI_TEK_PROTO_REF_SRTP: {
		const struct gdoi_tek_ref_srtp *s = &t->u.ref_srtp;
		if (s->spi.len == 0 || s->spi.len > 0xff)
			return GDOI_ERR_INVALID_ARG;
		codec_build_selector(w, &s->src);
		codec_build_selector(w, &s->dst);
		gdoi_write_u8(w, s->replay_window);
		gdoi_write_u8(w, s->kd_rate);
		gdoi_write_u8(w, s->srtp_lifetime);
		gdoi_write_u8(w, s->srtcp_lifetime);
		gdoi_write_u8(w, (uint8_t)s->spi.len);
		gdoi_write_bytes(w, s->spi.ptr, s->spi.len);
		codec_build_attrs(w, &s->attrs);
		break;
	}
	default:
		gdoi_write_bytes(w, t->u.opaque.ptr, t->u.opaque.len);
		break;
	}
	return w->failed ? GDOI_ERR_NOMEM : 0;
}
