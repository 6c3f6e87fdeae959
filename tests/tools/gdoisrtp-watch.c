/*
 * gdoisrtp-watch - test driver for tests/integration/bridge_sidecar.sh: a
 * media process in miniature, keyed only through libgdoisrtp from a real
 * gdoi-sidecar. It subscribes to GROUP, polls the client fd, applies every
 * snapshot to a sender and a receiver session, and sends one packet every
 * 20 ms (wall clock) from one to the other.
 *
 *   gdoisrtp-watch SOCKET GROUP SECONDS MIN_SNAPSHOTS
 *
 * Stops after SECONDS, or 2 s after it has seen MIN_SNAPSHOTS snapshots and
 * (when MIN_SNAPSHOTS > 1) the sender has switched keys. Prints one summary
 * line (never a key) and exits 0 when every packet sent was received and
 * authenticated.
 */
#include "srtp-bridge/gdoisrtp.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app {
	gdoisrtp_session *tx, *rx;
	int snapshots;
	uint32_t ssrc;
	int64_t now;
};

static void on_snapshot(const gdoisrtp_snapshot *snap, void *arg)
{
	struct app *a = arg;
	a->snapshots++;
	fprintf(stderr, "gdoisrtp-watch: snapshot group %u version %llu, %zu TEK(s):",
		gdoisrtp_snapshot_group(snap), (unsigned long long)gdoisrtp_snapshot_version(snap),
		gdoisrtp_snapshot_num_teks(snap));
	for (size_t i = 0; i < gdoisrtp_snapshot_num_teks(snap); i++) {
		struct gdoisrtp_tek_info t;
		gdoisrtp_snapshot_tek(snap, i, &t);
		fprintf(stderr, " spi %08x profile %u%s", t.spi, t.profile, t.mki ? " mki" : "");
	}
	fprintf(stderr, "\n");
	int rc;
	if (a->tx && (rc = gdoisrtp_session_update(a->tx, snap, a->now)) != 0)
		fprintf(stderr, "gdoisrtp-watch: sender update: %s\n", gdoisrtp_strerror(rc));
	if ((rc = gdoisrtp_session_update(a->rx, snap, a->now)) != 0)
		fprintf(stderr, "gdoisrtp-watch: receiver update: %s\n", gdoisrtp_strerror(rc));
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: gdoisrtp-watch SOCKET GROUP SECONDS MIN_SNAPSHOTS\n");
		return 2;
	}
	struct app a = { .now = gdoisrtp_now_ms() };
	int64_t end = a.now + atoi(argv[3]) * 1000LL, done_at = 0;
	int min = atoi(argv[4]);
	gdoisrtp_client *c;
	int rc = gdoisrtp_client_open(argv[1], &c);
	if (rc) {
		fprintf(stderr, "gdoisrtp-watch: %s: %s\n", argv[1], gdoisrtp_strerror(rc));
		return 1;
	}
	if (gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &a.rx) != 0)
		return 1;
	/* the sender's own SSRC, leased before the snapshots come so that they list it */
	if ((rc = gdoisrtp_client_lease(c, argv[2], 10000, &a.ssrc)) != 0) {
		const char *msg;
		const char *code = gdoisrtp_client_error(c, &msg);
		fprintf(stderr, "gdoisrtp-watch: lease %s: %s (%s %s)\n", argv[2],
			gdoisrtp_strerror(rc), code, msg);
		return 1;
	}
	struct gdoisrtp_session_config cfg = { .ssrc = a.ssrc };
	if (gdoisrtp_session_new(GDOISRTP_SENDER, &cfg, &a.tx) != 0)
		return 1;
	rc = gdoisrtp_client_subscribe(c, argv[2], on_snapshot, &a);
	if (rc) {
		const char *msg;
		const char *code = gdoisrtp_client_error(c, &msg);
		fprintf(stderr, "gdoisrtp-watch: subscribe %s: %s (%s %s)\n", argv[2],
			gdoisrtp_strerror(rc), code, msg);
		return 1;
	}
	long sent = 0, received = 0, failed = 0, nokey = 0;
	uint16_t seq = 65000;	/* wraps after 11 s: the ROC moves during the test */
	int64_t next = a.now;
	while ((a.now = gdoisrtp_now_ms()) < end) {
		struct pollfd p = { .fd = gdoisrtp_client_fd(c), .events = POLLIN };
		int wait = (int)(next - a.now);
		if (poll(&p, 1, wait > 0 ? wait : 0) > 0) {
			a.now = gdoisrtp_now_ms();
			if ((rc = gdoisrtp_client_process(c)) < 0) {
				fprintf(stderr, "gdoisrtp-watch: %s\n", gdoisrtp_strerror(rc));
				break;
			}
		}
		a.now = gdoisrtp_now_ms();
		if (a.now < next || !a.tx)
			continue;
		next += 20;
		uint8_t pkt[12 + 160 + SRTP_MAX_TRAILER_LEN];
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x80;
		pkt[1] = 96;
		pkt[2] = (uint8_t)(seq >> 8);
		pkt[3] = (uint8_t)seq;
		pkt[8] = (uint8_t)(a.ssrc >> 24);
		pkt[9] = (uint8_t)(a.ssrc >> 16);
		pkt[10] = (uint8_t)(a.ssrc >> 8);
		pkt[11] = (uint8_t)a.ssrc;
		int len = 172;
		rc = gdoisrtp_session_protect(a.tx, pkt, &len, a.now);
		if (rc == GDOISRTP_ERR_NO_KEY) {
			nokey++;
			continue;
		}
		if (rc) {
			fprintf(stderr, "gdoisrtp-watch: protect: %s\n", gdoisrtp_strerror(rc));
			failed++;
			continue;
		}
		seq++;
		sent++;
		rc = gdoisrtp_session_unprotect(a.rx, pkt, &len, a.now);
		if (rc == 0 && len == 172)
			received++;
		else
			failed++;
		struct gdoisrtp_stats st;
		gdoisrtp_session_stats(a.tx, &st);
		if (!done_at && a.snapshots >= min && (min < 2 || st.rekeys >= 1))
			done_at = a.now + 2000;
		if (done_at && a.now >= done_at)
			break;
	}
	struct gdoisrtp_stats ts = { 0 }, rs;
	if (a.tx)
		gdoisrtp_session_stats(a.tx, &ts);
	gdoisrtp_session_stats(a.rx, &rs);
	printf("snapshots=%d sent=%ld received=%ld failed=%ld no_key=%ld sender_rekeys=%llu "
	       "spi=%08x auth_failures=%llu replays=%llu\n",
	       a.snapshots, sent, received, failed, nokey, (unsigned long long)ts.rekeys,
	       ts.current_spi, (unsigned long long)rs.auth_failures,
	       (unsigned long long)rs.replays);
	bool ok = a.snapshots >= min && sent > 0 && received == sent && failed == 0 &&
		  (min < 2 || ts.rekeys >= 1);
	gdoisrtp_session_free(a.tx);
	gdoisrtp_session_free(a.rx);
	gdoisrtp_client_free(c);
	return ok ? 0 : 1;
}
