/*
 * ipc-client-test.c - test driver for docs/ipc.md through a real Unix
 * socket, built on ipc/client.h. Runs its steps in order on ONE connection
 * and prints one line per message received; keys are replaced by
 * fingerprints (first 8 octets of SHA-256 of master key || salt, hex, as
 * tests/tools/ks-lite prints them), so logs never hold keys.
 *
 *   ipc-client-test SOCKET STEP...
 *     raw:TEXT      send TEXT and a newline, print the reply
 *     big:N         send a line of N octets (then newline), print the reply
 *     wait:SECONDS  print the next event (or "timeout")
 *     drain:SECONDS print every event arriving within SECONDS
 *     flood:N       send N get requests for group audio without reading any reply,
 *                   then report whether the server closed the connection
 *     sleep:MS
 * A printed message looks like the JSON, with each TEK as
 *   {"spi":..., "fp":"...", "not_before":..., "not_after":...}
 * Exit 0 unless the connection failed unexpectedly.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ipc/base64.h"
#include "ipc/client.h"

static void fp_of(json_t *tek)
{
	uint8_t buf[64];
	long k = ipc_b64_decode(json_string_value(json_object_get(tek, "master_key")) ?
				json_string_value(json_object_get(tek, "master_key")) : "", buf, 32);
	long s = ipc_b64_decode(json_string_value(json_object_get(tek, "master_salt")) ?
				json_string_value(json_object_get(tek, "master_salt")) : "",
				buf + (k > 0 ? k : 0), 14);
	uint8_t md[32];
	unsigned n = 0;
	char hex[17];

	if (k > 0 && s > 0) {
		EVP_Digest(buf, (size_t)(k + s), md, &n, EVP_sha256(), NULL);
		for (int i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		json_object_set_new(tek, "fp", json_string(hex));
	}
	explicit_bzero(buf, sizeof buf);
	json_object_del(tek, "master_key");
	json_object_del(tek, "master_salt");
}

static void print_msg(json_t *m)
{
	json_t *snap = json_object_get(m, "snapshot");
	json_t *teks = snap ? json_object_get(snap, "teks") : NULL;
	size_t i;
	json_t *t;
	char *s;

	if (snap) {
		/* check that it reads strictly, too */
		struct ipc_snapshot parsed;
		char err[200];
		if (ipc_snapshot_from_json(snap, &parsed, err, sizeof err))
			printf("STRICT-READ-FAILED %s\n", err);
		ipc_snapshot_clear(&parsed);
	}
	json_array_foreach(teks, i, t)
		fp_of(t);
	s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct ipc_client *c;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: ipc-client-test SOCKET STEP...\n");
		return 2;
	}
	rc = ipc_client_connect(argv[1], &c);
	if (rc) {
		printf("connect-failed %s\n", strerror(-rc));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		json_t *m = NULL;
		if (!strncmp(a, "raw:", 4) || !strncmp(a, "big:", 4)) {
			size_t n = !strncmp(a, "raw:", 4) ? strlen(a + 4) : strtoul(a + 4, NULL, 10);
			char *line = malloc(n + 1);
			if (!strncmp(a, "raw:", 4))
				memcpy(line, a + 4, n);
			else
				memset(line, 'x', n);
			line[n] = '\n';
			size_t off = 0;
			while (off < n + 1) {
				ssize_t w = send(ipc_client_fd(c), line + off, n + 1 - off, MSG_NOSIGNAL);
				if (w < 0) {
					printf("send-failed %s\n", strerror(errno));
					return 1;
				}
				off += (size_t)w;
			}
			free(line);
			/* the reply: the first message without "event" */
			for (;;) {
				rc = ipc_client_read(c, &m, 5000);
				if (rc <= 0) {
					printf("read-failed %s\n", rc ? strerror(-rc) : "timeout");
					return 1;
				}
				if (!json_object_get(m, "event"))
					break;
				json_decref(m);
			}
			print_msg(m);
			json_decref(m);
		} else if (!strncmp(a, "wait:", 5) || !strncmp(a, "drain:", 6)) {
			bool drain = a[0] == 'd';
			int ms = atoi(a + (drain ? 6 : 5)) * 1000;
			for (;;) {
				rc = ipc_client_read(c, &m, ms);
				if (rc < 0) {
					printf("read-failed %s\n", strerror(-rc));
					return 1;
				}
				if (rc == 0) {
					if (!drain)
						printf("timeout\n");
					break;
				}
				print_msg(m);
				json_decref(m);
				if (!drain)
					break;
			}
		} else if (!strncmp(a, "flood:", 6)) {
			unsigned long n = strtoul(a + 6, NULL, 10);
			const char *req = "{\"op\":\"get\",\"group\":\"audio\"}\n";
			unsigned long sent = 0;
			int fd = ipc_client_fd(c);
			for (; sent < n; sent++) {
				size_t off = 0, len = strlen(req);
				while (off < len) {
					struct pollfd p = { .fd = fd, .events = POLLOUT };
					if (poll(&p, 1, 3000) != 1)
						goto stuck;
					ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
					if (w < 0) {
						if (errno == EAGAIN)
							continue;
						printf("flood: closed by server after %lu requests (%s)\n", sent,
						       strerror(errno));
						goto next;
					}
					off += (size_t)w;
				}
			}
stuck:
			/* Either blocked (server stopped reading) or all sent: now see whether
			 * the server closes us (reads until EOF, discarding). */
			{
				char buf[65536];
				size_t total = 0;
				for (;;) {
					struct pollfd p = { .fd = fd, .events = POLLIN };
					if (poll(&p, 1, 5000) != 1) {
						printf("flood: still open after %lu requests\n", sent);
						break;
					}
					ssize_t r = recv(fd, buf, sizeof buf, 0);
					if (r <= 0) {
						printf("flood: closed by server after %lu requests, %zu octets read\n",
						       sent, total);
						break;
					}
					total += (size_t)r;
				}
				explicit_bzero(buf, sizeof buf);
			}
next:
			;
		} else if (!strncmp(a, "sleep:", 6)) {
			usleep((useconds_t)atoi(a + 6) * 1000);
		} else {
			fprintf(stderr, "unknown step %s\n", a);
			return 2;
		}
	}
	ipc_client_close(c);
	return 0;
}
