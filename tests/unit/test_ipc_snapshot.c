/*
 * test_ipc_snapshot.c - the docs/ipc.md snapshot: JSON round trip, profile
 * names, base64, and every refusal of the strict reader.
 */
#include "tests/lib/testutil.h"

#include <string.h>

#include "ipc/base64.h"
#include "ipc/snapshot.h"

static void sample(struct ipc_snapshot *s)
{
	memset(s, 0, sizeof *s);
	s->group = 4711;
	strcpy(s->name, "audio");
	s->version = 7;
	strcpy(s->keyserver, "127.0.0.1:848");
	s->seq = 3;
	s->updated = 1795477342;	/* 2026-11-23T23:42:22Z */
	s->atd = 2;
	s->dtd = 10;
	s->nssrcs = 2;
	s->ssrcs[0] = 65536;
	s->ssrcs[1] = 0xffffffffu;
	s->nteks = 2;
	for (int i = 0; i < 2; i++) {
		struct ipc_tek *t = &s->teks[i];
		t->spi = i ? 0xa1b2c3d4u : 1;
		t->profile_id = i ? 8 : 1;
		t->master_key_len = i ? 32 : 16;
		t->master_salt_len = i ? 12 : 14;
		for (size_t k = 0; k < t->master_key_len; k++)
			t->master_key[k] = (uint8_t)(k * 7 + i);
		for (size_t k = 0; k < t->master_salt_len; k++)
			t->master_salt[k] = (uint8_t)(0xf0 - k);
		t->mki = i;
		t->srtcp = true;
		strcpy(t->dst_addr, i ? "ff0e::1" : "239.1.2.3");
		t->dst_port = 5004;
		strcpy(t->src_addr, "0.0.0.0");
		t->not_before = s->updated + 2 * i;
		t->not_after = s->updated + 3600;
		t->replay_window = 128;
		t->allow_repeat_tx = i;
		t->ssrc_assigned = !i;
	}
}

static void test_snapshot_survives_json_round_trip_and_clear_wipes(void **state)
{
	struct ipc_snapshot a, b;
	char err[200];
	(void)state;
	sample(&a);
	json_t *j = ipc_snapshot_to_json(&a);
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(text, "\"updated\":\"2026-11-23T23:42:22Z\""));
	assert_non_null(strstr(text, "\"mki\":null"));
	assert_non_null(strstr(text, "\"mki\":\"a1b2c3d4\""));
	assert_non_null(strstr(text, "\"spi_hex\":\"00000001\""));
	assert_non_null(strstr(text, "\"profile\":\"SRTP_AEAD_AES_256_GCM\""));
	free(text);
	assert_int_equal(ipc_snapshot_from_json(j, &b, err, sizeof err), 0);
	assert_memory_equal(&a, &b, sizeof a);
	json_decref(j);
	ipc_snapshot_clear(&b);
	assert_int_equal(b.teks[0].master_key[1], 0);
}

/* "senders": absent stays absent, [] is a list, up to IPC_MAX_SENDERS round-trip, one more
 * is refused. */
static void test_snapshot_keeps_senders_absent_empty_or_full_refuses_one_more(void **state)
{
	static struct ipc_snapshot a, b;
	char err[200];
	(void)state;
	sample(&a);
	for (int k = 0; k < 3; k++) {
		a.has_senders = k > 0;
		a.nsenders = k == 2 ? IPC_MAX_SENDERS : 0;
		for (size_t i = 0; i < a.nsenders; i++)
			a.senders[i] = 4000000000u - (uint32_t)(IPC_MAX_SENDERS - i);
		json_t *j = ipc_snapshot_to_json(&a);
		assert_non_null(j);
		assert_int_equal(json_object_get(j, "senders") != NULL, k > 0);
		assert_int_equal(ipc_snapshot_from_json(j, &b, err, sizeof err), 0);
		assert_memory_equal(&a, &b, sizeof a);
		if (k == 2) {
			json_array_append_new(json_object_get(j, "senders"), json_integer(1));
			assert_int_equal(ipc_snapshot_from_json(j, &b, err, sizeof err), -1);
			assert_non_null(strstr(err, "more than 256 senders"));
		}
		json_decref(j);
	}
	ipc_snapshot_clear(&a);
	ipc_snapshot_clear(&b);
}

static void test_profile_names_map_both_ways_unknown_gives_none(void **state)
{
	(void)state;
	assert_string_equal(ipc_profile_name(1), "SRTP_AES128_CM_HMAC_SHA1_80");
	assert_string_equal(ipc_profile_name(7), "SRTP_AEAD_AES_128_GCM");
	assert_null(ipc_profile_name(3));
	assert_int_equal(ipc_profile_from_name("SRTP_AES128_CM_HMAC_SHA1_32"), 2);
	assert_int_equal(ipc_profile_from_name("SRTP_NULL_HMAC_SHA1_32"), 6);
	assert_int_equal(ipc_profile_from_name("AES128_CM_HMAC_SHA1_80"), 0);
	assert_int_equal(ipc_profile_from_name(NULL), 0);
}

static void test_b64_matches_rfc4648_vectors_refuses_bad_input(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[16];
	uint8_t back[16];
	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ipc_b64_encode((const uint8_t *)v[i].in, strlen(v[i].in), out);
		assert_string_equal(out, v[i].out);
		assert_int_equal(ipc_b64_decode(v[i].out, back, sizeof back), (long)strlen(v[i].in));
		assert_memory_equal(back, v[i].in, strlen(v[i].in));
	}
	assert_int_equal(ipc_b64_decode("Zm9", back, sizeof back), -1);
	assert_int_equal(ipc_b64_decode("Zh==", back, sizeof back), -1);	/* trailing bits */
	assert_int_equal(ipc_b64_decode("Zm9v\n", back, sizeof back), -1);
	assert_int_equal(ipc_b64_decode("Z=9v", back, sizeof back), -1);
	assert_int_equal(ipc_b64_decode("Zm9vYmFy", back, 5), -1);	/* too long for out */
}

/* Each case edits the sample's JSON one way; the reader must refuse it with
 * a reason mentioning `why`. */
struct refusal {
	const char *path;	/* "member" or "teks/N/member" or "teks/N/destination/member" */
	const char *json;	/* replacement value as JSON, NULL = delete */
	const char *why;
};

static const struct refusal refusals[] = {
	{ "group", NULL, "\"group\" missing" },
	{ "group", "\"4711\"", "\"group\" is not an integer" },
	{ "group", "-1", "\"group\" out of range" },
	{ "group", "4294967296", "\"group\" out of range" },
	{ "name", "7", "\"name\" is not a string" },
	{ "name", "\"0123456789012345678901234567890123456789012345678901234567890123\"", "too long" },
	{ "version", "1.5", "\"version\" is not an integer" },
	{ "keyserver", NULL, "\"keyserver\" missing" },
	{ "seq", "null", "\"seq\" is not an integer" },
	{ "updated", "\"2026-11-23 23:42:22Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T23:42:22+01:00\"", "RFC 3339" },
	{ "updated", "\"2026-13-23T23:42:22Z\"", "RFC 3339" },
	{ "updated", "1795477342", "not a string" },
	/* times timegm would take and normalise, or gmtime could not write back */
	{ "updated", "\"1969-12-31T23:59:59Z\"", "RFC 3339" },
	{ "updated", "\"0937-11-23T23:42:22Z\"", "RFC 3339" },
	{ "updated", "\"2026-02-31T12:00:00Z\"", "RFC 3339" },
	{ "updated", "\"2026-02-29T12:00:00Z\"", "RFC 3339" },
	{ "updated", "\"2026-04-31T12:00:00Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T23:42:60Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T24:00:00Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T23:60:00Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-00T23:42:22Z\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T23:42:2aZ\"", "RFC 3339" },
	{ "updated", "\"2026-11-23T23:42:22\"", "RFC 3339" },
	{ "atd", "65536", "\"atd\" out of range" },
	{ "dtd", "true", "\"dtd\" is not an integer" },
	{ "ssrcs", "{}", "\"ssrcs\" missing or not an array" },
	{ "ssrcs", "[1, -2]", "ssrcs[1]" },
	{ "ssrcs", "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]", "more than 16 ssrcs" },
	{ "teks", NULL, "\"teks\" missing or not an array" },
	{ "teks", "[1]", "teks[0]: not an object" },
	{ "teks/0/spi", "\"1\"", "teks[0]: \"spi\" is not an integer" },
	{ "teks/0/spi_hex", "\"00000002\"", "\"spi_hex\" does not match" },
	{ "teks/1/profile", "\"SRTP_AEAD_AES_128_GCM\"", "\"profile\" does not match" },
	{ "teks/0/profile_id", "3", "unknown profile_id 3" },
	{ "teks/0/master_key", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", "not base64 of 16 octets" },
	{ "teks/0/master_key", "\"AAAA AAAAAAAAAAAAAAAAAA==\"", "not base64 of 16 octets" },
	{ "teks/1/master_salt", "\"AAAAAAAAAAAAAAAAAAA=\"", "not base64 of 12 octets" },
	{ "teks/0/mki", NULL, "\"mki\" missing" },
	{ "teks/0/mki", "\"a1b2c3d4\"", "\"mki\" is not the SPI" },
	{ "teks/0/mki", "false", "neither null nor a string" },
	{ "teks/0/srtcp", "1", "\"srtcp\" is not a boolean" },
	{ "teks/0/destination", "\"239.1.2.3\"", "\"destination\" missing or not an object" },
	{ "teks/0/destination/address", "\"mcast.example\"", "not a numeric IP address" },
	{ "teks/0/destination/port", "65536", "\"port\" out of range" },
	{ "teks/0/source/prefix", "33", "\"prefix\" out of range" },
	{ "teks/0/source", NULL, "\"source\" missing" },
	{ "teks/0/not_before", "\"2026-11-24T00:42:23Z\"", "\"not_after\" before \"not_before\"" },
	{ "teks/0/not_after", NULL, "\"not_after\" missing" },
	{ "teks/0/replay_window", "-5", "out of range" },
	{ "teks/1/allow_repeat_tx", "\"no\"", "is not a boolean" },
	{ "teks/1/ssrc_assigned", NULL, "\"ssrc_assigned\" missing" },
};

/* Valid times read back to the second they name, and write back unchanged. */
static void test_snapshot_reads_valid_times_and_writes_them_back(void **state)
{
	static const struct {
		const char *text;
		int64_t t;
	} valid[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-02-29T12:00:00Z", 951825600 },	/* a leap day */
		{ "2024-12-31T23:59:59Z", 1735689599 },
		{ "2026-11-23T23:42:22Z", 1795477342 },
		{ "2038-01-19T03:14:08Z", 2147483648 },	/* past 32-bit time_t */
	};
	struct ipc_snapshot a, b;
	char err[200];
	(void)state;
	sample(&a);
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		json_t *j = ipc_snapshot_to_json(&a);
		json_object_set_new(j, "updated", json_string(valid[i].text));
		err[0] = '\0';
		if (ipc_snapshot_from_json(j, &b, err, sizeof err)) {
			print_error("%s refused: %s\n", valid[i].text, err);
			fail();
		}
		assert_int_equal(b.updated, valid[i].t);
		json_t *back = ipc_snapshot_to_json(&b);
		assert_string_equal(json_string_value(json_object_get(back, "updated")), valid[i].text);
		json_decref(back);
		json_decref(j);
		ipc_snapshot_clear(&b);
	}
}

static void test_snapshot_refuses_each_bad_field_naming_why(void **state)
{
	struct ipc_snapshot a, b;
	char err[200];
	(void)state;
	sample(&a);
	json_t *one = json_integer(1);
	assert_int_equal(ipc_snapshot_from_json(one, &b, err, sizeof err), -1);
	json_decref(one);
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *r = &refusals[i];
		json_t *j = ipc_snapshot_to_json(&a), *parent = j;
		char path[64], *save = NULL, *tok, *last = NULL;
		strcpy(path, r->path);
		for (tok = strtok_r(path, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
			if (last)
				parent = json_is_array(parent) ? json_array_get(parent, (size_t)atoi(last))
							       : json_object_get(parent, last);
			last = tok;
		}
		if (r->json) {
			json_error_t e;
			json_t *v = json_loads(r->json, JSON_DECODE_ANY, &e);
			assert_non_null(v);
			json_object_set_new(parent, last, v);
		} else {
			json_object_del(parent, last);
		}
		err[0] = '\0';
		if (ipc_snapshot_from_json(j, &b, err, sizeof err) != -1 || !strstr(err, r->why)) {
			print_error("case %zu (%s): err \"%s\", want \"%s\"\n", i, r->path, err, r->why);
			fail();
		}
		assert_int_equal(b.nteks, 0);	/* nothing half-read survives */
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_survives_json_round_trip_and_clear_wipes),
		cmocka_unit_test(test_snapshot_keeps_senders_absent_empty_or_full_refuses_one_more),
		cmocka_unit_test(test_profile_names_map_both_ways_unknown_gives_none),
		cmocka_unit_test(test_b64_matches_rfc4648_vectors_refuses_bad_input),
		cmocka_unit_test(test_snapshot_reads_valid_times_and_writes_them_back),
		cmocka_unit_test(test_snapshot_refuses_each_bad_field_naming_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
