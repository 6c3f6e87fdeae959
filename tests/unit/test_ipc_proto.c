/*
 * test_ipc_proto.c - docs/ipc.md request parsing: every op, group by number
 * and by name, and each error reply (bad_json, bad_request, unknown_op) with
 * the id echoed only when the request had one.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/proto.h"
#include "ipc/snapshot.h"

static json_t *parse(const char *line, struct ipc_request *r, bool *blank)
{
	return ipc_request_parse(line, strlen(line), r, blank);
}

static void test_request_parse_accepts_every_op_and_blank_line(void **state)
{
	struct ipc_request r;
	bool blank;
	(void)state;
	assert_null(parse("{\"op\":\"hello\",\"id\":[1,2],\"protocol\":1,\"extra\":{}}", &r, &blank));
	assert_int_equal(r.op, IPC_OP_HELLO);
	assert_int_equal(r.protocol, 1);
	assert_true(json_is_array(r.id));
	ipc_request_free(&r);
	assert_null(parse("{\"op\":\"get\",\"group\":4711}", &r, &blank));
	assert_int_equal(r.op, IPC_OP_GET);
	assert_false(r.group.by_name);
	assert_int_equal(r.group.id, 4711);
	assert_null(r.id);
	ipc_request_free(&r);
	assert_null(parse("{\"op\":\"subscribe\",\"group\":\"audio\"}", &r, &blank));
	assert_true(r.group.by_name);
	assert_string_equal(r.group.name, "audio");
	ipc_request_free(&r);
	assert_null(parse("{\"op\":\"status\"}", &r, &blank));
	assert_int_equal(r.op, IPC_OP_STATUS);
	ipc_request_free(&r);
	assert_null(parse(" \t\r", &r, &blank));
	assert_true(blank);
}

static const struct { const char *line, *code; bool id; } bad[] = {
	{ "not json", "bad_json", false },
	{ "[1,2]", "bad_json", false },
	{ "\"op\"", "bad_json", false },
	{ "{\"op\":\"get\",\"op\":\"get\"}", "bad_json", false },
	{ "{\"op\":\"hello\"", "bad_json", false },
	{ "{\"op\":\"hello\"}{}", "bad_json", false },
	{ "{\"id\":1}", "bad_request", true },
	{ "{\"op\":5,\"id\":1}", "bad_request", true },
	{ "{\"op\":\"fly\",\"id\":1}", "unknown_op", true },
	{ "{\"op\":\"HELLO\",\"id\":1}", "unknown_op", true },
	{ "{\"op\":\"get\",\"id\":1}", "bad_request", true },
	{ "{\"op\":\"get\",\"group\":-1,\"id\":1}", "bad_request", true },
	{ "{\"op\":\"get\",\"group\":4294967296,\"id\":1}", "bad_request", true },
	{ "{\"op\":\"get\",\"group\":\"\",\"id\":1}", "bad_request", true },
	{ "{\"op\":\"unsubscribe\",\"group\":1.5,\"id\":1}", "bad_request", true },
	{ "{\"op\":\"subscribe\",\"group\":null,\"id\":1}", "bad_request", true },
	{ "{\"op\":\"hello\",\"protocol\":\"1\",\"id\":1}", "bad_request", true },
};

static void test_request_parse_refuses_bad_json_and_fields_with_error_code(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ipc_request r;
		bool blank;
		json_t *e = parse(bad[i].line, &r, &blank);
		if (!e) {
			print_error("case %zu accepted: %s\n", i, bad[i].line);
			fail();
		}
		assert_false(json_is_true(json_object_get(e, "ok")));
		assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
				    bad[i].code);
		assert_non_null(json_string_value(json_object_get(json_object_get(e, "error"), "message")));
		assert_int_equal(json_object_get(e, "id") != NULL, bad[i].id);
		assert_null(r.root);
		json_decref(e);
	}
	/* invalid UTF-8 and an embedded NUL */
	struct ipc_request r;
	bool blank;
	json_t *e = ipc_request_parse("{\"op\":\"\xff\"}", 10, &r, &blank);
	assert_non_null(e);
	json_decref(e);
	e = ipc_request_parse("{\"op\":\"a\0b\"}", 12, &r, &blank);
	assert_non_null(e);
	json_decref(e);
}

/* The transport layer takes any op (gdoi-ks's admin ops too); the sidecar layer refuses
 * what it does not know, keeping the id. */
static void test_request_from_message_refuses_unknown_op_keeping_id(void **state)
{
	struct ipc_message m;
	struct ipc_request r;
	bool blank;
	(void)state;
	assert_null(ipc_message_parse("{\"op\":\"evict\",\"id\":[1]}", 23, &m, &blank));
	assert_false(blank);
	assert_string_equal(m.op, "evict");
	assert_true(json_is_array(m.id));
	json_t *e = ipc_request_from_message(&m, &r);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "unknown_op");
	assert_true(json_equal(json_object_get(e, "id"), m.id));
	json_decref(e);
	ipc_message_free(&m);
	assert_null(ipc_message_parse("{\"op\":\"get\",\"group\":7}", 22, &m, &blank));
	assert_null(ipc_request_from_message(&m, &r));
	ipc_message_free(&m);	/* the request holds its own reference */
	assert_int_equal(r.op, IPC_OP_GET);
	assert_int_equal(r.group.id, 7);
	ipc_request_free(&r);
	e = ipc_message_parse("{\"op\":\"status\"}\0{\"op\":\"evict\"}", 30, &m, &blank);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "bad_json");
	assert_null(m.root);
	json_decref(e);
}

/* A message without an op (a parse whose error reply could not be made leaves one)
 * is refused, not read: failed before (strcmp of NULL, SEGV). */
static void test_request_from_message_refuses_a_message_without_op(void **state)
{
	struct ipc_message m = { 0 };
	struct ipc_request r;
	(void)state;
	json_t *e = ipc_request_from_message(&m, &r);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "bad_request");
	json_decref(e);
}

static void test_encode_line_escapes_newlines_and_refuses_over_limit(void **state)
{
	size_t len;
	(void)state;
	json_t *o = ipc_reply_error(NULL, IPC_E_TOO_LONG, "x\ny");
	char *l = ipc_encode_line(o, &len);
	assert_non_null(l);
	assert_int_equal(strlen(l), len);
	assert_int_equal(l[len - 1], '\n');
	assert_null(memchr(l, '\n', len - 1));	/* the newline in the message is escaped */
	free(l);
	json_decref(o);
	char *big = malloc(IPC_MAX_LINE + 1);
	memset(big, 'a', IPC_MAX_LINE);
	big[IPC_MAX_LINE] = 0;
	o = json_string(big);
	assert_null(ipc_encode_line(o, &len));	/* would pass the limit */
	json_decref(o);
	free(big);
}

/* The reply's code and a message that is a JSON string (jansson refuses invalid UTF-8). */
static void assert_error_reply(json_t *e, const char *code)
{
	assert_non_null(e);
	json_t *err = json_object_get(e, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")), code);
	assert_non_null(json_string_value(json_object_get(err, "message")));
	json_decref(e);
}

/* What fuzz_ipc found (tests/fuzz/regressions/fuzz_ipc-bad-escape-cut-character): jansson
 * names the bad escape in "\ U+0575 (d5 b5) by its first octet alone, the error reply
 * could not hold that text, and the line came back as a message without root or op. */
static void test_parse_error_that_cuts_a_character_is_still_an_error_reply(void **state)
{
	struct ipc_message m;
	bool blank;
	(void)state;
	json_t *e = ipc_message_parse("\"\\\xd5\xb5", 4, &m, &blank);
	assert_false(blank);
	assert_null(m.root);
	assert_error_reply(e, "bad_json");
}

/* An unknown op is named in the reply cut to 64 octets: the cut falls inside a character. */
static void test_unknown_op_named_up_to_a_cut_character_is_still_refused(void **state)
{
	struct ipc_message m;
	struct ipc_request r;
	bool blank;
	char line[128];
	(void)state;
	snprintf(line, sizeof(line), "{\"op\":\"%s\xc3\xa9\"}",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_null(ipc_message_parse(line, strlen(line), &m, &blank));
	assert_error_reply(ipc_request_from_message(&m, &r), "unknown_op");
	assert_null(r.root);
	ipc_message_free(&m);
}

/* Whole characters of 2, 3 and 4 octets stay; an overlong NUL, a surrogate, a lone
 * continuation octet and a cut character become '?' octet by octet. */
static void test_error_message_keeps_whole_characters_and_marks_the_rest(void **state)
{
	(void)state;
	json_t *e = ipc_reply_error(NULL, IPC_E_BAD_JSON, "%s", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5"
				    "|\xc0\x80|\xed\xa0\x80|\x80|\xe2\x82");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "message")),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5|??|???|?|??");
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse_accepts_every_op_and_blank_line),
		cmocka_unit_test(test_request_from_message_refuses_unknown_op_keeping_id),
		cmocka_unit_test(test_request_from_message_refuses_a_message_without_op),
		cmocka_unit_test(test_request_parse_refuses_bad_json_and_fields_with_error_code),
		cmocka_unit_test(test_encode_line_escapes_newlines_and_refuses_over_limit),
		cmocka_unit_test(test_parse_error_that_cuts_a_character_is_still_an_error_reply),
		cmocka_unit_test(test_unknown_op_named_up_to_a_cut_character_is_still_refused),
		cmocka_unit_test(test_error_message_keeps_whole_characters_and_marks_the_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
