/*
 * fuzz_push.c - libFuzzer target for the member's GROUPKEY-PUSH path
 * (gdoi_push_open, gdoi_push_apply). Random ciphertext never gets past the
 * decryption and signature checks, so the input is mostly used as the
 * *plaintext* payload chain: the target wraps it the way a key server would
 * (header with the KEK cookies, a SIG payload signed with the group's rekey
 * key, CBC under the KEK) and only then hands it to the member. The first
 * input octet chooses between that and feeding the raw bytes as a datagram.
 * Invariants: a refused push changes nothing; an accepted one raises SEQ.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/crypto.h"
#include "gdoi/msg_crypt.h"
#include "gdoi/numbers.h"
#include "gdoi/push.h"
#include "gdoi/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gdoi_key *rekey;
static struct gdoi_policy member;

static void init(void)
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
		.sig_alg = GDOI_SIG_ALG_ECDSA_256, .sig_hash = GDOI_SIG_HASH_SHA256 };
	memcpy(member.kek.rekey_pub, spki, len);
	member.kek.rekey_pub_len = len;
	free(spki);
	memset(member.kek.spi, 0x5a, 16);
	member.kek.have_keys = true;
	memset(member.kek.key, 0x11, 16);
	memset(member.kek.iv, 0x22, 16);
	member.has_seq = true;
	member.seq = 5;
	member.nteks = 1;
	member.teks[0] = (struct gdoi_tek){ .kind = GDOI_TEK_SRTP, .spi = 77, .have_keys = true,
					    .key_len = 30, .u.srtp = { .profile = 1, .lifetime = 60 } };
}

/* header | chain | SIG, signed like a key server, then encrypted under the KEK. */
static uint8_t *wrap(const uint8_t *chain, size_t n, size_t *len)
{
	size_t sig_len = gdoi_key_sig_len(rekey), total = 28 + n + 4 + sig_len;
	if (n < 1 || total > 60000)
		return NULL;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	gdoi_write_bytes(&w, member.kek.spi, 16);
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
	    gdoi_msg_seal(GDOI_CIPHER_AES_128_CBC, GDOI_BYTES(member.kek.key, 16),
			  GDOI_BYTES(member.kek.iv, 16), &w, 0, NULL)) {
		gdoi_writer_free(&w);
		return NULL;
	}
	return gdoi_writer_take(&w, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct gdoi_policy before, cur;
	static struct gdoi_push_update u;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 2)
		return 0;
	uint8_t *msg = NULL;
	size_t len = 0;
	if (data[0] & 1) {
		msg = wrap(data + 1, size - 1, &len);
		if (!msg)
			return 0;
	}
	const uint8_t *in = msg ? msg : data + 1;
	size_t in_len = msg ? len : size - 1;
	char why[200];
	memcpy(&cur, &member, sizeof(cur));
	memcpy(&before, &member, sizeof(before));
	int rc = gdoi_push_open(&cur, NULL, in, in_len, &u, why, sizeof(why));
	if (memcmp(&before, &cur, sizeof(cur)))
		abort();	/* open never modifies the state */
	if (rc == 0) {
		if (u.seq <= member.seq)
			abort();
		if (gdoi_push_apply(&cur, &u) == 0 && cur.seq != u.seq && !u.fresh.has_kek)
			abort();
		if (cur.nteks > GDOI_MAX_TEKS)
			abort();
	}
	gdoi_push_update_clear(&u);
	free(msg);
	return 0;
}
