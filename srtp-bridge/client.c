/*
 * client.c - the public sidecar client of libgdoisrtp, on top of the IPC
 * client half (ipc/client.c): hello, subscribe, snapshot events to
 * callbacks, a blocking wait for simple programs, and SSRC leases for
 * senders (the client stamps them into the snapshots it delivers).
 */
#include "srtp-bridge/internal.h"
#include "ipc/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBS 16
#define MAX_LEASES 16
#define LEASE_RETRY_MS 100
#define REPLY_TIMEOUT_MS 5000

struct sub {
	char group[64];			/* as the caller named it */
	bool have_id;
	uint32_t id;
	gdoisrtp_snapshot_cb cb;
	void *arg;
	gdoisrtp_snapshot *latest;	/* for gdoisrtp_client_wait() */
	bool fresh;			/* latest not returned by wait() yet */
};

struct gdoisrtp_client {
	struct ipc_client *ic;
	size_t nsubs;
	struct sub subs[MAX_SUBS];
	long protocol;			/* the sidecar's answer to hello */
	size_t nleases;
	struct { uint32_t group, ssrc; } leases[MAX_LEASES];
	char code[32];
	char message[256];
};

static int from_errno(int e)
{
	switch (e) {
	case EPIPE: case ECONNRESET: return GDOISRTP_ERR_CLOSED;
	case EPROTO: return GDOISRTP_ERR_PROTO;
	case ENOMEM: return GDOISRTP_ERR_NOMEM;
	case ENAMETOOLONG: case EINVAL: return GDOISRTP_ERR_INVAL;
	default: errno = e; return GDOISRTP_ERR_IO;
	}
}

static void set_error(gdoisrtp_client *c, const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	snprintf(c->code, sizeof(c->code), "%s", code ? code : "error");
	snprintf(c->message, sizeof(c->message), "%s", msg ? msg : "");
}

static int error_rc(const gdoisrtp_client *c)
{
	if (strcmp(c->code, "not_authorized") == 0)
		return GDOISRTP_ERR_NOT_AUTHORIZED;
	if (strcmp(c->code, "unknown_group") == 0)
		return GDOISRTP_ERR_UNKNOWN_GROUP;
	return GDOISRTP_ERR_SERVER;
}

/* Sends req (reference stolen) and waits for its reply. */
static int request(gdoisrtp_client *c, json_t *req, json_t **reply)
{
	if (!req)
		return GDOISRTP_ERR_NOMEM;
	int rc = ipc_client_request(c->ic, req, reply, REPLY_TIMEOUT_MS);
	json_decref(req);
	if (rc < 0)
		return from_errno(-rc);
	if (rc == 0)
		return GDOISRTP_ERR_TIMEOUT;
	return 0;
}

const char *gdoisrtp_default_socket(void)
{
	const char *env = getenv(GDOISRTP_SOCKET_ENV);
	return env && *env ? env : GDOISRTP_DEFAULT_SOCKET;
}

int gdoisrtp_client_open(const char *path, gdoisrtp_client **out)
{
	if (!out)
		return GDOISRTP_ERR_INVAL;
	*out = NULL;
	gdoisrtp_client *c = calloc(1, sizeof(*c));
	if (!c)
		return GDOISRTP_ERR_NOMEM;
	int rc = ipc_client_connect(path && *path ? path : gdoisrtp_default_socket(), &c->ic);
	if (rc) {
		free(c);
		return from_errno(-rc);
	}
	json_t *reply = NULL;
	rc = request(c, json_pack("{s:s, s:i, s:s}", "op", "hello", "protocol",
				  IPC_PROTOCOL_VERSION, "id", "gdoisrtp-hello"), &reply);
	if (rc == 0) {
		if (!json_is_true(json_object_get(reply, "ok"))) {
			set_error(c, reply);
			rc = GDOISRTP_ERR_SERVER;
		} else {
			/* a protocol 1 sidecar still serves keys, only no leases */
			c->protocol = (long)json_integer_value(json_object_get(reply, "protocol"));
			if (c->protocol < IPC_PROTOCOL_MIN || c->protocol > IPC_PROTOCOL_VERSION)
				rc = GDOISRTP_ERR_PROTO;
		}
	}
	json_decref(reply);
	if (rc) {
		gdoisrtp_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void gdoisrtp_client_free(gdoisrtp_client *c)
{
	if (!c)
		return;
	ipc_client_close(c->ic);
	for (size_t i = 0; i < c->nsubs; i++)
		gdoisrtp_snapshot_free(c->subs[i].latest);
	gdoisrtp_wipe(c, sizeof(*c));
	free(c);
}

void gdoisrtp_client_close(gdoisrtp_client *c)
{
	gdoisrtp_client_free(c);
}

int gdoisrtp_client_fd(const gdoisrtp_client *c)
{
	return c ? ipc_client_fd(c->ic) : -1;
}

const char *gdoisrtp_client_error(const gdoisrtp_client *c, const char **message)
{
	if (message)
		*message = c ? c->message : "";
	return c ? c->code : "";
}

static struct sub *sub_for(gdoisrtp_client *c, const struct ipc_snapshot *s)
{
	char num[16];
	snprintf(num, sizeof(num), "%" PRIu32, s->group);
	for (size_t i = 0; i < c->nsubs; i++) {
		struct sub *u = &c->subs[i];
		if ((u->have_id && u->id == s->group) || strcmp(u->group, num) == 0 ||
		    (s->name[0] && strcmp(u->group, s->name) == 0))
			return u;
	}
	return NULL;
}

/* The SSRCs this connection leased in snap's group. */
static void stamp_leases(const gdoisrtp_client *c, struct ipc_snapshot *snap)
{
	snap->nleases = 0;
	for (size_t i = 0; i < c->nleases && snap->nleases < IPC_MAX_SSRCS; i++)
		if (c->leases[i].group == snap->group)
			snap->leases[snap->nleases++] = c->leases[i].ssrc;
}

/* A snapshot for a subscription: keep it for wait() and call the callback. */
static int deliver(gdoisrtp_client *c, struct sub *u, const struct ipc_snapshot *s)
{
	gdoisrtp_snapshot *copy;
	int rc = gdoisrtp_snapshot_from_ipc(s, &copy);
	if (rc)
		return rc;
	stamp_leases(c, &copy->s);
	u->have_id = true;
	u->id = s->group;
	/* versions only grow; an older one (a sidecar restart) still replaces it */
	gdoisrtp_snapshot_free(u->latest);
	u->latest = copy;
	u->fresh = true;
	if (u->cb)
		u->cb(copy, u->arg);
	return 0;
}

/* One message read from the sidecar (reference taken): 1 if it was a
 * snapshot for a subscription, 0 if something else, or an error. */
static int handle(gdoisrtp_client *c, json_t *m)
{
	struct ipc_snapshot *snap = gdoisrtp_secmem_alloc(sizeof(*snap));
	char err[128];
	if (!snap) {
		ipc_snapshot_json_wipe(m);
		json_decref(m);
		return GDOISRTP_ERR_NOMEM;
	}
	int rc = ipc_client_event_snapshot(m, snap, err, sizeof(err));
	ipc_snapshot_json_wipe(m);
	json_decref(m);
	struct sub *u = rc == 1 ? sub_for(c, snap) : NULL;
	int drc = u ? deliver(c, u, snap) : 0;
	gdoisrtp_secmem_free(snap);
	if (rc < 0)
		return GDOISRTP_ERR_PROTO;
	return drc ? drc : u != NULL;
}

int gdoisrtp_client_process(gdoisrtp_client *c)
{
	if (!c)
		return GDOISRTP_ERR_INVAL;
	int delivered = 0;
	for (;;) {
		json_t *m = NULL;
		int rc = ipc_client_read(c->ic, &m, 0);
		if (rc < 0)
			return from_errno(-rc);
		if (rc == 0)
			return delivered;
		if ((rc = handle(c, m)) < 0)
			return rc;
		delivered += rc;
	}
}

static int subscribe(gdoisrtp_client *c, const char *group, gdoisrtp_snapshot_cb cb, void *arg,
		     struct sub **out)
{
	if (!c || !group || !*group || strlen(group) >= sizeof(c->subs[0].group))
		return GDOISRTP_ERR_INVAL;
	for (size_t i = 0; i < c->nsubs; i++)
		if (strcmp(c->subs[i].group, group) == 0) {
			if (cb) {
				c->subs[i].cb = cb;
				c->subs[i].arg = arg;
			}
			*out = &c->subs[i];
			return 0;
		}
	if (c->nsubs == MAX_SUBS)
		return GDOISRTP_ERR_NOMEM;
	json_t *reply = NULL;
	int rc = request(c, json_pack("{s:s, s:o, s:s}", "op", "subscribe", "group",
				      ipc_group_json(group), "id", "gdoisrtp-subscribe"), &reply);
	if (rc)
		return rc;
	struct sub *u = &c->subs[c->nsubs];
	memset(u, 0, sizeof(*u));
	snprintf(u->group, sizeof(u->group), "%s", group);
	u->cb = cb;
	u->arg = arg;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		set_error(c, reply);
		json_decref(reply);
		if (strcmp(c->code, "not_registered") != 0)
			return error_rc(c);
		c->nsubs++;	/* subscribed; the first snapshot comes as an event */
		*out = u;
		return gdoisrtp_client_process(c) < 0 ? GDOISRTP_ERR_CLOSED : 0;
	}
	struct ipc_snapshot *snap = gdoisrtp_secmem_alloc(sizeof(*snap));
	char err[128];
	if (!snap) {
		ipc_snapshot_json_wipe(reply);
		json_decref(reply);
		return GDOISRTP_ERR_NOMEM;
	}
	rc = ipc_snapshot_from_json(json_object_get(reply, "snapshot"), snap, err, sizeof(err));
	ipc_snapshot_json_wipe(reply);
	json_decref(reply);
	if (rc == 0) {
		c->nsubs++;
		rc = deliver(c, u, snap);
	} else {
		rc = GDOISRTP_ERR_PROTO;
	}
	gdoisrtp_secmem_free(snap);
	if (rc)
		return rc;
	*out = u;
	/* events that came in with the reply are queued: hand them over now, since
	 * the fd will not turn readable for them */
	rc = gdoisrtp_client_process(c);
	return rc < 0 ? rc : 0;
}

int gdoisrtp_client_subscribe(gdoisrtp_client *c, const char *group, gdoisrtp_snapshot_cb cb,
			      void *arg)
{
	struct sub *u;
	return subscribe(c, group, cb, arg, &u);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gdoisrtp_client_wait(gdoisrtp_client *c, const char *group, int timeout_ms,
			 gdoisrtp_snapshot **out)
{
	if (!c || !out)
		return GDOISRTP_ERR_INVAL;
	*out = NULL;
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct sub *u;
	int rc = subscribe(c, group, NULL, NULL, &u);
	if (rc)
		return rc;
	for (;;) {
		if (u->fresh && u->latest && u->latest->s.nteks > 0) {
			u->fresh = false;
			stamp_leases(c, &u->latest->s);	/* leases taken since it came */
			return gdoisrtp_snapshot_copy(u->latest, out);
		}
		int wait = timeout_ms < 0 ? -1 : (int)(deadline - mono_ms());
		if (timeout_ms >= 0 && wait <= 0)
			return GDOISRTP_ERR_TIMEOUT;
		json_t *m = NULL;
		/* block in the IPC client for one message */
		rc = ipc_client_read(c->ic, &m, wait);
		if (rc < 0)
			return from_errno(-rc);
		if (rc > 0 && (rc = handle(c, m)) < 0)
			return rc;
	}
}

/* One lease request: 1 leased, 0 none free now (retry), or an error. */
static int lease_once(gdoisrtp_client *c, const char *group, uint32_t *ssrc)
{
	json_t *reply = NULL;
	int rc = request(c, json_pack("{s:s, s:o, s:s}", "op", "lease", "group",
				      ipc_group_json(group), "id", "gdoisrtp-lease"), &reply);
	if (rc)
		return rc;
	json_int_t g = json_integer_value(json_object_get(reply, "group"));
	json_int_t v = json_integer_value(json_object_get(reply, "ssrc"));
	if (json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		if (v <= 0 || v > (json_int_t)UINT32_MAX || g < 0 || g > (json_int_t)UINT32_MAX)
			return GDOISRTP_ERR_PROTO;
		c->leases[c->nleases].group = (uint32_t)g;
		c->leases[c->nleases].ssrc = (uint32_t)v;
		c->nleases++;
		*ssrc = (uint32_t)v;
		return 1;
	}
	set_error(c, reply);
	json_decref(reply);
	if (strcmp(c->code, "no_ssrc") == 0)
		return 0;
	return error_rc(c);
}

int gdoisrtp_client_lease(gdoisrtp_client *c, const char *group, int timeout_ms, uint32_t *ssrc)
{
	if (!c || !group || !*group || !ssrc)
		return GDOISRTP_ERR_INVAL;
	*ssrc = 0;
	if (c->protocol < 2)
		return GDOISRTP_ERR_PROTO;
	if (c->nleases == MAX_LEASES)
		return GDOISRTP_ERR_NO_SSRC;
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		int rc = lease_once(c, group, ssrc);
		if (rc)
			return rc < 0 ? rc : 0;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return GDOISRTP_ERR_NO_SSRC;
		/* the sidecar is registering for fresh SSRCs: take events meanwhile */
		json_t *m = NULL;
		rc = ipc_client_read(c->ic, &m, (int)(left < LEASE_RETRY_MS ? left : LEASE_RETRY_MS));
		if (rc < 0)
			return from_errno(-rc);
		if (rc > 0 && (rc = handle(c, m)) < 0)
			return rc;
	}
}
