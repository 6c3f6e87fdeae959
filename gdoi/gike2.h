/*
 * gike2.h - G-IKEv2 (RFC 9838) payload bodies: GSA, KD, IDg and the SENDER
 * notify data, as codecs over a byte buffer, plus the key wrap of KD
 * contents and the GSA_REKEY pseudo-exchange (gike2_rekey.h).
 *
 * Each parser reads the body of one payload (what follows the 4-octet
 * generic payload header the IKEv2 chain codec handles), checks every length
 * against its container and names the payload and the absolute offset on
 * failure; what it returns points into the input buffer or into the arena.
 * Each builder appends the body only. Numbers: gike2_numbers.h.
 */
#ifndef GDOI_GIKE2_H
#define GDOI_GIKE2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bytes.h"
#include "crypto.h"
#include "err.h"
#include "gike2_numbers.h"
#include "payload.h"	/* struct gdoi_attr_list: IKEv2 attributes have the ISAKMP form */

/* A Traffic Selector (RFC 7296 §3.13.1), one per direction in a GSA policy. */
struct gike2_ts {
	uint8_t type;		/* 7 TS_IPV4_ADDR_RANGE, 8 TS_IPV6_ADDR_RANGE */
	uint8_t ip_proto;	/* 0 = any */
	uint16_t start_port, end_port;
	uint8_t addr_len;	/* 4 or 16 */
	uint8_t start[16], end[16];
};
#define GIKE2_TS_IPV4_ADDR_RANGE 7
#define GIKE2_TS_IPV6_ADDR_RANGE 8

/* A Transform substructure (RFC 7296 §3.3.2) inside a GSA policy. */
struct gike2_transform {
	uint8_t type;
	uint16_t id;
	struct gdoi_attr_list attrs;
};

/* GSA Policy substructure (§4.4.2~): the Rekey SA (GIKE_UPDATE) or a
 * Data-Security SA (AH, ESP, or the project's SRTP). */
struct gike2_gsa_policy {
	uint8_t protocol;
	gdoi_bytes spi;		/* SPI Size octets */
	struct gike2_ts src, dst;
	struct gike2_transform *xf;
	size_t nxf;
	struct gdoi_attr_list attrs;	/* GSA attributes */
};

/* GSA payload (§4.4): policies, and at most one Group-Wide Policy (GWP)
 * substructure, told apart by its Protocol octet 0. */
struct gike2_gsa {
	struct gike2_gsa_policy *pol;
	size_t npol;
	bool has_gwp;
	struct gdoi_attr_list gwp;	/* GWP attributes */
	size_t gwp_pos;			/* policies before the GWP (>= npol: after all) */
};

/* Key Bag substructure of a KD payload (§4.5.2~, §4.5.3~): a Group Key Bag
 * (protocol != 0, with the SPI of its SA) or a Member Key Bag (protocol 0). */
struct gike2_key_bag {
	uint8_t protocol;
	gdoi_bytes spi;
	struct gdoi_attr_list attrs;
};

struct gike2_kd {
	struct gike2_key_bag *bag;
	size_t nbag;
};

/* Wrapped Key (§4.5.1~): Key ID (4) | KWK ID (4) | wrapped octets. */
struct gike2_wrapped_key {
	uint32_t key_id, kwk_id;
	gdoi_bytes wrapped;
};

/* IDg payload body (§4.2~): the IKEv2 Identification payload body. */
struct gike2_idg {
	uint8_t id_type;	/* 11 ID_KEY_ID MUST be supported; 1, 2, 3, 5 SHOULD */
	gdoi_bytes data;
};
#define GIKE2_ID_IPV4_ADDR 1
#define GIKE2_ID_FQDN 2
#define GIKE2_ID_RFC822_ADDR 3
#define GIKE2_ID_IPV6_ADDR 5
#define GIKE2_ID_KEY_ID 11

/* Delete payload body (RFC 7296 §3.11) as G-IKEv2 reads it (§2.4.3~, §4.6~):
 * Protocol 0xF5 / AH / ESP with 4-octet SPIs, GIKE_UPDATE with 16-octet SPIs;
 * an SPI of all zeros means every SA of that protocol, and GIKE_UPDATE with
 * a zero SPI excludes the GM from the group. */
#define GIKE2_DELETE_MAX_SPI 64
struct gike2_delete {
	uint8_t protocol;
	uint8_t spi_size;
	size_t nspi;
	const uint8_t *spi[GIKE2_DELETE_MAX_SPI];	/* into the body */
};
int gike2_delete_parse(struct gdoi_reader *r, struct gike2_delete *out,
		       struct gdoi_parse_error *err);
int gike2_delete_build(struct gdoi_writer *w, const struct gike2_delete *d);

/* Parsers: r covers one payload body; err may be NULL. 0 or a negative gdoi_err. */
int gike2_gsa_parse(struct gdoi_reader *r, struct gdoi_arena *a, struct gike2_gsa *out,
		    struct gdoi_parse_error *err);
int gike2_kd_parse(struct gdoi_reader *r, struct gdoi_arena *a, struct gike2_kd *out,
		   struct gdoi_parse_error *err);
int gike2_idg_parse(struct gdoi_reader *r, struct gike2_idg *out, struct gdoi_parse_error *err);
/* SENDER notify data: empty (one Sender-ID) or a 4-octet count (at least 1). */
int gike2_sender_parse(struct gdoi_reader *r, uint32_t *count, struct gdoi_parse_error *err);
/* A Wrapped Key from an attribute value; off is the value's absolute offset. */
int gike2_wrapped_key_parse(gdoi_bytes v, size_t off, struct gike2_wrapped_key *out,
			    struct gdoi_parse_error *err);

/* Builders: append the body; 0, or GDOI_ERR_TOO_BIG / GDOI_ERR_INVALID_ARG /
 * GDOI_ERR_NOMEM (the writer's failed flag). */
int gike2_gsa_build(struct gdoi_writer *w, const struct gike2_gsa *g);
int gike2_kd_build(struct gdoi_writer *w, const struct gike2_kd *kd);
int gike2_idg_build(struct gdoi_writer *w, const struct gike2_idg *id);
int gike2_sender_build(struct gdoi_writer *w, uint32_t count);
void gike2_wrapped_key_build(struct gdoi_writer *w, const struct gike2_wrapped_key *k);

/* Lookups over parsed structures (attributes: gdoi_attr_find, payload.h). */
const struct gike2_transform *gike2_xf_find(const struct gike2_gsa_policy *p, uint8_t type);

/* Payload names for logs and errors ("GSA", "KD", "IDg", ...). */
const char *gike2_payload_name(uint8_t type);
const char *gike2_exchange_name(uint8_t exch);
/* "payload GSA (51) at offset N: what: reason". */
void gike2_parse_error_format(const struct gdoi_parse_error *e, char *buf, size_t len);

/* ---- key wrap (gike2_keywrap.c) ------------------------------------------ */

#define GIKE2_KWK_MAX 32
#define GIKE2_WRAP_OVERHEAD 15	/* AES-KWP: at most 8 (ICV) + 7 (padding) octets */

/* KWK length of a Key Wrap Algorithm transform ID, 0 if not implemented. */
size_t gike2_kwa_key_len(uint16_t kwa);
/* AES key wrap with padding (RFC 5649). out holds at least in_len + 15 octets
 * (gike2_kwp_wrapped_len exactly). Unwrap refuses (GDOI_ERR_AUTH) anything
 * whose integrity check or padding fails. */
size_t gike2_kwp_wrapped_len(size_t in_len);
int gike2_kwp_wrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len);
int gike2_kwp_unwrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len);
/* AES key wrap without padding (RFC 3394, default IV): the primitive KWP builds on. */
int gike2_kw_wrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len);
int gike2_kw_unwrap(gdoi_bytes kwk, gdoi_bytes in, uint8_t *out, size_t cap, size_t *out_len);

/* GSK_w of a unicast IKE SA (prf+ of ike2_keys.h): prf+(SK_d, "Key Wrap for G-IKEv2"), kwk_len octets. */
int gike2_gsk_w(enum gdoi_md md, gdoi_bytes sk_d, uint8_t *out, size_t kwk_len);

#endif
