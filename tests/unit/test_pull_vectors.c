/*
 * test_pull_vectors.c - GROUPKEY-PULL against the reference implementation.
 *
 * The member side is given the reference member's Phase 1 keys (derived from
 * its log), its PULL nonce and Message ID; it must then produce the very
 * ciphertext the reference sent as messages 1 and 3 (byte for byte, which
 * proves HASH(1), HASH(3) and the IV chain), accept the reference key
 * server's messages 2 and 4 from wire.pcap (HASH(2), HASH(4), the 6-octet SA
 * KEK trailer, the Protocol-ID 128 SRTP TEK) and install exactly the keys of
 * the reference's plaintext message 4. The key server side accepts the
 * reference member's message 1 (HASH(1)).
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/phase1.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"
#include "gdoi/wire.h"
#include "tests/lib/pcap_util.h"
#include "tests/lib/vector_log.h"
#include "tests/lib/vector_phase1.h"

static const struct gdoi_p1_suite legacy = { GDOI_IKE_ENC_3DES, 0, GDOI_IKE_HASH_SHA1, 2,
					     GDOI_IKE_AUTH_PSK, 60 };
static const struct gdoi_addr ks_addr = { 4, { 127, 0, 0, 2 }, 848 };
static const struct gdoi_addr gm_addr = { 4, { 127, 0, 0, 1 }, 1848 };

struct pull_frames {
	struct udp_capture wire, clear;
	const struct udp_datagram *msg[5];	/* encrypted PULL messages 1..4 */
	const struct udp_datagram *clear_msg[5];	/* the member's plaintext copies */
};

static void find_pull(const struct udp_capture *c, const struct udp_datagram **out)
{
	int k = 1;
	for (size_t i = 0; i < c->n && k <= 4; i++)
		if (c->d[i].len > 28 && c->d[i].data[18] == GDOI_EXCH_PULL)
			out[k++] = &c->d[i];
	assert_int_equal(k, 5);
}

static void load(const char *folder, struct pull_frames *f)
{
	char rel[128], path[512];
	memset(f, 0, sizeof(*f));
	snprintf(rel, sizeof(rel), "%s/wire.pcap", folder);
	assert_int_equal(udp_capture_load(vector_path(path, sizeof(path), rel), &f->wire), 0);
	snprintf(rel, sizeof(rel), "%s/gm-clear.pcap", folder);
	assert_int_equal(udp_capture_load(vector_path(path, sizeof(path), rel), &f->clear), 0);
	find_pull(&f->wire, f->msg);
	find_pull(&f->clear, f->clear_msg);
}

static void unload(struct pull_frames *f)
{
	udp_capture_free(&f->wire);
	udp_capture_free(&f->clear);
}

static struct gdoi_p1_config p1cfg;

static struct gdoi_p1_sa *import_sa(const char *folder, int is_gm, uint8_t *ni, size_t *ni_len,
				    uint32_t *msgid)
{
	static struct phase1 p;
	struct vlog *log = vlog_load(folder, is_gm ? "gm.log" : "ks.log");
	assert_non_null(log);
	memset(&p, 0, sizeof(p));
	read_phase1_keys(log, is_gm, &p);
	uint8_t last[8], mid[4];
	assert_int_equal(need_block(log, "gdoi_get_keystate: final phase 1 IV:", 0, last, 8), 8);
	if (msgid) {
		assert_int_equal(need_block(log, "gdoi_get_keystate: message ID:", 0, mid, 4), 4);
		*msgid = gdoi_get_u32(mid);
	}
	if (ni) {
		/* The PULL nonce: "payload 1 after HASH" of message 1 is the Nonce payload. */
		uint8_t pl[200];
		size_t n = need_block(log, "group_fill_in_hash: payload 1 after HASH:", 0, pl, sizeof(pl));
		assert_true(n > 4);
		*ni_len = n - 4;
		memcpy(ni, pl + 4, n - 4);
	}
	vlog_free(log);
	struct gdoi_p1_sa *sa = NULL;
	assert_int_equal(gdoi_p1_sa_import(&p1cfg, &legacy, is_gm, p.cky_i, p.cky_r, &p.keys, last,
					   is_gm ? &ks_addr : &gm_addr, 0, &sa), 0);
	gdoi_ike_keys_clear(&p.keys);
	return sa;
}

/* The KD of the reference member's plaintext copy of message 4. */
static struct gdoi_msg *clear_msg4(const struct pull_frames *f)
{
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse_decrypted(f->clear_msg[4]->data, f->clear_msg[4]->len, &m,
						  NULL), 0);
	return m;
}

static struct gdoi_policy *member_run(const char *folder, struct pull_frames *f)
{
	uint8_t ni[128];
	size_t ni_len;
	uint32_t msgid;
	load(folder, f);
	struct gdoi_p1_sa *sa = import_sa(folder, 1, ni, &ni_len, &msgid);
	struct gdoi_pull_member_cfg cfg = {
		.group_id = 0xd2040000,	/* 1234 as the little-endian reference writes it */
		.fixed_nonce = ni, .fixed_nonce_len = ni_len, .fixed_msgid = msgid,
	};
	struct gdoi_pull_member *pm = NULL;
	struct gdoi_pull_result res = { 0 };
	assert_int_equal(gdoi_pull_member_start(sa, &cfg, 0, &pm, &res), 0);
	/* Message 1, byte for byte the reference's ciphertext. */
	assert_bytes_equal(res.out, res.out_len, f->msg[1]->data, f->msg[1]->len);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_member_input(pm, f->msg[2]->data, f->msg[2]->len, 0, &res), 0);
	/* Message 3 too: HASH(3) and the IV chain after a received message. */
	assert_non_null(res.out);
	assert_bytes_equal(res.out, res.out_len, f->msg[3]->data, f->msg[3]->len);
	gdoi_pull_result_clear(&res);
	assert_int_equal(gdoi_pull_member_input(pm, f->msg[4]->data, f->msg[4]->len, 0, &res), 0);
	assert_int_equal(res.event, GDOI_PULL_EV_INSTALLED);
	struct gdoi_policy *p = res.policy;
	res.policy = NULL;
	gdoi_pull_result_clear(&res);
	gdoi_pull_member_free(pm);
	gdoi_p1_free(sa);
	return p;
}

/* The TEK of p that a KD TEK packet names; its keys equal the packet's, octet for octet. */
static const struct gdoi_tek *assert_tek_keys(const struct gdoi_policy *p,
					      const struct gdoi_kd_packet *k)
{
	uint32_t spi = 0;
	for (size_t j = 0; j < k->spi.len; j++)
		spi = spi << 8 | k->spi.ptr[j];
	const struct gdoi_tek *t = gdoi_policy_find_tek(p, spi);
	assert_non_null(t);
	const struct gdoi_attr *a = gdoi_attr_find(&k->attrs, GDOI_KD_TEK_ALGORITHM_KEY);
	assert_bytes_equal(t->key, t->key_len, a->value.ptr, a->value.len);
	a = gdoi_attr_find(&k->attrs, GDOI_KD_TEK_INTEGRITY_KEY);
	if (a)
		assert_bytes_equal(t->integrity, t->integrity_len, a->value.ptr, a->value.len);
	else
		assert_int_equal(t->integrity_len, 0);
	return t;
}

/* Every TEK's keys equal the reference's KD, and p holds no other TEK. */
static void assert_keys_match_kd(const struct gdoi_policy *p, const struct gdoi_kd *kd)
{
	size_t teks = 0;
	for (size_t i = 0; i < kd->n; i++)
		if (kd->pkts[i].type == GDOI_KD_TEK) {
			assert_tek_keys(p, &kd->pkts[i]);
			teks++;
		}
	assert_int_equal(teks, p->nteks);
}

static void test_member_installs_reference_pull_keys(void **s)
{
	(void)s;
	struct pull_frames f;
	struct gdoi_policy *p = member_run("gdoid-pull", &f);
	assert_false(p->has_kek);
	assert_int_equal(p->nteks, 1);
	assert_int_equal(p->teks[0].kind, GDOI_TEK_ESP);
	assert_int_equal(p->teks[0].u.ipsec.transform_id, 3);	/* ESP_3DES */
	assert_int_equal(p->teks[0].key_len, 24);
	assert_int_equal(p->teks[0].integrity_len, 20);
	struct gdoi_msg *m = clear_msg4(&f);
	assert_keys_match_kd(p, &gdoi_msg_find(m, GDOI_PL_KD, NULL)->u.kd);
	gdoi_msg_free(m);
	gdoi_pull_policy_free(p);
	unload(&f);
}

static void test_member_installs_reference_kek_and_keys(void **s)
{
	(void)s;
	struct pull_frames f;
	struct gdoi_policy *p = member_run("gdoid-kek", &f);
	assert_true(p->has_kek);
	assert_int_equal(p->kek.trailer_len, 6);	/* the reference's SA KEK form */
	assert_int_equal(p->kek.alg, 3);
	assert_int_equal(p->kek.key_bits, 128);
	assert_true(p->has_seq);
	assert_int_equal(p->seq, 0);
	assert_true(p->has_gap);
	assert_int_equal(p->atd, 60);
	assert_int_equal(p->dtd, 90);
	struct gdoi_msg *m = clear_msg4(&f);
	const struct gdoi_kd *kd = &gdoi_msg_find(m, GDOI_PL_KD, NULL)->u.kd;
	assert_keys_match_kd(p, kd);
	const struct gdoi_attr *ivkey = gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_KEK_ALGORITHM_KEY);
	assert_memory_equal(p->kek.iv, ivkey->value.ptr, 16);
	assert_memory_equal(p->kek.key, ivkey->value.ptr + 16, 16);
	const struct gdoi_attr *pub = gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_SIG_ALGORITHM_KEY);
	assert_bytes_equal(p->kek.rekey_pub, p->kek.rekey_pub_len, pub->value.ptr, pub->value.len);
	assert_memory_equal(p->kek.spi, kd->pkts[0].spi.ptr, 16);
	gdoi_msg_free(m);
	gdoi_pull_policy_free(p);
	unload(&f);
}

static void test_member_installs_reference_srtp_tek(void **s)
{
	(void)s;
	struct pull_frames f;
	struct gdoi_policy *p = member_run("gdoid-srtp", &f);
	assert_int_equal(p->nteks, 1);
	assert_int_equal(p->teks[0].kind, GDOI_TEK_REF_SRTP);
	assert_int_equal(p->teks[0].spi, 0x067e);
	assert_int_equal(p->teks[0].u.srtp.profile, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(p->teks[0].key_len, 30);
	struct gdoi_msg *m = clear_msg4(&f);
	assert_keys_match_kd(p, &gdoi_msg_find(m, GDOI_PL_KD, NULL)->u.kd);
	gdoi_msg_free(m);
	gdoi_pull_policy_free(p);
	unload(&f);
}

/*
 * The three rekeys of gdoid-kek, as the reference key server sent them to
 * 127.0.0.1:1849: each opens (cookies = KEK SPI, static IV, raw-hash RSA
 * signature over the header with the unpadded Length), carries SEQ 1, 2, 3,
 * and installs what the member's log shows; each one replayed is refused and
 * changes nothing.
 */
static void test_member_applies_reference_pushes_refuses_replays(void **s)
{
	(void)s;
	struct pull_frames f;
	struct gdoi_policy *p = member_run("gdoid-kek", &f);
	const struct udp_datagram *push[3];
	size_t n = 0;
	for (size_t i = 0; i < f.wire.n && n < 3; i++)
		if (f.wire.d[i].len > 28 && f.wire.d[i].data[18] == GDOI_EXCH_PUSH)
			push[n++] = &f.wire.d[i];
	assert_int_equal(n, 3);
	struct vlog *log = vlog_load("gdoid-kek", "gm.log");
	for (unsigned k = 0; k < 3; k++) {
		static struct gdoi_push_update u;
		char why[200] = "";
		int rc = gdoi_push_open(p, NULL, push[k]->data, push[k]->len, &u, why, sizeof(why));
		if (rc)
			print_error("push %u: %s\n", k + 1, why);
		assert_int_equal(rc, 0);
		assert_int_equal(u.seq, k + 1);
		/* Our decryption equals the text the reference member logged, and the
		 * keys we read are that text's KD. */
		static uint8_t logged[4096], mine[4096];
		long pl = vlog_block(log, "rekey_crypto_decrypt: after decryption:", k, logged + 28,
				     sizeof(logged) - 28);
		assert_true(pl > 0 && (size_t)pl == push[k]->len - 28);
		assert_int_equal(gdoi_cbc_decrypt(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(p->kek.key, 16),
						  GDOI_BYTES(p->kek.iv, 16), push[k]->data + 28,
						  push[k]->len - 28, mine), 0);
		assert_memory_equal(mine, logged + 28, (size_t)pl);
		memcpy(logged, push[k]->data, 28);
		struct gdoi_msg *lm = NULL;
		assert_int_equal(gdoi_msg_parse_decrypted(logged, push[k]->len, &lm, NULL), 0);
		const struct gdoi_payload *lkd = gdoi_msg_find(lm, GDOI_PL_KD, NULL);
		if (k < 2) {
			assert_true(u.has_sa);
			assert_true(u.fresh.nteks >= 1);
			assert_non_null(lkd);
			assert_keys_match_kd(&u.fresh, &lkd->u.kd);
		} else {
			assert_false(u.has_sa);
			assert_null(lkd);
			assert_int_equal(u.ndeletes, 3);
		}
		gdoi_msg_free(lm);
		struct gdoi_policy before;
		memcpy(&before, p, sizeof(before));
		assert_int_equal(gdoi_push_apply(p, &u), 0);
		assert_int_equal(p->seq, k + 1);
		gdoi_push_update_clear(&u);
		/* Replayed: refused as stale, nothing changes. */
		memcpy(&before, p, sizeof(before));
		assert_int_equal(gdoi_push_open(p, NULL, push[k]->data, push[k]->len, &u, why, sizeof(why)),
				 GDOI_ERR_REPLAY);
		assert_memory_equal(&before, p, sizeof(before));
		gdoi_policy_clear(&before);
	}
	/* After the third (delete-only) rekey, the deleted TEKs are gone. */
	assert_int_equal(p->nteks, 0);
	vlog_free(log);
	gdoi_pull_policy_free(p);
	unload(&f);
}

/* Every TEK key packet of kd is installed in p with exactly its key (30 octets:
 * master key 16 + salt 14, quirk 5). */
static void assert_kd_installed(const struct gdoi_policy *p, const struct gdoi_kd *kd)
{
	for (size_t i = 0; i < kd->n; i++)
		if (kd->pkts[i].type == GDOI_KD_TEK)
			assert_int_equal(assert_tek_keys(p, &kd->pkts[i])->key_len, 30);
}

/*
 * gdoid-kek-rotation: registration (TEK 0xb06f, the first KEK), two TEK
 * pushes, the KEK rotation push (frame 13: SA KEK with the new SPI, its key
 * in a KEK key packet naming the old one), two TEK pushes under the new KEK.
 * Each opens, verifies (raw-hash RSA) and applies with SEQ 1..5; our
 * plaintext equals both logs'; every installed key equals the logged KDs';
 * the rotation push replayed is refused as a replay.
 */
static void test_member_follows_reference_kek_rotation(void **s)
{
	(void)s;
	const char *dir = "gdoid-kek-rotation";
	struct pull_frames f;
	struct gdoi_policy *p = member_run(dir, &f);
	struct vlog *gm = vlog_load(dir, "gm.log"), *ks = vlog_load(dir, "ks.log");
	assert_non_null(gm);
	assert_non_null(ks);
	/* The registration: one SRTP TEK, the KEK the key server logged
	 * ("gdoi_set_kek_policy: KEK SPI: ...", "KEK IV:", "KEK Key:"). */
	uint8_t spi[16], iv[16], key[16];
	assert_int_equal(vlog_inline(ks, "SPI:", 0, spi, 16), 16);
	assert_int_equal(vlog_inline(ks, "IV:", 0, iv, 16), 16);
	assert_int_equal(vlog_inline(ks, "Key:", 0, key, 16), 16);
	assert_memory_equal(p->kek.spi, spi, 16);
	assert_memory_equal(p->kek.iv, iv, 16);
	assert_memory_equal(p->kek.key, key, 16);
	assert_int_equal(p->nteks, 1);
	assert_int_equal(p->teks[0].kind, GDOI_TEK_REF_SRTP);
	assert_int_equal(p->teks[0].spi, 0xb06f);
	struct gdoi_msg *m4 = clear_msg4(&f);
	assert_kd_installed(p, &gdoi_msg_find(m4, GDOI_PL_KD, NULL)->u.kd);
	gdoi_msg_free(m4);

	const struct udp_datagram *push[5], *rotation = NULL;
	size_t n = 0;
	for (size_t i = 0; i < f.wire.n && n < 5; i++)
		if (f.wire.d[i].len > 28 && f.wire.d[i].data[18] == GDOI_EXCH_PUSH)
			push[n++] = &f.wire.d[i];
	assert_int_equal(n, 5);
	for (unsigned k = 0; k < 5; k++) {
		static struct gdoi_push_update u;
		static uint8_t logged[4096], sent[4096], mine[4096];
		char why[200] = "";
		const struct udp_datagram *d = push[k];
		uint8_t old_spi[16];
		memcpy(old_spi, p->kek.spi, 16);
		/* Under the KEK we hold (the header names it), our plaintext is both logs'. */
		assert_memory_equal(d->data, p->kek.spi, 16);
		long pl = vlog_block(gm, "rekey_crypto_decrypt: after decryption:", k, logged + 28,
				     sizeof(logged) - 28);
		assert_true(pl > 0 && (size_t)pl == d->len - 28);
		assert_int_equal(vlog_block(ks, "rekey_crypto_encrypt: before encryption:", k, sent,
					    sizeof(sent)), pl);
		assert_memory_equal(sent, logged + 28, (size_t)pl);
		assert_int_equal(gdoi_cbc_decrypt(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(p->kek.key, 16),
						  GDOI_BYTES(p->kek.iv, 16), d->data + 28, d->len - 28,
						  mine), 0);
		assert_memory_equal(mine, logged + 28, (size_t)pl);
		memcpy(logged, d->data, 28);
		struct gdoi_msg *lm = NULL;
		assert_int_equal(gdoi_msg_parse_decrypted(logged, d->len, &lm, NULL), 0);
		const struct gdoi_sa_gdoi *lsa = &gdoi_msg_find(lm, GDOI_PL_SA, NULL)->u.sa;
		const struct gdoi_kd *lkd = &gdoi_msg_find(lm, GDOI_PL_KD, NULL)->u.kd;

		int rc = gdoi_push_open(p, NULL, d->data, d->len, &u, why, sizeof(why));
		if (rc)
			print_error("push %u: %s\n", k + 1, why);
		assert_int_equal(rc, 0);
		assert_int_equal(u.seq, k + 1);
		assert_true(u.has_sa && u.fresh.has_kek);
		/* The KEK after this push: the SA KEK's SPI (the one the member logged), the
		 * IV and key of the KD's one KEK key packet. */
		uint8_t got_spi[16];
		assert_int_equal(vlog_inline(gm, "SPI:", k + 1,	/* "Got New KEK SPI:" */
					     got_spi, 16), 16);
		assert_memory_equal(lsa->sak->spi, got_spi, 16);
		assert_memory_equal(u.fresh.kek.spi, got_spi, 16);
		assert_int_equal(lkd->pkts[0].type, GDOI_KD_KEK);
		assert_bytes_equal(lkd->pkts[0].spi.ptr, lkd->pkts[0].spi.len, old_spi, 16);
		const struct gdoi_attr *ivkey = gdoi_attr_find(&lkd->pkts[0].attrs,
							       GDOI_KD_KEK_ALGORITHM_KEY);
		assert_int_equal(ivkey->value.len, 32);
		assert_memory_equal(u.fresh.kek.iv, ivkey->value.ptr, 16);
		assert_memory_equal(u.fresh.kek.key, ivkey->value.ptr + 16, 16);
		bool rotates = memcmp(got_spi, old_spi, 16) != 0;
		assert_int_equal(rotates, k == 2);	/* frame 13 only */
		assert_int_equal(u.fresh.nteks, k == 2 ? 0 : k == 0 ? 2 : 1);
		assert_int_equal(gdoi_push_apply(p, &u), 0);
		gdoi_push_update_clear(&u);
		assert_int_equal(p->seq, k + 1);	/* 3 -> 4 across the rotation */
		assert_memory_equal(p->kek.spi, got_spi, 16);
		assert_memory_equal(p->kek.iv, ivkey->value.ptr, 16);
		assert_memory_equal(p->kek.key, ivkey->value.ptr + 16, 16);
		assert_kd_installed(p, lkd);
		gdoi_msg_free(lm);
		if (rotates)
			rotation = d;
		/* Replayed (the rotation push too, under the KEK it replaced): refused, no change. */
		static struct gdoi_policy before;
		memcpy(&before, p, sizeof(before));
		const struct udp_datagram *r = rotation ? rotation : d;
		assert_int_equal(gdoi_push_open(p, NULL, r->data, r->len, &u, why, sizeof(why)),
				 GDOI_ERR_REPLAY);
		assert_memory_equal(&before, p, sizeof(before));
		gdoi_policy_clear(&before);
	}
	/* No push carried a Delete: all five TEKs are held. */
	assert_int_equal(p->nteks, 5);
	vlog_free(gm);
	vlog_free(ks);
	gdoi_pull_policy_free(p);
	unload(&f);
}

/* The key server accepts the reference member's message 1 (HASH(1), group id). */
static struct gdoi_policy ks_policy;
static uint32_t looked_up_group;

static int lookup(void *ctx, uint32_t group, const struct gdoi_id *member, const struct gdoi_addr *a,
		  const struct gdoi_policy **p)
{
	(void)ctx; (void)member; (void)a;
	looked_up_group = group;
	*p = &ks_policy;
	return 0;
}

static void test_ks_accepts_reference_msg1(void **s)
{
	(void)s;
	static const char *folders[] = { "gdoid-pull", "gdoid-kek", "gdoid-srtp" };
	for (size_t i = 0; i < 3; i++) {
		struct pull_frames f;
		load(folders[i], &f);
		struct gdoi_p1_sa *sa = import_sa(folders[i], 0, NULL, NULL, NULL);
		memset(&ks_policy, 0, sizeof(ks_policy));
		ks_policy.nteks = 1;
		ks_policy.teks[0] = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 7,
			.u.srtp = { .profile = GDOI_SRTP_AES128_CM_SHA1_80, .lifetime = 60 } };
		assert_int_equal(gdoi_policy_generate_keys(&ks_policy), 0);
		struct gdoi_pull_ks_cfg cfg = { .lookup = lookup };
		struct gdoi_pull_ks *ks = gdoi_pull_ks_new(&cfg);
		struct gdoi_pull_result res = { 0 };
		looked_up_group = 0;
		assert_int_equal(gdoi_pull_ks_input(ks, sa, f.msg[1]->data, f.msg[1]->len, 0, &res), 0);
		assert_int_equal(looked_up_group, 0xd2040000);
		assert_non_null(res.out);	/* our message 2 */
		assert_int_equal(gdoi_pull_ks_exchanges(ks), 1);
		gdoi_pull_result_clear(&res);
		/* The reference's message 3 follows the reference's message 2, not ours: its
		 * IV chain and HASH(3) differ, so it is dropped and nothing changes. */
		assert_true(gdoi_pull_ks_input(ks, sa, f.msg[3]->data, f.msg[3]->len, 0, &res) < 0);
		assert_null(res.out);
		assert_int_not_equal(res.event, GDOI_PULL_EV_REGISTERED);
		assert_int_equal(gdoi_pull_ks_exchanges(ks), 1);
		gdoi_pull_result_clear(&res);
		gdoi_pull_ks_free(ks);
		gdoi_p1_free(sa);
		gdoi_policy_clear(&ks_policy);
		unload(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_installs_reference_pull_keys),
		cmocka_unit_test(test_member_installs_reference_kek_and_keys),
		cmocka_unit_test(test_member_installs_reference_srtp_tek),
		cmocka_unit_test(test_member_applies_reference_pushes_refuses_replays),
		cmocka_unit_test(test_member_follows_reference_kek_rotation),
		cmocka_unit_test(test_ks_accepts_reference_msg1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
