/*
 * test_member_route.c - the member's datagram routing (gdoi/member_route.c):
 * every exchange to its part, from the right source and socket only, header
 * faults named with their offset, SAs picked by their initiator cookie.
 */
#include "tests/lib/testutil.h"

#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/member_route.h"
#include "gdoi/numbers.h"
#include "tests/lib/p1pair.h"

/* A bare 28-octet header with this exchange and Message ID. */
static void hdr(uint8_t *b, const uint8_t icookie[8], uint8_t exchange, uint32_t msgid)
{
	memset(b, 0, GDOI_HDR_LEN);
	if (icookie)
		memcpy(b, icookie, 8);
	b[17] = 0x10;
	b[18] = exchange;
	gdoi_put_u32(b + 20, msgid);
	gdoi_put_u32(b + 24, GDOI_HDR_LEN);
}

static void test_route_by_exchange_source_and_socket(void **s)
{
	(void)s;
	uint8_t b[GDOI_HDR_LEN + 4];
	struct gdoi_member_route r;

	hdr(b, NULL, GDOI_EXCH_PULL, 0x01020304);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, true, &r), GDOI_MEMBER_PULL);
	assert_int_equal(r.hdr.msgid, 0x01020304);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, false, &r), GDOI_MEMBER_DROP);
	assert_string_equal(r.why, "not from the current key server");
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, true, true, &r), GDOI_MEMBER_DROP);
	assert_string_equal(r.why, "not a GROUPKEY-PUSH on the rekey group");

	/* pushes are signed: any source, either socket */
	hdr(b, NULL, GDOI_EXCH_PUSH, 0);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, false, &r), GDOI_MEMBER_PUSH);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, true, false, &r), GDOI_MEMBER_PUSH);

	hdr(b, NULL, GDOI_EXCH_IDENT_PROT, 0);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, true, &r), GDOI_MEMBER_PHASE1);
	hdr(b, NULL, GDOI_EXCH_INFO, 7);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, true, &r), GDOI_MEMBER_PHASE1);
	hdr(b, NULL, GDOI_EXCH_AGGRESSIVE, 0);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, true, &r), GDOI_MEMBER_DROP);
	assert_string_equal(r.why, "exchange type we do not take");
}

static void test_route_header_faults_named(void **s)
{
	(void)s;
	uint8_t b[GDOI_HDR_LEN + 4];
	struct gdoi_member_route r;

	hdr(b, NULL, GDOI_EXCH_PUSH, 0);
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN - 1, false, true, &r), GDOI_MEMBER_DROP);
	assert_int_equal(r.err.code, GDOI_ERR_TRUNCATED);
	assert_int_equal(gdoi_member_route(NULL, 0, false, true, &r), GDOI_MEMBER_DROP);
	assert_int_equal(r.err.code, GDOI_ERR_TRUNCATED);
	/* octets past Length */
	assert_int_equal(gdoi_member_route(b, sizeof b, false, true, &r), GDOI_MEMBER_DROP);
	assert_int_equal(r.err.offset, 24);
	/* an IKEv2 header is not ours (gdoi_engine_classify tells the front ends apart) */
	b[17] = 0x20;
	assert_int_equal(gdoi_member_route(b, GDOI_HDR_LEN, false, true, &r), GDOI_MEMBER_DROP);
	assert_int_equal(r.err.code, GDOI_ERR_VERSION);
	assert_int_equal(r.err.offset, 17);
}

static void test_route_sa_by_initiator_cookie(void **s)
{
	(void)s;
	struct p1pair p;
	uint8_t ic[8], rc[8], b[GDOI_HDR_LEN];
	struct gdoi_member_route r;

	p1pair_establish(&p, 0);
	gdoi_p1_cookies(p.gm, ic, rc);
	hdr(b, ic, GDOI_EXCH_INFO, 1);
	assert_int_equal(gdoi_member_route(b, sizeof b, false, true, &r), GDOI_MEMBER_PHASE1);
	struct gdoi_p1_sa *const sas[2] = { NULL, p.gm };
	assert_ptr_equal(gdoi_member_route_sa(sas, 2, &r.hdr), p.gm);
	r.hdr.icookie[7] ^= 1;
	assert_null(gdoi_member_route_sa(sas, 2, &r.hdr));
	assert_null(gdoi_member_route_sa(sas, 0, &r.hdr));
	p1pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_by_exchange_source_and_socket),
		cmocka_unit_test(test_route_header_faults_named),
		cmocka_unit_test(test_route_sa_by_initiator_cookie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
