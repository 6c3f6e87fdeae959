/*
 * admin.c - the admin socket of gdoi-ks: the ops of docs/keyserver.md over
 * the one transport of ipc/server.h (framing, ids, the error shape, peer
 * credentials, output bounds are all there).
 *   {"op":"status"}                      -> {"ok":true,"version":...,"groups":[...]}
 *   {"op":"members","group":"G"}         -> {"ok":true,"group":...,"members":[...]}
 *   {"op":"rekey","group":"G"[,"kek":true]} -> {"ok":true,"group":...,"seq":N}
 *   {"op":"evict","member":"M"}          -> {"ok":true,"member":"M","groups":N}
 *   {"op":"admit","member":"M"}          -> {"ok":true,"member":"M"}
 *   {"op":"command","command":N}         -> {"ok":true,"command":N,"done":B,"seq":N|null,"error":S}
 * On a key server that does not lead the group, rekey (and an eviction's rotation)
 * is queued for the leader ("forwarded":true, "commands": the ids that op
 * "command" follows; gdoictl waits on them).
 * Only root, the daemon's own uid and [server] admin_allow may connect. No
 * key ever appears in a reply: SPIs and summaries only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdoi/gcks.h"
#include "gdoi/numbers.h"
#include "ipc/server.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"

/* status and members of large groups pass the 64 KiB of a request line */
#define ADMIN_MAX_REPLY (16 * 1024 * 1024)

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}


static json_t *group_json(struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	const struct ks_group_rec *r = &g->rec;
	char b[64], spi[40];
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(g->id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "destination", json_string(ks_inet_format(&c->dest, b, sizeof(b))));
	json_object_set_new(o, "compat", json_string(c->compat_gdoid ? "gdoid" : "none"));
	json_object_set_new(o, "atd", json_integer(c->atd));
	json_object_set_new(o, "dtd", json_integer(c->dtd));
	/* rekey leadership (several key servers on PostgreSQL; with SQLite always this one) */
	char who[200] = "";
	ks_state_leader(g->ks->st, g->id, who, sizeof(who));
	json_object_set_new(o, "leader", json_boolean(g->leader));
	json_object_set_new(o, "leader_holder", json_string(who));
	if (r->has_kek) {
		json_t *k = json_object();
		hex(r->kek_spi, GDOI_KEK_SPI_LEN, spi);
		json_object_set_new(k, "spi", json_string(spi));
		json_object_set_new(k, "algorithm", json_string(r->kek_alg == GDOI_KEK_ALG_3DES ? "3des" :
			r->kek_bits == 128 ? "aes128" : r->kek_bits == 192 ? "aes192" : "aes256"));
		json_object_set_new(k, "created", json_integer(r->kek_created));
		json_object_set_new(k, "expires", json_integer(r->kek_created + c->kek_lifetime));
		json_object_set_new(o, "kek", k);
		json_object_set_new(o, "seq", json_integer(r->seq));
	} else {
		json_object_set_new(o, "kek", json_null());
	}
	json_t *teks = json_array();
	for (size_t i = 0; i < r->nteks; i++) {
		const struct ks_tek_rec *t = &r->teks[i];
		json_t *x = json_object();
		snprintf(spi, sizeof(spi), "0x%08x", t->spi);
		json_object_set_new(x, "spi", json_string(spi));
		json_object_set_new(x, "profile", json_string(ks_profile_name(t->profile)));
		json_object_set_new(x, "generation", json_string(t->gen ? "previous" : "current"));
		json_object_set_new(x, "created", json_integer(t->created));
		json_object_set_new(x, "expires", json_integer(t->gen ? r->prev_until : r->tek_created + c->tek_lifetime));
		json_array_append_new(teks, x);
	}
	json_object_set_new(o, "teks", teks);
	json_t *d = json_object();
	if (c->mcast)
		json_object_set_new(d, "multicast", json_string(ks_inet_format(&c->mcast_addr, b, sizeof(b))));
	json_object_set_new(d, "unicast", json_boolean(c->unicast));
	json_object_set_new(o, "delivery", d);
	int64_t next = r->tek_created + c->tek_lifetime - c->rekey_margin;
	if (r->has_kek && r->kek_created + c->kek_lifetime - c->rekey_margin < next)
		next = r->kek_created + c->kek_lifetime - c->rekey_margin;
	json_object_set_new(o, "next_rekey", json_integer(next));
	json_object_set_new(o, "pushes", json_integer((json_int_t)g->pushes));
	return o;
}

static void count_member(void *ctx, const struct ks_member_rec *m)
{
	(void)m;
	(*(int *)ctx)++;
}

/* Per worker (none: the main thread serves registrations itself): what its engine
 * counted since start or the last reload, and what it handed to the main thread. */
static json_t *workers_json(struct ks *ks)
{
	json_t *arr = json_array();
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		json_t *o = json_object();
		uv_mutex_lock(&w->stats_lock);
		struct gdoi_gcks_stats st = w->stats;
		size_t sas = w->sas;
		uv_mutex_unlock(&w->stats_lock);
		uv_mutex_lock(&ks->fwd_lock);
		uint64_t fwd = w->forwarded;
		uv_mutex_unlock(&ks->fwd_lock);
		json_object_set_new(o, "worker", json_integer(i));
		json_object_set_new(o, "datagrams", json_integer((json_int_t)st.datagrams));
		json_object_set_new(o, "dropped", json_integer((json_int_t)st.dropped));
		json_object_set_new(o, "registrations", json_integer((json_int_t)st.registrations));
		json_object_set_new(o, "phase1_sas", json_integer((json_int_t)sas));
		json_object_set_new(o, "forwarded", json_integer((json_int_t)fwd));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *ks_status_json(struct ks *ks)
{
	char b[64];
	json_t *o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "version", json_string(GDOI_VERSION));
	json_object_set_new(o, "listen", json_string(ks_inet_format(&ks->cfg->listen, b, sizeof(b))));
	json_object_set_new(o, "state", json_string(ks_state_shared(ks->st) ? "postgresql" : "sqlite"));
	json_object_set_new(o, "uptime", json_integer(ks_unix_now() - ks->started));
	struct gdoi_gcks_stats tot;
	size_t sas;
	ks_engine_totals(ks, &tot, &sas);
	json_object_set_new(o, "phase1_sas", json_integer((json_int_t)sas));
	json_object_set_new(o, "registrations", json_integer((json_int_t)ks->registrations));
	json_object_set_new(o, "dropped", json_integer((json_int_t)ks->dropped));
	const struct gdoi_gcks_stats *st = ks_registrar_stats(ks->reg);
	json_object_set_new(o, "pushes_sent", json_integer((json_int_t)st->push_sent));
	json_object_set_new(o, "pushes_retransmitted", json_integer((json_int_t)st->push_retransmitted));
	json_object_set_new(o, "pushes_acked", json_integer((json_int_t)st->push_acked));
	json_object_set_new(o, "datagrams", json_integer((json_int_t)tot.datagrams));
	json_object_set_new(o, "workers", workers_json(ks));
	json_t *gs = json_array();
	for (size_t i = 0; i < ks->ngroups; i++) {
		json_t *g = group_json(ks->groups[i]);
		int n = 0;
		ks_state_members_nossrc(ks->st, ks->groups[i]->id, count_member, &n);
		json_object_set_new(g, "members", json_integer(n));
		json_array_append_new(gs, g);
	}
	json_object_set_new(o, "groups", gs);
	return o;
}

static void member_json(void *ctx, const struct ks_member_rec *m)
{
	json_t *arr = ctx;
	json_t *o = json_object();
	json_object_set_new(o, "member", json_string(m->name));
	json_object_set_new(o, "identity", json_string(m->identity));
	json_object_set_new(o, "address", json_string(m->addr));
	json_object_set_new(o, "protocol", json_string(m->gikev2 ? "g-ikev2" : "gdoi"));
	json_object_set_new(o, "registered", json_integer(m->registered));
	/* RFC 8263: the last push it acknowledged (null: none since it registered) */
	json_object_set_new(o, "acked_seq", m->has_ack ? json_integer(m->ack_seq) : json_null());
	json_object_set_new(o, "ack_misses", json_integer(m->ack_misses));
	json_t *s = json_array();
	for (size_t i = 0; i < m->nssrcs; i++) {
		char b[16];
		snprintf(b, sizeof(b), "0x%08x", m->ssrcs[i]);
		json_array_append_new(s, json_string(b));
	}
	json_object_set_new(o, "ssrcs", s);
	json_array_append_new(arr, o);
}

json_t *ks_members_json(struct ks *ks, struct ks_group *g)
{
	json_t *o = json_object(), *arr = json_array();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "group", json_string(g->cfg->name));
	json_object_set_new(o, "id", json_integer(g->id));
	ks_state_members(ks->st, g->id, member_json, arr);
	/* may_send from the configuration, next to what the state says */
	size_t i;
	json_t *m;
	json_array_foreach(arr, i, m) {
		const struct ks_member_cfg *mc = ks_config_member(ks->cfg, json_string_value(json_object_get(m, "member")));
		json_object_set_new(m, "may_send", json_boolean(mc && mc->may_send));
	}
	json_object_set_new(o, "members", arr);
	return o;
}

static json_t *group_arg(struct ks *ks, const struct ipc_message *m, struct ks_group **g)
{
	json_t *gv = json_object_get(m->root, "group");
	char ref[32];
	const char *gs = json_string_value(gv);

	*g = NULL;	/* also when the error reply cannot be made (no memory) */
	if (json_is_integer(gv)) {
		snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(gv));
		gs = ref;
	}
	if (!gs)
		return ipc_reply_error(NULL, IPC_E_BAD_REQUEST, "%s: expected \"group\" (name or id)", m->op);
	*g = ks_find_group_ref(ks, gs);
	if (!*g)
		return ipc_reply_error(NULL, IPC_E_UNKNOWN_GROUP, "no group '%.64s'", gs);
	return NULL;
}

static json_t *op_status(struct ks *ks, const struct ipc_message *m)
{
	(void)m;
	return ks_status_json(ks);
}

static json_t *op_members(struct ks *ks, const struct ipc_message *m)
{
	struct ks_group *g;
	json_t *e = group_arg(ks, m, &g);

	return g ? ks_members_json(ks, g) : e;
}

static json_t *op_rekey(struct ks *ks, const struct ipc_message *m)
{
	struct ks_group *g;
	json_t *e = group_arg(ks, m, &g);
	bool kek = json_is_true(json_object_get(m->root, "kek"));

	if (!g)
		return e;
	ks_log(KS_INFO, "group %s: %s rekey requested on the admin socket", g->cfg->name, kek ? "KEK" : "TEK");
	if (!g->leader && ks_state_shared(ks->st)) {
		/* another key server leads: it does the rekey (cluster.c ks_cluster_commands) */
		int64_t id;
		char who[200] = "";
		if (ks_state_cmd_add(ks->st, g->id, kek ? "kek" : "rekey", NULL, ks_unix_now(), &id))
			return ipc_reply_error(NULL, IPC_E_FAILED, "rekey of group '%s' failed: cannot hand it to the "
					       "rekey leader (see the log)", g->cfg->name);
		ks_state_leader(ks->st, g->id, who, sizeof(who));
		ks_log(KS_INFO, "group %s: rekey handed to the rekey leader %s (command %lld)", g->cfg->name,
		       who[0] ? who : "(none now: the next one)", (long long)id);
		return json_pack("{s:b, s:s, s:I, s:b, s:b, s:[I], s:s}", "ok", 1, "group", g->cfg->name, "id",
				 (json_int_t)g->id, "kek", kek, "forwarded", 1, "commands", (json_int_t)id, "leader",
				 who);
	}
	if (kek ? ks_rekey_kek(g, "admin request", false) : ks_rekey_teks(g, "admin request"))
		return ipc_reply_error(NULL, IPC_E_FAILED, "rekey of group '%s' failed (see the log)", g->cfg->name);
	return json_pack("{s:b, s:s, s:I, s:I, s:b}", "ok", 1, "group", g->cfg->name, "id",
			 (json_int_t)g->id, "seq", (json_int_t)g->rec.seq, "kek", kek);
}

static json_t *member_arg(struct ks *ks, const struct ipc_message *m, const char **name)
{
	*name = json_string_value(json_object_get(m->root, "member"));
	if (!*name)
		return ipc_reply_error(NULL, IPC_E_BAD_REQUEST, "%s: expected \"member\"", m->op);
	if (!ks_config_member(ks->cfg, *name))
		return ipc_reply_error(NULL, IPC_E_UNKNOWN_MEMBER, "no member '%.64s' in the configuration",
				       *name);
	return NULL;
}

static json_t *op_evict(struct ks *ks, const struct ipc_message *m)
{
	const char *name;
	json_t *e = member_arg(ks, m, &name);
	struct ks_forwarded fw;
	int n;

	if (e)
		return e;
	ks_log(KS_INFO, "eviction of %s requested on the admin socket", name);
	n = ks_evict(ks, name, &fw);
	if (n < 0)
		return ipc_reply_error(NULL, IPC_E_FAILED, "eviction of '%s' failed (see the log)", name);
	json_t *r = json_pack("{s:b, s:s, s:i}", "ok", 1, "member", name, "groups", n);
	if (r && fw.n) {
		json_t *ids = json_array();
		for (size_t i = 0; i < fw.n; i++)
			json_array_append_new(ids, json_integer((json_int_t)fw.ids[i]));
		json_object_set_new(r, "forwarded", json_true());
		json_object_set_new(r, "commands", ids);
	}
	return r;
}

/* A command handed to a rekey leader: carried out yet, and the SEQ that carried it. */
static json_t *op_command(struct ks *ks, const struct ipc_message *m)
{
	json_t *iv = json_object_get(m->root, "command");
	struct ks_cmd c;

	if (!json_is_integer(iv))
		return ipc_reply_error(NULL, IPC_E_BAD_REQUEST, "command: expected \"command\" (a number)");
	int rc = ks_state_cmd_get(ks->st, (int64_t)json_integer_value(iv), &c);
	if (rc < 0)
		return ipc_reply_error(NULL, IPC_E_FAILED, "cannot read the state (see the log)");
	if (rc)
		return ipc_reply_error(NULL, IPC_E_BAD_REQUEST, "no command %lld", (long long)json_integer_value(iv));
	json_t *r = json_pack("{s:b, s:I, s:I, s:s, s:b}", "ok", 1, "command", (json_int_t)c.id, "group",
			      (json_int_t)c.gid, "op", c.op, "done", c.done);
	if (r) {
		json_object_set_new(r, "seq", c.has_seq ? json_integer(c.seq) : json_null());
		json_object_set_new(r, "error", json_string(c.error));
	}
	return r;
}

static json_t *op_admit(struct ks *ks, const struct ipc_message *m)
{
	const char *name;
	json_t *e = member_arg(ks, m, &name);

	if (e)
		return e;
	if (ks_state_set_blocked(ks->st, name, false))
		return ipc_reply_error(NULL, IPC_E_FAILED, "cannot update the state (see the log)");
	ks_log(KS_INFO, "member %s admitted again", name);
	return json_pack("{s:b, s:s}", "ok", 1, "member", name);
}

static const struct {
	const char *name;
	json_t *(*run)(struct ks *ks, const struct ipc_message *m);
} ops[] = {
	{ "status", op_status }, { "members", op_members }, { "rekey", op_rekey },
	{ "evict", op_evict },	 { "admit", op_admit },	    { "command", op_command },
};

static json_t *handle(void *ctx, struct ipc_conn *c, const struct ipc_message *m)
{
	json_t *reply = NULL;

	(void)c;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !reply; i++)
		if (!strcmp(ops[i].name, m->op))
			reply = ops[i].run(ctx, m);
	if (!reply)
		reply = ipc_reply_error(NULL, IPC_E_UNKNOWN_OP,
					"unknown op '%.64s' (expected status, members, rekey, evict, admit, command)", m->op);
	if (reply && m->id)
		json_object_set(reply, "id", (json_t *)m->id);
	return reply;
}

/* Root, our own uid, and [server] admin_allow. */
static bool accept_peer(void *ctx, const struct ipc_peer *p)
{
	const struct ks_config *cfg = ((struct ks *)ctx)->cfg;

	if (p->uid == 0 || p->uid == geteuid())
		return true;
	for (size_t i = 0; i < cfg->nadmin_allow; i++) {
		const struct ks_admin_allow *a = &cfg->admin_allow[i];
		if (a->is_gid ? ipc_peer_has_gid(p, a->gid) : ipc_peer_has_uid(p, a->uid))
			return true;
	}
	return false;
}

static void log_line(void *ctx, const char *msg)
{
	(void)ctx;
	ks_log(KS_WARN, "admin socket: %s", msg);
}

int ks_admin_open(struct ks *ks, const char *path, struct ipc_server **out)
{
	struct ipc_server_cfg cfg = {
		.path = path,
		.dir_mode = 0700,
		.sock_mode = 0600,
		.max_line_out = ADMIN_MAX_REPLY,
		.accept = accept_peer,
		.handle = handle,
		.log = log_line,
		.ctx = ks,
	};
	char err[256];

	if (ipc_server_start(ks->loop, &cfg, out, err, sizeof(err))) {
		ks_log(KS_ERR, "admin socket %s", err);
		return -1;
	}
	return 0;
}

void ks_admin_close(struct ipc_server *a)
{
	ipc_server_close(a);
}
