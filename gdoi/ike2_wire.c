/*
 * ike2_wire.c - IKEv2 header, generic payload chain and payload bodies
 * (RFC 7296 §3; SKF RFC 7383 §2.5). See ike2_wire.h.
 */
#include "ike2_wire.h"

#include <stdio.h>
#include <string.h>

#include "ike2_numbers.h"

static int perr(struct gdoi_parse_error *e, int code, uint8_t payload, size_t off,
		const char *what)
{
	if (e) {
		e->code = code;
		e->payload = payload;
		e->offset = off;
		snprintf(e->what, sizeof(e->what), "%s", what);
	}
	return code;
}

/* --- header ---------------------------------------------------------------- */

int gdoi_ike2_hdr_parse(const uint8_t *msg, size_t len, struct gdoi_ike2_hdr *h,
			struct gdoi_parse_error *e)
{
	if (msg == NULL || len < GDOI_IKE2_HDR_LEN)
		return perr(e, GDOI_ERR_TRUNCATED, 0, 0, "IKE header");
	memcpy(h->spi_i, msg, 8);
	memcpy(h->spi_r, msg + 8, 8);
	h->next = msg[16];
	h->version = msg[17];
	h->exchange = msg[18];
	h->flags = msg[19];
	h->msgid = gdoi_get_u32(msg + 20);
	h->length = gdoi_get_u32(msg + 24);
	if ((h->version >> 4) != 2)
		return perr(e, GDOI_ERR_VERSION, 0, 17, "IKE header major version");
	if (h->length != len)
		return perr(e, h->length > len ? GDOI_ERR_TRUNCATED : GDOI_ERR_TRAILING, 0, 24,
			    "IKE header length");
	return GDOI_OK;
}

void gdoi_ike2_hdr_write(struct gdoi_writer *w, const struct gdoi_ike2_hdr *h)
{
	gdoi_write_bytes(w, h->spi_i, 8);
	gdoi_write_bytes(w, h->spi_r, 8);
	gdoi_write_u8(w, h->next);
	gdoi_write_u8(w, h->version ? h->version : GDOI_IKE2_VERSION);
	gdoi_write_u8(w, h->exchange);
	gdoi_write_u8(w, h->flags);
	gdoi_write_u32(w, h->msgid);
	gdoi_write_u32(w, h->length);
}

void gdoi_ike2_hdr_set_len(uint8_t *msg, size_t len) { gdoi_put_u32(msg + 24, (uint32_t)len); }

/* --- payload chain ------------------------------------------------------------ */

bool gdoi_ike2_payload_known(uint8_t type, const uint8_t *extra, size_t nextra)
{
	if ((type >= GDOI_IKE2_PL_SA && type <= GDOI_IKE2_PL_EAP) || type == GDOI_IKE2_PL_SKF)
		return true;
	for (size_t i = 0; i < nextra; i++)
		if (extra[i] == type)
			return true;
	return false;
}

int gdoi_ike2_chain_parse(const uint8_t *buf, size_t len, size_t off0, uint8_t first,
			  bool allow_sk, const uint8_t *extra, size_t nextra,
			  struct gdoi_ike2_chain *c, struct gdoi_parse_error *e)
{
	struct gdoi_reader r = gdoi_reader_init(buf, len, off0);
	uint8_t type = first;

	memset(c, 0, sizeof(*c));
	while (type != GDOI_IKE2_PL_NONE) {
		size_t at = gdoi_reader_offset(&r);
		uint8_t next, flags;
		uint16_t plen;
		gdoi_bytes body;

		if (!gdoi_read_u8(&r, &next) || !gdoi_read_u8(&r, &flags) || !gdoi_read_u16(&r, &plen))
			return perr(e, GDOI_ERR_TRUNCATED, type, at, "generic payload header");
		if (plen < GDOI_IKE2_GENERIC_HDR_LEN)
			return perr(e, GDOI_ERR_LENGTH, type, at + 2, "payload length");
		if (!gdoi_read_bytes(&r, plen - GDOI_IKE2_GENERIC_HDR_LEN, &body))
			return perr(e, GDOI_ERR_TRUNCATED, type, at + 2, "payload length");
		if (type == GDOI_IKE2_PL_SK || type == GDOI_IKE2_PL_SKF) {
			if (!allow_sk)
				return perr(e, GDOI_ERR_PAYLOAD_TYPE, type, at, "SK inside SK");
			/* §3.14: Encrypted MUST be the last payload. */
			if (gdoi_reader_left(&r) != 0)
				return perr(e, GDOI_ERR_TRAILING, type, at + 2, "data after SK");
			c->sk_type = type;
			c->sk_first = next;
			c->sk_off = at;
			c->sk_body = body;
			return GDOI_OK;
		}
		if (!gdoi_ike2_payload_known(type, extra, nextra)) {
			if (flags & GDOI_IKE2_CRITICAL) {
				c->unsupported_critical = type;
				return perr(e, GDOI_ERR_PAYLOAD_TYPE, type, at,
					    "unknown critical payload");
			}
		} else {
			if (c->n == GDOI_IKE2_CHAIN_MAX)
				return perr(e, GDOI_ERR_TOO_BIG, type, at, "too many payloads");
			c->p[c->n].type = type;
			c->p[c->n].critical = (flags & GDOI_IKE2_CRITICAL) != 0;
			c->p[c->n].body = body;
			c->off[c->n] = at;
			c->n++;
		}
		type = next;
	}
	if (gdoi_reader_left(&r) != 0)
		return perr(e, GDOI_ERR_TRAILING, 0, gdoi_reader_offset(&r), "data after last payload");
	return GDOI_OK;
}

const struct gdoi_ike2_payload *gdoi_ike2_chain_find(const struct gdoi_ike2_chain *c,
						     uint8_t type, size_t nth)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].type == type && nth-- == 0)
			return &c->p[i];
	return NULL;
}

void gdoi_ike2_builder_init(struct gdoi_ike2_builder *b, struct gdoi_writer *w)
{
	b->w = w;
	b->next_at = SIZE_MAX;
	b->first = GDOI_IKE2_PL_NONE;
}

size_t gdoi_ike2_begin(struct gdoi_ike2_builder *b, uint8_t type, bool critical)
{
	size_t start = b->w->len;

	if (b->next_at == SIZE_MAX)
		b->first = type;
	else if (!b->w->failed)
		b->w->buf[b->next_at] = type;
	b->next_at = start;
	gdoi_write_u8(b->w, GDOI_IKE2_PL_NONE);
	gdoi_write_u8(b->w, critical ? GDOI_IKE2_CRITICAL : 0);
	gdoi_write_u16(b->w, 0);
	return start;
}

void gdoi_ike2_end(struct gdoi_ike2_builder *b, size_t start)
{
	size_t len = b->w->len - start;

	if (len > UINT16_MAX)
		b->w->failed = true;
	else
		gdoi_patch_u16(b->w, start + 2, (uint16_t)len);
}

void gdoi_ike2_put(struct gdoi_ike2_builder *b, uint8_t type, bool critical,
		   const void *body, size_t len)
{
	size_t at = gdoi_ike2_begin(b, type, critical);
	gdoi_write_bytes(b->w, body, len);
	gdoi_ike2_end(b, at);
}

/* --- SA ------------------------------------------------------------------------- */

static int parse_attrs(struct gdoi_reader *r, struct gdoi_ike2_transform *t)
{
	while (gdoi_reader_left(r) > 0) {
		uint16_t type, val;
		if (!gdoi_read_u16(r, &type) || !gdoi_read_u16(r, &val))
			return GDOI_ERR_TRUNCATED;
		if (!(type & GDOI_IKE2_ATTR_AF)) {	/* TLV: skip the value, unknown to us */
			gdoi_bytes skip;
			if (!gdoi_read_bytes(r, val, &skip))
				return GDOI_ERR_TRUNCATED;
			t->unknown_attr = true;
			continue;
		}
		if ((type & 0x7fff) == GDOI_IKE2_ATTR_KEY_LENGTH && t->key_bits == 0 && val != 0)
			t->key_bits = val;
		else
			t->unknown_attr = true;
	}
	return GDOI_OK;
}

int gdoi_ike2_sa_parse(const struct gdoi_ike2_payload *p, size_t off,
		       struct gdoi_ike2_sa_payload *sa, struct gdoi_parse_error *e)
{
	struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, off + 4);
	uint8_t last = GDOI_IKE2_PROPOSAL_MORE;

	memset(sa, 0, sizeof(*sa));
	while (last == GDOI_IKE2_PROPOSAL_MORE) {
		size_t at = gdoi_reader_offset(&r);
		struct gdoi_reader pr;
		uint8_t rsv, num, proto, spisz, ntr, tlast = GDOI_IKE2_TRANSFORM_MORE;
		uint16_t plen;
		struct gdoi_ike2_proposal *pp;

		if (!gdoi_read_u8(&r, &last) || !gdoi_read_u8(&r, &rsv) || !gdoi_read_u16(&r, &plen))
			return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_SA, at, "SA proposal header");
		if (last != GDOI_IKE2_PROPOSAL_MORE && last != GDOI_IKE2_PROPOSAL_LAST)
			return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SA, at, "SA proposal last");
		if (plen < 8 || !gdoi_read_sub(&r, plen - 4, &pr))
			return perr(e, plen < 8 ? GDOI_ERR_LENGTH : GDOI_ERR_TRUNCATED,
				    GDOI_IKE2_PL_SA, at + 2, "SA proposal length");
		if (sa->nprop == GDOI_IKE2_MAX_PROPOSALS)
			return perr(e, GDOI_ERR_TOO_BIG, GDOI_IKE2_PL_SA, at, "SA proposals");
		pp = &sa->prop[sa->nprop];
		if (!gdoi_read_u8(&pr, &num) || !gdoi_read_u8(&pr, &proto) ||
		    !gdoi_read_u8(&pr, &spisz) || !gdoi_read_u8(&pr, &ntr) ||
		    !gdoi_read_bytes(&pr, spisz, &pp->spi))
			return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_SA, at + 4, "SA proposal SPI");
		/* §3.3.1: each proposal's number is the previous one's or one more
		 * (an offer starts at 1; an answer repeats the number it accepted). */
		if (num == 0 || (sa->nprop && num != sa->prop[sa->nprop - 1].num &&
				 num != sa->prop[sa->nprop - 1].num + 1u))
			return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SA, at + 4, "SA proposal number");
		pp->num = num;
		pp->proto = proto;
		for (uint8_t i = 0; i < ntr; i++) {
			size_t tat = gdoi_reader_offset(&pr);
			struct gdoi_reader tr;
			uint8_t trsv, ttype, trsv2;
			uint16_t tlen, tid;
			struct gdoi_ike2_transform *t;
			int rc;

			if (tlast != GDOI_IKE2_TRANSFORM_MORE)
				return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SA, tat, "SA transform count");
			if (!gdoi_read_u8(&pr, &tlast) || !gdoi_read_u8(&pr, &trsv) ||
			    !gdoi_read_u16(&pr, &tlen))
				return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_SA, tat, "SA transform header");
			if (tlast != GDOI_IKE2_TRANSFORM_MORE && tlast != GDOI_IKE2_TRANSFORM_LAST)
				return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SA, tat, "SA transform last");
			if (tlen < 8 || !gdoi_read_sub(&pr, tlen - 4, &tr))
				return perr(e, tlen < 8 ? GDOI_ERR_LENGTH : GDOI_ERR_TRUNCATED,
					    GDOI_IKE2_PL_SA, tat + 2, "SA transform length");
			if (!gdoi_read_u8(&tr, &ttype) || !gdoi_read_u8(&tr, &trsv2) ||
			    !gdoi_read_u16(&tr, &tid))
				return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_SA, tat + 4, "SA transform");
			if (pp->ntrans == GDOI_IKE2_MAX_TRANSFORMS)
				return perr(e, GDOI_ERR_TOO_BIG, GDOI_IKE2_PL_SA, tat, "SA transforms");
			t = &pp->t[pp->ntrans++];
			t->type = ttype;
			t->id = tid;
			if ((rc = parse_attrs(&tr, t)) != GDOI_OK)
				return perr(e, rc, GDOI_IKE2_PL_SA, tat + 8, "SA transform attribute");
		}
		if (tlast != GDOI_IKE2_TRANSFORM_LAST)
			return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SA, at, "SA transform count");
		if (gdoi_reader_left(&pr) != 0)
			return perr(e, GDOI_ERR_TRAILING, GDOI_IKE2_PL_SA, gdoi_reader_offset(&pr),
				    "SA proposal trailing data");
		sa->nprop++;
	}
	if (gdoi_reader_left(&r) != 0)
		return perr(e, GDOI_ERR_TRAILING, GDOI_IKE2_PL_SA, gdoi_reader_offset(&r),
			    "SA trailing data");
	return GDOI_OK;
}

static void put_transform(struct gdoi_writer *w, bool last, uint8_t type, uint16_t id,
			  uint16_t key_bits)
{
	gdoi_write_u8(w, last ? GDOI_IKE2_TRANSFORM_LAST : GDOI_IKE2_TRANSFORM_MORE);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, key_bits ? 12 : 8);
	gdoi_write_u8(w, type);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, id);
	if (key_bits) {
		gdoi_write_u16(w, GDOI_IKE2_ATTR_AF | GDOI_IKE2_ATTR_KEY_LENGTH);
		gdoi_write_u16(w, key_bits);
	}
}

void gdoi_ike2_sa_write(struct gdoi_writer *w, const struct gdoi_ike2_suite *s, size_t n,
			uint8_t first_num, gdoi_bytes spi)
{
	for (size_t i = 0; i < n; i++) {
		size_t at = w->len;
		uint8_t ntr = s[i].integ ? 4 : 3;

		gdoi_write_u8(w, i + 1 < n ? GDOI_IKE2_PROPOSAL_MORE : GDOI_IKE2_PROPOSAL_LAST);
		gdoi_write_u8(w, 0);
		gdoi_write_u16(w, 0);
		gdoi_write_u8(w, (uint8_t)(first_num + i));
		gdoi_write_u8(w, GDOI_IKE2_PROTO_IKE);
		gdoi_write_u8(w, (uint8_t)spi.len);
		gdoi_write_u8(w, ntr);
		gdoi_write_bytes(w, spi.ptr, spi.len);
		put_transform(w, false, GDOI_IKE2_TT_ENCR, s[i].encr, s[i].key_bits);
		put_transform(w, false, GDOI_IKE2_TT_PRF, s[i].prf, 0);
		if (s[i].integ)
			put_transform(w, false, GDOI_IKE2_TT_INTEG, s[i].integ, 0);
		put_transform(w, true, GDOI_IKE2_TT_DH, s[i].group, 0);
		gdoi_patch_u16(w, at + 2, (uint16_t)(w->len - at));
	}
}

/* --- simple payloads ----------------------------------------------------------- */

int gdoi_ike2_ke_parse(const struct gdoi_ike2_payload *p, size_t off, struct gdoi_ike2_ke *ke,
		       struct gdoi_parse_error *e)
{
	if (p->body.len < 4 + 1)
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_KE, off, "KE body");
	ke->group = gdoi_get_u16(p->body.ptr);
	ke->data = GDOI_BYTES(p->body.ptr + 4, p->body.len - 4);
	return GDOI_OK;
}

int gdoi_ike2_nonce_parse(const struct gdoi_ike2_payload *p, size_t off, gdoi_bytes *nonce,
			  struct gdoi_parse_error *e)
{
	if (p->body.len < GDOI_IKE2_NONCE_MIN || p->body.len > GDOI_IKE2_NONCE_MAX)
		return perr(e, GDOI_ERR_LENGTH, GDOI_IKE2_PL_NONCE, off, "Nonce length (16..256)");
	*nonce = p->body;
	return GDOI_OK;
}

int gdoi_ike2_id_parse(const struct gdoi_ike2_payload *p, size_t off, struct gdoi_ike2_id *id,
		       struct gdoi_parse_error *e)
{
	if (p->body.len < 4 + 1)
		return perr(e, GDOI_ERR_TRUNCATED, p->type, off, "ID body");
	id->type = p->body.ptr[0];
	id->data = GDOI_BYTES(p->body.ptr + 4, p->body.len - 4);
	if ((id->type == GDOI_IKE2_ID_IPV4_ADDR && id->data.len != 4) ||
	    (id->type == GDOI_IKE2_ID_IPV6_ADDR && id->data.len != 16))
		return perr(e, GDOI_ERR_LENGTH, p->type, off + 8, "ID address length");
	return GDOI_OK;
}

int gdoi_ike2_auth_parse(const struct gdoi_ike2_payload *p, size_t off,
			 struct gdoi_ike2_auth *a, struct gdoi_parse_error *e)
{
	if (p->body.len < 4 + 1)
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_AUTH, off, "AUTH body");
	a->method = p->body.ptr[0];
	a->data = GDOI_BYTES(p->body.ptr + 4, p->body.len - 4);
	return GDOI_OK;
}

int gdoi_ike2_notify_parse(const struct gdoi_ike2_payload *p, size_t off,
			   struct gdoi_ike2_notify *n, struct gdoi_parse_error *e)
{
	struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, off + 4);
	uint8_t spisz;

	if (!gdoi_read_u8(&r, &n->proto) || !gdoi_read_u8(&r, &spisz) ||
	    !gdoi_read_u16(&r, &n->type) || !gdoi_read_bytes(&r, spisz, &n->spi))
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_NOTIFY, off, "Notify body");
	gdoi_read_bytes(&r, gdoi_reader_left(&r), &n->data);
	return GDOI_OK;
}

int gdoi_ike2_delete_parse(const struct gdoi_ike2_payload *p, size_t off,
			   struct gdoi_ike2_delete *d, struct gdoi_parse_error *e)
{
	struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, off + 4);

	if (!gdoi_read_u8(&r, &d->proto) || !gdoi_read_u8(&r, &d->spi_size) ||
	    !gdoi_read_u16(&r, &d->nspi))
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_DELETE, off, "Delete body");
	if ((size_t)d->spi_size * d->nspi != gdoi_reader_left(&r))
		return perr(e, GDOI_ERR_LENGTH, GDOI_IKE2_PL_DELETE, off + 6, "Delete SPI count");
	if (d->proto == GDOI_IKE2_PROTO_IKE && (d->spi_size != 0 || d->nspi != 0))
		return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_DELETE, off + 5, "Delete IKE SPI size");
	gdoi_read_bytes(&r, gdoi_reader_left(&r), &d->spis);
	return GDOI_OK;
}

int gdoi_ike2_cert_parse(const struct gdoi_ike2_payload *p, size_t off,
			 struct gdoi_ike2_cert *c, struct gdoi_parse_error *e)
{
	if (p->body.len < 1)
		return perr(e, GDOI_ERR_TRUNCATED, p->type, off, "CERT body");
	c->encoding = p->body.ptr[0];
	c->data = GDOI_BYTES(p->body.ptr + 1, p->body.len - 1);
	return GDOI_OK;
}

static bool x509_encoding(uint8_t enc)
{
	return enc == GDOI_IKE2_CERT_X509_SIG || enc == GDOI_IKE2_CERT_HASH_URL_X509 ||
	       enc == GDOI_IKE2_CERT_HASH_URL_BUNDLE;
}

int gdoi_ike2_certreq_parse(const struct gdoi_ike2_payload *p, size_t off,
			    struct gdoi_ike2_certreq *cr, struct gdoi_parse_error *e)
{
	if (p->body.len < 1)
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_CERTREQ, off, "CERTREQ Cert Encoding");
	cr->encoding = p->body.ptr[0];
	cr->cas = GDOI_BYTES(p->body.ptr + 1, p->body.len - 1);
	cr->ncas = 0;
	if (!x509_encoding(cr->encoding))
		return GDOI_OK;
	if (cr->cas.len % GDOI_IKE2_CERTREQ_HASH_LEN != 0)
		return perr(e, GDOI_ERR_LENGTH, GDOI_IKE2_PL_CERTREQ, off + 5,
			    "CERTREQ Certification Authority (not whole 20-octet SHA-1 hashes)");
	cr->ncas = cr->cas.len / GDOI_IKE2_CERTREQ_HASH_LEN;
	return GDOI_OK;
}

int gdoi_ike2_certreqs_check(const struct gdoi_ike2_chain *c, struct gdoi_parse_error *e)
{
	struct gdoi_ike2_certreq cr;
	int rc;

	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].type == GDOI_IKE2_PL_CERTREQ &&
		    (rc = gdoi_ike2_certreq_parse(&c->p[i], c->off[i], &cr, e)) != GDOI_OK)
			return rc;
	return GDOI_OK;
}

int gdoi_ike2_skf_parse(gdoi_bytes body, size_t off, uint16_t *number, uint16_t *total,
			struct gdoi_parse_error *e)
{
	if (body.len < 4)
		return perr(e, GDOI_ERR_TRUNCATED, GDOI_IKE2_PL_SKF, off, "SKF fragment fields");
	*number = gdoi_get_u16(body.ptr);
	*total = gdoi_get_u16(body.ptr + 2);
	if (*number == 0 || *total == 0 || *number > *total)
		return perr(e, GDOI_ERR_VALUE, GDOI_IKE2_PL_SKF, off + 4, "SKF fragment number");
	return GDOI_OK;
}

void gdoi_ike2_ke_write(struct gdoi_writer *w, uint16_t group, gdoi_bytes data)
{
	gdoi_write_u16(w, group);
	gdoi_write_u16(w, 0);
	gdoi_write_bytes(w, data.ptr, data.len);
}

void gdoi_ike2_id_write(struct gdoi_writer *w, const struct gdoi_ike2_id *id)
{
	gdoi_write_u8(w, id->type);
	gdoi_write_zeros(w, 3);
	gdoi_write_bytes(w, id->data.ptr, id->data.len);
}

void gdoi_ike2_auth_write(struct gdoi_writer *w, uint8_t method, gdoi_bytes data)
{
	gdoi_write_u8(w, method);
	gdoi_write_zeros(w, 3);
	gdoi_write_bytes(w, data.ptr, data.len);
}

void gdoi_ike2_notify_write(struct gdoi_writer *w, uint8_t proto, uint16_t type,
			    gdoi_bytes spi, gdoi_bytes data)
{
	gdoi_write_u8(w, proto);
	gdoi_write_u8(w, (uint8_t)spi.len);
	gdoi_write_u16(w, type);
	gdoi_write_bytes(w, spi.ptr, spi.len);
	gdoi_write_bytes(w, data.ptr, data.len);
}

void gdoi_ike2_delete_ike_write(struct gdoi_writer *w)
{
	gdoi_write_u8(w, GDOI_IKE2_PROTO_IKE);
	gdoi_write_u8(w, 0);
	gdoi_write_u16(w, 0);
}

bool gdoi_ike2_find_notify(const struct gdoi_ike2_chain *c, uint16_t type,
			   struct gdoi_ike2_notify *n)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].type == GDOI_IKE2_PL_NOTIFY &&
		    gdoi_ike2_notify_parse(&c->p[i], c->off[i], n, NULL) == GDOI_OK && n->type == type)
			return true;
	return false;
}

/* --- payload lists for the hooks ------------------------------------------------ */

int gdoi_ike2_plist_add(struct gdoi_ike2_plist *l, uint8_t type, bool critical,
			const void *body, size_t len)
{
	if (l->n == GDOI_IKE2_PLIST_MAX || len > UINT16_MAX - GDOI_IKE2_GENERIC_HDR_LEN)
		return GDOI_ERR_TOO_BIG;
	l->p[l->n].type = type;
	l->p[l->n].critical = critical;
	l->p[l->n].off = l->buf.len;
	l->p[l->n].len = len;
	gdoi_write_bytes(&l->buf, body, len);
	if (l->buf.failed)
		return GDOI_ERR_NOMEM;
	l->n++;
	return GDOI_OK;
}

int gdoi_ike2_plist_notify(struct gdoi_ike2_plist *l, uint16_t type, const void *data,
			   size_t len)
{
	struct gdoi_writer w;
	int rc;

	gdoi_writer_init(&w);
	gdoi_ike2_notify_write(&w, 0, type, GDOI_BYTES_NONE, GDOI_BYTES(data, len));
	rc = w.failed ? GDOI_ERR_NOMEM : gdoi_ike2_plist_add(l, GDOI_IKE2_PL_NOTIFY, false, w.buf, w.len);
	gdoi_writer_free(&w);
	return rc;
}

void gdoi_ike2_plist_free(struct gdoi_ike2_plist *l)
{
	gdoi_writer_free(&l->buf);
	l->n = 0;
}
