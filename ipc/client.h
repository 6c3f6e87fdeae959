/*
 * client.h - the client half of docs/ipc.md, for gdoictl and libgdoisrtp:
 * plain sockets and poll(2), no event loop, so media processes need only
 * jansson. A connection has a pollable fd: poll it for POLLIN and call
 * ipc_client_read(c, &msg, 0) until it returns 0.
 *
 * Replies and events share the stream; ipc_client_request() waits for the
 * reply and keeps any events that arrive first, which the next
 * ipc_client_read() calls return in order.
 */
#ifndef IPC_CLIENT_H
#define IPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ipc/snapshot.h"

#define IPC_DEFAULT_SOCKET "/run/gdoi-sidecar/sidecar.sock"
/* The most a client may accept as one line (gdoi-ks's admin replies). */
#define IPC_CLIENT_MAX_LINE (16 * 1024 * 1024)

struct ipc_client;

/* Connects (blocking). Returns 0 or -errno. path NULL = IPC_DEFAULT_SOCKET. */
int ipc_client_connect(const char *path, struct ipc_client **out);
void ipc_client_close(struct ipc_client *c);
/* Accepts server lines up to max_line octets (IPC_MAX_LINE by default, at
 * most IPC_CLIENT_MAX_LINE): the admin socket's replies can be longer. 0 or -errno. */
int ipc_client_set_max_line(struct ipc_client *c, size_t max_line);
int ipc_client_fd(const struct ipc_client *c);

/* Sends one message as a line (blocking until written). 0 or -errno. */
int ipc_client_send(struct ipc_client *c, const json_t *msg);
/*
 * Next message (reply or event): 1 and *msg (new reference), 0 when none
 * arrived within timeout_ms (0 = do not wait, -1 = wait forever), or -errno
 * (-EPIPE: the sidecar closed the connection, -EPROTO: it sent something
 * that is not a JSON object or a line too long).
 */
int ipc_client_read(struct ipc_client *c, json_t **msg, int timeout_ms);
/*
 * Sends req and waits for its reply (a message without "event"), queueing
 * events that arrive before it. 1 and *reply, 0 on timeout, or -errno
 * (-EPROTO also when req has an "id" and the reply echoes another).
 */
int ipc_client_request(struct ipc_client *c, const json_t *req, json_t **reply, int timeout_ms);

/* Convenience: {"op":"get"/"subscribe","group":group} and strict reading of the snapshot.
 * group is a number ("4711") or a name. 0, or -1 with err set (the server's error code
 * and message, or the local reason). */
int ipc_client_get(struct ipc_client *c, const char *group, bool subscribe,
		   struct ipc_snapshot *snap, char *err, size_t errlen, int timeout_ms);
/* An event line's snapshot: 1 and *snap when msg is a snapshot event, 0 if another
 * message, -1 if a malformed snapshot event (err set). */
int ipc_client_event_snapshot(const json_t *msg, struct ipc_snapshot *snap, char *err,
			      size_t errlen);

/* The "group" member of a request from a command-line word: a number or a name. */
json_t *ipc_group_json(const char *group);

#endif
