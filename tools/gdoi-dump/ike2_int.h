/*
 * ike2_int.h - what gdoi-dump's IKEv2 decoder (ike2.c: header, SK opening,
 * keys learnt) and its payload renderers (ike2_payload.c) share.
 */
#ifndef GDOI_DUMP_IKE2_INT_H
#define GDOI_DUMP_IKE2_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "ike2.h"
#include "gdoi/ike2_wire.h"

/* What a payload renderer may need besides the payload. */
struct pctx {
	struct dump_ike2 *x;
	const struct gdoi_ike2_hdr *h;
	gdoi_bytes kwk;		/* KWK ID 0 (GSK_w): empty if unknown */
	const char *kwk_name;
	bool inner;		/* inside SK */
	const uint8_t *base;	/* the buffer the chain was parsed from ... */
	size_t base_off;	/* ... and its offset in the message */
};

static inline void ike2_jset(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v ? v : json_null());
}

static inline json_t *ike2_jhex(const uint8_t *p, size_t n)
{
	return model_hex(GDOI_BYTES(p, n));
}

/* ike2_names.c: the name of number num of a kind (sub: the transform type of
 * IKE2_NAME_XF_ID, where the attribute sits for IKE2_NAME_ATTR), or NULL. */
enum ike2_name_kind {
	IKE2_NAME_PROTO, IKE2_NAME_XF_TYPE, IKE2_NAME_XF_ID, IKE2_NAME_NOTIFY, IKE2_NAME_ID,
	IKE2_NAME_AUTH, IKE2_NAME_ATTR,
};
const char *ike2_name(enum ike2_name_kind kind, uint8_t sub, uint16_t num);

/* The parse error of a payload (message, code, offset) into po's "error". */
void ike2_parse_error(json_t *po, int rc, const struct gdoi_parse_error *e);
/* Appends the chain's payloads to arr; true when one of them has an error. */
bool ike2_chain_j(json_t *arr, const struct pctx *c, const struct gdoi_ike2_chain *ch);

#endif
