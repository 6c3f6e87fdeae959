/*
 * wire.h - parse and build whole ISAKMP/GDOI messages.
 *
 * gdoi_msg_parse() checks every length against its container before reading,
 * and on failure fills a gdoi_parse_error naming the payload and the absolute
 * offset. The SA payload is read in its IKE form for Phase 1 / Informational
 * exchanges and in its GDOI form for GROUPKEY-PULL and -PUSH.
 *
 * gdoi_msg_build() emits the RFC 6407 form; Length and Next Payload fields
 * are computed from the structures.
 */
#ifndef GDOI_WIRE_H
#define GDOI_WIRE_H

#include "err.h"
#include "payload.h"

struct gdoi_arena;

struct gdoi_msg {
	struct gdoi_hdr hdr;
	struct gdoi_payload *pl;
	size_t npl;
	size_t chain_end;	/* offset just past the last payload; the rest is padding */
	struct gdoi_arena *arena;
};

/* Only the 28-octet header: version, Length against len, reserved flag bits. */
int gdoi_hdr_parse(const uint8_t *buf, size_t len, struct gdoi_hdr *hdr,
		   struct gdoi_parse_error *err);

/*
 * Parses a plaintext message (header and payload chain). buf must outlive the
 * message. When the header's E flag is set, octets after the chain are CBC
 * padding (at most 255); otherwise any octet after the chain is an error.
 * Returns 0 and *out (free with gdoi_msg_free), or a negative gdoi_err.
 */
int gdoi_msg_parse(const uint8_t *buf, size_t len, struct gdoi_msg **out,
		   struct gdoi_parse_error *err);
/* The same for a message the caller has just decrypted: padding after the
 * chain is allowed whatever the E flag says (some implementations clear it). */
int gdoi_msg_parse_decrypted(const uint8_t *buf, size_t len, struct gdoi_msg **out,
			     struct gdoi_parse_error *err);
void gdoi_msg_free(struct gdoi_msg *m);

/* The first payload of a type at or after index *from (updated), or NULL. */
const struct gdoi_payload *gdoi_msg_find(const struct gdoi_msg *m, uint8_t type, size_t *from);

/*
 * Appends header + payloads to w. The header's next and length fields are
 * computed (length = unpadded size). If offsets is not NULL it receives n + 1
 * entries: the offset of each payload and the end of the chain, relative to
 * the start of the header, so callers can hash exact payload bytes.
 * Returns 0 or a negative gdoi_err (GDOI_ERR_TOO_BIG when a length overflows).
 */
int gdoi_msg_build(struct gdoi_writer *w, const struct gdoi_hdr *hdr,
		   const struct gdoi_payload *pl, size_t n, size_t *offsets);

/* Appends one payload (generic header included) with the given Next Payload. */
int gdoi_payload_build(struct gdoi_writer *w, const struct gdoi_payload *p, uint8_t next,
		       uint8_t exchange);

/* Writes "payload X at offset N: what: reason" into buf. */
void gdoi_parse_error_format(const struct gdoi_parse_error *e, char *buf, size_t len);

#endif
