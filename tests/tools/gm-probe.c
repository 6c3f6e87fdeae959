/*
 * gm-probe.c - test driver: a minimal GDOI group member built on the core
 * (gdoi_p1_initiate, gdoi_pull_member_*, gdoi_push_open/_apply) over a real
 * UDP socket. It registers to a key server, prints the installed policy as
 * one JSON line on stdout, then optionally waits for pushes and prints one
 * JSON line per push (applied or refused). Keys are never printed: only
 * fingerprints (SHA-256 of the key, first 8 octets, hex).
 * --mcast also listens for pushes on a multicast group (joined on the
 * loopback interface: for tests inside a private network namespace only).
 *
 *   gm-probe --server ADDR:PORT --id TYPE:VALUE --psk KEY --group ID
 *            [--ssrcs N] [--timeout S] [--pushes N] [--push-timeout S]
 *            [--bind ADDR:PORT] [--legacy] [--mcast GROUP:PORT] [--pull-hold MS]
 * --pull-hold holds GROUPKEY-PULL message 3 back for MS milliseconds after
 * message 2 arrived, printing {"event":"pull_held"} first: a test can then run
 * a rekey between the key server's message 2 and message 4, deterministically.
 *
 * Exit: 0 done, 1 registration failed (reason on stderr), 2 usage,
 *       3 fewer pushes than asked for before --push-timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "gdoi/phase1.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_inet(const char *s, struct sockaddr_in *out)
{
	char buf[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = 0;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, buf, &out->sin_addr) == 1 ? 0 : -1;
}

static int parse_id(const char *s, struct gdoi_id *id, uint8_t *buf, size_t cap)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return -1;
	const char *v = colon + 1;
	size_t tn = (size_t)(colon - s);
	memset(id, 0, sizeof(*id));
	if (tn == 4 && !strncmp(s, "ipv4", 4)) {
		if (inet_pton(AF_INET, v, buf) != 1)
			return -1;
		id->type = GDOI_ID_IPV4_ADDR;
		id->data = GDOI_BYTES(buf, 4);
		return 0;
	}
	id->type = tn == 4 && !strncmp(s, "fqdn", 4) ? GDOI_ID_FQDN
		 : tn == 4 && !strncmp(s, "user", 4) ? GDOI_ID_USER_FQDN
		 : tn == 5 && !strncmp(s, "keyid", 5) ? GDOI_ID_KEY_ID : 0;
	size_t n = strlen(v);
	if (!id->type || n > cap)
		return -1;
	memcpy(buf, v, n);
	id->data = GDOI_BYTES(buf, n);
	return 0;
}

static void fp(const uint8_t *key, size_t len, char *out)
{
	uint8_t d[32];
	gdoi_bytes part = GDOI_BYTES(key, len);
	if (gdoi_hash(GDOI_MD_SHA256, &part, 1, d)) {
		strcpy(out, "error");
		return;
	}
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	gdoi_wipe(d, sizeof(d));
}

static void print_policy(const char *event, const struct gdoi_policy *p, const char *extra)
{
	char f[17];
	printf("{\"event\":\"%s\",\"group\":%u", event, p->group_id);
	if (p->has_kek) {
		printf(",\"kek_spi\":\"");
		for (int i = 0; i < GDOI_KEK_SPI_LEN; i++)
			printf("%02x", p->kek.spi[i]);
		fp(p->kek.key, gdoi_cipher_key_len(gdoi_kek_cipher(&p->kek)), f);
		printf("\",\"kek_fp\":\"%s\",\"kek_trailer\":%u,\"seq\":%u", f, p->kek.trailer_len, p->seq);
		const uint8_t *a = p->kek.dst.addr;
		printf(",\"kek_dst\":\"%u.%u.%u.%u:%u\"", a[0], a[1], a[2], a[3], p->kek.dst.port);
	} else {
		printf(",\"kek_spi\":null,\"seq\":null");
	}
	printf(",\"atd\":%u,\"dtd\":%u,\"teks\":[", p->atd, p->dtd);
	for (size_t i = 0; i < p->nteks; i++) {
		const struct gdoi_tek *t = &p->teks[i];
		char fi[17] = "";
		fp(t->key, t->key_len, f);
		if (t->integrity_len)
			fp(t->integrity, t->integrity_len, fi);
		static const char *kinds[] = { [GDOI_TEK_SRTP] = "srtp", [GDOI_TEK_ESP] = "esp",
					       [GDOI_TEK_AH] = "ah", [GDOI_TEK_REF_SRTP] = "ref_srtp" };
		printf("%s{\"spi\":%u,\"kind\":\"%s\",\"profile\":%u,\"lifetime\":%u,\"key_fp\":\"%s\","
		       "\"key_len\":%zu,\"integrity_len\":%zu,\"integrity_fp\":\"%s\"}", i ? "," : "", t->spi,
		       kinds[t->kind],
		       t->kind == GDOI_TEK_ESP || t->kind == GDOI_TEK_AH ? 0 : t->u.srtp.profile,
		       t->kind == GDOI_TEK_ESP || t->kind == GDOI_TEK_AH ? t->u.ipsec.lifetime : t->u.srtp.lifetime,
		       f, t->key_len, t->integrity_len, fi);
	}
	printf("],\"ssrcs\":[");
	for (size_t i = 0; i < p->nsids; i++)
		printf("%s%u", i ? "," : "", p->sids[i]);
	printf("],\"senders\":%s", p->has_senders ? "[" : "null");
	for (size_t i = 0; p->has_senders && i < p->nsenders; i++)
		printf("%s%u", i ? "," : "", p->senders[i]);
	printf("%s%s}\n", p->has_senders ? "]" : "", extra ? extra : "");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: gm-probe --server ADDR:PORT --id TYPE:VALUE --psk KEY --group ID [--ssrcs N]\n"
			"                [--timeout S] [--pushes N] [--push-timeout S] [--bind ADDR:PORT] [--legacy]\n"
			"                [--mcast GROUP:PORT] [--pull-hold MS]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' }, { "id", required_argument, NULL, 'i' },
		{ "psk", required_argument, NULL, 'k' }, { "group", required_argument, NULL, 'g' },
		{ "ssrcs", required_argument, NULL, 'n' }, { "timeout", required_argument, NULL, 't' },
		{ "pushes", required_argument, NULL, 'p' }, { "push-timeout", required_argument, NULL, 'T' },
		{ "bind", required_argument, NULL, 'b' }, { "legacy", no_argument, NULL, 'L' },
		{ "mcast", required_argument, NULL, 'm' }, { "pull-hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in server = { 0 }, mcast = { 0 }, local = { .sin_family = AF_INET };
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct gdoi_id id = { 0 };
	uint8_t idbuf[256];
	const char *psk = NULL;
	uint32_t group = 0;
	unsigned ssrcs = 0, pushes = 0, timeout = 10, push_timeout = 30, pull_hold_ms = 0;
	bool legacy = false, have_server = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': if (parse_inet(optarg, &server)) { usage(); return 2; } have_server = true; break;
		case 'i': if (parse_id(optarg, &id, idbuf, sizeof(idbuf))) { usage(); return 2; } break;
		case 'k': psk = optarg; break;
		case 'g': group = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': ssrcs = (unsigned)atoi(optarg); break;
		case 't': timeout = (unsigned)atoi(optarg); break;
		case 'p': pushes = (unsigned)atoi(optarg); break;
		case 'T': push_timeout = (unsigned)atoi(optarg); break;
		case 'b': if (parse_inet(optarg, &local)) { usage(); return 2; } break;
		case 'L': legacy = true; break;
		case 'm': if (parse_inet(optarg, &mcast)) { usage(); return 2; } break;
		case 'H': pull_hold_ms = (unsigned)atoi(optarg); break;
		default: usage(); return 2;
		}
	}
	if (!have_server || !id.type || !psk || !group) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof(local);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) ||
	    getsockname(fd, (struct sockaddr *)&local, &sl)) {
		fprintf(stderr, "gm-probe: socket: %s\n", strerror(errno));
		return 1;
	}
	int mfd = -1;
	if (mcast.sin_port) {
		struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = mcast.sin_port };
		struct ip_mreq mr = { .imr_multiaddr = mcast.sin_addr };
		mr.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
		int one = 1;
		mfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (mfd < 0 || setsockopt(mfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(mfd, (struct sockaddr *)&any, sizeof(any)) ||
		    setsockopt(mfd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
			fprintf(stderr, "gm-probe: multicast socket: %s\n", strerror(errno));
			return 1;
		}
	}
	struct gdoi_addr peer = { .len = 4, .port = ntohs(server.sin_port) };
	memcpy(peer.ip, &server.sin_addr, 4);
	struct gdoi_p1_suite suites[8];
	size_t ns = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, legacy, suites, 8);
	struct gdoi_p1_psk pk = { .addr = peer, .key = GDOI_BYTES(psk, strlen(psk)) };
	struct gdoi_p1_config cfg = { .suites = suites, .nsuites = ns, .local_id = id, .psks = &pk, .npsks = 1 };
	struct gdoi_pull_member_cfg pcfg = { .group_id = group, .sid_request = ssrcs };

	struct gdoi_p1_sa *sa = NULL;
	struct gdoi_pull_member *pm = NULL;
	struct gdoi_policy *pol = NULL;
	struct gdoi_p1_result r1 = { 0 };
	struct gdoi_pull_result r2 = { 0 };
	uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)timeout * 1000;
	int status = 1;
	if (gdoi_p1_initiate(&cfg, &peer, t0, &sa, &r1)) {
		fprintf(stderr, "gm-probe: cannot start Phase 1: %s\n", r1.reason);
		return 1;
	}
	uint8_t buf[65536];
	unsigned got = 0;
	for (;;) {
		if (r1.out)
			sendto(fd, r1.out, r1.out_len, 0, (struct sockaddr *)&server, sizeof(server));
		if (r2.out)
			sendto(fd, r2.out, r2.out_len, 0, (struct sockaddr *)&server, sizeof(server));
		if (r1.event == GDOI_P1_EV_FAILED) {
			fprintf(stderr, "gm-probe: Phase 1 failed: %s%s%s\n", r1.reason, r1.notify ? "; notify " : "",
				r1.notify ? gdoi_notify_name(r1.notify) : "");
			goto out;
		}
		if (!pol && (r1.event == GDOI_P1_EV_NOTIFY || r1.event == GDOI_P1_EV_DELETED)) {
			fprintf(stderr, "gm-probe: registration refused: %s%s%s\n",
				r1.event == GDOI_P1_EV_DELETED ? "Phase 1 SA deleted by the key server" : "notify",
				r1.notify ? " " : "", r1.notify ? gdoi_notify_name(r1.notify) : "");
			goto out;
		}
		if (r2.event == GDOI_PULL_EV_FAILED) {
			fprintf(stderr, "gm-probe: registration failed: %s%s%s\n", r2.reason,
				r2.notify ? "; notify " : "", r2.notify ? gdoi_notify_name(r2.notify) : "");
			goto out;
		}
		if (r1.event == GDOI_P1_EV_ESTABLISHED && !pm) {
			gdoi_p1_result_clear(&r1);
			if (gdoi_pull_member_start(sa, &pcfg, now_ms(), &pm, &r2)) {
				fprintf(stderr, "gm-probe: cannot start GROUPKEY-PULL: %s\n", r2.reason);
				goto out;
			}
			continue;
		}
		if (r2.event == GDOI_PULL_EV_INSTALLED) {
			pol = r2.policy;
			r2.policy = NULL;
			char extra[80];
			snprintf(extra, sizeof(extra), ",\"local\":\"127.0.0.1:%u\",\"ms\":%llu", ntohs(local.sin_port),
				 (unsigned long long)(now_ms() - t0));
			print_policy("registered", pol, extra);
			if (!pushes) {
				status = 0;
				goto out;
			}
			deadline = now_ms() + (uint64_t)push_timeout * 1000;
		}
		gdoi_p1_result_clear(&r1);
		gdoi_pull_result_clear(&r2);
		/* wait for a datagram or the next timer */
		uint64_t now = now_ms();
		if (now >= deadline) {
			if (pol) {
				printf("{\"event\":\"timeout\",\"pushes\":%u}\n", got);
				status = 3;
			} else {
				fprintf(stderr, "gm-probe: registration timed out after %u s\n", timeout);
			}
			goto out;
		}
		uint64_t wake = deadline;
		uint64_t t = pol ? 0 : gdoi_p1_next_timer(sa);
		if (t && t < wake)
			wake = t;
		if (pm && !pol) {
			t = gdoi_pull_member_next_timer(pm);
			if (t && t < wake)
				wake = t;
		}
		struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { mfd, POLLIN, 0 } };
		int n = poll(pfd, mfd >= 0 ? 2 : 1, (int)(wake > now ? wake - now : 0));
		now = now_ms();
		if (n <= 0) {
			if (!pol && !pm)
				gdoi_p1_timer(sa, now, &r1);
			else if (!pol)
				gdoi_pull_member_timer(pm, now, &r2);
			continue;
		}
		bool via_mcast = mfd >= 0 && (pfd[1].revents & POLLIN);
		ssize_t len = recv(via_mcast ? mfd : fd, buf, sizeof(buf), 0);
		if (len < 28)
			continue;
		uint8_t exch = buf[18];
		if (exch == GDOI_EXCH_PUSH && pol) {
			struct gdoi_push_update *u = calloc(1, sizeof(*u));
			char why[256] = "";
			int rc = gdoi_push_open(pol, NULL, buf, (size_t)len, u, why, sizeof(why));
			if (rc == 0)
				rc = gdoi_push_apply(pol, u);
			if (rc) {
				printf("{\"event\":\"push_refused\",\"via\":\"%s\",\"error\":\"%s\",\"reason\":\"%s\"}\n",
				       via_mcast ? "multicast" : "unicast", gdoi_strerror(rc), why);
				fflush(stdout);
			} else {
				char extra[400];
				int o = snprintf(extra, sizeof(extra), ",\"via\":\"%s\",\"new_kek\":%s,\"new_teks\":%zu,\"deleted\":[",
						 via_mcast ? "multicast" : "unicast",
						 u->has_sa && u->fresh.has_kek ? "true" : "false",
						 u->has_sa ? u->fresh.nteks : 0);
				for (size_t i = 0; i < u->ndeletes && o < 300; i++)
					o += snprintf(extra + o, sizeof(extra) - (size_t)o, "%s%u", i ? "," : "",
						      u->deletes[i].spi);
				snprintf(extra + o, sizeof(extra) - (size_t)o, "]");
				got++;
				print_policy("push", pol, extra);
			}
			gdoi_push_update_clear(u);
			free(u);
			if (got >= pushes) {
				status = 0;
				goto out;
			}
		} else if (exch == GDOI_EXCH_PULL && pm && !pol) {
			gdoi_pull_member_input(pm, buf, (size_t)len, now, &r2);
			if (pull_hold_ms && r2.out) {
				printf("{\"event\":\"pull_held\",\"ms\":%u}\n", pull_hold_ms);
				fflush(stdout);
				struct timespec ts = { pull_hold_ms / 1000, (long)(pull_hold_ms % 1000) * 1000000L };
				nanosleep(&ts, NULL);
				pull_hold_ms = 0;	/* message 3 once; retransmissions as usual */
			}
		} else if (exch == GDOI_EXCH_IDENT_PROT || exch == GDOI_EXCH_INFO) {
			gdoi_p1_input(sa, buf, (size_t)len, now, &r1);
		}
	}
out:
	gdoi_p1_result_clear(&r1);
	gdoi_pull_result_clear(&r2);
	if (pol)
		gdoi_pull_policy_free(pol);
	gdoi_pull_member_free(pm);
	gdoi_p1_free(sa);
	close(fd);
	if (mfd >= 0)
		close(mfd);
	return status;
}
