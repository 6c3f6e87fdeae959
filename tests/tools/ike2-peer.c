/*
 * ike2-peer.c - test driver: our IKEv2 core (gdoi/ike2.h) as an initiator or a
 * responder on a UDP socket, for interoperability tests against strongSwan
 * (tests/integration/ike2_strongswan.sh). Not a daemon: plain poll(),
 * recvfrom(), sendto(); every datagram in and out is logged on stderr.
 *
 *   ike2-peer -r [opts] LOCAL_PORT          responder on 127.0.0.1
 *   ike2-peer -i [opts] LOCAL_PORT PEER_PORT initiator to 127.0.0.1:PEER_PORT
 *     -k PSK     pre-shared key (auth method 2), for any peer ID
 *     -C CERT -K KEY -A CA  RFC 7427 signatures (auth method 14): our
 *                certificate and private key, the CA of peers' certificates
 *                (PEM files; -k may then be left out)
 *     -P         an RSA key signs RSASSA-PSS (SHA-256), not PKCS#1 v1.5
 *     -I FQDN    our ID (ID_FQDN); default "gdoi.example"
 *     -s E:B:P:I:G  offer/accept only this suite (IKEv2 transform IDs:
 *                ENCR:key bits:PRF:INTEG:D-H group, e.g. 20:256:5:0:19);
 *                repeatable; default gdoi_ike2_suites_default()
 *     -n N       responder: exit 0 once N IKE SAs are established (default
 *                1); 0 = run until SIGTERM or -t, exit 0 if any was
 *     -D         initiator: once established, delete the IKE SA
 *                (INFORMATIONAL with D(IKE)) and exit
 *     -w MS      initiator: keep answering requests MS ms after establishment
 *     -t SECONDS give up after this long (default 20): exit 1
 *     -c N       responder: answer with a COOKIE (RFC 7296 §2.6) once N SAs
 *                are half open (default: never)
 *     -1         initiator: send IKE_SA_INIT and exit (leaves the responder
 *                with a half-open SA)
 *     -f OCTETS  RFC 7383: fragment protected messages larger than this
 *                (IP payload size; default the core's 1232)
 *     -m         initiator: put the Non-ESP Marker (RFC 3948 §2.2) before each
 *                message (config nonesp_marker; either role strips and mirrors
 *                an arriving marker by itself)
 *   LOCAL_PORT 0 = ephemeral; the bound port is printed on stdout as "port N".
 *
 * For each IKE SA established, stdout gets
 *   established SPIi SPIr ENCR BITS PRF INTEG GROUP PEER-ID
 *   uat SPIi,SPIr,SK_ei,SK_er,"ENCR-NAME",SK_ai,SK_ar,"INTEG-NAME"
 * the second line being one entry of Wireshark's ikev2_decryption_table UAT
 * (tshark -o "uat:ikev2_decryption_table:ENTRY"), SK_ei/SK_er with the GCM
 * salt, as strongSwan's save-keys plugin writes it. Test keys only: these are
 * printed on purpose. When the peer deletes an IKE SA: "deleted SPIi SPIr".
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

#include "daemon/file.h"
#include "gdoi/cert.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/sign.h"
#include "tool.h"

#define MAX_SUITES 8

static int usage(void)
{
	fprintf(stderr, "usage: ike2-peer -r [-m] [-k PSK | -C CERT -K KEY -A CA [-P]] [-I FQDN] [-s E:B:P:I:G]... [-f N] [-c N] [-n N] [-t S] LOCAL_PORT\n"
			"       ike2-peer -i [-m] [-k PSK | -C CERT -K KEY -A CA [-P]] [-I FQDN] [-s E:B:P:I:G]... [-f N] [-1] [-D] [-w MS] [-t S] LOCAL_PORT PEER_PORT\n"
			"  -C/-K/-A: RFC 7427 signatures with our certificate, its key, the CA of peers (PEM files)\n");
	return 2;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "ENCR:BITS:PRF:INTEG:GROUP" */
static int parse_suite(const char *s, struct gdoi_ike2_suite *out)
{
	unsigned long v[5];
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	char *save = NULL, *tok = strtok_r(buf, ":", &save);
	for (int i = 0; i < 5; i++) {
		if (!tok || parse_ulong(tok, 65535, &v[i]))
			return -1;
		tok = strtok_r(NULL, ":", &save);
	}
	if (tok)
		return -1;
	*out = (struct gdoi_ike2_suite){ .encr = (uint16_t)v[0], .key_bits = (uint16_t)v[1],
					 .prf = (uint16_t)v[2], .integ = (uint16_t)v[3],
					 .group = (uint16_t)v[4] };
	return gdoi_ike2_suite_supported(out) ? 0 : -1;
}

static void put_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* The "established" and "uat" lines for sa. */
static void print_sa(const struct gdoi_ike2_sa *sa)
{
	uint8_t spi_i[8], spi_r[8];
	gdoi_ike2_spis(sa, spi_i, spi_r);
	const struct gdoi_ike2_suite *s = gdoi_ike2_suite(sa);
	const struct gdoi_ike2_keys *k = gdoi_ike2_keys(sa);
	const struct gdoi_ike2_id *id = gdoi_ike2_peer_id(sa);
	printf("established ");
	put_hex(spi_i, 8);
	putchar(' ');
	put_hex(spi_r, 8);
	printf(" %u %u %u %u %u %u:%.*s\n", s->encr, s->key_bits, s->prf, s->integ, s->group,
	       id ? (unsigned)id->type : 0u, id ? (int)id->data.len : 0,
	       id && id->data.len ? (const char *)id->data.ptr : "");
	char uat[512];
	if (!k || gdoi_ike2_uat_format(spi_i, spi_r, k, uat, sizeof(uat)) != 0)
		printf("uat -\n");
	else
		printf("uat %s\n", uat);
	gdoi_wipe(uat, sizeof(uat));
	fflush(stdout);
}

static void log_result(const char *what, ssize_t len, const struct gdoi_ike2_result *res, int rc)
{
	fprintf(stderr, "ike2-peer: %s %zd octets: rc %d event %d notify %u err %d out %zu: %s\n",
		what, len, rc, (int)res->event, res->notify, res->err, res->nout,
		res->reason[0] ? res->reason : "-");
}

static void send_all(int fd, const struct sockaddr_in *to, const struct gdoi_ike2_result *res)
{
	for (size_t i = 0; i < res->nout; i++) {
		if (sendto(fd, res->out[i], res->out_len[i], 0, (const struct sockaddr *)to,
			   sizeof(*to)) < 0)
			perror("ike2-peer: sendto");
		else
			fprintf(stderr, "ike2-peer: sent %zu octets%s to port %u\n", res->out_len[i],
				res->out_len[i] >= 4 && !memcmp(res->out[i], "\0\0\0\0", 4) ?
				" (Non-ESP Marker)" : "", ntohs(to->sin_port));
	}
}

struct opts {
	bool initiator, delete_after, init_only, marker, pss;
	const char *psk, *id, *cert, *key, *ca;
	struct gdoi_ike2_suite suites[MAX_SUITES];
	size_t nsuites;
	unsigned long count, linger_ms, seconds, lport, pport, frag_size, cookie_threshold;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .id = "gdoi.example", .seconds = 20, .count = 1 };
	int c;
	bool role = false;
	while ((c = getopt(argc, argv, "rik:I:s:n:Dw:t:mf:c:1C:K:A:P")) != -1) {
		switch (c) {
		case 'r':
		case 'i':
			o->initiator = c == 'i';
			role = true;
			break;
		case 'k':
			o->psk = optarg;
			break;
		case 'I':
			o->id = optarg;
			break;
		case 'C':
			o->cert = optarg;
			break;
		case 'K':
			o->key = optarg;
			break;
		case 'A':
			o->ca = optarg;
			break;
		case 'P':
			o->pss = true;
			break;
		case 's':
			if (o->nsuites == MAX_SUITES || parse_suite(optarg, &o->suites[o->nsuites]))
				return -1;
			o->nsuites++;
			break;
		case 'n':
			if (parse_ulong(optarg, 1000000, &o->count))
				return -1;
			break;
		case 'D':
			o->delete_after = true;
			break;
		case 'm':
			o->marker = true;
			break;
		case 'c':
			if (parse_ulong(optarg, 100000, &o->cookie_threshold) || !o->cookie_threshold)
				return -1;
			break;
		case '1':
			o->init_only = true;
			break;
		case 'f':
			if (parse_ulong(optarg, 65535, &o->frag_size) || o->frag_size < 64)
				return -1;
			break;
		case 'w':
			if (parse_ulong(optarg, 600000, &o->linger_ms))
				return -1;
			break;
		case 't':
			if (parse_ulong(optarg, 3600, &o->seconds) || !o->seconds)
				return -1;
			break;
		default:
			return -1;
		}
	}
	int need = o->initiator ? 2 : 1;
	bool certs = o->cert && o->key && o->ca;
	if (!certs && (o->cert || o->key || o->ca))
		return -1;
	if (!role || (!o->psk && !certs) || argc - optind != need || parse_ulong(argv[optind], 65535, &o->lport))
		return -1;
	if (o->initiator && (parse_ulong(argv[optind + 1], 65535, &o->pport) || !o->pport))
		return -1;
	if (!o->nsuites)
		o->nsuites = gdoi_ike2_suites_default(o->suites, MAX_SUITES);
	return 0;
}

/* Waits until wake (or a datagram); returns its length, 0 for none, -1 on error. */
static ssize_t wait_datagram(int fd, uint64_t wake, uint8_t *buf, size_t cap,
			     struct sockaddr_in *from)
{
	uint64_t now = tool_now_ms();
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, (int)(wake > now ? wake - now : 0));
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0 || !(pfd.revents & POLLIN))
		return 0;
	socklen_t fl = sizeof(*from);
	ssize_t len = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
	if (len < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (fl != sizeof(*from) || from->sin_family != AF_INET)
		return 0;
	if (len >= 4 && !memcmp(buf, "\0\0\0\0", 4))
		fprintf(stderr, "ike2-peer: datagram with a Non-ESP Marker\n");
	return len;
}

static struct gdoi_addr to_addr(const struct sockaddr_in *sin)
{
	struct gdoi_addr a = { .len = 4, .port = ntohs(sin->sin_port) };
	memcpy(a.ip, &sin->sin_addr, 4);
	return a;
}

static int run_responder(int fd, const struct gdoi_ike2_config *cfg, const struct opts *o)
{
	uint64_t deadline = tool_now_ms() + o->seconds * 1000;
	struct gdoi_ike2_responder *r = gdoi_ike2_responder_new(cfg, tool_now_ms());
	if (!r) {
		fprintf(stderr, "ike2-peer: cannot create the responder\n");
		return 1;
	}
	static uint8_t buf[65536];
	unsigned long established = 0;
	struct sockaddr_in last = { 0 };
	while (!tool_stop && !(o->count && established >= o->count)) {
		uint64_t now = tool_now_ms();
		if (now >= deadline) {
			fprintf(stderr, "ike2-peer: timed out with %lu IKE SA(s) established\n",
				established);
			break;
		}
		struct gdoi_ike2_result res = { 0 };
		uint64_t next = gdoi_ike2_responder_expire(r, now, &res);
		if (res.nout && last.sin_family == AF_INET)
			send_all(fd, &last, &res);	/* retransmissions: to the last peer */
		gdoi_ike2_result_clear(&res);
		struct sockaddr_in from;
		ssize_t len = wait_datagram(fd, next && next < deadline ? next : deadline, buf,
					    sizeof(buf), &from);
		if (len < 0) {
			perror("ike2-peer: recvfrom");
			break;
		}
		if (len == 0)
			continue;
		last = from;
		struct gdoi_addr peer = to_addr(&from);
		struct gdoi_ike2_sa *sa = NULL;
		int in = gdoi_ike2_responder_input(r, buf, (size_t)len, &peer, tool_now_ms(), &res, &sa);
		log_result("received", len, &res, in);
		send_all(fd, &from, &res);
		if (res.event == GDOI_IKE2_EV_ESTABLISHED && sa) {
			print_sa(sa);
			established++;
		} else if (res.event == GDOI_IKE2_EV_DELETED && sa) {
			uint8_t spi_i[8], spi_r[8];
			gdoi_ike2_spis(sa, spi_i, spi_r);
			printf("deleted ");
			put_hex(spi_i, 8);
			putchar(' ');
			put_hex(spi_r, 8);
			putchar('\n');
			fflush(stdout);
		}
		gdoi_ike2_result_clear(&res);
	}
	int rc = established >= (o->count ? o->count : 1) ? 0 : 1;
	gdoi_ike2_responder_free(r);
	return rc;
}

static int run_initiator(int fd, const struct gdoi_ike2_config *cfg, const struct opts *o)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->pport) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct gdoi_addr peer = to_addr(&to);
	uint64_t deadline = tool_now_ms() + o->seconds * 1000, linger_end = 0;
	struct gdoi_ike2_result res = { 0 };
	struct gdoi_ike2_sa *sa = NULL;
	int in = gdoi_ike2_initiate(cfg, &peer, tool_now_ms(), &sa, &res);
	log_result("initiate", 0, &res, in);
	if (in || !sa) {
		gdoi_ike2_result_clear(&res);
		return 1;
	}
	send_all(fd, &to, &res);
	gdoi_ike2_result_clear(&res);
	if (o->init_only) {
		gdoi_ike2_free(sa);
		return 0;
	}
	static uint8_t buf[65536];
	int rc = 1;
	while (!tool_stop && !gdoi_ike2_dead(sa)) {
		uint64_t now = tool_now_ms();
		if (linger_end && now >= linger_end) {
			rc = 0;
			break;
		}
		if (now >= deadline) {
			fprintf(stderr, "ike2-peer: timed out\n");
			break;
		}
		uint64_t next = gdoi_ike2_next_timer(sa), wake = linger_end ? linger_end : deadline;
		if (next && next <= now) {
			gdoi_ike2_timer(sa, now, &res);
			log_result("timer", 0, &res, 0);
			send_all(fd, &to, &res);
			bool failed = res.event == GDOI_IKE2_EV_FAILED;
			gdoi_ike2_result_clear(&res);
			if (failed)
				break;
			continue;
		}
		if (next && next < wake)
			wake = next;
		struct sockaddr_in from;
		ssize_t len = wait_datagram(fd, wake, buf, sizeof(buf), &from);
		if (len < 0) {
			perror("ike2-peer: recvfrom");
			break;
		}
		if (len == 0)
			continue;
		in = gdoi_ike2_input(sa, buf, (size_t)len, tool_now_ms(), &res);
		log_result("received", len, &res, in);
		send_all(fd, &from, &res);
		enum gdoi_ike2_event ev = res.event;
		gdoi_ike2_result_clear(&res);
		if (ev == GDOI_IKE2_EV_FAILED || ev == GDOI_IKE2_EV_DELETED)
			break;
		if (ev != GDOI_IKE2_EV_ESTABLISHED)
			continue;
		print_sa(sa);
		if (o->delete_after) {
			in = gdoi_ike2_send_delete(sa, tool_now_ms(), &res);
			log_result("delete", 0, &res, in);
			send_all(fd, &to, &res);
			gdoi_ike2_result_clear(&res);
			printf("deleted\n");
			fflush(stdout);
			rc = in ? 1 : 0;
			break;
		}
		linger_end = tool_now_ms() + o->linger_ms;
		if (!o->linger_ms) {
			rc = 0;
			break;
		}
	}
	gdoi_ike2_free(sa);
	return rc;
}

/* Certificate, key and CA for signature authentication (-C, -K, -A). */
struct sig_auth {
	struct gdoi_cert *cert;
	struct gdoi_key *key;
	struct gdoi_trust *trust;
};

static int64_t unix_now(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

static void sig_free(struct sig_auth *s)
{
	gdoi_cert_free(s->cert);
	gdoi_key_free(s->key);
	gdoi_trust_free(s->trust);
}

static int sig_load(struct sig_auth *s, const struct opts *o, struct gdoi_ike2_config *cfg)
{
	const char *path[3] = { o->cert, o->key, o->ca };
	uint8_t *buf[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	char err[256];
	int rc = 0;

	for (int i = 0; i < 3 && rc == 0; i++)
		if (dm_file_load(path[i], i == 1 ? DM_FILE_SECRET : 0, DM_FILE_MAX, &buf[i], &len[i], err,
				 sizeof(err))) {
			fprintf(stderr, "ike2-peer: %s\n", err);
			rc = -1;
		}
	if (rc == 0 && (gdoi_cert_load(GDOI_BYTES(buf[0], len[0]), &s->cert) ||
			gdoi_key_load_private(GDOI_BYTES(buf[1], len[1]), &s->key) ||
			gdoi_trust_new(&s->trust) || gdoi_trust_add(s->trust, GDOI_BYTES(buf[2], len[2])))) {
		fprintf(stderr, "ike2-peer: certificate, key or CA not usable\n");
		rc = -1;
	}
	for (int i = 0; i < 3; i++)
		dm_file_free(buf[i], len[i]);
	if (rc)
		return rc;
	cfg->key = s->key;
	cfg->cert = gdoi_cert_der(s->cert);
	cfg->trust = s->trust;
	cfg->unix_now = unix_now;
	cfg->rsa_pss = o->pss;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o))
		return usage();
	tool_catch_signals();

	const char *k = o.psk ? o.psk : "";
	struct gdoi_ike2_psk psk = { .key = GDOI_BYTES(k, strlen(k)) };	/* any peer */
	struct gdoi_ike2_config cfg = {
		.suites = o.suites,
		.nsuites = o.nsuites,
		.local_id = { .type = GDOI_IKE2_ID_FQDN, .data = GDOI_BYTES(o.id, strlen(o.id)) },
		.psks = &psk,
		.npsks = o.psk ? 1 : 0,
		.childless = true,
		.nonesp_marker = o.marker,
		.initial_contact = true,
		.fragmentation = true,
		.fragment_size = o.frag_size,
		.cookie_threshold = o.cookie_threshold ? (uint32_t)o.cookie_threshold : UINT32_MAX,
	};
	struct sig_auth sig = { 0 };
	if (o.cert && sig_load(&sig, &o, &cfg)) {
		sig_free(&sig);
		return 1;
	}
	uint16_t bound;
	int fd = tool_udp_lo((uint16_t)o.lport, "ike2-peer", &bound);
	if (fd < 0) {
		sig_free(&sig);
		return 1;
	}
	fprintf(stderr, "ike2-peer: %s on 127.0.0.1, %zu suite(s), id %s\n",
		o.initiator ? "initiator" : "responder", o.nsuites, o.id);
	int rc = o.initiator ? run_initiator(fd, &cfg, &o) : run_responder(fd, &cfg, &o);
	close(fd);
	sig_free(&sig);
	fprintf(stderr, "ike2-peer: done, exit %d\n", rc);
	return rc;
}
