/*
 * payload_simple.c - the flat payloads: KE, ID, CERT, CR, HASH, SIG, Nonce,
 * Vendor ID, Notify, Delete, SEQ and a stand-alone GAP (RFC 2408 §3.7-3.15,
 * RFC 2407 §4.6.2, RFC 6407 §5.4, §5.7).
 */
#include "codec.h"

#include <string.h>

static int parse_id(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_id *id)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u8(r, &id->type) || !gdoi_read_u8(r, &id->proto) ||
	    !gdoi_read_u16(r, &id->port))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_ID, at, "ID type/protocol/port");
	gdoi_read_bytes(r, gdoi_reader_left(r), &id->data);
	return codec_check_id_data(c, GDOI_PL_ID, at + 4, id->type, id->data.len);
}

static int parse_notify(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_notify *n)
{
	size_t at = gdoi_reader_offset(r);
	uint8_t spi_size;
	if (!gdoi_read_u32(r, &n->doi) || !gdoi_read_u8(r, &n->proto) ||
	    !gdoi_read_u8(r, &spi_size) || !gdoi_read_u16(r, &n->type))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_NOTIFY, at, "Notify fixed fields");
	if (!gdoi_read_bytes(r, spi_size, &n->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_NOTIFY, at + 5, "Notify SPI Size");
	gdoi_read_bytes(r, gdoi_reader_left(r), &n->data);
	return 0;
}

static int parse_delete(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_delete *d)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u32(r, &d->doi) || !gdoi_read_u8(r, &d->proto) ||
	    !gdoi_read_u8(r, &d->spi_size) || !gdoi_read_u16(r, &d->nspis))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_DELETE, at, "Delete fixed fields");
	if (d->nspis == 0 || d->spi_size == 0)
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_DELETE, at + 5,
				  "Delete without SPIs");
	size_t want = (size_t)d->nspis * d->spi_size;
	if (!gdoi_read_bytes(r, want, &d->spis))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_DELETE, at + 6,
				  "Delete SPIs run past the payload");
	return 0;
}

static int parse_data(struct codec_ctx *c, struct gdoi_reader *r, uint8_t type, gdoi_bytes *out)
{
	if (gdoi_reader_left(r) == 0)
		return codec_fail(c, GDOI_ERR_LENGTH, type, gdoi_reader_offset(r), "empty payload");
	gdoi_read_bytes(r, gdoi_reader_left(r), out);
	return 0;
}

int codec_parse_simple(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_payload *p)
{
	size_t at = gdoi_reader_offset(r);
	switch (p->type) {
	case GDOI_PL_ID:
		return parse_id(c, r, &p->u.id);
	case GDOI_PL_CERT:
	case GDOI_PL_CR:
		if (!gdoi_read_u8(r, &p->u.cert.type))
			return codec_fail(c, GDOI_ERR_TRUNCATED, p->type, at, "certificate type");
		if (p->type == GDOI_PL_CERT && gdoi_reader_left(r) == 0)
			return codec_fail(c, GDOI_ERR_LENGTH, p->type, at + 1, "empty certificate");
		gdoi_read_bytes(r, gdoi_reader_left(r), &p->u.cert.data);
		return 0;
	case GDOI_PL_KE:
	case GDOI_PL_HASH:
	case GDOI_PL_SIG:
	case GDOI_PL_NONCE:
	case GDOI_PL_VID:
	case GDOI_PL_NAT_D:
	case GDOI_PL_NAT_OA:
		return parse_data(c, r, p->type, &p->u.data);
	case GDOI_PL_NOTIFY:
		return parse_notify(c, r, &p->u.notify);
	case GDOI_PL_DELETE:
		return parse_delete(c, r, &p->u.del);
	case GDOI_PL_SEQ:
		/* RFC 6407 §5.7: Payload Length is exactly 8. */
		if (gdoi_reader_left(r) != 4)
			return codec_fail(c, GDOI_ERR_LENGTH, p->type, at - 2,
					  "SEQ Payload Length is not 8");
		gdoi_read_u32(r, &p->u.seq);
		return 0;
	case GDOI_PL_GAP:
		return codec_parse_attrs(c, r, GDOI_PL_GAP, "GAP attribute", &p->u.gap);
	}
	return codec_fail(c, GDOI_ERR_PAYLOAD_TYPE, p->type, at, "no parser for payload");
}

int codec_build_simple(struct gdoi_writer *w, const struct gdoi_payload *p)
{
	const struct gdoi_notify *n = &p->u.notify;
	const struct gdoi_delete *d = &p->u.del;
	switch (p->type) {
	case GDOI_PL_ID:
		gdoi_write_u8(w, p->u.id.type);
		gdoi_write_u8(w, p->u.id.proto);
		gdoi_write_u16(w, p->u.id.port);
		gdoi_write_bytes(w, p->u.id.data.ptr, p->u.id.data.len);
		return 0;
	case GDOI_PL_CERT:
	case GDOI_PL_CR:
		gdoi_write_u8(w, p->u.cert.type);
		gdoi_write_bytes(w, p->u.cert.data.ptr, p->u.cert.data.len);
		return 0;
	case GDOI_PL_KE:
	case GDOI_PL_HASH:
	case GDOI_PL_SIG:
	case GDOI_PL_NONCE:
	case GDOI_PL_VID:
	case GDOI_PL_NAT_D:
	case GDOI_PL_NAT_OA:
		if (p->u.data.len == 0)
			return GDOI_ERR_INVALID_ARG;
		gdoi_write_bytes(w, p->u.data.ptr, p->u.data.len);
		return 0;
	case GDOI_PL_NOTIFY:
		if (n->spi.len > 0xff)
			return GDOI_ERR_TOO_BIG;
		gdoi_write_u32(w, n->doi);
		gdoi_write_u8(w, n->proto);
		gdoi_write_u8(w, (uint8_t)n->spi.len);
		gdoi_write_u16(w, n->type);
		gdoi_write_bytes(w, n->spi.ptr, n->spi.len);
		gdoi_write_bytes(w, n->data.ptr, n->data.len);
		return 0;
	case GDOI_PL_DELETE:
		if (d->spi_size == 0 || d->nspis == 0 ||
		    d->spis.len != (size_t)d->nspis * d->spi_size)
			return GDOI_ERR_INVALID_ARG;
		gdoi_write_u32(w, d->doi);
		gdoi_write_u8(w, d->proto);
		gdoi_write_u8(w, d->spi_size);
		gdoi_write_u16(w, d->nspis);
		gdoi_write_bytes(w, d->spis.ptr, d->spis.len);
		return 0;
	case GDOI_PL_SEQ:
		gdoi_write_u32(w, p->u.seq);
		return 0;
	case GDOI_PL_GAP:
		codec_build_attrs(w, &p->u.gap);
		return 0;
	}
	return GDOI_ERR_PAYLOAD_TYPE;
}
