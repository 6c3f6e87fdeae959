/*
 * gike2_payload_gsa.c - the GSA payload body (RFC 9838 §4.4): GSA Policy
 * substructures (Protocol, SPI Size, Length, SPI, source and destination
 * Traffic Selectors, Transforms, GSA Attributes) and the Group-Wide Policy
 * substructure (Protocol 0, RESERVED, Length, GWP Attributes).
 */
#include "gike2_codec.h"

#include <stdio.h>
#include <string.h>

#define PL GIKE2_PL_GSA

/* Traffic Selector (RFC 7296 §3.13.1): Type, IP Protocol, Selector Length,
 * Start Port, End Port, Starting Address, Ending Address. */
static int parse_ts(struct codec_ctx *c, struct gdoi_reader *r, const char *what,
		    struct gike2_ts *ts)
{
	size_t at = gdoi_reader_offset(r);
	uint16_t len;
	struct gdoi_reader sub;
	gdoi_bytes a, b;

	if (!gdoi_read_u8(r, &ts->type) || !gdoi_read_u8(r, &ts->ip_proto) ||
	    !gdoi_read_u16(r, &len))
		return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, what);
	if (ts->type == GIKE2_TS_IPV4_ADDR_RANGE)
		ts->addr_len = 4;
	else if (ts->type == GIKE2_TS_IPV6_ADDR_RANGE)
		ts->addr_len = 16;
	else
		return codec_fail(c, GDOI_ERR_VALUE, PL, at, what);
	if (len != 8u + 2u * ts->addr_len)
		return codec_fail(c, GDOI_ERR_LENGTH, PL, at, what);
	if (!gdoi_read_sub(r, len - 4u, &sub))
		return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, what);
	if (!gdoi_read_u16(&sub, &ts->start_port) || !gdoi_read_u16(&sub, &ts->end_port) ||
	    !gdoi_read_bytes(&sub, ts->addr_len, &a) || !gdoi_read_bytes(&sub, ts->addr_len, &b))
		return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, what);
	memcpy(ts->start, a.ptr, a.len);
	memcpy(ts->end, b.ptr, b.len);
	if (ts->start_port > ts->end_port || memcmp(ts->start, ts->end, ts->addr_len) > 0)
		return codec_fail(c, GDOI_ERR_VALUE, PL, at, what);
	return 0;
}

static void build_ts(struct gdoi_writer *w, const struct gike2_ts *ts)
{
	gdoi_write_u8(w, ts->type);
	gdoi_write_u8(w, ts->ip_proto);
	gdoi_write_u16(w, (uint16_t)(8u + 2u * ts->addr_len));
	gdoi_write_u16(w, ts->start_port);
	gdoi_write_u16(w, ts->end_port);
	gdoi_write_bytes(w, ts->start, ts->addr_len);
	gdoi_write_bytes(w, ts->end, ts->addr_len);
}

/* Transforms run until a Last Substruc of 0; each is 3 until then (RFC 7296
 * §3.3.2). Attributes follow the last transform. */
static int parse_transforms(struct codec_ctx *c, struct gdoi_reader *r,
			    struct gike2_gsa_policy *p)
{
	size_t cap = gdoi_reader_left(r) / 8, n = 0;
	uint8_t last = 3;

	if (cap == 0)
		return codec_fail(c, GDOI_ERR_MISSING, PL, gdoi_reader_offset(r), "GSA transforms");
	p->xf = gdoi_arena_calloc(c->arena, cap, sizeof(*p->xf));
	if (!p->xf)
		return codec_fail(c, GDOI_ERR_NOMEM, PL, gdoi_reader_offset(r), "GSA transforms");
	while (last == 3) {
		size_t at = gdoi_reader_offset(r);
		uint8_t res1, res2;
		uint16_t len;
		struct gdoi_reader sub;
		struct gike2_transform *t = &p->xf[n];

		if (n == cap)
			return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, "GSA transform");
		if (!gdoi_read_u8(r, &last) || !gdoi_read_u8(r, &res1) || !gdoi_read_u16(r, &len))
			return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, "GSA transform");
		if (last != 0 && last != 3)
			return codec_fail(c, GDOI_ERR_VALUE, PL, at, "GSA transform Last Substruc");
		if (res1)
			return codec_fail(c, GDOI_ERR_RESERVED, PL, at + 1, "GSA transform RESERVED");
		if (len < 8)
			return codec_fail(c, GDOI_ERR_LENGTH, PL, at + 2, "GSA transform Length");
		if (!gdoi_read_sub(r, len - 4u, &sub))
			return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, "GSA transform");
		if (!gdoi_read_u8(&sub, &t->type) || !gdoi_read_u8(&sub, &res2) ||
		    !gdoi_read_u16(&sub, &t->id))
			return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at, "GSA transform");
		if (res2)
			return codec_fail(c, GDOI_ERR_RESERVED, PL, at + 5, "GSA transform RESERVED");
		if (t->type == 0)
			return codec_fail(c, GDOI_ERR_VALUE, PL, at + 4, "GSA transform Type");
		for (size_t i = 0; i < n; i++)
			if (p->xf[i].type == t->type)	/* a policy, not a proposal: one of each */
				return codec_fail(c, GDOI_ERR_VALUE, PL, at + 4,
						  "GSA transform Type repeated");
		int rc = codec_parse_attrs(c, &sub, PL, "GSA transform attribute", &t->attrs);
		if (rc)
			return rc;
		n++;
	}
	p->nxf = n;
	return 0;
}

static int parse_policy(struct codec_ctx *c, struct gdoi_reader *r, uint8_t proto,
			uint8_t spi_size, size_t at, struct gike2_gsa_policy *p)
{
	int rc;

	p->protocol = proto;
	uint8_t want = proto == GIKE2_PROTO_GIKE_UPDATE ? GIKE2_SPI_SIZE_REKEY : GIKE2_SPI_SIZE_IPSEC;
	if (spi_size != want)
		return codec_fail(c, GDOI_ERR_VALUE, PL, at + 1, "GSA policy SPI Size");
	if (!gdoi_read_bytes(r, spi_size, &p->spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, PL, at + 4, "GSA policy SPI");
	if ((rc = parse_ts(c, r, "GSA policy source TS", &p->src)) ||
	    (rc = parse_ts(c, r, "GSA policy destination TS", &p->dst)) ||
	    (rc = parse_transforms(c, r, p)))
		return rc;
	if ((rc = codec_parse_attrs(c, r, PL, "GSA attribute", &p->attrs)))
		return rc;
	for (size_t i = 0; i < p->attrs.n; i++) {
		const struct gdoi_attr *x = &p->attrs.v[i];
		/* the attribute's own offset: TV values are not kept, TLV values are */
		size_t ao = x->tv ? at : r->off0 + (size_t)(x->value.ptr - r->base) - 4;
		if (x->tv)	/* every GSA attribute is TLV */
			return codec_fail(c, GDOI_ERR_VALUE, PL, ao, "GSA attribute form");
		if ((x->type == GIKE2_GSA_KEY_LIFETIME || x->type == GIKE2_GSA_INITIAL_MESSAGE_ID) &&
		    x->value.len != 4)
			return codec_fail(c, GDOI_ERR_LENGTH, PL, ao, "GSA attribute length");
		if (x->type == GIKE2_GSA_NEXT_SPI && x->value.len != spi_size)
			return codec_fail(c, GDOI_ERR_LENGTH, PL, ao, "GSA_NEXT_SPI length");
		if (x->type != GIKE2_GSA_NEXT_SPI)
			for (size_t j = 0; j < i; j++)
				if (p->attrs.v[j].type == x->type)
					return codec_fail(c, GDOI_ERR_VALUE, PL, ao,
							  "GSA attribute repeated");
	}
	return 0;
}

static int parse_gwp(struct codec_ctx *c, struct gdoi_reader *r, size_t at,
		     struct gdoi_attr_list *out)
{
	int rc;

	if ((rc = codec_parse_attrs(c, r, PL, "GWP attribute", out)))
		return rc;
	for (size_t i = 0; i < out->n; i++) {
		if (!out->v[i].tv)	/* ATD, DTD, SENDER_ID_BITS: 16-bit TV */
			return codec_fail(c, GDOI_ERR_VALUE, PL, at, "GWP attribute form");
		for (size_t j = 0; j < i; j++)
			if (out->v[j].type == out->v[i].type)
				return codec_fail(c, GDOI_ERR_VALUE, PL, at, "GWP attribute repeated");
	}
	return 0;
}

int gike2_gsa_parse(struct gdoi_reader *r, struct gdoi_arena *a, struct gike2_gsa *out,
		    struct gdoi_parse_error *err)
{
	struct codec_ctx c = { a, err, 0 };
	void *arr = NULL;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(out, 0, sizeof(*out));
	int lrc = gike2_sub_list(&c, r, PL, "GSA policies", sizeof(*out->pol), &arr);
	if (lrc)
		return lrc;
	out->pol = arr;
	while (gdoi_reader_left(r)) {
		size_t at = gdoi_reader_offset(r);
		uint8_t proto, second;
		struct gdoi_reader sub;
		int rc = gike2_sub_read(&c, r, PL, "GSA substructure", &proto, &second, &sub);

		if (rc)
			return rc;
		if (proto == GIKE2_PROTO_NONE) {
			if (out->has_gwp)
				return codec_fail(&c, GDOI_ERR_VALUE, PL, at, "GWP repeated");
			if (second)
				return codec_fail(&c, GDOI_ERR_RESERVED, PL, at + 1, "GWP RESERVED");
			out->has_gwp = true;
			out->gwp_pos = out->npol;	/* rebuilt where it was */
			rc = parse_gwp(&c, &sub, at, &out->gwp);
		} else {
			if (proto != GIKE2_PROTO_GIKE_UPDATE && proto != GIKE2_PROTO_AH &&
			    proto != GIKE2_PROTO_ESP && proto != GIKE2_PROTO_SRTP)
				return codec_fail(&c, GDOI_ERR_VALUE, PL, at, "GSA policy Protocol");
			rc = parse_policy(&c, &sub, proto, second, at, &out->pol[out->npol]);
			if (rc == 0)
				out->npol++;
		}
		if (rc)
			return rc;
	}
	if (out->npol == 0)
		return codec_fail(&c, GDOI_ERR_MISSING, PL, gdoi_reader_offset(r), "GSA policy");
	return 0;
}

static void build_transforms(struct gdoi_writer *w, const struct gike2_gsa_policy *p)
{
	for (size_t i = 0; i < p->nxf; i++) {
		const struct gike2_transform *t = &p->xf[i];
		size_t at = w->len;
		gdoi_write_u8(w, i + 1 < p->nxf ? 3 : 0);
		gdoi_write_u8(w, 0);
		gdoi_write_u16(w, 0);
		gdoi_write_u8(w, t->type);
		gdoi_write_u8(w, 0);
		gdoi_write_u16(w, t->id);
		codec_build_attrs(w, &t->attrs);
		if (w->len - at > 0xffff)
			w->failed = true;
		else
			gdoi_patch_u16(w, at + 2, (uint16_t)(w->len - at));
	}
}

static int build_gwp(struct gdoi_writer *w, const struct gike2_gsa *g)
{
	size_t at = gike2_sub_begin(w, GIKE2_PROTO_NONE, 0);
	codec_build_attrs(w, &g->gwp);
	return gike2_sub_end(w, at);
}

int gike2_gsa_build(struct gdoi_writer *w, const struct gike2_gsa *g)
{
	int rc;

	if (g == NULL || g->npol == 0)
		return GDOI_ERR_INVALID_ARG;
	for (size_t i = 0; i < g->npol; i++) {
		const struct gike2_gsa_policy *p = &g->pol[i];
		if (p->protocol == GIKE2_PROTO_NONE || p->spi.len > 0xff || p->nxf == 0)
			return GDOI_ERR_INVALID_ARG;
		if (g->has_gwp && g->gwp_pos == i && (rc = build_gwp(w, g)))
			return rc;
		size_t at = gike2_sub_begin(w, p->protocol, (uint8_t)p->spi.len);
		gdoi_write_bytes(w, p->spi.ptr, p->spi.len);
		build_ts(w, &p->src);
		build_ts(w, &p->dst);
		build_transforms(w, p);
		codec_build_attrs(w, &p->attrs);
		if ((rc = gike2_sub_end(w, at)))
			return rc;
	}
	if (g->has_gwp && g->gwp_pos >= g->npol)
		return build_gwp(w, g);
	return w->failed ? GDOI_ERR_NOMEM : 0;
}

const struct gike2_transform *gike2_xf_find(const struct gike2_gsa_policy *p, uint8_t type)
{
	for (size_t i = 0; p && i < p->nxf; i++)
		if (p->xf[i].type == type)
			return &p->xf[i];
	return NULL;
}

int gike2_sub_read(struct codec_ctx *c, struct gdoi_reader *r, uint8_t pl, const char *what,
		   uint8_t *proto, uint8_t *second, struct gdoi_reader *sub)
{
	size_t at = gdoi_reader_offset(r);
	uint16_t len;
	char lw[64];

	snprintf(lw, sizeof(lw), "%s Length", what);
	if (!gdoi_read_u8(r, proto) || !gdoi_read_u8(r, second) || !gdoi_read_u16(r, &len))
		return codec_fail(c, GDOI_ERR_TRUNCATED, pl, at, what);
	if (len < 4)
		return codec_fail(c, GDOI_ERR_LENGTH, pl, at + 2, lw);
	if (!gdoi_read_sub(r, (size_t)len - 4, sub))
		return codec_fail(c, GDOI_ERR_TRUNCATED, pl, at + 2, lw);
	return 0;
}

size_t gike2_sub_begin(struct gdoi_writer *w, uint8_t proto, uint8_t second)
{
	size_t at = w->len;
	gdoi_write_u8(w, proto);
	gdoi_write_u8(w, second);
	gdoi_write_u16(w, 0);
	return at;
}

int gike2_sub_end(struct gdoi_writer *w, size_t at)
{
	if (w->failed)
		return GDOI_ERR_NOMEM;
	if (w->len - at > 0xffff)
		return GDOI_ERR_TOO_BIG;
	gdoi_patch_u16(w, at + 2, (uint16_t)(w->len - at));
	return 0;
}

int gike2_sub_list(struct codec_ctx *c, struct gdoi_reader *r, uint8_t pl, const char *what,
		   size_t elem, void **arr)
{
	size_t cap = gdoi_reader_left(r) / 4;

	if (c->err)
		memset(c->err, 0, sizeof(*c->err));
	if (cap == 0)
		return codec_fail(c, GDOI_ERR_MISSING, pl, gdoi_reader_offset(r), what);
	if ((*arr = gdoi_arena_calloc(c->arena, cap, elem)) == NULL)
		return codec_fail(c, GDOI_ERR_NOMEM, pl, gdoi_reader_offset(r), what);
	return 0;
}
