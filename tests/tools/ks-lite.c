/*
 * ks-lite.c - test driver: a small GDOI key server over UDP for testing
 * gdoi-sidecar before (and independently of) gdoi-ks. One group (4711), one
 * SRTP TEK, a KEK with a fresh P-256 rekey key, PSK authentication. Keys are
 * never printed: only fingerprints (first 8 octets of SHA-256 of
 * master key || salt, hex), on stdout, one line per event:
 *   ready port=848
 *   tek spi=0x00000100 fp=0123456789abcdef
 *   registered member=127.0.0.1:40000
 *   rekey seq=1 spi=0x00000101 fp=...
 *
 *   ks-lite [-p PORT] [-k PSK] [-m MCAST:PORT] [-l TEK_LIFETIME] [-a ATD] [-d DTD]
 *           [-s FIRST_SPI]
 * SIGUSR1: rekey (a new TEK, Delete of the old one, SEQ + 1) by unicast to
 * every registered member and to the multicast group (-m; TTL 0, loopback).
 * SIGTERM/SIGINT: exit.
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

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/phase1.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"

#define GROUP 4711
#define MAX_MEMBERS 16

static volatile sig_atomic_t want_rekey, want_exit;
static struct gdoi_policy pol;
static struct gdoi_key *rekey_key;
static struct sockaddr_in members[MAX_MEMBERS];
static size_t nmembers;
static uint32_t next_spi = 0x100;
static unsigned tek_lifetime = 3600;

static void on_sig(int s)
{
	if (s == SIGUSR1)
		want_rekey = 1;
	else
		want_exit = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fingerprint(const struct gdoi_tek *t, char out[17])
{
	uint8_t md[32];
	unsigned n = 0;
	EVP_Digest(t->key, t->key_len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void new_tek(struct gdoi_tek *t)
{
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = next_spi++,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 1, 2, 3 } },
		.u.srtp = { .profile = 1, .flags = 3, .lifetime = tek_lifetime, .replay_window = 128,
			    .ssrc_assigned = true } };
	t->have_keys = true;
	t->key_len = 30;
	gdoi_random(t->key, 30);
}

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *m, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)m; (void)a;
	if (group != GROUP)
		return GDOI_ERR_NOT_FOUND;
	*p = &pol;
	return 0;
}

static uint32_t next_ssrc = 0x10000;
static int assign(void *ctx, uint32_t group, const struct gdoi_id *m, unsigned count, uint32_t *sids,
		  size_t *n)
{
	(void)ctx; (void)group; (void)m;
	for (unsigned i = 0; i < count; i++)
		sids[i] = next_ssrc++;
	*n = count;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned port = 848, atd = 1, dtd = 4;
	const char *psk = "loopback demo key", *mcast = NULL;
	struct sockaddr_in msa = { 0 };
	int c;

	while ((c = getopt(argc, argv, "p:k:m:l:a:d:s:")) != -1) {
		switch (c) {
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'k': psk = optarg; break;
		case 'm': mcast = optarg; break;
		case 'l': tek_lifetime = (unsigned)atoi(optarg); break;
		case 'a': atd = (unsigned)atoi(optarg); break;
		case 'd': dtd = (unsigned)atoi(optarg); break;
		case 's': next_spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: fprintf(stderr, "usage: ks-lite [-p PORT] [-k PSK] [-m MCAST:PORT] [-l LIFETIME] [-a ATD] [-d DTD] [-s SPI]\n"); return 2;
		}
	}
	if (mcast) {
		char host[64];
		const char *colon = strchr(mcast, ':');
		if (!colon || (size_t)(colon - mcast) >= sizeof host)
			return 2;
		memcpy(host, mcast, (size_t)(colon - mcast));
		host[colon - mcast] = 0;
		msa.sin_family = AF_INET;
		msa.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &msa.sin_addr) != 1)
			return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* rekey key */
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *der = NULL;
	int dl = i2d_PrivateKey(k, &der);
	if (dl <= 0 || gdoi_key_load_private(GDOI_BYTES(der, (size_t)dl), &rekey_key))
		return 2;
	OPENSSL_clear_free(der, (size_t)dl);
	EVP_PKEY_free(k);

	pol.group_id = GROUP;
	pol.has_gap = true;
	pol.atd = (uint16_t)atd;
	pol.dtd = (uint16_t)dtd;
	pol.has_kek = true;
	pol.kek = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 128,
		.lifetime = 3600, .sig_alg = GDOI_SIG_ALG_ECDSA_256, .sig_hash = GDOI_SIG_HASH_SHA256,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .addr = { 127, 0, 0, 1 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .port = 1849, .addr = { 239, 1, 2, 4 } } };
	{
		uint8_t *spki;
		size_t n;
		if (gdoi_key_to_spki(rekey_key, &spki, &n))
			return 2;
		memcpy(pol.kek.rekey_pub, spki, n);
		pol.kek.rekey_pub_len = n;
		free(spki);
	}
	gdoi_random(pol.kek.spi, sizeof pol.kek.spi);	/* a new KEK SPI at every start */
	pol.has_seq = true;
	pol.seq = 0;
	pol.nteks = 1;
	new_tek(&pol.teks[0]);
	if (gdoi_policy_generate_keys(&pol))	/* KEK key and IV (TEK keys are regenerated below) */
		return 2;
	/* generate_keys refreshed the TEK key too: the fingerprint printed is of the final key */
	char fp[17];
	fingerprint(&pol.teks[0], fp);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&me, sizeof me)) {
		fprintf(stderr, "ks-lite: bind port %u: %s\n", port, strerror(errno));
		return 2;
	}
	if (mcast) {
		struct in_addr lo = { htonl(INADDR_LOOPBACK) };
		unsigned char ttl = 0, loop = 1;
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
	}

	static const uint8_t ip[4] = { 127, 0, 0, 1 };
	struct gdoi_p1_suite su[4];
	size_t ns = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 86400, true, su, 4);
	struct gdoi_p1_psk kpsk = { .key = GDOI_BYTES(psk, strlen(psk)) };
	struct gdoi_p1_config kcfg = { .suites = su, .nsuites = ns, .psks = &kpsk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ip, 4) } };
	struct gdoi_p1_responder *resp = gdoi_p1_responder_new(&kcfg, now_ms());
	struct gdoi_pull_ks_cfg pcfg = { .lookup = lookup, .assign_sids = assign };
	struct gdoi_pull_ks *pks = gdoi_pull_ks_new(&pcfg);
	if (!resp || !pks)
		return 2;
	printf("ready port=%u\n", port);
	printf("tek spi=0x%08x fp=%s\n", (unsigned)pol.teks[0].spi, fp);

	static uint8_t buf[65536];
	while (!want_exit) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, 200);
		uint64_t now = now_ms();
		gdoi_p1_responder_expire(resp, now);
		gdoi_pull_ks_expire(pks, now);
		if (want_rekey) {
			want_rekey = 0;
			struct gdoi_policy *upd = calloc(1, sizeof *upd);
			struct gdoi_push_delete del = { .proto = 0xF5, .spi = pol.teks[0].spi };
			upd->group_id = GROUP;
			upd->has_gap = true;
			upd->atd = pol.atd;
			upd->dtd = pol.dtd;
			upd->nteks = 1;
			new_tek(&upd->teks[0]);
			uint8_t *out = NULL;
			size_t len = 0;
			struct gdoi_push_params pp = { .kek = &pol.kek, .sign_key = rekey_key,
				.seq = pol.seq + 1, .deletes = &del, .ndeletes = 1, .update = upd };
			rc = gdoi_push_build(&pp, &out, &len);
			if (rc) {
				fprintf(stderr, "ks-lite: push_build: %s\n", gdoi_strerror(rc));
			} else {
				pol.seq++;
				pol.teks[0] = upd->teks[0];
				fingerprint(&pol.teks[0], fp);
				for (size_t i = 0; i < nmembers; i++)
					sendto(fd, out, len, 0, (struct sockaddr *)&members[i], sizeof members[i]);
				if (mcast && sendto(fd, out, len, 0, (struct sockaddr *)&msa, sizeof msa) < 0)
					fprintf(stderr, "ks-lite: multicast: %s\n", strerror(errno));
				printf("rekey seq=%u spi=0x%08x fp=%s unicast=%zu multicast=%s\n",
				       (unsigned)pol.seq, (unsigned)pol.teks[0].spi, fp, nmembers,
				       mcast ? "yes" : "no");
				free(out);
			}
			gdoi_policy_clear(upd);
			free(upd);
		}
		if (rc <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 28)
			continue;
		struct gdoi_addr peer = { .len = 4, .port = ntohs(from.sin_port) };
		memcpy(peer.ip, &from.sin_addr, 4);
		struct gdoi_p1_result r1 = { 0 };
		struct gdoi_p1_sa *rsa = NULL;
		if (buf[18] == 32) {	/* GROUPKEY-PULL: under an SA of ours */
			rsa = gdoi_p1_responder_find(resp, buf, buf + 8);
			if (!rsa)
				continue;
			struct gdoi_pull_result r2 = { 0 };
			gdoi_pull_ks_input(pks, rsa, buf, (size_t)n, now, &r2);
			if (r2.out)
				sendto(fd, r2.out, r2.out_len, 0, (struct sockaddr *)&from, fl);
			if (r2.event == GDOI_PULL_EV_REGISTERED) {
				size_t i;
				for (i = 0; i < nmembers; i++)
					if (members[i].sin_addr.s_addr == from.sin_addr.s_addr &&
					    members[i].sin_port == from.sin_port)
						break;
				if (i == nmembers && nmembers < MAX_MEMBERS)
					members[nmembers++] = from;
				printf("registered member=%s:%u\n", inet_ntoa(from.sin_addr), ntohs(from.sin_port));
			}
			gdoi_pull_result_clear(&r2);
			continue;
		}
		gdoi_p1_responder_input(resp, buf, (size_t)n, &peer, now, &r1, &rsa);
		if (r1.out)
			sendto(fd, r1.out, r1.out_len, 0, (struct sockaddr *)&from, fl);
		gdoi_p1_result_clear(&r1);
	}
	gdoi_pull_ks_free(pks);
	gdoi_p1_responder_free(resp);
	gdoi_key_free(rekey_key);
	gdoi_policy_clear(&pol);
	close(fd);
	return 0;
}
