/* bridge_util.h - building TEKs, snapshots and RTP packets for the libgdoisrtp
 * tests (header-only: only the bridge tests include it). */
#ifndef TESTS_BRIDGE_UTIL_H
#define TESTS_BRIDGE_UTIL_H

#include "tests/lib/testutil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipc/snapshot.h"
#include "srtp-bridge/internal.h"

/* bu_tek: a TEK whose key derives from spi (deterministic), lengths of the profile.
 * bu_snap: a heap snapshot from an ipc_snapshot. bu_rtp: an RTP packet (V=2, PT 96)
 * with n payload octets derived from tag; returns its length. bu_rtcp_sr: an RTCP
 * sender report (28 octets). bu_be32: 4 octets, big-endian. */

static inline uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static inline void bu_tek(struct ipc_tek *t, uint32_t spi, uint16_t profile, bool mki, int64_t not_before,
	    int64_t not_after)
{
	size_t kl, sl;
	uint32_t x = spi * 2654435761u + 1;
	assert_int_equal(gdoisrtp_profile_lengths(profile, &kl, &sl), 0);
	memset(t, 0, sizeof(*t));
	t->spi = spi;
	t->profile_id = profile;
	t->master_key_len = kl;
	t->master_salt_len = sl;
	for (size_t i = 0; i < kl; i++)
		t->master_key[i] = (uint8_t)xs(&x);
	for (size_t i = 0; i < sl; i++)
		t->master_salt[i] = (uint8_t)xs(&x);
	t->mki = mki;
	t->srtcp = true;
	strcpy(t->dst_addr, "239.1.2.3");
	t->dst_port = 5004;
	strcpy(t->src_addr, "0.0.0.0");
	t->not_before = not_before;
	t->not_after = not_after;
	t->replay_window = 128;
	t->ssrc_assigned = true;
}

static inline gdoisrtp_snapshot *bu_snap(const struct ipc_snapshot *s)
{
	gdoisrtp_snapshot *out = NULL;
	assert_int_equal(gdoisrtp_snapshot_from_ipc(s, &out), 0);
	return out;
}

static inline int bu_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, size_t n, uint32_t tag)
{
	buf[0] = 0x80;
	buf[1] = 96;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	uint32_t x = tag | 1;
	for (size_t i = 0; i < n; i++)
		buf[12 + i] = (uint8_t)xs(&x);
	return (int)(12 + n);
}

static inline int bu_rtcp_sr(uint8_t *buf, uint32_t ssrc, uint32_t count)
{
	memset(buf, 0, 28);
	buf[0] = 0x80;
	buf[1] = 200;
	buf[3] = 6;
	buf[4] = (uint8_t)(ssrc >> 24);
	buf[5] = (uint8_t)(ssrc >> 16);
	buf[6] = (uint8_t)(ssrc >> 8);
	buf[7] = (uint8_t)ssrc;
	buf[20] = (uint8_t)(count >> 24);
	buf[23] = (uint8_t)count;
	return 28;
}

static inline uint32_t bu_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
