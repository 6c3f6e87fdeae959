/*
 * p1-responder.c - test driver: a Phase 1 (Main Mode) responder with a
 * pre-shared key on a UDP socket on 127.0.0.1, for interoperability tests
 * (ike-scan). Not a daemon: plain poll()/recvfrom()/sendto(), one result
 * logged per datagram on stderr, exits after SECONDS or on SIGTERM/SIGINT.
 *
 *   p1-responder [-m] PORT PSK SECONDS
 *     PORT 0 = ephemeral; the bound port is printed on stdout as "port N".
 *     -m     modern suites only (default: the legacy 3DES/SHA-1/group 2
 *            suite of the GDOI reference implementation is switched on).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gdoi/numbers.h"
#include "gdoi/phase1.h"
#include "tool.h"

static int usage(void)
{
	fprintf(stderr, "usage: p1-responder [-m] PORT PSK SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool legacy = true;
	int a = 1;
	if (a < argc && !strcmp(argv[a], "-m")) {
		legacy = false;
		a++;
	}
	if (argc - a != 3)
		return usage();
	char *end;
	unsigned long port = strtoul(argv[a], &end, 10);
	if (*end || port > 65535)
		return usage();
	const char *psk = argv[a + 1];
	unsigned long seconds = strtoul(argv[a + 2], &end, 10);
	if (*end || !seconds)
		return usage();

	tool_catch_signals();

	uint16_t bound;
	int fd = tool_udp_lo((uint16_t)port, "p1-responder", &bound);
	if (fd < 0)
		return 1;

	struct gdoi_p1_suite suites[4];
	static const uint8_t local_ip[4] = { 127, 0, 0, 1 };
	struct gdoi_p1_psk key = { .key = GDOI_BYTES(psk, strlen(psk)) };	/* any address */
	struct gdoi_p1_config cfg = {
		.suites = suites,
		.nsuites = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 28800, legacy, suites, 4),
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(local_ip, 4) },
		.psks = &key,
		.npsks = 1,
	};
	uint64_t start = tool_now_ms(), deadline = start + (uint64_t)seconds * 1000;
	struct gdoi_p1_responder *r = gdoi_p1_responder_new(&cfg, start);
	if (!r) {
		fprintf(stderr, "p1-responder: cannot create the responder\n");
		return 1;
	}
	fprintf(stderr, "p1-responder: listening on 127.0.0.1:%u, %zu suites%s\n",
		bound, cfg.nsuites, legacy ? " (legacy on)" : "");

	uint8_t buf[65536];
	while (!tool_stop) {
		uint64_t now = tool_now_ms();
		if (now >= deadline)
			break;
		uint64_t next = gdoi_p1_responder_expire(r, now);
		uint64_t wake = next && next < deadline ? next : deadline;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, (int)(wake > now ? wake - now : 0));
		if (n < 0 && errno != EINTR) {
			perror("p1-responder: poll");
			break;
		}
		if (n <= 0 || !(pfd.revents & POLLIN))
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (len < 0 || fl != sizeof(from) || from.sin_family != AF_INET)
			continue;
		struct gdoi_addr peer = { .len = 4, .port = ntohs(from.sin_port) };
		memcpy(peer.ip, &from.sin_addr, 4);
		struct gdoi_p1_result res = { 0 };
		struct gdoi_p1_sa *psa = NULL;
		int rc = gdoi_p1_responder_input(r, buf, (size_t)len, &peer, tool_now_ms(), &res, &psa);
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
		fprintf(stderr, "p1-responder: %s:%u %zd octets: rc %d event %d notify %u reply %zu: %s\n",
			ip, peer.port, len, rc, (int)res.event, res.notify, res.out_len,
			res.reason[0] ? res.reason : "-");
		if (res.out && sendto(fd, res.out, res.out_len, 0, (struct sockaddr *)&from,
				      sizeof(from)) < 0)
			perror("p1-responder: sendto");
		gdoi_p1_result_clear(&res);
	}
	gdoi_p1_responder_free(r);
	close(fd);
	fprintf(stderr, "p1-responder: done\n");
	return 0;
}
