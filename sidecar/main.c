/*
 * main.c - gdoi-sidecar: command line, configuration, the libuv loop,
 * signals (SIGTERM/SIGINT stop, SIGHUP reloads the allow lists), the IPC
 * server, and systemd readiness (NOTIFY_SOCKET, no libsystemd).
 */
#include "sidecar.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sidecar *sc_self;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gdoi-sidecar [-c FILE] [--server ADDR:PORT] [--socket PATH] [-v]\n"
		"GDOI (RFC 6407) group member: registers with a key server, follows rekeys,\n"
		"and hands SRTP keys to local media processes over a Unix socket (docs/ipc.md).\n"
		"\n"
		"  -c, --config FILE     configuration (default /etc/gdoi/sidecar.conf)\n"
		"  -s, --server ADDR:PORT  key server, replacing the configured list\n"
		"  -S, --socket PATH     IPC socket (default /run/gdoi-sidecar/sidecar.sock)\n"
		"  -v, --verbose         more log lines\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the allow lists.\n");
}

/* Keys pass through jansson as base64 strings: wipe every block it frees. */
static void *wipe_malloc(size_t n)
{
	return malloc(n);
}

static void wipe_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void notify_systemd(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || !*path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		sc_log("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	close(fd);
}

static void ipc_log(void *ctx, const char *msg)
{
	(void)ctx;
	sc_log("%s", msg);
}

static uv_signal_t sig_term, sig_int, sig_hup;
static const char *cfg_path = "/etc/gdoi/sidecar.conf";

static void stop(struct sidecar *sc, const char *why)
{
	if (sc->stopping)
		return;
	sc_log("stopping (%s)", why);
	notify_systemd("STOPPING=1");
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
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:s:S:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 's': server = optarg; break;
		case 'S': sock = optarg; break;
		case 'v': sc_verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gdoi-sidecar " SC_VERSION "\n"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	json_set_alloc_funcs(wipe_malloc, wipe_free);
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
	sc_self = &sc;
	sc.loop = uv_default_loop();
	sc.started = sc_wall();
	for (size_t i = 0; i < sc.cfg.ngroups; i++)
		sc.groups[i].cfg = &sc.cfg.groups[i];
	struct ipc_server_cfg icfg = {
		.path = sc.cfg.socket,
		.set_group = sc.cfg.socket_group_set,
		.gid = sc.cfg.socket_gid,
		.handle = sc_control_handle,
		.closed = sc_control_closed,
		.log = ipc_log,
		.ctx = &sc,
	};
	if (ipc_server_start(sc.loop, &icfg, &sc.ipc, err, sizeof err)) {
		fprintf(stderr, "gdoi-sidecar: IPC socket: %s\n", err);
		sc_config_free(&sc.cfg);
		return 1;
	}
	sc_log("gdoi-sidecar " SC_VERSION " starting: %s, IPC socket %s, %zu group(s)", cfg_path,
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
	notify_systemd("READY=1");
	rc = uv_run(sc.loop, UV_RUN_DEFAULT);
	uv_loop_close(sc.loop);
	sc_config_free(&sc.cfg);
	sc_log("stopped");
	return rc ? 1 : 0;
}
