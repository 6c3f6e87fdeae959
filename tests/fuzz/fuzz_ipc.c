/*
 * fuzz_ipc.c - libFuzzer target for the IPC protocol's parsers (docs/ipc.md):
 * request lines (ipc_message_parse, ipc_request_from_message) and snapshot
 * objects (ipc_snapshot_from_json, as libgdoisrtp reads the sidecar's).
 *
 * Input: octet 0 bit 0 = what the rest is: 0 one request line, 1 a snapshot
 * (JSON text). Invariants (abort()): a line is either blank, a message, or
 * answered with an error object that encodes as one line; a request parsed is
 * a known op; a snapshot read writes back as JSON that reads again to the
 * same JSON text; every error string is terminated.
 * LeakSanitizer checks that everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ipc/proto.h"
#include "ipc/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(json_t *reply)
{
	size_t len;
	if (!json_is_object(reply) || json_is_true(json_object_get(reply, "ok")))
		abort();
	char *line = ipc_encode_line(reply, &len);
	if (!line || !len || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	free(line);
	json_decref(reply);
}

static void request(const char *line, size_t len)
{
	struct ipc_message msg;
	bool blank = false;
	json_t *err = ipc_message_parse(line, len, &msg, &blank);
	if (err) {
		check_reply(err);
		return;
	}
	if (blank)
		return;
	if (!json_is_object(msg.root) || !msg.op)
		abort();
	struct ipc_request req;
	err = ipc_request_from_message(&msg, &req);
	if (err) {
		check_reply(err);
	} else {
		if (!ipc_op_name(req.op))
			abort();
		if (req.has_group) {
			char g[300];
			ipc_group_ref_str(&req.group, g, sizeof(g));
			if (!memchr(g, 0, sizeof(g)))
				abort();
		}
		ipc_request_free(&req);
	}
	ipc_message_free(&msg);
}

static void snapshot(const char *text, size_t len)
{
	json_t *obj = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!obj)
		return;
	static struct ipc_snapshot s, s2;
	char err[256];
	memset(err, 0x55, sizeof(err));
	if (ipc_snapshot_from_json(obj, &s, err, sizeof(err)) == 0) {
		json_t *back = ipc_snapshot_to_json(&s);
		if (!back)
			abort();
		if (ipc_snapshot_from_json(back, &s2, err, sizeof(err)))
			abort();	/* what we write, we read */
		json_t *again = ipc_snapshot_to_json(&s2);
		char *a = json_dumps(back, JSON_SORT_KEYS | JSON_COMPACT);
		char *b = json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT);
		if (!a || !b || strcmp(a, b))
			abort();
		free(a);
		free(b);
		json_decref(again);
		json_decref(back);
		ipc_snapshot_clear(&s2);
	} else if (!memchr(err, 0, sizeof(err))) {
		abort();
	}
	ipc_snapshot_clear(&s);
	ipc_snapshot_json_wipe(obj);
	json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1)
		snapshot((const char *)data + 1, size - 1);
	else
		request((const char *)data + 1, size - 1);
	return 0;
}
