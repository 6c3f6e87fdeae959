/*
 * reg-load.c - registration load generator: plays many group members over
 * loopback UDP against a key server (Phase 1 Main Mode with a pre-shared
 * key, then GROUPKEY-PULL), closed loop: each finished registration starts
 * the next one. One process, one socket per simulated member, poll().
 *
 * Options: reg-load --help (usage() below).
 *
 * --hold keeps the N registered members (each with its own policy and
 * socket), then runs the trigger command (e.g. gdoictl rekey) R times and
 * measures, per member, the time from the trigger to having applied the push,
 * and whether it took each push (its SEQ reached the group's within S seconds
 * of the trigger, default 20) without registering again: the members never
 * register twice. --settle T: after each rekey, go on answering until no push
 * came for T seconds (the key server's retransmissions), then trigger the next. Unicast pushes are acknowledged (RFC 8263) when the KEK asks. The
 * simulated members share two cores, while real ones run in parallel on
 * their own hosts, so the time of member i is the kernel's arrival
 * timestamp of its datagram (SO_TIMESTAMPNS) plus member i's own time to
 * open, verify and apply it; p50/p99 over members. --mcast also joins each
 * member to the rekey group on 127.0.0.1 (in a private network namespace only).
 *
 * Members bind 127.0.0.1 (or consecutive 127.x.y.z addresses from
 * --first-ip, so that a key server with per-address keys sees distinct
 * peers), never the key server's own address. --count alone runs until N
 * registrations are done (no time limit); with --seconds, whichever comes
 * first. --suite picks the Phase 1 suite, so that any GDOI key server can be
 * driven (the reference implementation offers only "legacy").
 * Output: one JSON object on stdout.
 * --ssrcs N asks for N SSRCs at each registration (members with may_send).
 * --reuse-dh: every member of this process offers the same ephemeral DH key
 * pair (made once per group), so the generator's own DH cost is one derivation
 * per registration instead of a generation and a derivation: on a machine it
 * shares with the key server it then takes less of the CPU being measured. The
 * key server sees a valid peer value each time (validated as any, RFC 6989)
 * and makes its own fresh pair; its work per registration is unchanged. The
 * output's cpu_s is this process's own CPU time (user + system).
 * --protocol g-ikev2: each member registers by G-IKEv2 (RFC 9838) instead:
 * IKE_SA_INIT + GSA_AUTH with the pre-shared key, one suite in --group-dh
 * (19: AES-GCM-256/SHA-256/ECP-256, 14: AES-CBC-128/HMAC-SHA-256/MODP-2048,
 * the key server's own default suites in those groups), IDg = ID_KEY_ID of
 * the group id, driven through the project's G-IKEv2 member engine
 * (gdoi/gike2_member.h, sans-I/O: this program owns the sockets and the
 * clock). A registration counts only when the engine reported REGISTERED and
 * every TEK the KD carried has its keys; anything else (a refusal, a
 * timeout, a GSA without keys) is a failure. --reuse-dh wraps the IKEv2
 * initiator's key pair the same way (the same two functions). --hold and
 * --ssrcs are GDOI's only.
 * --dh-baseline measures, in this process, what a key server must do per
 * registration with that group: one key pair generation and one derivation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "gdoi/dh.h"
#include "gdoi/ossl_pool.h"
#include "gdoi/err.h"
#include "gdoi/gike2_member.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/phase1.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"
#include "gdoi/push_ack.h"
#include "gdoi/sign.h"
#include "reg-load/dh_clock.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct member {
	int fd;
	struct gdoi_addr self;
	struct gdoi_p1_psk psk;
	struct gdoi_p1_config cfg;
	struct gdoi_p1_sa *sa;
	struct gdoi_pull_member *pm;
	struct gike2_member *gike;	/* --protocol g-ikev2: the registration in progress */
	struct gdoi_ike2_psk ike_psk;
	struct gdoi_ike2_config ike;
	uint64_t started;
	bool busy;
	bool done;			/* --hold: registered, waiting for the push */
	struct gdoi_policy *policy;	/* --hold */
	int mfd;			/* --hold --mcast */
	struct gdoi_key *rekey;		/* --hold: parsed once, as a daemon would */
	uint32_t seq0;			/* --hold: SEQ at registration */
	long taken;			/* --hold: rekeys whose push it applied in time */
	long taken_last;		/* --hold: the last of them */
};

static bool hold, gikev2, initial_contact;
static struct gdoi_ike2_suite ike_suite;
static uint8_t idg[4];		/* G-IKEv2: ID_KEY_ID of the group id */

static struct sockaddr_in server;
static struct gdoi_addr server_addr;
static struct gdoi_p1_suite suite;
static struct gdoi_pull_member_cfg pull_cfg;
static const char *psk_text;
static uint64_t *lat;
static size_t nlat, cap_lat, failures;

static void send_out(struct member *m, uint8_t *out, size_t len)
{
	if (out)
		sendto(m->fd, out, len, 0, (struct sockaddr *)&server, sizeof(server));
}

static void finish(struct member *m, bool ok)
{
	m->done = hold;
	if (ok) {
		if (nlat == cap_lat) {
			size_t ncap = cap_lat ? cap_lat * 2 : 4096;
			uint64_t *nl = realloc(lat, ncap * sizeof(*lat));
			if (!nl) {
				fprintf(stderr, "reg-load: out of memory for latencies\n");
				exit(2);
			}
			lat = nl;
			cap_lat = ncap;
		}
		lat[nlat++] = now_us() - m->started;
	} else {
		failures++;
	}
	gdoi_pull_member_free(m->pm);
	gdoi_p1_free(m->sa);
	gike2_member_free(m->gike);
	m->pm = NULL;
	m->sa = NULL;
	m->gike = NULL;
	m->busy = false;
}

/* G-IKEv2: every TEK the registration delivered has its keys (the KD). */
static bool gike_has_keys(const struct gike2_member *g)
{
	const struct gdoi_member_teks *t = gike2_member_teks(g);
	if (!t->pol || !t->pol->nteks || !t->nlive)
		return false;
	for (size_t i = 0; i < t->pol->nteks; i++)
		if (!t->pol->teks[i].have_keys || !t->pol->teks[i].key_len)
			return false;
	return true;
}

/* G-IKEv2: sends what the engine queued and ends the registration on its
 * outcome (REGISTERED with keys: done; a failed attempt, whether a failover or
 * a refusal of the group, which the engine backs off on without a failover:
 * the attempt failed; the engine is new for each registration). */
static void gike_drain(struct member *m)
{
	struct gdoi_out o;
	while (m->gike && gike2_member_next_out(m->gike, &o))
		sendto(m->fd, o.buf, o.len, 0, (struct sockaddr *)&server, sizeof(server));
	struct gdoi_member_event ev;
	int outcome = 0;	/* 1 registered with keys, -1 failed */
	while (m->gike && gike2_member_next_event(m->gike, &ev)) {
		if (ev.type == GDOI_MEMBER_EV_REGISTERED && !outcome)
			outcome = ev.nteks && gike_has_keys(m->gike) ? 1 : -1;
		else if (ev.type == GDOI_MEMBER_EV_FAILOVER && !outcome)
			outcome = -1;
	}
	if (!outcome && m->gike && gike2_member_stats(m->gike)->attempts_failed)
		outcome = -1;
	if (outcome)
		finish(m, outcome > 0);
}

static struct gdoi_now gike_now(uint64_t now)
{
	return (struct gdoi_now){ now / 1000, (int64_t)(wall_us() / 1000000) };
}

static void gike_start(struct member *m, uint64_t now)
{
	struct gike2_member_cfg mc = {
		.ike = &m->ike, .ks = server_addr, .name = "reg-load",
		.group = { GIKE2_ID_KEY_ID, GDOI_BYTES(idg, sizeof(idg)) },
		/* one attempt: a failure ends the registration, no retry */
		.retry_min_ms = 3600000, .retry_max_ms = 3600000 };
	m->gike = gike2_member_new(&mc);
	if (!m->gike) {
		finish(m, false);
		return;
	}
	gike2_member_timer(m->gike, gike_now(now));	/* IKE_SA_INIT */
	gike_drain(m);
}

static void start(struct member *m, uint64_t now)
{
	struct gdoi_p1_result r = { 0 };
	m->started = now_us();
	m->busy = true;
	if (gikev2) {
		gike_start(m, now);
		return;
	}
	if (gdoi_p1_initiate(&m->cfg, &server_addr, now / 1000, &m->sa, &r)) {
		finish(m, false);
		return;
	}
	send_out(m, r.out, r.out_len);
	gdoi_p1_result_clear(&r);
}

static void input(struct member *m, const uint8_t *buf, size_t len, uint64_t now)
{
	if (m->gike) {
		gike2_member_input(m->gike, buf, len, &server_addr, GDOI_MEMBER_VIA_UNICAST, gike_now(now));
		gike_drain(m);
		return;
	}
	if (len > 18 && buf[18] == 32 && m->pm) {
		struct gdoi_pull_result r = { 0 };
		gdoi_pull_member_input(m->pm, buf, len, now / 1000, &r);
		send_out(m, r.out, r.out_len);
		if (r.event == GDOI_PULL_EV_INSTALLED && hold) {
			m->policy = r.policy;
			r.policy = NULL;
		}
		if (r.event == GDOI_PULL_EV_INSTALLED || r.event == GDOI_PULL_EV_FAILED)
			finish(m, r.event == GDOI_PULL_EV_INSTALLED);
		gdoi_pull_result_clear(&r);
		return;
	}
	struct gdoi_p1_result r = { 0 };
	gdoi_p1_input(m->sa, buf, len, now / 1000, &r);
	send_out(m, r.out, r.out_len);
	if (r.event == GDOI_P1_EV_ESTABLISHED) {
		struct gdoi_pull_result pr = { 0 };
		if (gdoi_pull_member_start(m->sa, &pull_cfg, now / 1000, &m->pm, &pr) == 0)
			send_out(m, pr.out, pr.out_len);
		else
			finish(m, false);
		gdoi_pull_result_clear(&pr);
	} else if (r.event == GDOI_P1_EV_FAILED) {
		finish(m, false);
	}
	gdoi_p1_result_clear(&r);
}

/* --hold: a joined multicast socket for member m; 0 or -1. */
static int join_group(struct member *m, const struct sockaddr_in *grp)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ip_mreq mr = { .imr_multiaddr = grp->sin_addr, .imr_interface = { htonl(INADDR_LOOPBACK) } };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)grp, sizeof(*grp)) ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		fprintf(stderr, "reg-load: multicast socket: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->mfd = fd;
	return 0;
}

/* The kernel's arrival time of a datagram (SO_TIMESTAMPNS), or now. */
static uint64_t arrival_us(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		}
	return wall_us();
}

/* What the members saw over all rekeys. */
struct fan_counts {
	size_t applied, duplicates, refused, acks;
	uint64_t work_us;
};

/*
 * One datagram to member m (unicast when by_ks): open, verify and apply it as
 * a daemon would; answer a unicast push with its RFC 8263 ACK when the KEK
 * asks (again for a duplicate of the last push, whose first ACK may be lost).
 * Returns the time spent, or 0 if it was no push.
 */
static uint64_t take_push(struct member *m, const uint8_t *buf, size_t n, bool by_ks,
			  struct fan_counts *fc)
{
	static struct gdoi_push_update u;
	struct gdoi_kek_policy kek = m->policy->kek;	/* the push may replace it */
	char why[160];
	uint64_t v0 = now_us();
	int rc = gdoi_push_open(m->policy, m->rekey, buf, n, &u, why, sizeof(why));
	uint32_t seq = u.seq;
	bool ack = by_ks && kek.ack_method && (!rc || (rc == GDOI_ERR_REPLAY && seq == m->policy->seq));
	if (rc == 0)
		rc = gdoi_push_apply(m->policy, &u);
	gdoi_push_update_clear(&u);
	if (ack) {
		uint8_t *out = NULL;
		size_t len = 0;
		if (gdoi_push_ack_build(kek.ack_method, &kek, seq, &m->cfg.local_id, &out, &len) == 0) {
			send_out(m, out, len);
			fc->acks++;
		}
		free(out);
	}
	gdoi_wipe(&kek, sizeof(kek));
	fc->applied += rc == 0;
	fc->duplicates += rc == GDOI_ERR_REPLAY;
	fc->refused += rc && rc != GDOI_ERR_REPLAY;
	return now_us() - v0 + 1;
}

/*
 * --hold: runs the trigger `rekeys` times; after each, waits (at most `wait`
 * seconds) until every member holds that push's SEQ, timing per member the
 * trigger -> push applied. A member counts a rekey as taken when its SEQ
 * reached the group's in that window (a later push does not make up for a
 * missed one: the member went without those keys until then).
 */
static int fanout(struct member *ms, long nm, struct pollfd *pf, const char *mcast, char **cmd,
		  long rekeys, double wait, double settle)
{
	size_t registered = 0, all = 0;
	struct fan_counts fc = { 0 };
	struct sockaddr_in grp = { .sin_family = AF_INET };
	if (mcast) {
		char h[64];
		const char *c = strrchr(mcast, ':');
		if (!c || (size_t)(c - mcast) >= sizeof(h))
			return 2;
		memcpy(h, mcast, (size_t)(c - mcast));
		h[c - mcast] = 0;
		inet_pton(AF_INET, h, &grp.sin_addr);
		grp.sin_port = htons((uint16_t)atoi(c + 1));
	}
	int one = 1;
	/* Two sockets a member may not fit the descriptor limit (20,000 here for
	 * 10,000 members, and no CAP_SYS_RESOURCE to raise it): multicast members
	 * then give up their registration socket, on which no push comes. */
	struct rlimit rl;
	bool close_unicast = mcast && (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 2 * (rlim_t)nm + 64);
	for (long i = 0; i < nm; i++) {
		if (close_unicast && ms[i].fd >= 0) {
			close(ms[i].fd);
			ms[i].fd = pf[i].fd = -1;
		}
		registered += ms[i].policy != NULL;
		if (!ms[i].policy)
			continue;
		struct gdoi_kek_policy *k = &ms[i].policy->kek;
		gdoi_key_from_spki(GDOI_BYTES(k->rekey_pub, k->rekey_pub_len), &ms[i].rekey);
		ms[i].seq0 = ms[i].policy->seq;
		setsockopt(ms[i].fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		if (mcast && join_group(&ms[i], &grp))
			return 2;
		pf[nm + i] = (struct pollfd){ .fd = ms[i].mfd, .events = POLLIN };
	}
	uint64_t *t = calloc((size_t)(nm * rekeys) + 1, sizeof(*t));
	size_t nt = 0;
	for (long r = 1; r <= rekeys; r++) {
		size_t taken = 0;
		uint64_t t0 = wall_us(), start = now_us(), last = start;
		pid_t pid = fork();
		if (pid == 0) {
			int dn = open("/dev/null", O_WRONLY);
			if (dn >= 0)
				dup2(dn, 1);
			execvp(cmd[0], cmd);
			_exit(127);
		}
		/* After the last member took it, answer resent copies until they stop
		 * (--settle): the key server's wait for ACKs ends before the next rekey. */
		while ((taken < registered || now_us() - last < (uint64_t)(settle * 1e6)) &&
		       now_us() - start < (uint64_t)(wait * 1e6)) {
			if (poll(pf, (nfds_t)(2 * nm), 10) <= 0)
				continue;
			for (long k = 0; k < 2 * nm; k++) {
				if (!(pf[k].revents & POLLIN))
					continue;
				struct member *m = &ms[k % nm];
				uint8_t buf[8192];
				char ctl[256];
				struct iovec iov = { buf, sizeof(buf) };
				struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
						     .msg_controllen = sizeof(ctl) };
				ssize_t n = recvmsg(pf[k].fd, &mh, MSG_DONTWAIT);
				if (n < 28 || buf[18] != 33 || !m->policy)
					continue;
				uint64_t arrival = arrival_us(&mh);
				last = now_us();
				uint64_t own = take_push(m, buf, (size_t)n, k < nm, &fc);
				fc.work_us += own;
				if (m->taken_last != r && m->policy->seq >= m->seq0 + (uint32_t)r) {
					m->taken_last = r;
					m->taken++;
					taken++;
					t[nt++] = arrival - t0 + own;
				}
			}
		}
		int st;
		waitpid(pid, &st, 0);
	}
	for (long i = 0; i < nm; i++)
		all += ms[i].policy && ms[i].taken == rekeys;
	qsort(t, nt, sizeof(*t), cmp_u64);
	size_t seen = fc.applied + fc.duplicates + fc.refused;
	printf("{\"members\":%zu,\"rekeys\":%ld,\"applied\":%zu,\"share_every_push\":%.5f,"
	       "\"pushes_taken\":%zu,\"pushes_applied\":%zu,\"duplicates\":%zu,\"refused\":%zu,"
	       "\"acks_sent\":%zu,\"delivery\":\"%s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"open_apply_us_each\":%.1f}\n",
	       registered, rekeys, all, registered ? (double)all / (double)registered : 0, nt, fc.applied,
	       fc.duplicates, fc.refused, fc.acks, mcast ? "multicast" : "unicast",
	       nt ? (double)t[nt / 2] / 1000 : -1, nt ? (double)t[(nt - 1) * 99 / 100] / 1000 : -1,
	       nt ? (double)t[nt - 1] / 1000 : -1, seen ? (double)fc.work_us / (double)seen : 0);
	free(t);
	for (long i = 0; i < nm; i++) {
		gdoi_pull_policy_free(ms[i].policy);
		gdoi_key_free(ms[i].rekey);
		if (ms[i].mfd >= 0)
			close(ms[i].mfd);
	}
	return all == registered && registered ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: reg-load --server ADDR:PORT --psk KEY --group ID [options]\n"
		"       reg-load ... --count N --hold [--mcast GROUP:PORT] [--rekeys R] [--push-wait S]\n"
		"                [--settle T] -- TRIGGER-COMMAND ARGS...\n"
		"       reg-load --dh-baseline GROUP [--seconds S]\n"
		"\n"
		"Plays group members (Phase 1 Main Mode with a pre-shared key, then GROUPKEY-PULL)\n"
		"against a GDOI key server, closed loop, and prints one JSON line.\n"
		"\n"
		"  --server ADDR:PORT   key server (IPv4)\n"
		"  --psk KEY            pre-shared key (text)\n"
		"  --group ID           group id, decimal or 0x hex, sent as is (a little-endian\n"
		"                       reference key server configured with 1234 wants 0xd2040000)\n"
		"  --suite NAME         Phase 1 suite: default (AES-256/SHA-256/ECP-256, or\n"
		"                       AES-128/SHA-256 with --group-dh other than 19),\n"
		"                       modern2048 (AES-128/SHA-256/MODP-2048), or legacy\n"
		"                       (3DES/SHA-1/MODP-1024, lifetime 60 s: the reference's)\n"
		"  --group-dh N         DH group of the default suite (19 ECP-256, 14 MODP-2048, ...)\n"
		"  --lifetime S         Phase 1 lifetime in seconds (default 86400, legacy 60)\n"
		"  --concurrency C      registrations in flight (default 16)\n"
		"  --seconds S          run for S seconds (default 10 without --count)\n"
		"  --count N            stop after N registrations; alone, no time limit\n"
		"  --first-ip A.B.C.D   members bind consecutive addresses from here (default\n"
		"                       127.0.0.1), skipping the key server's address\n"
		"  --ssrcs N            ask for N SSRCs at each registration (default 0)\n"
		"  --reuse-dh           one ephemeral DH key pair for all members of this process\n"
		"                       (its own cost: one derivation per registration)\n"
		"  --protocol P         gdoi (default) or g-ikev2: IKE_SA_INIT + GSA_AUTH (RFC 9838)\n"
		"                       with the PSK, DH group --group-dh (19 or 14); not with --hold\n"
		"  --initial-contact    GDOI: INITIAL-CONTACT in message 5, as gdoi-sidecar sends\n"
		"                       (the key server drops the member's older Phase 1 SAs)\n"
		"  --latency-out FILE   every registration time in microseconds, one per line\n"
		"  --hold               keep N members registered, run the trigger, time the push\n"
		"  --mcast GROUP:PORT   --hold: also join the rekey multicast group (netns only)\n"
		"  --rekeys R           --hold: run the trigger R times (default 1)\n"
		"  --push-wait S        --hold: wait at most S s for every member's push (default 20)\n"
		"  --settle T           --hold: then until no push came for T s (default 0)\n"
		"  --dh-baseline GROUP  time one key pair + one derivation of GROUP in-process\n"
		"  --help               this text\n");
}

/* The Phase 1 suite by name; false if unknown. */
static bool pick_suite(const char *name, long dh_group, long lifetime, struct gdoi_p1_suite *s)
{
	if (!strcmp(name, "default"))
		*s = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, dh_group == 19 ? 256 : 128, GDOI_IKE_HASH_SHA256,
					     (uint16_t)dh_group, GDOI_IKE_AUTH_PSK, 86400 };
	else if (!strcmp(name, "modern2048"))
		*s = (struct gdoi_p1_suite){ GDOI_IKE_ENC_AES, 128, GDOI_IKE_HASH_SHA256, 14,
					     GDOI_IKE_AUTH_PSK, 86400 };
	else if (!strcmp(name, "legacy"))
		*s = (struct gdoi_p1_suite){ GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA1, 2, GDOI_IKE_AUTH_PSK, 60 };
	else
		return false;
	if (lifetime)
		s->lifetime = (uint32_t)lifetime;
	return true;
}

/* The i-th member address from base, stepping over the key server's own address. */
static uint32_t member_ip(uint32_t base, long i, uint32_t server_ip)
{
	uint32_t a = base + (uint32_t)i;
	if (base <= server_ip && a >= server_ip)
		a++;
	return a;
}

int main(int argc, char **argv)
{
	const char *srv = NULL, *first_ip = "127.0.0.1", *lat_out = NULL, *suite_name = "default";
	long conc = 16, count = 0, group = 0, dh_group = 19, baseline = 0, lifetime = 0, rekeys = 1, ssrcs = 0;
	double seconds = 0, push_wait = 20, settle = 0;
	bool seconds_set = false;
	/* OpenSSL's allocator as gdoi-ks has it, also for --dh-baseline (the bound) */
	const char *om = getenv("GDOI_OSSL_MALLOC");
	gdoi_ossl_pool_install(om && !strcmp(om, "system"));
	static const struct option opts[] = {
		{ "server", 1, 0, 's' }, { "psk", 1, 0, 'k' }, { "group", 1, 0, 'g' },
		{ "group-dh", 1, 0, 'd' }, { "concurrency", 1, 0, 'c' }, { "seconds", 1, 0, 'S' },
		{ "count", 1, 0, 'n' }, { "first-ip", 1, 0, 'f' }, { "latency-out", 1, 0, 'l' },
		{ "dh-baseline", 1, 0, 'b' }, { "hold", 0, 0, 'H' }, { "mcast", 1, 0, 'm' },
		{ "suite", 1, 0, 'u' }, { "lifetime", 1, 0, 'L' }, { "rekeys", 1, 0, 'r' },
		{ "push-wait", 1, 0, 'w' }, { "settle", 1, 0, 'T' }, { "help", 0, 0, 'h' },
		{ "ssrcs", 1, 0, 'x' }, { "reuse-dh", 0, 0, 'R' }, { "protocol", 1, 0, 'P' },
		{ "initial-contact", 0, 0, 'I' }, { 0, 0, 0, 0 } };
	const char *mcast = NULL, *protocol = "gdoi";
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 's': srv = optarg; break;
		case 'k': psk_text = optarg; break;
		case 'g': group = strtol(optarg, NULL, 0); break;
		case 'd': dh_group = strtol(optarg, NULL, 10); break;
		case 'c': conc = strtol(optarg, NULL, 10); break;
		case 'S': seconds = strtod(optarg, NULL); seconds_set = true; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'f': first_ip = optarg; break;
		case 'l': lat_out = optarg; break;
		case 'b': baseline = strtol(optarg, NULL, 10); break;
		case 'H': hold = true; break;
		case 'm': mcast = optarg; break;
		case 'u': suite_name = optarg; break;
		case 'L': lifetime = strtol(optarg, NULL, 10); break;
		case 'r': rekeys = strtol(optarg, NULL, 10); break;
		case 'w': push_wait = strtod(optarg, NULL); break;
		case 'T': settle = strtod(optarg, NULL); break;
		case 'x': ssrcs = strtol(optarg, NULL, 10); break;
		case 'R': reg_load_reuse_dh = true; break;
		case 'I': initial_contact = true; break;
		case 'P': protocol = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!seconds_set)
		seconds = count ? 0 : 10;	/* --count alone: until N are done */
	if (baseline)
		return dh_baseline((uint16_t)baseline, seconds ? seconds : 10);
	char host[64];
	const char *colon = srv ? strrchr(srv, ':') : NULL;
	if (!colon || !psk_text || !group || conc < 1 || (size_t)(colon - srv) >= sizeof(host) ||
	    (hold && (count < 1 || optind >= argc || rekeys < 1 || push_wait <= 0))) {
		usage(stderr);
		return 2;
	}
	gikev2 = !strcmp(protocol, "g-ikev2");
	if (!gikev2 && strcmp(protocol, "gdoi")) {
		fprintf(stderr, "reg-load: --protocol: expected gdoi or g-ikev2, got '%s'\n", protocol);
		return 2;
	}
	if (gikev2 && (hold || ssrcs || (dh_group != 19 && dh_group != 14))) {
		fprintf(stderr, "reg-load: --protocol g-ikev2: --group-dh 19 or 14, no --hold, no --ssrcs\n");
		return 2;
	}
	/* the key server's default suites in these groups (gdoi_ike2_suites_default) */
	ike_suite = dh_group == 19 ? (struct gdoi_ike2_suite){ GDOI_IKE2_ENCR_AES_GCM_16, 256,
			GDOI_IKE2_PRF_HMAC_SHA2_256, 0, GDOI_IKE2_DH_ECP_256 }
		  : (struct gdoi_ike2_suite){ GDOI_IKE2_ENCR_AES_CBC, 128, GDOI_IKE2_PRF_HMAC_SHA2_256,
			GDOI_IKE2_AUTH_HMAC_SHA2_256_128, GDOI_IKE2_DH_MODP_2048 };
	gdoi_put_u32(idg, (uint32_t)group);
	if (!pick_suite(suite_name, dh_group, lifetime, &suite)) {
		fprintf(stderr, "reg-load: --suite: expected default, modern2048 or legacy, got '%s'\n", suite_name);
		return 2;
	}
	memcpy(host, srv, (size_t)(colon - srv));
	host[colon - srv] = 0;
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &server.sin_addr);
	server_addr = (struct gdoi_addr){ .len = 4, .port = ntohs(server.sin_port) };
	memcpy(server_addr.ip, &server.sin_addr, 4);
	pull_cfg = (struct gdoi_pull_member_cfg){ .group_id = (uint32_t)group,
		.sid_request = ssrcs > 0 && ssrcs <= 16 ? (unsigned)ssrcs : 0 };
	long nm = conc;
	if (hold) {
		nm = count;	/* every member stays, with its socket */
		struct rlimit rl = { 2 * (rlim_t)count + 64, 2 * (rlim_t)count + 64 };
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct member *ms = calloc((size_t)nm, sizeof(*ms));
	struct pollfd *pf = calloc((size_t)nm * 2, sizeof(*pf));
	struct in_addr base;
	inet_pton(AF_INET, first_ip, &base);
	for (long i = 0; i < nm; i++) {
		struct member *m = &ms[i];
		struct sockaddr_in sin = { .sin_family = AF_INET };
		m->mfd = -1;
		sin.sin_addr.s_addr = htonl(member_ip(ntohl(base.s_addr), i, ntohl(server.sin_addr.s_addr)));
		socklen_t sl = sizeof(sin);
		m->fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(m->fd, (struct sockaddr *)&sin, &sl)) {
			fprintf(stderr, "reg-load: socket %ld: %s\n", i, strerror(errno));
			return 2;
		}
		int big = 1 << 20;
		setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		m->self = (struct gdoi_addr){ .len = 4, .port = ntohs(sin.sin_port) };
		memcpy(m->self.ip, &sin.sin_addr, 4);
		m->psk = (struct gdoi_p1_psk){ .addr = server_addr,
					       .key = GDOI_BYTES(psk_text, strlen(psk_text)) };
		m->cfg = (struct gdoi_p1_config){ .suites = &suite, .nsuites = 1, .psks = &m->psk, .npsks = 1,
			.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(m->self.ip, 4) },
			.initial_contact = initial_contact };
		m->ike_psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE },
						     GDOI_BYTES(psk_text, strlen(psk_text)) };
		m->ike = (struct gdoi_ike2_config){ .suites = &ike_suite, .nsuites = 1,
			.local_id = { GDOI_IKE2_ID_IPV4_ADDR, GDOI_BYTES(m->self.ip, 4) },
			.psks = &m->ike_psk, .npsks = 1, .fragmentation = true, .initial_contact = true };
		pf[i] = (struct pollfd){ .fd = m->fd, .events = POLLIN };
		pf[nm + i] = (struct pollfd){ .fd = -1 };
	}
	uint64_t t0 = now_us(), end = seconds > 0 ? t0 + (uint64_t)(seconds * 1e6) : UINT64_MAX;
	size_t started = 0;
	size_t inflight = 0;
	for (;;) {
		uint64_t now = now_us();
		bool any = false;
		inflight = 0;
		for (long i = 0; i < nm; i++)
			inflight += ms[i].busy;
		for (long i = 0; i < nm; i++) {
			struct member *m = &ms[i];
			if (!m->busy && !m->done && now < end && (!count || started < (size_t)count) &&
			    (!hold || inflight < (size_t)conc)) {
				inflight++;
				start(m, now);
				started++;
			}
			if (m->busy && now > end && now - end > 30000000u) {
				/* still in flight 30 s after the run: a failure, so the run ends */
				finish(m, false);
				continue;
			}
			if (m->busy) {
				any = true;
				/* Retransmissions and timeouts of the core. */
				if (m->gike) {
					uint64_t d = gike2_member_deadline(m->gike);
					if (d && d <= now / 1000) {
						gike2_member_timer(m->gike, gike_now(now));
						gike_drain(m);
					}
					continue;
				}
				uint64_t t = m->pm ? gdoi_pull_member_next_timer(m->pm) : gdoi_p1_next_timer(m->sa);
				if (t && t <= now / 1000) {
					if (m->pm) {
						struct gdoi_pull_result r = { 0 };
						gdoi_pull_member_timer(m->pm, now / 1000, &r);
						send_out(m, r.out, r.out_len);
						if (r.event == GDOI_PULL_EV_FAILED)
							finish(m, false);
						gdoi_pull_result_clear(&r);
					} else {
						struct gdoi_p1_result r = { 0 };
						gdoi_p1_timer(m->sa, now / 1000, &r);
						send_out(m, r.out, r.out_len);
						if (r.event == GDOI_P1_EV_FAILED)
							finish(m, false);
						gdoi_p1_result_clear(&r);
					}
				}
			}
		}
		if (!any)
			break;
		if (poll(pf, (nfds_t)nm, 50) <= 0)
			continue;
		for (long i = 0; i < nm; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			uint8_t buf[8192];
			ssize_t n = recv(ms[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0 && ms[i].busy)
				input(&ms[i], buf, (size_t)n, now_us());
		}
	}
	double dt = (double)(now_us() - t0) / 1e6;
	if (hold) {
		int rc = fanout(ms, nm, pf, mcast, argv + optind, rekeys, push_wait, settle);
		for (long i = 0; i < nm; i++)
			if (ms[i].fd >= 0)
				close(ms[i].fd);
		free(ms);
		free(pf);
		free(lat);
		return rc;
	}
	if (nlat)	/* none registered: lat is NULL, which qsort may not take */
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
	double p50 = nlat ? (double)lat[nlat / 2] / 1000 : 0, p99 = nlat ? (double)lat[nlat * 99 / 100] / 1000 : 0;
	printf("{\"registrations\":%zu,\"failures\":%zu,\"seconds\":%.3f,\"per_second\":%.1f,"
	       "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f},\"concurrency\":%ld,\"dh_group\":%u,"
	       "\"suite\":\"%s\",\"protocol\":\"%s\",\"reuse_dh\":%s,\"cpu_s\":%.3f}\n",
	       nlat, failures, dt, (double)nlat / dt, p50, p99, conc, suite.group,
	       gikev2 ? (dh_group == 19 ? "gcm256-sha256-ecp256" : "aes128-sha256-modp2048") : suite_name,
	       protocol,
	       reg_load_reuse_dh ? "true" : "false", cpu_seconds());
	if (lat_out) {
		FILE *f = fopen(lat_out, "w");
		for (size_t i = 0; f && i < nlat; i++)
			fprintf(f, "%" PRIu64 "\n", lat[i]);
		if (f)
			fclose(f);
	}
	for (long i = 0; i < nm; i++) {
		gdoi_pull_member_free(ms[i].pm);
		gdoi_p1_free(ms[i].sa);
		gike2_member_free(ms[i].gike);
		close(ms[i].fd);
	}
	free(ms);
	free(pf);
	free(lat);
	return failures && !nlat ? 1 : 0;
}
