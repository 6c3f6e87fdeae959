/*
 * demo-receiver - joins the multicast group, unprotects the SRTP stream with
 * keys obtained only from the local gdoi-sidecar (libgdoisrtp), writes the
 * audio payload (raw µ-law and a WAV) and reports what it saw: packets,
 * authentication failures, replays, losses, key changes (SPIs) and the ROC.
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
		"usage: demo-receiver --group NAME [options]\n"
		"  --socket PATH        sidecar socket (default " GDOISRTP_DEFAULT_SOCKET ")\n"
		"  --listen ADDR:PORT   multicast group and port, [IPv6]:PORT too (default: the TEK's\n"
		"                       destination)\n"
		"  --interface IF       interface to join on: IPv4 address, name or index\n"
		"                       (default 127.0.0.1, or lo for IPv6)\n"
		"  --seconds N          stop after N seconds (default 60)\n"
		"  --idle N             stop when no packet came for N seconds after the first (default 3)\n"
		"  --out-raw FILE       write the µ-law payload octets\n"
		"  --out-wav FILE       write the audio as a µ-law WAV\n"
		"  --report FILE        write a JSON report\n"
		"  --assigned-only      drop packets from SSRCs the key server did not assign\n"
		"                       (GDOISRTP_RECV_ASSIGNED_ONLY)\n"
		"  -V, --version        print the version\n");
	return rc;
}

int main(int argc, char **argv)
{
	demo_prog = "demo-receiver";
	const char *sock = NULL, *group = NULL, *listen_at = NULL, *iface = NULL;
	const char *raw_path = NULL, *wav_path = NULL, *report = NULL;
	long seconds = 60, idle = 3;
	struct gdoisrtp_session_config cfg = { 0 };
	static const struct option opts[] = {
		{ "socket", 1, 0, 's' }, { "group", 1, 0, 'g' }, { "listen", 1, 0, 'L' },
		{ "interface", 1, 0, 'I' }, { "seconds", 1, 0, 'T' }, { "idle", 1, 0, 'i' },
		{ "out-raw", 1, 0, 'o' }, { "out-wav", 1, 0, 'w' }, { "report", 1, 0, 'r' },
		{ "assigned-only", 0, 0, 'A' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' },
		{ 0, 0, 0, 0 } };
	for (int c; (c = getopt_long(argc, argv, "hV", opts, NULL)) != -1;) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'L': listen_at = optarg; break;
		case 'I': iface = optarg; break;
		case 'T': seconds = strtol(optarg, NULL, 10); break;
		case 'i': idle = strtol(optarg, NULL, 10); break;
		case 'o': raw_path = optarg; break;
		case 'w': wav_path = optarg; break;
		case 'r': report = optarg; break;
		case 'A': cfg.flags |= GDOISRTP_RECV_ASSIGNED_ONLY; break;
		case 'h': return usage(0);
		case 'V': puts("demo-receiver " GDOI_VERSION); return 0;
		default: return usage(2);
		}
	}
	if (!group || optind != argc || seconds < 1 || idle < 1)
		return usage(2);

	gdoisrtp_client *client = NULL;
	gdoisrtp_snapshot *first = NULL;
	int rc = gdoisrtp_client_open(sock, &client);
	if (rc == 0)
		rc = gdoisrtp_client_wait(client, group, 30000, &first);
	if (rc < 0) {
		const char *msg = "";
		demo_log("no keys for group %s from the sidecar: %s %s", group, gdoisrtp_strerror(rc),
			 client ? gdoisrtp_client_error(client, &msg) : "");
		return 1;
	}
	struct demo_keys r = { .verb = "receiving" };
	if ((rc = gdoisrtp_session_new(GDOISRTP_RECEIVER, &cfg, &r.session)) < 0 ||
	    (rc = gdoisrtp_session_update(r.session, first, gdoisrtp_now_ms())) < 0) {
		demo_log("session: %s", gdoisrtp_strerror(rc));
		return 1;
	}
	struct sockaddr_storage at;
	socklen_t atlen;
	char buf[80];
	if (!listen_at) {
		struct gdoisrtp_tek_info ti;
		gdoisrtp_snapshot_tek(first, 0, &ti);
		demo_join_addr(ti.dst_addr, ti.dst_port, buf, sizeof(buf));
		listen_at = buf;
	}
	gdoisrtp_snapshot_free(first);
	if (!demo_parse_addr(listen_at, &at, &atlen))
		return usage(2);
	if (gdoisrtp_client_subscribe(client, group, demo_on_snapshot, &r) < 0)
		demo_log("subscribe failed; keys will not follow rekeys");

	if (!iface)
		iface = at.ss_family == AF_INET6 ? "lo" : "127.0.0.1";
	int fd = socket(at.ss_family, SOCK_DGRAM, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&at, atlen) || demo_mcast_join(fd, &at, iface)) {
		demo_log("cannot listen on %s: %s", listen_at, strerror(errno));
		return 1;
	}
	demo_log("listening on %s", listen_at);
	size_t cap = 1 << 20, len = 0;
	uint8_t *audio = malloc(cap);
	uint64_t packets = 0, errors = 0, lost = 0, other = 0;
	uint32_t first_ssrc = 0;
	int64_t first_ext = -1, last_ext = -1;
	int64_t start = demo_mono_ms(), last_rx = 0;
	while (audio && demo_mono_ms() - start < seconds * 1000 &&
	       !(last_rx && demo_mono_ms() - last_rx > idle * 1000)) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = gdoisrtp_client_fd(client), .events = POLLIN } };
		if (poll(p, 2, 200) <= 0)
			continue;
		if ((p[1].revents & POLLIN) && gdoisrtp_client_process(client) == GDOISRTP_ERR_CLOSED) {
			demo_log("sidecar closed the connection; continuing with the keys held");
			p[1].fd = -1;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		uint8_t pkt[2048];
		ssize_t n = recv(fd, pkt, sizeof(pkt), 0);
		if (n <= 0)
			continue;
		int plen = (int)n;
		rc = gdoisrtp_session_unprotect(r.session, pkt, &plen, gdoisrtp_now_ms());
		if (rc < 0) {
			errors++;
			if (errors < 10)
				demo_log("unprotect: %s", gdoisrtp_strerror(rc));
			continue;
		}
		if (plen != RTP_HDR_LEN + PCMU_FRAME || (pkt[1] & 0x7f) != PCMU_PT) {
			/* authentic but not the demo's format: counted and reported, not played */
			if (++other <= 10)
				demo_log("not played: %d-octet RTP packet, payload type %u (the demo plays "
					 "PT %u with %u octets of payload)", plen, pkt[1] & 0x7f, PCMU_PT,
					 (unsigned)PCMU_FRAME);
			continue;
		}
		struct gdoisrtp_stats st;
		gdoisrtp_session_stats(r.session, &st);
		demo_count_spi(&r, st.current_spi);
		/* Extended sequence number: follows the wrap (the ROC) from the first packet on. */
		uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
		int64_t ext = last_ext < 0 ? seq : last_ext + (int16_t)(seq - (uint16_t)last_ext);
		if (first_ext < 0) {
			first_ext = ext;
			first_ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
			demo_log("first packet: SSRC %08x, seq %u", first_ssrc, seq);
		}
		if (last_ext >= 0 && ext <= last_ext)
			continue;	/* late or duplicate: libsrtp2's replay check lets no copy through */
		if (last_ext >= 0 && ext > last_ext + 1) {
			/* Missing frames are silence, so that the file stays aligned and the loss shows. */
			lost += (uint64_t)(ext - last_ext - 1);
			for (int64_t k = last_ext + 1; k < ext && len + PCMU_FRAME <= cap; k++, len += PCMU_FRAME)
				memset(audio + len, 0xff, PCMU_FRAME);
		}
		last_ext = ext;
		if (len + PCMU_FRAME > cap) {
			uint8_t *nb = realloc(audio, cap *= 2);
			if (!nb)
				break;
			audio = nb;
		}
		memcpy(audio + len, pkt + RTP_HDR_LEN, PCMU_FRAME);
		len += PCMU_FRAME;
		packets++;
		last_rx = demo_mono_ms();
	}
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(r.session, &st);
	uint32_t roc = last_ext >= 0 ? (uint32_t)(last_ext >> 16) : 0;
	demo_log("received %" PRIu64 " packets, %" PRIu64 " authentication failures, %" PRIu64
		 " replays, %" PRIu64 " lost, %" PRIu64 " not played (other format), %" PRIu64
		 " key changes, ROC %u", packets, st.auth_failures, st.replays, lost, other, r.key_changes, roc);
	if (raw_path) {
		FILE *f = fopen(raw_path, "wb");
		if (f) {
			fwrite(audio, 1, len, f);
			fclose(f);
		}
	}
	if (wav_path && !demo_write_wav(wav_path, audio, len))
		demo_log("cannot write %s", wav_path);
	if (report) {
		FILE *f = fopen(report, "w");
		if (f) {
			fprintf(f, "{\"packets\":%" PRIu64 ",\"auth_failures\":%" PRIu64 ",\"replays\":%" PRIu64
				",\"no_key\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"lost\":%" PRIu64
				",\"first_seq\":%" PRId64 ",\"last_ext_seq\":%" PRId64 ",\"roc\":%u"
				",\"roc_recoveries\":%" PRIu64 ",\"snapshots\":%" PRIu64 ",\"key_changes\":%" PRIu64
				",\"not_sender\":%" PRIu64 ",\"octets\":%zu,\"other_format\":%" PRIu64 ",\"ssrc\":%" PRIu32 ",",
				packets, st.auth_failures, st.replays, st.no_key, errors, lost, first_ext, last_ext, roc,
				st.roc_recoveries, r.snapshots, r.key_changes, st.not_sender, len, other, first_ssrc);
			demo_print_spis(f, &r);
			fprintf(f, "}\n");
			fclose(f);
		}
	}
	gdoisrtp_session_free(r.session);
	gdoisrtp_client_free(client);
	free(audio);
	close(fd);
	return packets ? 0 : 1;
}
