/*
 * test_wire_malformed.c - a table of malformed messages, each rejected with
 * the expected error code, payload type and absolute offset. Each case is a
 * small mutation of one of four valid base messages (which parse cleanly).
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/wire.h"

#define HDR(next, exch, len) "0102030405060708 090a0b0c0d0e0f10 " next " 10 " exch " 00 01020304 " len

/* A: PULL message 1 - HASH(28) NONCE(52) ID(72), 84 octets. */
static const char base_a[] = HDR("08", "20", "00000054")
	"0a000018 000102030405060708090a0b0c0d0e0f10111213"
	"05000014 000102030405060708090a0b0c0d0e0f"
	"0000000c 0b000000 000004d2";

/* B: PULL message 2 - HASH(28) SA(52){SAK(68) GAP(121) SRTP SAT(133)}, 170 octets. */
static const char base_b[] = HDR("08", "20", "000000aa")
	"01000018 000102030405060708090a0b0c0d0e0f10111213"
	"00000076 00000002 00000000 000f0000"
	"16000035 11 01 0000 04 0a000001 01 0350 04 ef010203"
	"  000102030405060708090a0b0c0d0e0f 00000000 80020003 80030080 80060001"
	"1000000c 80010005 8002001e"
	"00000025 f5 01 0001 03 01 0000 04 0a000001 01 138c 04 ef010203 a1b2c3d4 0001 0004 00000e10";

/* C: PULL message 4 - HASH(28) SEQ(52) KD(60){TEK packet(68) SID packet(111)}, 136 octets. */
static const char base_c[] = HDR("08", "20", "00000088")
	"12000018 000102030405060708090a0b0c0d0e0f10111213"
	"11000008 00000005"
	"0000004c 0002 0000"
	"0100002b 04 a1b2c3d4 0001 001e 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
	"04000019 00 80010020 0002 0004 12345678 0002 0004 9abcdef0";

/* D: Main Mode message 1 - SA(28){Proposal(40){Transform(48)}}, 76 octets. */
static const char base_d[] = "0102030405060708 0000000000000000 01 10 02 00 00000000 0000004c"
	"00000030 00000002 00000000"
	"00000024 01 01 00 01"
	"0000001c 01 01 0000 80010007 800e0100 80020004 80030001 80040013";

static const char *const bases[] = { base_a, base_b, base_c, base_d };

struct mutation {
	const char *name;
	int base;
	size_t truncate;	/* 0 = keep */
	size_t append;		/* zero octets appended */
	struct { size_t off; const char *hex; } set[2];
	int code;
	uint8_t payload;
	size_t offset;
};

static const struct mutation cases[] = {
	{ "header shorter than 28 octets", 0, 20, 0, {{0}}, GDOI_ERR_TRUNCATED, 0, 0 },
	{ "ISAKMP major version 2", 0, 0, 0, {{17, "20"}}, GDOI_ERR_VERSION, 0, 17 },
	{ "undefined flag bit", 0, 0, 0, {{19, "08"}}, GDOI_ERR_RESERVED, 0, 19 },
	{ "Length below the header size", 0, 0, 0, {{24, "00000010"}}, GDOI_ERR_LENGTH, 0, 24 },
	{ "Length beyond the datagram", 0, 0, 0, {{24, "00000055"}}, GDOI_ERR_TRUNCATED, 0, 24 },
	{ "datagram longer than Length", 0, 0, 0, {{24, "00000053"}}, GDOI_ERR_TRAILING, 0, 24 },
	{ "unknown first payload type", 0, 0, 0, {{16, "63"}}, GDOI_ERR_PAYLOAD_TYPE, 99, 28 },
	{ "SA KEK outside an SA", 0, 0, 0, {{16, "0f"}}, GDOI_ERR_PAYLOAD_TYPE, 15, 28 },
	{ "generic RESERVED not zero", 0, 0, 0, {{29, "01"}}, GDOI_ERR_RESERVED, 8, 29 },
	{ "Payload Length below 4", 0, 0, 0, {{30, "0002"}}, GDOI_ERR_LENGTH, 8, 30 },
	{ "payload overruns the message", 0, 0, 0, {{54, "0040"}}, GDOI_ERR_TRUNCATED, 10, 54 },
	{ "chain announces a payload past the end", 0, 0, 0, {{72, "0d"}}, GDOI_ERR_TRUNCATED, 13, 84 },
	{ "octets after the last payload", 0, 0, 4, {{24, "00000058"}}, GDOI_ERR_TRAILING, 0, 84 },
	{ "ID without data", 0, 80, 0, {{74, "0008"}, {24, "00000050"}}, GDOI_ERR_LENGTH, 5, 80 },
	{ "IPv6 ID with 4 octets", 0, 0, 0, {{76, "05"}}, GDOI_ERR_LENGTH, 5, 80 },
	{ "HASH without data", 0, 32, 0, {{30, "0004"}, {24, "00000020"}}, GDOI_ERR_LENGTH, 8, 32 },

	{ "SA with neither SAK nor SAT", 1, 0, 0, {{64, "0000"}}, GDOI_ERR_MISSING, 1, 64 },
	{ "SA RESERVED2 not zero", 1, 0, 0, {{67, "01"}}, GDOI_ERR_RESERVED, 1, 66 },
	{ "ID payload inside an SA", 1, 0, 0, {{64, "0005"}}, GDOI_ERR_PAYLOAD_TYPE, 5, 68 },
	{ "SA KEK after GAP", 1, 0, 0, {{121, "0f"}}, GDOI_ERR_PAYLOAD_TYPE, 15, 133 },
	{ "two GAPs", 1, 0, 0, {{121, "16"}}, GDOI_ERR_PAYLOAD_TYPE, 22, 133 },
	{ "SA KEK RESERVED2 not zero", 1, 0, 0, {{106, "01"}}, GDOI_ERR_RESERVED, 15, 106 },
	{ "IPv4 selector of 3 octets", 1, 0, 0, {{76, "03"}}, GDOI_ERR_LENGTH, 15, 73 },
	{ "zero-length KEK attribute", 1, 0, 0, {{109, "00020000"}}, GDOI_ERR_ATTR_EMPTY, 15, 109 },
	{ "KEK attribute overruns its payload", 1, 0, 0, {{117, "00060010"}}, GDOI_ERR_TRUNCATED, 15, 117 },
	{ "SRTP TEK version 2", 1, 0, 0, {{138, "02"}}, GDOI_ERR_VERSION, 16, 138 },
	{ "unknown SRTP profile", 1, 0, 0, {{139, "0042"}}, GDOI_ERR_VALUE, 16, 139 },
	{ "undefined SRTP TEK flag", 1, 0, 0, {{141, "83"}}, GDOI_ERR_RESERVED, 16, 141 },
	{ "SRTP TEK SPI 0", 1, 0, 0, {{158, "00000000"}}, GDOI_ERR_VALUE, 16, 158 },
	{ "SA TEK overruns the SA", 1, 0, 0, {{135, "0030"}}, GDOI_ERR_TRUNCATED, 16, 135 },
	{ "SA TEK cuts its last attribute", 1, 0, 0, {{135, "0021"}}, GDOI_ERR_TRUNCATED, 16, 162 },
	{ "octets after the last SA TEK", 1, 0, 4, {{54, "007a"}, {24, "000000ae"}}, GDOI_ERR_TRAILING, 1, 170 },
	{ "SA Length shorter than its chain", 1, 0, 0, {{54, "0070"}}, GDOI_ERR_TRUNCATED, 16, 135 },

	{ "SEQ Payload Length 12", 2, 0, 0, {{54, "000c"}}, GDOI_ERR_LENGTH, 18, 54 },
	{ "KD without key packets", 2, 0, 0, {{64, "0000"}}, GDOI_ERR_VALUE, 17, 64 },
	{ "KD announces 3 packets, holds 2", 2, 0, 0, {{64, "0003"}}, GDOI_ERR_TRUNCATED, 17, 136 },
	{ "KD announces 65535 packets", 2, 0, 0, {{64, "ffff"}}, GDOI_ERR_TRUNCATED, 17, 64 },
	{ "KD RESERVED2 not zero", 2, 0, 0, {{67, "01"}}, GDOI_ERR_RESERVED, 17, 66 },
	{ "key packet overruns the KD", 2, 0, 0, {{70, "0100"}}, GDOI_ERR_TRUNCATED, 17, 70 },
	{ "SID key packet with an SPI", 2, 0, 0, {{115, "01"}}, GDOI_ERR_VALUE, 17, 115 },
	{ "KD announces 1 packet, holds 2", 2, 0, 0, {{64, "0001"}}, GDOI_ERR_TRAILING, 17, 111 },
	{ "key packet RESERVED not zero", 2, 0, 0, {{69, "01"}}, GDOI_ERR_RESERVED, 17, 69 },

	{ "Proposal without transforms", 3, 0, 0, {{47, "00"}}, GDOI_ERR_VALUE, 2, 47 },
	{ "Transform followed by an ID", 3, 0, 0, {{48, "05"}}, GDOI_ERR_PAYLOAD_TYPE, 3, 76 },
	{ "fewer Transforms than announced", 3, 0, 0, {{47, "02"}}, GDOI_ERR_VALUE, 2, 47 },
	{ "Proposal followed by a Transform", 3, 0, 0, {{40, "03"}}, GDOI_ERR_PAYLOAD_TYPE, 2, 76 },
	{ "Transform RESERVED2 not zero", 3, 0, 0, {{55, "01"}}, GDOI_ERR_RESERVED, 3, 54 },
};

static uint8_t *make(const struct mutation *mu, size_t *len)
{
	size_t blen;
	uint8_t *b = hex_alloc(bases[mu->base], &blen);
	uint8_t *nb = realloc(b, blen + mu->append);
	if (!nb) {
		free(b);
		*len = 0;
		fail_msg("out of memory");
		return NULL;	/* not reached: fail_msg ends the test */
	}
	b = nb;
	memset(b + blen, 0, mu->append);
	blen += mu->append;
	for (int i = 0; i < 2 && mu->set[i].hex; i++) {
		uint8_t v[8];
		long n = gdoi_hex_decode(mu->set[i].hex, v, sizeof(v));
		assert_true(n > 0 && mu->set[i].off + (size_t)n <= blen);
		memcpy(b + mu->set[i].off, v, (size_t)n);
	}
	*len = mu->truncate ? mu->truncate : blen;
	return b;
}

static void test_wire_parses_base_messages_in_canonical_form(void **s)
{
	(void)s;
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		uint8_t *b = hex_alloc(bases[i], &len);
		struct gdoi_msg *m = NULL;
		struct gdoi_parse_error err;
		assert_int_equal(gdoi_msg_parse(b, len, &m, &err), 0);
		assert_int_equal(m->hdr.length, len);
		/* And they are in the canonical form the builder emits. */
		struct gdoi_writer w;
		gdoi_writer_init(&w);
		assert_int_equal(gdoi_msg_build(&w, &m->hdr, m->pl, m->npl, NULL), 0);
		assert_bytes_equal(w.buf, w.len, b, len);
		gdoi_writer_free(&w);
		gdoi_msg_free(m);
		free(b);
	}
}

static void test_wire_refuses_each_mutation_naming_payload_and_offset(void **s)
{
	(void)s;
	size_t bad = 0;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 30);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mutation *mu = &cases[i];
		size_t len;
		uint8_t *b = make(mu, &len);
		struct gdoi_msg *m = NULL;
		struct gdoi_parse_error err;
		int rc = gdoi_msg_parse(b, len, &m, &err);
		if (rc != mu->code || (rc && (err.payload != mu->payload || err.offset != mu->offset))) {
			char msg[256] = "parsed";
			if (rc)
				gdoi_parse_error_format(&err, msg, sizeof(msg));
			print_error("case %zu \"%s\": want %s / payload %u / offset %zu; got rc %d: %s\n",
				    i, mu->name, gdoi_strerror(mu->code), mu->payload, mu->offset, rc, msg);
			bad++;
		}
		assert_null(m);
		gdoi_msg_free(m);
		free(b);
	}
	assert_int_equal(bad, 0);
}

/* Every prefix of every valid base is rejected cleanly (no crash, no leak). */
static void test_wire_refuses_every_truncation_cleanly(void **s)
{
	(void)s;
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		uint8_t *b = hex_alloc(bases[i], &len);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, b, cut);
			if (cut >= 28)
				gdoi_put_u32(copy + 24, (uint32_t)cut);	/* Length agrees */
			struct gdoi_msg *m = NULL;
			int rc = gdoi_msg_parse(copy, cut, &m, NULL);
			assert_true(rc < 0);
			assert_null(m);
			free(copy);
		}
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_parses_base_messages_in_canonical_form),
		cmocka_unit_test(test_wire_refuses_each_mutation_naming_payload_and_offset),
		cmocka_unit_test(test_wire_refuses_every_truncation_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
