/*
 * ipc-load.c - the sidecar's IPC under load, with its baseline in the same run.
 *
 *   ipc-load --socket PATH --group NAME [--gets N] [--subscribers S] [--ks-socket PATH]
 *
 * 1. `get` round trips through the real sidecar socket, N times, p50/p99;
 *    baseline: the same-size request/reply ping-pong with a child process
 *    over a socketpair (the kernel path and cross-process wake-ups alone).
 * 2. S subscribers connected at once; a rekey is triggered (gdoictl
 *    --socket KS rekey GROUP, run as a child) and the time from the first
 *    subscriber seeing the new snapshot to the last one is the fan-out time;
 *    baseline: one subscriber's read of the same event (first to first).
 * Output: one JSON object.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/client.h"
#include "ipc/snapshot.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, unsigned p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n ? (double)v[(n - 1) * p / 100] / 1000.0 : 0;	/* microseconds */
}

/* The kernel path alone, between two processes as with the sidecar: a child
 * answers each request line with a reply of the same size as the sidecar's.
 * (Cross-process wake-ups dominate small round trips on these machines.) */
static void echo_baseline(size_t req_len, size_t reply_len, size_t n, uint64_t *rtt)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	char *req = malloc(req_len), *rep = malloc(reply_len), *buf = malloc(reply_len + req_len);
	memset(req, 'q', req_len);
	memset(rep, 'r', reply_len);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		for (size_t i = 0; i < n; i++) {
			for (size_t got = 0; got < req_len;) {
				ssize_t r = read(sv[1], buf, req_len - got);
				if (r <= 0)
					_exit(0);
				got += (size_t)r;
			}
			if (write(sv[1], rep, reply_len) != (ssize_t)reply_len)
				_exit(0);
		}
		_exit(0);
	}
	close(sv[1]);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		if (write(sv[0], req, req_len) != (ssize_t)req_len)
			exit(2);
		for (size_t got = 0; got < reply_len;) {
			ssize_t r = read(sv[0], buf, reply_len - got);
			if (r <= 0)
				exit(2);
			got += (size_t)r;
		}
		rtt[i] = now_ns() - t0;
	}
	int st;
	waitpid(pid, &st, 0);
	free(req);
	free(rep);
	free(buf);
	close(sv[0]);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *group = NULL, *ks_sock = NULL, *gdoictl = "gdoictl";
	size_t n = 2000, subs = 100;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--socket")) path = argv[i + 1];
		else if (!strcmp(argv[i], "--group")) group = argv[i + 1];
		else if (!strcmp(argv[i], "--gets")) n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--subscribers")) subs = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--ks-socket")) ks_sock = argv[i + 1];
		else if (!strcmp(argv[i], "--gdoictl")) gdoictl = argv[i + 1];
	}
	if (!path || !group || n < 10 || n > 100000 || subs < 1 || subs > 1000) {
		fprintf(stderr, "usage: ipc-load --socket PATH --group NAME [--gets N] [--subscribers S] "
				"[--ks-socket PATH --gdoictl PATH]\n");
		return 2;
	}
	struct ipc_client *c = NULL;
	if (ipc_client_connect(path, &c)) {
		fprintf(stderr, "ipc-load: cannot connect to %s\n", path);
		return 2;
	}
	json_t *req = json_pack("{s:s,s:s}", "op", "get", "group", group), *reply = NULL;
	char *req_text = json_dumps(req, JSON_COMPACT);
	size_t req_len = strlen(req_text) + 1, reply_len = 0;
	free(req_text);
	uint64_t *rtt = calloc(n, sizeof(*rtt)), *base = calloc(n, sizeof(*base));
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		if (ipc_client_request(c, req, &reply, 5000) != 1 || !json_is_true(json_object_get(reply, "ok"))) {
			fprintf(stderr, "ipc-load: get failed\n");
			return 1;
		}
		rtt[i] = now_ns() - t0;
		if (!reply_len) {
			char *t = json_dumps(reply, JSON_COMPACT);
			reply_len = strlen(t) + 1;
			free(t);
		}
		json_decref(reply);
	}
	echo_baseline(req_len, reply_len, n, base);
	printf("{\"get\":{\"n\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"reply_octets\":%zu},"
	       "\"baseline_process_echo\":{\"p50_us\":%.1f,\"p99_us\":%.1f}",
	       n, pct(rtt, n, 50), pct(rtt, n, 99), reply_len, pct(base, n, 50), pct(base, n, 99));
	json_decref(req);
	ipc_client_close(c);

	if (ks_sock) {
		/* Fan-out: S subscribers, one rekey, first-to-last arrival of the new snapshot. */
		struct ipc_client **sc = calloc(subs, sizeof(*sc));
		struct pollfd *pf = calloc(subs, sizeof(*pf));
		uint64_t *seen = calloc(subs, sizeof(*seen));
		for (size_t i = 0; i < subs; i++) {
			struct ipc_snapshot snap;
			char err[160];
			if (ipc_client_connect(path, &sc[i]) || ipc_client_get(sc[i], group, true, &snap, err, sizeof(err), 5000)) {
				fprintf(stderr, "ipc-load: subscriber %zu: %s\n", i, err);
				return 1;
			}
			ipc_snapshot_clear(&snap);
			pf[i] = (struct pollfd){ .fd = ipc_client_fd(sc[i]), .events = POLLIN };
		}
		pid_t pid = fork();
		if (pid == 0) {
			int dn = open("/dev/null", O_WRONLY);
			if (dn >= 0)
				dup2(dn, 1);
			execlp(gdoictl, gdoictl, "--socket", ks_sock, "rekey", group, (char *)NULL);
			_exit(127);
		}
		size_t got = 0;
		uint64_t deadline = now_ns() + 15000000000ull;
		while (got < subs && now_ns() < deadline) {
			if (poll(pf, subs, 100) <= 0)
				continue;
			for (size_t i = 0; i < subs; i++) {
				if (!(pf[i].revents & POLLIN) || seen[i])
					continue;
				json_t *msg = NULL;
				while (ipc_client_read(sc[i], &msg, 0) == 1) {
					if (json_object_get(msg, "event") && !seen[i]) {
						seen[i] = now_ns();
						got++;
					}
					json_decref(msg);
				}
			}
		}
		int st;
		waitpid(pid, &st, 0);
		uint64_t first = UINT64_MAX, last = 0;
		for (size_t i = 0; i < subs; i++)
			if (seen[i]) {
				first = seen[i] < first ? seen[i] : first;
				last = seen[i] > last ? seen[i] : last;
			}
		printf(",\"fanout\":{\"subscribers\":%zu,\"received\":%zu,\"first_to_last_ms\":%.3f}",
		       subs, got, got ? (double)(last - first) / 1e6 : -1.0);
		for (size_t i = 0; i < subs; i++)
			ipc_client_close(sc[i]);
		free(sc);
		free(pf);
		free(seen);
	}
	printf("}\n");
	free(rtt);
	free(base);
	return 0;
}
