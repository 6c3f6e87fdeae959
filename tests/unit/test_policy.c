/*
 * test_policy.c - what a member accepts in an SA (gdoi_policy_from_sa) and a
 * KD (gdoi_policy_apply_kd): a valid policy round-trips through the payloads,
 * and each thing RFC 6407 / docs/srtp-tek.md say to refuse is refused.
 */
#include "tests/lib/testutil.h"

#include <string.h>

#include "gdoi/bytes.h"
#include "gdoi/err.h"
#include "gdoi/policy.h"
#include "gdoi/wire.h"

static struct gdoi_policy base;

static int setup(void **s)
{
	(void)s;
	memset(&base, 0, sizeof(base));
	base.has_kek = true;
	base.kek = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 128,
		.lifetime = 600, .sig_alg = GDOI_SIG_ALG_RSA, .sig_hash = GDOI_SIG_HASH_SHA256,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .port = 1849 } };
	base.kek.rekey_pub_len = 3;
	base.has_gap = true;
	base.atd = 2;
	base.dtd = 9;
	base.nteks = 1;
	base.teks[0] = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 99,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .port = 5004 },
		.u.srtp = { .profile = 1, .flags = 3, .lifetime = 60, .replay_window = 256,
			    .ssrc_assigned = true, .allow_repeat_tx = true } };
	return gdoi_policy_generate_keys(&base);
}

static int from(const struct gdoi_payload *sa, struct gdoi_policy *out)
{
	char why[128];
	return gdoi_policy_from_sa(out, &sa->u.sa, why, sizeof(why));
}

static void test_policy_survives_sa_and_kd_round_trip(void **s)
{
	(void)s;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload sa, kd;
	static struct gdoi_policy got;
	char why[128] = "";
	assert_int_equal(gdoi_policy_to_sa(&base, true, a, &sa), 0);
	assert_int_equal(gdoi_policy_to_kd(&base, true, NULL, 0, a, &kd), 0);
	assert_int_equal(from(&sa, &got), 0);
	assert_int_equal(gdoi_policy_apply_kd(&got, &kd.u.kd, why, sizeof(why)), 0);
	assert_memory_equal(&got.teks[0].u.srtp, &base.teks[0].u.srtp, sizeof(got.teks[0].u.srtp));
	assert_memory_equal(got.teks[0].key, base.teks[0].key, 30);
	assert_memory_equal(got.kek.key, base.kek.key, 16);
	assert_int_equal(got.kek.lifetime, 600);
	gdoi_policy_clear(&got);
	gdoi_arena_free(a);
}

/* Each case edits the SA built from the base policy and expects a refusal. */
static void test_policy_refuses_bad_sa(void **s)
{
	(void)s;
	static struct gdoi_policy got;
	for (int k = 0; k < 10; k++) {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gdoi_payload sa;
		assert_int_equal(gdoi_policy_to_sa(&base, true, a, &sa), 0);
		struct gdoi_tek_srtp *t = &sa.u.sa.sats[0].u.srtp;
		struct gdoi_attr *more = gdoi_arena_calloc(a, 8, sizeof(*more));
		memcpy(more, t->attrs.v, t->attrs.n * sizeof(*more));
		int want;
		switch (k) {
		case 0:	/* an unknown SRTP attribute */
			more[t->attrs.n++] = gdoi_attr_basic(9, 1);
			want = GDOI_ERR_UNSUPPORTED;
			break;
		case 1:	/* the same attribute twice */
			more[t->attrs.n++] = gdoi_attr_basic(GDOI_SRTP_REPLAY_WINDOW, 512);
			want = GDOI_ERR_VALUE;
			break;
		case 2:	/* replay window in TLV form */
			more[1] = gdoi_attr_var(GDOI_SRTP_REPLAY_WINDOW, "\x01\x00", 2);
			want = GDOI_ERR_VALUE;
			break;
		case 3:	/* replay window below 64 */
			more[1] = gdoi_attr_basic(GDOI_SRTP_REPLAY_WINDOW, 32);
			want = GDOI_ERR_VALUE;
			break;
		case 4:	/* no SRTP_LIFETIME (the first attribute) */
			memmove(more, more + 1, (t->attrs.n - 1) * sizeof(*more));
			t->attrs.n--;
			want = GDOI_ERR_MISSING;
			break;
		case 5:	/* DTD not after ATD */
			sa.u.sa.gap->v[1].basic = 2;
			want = GDOI_ERR_VALUE;
			break;
		case 6:	/* rekeys over TCP */
			sa.u.sa.sak->protocol = 6;
			want = GDOI_ERR_UNSUPPORTED;
			break;
		case 7:	/* unknown KEK attribute (KE_OAKLEY_GROUP is reserved in RFC 6407) */
			sa.u.sa.sak->attrs.v[0] = gdoi_attr_basic(GDOI_KEK_KE_OAKLEY_GROUP, 2);
			want = GDOI_ERR_UNSUPPORTED;
			break;
		case 8:	/* RSA rekeys hashed with MD5 */
			for (size_t i = 0; i < sa.u.sa.sak->attrs.n; i++)
				if (sa.u.sa.sak->attrs.v[i].type == GDOI_KEK_SIG_HASH_ALGORITHM)
					sa.u.sa.sak->attrs.v[i].basic = GDOI_SIG_HASH_MD5;
			want = GDOI_ERR_UNSUPPORTED;
			break;
		default:	/* an unknown TEK protocol */
			sa.u.sa.sats[0].protocol_id = 200;
			sa.u.sa.sats[0].u.opaque = GDOI_BYTES("x", 1);
			want = GDOI_ERR_UNSUPPORTED;
			break;
		}
		if (k < 5)
			t->attrs.v = more;
		int rc = from(&sa, &got);
		if (rc != want)
			print_error("case %d: got %d, want %d\n", k, rc, want);
		assert_int_equal(rc, want);
		gdoi_policy_clear(&got);
		gdoi_arena_free(a);
	}
}

static void test_policy_refuses_bad_kd(void **s)
{
	(void)s;
	static struct gdoi_policy got;
	char why[128];
	for (int k = 0; k < 4; k++) {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gdoi_payload sa, kd;
		assert_int_equal(gdoi_policy_to_sa(&base, true, a, &sa), 0);
		uint32_t sid = 7;
		assert_int_equal(gdoi_policy_to_kd(&base, true, &sid, 1, a, &kd), 0);
		assert_int_equal(from(&sa, &got), 0);
		struct gdoi_kd *d = &kd.u.kd;
		int want;
		switch (k) {
		case 0:	/* TEK key one octet short */
			d->pkts[1].attrs.v[0].value.len--;
			want = GDOI_ERR_VALUE;
			break;
		case 1:	/* key packet for an SPI the SA did not announce */
			d->pkts[1].spi = GDOI_BYTES("\x00\x00\x00\x64", 4);
			want = GDOI_ERR_NOT_FOUND;
			break;
		case 2:	/* KEK IV|key of the wrong length */
			d->pkts[0].attrs.v[0].value.len = 16;
			want = GDOI_ERR_VALUE;
			break;
		default:	/* no key for the TEK at all */
			d->pkts[1] = d->pkts[2];
			d->n = 2;
			want = GDOI_ERR_MISSING;
			break;
		}
		assert_int_equal(gdoi_policy_apply_kd(&got, d, why, sizeof(why)), want);
		gdoi_policy_clear(&got);
		gdoi_arena_free(a);
	}
}

/* A KD payload built, encoded and parsed again, as a member receives it. */
static struct gdoi_msg *kd_on_wire(const struct gdoi_payload *kd, struct gdoi_writer *w)
{
	struct gdoi_hdr h = { .version = 0x10, .exchange = GDOI_EXCH_PULL };
	struct gdoi_msg *m = NULL;
	struct gdoi_parse_error err;
	gdoi_writer_init(w);
	assert_int_equal(gdoi_msg_build(w, &h, kd, 1, NULL), 0);
	assert_int_equal(gdoi_msg_parse(w->buf, w->len, &m, &err), 0);
	assert_int_equal(m->npl, 1);
	return m;
}

/* The SRTP_SENDERS key packet (docs/srtp-tek.md §10): every octet, and back. */
static void test_senders_packet_round_trips(void **s)
{
	(void)s;
	static struct gdoi_policy p, got;
	memcpy(&p, &base, sizeof(p));
	p.has_senders = true;
	p.nsenders = 2;
	p.senders[0] = 12345;
	p.senders[1] = 0x5eed0001;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload sa, kd;
	struct gdoi_writer w;
	assert_int_equal(gdoi_policy_to_sa(&p, true, a, &sa), 0);
	assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &kd), 0);
	struct gdoi_msg *m = kd_on_wire(&kd, &w);
	static const uint8_t want[] = {
		0xf5, 0x00, 0x00, 0x15,		/* SRTP_SENDERS, length 21 */
		0x00,				/* SPI size 0 */
		0x80, 0x01, 0x00, 0x02,		/* NUMBER_OF_SENDERS (TV) = 2 */
		0x00, 0x02, 0x00, 0x08,		/* SENDER_SSRCS (TLV), 8 octets */
		0x00, 0x00, 0x30, 0x39, 0x5e, 0xed, 0x00, 0x01,
	};
	/* the last key packet ends the message */
	assert_true(w.len > sizeof(want));
	assert_memory_equal(w.buf + w.len - sizeof(want), want, sizeof(want));
	char why[128] = "";
	assert_int_equal(from(&sa, &got), 0);
	assert_int_equal(gdoi_policy_apply_kd(&got, &m->pl[0].u.kd, why, sizeof(why)), 0);
	assert_true(got.has_senders);
	assert_int_equal(got.nsenders, 2);
	assert_int_equal(got.senders[0], 12345);
	assert_int_equal(got.senders[1], 0x5eed0001);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
	/* an empty list is a list: NUMBER 0 and no SSRCS attribute */
	p.nsenders = 0;
	gdoi_policy_clear(&got);
	memset(&got, 0, sizeof(got));
	assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &kd), 0);
	m = kd_on_wire(&kd, &w);
	static const uint8_t empty[] = { 0xf5, 0x00, 0x00, 0x09, 0x00, 0x80, 0x01, 0x00, 0x00 };
	assert_memory_equal(w.buf + w.len - sizeof(empty), empty, sizeof(empty));
	assert_int_equal(from(&sa, &got), 0);
	assert_int_equal(gdoi_policy_apply_kd(&got, &m->pl[0].u.kd, why, sizeof(why)), 0);
	assert_true(got.has_senders);
	assert_int_equal(got.nsenders, 0);
	/* without the packet, a member knows no list */
	gdoi_policy_clear(&got);
	memset(&got, 0, sizeof(got));
	assert_int_equal(gdoi_policy_to_kd(&base, true, NULL, 0, a, &kd), 0);
	assert_int_equal(from(&sa, &got), 0);
	assert_int_equal(gdoi_policy_apply_kd(&got, &kd.u.kd, why, sizeof(why)), 0);
	assert_false(got.has_senders);
	gdoi_msg_free(m);
	gdoi_writer_free(&w);
	gdoi_policy_clear(&got);
	gdoi_policy_clear(&p);
	gdoi_arena_free(a);
}

static void test_policy_refuses_bad_senders_packet(void **s)
{
	(void)s;
	static struct gdoi_policy p, got;
	char why[128];
	for (int k = 0; k < 5; k++) {
		memcpy(&p, &base, sizeof(p));
		p.has_senders = true;
		p.nsenders = 2;
		p.senders[0] = 7;
		p.senders[1] = 9;
		struct gdoi_arena *a = gdoi_arena_new();
		struct gdoi_payload sa, kd;
		assert_int_equal(gdoi_policy_to_sa(&p, true, a, &sa), 0);
		assert_int_equal(gdoi_policy_to_kd(&p, true, NULL, 0, a, &kd), 0);
		struct gdoi_kd *d = &kd.u.kd;
		struct gdoi_kd_packet *pk = &d->pkts[d->n - 1];
		assert_int_equal(pk->type, GDOI_KD_SRTP_SENDERS);
		uint8_t *v = (uint8_t *)pk->attrs.v[1].value.ptr;
		int want;
		switch (k) {
		case 0:	/* not ascending (also: the same SSRC twice) */
			v[7] = 7;
			want = GDOI_ERR_VALUE;
			break;
		case 1:	/* NUMBER says 3, SSRCS holds 2 */
			pk->attrs.v[0].basic = 3;
			want = GDOI_ERR_VALUE;
			break;
		case 2:	/* more than the bound */
			pk->attrs.v[0].basic = GDOI_MAX_SENDERS + 1;
			want = GDOI_ERR_TOO_BIG;
			break;
		case 3:	/* an attribute this version does not define */
			pk->attrs.v[1].type = 3;
			want = GDOI_ERR_UNSUPPORTED;
			break;
		default:	/* two lists */
			d->pkts[d->n++] = *pk;
			want = GDOI_ERR_VALUE;
			break;
		}
		memset(&got, 0, sizeof(got));
		assert_int_equal(from(&sa, &got), 0);
		assert_int_equal(gdoi_policy_apply_kd(&got, d, why, sizeof(why)), want);
		gdoi_policy_clear(&got);
		gdoi_policy_clear(&p);
		gdoi_arena_free(a);
	}
}

/* Another implementation's private-use key packet (128-255) is carried by the codec as
 * opaque bytes and skipped by the policy; an unassigned standard type (5) is refused. */
static void test_policy_skips_private_key_packet_refuses_unassigned(void **s)
{
	(void)s;
	static struct gdoi_policy got;
	char why[128];
	for (int k = 0; k < 2; k++) {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gdoi_payload sa, kd;
		struct gdoi_writer w;
		assert_int_equal(gdoi_policy_to_sa(&base, true, a, &sa), 0);
		assert_int_equal(gdoi_policy_to_kd(&base, true, NULL, 0, a, &kd), 0);
		struct gdoi_kd_packet *pk = gdoi_arena_calloc(a, kd.u.kd.n + 1, sizeof(*pk));
		memcpy(pk, kd.u.kd.pkts, kd.u.kd.n * sizeof(*pk));
		pk[kd.u.kd.n] = (struct gdoi_kd_packet){ .type = k ? 5 : 0xf0,
			.opaque = GDOI_BYTES("\x80\x01\x00\x01", 4) };
		kd.u.kd.pkts = pk;
		kd.u.kd.n++;
		struct gdoi_msg *m = kd_on_wire(&kd, &w);
		const struct gdoi_kd_packet *back = &m->pl[0].u.kd.pkts[m->pl[0].u.kd.n - 1];
		assert_int_equal(back->type, k ? 5 : 0xf0);
		assert_bytes_equal(back->opaque.ptr, back->opaque.len, (const uint8_t *)"\x80\x01\x00\x01", 4);
		memset(&got, 0, sizeof(got));
		assert_int_equal(from(&sa, &got), 0);
		assert_int_equal(gdoi_policy_apply_kd(&got, &m->pl[0].u.kd, why, sizeof(why)),
				 k ? GDOI_ERR_UNSUPPORTED : 0);
		if (!k)
			assert_memory_equal(got.teks[0].key, base.teks[0].key, 30);
		gdoi_msg_free(m);
		gdoi_writer_free(&w);
		gdoi_policy_clear(&got);
		gdoi_arena_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_survives_sa_and_kd_round_trip),
		cmocka_unit_test(test_policy_refuses_bad_sa),
		cmocka_unit_test(test_policy_refuses_bad_kd),
		cmocka_unit_test(test_senders_packet_round_trips),
		cmocka_unit_test(test_policy_refuses_bad_senders_packet),
		cmocka_unit_test(test_policy_skips_private_key_packet_refuses_unassigned),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
