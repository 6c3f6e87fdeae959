/*
 * codec.h - internal interface between the message driver (wire.c) and the
 * per-payload parsers/builders (payload_*.c). Not installed.
 */
#ifndef GDOI_CODEC_H
#define GDOI_CODEC_H

#include "arena.h"
#include "err.h"
#include "payload.h"
#include "wire.h"

#include <stdio.h>

struct codec_ctx {
	struct gdoi_arena *arena;
	struct gdoi_parse_error *err;
	uint8_t exchange;	/* decides the SA form */
};

/* Records the first error and returns code. Inline so that static analysers
 * see it never returns 0 for an error (it ends most parse paths). */
static inline int codec_fail(struct codec_ctx *c, int code, uint8_t payload, size_t offset,
			     const char *what)
{
	if (c->err && c->err->code == 0) {
		c->err->code = code;
		c->err->payload = payload;
		c->err->offset = offset;
		snprintf(c->err->what, sizeof(c->err->what), "%s", what);
	}
	return code;
}

/* Attributes: parse until the reader is exhausted. */
int codec_parse_attrs(struct codec_ctx *c, struct gdoi_reader *r, uint8_t payload,
		      const char *what, struct gdoi_attr_list *out);
void codec_build_attrs(struct gdoi_writer *w, const struct gdoi_attr_list *l);

/* Selector triple: Type(1) Port(2) DataLen(1) Data (RFC 6407 §5.3, §5.5.1). */
int codec_parse_selector(struct codec_ctx *c, struct gdoi_reader *r, uint8_t payload,
			 const char *what, struct gdoi_id *out);
void codec_build_selector(struct gdoi_writer *w, const struct gdoi_id *id);
/* Checks the data length of the fixed-size ID types (addresses, subnets, ranges). */
int codec_check_id_data(struct codec_ctx *c, uint8_t payload, size_t offset,
			uint8_t type, size_t len);

/*
 * Per-payload body parsers: r covers the body (after the generic header).
 * Builders append the body only; SA builders append their nested chain.
 */
int codec_parse_sa(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_payload *p);
int codec_build_sa(struct gdoi_writer *w, const struct gdoi_payload *p, uint8_t exchange);
int codec_parse_sat(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_sat *t);
int codec_build_sat(struct gdoi_writer *w, const struct gdoi_sat *t);
int codec_parse_kd(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_kd *kd);
int codec_build_kd(struct gdoi_writer *w, const struct gdoi_kd *kd);
int codec_parse_simple(struct codec_ctx *c, struct gdoi_reader *r, struct gdoi_payload *p);
int codec_build_simple(struct gdoi_writer *w, const struct gdoi_payload *p);

/* Writes a generic header placeholder; codec_end_payload patches the length. */
size_t codec_begin_payload(struct gdoi_writer *w, uint8_t next);
int codec_end_payload(struct gdoi_writer *w, size_t start);

bool codec_is_ike_sa_exchange(uint8_t exchange);

#endif
