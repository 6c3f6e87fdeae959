/*
 * tool.h - what the poll()-loop test drivers of tests/tools share: a
 * monotonic millisecond clock and a stop flag set by SIGTERM / SIGINT.
 */
#ifndef GDOI_TESTS_TOOL_H
#define GDOI_TESTS_TOOL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t tool_stop;

static inline void tool_on_signal(int sig)
{
	(void)sig;
	tool_stop = 1;
}

/* SIGTERM and SIGINT set tool_stop (no SA_RESTART: poll() returns EINTR). */
static inline void tool_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = tool_on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static inline uint64_t tool_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A UDP socket bound to 127.0.0.1:port (0 = ephemeral); prints "port N" (the
 * bound port) on stdout for the test script and stores it in *bound. -1 (and a
 * perror line prefixed with who) on failure. */
static inline int tool_udp_lo(uint16_t port, const char *who, uint16_t *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
		fprintf(stderr, "%s: ", who);
		perror("socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*bound = ntohs(sin.sin_port);
	printf("port %u\n", *bound);
	fflush(stdout);
	return fd;
}

#endif
