/*
 * wire.c - ISAKMP header, generic payload chain, data attributes and the
 * message-level parse/build driver. Payload bodies live in payload_*.c.
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CBC_PADDING 255

bool codec_is_ike_sa_exchange(uint8_t exchange)
{
	return exchange != GDOI_EXCH_PULL && exchange != GDOI_EXCH_PUSH;
}

void gdoi_parse_error_format(const struct gdoi_parse_error *e, char *buf, size_t len)
{
	if (e->payload)
		snprintf(buf, len, "payload %s (%u) at offset %zu: %s: %s",
			 gdoi_payload_name(e->payload), e->payload, e->offset, e->what,
			 gdoi_strerror(e->code));
	else
		snprintf(buf, len, "header at offset %zu: %s: %s", e->offset, e->what,
			 gdoi_strerror(e->code));
}

/* ---- attributes ---------------------------------------------------------- */

int codec_parse_attrs(struct codec_ctx *c, struct gdoi_reader *r, uint8_t payload,
		      const char *what, struct gdoi_attr_list *out)
{
	/* Every attribute takes at least 4 octets: that bounds the array. */
	size_t cap = gdoi_reader_left(r) / 4;
	out->n = 0;
	out->v = NULL;
	if (cap == 0) {
		if (gdoi_reader_left(r))
			return codec_fail(c, GDOI_ERR_TRUNCATED, payload,
					  gdoi_reader_offset(r), what);
		return 0;
	}
	out->v = gdoi_arena_calloc(c->arena, cap, sizeof(*out->v));
	if (!out->v)
		return codec_fail(c, GDOI_ERR_NOMEM, payload, gdoi_reader_offset(r), what);
	while (gdoi_reader_left(r)) {
		size_t at = gdoi_reader_offset(r);
		uint16_t type, lv;
		if (!gdoi_read_u16(r, &type) || !gdoi_read_u16(r, &lv))
			return codec_fail(c, GDOI_ERR_TRUNCATED, payload, at, what);
		struct gdoi_attr *a = &out->v[out->n++];
		a->type = type & 0x7fff;
		if (type & 0x8000) {
			a->tv = true;
			a->basic = lv;
			continue;
		}
		if (lv == 0)
			return codec_fail(c, GDOI_ERR_ATTR_EMPTY, payload, at, what);
		if (!gdoi_read_bytes(r, lv, &a->value))
			return codec_fail(c, GDOI_ERR_TRUNCATED, payload, at, what);
	}
	return 0;
}

void codec_build_attrs(struct gdoi_writer *w, const struct gdoi_attr_list *l)
{
	for (size_t i = 0; l && i < l->n; i++) {
		const struct gdoi_attr *a = &l->v[i];
		if (a->tv) {
			gdoi_write_u16(w, (uint16_t)(a->type | 0x8000));
			gdoi_write_u16(w, a->basic);
			continue;
		}
		if (a->value.len == 0 || a->value.len > 0xffff) {
			w->failed = true;	/* an empty or oversized TLV cannot be sent */
			return;
		}
		gdoi_write_u16(w, a->type & 0x7fff);
		gdoi_write_u16(w, (uint16_t)a->value.len);
		gdoi_write_bytes(w, a->value.ptr, a->value.len);
	}
}

const struct gdoi_attr *gdoi_attr_find(const struct gdoi_attr_list *l, uint16_t type)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].type == type)
			return &l->v[i];
	return NULL;
}

bool gdoi_attr_u32(const struct gdoi_attr *a, uint32_t *v)
{
	if (!a)
		return false;
	if (a->tv) {
		*v = a->basic;
		return true;
	}
	if (a->value.len == 0 || a->value.len > 4)
		return false;
	uint32_t x = 0;
	for (size_t i = 0; i < a->value.len; i++)
		x = x << 8 | a->value.ptr[i];
	*v = x;
	return true;
}

struct gdoi_attr gdoi_attr_basic(uint16_t type, uint16_t v)
{
	struct gdoi_attr a = { .type = type, .tv = true, .basic = v };
	return a;
}

struct gdoi_attr gdoi_attr_var(uint16_t type, const void *p, size_t len)
{
	struct gdoi_attr a = { .type = type, .value = GDOI_BYTES(p, len) };
	return a;
}

/* ---- selectors and IDs --------------------------------------------------- */

int codec_check_id_data(struct codec_ctx *c, uint8_t payload, size_t offset, uint8_t type,
			size_t len)
{
	size_t want;
	switch (type) {
	case GDOI_ID_IPV4_ADDR: want = 4; break;
	case GDOI_ID_IPV4_ADDR_SUBNET: case GDOI_ID_IPV4_ADDR_RANGE: want = 8; break;
	case GDOI_ID_IPV6_ADDR: want = 16; break;
	case GDOI_ID_IPV6_ADDR_SUBNET: case GDOI_ID_IPV6_ADDR_RANGE: want = 32; break;
	default:
		if (len == 0)
			return codec_fail(c, GDOI_ERR_LENGTH, payload, offset, "empty ID data");
		return 0;
	}
	if (len != want)
		return codec_fail(c, GDOI_ERR_LENGTH, payload, offset,
				  "ID data length does not match its type");
	return 0;
}

int codec_parse_selector(struct codec_ctx *c, struct gdoi_reader *r, uint8_t payload,
			 const char *what, struct gdoi_id *out)
{
	size_t at = gdoi_reader_offset(r);
	uint8_t dlen;
	memset(out, 0, sizeof(*out));
	if (!gdoi_read_u8(r, &out->type) || !gdoi_read_u16(r, &out->port) ||
	    !gdoi_read_u8(r, &dlen) || !gdoi_read_bytes(r, dlen, &out->data))
		return codec_fail(c, GDOI_ERR_TRUNCATED, payload, at, what);
	return codec_check_id_data(c, payload, at, out->type, dlen);
}

void codec_build_selector(struct gdoi_writer *w, const struct gdoi_id *id)
{
	if (id->data.len > 0xff) {
		w->failed = true;
		return;
	}
	gdoi_write_u8(w, id->type);
	gdoi_write_u16(w, id->port);
	gdoi_write_u8(w, (uint8_t)id->data.len);
	gdoi_write_bytes(w, id->data.ptr, id->data.len);
}

/* ---- header ---------------------------------------------------------------- */

int gdoi_hdr_parse(const uint8_t *buf, size_t len, struct gdoi_hdr *hdr,
		   struct gdoi_parse_error *err)
{
	struct codec_ctx c = { .err = err };
	if (err)
		memset(err, 0, sizeof(*err));
	if (len < GDOI_HDR_LEN)
		return codec_fail(&c, GDOI_ERR_TRUNCATED, 0, 0, "ISAKMP header");
	memcpy(hdr->icookie, buf, 8);
	memcpy(hdr->rcookie, buf + 8, 8);
	hdr->next = buf[16];
	hdr->version = buf[17];
	hdr->exchange = buf[18];
	hdr->flags = buf[19];
	hdr->msgid = gdoi_get_u32(buf + 20);
	hdr->length = gdoi_get_u32(buf + 24);
	if (hdr->version >> 4 != 1)
		return codec_fail(&c, GDOI_ERR_VERSION, 0, 17, "ISAKMP major version");
	if (hdr->flags & ~(GDOI_FLAG_ENC | GDOI_FLAG_COMMIT | GDOI_FLAG_AUTH_ONLY))
		return codec_fail(&c, GDOI_ERR_RESERVED, 0, 19, "ISAKMP flags");
	if (hdr->length < GDOI_HDR_LEN)
		return codec_fail(&c, GDOI_ERR_LENGTH, 0, 24, "ISAKMP Length below 28");
	if (hdr->length > len)
		return codec_fail(&c, GDOI_ERR_TRUNCATED, 0, 24, "ISAKMP Length beyond datagram");
	if (hdr->length < len)
		return codec_fail(&c, GDOI_ERR_TRAILING, 0, 24, "octets after ISAKMP Length");
	return 0;
}

/* ---- message --------------------------------------------------------------- */

static bool top_level_type(uint8_t t)
{
	switch (t) {
	case GDOI_PL_SA: case GDOI_PL_KE: case GDOI_PL_ID: case GDOI_PL_CERT:
	case GDOI_PL_CR: case GDOI_PL_HASH: case GDOI_PL_SIG: case GDOI_PL_NONCE:
	case GDOI_PL_NOTIFY: case GDOI_PL_DELETE: case GDOI_PL_VID: case GDOI_PL_KD:
	case GDOI_PL_SEQ: case GDOI_PL_GAP: case GDOI_PL_NAT_D: case GDOI_PL_NAT_OA:
		return true;
	}
	return false;
}

static int parse_body(struct codec_ctx *c, struct gdoi_reader *body, struct gdoi_payload *p)
{
	switch (p->type) {
	case GDOI_PL_SA:
		return codec_parse_sa(c, body, p);
	case GDOI_PL_KD:
		return codec_parse_kd(c, body, &p->u.kd);
	default:
		return codec_parse_simple(c, body, p);
	}
}

static int msg_parse(const uint8_t *buf, size_t len, bool decrypted, struct gdoi_msg **out,
		     struct gdoi_parse_error *err)
{
	struct gdoi_parse_error local;
	if (!err)
		err = &local;
	*out = NULL;
	struct gdoi_hdr hdr;
	int rc = gdoi_hdr_parse(buf, len, &hdr, err);
	if (rc)
		return rc;

	struct gdoi_msg *m = calloc(1, sizeof(*m));
	struct gdoi_arena *arena = gdoi_arena_new();
	struct codec_ctx c = { .arena = arena, .err = err, .exchange = hdr.exchange };
	if (!m || !arena) {
		free(m);
		gdoi_arena_free(arena);
		return codec_fail(&c, GDOI_ERR_NOMEM, 0, 0, "message");
	}
	m->hdr = hdr;
	m->arena = arena;
	/* Each payload takes at least its 4-octet generic header. */
	size_t cap = (len - GDOI_HDR_LEN) / GDOI_GENERIC_HDR_LEN;
	if (cap) {
		m->pl = gdoi_arena_calloc(arena, cap, sizeof(*m->pl));
		if (!m->pl) {
			rc = codec_fail(&c, GDOI_ERR_NOMEM, 0, 0, "payload array");
			goto fail;
		}
	}

	struct gdoi_reader r = gdoi_reader_init(buf + GDOI_HDR_LEN, len - GDOI_HDR_LEN, GDOI_HDR_LEN);
	uint8_t next = hdr.next;
	while (next != GDOI_PL_NONE) {
		size_t at = gdoi_reader_offset(&r);
		uint8_t np, reserved;
		uint16_t plen;
		if (!top_level_type(next)) {
			rc = codec_fail(&c, GDOI_ERR_PAYLOAD_TYPE, next, at,
					"unknown or misplaced payload type");
			goto fail;
		}
		if (!gdoi_read_u8(&r, &np) || !gdoi_read_u8(&r, &reserved) ||
		    !gdoi_read_u16(&r, &plen)) {
			rc = codec_fail(&c, GDOI_ERR_TRUNCATED, next, at, "generic payload header");
			goto fail;
		}
		if (reserved) {
			rc = codec_fail(&c, GDOI_ERR_RESERVED, next, at + 1, "generic header RESERVED");
			goto fail;
		}
		if (plen < GDOI_GENERIC_HDR_LEN) {
			rc = codec_fail(&c, GDOI_ERR_LENGTH, next, at + 2, "Payload Length below 4");
			goto fail;
		}
		struct gdoi_reader body;
		if (!gdoi_read_sub(&r, plen - GDOI_GENERIC_HDR_LEN, &body)) {
			rc = codec_fail(&c, GDOI_ERR_TRUNCATED, next, at + 2,
					"Payload Length runs past the message");
			goto fail;
		}
		struct gdoi_payload *p = &m->pl[m->npl++];
		p->type = next;
		p->offset = at;
		p->raw = GDOI_BYTES(buf + at, plen);
		rc = parse_body(&c, &body, p);
		if (rc)
			goto fail;
		if (gdoi_reader_left(&body)) {
			rc = codec_fail(&c, GDOI_ERR_TRAILING, next, gdoi_reader_offset(&body),
					"octets after the payload's fields");
			goto fail;
		}
		next = np;
	}
	m->chain_end = gdoi_reader_offset(&r);
	size_t pad = gdoi_reader_left(&r);
	bool padded = decrypted || (hdr.flags & GDOI_FLAG_ENC);
	if (pad && (!padded || pad > MAX_CBC_PADDING)) {
		rc = codec_fail(&c, GDOI_ERR_TRAILING, 0, m->chain_end,
				"octets after the last payload");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	gdoi_msg_free(m);
	return rc;
}

int gdoi_msg_parse(const uint8_t *buf, size_t len, struct gdoi_msg **out,
		   struct gdoi_parse_error *err)
{
	return msg_parse(buf, len, false, out, err);
}

int gdoi_msg_parse_decrypted(const uint8_t *buf, size_t len, struct gdoi_msg **out,
			     struct gdoi_parse_error *err)
{
	return msg_parse(buf, len, true, out, err);
}

void gdoi_msg_free(struct gdoi_msg *m)
{
	if (!m)
		return;
	gdoi_arena_free(m->arena);
	free(m);
}

const struct gdoi_payload *gdoi_msg_find(const struct gdoi_msg *m, uint8_t type, size_t *from)
{
	size_t i = from ? *from : 0;
	for (; i < m->npl; i++) {
		if (m->pl[i].type == type) {
			if (from)
				*from = i + 1;
			return &m->pl[i];
		}
	}
	if (from)
		*from = m->npl;
	return NULL;
}

/* ---- building -------------------------------------------------------------- */

size_t codec_begin_payload(struct gdoi_writer *w, uint8_t next)
{
	size_t start = w->len;
	gdoi_write_u8(w, next);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, 0);
	return start;
}

int codec_end_payload(struct gdoi_writer *w, size_t start)
{
	if (w->failed)
		return GDOI_ERR_NOMEM;
	size_t len = w->len - start;
	if (len > 0xffff) {
		w->failed = true;
		return GDOI_ERR_TOO_BIG;
	}
	gdoi_patch_u16(w, start + 2, (uint16_t)len);
	return 0;
}

int gdoi_payload_build(struct gdoi_writer *w, const struct gdoi_payload *p, uint8_t next,
		       uint8_t exchange)
{
	size_t start = codec_begin_payload(w, next);
	int rc;
	switch (p->type) {
	case GDOI_PL_SA:
		rc = codec_build_sa(w, p, exchange);
		break;
	case GDOI_PL_KD:
		rc = codec_build_kd(w, &p->u.kd);
		break;
	default:
		rc = codec_build_simple(w, p);
		break;
	}
	if (rc)
		return rc;
	return codec_end_payload(w, start);
}

int gdoi_msg_build(struct gdoi_writer *w, const struct gdoi_hdr *hdr,
		   const struct gdoi_payload *pl, size_t n, size_t *offsets)
{
	size_t start = w->len;
	gdoi_write_bytes(w, hdr->icookie, 8);
	gdoi_write_bytes(w, hdr->rcookie, 8);
	gdoi_write_u8(w, n ? pl[0].type : GDOI_PL_NONE);
	gdoi_write_u8(w, hdr->version ? hdr->version : GDOI_ISAKMP_VERSION);
	gdoi_write_u8(w, hdr->exchange);
	gdoi_write_u8(w, hdr->flags);
	gdoi_write_u32(w, hdr->msgid);
	size_t len_at = gdoi_write_reserve(w, 4);
	for (size_t i = 0; i < n; i++) {
		if (offsets)
			offsets[i] = w->len - start;
		int rc = gdoi_payload_build(w, &pl[i], i + 1 < n ? pl[i + 1].type : GDOI_PL_NONE,
					    hdr->exchange);
		if (rc)
			return rc;
	}
	if (offsets)
		offsets[n] = w->len - start;
	if (w->failed)
		return GDOI_ERR_NOMEM;
	gdoi_patch_u32(w, len_at, (uint32_t)(w->len - start));
	return 0;
}
