/*
 * ike2_wire.h - the IKEv2 message codec (RFC 7296 §3, RFC 7383 §2.5): the
 * header, the generic payload chain, and each payload body the core reads.
 *
 * Parsers read through a struct gdoi_reader: every length is checked against
 * its container before use, a payload that does not fill its length exactly
 * is refused, and errors name the payload type and the absolute offset in the
 * message (struct gdoi_parse_error). Parsed values borrow the input buffer.
 */
#ifndef GDOI_IKE2_WIRE_H
#define GDOI_IKE2_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "err.h"
#include "ike2.h"

struct gdoi_ike2_hdr {
	uint8_t spi_i[8];
	uint8_t spi_r[8];
	uint8_t next;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

/* Header of msg: Length must equal len; version major 2. */
int gdoi_ike2_hdr_parse(const uint8_t *msg, size_t len, struct gdoi_ike2_hdr *h,
			struct gdoi_parse_error *e);
/* Writes the 28 octets (Length as given; patch it with gdoi_ike2_hdr_set_len). */
void gdoi_ike2_hdr_write(struct gdoi_writer *w, const struct gdoi_ike2_hdr *h);
void gdoi_ike2_hdr_set_len(uint8_t *msg, size_t len);

/* One parsed payload chain. The SK or SKF payload, if any, ends the chain:
 * sk_type is 46 or 53, sk_off the offset of its generic header in the
 * message, sk_first its Next Payload (the first inner payload). */
#define GDOI_IKE2_CHAIN_MAX 48
struct gdoi_ike2_chain {
	size_t n;
	struct gdoi_ike2_payload p[GDOI_IKE2_CHAIN_MAX];
	size_t off[GDOI_IKE2_CHAIN_MAX];	/* of each generic header */
	uint8_t sk_type;
	uint8_t sk_first;
	size_t sk_off;
	gdoi_bytes sk_body;
	uint8_t unsupported_critical;	/* set with GDOI_ERR_PAYLOAD_TYPE */
};

/* Is type a payload this peer understands? (RFC 7296 types, plus extra[]) */
bool gdoi_ike2_payload_known(uint8_t type, const uint8_t *extra, size_t nextra);

/*
 * Parses payloads from buf[0..len) starting with type first; off0 is buf's
 * offset in the message. allow_sk: SK/SKF may appear (outer chain only).
 * Unknown payloads without the critical bit are skipped (§2.5); with it,
 * GDOI_ERR_PAYLOAD_TYPE and c->unsupported_critical = the type.
 */
int gdoi_ike2_chain_parse(const uint8_t *buf, size_t len, size_t off0, uint8_t first,
			  bool allow_sk, const uint8_t *extra, size_t nextra,
			  struct gdoi_ike2_chain *c, struct gdoi_parse_error *e);
/* The i-th payload of type, or NULL. */
const struct gdoi_ike2_payload *gdoi_ike2_chain_find(const struct gdoi_ike2_chain *c,
						     uint8_t type, size_t nth);

/* Payload chain builder: each payload's type goes into the previous Next
 * Payload field (first: into *first_type). */
struct gdoi_ike2_builder {
	struct gdoi_writer *w;
	size_t next_at;		/* offset of the Next Payload to patch; SIZE_MAX = none */
	uint8_t first;
};
void gdoi_ike2_builder_init(struct gdoi_ike2_builder *b, struct gdoi_writer *w);
void gdoi_ike2_put(struct gdoi_ike2_builder *b, uint8_t type, bool critical,
		   const void *body, size_t len);
/* Payload whose body is built in place: begin, write the body, end. */
size_t gdoi_ike2_begin(struct gdoi_ike2_builder *b, uint8_t type, bool critical);
void gdoi_ike2_end(struct gdoi_ike2_builder *b, size_t start);

/* --- SA (§3.3) ----------------------------------------------------------- */

#define GDOI_IKE2_MAX_PROPOSALS 16
/* A proposal's transform count is one octet (§3.3.1): all 255 are kept, since
 * common peers offer more than 32 (strongSwan's default: 34 and 36). */
#define GDOI_IKE2_MAX_TRANSFORMS 255
struct gdoi_ike2_transform {
	uint8_t type;
	uint16_t id;
	uint16_t key_bits;	/* Key Length attribute; 0 = absent */
	bool unknown_attr;	/* an attribute we do not know: the transform is unusable */
};
struct gdoi_ike2_proposal {
	uint8_t num;
	uint8_t proto;
	gdoi_bytes spi;
	size_t ntrans;
	struct gdoi_ike2_transform t[GDOI_IKE2_MAX_TRANSFORMS];
};
struct gdoi_ike2_sa_payload {
	size_t nprop;
	struct gdoi_ike2_proposal prop[GDOI_IKE2_MAX_PROPOSALS];
};
int gdoi_ike2_sa_parse(const struct gdoi_ike2_payload *p, size_t off,
		       struct gdoi_ike2_sa_payload *sa, struct gdoi_parse_error *e);
/* SA body with one IKE proposal per suite (numbers from 1); spi may be empty. */
void gdoi_ike2_sa_write(struct gdoi_writer *w, const struct gdoi_ike2_suite *s, size_t n,
			uint8_t first_num, gdoi_bytes spi);

/* --- simple payloads ------------------------------------------------------ */

struct gdoi_ike2_ke { uint16_t group; gdoi_bytes data; };
struct gdoi_ike2_auth { uint8_t method; gdoi_bytes data; };
struct gdoi_ike2_notify {
	uint8_t proto;
	uint16_t type;
	gdoi_bytes spi;
	gdoi_bytes data;
};
struct gdoi_ike2_delete {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t nspi;
	gdoi_bytes spis;
};
struct gdoi_ike2_cert { uint8_t encoding; gdoi_bytes data; };
/* CERTREQ (RFC 7296 §3.7): Cert Encoding | Certification Authority. For the
 * X.509 encodings (4, 12, 13) the field is ncas 20-octet SHA-1 hashes of
 * trusted CAs' SubjectPublicKeyInfo; for others ncas is 0 and cas opaque. */
struct gdoi_ike2_certreq { uint8_t encoding; gdoi_bytes cas; size_t ncas; };

int gdoi_ike2_ke_parse(const struct gdoi_ike2_payload *p, size_t off, struct gdoi_ike2_ke *ke,
		       struct gdoi_parse_error *e);
int gdoi_ike2_nonce_parse(const struct gdoi_ike2_payload *p, size_t off, gdoi_bytes *nonce,
			  struct gdoi_parse_error *e);
/* IDi / IDr; the body (type | RESERVED | data) is what AUTH signs. */
int gdoi_ike2_id_parse(const struct gdoi_ike2_payload *p, size_t off, struct gdoi_ike2_id *id,
		       struct gdoi_parse_error *e);
int gdoi_ike2_auth_parse(const struct gdoi_ike2_payload *p, size_t off,
			 struct gdoi_ike2_auth *a, struct gdoi_parse_error *e);
int gdoi_ike2_notify_parse(const struct gdoi_ike2_payload *p, size_t off,
			   struct gdoi_ike2_notify *n, struct gdoi_parse_error *e);
int gdoi_ike2_delete_parse(const struct gdoi_ike2_payload *p, size_t off,
			   struct gdoi_ike2_delete *d, struct gdoi_parse_error *e);
int gdoi_ike2_cert_parse(const struct gdoi_ike2_payload *p, size_t off,
			 struct gdoi_ike2_cert *c, struct gdoi_parse_error *e);
/* GDOI_ERR_TRUNCATED without the encoding octet; GDOI_ERR_LENGTH when an
 * X.509 encoding's CA field is not whole 20-octet hashes. */
int gdoi_ike2_certreq_parse(const struct gdoi_ike2_payload *p, size_t off,
			    struct gdoi_ike2_certreq *cr, struct gdoi_parse_error *e);
/* Each CERTREQ of the chain parses (the first refusal in *e). */
int gdoi_ike2_certreqs_check(const struct gdoi_ike2_chain *c, struct gdoi_parse_error *e);
/* SKF fields (RFC 7383 §2.5): 1 <= number <= total. */
int gdoi_ike2_skf_parse(gdoi_bytes body, size_t off, uint16_t *number, uint16_t *total,
			struct gdoi_parse_error *e);

/* Bodies of simple payloads. */
void gdoi_ike2_ke_write(struct gdoi_writer *w, uint16_t group, gdoi_bytes data);
void gdoi_ike2_id_write(struct gdoi_writer *w, const struct gdoi_ike2_id *id);
void gdoi_ike2_auth_write(struct gdoi_writer *w, uint8_t method, gdoi_bytes data);
void gdoi_ike2_notify_write(struct gdoi_writer *w, uint8_t proto, uint16_t type,
			    gdoi_bytes spi, gdoi_bytes data);
void gdoi_ike2_delete_ike_write(struct gdoi_writer *w);

/* The first Notify of the chain with this type, parsed; false if none (or malformed). */
bool gdoi_ike2_find_notify(const struct gdoi_ike2_chain *c, uint16_t type,
			   struct gdoi_ike2_notify *n);

#endif
