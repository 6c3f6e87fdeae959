/*
 * test_sign.c - keys, IKEv1 and GROUPKEY-PUSH signatures (gdoi/sign.c) and
 * X.509 chains and identities (gdoi/cert.c). Keys and certificates are made
 * here with EVP / X509 calls; the reference implementation's rekey signatures
 * come from tests/vectors/gdoid-kek/gm.log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "gdoi/bytes.h"
#include "gdoi/cert.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/sign.h"
#include "tests/lib/certgen.h"
#include "tests/lib/vector_log.h"

/* Generated once for the whole group (RSA key generation is slow under ASan). */
static EVP_PKEY *rsa, *p256, *p384, *p521;

/* A malloc'd copy of something OpenSSL wrote into a memory BIO. */
struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob bio_take(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	struct blob out = { malloc((size_t)n), (size_t)n };
	assert_non_null(out.p);
	memcpy(out.p, data, (size_t)n);
	BIO_free(b);
	return out;
}

static struct blob private_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	return bio_take(b);
}

static struct blob public_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	return bio_take(b);
}

static struct blob public_der(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	assert_true(n > 0);
	struct blob out = { malloc((size_t)n), (size_t)n };
	memcpy(out.p, der, (size_t)n);
	OPENSSL_free(der);
	return out;
}

static struct gdoi_key *load_priv(EVP_PKEY *k)
{
	struct blob pem = private_pem(k);
	struct gdoi_key *key = NULL;
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(pem.p, pem.n), &key), GDOI_OK);
	free(pem.p);
	return key;
}

static struct gdoi_key *load_pub(EVP_PKEY *k)
{
	struct blob der = public_der(k);
	struct gdoi_key *key = NULL;
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der.p, der.n), &key), GDOI_OK);
	free(der.p);
	return key;
}

static int setup(void **state)
{
	(void)state;
	rsa = certgen_key("rsa2048");
	p256 = certgen_key("p256");
	p384 = certgen_key("p384");
	p521 = certgen_key("p521");
	return rsa && p256 && p384 && p521 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	return 0;
}

/* --- keys ---------------------------------------------------------------------- */

static void test_key_load_takes_pem_and_der_refuses_garbage_and_weak_keys(void **state)
{
	struct gdoi_key *k = NULL, *pub = NULL;
	(void)state;

	k = load_priv(rsa);
	assert_int_equal(gdoi_key_kind(k), GDOI_KEYKIND_RSA);
	assert_int_equal(gdoi_key_bits(k), 2048);
	assert_int_equal(gdoi_key_sig_len(k), 256);
	assert_true(gdoi_key_has_private(k));
	struct blob pem = public_pem(rsa);
	assert_int_equal(gdoi_key_load_public(GDOI_BYTES(pem.p, pem.n), &pub), GDOI_OK);
	assert_false(gdoi_key_has_private(pub));
	assert_true(gdoi_key_public_equal(k, pub));
	/* a public key where a key pair is required */
	struct gdoi_key *bad = (struct gdoi_key *)1;
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(pem.p, pem.n), &bad), GDOI_ERR_VALUE);
	assert_null(bad);
	free(pem.p);
	gdoi_key_free(pub);
	gdoi_key_free(k);

	static const struct { EVP_PKEY **k; enum gdoi_key_kind kind; size_t sig; } ec[] = {
		{ &p256, GDOI_KEYKIND_EC_P256, 64 },
		{ &p384, GDOI_KEYKIND_EC_P384, 96 },
		{ &p521, GDOI_KEYKIND_EC_P521, 132 },
	};
	for (size_t i = 0; i < 3; i++) {
		k = load_priv(*ec[i].k);
		pub = load_pub(*ec[i].k);
		assert_int_equal(gdoi_key_kind(k), ec[i].kind);
		assert_int_equal(gdoi_key_kind(pub), ec[i].kind);
		assert_int_equal(gdoi_key_sig_len(k), ec[i].sig);
		assert_true(gdoi_key_public_equal(k, pub));
		assert_false(gdoi_key_public_equal(pub, NULL));
		gdoi_key_free(k);
		gdoi_key_free(pub);
	}

	/* DER private keys: type-specific (SEC1) and PKCS#8 */
	size_t dl = 0;
	uint8_t *der = certgen_key_der(p256, &dl);
	assert_non_null(der);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, dl), &k), GDOI_OK);
	assert_int_equal(gdoi_key_kind(k), GDOI_KEYKIND_EC_P256);
	assert_true(gdoi_key_has_private(k));
	gdoi_key_free(k);
	free(der);
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(i2d_PKCS8PrivateKey_bio(b, rsa, NULL, NULL, 0, NULL, NULL), 1);
	struct blob p8 = bio_take(b);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(p8.p, p8.n), &k), GDOI_OK);
	assert_int_equal(gdoi_key_kind(k), GDOI_KEYKIND_RSA);
	gdoi_key_free(k);
	free(p8.p);

	/* garbage, small RSA, other curves and algorithms */
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES("not a key", 9), &k), GDOI_ERR_VALUE);
	assert_int_equal(gdoi_key_load_public(GDOI_BYTES_NONE, &k), GDOI_ERR_INVALID_ARG);
	EVP_PKEY *other[] = {
		EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024),
		EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1"),
		EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
	};
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(other[i]);
		pem = private_pem(other[i]);
		assert_int_equal(gdoi_key_load_private(GDOI_BYTES(pem.p, pem.n), &k),
				 GDOI_ERR_UNSUPPORTED);
		free(pem.p);
		EVP_PKEY_free(other[i]);
	}
}

static void test_key_spki_round_trips_every_key_type(void **state)
{
	EVP_PKEY *all[] = { rsa, p256, p384, p521 };
	(void)state;

	for (size_t i = 0; i < 4; i++) {
		struct gdoi_key *k = load_priv(all[i]), *back = NULL;
		uint8_t *der = NULL;
		size_t n = 0;
		struct blob ref = public_der(all[i]);

		assert_int_equal(gdoi_key_to_spki(k, &der, &n), GDOI_OK);
		assert_int_equal(n, ref.n);
		assert_memory_equal(der, ref.p, n);
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n), &back), GDOI_OK);
		assert_true(gdoi_key_public_equal(k, back));
		assert_false(gdoi_key_has_private(back));
		gdoi_key_free(back);

		/* strict DER: no trailing octet, no truncation */
		uint8_t *longer = malloc(n + 1);
		memcpy(longer, der, n);
		longer[n] = 0;
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(longer, n + 1), &back), GDOI_ERR_TRAILING);
		assert_null(back);
		assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(der, n - 1), &back), GDOI_ERR_VALUE);
		free(longer);
		free(der);
		free(ref.p);
		gdoi_key_free(k);
	}
}

/* --- IKEv1 ---------------------------------------------------------------------- */

static void test_ike_rsa_signature_recovers_hash_refuses_tampering(void **state)
{
	struct gdoi_key *k = load_priv(rsa), *pub = load_pub(rsa);
	uint8_t hash[20], sig[GDOI_SIG_MAX_LEN], rec[256];
	size_t n = 0, rn = sizeof(rec);
	(void)state;

	assert_int_equal(gdoi_random(hash, sizeof(hash)), GDOI_OK);
	assert_int_equal(gdoi_ike_sign(k, 3, GDOI_BYTES(hash, 20), sig, sizeof(sig), &n), GDOI_OK);
	assert_int_equal(n, 256);
	assert_int_equal(gdoi_ike_verify(pub, 3, GDOI_BYTES(hash, 20), GDOI_BYTES(sig, n)), GDOI_OK);
	assert_int_equal(gdoi_ike_verify(k, 3, GDOI_BYTES(hash, 20), GDOI_BYTES(sig, n)), GDOI_OK);

	/* RFC 2409 §5.1: the signature recovers to HASH_I itself, no DigestInfo. */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa, NULL);
	assert_int_equal(EVP_PKEY_verify_recover_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_verify_recover(ctx, rec, &rn, sig, n), 1);
	assert_int_equal(rn, 20);
	assert_memory_equal(rec, hash, 20);
	EVP_PKEY_CTX_free(ctx);

	/* tampering */
	sig[100] ^= 0x01;
	assert_int_equal(gdoi_ike_verify(pub, 3, GDOI_BYTES(hash, 20), GDOI_BYTES(sig, n)), GDOI_ERR_AUTH);
	sig[100] ^= 0x01;
	hash[0] ^= 0x80;
	assert_int_equal(gdoi_ike_verify(pub, 3, GDOI_BYTES(hash, 20), GDOI_BYTES(sig, n)), GDOI_ERR_AUTH);
	hash[0] ^= 0x80;
	assert_int_equal(gdoi_ike_verify(pub, 3, GDOI_BYTES(hash, 20), GDOI_BYTES(sig, n - 1)),
			 GDOI_ERR_AUTH);

	/* method and key must agree; a public key cannot sign */
	assert_int_equal(gdoi_ike_sign(k, 9, GDOI_BYTES(hash, 20), sig, sizeof(sig), &n), GDOI_ERR_VALUE);
	assert_int_equal(gdoi_ike_sign(k, 1, GDOI_BYTES(hash, 20), sig, sizeof(sig), &n),
			 GDOI_ERR_UNSUPPORTED);
	assert_int_equal(gdoi_ike_sign(pub, 3, GDOI_BYTES(hash, 20), sig, sizeof(sig), &n),
			 GDOI_ERR_INVALID_ARG);
	assert_int_equal(gdoi_ike_sign(k, 3, GDOI_BYTES(hash, 20), sig, 255, &n), GDOI_ERR_TOO_BIG);
	gdoi_key_free(k);
	gdoi_key_free(pub);
}

/* RFC 4754: ECDSA with SHA-x over HASH_x, r | s on the wire. */
static void test_ike_ecdsa_signature_is_rfc4754_r_and_s(void **state)
{
	static const struct { EVP_PKEY **k; uint16_t method; const char *md; size_t clen; } v[] = {
		{ &p256, 9, "SHA256", 32 }, { &p384, 10, "SHA384", 48 }, { &p521, 11, "SHA512", 66 },
	};
	uint8_t hash[32], sig[GDOI_SIG_MAX_LEN];
	(void)state;

	for (size_t i = 0; i < 3; i++) {
		struct gdoi_key *k = load_priv(*v[i].k), *pub = load_pub(*v[i].k);
		size_t n = 0;

		assert_int_equal(gdoi_random(hash, sizeof(hash)), GDOI_OK);
		assert_int_equal(gdoi_ike_sign(k, v[i].method, GDOI_BYTES(hash, 32), sig, sizeof(sig), &n),
				 GDOI_OK);
		assert_int_equal(n, 2 * v[i].clen);
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_OK);

		/* Independent check: r | s as DER verifies with EVP_DigestVerify(SHA-x, HASH). */
		ECDSA_SIG *es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)v[i].clen, NULL),
			       BN_bin2bn(sig + v[i].clen, (int)v[i].clen, NULL));
		unsigned char *der = NULL;
		int dl = i2d_ECDSA_SIG(es, &der);
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit_ex(mctx, NULL, v[i].md, NULL, NULL, *v[i].k, NULL), 1);
		assert_int_equal(EVP_DigestVerify(mctx, der, (size_t)dl, hash, 32), 1);
		EVP_MD_CTX_free(mctx);
		OPENSSL_free(der);
		ECDSA_SIG_free(es);

		/* tampering with r, with s, with the hash; wrong length; wrong method */
		sig[1] ^= 1;
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_ERR_AUTH);
		sig[1] ^= 1;
		sig[n - 1] ^= 1;
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_ERR_AUTH);
		sig[n - 1] ^= 1;
		hash[5] ^= 1;
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_ERR_AUTH);
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n - 2)),
				 GDOI_ERR_AUTH);
		memset(sig, 0, n);	/* r = s = 0 */
		assert_int_equal(gdoi_ike_verify(pub, v[i].method, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_ERR_AUTH);
		assert_int_equal(gdoi_ike_verify(pub, 3, GDOI_BYTES(hash, 32), GDOI_BYTES(sig, n)),
				 GDOI_ERR_VALUE);
		gdoi_key_free(k);
		gdoi_key_free(pub);
	}
}

/* --- GROUPKEY-PUSH ---------------------------------------------------------------- */

static void test_rekey_rsa_verifies_digestinfo_and_raw_hash_forms(void **state)
{
	struct gdoi_key *k = load_priv(rsa), *pub = load_pub(rsa);
	uint8_t hdr[28], body[100], sig[GDOI_SIG_MAX_LEN], raw[256], d[32];
	size_t n = 0, rn = sizeof(raw);
	(void)state;

	memset(hdr, 0x11, sizeof(hdr));
	memset(body, 0x22, sizeof(body));
	gdoi_bytes parts[] = { GDOI_BYTES(hdr, 28), GDOI_BYTES(body, 100) };
	assert_int_equal(gdoi_rekey_sign(k, 1, GDOI_MD_SHA256, parts, 2, sig, sizeof(sig), &n), GDOI_OK);
	assert_int_equal(n, 256);
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA256, parts, 2, GDOI_BYTES(sig, n), 0),
			 GDOI_OK);

	/* Independent check: EMSA-PKCS1-v1_5 with SHA-256 over "rekey" | message. */
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit_ex(mctx, NULL, "SHA256", NULL, NULL, rsa, NULL), 1);
	assert_int_equal(EVP_DigestVerifyUpdate(mctx, "rekey", 5), 1);
	assert_int_equal(EVP_DigestVerifyUpdate(mctx, hdr, 28), 1);
	assert_int_equal(EVP_DigestVerifyUpdate(mctx, body, 100), 1);
	assert_int_equal(EVP_DigestVerifyFinal(mctx, sig, n), 1);
	EVP_MD_CTX_free(mctx);

	/* tampered message or signature */
	body[50] ^= 1;
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA256, parts, 2, GDOI_BYTES(sig, n),
					   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_ERR_AUTH);
	body[50] ^= 1;
	/* the hash algorithm is part of what is verified */
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA384, parts, 2, GDOI_BYTES(sig, n), 0),
			 GDOI_ERR_AUTH);

	/* The reference's form: PKCS#1 v1.5 over the bare digest. */
	gdoi_bytes all[] = { GDOI_BYTES("rekey", 5), parts[0], parts[1] };
	assert_int_equal(gdoi_hash(GDOI_MD_SHA256, all, 3, d), GDOI_OK);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa, NULL);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, raw, &rn, d, 32), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA256, parts, 2, GDOI_BYTES(raw, rn), 0),
			 GDOI_ERR_AUTH);
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA256, parts, 2, GDOI_BYTES(raw, rn),
					   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_OK);
	raw[7] ^= 1;
	assert_int_equal(gdoi_rekey_verify(pub, 1, GDOI_MD_SHA256, parts, 2, GDOI_BYTES(raw, rn),
					   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_ERR_AUTH);

	/* policy: MD5 refused, algorithm must match the key */
	assert_int_equal(gdoi_rekey_sign(k, 1, GDOI_MD_MD5, parts, 2, sig, sizeof(sig), &n),
			 GDOI_ERR_UNSUPPORTED);
	assert_int_equal(gdoi_rekey_sign(k, 1, GDOI_MD_NONE, parts, 2, sig, sizeof(sig), &n),
			 GDOI_ERR_UNSUPPORTED);
	assert_int_equal(gdoi_rekey_sign(k, 4, GDOI_MD_SHA256, parts, 2, sig, sizeof(sig), &n),
			 GDOI_ERR_VALUE);
	assert_int_equal(gdoi_rekey_sign(k, 2, GDOI_MD_SHA256, parts, 2, sig, sizeof(sig), &n),
			 GDOI_ERR_UNSUPPORTED);	/* DSS */
	gdoi_key_free(k);
	gdoi_key_free(pub);
}

static void test_rekey_ecdsa_implies_curve_hash(void **state)
{
	struct gdoi_key *k = load_priv(p256), *pub = load_pub(p256), *k384 = load_priv(p384);
	uint8_t msg[77], sig[GDOI_SIG_MAX_LEN];
	size_t n = 0;
	(void)state;

	memset(msg, 0x5a, sizeof(msg));
	gdoi_bytes part = GDOI_BYTES(msg, sizeof(msg));
	/* ECDSA-256 implies SHA-256: no SIG_HASH_ALGORITHM needed, SHA-256 allowed. */
	assert_int_equal(gdoi_rekey_sign(k, 4, GDOI_MD_NONE, &part, 1, sig, sizeof(sig), &n), GDOI_OK);
	assert_int_equal(n, 64);
	assert_int_equal(gdoi_rekey_verify(pub, 4, GDOI_MD_SHA256, &part, 1, GDOI_BYTES(sig, n), 0),
			 GDOI_OK);
	assert_int_equal(gdoi_rekey_verify(pub, 4, GDOI_MD_NONE, &part, 1, GDOI_BYTES(sig, n), 0),
			 GDOI_OK);
	msg[0] ^= 1;
	assert_int_equal(gdoi_rekey_verify(pub, 4, GDOI_MD_NONE, &part, 1, GDOI_BYTES(sig, n), 0),
			 GDOI_ERR_AUTH);
	assert_int_equal(gdoi_rekey_verify(pub, 4, GDOI_MD_SHA1, &part, 1, GDOI_BYTES(sig, n), 0),
			 GDOI_ERR_VALUE);
	assert_int_equal(gdoi_rekey_verify(pub, 5, GDOI_MD_NONE, &part, 1, GDOI_BYTES(sig, n), 0),
			 GDOI_ERR_VALUE);
	assert_int_equal(gdoi_rekey_sign(k384, 5, GDOI_MD_SHA384, &part, 1, sig, sizeof(sig), &n),
			 GDOI_OK);
	assert_int_equal(n, 96);
	gdoi_key_free(k);
	gdoi_key_free(pub);
	gdoi_key_free(k384);
}

/*
 * The reference GCKS's rekeys (gdoid-kek): the GM log prints the 'rekey'
 * prefix, the signed bytes ("packet before SIG payload"), its SHA-1, and the
 * decrypted PUSH whose SIG payload follows those bytes. The public key is the
 * SIG_ALGORITHM_KEY (DER SubjectPublicKeyInfo) in PULL message 4's KD.
 */
static void test_rekey_verifies_reference_gcks_signatures(void **state)
{
	static const uint8_t spki_rsa_prefix[] = {	/* SEQUENCE { SEQUENCE { rsaEncryption NULL } */
		0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
		0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
	static uint8_t kd[8192], signed_data[8192], push[8192];
	uint8_t rekey[16], want[20], got[20];
	struct gdoi_key *key = NULL;
	(void)state;

	struct vlog *log = vlog_load("gdoid-kek", "gm.log");
	if (log == NULL)
		fail_msg("cannot read %s/gdoid-kek/gm.log", vlog_dir());

	/* PULL msg 4 is the GM's third decryption (MM6, PULL 2, PULL 4). */
	long kd_len = vlog_block(log, "crypto_decrypt: after decryption:", 2, kd, sizeof(kd));
	assert_true(kd_len > 0);
	uint8_t *spki = NULL;
	for (long i = 0; i + (long)sizeof(spki_rsa_prefix) <= kd_len; i++)
		if (memcmp(kd + i, spki_rsa_prefix, sizeof(spki_rsa_prefix)) == 0) {
			spki = kd + i;
			break;
		}
	assert_non_null(spki);
	/* The KD attribute header in front of it: type 2 SIG_ALGORITHM_KEY, length 4 + 0x122. */
	assert_int_equal(gdoi_get_u16(spki - 4), 2);
	assert_int_equal(gdoi_get_u16(spki - 2), 4 + 0x122);
	assert_int_equal(gdoi_key_from_spki(GDOI_BYTES(spki, 4 + 0x122), &key), GDOI_OK);
	assert_int_equal(gdoi_key_kind(key), GDOI_KEYKIND_RSA);
	assert_int_equal(gdoi_key_bits(key), 2048);

	for (unsigned m = 0; m < 3; m++) {
		long rl = vlog_block(log, "responder_recv_SEQ_SA_KD_SIG: 'rekey':", m, rekey, sizeof(rekey));
		long sl = vlog_block(log, "responder_recv_SEQ_SA_KD_SIG: packet before SIG payload:", m,
				     signed_data, sizeof(signed_data));
		long hl = vlog_block(log, "responder_recv_SEQ_SA_KD_SIG: computed hash:", m, want,
				     sizeof(want));
		long pl = vlog_block(log, "rekey_crypto_decrypt: after decryption:", m, push, sizeof(push));
		assert_int_equal(rl, 5);
		assert_memory_equal(rekey, "rekey", 5);
		assert_int_equal(hl, 20);
		assert_true(sl > 28 && pl > 0);

		/* SIG_HASH_ALGORITHM SHA-1 over "rekey" | header | payloads before SIG */
		gdoi_bytes all[] = { GDOI_BYTES(rekey, 5), GDOI_BYTES(signed_data, (size_t)sl) };
		assert_int_equal(gdoi_hash(GDOI_MD_SHA1, all, 2, got), GDOI_OK);
		assert_memory_equal(got, want, 20);

		/* The decrypted PUSH (after the header) repeats the signed payloads,
		 * then the SIG payload: NextPayload 0, length 4 + 256. */
		size_t off = (size_t)sl - 28;
		assert_true((size_t)pl >= off + 4 + 256);
		assert_memory_equal(push, signed_data + 28, off);
		assert_int_equal(push[off], 0);
		assert_int_equal(gdoi_get_u16(push + off + 2), 4 + 256);
		gdoi_bytes sig = GDOI_BYTES(push + off + 4, 256);
		gdoi_bytes msg = GDOI_BYTES(signed_data, (size_t)sl);

		/* quirk 3: raw-hash RSA, so the RFC form alone does not verify */
		assert_int_equal(gdoi_rekey_verify(key, 1, GDOI_MD_SHA1, &msg, 1, sig, 0), GDOI_ERR_AUTH);
		assert_int_equal(gdoi_rekey_verify(key, 1, GDOI_MD_SHA1, &msg, 1, sig,
						   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_OK);
		/* It is also exactly an IKEv1-style RSA signature of the digest. */
		assert_int_equal(gdoi_ike_verify(key, 3, GDOI_BYTES(want, 20), sig), GDOI_OK);

		/*
		 * Rebuilt from the wire: the received header (GM datagrams 5, 6, 7
		 * after MM2, MM4, MM6, PULL 2, PULL 4) with its Length replaced by
		 * the unpadded length (end of the SIG payload), then the decrypted
		 * payloads before SIG. The wire Length counts the CBC padding and
		 * would not verify.
		 */
		static uint8_t wire[8192];
		long wl = vlog_run(log, "message_recv:", 5 + m, wire, sizeof(wire));
		assert_true(wl > 28);
		assert_int_equal(wire[18], 33);		/* GROUPKEY-PUSH */
		assert_int_equal(gdoi_get_u32(wire + 24), (uint32_t)wl);
		assert_memory_equal(wire, signed_data, 24);
		uint32_t unpadded = (uint32_t)(28 + off + 4 + 256);
		assert_int_equal(gdoi_get_u32(signed_data + 24), unpadded);
		assert_true((uint32_t)wl > unpadded);	/* padding was needed every time */
		uint8_t hdr[28];
		memcpy(hdr, wire, 28);
		gdoi_bytes rebuilt[] = { GDOI_BYTES(hdr, 28), GDOI_BYTES(push, off) };
		assert_int_equal(gdoi_rekey_verify(key, 1, GDOI_MD_SHA1, rebuilt, 2, sig,
						   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_ERR_AUTH);
		gdoi_put_u32(hdr + 24, unpadded);
		assert_int_equal(gdoi_rekey_verify(key, 1, GDOI_MD_SHA1, rebuilt, 2, sig,
						   GDOI_REKEY_ACCEPT_RAW_RSA), GDOI_OK);
	}
	gdoi_key_free(key);
	vlog_free(log);
}

/* --- X.509 ------------------------------------------------------------------------ */

/* Certificates from tests/lib/certgen, with key identifiers (two CAs below share a name)
 * and keyUsage digitalSignature on the leaves. */
static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
		       int ca, const char *san)
{
	X509 *x = certgen_cert_ex(key, issuer_key, issuer, cn, san, ca,
				  CERTGEN_KEY_IDS | CERTGEN_LEAF_KU);
	assert_non_null(x);
	return x;
}

static struct blob cert_der(X509 *x)
{
	struct blob out;
	out.p = certgen_cert_der(x, &out.n);
	assert_non_null(out.p);
	return out;
}

static struct blob cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	return bio_take(b);
}

static void test_cert_chain_verifies_to_own_ca_at_callers_clock(void **state)
{
	(void)state;
	EVP_PKEY *ca_key = certgen_key("p256");
	EVP_PKEY *other_key = certgen_key("p256");
	EVP_PKEY *int_key = certgen_key("p256");
	X509 *ca = make_cert(ca_key, ca_key, NULL, "Group CA", 1, NULL);
	X509 *other = make_cert(other_key, other_key, NULL, "Group CA", 1, NULL);	/* same name! */
	X509 *inter = make_cert(int_key, ca_key, ca, "Intermediate", 1, NULL);
	X509 *leaf = make_cert(rsa, ca_key, ca, "gm1",
			       0, "DNS:gm1.example.org,email:gm@example.org,IP:192.0.2.7,IP:2001:db8::7");
	X509 *leaf2 = make_cert(p384, int_key, inter, "gm2", 0, "DNS:gm2.example.org");
	X509 *stranger = make_cert(p256, other_key, other, "gm1", 0, "DNS:gm1.example.org");
	struct blob ca_pem = cert_pem(ca), other_pem = cert_pem(other);
	struct blob leaf_der = cert_der(leaf), leaf2_der = cert_der(leaf2), int_der = cert_der(inter);
	struct blob stranger_der = cert_der(stranger);
	struct gdoi_trust *trust = NULL;
	struct gdoi_cert *got = NULL;
	const char *why = NULL;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(gdoi_trust_new(&trust), GDOI_OK);
	assert_int_equal(gdoi_trust_add(trust, GDOI_BYTES(ca_pem.p, ca_pem.n)), GDOI_OK);
	assert_int_equal(gdoi_trust_add(trust, GDOI_BYTES("junk", 4)), GDOI_ERR_VALUE);

	/* CA -> leaf */
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(leaf_der.p, leaf_der.n), NULL, 0, now,
					   &got, &why), GDOI_OK);
	assert_string_equal(why, "ok");
	assert_non_null(got);
	assert_int_equal(gdoi_cert_der(got).len, leaf_der.n);
	assert_memory_equal(gdoi_cert_der(got).ptr, leaf_der.p, leaf_der.n);

	/* its key is the leaf key */
	struct gdoi_key *k = NULL, *mine = load_pub(rsa);
	assert_int_equal(gdoi_cert_public_key(got, &k), GDOI_OK);
	assert_true(gdoi_key_public_equal(k, mine));
	gdoi_key_free(k);
	gdoi_key_free(mine);

	/* identities: DN, then the SANs in order */
	size_t n = 0;
	const struct gdoi_cert_id *ids = gdoi_cert_ids(got, &n);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0].type, 9);
	assert_int_equal(ids[1].type, 2);
	assert_int_equal(ids[1].data.len, strlen("gm1.example.org"));
	assert_memory_equal(ids[1].data.ptr, "gm1.example.org", ids[1].data.len);
	assert_int_equal(ids[2].type, 3);
	assert_int_equal(ids[3].type, 1);
	assert_int_equal(ids[4].type, 5);
	gdoi_bytes subj = gdoi_cert_subject_der(got);
	assert_int_equal(subj.len, ids[0].data.len);
	assert_memory_equal(subj.ptr, ids[0].data.ptr, subj.len);
	size_t dn_len = 0;
	uint8_t *dn = certgen_subject_der(leaf, &dn_len);
	assert_non_null(dn);
	assert_int_equal(dn_len, subj.len);
	assert_memory_equal(dn, subj.ptr, subj.len);
	free(dn);

	uint8_t v4[4] = { 192, 0, 2, 7 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	v6[15] = 7;
	assert_int_equal(gdoi_cert_match_id(got, 9, subj), GDOI_OK);
	assert_int_equal(gdoi_cert_match_id(got, 2, GDOI_BYTES("GM1.Example.ORG", 15)), GDOI_OK);
	assert_int_equal(gdoi_cert_match_id(got, 3, GDOI_BYTES("gm@example.org", 14)), GDOI_OK);
	assert_int_equal(gdoi_cert_match_id(got, 1, GDOI_BYTES(v4, 4)), GDOI_OK);
	assert_int_equal(gdoi_cert_match_id(got, 5, GDOI_BYTES(v6, 16)), GDOI_OK);
	assert_int_equal(gdoi_cert_match_id(got, 2, GDOI_BYTES("gm2.example.org", 15)),
			 GDOI_ERR_NOT_AUTHORIZED);
	assert_int_equal(gdoi_cert_match_id(got, 2, GDOI_BYTES("gm1.example.or", 14)),
			 GDOI_ERR_NOT_AUTHORIZED);
	v4[3] = 8;
	assert_int_equal(gdoi_cert_match_id(got, 1, GDOI_BYTES(v4, 4)), GDOI_ERR_NOT_AUTHORIZED);
	assert_int_equal(gdoi_cert_match_id(got, 9, GDOI_BYTES(subj.ptr, subj.len - 1)),
			 GDOI_ERR_NOT_AUTHORIZED);
	assert_int_equal(gdoi_cert_match_id(got, 11, GDOI_BYTES("1234", 4)), GDOI_ERR_NOT_AUTHORIZED);
	gdoi_cert_free(got);

	/* a leaf from another CA (with the same name) fails */
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(stranger_der.p, stranger_der.n), NULL, 0,
					   now, &got, &why), GDOI_ERR_CERT);
	assert_null(got);
	assert_string_not_equal(why, "ok");
	/* not yet valid / expired at the caller's clock */
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(leaf_der.p, leaf_der.n), NULL, 0,
					   now + 3 * 86400, NULL, &why), GDOI_ERR_CERT);
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(leaf_der.p, leaf_der.n), NULL, 0,
					   now - 3 * 86400, NULL, NULL), GDOI_ERR_CERT);
	/* CA -> intermediate -> leaf2: needs the intermediate */
	gdoi_bytes chain = GDOI_BYTES(int_der.p, int_der.n);
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(leaf2_der.p, leaf2_der.n), &chain, 1, now,
					   NULL, &why), GDOI_OK);
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(leaf2_der.p, leaf2_der.n), NULL, 0, now,
					   NULL, &why), GDOI_ERR_CERT);
	/* the leaf cannot pose as its own intermediate; garbage is not a certificate */
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES("\x30\x03\x02\x01\x01", 5), NULL, 0, now,
					   NULL, &why), GDOI_ERR_CERT);

	/* with the other CA trusted too, the stranger verifies */
	assert_int_equal(gdoi_trust_add(trust, GDOI_BYTES(other_pem.p, other_pem.n)), GDOI_OK);
	assert_int_equal(gdoi_trust_verify(trust, GDOI_BYTES(stranger_der.p, stranger_der.n), NULL, 0,
					   now, NULL, NULL), GDOI_OK);

	/* load from PEM and DER */
	struct blob lp = cert_pem(leaf);
	assert_int_equal(gdoi_cert_load(GDOI_BYTES(lp.p, lp.n), &got), GDOI_OK);
	assert_memory_equal(gdoi_cert_der(got).ptr, leaf_der.p, leaf_der.n);
	gdoi_cert_free(got);
	assert_int_equal(gdoi_cert_load(GDOI_BYTES(leaf_der.p, leaf_der.n), &got), GDOI_OK);
	gdoi_cert_free(got);
	assert_int_equal(gdoi_cert_load(GDOI_BYTES(leaf_der.p, leaf_der.n - 1), &got), GDOI_ERR_VALUE);
	assert_null(got);

	free(lp.p);
	free(ca_pem.p);
	free(other_pem.p);
	free(leaf_der.p);
	free(leaf2_der.p);
	free(int_der.p);
	free(stranger_der.p);
	gdoi_trust_free(trust);
	X509_free(ca);
	X509_free(other);
	X509_free(inter);
	X509_free(leaf);
	X509_free(leaf2);
	X509_free(stranger);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(int_key);
}

/* RFC 7427 RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32): OpenSSL verifies our
 * signature of parts[0] | parts[1] with those parameters, our verifier takes
 * OpenSSL's and refuses ours under the PKCS#1 v1.5 AlgorithmIdentifier, or
 * altered; the AlgorithmIdentifier is the one OpenSSL writes for a PSS certificate. */
static void test_sig7427_rsa_pss_sha256_against_openssl(void **state)
{
	(void)state;
	static const uint8_t a[] = "signed ", b[] = "octets";
	gdoi_bytes parts[2] = { GDOI_BYTES(a, 7), GDOI_BYTES(b, 6) }, v1;
	struct gdoi_key *key = load_priv(rsa), *pub = load_pub(rsa);
	uint8_t sig[GDOI_SIG_MAX_LEN], theirs[512];
	size_t n = 0, tn = sizeof(theirs);
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(gdoi_sig7427_sign_pss(key, parts, 2, sig, sizeof(sig), &n), GDOI_OK);
	assert_int_equal(n, 256);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, rsa), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, n, (const uint8_t *)"signed octets", 13), 1);
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, rsa), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	assert_int_equal(EVP_DigestSign(md, theirs, &tn, (const uint8_t *)"signed octets", 13), 1);
	EVP_MD_CTX_free(md);
	assert_int_equal(gdoi_sig7427_verify(pub, gdoi_sig7427_algid_pss(), parts, 2,
					     GDOI_BYTES(theirs, tn)), GDOI_OK);
	assert_int_equal(gdoi_sig7427_verify(pub, gdoi_sig7427_algid_pss(), parts, 2,
					     GDOI_BYTES(sig, n)), GDOI_OK);
	assert_int_equal(gdoi_sig7427_algid(pub, GDOI_MD_SHA256, &v1), GDOI_OK);
	assert_int_equal(gdoi_sig7427_verify(pub, v1, parts, 2, GDOI_BYTES(sig, n)), GDOI_ERR_AUTH);
	sig[100] ^= 1;
	assert_int_equal(gdoi_sig7427_verify(pub, gdoi_sig7427_algid_pss(), parts, 2,
					     GDOI_BYTES(sig, n)), GDOI_ERR_AUTH);

	/* the AlgorithmIdentifier of a certificate OpenSSL signs with these parameters */
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_pubkey(x, rsa), 1);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, rsa), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	assert_true(X509_sign_ctx(x, md) > 0);
	const X509_ALGOR *alg = NULL;
	X509_get0_signature(NULL, &alg, x);
	unsigned char *der = NULL;
	int dl = i2d_X509_ALGOR(alg, &der);
	gdoi_bytes want = gdoi_sig7427_algid_pss();
	assert_int_equal(dl, (int)want.len);
	assert_memory_equal(der, want.ptr, want.len);
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	X509_free(x);
	gdoi_key_free(key);
	gdoi_key_free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_load_takes_pem_and_der_refuses_garbage_and_weak_keys),
		cmocka_unit_test(test_key_spki_round_trips_every_key_type),
		cmocka_unit_test(test_ike_rsa_signature_recovers_hash_refuses_tampering),
		cmocka_unit_test(test_ike_ecdsa_signature_is_rfc4754_r_and_s),
		cmocka_unit_test(test_rekey_rsa_verifies_digestinfo_and_raw_hash_forms),
		cmocka_unit_test(test_rekey_ecdsa_implies_curve_hash),
		cmocka_unit_test(test_rekey_verifies_reference_gcks_signatures),
		cmocka_unit_test(test_cert_chain_verifies_to_own_ca_at_callers_clock),
		cmocka_unit_test(test_sig7427_rsa_pss_sha256_against_openssl),
	};
	return cmocka_run_group_tests_name("sign", tests, setup, teardown);
}
