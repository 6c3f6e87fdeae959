/* crypto.c - digests, HMAC, CBC, RNG over OpenSSL 3 EVP (see crypto.h). */
#include "crypto.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "err.h"

/* --- digests --------------------------------------------------------------- */

struct md_info {
	const char *name;	/* OpenSSL fetch name */
	size_t len, block;
	uint16_t ike, sig_hash;	/* wire numbers; 0 = none */
};

static const struct md_info md_table[] = {
	[GDOI_MD_MD5]    = { "MD5",    16,  64, 1, 1 },
	[GDOI_MD_SHA1]   = { "SHA1",   20,  64, 2, 2 },
	[GDOI_MD_SHA256] = { "SHA256", 32,  64, 4, 3 },
	[GDOI_MD_SHA384] = { "SHA384", 48, 128, 5, 4 },
	[GDOI_MD_SHA512] = { "SHA512", 64, 128, 6, 5 },
};

static const struct md_info *md_info(enum gdoi_md md)
{
	if (md <= GDOI_MD_NONE || md > GDOI_MD_SHA512)
		return NULL;
	return &md_table[md];
}

size_t gdoi_md_len(enum gdoi_md md)
{
	const struct md_info *i = md_info(md);
	return i ? i->len : 0;
}

size_t gdoi_md_block_len(enum gdoi_md md)
{
	const struct md_info *i = md_info(md);
	return i ? i->block : 0;
}

const char *gdoi_md_name(enum gdoi_md md)
{
	const struct md_info *i = md_info(md);
	return i ? i->name : "none";
}

enum gdoi_md gdoi_md_from_ike(uint16_t attr)
{
	for (int m = GDOI_MD_MD5; m <= GDOI_MD_SHA512; m++)
		if (attr != 0 && md_table[m].ike == attr)
			return (enum gdoi_md)m;
	return GDOI_MD_NONE;
}

uint16_t gdoi_md_to_ike(enum gdoi_md md)
{
	const struct md_info *i = md_info(md);
	return i ? i->ike : 0;
}

enum gdoi_md gdoi_md_from_sig_hash(uint16_t attr)
{
	for (int m = GDOI_MD_MD5; m <= GDOI_MD_SHA512; m++)
		if (attr != 0 && md_table[m].sig_hash == attr)
			return (enum gdoi_md)m;
	return GDOI_MD_NONE;
}

uint16_t gdoi_md_to_sig_hash(enum gdoi_md md)
{
	const struct md_info *i = md_info(md);
	return i ? i->sig_hash : 0;
}

static const EVP_MD *md_evp(enum gdoi_md md);
struct tls_ctx;
static struct tls_ctx *tls_ctx(void);
static EVP_MD_CTX *tls_md(void);
static EVP_MAC_CTX *tls_hmac(enum gdoi_md md);
static void tls_hmac_drop(enum gdoi_md md);

int gdoi_hash(enum gdoi_md md, const gdoi_bytes *parts, size_t nparts, uint8_t *out)
{
	const struct md_info *i = md_info(md);
	EVP_MD_CTX *ctx;
	const EVP_MD *evp;
	unsigned int olen = 0;
	int rc = GDOI_ERR_CRYPTO;

	if (i == NULL)
		return GDOI_ERR_UNSUPPORTED;
	if (out == NULL || (nparts > 0 && parts == NULL))
		return GDOI_ERR_INVALID_ARG;
	evp = md_evp(md);
	ctx = tls_md();
	if (evp == NULL || ctx == NULL)
		goto out;
	if (!EVP_DigestInit_ex2(ctx, evp, NULL))
		goto out;
	for (size_t k = 0; k < nparts; k++)
		if (parts[k].len > 0 && !EVP_DigestUpdate(ctx, parts[k].ptr, parts[k].len))
			goto out;
	if (!EVP_DigestFinal_ex(ctx, out, &olen) || olen != i->len)
		goto out;
	rc = GDOI_OK;
out:
	if (ctx != NULL)
		EVP_MD_CTX_reset(ctx);	/* clears the digest state */
	return rc;
}

int gdoi_prf(enum gdoi_md md, gdoi_bytes key, const gdoi_bytes *parts, size_t nparts,
	     uint8_t *out)
{
	static const uint8_t empty_key[1];
	const struct md_info *i = md_info(md);
	EVP_MAC_CTX *ctx;
	size_t olen = 0;
	int rc = GDOI_ERR_CRYPTO;

	if (i == NULL)
		return GDOI_ERR_UNSUPPORTED;
	if (out == NULL || (nparts > 0 && parts == NULL) || (key.len > 0 && key.ptr == NULL))
		return GDOI_ERR_INVALID_ARG;
	if ((ctx = tls_hmac(md)) == NULL)
		return GDOI_ERR_CRYPTO;
	/* HMAC needs a non-NULL key pointer even when the key is empty. */
	if (!EVP_MAC_init(ctx, key.len ? key.ptr : empty_key, key.len, NULL))
		goto out;
	for (size_t k = 0; k < nparts; k++)
		if (parts[k].len > 0 && !EVP_MAC_update(ctx, parts[k].ptr, parts[k].len))
			goto out;
	if (!EVP_MAC_final(ctx, out, &olen, i->len) || olen != i->len)
		goto out;
	/* Re-keyed with the empty key: the copy of the key and the pads derived from
	 * it are cleared and overwritten until the next use. */
	if (!EVP_MAC_init(ctx, empty_key, 0, NULL)) {
		OPENSSL_cleanse(out, i->len);
		goto out;
	}
	return GDOI_OK;
out:
	tls_hmac_drop(md);	/* freeing clears the keyed HMAC state */
	return rc;
}

/* --- CBC ciphers ------------------------------------------------------------ */

struct cipher_info {
	const char *name;
	size_t key, block;
};

static const struct cipher_info cipher_table[] = {
	[GDOI_CIPHER_3DES_CBC]    = { "DES-EDE3-CBC", 24, 8 },
	[GDOI_CIPHER_AES_128_CBC] = { "AES-128-CBC", 16, 16 },
	[GDOI_CIPHER_AES_192_CBC] = { "AES-192-CBC", 24, 16 },
	[GDOI_CIPHER_AES_256_CBC] = { "AES-256-CBC", 32, 16 },
};

/*
 * OpenSSL 3 looks algorithms up by name (locks, hash tables, string compares)
 * on every fetch; a registration runs dozens of hashes, HMACs and CBC
 * operations, so each algorithm is fetched once per process and kept.
 */
static EVP_MD *md_cache[GDOI_MD_SHA512 + 1];
static EVP_CIPHER *cipher_cache[GDOI_CIPHER_AES_256_CBC + 1];
static EVP_MAC *hmac_cache;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	for (int m = GDOI_MD_MD5; m <= GDOI_MD_SHA512; m++)
		md_cache[m] = EVP_MD_fetch(NULL, md_table[m].name, NULL);
	for (int c = GDOI_CIPHER_3DES_CBC; c <= GDOI_CIPHER_AES_256_CBC; c++)
		cipher_cache[c] = EVP_CIPHER_fetch(NULL, cipher_table[c].name, NULL);
	hmac_cache = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const EVP_MD *md_evp(enum gdoi_md md)
{
	pthread_once(&fetch_once, fetch_all);
	return md_cache[md];
}

static const EVP_CIPHER *cipher_evp(enum gdoi_cipher c)
{
	pthread_once(&fetch_once, fetch_all);
	return cipher_cache[c];
}

static EVP_MAC *hmac_evp(void)
{
	pthread_once(&fetch_once, fetch_all);
	return hmac_cache;
}

/*
 * Creating an EVP_MAC_CTX / EVP_CIPHER_CTX / EVP_MD_CTX and setting the HMAC
 * digest by name (a fetch) costs more than the operation on IKE-sized inputs:
 * each thread keeps one context of each kind and re-keys it. A context holds
 * no secret between operations: HMAC is re-keyed with the empty key, cipher
 * and digest contexts are reset (which clears them).
 */
struct tls_ctx {
	EVP_MAC_CTX *hmac[GDOI_MD_SHA512 + 1];
	EVP_CIPHER_CTX *cipher;
	EVP_MD_CTX *md;
};
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
	struct tls_ctx *t = p;

	for (int m = GDOI_MD_MD5; m <= GDOI_MD_SHA512; m++)
		EVP_MAC_CTX_free(t->hmac[m]);
	EVP_CIPHER_CTX_free(t->cipher);
	EVP_MD_CTX_free(t->md);
	free(t);
}

static void tls_init(void)
{
	(void)pthread_key_create(&tls_key, tls_free);
}

static struct tls_ctx *tls_ctx(void)
{
	struct tls_ctx *t;

	pthread_once(&tls_once, tls_init);
	if ((t = pthread_getspecific(tls_key)) != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(tls_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

static EVP_MD_CTX *tls_md(void)
{
	struct tls_ctx *t = tls_ctx();

	if (t != NULL && t->md == NULL)
		t->md = EVP_MD_CTX_new();
	return t != NULL ? t->md : NULL;
}

static EVP_CIPHER_CTX *tls_cipher(void)
{
	struct tls_ctx *t = tls_ctx();

	if (t != NULL && t->cipher == NULL)
		t->cipher = EVP_CIPHER_CTX_new();
	return t != NULL ? t->cipher : NULL;
}

static EVP_MAC_CTX *tls_hmac(enum gdoi_md md)
{
	struct tls_ctx *t = tls_ctx();
	EVP_MAC *mac = hmac_evp();
	OSSL_PARAM params[2];

	if (t == NULL || mac == NULL)
		return NULL;
	if (t->hmac[md] != NULL)
		return t->hmac[md];
	if ((t->hmac[md] = EVP_MAC_CTX_new(mac)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)md_table[md].name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(t->hmac[md], params))
		tls_hmac_drop(md);
	return t->hmac[md];
}

static void tls_hmac_drop(enum gdoi_md md)
{
	struct tls_ctx *t = tls_ctx();

	if (t != NULL) {
		EVP_MAC_CTX_free(t->hmac[md]);
		t->hmac[md] = NULL;
	}
}

static const struct cipher_info *cipher_info(enum gdoi_cipher c)
{
	if (c <= GDOI_CIPHER_NONE || c > GDOI_CIPHER_AES_256_CBC)
		return NULL;
	return &cipher_table[c];
}

size_t gdoi_cipher_key_len(enum gdoi_cipher c)
{
	const struct cipher_info *i = cipher_info(c);
	return i ? i->key : 0;
}

size_t gdoi_cipher_block_len(enum gdoi_cipher c)
{
	const struct cipher_info *i = cipher_info(c);
	return i ? i->block : 0;
}

const char *gdoi_cipher_name(enum gdoi_cipher c)
{
	const struct cipher_info *i = cipher_info(c);
	return i ? i->name : "none";
}

static enum gdoi_cipher aes_by_bits(uint16_t bits)
{
	switch (bits) {
	case 128: return GDOI_CIPHER_AES_128_CBC;
	case 192: return GDOI_CIPHER_AES_192_CBC;
	case 256: return GDOI_CIPHER_AES_256_CBC;
	default: return GDOI_CIPHER_NONE;
	}
}

enum gdoi_cipher gdoi_cipher_from_ike(uint16_t enc, uint16_t key_bits)
{
	switch (enc) {
	case 5:		/* 3DES-CBC */
		return (key_bits == 0 || key_bits == 192) ? GDOI_CIPHER_3DES_CBC : GDOI_CIPHER_NONE;
	case 7:		/* AES-CBC */
		return aes_by_bits(key_bits);
	default:
		return GDOI_CIPHER_NONE;
	}
}

enum gdoi_cipher gdoi_cipher_from_kek(uint16_t alg, uint16_t key_bits)
{
	switch (alg) {
	case 2:		/* KEK_ALG_3DES */
		return (key_bits == 0 || key_bits == 192) ? GDOI_CIPHER_3DES_CBC : GDOI_CIPHER_NONE;
	case 3:		/* KEK_ALG_AES */
		return aes_by_bits(key_bits);
	default:
		return GDOI_CIPHER_NONE;
	}
}

static int cbc(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv,
	       const uint8_t *in, size_t len, uint8_t *out, int enc)
{
	const struct cipher_info *i = cipher_info(c);
	const EVP_CIPHER *evp;
	EVP_CIPHER_CTX *ctx = NULL;
	int olen = 0, flen = 0;
	int rc = GDOI_ERR_CRYPTO;

	if (i == NULL)
		return GDOI_ERR_UNSUPPORTED;
	if (key.ptr == NULL || key.len != i->key || iv.ptr == NULL || iv.len != i->block)
		return GDOI_ERR_INVALID_ARG;
	if (len % i->block != 0)
		return GDOI_ERR_LENGTH;
	if (len > INT_MAX)
		return GDOI_ERR_TOO_BIG;
	if (len == 0)
		return GDOI_OK;
	if (in == NULL || out == NULL)
		return GDOI_ERR_INVALID_ARG;
	evp = cipher_evp(c);
	if (evp == NULL || (ctx = tls_cipher()) == NULL)
		goto out;
	if (!EVP_CipherInit_ex2(ctx, evp, key.ptr, iv.ptr, enc, NULL))
		goto out;
	/* IKE and GDOI pad with zeros themselves; OpenSSL must not add PKCS#7. */
	if (!EVP_CIPHER_CTX_set_padding(ctx, 0))
		goto out;
	if (!EVP_CipherUpdate(ctx, out, &olen, in, (int)len))
		goto out;
	if (!EVP_CipherFinal_ex(ctx, out + olen, &flen) || (size_t)(olen + flen) != len)
		goto out;
	rc = GDOI_OK;
out:
	if (ctx != NULL)
		EVP_CIPHER_CTX_reset(ctx);	/* wipes the key schedule */
	return rc;
}

int gdoi_cbc_encrypt(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv,
		     const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc(c, key, iv, in, len, out, 1);
}

int gdoi_cbc_decrypt(enum gdoi_cipher c, gdoi_bytes key, gdoi_bytes iv,
		     const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc(c, key, iv, in, len, out, 0);
}

/* --- odds and ends ---------------------------------------------------------- */

int gdoi_random(uint8_t *out, size_t len)
{
	if (len > 0 && out == NULL)
		return GDOI_ERR_INVALID_ARG;
	while (len > 0) {
		int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(out, n) != 1)
			return GDOI_ERR_CRYPTO;
		out += n;
		len -= (size_t)n;
	}
	return GDOI_OK;
}

bool gdoi_ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}

void gdoi_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void gdoi_wipe_free(void *p, size_t len)
{
	gdoi_wipe(p, len);
	free(p);
}
