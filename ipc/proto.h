/*
 * proto.h - docs/ipc.md requests and replies. Two layers:
 *   - every socket of the transport (the sidecar's key socket, gdoi-ks's
 *     admin socket): one line -> struct ipc_message (a JSON object without
 *     duplicate member names, with a string "op" and the optional "id"),
 *     error replies of the one shape, encoding a message as one line;
 *   - the sidecar's ops: struct ipc_message -> struct ipc_request.
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

/* Error codes of docs/ipc.md, one set for both daemons. */
#define IPC_E_BAD_JSON "bad_json"
#define IPC_E_TOO_LONG "too_long"
#define IPC_E_BAD_REQUEST "bad_request"
#define IPC_E_UNKNOWN_OP "unknown_op"
#define IPC_E_UNKNOWN_GROUP "unknown_group"
#define IPC_E_UNKNOWN_MEMBER "unknown_member"
#define IPC_E_NOT_AUTHORIZED "not_authorized"
#define IPC_E_NOT_REGISTERED "not_registered"
#define IPC_E_FAILED "failed"
#define IPC_E_INTERNAL "internal"
#define IPC_E_NO_SSRC "no_ssrc"		/* protocol 2: no SSRC free to lease */

/* One request line of any socket of the transport. */
struct ipc_message {
	json_t *root;		/* the whole object (owned) */
	const json_t *id;	/* borrowed from root; NULL when the request had none */
	const char *op;		/* borrowed from root */
};

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
 * Parses one line (without its newline; a NUL in it is not JSON). Returns
 * NULL and fills msg, or returns the error reply to send (bad_json,
 * bad_request); msg then needs no ipc_message_free. Lines holding only
 * white space are not requests: *blank is set and NULL returned.
 */
json_t *ipc_message_parse(const char *line, size_t len, struct ipc_message *msg, bool *blank);
void ipc_message_free(struct ipc_message *msg);

/*
 * A sidecar request from a message: NULL and req filled (it holds its own
 * reference to the message's object), or the error reply (unknown_op,
 * bad_request).
 */
json_t *ipc_request_from_message(const struct ipc_message *msg, struct ipc_request *req);
/* ipc_message_parse, then ipc_request_from_message. */
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
 * failure or when the line would pass IPC_MAX_LINE octets (max octets for
 * ipc_encode_line_max). */
char *ipc_encode_line(const json_t *msg, size_t *len);
char *ipc_encode_line_max(const json_t *msg, size_t max, size_t *len);

#endif
