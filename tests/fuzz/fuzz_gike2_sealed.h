/*
 * fuzz_gike2_sealed.h - fuzz_gike2's selector 7: the attacker's plaintext of a
 * GSA_REKEY, sealed here under the target's fixed Rekey SA so that it gets past
 * the ICV (and, signed, the signature) into what a forged datagram (selector 4)
 * never reaches: the inner chain after decryption, Pad Length, AUTH, and then
 * gike2_rekey_content_apply and gike2_inband_content_apply on a GM's policy.
 *
 * Input after the selector: flags (bit 0: signed, the chain parsed and rebuilt
 * by gike2_rekey_build with the target's P-256 key; bit 1: the last octet is
 * the Pad Length as given, otherwise 0 is appended; bit 2: a signature SA, the
 * chain sealed as given, its AUTH the attacker's), the first payload type,
 * then the plaintext chain.
 * Invariants (abort()): on a refusal the policy is unchanged and no new Rekey
 * SA or GCKS key comes out; an accepted new Rekey SA has usable keys.
 */
#ifndef FUZZ_GIKE2_SEALED_H
#define FUZZ_GIKE2_SEALED_H

#include <openssl/evp.h>

#include "gdoi/gike2_msg.h"
#include "gdoi/sign.h"
#include "tests/fuzz/fuzz_signer.h"

static void rekey_sa(struct gike2_rekey_sa *sa, uint16_t gcauth);

static struct gdoi_key *sealed_signer;
static struct gdoi_policy sealed_held, sealed_pol;

/* What the GM holds before the GSA_REKEY: SRTP SA 0x5000 and one Sender-ID. */
static void sealed_init(void)
{
	sealed_signer = fuzz_signer();
	struct gdoi_policy *p = &sealed_held;
	p->nteks = 1;
	p->sid_bits = 32;
	p->nsids = 1;
	p->sids[0] = 0x1234;
	p->teks[0] = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 0x5000,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4,
			 .addr = { 239, 9, 9, 9 } },
		.u.srtp = { .profile = 1, .flags = 3, .lifetime = 300, .replay_window = 128 } };
	if (gdoi_policy_generate_keys(p))
		abort();
}

static void sealed_sa(struct gike2_rekey_sa *sa, bool sign)
{
	gdoi_bytes algid;
	rekey_sa(sa, sign ? GIKE2_GCAUTH_DIGITAL_SIGNATURE : GIKE2_GCAUTH_IMPLICIT);
	if (sign) {
		if (gdoi_sig7427_algid(sealed_signer, GDOI_MD_SHA256, &algid) ||
		    algid.len > sizeof(sa->algid))
			abort();
		memcpy(sa->algid, algid.ptr, algid.len);
		sa->algid_len = algid.len;
	}
}

/* SK{P | Pad Length} under sa's GSK_e as gike2_rekey_build seals it, with
 * the attacker's octets as they are (no rebuild). */
static size_t sealed_raw(const struct gike2_rekey_sa *sa, uint8_t first, const uint8_t *p,
			 size_t n, bool pad_given, uint8_t *out, size_t cap)
{
	const size_t fixed = GIKE2_HDR_LEN + 4 + GIKE2_GCM_IV_LEN + GIKE2_GCM_ICV_LEN;
	size_t pl = n + !pad_given, total = fixed + pl;
	uint8_t nonce[GIKE2_GCM_SALT_LEN + GIKE2_GCM_IV_LEN] = { 0 };
	int k = 0, ok;

	if (pl == 0 || total > cap || total > 0xffff)
		return 0;
	memcpy(out, sa->spi, GIKE2_SPI_SIZE_REKEY);
	out[16] = GIKE2_PL_SK;
	out[17] = GIKE2_VERSION;
	out[18] = GIKE2_EXCH_GSA_REKEY;
	out[19] = GIKE2_FLAG_INITIATOR;
	gdoi_put_u32(out + 20, 1);
	gdoi_put_u32(out + 24, (uint32_t)total);
	out[28] = first;
	out[29] = 0;
	gdoi_put_u16(out + 30, (uint16_t)(total - GIKE2_HDR_LEN));
	uint8_t *iv = out + 32, *ct = iv + GIKE2_GCM_IV_LEN;
	memset(iv, 0x3c, GIKE2_GCM_IV_LEN);
	memcpy(ct, p, n);
	if (!pad_given)
		ct[n] = 0;
	memcpy(nonce, sa->gsk_e + 16, GIKE2_GCM_SALT_LEN);
	memcpy(nonce + GIKE2_GCM_SALT_LEN, iv, GIKE2_GCM_IV_LEN);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, sa->gsk_e, nonce) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &k, out, GIKE2_HDR_LEN + 4) == 1 &&
	     EVP_EncryptUpdate(c, ct, &k, ct, (int)pl) == 1 &&
	     EVP_EncryptFinal_ex(c, ct + pl, &k) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GIKE2_GCM_ICV_LEN, ct + pl) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		abort();
	return total;
}

/* Both appliers on what the GM opened, each from the held policy. */
static void sealed_apply(const struct gike2_pl *pl, size_t n, const struct gike2_rekey_sa *cur,
			 struct gdoi_arena *a)
{
	struct gike2_rekey_sa next;
	struct gdoi_key *k = NULL;
	bool has_next = false, excluded = false;
	char why[160];

	memset(&next, 0, sizeof(next));
	sealed_pol = sealed_held;
	int rc = gike2_rekey_content_apply(pl, n, cur, a, &sealed_pol, &next, &has_next, &excluded,
					   why, sizeof(why));
	if (rc && (has_next || memcmp(&sealed_pol, &sealed_held, sizeof(sealed_pol))))
		abort();
	if (rc == 0 && has_next && gike2_rekey_keymat_len(&next) != next.gsk_e_len + next.gsk_w_len)
		abort();
	gike2_rekey_sa_clear(&next);
	sealed_pol = sealed_held;
	has_next = false;
	rc = gike2_inband_content_apply(pl, n, GDOI_BYTES(cur->gsk_w, cur->gsk_w_len), a,
					&sealed_pol, &next, &has_next, &k, &excluded, why, sizeof(why));
	if (rc && (has_next || k || memcmp(&sealed_pol, &sealed_held, sizeof(sealed_pol))))
		abort();
	gdoi_key_free(k);
	gike2_rekey_sa_clear(&next);
	gdoi_policy_clear(&sealed_pol);
}

static void sealed_rekey(const uint8_t *p, size_t n)
{
	static bool ready;
	struct gike2_rekey_sa gcks, gm;
	struct gdoi_parse_error e;
	struct gike2_pl *pl;
	size_t npl;
	uint32_t id;

	if (!ready) {
		sealed_init();
		ready = true;
	}
	if (n < 2)
		return;
	bool sign = p[0] & 5, pad_given = p[0] & 2, build = p[0] & 1;
	uint8_t first = p[1];
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_writer w;
	if (!a)
		return;
	gdoi_writer_init(&w);
	sealed_sa(&gcks, sign);
	sealed_sa(&gm, sign);
	gcks.msgid = 1;
	if (build) {
		struct gdoi_reader r = gdoi_reader_init(p + 2, n - 2, 0);
		if (gike2_chain_parse(&r, first, a, &pl, &npl, &e) ||
		    gike2_rekey_build(&gcks, pl, npl, sealed_signer, &w))
			goto out;
	} else {
		size_t cap = n + 64;
		uint8_t *buf = gdoi_arena_alloc(a, cap);
		if (!buf)
			goto out;
		size_t len = sealed_raw(&gcks, first, p + 2, n - 2, pad_given, buf, cap);
		if (len == 0)
			goto out;
		gdoi_write_bytes(&w, buf, len);
		if (w.failed)
			goto out;
	}
	int rc = gike2_rekey_open(&gm, w.buf, w.len, sign ? sealed_signer : NULL, a, &pl, &npl, &id,
				  &e);
	if (build && rc == GDOI_ERR_AUTH)
		abort();	/* what the GCKS signed and sealed must open */
	if (rc == 0)
		sealed_apply(pl, npl, &gm, a);
	else if (rc != GDOI_ERR_NOMEM && e.offset > w.len)
		abort();
out:
	gdoi_writer_free(&w);
	gike2_rekey_sa_clear(&gcks);
	gike2_rekey_sa_clear(&gm);
	gdoi_arena_free(a);
}

#endif
