/*
 * main.c - gdoi-sidecar: command line, configuration, the libuv loop,
 * signals (SIGTERM/SIGINT stop, SIGHUP reloads the allow lists), the IPC
 * server, and systemd readiness (NOTIFY_SOCKET, no libsystemd).
 */
#include "sidecar.h"

#include "daemon/dir.h"
#include "daemon/harden.h"
#include "daemon/notify.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gdoi-sidecar [-c FILE] [--server ADDR:PORT] [--socket PATH] [-v]\n"
		"GDOI (RFC 6407) group member: registers with a key server, follows rekeys,\n"
		"and hands SRTP keys to local media processes over a Unix socket (docs/ipc.md).\n"
		"\n"
		"  -c, --config FILE     configuration (default /etc/gdoi-sidecar/sidecar.conf)\n"
		"  -s, --server ADDR:PORT  key server, replacing the configured list\n"
		"  -S, --socket PATH     IPC socket (default /run/gdoi-sidecar/sidecar.sock)\n"
		"  -v, --verbose         more log lines\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the allow lists.\n");
}

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
	ipc_server_close(sc->ipc);
	sc->ipc = NULL;
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
}

static void reload(struct sidecar *sc)
{
	struct sc_config n;
	char err[400];
	size_t updated = 0;

	if (sc_config_load(cfg_path, &n, err, sizeof err)) {
		sc_log("reload: %s; keeping the running configuration", err);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sidecar sc;
	const char *server = NULL, *sock = NULL;
	char err[400];
	int c, rc, verbose = 0;

	while ((c = getopt_long(argc, argv, "c:s:S:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 's': server = optarg; break;
		case 'S': sock = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gdoi-sidecar " GDOI_VERSION "\n"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	dm_log_init("gdoi-sidecar");
	dm_log_set_verbosity(verbose);
	dm_no_core_dumps();
	dm_dontdump(&sc, sizeof sc);	/* the live TEKs */
	dm_json_wipe_on_free();
	signal(SIGPIPE, SIG_IGN);
	if (sc_config_load(cfg_path, &sc.cfg, err, sizeof err)) {
		fprintf(stderr, "gdoi-sidecar: %s\n", err);
		return 1;
	}
	if (server) {
		if (sc_parse_inet(server, 848, &sc.cfg.ks[0])) {
			fprintf(stderr, "gdoi-sidecar: --server: expected ADDR[:PORT], got \"%s\"\n", server);
			sc_config_free(&sc.cfg);
			return 2;
		}
		sc.cfg.nks = 1;
	}
	if (sock) {
		if (sock[0] != '/' || strlen(sock) >= sizeof sc.cfg.socket) {
			fprintf(stderr, "gdoi-sidecar: --socket: expected an absolute path\n");
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
		fprintf(stderr, "gdoi-sidecar: IPC socket: %s\n", err);
		sc_config_free(&sc.cfg);
		return 1;
	}
	sc_log("gdoi-sidecar " GDOI_VERSION " starting: %s, IPC socket %s, %zu group(s)", cfg_path,
	       sc.cfg.socket, sc.cfg.ngroups);
	if (sc_member_start(&sc, err, sizeof err)) {
		fprintf(stderr, "gdoi-sidecar: %s\n", err);
		sc.stopping = true;
		ipc_server_close(sc.ipc);
		uv_run(sc.loop, UV_RUN_DEFAULT);
		sc_config_free(&sc.cfg);
		return 1;
	}
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
