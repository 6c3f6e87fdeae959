/*
 * admin.c - the admin Unix socket (mode 0600): newline-delimited JSON.
 *   {"op":"status"}                      -> {"ok":true,"version":...,"groups":[...]}
 *   {"op":"members","group":"G"}         -> {"ok":true,"group":...,"members":[...]}
 *   {"op":"rekey","group":"G"[,"kek":true]} -> {"ok":true,"group":...,"seq":N}
 *   {"op":"evict","member":"M"}          -> {"ok":true,"member":"M","groups":N}
 *   {"op":"admit","member":"M"}          -> {"ok":true,"member":"M"}
 * Errors: {"ok":false,"error":{"code":"...","message":"..."}}; an optional
 * "id" is echoed. The connection stays usable after an error. No key ever
 * appears in a reply: SPIs, fingerprints-free summaries only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdoi/numbers.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"

#define ADMIN_MAX_LINE 65536

struct client {
	uv_pipe_t pipe;
	struct ks *ks;
	struct ks_admin *admin;
	struct client *next, **prevp;
	char *buf;
	size_t len;
};

struct ks_admin {
	struct ks *ks;
	uv_pipe_t server;
	char path[512];
	struct client *clients;
};

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

static const char *inet_str(const struct ks_inet *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
	return buf;
}

static json_t *group_json(struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	const struct ks_group_rec *r = &g->rec;
	char b[64], spi[40];
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(g->id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "destination", json_string(inet_str(&c->dest, b, sizeof(b))));
	json_object_set_new(o, "compat", json_string(c->compat_gdoid ? "gdoid" : "none"));
	json_object_set_new(o, "atd", json_integer(c->atd));
	json_object_set_new(o, "dtd", json_integer(c->dtd));
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
		json_object_set_new(d, "multicast", json_string(inet_str(&c->mcast_addr, b, sizeof(b))));
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

json_t *ks_status_json(struct ks *ks)
{
	char b[64];
	json_t *o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "version", json_string(KS_VERSION));
	json_object_set_new(o, "listen", json_string(inet_str(&ks->cfg->listen, b, sizeof(b))));
	json_object_set_new(o, "uptime", json_integer(ks_unix_now() - ks->started));
	json_object_set_new(o, "phase1_sas", json_integer((json_int_t)ks_registrar_sa_count(ks->reg)));
	json_object_set_new(o, "registrations", json_integer((json_int_t)ks->registrations));
	json_object_set_new(o, "dropped", json_integer((json_int_t)ks->dropped));
	json_t *gs = json_array();
	for (size_t i = 0; i < ks->ngroups; i++) {
		json_t *g = group_json(ks->groups[i]);
		int n = 0;
		ks_state_members(ks->st, ks->groups[i]->id, count_member, &n);
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
	json_object_set_new(o, "registered", json_integer(m->registered));
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

static json_t *error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *error(const char *code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code, "message", msg);
}

static json_t *dispatch(struct ks *ks, json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	if (!op)
		return error("bad_request", "expected an object with \"op\"");
	if (!strcmp(op, "status"))
		return ks_status_json(ks);
	if (!strcmp(op, "members") || !strcmp(op, "rekey")) {
		json_t *gv = json_object_get(req, "group");
		char ref[32];
		const char *gs = json_string_value(gv);
		if (json_is_integer(gv)) {
			snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(gv));
			gs = ref;
		}
		if (!gs)
			return error("bad_request", "%s: expected \"group\" (name or id)", op);
		struct ks_group *g = ks_find_group_ref(ks, gs);
		if (!g)
			return error("no_such_group", "no group '%s'", gs);
		if (op[0] == 'm')
			return ks_members_json(ks, g);
		bool kek = json_is_true(json_object_get(req, "kek"));
		ks_log(KS_INFO, "group %s: %s rekey requested on the admin socket", g->cfg->name, kek ? "KEK" : "TEK");
		int rc = kek ? ks_rekey_kek(g, "admin request", false) : ks_rekey_teks(g, "admin request");
		if (rc)
			return error("rekey_failed", "rekey of group '%s' failed (see the log)", g->cfg->name);
		return json_pack("{s:b, s:s, s:I, s:I, s:b}", "ok", 1, "group", g->cfg->name, "id",
				 (json_int_t)g->id, "seq", (json_int_t)g->rec.seq, "kek", kek);
	}
	if (!strcmp(op, "evict") || !strcmp(op, "admit")) {
		const char *name = json_string_value(json_object_get(req, "member"));
		if (!name)
			return error("bad_request", "%s: expected \"member\"", op);
		if (!ks_config_member(ks->cfg, name))
			return error("no_such_member", "no member '%s' in the configuration", name);
		if (op[0] == 'a') {
			if (ks_state_set_blocked(ks->st, name, false))
				return error("state", "cannot update the state");
			ks_log(KS_INFO, "member %s admitted again", name);
			return json_pack("{s:b, s:s}", "ok", 1, "member", name);
		}
		ks_log(KS_INFO, "eviction of %s requested on the admin socket", name);
		int n = ks_evict(ks, name);
		if (n < 0)
			return error("evict_failed", "eviction of '%s' failed (see the log)", name);
		return json_pack("{s:b, s:s, s:i}", "ok", 1, "member", name, "groups", n);
	}
	return error("unknown_op", "unknown op '%s' (expected status, members, rekey, evict, admit)", op);
}

/* ---- plumbing ------------------------------------------------------------------ */

static void on_client_close(uv_handle_t *h)
{
	struct client *c = h->data;
	if (c->next)
		c->next->prevp = c->prevp;
	*c->prevp = c->next;
	free(c->buf);
	free(c);
}

static void on_write(uv_write_t *w, int status)
{
	(void)status;
	free(w->data);
	free(w);
}

static void send_json(struct client *c, json_t *reply, json_t *id)
{
	if (id)
		json_object_set(reply, "id", id);
	char *s = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!s)
		return;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return;
	}
	line[n] = '\n';
	line[n + 1] = 0;
	uv_write_t *w = malloc(sizeof(*w));
	if (!w) {
		free(line);
		return;
	}
	w->data = line;
	uv_buf_t b = uv_buf_init(line, (unsigned)n + 1);
	if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, on_write)) {
		free(line);
		free(w);
	}
}

static void handle_line(struct client *c, char *line)
{
	json_error_t je;
	if (!*line)
		return;
	json_t *req = json_loads(line, 0, &je);
	if (!req || !json_is_object(req)) {
		send_json(c, error("bad_json", "expected one JSON object per line: %s", req ? "not an object" : je.text), NULL);
		json_decref(req);
		return;
	}
	json_t *reply = dispatch(c->ks, req);
	send_json(c, reply, json_object_get(req, "id"));
	json_decref(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(suggested);
	buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = s->data;
	if (nread < 0) {
		free(buf->base);
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, on_client_close);
		return;
	}
	if (c->len + (size_t)nread > ADMIN_MAX_LINE) {
		free(buf->base);
		send_json(c, error("too_long", "a request line is limited to %d octets", ADMIN_MAX_LINE), NULL);
		uv_close((uv_handle_t *)s, on_client_close);
		return;
	}
	char *nb = realloc(c->buf, c->len + (size_t)nread + 1);
	if (!nb) {
		free(buf->base);
		uv_close((uv_handle_t *)s, on_client_close);
		return;
	}
	c->buf = nb;
	memcpy(c->buf + c->len, buf->base, (size_t)nread);
	c->len += (size_t)nread;
	c->buf[c->len] = 0;
	free(buf->base);
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = 0;
		handle_line(c, c->buf);
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used + 1);
		c->len -= used;
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ks_admin *a = server->data;
	if (status < 0)
		return;
	struct client *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->ks = a->ks;
	c->admin = a;
	c->next = a->clients;
	if (c->next)
		c->next->prevp = &c->next;
	c->prevp = &a->clients;
	a->clients = c;
	uv_pipe_init(a->ks->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) || uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read))
		uv_close((uv_handle_t *)&c->pipe, on_client_close);
}

static void on_admin_close(uv_handle_t *h)
{
	free(h->data);
}

int ks_admin_open(struct ks *ks, const char *path, struct ks_admin **out)
{
	struct ks_admin *a = calloc(1, sizeof(*a));
	if (!a)
		return -1;
	a->ks = ks;
	snprintf(a->path, sizeof(a->path), "%s", path);
	/* A stale socket from a crash: remove it only if it is a socket. */
	struct stat sb;
	if (!lstat(path, &sb) && S_ISSOCK(sb.st_mode))
		unlink(path);
	uv_pipe_init(ks->loop, &a->server, 0);
	a->server.data = a;
	mode_t old = umask(0177);
	int rc = uv_pipe_bind(&a->server, path);
	umask(old);
	if (!rc)
		rc = chmod(path, 0600) ? uv_translate_sys_error(errno) : 0;
	if (!rc)
		rc = uv_listen((uv_stream_t *)&a->server, 16, on_connection);
	if (rc) {
		ks_log(KS_ERR, "admin socket %s: %s", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&a->server, on_admin_close);
		*out = NULL;
		return -1;
	}
	*out = a;
	return 0;
}

void ks_admin_close(struct ks_admin *a)
{
	if (!a)
		return;
	unlink(a->path);
	for (struct client *c = a->clients; c; c = c->next)
		if (!uv_is_closing((uv_handle_t *)&c->pipe))
			uv_close((uv_handle_t *)&c->pipe, on_client_close);
	uv_close((uv_handle_t *)&a->server, on_admin_close);
}
