/*
 * gdoictl - admin tool for the gdoi-ks key server (its admin Unix socket,
 * newline-delimited JSON; docs/keyserver.md). Tables by default, the
 * server's JSON reply with --json.
 *
 *   gdoictl [--socket PATH] [--json] status
 *   gdoictl [--socket PATH] [--json] members GROUP
 *   gdoictl [--socket PATH] [--json] rekey GROUP [--kek]
 *   gdoictl [--socket PATH] [--json] evict MEMBER
 *   gdoictl [--socket PATH] [--json] admit MEMBER
 *   gdoictl metrics ADDR:PORT | --url http://ADDR:PORT/metrics   (or --metrics ADDR:PORT)
 *
 * The sidecar commands (get, watch, sidecar-status, over --sidecar PATH) are
 * in sidecar_cmds.c; main() hands them over first.
 *
 * The transport is ipc/client.h (docs/ipc.md), as for the sidecar commands.
 *
 * On a key server that does not lead the group (several on PostgreSQL), rekey and
 * an eviction's rotation are handed to the rekey leader: the reply says
 * "forwarded", and gdoictl asks after each command (op "command") for up to
 * FORWARD_WAIT_MS, then adds "results" (done, the SEQ that carried it) to what it
 * prints.
 *
 * Exit: 0 ok, 1 the server answered with an error (its code and message on
 * stderr: unknown_group, unknown_member, failed, not_authorized, ...), 2 usage,
 * 3 cannot connect or no valid reply.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/client.h"
#include "tools/gdoictl/gdoictl.h"

#include "version.h"
#define DEFAULT_SOCKET "/run/gdoi-ks/admin.sock"
#define REPLY_TIMEOUT_MS 60000	/* a rekey or an eviction pushes before it answers */
#define FORWARD_WAIT_MS 5000	/* how long a forwarded command is waited for */
#define FORWARD_POLL_MS 50

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gdoictl [--socket PATH] [--json] COMMAND [ARGS]\n"
		"Key server (gdoi-ks) commands:\n"
		"  status              groups, KEK, TEKs, SEQ, member counts\n"
		"  members GROUP       registered members of GROUP (name or id), their SSRCs and\n"
		"                      the SEQ of the last push each acknowledged (RFC 8263)\n"
		"  rekey GROUP [--kek] push new TEKs now (or, with --kek, a new KEK)\n"
		"  evict MEMBER        remove MEMBER from its groups (KEK rotation, then new TEKs)\n"
		"  admit MEMBER        allow an evicted MEMBER to register again\n"
		"Either daemon:\n"
		"  metrics ADDR:PORT   print its metrics page (docs/metrics.md); or --url URL,\n"
		"                      or --metrics ADDR:PORT without a command\n"
		"Options:\n"
		"  -s, --socket PATH   admin socket (default $GDOI_KS_SOCKET or " DEFAULT_SOCKET ")\n"
		"  -j, --json          print the server's JSON reply\n"
		"  -h, --help, -V, --version\n"
		GDOICTL_SIDECAR_USAGE);
}

/* One request over ipc/client.h: 0 and *reply, or the exit status (3) with
 * the reason on stderr. */
static int request(const char *path, const json_t *req, json_t **reply)
{
	struct ipc_client *c;
	int rc;

	*reply = NULL;
	if (gdoictl_socket_trusted(path, "gdoi-ks"))
		return 3;
	rc = ipc_client_connect(path, &c);
	if (rc) {
		fprintf(stderr, "gdoictl: cannot connect to %s: %s (is gdoi-ks running? --socket?)\n", path,
			strerror(-rc));
		return 3;
	}
	rc = ipc_client_set_max_line(c, IPC_CLIENT_MAX_LINE);
	if (!rc)
		rc = ipc_client_request(c, req, reply, REPLY_TIMEOUT_MS);
	ipc_client_close(c);
	if (rc <= 0) {
		fprintf(stderr, "gdoictl: %s\n", rc == 0 ? "no reply from the key server" :
			rc == -EPIPE ? "the key server closed the connection" :
			rc == -EPROTO ? "bad reply from the key server" : strerror(-rc));
		return 3;
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forwarded to the rekey leader: waits (bounded) for each command, and puts into
 * reply "results" (the "command" replies), "done" (all carried out) and, when all
 * are done, "seq" (the last one's SEQ). 0, or 1 when one failed on the leader. */
static int wait_forwarded(const char *path, json_t *reply)
{
	json_t *ids = json_object_get(reply, "commands"), *res = json_array();
	int64_t deadline = mono_ms() + FORWARD_WAIT_MS;
	bool all = true, failed = false;
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id) {
		json_t *r = NULL;
		for (;;) {
			json_t *req = json_pack("{s:s, s:O}", "op", "command", "command", id);
			int rc = req ? request(path, req, &r) : 3;
			json_decref(req);
			/* an error reply (the key server's database away for a moment) is asked again */
			if (rc || json_is_true(json_object_get(r, "done")) || mono_ms() >= deadline)
				break;
			json_decref(r);
			r = NULL;
			nanosleep(&(struct timespec){ .tv_nsec = FORWARD_POLL_MS * 1000000L }, NULL);
		}
		bool done = json_is_true(json_object_get(r, "done"));
		const char *err = json_string_value(json_object_get(r, "error"));
		all &= done;
		failed |= done && err && *err;
		if (done && json_is_integer(json_object_get(r, "seq")))
			json_object_set(reply, "seq", json_object_get(r, "seq"));
		json_array_append_new(res, r ? r : json_null());
	}
	json_object_set_new(reply, "results", res);
	json_object_set_new(reply, "done", json_boolean(all));
	return failed ? 1 : 0;
}

static void print_forwarded(json_t *reply)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(reply, "results"), i, r) {
		json_t *seq = json_object_get(r, "seq");
		const char *err = json_string_value(json_object_get(r, "error"));
		long long id = (long long)json_integer_value(json_object_get(r, "command"));
		if (!json_is_true(json_object_get(r, "done")))
			printf("  command %lld: queued, not carried out within %d s (it stays queued for the "
			       "leader)\n", id, FORWARD_WAIT_MS / 1000);
		else if (err && *err)
			printf("  command %lld (group %lld): %s\n", id,
			       (long long)json_integer_value(json_object_get(r, "group")), err);
		else if (json_is_integer(seq))
			printf("  command %lld (group %lld): carried out by the rekey leader, SEQ now %lld\n", id,
			       (long long)json_integer_value(json_object_get(r, "group")),
			       (long long)json_integer_value(seq));
		else
			printf("  command %lld (group %lld): carried out by the rekey leader\n", id,
			       (long long)json_integer_value(json_object_get(r, "group")));
	}
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static void when(json_int_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t || !gmtime_r(&tt, &tm))
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_status(json_t *r)
{
	printf("gdoi-ks %s on %s, up %llds, %lld registration(s), %lld Phase 1 SA(s), %lld dropped\n",
	       str(r, "version"), str(r, "listen"), (long long)json_integer_value(json_object_get(r, "uptime")),
	       (long long)json_integer_value(json_object_get(r, "registrations")),
	       (long long)json_integer_value(json_object_get(r, "phase1_sas")),
	       (long long)json_integer_value(json_object_get(r, "dropped")));
	json_t *ws = json_object_get(r, "workers");
	if (json_array_size(ws)) {	/* registration workers (the counts above are their sums) */
		size_t k;
		json_t *w;
		printf("%zu workers:", json_array_size(ws));
		json_array_foreach(ws, k, w)
			printf(" %zu: %lld registration(s), %lld SA(s);", k,
			       (long long)json_integer_value(json_object_get(w, "registrations")),
			       (long long)json_integer_value(json_object_get(w, "phase1_sas")));
		printf("\n");
	}
	printf("%-10s %-12s %-8s %-8s %-34s %-22s %s\n", "ID", "GROUP", "MEMBERS", "SEQ", "KEK SPI",
	       "NEXT REKEY", "TEKS");
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(r, "groups"), i, g) {
		json_t *kek = json_object_get(g, "kek");
		char next[32], seq[16];
		when(json_integer_value(json_object_get(g, "next_rekey")), next, sizeof(next));
		if (json_is_object(kek))
			snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(g, "seq")));
		else
			snprintf(seq, sizeof(seq), "-");
		printf("%-10lld %-12s %-8lld %-8s %-34s %-22s", (long long)json_integer_value(json_object_get(g, "id")),
		       str(g, "name"), (long long)json_integer_value(json_object_get(g, "members")), seq,
		       json_is_object(kek) ? str(kek, "spi") : "(no KEK)", next);
		size_t j;
		json_t *t;
		json_array_foreach(json_object_get(g, "teks"), j, t)
			printf("%s%s %s%s", j ? ", " : "", str(t, "spi"), str(t, "profile"),
			       !strcmp(str(t, "generation"), "previous") ? " (previous)" : "");
		printf("\n");
		if (!strcmp(str(r, "state"), "postgresql"))
			printf("%-10s rekey leader: %s, held by %s\n", "",
			       json_is_true(json_object_get(g, "leader")) ? "yes (this key server)" : "no",
			       *str(g, "leader_holder") ? str(g, "leader_holder") : "nobody");
	}
}

static void print_members(json_t *r)
{
	printf("group %s (%lld)\n", str(r, "group"), (long long)json_integer_value(json_object_get(r, "id")));
	printf("%-16s %-30s %-22s %-22s %-6s %-9s %s\n", "MEMBER", "IDENTITY", "ADDRESS", "REGISTERED", "SEND",
	       "ACKED", "SSRCS");
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(r, "members"), i, m) {
		char reg[32];
		when(json_integer_value(json_object_get(m, "registered")), reg, sizeof(reg));
		json_t *acked = json_object_get(m, "acked_seq");
		char ack[16] = "-";
		if (json_is_integer(acked))
			snprintf(ack, sizeof(ack), "%lld", (long long)json_integer_value(acked));
		printf("%-16s %-30s %-22s %-22s %-6s %-9s ", str(m, "member"), str(m, "identity"), str(m, "address"),
		       reg, json_is_true(json_object_get(m, "may_send")) ? "yes" : "no", ack);
		size_t j;
		json_t *s;
		json_array_foreach(json_object_get(m, "ssrcs"), j, s)
			printf("%s%s", j ? "," : "", json_string_value(s));
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "kek", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { "sidecar", required_argument, NULL, 'S' },
		{ "metrics", required_argument, NULL, 'M' }, { "url", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("GDOI_KS_SOCKET");
	bool as_json = false, kek = false;
	int c = gdoictl_sidecar_main(argc, argv);
	if (c >= 0)
		return c;
	bool sidecar_opt = false;
	const char *metrics = NULL;
	while ((c = getopt_long(argc, argv, "s:S:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'S': sidecar_opt = true; break;
		case 'M':
		case 'U': metrics = optarg; break;
		case 'j': as_json = true; break;
		case 'k': kek = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gdoictl %s\n", GDOI_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	if (optind < argc && !strcmp(argv[optind], "metrics")) {
		if (argc - optind - 1 == (metrics ? 0 : 1))
			return gdoictl_metrics(metrics ? metrics : argv[optind + 1]);
		fprintf(stderr, "gdoictl: metrics: expected one ADDR:PORT, or --url URL\n");
		return 2;
	}
	if (metrics && optind == argc)
		return gdoictl_metrics(metrics);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	if (sidecar_opt) {
		fprintf(stderr, "gdoictl: --sidecar goes with get, watch and sidecar-status; %s talks to the key "
			"server (--socket)\n", cmd);
		return 2;
	}
	int nargs = argc - optind - 1;
	const char *arg = nargs > 0 ? argv[optind + 1] : NULL;
	json_t *req;
	if (!strcmp(cmd, "status") && nargs == 0)
		req = json_pack("{s:s}", "op", "status");
	else if ((!strcmp(cmd, "members") || !strcmp(cmd, "rekey")) && nargs == 1)
		req = json_pack("{s:s, s:s, s:b}", "op", cmd, "group", arg, "kek", kek);
	else if ((!strcmp(cmd, "evict") || !strcmp(cmd, "admit")) && nargs == 1)
		req = json_pack("{s:s, s:s}", "op", cmd, "member", arg);
	else {
		fprintf(stderr, "gdoictl: unknown command or wrong arguments: %s\n", cmd);
		usage(stderr);
		return 2;
	}
	if (!req) {
		fprintf(stderr, "gdoictl: out of memory\n");
		return 3;
	}
	json_t *reply;
	c = request(path, req, &reply);
	json_decref(req);
	if (c)
		return c;
	int status = json_is_true(json_object_get(reply, "ok")) ? 0 : 1;
	bool forwarded = !status && json_is_true(json_object_get(reply, "forwarded"));
	if (forwarded)
		status = wait_forwarded(path, reply);
	if (as_json) {
		char *s = json_dumps(reply, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	} else if (status) {
		json_t *e = json_object_get(reply, "error");
		fprintf(stderr, "gdoictl: %s: %s\n", str(e, "code"), str(e, "message"));
	} else if (!strcmp(cmd, "status")) {
		print_status(reply);
	} else if (!strcmp(cmd, "members")) {
		print_members(reply);
	} else if (!strcmp(cmd, "rekey") && forwarded) {
		printf("group %s: %s rekey forwarded to the rekey leader (%s)\n", str(reply, "group"),
		       kek ? "KEK" : "TEK", *str(reply, "leader") == '-' || !*str(reply, "leader") ? "none now"
		       : str(reply, "leader"));
		print_forwarded(reply);
	} else if (!strcmp(cmd, "rekey")) {
		printf("group %s: %s rekey pushed, SEQ now %lld\n", str(reply, "group"), kek ? "KEK" : "TEK",
		       (long long)json_integer_value(json_object_get(reply, "seq")));
	} else if (!strcmp(cmd, "evict")) {
		printf("member %s evicted from %lld group(s)%s\n", str(reply, "member"),
		       (long long)json_integer_value(json_object_get(reply, "groups")),
		       forwarded ? "; the KEK rotation forwarded to the rekey leader" : "");
		if (forwarded)
			print_forwarded(reply);
	} else {
		printf("member %s admitted\n", str(reply, "member"));
	}
	json_decref(reply);
	return status;
}
