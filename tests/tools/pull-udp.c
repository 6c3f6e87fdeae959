/*
 * pull-udp.c - test driver: member and key server over real UDP sockets on
 * 127.0.0.1 (Phase 1, GROUPKEY-PULL, then a GROUPKEY-PUSH), for several
 * policies: SRTP TEKs of every profile with KEK and SSRC requests, SRTP
 * without KEK or SSRCs, ESP and AH TEKs with a KEK. Every datagram is also
 * written to a pcap (synthetic IPv4/UDP headers) so that gdoi-dump can be
 * checked against it; the keys gdoi-dump needs are printed on stdout as
 *   ike-key ICOOKIE=HEXKEY
 * (Phase 1 encryption keys are test secrets of this run only).
 *
 *   pull-udp CAPTURE.pcap
 * Exit 0 when every registration installed the key server's exact keys and
 * the push was applied; 1 otherwise, with the reason on stderr.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike_keys.h"
#include "gdoi/phase1.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define GROUP 4711

static pcap_dumper_t *dumper;
static int fail_count;

#define FAIL(...) do { fprintf(stderr, "pull-udp: " __VA_ARGS__); fputc('\n', stderr); fail_count++; } while (0)

struct endpoint {
	int fd;
	struct sockaddr_in sin;
	struct gdoi_addr addr;
};

static int open_endpoint(struct endpoint *e)
{
	socklen_t sl = sizeof(e->sin);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&e->sin, 0, sizeof(e->sin));
	e->sin.sin_family = AF_INET;
	e->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&e->sin, sizeof(e->sin)) ||
	    getsockname(e->fd, (struct sockaddr *)&e->sin, &sl))
		return -1;
	e->addr = (struct gdoi_addr){ .len = 4, .ip = { 127, 0, 0, 1 }, .port = ntohs(e->sin.sin_port) };
	return 0;
}

/* Writes the datagram to the capture with IPv4 and UDP headers, then sends it. */
static void xmit(const struct endpoint *from, const struct endpoint *to, const uint8_t *msg, size_t len)
{
	uint8_t pkt[65536];
	if (!msg || len + 28 > sizeof(pkt))
		return;
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	gdoi_put_u16(pkt + 2, (uint16_t)(len + 28));
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, &from->sin.sin_addr, 4);
	memcpy(pkt + 16, &to->sin.sin_addr, 4);
	memcpy(pkt + 20, &from->sin.sin_port, 2);
	memcpy(pkt + 22, &to->sin.sin_port, 2);
	gdoi_put_u16(pkt + 24, (uint16_t)(len + 8));
	memcpy(pkt + 28, msg, len);
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)(len + 28), .len = (bpf_u_int32)(len + 28) };
	gettimeofday(&h.ts, NULL);
	pcap_dump((u_char *)dumper, &h, pkt);
	if (sendto(from->fd, msg, len, 0, (const struct sockaddr *)&to->sin, sizeof(to->sin)) != (ssize_t)len)
		FAIL("sendto failed");
}

/* Receives one datagram (2 s at most). */
static ssize_t recv1(const struct endpoint *e, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = e->fd, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(e->fd, buf, cap, 0);
}

static const struct gdoi_policy *the_policy;

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *m, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)m; (void)a;
	if (group != GROUP)
		return GDOI_ERR_NOT_FOUND;
	*p = the_policy;
	return 0;
}

static uint32_t next_ssrc = 0x5000;

static int assign(void *ctx, uint32_t group, const struct gdoi_id *m, unsigned count, uint32_t *sids,
		  size_t *n)
{
	(void)ctx; (void)group; (void)m;
	for (unsigned i = 0; i < count; i++)
		sids[i] = next_ssrc++;
	*n = count;
	return 0;
}

static void tek(struct gdoi_policy *p, enum gdoi_tek_kind kind, uint16_t profile, uint8_t transform,
		uint16_t bits, uint16_t auth)
{
	struct gdoi_tek *t = &p->teks[p->nteks];
	*t = (struct gdoi_tek){ .kind = kind, .spi = 0x100 + (uint32_t)p->nteks,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 1, 2, 3 } } };
	if (kind == GDOI_TEK_SRTP)
		t->u.srtp = (struct gdoi_tek_srtp_policy){ .profile = profile, .flags = 3, .lifetime = 60,
							  .replay_window = 128, .ssrc_assigned = true };
	else
		t->u.ipsec = (struct gdoi_tek_ipsec_policy){ .transform_id = transform, .key_bits = bits,
							    .auth_alg = auth, .encap_mode = 1, .lifetime = 60 };
	p->nteks++;
}

static void add_kek(struct gdoi_policy *p, const struct gdoi_key *rekey)
{
	uint8_t *spki;
	size_t n;
	p->has_kek = true;
	p->kek = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 128,
		.lifetime = 600, .sig_alg = GDOI_SIG_ALG_ECDSA_256, .sig_hash = GDOI_SIG_HASH_SHA256,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .addr = { 127, 0, 0, 1 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .port = 1849, .addr = { 127, 0, 0, 1 } } };
	gdoi_random(p->kek.spi, 16);
	if (gdoi_key_to_spki(rekey, &spki, &n) == 0) {
		memcpy(p->kek.rekey_pub, spki, n);
		p->kek.rekey_pub_len = n;
		free(spki);
	}
}

static void print_ike_key(const struct gdoi_p1_sa *sa)
{
	uint8_t ic[8], rc[8];
	char hc[17], hk[2 * GDOI_CIPHER_MAX_KEY_LEN + 1];
	const struct gdoi_ike_keys *k = gdoi_p1_keys(sa);
	gdoi_p1_cookies(sa, ic, rc);
	gdoi_hex_encode(ic, 8, hc);
	gdoi_hex_encode(k->enc_key, k->enc_key_len, hk);
	printf("ike-key %s=%s\n", hc, hk);
}

/* One registration over the sockets; returns the member's installed policy. */
static struct gdoi_policy *scenario(struct endpoint *gm, struct endpoint *ks, const struct gdoi_policy *pol,
				    unsigned sids, struct gdoi_p1_sa **member_sa)
{
	static const char psk[] = "udp test key";
	static const uint8_t ip[4] = { 127, 0, 0, 1 };
	struct gdoi_p1_suite su[3];
	size_t ns = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 3600, false, su, 3);
	struct gdoi_p1_psk kpsk = { .addr = gm->addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	struct gdoi_p1_psk gpsk = { .addr = ks->addr, .key = GDOI_BYTES(psk, sizeof(psk) - 1) };
	static struct gdoi_p1_config kcfg, gcfg;
	kcfg = (struct gdoi_p1_config){ .suites = su, .nsuites = ns, .psks = &kpsk, .npsks = 1,
		.local_id = { .type = GDOI_ID_IPV4_ADDR, .data = GDOI_BYTES(ip, 4) } };
	gcfg = kcfg;
	gcfg.psks = &gpsk;
	struct gdoi_p1_responder *resp = gdoi_p1_responder_new(&kcfg, 0);
	struct gdoi_pull_ks_cfg pcfg = { .lookup = lookup, .assign_sids = assign };
	struct gdoi_pull_ks *pks = gdoi_pull_ks_new(&pcfg);
	struct gdoi_p1_sa *sa = NULL, *rsa = NULL;
	struct gdoi_p1_result r1 = { 0 };
	struct gdoi_pull_result r2 = { 0 };
	struct gdoi_policy *installed = NULL;
	uint8_t buf[65536];
	ssize_t n;
	the_policy = pol;
	gdoi_p1_initiate(&gcfg, &ks->addr, 0, &sa, &r1);
	/* Main Mode: three round trips through the sockets. */
	for (int i = 0; i < 3 && r1.out; i++) {
		xmit(gm, ks, r1.out, r1.out_len);
		gdoi_p1_result_clear(&r1);
		if ((n = recv1(ks, buf, sizeof(buf))) < 0)
			break;
		gdoi_p1_responder_input(resp, buf, (size_t)n, &gm->addr, 0, &r1, &rsa);
		xmit(ks, gm, r1.out, r1.out_len);
		gdoi_p1_result_clear(&r1);
		if ((n = recv1(gm, buf, sizeof(buf))) < 0)
			break;
		gdoi_p1_input(sa, buf, (size_t)n, 0, &r1);
	}
	gdoi_p1_result_clear(&r1);
	if (!sa || !gdoi_p1_established(sa) || !rsa) {
		FAIL("Phase 1 did not establish over UDP");
		goto out;
	}
	print_ike_key(sa);
	struct gdoi_pull_member_cfg mcfg = { .group_id = GROUP, .sid_request = sids };
	struct gdoi_pull_member *pm = NULL;
	gdoi_pull_member_start(sa, &mcfg, 0, &pm, &r2);
	for (int i = 0; i < 2 && r2.out; i++) {
		xmit(gm, ks, r2.out, r2.out_len);
		gdoi_pull_result_clear(&r2);
		if ((n = recv1(ks, buf, sizeof(buf))) < 0)
			break;
		gdoi_pull_ks_input(pks, rsa, buf, (size_t)n, 0, &r2);
		xmit(ks, gm, r2.out, r2.out_len);
		gdoi_pull_result_clear(&r2);
		if ((n = recv1(gm, buf, sizeof(buf))) < 0)
			break;
		gdoi_pull_member_input(pm, buf, (size_t)n, 0, &r2);
	}
	if (r2.event != GDOI_PULL_EV_INSTALLED) {
		FAIL("registration failed: %s", r2.reason);
	} else {
		installed = r2.policy;
		r2.policy = NULL;
		for (size_t i = 0; i < pol->nteks; i++)
			if (installed->teks[i].key_len != pol->teks[i].key_len ||
			    memcmp(installed->teks[i].key, pol->teks[i].key, pol->teks[i].key_len) ||
			    memcmp(installed->teks[i].integrity, pol->teks[i].integrity,
				   pol->teks[i].integrity_len))
				FAIL("TEK %zu keys differ", i);
		if (installed->nsids != sids)
			FAIL("got %zu SSRCs, asked %u", installed->nsids, sids);
	}
	gdoi_pull_result_clear(&r2);
	gdoi_pull_member_free(pm);
out:
	gdoi_pull_ks_free(pks);
	gdoi_p1_responder_free(resp);
	*member_sa = sa;
	return installed;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pull-udp CAPTURE.pcap\n");
		return 2;
	}
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	dumper = pcap_dump_open(dead, argv[1]);
	struct endpoint gm, ks;
	if (!dumper || open_endpoint(&gm) || open_endpoint(&ks)) {
		fprintf(stderr, "pull-udp: cannot open capture or sockets\n");
		return 2;
	}
	struct gdoi_key *rekey = NULL;
	{
		/* A fresh P-256 rekey key for this run. */
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		unsigned char *der = NULL;
		int dl = i2d_PrivateKey(k, &der);
		if (dl <= 0 || gdoi_key_load_private(GDOI_BYTES(der, (size_t)dl), &rekey)) {
			fprintf(stderr, "pull-udp: no rekey key\n");
			return 2;
		}
		OPENSSL_clear_free(der, (size_t)dl);
		EVP_PKEY_free(k);
	}
	static struct gdoi_policy p1, p2, p3;
	static const uint16_t profiles[] = { 1, 2, 5, 6, 7, 8 };
	for (size_t i = 0; i < 6; i++)
		tek(&p1, GDOI_TEK_SRTP, profiles[i], 0, 0, 0);
	add_kek(&p1, rekey);
	p1.has_gap = true;
	p1.atd = 1;
	p1.dtd = 5;
	tek(&p2, GDOI_TEK_SRTP, 1, 0, 0, 0);
	tek(&p3, GDOI_TEK_ESP, 0, 12, 256, 5);
	tek(&p3, GDOI_TEK_AH, 0, 5, 0, 0);
	add_kek(&p3, rekey);
	if (gdoi_policy_generate_keys(&p1) || gdoi_policy_generate_keys(&p2) ||
	    gdoi_policy_generate_keys(&p3))
		return 2;
	struct gdoi_p1_sa *sa1, *sa2, *sa3;
	struct gdoi_policy *m1 = scenario(&gm, &ks, &p1, 2, &sa1);
	struct gdoi_policy *m2 = scenario(&gm, &ks, &p2, 0, &sa2);
	struct gdoi_policy *m3 = scenario(&gm, &ks, &p3, 0, &sa3);
	/* A rekey under scenario 1's KEK: one new TEK, the first one deleted. */
	if (m1) {
		static struct gdoi_policy upd;
		tek(&upd, GDOI_TEK_SRTP, 1, 0, 0, 0);
		upd.teks[0].spi = 0x999;
		gdoi_policy_generate_keys(&upd);
		struct gdoi_push_delete del = { .proto = GDOI_TEK_PROTO_SRTP, .spi = 0x100 };
		struct gdoi_push_params pp = { .kek = &p1.kek, .sign_key = rekey, .seq = 1, .update = &upd,
					       .deletes = &del, .ndeletes = 1 };
		uint8_t *msg = NULL, buf[65536];
		size_t len;
		static struct gdoi_push_update u;
		char why[200] = "";
		ssize_t n;
		if (gdoi_push_build(&pp, &msg, &len)) {
			FAIL("push not built");
		} else {
			xmit(&ks, &gm, msg, len);
			free(msg);
			if ((n = recv1(&gm, buf, sizeof(buf))) < 0 ||
			    gdoi_push_open(m1, NULL, buf, (size_t)n, &u, why, sizeof(why)) ||
			    gdoi_push_apply(m1, &u))
				FAIL("push not applied: %s", why);
			else if (!gdoi_policy_find_tek(m1, 0x999) || gdoi_policy_find_tek(m1, 0x100))
				FAIL("push applied wrongly");
		}
		gdoi_push_update_clear(&u);
		gdoi_policy_clear(&upd);
	}
	pcap_dump_close(dumper);
	pcap_close(dead);
	gdoi_pull_policy_free(m1);
	gdoi_pull_policy_free(m2);
	gdoi_pull_policy_free(m3);
	gdoi_p1_free(sa1);
	gdoi_p1_free(sa2);
	gdoi_p1_free(sa3);
	gdoi_key_free(rekey);
	gdoi_policy_clear(&p1);
	gdoi_policy_clear(&p2);
	gdoi_policy_clear(&p3);
	close(gm.fd);
	close(ks.fd);
	if (!m1 || !m2 || !m3)
		fail_count++;
	return fail_count ? 1 : 0;
}
