/*
 * gm-probe.c - test driver: a minimal GDOI group member built on the core
 * (gdoi_p1_initiate, gdoi_pull_member_*, gdoi_push_open/_apply) over a real
 * UDP socket. It registers to a key server, prints the installed policy as
 * one JSON line on stdout, then optionally waits for pushes and prints one
 * JSON line per push (applied or refused). Keys are never printed: only
 * fingerprints (SHA-256 of the key, first 8 octets, hex).
 * --mcast also listens for pushes on a multicast group (joined on the
 * loopback interface: for tests inside a private network namespace only).
 * Addresses are IPv4 or IPv6 ("[::1]:848", "[ff0e::1]:1848"); without --bind the
 * probe binds the loopback address of the server's family.
 *
 *   gm-probe --server ADDR:PORT --id TYPE:VALUE --psk KEY --group ID
 *            [--ssrcs N] [--timeout S] [--pushes N] [--push-timeout S]
 *            [--bind ADDR:PORT] [--legacy] [--mcast GROUP:PORT] [--pull-hold MS]
 * --pull-hold holds GROUPKEY-PULL message 3 back for MS milliseconds after
 * message 2 arrived, or until the probe gets SIGUSR1, printing {"event":"pull_held"}
 * first: a test can then run a rekey between the key server's message 2 and
 * message 4, deterministically, and release message 3 as soon as the rekey is made.
 *
 * Exit: 0 done, 1 registration failed (reason on stderr), 2 usage,
 *       3 fewer pushes than asked for before --push-timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/addr.h"
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

/* ADDR:PORT or [V6]:PORT into a socket address of its own family; 0 or -1. */
static int parse_inet(const char *s, struct sockaddr_storage *out)
{
	struct dm_addr a;
	if (dm_addr_parse(s, 0, DM_ADDR_NEED_PORT, &a))
		return -1;
	return dm_sockaddr_make(a.family, a.ip, a.family == AF_INET ? 4 : 16, a.port, out) ? 0 : -1;
}

static socklen_t sa_len(const struct sockaddr_storage *s)
{
	return s->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void sel_str(const struct gdoi_selector *s, char *out, size_t cap)
{
	dm_addr_format(s->addr, s->addr_len >= 16 ? 16 : 4, s->port, out, cap);
}

static int parse_id(const char *s, struct gdoi_id *id, uint8_t *buf, size_t cap)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return -1;
	const char *v = colon + 1;
	size_t tn = (size_t)(colon - s);
	memset(id, 0, sizeof(*id));
	if (tn == 4 && (!strncmp(s, "ipv4", 4) || !strncmp(s, "ipv6", 4))) {
		bool v6 = s[3] == '6';
		if (inet_pton(v6 ? AF_INET6 : AF_INET, v, buf) != 1)
			return -1;
		id->type = v6 ? GDOI_ID_IPV6_ADDR : GDOI_ID_IPV4_ADDR;
		id->data = GDOI_BYTES(buf, v6 ? 16 : 4);
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
		char a[64];
		sel_str(&p->kek.dst, a, sizeof(a));
		printf(",\"kek_dst\":\"%s\"", a);
	} else {
		printf(",\"kek_spi\":null,\"seq\":null");
	}
	printf(",\"atd\":%u,\"dtd\":%u,\"teks\":[", p->atd, p->dtd);
	for (size_t i = 0; i < p->nteks; i++) {
		const struct gdoi_tek *t = &p->teks[i];
		char fi[17] = "", dst[64];
		fp(t->key, t->key_len, f);
		sel_str(&t->dst, dst, sizeof(dst));
		if (t->integrity_len)
			fp(t->integrity, t->integrity_len, fi);
		static const char *kinds[] = { [GDOI_TEK_SRTP] = "srtp", [GDOI_TEK_ESP] = "esp",
					       [GDOI_TEK_AH] = "ah", [GDOI_TEK_REF_SRTP] = "ref_srtp" };
		printf("%s{\"spi\":%u,\"kind\":\"%s\",\"profile\":%u,\"lifetime\":%u,\"key_fp\":\"%s\","
		       "\"key_len\":%zu,\"integrity_len\":%zu,\"integrity_fp\":\"%s\",\"dst\":\"%s\",\"dst_type\":%u}",
		       i ? "," : "", t->spi,
		       kinds[t->kind],
		       t->kind == GDOI_TEK_ESP || t->kind == GDOI_TEK_AH ? 0u : (unsigned)t->u.srtp.profile,
		       t->kind == GDOI_TEK_ESP || t->kind == GDOI_TEK_AH ? t->u.ipsec.lifetime : t->u.srtp.lifetime,
		       f, t->key_len, t->integrity_len, fi, dst, (unsigned)t->dst.id_type);
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

/* A socket bound to the group's port that joined GROUP on the loopback interface. */
static int join_loopback(const struct sockaddr_storage *group, int *out)
{
	struct sockaddr_storage any;
	static const uint8_t unspec[16];
	uint8_t ip[16];
	uint16_t port;
	size_t len = dm_sockaddr_split((const struct sockaddr *)group, ip, &port);
	int one = 1, fd = socket(group->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	dm_sockaddr_make(group->ss_family, unspec, len, port, &any);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&any, sa_len(&any)))
		goto fail;
	if (group->ss_family == AF_INET6) {
		struct ipv6_mreq mr = { .ipv6mr_interface = if_nametoindex("lo") };
		memcpy(&mr.ipv6mr_multiaddr, ip, 16);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)))
			goto fail;
	} else {
		struct ip_mreq mr = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
		memcpy(&mr.imr_multiaddr, ip, 4);
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			goto fail;
	}
	*out = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
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
	struct sockaddr_storage server = { 0 }, mcast = { 0 }, local = { 0 };
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
	/* SIGUSR1 ends a --pull-hold early: blocked here, taken by sigtimedwait() there */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	if (!local.ss_family) {	/* the loopback address of the server's family, any port */
		static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
		bool v6 = server.ss_family == AF_INET6;
		dm_sockaddr_make(server.ss_family, v6 ? lo6 : lo4, v6 ? 16 : 4, 0, &local);
	}
	if (local.ss_family != server.ss_family) {
		fprintf(stderr, "gm-probe: --bind and --server are of different address families\n");
		return 2;
	}
	int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof(local);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sa_len(&local)) ||
	    getsockname(fd, (struct sockaddr *)&local, &sl)) {
		fprintf(stderr, "gm-probe: socket: %s\n", strerror(errno));
		return 1;
	}
	int mfd = -1;
	if (mcast.ss_family && join_loopback(&mcast, &mfd)) {
		fprintf(stderr, "gm-probe: multicast socket: %s\n", strerror(errno));
		return 1;
	}
	struct gdoi_addr peer = { 0 };
	peer.len = (uint8_t)dm_sockaddr_split((struct sockaddr *)&server, peer.ip, &peer.port);
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
			sendto(fd, r1.out, r1.out_len, 0, (struct sockaddr *)&server, sa_len(&server));
		if (r2.out)
			sendto(fd, r2.out, r2.out_len, 0, (struct sockaddr *)&server, sa_len(&server));
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
			char extra[120], la[64];
			uint8_t lip[16];
			uint16_t lport;
			size_t ll = dm_sockaddr_split((struct sockaddr *)&local, lip, &lport);
			dm_addr_format(lip, ll, lport, la, sizeof(la));
			snprintf(extra, sizeof(extra), ",\"local\":\"%s\",\"ms\":%llu", la,
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
				while (sigtimedwait(&usr1, NULL, &ts) < 0 && errno == EINTR)
					;
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
