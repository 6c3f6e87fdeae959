/*
 * payload_sa.c - the SA payload in both of its forms:
 *   IKE form (Phase 1): DOI, Situation, Proposal(s) with Transform(s) (RFC 2408 §3.4-3.6);
 *   GDOI form (PULL/PUSH): DOI, Situation, SA Attribute Next Payload, then
 *   zero or one SA KEK, zero or one GAP, zero or more SA TEK (RFC 6407 §5.2-5.4).
 */
#include "codec.h"

#include <string.h>

/* Reads a nested generic header and splits off its body. */
static int nested_header(struct codec_ctx *c, struct gdoi_reader *r, uint8_t type,
			 uint8_t *np, struct gdoi_reader *body)
{
	size_t at = gdoi_reader_offset(r);
	uint8_t reserved;
	uint16_t len;
	if (!gdoi_read_u8(r, np) || !gdoi_read_u8(r, &reserved) || !gdoi_read_u16(r, &len))
		return codec_fail(c, GDOI_ERR_TRUNCATED, type, at, "generic payload header");
	if (reserved)
		return codec_fail(c, GDOI_ERR_RESERVED, type, at + 1, "generic header RESERVED");
	if (len < GDOI_GENERIC_HDR_LEN)
		return codec_fail(c, GDOI_ERR_LENGTH, type, at + 2, "Payload Length below 4");
	if (!gdoi_read_sub(r, len - GDOI_GENERIC_HDR_LEN, body))
		return codec_fail(c, GDOI_ERR_TRUNCATED, type, at + 2,
				  "Payload Length runs past the SA payload");
	return 0;
}

static int expect_consumed(struct codec_ctx *c, const struct gdoi_reader *body, uint8_t type)
{
	if (gdoi_reader_left(body))
		return codec_fail(c, GDOI_ERR_TRAILING, type, gdoi_reader_offset(body),
				  "octets after the payload's fields");
	return 0;
}

/* ---- IKE form -------------------------------------------------------------- */

static int parse_transform(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_transform *t)
{
	size_t at = gdoi_reader_offset(r);
	uint16_t reserved2;
	if (!gdoi_read_u8(r, &t->num) || !gdoi_read_u8(r, &t->id) || !gdoi_read_u16(r, &reserved2))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_TRANSFORM, at, "Transform fields");
	if (reserved2)
		return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_TRANSFORM, at + 2,
				  "Transform RESERVED2");
	return codec_parse_attrs(c, r, GDOI_PL_TRANSFORM, "SA attribute", &t->attrs);
}

static int parse_proposal(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_proposal *p)
{
	size_t at = gdoi_reader_offset(r);
	uint8_t spi_size, nxf;
	if (!gdoi_read_u8(r, &p->num) || !gdoi_read_u8(r, &p->proto) ||
	    !gdoi_read_u8(r, &spi_size) || !gdoi_read_u8(r, &nxf))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_PROPOSAL, at, "Proposal fields");
	if (!gdoi_read_bytes(r, spi_size, &p->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_PROPOSAL, at + 2, "Proposal SPI");
	if (nxf == 0)
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_PROPOSAL, at + 3,
				  "Proposal without transforms");
	p->xf = gdoi_arena_calloc(c->arena, nxf, sizeof(*p->xf));
	if (!p->xf)
		return codec_fail(c, GDOI_ERR_NOMEM, GDOI_PL_PROPOSAL, at, "transforms");
	for (uint8_t next = GDOI_PL_TRANSFORM; next != GDOI_PL_NONE;) {
		size_t tat = gdoi_reader_offset(r);
		struct gdoi_reader body;
		if (next != GDOI_PL_TRANSFORM)
			return codec_fail(c, GDOI_ERR_PAYLOAD_TYPE, GDOI_PL_TRANSFORM, tat,
					  "Transform followed by a non-Transform payload");
		if (p->nxf == nxf)
			return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_PROPOSAL, at + 3,
					  "more Transforms than the Proposal announces");
		int rc = nested_header(c, r, GDOI_PL_TRANSFORM, &next, &body);
		if (!rc)
			rc = parse_transform(c, &body, &p->xf[p->nxf++]);
		if (!rc)
			rc = expect_consumed(c, &body, GDOI_PL_TRANSFORM);
		if (rc)
			return rc;
	}
	if (p->nxf != nxf)
		return codec_fail(c, GDOI_ERR_VALUE, GDOI_PL_PROPOSAL, at + 3,
				  "fewer Transforms than the Proposal announces");
	return expect_consumed(c, r, GDOI_PL_PROPOSAL);
}

static int parse_sa_ike(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_sa_ike *sa)
{
	size_t at = gdoi_reader_offset(r);
	if (!gdoi_read_u32(r, &sa->doi) || !gdoi_read_u32(r, &sa->situation))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SA, at, "SA DOI/Situation");
	size_t cap = gdoi_reader_left(r) / 8 + 1;
	sa->props = gdoi_arena_calloc(c->arena, cap, sizeof(*sa->props));
	if (!sa->props)
		return codec_fail(c, GDOI_ERR_NOMEM, GDOI_PL_SA, at, "proposals");
	uint8_t next = GDOI_PL_PROPOSAL;
	while (next != GDOI_PL_NONE) {
		size_t pat = gdoi_reader_offset(r);
		struct gdoi_reader body;
		if (next != GDOI_PL_PROPOSAL)
			return codec_fail(c, GDOI_ERR_PAYLOAD_TYPE, GDOI_PL_PROPOSAL, pat,
					  "Proposal followed by a non-Proposal payload");
		int rc = nested_header(c, r, GDOI_PL_PROPOSAL, &next, &body);
		if (!rc)
			rc = parse_proposal(c, &body, &sa->props[sa->nprops++]);
		if (rc)
			return rc;
	}
	return expect_consumed(c, r, GDOI_PL_SA);
}

static int build_sa_ike(struct gdoi_writer *w, const struct gdoi_sa_ike *sa)
{
	gdoi_write_u32(w, sa->doi);
	gdoi_write_u32(w, sa->situation);
	for (size_t i = 0; i < sa->nprops; i++) {
		const struct gdoi_proposal *p = &sa->props[i];
		if (p->spi.len > 0xff || p->nxf == 0 || p->nxf > 0xff)
			return GDOI_ERR_INVALID_ARG;
		size_t ps = codec_begin_payload(w, i + 1 < sa->nprops ? GDOI_PL_PROPOSAL : 0);
		gdoi_write_u8(w, p->num);
		gdoi_write_u8(w, p->proto);
		gdoi_write_u8(w, (uint8_t)p->spi.len);
		gdoi_write_u8(w, (uint8_t)p->nxf);
		gdoi_write_bytes(w, p->spi.ptr, p->spi.len);
		for (size_t j = 0; j < p->nxf; j++) {
			size_t ts = codec_begin_payload(w, j + 1 < p->nxf ? GDOI_PL_TRANSFORM : 0);
			gdoi_write_u8(w, p->xf[j].num);
			gdoi_write_u8(w, p->xf[j].id);
			gdoi_write_u16(w, 0);
			codec_build_attrs(w, &p->xf[j].attrs);
			int rc = codec_end_payload(w, ts);
			if (rc)
				return rc;
		}
		int rc = codec_end_payload(w, ps);
		if (rc)
			return rc;
	}
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

/* ---- GDOI form ------------------------------------------------------------- */

static int parse_sak(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_sak *k)
{
	size_t at = gdoi_reader_offset(r);
	gdoi_bytes spi, reserved;
	if (!gdoi_read_u8(r, &k->protocol))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAK, at, "SA KEK Protocol");
	int rc = codec_parse_selector(c, r, GDOI_PL_SAK, "SA KEK SRC ID", &k->src);
	if (!rc)
		rc = codec_parse_selector(c, r, GDOI_PL_SAK, "SA KEK DST ID", &k->dst);
	if (rc)
		return rc;
	at = gdoi_reader_offset(r);
	if (!gdoi_read_bytes(r, GDOI_KEK_SPI_LEN, &spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAK, at, "SA KEK SPI");
	memcpy(k->spi, spi.ptr, GDOI_KEK_SPI_LEN);
	/* RFC 6407: 4 RESERVED2 octets. The reference implementation sends 6;
	 * KEK_ALGORITHM is mandatory, so an RFC-form payload never continues
	 * with 00 00 (attribute type 0 in TLV form), which tells the two apart. */
	k->trailer_len = 4;
	if (gdoi_reader_left(r) >= 6 && gdoi_get_u16(r->base + r->pos + 4) == 0)
		k->trailer_len = 6;
	at = gdoi_reader_offset(r);
	if (!gdoi_read_bytes(r, k->trailer_len, &reserved))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SAK, at, "SA KEK RESERVED2");
	for (size_t i = 0; i < reserved.len; i++)
		if (reserved.ptr[i])
			return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_SAK, at + i,
					  "SA KEK RESERVED2");
	return codec_parse_attrs(c, r, GDOI_PL_SAK, "KEK attribute", &k->attrs);
}

static void build_sak(struct gdoi_writer *w, const struct gdoi_sak *k)
{
	gdoi_write_u8(w, k->protocol);
	codec_build_selector(w, &k->src);
	codec_build_selector(w, &k->dst);
	gdoi_write_bytes(w, k->spi, GDOI_KEK_SPI_LEN);
	gdoi_write_zeros(w, k->trailer_len == 6 ? 6 : 4);
	codec_build_attrs(w, &k->attrs);
}

/* Ordering of RFC 6407 §5.2.1: SAK, then GAP, then SATs. */
static int rank(uint8_t type)
{
	switch (type) {
	case GDOI_PL_SAK: return 0;
	case GDOI_PL_GAP: return 1;
	case GDOI_PL_SAT: return 2;
	}
	return -1;
}

static int parse_sa_gdoi(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_sa_gdoi *sa)
{
	size_t at = gdoi_reader_offset(r);
	uint16_t next, reserved2;
	if (!gdoi_read_u32(r, &sa->doi) || !gdoi_read_u32(r, &sa->situation) ||
	    !gdoi_read_u16(r, &next) || !gdoi_read_u16(r, &reserved2))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GDOI_PL_SA, at, "GDOI SA fixed fields");
	if (reserved2)
		return codec_fail(c, GDOI_ERR_RESERVED, GDOI_PL_SA, at + 10, "SA RESERVED2");
	if (next == GDOI_PL_NONE)
		return codec_fail(c, GDOI_ERR_MISSING, GDOI_PL_SA, at + 8,
				  "SA holds neither SA KEK nor SA TEK");
	size_t cap = gdoi_reader_left(r) / 4 + 1;
	sa->sats = gdoi_arena_calloc(c->arena, cap, sizeof(*sa->sats));
	if (!sa->sats)
		return codec_fail(c, GDOI_ERR_NOMEM, GDOI_PL_SA, at, "SA TEKs");
	int last = -1;
	while (next != GDOI_PL_NONE) {
		size_t pat = gdoi_reader_offset(r);
		int rk = next <= 0xff ? rank((uint8_t)next) : -1;
		if (rk < 0)
			return codec_fail(c, GDOI_ERR_PAYLOAD_TYPE, (uint8_t)next, pat,
					  "payload not allowed inside a GDOI SA");
		if (rk < last || (rk == last && rk != 2))
			return codec_fail(c, GDOI_ERR_PAYLOAD_TYPE, (uint8_t)next, pat,
					  "SA attribute payloads out of order (SAK, GAP, SATs)");
		last = rk;
		uint8_t type = (uint8_t)next, np;
		struct gdoi_reader body;
		int rc = nested_header(c, r, type, &np, &body);
		if (rc)
			return rc;
		next = np;
		switch (type) {
		case GDOI_PL_SAK:
			sa->sak = gdoi_arena_alloc(c->arena, sizeof(*sa->sak));
			rc = sa->sak ? parse_sak(c, &body, sa->sak)
				     : codec_fail(c, GDOI_ERR_NOMEM, type, pat, "SA KEK");
			break;
		case GDOI_PL_GAP:
			sa->gap = gdoi_arena_alloc(c->arena, sizeof(*sa->gap));
			rc = sa->gap ? codec_parse_attrs(c, &body, type, "GAP attribute", sa->gap)
				     : codec_fail(c, GDOI_ERR_NOMEM, type, pat, "GAP");
			break;
		default:
			rc = codec_parse_sat(c, &body, &sa->sats[sa->nsats++]);
			break;
		}
		if (!rc)
			rc = expect_consumed(c, &body, type);
		if (rc)
			return rc;
	}
	if (!sa->sak && sa->nsats == 0)
		return codec_fail(c, GDOI_ERR_MISSING, GDOI_PL_SA, at,
				  "SA holds neither SA KEK nor SA TEK");
	if (gdoi_reader_left(r))
		return codec_fail(c, GDOI_ERR_TRAILING, GDOI_PL_SA, gdoi_reader_offset(r),
				  "octets after the last SA attribute payload");
	return 0;
}

static int build_sa_gdoi(struct gdoi_writer *w, const struct gdoi_sa_gdoi *sa)
{
	uint8_t first = sa->sak ? GDOI_PL_SAK : sa->gap ? GDOI_PL_GAP :
			sa->nsats ? GDOI_PL_SAT : GDOI_PL_NONE;
	if (first == GDOI_PL_NONE || (first == GDOI_PL_GAP && !sa->nsats))
		return GDOI_ERR_INVALID_ARG;
	gdoi_write_u32(w, sa->doi);
	gdoi_write_u32(w, sa->situation);
	gdoi_write_u16(w, first);
	gdoi_write_u16(w, 0);
	int rc;
	if (sa->sak) {
		size_t s = codec_begin_payload(w, sa->gap ? GDOI_PL_GAP :
						  sa->nsats ? GDOI_PL_SAT : GDOI_PL_NONE);
		build_sak(w, sa->sak);
		if ((rc = codec_end_payload(w, s)))
			return rc;
	}
	if (sa->gap) {
		size_t s = codec_begin_payload(w, sa->nsats ? GDOI_PL_SAT : GDOI_PL_NONE);
		codec_build_attrs(w, sa->gap);
		if ((rc = codec_end_payload(w, s)))
			return rc;
	}
	for (size_t i = 0; i < sa->nsats; i++) {
		size_t s = codec_begin_payload(w, i + 1 < sa->nsats ? GDOI_PL_SAT : GDOI_PL_NONE);
		if ((rc = codec_build_sat(w, &sa->sats[i])) || (rc = codec_end_payload(w, s)))
			return rc;
	}
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

int codec_parse_sa(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_payload *p)
{
	if (codec_is_ike_sa_exchange(c->exchange))
		return parse_sa_ike(c, r, &p->u.sa_ike);
	return parse_sa_gdoi(c, r, &p->u.sa);
}

int codec_build_sa(struct gdoi_writer *w, const struct gdoi_payload *p, uint8_t exchange)
{
	if (codec_is_ike_sa_exchange(exchange))
		return build_sa_ike(w, &p->u.sa_ike);
	return build_sa_gdoi(w, &p->u.sa);
}
