/*
 * main.c - gdoi-ks: arguments, configuration, state, the libuv loop (UDP,
 * admin socket, timers, signals), reload and shutdown.
 *
 *   gdoi-ks -c FILE [--listen ADDR:PORT] [--state DIR] [--admin-socket PATH] [-v]...
 *
 * Exit status: 0 clean shutdown (SIGTERM/SIGINT), 1 run-time failure,
 * 2 usage or configuration error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/addr.h"
#include "daemon/dir.h"
#include "daemon/harden.h"
#include "daemon/metrics_http.h"
#include "daemon/notify.h"
#include "daemon/opts.h"
#include "daemon/udp.h"
#include "gdoi/ossl_pool.h"
#include "keyserver/ks.h"
#include "keyserver/state_pg.h"
#include "keyserver/log.h"

enum { OPT_LISTEN = DM_OPT_LONG_ONLY, OPT_STATE, OPT_ADMIN_SOCKET };

static const struct dm_opt ks_opts[] = {
	{ "config", 'c', "FILE", "configuration file (required)" },
	{ "listen", OPT_LISTEN, "ADDR:PORT",
	  "UDP address to serve (overrides [server] listen; default 0.0.0.0:848)" },
	{ "state", OPT_STATE, "DIR", "state directory (overrides [server] state)" },
	{ "admin-socket", OPT_ADMIN_SOCKET, "PATH", "admin Unix socket (overrides [server] admin_socket)" },
	{ NULL, 0, NULL, NULL },
};

static const struct dm_prog ks_prog = {
	.name = "gdoi-ks",
	.version = GDOI_VERSION,
	.synopsis = "-c FILE [options]",
	.about = "GDOI (RFC 6407) key server for SRTP groups.",
	.footer = "Signals: SIGTERM/SIGINT clean shutdown, SIGHUP reload groups and members.",
	.opts = ks_opts,
};

static int ks_opt(void *ctx, int key, const char *arg)
{
	struct ks *ks = ctx;

	switch (key) {
	case 'c': ks->config_path = arg; break;
	case OPT_LISTEN: ks->ov.listen = arg; break;
	case OPT_STATE: ks->ov.state_dir = arg; break;
	case OPT_ADMIN_SOCKET: ks->ov.admin_socket = arg; break;
	}
	return 0;
}

/* ---- UDP ---------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[KS_RECV_SLAB];
	(void)h;
	(void)suggested;
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void on_udp(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		   unsigned flags)
{
	struct ks *ks = u->data;
	if (nread < 0) {
		ks_log(KS_WARN, "UDP receive: %s", uv_strerror((int)nread));
		return;
	}
	if (!addr || nread == 0 || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return;
	if (flags & UV_UDP_PARTIAL) {
		ks->dropped++;
		ks_log_limited(KS_WARN, "truncated datagram", "truncated datagram dropped");
		return;
	}
	ks_registrar_input(ks->reg, (const uint8_t *)buf->base, (size_t)nread, addr);
}


/* ---- groups ---------------------------------------------------------------------- */

static int open_groups(struct ks *ks)
{
	ks->groups = calloc(ks->cfg->ngroups ? ks->cfg->ngroups : 1, sizeof(*ks->groups));
	if (!ks->groups)
		return -1;
	for (size_t i = 0; i < ks->cfg->ngroups; i++) {
		if (ks_group_open(ks, &ks->cfg->groups[i], &ks->groups[ks->ngroups]))
			return -1;
		ks->ngroups++;
	}
	for (size_t i = 0; i < ks->ngroups; i++) {
		struct ks_group *g = ks->groups[i];
		/* TEK set changed in the configuration while we were down */
		if (ks_group_reconfigure(g, g->cfg))
			ks_rekey_teks(g, "TEK configuration changed");
		ks_rekey_schedule(g);
	}
	return 0;
}

struct stale_ctx {
	struct ks *ks;
	struct ks_group *g;
	char names[64][64];
	size_t n;
};

static void collect_stale(void *ctx, const struct ks_member_rec *m)
{
	struct stale_ctx *s = ctx;
	const struct ks_member_cfg *mc = ks_config_member(s->ks->cfg, m->name);
	if ((!mc || !ks_member_in_group(mc, s->g->id)) && s->n < 64)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", m->name);
}

/* SIGHUP: groups and members from the file again; keys and SEQ stay. */
static void reload(struct ks *ks)
{
	struct ks_config *nc = NULL;
	char err[600];
	if (ks_config_load(ks->config_path, &ks->ov, &nc, err, sizeof(err))) {
		ks_log(KS_ERR, "reload refused, the running configuration stays: %s", err);
		return;
	}
	if (memcmp(&nc->listen, &ks->cfg->listen, sizeof(nc->listen)) || strcmp(nc->state_dir, ks->cfg->state_dir) ||
	    strcmp(nc->admin_socket, ks->cfg->admin_socket) || nc->metrics_set != ks->cfg->metrics_set ||
	    memcmp(&nc->metrics, &ks->cfg->metrics, sizeof(nc->metrics)))
		ks_log(KS_WARN, "reload: listen, state, admin_socket and metrics changes need a restart");
	if (nc->workers != ks->cfg->workers)
		ks_log(KS_WARN, "reload: a change of workers needs a restart");
	nc->listen = ks->cfg->listen;
	nc->workers = ks->cfg->workers;
	nc->metrics_set = ks->cfg->metrics_set;
	nc->metrics = ks->cfg->metrics;
	struct ks_registrar *nr = NULL;
	struct ks_config *old = ks->cfg;
	ks->cfg = nc;
	ks_workers_pause(ks);	/* their registrars point into the old configuration */
	if (ks_registrar_new(ks, NULL, &nr, err, sizeof(err)) || ks_workers_prepare(ks, err, sizeof(err))) {
		ks_log(KS_ERR, "reload refused: %s", err);
		ks_registrar_free(nr);
		ks->cfg = old;
		ks_workers_resume(ks);
		ks_config_free(nc);
		return;
	}
	/* groups: keep the ones still configured, open new ones, close removed ones */
	struct ks_group **ng = calloc(nc->ngroups ? nc->ngroups : 1, sizeof(*ng));
	if (!ng) {
		ks_registrar_free(nr);
		ks_workers_abort(ks);
		ks->cfg = old;
		ks_workers_resume(ks);
		ks_config_free(nc);
		return;
	}
	size_t nn = 0;
	bool *rekey = calloc(nc->ngroups ? nc->ngroups : 1, sizeof(bool));
	for (size_t i = 0; i < nc->ngroups; i++) {
		struct ks_group *g = NULL;
		for (size_t j = 0; j < ks->ngroups; j++)
			if (ks->groups[j] && ks->groups[j]->id == nc->groups[i].id)
				g = ks->groups[j], ks->groups[j] = NULL;
		if (g) {
			if (rekey)
				rekey[nn] = ks_group_reconfigure(g, &nc->groups[i]);
			ng[nn++] = g;
		} else if (!ks_group_open(ks, &nc->groups[i], &g)) {
			ng[nn++] = g;
			ks_log(KS_INFO, "reload: group %s added", g->cfg->name);
		}
	}
	for (size_t j = 0; j < ks->ngroups; j++) {
		if (ks->groups[j]) {
			ks_log(KS_INFO, "reload: group %u removed from the configuration (its state is kept)",
			       ks->groups[j]->id);
			ks_group_close(ks->groups[j]);
		}
	}
	free(ks->groups);
	ks->groups = ng;
	ks->ngroups = nn;
	/* the engine's counters go on across reloads */
	const struct gdoi_gcks_stats *es = ks_registrar_stats(ks->reg);
	ks->gcks_base.datagrams += es->datagrams;
	ks->gcks_base.dropped += es->dropped;
	ks->gcks_base.mm1_limited += es->mm1_limited;
	ks->gcks_base.junk_limited += es->junk_limited;
	ks->gcks_base.registrations += es->registrations;
	ks_registrar_adopt(nr, ks->reg);
	ks_registrar_free(ks->reg);
	ks->reg = nr;
	ks_registrar_arm(nr);	/* the timer named the old one */
	ks_workers_commit(ks);
	ks_config_free(old);
	ks_workers_resume(ks);
	/* members no longer allowed in a group are evicted from it */
	for (size_t i = 0; i < nn; i++) {
		struct ks_group *g = ng[i];
		struct stale_ctx *s = calloc(1, sizeof(*s));
		if (!s)
			continue;
		s->ks = ks;
		s->g = g;
		ks_state_members(ks->st, g->id, collect_stale, s);
		for (size_t k = 0; k < s->n; k++) {
			ks_log(KS_INFO, "reload: member %s no longer in group %s", s->names[k], g->cfg->name);
			ks_state_member_remove(ks->st, g->id, s->names[k]);
		}
		if (s->n && g->rec.has_kek) {
			if (!ks_rekey_kek(g, "members removed by reload", true))
				ks_rekey_teks(g, "members removed by reload");
		} else if (rekey && rekey[i]) {
			ks_rekey_teks(g, "TEK configuration changed");
		}
		free(s);
		ks_rekey_schedule(g);
	}
	free(rekey);
	ks_log(KS_INFO, "configuration reloaded: %zu group(s), %zu member(s)", nc->ngroups, nc->nmembers);
}

/* ---- signals and shutdown ------------------------------------------------------------ */

static void on_close_noop(uv_handle_t *h)
{
	(void)h;
}

void ks_shutdown(struct ks *ks)
{
	if (ks->stopping)
		return;
	ks->stopping = true;
	dm_notify("STOPPING=1");
	ks_workers_stop(ks);	/* first: a worker may be in a callback that reads the groups */
	ks_registrar_shutdown(ks->reg);	/* before the socket closes (with workers, it holds none) */
	for (size_t i = 0; i < ks->ngroups; i++)
		ks_group_close(ks->groups[i]);
	ks->ngroups = 0;
	ks_cluster_stop(ks);
	ks_admin_close(ks->admin);
	ks->admin = NULL;
	dm_metrics_http_close(ks->metrics);
	ks->metrics = NULL;
	if (ks->udp.loop)	/* opened by ks_workers_start */
		uv_close((uv_handle_t *)&ks->udp, on_close_noop);
	uv_close((uv_handle_t *)&ks->expire_timer, on_close_noop);
	uv_close((uv_handle_t *)&ks->sig_term, on_close_noop);
	uv_close((uv_handle_t *)&ks->sig_int, on_close_noop);
	uv_close((uv_handle_t *)&ks->sig_hup, on_close_noop);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct ks *ks = s->data;
	if (signum == SIGHUP) {
		ks_log(KS_INFO, "SIGHUP: reloading %s", ks->config_path);
		reload(ks);
		return;
	}
	ks_log(KS_INFO, "%s: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ks_shutdown(ks);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct ks ks = { .watch_fd = -1 };
	int verbose = 0, rc;

	/* before anything calls OpenSSL (gdoi/ossl_pool.h) */
	const char *om = getenv("GDOI_OSSL_MALLOC");
	int pool = gdoi_ossl_pool_install(om && !strcmp(om, "system"));
	if ((rc = dm_opts_parse(&ks_prog, argc, argv, ks_opt, &ks, &verbose)))
		return rc == 1 ? 0 : 2;
	if (!ks.config_path) {
		fprintf(stderr, "gdoi-ks: error: -c FILE is required\n");
		dm_opts_usage(&ks_prog, stderr);
		return 2;
	}
	dm_log_init("gdoi-ks");
	if (pool)
		ks_log(KS_WARN, "OpenSSL allocated before its block pool was installed: it stays on malloc");
	dm_log_set_verbosity(verbose);
	dm_no_core_dumps();
	dm_secret_memory();	/* policies the engine builds for members: pages of their own */
	dm_json_wipe_on_free();
	signal(SIGPIPE, SIG_IGN);
	char err[600];
	if (ks_config_load(ks.config_path, &ks.ov, &ks.cfg, err, sizeof(err))) {
		ks_log(KS_ERR, "%s", err);
		return 2;
	}
	int status = 1;
	ks.loop = uv_default_loop();
	ks.started = ks_unix_now();
	/* a directory another uid planted (or can write) would hand it the database and
	 * the admin socket: refused, like symlinks anywhere on the way */
	bool pg = !strncmp(ks.cfg->state_dir, KS_STATE_PG_PREFIX, strlen(KS_STATE_PG_PREFIX));
	if ((!pg && dm_dir_secure(ks.cfg->state_dir, 0700, (gid_t)-1, err, sizeof(err))) ||
	    dm_dir_secure_parent(ks.cfg->admin_socket, 0750, (gid_t)-1, err, sizeof(err)) ||
	    ks_state_open(ks.cfg->state_dir, &ks.st, err, sizeof(err))) {
		ks_log(KS_ERR, "%s", err);
		goto out;
	}
	ks.udp_family = ks.cfg->listen.len == 4 ? AF_INET : AF_INET6;
	ks_udpb_init(&ks.udpb, &ks.udp, ks.udp_family);
	uv_timer_init(ks.loop, &ks.expire_timer);
	ks.expire_timer.data = &ks;
	uv_signal_init(ks.loop, &ks.sig_term);
	uv_signal_init(ks.loop, &ks.sig_int);
	uv_signal_init(ks.loop, &ks.sig_hup);
	ks.sig_term.data = ks.sig_int.data = ks.sig_hup.data = &ks;
	uv_signal_start(&ks.sig_term, on_signal, SIGTERM);
	uv_signal_start(&ks.sig_int, on_signal, SIGINT);
	uv_signal_start(&ks.sig_hup, on_signal, SIGHUP);
	/* Bound before the groups open: a rekey at start (TEK set changed) is pushed
	 * from this socket, and an unbound one would be bound to an ephemeral port. */
	char la[64];
	ks_inet_format(&ks.cfg->listen, la, sizeof(la));
	rc = ks_workers_start(&ks);
	if (rc) {
		ks_log(KS_ERR, "cannot listen on UDP %s: %s", la, uv_strerror(rc));
		goto fail_loop;
	}
	/* the registrar's engine delivers pushes: there before a group may rekey */
	if (ks_registrar_new(&ks, NULL, &ks.reg, err, sizeof(err))) {
		ks_log(KS_ERR, "%s", err);
		goto fail_loop;
	}
	if (open_groups(&ks))
		goto fail_loop;
	/* with workers the main thread's socket only sends (their sockets receive) */
	rc = ks.nworkers ? 0 : uv_udp_recv_start(&ks.udp, on_alloc, on_udp);
	if (rc) {
		ks_log(KS_ERR, "cannot receive on UDP %s: %s", la, uv_strerror(rc));
		goto fail_loop;
	}
	if (ks_admin_open(&ks, ks.cfg->admin_socket, &ks.admin))
		goto fail_loop;
	char ma[64] = "off";
	if (ks.cfg->metrics_set) {
		if (dm_metrics_http_start(ks.loop, &ks.cfg->metrics, ks_metrics_collect, &ks, &ks.metrics, err,
					  sizeof(err))) {
			ks_log(KS_ERR, "%s", err);
			goto fail_loop;
		}
		dm_metrics_listen_format(&ks.cfg->metrics, ma, sizeof(ma));
	}
	ks_registrar_arm(ks.reg);
	ks_cluster_start(&ks);
	ks_log(KS_INFO, "gdoi-ks %s listening on UDP %s (%u worker(s)), %zu group(s), %zu member(s), state %s, "
	       "admin socket %s, metrics %s", GDOI_VERSION, la, ks.nworkers ? ks.nworkers : 1, ks.ngroups,
	       ks.cfg->nmembers, pg ? "postgresql" : ks.cfg->state_dir, ks.cfg->admin_socket,
	       ma);	/* a conninfo may hold a password */
	status = 0;
	dm_notify("READY=1");
	ks_run(&ks);
	goto out;
fail_loop:
	status = 1;
	ks_shutdown(&ks);
	ks_run(&ks);
out:
	ks_registrar_free(ks.reg);
	ks_udpb_free(&ks.udpb);
	free(ks.groups);
	ks_state_close(ks.st);
	uv_loop_close(ks.loop);
	ks_config_free(ks.cfg);
	dm_log_flush();
	if (!status)
		ks_log(KS_INFO, "stopped; state synced");
	return status;
}
