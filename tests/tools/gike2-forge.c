/*
 * gike2-forge.c - test driver: crafts G-IKEv2 GSA_REKEY datagrams (RFC 9838
 * §2.4.1~) for tests/integration/attacks_gikev2_rekey.sh, from one the key
 * server really multicast (CAPTURE) and the key server's own material read
 * from its state database: the group's KEK (the Rekey SA is a function of it,
 * keyserver/rekey_ikev2.c) and its rekey signing key. Every group member holds
 * the Rekey SA's keys, so a malicious member can produce a valid ICV: only the
 * Message ID and the GCKS's signature stand between it and the group.
 *
 *   gike2-forge MODE CAPTURE OUT --kek-spi HEX --kek-key HEX --sign-der HEX [--msgid N]
 *
 * The capture is opened first with the real Rekey SA and the key server's
 * public key (so a wrong derivation here fails loudly instead of making every
 * forgery "refused"); MODE then writes to OUT, under Message ID N (default: the
 * capture's + 100), the capture's content with exactly one flaw:
 *   replay       the capture, unchanged
 *   genuine      re-signed with the key server's key (no flaw: a control)
 *   foreign      re-signed with a fresh P-256 key of our own
 *   icv          genuine, one ciphertext octet flipped
 *   short-sig    a valid ICV; the AUTH signature cut to half its length
 *   short-auth   a valid ICV; an AUTH payload of 3 octets
 *   auth-len     a valid ICV; AUTH's AlgorithmIdentifier length past its end
 *   spi          the capture with its Rekey SA SPI changed (one octet)
 *   length       the capture with its IKE header Length 1000 past the datagram
 *   sk-length    the capture with its SK Payload Length 1000 past the datagram
 *   oversize     a 65507-octet GSA_REKEY (right SPIs), random ciphertext
 *   garbage      1000 random octets that claim to be IKEv2 (version 0x20,
 *                Exchange Type INFORMATIONAL)
 * Exit: 0 written, 1 failed (reason on stderr), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/arena.h"
#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/gike2_rekey.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/sign.h"

#define SK_AT GIKE2_HDR_LEN			/* the SK payload's generic header */
#define CT_AT (SK_AT + 4 + GIKE2_GCM_IV_LEN)	/* its ciphertext */

static int fail(const char *what, int rc)
{
	fprintf(stderr, "gike2-forge: %s: %s\n", what, rc ? gdoi_strerror(rc) : "failed");
	return 1;
}

/* The Rekey SA of the KEK as gdoi-ks derives it (keyserver/rekey_ikev2.c). */
static int rekey_sa(struct gike2_rekey_sa *sa, const uint8_t *spi, gdoi_bytes kek)
{
	static const char label[] = "G-IKEv2 Rekey SA";
	uint8_t km[64];
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->spi, spi, GIKE2_SPI_SIZE_REKEY);
	sa->encr = GIKE2_ENCR_AES_GCM_16;
	sa->encr_key_bits = 128;
	sa->kwa = GIKE2_KWA_5649_128;
	sa->gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	sa->sig_md = GDOI_MD_SHA256;
	gdoi_bytes seed[2] = { GDOI_BYTES(label, sizeof(label) - 1), GDOI_BYTES(spi, 16) };
	size_t n = gike2_rekey_keymat_len(sa);
	int rc = gdoi_ike2_prf_plus(GDOI_MD_SHA256, kek, seed, 2, km, n);
	if (rc == 0)
		rc = gike2_rekey_set_keys(sa, GDOI_BYTES(km, n));
	gdoi_wipe(km, sizeof(km));
	return rc;
}

/* A fresh P-256 key pair (OpenSSL directly: gdoi/ only loads keys). */
static struct gdoi_key *foreign_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	PKCS8_PRIV_KEY_INFO *p8 = k ? EVP_PKEY2PKCS8(k) : NULL;
	unsigned char *der = NULL;
	int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	struct gdoi_key *out = NULL;
	if (n > 0)
		(void)gdoi_key_load_private(GDOI_BYTES(der, (size_t)n), &out);
	OPENSSL_free(der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(k);
	return out;
}

static size_t hex_arg(const char *hex, uint8_t *out, size_t cap, const char *what)
{
	long n = hex ? gdoi_hex_decode(hex, out, cap) : -1;
	if (n <= 0) {
		fprintf(stderr, "gike2-forge: %s: hex expected\n", what);
		exit(2);
	}
	return (size_t)n;
}

/* An AUTH payload body with one flaw (mode), signing nothing real: sealed with a
 * valid ICV under the implicit-GCAUTH path of gike2_rekey_build, the member
 * (Digital Signature policy) must refuse it at the AUTH payload. */
static int bad_auth(const char *mode, const struct gdoi_key *k, struct gdoi_writer *b)
{
	gdoi_bytes algid, part = GDOI_BYTES("x", 1);
	uint8_t sig[GDOI_SIG_MAX_LEN];
	size_t sl = 0;
	int rc = gdoi_sig7427_algid(k, GDOI_MD_SHA256, &algid);
	if (rc == 0)
		rc = gdoi_sig7427_sign(k, GDOI_MD_SHA256, &part, 1, sig, sizeof(sig), &sl);
	if (rc)
		return rc;
	if (!strcmp(mode, "short-auth")) {
		gdoi_write_u8(b, GIKE2_AUTH_DIGITAL_SIGNATURE);
		gdoi_write_zeros(b, 2);
		return 0;
	}
	gdoi_write_u8(b, GIKE2_AUTH_DIGITAL_SIGNATURE);
	gdoi_write_zeros(b, 3);
	if (!strcmp(mode, "auth-len")) {
		gdoi_write_u8(b, 0xff);	/* 255 octets of AlgorithmIdentifier, far fewer here */
		gdoi_write_bytes(b, algid.ptr, algid.len);
		return 0;
	}
	gdoi_write_u8(b, (uint8_t)algid.len);
	gdoi_write_bytes(b, algid.ptr, algid.len);
	gdoi_write_bytes(b, sig, sl / 2);	/* short-sig */
	return 0;
}

static int forge(const char *mode, struct gike2_rekey_sa *sa, const struct gike2_pl *pl, size_t n,
		 const struct gdoi_key *ks_key, const uint8_t *cap, size_t cap_len,
		 struct gdoi_writer *w)
{
	uint32_t id = sa->msgid;
	if (!strcmp(mode, "replay")) {
		gdoi_write_bytes(w, cap, cap_len);
	} else if (!strcmp(mode, "genuine") || !strcmp(mode, "icv") || !strcmp(mode, "foreign")) {
		struct gdoi_key *k = strcmp(mode, "foreign") ? NULL : foreign_key();
		if (!strcmp(mode, "foreign") && !k)
			return fail("a key of our own", 0);
		int rc = gike2_rekey_build(sa, pl, n, k ? k : ks_key, w);
		gdoi_key_free(k);
		if (rc)
			return fail("gike2_rekey_build", rc);
		if (!strcmp(mode, "icv"))
			w->buf[CT_AT + 5] ^= 0x01;
	} else if (!strcmp(mode, "short-sig") || !strcmp(mode, "short-auth") ||
		   !strcmp(mode, "auth-len")) {
		struct gike2_pl all[16];
		struct gdoi_writer auth;
		if (n + 1 > sizeof(all) / sizeof(all[0]))
			return fail("too many payloads", 0);
		gdoi_writer_init(&auth);
		int rc = bad_auth(mode, ks_key, &auth);
		memcpy(all, pl, n * sizeof(*pl));
		all[n] = (struct gike2_pl){ GIKE2_PL_AUTH, false, GDOI_BYTES(auth.buf, auth.len) };
		sa->gcauth = GIKE2_GCAUTH_IMPLICIT;	/* our AUTH goes in as it is */
		if (rc == 0)
			rc = gike2_rekey_build(sa, all, n + 1, NULL, w);
		gdoi_writer_free(&auth);
		if (rc)
			return fail("gike2_rekey_build", rc);
	} else if (!strcmp(mode, "spi") || !strcmp(mode, "length") || !strcmp(mode, "sk-length")) {
		gdoi_write_bytes(w, cap, cap_len);
		if (w->failed)
			return fail("out of memory", 0);
		gdoi_put_u32(w->buf + 20, id);
		if (!strcmp(mode, "spi"))
			w->buf[15] ^= 0x5a;	/* SPIr's last octet */
		else if (!strcmp(mode, "length"))
			gdoi_put_u32(w->buf + 24, (uint32_t)cap_len + 1000);
		else
			gdoi_put_u16(w->buf + SK_AT + 2, (uint16_t)(cap_len - SK_AT + 1000));
	} else if (!strcmp(mode, "oversize") || !strcmp(mode, "garbage")) {
		size_t len = !strcmp(mode, "oversize") ? 65507 : 1000;
		size_t at = gdoi_write_reserve(w, len);
		if (w->failed || gdoi_random(w->buf + at, len))
			return fail("random octets", 0);
		w->buf[17] = 0x20;
		w->buf[18] = 37;	/* INFORMATIONAL: never GSA_REKEY by chance */
		if (len == 65507) {	/* a GSA_REKEY header of the right Rekey SA */
			memcpy(w->buf, cap, SK_AT + 4);
			gdoi_put_u32(w->buf + 20, id);
			gdoi_put_u32(w->buf + 24, (uint32_t)len);
			gdoi_put_u16(w->buf + SK_AT + 2, (uint16_t)(len - SK_AT));
		}
	} else {
		fprintf(stderr, "gike2-forge: unknown mode %s\n", mode);
		return 2;
	}
	if (w->failed)
		return fail("out of memory", 0);
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(65536);
	*len = f && b ? fread(b, 1, 65536, f) : 0;
	if (f)
		fclose(f);
	if (!*len) {
		free(b);
		return NULL;
	}
	return b;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "kek-spi", 1, NULL, 's' }, { "kek-key", 1, NULL, 'k' },
					      { "sign-der", 1, NULL, 'd' }, { "msgid", 1, NULL, 'm' },
					      { NULL, 0, NULL, 0 } };
	const char *spi_hex = NULL, *key_hex = NULL, *der_hex = NULL, *msgid = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': spi_hex = optarg; break;
		case 'k': key_hex = optarg; break;
		case 'd': der_hex = optarg; break;
		case 'm': msgid = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: gike2-forge MODE CAPTURE OUT --kek-spi HEX --kek-key HEX "
				"--sign-der HEX [--msgid N]\n");
		return 2;
	}
	const char *mode = argv[optind], *out_path = argv[optind + 2];
	uint8_t spi[16], kek[64], der[4096];
	if (hex_arg(spi_hex, spi, sizeof(spi), "--kek-spi") != sizeof(spi))
		return fail("--kek-spi: 16 octets expected", 0);
	size_t kl = hex_arg(key_hex, kek, sizeof(kek), "--kek-key");
	size_t dl = hex_arg(der_hex, der, sizeof(der), "--sign-der");
	size_t cap_len;
	uint8_t *cap = read_file(argv[optind + 1], &cap_len);
	struct gdoi_key *ks_key = NULL;
	struct gike2_rekey_sa sa;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl *pl = NULL;
	struct gdoi_parse_error pe;
	size_t n = 0;
	uint32_t id = 0;
	int rc;
	if (!cap || !a)
		return fail(argv[optind + 1], 0);
	if ((rc = gdoi_key_load_private(GDOI_BYTES(der, dl), &ks_key)))
		return fail("--sign-der", rc);
	if ((rc = rekey_sa(&sa, spi, GDOI_BYTES(kek, kl))))
		return fail("the Rekey SA of the KEK", rc);
	if ((rc = gike2_rekey_open(&sa, cap, cap_len, ks_key, a, &pl, &n, &id, &pe))) {
		fprintf(stderr, "gike2-forge: the capture does not open under the KEK's Rekey SA: "
				"%s: %s at offset %zu\n", gdoi_strerror(rc), pe.what, pe.offset);
		return 1;
	}
	sa.msgid = msgid ? (uint32_t)strtoul(msgid, NULL, 0) : id + 100;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	uint32_t used = sa.msgid;
	rc = forge(mode, &sa, pl, n, ks_key, cap, cap_len, &w);
	FILE *f = rc ? NULL : fopen(out_path, "wb");
	if (!rc && (!f || fwrite(w.buf, 1, w.len, f) != w.len))
		rc = fail(out_path, 0);
	if (f && fclose(f))
		rc = fail(out_path, 0);
	if (!rc)
		printf("%s: %zu octets, Message ID %u (the capture's %u)\n", mode, w.len,
		       !strcmp(mode, "replay") ? id : used, id);
	gdoi_writer_free(&w);
	gike2_rekey_sa_clear(&sa);
	gdoi_key_free(ks_key);
	gdoi_arena_free(a);
	gdoi_wipe(kek, sizeof(kek));
	gdoi_wipe(der, sizeof(der));
	free(cap);
	return rc;
}
