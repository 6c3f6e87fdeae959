/*
 * test_compat_gdoid.c - what gdoi-ks sends with compat = gdoid, compared
 * structurally with what the GDOI reference implementation's key server sent
 * (tests/vectors/gdoid-srtp, gdoid-kek, gdoid-kek-rotation): the same payload
 * sequence, the same SA KEK / SA TEK / GAP attribute sets and lengths, the
 * same KD key-packet layout (Protocol-ID 128 TEK: 2-octet SPI, 30-octet key;
 * KEK rotation: the key packet names the outgoing KEK), and the quirk-3
 * signature (PKCS#1 v1.5 over the raw hash). Key values and SPIs differ by
 * nature; the shape must not.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"
#include "gdoi/wire.h"
#include "tests/lib/certgen.h"
#include "tests/lib/pcap_util.h"
#include "tests/lib/vector_log.h"

static struct gdoi_key *rsa_key(void)
{
	EVP_PKEY *k = certgen_key("rsa2048");
	size_t n;
	uint8_t *der = certgen_key_der(k, &n);
	struct gdoi_key *key = NULL;
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &key), 0);
	free(der);
	EVP_PKEY_free(k);
	return key;
}

/* What gdoi-ks builds for a compat group (keyserver/groups.c). */
static void compat_tek(struct gdoi_policy *p, uint32_t spi)
{
	struct gdoi_tek *t = &p->teks[p->nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_REF_SRTP, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 1024, .addr_len = 4, .addr = { 239, 1, 1, 1 } },
		.u.srtp = { .profile = GDOI_SRTP_AES128_CM_SHA1_80, .lifetime = 60 } };
}

static void compat_kek(struct gdoi_policy *p, const struct gdoi_key *sign)
{
	uint8_t *spki;
	size_t n;
	p->has_kek = true;
	p->kek = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 128,
		.lifetime = 12, .sig_alg = GDOI_SIG_ALG_RSA, .sig_hash = GDOI_SIG_HASH_SHA1,
		.sig_key_bits = 2048, .trailer_len = 6,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .port = 848, .addr_len = 4, .addr = { 127, 0, 0, 2 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 1849, .addr_len = 4 } };
	assert_int_equal(gdoi_random(p->kek.spi, 16), 0);
	assert_int_equal(gdoi_key_to_spki(sign, &spki, &n), 0);
	memcpy(p->kek.rekey_pub, spki, n);
	p->kek.rekey_pub_len = n;
	free(spki);
}

static void compat_policy(struct gdoi_policy *p, const struct gdoi_key *sign, uint32_t spi)
{
	memset(p, 0, sizeof(*p));
	if (sign)
		compat_kek(p, sign);
	p->has_gap = true;
	p->atd = 60;
	p->dtd = 90;
	compat_tek(p, spi);
	assert_int_equal(gdoi_policy_generate_keys(p), 0);
}

/* Built messages, kept while the parsed ones borrow from them. */
static uint8_t *bufs[8];
static size_t nbufs;

static void free_bufs(void)
{
	while (nbufs)
		free(bufs[--nbufs]);
}

/* Payloads -> a plaintext message -> parsed again (what a peer reads). */
static struct gdoi_msg *roundtrip(const struct gdoi_payload *pl, size_t n)
{
	struct gdoi_writer w;
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL };
	size_t offs[8];
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, pl, n, offs), 0);
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse_decrypted(w.buf, w.len, &m, NULL), 0);
	assert_true(nbufs < 8);
	bufs[nbufs++] = gdoi_writer_take(&w, &n);
	return m;
}

static void assert_attrs_alike(const struct gdoi_attr_list *mine, const struct gdoi_attr_list *ref)
{
	assert_int_equal(mine->n, ref->n);
	for (size_t i = 0; i < ref->n; i++) {
		bool found = false;
		for (size_t j = 0; j < mine->n; j++)
			if (mine->v[j].type == ref->v[i].type) {
				found = true;
				assert_int_equal(mine->v[j].tv, ref->v[i].tv);
				if (!ref->v[i].tv)
					assert_int_equal(mine->v[j].value.len, ref->v[i].value.len);
			}
		if (!found)
			print_error("attribute %u missing\n", ref->v[i].type);
		assert_true(found);
	}
}

static void assert_id_alike(const struct gdoi_id *mine, const struct gdoi_id *ref)
{
	assert_int_equal(mine->type, ref->type);
	assert_int_equal(mine->data.len, ref->data.len);
}

static void assert_ref_sat_alike(const struct gdoi_sat *mine, const struct gdoi_sat *ref)
{
	assert_int_equal(mine->protocol_id, GDOI_TEK_PROTO_REF_SRTP);
	assert_int_equal(ref->protocol_id, GDOI_TEK_PROTO_REF_SRTP);
	const struct gdoi_tek_ref_srtp *a = &mine->u.ref_srtp, *b = &ref->u.ref_srtp;
	assert_int_equal(a->dst.type, b->dst.type);
	assert_int_equal(a->dst.data.len, b->dst.data.len);
	assert_int_equal(a->spi.len, 2);
	assert_int_equal(a->spi.len, b->spi.len);
	assert_int_equal(a->replay_window, b->replay_window);
	assert_int_equal(a->kd_rate, b->kd_rate);
	assert_int_equal(a->srtp_lifetime, b->srtp_lifetime);
	assert_int_equal(a->srtcp_lifetime, b->srtcp_lifetime);
	assert_attrs_alike(&a->attrs, &b->attrs);
	for (size_t i = 0; i < a->attrs.n; i++)
		assert_int_equal(a->attrs.v[i].basic, 0);	/* quirk 5: zero-filled */
}

static void assert_sak_alike(const struct gdoi_sak *mine, const struct gdoi_sak *ref)
{
	assert_int_equal(mine->protocol, ref->protocol);
	assert_int_equal(mine->trailer_len, 6);
	assert_int_equal(ref->trailer_len, 6);
	assert_id_alike(&mine->src, &ref->src);
	assert_id_alike(&mine->dst, &ref->dst);
	assert_int_not_equal(mine->dst.port, 0);	/* the reference: "No rekey port" */
	/* KEK_KEY_LIFETIME: the reference sends TV but reads 4 octets (decode_32), so
	 * we send the 4-octet variable form; every other attribute alike */
	assert_int_equal(mine->attrs.n, ref->attrs.n);
	for (size_t i = 0; i < ref->attrs.n; i++) {
		const struct gdoi_attr *r = &ref->attrs.v[i];
		const struct gdoi_attr *a = gdoi_attr_find(&mine->attrs, r->type);
		assert_non_null(a);
		if (r->type == GDOI_KEK_KEY_LIFETIME)
			assert_true(!a->tv && a->value.len == 4);
		else
			assert_int_equal(a->tv, r->tv);
	}
}

static void assert_gap_alike(const struct gdoi_attr_list *mine, const struct gdoi_attr_list *ref)
{
	assert_non_null(mine);
	assert_non_null(ref);
	assert_attrs_alike(mine, ref);
}

/* A KD packet's layout: type, SPI size, attribute types and lengths. */
static void assert_pkt_alike(const struct gdoi_kd_packet *mine, const struct gdoi_kd_packet *ref)
{
	assert_int_equal(mine->type, ref->type);
	assert_int_equal(mine->spi.len, ref->spi.len);
	assert_attrs_alike(&mine->attrs, &ref->attrs);
}

static void load_clear(const char *folder, struct udp_capture *c)
{
	char rel[128], path[512];
	snprintf(rel, sizeof(rel), "%s/ks-clear.pcap", folder);
	assert_int_equal(udp_capture_load(vector_path(path, sizeof(path), rel), c), 0);
}

/* The reference key server's PULL message (2: SA, 4: KD) in its plaintext copy. */
static struct gdoi_msg *ref_pull(const struct udp_capture *c, int which)
{
	int k = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->d[i].len > 28 && c->d[i].data[18] == GDOI_EXCH_PULL && ++k == which) {
			struct gdoi_msg *m = NULL;
			assert_int_equal(gdoi_msg_parse_decrypted(c->d[i].data, c->d[i].len, &m, NULL), 0);
			return m;
		}
	fail();
	return NULL;
}

static void assert_types(const struct gdoi_msg *m, const uint8_t *want, size_t n)
{
	assert_int_equal(m->npl, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m->pl[i].type, want[i]);
}

/* Message 2 and 4 of a compat SRTP group without KEK, against gdoid-srtp. */
static void test_compat_pull_builds_srtp_messages_like_reference(void **s)
{
	(void)s;
	struct udp_capture c;
	load_clear("gdoid-srtp", &c);
	struct gdoi_msg *r2 = ref_pull(&c, 2), *r4 = ref_pull(&c, 4);
	static const uint8_t seq2[] = { GDOI_PL_HASH, GDOI_PL_NONCE, GDOI_PL_SA };
	static const uint8_t seq4[] = { GDOI_PL_HASH, GDOI_PL_KD };
	assert_types(r2, seq2, 3);
	assert_types(r4, seq4, 2);
	static struct gdoi_policy p;
	compat_policy(&p, NULL, 0x4d2);
	struct gdoi_arena *a = gdoi_arena_new();
	uint8_t h[20] = { 0 };
	struct gdoi_payload pl[3] = { { .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(h, 20) },
				      { .type = GDOI_PL_NONCE, .u.data = GDOI_BYTES(h, 16) } };
	assert_int_equal(gdoi_policy_to_sa(&p, true, a, &pl[2]), 0);
	struct gdoi_msg *m2 = roundtrip(pl, 3);
	assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &pl[1]), 0);
	struct gdoi_msg *m4 = roundtrip(pl, 2);
	const struct gdoi_sa_gdoi *sa = &m2->pl[2].u.sa, *rsa = &r2->pl[2].u.sa;
	assert_int_equal(sa->doi, rsa->doi);
	assert_null(sa->sak);
	assert_null(rsa->sak);
	assert_gap_alike(sa->gap, rsa->gap);
	assert_int_equal(sa->nsats, rsa->nsats);
	assert_ref_sat_alike(&sa->sats[0], &rsa->sats[0]);
	const struct gdoi_kd *kd = &m4->pl[1].u.kd, *rkd = &r4->pl[1].u.kd;
	assert_int_equal(kd->n, rkd->n);
	assert_pkt_alike(&kd->pkts[0], &rkd->pkts[0]);
	assert_int_equal(gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_TEK_ALGORITHM_KEY)->value.len, 30);
	gdoi_msg_free(m2);
	gdoi_msg_free(m4);
	gdoi_msg_free(r2);
	gdoi_msg_free(r4);
	gdoi_arena_free(a);
	free_bufs();
	gdoi_policy_clear(&p);
	udp_capture_free(&c);
}

/* The SA KEK and the KEK key packet of a compat PULL, against gdoid-kek. */
static void test_compat_pull_builds_sa_kek_and_kek_packet_like_reference(void **s)
{
	(void)s;
	struct udp_capture c;
	load_clear("gdoid-kek", &c);
	struct gdoi_msg *r2 = ref_pull(&c, 2), *r4 = ref_pull(&c, 4);
	static const uint8_t seq4[] = { GDOI_PL_HASH, GDOI_PL_SEQ, GDOI_PL_KD };
	assert_types(r4, seq4, 3);
	struct gdoi_key *sign = rsa_key();
	static struct gdoi_policy p;
	compat_policy(&p, sign, 0x4d2);
	p.kek.lifetime = 25;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[3] = { { .type = GDOI_PL_HASH, .u.data = GDOI_BYTES(p.kek.key, 20) } };
	assert_int_equal(gdoi_policy_to_sa(&p, true, a, &pl[1]), 0);
	struct gdoi_msg *m2 = roundtrip(pl, 2);
	assert_sak_alike(m2->pl[1].u.sa.sak, gdoi_msg_find(r2, GDOI_PL_SA, NULL)->u.sa.sak);
	pl[1] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = 0 };
	assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &pl[2]), 0);
	struct gdoi_msg *m4 = roundtrip(pl, 3);
	assert_types(m4, seq4, 3);
	const struct gdoi_kd *kd = &m4->pl[2].u.kd, *rkd = &r4->pl[2].u.kd;
	assert_int_equal(kd->pkts[0].type, GDOI_KD_KEK);
	assert_pkt_alike(&kd->pkts[0], &rkd->pkts[0]);
	gdoi_msg_free(m2);
	gdoi_msg_free(m4);
	gdoi_msg_free(r2);
	gdoi_msg_free(r4);
	gdoi_arena_free(a);
	free_bufs();
	gdoi_policy_clear(&p);
	gdoi_key_free(sign);
	udp_capture_free(&c);
}

/* Our own parser reads the compat TEK back: SPI, profile and every key octet. */
static void test_compat_tek_survives_own_parser_round_trip(void **s)
{
	(void)s;
	static struct gdoi_policy p, back;
	compat_policy(&p, NULL, 0xb06f);
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[2];
	assert_int_equal(gdoi_policy_to_sa(&p, true, a, &pl[0]), 0);
	assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &pl[1]), 0);
	struct gdoi_msg *m = roundtrip(pl, 2);
	char why[160] = "";
	int rc = gdoi_policy_from_sa(&back, &m->pl[0].u.sa, why, sizeof(why));
	if (!rc)
		rc = gdoi_policy_apply_kd(&back, &m->pl[1].u.kd, why, sizeof(why));
	if (rc)
		print_error("%s\n", why);
	assert_int_equal(rc, 0);
	assert_int_equal(back.nteks, 1);
	assert_int_equal(back.teks[0].kind, GDOI_TEK_REF_SRTP);
	assert_int_equal(back.teks[0].spi, 0xb06f);
	assert_int_equal(back.teks[0].u.srtp.profile, GDOI_SRTP_AES128_CM_SHA1_80);
	assert_bytes_equal(back.teks[0].key, back.teks[0].key_len, p.teks[0].key, 30);
	/* a 4-octet SPI does not fit the reference's 2-octet field */
	p.teks[0].spi = 0x10000;
	assert_int_not_equal(gdoi_policy_to_sa(&p, true, a, &pl[0]), 0);
	gdoi_msg_free(m);
	gdoi_arena_free(a);
	free_bufs();
	gdoi_policy_clear(&p);
	gdoi_policy_clear(&back);
}

/* The reference member's decryption of the index-th push it received (gm.log). */
static struct gdoi_msg *ref_push(const char *folder, unsigned index, uint8_t *buf, size_t cap)
{
	struct vlog *log = vlog_load(folder, "gm.log");
	assert_non_null(log);
	long n = vlog_block(log, "rekey_crypto_decrypt: after decryption:", index, buf + 28, cap - 28);
	assert_true(n > 0);
	vlog_free(log);
	memset(buf, 0, 28);
	buf[16] = GDOI_PL_SEQ;
	buf[17] = GDOI_ISAKMP_VERSION;
	buf[18] = GDOI_EXCH_PUSH;
	gdoi_put_u32(buf + 24, (uint32_t)(n + 28));
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse_decrypted(buf, (size_t)n + 28, &m, NULL), 0);
	return m;
}

/* Decrypts one of our pushes with the KEK it travels under. */
static struct gdoi_msg *open_ours(const struct gdoi_kek_policy *k, const uint8_t *msg, size_t len,
				  uint8_t *plain)
{
	memcpy(plain, msg, 28);
	assert_int_equal(gdoi_cbc_decrypt(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(k->key, 16),
					  GDOI_BYTES(k->iv, 16), msg + 28, len - 28, plain + 28), 0);
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse_decrypted(plain, len, &m, NULL), 0);
	return m;
}

/* Signed the reference's way (quirk 3): verifies as raw-hash PKCS#1, not as EMSA with DigestInfo. */
static void assert_raw_rsa_signature(const struct gdoi_key *sign, const struct gdoi_kek_policy *k,
				     const uint8_t *plain, const struct gdoi_msg *m)
{
	const struct gdoi_payload *sig = &m->pl[m->npl - 1];
	assert_int_equal(sig->type, GDOI_PL_SIG);
	assert_int_equal(sig->u.data.len, 256);
	uint8_t hdr[28];
	memcpy(hdr, plain, 28);
	gdoi_put_u32(hdr + 24, (uint32_t)(sig->offset + sig->raw.len));
	gdoi_bytes parts[] = { GDOI_BYTES(hdr, 28), GDOI_BYTES(plain + 28, sig->offset - 28) };
	enum gdoi_md md = gdoi_md_from_sig_hash(k->sig_hash);
	assert_int_equal(gdoi_rekey_verify(sign, k->sig_alg, md, parts, 2, sig->u.data, 0), GDOI_ERR_AUTH);
	assert_int_equal(gdoi_rekey_verify(sign, k->sig_alg, md, parts, 2, sig->u.data,
					   GDOI_REKEY_ACCEPT_RAW_RSA), 0);
}

/*
 * A TEK push and a KEK rotation push in the reference's form, against frames 11
 * and 13 of gdoid-kek-rotation (as its member decrypted them).
 */
static void test_compat_pushes_build_like_reference(void **s)
{
	(void)s;
	static uint8_t rbuf[4096], plain[4096];
	struct gdoi_key *sign = rsa_key();
	static struct gdoi_policy cur, next;
	compat_policy(&cur, sign, 0x1111);
	cur.kek.lifetime = 12;

	/* TEK push: SEQ, SA (SA KEK, GAP, SA TEK), KD (KEK packet, TEK packet), SIG */
	struct gdoi_msg *ref = ref_push("gdoid-kek-rotation", 1, rbuf, sizeof(rbuf));
	static const uint8_t seq[] = { GDOI_PL_SEQ, GDOI_PL_SA, GDOI_PL_KD, GDOI_PL_SIG };
	assert_types(ref, seq, 4);
	struct gdoi_push_params pp = { .kek = &cur.kek, .sign_key = sign, .seq = 2, .update = &cur,
				       .with_kek = true, .ref_form = true };
	uint8_t *msg = NULL;
	size_t len;
	assert_int_equal(gdoi_push_build(&pp, &msg, &len), 0);
	struct gdoi_msg *m = open_ours(&cur.kek, msg, len, plain);
	assert_types(m, seq, 4);
	const struct gdoi_sa_gdoi *sa = &m->pl[1].u.sa, *rsa = &ref->pl[1].u.sa;
	assert_sak_alike(sa->sak, rsa->sak);
	assert_gap_alike(sa->gap, rsa->gap);
	assert_int_equal(sa->nsats, rsa->nsats);
	assert_ref_sat_alike(&sa->sats[0], &rsa->sats[0]);
	const struct gdoi_kd *kd = &m->pl[2].u.kd, *rkd = &ref->pl[2].u.kd;
	assert_int_equal(kd->n, rkd->n);
	for (size_t i = 0; i < kd->n; i++)
		assert_pkt_alike(&kd->pkts[i], &rkd->pkts[i]);
	assert_raw_rsa_signature(sign, &cur.kek, plain, m);
	gdoi_msg_free(m);
	gdoi_msg_free(ref);
	free(msg);

	/* KEK rotation: SA KEK with the new SPI and the GAP, no SA TEK; one KEK key
	 * packet naming the outgoing KEK's SPI (the one in the header) */
	ref = ref_push("gdoid-kek-rotation", 2, rbuf, sizeof(rbuf));
	assert_types(ref, seq, 4);
	memset(&next, 0, sizeof(next));
	compat_kek(&next, sign);
	next.kek.lifetime = 12;
	next.has_gap = true;
	next.atd = 60;
	next.dtd = 90;
	assert_int_equal(gdoi_policy_generate_keys(&next), 0);
	pp = (struct gdoi_push_params){ .kek = &cur.kek, .sign_key = sign, .seq = 3, .update = &next,
					.with_kek = true, .ref_form = true };
	assert_int_equal(gdoi_push_build(&pp, &msg, &len), 0);
	m = open_ours(&cur.kek, msg, len, plain);
	assert_types(m, seq, 4);
	sa = &m->pl[1].u.sa;
	rsa = &ref->pl[1].u.sa;
	assert_sak_alike(sa->sak, rsa->sak);
	assert_memory_equal(sa->sak->spi, next.kek.spi, 16);
	assert_gap_alike(sa->gap, rsa->gap);
	assert_int_equal(sa->nsats, 0);
	assert_int_equal(rsa->nsats, 0);
	kd = &m->pl[2].u.kd;
	rkd = &ref->pl[2].u.kd;
	assert_int_equal(kd->n, 1);
	assert_int_equal(rkd->n, 1);
	assert_pkt_alike(&kd->pkts[0], &rkd->pkts[0]);
	assert_memory_equal(kd->pkts[0].spi.ptr, cur.kek.spi, 16);	/* the outgoing KEK */
	/* as the reference's: its first KEK (README, frame 13), not the new one */
	static const uint8_t ref_old_spi[16] = { 0x56, 0x31, 0x7a, 0xe0, 0x7d, 0xee, 0x55, 0x41,
						 0xae, 0xb1, 0x73, 0xf7, 0x2d, 0xac, 0x29, 0x77 };
	assert_memory_equal(rkd->pkts[0].spi.ptr, ref_old_spi, 16);
	const struct gdoi_attr *ivkey = gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_KEK_ALGORITHM_KEY);
	assert_memory_equal(ivkey->value.ptr, next.kek.iv, 16);
	assert_memory_equal(ivkey->value.ptr + 16, next.kek.key, 16);
	assert_raw_rsa_signature(sign, &cur.kek, plain, m);
	gdoi_msg_free(m);
	gdoi_msg_free(ref);
	free(msg);

	/* The default form stays RFC 6407: DigestInfo signature, key packet names the new KEK. */
	pp.ref_form = false;
	assert_int_equal(gdoi_push_build(&pp, &msg, &len), 0);
	m = open_ours(&cur.kek, msg, len, plain);
	assert_memory_equal(m->pl[2].u.kd.pkts[0].spi.ptr, next.kek.spi, 16);
	const struct gdoi_payload *sig = &m->pl[m->npl - 1];
	uint8_t hdr[28];
	memcpy(hdr, plain, 28);
	gdoi_put_u32(hdr + 24, (uint32_t)(sig->offset + sig->raw.len));
	gdoi_bytes parts[] = { GDOI_BYTES(hdr, 28), GDOI_BYTES(plain + 28, sig->offset - 28) };
	assert_int_equal(gdoi_rekey_verify(sign, 1, GDOI_MD_SHA1, parts, 2, sig->u.data, 0), 0);
	gdoi_msg_free(m);
	free(msg);
	gdoi_policy_clear(&cur);
	gdoi_policy_clear(&next);
	gdoi_key_free(sign);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_pull_builds_srtp_messages_like_reference),
		cmocka_unit_test(test_compat_pull_builds_sa_kek_and_kek_packet_like_reference),
		cmocka_unit_test(test_compat_tek_survives_own_parser_round_trip),
		cmocka_unit_test(test_compat_pushes_build_like_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
