/*
 * test_ike2_wire.c - the IKEv2 codec's bounds (gdoi/ike2_wire.c): the
 * header, the generic payload chain (truncated, overlong, a Next Payload
 * leading nowhere, data after the last payload, the critical bit on an
 * unknown payload -> UNSUPPORTED_CRITICAL_PAYLOAD, SK not last) and each
 * payload body; every error names the payload and the offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/engine.h"
#include "gdoi/err.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_wire.h"

static void test_header_bounds(void **state)
{
	uint8_t m[28] = { 0 };
	struct gdoi_ike2_hdr h;
	struct gdoi_parse_error e = { 0 };
	(void)state;
	m[17] = 0x20;
	gdoi_put_u32(m + 24, 28);
	assert_int_equal(gdoi_ike2_hdr_parse(m, 28, &h, &e), GDOI_OK);
	assert_int_equal(gdoi_ike2_hdr_parse(m, 27, &h, &e), GDOI_ERR_TRUNCATED);
	gdoi_put_u32(m + 24, 29);
	assert_int_equal(gdoi_ike2_hdr_parse(m, 28, &h, &e), GDOI_ERR_TRUNCATED);
	assert_int_equal(e.offset, 24);
	gdoi_put_u32(m + 24, 27);
	assert_int_equal(gdoi_ike2_hdr_parse(m, 28, &h, &e), GDOI_ERR_TRAILING);
	gdoi_put_u32(m + 24, 28);
	m[17] = 0x10;	/* IKEv1 */
	assert_int_equal(gdoi_ike2_hdr_parse(m, 28, &h, &e), GDOI_ERR_VERSION);
	assert_int_equal(e.offset, 17);
	m[17] = 0x21;	/* minor versions are accepted (§2.5) */
	assert_int_equal(gdoi_ike2_hdr_parse(m, 28, &h, &e), GDOI_OK);
}

/* A chain Nonce(16) -> Vendor(3) */
static size_t chain2(uint8_t *b, uint8_t vflags)
{
	size_t n = 0;
	b[n++] = GDOI_IKE2_PL_VENDOR; b[n++] = 0; b[n++] = 0; b[n++] = 20;
	memset(b + n, 0xaa, 16); n += 16;
	b[n++] = 0; b[n++] = vflags; b[n++] = 0; b[n++] = 7;
	memcpy(b + n, "abc", 3); n += 3;
	return n;
}

static void test_chain_bounds(void **state)
{
	uint8_t b[64];
	struct gdoi_ike2_chain c;
	struct gdoi_parse_error e = { 0 };
	size_t n = chain2(b, 0);
	(void)state;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e), GDOI_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.p[0].type, GDOI_IKE2_PL_NONCE);
	assert_int_equal(c.p[0].body.len, 16);
	assert_int_equal(c.off[1], 28 + 20);
	assert_memory_equal(c.p[1].body.ptr, "abc", 3);
	/* every truncation */
	for (size_t k = 0; k < n; k++) {
		int rc = gdoi_ike2_chain_parse(b, k, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e);
		assert_int_equal(rc, GDOI_ERR_TRUNCATED);
		assert_true(e.payload == GDOI_IKE2_PL_NONCE || e.payload == GDOI_IKE2_PL_VENDOR);
		assert_true(e.offset >= 28);
	}
	/* data after the last payload */
	b[n] = 0;
	assert_int_equal(gdoi_ike2_chain_parse(b, n + 1, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e),
			 GDOI_ERR_TRAILING);
	assert_int_equal(e.offset, 28 + n);
	/* a length below the generic header, and one past the end */
	b[3] = 3;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e),
			 GDOI_ERR_LENGTH);
	assert_int_equal(e.offset, 28 + 2);
	b[3] = 200;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e),
			 GDOI_ERR_TRUNCATED);
	b[3] = 20;
	/* a Next Payload naming one that is not there */
	b[20] = GDOI_IKE2_PL_KE;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e),
			 GDOI_ERR_TRUNCATED);
	assert_int_equal(e.payload, GDOI_IKE2_PL_KE);
}

static void test_unknown_payload_critical_bit(void **state)
{
	uint8_t b[64];
	struct gdoi_ike2_chain c;
	struct gdoi_parse_error e = { 0 };
	static const uint8_t extra[] = { 200 };
	size_t n;
	(void)state;
	/* unknown 200, not critical: skipped */
	n = chain2(b, 0);
	b[0] = 200;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e), GDOI_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.unsupported_critical, 0);
	/* critical: refused with the type to report */
	n = chain2(b, GDOI_IKE2_CRITICAL);
	b[0] = 200;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, NULL, 0, &c, &e),
			 GDOI_ERR_PAYLOAD_TYPE);
	assert_int_equal(c.unsupported_critical, 200);
	assert_int_equal(e.payload, 200);
	assert_int_equal(e.offset, 28 + 20);
	/* the critical bit on a known payload is fine; 200 made known is passed on */
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_NONCE, false, extra, 1, &c, &e), GDOI_OK);
	assert_int_equal(c.n, 2);
	assert_true(c.p[1].critical);
}

static void test_sk_must_be_last_and_outer_only(void **state)
{
	uint8_t b[64];
	struct gdoi_ike2_chain c;
	struct gdoi_parse_error e = { 0 };
	size_t n = 0;
	(void)state;
	b[n++] = GDOI_IKE2_PL_IDI; b[n++] = 0; b[n++] = 0; b[n++] = 12;
	memset(b + n, 1, 8); n += 8;
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_SK, true, NULL, 0, &c, &e), GDOI_OK);
	assert_int_equal(c.sk_type, GDOI_IKE2_PL_SK);
	assert_int_equal(c.sk_first, GDOI_IKE2_PL_IDI);
	assert_int_equal(c.sk_body.len, 8);
	b[n] = 0;
	assert_int_equal(gdoi_ike2_chain_parse(b, n + 1, 28, GDOI_IKE2_PL_SK, true, NULL, 0, &c, &e),
			 GDOI_ERR_TRAILING);
	assert_int_equal(gdoi_ike2_chain_parse(b, n, 28, GDOI_IKE2_PL_SK, false, NULL, 0, &c, &e),
			 GDOI_ERR_PAYLOAD_TYPE);
}

/* SA: proposal / transform / attribute lengths, counts, numbers. */
static size_t sa_one(uint8_t *b)
{
	struct gdoi_writer w;
	struct gdoi_ike2_suite s = { GDOI_IKE2_ENCR_AES_CBC, 256, GDOI_IKE2_PRF_HMAC_SHA2_256,
				     GDOI_IKE2_AUTH_HMAC_SHA2_256_128, 19 };
	size_t n;
	gdoi_writer_init(&w);
	gdoi_ike2_sa_write(&w, &s, 1, 1, GDOI_BYTES_NONE);
	n = w.len;
	memcpy(b, w.buf, n);
	gdoi_writer_free(&w);
	return n;
}

static int sa_parse(uint8_t *b, size_t n, struct gdoi_ike2_sa_payload *sa, struct gdoi_parse_error *e)
{
	struct gdoi_ike2_payload p = { GDOI_IKE2_PL_SA, false, GDOI_BYTES(b, n) };
	return gdoi_ike2_sa_parse(&p, 28, sa, e);
}

static void test_sa_bounds(void **state)
{
	uint8_t b[128];
	struct gdoi_ike2_sa_payload sa;
	struct gdoi_parse_error e = { 0 };
	size_t n = sa_one(b);
	(void)state;
	/* 8 + ENCR(12) + PRF(8) + INTEG(8) + DH(8) */
	assert_int_equal(n, 44);
	assert_int_equal(sa_parse(b, n, &sa, &e), GDOI_OK);
	assert_int_equal(sa.nprop, 1);
	assert_int_equal(sa.prop[0].ntrans, 4);
	assert_int_equal(sa.prop[0].t[0].key_bits, 256);
	assert_int_equal(sa.prop[0].t[3].id, 19);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sa_parse(b, k, &sa, &e), GDOI_OK);
	b[n] = 0;
	assert_int_equal(sa_parse(b, n + 1, &sa, &e), GDOI_ERR_TRAILING);
	/* proposal says "more" but none follows */
	b[0] = GDOI_IKE2_PROPOSAL_MORE;
	assert_int_equal(sa_parse(b, n, &sa, &e), GDOI_ERR_TRUNCATED);
	b[0] = 1;	/* neither 0 nor 2 */
	assert_int_equal(sa_parse(b, n, &sa, &e), GDOI_ERR_VALUE);
	b[0] = 0;
	/* transform count one too many / too few */
	b[7] = 5;
	assert_int_not_equal(sa_parse(b, n, &sa, &e), GDOI_OK);
	b[7] = 3;
	assert_int_not_equal(sa_parse(b, n, &sa, &e), GDOI_OK);
	b[7] = 4;
	/* proposal number 0 */
	b[4] = 0;
	assert_int_equal(sa_parse(b, n, &sa, &e), GDOI_ERR_VALUE);
	b[4] = 1;
	/* a transform length running into the next */
	b[8 + 3] = 13;
	assert_int_not_equal(sa_parse(b, n, &sa, &e), GDOI_OK);
	assert_int_equal(e.payload, GDOI_IKE2_PL_SA);
	b[8 + 3] = 12;
	/* an unknown TV attribute marks the transform unusable, not the message */
	b[8 + 8 + 1] = 15;
	assert_int_equal(sa_parse(b, n, &sa, &e), GDOI_OK);
	assert_true(sa.prop[0].t[0].unknown_attr);
}

/* A proposal may list up to 255 transforms (a one-octet count, RFC 7296
 * §3.3.1): strongSwan's default offer has 34 and 36. All are read. */
static void test_sa_proposal_with_255_transforms_parses(void **state)
{
	static uint8_t b[8 + 255 * 8];
	struct gdoi_ike2_sa_payload *sa = calloc(1, sizeof(*sa));
	struct gdoi_parse_error e = { 0 };
	size_t n = sizeof(b);
	(void)state;
	assert_non_null(sa);
	b[0] = GDOI_IKE2_PROPOSAL_LAST;
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	b[4] = 1;			/* proposal 1 */
	b[5] = 1;			/* IKE */
	b[7] = 255;
	for (size_t i = 0; i < 255; i++) {
		uint8_t *t = b + 8 + i * 8;
		t[0] = i + 1 < 255 ? GDOI_IKE2_TRANSFORM_MORE : GDOI_IKE2_TRANSFORM_LAST;
		t[3] = 8;
		t[4] = 4;		/* D-H */
		t[7] = (uint8_t)i;
	}
	assert_int_equal(sa_parse(b, n, sa, &e), GDOI_OK);
	assert_int_equal(sa->prop[0].ntrans, 255);
	assert_int_equal(sa->prop[0].t[254].id, 254);
	free(sa);
}

static void test_payload_bodies(void **state)
{
	struct gdoi_parse_error e = { 0 };
	uint8_t b[300] = { 0 };
	struct gdoi_ike2_payload p = { 0, false, GDOI_BYTES(b, 0) };
	gdoi_bytes nonce;
	struct gdoi_ike2_ke ke;
	struct gdoi_ike2_id id;
	struct gdoi_ike2_notify n;
	struct gdoi_ike2_delete d;
	uint16_t num, tot;
	(void)state;
	p.type = GDOI_IKE2_PL_NONCE;
	p.body.len = 15;
	assert_int_equal(gdoi_ike2_nonce_parse(&p, 28, &nonce, &e), GDOI_ERR_LENGTH);
	p.body.len = 16;
	assert_int_equal(gdoi_ike2_nonce_parse(&p, 28, &nonce, &e), GDOI_OK);
	p.body.len = 256;
	assert_int_equal(gdoi_ike2_nonce_parse(&p, 28, &nonce, &e), GDOI_OK);
	p.body.len = 257;
	assert_int_equal(gdoi_ike2_nonce_parse(&p, 28, &nonce, &e), GDOI_ERR_LENGTH);
	p.type = GDOI_IKE2_PL_KE;
	p.body.len = 4;
	assert_int_equal(gdoi_ike2_ke_parse(&p, 28, &ke, &e), GDOI_ERR_TRUNCATED);
	p.type = GDOI_IKE2_PL_IDI;
	b[0] = GDOI_IKE2_ID_IPV4_ADDR;
	p.body.len = 4 + 4;
	assert_int_equal(gdoi_ike2_id_parse(&p, 28, &id, &e), GDOI_OK);
	p.body.len = 4 + 5;
	assert_int_equal(gdoi_ike2_id_parse(&p, 28, &id, &e), GDOI_ERR_LENGTH);
	p.type = GDOI_IKE2_PL_NOTIFY;
	b[0] = 1; b[1] = 8; gdoi_put_u16(b + 2, GDOI_IKE2_N_COOKIE);
	p.body.len = 4 + 7;	/* SPI Size past the end */
	assert_int_equal(gdoi_ike2_notify_parse(&p, 28, &n, &e), GDOI_ERR_TRUNCATED);
	p.body.len = 4 + 8 + 3;
	assert_int_equal(gdoi_ike2_notify_parse(&p, 28, &n, &e), GDOI_OK);
	assert_int_equal(n.spi.len, 8);
	assert_int_equal(n.data.len, 3);
	p.type = GDOI_IKE2_PL_DELETE;
	b[0] = GDOI_IKE2_PROTO_ESP; b[1] = 4; gdoi_put_u16(b + 2, 2);
	p.body.len = 4 + 8;
	assert_int_equal(gdoi_ike2_delete_parse(&p, 28, &d, &e), GDOI_OK);
	p.body.len = 4 + 7;
	assert_int_equal(gdoi_ike2_delete_parse(&p, 28, &d, &e), GDOI_ERR_LENGTH);
	b[0] = GDOI_IKE2_PROTO_IKE;	/* an IKE SA Delete names no SPI */
	p.body.len = 4 + 8;
	assert_int_equal(gdoi_ike2_delete_parse(&p, 28, &d, &e), GDOI_ERR_VALUE);
	gdoi_put_u16(b, 0); gdoi_put_u16(b + 2, 1);
	assert_int_equal(gdoi_ike2_skf_parse(GDOI_BYTES(b, 4), 28, &num, &tot, &e), GDOI_ERR_VALUE);
	gdoi_put_u16(b, 2);
	assert_int_equal(gdoi_ike2_skf_parse(GDOI_BYTES(b, 4), 28, &num, &tot, &e), GDOI_ERR_VALUE);
	gdoi_put_u16(b, 1);
	assert_int_equal(gdoi_ike2_skf_parse(GDOI_BYTES(b, 4), 28, &num, &tot, &e), GDOI_OK);
	assert_int_equal(gdoi_ike2_skf_parse(GDOI_BYTES(b, 3), 28, &num, &tot, &e), GDOI_ERR_TRUNCATED);
}

static void test_builder_chains_next_payload(void **state)
{
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	struct gdoi_ike2_chain c;
	(void)state;
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	gdoi_ike2_put(&b, GDOI_IKE2_PL_NONCE, false, "0123456789abcdef", 16);
	gdoi_ike2_put(&b, GDOI_IKE2_PL_VENDOR, true, "v", 1);
	assert_false(w.failed);
	assert_int_equal(b.first, GDOI_IKE2_PL_NONCE);
	assert_int_equal(w.buf[0], GDOI_IKE2_PL_VENDOR);
	assert_int_equal(w.buf[20], 0);
	assert_int_equal(w.buf[21], GDOI_IKE2_CRITICAL);
	assert_int_equal(gdoi_ike2_chain_parse(w.buf, w.len, 0, b.first, false, NULL, 0, &c, NULL), GDOI_OK);
	assert_int_equal(c.n, 2);
	gdoi_writer_free(&w);
}

/* The key server hands IKEv2 to its G-IKEv2 front end by the header's
 * version; strongSwan's charon puts the Non-ESP Marker (RFC 3948 §2.2, four
 * zero octets) before every message to a port other than 500, IKE_SA_INIT
 * too, which moves the version octet. */
static void test_classify_nonesp_marker(void **state)
{
	uint8_t d[4 + 28];
	(void)state;
	memset(d, 0, sizeof(d));
	uint8_t *h = d + 4;
	memset(h, 0xa5, 8);	/* SPIi; SPIr zero (IKE_SA_INIT) */
	h[16] = 33;		/* SA */
	h[17] = 0x20;
	h[18] = GDOI_IKE2_EXCH_IKE_SA_INIT;
	assert_int_equal(gdoi_engine_classify(h, 28), GDOI_FE_IKEV2);
	assert_int_equal(gdoi_engine_classify(d, sizeof(d)), GDOI_FE_IKEV2);
	assert_int_equal(gdoi_engine_classify(d, sizeof(d) - 1), GDOI_FE_NONE);	/* no whole header */
	h[17] = 0x10;		/* a marker before an ISAKMP header: not ours */
	assert_int_equal(gdoi_engine_classify(d, sizeof(d)), GDOI_FE_NONE);
	assert_int_equal(gdoi_engine_classify(h, 28), GDOI_FE_IKEV1);
	/* an ISAKMP message whose initiator cookie begins with four zero octets
	 * is still GDOI's */
	memset(d, 0, sizeof(d));
	d[17] = 0x10;
	d[18] = 32;		/* GROUPKEY-PULL */
	assert_int_equal(gdoi_engine_classify(d, sizeof(d)), GDOI_FE_IKEV1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_classify_nonesp_marker),
		cmocka_unit_test(test_chain_bounds),
		cmocka_unit_test(test_unknown_payload_critical_bit),
		cmocka_unit_test(test_sk_must_be_last_and_outer_only),
		cmocka_unit_test(test_sa_bounds),
		cmocka_unit_test(test_sa_proposal_with_255_transforms_parses),
		cmocka_unit_test(test_payload_bodies),
		cmocka_unit_test(test_builder_chains_next_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
