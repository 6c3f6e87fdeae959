/*
 * payload.h - the parsed (and to-be-built) form of every ISAKMP/GDOI payload.
 *
 * Parsed values borrow from the input buffer (gdoi_bytes) and from the
 * message's arena; builders read the same structures, whoever owns them.
 * Lengths and Next Payload fields are not stored: the builder derives them
 * from the structure, which is what makes parse -> build byte-identical.
 */
#ifndef GDOI_PAYLOAD_H
#define GDOI_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "numbers.h"

/* Data attribute (RFC 2408 §3.3). type has the AF bit cleared. */
struct gdoi_attr {
	uint16_t type;
	bool tv;		/* basic form: the value is .basic */
	uint16_t basic;
	gdoi_bytes value;	/* variable form: never empty */
};

struct gdoi_attr_list {
	struct gdoi_attr *v;
	size_t n;
};

/* ID payload body (RFC 2407 §4.6.2). The GDOI group-id form (RFC 6407 §5.1)
 * has the same layout with proto and port zero ("DOI-specific" octets).
 * Also the SRC/DST selector triple of SA KEK and SA TEK, where proto is unused. */
struct gdoi_id {
	uint8_t type;
	uint8_t proto;
	uint16_t port;
	gdoi_bytes data;
};

/* Phase 1 SA (IKE form). */
struct gdoi_transform {
	uint8_t num;
	uint8_t id;
	struct gdoi_attr_list attrs;
};

struct gdoi_proposal {
	uint8_t num;
	uint8_t proto;
	gdoi_bytes spi;
	struct gdoi_transform *xf;
	size_t nxf;
};

struct gdoi_sa_ike {
	uint32_t doi;
	uint32_t situation;
	struct gdoi_proposal *props;
	size_t nprops;
};

/* SA KEK (RFC 6407 §5.3). */
struct gdoi_sak {
	uint8_t protocol;
	struct gdoi_id src, dst;
	uint8_t spi[GDOI_KEK_SPI_LEN];
	/* Octets after the SPI: 4 in RFC 6407 (RESERVED2), 6 in the reference
	 * implementation. 0 means the RFC form when building. Must be zero. */
	uint8_t trailer_len;
	struct gdoi_attr_list attrs;
};

/* SA TEK protocol-specific parts (RFC 6407 §5.5.1, srtp-tek.md). */
struct gdoi_tek_ipsec {	/* ESP and AH */
	uint8_t protocol;
	struct gdoi_id src, dst;
	uint8_t transform_id;
	uint32_t spi;
	struct gdoi_attr_list attrs;
};

struct gdoi_tek_srtp {	/* Protocol-ID 0xF5 */
	uint8_t version;
	uint16_t profile;
	uint8_t flags;
	struct gdoi_id src, dst;
	uint32_t spi;
	struct gdoi_attr_list attrs;
};

struct gdoi_tek_ref_srtp {	/* Protocol-ID 128, the reference implementation's */
	struct gdoi_id src, dst;
	uint8_t replay_window, kd_rate, srtp_lifetime, srtcp_lifetime;
	gdoi_bytes spi;
	struct gdoi_attr_list attrs;
};

struct gdoi_sat {
	uint8_t protocol_id;
	union {
		struct gdoi_tek_ipsec ipsec;
		struct gdoi_tek_srtp srtp;
		struct gdoi_tek_ref_srtp ref_srtp;
		gdoi_bytes opaque;	/* any other Protocol-ID: kept, not interpreted */
	} u;
};

/* GDOI SA (RFC 6407 §5.2): at most one SAK, at most one GAP, any number of SATs. */
struct gdoi_sa_gdoi {
	uint32_t doi;
	uint32_t situation;
	struct gdoi_sak *sak;		/* NULL when absent */
	struct gdoi_attr_list *gap;	/* NULL when absent */
	struct gdoi_sat *sats;
	size_t nsats;
};

/* Key Download (RFC 6407 §5.6). */
struct gdoi_kd_packet {
	uint8_t type;
	gdoi_bytes spi;
	struct gdoi_attr_list attrs;	/* TEK, KEK, SID */
	gdoi_bytes opaque;		/* LKH and unknown types: the bytes after the SPI */
};

struct gdoi_kd {
	struct gdoi_kd_packet *pkts;
	size_t n;
};

struct gdoi_notify {
	uint32_t doi;
	uint8_t proto;
	uint16_t type;
	gdoi_bytes spi;
	gdoi_bytes data;
};

struct gdoi_delete {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;
	uint16_t nspis;
	gdoi_bytes spis;	/* nspis * spi_size octets */
};

struct gdoi_typed_data {	/* CERT (encoding) and CR (cert type) */
	uint8_t type;
	gdoi_bytes data;
};

struct gdoi_payload {
	uint8_t type;
	/* Filled by the parser: absolute offset of the generic header, and the
	 * whole payload as received (generic header included) - hash inputs. */
	size_t offset;
	gdoi_bytes raw;
	union {
		struct gdoi_sa_ike sa_ike;	/* SA in Phase 1 / Informational */
		struct gdoi_sa_gdoi sa;		/* SA in GROUPKEY-PULL / PUSH */
		struct gdoi_id id;
		struct gdoi_typed_data cert;	/* CERT, CR */
		gdoi_bytes data;		/* KE, HASH, SIG, NONCE, VID */
		struct gdoi_notify notify;
		struct gdoi_delete del;
		struct gdoi_attr_list gap;	/* GAP outside an SA (PULL message 3) */
		struct gdoi_kd kd;
		uint32_t seq;
	} u;
};

/* ISAKMP header (RFC 2408 §3.1). */
struct gdoi_hdr {
	uint8_t icookie[GDOI_COOKIE_LEN];
	uint8_t rcookie[GDOI_COOKIE_LEN];
	uint8_t next;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

/* Attribute helpers. */
const struct gdoi_attr *gdoi_attr_find(const struct gdoi_attr_list *l, uint16_t type);
/* The attribute's value as an integer: TV, or TLV of 1..4 octets. */
bool gdoi_attr_u32(const struct gdoi_attr *a, uint32_t *v);
/* Builders' constructors. */
struct gdoi_attr gdoi_attr_basic(uint16_t type, uint16_t v);
struct gdoi_attr gdoi_attr_var(uint16_t type, const void *p, size_t len);

#endif
