/*
 * test_ipc_proto.c - docs/ipc.md request parsing: every op, group by number
 * and by name, and each error reply (bad_json, bad_request, unknown_op) with
 * the id echoed only when the request had one.
 */
#include "tests/lib/testutil.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse_accepts_every_op_and_blank_line),
		cmocka_unit_test(test_request_from_message_refuses_unknown_op_keeping_id),
		cmocka_unit_test(test_request_from_message_refuses_a_message_without_op),
		cmocka_unit_test(test_request_parse_refuses_bad_json_and_fields_with_error_code),
		cmocka_unit_test(test_encode_line_escapes_newlines_and_refuses_over_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
