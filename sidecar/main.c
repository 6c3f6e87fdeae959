/*
 * main.c - gdoi-sidecar: command line, configuration, the libuv loop,
 * signals (SIGTERM/SIGINT stop, SIGHUP reloads the allow lists), the IPC
 * server, and systemd readiness (NOTIFY_SOCKET, no libsystemd).
 */
#include "sidecar.h"

#include "daemon/dir.h"
#include "daemon/harden.h"
#include "daemon/metrics_http.h"
#include "daemon/notify.h"
#include "daemon/opts.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const struct dm_opt sc_opts[] = {
	{ "config", 'c', "FILE", "configuration (default /etc/gdoi-sidecar/sidecar.conf)" },
	{ "server", 's', "ADDR:PORT", "key server (A.B.C.D, [V6] or a host name, :PORT), replacing the configured list" },
	{ "socket", 'S', "PATH", "IPC socket (default /run/gdoi-sidecar/sidecar.sock)" },
	{ NULL, 0, NULL, NULL },
};

static const struct dm_prog sc_prog = {
	.name = "gdoi-sidecar",
	.version = GDOI_VERSION,
	.synopsis = "[-c FILE] [--server ADDR:PORT] [--socket PATH] [-v]",
	.about = "GDOI (RFC 6407) group member: registers with a key server, follows rekeys,\n"
		 "and hands SRTP keys to local media processes over a Unix socket (docs/ipc.md).",
	.footer = "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the allow lists.",
	.opts = sc_opts,
};

static void ipc_log(void *ctx, const char *msg)
{
	(void)ctx;
	sc_log("%s", msg);
}

static uv_signal_t sig_term, sig_int, sig_hup;
static const char *cfg_path = "/etc/gdoi-sidecar/sidecar.conf";

static void stop(struct sidecar *sc, const char *why)
{
	if (sc->stopping)
		return;
	sc_log("stopping (%s)", why);
	dm_notify("STOPPING=1");
	sc_member_stop(sc);
	dm_metrics_http_close(sc->metrics);
	sc->metrics = NULL;
	ipc_server_close(sc->ipc);
	sc->ipc = NULL;
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
}

static void reload(struct sidecar *sc)
{
	struct sc_config n;
	char err[640];
	size_t updated = 0;

	if (sc_config_load(cfg_path, &n, err, sizeof err)) {
		sc_warn("reload: %s; keeping the running configuration", err);
		return;
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		for (size_t j = 0; j < n.ngroups; j++)
			if (n.groups[j].id == sc->cfg.groups[i].id) {
				sc->cfg.groups[i].nallow = n.groups[j].nallow;
				memcpy(sc->cfg.groups[i].allow, n.groups[j].allow, sizeof n.groups[j].allow);
				updated++;
			}
	sc_log("reload: allow lists of %zu group(s) updated; other changes take a restart", updated);
	sc_config_free(&n);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct sidecar *sc = h->data;

	if (signum == SIGHUP)
		reload(sc);
	else
		stop(sc, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Start-up failed after the IPC server opened: closes what is open, exit status 1. */
static int abort_start(struct sidecar *sc, const char *err)
{
	sc_err("%s", err);
	sc->stopping = true;
	dm_metrics_http_close(sc->metrics);
	sc->metrics = NULL;
	ipc_server_close(sc->ipc);
	uv_run(sc->loop, UV_RUN_DEFAULT);
	sc_config_free(&sc->cfg);
	return 1;
}

struct sc_args {
	const char *server, *sock;
};

static int sc_opt(void *ctx, int key, const char *arg)
{
	struct sc_args *args = ctx;

	switch (key) {
	case 'c': cfg_path = arg; break;
	case 's': args->server = arg; break;
	case 'S': args->sock = arg; break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sidecar sc;
	struct sc_args args = { NULL, NULL };
	const char *server, *sock;
	char err[640];
	int rc, verbose = 0;

	if ((rc = dm_opts_parse(&sc_prog, argc, argv, sc_opt, &args, &verbose)))
		return rc == 1 ? 0 : 2;
	server = args.server;
	sock = args.sock;
	dm_log_init("gdoi-sidecar");
	dm_log_set_verbosity(verbose);
	dm_no_core_dumps();
	dm_secret_memory();		/* the engine's live TEKs and policies: pages of their own */
	dm_dontdump(&sc, sizeof sc);
	dm_json_wipe_on_free();
	signal(SIGPIPE, SIG_IGN);
	if (sc_config_load(cfg_path, &sc.cfg, err, sizeof err)) {
		sc_err("%s", err);
		return 1;
	}
	if (server) {
		if (sc_parse_ks(server, &sc.cfg.ks[0]) || (!sc.cfg.ks[0].host[0] &&
		    !sc_local_reaches(&sc.cfg, sc.cfg.ks[0].addr.family == AF_INET6 ? 16 : 4))) {
			sc_err("--server: expected ADDR[:PORT], [IPV6-ADDR][:PORT] or HOST-NAME[:PORT] "
			       "the local address reaches, got \"%s\"", server);
			sc_config_free(&sc.cfg);
			return 2;
		}
		sc.cfg.nks = 1;
	}
	if (sock) {
		if (sock[0] != '/' || strlen(sock) >= sizeof sc.cfg.socket) {
			sc_err("--socket: expected an absolute path");
			sc_config_free(&sc.cfg);
			return 2;
		}
		snprintf(sc.cfg.socket, sizeof sc.cfg.socket, "%s", sock);
	}
	sc.loop = uv_default_loop();
	sc.started = sc_wall();
	for (size_t i = 0; i < sc.cfg.ngroups; i++) {
		sc.groups[i].sc = &sc;
		sc.groups[i].cfg = &sc.cfg.groups[i];
	}
	struct ipc_server_cfg icfg = {
		.path = sc.cfg.socket,
		.set_group = sc.cfg.socket_group_set,
		.gid = sc.cfg.socket_gid,
		.handle = sc_control_handle,
		.closed = sc_control_closed,
		.log = ipc_log,
		.ctx = &sc,
	};
	if (dm_dir_secure_parent(sc.cfg.socket, 0750,
				 sc.cfg.socket_group_set ? sc.cfg.socket_gid : (gid_t)-1, err, sizeof err) ||
	    ipc_server_start(sc.loop, &icfg, &sc.ipc, err, sizeof err)) {
		sc_err("IPC socket: %s", err);
		sc_config_free(&sc.cfg);
		return 1;
	}
	char ma[64] = "off";
	if (sc.cfg.metrics_set) {
		if (dm_metrics_http_start(sc.loop, &sc.cfg.metrics, sc_metrics_collect, &sc, &sc.metrics, err,
					  sizeof err))
			return abort_start(&sc, err);
		dm_metrics_listen_format(&sc.cfg.metrics, ma, sizeof ma);
	}
	sc_log("gdoi-sidecar " GDOI_VERSION " starting: %s, IPC socket %s, %zu group(s), metrics %s", cfg_path,
	       sc.cfg.socket, sc.cfg.ngroups, ma);
	if (sc_member_start(&sc, err, sizeof err))
		return abort_start(&sc, err);
	uv_signal_init(sc.loop, &sig_term);
	uv_signal_init(sc.loop, &sig_int);
	uv_signal_init(sc.loop, &sig_hup);
	sig_term.data = sig_int.data = sig_hup.data = &sc;
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	dm_notify("READY=1");
	rc = uv_run(sc.loop, UV_RUN_DEFAULT);
	uv_loop_close(sc.loop);
	sc_config_free(&sc.cfg);
	dm_log_flush();
	sc_log("stopped");
	return rc ? 1 : 0;
}
