/*
 * proto.h - docs/ipc.md requests and replies: parsing one request line
 * (with the error reply when it is not acceptable), building replies and
 * error objects, and encoding a message as one line.
 */
#ifndef IPC_PROTO_H
#define IPC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum ipc_op {
	IPC_OP_HELLO = 1,
	IPC_OP_GROUPS,
	IPC_OP_GET,
	IPC_OP_SUBSCRIBE,
	IPC_OP_UNSUBSCRIBE,
	IPC_OP_STATUS,
	IPC_OP_LEASE,			/* protocol 2 */
};

/* Error codes of docs/ipc.md. */
#define IPC_E_BAD_JSON "bad_json"
#define IPC_E_TOO_LONG "too_long"
#define IPC_E_BAD_REQUEST "bad_request"
#define IPC_E_UNKNOWN_OP "unknown_op"
#define IPC_E_UNKNOWN_GROUP "unknown_group"
#define IPC_E_NOT_AUTHORIZED "not_authorized"
#define IPC_E_NOT_REGISTERED "not_registered"
#define IPC_E_INTERNAL "internal"
#define IPC_E_NO_SSRC "no_ssrc"		/* protocol 2: no SSRC free to lease */

/* A group reference: the numeric GDOI group id or the configured name. */
struct ipc_group_ref {
	bool by_name;
	uint32_t id;
	const char *name;	/* points into the request */
};

struct ipc_request {
	json_t *root;		/* the whole request (owned) */
	const json_t *id;	/* borrowed from root; NULL when the request had none */
	enum ipc_op op;
	bool has_group;
	struct ipc_group_ref group;
	long protocol;		/* hello: the client's version, -1 if absent */
};

/*
 * Parses one line (without its newline). Returns NULL and fills req, or
 * returns the error reply to send (bad_json, bad_request, unknown_op); req
 * then needs no ipc_request_free. Lines holding only white space are not
 * requests: *blank is set and NULL returned with req->root NULL.
 */
json_t *ipc_request_parse(const char *line, size_t len, struct ipc_request *req, bool *blank);
void ipc_request_free(struct ipc_request *req);

const char *ipc_op_name(enum ipc_op op);
/* Formats a group reference for messages: "4711" or "\"audio\"". */
void ipc_group_ref_str(const struct ipc_group_ref *g, char *buf, size_t len);

/* {"ok":true[,"id":id]} - id is echoed only when the request carried one. */
json_t *ipc_reply_ok(const json_t *id);
/* {"ok":false[,"id":id],"error":{"code":code,"message":...}} */
json_t *ipc_reply_error(const json_t *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line: compact JSON and "\n" (malloc'd, *len includes the newline). NULL on
 * failure or when the line would pass IPC_MAX_LINE octets. */
char *ipc_encode_line(const json_t *msg, size_t *len);

#endif
