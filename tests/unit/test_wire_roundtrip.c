/*
 * test_wire_roundtrip.c - every payload kind built from structures, parsed
 * back, compared field by field, and rebuilt to the same bytes.
 */
#include "tests/lib/testutil.h"

#include <string.h>

#include "gdoi/wire.h"

static const uint8_t ck_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t ck_r[8] = { 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t v4a[4] = { 10, 0, 0, 1 };
static const uint8_t v4b[4] = { 239, 1, 2, 3 };
static const uint8_t blob[40] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* Builds, parses, rebuilds; returns the parsed message (caller frees). */
static struct gdoi_msg *roundtrip(uint8_t exchange, struct gdoi_payload *pl, size_t n,
				  struct gdoi_writer *w)
{
	struct gdoi_hdr h = { .exchange = exchange, .msgid = 0x01020304 };
	memcpy(h.icookie, ck_i, 8);
	memcpy(h.rcookie, ck_r, 8);
	gdoi_writer_init(w);
	size_t offs[16];
	assert_true(n < 16);
	assert_int_equal(gdoi_msg_build(w, &h, pl, n, offs), 0);
	assert_int_equal(offs[0], GDOI_HDR_LEN);
	assert_int_equal(offs[n], w->len);
	struct gdoi_msg *m = NULL;
	struct gdoi_parse_error err;
	int rc = gdoi_msg_parse(w->buf, w->len, &m, &err);
	if (rc) {
		char s[256];
		gdoi_parse_error_format(&err, s, sizeof(s));
		print_error("%s\n", s);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(m->npl, n);
	assert_int_equal(m->hdr.exchange, exchange);
	assert_int_equal(m->hdr.msgid, 0x01020304);
	assert_int_equal(m->hdr.length, w->len);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m->pl[i].type, pl[i].type);
		assert_int_equal(m->pl[i].offset, offs[i]);
		assert_int_equal(m->pl[i].raw.len, offs[i + 1] - offs[i]);
	}
	struct gdoi_writer w2;
	gdoi_writer_init(&w2);
	assert_int_equal(gdoi_msg_build(&w2, &m->hdr, m->pl, m->npl, NULL), 0);
	assert_bytes_equal(w2.buf, w2.len, w->buf, w->len);
	gdoi_writer_free(&w2);
	return m;
}

static void assert_span(gdoi_bytes a, const void *p, size_t n)
{
	assert_int_equal(a.len, n);
	assert_memory_equal(a.ptr, p, n);
}

static void test_wire_round_trips_phase1_payloads(void **s)
{
	(void)s;
	struct gdoi_attr a1[] = {
		gdoi_attr_basic(GDOI_IKE_ENC, GDOI_IKE_ENC_AES),
		gdoi_attr_basic(GDOI_IKE_KEY_LENGTH, 256),
		gdoi_attr_basic(GDOI_IKE_HASH, GDOI_IKE_HASH_SHA256),
		gdoi_attr_var(GDOI_IKE_LIFE_DURATION, "\x00\x01\x51\x80", 4),
	};
	struct gdoi_attr a2[] = { gdoi_attr_basic(GDOI_IKE_GROUP, 14) };
	struct gdoi_transform xf[] = {
		{ .num = 1, .id = GDOI_KEY_IKE, .attrs = { a1, 4 } },
		{ .num = 2, .id = GDOI_KEY_IKE, .attrs = { a2, 1 } },
	};
	struct gdoi_proposal prop = { .num = 1, .proto = GDOI_PROTO_ISAKMP, .xf = xf, .nxf = 2 };
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_SA, .u.sa_ike = { .doi = 2, .props = &prop, .nprops = 1 } },
		{ .type = GDOI_PL_KE, .u.data = GDOI_BYTES(blob, 32) },
		{ .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(blob, 16) },
		{ .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_IPV4_ADDR, .proto = 17, .port = 848,
						 .data = GDOI_BYTES(v4a, 4) } },
		{ .type = GDOI_PL_CERT, .u.cert = { GDOI_CERT_X509_SIG, GDOI_BYTES(blob, 40) } },
		{ .type = GDOI_PL_CR, .u.cert = { GDOI_CERT_X509_SIG, GDOI_BYTES_NONE } },
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(blob, 20) },
		{ .type = GDOI_PL_SIG, .u.data = GDOI_BYTES(blob, 40) },
		{ .type = GDOI_PL_VID, .u.data = GDOI_BYTES(blob, 16) },
		{ .type = GDOI_PL_NOTIFY, .u.notify = { .doi = 1, .proto = 1, .type = GDOI_N_INITIAL_CONTACT,
							.spi = GDOI_BYTES(blob, 16) } },
		{ .type = GDOI_PL_DELETE, .u.del = { .doi = 1, .proto = 1, .spi_size = 16, .nspis = 2,
						     .spis = GDOI_BYTES(blob, 32) } },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_IDENT_PROT, pl, 11, &w);
	const struct gdoi_sa_ike *sa = &m->pl[0].u.sa_ike;
	assert_int_equal(sa->doi, 2);
	assert_int_equal(sa->nprops, 1);
	assert_int_equal(sa->props[0].nxf, 2);
	assert_int_equal(sa->props[0].xf[0].attrs.n, 4);
	uint32_t v;
	assert_true(gdoi_attr_u32(gdoi_attr_find(&sa->props[0].xf[0].attrs, GDOI_IKE_LIFE_DURATION), &v));
	assert_int_equal(v, 86400);
	assert_int_equal(sa->props[0].xf[1].attrs.v[0].basic, 14);
	assert_span(m->pl[1].u.data, blob, 32);
	assert_int_equal(m->pl[3].u.id.port, 848);
	assert_int_equal(m->pl[3].u.id.proto, 17);
	assert_span(m->pl[3].u.id.data, v4a, 4);
	assert_span(m->pl[4].u.cert.data, blob, 40);
	assert_int_equal(m->pl[5].u.cert.data.len, 0);
	assert_int_equal(m->pl[9].u.notify.type, GDOI_N_INITIAL_CONTACT);
	assert_span(m->pl[9].u.notify.spi, blob, 16);
	assert_int_equal(m->pl[10].u.del.nspis, 2);
	assert_span(m->pl[10].u.del.spis, blob, 32);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

static void test_wire_round_trips_pull_payloads(void **s)
{
	(void)s;
	static const uint8_t group[4] = { 0, 0, 0x04, 0xd2 };
	struct gdoi_attr gap[] = { gdoi_attr_basic(GDOI_GAP_SENDER_ID_REQUEST, 2) };
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(blob, 32) },
		{ .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(blob, 16) },
		{ .type = GDOI_PL_ID, .u.id = { .type = GDOI_ID_KEY_ID, .data = GDOI_BYTES(group, 4) } },
		{ .type = GDOI_PL_GAP, .u.gap = { gap, 1 } },
		{ .type = GDOI_PL_SEQ, .u.seq = 0xfffffffe },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_PULL, pl, 5, &w);
	assert_int_equal(m->pl[2].u.id.type, GDOI_ID_KEY_ID);
	assert_span(m->pl[2].u.id.data, group, 4);
	assert_int_equal(m->pl[3].u.gap.v[0].type, GDOI_GAP_SENDER_ID_REQUEST);
	assert_int_equal(m->pl[3].u.gap.v[0].basic, 2);
	assert_int_equal(m->pl[4].u.seq, 0xfffffffe);
	/* SEQ has Payload Length 8 exactly (RFC 6407 §5.7). */
	assert_int_equal(m->pl[4].raw.len, 8);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

static void test_wire_round_trips_gdoi_sa_with_every_tek(void **s)
{
	(void)s;
	struct gdoi_attr kek_attrs[] = {
		gdoi_attr_basic(GDOI_KEK_ALGORITHM, GDOI_KEK_ALG_AES),
		gdoi_attr_basic(GDOI_KEK_KEY_LENGTH, 256),
		gdoi_attr_var(GDOI_KEK_KEY_LIFETIME, "\x00\x00\x0e\x10", 4),
		gdoi_attr_basic(GDOI_KEK_SIG_HASH_ALGORITHM, GDOI_SIG_HASH_SHA256),
		gdoi_attr_basic(GDOI_KEK_SIG_ALGORITHM, GDOI_SIG_ALG_RSA),
		gdoi_attr_basic(GDOI_KEK_SIG_KEY_LENGTH, 2048),
	};
	struct gdoi_sak sak = { .protocol = 17,
				.src = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(v4a, 4) },
				.dst = { .type = GDOI_ID_IPV4_ADDR, .port = 848, .data = GDOI_BYTES(v4b, 4) },
				.attrs = { kek_attrs, 6 } };
	memcpy(sak.spi, blob, 16);
	struct gdoi_attr gap[] = { gdoi_attr_basic(GDOI_GAP_ATD, 5), gdoi_attr_basic(GDOI_GAP_DTD, 30) };
	struct gdoi_attr esp_attrs[] = {
		gdoi_attr_basic(GDOI_IPSEC_LIFE_TYPE, 1),
		gdoi_attr_var(GDOI_IPSEC_LIFE_DURATION, "\x00\x00\x0e\x10", 4),
		gdoi_attr_basic(GDOI_IPSEC_ENCAP_MODE, 1),
		gdoi_attr_basic(GDOI_IPSEC_AUTH_ALG, 5),
		gdoi_attr_basic(GDOI_IPSEC_KEY_LENGTH, 128),
	};
	struct gdoi_attr srtp_attrs[] = {
		gdoi_attr_var(GDOI_SRTP_LIFETIME, "\x00\x00\x0e\x10", 4),
		gdoi_attr_basic(GDOI_SRTP_REPLAY_WINDOW, 256),
		gdoi_attr_basic(GDOI_SRTP_SSRC_ASSIGNED, 1),
		gdoi_attr_basic(GDOI_SRTP_ALLOW_REPEAT_TX, 0),
	};
	static const uint8_t any4[8] = { 0 };
	static const uint8_t v6[16] = { 0xff, 0x15, [15] = 1 };
	struct gdoi_attr ref_attrs[] = { gdoi_attr_basic(1, 0), gdoi_attr_basic(2, 0) };
	struct gdoi_sat sats[4] = {
		{ .protocol_id = GDOI_TEK_PROTO_ESP, .u.ipsec = {
			.protocol = 0, .src = { .type = GDOI_ID_IPV4_ADDR_SUBNET, .data = GDOI_BYTES(any4, 8) },
			.dst = { .type = GDOI_ID_IPV4_ADDR, .port = 5004, .data = GDOI_BYTES(v4b, 4) },
			.transform_id = 12, .spi = 0x11223344, .attrs = { esp_attrs, 5 } } },
		{ .protocol_id = GDOI_TEK_PROTO_AH, .u.ipsec = {
			.protocol = 17, .src = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(v4a, 4) },
			.dst = { .type = GDOI_ID_IPV6_ADDR, .data = GDOI_BYTES(v6, 16) },
			.transform_id = 2, .spi = 0x55667788, .attrs = { esp_attrs, 1 } } },
		{ .protocol_id = GDOI_TEK_PROTO_SRTP, .u.srtp = {
			.version = 1, .profile = GDOI_SRTP_AEAD_AES_128_GCM,
			.flags = GDOI_SRTP_FLAG_SRTCP | GDOI_SRTP_FLAG_MKI,
			.src = { .type = GDOI_ID_IPV4_ADDR_SUBNET, .data = GDOI_BYTES(any4, 8) },
			.dst = { .type = GDOI_ID_IPV4_ADDR, .port = 5004, .data = GDOI_BYTES(v4b, 4) },
			.spi = 0xa1b2c3d4, .attrs = { srtp_attrs, 4 } } },
		{ .protocol_id = GDOI_TEK_PROTO_REF_SRTP, .u.ref_srtp = {
			.src = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(v4a, 4) },
			.dst = { .type = GDOI_ID_IPV4_ADDR, .port = 1024, .data = GDOI_BYTES(v4b, 4) },
			.replay_window = 16, .kd_rate = 1, .srtp_lifetime = 16, .srtcp_lifetime = 16,
			.spi = GDOI_BYTES("\x06\x7e", 2), .attrs = { ref_attrs, 2 } } },
	};
	struct gdoi_attr_list gapl = { gap, 2 };
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(blob, 20) },
		{ .type = GDOI_PL_SA, .u.sa = { .doi = 2, .sak = &sak, .gap = &gapl, .sats = sats, .nsats = 4 } },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_PULL, pl, 2, &w);
	const struct gdoi_sa_gdoi *sa = &m->pl[1].u.sa;
	assert_non_null(sa->sak);
	assert_int_equal(sa->sak->trailer_len, 4);	/* the RFC 6407 form is emitted */
	assert_memory_equal(sa->sak->spi, blob, 16);
	assert_int_equal(sa->sak->dst.port, 848);
	assert_int_equal(sa->sak->attrs.n, 6);
	assert_int_equal(sa->gap->n, 2);
	assert_int_equal(sa->nsats, 4);
	assert_int_equal(sa->sats[0].u.ipsec.spi, 0x11223344);
	assert_int_equal(sa->sats[0].u.ipsec.transform_id, 12);
	assert_int_equal(sa->sats[0].u.ipsec.dst.port, 5004);
	assert_int_equal(sa->sats[1].u.ipsec.dst.type, GDOI_ID_IPV6_ADDR);
	assert_span(sa->sats[1].u.ipsec.dst.data, v6, 16);
	const struct gdoi_tek_srtp *t = &sa->sats[2].u.srtp;
	assert_int_equal(t->profile, GDOI_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(t->flags, 3);
	assert_int_equal(t->spi, 0xa1b2c3d4);
	assert_int_equal(t->attrs.n, 4);
	assert_int_equal(sa->sats[3].u.ref_srtp.kd_rate, 1);
	/* SRTP TEK bytes exactly as docs/srtp-tek.md draws them. */
	size_t at = m->pl[1].offset;
	const uint8_t *b = w.buf;
	size_t sat_off = 0;
	for (size_t i = at + 16; i < w.len;) {	/* walk the nested chain to the third SAT */
		if (b[i + 4] == GDOI_TEK_PROTO_SRTP) {
			sat_off = i;
			break;
		}
		i += gdoi_get_u16(b + i + 2);
	}
	assert_true(sat_off > 0);
	static const uint8_t srtp_head[] = { 0xf5, 0x01, 0x00, 0x07, 0x03, 0x04, 0x00, 0x00, 0x08 };
	assert_memory_equal(b + sat_off + 4, srtp_head, sizeof(srtp_head));
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

/* IPv6 selectors (RFC 2407 §4.6.2.1: ID_IPV6_ADDR 5, ID_IPV6_ADDR_SUBNET 6) in an SA KEK
 * (the ff3e:: SSM rekey group) and an SRTP TEK (senders ::/0, media group
 * [ff0e::1234]:5004): every octet of both as docs/srtp-tek.md and RFC 6407 §5.3 draw them. */
static void test_wire_encodes_ipv6_selectors_octet_for_octet(void **s)
{
	(void)s;
	static const uint8_t ks6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t ssm6[16] = { 0xff, 0x3e, [15] = 0x42 };
	static const uint8_t asm6[16] = { 0xff, 0x0e, [14] = 0x12, [15] = 0x34 };
	static const uint8_t any6[32] = { 0 };
	struct gdoi_attr kek_attrs[] = { gdoi_attr_basic(GDOI_KEK_ALGORITHM, GDOI_KEK_ALG_AES) };
	struct gdoi_sak sak = { .protocol = 17,
				.src = { .type = GDOI_ID_IPV6_ADDR, .port = 848, .data = GDOI_BYTES(ks6, 16) },
				.dst = { .type = GDOI_ID_IPV6_ADDR, .port = 1848, .data = GDOI_BYTES(ssm6, 16) },
				.attrs = { kek_attrs, 1 } };
	memcpy(sak.spi, blob, 16);
	struct gdoi_attr srtp_attrs[] = { gdoi_attr_var(GDOI_SRTP_LIFETIME, "\x00\x00\x0e\x10", 4) };
	struct gdoi_sat sat = { .protocol_id = GDOI_TEK_PROTO_SRTP, .u.srtp = {
		.version = 1, .profile = GDOI_SRTP_AES128_CM_SHA1_80,
		.src = { .type = GDOI_ID_IPV6_ADDR_SUBNET, .data = GDOI_BYTES(any6, 32) },
		.dst = { .type = GDOI_ID_IPV6_ADDR, .port = 5004, .data = GDOI_BYTES(asm6, 16) },
		.spi = 0xa1b2c3d4, .attrs = { srtp_attrs, 1 } } };
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_SA, .u.sa = { .doi = 2, .sak = &sak, .sats = &sat, .nsats = 1 } },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_PULL, pl, 1, &w);
	const struct gdoi_sa_gdoi *sa = &m->pl[0].u.sa;
	assert_int_equal(sa->sak->dst.type, GDOI_ID_IPV6_ADDR);
	assert_span(sa->sak->dst.data, ssm6, 16);
	assert_int_equal(sa->sats[0].u.srtp.src.type, GDOI_ID_IPV6_ADDR_SUBNET);
	assert_span(sa->sats[0].u.srtp.dst.data, asm6, 16);
	/* SA KEK: header (next = SA TEK 16), protocol, SRC triple, DST triple, SPI, RESERVED2 */
	uint8_t kek[4 + 1 + 4 + 16 + 4 + 16 + 16 + 4 + 4] = { 16, 0, 0, sizeof(kek), 17,
		5, 0x03, 0x50, 16 };
	memcpy(kek + 9, ks6, 16);
	memcpy(kek + 25, (const uint8_t[]){ 5, 0x07, 0x38, 16 }, 4);
	memcpy(kek + 29, ssm6, 16);
	memcpy(kek + 45, blob, 16);
	memcpy(kek + 65, (const uint8_t[]){ 0x80, GDOI_KEK_ALGORITHM, 0, GDOI_KEK_ALG_AES }, 4);
	/* SRTP TEK: header (last), F5, version 1, profile 1, flags 0, SRC 6/0/32 + ::/0,
	 * DST 5/5004/16 + ff0e::1234, SPI, SRTP_LIFETIME (TLV, 4 octets) */
	uint8_t tek[4 + 4 + 4 + 1 + 32 + 4 + 16 + 4 + 8] = { 0, 0, 0, sizeof(tek), 0xf5, 1, 0, 1, 0, 6, 0, 0, 32 };
	memcpy(tek + 45, (const uint8_t[]){ 5, 0x13, 0x8c, 16 }, 4);
	memcpy(tek + 49, asm6, 16);
	memcpy(tek + 65, (const uint8_t[]){ 0xa1, 0xb2, 0xc3, 0xd4, 0, GDOI_SRTP_LIFETIME, 0, 4, 0, 0, 0x0e, 0x10 }, 12);
	/* after the SA header, DOI and situation: SA Attribute Next Payload 15 (SAK), RESERVED2 */
	size_t at = m->pl[0].offset + 16;
	static const uint8_t sa_next[4] = { 0, GDOI_PL_SAK, 0, 0 };
	assert_bytes_equal(w.buf + at - 4, 4, sa_next, 4);
	assert_true(at + sizeof(kek) + sizeof(tek) == w.len);
	assert_bytes_equal(w.buf + at, sizeof(kek), kek, sizeof(kek));
	assert_bytes_equal(w.buf + at + sizeof(kek), sizeof(tek), tek, sizeof(tek));
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

static void test_wire_round_trips_kd_with_every_packet_type(void **s)
{
	(void)s;
	static const uint8_t key30[30] = { 7 };
	struct gdoi_attr tek_attrs[] = { gdoi_attr_var(GDOI_KD_TEK_ALGORITHM_KEY, key30, 30) };
	struct gdoi_attr kek_attrs[] = {
		gdoi_attr_var(GDOI_KD_KEK_ALGORITHM_KEY, blob, 32),
		gdoi_attr_var(GDOI_KD_SIG_ALGORITHM_KEY, blob, 40),
	};
	struct gdoi_attr sid_attrs[] = {
		gdoi_attr_basic(GDOI_KD_SID_NUMBER_OF_BITS, 32),
		gdoi_attr_var(GDOI_KD_SID_VALUE, "\x12\x34\x56\x78", 4),
		gdoi_attr_var(GDOI_KD_SID_VALUE, "\x9a\xbc\xde\xf0", 4),
	};
	struct gdoi_kd_packet pk[] = {
		{ .type = GDOI_KD_TEK, .spi = GDOI_BYTES("\xa1\xb2\xc3\xd4", 4), .attrs = { tek_attrs, 1 } },
		{ .type = GDOI_KD_KEK, .spi = GDOI_BYTES(blob, 16), .attrs = { kek_attrs, 2 } },
		{ .type = GDOI_KD_SID, .attrs = { sid_attrs, 3 } },
		{ .type = GDOI_KD_LKH, .spi = GDOI_BYTES(blob, 16), .opaque = GDOI_BYTES(blob + 4, 12) },
	};
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(blob, 20) },
		{ .type = GDOI_PL_SEQ, .u.seq = 7 },
		{ .type = GDOI_PL_KD, .u.kd = { pk, 4 } },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_PULL, pl, 3, &w);
	const struct gdoi_kd *kd = &m->pl[2].u.kd;
	assert_int_equal(kd->n, 4);
	assert_span(kd->pkts[0].attrs.v[0].value, key30, 30);
	assert_span(kd->pkts[1].spi, blob, 16);
	assert_int_equal(kd->pkts[1].attrs.n, 2);
	assert_int_equal(kd->pkts[2].spi.len, 0);
	assert_int_equal(kd->pkts[2].attrs.n, 3);
	assert_span(kd->pkts[2].attrs.v[2].value, "\x9a\xbc\xde\xf0", 4);
	assert_span(kd->pkts[3].opaque, blob + 4, 12);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

static void test_wire_round_trips_push_payload_sequence(void **s)
{
	(void)s;
	static const uint8_t spis[8] = { 0, 0, 0, 1, 0, 0, 0, 2 };
	struct gdoi_attr tek_attrs[] = { gdoi_attr_var(GDOI_KD_TEK_ALGORITHM_KEY, blob, 30) };
	struct gdoi_kd_packet pk = { .type = GDOI_KD_TEK, .spi = GDOI_BYTES(spis, 4), .attrs = { tek_attrs, 1 } };
	struct gdoi_attr srtp_attrs[] = { gdoi_attr_var(GDOI_SRTP_LIFETIME, "\x00\x00\x00\x3c", 4) };
	struct gdoi_sat sat = { .protocol_id = GDOI_TEK_PROTO_SRTP, .u.srtp = {
		.profile = GDOI_SRTP_AES128_CM_SHA1_80,
		.src = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(v4a, 4) },
		.dst = { .type = GDOI_ID_IPV4_ADDR, .port = 5004, .data = GDOI_BYTES(v4b, 4) },
		.spi = 1, .attrs = { srtp_attrs, 1 } } };
	struct gdoi_payload pl[] = {
		{ .type = GDOI_PL_SEQ, .u.seq = 2 },
		{ .type = GDOI_PL_DELETE, .u.del = { .doi = 2, .proto = GDOI_TEK_PROTO_SRTP, .spi_size = 4,
						     .nspis = 2, .spis = GDOI_BYTES(spis, 8) } },
		{ .type = GDOI_PL_SA, .u.sa = { .doi = 2, .sats = &sat, .nsats = 1 } },
		{ .type = GDOI_PL_KD, .u.kd = { &pk, 1 } },
		{ .type = GDOI_PL_SIG, .u.data = GDOI_BYTES(blob, 40) },
	};
	struct gdoi_writer w;
	struct gdoi_msg *m = roundtrip(GDOI_EXCH_PUSH, pl, 5, &w);
	assert_int_equal(m->pl[0].u.seq, 2);
	assert_int_equal(m->pl[1].u.del.proto, GDOI_TEK_PROTO_SRTP);
	assert_int_equal(m->pl[2].u.sa.sats[0].u.srtp.version, 1);
	assert_null(m->pl[2].u.sa.sak);
	assert_null(m->pl[2].u.sa.gap);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
}

/* Builders refuse what cannot be encoded instead of writing a wrong length. */
static void test_wire_build_refuses_what_cannot_be_encoded(void **s)
{
	(void)s;
	struct gdoi_hdr h = { .exchange = GDOI_EXCH_PULL };
	struct gdoi_writer w;
	static uint8_t big[70000];
	struct gdoi_payload too_big = { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(big, sizeof(big)) };
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, &too_big, 1, NULL), GDOI_ERR_TOO_BIG);
	gdoi_writer_free(&w);
	struct gdoi_payload empty = { .type = GDOI_PL_HASH };
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, &empty, 1, NULL), GDOI_ERR_INVALID_ARG);
	gdoi_writer_free(&w);
	struct gdoi_payload empty_sa = { .type = GDOI_PL_SA, .u.sa = { .doi = 2 } };
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, &empty_sa, 1, NULL), GDOI_ERR_INVALID_ARG);
	gdoi_writer_free(&w);
	struct gdoi_kd_packet pk = { .type = GDOI_KD_TEK };
	struct gdoi_payload nokeys = { .type = GDOI_PL_KD, .u.kd = { &pk, 0 } };
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, &nokeys, 1, NULL), GDOI_ERR_INVALID_ARG);
	gdoi_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_round_trips_phase1_payloads),
		cmocka_unit_test(test_wire_round_trips_pull_payloads),
		cmocka_unit_test(test_wire_round_trips_gdoi_sa_with_every_tek),
		cmocka_unit_test(test_wire_encodes_ipv6_selectors_octet_for_octet),
		cmocka_unit_test(test_wire_round_trips_kd_with_every_packet_type),
		cmocka_unit_test(test_wire_round_trips_push_payload_sequence),
		cmocka_unit_test(test_wire_build_refuses_what_cannot_be_encoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
