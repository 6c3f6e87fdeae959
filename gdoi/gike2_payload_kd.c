/*
 * gike2_payload_kd.c - the KD payload body (RFC 9838 §4.5): Key Bags, each
 * Protocol (1), SPI Size or RESERVED (1), Length (2), SPI, attributes; a
 * Group Key Bag (Protocol of its SA) holds SA_KEY, a Member Key Bag
 * (Protocol 0) holds WRAP_KEY, AUTH_KEY and GM_SENDER_ID. Keys travel as
 * Wrapped Keys (§4.5.1~): Key ID (4), KWK ID (4), the key wrapped with the
 * Key Wrap Algorithm under the KWK named (gike2_keywrap.c).
 */
#include "gike2_codec.h"

#include <string.h>

#define PL GIKE2_PL_KD
#define WRAPPED_MIN 16	/* AES-KWP output is at least two semiblocks */

int gike2_wrapped_key_parse(gdoi_bytes v, size_t off, struct gike2_wrapped_key *out,
			    struct gdoi_parse_error *err)
{
	struct codec_ctx c = { NULL, err, 0 };
	struct gdoi_reader r = gdoi_reader_init(v.ptr, v.len, off);

	if (err)
		memset(err, 0, sizeof(*err));	/* called on its own too (gdoi-dump) */
	if (!gdoi_read_u32(&r, &out->key_id) || !gdoi_read_u32(&r, &out->kwk_id))
		return codec_fail(&c, GDOI_ERR_TRUNCATED, PL, off, "Wrapped Key IDs");
	size_t n = gdoi_reader_left(&r);
	if (n < WRAPPED_MIN || n % 8)
		return codec_fail(&c, GDOI_ERR_LENGTH, PL, off + 8, "Wrapped Key length");
	gdoi_read_bytes(&r, n, &out->wrapped);
	return 0;
}

void gike2_wrapped_key_build(struct gdoi_writer *w, const struct gike2_wrapped_key *k)
{
	gdoi_write_u32(w, k->key_id);
	gdoi_write_u32(w, k->kwk_id);
	gdoi_write_bytes(w, k->wrapped.ptr, k->wrapped.len);
}

/* Attribute offsets are not kept by codec_parse_attrs: the value pointer's
 * distance from the reader base gives them back. */
static size_t value_off(const struct gdoi_reader *r, gdoi_bytes v)
{
	return r->off0 + (size_t)(v.ptr - r->base);
}

static int check_bag(struct codec_ctx *c, const struct gdoi_reader *sub, size_t at,
		     const struct gike2_key_bag *b)
{
	size_t sa_keys = 0, auth_keys = 0;

	for (size_t i = 0; i < b->attrs.n; i++) {
		const struct gdoi_attr *x = &b->attrs.v[i];
		struct gike2_wrapped_key wk;
		int rc;

		if (x->tv)	/* every KD attribute is TLV */
			return codec_fail(c, GDOI_ERR_VALUE, PL, at, "key bag attribute form");
		size_t vo = value_off(sub, x->value);
		if (b->protocol != GIKE2_PROTO_NONE) {
			if (x->type != GIKE2_GKB_SA_KEY)
				return codec_fail(c, GDOI_ERR_VALUE, PL, vo - 4,
						  "Group Key Bag attribute type");
			if ((rc = gike2_wrapped_key_parse(x->value, vo, &wk, c->err)))
				return rc;
			if (wk.key_id != GIKE2_KEY_ID_SA)	/* SA_KEY: Key ID MUST be zero */
				return codec_fail(c, GDOI_ERR_VALUE, PL, vo, "SA_KEY Key ID");
			/* A Data-Security SA has exactly one SA_KEY; a Rekey SA may have
			 * several in a GSA_REKEY (one per key path, e.g. LKH). */
			if (++sa_keys > 1 && b->protocol != GIKE2_PROTO_GIKE_UPDATE)
				return codec_fail(c, GDOI_ERR_VALUE, PL, vo - 4, "SA_KEY repeated");
			continue;
		}
		switch (x->type) {
		case GIKE2_MKB_WRAP_KEY:
			if ((rc = gike2_wrapped_key_parse(x->value, vo, &wk, c->err)))
				return rc;
			if (wk.key_id == 0)	/* an intermediate key: Key ID MUST NOT be zero */
				return codec_fail(c, GDOI_ERR_VALUE, PL, vo, "WRAP_KEY Key ID");
			break;
		case GIKE2_MKB_AUTH_KEY:	/* DER SubjectPublicKeyInfo (signatures) */
			if (++auth_keys > 1)
				return codec_fail(c, GDOI_ERR_VALUE, PL, vo - 4, "AUTH_KEY repeated");
			break;
		case GIKE2_MKB_GM_SENDER_ID:
			if (x->value.len != 4)
				return codec_fail(c, GDOI_ERR_LENGTH, PL, vo - 2, "GM_SENDER_ID length");
			break;
		default:
			return codec_fail(c, GDOI_ERR_VALUE, PL, vo - 4, "Member Key Bag attribute type");
		}
	}
	if (b->protocol != GIKE2_PROTO_NONE && sa_keys == 0)
		return codec_fail(c, GDOI_ERR_MISSING, PL, at, "SA_KEY");
	return 0;
}

int gike2_kd_parse(struct gdoi_reader *r, struct gdoi_arena *a, struct gike2_kd *out,
		   struct gdoi_parse_error *err)
{
	struct codec_ctx c = { a, err, 0 };
	void *arr = NULL;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(out, 0, sizeof(*out));
	int lrc = gike2_sub_list(&c, r, PL, "Key Bags", sizeof(*out->bag), &arr);
	if (lrc)
		return lrc;
	out->bag = arr;
	while (gdoi_reader_left(r)) {
		size_t at = gdoi_reader_offset(r);
		uint8_t proto, second;
		struct gdoi_reader sub;
		/* read before touching bag[nbag]: fewer than 4 octets left may not fill one */
		int rc = gike2_sub_read(&c, r, PL, "Key Bag", &proto, &second, &sub);

		if (rc)
			return rc;
		struct gike2_key_bag *b = &out->bag[out->nbag];
		b->protocol = proto;
		switch (b->protocol) {
		case GIKE2_PROTO_NONE:
			if (second)
				return codec_fail(&c, GDOI_ERR_RESERVED, PL, at + 1,
						  "Member Key Bag RESERVED");
			break;
		case GIKE2_PROTO_GIKE_UPDATE:
		case GIKE2_PROTO_AH:
		case GIKE2_PROTO_ESP:
		case GIKE2_PROTO_SRTP: {
			uint8_t want = b->protocol == GIKE2_PROTO_GIKE_UPDATE ? GIKE2_SPI_SIZE_REKEY
									    : GIKE2_SPI_SIZE_IPSEC;
			if (second != want)
				return codec_fail(&c, GDOI_ERR_VALUE, PL, at + 1, "Key Bag SPI Size");
			if (!gdoi_read_bytes(&sub, second, &b->spi))
				return codec_fail(&c, GDOI_ERR_TRUNCATED, PL, at + 4, "Key Bag SPI");
			break;
		}
		default:
			return codec_fail(&c, GDOI_ERR_VALUE, PL, at, "Key Bag Protocol");
		}
		if ((rc = codec_parse_attrs(&c, &sub, PL, "Key Bag attribute", &b->attrs)) ||
		    (rc = check_bag(&c, &sub, at, b)))
			return rc;
		out->nbag++;
	}
	return 0;
}

int gike2_kd_build(struct gdoi_writer *w, const struct gike2_kd *kd)
{
	if (kd == NULL || kd->nbag == 0)
		return GDOI_ERR_INVALID_ARG;
	for (size_t i = 0; i < kd->nbag; i++) {
		const struct gike2_key_bag *b = &kd->bag[i];
		if (b->spi.len > 0xff || (b->protocol == GIKE2_PROTO_NONE && b->spi.len))
			return GDOI_ERR_INVALID_ARG;
		size_t at = gike2_sub_begin(w, b->protocol, (uint8_t)b->spi.len);
		gdoi_write_bytes(w, b->spi.ptr, b->spi.len);
		codec_build_attrs(w, &b->attrs);
		int rc = gike2_sub_end(w, at);
		if (rc)
			return rc;
	}
	return w->failed ? GDOI_ERR_NOMEM : 0;
}
