/*
 * test_bridge_policy.c - libgdoisrtp's policy builders with real libsrtp2:
 * every profile of docs/srtp-tek.md protects and unprotects, key lengths are
 * libsrtp2's, the MKI on the wire is the SPI, SSRC assignment is enforced,
 * and the snapshot JSON path (ipc_snapshot_to_json -> gdoisrtp_snapshot_parse)
 * gives the same keys.
 */
#include "tests/unit/bridge_util.h"

#include <stdlib.h>

static const uint16_t profiles[] = { 1, 2, 5, 6, 7, 8 };
#define NPROF (sizeof(profiles) / sizeof(profiles[0]))
#define SSRC 0x00010000u

static void snap_one(struct ipc_snapshot *s, uint32_t spi, uint16_t profile, bool mki)
{
	memset(s, 0, sizeof(*s));
	s->group = 4711;
	strcpy(s->name, "audio");
	s->version = 1;
	s->nssrcs = 2;
	s->ssrcs[0] = SSRC;
	s->ssrcs[1] = SSRC + 1;
	s->nteks = 1;
	bu_tek(&s->teks[0], spi, profile, mki, 1000, 999999);
}

static void test_profile_lengths_match_libsrtp2(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPROF; i++) {
		size_t k, s;
		assert_int_equal(gdoisrtp_profile_lengths(profiles[i], &k, &s), 0);
		if (profiles[i] == 6) {
			/* libsrtp2 2.5's helpers do not know NULL_HMAC_SHA1_32; RFC 5764 says 128/112 */
			assert_int_equal(srtp_profile_get_master_key_length(6), 0);
			assert_int_equal(k, 16);
			assert_int_equal(s, 14);
			continue;
		}
		assert_int_equal(k, srtp_profile_get_master_key_length(profiles[i]));
		assert_int_equal(s, srtp_profile_get_master_salt_length(profiles[i]));
	}
	assert_int_equal(gdoisrtp_profile_lengths(3, NULL, NULL), GDOISRTP_ERR_PROFILE);
	assert_int_equal(gdoisrtp_profile_lengths(0, NULL, NULL), GDOISRTP_ERR_PROFILE);
}

/* Sender policy -> srtp_create -> protect; receiver policy -> unprotect. */
static void roundtrip(uint16_t profile, bool mki)
{
	struct ipc_snapshot is;
	uint32_t spi = 0xa1b2c300u + profile;
	snap_one(&is, spi, profile, mki);
	gdoisrtp_snapshot *snap = bu_snap(&is);
	srtp_policy_t tx, rx;
	gdoisrtp_key_storage *ktx, *krx;
	assert_int_equal(gdoisrtp_key_storage_new(&ktx), 0);
	assert_int_equal(gdoisrtp_key_storage_new(&krx), 0);
	assert_int_equal(gdoisrtp_policy_sender(snap, 0, SSRC, &tx, ktx), 0);
	assert_int_equal(gdoisrtp_policy_receiver(snap, 0, &rx, krx), 0);
	assert_int_equal(tx.ssrc.type, ssrc_specific);
	assert_int_equal(tx.ssrc.value, SSRC);
	assert_int_equal(rx.ssrc.type, ssrc_any_inbound);
	assert_int_equal(tx.window_size, 128);
	srtp_t stx, srx;
	assert_int_equal(srtp_create(&stx, &tx), srtp_err_status_ok);
	assert_int_equal(srtp_create(&srx, &rx), srtp_err_status_ok);
	gdoisrtp_key_storage_wipe(ktx);
	gdoisrtp_key_storage_wipe(krx);
	for (size_t i = 0; i < sizeof(*ktx); i++)
		assert_int_equal(((uint8_t *)ktx)[i], 0);
	gdoisrtp_key_storage_free(ktx);
	gdoisrtp_key_storage_free(krx);

	int tag = gdoisrtp_profile_tag_len(profile, 0);
	for (uint16_t seq = 1; seq <= 50; seq++) {
		uint8_t pkt[256 + SRTP_MAX_TRAILER_LEN], plain[256];
		int n = bu_rtp(pkt, SSRC, seq, seq * 160u, 160, seq), len = n;
		memcpy(plain, pkt, (size_t)n);
		assert_int_equal(srtp_protect_mki(stx, pkt, &len, mki, 0), srtp_err_status_ok);
		/* tag: 10 for _80, 4 for _32, 16 for GCM (which libsrtp2 puts before the MKI) */
		int expect_tag = profile == 2 || profile == 6 ? 4 : profile >= 7 ? 16 : 10;
		assert_int_equal(len, n + expect_tag + (mki ? 4 : 0));
		if (mki)
			assert_int_equal(bu_be32(pkt + len - tag - 4), spi);
		if (profile == 5 || profile == 6)	/* NULL cipher: payload in clear */
			assert_memory_equal(pkt + 12, plain + 12, 160);
		else
			assert_memory_not_equal(pkt + 12, plain + 12, 160);
		assert_int_equal(srtp_unprotect_mki(srx, pkt, &len, mki), srtp_err_status_ok);
		assert_int_equal(len, n);
		assert_memory_equal(pkt, plain, (size_t)n);
	}
	/* RTCP with the same master key */
	uint8_t r[64 + SRTP_MAX_TRAILER_LEN], rp[64];
	int rn = bu_rtcp_sr(r, SSRC, 7), rl = rn;
	memcpy(rp, r, (size_t)rn);
	assert_int_equal(srtp_protect_rtcp_mki(stx, r, &rl, mki, 0), srtp_err_status_ok);
	if (mki)
		assert_int_equal(bu_be32(r + rl - gdoisrtp_profile_tag_len(profile, 1) - 4), spi);
	if (mki && (profile == 2 || profile == 6)) {
		/* libsrtp2 2.5 looks for the SRTCP MKI with the SRTP tag length (4, not
		 * 10), so it reads 4 octets of the tag as the MKI: a bare libsrtp2
		 * receiver cannot read SRTCP with MKI under the _32 profiles
		 * (docs/bridge.md). Asserted, so that a libsrtp2 that fixes it fails here
		 * and the documentation is revisited. The packet is left as it was. */
		uint8_t sent[sizeof(r)];
		int sl = rl;
		memcpy(sent, r, (size_t)rl);
		assert_int_equal(srtp_unprotect_rtcp_mki(srx, r, &rl, mki), srtp_err_status_bad_mki);
		assert_int_equal(rl, sl);
		assert_memory_equal(r, sent, (size_t)sl);
		/* What the session helper does (srtp-bridge/session.c, attempt): take the
		 * MKI out (it is not authenticated) and unprotect under the only key. */
		int rtcp_tag = gdoisrtp_profile_tag_len(profile, 1);
		assert_int_equal(rtcp_tag, 10);
		memmove(r + rl - rtcp_tag - 4, r + rl - rtcp_tag, (size_t)rtcp_tag);
		rl -= 4;
	}
	assert_int_equal(srtp_unprotect_rtcp_mki(srx, r, &rl, mki && profile != 2 && profile != 6),
			 srtp_err_status_ok);
	assert_int_equal(rl, rn);
	assert_memory_equal(r, rp, (size_t)rn);

	srtp_dealloc(stx);
	srtp_dealloc(srx);
	gdoisrtp_snapshot_free(snap);
}

static void test_policy_protects_every_profile_with_mki(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPROF; i++)
		roundtrip(profiles[i], true);
}

static void test_policy_protects_every_profile_without_mki(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPROF; i++)
		roundtrip(profiles[i], false);
}

static void test_policy_refuses_unassigned_ssrc_bad_index_unknown_profile(void **state)
{
	(void)state;
	struct ipc_snapshot is;
	srtp_policy_t p;
	gdoisrtp_key_storage *ks;
	assert_int_equal(gdoisrtp_key_storage_new(&ks), 0);
	snap_one(&is, 0x11, 1, true);
	gdoisrtp_snapshot *snap = bu_snap(&is);
	/* SSRC not assigned to this member */
	assert_int_equal(gdoisrtp_policy_sender(snap, 0, 0x12345678, &p, ks), GDOISRTP_ERR_SSRC);
	/* TEK index out of range */
	assert_int_equal(gdoisrtp_policy_receiver(snap, 1, &p, ks), GDOISRTP_ERR_INVAL);
	gdoisrtp_snapshot_free(snap);
	/* ssrc_assigned false: any SSRC */
	is.teks[0].ssrc_assigned = false;
	snap = bu_snap(&is);
	assert_int_equal(gdoisrtp_policy_sender(snap, 0, 0x12345678, &p, ks), 0);
	gdoisrtp_key_storage_wipe(ks);
	gdoisrtp_snapshot_free(snap);
	/* unknown profile */
	is.teks[0].profile_id = 3;
	snap = bu_snap(&is);
	assert_int_equal(gdoisrtp_policy_receiver(snap, 0, &p, ks), GDOISRTP_ERR_PROFILE);
	gdoisrtp_snapshot_free(snap);
	gdoisrtp_key_storage_free(ks);
}

/* The JSON form of docs/ipc.md through the public parser gives working keys. */
static void test_snapshot_json_gives_keys_put_in(void **state)
{
	(void)state;
	struct ipc_snapshot is;
	snap_one(&is, 0xa1b2c3d4, 7, true);
	bu_tek(&is.teks[1], 0xa1b2c3d5, 1, false, 2000, 999999);
	is.nteks = 2;
	json_t *j = ipc_snapshot_to_json(&is);
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	gdoisrtp_snapshot *snap = NULL;
	assert_int_equal(gdoisrtp_snapshot_parse(text, strlen(text), &snap), 0);
	explicit_bzero(text, strlen(text));
	free(text);
	assert_int_equal(gdoisrtp_snapshot_group(snap), 4711);
	assert_string_equal(gdoisrtp_snapshot_name(snap), "audio");
	assert_int_equal(gdoisrtp_snapshot_num_teks(snap), 2);
	assert_int_equal(gdoisrtp_snapshot_num_ssrcs(snap), 2);
	assert_int_equal(gdoisrtp_snapshot_ssrc(snap, 1), SSRC + 1);
	struct gdoisrtp_tek_info ti;
	assert_int_equal(gdoisrtp_snapshot_tek(snap, 0, &ti), 0);
	assert_int_equal(ti.spi, 0xa1b2c3d4);
	assert_int_equal(ti.profile, 7);
	assert_true(ti.mki);
	assert_int_equal(ti.not_before, 1000);
	assert_int_equal(gdoisrtp_snapshot_tek(snap, 1, &ti), 0);
	assert_false(ti.mki);
	/* the key is the one we put in */
	assert_memory_equal(snap->s.teks[0].master_key, is.teks[0].master_key, 16);
	assert_memory_equal(snap->s.teks[0].master_salt, is.teks[0].master_salt, 12);
	/* active TEK for a sender: the latest not_before that has come */
	assert_int_equal(gdoisrtp_snapshot_active_tek(snap, 500 * 1000), GDOISRTP_ERR_NO_KEY);
	assert_int_equal(gdoisrtp_snapshot_active_tek(snap, 1500 * 1000), 0);
	assert_int_equal(gdoisrtp_snapshot_active_tek(snap, 2000 * 1000), 1);
	assert_int_equal(gdoisrtp_snapshot_active_tek(snap, 999999 * 1000LL), GDOISRTP_ERR_NO_KEY);
	gdoisrtp_snapshot_free(snap);

	assert_int_equal(gdoisrtp_snapshot_parse("{\"group\":1}", 11, &snap), GDOISRTP_ERR_PARSE);
	assert_int_equal(gdoisrtp_snapshot_parse("not json", 8, &snap), GDOISRTP_ERR_PARSE);
	assert_string_equal(gdoisrtp_strerror(GDOISRTP_ERR_AUTH), "SRTP authentication failed");
	assert_string_equal(gdoisrtp_strerror(-999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_lengths_match_libsrtp2),
		cmocka_unit_test(test_policy_protects_every_profile_with_mki),
		cmocka_unit_test(test_policy_protects_every_profile_without_mki),
		cmocka_unit_test(test_policy_refuses_unassigned_ssrc_bad_index_unknown_profile),
		cmocka_unit_test(test_snapshot_json_gives_keys_put_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
