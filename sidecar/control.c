/*
 * control.c - what IPC requests mean in the sidecar (docs/ipc.md):
 * hello, groups, get, subscribe, unsubscribe, status, lease, with the per-group
 * allow lists checked against the peer's credentials. A lease lasts as long as
 * the connection; its SSRC is burned when the connection closes (lease.h).
 */
#include "sidecar.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct sc_group *find_group(struct sidecar *sc, const struct ipc_group_ref *ref)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		if (ref->by_name ? !strcmp(g->cfg->name, ref->name) : g->cfg->id == ref->id)
			return g;
	}
	return NULL;
}

/* The allow list of the group; root and the sidecar's own user may read every group. */
static bool allowed(const struct sc_group *g, const struct ipc_peer *p)
{
	if (p->uid == 0 || p->uid == geteuid())
		return true;
	for (size_t i = 0; i < g->cfg->nallow; i++) {
		const struct sc_allow *a = &g->cfg->allow[i];
		if (a->is_gid ? ipc_peer_has_gid(p, (gid_t)a->id) : ipc_peer_has_uid(p, (uid_t)a->id))
			return true;
	}
	return false;
}

static json_t *time_or_null(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		return json_null();
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *group_summary(const struct sc_group *g)
{
	return json_pack("{s:I, s:s, s:b, s:I}", "group", (json_int_t)g->cfg->id, "name",
			 g->cfg->name, "registered", sc_group_keys(g)->pol != NULL, "version",
			 (json_int_t)g->version);
}

static const char *const group_states[] = {
	[GDOI_MEMBER_GROUP_UNREGISTERED] = "unregistered",
	[GDOI_MEMBER_GROUP_WAITING] = "waiting",
	[GDOI_MEMBER_GROUP_REGISTERING] = "registering",
	[GDOI_MEMBER_GROUP_REGISTERED] = "registered",
};

static json_t *group_status(struct sidecar *sc, const struct sc_group *g)
{
	json_t *o = group_summary(g);
	const struct gdoi_member_teks *keys = sc_group_keys(g);
	int64_t wall = sc_wall();
	int64_t next = gdoi_member_group_next_registration(sc->member, g->index);

	if (!o)
		return NULL;
	if (next && next < wall)
		next = wall;
	json_object_set_new(o, "state",
			    json_string(group_states[gdoi_member_group_state(sc->member, g->index)]));
	json_object_set_new(o, "keyserver", g->keyserver[0] ? json_string(g->keyserver) : json_null());
	json_object_set_new(o, "seq", json_integer(keys->seq));
	json_object_set_new(o, "teks", json_integer((json_int_t)keys->nlive));
	json_object_set_new(o, "ssrcs", json_integer((json_int_t)g->nssrcs));
	json_object_set_new(o, "last_registration", time_or_null(keys->registered_at));
	json_object_set_new(o, "last_rekey", time_or_null(keys->last_rekey));
	json_object_set_new(o, "next_registration", time_or_null(next));
	json_object_set_new(o, "kek_expires", time_or_null(keys->kek_expires));
	json_object_set_new(o, "rekey", json_string(g->cfg->rekey_mcast ? "multicast" : "unicast"));
	json_object_set_new(o, "subscribers",
			    json_integer((json_int_t)ipc_server_subscribers(sc->ipc, g->cfg->id)));
	return o;
}

static const char *const ks_states[] = {
	[GDOI_MEMBER_KS_STANDBY] = "standby",
	[GDOI_MEMBER_KS_IDLE] = "idle",
	[GDOI_MEMBER_KS_CONNECTING] = "connecting",
	[GDOI_MEMBER_KS_CONNECTED] = "connected",
};

static json_t *status(struct sidecar *sc, const struct ipc_peer *peer)
{
	json_t *ks = json_array(), *groups = json_array();

	for (size_t i = 0; i < gdoi_member_nks(sc->member); i++) {
		struct gdoi_member_ks_status st;
		const char *host = sc->cfg.ks[sc_ks_entry(sc, i)].host;
		char name[64];
		gdoi_member_ks_status(sc->member, i, &st);
		gdoi_member_ks_name(sc->member, i, name, sizeof name);
		json_array_append_new(ks, json_pack("{s:s, s:o, s:s, s:o, s:o}", "address", name,
						    "host", host[0] ? json_string(host) : json_null(),
						    "state", ks_states[st.state], "last_ok",
						    time_or_null(st.last_ok), "last_error", st.last_error[0] ?
						    json_string(st.last_error) : json_null()));
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (allowed(&sc->groups[i], peer))
			json_array_append_new(groups, group_status(sc, &sc->groups[i]));
	return json_pack("{s:I, s:o, s:o, s:I}", "uptime", (json_int_t)(sc_wall() - sc->started),
			 "keyservers", ks, "groups", groups, "clients",
			 (json_int_t)ipc_server_clients(sc->ipc));
}

/* Out of free SSRCs (or about to be): register again for fresh ones (the engine
 * rate-limits it). */
static void want_fresh_ssrcs(struct sidecar *sc, struct sc_group *g)
{
	if (gdoi_member_want_register(sc->member, g->index, sc_now()))
		return;
	sc_log("group %s: re-registering for fresh SSRCs (%zu leased, %zu burned)", g->cfg->name,
	       sc_leases_count(&g->leases, SC_SSRC_LEASED), sc_leases_count(&g->leases, SC_SSRC_BURNED));
	sc_service(sc);
}

static json_t *lease(struct sidecar *sc, struct ipc_conn *c, struct sc_group *g,
		     const struct ipc_request *req, const char *ref)
{
	const struct ipc_peer *peer = ipc_conn_peer(c);
	uint32_t ssrc;
	json_t *reply;

	if (!g->cfg->send)
		return ipc_reply_error(req->id, IPC_E_NO_SSRC,
				       "group %s: this sidecar does not send (send = no)", ref);
	if (sc_leases_count(&g->leases, SC_SSRC_LEASED) >= IPC_MAX_SSRCS)
		return ipc_reply_error(req->id, IPC_E_NO_SSRC, "group %s: %d SSRCs leased already", ref,
				       IPC_MAX_SSRCS);
	if (sc_leases_take(&g->leases, ipc_conn_id(c), &ssrc)) {
		want_fresh_ssrcs(sc, g);
		return ipc_reply_error(req->id, IPC_E_NO_SSRC,
				       "group %s: no unused SSRC; registering for fresh ones, retry", ref);
	}
	sc_log("group %s: SSRC %08x leased to client %llu (pid %ld uid %ld)", g->cfg->name, ssrc,
	       (unsigned long long)ipc_conn_id(c), (long)peer->pid, (long)peer->uid);
	if (sc_leases_count(&g->leases, SC_SSRC_FREE) == 0)
		want_fresh_ssrcs(sc, g);	/* so that the next sender need not wait */
	reply = ipc_reply_ok(req->id);
	json_object_set_new(reply, "group", json_integer(g->cfg->id));
	json_object_set_new(reply, "ssrc", json_integer(ssrc));
	return reply;
}

void sc_control_closed(void *ctx, struct ipc_conn *c)
{
	struct sidecar *sc = ctx;

	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		size_t n = sc_leases_release(&g->leases, ipc_conn_id(c));
		if (!n)
			continue;
		sc_log("group %s: client %llu gone: %zu SSRC(s) burned, never leased again",
		       g->cfg->name, (unsigned long long)ipc_conn_id(c), n);
		if (!sc->stopping)
			sc_group_ssrcs_changed(g, sc_wall());
	}
}

static json_t *handle_request(struct sidecar *sc, struct ipc_conn *c, const struct ipc_request *req)
{
	const struct ipc_peer *peer = ipc_conn_peer(c);
	struct sc_group *g = NULL;
	json_t *reply;
	char ref[80];

	if (req->has_group) {
		ipc_group_ref_str(&req->group, ref, sizeof ref);
		g = find_group(sc, &req->group);
		if (!g)
			return ipc_reply_error(req->id, IPC_E_UNKNOWN_GROUP, "no group %s in this sidecar",
					       ref);
		if (!allowed(g, peer) && req->op != IPC_OP_UNSUBSCRIBE)
			return ipc_reply_error(req->id, IPC_E_NOT_AUTHORIZED,
					       "uid %ld may not read group %s", (long)peer->uid, ref);
	}
	switch (req->op) {
	case IPC_OP_HELLO:
		reply = ipc_reply_ok(req->id);
		/* a client of an older version gets its own (no lease then) */
		json_object_set_new(reply, "protocol",
				    json_integer(req->protocol >= IPC_PROTOCOL_MIN &&
						 req->protocol < IPC_PROTOCOL_VERSION ?
						 req->protocol : IPC_PROTOCOL_VERSION));
		json_object_set_new(reply, "server", json_string("gdoi-sidecar " GDOI_VERSION));
		return reply;
	case IPC_OP_GROUPS: {
		json_t *arr = json_array();
		for (size_t i = 0; i < sc->cfg.ngroups; i++)
			if (allowed(&sc->groups[i], peer))
				json_array_append_new(arr, group_summary(&sc->groups[i]));
		reply = ipc_reply_ok(req->id);
		json_object_set_new(reply, "groups", arr);
		return reply;
	}
	case IPC_OP_GET:
	case IPC_OP_SUBSCRIBE:
		if (req->op == IPC_OP_SUBSCRIBE && ipc_conn_subscribe(c, g->cfg->id))
			return ipc_reply_error(req->id, IPC_E_BAD_REQUEST,
					       "more than %d subscriptions on one connection",
					       IPC_MAX_SUBSCRIPTIONS);
		if (g->version == 0)
			return ipc_reply_error(req->id, IPC_E_NOT_REGISTERED,
					       "group %s holds no keys yet%s", ref,
					       req->op == IPC_OP_SUBSCRIBE ?
					       " (subscribed: the first snapshot comes as an event)" : "");
		reply = ipc_reply_ok(req->id);
		json_object_set_new(reply, "snapshot", sc_group_snapshot(g));
		return reply;
	case IPC_OP_UNSUBSCRIBE:
		ipc_conn_unsubscribe(c, g->cfg->id);
		return ipc_reply_ok(req->id);
	case IPC_OP_LEASE:
		return lease(sc, c, g, req, ref);
	case IPC_OP_STATUS:
		reply = ipc_reply_ok(req->id);
		json_object_set_new(reply, "status", status(sc, peer));
		return reply;
	}
	return ipc_reply_error(req->id, IPC_E_INTERNAL, "unhandled op");
}

json_t *sc_control_handle(void *ctx, struct ipc_conn *c, const struct ipc_message *msg)
{
	struct ipc_request req;
	json_t *reply = ipc_request_from_message(msg, &req);

	if (reply)
		return reply;
	reply = handle_request(ctx, c, &req);
	ipc_request_free(&req);
	return reply;
}

void sc_publish(struct sc_group *g)
{
	json_t *snap, *ev;

	sc_log("group %s: snapshot version %llu: %zu TEK(s)", g->cfg->name,
	       (unsigned long long)g->version, sc_group_keys(g)->nlive);
	if (!g->sc || !g->sc->ipc)
		return;
	snap = sc_group_snapshot(g);
	ev = snap ? json_pack("{s:s, s:I, s:o}", "event", "snapshot", "group",
			      (json_int_t)g->cfg->id, "snapshot", snap) : NULL;
	if (ev)
		ipc_server_publish(g->sc->ipc, g->cfg->id, ev);
	else
		sc_warn("group %s: snapshot could not be built", g->cfg->name);
	json_decref(ev);
}
