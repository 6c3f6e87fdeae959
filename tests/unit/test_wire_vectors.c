/*
 * test_wire_vectors.c - the codec against an independent implementation:
 * every plaintext message the GDOI reference implementation exchanged
 * (tests/vectors/gdoid-* /{gm,ks}-clear.pcap) parses and rebuilds
 * byte-identical, and the bytes quoted in gdoi-wire.md §9.1 parse to the
 * payloads it describes.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/wire.h"
#include "tests/lib/pcap_util.h"

/*
 * The reference writes its plaintext copies with the E flag cleared. Copies of
 * messages it received and decrypted keep the CBC padding and the padded
 * Length; our builder emits the unpadded form, so those two things (the
 * Length field and the zero padding) are the only bytes allowed to differ.
 * Its copies of GROUPKEY-PUSH messages are the ciphertext (only the flag is
 * cleared), so they are not plaintext and are counted, not parsed.
 */
static void roundtrip_capture(const char *rel, size_t expect_frames, size_t expect_push)
{
	char path[512];
	struct udp_capture cap;
	size_t pushes = 0;
	assert_int_equal(udp_capture_load(vector_path(path, sizeof(path), rel), &cap), 0);
	assert_int_equal(cap.n, expect_frames);
	for (size_t i = 0; i < cap.n; i++) {
		struct gdoi_msg *m = NULL;
		struct gdoi_parse_error err;
		if (cap.d[i].len > 18 && cap.d[i].data[18] == GDOI_EXCH_PUSH) {
			pushes++;
			continue;
		}
		int rc = gdoi_msg_parse_decrypted(cap.d[i].data, cap.d[i].len, &m, &err);
		if (rc) {
			char msg[256];
			gdoi_parse_error_format(&err, msg, sizeof(msg));
			print_error("%s frame %zu: %s\n", rel, i + 1, msg);
		}
		assert_int_equal(rc, 0);
		assert_true(m->npl > 0);
		struct gdoi_writer w;
		gdoi_writer_init(&w);
		assert_int_equal(gdoi_msg_build(&w, &m->hdr, m->pl, m->npl, NULL), 0);
		uint8_t *orig = cap.d[i].data;
		for (size_t k = m->chain_end; k < cap.d[i].len; k++)
			assert_int_equal(orig[k], 0);	/* padding is zeros */
		assert_true(cap.d[i].len - m->chain_end < 8);	/* less than a 3DES block */
		gdoi_put_u32(orig + 24, (uint32_t)m->chain_end);
		/* Every other byte: the rebuilt message equals the reference's. */
		assert_bytes_equal(w.buf, w.len, orig, m->chain_end);
		gdoi_writer_free(&w);
		gdoi_msg_free(m);
	}
	assert_int_equal(pushes, expect_push);
	udp_capture_free(&cap);
}

/* Each clear capture holds MM1..MM6 and the four PULL messages. */
static void test_wire_round_trips_reference_pull_member_capture(void **s) { (void)s; roundtrip_capture("gdoid-pull/gm-clear.pcap", 10, 0); }
static void test_wire_round_trips_reference_pull_key_server_capture(void **s) { (void)s; roundtrip_capture("gdoid-pull/ks-clear.pcap", 10, 0); }
static void test_wire_round_trips_reference_kek_member_capture(void **s) { (void)s; roundtrip_capture("gdoid-kek/gm-clear.pcap", 10, 0); }
static void test_wire_round_trips_reference_kek_key_server_capture(void **s) { (void)s; roundtrip_capture("gdoid-kek/ks-clear.pcap", 13, 3); }
static void test_wire_round_trips_reference_srtp_member_capture(void **s) { (void)s; roundtrip_capture("gdoid-srtp/gm-clear.pcap", 10, 0); }
static void test_wire_round_trips_reference_srtp_key_server_capture(void **s) { (void)s; roundtrip_capture("gdoid-srtp/ks-clear.pcap", 10, 0); }

static struct gdoi_msg *load_frame(const char *rel, size_t index, struct udp_capture *cap)
{
	char path[512];
	assert_int_equal(udp_capture_load(vector_path(path, sizeof(path), rel), cap), 0);
	assert_true(index < cap->n);
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse(cap->d[index].data, cap->d[index].len, &m, NULL), 0);
	return m;
}

/* The reference's SA KEK has 6 trailer octets; its KD carries KEK, rekey key and TEK. */
static void test_wire_reads_reference_sa_kek_trailer_and_kd(void **s)
{
	(void)s;
	struct udp_capture cap;
	struct gdoi_msg *m = load_frame("gdoid-kek/ks-clear.pcap", 7, &cap);
	assert_int_equal(m->hdr.exchange, GDOI_EXCH_PULL);
	assert_int_equal(m->npl, 3);
	assert_int_equal(m->pl[2].type, GDOI_PL_SA);
	const struct gdoi_sa_gdoi *sa = &m->pl[2].u.sa;
	assert_int_equal(sa->doi, GDOI_DOI_GDOI);
	assert_non_null(sa->sak);
	assert_int_equal(sa->sak->trailer_len, 6);
	assert_int_equal(sa->sak->protocol, 17);
	assert_int_equal(sa->sak->dst.port, 1849);
	static const uint8_t spi[16] = { 0xab, 0xe9, 0x48, 0xb4, 0x0d, 0x20, 0x27, 0x74,
					 0xc5, 0xda, 0x2d, 0xe7, 0x73, 0xbd, 0xe8, 0x8c };
	assert_memory_equal(sa->sak->spi, spi, 16);
	uint32_t v;
	assert_true(gdoi_attr_u32(gdoi_attr_find(&sa->sak->attrs, GDOI_KEK_ALGORITHM), &v));
	assert_int_equal(v, GDOI_KEK_ALG_AES);
	assert_true(gdoi_attr_u32(gdoi_attr_find(&sa->sak->attrs, GDOI_KEK_KEY_LENGTH), &v));
	assert_int_equal(v, 128);
	assert_non_null(sa->gap);
	assert_true(gdoi_attr_u32(gdoi_attr_find(sa->gap, GDOI_GAP_ATD), &v));
	assert_int_equal(v, 60);
	assert_true(gdoi_attr_u32(gdoi_attr_find(sa->gap, GDOI_GAP_DTD), &v));
	assert_int_equal(v, 90);
	assert_int_equal(sa->nsats, 1);
	assert_int_equal(sa->sats[0].protocol_id, GDOI_TEK_PROTO_ESP);
	assert_int_equal(sa->sats[0].u.ipsec.spi, 0x52cdd06e);
	assert_int_equal(sa->sats[0].u.ipsec.transform_id, 3);
	gdoi_msg_free(m);
	udp_capture_free(&cap);

	m = load_frame("gdoid-kek/ks-clear.pcap", 9, &cap);
	assert_int_equal(m->npl, 3);
	assert_int_equal(m->pl[1].type, GDOI_PL_SEQ);
	assert_int_equal(m->pl[1].u.seq, 0);
	const struct gdoi_kd *kd = &m->pl[2].u.kd;
	assert_int_equal(kd->n, 2);
	assert_int_equal(kd->pkts[0].type, GDOI_KD_KEK);
	assert_memory_equal(kd->pkts[0].spi.ptr, spi, 16);
	const struct gdoi_attr *key = gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_KEK_ALGORITHM_KEY);
	assert_non_null(key);
	assert_int_equal(key->value.len, 32);	/* 16-octet IV | 16-octet AES key */
	const struct gdoi_attr *pub = gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_SIG_ALGORITHM_KEY);
	assert_non_null(pub);
	assert_int_equal(pub->value.len, 294);	/* DER SubjectPublicKeyInfo, RSA-2048 */
	assert_int_equal(pub->value.ptr[0], 0x30);
	assert_int_equal(kd->pkts[1].type, GDOI_KD_TEK);
	assert_int_equal(gdoi_get_u32(kd->pkts[1].spi.ptr), 0x52cdd06e);
	assert_int_equal(gdoi_attr_find(&kd->pkts[1].attrs, GDOI_KD_TEK_ALGORITHM_KEY)->value.len, 24);
	assert_int_equal(gdoi_attr_find(&kd->pkts[1].attrs, GDOI_KD_TEK_INTEGRITY_KEY)->value.len, 20);
	gdoi_msg_free(m);
	udp_capture_free(&cap);
}

/* The reference's Protocol-ID 128 SRTP TEK and its 30-octet key packet. */
static void test_wire_reads_reference_protocol_128_srtp_tek(void **s)
{
	(void)s;
	struct udp_capture cap;
	struct gdoi_msg *m = load_frame("gdoid-srtp/ks-clear.pcap", 7, &cap);
	const struct gdoi_sa_gdoi *sa = &m->pl[2].u.sa;
	assert_null(sa->sak);
	assert_non_null(sa->gap);
	assert_int_equal(sa->nsats, 1);
	assert_int_equal(sa->sats[0].protocol_id, GDOI_TEK_PROTO_REF_SRTP);
	const struct gdoi_tek_ref_srtp *t = &sa->sats[0].u.ref_srtp;
	assert_int_equal(t->src.type, GDOI_ID_IPV4_ADDR);
	assert_int_equal(t->spi.len, 2);
	assert_int_equal(gdoi_get_u16(t->spi.ptr), 0x067e);
	assert_int_equal(t->replay_window, 0x10);
	assert_int_equal(t->kd_rate, 1);
	assert_int_equal(t->attrs.n, 3);
	gdoi_msg_free(m);
	udp_capture_free(&cap);

	m = load_frame("gdoid-srtp/ks-clear.pcap", 9, &cap);
	const struct gdoi_kd *kd = &m->pl[1].u.kd;
	assert_int_equal(kd->n, 1);
	assert_int_equal(kd->pkts[0].type, GDOI_KD_TEK);
	assert_int_equal(kd->pkts[0].spi.len, 2);
	assert_int_equal(gdoi_attr_find(&kd->pkts[0].attrs, GDOI_KD_TEK_ALGORITHM_KEY)->value.len, 30);
	gdoi_msg_free(m);
	udp_capture_free(&cap);
}

/* MM5 of the reference: ID, HASH and the INITIAL-CONTACT notify it always adds. */
static void test_wire_reads_reference_mm5_initial_contact(void **s)
{
	(void)s;
	struct udp_capture cap;
	struct gdoi_msg *m = load_frame("gdoid-pull/gm-clear.pcap", 4, &cap);
	assert_int_equal(m->hdr.exchange, GDOI_EXCH_IDENT_PROT);
	assert_int_equal(m->npl, 3);
	assert_int_equal(m->pl[0].type, GDOI_PL_ID);
	assert_int_equal(m->pl[0].u.id.type, GDOI_ID_IPV4_ADDR);
	assert_int_equal(m->pl[1].type, GDOI_PL_HASH);
	assert_int_equal(m->pl[1].u.data.len, 20);
	assert_int_equal(m->pl[2].type, GDOI_PL_NOTIFY);
	assert_int_equal(m->pl[2].u.notify.type, GDOI_N_INITIAL_CONTACT);
	assert_int_equal(m->pl[2].u.notify.spi.len, 16);
	gdoi_msg_free(m);
	udp_capture_free(&cap);
}

/* gdoi-wire.md §9.1: the big-endian sample's PULL message payload bytes. */
static void test_wire_reads_digest_9_1_msg1_payloads(void **s)
{
	(void)s;
	/* header (E clear, so no padding) + HASH(1) + "msg1 payloads after HASH" */
	size_t len;
	uint8_t *b = hex_alloc(
		"a91b9d5035d8fc4f 272325e695db688b 08102000 483c11c0 00000048"
		"05000018 cbcd9b402b21b9a9837189139d6bb0f73b3272e3"
		"05000014 69d181efe0b9580e4106b883719b382a"
		"0000000c 0b000000 000004d2", &len);
	/* Fix next payload of HASH: the digest's chain is HASH -> NONCE -> ID. */
	b[28] = GDOI_PL_NONCE;
	b[16] = GDOI_PL_HASH;
	b[27] = (uint8_t)len;
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse(b, len, &m, NULL), 0);
	assert_int_equal(m->npl, 3);
	assert_int_equal(m->pl[1].type, GDOI_PL_NONCE);
	assert_int_equal(m->pl[1].u.data.len, 16);
	assert_int_equal(m->pl[2].type, GDOI_PL_ID);
	assert_int_equal(m->pl[2].u.id.type, GDOI_ID_KEY_ID);
	assert_int_equal(gdoi_get_u32(m->pl[2].u.id.data.ptr), 1234);
	gdoi_msg_free(m);
	free(b);
}

static void test_wire_reads_digest_9_1_msg4_kd(void **s)
{
	(void)s;
	/* msg4 KD of §9.1: two ESP TEK key packets, 3DES (24) + HMAC-SHA1 (20) keys. */
	char hex[2048] = "a91b9d5035d8fc4f272325e695db688b 11102000 483c11c0 0000009e"
			 "00000082 00020000";
	static const char *spis[] = { "1122aabb", "3344ccdd" };
	for (int i = 0; i < 2; i++) {
		strcat(hex, "0100003d 04");
		strcat(hex, spis[i]);
		strcat(hex, "0001 0018 000102030405060708090a0b0c0d0e0f1011121314151617"
			    "0002 0014 000102030405060708090a0b0c0d0e0f10111213");
	}
	size_t len;
	uint8_t *b = hex_alloc(hex, &len);
	assert_int_equal(len, 0x9e);
	struct gdoi_msg *m = NULL;
	assert_int_equal(gdoi_msg_parse(b, len, &m, NULL), 0);
	assert_int_equal(m->npl, 1);
	assert_int_equal(m->pl[0].u.kd.n, 2);
	assert_int_equal(gdoi_get_u32(m->pl[0].u.kd.pkts[1].spi.ptr), 0x3344ccdd);
	gdoi_msg_free(m);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_round_trips_reference_pull_member_capture),
		cmocka_unit_test(test_wire_round_trips_reference_pull_key_server_capture),
		cmocka_unit_test(test_wire_round_trips_reference_kek_member_capture),
		cmocka_unit_test(test_wire_round_trips_reference_kek_key_server_capture),
		cmocka_unit_test(test_wire_round_trips_reference_srtp_member_capture),
		cmocka_unit_test(test_wire_round_trips_reference_srtp_key_server_capture),
		cmocka_unit_test(test_wire_reads_reference_sa_kek_trailer_and_kd),
		cmocka_unit_test(test_wire_reads_reference_protocol_128_srtp_tek),
		cmocka_unit_test(test_wire_reads_reference_mm5_initial_contact),
		cmocka_unit_test(test_wire_reads_digest_9_1_msg1_payloads),
		cmocka_unit_test(test_wire_reads_digest_9_1_msg4_kd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
