/*
 * test_bridge_session.c - libgdoisrtp's session helper with real libsrtp2 and
 * a fake clock: a sender and several receivers keyed only through snapshots
 * across several rekeys (new TEK with not_before = receipt + ATD, old TEK
 * kept until receipt + DTD) lose no packet and see no authentication
 * failure; late joiners after a sequence number wrap recover the ROC within
 * the bound; unknown MKIs, replays and garbage are counted, not fatal; RTCP
 * follows the keys; destroy wipes.
 */
#include "tests/unit/bridge_util.h"

#include <stdio.h>
#include <stdlib.h>

#define T0 1800000000LL			/* Unix seconds at the start */
#define SSRC 0x00010000u
#define ATD 2
#define DTD 10
#define REKEY_EVERY 60			/* seconds */
#define PKT_MS 20
#define PAYLOAD 160

static uint32_t spi_of(int gen) { return 0x5e000000u + 17u * (uint32_t)gen + 1; }

static void snap_base(struct ipc_snapshot *s, uint64_t version)
{
	memset(s, 0, sizeof(*s));
	s->group = 4711;
	strcpy(s->name, "audio");
	s->version = version;
	s->atd = ATD;
	s->dtd = DTD;
	s->nssrcs = 1;
	s->ssrcs[0] = SSRC;
	s->nleases = 1;		/* as libgdoisrtp stamps it after gdoisrtp_client_lease */
	s->leases[0] = SSRC;
}

/* The key server's snapshots: gen 0 at T0; rekey g at T0 + 60 g (old TEK kept
 * until + DTD, new from + ATD); after + DTD + 1, the new one alone. */
static gdoisrtp_snapshot *snap_at(uint16_t profile, bool mki, int gen, bool with_old)
{
	struct ipc_snapshot s;
	int64_t r = T0 + (int64_t)REKEY_EVERY * gen;
	snap_base(&s, (uint64_t)(2 * gen + (with_old ? 0 : 1)));
	if (gen > 0 && with_old)
		bu_tek(&s.teks[s.nteks++], spi_of(gen - 1), profile, mki,
		       gen == 1 ? T0 : r - REKEY_EVERY + ATD, r + DTD);
	bu_tek(&s.teks[s.nteks++], spi_of(gen), profile, mki, gen ? r + ATD : T0, r + 3600);
	gdoisrtp_snapshot *out = bu_snap(&s);
	explicit_bzero(&s, sizeof(s));
	return out;
}

struct member {
	gdoisrtp_session *s;
	int64_t delay_ms;		/* when its sidecar passes snapshots on, after the rekey */
	int applied;			/* events applied: 2 per rekey */
	int64_t join_ms;		/* starts receiving then (0: from the start) */
	bool joined;
};

/* Applies the snapshots due at now for one member. */
static void deliver(struct member *m, uint16_t profile, bool mki, int64_t now, int rekeys)
{
	for (;;) {
		int gen = m->applied / 2 + 1;
		bool cleanup = m->applied % 2;
		if (gen > rekeys)
			return;
		int64_t at = (T0 + (int64_t)REKEY_EVERY * gen + (cleanup ? DTD + 1 : 0)) * 1000 +
			     m->delay_ms;
		if (now < at)
			return;
		gdoisrtp_snapshot *sn = snap_at(profile, mki, gen, !cleanup);
		assert_int_equal(gdoisrtp_session_update(m->s, sn, now), 0);
		gdoisrtp_snapshot_free(sn);
		m->applied++;
	}
}

static void run_stream(uint16_t profile, bool mki, int nrecv, int rekeys, uint16_t seq0)
{
	struct gdoisrtp_session_config scfg = { .ssrc = SSRC };
	struct member tx = { 0 }, rx[8] = { { 0 } };
	int nall = nrecv + 1;		/* the last receiver joins late */
	assert_true(nall <= 8);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx.s), 0);
	gdoisrtp_snapshot *first = snap_at(profile, mki, 0, false);
	assert_int_equal(gdoisrtp_session_update(tx.s, first, T0 * 1000), 0);
	for (int i = 0; i < nall; i++) {
		assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &rx[i].s), 0);
		rx[i].delay_ms = i == 1 ? 1500 : i * 7;	/* receiver 1 hears of rekeys 1.5 s late */
	}
	rx[nrecv].join_ms = (T0 + REKEY_EVERY * 2 + 20) * 1000 + 7;

	long total = (long)(rekeys + 1) * REKEY_EVERY * 1000 / PKT_MS;
	long got[8] = { 0 };
	for (long k = 0; k < total; k++) {
		int64_t now = T0 * 1000 + k * PKT_MS;
		deliver(&tx, profile, mki, now, rekeys);
		for (int i = 0; i < nall; i++) {
			if (!rx[i].joined && now >= rx[i].join_ms) {
				/* a new member gets the snapshot current at its registration */
				int gen = (int)((now / 1000 - T0) / REKEY_EVERY);
				bool old = now / 1000 < T0 + (int64_t)REKEY_EVERY * gen + DTD + 1;
				gdoisrtp_snapshot *sn = snap_at(profile, mki, gen, old && gen > 0);
				assert_int_equal(gdoisrtp_session_update(rx[i].s, sn, now), 0);
				gdoisrtp_snapshot_free(sn);
				rx[i].applied = gen * 2 - (old && gen > 0 ? 1 : 0);
				rx[i].joined = true;
			}
			if (rx[i].joined)
				deliver(&rx[i], profile, mki, now, rekeys);
		}

		uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN], plain[PAYLOAD + 12];
		uint16_t seq = (uint16_t)(seq0 + k);
		int n = bu_rtp(pkt, SSRC, seq, (uint32_t)k * 160, PAYLOAD, (uint32_t)k);
		int len = n;
		memcpy(plain, pkt, (size_t)n);
		assert_int_equal(gdoisrtp_session_protect(tx.s, pkt, &len, now), 0);
		/* the sender switches at not_before = rekey + ATD */
		int gen = 0;
		while (gen < rekeys && now >= (T0 + (int64_t)REKEY_EVERY * (gen + 1) + ATD) * 1000)
			gen++;
		if (mki)
			assert_int_equal(bu_be32(pkt + len - gdoisrtp_profile_tag_len(profile, 0) - 4),
					 spi_of(gen));
		for (int i = 0; i < nall; i++) {
			if (!rx[i].joined)
				continue;
			uint8_t copy[sizeof(pkt)];
			int clen = len;
			memcpy(copy, pkt, (size_t)len);
			int rc = gdoisrtp_session_unprotect(rx[i].s, copy, &clen, now);
			if (rc != 0)
				fail_msg("receiver %d packet %ld (seq %u, gen %d): %s", i, k, seq, gen,
					 gdoisrtp_strerror(rc));
			assert_int_equal(clen, n);
			assert_memory_equal(copy, plain, (size_t)n);
			got[i]++;
		}
	}

	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(tx.s, &st);
	assert_int_equal(st.packets, total);
	assert_int_equal(st.rekeys, rekeys);
	assert_int_equal(st.current_spi, spi_of(rekeys));
	for (int i = 0; i < nall; i++) {
		gdoisrtp_session_stats(rx[i].s, &st);
		printf("# profile %u mki %d receiver %d: %llu packets, %llu auth failures, %llu replays, "
		       "%llu no key, ROC seeded %llu, ROC recovered %llu (%llu trials), %u keys\n",
		       profile, mki, i, (unsigned long long)st.packets,
		       (unsigned long long)st.auth_failures, (unsigned long long)st.replays,
		       (unsigned long long)st.no_key, (unsigned long long)st.roc_seeded,
		       (unsigned long long)st.roc_recoveries, (unsigned long long)st.roc_trials,
		       st.num_keys);
		assert_int_equal(st.packets, got[i]);
		assert_int_equal(st.auth_failures, 0);
		assert_int_equal(st.replays, 0);
		assert_int_equal(st.no_key, 0);
		assert_int_equal(st.other_errors, 0);
		assert_int_equal(st.current_spi, spi_of(rekeys));
		if (i < nrecv) {
			assert_int_equal(got[i], total);
			/* the stream wrapped before the first rekey: each new key got its ROC */
			assert_int_equal(st.roc_seeded, rekeys);
			assert_int_equal(st.roc_recoveries, 0);
		} else {
			/* joined after the wrap: found ROC 1 with one trial, then seeded */
			assert_int_equal(st.roc_recoveries, 1);
			assert_int_equal(st.roc_trials, 1);
			assert_int_equal(st.roc_seeded, rekeys - 2);
		}
		gdoisrtp_session_free(rx[i].s);
	}
	gdoisrtp_session_free(tx.s);
	gdoisrtp_snapshot_free(first);
}

/* 6 keys (5 rekeys), 18000 packets of 20 ms, 3 receivers + 1 late joiner. */
static void test_session_follows_rekeys_by_mki_aes_cm(void **state) { (void)state; run_stream(1, true, 3, 5, 65000); }
static void test_session_follows_rekeys_by_mki_gcm(void **state) { (void)state; run_stream(7, true, 3, 5, 65000); }
static void test_session_follows_rekeys_by_mki_sha1_32(void **state) { (void)state; run_stream(2, true, 2, 3, 65100); }
/* Without MKI the receivers try the keys in turn. */
static void test_session_follows_rekeys_without_mki(void **state) { (void)state; run_stream(1, false, 3, 5, 65000); }
static void test_session_follows_rekeys_without_mki_gcm256(void **state) { (void)state; run_stream(8, false, 2, 3, 65000); }

/* Sender and one receiver on one key; returns the sender, fills rx. */
static gdoisrtp_session *pair(uint16_t profile, bool mki, gdoisrtp_session **rx,
			      const struct gdoisrtp_session_config *rcfg)
{
	struct gdoisrtp_session_config scfg = { .ssrc = SSRC };
	gdoisrtp_session *tx;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, rcfg, rx), 0);
	gdoisrtp_snapshot *sn = snap_at(profile, mki, 0, false);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	assert_int_equal(gdoisrtp_session_update(*rx, sn, T0 * 1000), 0);
	gdoisrtp_snapshot_free(sn);
	return tx;
}

static int send_one(gdoisrtp_session *tx, uint16_t seq, uint8_t *pkt, int64_t now)
{
	int len = bu_rtp(pkt, SSRC, seq, seq * 160u, PAYLOAD, seq);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, now), 0);
	return len;
}

/* A stream that wrapped twice (ROC 2); receivers join then. */
static void test_receiver_joining_at_roc_2_recovers_within_roc_max(void **state)
{
	(void)state;
	gdoisrtp_session *rx0, *tx = pair(1, true, &rx0, NULL);
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN];
	int64_t now = T0 * 1000;
	uint16_t seq = 65000;
	long sent = 0;
	for (; sent < 65536 * 2; sent++, seq++)	/* 131072 packets: ROC 0 -> 2 */
		send_one(tx, seq, pkt, now + sent * PKT_MS);
	now += sent * PKT_MS;

	/* bounded: roc_max 1 cannot find ROC 2 */
	struct gdoisrtp_session_config small = { .roc_max = 1, .roc_retry_ms = 1000 };
	gdoisrtp_session *rx1, *rx2;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, &small, &rx1), 0);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &rx2), 0);
	gdoisrtp_snapshot *sn = snap_at(1, true, 0, false);
	assert_int_equal(gdoisrtp_session_update(rx1, sn, now), 0);
	assert_int_equal(gdoisrtp_session_update(rx2, sn, now), 0);
	gdoisrtp_snapshot_free(sn);

	struct gdoisrtp_stats st;
	for (int i = 0; i < 200; i++, seq++, now += PKT_MS) {
		int len = send_one(tx, seq, pkt, now);
		uint8_t c1[sizeof(pkt)], c2[sizeof(pkt)];
		int l1 = len, l2 = len;
		memcpy(c1, pkt, (size_t)len);
		memcpy(c2, pkt, (size_t)len);
		assert_int_equal(gdoisrtp_session_unprotect(rx1, c1, &l1, now), GDOISRTP_ERR_AUTH);
		assert_memory_equal(c1, pkt, (size_t)len);	/* a refused packet is left as it was */
		assert_int_equal(gdoisrtp_session_unprotect(rx2, c2, &l2, now), 0);
		assert_int_equal(l2, len - 14);
	}
	gdoisrtp_session_stats(rx1, &st);
	assert_int_equal(st.auth_failures, 200);
	assert_int_equal(st.roc_recoveries, 0);
	/* one recovery per roc_retry_ms (1 s = 50 packets): 4 tries of one ROC each */
	assert_int_equal(st.roc_trials, 4);
	gdoisrtp_session_stats(rx2, &st);
	printf("# late joiner at ROC 2: %llu packets, %llu auth failures, %llu recoveries, %llu trials\n",
	       (unsigned long long)st.packets, (unsigned long long)st.auth_failures,
	       (unsigned long long)st.roc_recoveries, (unsigned long long)st.roc_trials);
	assert_int_equal(st.packets, 200);
	assert_int_equal(st.auth_failures, 0);
	assert_int_equal(st.roc_recoveries, 1);
	assert_int_equal(st.roc_trials, 2);
	gdoisrtp_session_free(rx0);
	gdoisrtp_session_free(rx1);
	gdoisrtp_session_free(rx2);
	gdoisrtp_session_free(tx);
}

static void test_receiver_refuses_unknown_mki_and_garbage(void **state)
{
	(void)state;
	gdoisrtp_session *rx, *tx = pair(1, true, &rx, NULL);
	/* a sender keyed with a TEK the receiver does not hold */
	struct gdoisrtp_session_config scfg = { .ssrc = SSRC };
	gdoisrtp_session *other;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &other), 0);
	gdoisrtp_snapshot *sn = snap_at(1, true, 9, false);
	assert_int_equal(gdoisrtp_session_update(other, sn, T0 * 1000), 0);
	gdoisrtp_snapshot_free(sn);
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN];
	int64_t now = (T0 + REKEY_EVERY * 9 + ATD) * 1000;
	int len = send_one(other, 1, pkt, now);
	assert_int_equal(gdoisrtp_session_unprotect(rx, pkt, &len, now), GDOISRTP_ERR_NO_KEY);
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(rx, &st);
	assert_int_equal(st.no_key, 1);
	assert_int_equal(st.auth_failures, 0);

	/* garbage: short, not version 2, random, truncated, too big */
	uint8_t junk[64] = { 0x80 };
	int jl = 5;
	assert_int_equal(gdoisrtp_session_unprotect(rx, junk, &jl, now), GDOISRTP_ERR_PARSE);
	junk[0] = 0x40;
	jl = 64;
	assert_int_equal(gdoisrtp_session_unprotect(rx, junk, &jl, now), GDOISRTP_ERR_PARSE);
	uint32_t x = 7;
	for (int round = 0; round < 500; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		junk[0] = 0x80;
		jl = 12 + (int)(x % 52);
		int rc = gdoisrtp_session_unprotect(rx, junk, &jl, now);
		assert_true(rc < 0);
	}
	len = send_one(tx, 2, pkt, now);
	for (int cut = 1; cut < len; cut += 3) {
		uint8_t c[sizeof(pkt)];
		int cl = len - cut;
		memcpy(c, pkt, (size_t)len);
		assert_true(gdoisrtp_session_unprotect(rx, c, &cl, now) < 0);
	}
	static uint8_t big[9000];
	big[0] = 0x80;
	jl = (int)sizeof(big);
	assert_int_equal(gdoisrtp_session_unprotect(rx, big, &jl, now), GDOISRTP_ERR_TOO_BIG);
	/* the genuine packet still decrypts after all that */
	assert_int_equal(gdoisrtp_session_unprotect(rx, pkt, &len, now), 0);
	/* role checks */
	assert_int_equal(gdoisrtp_session_protect(rx, pkt, &len, now), GDOISRTP_ERR_ROLE);
	assert_int_equal(gdoisrtp_session_unprotect(tx, pkt, &len, now), GDOISRTP_ERR_ROLE);
	gdoisrtp_session_free(other);
	gdoisrtp_session_free(rx);
	gdoisrtp_session_free(tx);
}

static void test_receiver_refuses_replay_across_rekey(void **state)
{
	(void)state;
	gdoisrtp_session *rx, *tx = pair(7, true, &rx, NULL);
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN], keep[sizeof(pkt)];
	int64_t now = T0 * 1000;
	int klen = 0;
	for (uint16_t seq = 100; seq < 140; seq++) {
		int len = send_one(tx, seq, pkt, now);
		if (seq == 120) {
			memcpy(keep, pkt, (size_t)len);
			klen = len;
		}
		assert_int_equal(gdoisrtp_session_unprotect(rx, pkt, &len, now), 0);
	}
	int l = klen;
	uint8_t c[sizeof(pkt)];
	memcpy(c, keep, (size_t)klen);
	assert_int_equal(gdoisrtp_session_unprotect(rx, c, &l, now), GDOISRTP_ERR_REPLAY);
	/* a rekey snapshot (old key kept) does not reopen the replay window */
	gdoisrtp_snapshot *sn = snap_at(7, true, 1, true);
	assert_int_equal(gdoisrtp_session_update(rx, sn, now), 0);
	gdoisrtp_snapshot_free(sn);
	l = klen;
	memcpy(c, keep, (size_t)klen);
	assert_int_equal(gdoisrtp_session_unprotect(rx, c, &l, now), GDOISRTP_ERR_REPLAY);
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(rx, &st);
	assert_int_equal(st.replays, 2);
	assert_int_equal(st.packets, 40);
	assert_int_equal(st.num_keys, 2);
	gdoisrtp_session_free(rx);
	gdoisrtp_session_free(tx);
}

static void test_sender_refuses_unassigned_ssrc_and_keys_out_of_time(void **state)
{
	(void)state;
	struct gdoisrtp_session_config scfg = { .ssrc = 0xdead };	/* not assigned */
	gdoisrtp_session *tx;
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN];
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, NULL, &tx), GDOISRTP_ERR_INVAL);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	int len = bu_rtp(pkt, 0xdead, 1, 1, PAYLOAD, 1);
	/* no snapshot yet */
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, T0 * 1000), GDOISRTP_ERR_NO_KEY);
	gdoisrtp_snapshot *sn = snap_at(1, true, 1, true);	/* old from T0, new from T0+62 */
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, (T0 + 61) * 1000), GDOISRTP_ERR_SSRC);
	gdoisrtp_session_free(tx);

	scfg.ssrc = SSRC;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	gdoisrtp_snapshot_free(sn);
	/* before every not_before */
	len = bu_rtp(pkt, SSRC, 1, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, (T0 - 1) * 1000), GDOISRTP_ERR_NO_KEY);
	struct gdoisrtp_stats st;
	int64_t times[] = { (T0 + 61) * 1000 + 999, (T0 + 62) * 1000 };
	uint32_t spis[] = { spi_of(0), spi_of(1) };
	for (int i = 0; i < 2; i++) {
		len = bu_rtp(pkt, SSRC, (uint16_t)(2 + i), 1, PAYLOAD, 1);
		assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, times[i]), 0);
		assert_int_equal(bu_be32(pkt + len - 14), spis[i]);
		gdoisrtp_session_stats(tx, &st);
		assert_int_equal(st.current_spi, spis[i]);
	}
	/* after the last not_after */
	len = bu_rtp(pkt, SSRC, 9, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, (T0 + 60 + 3600) * 1000),
			 GDOISRTP_ERR_NO_KEY);
	gdoisrtp_session_free(tx);
}

/* An assigned SSRC is used only by the session it was leased to (docs/bridge.md,
 * "Keystream uniqueness"): assigned but not leased, or "leased" but not assigned,
 * is refused; once leased, the session keeps it across snapshots that no longer list
 * the lease (a new connection after a sidecar restart) and across rekeys. */
static void test_sender_refuses_ssrc_not_leased_keeps_lease_across_rekeys(void **state)
{
	(void)state;
	struct gdoisrtp_session_config scfg = { .ssrc = SSRC };
	gdoisrtp_session *tx;
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN];
	gdoisrtp_snapshot *sn = snap_at(1, true, 0, false);

	sn->s.nleases = 0;				/* assigned, not leased */
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	int len = bu_rtp(pkt, SSRC, 1, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, T0 * 1000), GDOISRTP_ERR_SSRC);
	gdoisrtp_session_free(tx);

	sn->s.nleases = 1;				/* "leased", not assigned */
	sn->s.leases[0] = 0xdead;
	scfg.ssrc = 0xdead;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	len = bu_rtp(pkt, 0xdead, 1, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, T0 * 1000), GDOISRTP_ERR_SSRC);
	assert_int_equal(gdoisrtp_snapshot_leased(sn, 0xdead), 1);
	assert_int_equal(gdoisrtp_snapshot_leased(sn, SSRC), 0);
	gdoisrtp_session_free(tx);
	gdoisrtp_snapshot_free(sn);

	scfg.ssrc = SSRC;				/* leased: sticky across rekeys */
	sn = snap_at(1, true, 0, false);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &scfg, &tx), 0);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	len = bu_rtp(pkt, SSRC, 1, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, T0 * 1000), 0);
	gdoisrtp_snapshot_free(sn);
	sn = snap_at(1, true, 1, true);
	sn->s.nleases = 0;
	sn->s.nssrcs = 0;
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	len = bu_rtp(pkt, SSRC, 2, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, (T0 + 62) * 1000), 0);
	assert_int_equal(bu_be32(pkt + len - 14), spi_of(1));
	gdoisrtp_session_free(tx);
	gdoisrtp_snapshot_free(sn);
}

/* The key holder "rogue" sends with SSRC 12345, which the key server never assigned:
 * a receiver with GDOISRTP_RECV_ASSIGNED_ONLY drops it before libsrtp2 (its packet is
 * left as it was), one without decodes it, as before. The list comes from the JSON
 * snapshot ("senders"); without one the option drops every sender. */
#define ROGUE 12345u
static void test_receiver_drops_unlisted_senders_when_assigned_only(void **state)
{
	(void)state;
	static const char json_fmt[] =
		"{\"group\":4711,\"name\":\"audio\",\"version\":%d,\"keyserver\":\"ks\",\"seq\":1,"
		"\"updated\":\"2027-01-15T08:00:00Z\",\"atd\":2,\"dtd\":10,\"ssrcs\":[%u]%s,"
		"\"teks\":[%s]}";
	/* the TEK of snap_at(1, true, 0), in JSON as the sidecar sends it */
	gdoisrtp_snapshot *base = snap_at(1, true, 0, false);
	json_t *tj = ipc_snapshot_to_json(&base->s);
	char *tek = json_dumps(json_array_get(json_object_get(tj, "teks"), 0), JSON_COMPACT);
	char buf[4096], senders[64];
	snprintf(senders, sizeof(senders), ",\"senders\":[%u,%u]", 7u, SSRC);
	gdoisrtp_snapshot *listed, *unlisted;
	snprintf(buf, sizeof(buf), json_fmt, 1, SSRC, senders, tek);
	assert_int_equal(gdoisrtp_snapshot_parse(buf, strlen(buf), &listed), 0);
	snprintf(buf, sizeof(buf), json_fmt, 2, SSRC, "", tek);
	assert_int_equal(gdoisrtp_snapshot_parse(buf, strlen(buf), &unlisted), 0);
	assert_int_equal(gdoisrtp_snapshot_num_senders(listed), 2);
	assert_int_equal(gdoisrtp_snapshot_sender(listed, 1), SSRC);
	assert_int_equal(gdoisrtp_snapshot_num_senders(unlisted), -1);
	free(tek);
	json_decref(tj);

	struct gdoisrtp_session_config strict = { .flags = GDOISRTP_RECV_ASSIGNED_ONLY };
	gdoisrtp_session *on, *off, *bad;
	gdoisrtp_session *tx = pair(1, true, &on, &strict);
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &off), 0);
	assert_int_equal(gdoisrtp_session_update(on, listed, T0 * 1000), 0);
	assert_int_equal(gdoisrtp_session_update(off, listed, T0 * 1000), 0);
	/* the flag is a receiver's; unknown flags are refused */
	struct gdoisrtp_session_config sflag = { .ssrc = SSRC, .flags = GDOISRTP_RECV_ASSIGNED_ONLY };
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &sflag, &bad), GDOISRTP_ERR_INVAL);
	strict.flags = 0x80;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, &strict, &bad), GDOISRTP_ERR_INVAL);

	/* the rogue: same key, an SSRC of its own choosing (TEK without SSRC assignment) */
	struct ipc_snapshot rs = base->s;
	rs.ssrcs[0] = rs.leases[0] = ROGUE;
	rs.teks[0].ssrc_assigned = false;
	gdoisrtp_snapshot *rsn = bu_snap(&rs);
	explicit_bzero(&rs, sizeof(rs));
	struct gdoisrtp_session_config rcfg = { .ssrc = ROGUE };
	gdoisrtp_session *rogue;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_SENDER, &rcfg, &rogue), 0);
	assert_int_equal(gdoisrtp_session_update(rogue, rsn, T0 * 1000), 0);

	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN], copy[sizeof(pkt)], plain[sizeof(pkt)];
	int64_t now = T0 * 1000;
	for (uint16_t seq = 1; seq <= 20; seq++) {
		int len = send_one(tx, seq, pkt, now), l = len;
		memcpy(copy, pkt, (size_t)len);
		assert_int_equal(gdoisrtp_session_unprotect(on, pkt, &l, now), 0);
		l = len;
		assert_int_equal(gdoisrtp_session_unprotect(off, copy, &l, now), 0);

		len = bu_rtp(pkt, ROGUE, seq, seq * 160u, PAYLOAD, seq);
		memcpy(plain, pkt, (size_t)len);
		assert_int_equal(gdoisrtp_session_protect(rogue, pkt, &len, now), 0);
		memcpy(copy, pkt, (size_t)len);
		l = len;
		assert_int_equal(gdoisrtp_session_unprotect(on, pkt, &l, now), GDOISRTP_ERR_NOT_SENDER);
		assert_int_equal(l, len);
		assert_memory_equal(pkt, copy, (size_t)len);	/* untouched */
		l = len;
		assert_int_equal(gdoisrtp_session_unprotect(off, copy, &l, now), 0);
		assert_memory_equal(copy + 12, plain + 12, PAYLOAD);	/* decoded without the flag */
	}
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(on, &st);
	assert_int_equal(st.packets, 20);
	assert_int_equal(st.not_sender, 20);
	assert_int_equal(st.auth_failures + st.other_errors + st.no_key, 0);
	gdoisrtp_session_stats(off, &st);
	assert_int_equal(st.packets, 40);
	assert_int_equal(st.not_sender, 0);

	/* a snapshot without a list: the strict receiver drops even the assigned sender */
	assert_int_equal(gdoisrtp_session_update(on, unlisted, now), 0);
	int len = send_one(tx, 21, pkt, now);
	assert_int_equal(gdoisrtp_session_unprotect(on, pkt, &len, now), GDOISRTP_ERR_NOT_SENDER);
	assert_string_equal(gdoisrtp_strerror(GDOISRTP_ERR_NOT_SENDER),
			    "SSRC not among the group's assigned senders");

	gdoisrtp_snapshot_free(base);
	gdoisrtp_snapshot_free(listed);
	gdoisrtp_snapshot_free(unlisted);
	gdoisrtp_snapshot_free(rsn);
	gdoisrtp_session_destroy(rogue);
	gdoisrtp_session_destroy(on);
	gdoisrtp_session_destroy(off);
	gdoisrtp_session_destroy(tx);
}

static void test_rtcp_survives_rekey_with_80_bit_tags(void **state)
{
	(void)state;
	/* _32 profile with MKI: SRTCP tags stay 80 bits (the libsrtp2 2.5 MKI lookup trap) */
	gdoisrtp_session *rx, *tx = pair(2, true, &rx, NULL);
	uint8_t r[64 + SRTP_MAX_TRAILER_LEN], plain[64];
	int64_t times[] = { T0 * 1000, (T0 + 62) * 1000 };
	gdoisrtp_snapshot *sn = snap_at(2, true, 1, true);
	assert_int_equal(gdoisrtp_session_update(tx, sn, T0 * 1000), 0);
	assert_int_equal(gdoisrtp_session_update(rx, sn, T0 * 1000), 0);
	gdoisrtp_snapshot_free(sn);
	for (int i = 0; i < 2; i++) {
		int n = bu_rtcp_sr(r, SSRC, (uint32_t)i), len = n;
		memcpy(plain, r, (size_t)n);
		assert_int_equal(gdoisrtp_session_protect_rtcp(tx, r, &len, times[i]), 0);
		assert_int_equal(len, n + 4 + 4 + 10);	/* E+index, MKI, tag */
		assert_int_equal(bu_be32(r + len - 14), spi_of(i));
		assert_int_equal(gdoisrtp_session_unprotect_rtcp(rx, r, &len, times[i]), 0);
		assert_int_equal(len, n);
		assert_memory_equal(r, plain, (size_t)n);
	}
	assert_int_equal(gdoisrtp_session_protect_rtcp(rx, r, &(int){ 28 }, T0 * 1000), GDOISRTP_ERR_ROLE);
	gdoisrtp_session_free(rx);
	gdoisrtp_session_free(tx);
}

static void test_session_wipe_keys_leaves_no_key(void **state)
{
	(void)state;
	gdoisrtp_session *rx, *tx = pair(8, true, &rx, NULL);
	uint8_t pkt[PAYLOAD + 12 + SRTP_MAX_TRAILER_LEN];
	int len = send_one(tx, 1, pkt, T0 * 1000);
	assert_true(gdoisrtp_session_secret_octets(rx) > 32);
	assert_true(gdoisrtp_session_secret_octets(tx) > 0);
	gdoisrtp_session_wipe_keys(rx);
	gdoisrtp_session_wipe_keys(tx);
	assert_int_equal(gdoisrtp_session_secret_octets(rx), 0);
	assert_int_equal(gdoisrtp_session_secret_octets(tx), 0);
	assert_int_equal(gdoisrtp_session_unprotect(rx, pkt, &len, T0 * 1000), GDOISRTP_ERR_NO_KEY);
	len = bu_rtp(pkt, SSRC, 2, 1, PAYLOAD, 1);
	assert_int_equal(gdoisrtp_session_protect(tx, pkt, &len, T0 * 1000), GDOISRTP_ERR_NO_KEY);
	struct gdoisrtp_stats st;
	gdoisrtp_session_stats(rx, &st);
	assert_int_equal(st.num_keys, 0);
	gdoisrtp_session_free(rx);
	gdoisrtp_session_free(tx);
	gdoisrtp_session_free(NULL);
	gdoisrtp_snapshot_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_follows_rekeys_by_mki_aes_cm),
		cmocka_unit_test(test_session_follows_rekeys_by_mki_gcm),
		cmocka_unit_test(test_session_follows_rekeys_by_mki_sha1_32),
		cmocka_unit_test(test_session_follows_rekeys_without_mki),
		cmocka_unit_test(test_session_follows_rekeys_without_mki_gcm256),
		cmocka_unit_test(test_receiver_joining_at_roc_2_recovers_within_roc_max),
		cmocka_unit_test(test_receiver_refuses_unknown_mki_and_garbage),
		cmocka_unit_test(test_receiver_refuses_replay_across_rekey),
		cmocka_unit_test(test_sender_refuses_unassigned_ssrc_and_keys_out_of_time),
		cmocka_unit_test(test_sender_refuses_ssrc_not_leased_keeps_lease_across_rekeys),
		cmocka_unit_test(test_receiver_drops_unlisted_senders_when_assigned_only),
		cmocka_unit_test(test_rtcp_survives_rekey_with_80_bit_tags),
		cmocka_unit_test(test_session_wipe_keys_leaves_no_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
