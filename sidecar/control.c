/*
 * control.c - what IPC requests mean in the sidecar (docs/ipc.md):
 * hello, groups, get, subscribe, unsubscribe, status, with the per-group
 * allow lists checked against the peer's credentials.
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
			 g->cfg->name, "registered", g->pol != NULL, "version",
			 (json_int_t)g->version);
}

static json_t *group_status(struct sidecar *sc, const struct sc_group *g)
{
	json_t *o = group_summary(g);
	uint64_t now = sc_mono();
	int64_t wall = sc_wall();
	uint64_t d = sc_group_rereg_deadline(g, wall, now);
	const char *state = g->pm ? "registering" : g->want_register ? "waiting" :
			    g->pol ? "registered" : "unregistered";

	if (!o)
		return NULL;
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "keyserver", g->keyserver[0] ? json_string(g->keyserver) : json_null());
	json_object_set_new(o, "seq", json_integer(g->seq));
	json_object_set_new(o, "teks", json_integer((json_int_t)g->nlive));
	json_object_set_new(o, "ssrcs", json_integer((json_int_t)g->nssrcs));
	json_object_set_new(o, "last_registration", time_or_null(g->registered_at));
	json_object_set_new(o, "last_rekey", time_or_null(g->last_rekey));
	json_object_set_new(o, "next_registration",
			    d && !g->want_register ? time_or_null(wall + (int64_t)((d - now) / 1000)) : json_null());
	json_object_set_new(o, "kek_expires", time_or_null(g->kek_expires));
	json_object_set_new(o, "rekey", json_string(g->cfg->rekey_mcast ? "multicast" : "unicast"));
	json_object_set_new(o, "subscribers",
			    json_integer((json_int_t)ipc_server_subscribers(sc->ipc, g->cfg->id)));
	return o;
}

static json_t *status(struct sidecar *sc, const struct ipc_peer *peer)
{
	json_t *ks = json_array(), *groups = json_array();

	for (size_t i = 0; i < sc->cfg.nks; i++) {
		const char *state = i != sc->ks_index ? "standby" :
				    sc->sa && gdoi_p1_established(sc->sa) ? "connected" :
				    sc->sa ? "connecting" : "idle";
		json_array_append_new(ks, json_pack("{s:s, s:s, s:o, s:o}", "address", sc->ks[i].name,
						    "state", state, "last_ok", time_or_null(sc->ks[i].last_ok),
						    "last_error", sc->ks[i].last_error[0] ?
						    json_string(sc->ks[i].last_error) : json_null()));
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (allowed(&sc->groups[i], peer))
			json_array_append_new(groups, group_status(sc, &sc->groups[i]));
	return json_pack("{s:I, s:o, s:o, s:I}", "uptime", (json_int_t)(sc_wall() - sc->started),
			 "keyservers", ks, "groups", groups, "clients",
			 (json_int_t)ipc_server_clients(sc->ipc));
}

json_t *sc_control_handle(void *ctx, struct ipc_conn *c, const struct ipc_request *req)
{
	struct sidecar *sc = ctx;
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
		json_object_set_new(reply, "protocol", json_integer(IPC_PROTOCOL_VERSION));
		json_object_set_new(reply, "server", json_string("gdoi-sidecar " SC_VERSION));
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
	case IPC_OP_STATUS:
		reply = ipc_reply_ok(req->id);
		json_object_set_new(reply, "status", status(sc, peer));
		return reply;
	}
	return ipc_reply_error(req->id, IPC_E_INTERNAL, "unhandled op");
}

void sc_publish(struct sc_group *g)
{
	json_t *snap, *ev;

	sc_log("group %s: snapshot version %llu: %zu TEK(s)", g->cfg->name,
	       (unsigned long long)g->version, g->nlive);
	if (!g->sc || !g->sc->ipc)
		return;
	snap = sc_group_snapshot(g);
	ev = snap ? json_pack("{s:s, s:I, s:o}", "event", "snapshot", "group",
			      (json_int_t)g->cfg->id, "snapshot", snap) : NULL;
	if (ev)
		ipc_server_publish(g->sc->ipc, g->cfg->id, ev);
	else
		sc_log("group %s: snapshot could not be built", g->cfg->name);
	json_decref(ev);
}
