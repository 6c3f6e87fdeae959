/*
 * gike2_payload_idg.c - the IDg payload body (RFC 9838 §4.2~: the IKEv2
 * Identification payload body, RFC 7296 §3.5: ID Type (1), RESERVED (3),
 * data), the SENDER notify data, and G-IKEv2 names for logs and errors.
 * SAg (§4.3~) is an IKEv2 SA payload and is parsed by the IKEv2 codec.
 */
#include "codec.h"
#include "gike2.h"

#include <stdio.h>
#include <string.h>

int gike2_idg_parse(struct gdoi_reader *r, struct gike2_idg *out, struct gdoi_parse_error *err)
{
	struct codec_ctx c = { NULL, err, 0 };
	size_t at = gdoi_reader_offset(r);
	uint8_t res[3];
	gdoi_bytes rb;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!gdoi_read_u8(r, &out->id_type) || !gdoi_read_bytes(r, 3, &rb))
		return codec_fail(&c, GDOI_ERR_TRUNCATED, GIKE2_PL_IDG, at, "IDg");
	memcpy(res, rb.ptr, 3);
	if (res[0] | res[1] | res[2])
		return codec_fail(&c, GDOI_ERR_RESERVED, GIKE2_PL_IDG, at + 1, "IDg RESERVED");
	size_t n = gdoi_reader_left(r);
	if (n == 0)
		return codec_fail(&c, GDOI_ERR_ATTR_EMPTY, GIKE2_PL_IDG, at + 4, "IDg data");
	switch (out->id_type) {
	case GIKE2_ID_IPV4_ADDR:
		if (n != 4)
			return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_IDG, at + 4, "IDg IPv4");
		break;
	case GIKE2_ID_IPV6_ADDR:
		if (n != 16)
			return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_IDG, at + 4, "IDg IPv6");
		break;
	case GIKE2_ID_FQDN:
	case GIKE2_ID_RFC822_ADDR:
	case GIKE2_ID_KEY_ID:
		break;
	default:	/* DN / GN "are not expected to be used"; others are not group IDs */
		return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_IDG, at, "IDg ID Type");
	}
	gdoi_read_bytes(r, n, &out->data);
	return 0;
}

int gike2_idg_build(struct gdoi_writer *w, const struct gike2_idg *id)
{
	if (id == NULL || id->data.len == 0)
		return GDOI_ERR_INVALID_ARG;
	gdoi_write_u8(w, id->id_type);
	gdoi_write_zeros(w, 3);
	gdoi_write_bytes(w, id->data.ptr, id->data.len);
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

int gike2_sender_parse(struct gdoi_reader *r, uint32_t *count, struct gdoi_parse_error *err)
{
	struct codec_ctx c = { NULL, err, 0 };
	size_t at = gdoi_reader_offset(r);

	if (err)
		memset(err, 0, sizeof(*err));
	if (gdoi_reader_left(r) == 0) {
		*count = 1;
		return 0;
	}
	if (gdoi_reader_left(r) != 4 || !gdoi_read_u32(r, count))
		return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_NOTIFY, at, "SENDER data");
	if (*count == 0)
		return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_NOTIFY, at, "SENDER count");
	return 0;
}

int gike2_sender_build(struct gdoi_writer *w, uint32_t count)
{
	if (count == 0)
		return GDOI_ERR_INVALID_ARG;
	gdoi_write_u32(w, count);
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

int gike2_delete_parse(struct gdoi_reader *r, struct gike2_delete *out,
		       struct gdoi_parse_error *err)
{
	struct codec_ctx c = { NULL, err, 0 };
	size_t at = gdoi_reader_offset(r);
	uint16_t n;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(out, 0, sizeof(*out));
	if (!gdoi_read_u8(r, &out->protocol) || !gdoi_read_u8(r, &out->spi_size) ||
	    !gdoi_read_u16(r, &n))
		return codec_fail(&c, GDOI_ERR_TRUNCATED, GIKE2_PL_DELETE, at, "Delete");
	uint8_t want;
	switch (out->protocol) {
	case GIKE2_PROTO_GIKE_UPDATE: want = GIKE2_SPI_SIZE_REKEY; break;
	case GIKE2_PROTO_AH: case GIKE2_PROTO_ESP: case GIKE2_PROTO_SRTP: want = 4; break;
	default: return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_DELETE, at, "Delete Protocol ID");
	}
	if (out->spi_size != want)
		return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_DELETE, at + 1, "Delete SPI Size");
	if (n == 0 || n > GIKE2_DELETE_MAX_SPI)
		return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_DELETE, at + 2, "Delete Num of SPIs");
	if (gdoi_reader_left(r) != (size_t)n * want)
		return codec_fail(&c, GDOI_ERR_LENGTH, GIKE2_PL_DELETE, at + 4, "Delete SPIs");
	for (size_t i = 0; i < n; i++) {
		gdoi_bytes b;
		gdoi_read_bytes(r, want, &b);
		out->spi[out->nspi++] = b.ptr;
	}
	return 0;
}

int gike2_delete_build(struct gdoi_writer *w, const struct gike2_delete *d)
{
	if (d == NULL || d->nspi == 0 || d->nspi > GIKE2_DELETE_MAX_SPI || d->spi_size == 0)
		return GDOI_ERR_INVALID_ARG;
	gdoi_write_u8(w, d->protocol);
	gdoi_write_u8(w, d->spi_size);
	gdoi_write_u16(w, (uint16_t)d->nspi);
	for (size_t i = 0; i < d->nspi; i++)
		gdoi_write_bytes(w, d->spi[i], d->spi_size);
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

const char *gike2_payload_name(uint8_t type)
{
	switch (type) {
	case GIKE2_PL_NONE: return "none";
	case GIKE2_PL_SA: return "SA";
	case 34: return "KE";
	case 35: return "IDi";
	case 36: return "IDr";
	case 37: return "CERT";
	case 38: return "CERTREQ";
	case GIKE2_PL_AUTH: return "AUTH";
	case 40: return "Nonce";
	case GIKE2_PL_NOTIFY: return "N";
	case GIKE2_PL_DELETE: return "D";
	case 43: return "V";
	case GIKE2_PL_SK: return "SK";
	case GIKE2_PL_IDG: return "IDg";
	case GIKE2_PL_GSA: return "GSA";
	case GIKE2_PL_KD: return "KD";
	case 53: return "SKF";
	default: return "unknown";
	}
}

const char *gike2_exchange_name(uint8_t exch)
{
	switch (exch) {
	case 34: return "IKE_SA_INIT";
	case 35: return "IKE_AUTH";
	case 37: return "INFORMATIONAL";
	case GIKE2_EXCH_GSA_AUTH: return "GSA_AUTH";
	case GIKE2_EXCH_GSA_REGISTRATION: return "GSA_REGISTRATION";
	case GIKE2_EXCH_GSA_REKEY: return "GSA_REKEY";
	case GIKE2_EXCH_GSA_INBAND_REKEY: return "GSA_INBAND_REKEY";
	default: return "unknown";
	}
}

void gike2_parse_error_format(const struct gdoi_parse_error *e, char *buf, size_t len)
{
	if (e->payload)
		snprintf(buf, len, "payload %s (%u) at offset %zu: %s: %s",
			 gike2_payload_name(e->payload), e->payload, e->offset, e->what,
			 gdoi_strerror(e->code));
	else
		snprintf(buf, len, "header at offset %zu: %s: %s", e->offset, e->what,
			 gdoi_strerror(e->code));
}
