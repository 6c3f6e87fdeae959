/*
 * push_wrap.h - what fuzz_push and fuzz_member share: a member's group (KEK,
 * SEQ 5, one SRTP TEK, the rekey key), the wrapper that turns a fuzzed
 * plaintext payload chain into a push as a key server sends it (header with
 * the KEK cookies, SIG signed with the rekey key, CBC under the KEK), and the
 * structured seeds (LLVMFuzzerInitialize writes them into the directory
 * GDOI_FUZZ_WRITE_SEEDS names, then exits: tests/fuzz/seed.sh).
 *
 * A chain is: octet 0 = the first payload's type, then the payloads as on the
 * wire (the last one's Next Payload is SIG's).
 */
#ifndef TESTS_FUZZ_PUSH_WRAP_H
#define TESTS_FUZZ_PUSH_WRAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/arena.h"
#include "gdoi/crypto.h"
#include "gdoi/msg_crypt.h"
#include "gdoi/numbers.h"
#include "gdoi/policy.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"
#include "gdoi/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct gdoi_key *rekey;
static struct gdoi_policy member;

static void wrap_init(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *der = NULL;
	int n = i2d_PrivateKey(k, &der);
	if (n <= 0 || gdoi_key_load_private(GDOI_BYTES(der, (size_t)n), &rekey))
		abort();
	OPENSSL_clear_free(der, (size_t)n);
	EVP_PKEY_free(k);
	uint8_t *spki;
	size_t len;
	if (gdoi_key_to_spki(rekey, &spki, &len))
		abort();
	member.has_kek = true;
	member.kek = (struct gdoi_kek_policy){ .protocol = 17, .alg = GDOI_KEK_ALG_AES, .key_bits = 128,
		.sig_alg = GDOI_SIG_ALG_ECDSA_256, .sig_hash = GDOI_SIG_HASH_SHA256, .lifetime = 600,
		.src = { .id_type = GDOI_ID_IPV4_ADDR, .port = 848, .addr_len = 4, .addr = { 127, 0, 0, 2 } },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 848, .addr_len = 4, .addr = { 239, 0, 0, 9 } } };
	memcpy(member.kek.rekey_pub, spki, len);
	member.kek.rekey_pub_len = len;
	free(spki);
	memset(member.kek.spi, 0x5a, 16);
	member.kek.have_keys = true;
	memset(member.kek.key, 0x11, 16);
	memset(member.kek.iv, 0x22, 16);
	member.has_seq = true;
	member.seq = 5;
	member.has_gap = true;
	member.atd = 2;
	member.dtd = 4;
	member.nteks = 1;
	member.teks[0] = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 77, .have_keys = true,
		.key_len = 30, .src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },
		.dst = { .id_type = GDOI_ID_IPV4_ADDR, .port = 5004, .addr_len = 4,
					.addr = { 239, 0, 0, 1 } },
		.u.srtp = { .profile = 1, .lifetime = 60 } };
}

/* header | chain | SIG, signed like a key server, then encrypted under spi, key, iv. */
static uint8_t *wrap_chain(const uint8_t *chain, size_t n, const uint8_t *spi, const uint8_t *key,
			   const uint8_t *iv, size_t *len)
{
	size_t sig_len = gdoi_key_sig_len(rekey), total = 28 + n + 4 + sig_len;
	if (n < 1 || total > 60000)
		return NULL;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	gdoi_write_bytes(&w, spi, 16);
	gdoi_write_u8(&w, chain[0]);	/* first payload type: the fuzzer's */
	gdoi_write_u8(&w, GDOI_ISAKMP_VERSION);
	gdoi_write_u8(&w, GDOI_EXCH_PUSH);
	gdoi_write_u8(&w, GDOI_FLAG_ENC);
	gdoi_write_u32(&w, 0);
	gdoi_write_u32(&w, (uint32_t)total);
	gdoi_write_bytes(&w, chain + 1, n - 1);
	size_t sig_at = w.len;
	gdoi_write_u8(&w, 0);
	gdoi_write_u8(&w, 0);
	gdoi_write_u16(&w, (uint16_t)(4 + sig_len));
	gdoi_write_zeros(&w, sig_len);
	gdoi_put_u32(w.buf + 24, (uint32_t)w.len);
	gdoi_bytes part = GDOI_BYTES(w.buf, sig_at);
	size_t got;
	if (w.failed || gdoi_rekey_sign(rekey, GDOI_SIG_ALG_ECDSA_256, GDOI_MD_SHA256, &part, 1,
					w.buf + sig_at + 4, sig_len, &got) ||
	    gdoi_msg_seal(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(key, 16), GDOI_BYTES(iv, 16), &w, 0, NULL)) {
		gdoi_writer_free(&w);
		return NULL;
	}
	return gdoi_writer_take(&w, len);
}

/* ---- structured seeds ------------------------------------------------------------- */

/* A chain: SEQ seq, [Delete of dspi], [SA + KD of u (KEK with_kek)], [a private-use key
 * packet of priv octets]; kd_spi renames the KEK key packet (the reference's rotation). */
static int seed_chain(FILE *f, uint8_t lead, uint32_t seq, const struct gdoi_policy *u, bool with_kek,
		      const uint8_t *kd_spi, uint32_t dspi, size_t priv)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_payload pl[5];
	size_t np = 0, offs[6];
	int rc = a ? 0 : -1;
	pl[np++] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = seq };
	if (!rc && dspi) {
		uint8_t *s = gdoi_arena_alloc(a, 4);
		if (!s) {
			rc = -1;
		} else {
			gdoi_put_u32(s, dspi);
			pl[np++] = (struct gdoi_payload){ .type = GDOI_PL_DELETE,
				.u.del = { .doi = GDOI_DOI_GDOI, .proto = GDOI_TEK_PROTO_SRTP, .spi_size = 4,
					   .nspis = 1, .spis = GDOI_BYTES(s, 4) } };
		}
	}
	if (!rc && u) {
		rc = gdoi_policy_to_sa(u, with_kek, a, &pl[np]);
		if (!rc)
			rc = gdoi_policy_to_kd(u, with_kek, NULL, 0, a, &pl[np + 1]);
		if (!rc && (kd_spi || priv)) {
			struct gdoi_kd *kd = &pl[np + 1].u.kd;
			struct gdoi_kd_packet *pk = gdoi_arena_calloc(a, kd->n + 1, sizeof(*pk));
			uint8_t *blob = gdoi_arena_calloc(a, 1, priv + 1);
			if (!pk || !blob)
				rc = -1;
			else {
				memcpy(pk, kd->pkts, kd->n * sizeof(*pk));
				if (kd_spi && with_kek)
					pk[0].spi = GDOI_BYTES(kd_spi, GDOI_KEK_SPI_LEN);
				if (priv)
					pk[kd->n++] = (struct gdoi_kd_packet){ .type = 250,
						.opaque = GDOI_BYTES(blob, priv) };
				kd->pkts = pk;
			}
		}
		np += 2;
	}
	pl[np++] = (struct gdoi_payload){ .type = GDOI_PL_SIG, .u.data = GDOI_BYTES("s", 1) };
	struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH };
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	if (!rc)
		rc = gdoi_msg_build(&w, &h, pl, np, offs);
	if (!rc && !w.failed) {
		uint8_t first = w.buf[16];
		fputc(lead, f);
		fputc(first, f);
		fwrite(w.buf + 28, 1, offs[np - 1] - 28, f);
	}
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	return rc;
}

static void seed_tek(struct gdoi_policy *u, uint32_t spi)
{
	struct gdoi_tek *t = &u->teks[u->nteks++];
	*t = member.teks[0];
	t->spi = spi;
	t->have_keys = false;
}

/* Writes name (octet lead first, then what body writes) under dir. */
#define SEED(dir, name, body)                                                              \
	do {                                                                               \
		char path_[4096];                                                          \
		snprintf(path_, sizeof(path_), "%s/%s", dir, name);                        \
		FILE *f = fopen(path_, "wb");                                              \
		if (!f || (body) || fclose(f))                                             \
			abort();                                                           \
	} while (0)

/* The pushes every push target starts from; lead = the first octet of each input. */
static void write_push_seeds(const char *dir, uint8_t lead)
{
	static struct gdoi_policy u;
	uint8_t old_spi[GDOI_KEK_SPI_LEN];
	memcpy(old_spi, member.kek.spi, sizeof(old_spi));

	memset(&u, 0, sizeof(u));
	seed_tek(&u, 78);
	if (gdoi_policy_generate_keys(&u))
		abort();
	SEED(dir, "seed-tek", seed_chain(f, lead, 6, &u, false, NULL, 0, 0));
	SEED(dir, "seed-delete", seed_chain(f, lead, 6, NULL, false, NULL, 77, 0));
	SEED(dir, "seed-tek-delete", seed_chain(f, lead, 7, &u, false, NULL, 77, 0));
	SEED(dir, "seed-private-kd", seed_chain(f, lead, 6, &u, false, NULL, 0, 3000));

	/* the GDOI reference implementation's rotation: the new SA KEK, its key in a
	 * key packet naming the outgoing SPI; and ours (the packet names the new SPI) */
	memset(&u, 0, sizeof(u));
	u.has_kek = true;
	u.kek = member.kek;
	u.kek.have_keys = false;
	u.kek.rekey_pub_len = 0;
	memset(u.kek.spi, 0xa5, GDOI_KEK_SPI_LEN);
	if (gdoi_policy_generate_keys(&u))
		abort();
	SEED(dir, "seed-gdoid-kek-rotation", seed_chain(f, lead, 6, &u, true, old_spi, 0, 0));
	SEED(dir, "seed-kek-rotation", seed_chain(f, lead, 6, &u, true, NULL, 0, 0));
	seed_tek(&u, 79);
	u.teks[0].have_keys = false;
	if (gdoi_policy_generate_keys(&u))
		abort();
	SEED(dir, "seed-gdoid-kek-rotation-tek", seed_chain(f, lead, 9, &u, true, old_spi, 0, 0));

	/* SRTP_SENDERS: 3, and the most a KD may carry */
	memset(&u, 0, sizeof(u));
	seed_tek(&u, 80);
	if (gdoi_policy_generate_keys(&u))
		abort();
	u.has_senders = true;
	u.nsenders = 3;
	u.senders[0] = 0x1000, u.senders[1] = 0x2000, u.senders[2] = 0x3000;
	SEED(dir, "seed-senders", seed_chain(f, lead, 6, &u, false, NULL, 0, 0));
	u.nsenders = GDOI_MAX_SENDERS;
	for (size_t i = 0; i < u.nsenders; i++)
		u.senders[i] = 0x10000 + (uint32_t)i;
	SEED(dir, "seed-senders-max", seed_chain(f, lead, 6, &u, false, NULL, 0, 0));
	gdoi_policy_clear(&u);
}

#endif
