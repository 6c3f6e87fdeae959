/* push_group.c - see push_group.h. */
#include "tests/lib/push_group.h"

#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/msg_crypt.h"
#include "gdoi/sign.h"
#include "gdoi/wire.h"
#include "tests/lib/certgen.h"

struct gdoi_key *load_key(const char *kind)
{
	EVP_PKEY *k = certgen_key(kind);	/* RSA: a group's sign and other keys differ */
	assert_non_null(k);
	size_t n;
	uint8_t *der = certgen_key_der(k, &n);
	struct gdoi_key *key = NULL;
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, n), &key), 0);
	free(der);
	EVP_PKEY_free(k);
	return key;
}

void tek(struct gdoi_policy *p, uint32_t spi, uint16_t profile)
{
	struct gdoi_tek *t = &p->teks[p->nteks++];
	*t = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4, .addr = { 239, 0, 0, 1 } },
		.u.srtp = { .profile = profile, .lifetime = 60, .replay_window = 128, .ssrc_assigned = true } };
}

void new_kek(struct group *g, uint16_t sig_alg, uint16_t sig_hash, uint16_t bits)
{
	struct gdoi_kek_policy *k = &g->ks.kek;
	uint8_t *spki;
	size_t n;
	*k = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = bits,
		.lifetime = 3600, .sig_alg = sig_alg, .sig_hash = sig_hash,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .addr = { 127, 0, 0, 2 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 1849, .addr_len = 4, .addr = { 239, 0, 0, 9 } } };
	assert_int_equal(gdoi_random(k->spi, 16), 0);
	assert_int_equal(gdoi_key_to_spki(g->sign, &spki, &n), 0);
	memcpy(k->rekey_pub, spki, n);
	k->rekey_pub_len = n;
	free(spki);
	g->ks.has_kek = true;
}

void group_init(struct group *g, const char *kind, uint16_t sig_alg, uint16_t sig_hash)
{
	memset(g, 0, sizeof(*g));
	g->sign = load_key(kind);
	g->other = load_key(kind);
	new_kek(g, sig_alg, sig_hash, 128);
	tek(&g->ks, 0x1001, GDOI_SRTP_AES128_CM_SHA1_80);
	g->ks.has_gap = true;
	g->ks.atd = 2;
	g->ks.dtd = 10;
	assert_int_equal(gdoi_policy_generate_keys(&g->ks), 0);
	g->ks.has_seq = true;
	memcpy(&g->member, &g->ks, sizeof(g->member));
}

void group_free(struct group *g)
{
	gdoi_key_free(g->sign);
	gdoi_key_free(g->other);
	gdoi_policy_clear(&g->ks);
	gdoi_policy_clear(&g->member);
}

uint8_t *push(struct group *g, const struct gdoi_policy *update, bool with_kek,
		     const struct gdoi_push_delete *del, size_t ndel, size_t *len)
{
	struct gdoi_push_params p = { .kek = &g->ks.kek, .sign_key = g->sign, .seq = ++g->seq,
				      .deletes = del, .ndeletes = ndel, .update = update,
				      .with_kek = with_kek };
	uint8_t *out = NULL;
	assert_int_equal(gdoi_push_build(&p, &out, len), 0);
	assert_int_equal(out[18], GDOI_EXCH_PUSH);
	assert_int_equal(out[19], GDOI_FLAG_ENC);
	assert_memory_equal(out, g->ks.kek.spi, 16);
	assert_int_equal(gdoi_get_u32(out + 20), 0);
	assert_int_equal((*len - 28) % 16, 0);
	return out;
}


/* Inserts a copy of the SA's first attribute payload (the SA KEK) after it; m has
 * room for it after len. */
static size_t double_sak(uint8_t *m, size_t len, size_t sa_at)
{
	size_t sak_at = sa_at + 12, sak_len = gdoi_get_u16(m + sak_at + 2);
	memmove(m + sak_at + 2 * sak_len, m + sak_at + sak_len, len - sak_at - sak_len);
	memcpy(m + sak_at + sak_len, m + sak_at, sak_len);
	m[sak_at] = GDOI_PL_SAK;
	gdoi_put_u16(m + sa_at + 2, (uint16_t)(gdoi_get_u16(m + sa_at + 2) + sak_len));
	return sak_len;
}

uint8_t *ref_rotation_push(struct group *g, const struct gdoi_kek_policy *next,
			   const uint8_t *kd_spi, enum ref_rotation_variant v, size_t *len)
{
	const struct gdoi_kek_policy *cur = &g->ks.kek;
	struct gdoi_policy *u = calloc(1, sizeof(*u));
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[4];
	size_t offs[5], sig_len = gdoi_key_sig_len(g->sign);
	assert_non_null(u);
	assert_non_null(a);
	u->has_kek = true;
	u->kek = *next;
	pl[0] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = ++g->seq };
	assert_int_equal(gdoi_policy_to_sa(u, true, a, &pl[1]), 0);
	assert_int_equal(gdoi_policy_to_kd(u, true, NULL, 0, a, &pl[2]), 0);
	struct gdoi_kd_packet *pk = gdoi_arena_calloc(a, 2, sizeof(*pk));
	assert_non_null(pk);
	pk[0] = pl[2].u.kd.pkts[0];
	pk[0].spi = GDOI_BYTES(kd_spi, GDOI_KEK_SPI_LEN);
	pk[1] = pl[2].u.kd.pkts[0];	/* the same key under the new SPI */
	pl[2].u.kd = (struct gdoi_kd){ pk, v == REF_ROT_TWO_PACKETS ? 2 : 1 };
	uint8_t *sig = gdoi_arena_calloc(a, 1, sig_len);
	pl[3] = (struct gdoi_payload){ .type = GDOI_PL_SIG, .u.data = GDOI_BYTES(sig, sig_len) };
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH,
			      .flags = GDOI_FLAG_ENC };
	memcpy(h.icookie, cur->spi, 8);
	memcpy(h.rcookie, cur->spi + 8, 8);
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	assert_int_equal(gdoi_msg_build(&w, &h, pl, 4, offs), 0);
	size_t sig_at = offs[3];
	if (v == REF_ROT_TWO_SAKS) {
		size_t old = w.len;
		gdoi_write_zeros(&w, gdoi_get_u16(w.buf + offs[1] + 14));
		sig_at += double_sak(w.buf, old, offs[1]);
		gdoi_put_u32(w.buf + 24, (uint32_t)w.len);
	}
	/* Signed as gdoi_push_build signs: "rekey" | header (unpadded Length) | SEQ .. KD. */
	gdoi_bytes part = GDOI_BYTES(w.buf, sig_at);
	size_t got;
	assert_int_equal(gdoi_rekey_sign(g->sign, cur->sig_alg, gdoi_md_from_sig_hash(cur->sig_hash),
					 &part, 1, w.buf + sig_at + GDOI_GENERIC_HDR_LEN, sig_len, &got), 0);
	enum gdoi_cipher c = gdoi_kek_cipher(cur);
	assert_int_equal(gdoi_msg_seal(c, GDOI_BYTES(cur->key, gdoi_cipher_key_len(c)),
				       GDOI_BYTES(cur->iv, gdoi_cipher_block_len(c)), &w, 0, NULL), 0);
	uint8_t *out = gdoi_writer_take(&w, len);
	assert_non_null(out);
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	gdoi_wipe_free(u, sizeof(*u));
	return out;
}
