/*
 * server.h - the server half of docs/ipc.md on a libuv loop, the one
 * transport of both daemons (gdoi-sidecar's key socket, gdoi-ks's admin
 * socket): the Unix socket (directory and socket modes, a stale socket
 * removed, a live one refused), accepting with a SOMAXCONN backlog, peer
 * credentials (SO_PEERCRED, SO_PEERGROUPS) and an optional accept check,
 * line framing with the 65536-octet limit per request line, requests
 * answered in order, a bounded output queue per client (past max_output
 * the server stops reading that client until it reads its replies; an
 * event that would pass it disconnects the client, never waited for), and
 * every reply flushed before closing after the client's EOF.
 *
 * What requests mean is the owner's business: every well-formed message
 * (a JSON object with a string "op") goes to cfg->handle, which returns the
 * reply. Media processes do not link this file (it needs libuv); they use
 * client.h.
 */
#ifndef IPC_SERVER_H
#define IPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "ipc/proto.h"

#define IPC_MAX_PEER_GROUPS 64
#define IPC_DEFAULT_MAX_OUTPUT (256 * 1024)
#define IPC_MAX_SUBSCRIPTIONS 64

struct ipc_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	size_t ngroups;			/* supplementary groups (SO_PEERGROUPS) */
	gid_t groups[IPC_MAX_PEER_GROUPS];
};

struct ipc_server;
struct ipc_conn;

struct ipc_server_cfg {
	const char *path;
	mode_t dir_mode;		/* 0 = 0750; the directory is created if missing */
	mode_t sock_mode;		/* 0 = 0660 */
	bool set_group;			/* chown the directory and socket to gid */
	gid_t gid;
	size_t max_output;		/* per client; 0 = IPC_DEFAULT_MAX_OUTPUT */
	size_t max_clients;		/* 0 = 256 */
	size_t max_line_out;		/* longest reply line; 0 = IPC_MAX_LINE */
	/* Whether a peer may talk at all (NULL = everyone the socket mode lets
	 * in); a refused one gets not_authorized and is closed. */
	bool (*accept)(void *ctx, const struct ipc_peer *peer);
	/* The reply to one request (new reference); NULL = internal error. */
	json_t *(*handle)(void *ctx, struct ipc_conn *c, const struct ipc_message *msg);
	/* A connection is going away (optional): what it held is released. */
	void (*closed)(void *ctx, struct ipc_conn *c);
	/* One line for the log (no secrets ever reach it). */
	void (*log)(void *ctx, const char *msg);
	void *ctx;
};

int ipc_server_start(uv_loop_t *loop, const struct ipc_server_cfg *cfg, struct ipc_server **out,
		     char *err, size_t errlen);
/* Closes every connection and the socket, unlinks it; frees s once libuv is done. */
void ipc_server_close(struct ipc_server *s);

/* Sends msg to every subscriber of group (serialized once). */
void ipc_server_publish(struct ipc_server *s, uint32_t group, const json_t *msg);
/* Drops group from every connection (e.g. the group left the configuration). */
void ipc_server_forget_group(struct ipc_server *s, uint32_t group);
size_t ipc_server_clients(const struct ipc_server *s);
size_t ipc_server_subscribers(const struct ipc_server *s, uint32_t group);

const struct ipc_peer *ipc_conn_peer(const struct ipc_conn *c);
/* Unique for the server's life, never 0. */
uint64_t ipc_conn_id(const struct ipc_conn *c);
/* 0, or -1 when the connection holds IPC_MAX_SUBSCRIPTIONS already. Idempotent. */
int ipc_conn_subscribe(struct ipc_conn *c, uint32_t group);
void ipc_conn_unsubscribe(struct ipc_conn *c, uint32_t group);
bool ipc_conn_subscribed(const struct ipc_conn *c, uint32_t group);
/* Queues an extra message (e.g. an event right after a reply) on one connection. */
void ipc_conn_send(struct ipc_conn *c, const json_t *msg);

/* Whether the peer is uid, or has gid as primary or supplementary group. */
bool ipc_peer_has_uid(const struct ipc_peer *p, uid_t uid);
bool ipc_peer_has_gid(const struct ipc_peer *p, gid_t gid);

#endif
