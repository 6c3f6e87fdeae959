/*
 * media.c - the media path: SRTP protect and unprotect through libgdoisrtp
 * against raw libsrtp2 with the same key, in the same run, interleaved
 * (raw, bridge, raw, bridge, ...) so that both see the same machine noise.
 * Profiles AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, payloads of 160
 * and 1200 octets. Output: one JSON object with, per case, the median rate
 * of each side, the spread (min..max) and the ratio bridge / raw.
 *
 *   media [--packets N] [--reps R]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "srtp-bridge/gdoisrtp.h"

#define MAXPKT 1400

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload)
{
	memset(p, 0, 12 + payload);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload; i++)
		p[12 + i] = (uint8_t)i;
}

static const char *snapshot_json(uint16_t profile, const char *key_b64, const char *salt_b64, char *out,
				 size_t len)
{
	snprintf(out, len,
		 "{\"group\":1,\"name\":\"bench\",\"version\":1,\"keyserver\":\"127.0.0.1:848\",\"seq\":0,"
		 "\"updated\":\"2026-01-01T00:00:00Z\",\"atd\":0,\"dtd\":1,\"ssrcs\":[305419896],\"leases\":[305419896],"
		 "\"teks\":[{\"spi\":1,\"spi_hex\":\"00000001\",\"profile\":\"%s\",\"profile_id\":%u,"
		 "\"master_key\":\"%s\",\"master_salt\":\"%s\",\"mki\":null,\"srtcp\":true,"
		 "\"destination\":{\"address\":\"239.1.2.3\",\"port\":5004},"
		 "\"source\":{\"address\":\"0.0.0.0\",\"prefix\":0,\"port\":0},"
		 "\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2099-01-01T00:00:00Z\","
		 "\"replay_window\":128,\"allow_repeat_tx\":false,\"ssrc_assigned\":true}]}",
		 profile == 1 ? "SRTP_AES128_CM_HMAC_SHA1_80" : "SRTP_AEAD_AES_128_GCM", profile, key_b64,
		 salt_b64);
	return out;
}

/* One timed pass: protect N packets, then unprotect them. Rates in packets/s. */
struct pass { double protect, unprotect; };

static struct pass raw_pass(uint16_t profile, const uint8_t *keysalt, size_t payload, size_t n,
			    uint8_t (*buf)[MAXPKT], int *lens)
{
	srtp_policy_t tx, rx;
	srtp_t s_tx = NULL, s_rx = NULL;
	memset(&tx, 0, sizeof(tx));
	srtp_crypto_policy_set_from_profile_for_rtp(&tx.rtp, (srtp_profile_t)profile);
	srtp_crypto_policy_set_from_profile_for_rtcp(&tx.rtcp, (srtp_profile_t)profile);
	tx.key = (unsigned char *)keysalt;
	tx.ssrc.type = ssrc_specific;
	tx.ssrc.value = 0x12345678;
	tx.window_size = 128;
	rx = tx;
	rx.ssrc.type = ssrc_any_inbound;
	int e1 = srtp_create(&s_tx, &tx), e2 = srtp_create(&s_rx, &rx);
	if (e1 || e2) {
		fprintf(stderr, "media: srtp_create %d %d\n", e1, e2);
		abort();
	}
	struct pass p;
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		rtp(buf[i], (uint16_t)i, 0x12345678, payload);
		lens[i] = 12 + (int)payload;
		int e = srtp_protect(s_tx, buf[i], &lens[i]);
		if (e) {
			fprintf(stderr, "media: srtp_protect %d\n", e);
			abort();
		}
	}
	uint64_t t1 = now_ns();
	for (size_t i = 0; i < n; i++) {
		int e = srtp_unprotect(s_rx, buf[i], &lens[i]);
		if (e) {
			fprintf(stderr, "media: srtp_unprotect %d\n", e);
			abort();
		}
	}
	uint64_t t2 = now_ns();
	p.protect = (double)n / ((double)(t1 - t0) / 1e9);
	p.unprotect = (double)n / ((double)(t2 - t1) / 1e9);
	srtp_dealloc(s_tx);
	srtp_dealloc(s_rx);
	return p;
}

static struct pass bridge_pass(const gdoisrtp_snapshot *snap, size_t payload, size_t n,
			       uint8_t (*buf)[MAXPKT], int *lens)
{
	gdoisrtp_session *tx = NULL, *rx = NULL;
	struct gdoisrtp_session_config cfg = { .ssrc = 0x12345678 };
	int64_t now = gdoisrtp_now_ms();
	int e = gdoisrtp_session_new(GDOISRTP_SENDER, &cfg, &tx);
	if (e >= 0)
		e = gdoisrtp_session_update(tx, snap, now);
	if (e >= 0)
		e = gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &rx);
	if (e >= 0)
		e = gdoisrtp_session_update(rx, snap, now);
	if (e < 0) {
		fprintf(stderr, "media: session: %s\n", gdoisrtp_strerror(e));
		abort();
	}
	struct pass p;
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		rtp(buf[i], (uint16_t)i, 0x12345678, payload);
		lens[i] = 12 + (int)payload;
		if ((e = gdoisrtp_session_protect(tx, buf[i], &lens[i], now)) < 0) {
			fprintf(stderr, "media: protect: %s\n", gdoisrtp_strerror(e));
			abort();
		}
	}
	uint64_t t1 = now_ns();
	for (size_t i = 0; i < n; i++)
		if ((e = gdoisrtp_session_unprotect(rx, buf[i], &lens[i], now)) < 0) {
			fprintf(stderr, "media: unprotect: %s\n", gdoisrtp_strerror(e));
			abort();
		}
	uint64_t t2 = now_ns();
	p.protect = (double)n / ((double)(t1 - t0) / 1e9);
	p.unprotect = (double)n / ((double)(t2 - t1) / 1e9);
	gdoisrtp_session_free(tx);
	gdoisrtp_session_free(rx);
	return p;
}

static void summary(const char *name, double *v, size_t r, double *median)
{
	qsort(v, r, sizeof(*v), cmp_d);
	*median = v[r / 2];
	printf("\"%s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f}", name, v[r / 2], v[0], v[r - 1]);
}

int main(int argc, char **argv)
{
	size_t n = 20000, reps = 7;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--packets"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--reps"))
			reps = strtoul(argv[i + 1], NULL, 10);
	}
	if (n < 1 || n > 60000 || reps < 1 || reps > 50)
		return 2;
	srtp_init();
	uint8_t (*buf)[MAXPKT] = malloc(n * MAXPKT);
	int *lens = malloc(n * sizeof(int));
	/* Fixed test keys: 16-octet key and 14/12-octet salt, in base64 too. */
	static const uint8_t key[30] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };
	static const char *key_b64 = "AQIDBAUGBwgJCgsMDQ4PEA==";
	static const char *salt14 = "ERITFBUWFxgZGhscHR4=", *salt12 = "ERITFBUWFxgZGhsc";
	static const uint16_t profiles[] = { 1, 7 };
	static const size_t payloads[] = { 160, 1200 };
	printf("{\"packets\":%zu,\"repetitions\":%zu,\"cases\":[", n, reps);
	for (int pi = 0; pi < 2; pi++) {
		char json[2048];
		gdoisrtp_snapshot *snap = NULL;
		snapshot_json(profiles[pi], key_b64, profiles[pi] == 1 ? salt14 : salt12, json, sizeof(json));
		if (gdoisrtp_snapshot_parse(json, strlen(json), &snap) < 0) {
			fprintf(stderr, "media: snapshot not accepted\n");
			return 2;
		}
		for (int si = 0; si < 2; si++) {
			double rp[50], ru[50], bp[50], bu[50], m_rp, m_ru, m_bp, m_bu;
			for (size_t r = 0; r < reps; r++) {
				struct pass a = raw_pass(profiles[pi], key, payloads[si], n, buf, lens);
				struct pass b = bridge_pass(snap, payloads[si], n, buf, lens);
				rp[r] = a.protect, ru[r] = a.unprotect, bp[r] = b.protect, bu[r] = b.unprotect;
			}
			printf("%s{\"profile\":%u,\"payload\":%zu,", pi || si ? "," : "", profiles[pi], payloads[si]);
			summary("raw_protect_pps", rp, reps, &m_rp);
			putchar(',');
			summary("bridge_protect_pps", bp, reps, &m_bp);
			putchar(',');
			summary("raw_unprotect_pps", ru, reps, &m_ru);
			putchar(',');
			summary("bridge_unprotect_pps", bu, reps, &m_bu);
			printf(",\"ratio_protect\":%.3f,\"ratio_unprotect\":%.3f}", m_bp / m_rp, m_bu / m_ru);
		}
		gdoisrtp_snapshot_free(snap);
	}
	printf("]}\n");
	free(buf);
	free(lens);
	srtp_shutdown();
	return 0;
}
