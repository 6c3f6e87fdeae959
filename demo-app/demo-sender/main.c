/*
 * demo-sender - sends G.711 µ-law audio as RTP (PT 0, 160-octet frames,
 * 20 ms pacing) to a multicast group, SRTP-protected with the keys and an
 * SSRC the key server assigned and the sidecar leased to this run alone,
 * obtained only from the local gdoi-sidecar through libgdoisrtp. The first
 * sequence number and timestamp come from the CSPRNG. Rekeys are applied as
 * they arrive, without a gap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo-app/common/demo.h"
#include "srtp-bridge/gdoisrtp.h"
#include "version.h"

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: demo-sender --group NAME --input FILE [options]\n"
		"  --socket PATH      sidecar socket (default " GDOISRTP_DEFAULT_SOCKET ")\n"
		"  --dest ADDR:PORT   destination, [IPv6]:PORT too (default: the TEK's destination)\n"
		"  --interface IF     multicast interface: IPv4 address, name or index\n"
		"                     (default 127.0.0.1, or lo for IPv6)\n"
		"  --ttl N            multicast TTL (default 0: this host only)\n"
		"  --seq-start N      first RTP sequence number (default random)\n"
		"  --loops N          play the input N times (default 1)\n"
		"  --sent FILE        write the µ-law payload octets sent\n"
		"  --report FILE      write a JSON report\n"
		"  -V, --version      print the version\n");
	return rc;
}

int main(int argc, char **argv)
{
	demo_prog = "demo-sender";
	const char *sock = NULL, *group = NULL, *input = NULL, *dest = NULL, *iface = NULL;
	const char *sent_path = NULL, *report = NULL;
	long ttl = 0, seq_start = -1, loops = 1;
	static const struct option opts[] = {
		{ "socket", 1, 0, 's' }, { "group", 1, 0, 'g' }, { "input", 1, 0, 'i' },
		{ "dest", 1, 0, 'd' }, { "interface", 1, 0, 'I' }, { "ttl", 1, 0, 't' },
		{ "seq-start", 1, 0, 'q' }, { "loops", 1, 0, 'l' }, { "sent", 1, 0, 'S' },
		{ "report", 1, 0, 'r' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 } };
	for (int c; (c = getopt_long(argc, argv, "hV", opts, NULL)) != -1;) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'i': input = optarg; break;
		case 'd': dest = optarg; break;
		case 'I': iface = optarg; break;
		case 't': ttl = strtol(optarg, NULL, 10); break;
		case 'q': seq_start = strtol(optarg, NULL, 10); break;
		case 'l': loops = strtol(optarg, NULL, 10); break;
		case 'S': sent_path = optarg; break;
		case 'r': report = optarg; break;
		case 'h': return usage(0);
		case 'V': puts("demo-sender " GDOI_VERSION); return 0;
		default: return usage(2);
		}
	}
	if (!group || !input || optind != argc || ttl < 0 || ttl > 255 || loops < 1)
		return usage(2);
	size_t audio_len;
	uint8_t *audio = demo_read_audio(input, &audio_len);
	if (!audio || audio_len < PCMU_FRAME)
		return 1;

	gdoisrtp_client *client = NULL;
	gdoisrtp_snapshot *first = NULL;
	uint32_t leased = 0;
	/* this run's own SSRC: never used before under these keys, never again after */
	int rc = gdoisrtp_client_open(sock, &client);
	if (rc == 0)
		rc = gdoisrtp_client_lease(client, group, 30000, &leased);
	if (rc == 0)
		rc = gdoisrtp_client_wait(client, group, 30000, &first);
	if (rc < 0) {
		const char *msg = "";
		demo_log("no keys or no SSRC for group %s from the sidecar: %s %s", group,
			 gdoisrtp_strerror(rc), client ? gdoisrtp_client_error(client, &msg) : "");
		return 1;
	}
	struct demo_keys s = { .verb = "sending" };
	struct gdoisrtp_session_config cfg = { .ssrc = leased };
	if ((rc = gdoisrtp_session_new(GDOISRTP_SENDER, &cfg, &s.session)) < 0 ||
	    (rc = gdoisrtp_session_update(s.session, first, gdoisrtp_now_ms())) < 0) {
		demo_log("session: %s", gdoisrtp_strerror(rc));
		return 1;
	}
	struct sockaddr_storage to;
	socklen_t tolen;
	char buf[80];
	if (dest) {
		if (!demo_parse_addr(dest, &to, &tolen))
			return usage(2);
		snprintf(buf, sizeof(buf), "%s", dest);
	} else {
		struct gdoisrtp_tek_info ti;
		gdoisrtp_snapshot_tek(first, 0, &ti);
		demo_join_addr(ti.dst_addr, ti.dst_port, buf, sizeof(buf));
		if (!demo_parse_addr(buf, &to, &tolen)) {
			demo_log("the TEK's destination %s is not usable; give --dest", buf);
			return 1;
		}
	}
	gdoisrtp_snapshot_free(first);
	if (gdoisrtp_client_subscribe(client, group, demo_on_snapshot, &s) < 0)
		demo_log("subscribe failed; keys will not follow rekeys");

	if (!iface)	/* the loopback interface, by address or (IPv6) by name */
		iface = to.ss_family == AF_INET6 ? "lo" : "127.0.0.1";
	int fd = socket(to.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || demo_mcast_send_opts(fd, to.ss_family, iface, (int)ttl)) {
		demo_log("socket (interface %s): %s", iface, strerror(errno));
		return 1;
	}
	FILE *sent = sent_path ? fopen(sent_path, "wb") : NULL;
	uint16_t seq;
	uint32_t ts, ssrc = cfg.ssrc;
	if (gdoisrtp_random(&seq, sizeof(seq)) || gdoisrtp_random(&ts, sizeof(ts))) {
		demo_log("no random numbers");
		return 1;
	}
	if (seq_start >= 0)
		seq = (uint16_t)seq_start;
	uint16_t first_seq = seq;
	uint64_t packets = 0, errors = 0;
	size_t frames = audio_len / PCMU_FRAME;
	int64_t next = demo_mono_ms();
	demo_log("sending %zu frames x %ld to %s, SSRC %08x", frames, loops, buf, ssrc);
	for (size_t f = 0; f < frames * (size_t)loops; f++) {
		/* Between frames: apply any rekey the sidecar announces. */
		for (int64_t left; (left = next - demo_mono_ms()) > 0;) {
			struct pollfd p = { .fd = gdoisrtp_client_fd(client), .events = POLLIN };
			if (poll(&p, 1, (int)left) > 0 && gdoisrtp_client_process(client) == GDOISRTP_ERR_CLOSED) {
				demo_log("sidecar closed the connection; continuing with the keys held");
				break;
			}
		}
		next += 20;
		uint8_t pkt[RTP_HDR_LEN + PCMU_FRAME + SRTP_MAX_TRAILER_LEN];
		pkt[0] = 0x80;
		pkt[1] = PCMU_PT | (f == 0 ? 0x80 : 0);	/* marker on the first packet */
		pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
		pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16), pkt[6] = (uint8_t)(ts >> 8), pkt[7] = (uint8_t)ts;
		pkt[8] = (uint8_t)(ssrc >> 24), pkt[9] = (uint8_t)(ssrc >> 16), pkt[10] = (uint8_t)(ssrc >> 8), pkt[11] = (uint8_t)ssrc;
		memcpy(pkt + RTP_HDR_LEN, audio + (f % frames) * PCMU_FRAME, PCMU_FRAME);
		int len = RTP_HDR_LEN + PCMU_FRAME;
		rc = gdoisrtp_session_protect(s.session, pkt, &len, gdoisrtp_now_ms());
		if (rc < 0) {
			errors++;
			demo_log("protect: %s", gdoisrtp_strerror(rc));
		} else if (sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len) {
			struct gdoisrtp_stats st;
			gdoisrtp_session_stats(s.session, &st);
			demo_count_spi(&s, st.current_spi);
			if (sent)
				fwrite(audio + (f % frames) * PCMU_FRAME, 1, PCMU_FRAME, sent);
			packets++;
		} else {
			errors++;
		}
		seq++;
		ts += PCMU_FRAME;
	}
	if (sent)
		fclose(sent);
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(s.session, &st);
	demo_log("sent %" PRIu64 " packets, %" PRIu64 " errors, %zu key(s) used", packets, errors, s.nspis);
	if (report) {
		FILE *r = fopen(report, "w");
		if (r) {
			fprintf(r, "{\"packets\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"ssrc\":%u,\"first_seq\":%u,"
				"\"snapshots\":%" PRIu64 ",\"key_switches\":%" PRIu64 ",",
				packets, errors, ssrc, first_seq, s.snapshots, st.rekeys);
			demo_print_spis(r, &s);
			fprintf(r, "}\n");
			fclose(r);
		}
	}
	gdoisrtp_session_free(s.session);
	gdoisrtp_client_free(client);
	free(audio);
	close(fd);
	return errors ? 1 : 0;
}
