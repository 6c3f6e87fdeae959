/*
 * proto.c - docs/ipc.md requests and replies (see proto.h).
 */
#include "ipc/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/snapshot.h"

static const char *const op_names[] = {
	[IPC_OP_HELLO] = "hello",
	[IPC_OP_GROUPS] = "groups",
	[IPC_OP_GET] = "get",
	[IPC_OP_SUBSCRIBE] = "subscribe",
	[IPC_OP_UNSUBSCRIBE] = "unsubscribe",
	[IPC_OP_STATUS] = "status",
	[IPC_OP_LEASE] = "lease",
};

const char *ipc_op_name(enum ipc_op op)
{
	if ((size_t)op < sizeof op_names / sizeof op_names[0] && op_names[op])
		return op_names[op];
	return "?";
}

void ipc_group_ref_str(const struct ipc_group_ref *g, char *buf, size_t len)
{
	if (g->by_name)
		snprintf(buf, len, "\"%.64s\"", g->name);
	else
		snprintf(buf, len, "%u", (unsigned)g->id);
}

json_t *ipc_reply_ok(const json_t *id)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "ok", json_true()) ||
	    (id && json_object_set(o, "id", (json_t *)id))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ipc_reply_error(const json_t *id, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *o = json_object(), *e = json_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!o || !e || json_object_set_new(o, "ok", json_false()) ||
	    (id && json_object_set(o, "id", (json_t *)id)) ||
	    json_object_set_new(e, "code", json_string(code)) ||
	    json_object_set_new(e, "message", json_string(msg))) {
		json_decref(o);
		json_decref(e);
		return NULL;
	}
	if (json_object_set_new(o, "error", e)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

json_t *ipc_request_parse(const char *line, size_t len, struct ipc_request *req, bool *blank)
{
	json_error_t jerr;
	json_t *root, *op, *g, *v;
	const char *name;
	size_t i;

	memset(req, 0, sizeof *req);
	req->protocol = -1;
	*blank = false;
	if (is_blank(line, len)) {
		*blank = true;
		return NULL;
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ipc_reply_error(NULL, IPC_E_BAD_JSON, "not JSON: %s (column %d)", jerr.text,
				       jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return ipc_reply_error(NULL, IPC_E_BAD_JSON, "not a JSON object");
	}
	req->root = root;
	req->id = json_object_get(root, "id");
	op = json_object_get(root, "op");
	if (!op || !json_is_string(op)) {
		json_t *e = ipc_reply_error(req->id, IPC_E_BAD_REQUEST, "\"op\" %s",
					    op ? "is not a string" : "missing");
		ipc_request_free(req);
		return e;
	}
	name = json_string_value(op);
	for (i = 1; i < sizeof op_names / sizeof op_names[0]; i++)
		if (strcmp(op_names[i], name) == 0)
			break;
	if (i == sizeof op_names / sizeof op_names[0]) {
		json_t *e = ipc_reply_error(req->id, IPC_E_UNKNOWN_OP, "unknown op \"%.64s\"", name);
		ipc_request_free(req);
		return e;
	}
	req->op = (enum ipc_op)i;
	g = json_object_get(root, "group");
	if (req->op == IPC_OP_GET || req->op == IPC_OP_SUBSCRIBE || req->op == IPC_OP_UNSUBSCRIBE ||
	    req->op == IPC_OP_LEASE) {
		const char *why = NULL;
		if (!g)
			why = "\"group\" missing";
		else if (json_is_integer(g)) {
			if (json_integer_value(g) < 0 || json_integer_value(g) > (json_int_t)UINT32_MAX)
				why = "\"group\" out of range";
			req->group.id = (uint32_t)json_integer_value(g);
		} else if (json_is_string(g)) {
			req->group.by_name = true;
			req->group.name = json_string_value(g);
			if (!*req->group.name)
				why = "\"group\" is empty";
		} else {
			why = "\"group\" is neither a number nor a name";
		}
		if (why) {
			json_t *e = ipc_reply_error(req->id, IPC_E_BAD_REQUEST, "%s", why);
			ipc_request_free(req);
			return e;
		}
		req->has_group = true;
	}
	if (req->op == IPC_OP_HELLO && (v = json_object_get(root, "protocol"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535) {
			json_t *e = ipc_reply_error(req->id, IPC_E_BAD_REQUEST,
						    "\"protocol\" is not a version number");
			ipc_request_free(req);
			return e;
		}
		req->protocol = (long)json_integer_value(v);
	}
	return NULL;
}

void ipc_request_free(struct ipc_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof *req);
}

char *ipc_encode_line(const json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT), *line;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (n + 1 > IPC_MAX_LINE) {
		explicit_bzero(s, n);
		free(s);
		return NULL;
	}
	line = realloc(s, n + 2);
	if (!line) {
		explicit_bzero(s, n);
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}
