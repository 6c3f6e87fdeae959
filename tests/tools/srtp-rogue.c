/*
 * srtp-rogue - test driver for tests/integration/senders.sh: a key holder
 * that ignores the SSRC rules. It takes the group's active TEK from the
 * sidecar like any member, then protects RTP with libsrtp2 directly under an
 * SSRC of its own choosing (one the key server never assigned), which a
 * libgdoisrtp sender session would refuse to do.
 *
 *   srtp-rogue SOCKET GROUP SSRC DEST_IP PORT COUNT
 *
 * Sends COUNT PCMU packets, one every 20 ms; exits 0 when all were sent.
 */
#include "srtp-bridge/gdoisrtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 160

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: srtp-rogue SOCKET GROUP SSRC DEST_IP PORT COUNT\n");
		return 2;
	}
	uint32_t ssrc = (uint32_t)strtoul(argv[3], NULL, 0);
	int count = atoi(argv[6]);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[5])) };
	if (inet_pton(AF_INET, argv[4], &to.sin_addr) != 1 || count < 1)
		return 2;
	gdoisrtp_client *c = NULL;
	gdoisrtp_snapshot *snap = NULL;
	int rc = gdoisrtp_client_open(argv[1], &c);
	if (!rc)
		rc = gdoisrtp_client_wait(c, argv[2], 10000, &snap);
	int tek = rc ? rc : gdoisrtp_snapshot_active_tek(snap, gdoisrtp_now_ms());
	if (tek < 0) {
		fprintf(stderr, "srtp-rogue: no key: %s\n", gdoisrtp_strerror(tek));
		return 1;
	}
	struct gdoisrtp_tek_info ti;
	gdoisrtp_snapshot_tek(snap, (size_t)tek, &ti);
	srtp_policy_t p;
	gdoisrtp_key_storage *ks = NULL;
	srtp_t ctx = NULL;
	srtp_init();
	rc = gdoisrtp_key_storage_new(&ks);
	if (!rc)
		rc = gdoisrtp_policy_receiver(snap, (size_t)tek, &p, ks);
	if (!rc) {
		p.ssrc.type = ssrc_specific;
		p.ssrc.value = ssrc;
		rc = srtp_create(&ctx, &p) == srtp_err_status_ok ? 0 : -1;
	}
	gdoisrtp_key_storage_free(ks);
	gdoisrtp_snapshot_free(snap);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (rc || fd < 0) {
		fprintf(stderr, "srtp-rogue: cannot key libsrtp2\n");
		return 1;
	}
	uint16_t seq0;
	gdoisrtp_random(&seq0, sizeof(seq0));
	seq0 &= 0x3fff;
	int sent = 0;
	for (int i = 0; i < count; i++) {
		uint8_t pkt[12 + PAYLOAD + SRTP_MAX_TRAILER_LEN];
		uint16_t seq = (uint16_t)(seq0 + i);
		uint32_t ts = 160u * (uint32_t)i, s = htonl(ssrc);
		pkt[0] = 0x80;
		pkt[1] = 0;	/* PCMU */
		pkt[2] = (uint8_t)(seq >> 8);
		pkt[3] = (uint8_t)seq;
		pkt[4] = (uint8_t)(ts >> 24);
		pkt[5] = (uint8_t)(ts >> 16);
		pkt[6] = (uint8_t)(ts >> 8);
		pkt[7] = (uint8_t)ts;
		memcpy(pkt + 8, &s, 4);
		memset(pkt + 12, 0x55, PAYLOAD);
		int len = 12 + PAYLOAD;
		if (srtp_protect_mki(ctx, pkt, &len, ti.mki, 0) != srtp_err_status_ok)
			break;
		if (sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len)
			sent++;
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	srtp_dealloc(ctx);
	close(fd);
	gdoisrtp_client_free(c);
	printf("srtp-rogue: sent %d of %d packets as SSRC %u\n", sent, count, ssrc);
	return sent == count ? 0 : 1;
}
