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

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlongs, no
 * surrogates, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

	for (size_t i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;	/* also stops at the terminating NUL */
	return n;
}

/* A message is text that came partly from the peer or from jansson's error, cut by
 * a precision or by the buffer: an octet that is not part of a whole character
 * becomes '?', or json_string would refuse the message and the reply with it. */
static void utf8_repair(char *s)
{
	while (*s) {
		size_t n = utf8_seq((const unsigned char *)s);
		if (n == 0) {
			*s++ = '?';
			continue;
		}
		s += n;
	}
}

json_t *ipc_reply_error(const json_t *id, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *o = json_object(), *e = json_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_repair(msg);
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

json_t *ipc_message_parse(const char *line, size_t len, struct ipc_message *msg, bool *blank)
{
	json_error_t jerr;
	json_t *root, *op;

	memset(msg, 0, sizeof *msg);
	*blank = false;
	if (is_blank(line, len)) {
		*blank = true;
		return NULL;
	}
	if (memchr(line, '\0', len))
		return ipc_reply_error(NULL, IPC_E_BAD_JSON, "a NUL octet at column %zu",
				       (size_t)((const char *)memchr(line, '\0', len) - line) + 1);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ipc_reply_error(NULL, IPC_E_BAD_JSON, "not JSON: %s (column %d)", jerr.text,
				       jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return ipc_reply_error(NULL, IPC_E_BAD_JSON, "not a JSON object");
	}
	msg->root = root;
	msg->id = json_object_get(root, "id");
	op = json_object_get(root, "op");
	if (!op || !json_is_string(op)) {
		json_t *e = ipc_reply_error(msg->id, IPC_E_BAD_REQUEST, "\"op\" %s",
					    op ? "is not a string" : "missing");
		ipc_message_free(msg);
		return e;
	}
	msg->op = json_string_value(op);
	return NULL;
}

void ipc_message_free(struct ipc_message *msg)
{
	json_decref(msg->root);
	memset(msg, 0, sizeof *msg);
}

static const char *group_ref(const json_t *g, struct ipc_group_ref *ref)
{
	if (!g)
		return "\"group\" missing";
	if (json_is_integer(g)) {
		if (json_integer_value(g) < 0 || json_integer_value(g) > (json_int_t)UINT32_MAX)
			return "\"group\" out of range";
		ref->id = (uint32_t)json_integer_value(g);
		return NULL;
	}
	if (json_is_string(g)) {
		ref->by_name = true;
		ref->name = json_string_value(g);
		return *ref->name ? NULL : "\"group\" is empty";
	}
	return "\"group\" is neither a number nor a name";
}

json_t *ipc_request_from_message(const struct ipc_message *msg, struct ipc_request *req)
{
	const json_t *v;
	size_t i;

	memset(req, 0, sizeof *req);
	req->protocol = -1;
	if (!msg->op)	/* a parse that could not make its error reply leaves no op */
		return ipc_reply_error(msg->id, IPC_E_BAD_REQUEST, "\"op\" missing");
	for (i = 1; i < sizeof op_names / sizeof op_names[0]; i++)
		if (op_names[i] && strcmp(op_names[i], msg->op) == 0)
			break;
	if (i == sizeof op_names / sizeof op_names[0])
		return ipc_reply_error(msg->id, IPC_E_UNKNOWN_OP, "unknown op \"%.64s\"", msg->op);
	req->op = (enum ipc_op)i;
	req->id = msg->id;
	if (req->op == IPC_OP_GET || req->op == IPC_OP_SUBSCRIBE || req->op == IPC_OP_UNSUBSCRIBE ||
	    req->op == IPC_OP_LEASE) {
		const char *why = group_ref(json_object_get(msg->root, "group"), &req->group);
		if (why)
			return ipc_reply_error(msg->id, IPC_E_BAD_REQUEST, "%s", why);
		req->has_group = true;
	}
	if (req->op == IPC_OP_HELLO && (v = json_object_get(msg->root, "protocol"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535)
			return ipc_reply_error(msg->id, IPC_E_BAD_REQUEST,
					       "\"protocol\" is not a version number");
		req->protocol = (long)json_integer_value(v);
	}
	req->root = json_incref(msg->root);
	return NULL;
}

json_t *ipc_request_parse(const char *line, size_t len, struct ipc_request *req, bool *blank)
{
	struct ipc_message msg;
	json_t *e = ipc_message_parse(line, len, &msg, blank);

	memset(req, 0, sizeof *req);
	req->protocol = -1;
	if (e || *blank)
		return e;
	e = ipc_request_from_message(&msg, req);
	ipc_message_free(&msg);
	return e;
}

void ipc_request_free(struct ipc_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof *req);
}

char *ipc_encode_line(const json_t *msg, size_t *len)
{
	return ipc_encode_line_max(msg, IPC_MAX_LINE, len);
}

/* json_dumps' text goes back to jansson's allocator (an application may have
 * installed its own: json_set_alloc_funcs), wiped: it may hold keys. */
static void dumps_free(char *s, size_t n)
{
	json_malloc_t m;
	json_free_t f;

	explicit_bzero(s, n);
	json_get_alloc_funcs(&m, &f);
	f(s);
}

char *ipc_encode_line_max(const json_t *msg, size_t max, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT), *line = NULL;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	/* not realloc: the copy it would leave behind is not wiped */
	if (n + 1 <= max && (line = malloc(n + 2)) != NULL) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
		*len = n + 1;
	}
	dumps_free(s, n);
	return line;
}
