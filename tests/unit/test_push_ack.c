/*
 * test_push_ack.c - the RFC 8263 GROUPKEY-PUSH acknowledgement codec
 * (gdoi/push_ack.h): known answers for both KEK methods, computed outside this
 * code (Python's hmac, from the layout in push_ack.h), compared byte for byte;
 * parse and verify of what the builder made; every way an ACK is refused.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "gdoi/push_ack.h"

static const uint8_t member_ip[4] = { 127, 0, 0, 1 };

/* KEK: AES-128, key 00..0f, SPI 10..1f; SEQ 7; ID_IPV4_ADDR 127.0.0.1. */
static const char *const kat_sha256 =
	"101112131415161718191a1b1c1d1e1f08102300000000000000005412000024ebe17febf08438e6d12a11"
	"ce6e54ada4ca570bc086ccf7c1a9cedf53c64ba2f405000008000000070000000c010000007f000001";
static const char *const kat_sha512 =
	"101112131415161718191a1b1c1d1e1f08102300000000000000007412000044d4119b1d9b2264c75827ad"
	"3fe29e1aae5a7611c307da43d801dcb435a8565ce76738b2971a70865f43faae09f7c317d8d780dcccd86f"
	"aaefa29d482124f43dcf05000008000000070000000c010000007f000001";

static void kat_kek(struct gdoi_kek_policy *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 16; i++) {
		k->spi[i] = (uint8_t)(0x10 + i);
		k->key[i] = (uint8_t)i;
	}
	k->alg = GDOI_KEK_ALG_AES;
	k->key_bits = 128;
	k->have_keys = true;
}

static struct gdoi_id member_id(void)
{
	struct gdoi_id id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(member_ip, 4) };
	return id;
}

static void known_answer(uint16_t method, const char *hex)
{
	struct gdoi_kek_policy kek;
	kat_kek(&kek);
	struct gdoi_id id = member_id();
	uint8_t *msg = NULL;
	size_t len = 0, wlen = 0;
	assert_int_equal(gdoi_push_ack_build(method, &kek, 7, &id, &msg, &len), 0);
	uint8_t *want = hex_alloc(hex, &wlen);
	assert_bytes_equal(msg, len, want, wlen);

	struct gdoi_push_ack a;
	char why[200];
	assert_int_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), 0);
	assert_memory_equal(a.kek_spi, kek.spi, GDOI_KEK_SPI_LEN);
	assert_int_equal(a.seq, 7);
	assert_int_equal(a.id.type, GDOI_ID_IPV4_ADDR);
	assert_int_equal(a.id.data.len, 4);
	assert_memory_equal(a.id.data.ptr, member_ip, 4);
	uint8_t key[GDOI_PUSH_ACK_KEY_MAX];
	size_t klen;
	assert_int_equal(gdoi_push_ack_key(method, &kek, key, &klen), 0);
	assert_int_equal(gdoi_push_ack_verify(method, key, klen, &a), 0);
	/* another KEK's key does not verify it */
	kek.key[0] ^= 1;
	assert_int_equal(gdoi_push_ack_key(method, &kek, key, &klen), 0);
	assert_int_equal(gdoi_push_ack_verify(method, key, klen, &a), GDOI_ERR_AUTH);
	free(want);
	free(msg);
}

static void test_ack_matches_known_answer_sha256(void **s) { (void)s; known_answer(GDOI_REKEY_ACK_KEK_SHA256, kat_sha256); }
static void test_ack_matches_known_answer_sha512(void **s) { (void)s; known_answer(GDOI_REKEY_ACK_KEK_SHA512, kat_sha512); }

static void test_ack_refuses_bad_method_or_altered_octet(void **s)
{
	(void)s;
	struct gdoi_kek_policy kek;
	kat_kek(&kek);
	struct gdoi_id id = member_id();
	uint8_t *msg = NULL, key[GDOI_PUSH_ACK_KEY_MAX];
	size_t len = 0, klen = 0;
	struct gdoi_push_ack a;
	char why[200];
	/* LKH methods and unknown values */
	assert_false(gdoi_push_ack_method_ok(GDOI_REKEY_ACK_LKH_SHA256));
	assert_false(gdoi_push_ack_method_ok(GDOI_REKEY_ACK_LKH_SHA512));
	assert_false(gdoi_push_ack_method_ok(0));
	assert_int_equal(gdoi_push_ack_build(GDOI_REKEY_ACK_LKH_SHA256, &kek, 1, &id, &msg, &len),
			 GDOI_ERR_UNSUPPORTED);
	assert_null(msg);
	kek.have_keys = false;
	assert_int_equal(gdoi_push_ack_build(GDOI_REKEY_ACK_KEK_SHA256, &kek, 1, &id, &msg, &len),
			 GDOI_ERR_MISSING);
	kek.have_keys = true;

	assert_int_equal(gdoi_push_ack_build(GDOI_REKEY_ACK_KEK_SHA256, &kek, 9, &id, &msg, &len), 0);
	assert_int_equal(gdoi_push_ack_key(GDOI_REKEY_ACK_KEK_SHA256, &kek, key, &klen), 0);
	/* every octet of the hashed part and of the HASH matters */
	for (size_t i = GDOI_HDR_LEN + GDOI_GENERIC_HDR_LEN; i < len; i++) {
		if (i >= GDOI_HDR_LEN + 36 && i < GDOI_HDR_LEN + 40)
			continue;	/* the SEQ payload's generic header: a change there is a parse error */
		if (i >= GDOI_HDR_LEN + 44 && i < GDOI_HDR_LEN + 48)
			continue;	/* the ID payload's generic header, likewise */
		msg[i] ^= 0x40;
		int rc = gdoi_push_ack_parse(msg, len, &a, why, sizeof(why));
		if (!rc)
			assert_int_equal(gdoi_push_ack_verify(GDOI_REKEY_ACK_KEK_SHA256, key, klen, &a),
					 GDOI_ERR_AUTH);
		msg[i] ^= 0x40;
	}
	/* the method's hash length */
	assert_int_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), 0);
	assert_int_equal(gdoi_push_ack_verify(GDOI_REKEY_ACK_KEK_SHA512, key, klen, &a), GDOI_ERR_AUTH);
	/* encrypted flag, Message ID, exchange */
	msg[19] = GDOI_FLAG_ENC;
	assert_int_not_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), 0);
	msg[19] = 0;
	msg[23] = 1;
	assert_int_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), GDOI_ERR_VALUE);
	assert_non_null(strstr(why, "Message ID"));
	msg[23] = 0;
	msg[18] = GDOI_EXCH_PUSH;
	assert_int_not_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), 0);
	msg[18] = GDOI_EXCH_PUSH_ACK;
	/* truncated: a parse error naming the offset */
	assert_int_not_equal(gdoi_push_ack_parse(msg, len - 1, &a, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "offset"));
	/* payloads out of order: SEQ first */
	msg[16] = GDOI_PL_SEQ;
	assert_int_not_equal(gdoi_push_ack_parse(msg, len, &a, why, sizeof(why)), 0);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_matches_known_answer_sha256),
		cmocka_unit_test(test_ack_matches_known_answer_sha512),
		cmocka_unit_test(test_ack_refuses_bad_method_or_altered_octet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
