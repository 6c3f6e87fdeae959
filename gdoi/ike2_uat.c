/*
 * ike2_uat.c - one entry of Wireshark's IKEv2 decryption table (the
 * "ikev2_decryption_table" UAT), written and read:
 *
 *   SPIi,SPIr,SK_ei,SK_er,"ENCR",SK_ai,SK_ar,"INTEG"
 *
 * hex SPIs and keys (SK_e* with the 4-octet GCM salt, as strongSwan's
 * save-keys plugin writes it; SK_a* empty with GCM), ENCR and INTEG by the
 * names tshark's table uses. This is how a debugging peer hands its SK keys
 * to tshark and to gdoi-dump alike; nothing here does I/O.
 */
#include "ike2_keys.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ike2_numbers.h"
#include "bytes.h"

/* The encryption algorithms gdoi_ike2_sk_open implements, by tshark's name. */
static const struct {
	uint16_t encr, bits;
	const char *name;
} encrs[] = {
	{ GDOI_IKE2_ENCR_AES_CBC, 128, "AES-CBC-128 [RFC3602]" },
	{ GDOI_IKE2_ENCR_AES_CBC, 192, "AES-CBC-192 [RFC3602]" },
	{ GDOI_IKE2_ENCR_AES_CBC, 256, "AES-CBC-256 [RFC3602]" },
	{ GDOI_IKE2_ENCR_AES_GCM_16, 128, "AES-GCM-128 with 16 octet ICV [RFC5282]" },
	{ GDOI_IKE2_ENCR_AES_GCM_16, 192, "AES-GCM-192 with 16 octet ICV [RFC5282]" },
	{ GDOI_IKE2_ENCR_AES_GCM_16, 256, "AES-GCM-256 with 16 octet ICV [RFC5282]" },
};

static const struct {
	uint16_t integ;
	enum gdoi_md md;
	size_t icv;
	const char *name;
} integs[] = {
	{ GDOI_IKE2_AUTH_NONE, GDOI_MD_NONE, 0, "NONE [RFC4306]" },
	{ GDOI_IKE2_AUTH_HMAC_SHA2_256_128, GDOI_MD_SHA256, 16, "HMAC_SHA2_256_128 [RFC4868]" },
	{ GDOI_IKE2_AUTH_HMAC_SHA2_384_192, GDOI_MD_SHA384, 24, "HMAC_SHA2_384_192 [RFC4868]" },
	{ GDOI_IKE2_AUTH_HMAC_SHA2_512_256, GDOI_MD_SHA512, 32, "HMAC_SHA2_512_256 [RFC4868]" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *gdoi_ike2_uat_encr_name(uint16_t encr, uint16_t key_bits)
{
	for (size_t i = 0; i < N(encrs); i++)
		if (encrs[i].encr == encr && encrs[i].bits == key_bits)
			return encrs[i].name;
	return NULL;
}

const char *gdoi_ike2_uat_integ_name(uint16_t integ)
{
	for (size_t i = 0; i < N(integs); i++)
		if (integs[i].integ == integ)
			return integs[i].name;
	return NULL;
}

/* Appends n octets as hex; false when cap is too small. */
static bool put_hex(char *buf, size_t cap, size_t *at, const uint8_t *p, size_t n)
{
	if (cap - *at < 2 * n + 1)
		return false;
	gdoi_hex_encode(p, n, buf + *at);
	*at += 2 * n;
	return true;
}

static bool put_str(char *buf, size_t cap, size_t *at, const char *s)
{
	size_t n = strlen(s);
	if (cap - *at < n + 1)
		return false;
	memcpy(buf + *at, s, n + 1);
	*at += n;
	return true;
}

int gdoi_ike2_uat_format(const uint8_t spi_i[8], const uint8_t spi_r[8],
			 const struct gdoi_ike2_keys *k, char *buf, size_t cap)
{
	const char *en = gdoi_ike2_uat_encr_name(k->encr, (uint16_t)(k->enc_key_len * 8));
	const char *in = gdoi_ike2_uat_integ_name(k->integ);
	size_t el = k->enc_key_len + k->salt_len, al = k->integ ? k->integ_key_len : 0, at = 0;
	if (!en || !in || cap == 0)
		return GDOI_ERR_UNSUPPORTED;
	bool ok = put_hex(buf, cap, &at, spi_i, 8) && put_str(buf, cap, &at, ",") &&
		  put_hex(buf, cap, &at, spi_r, 8) && put_str(buf, cap, &at, ",") &&
		  put_hex(buf, cap, &at, k->sk_ei, el) && put_str(buf, cap, &at, ",") &&
		  put_hex(buf, cap, &at, k->sk_er, el) && put_str(buf, cap, &at, ",\"") &&
		  put_str(buf, cap, &at, en) && put_str(buf, cap, &at, "\",") &&
		  put_hex(buf, cap, &at, k->sk_ai, al) && put_str(buf, cap, &at, ",") &&
		  put_hex(buf, cap, &at, k->sk_ar, al) && put_str(buf, cap, &at, ",\"") &&
		  put_str(buf, cap, &at, in) && put_str(buf, cap, &at, "\"");
	if (!ok) {
		gdoi_wipe(buf, cap);
		return GDOI_ERR_TOO_BIG;
	}
	return GDOI_OK;
}

/* The next comma-separated field of *s (quotes removed), into f. */
static bool field(const char **s, char *f, size_t cap)
{
	const char *p = *s;
	size_t n = 0;
	bool quoted = *p == '"';
	if (quoted)
		p++;
	while (*p && (quoted ? *p != '"' : *p != ',')) {
		if (n + 1 >= cap)
			return false;
		f[n++] = *p++;
	}
	f[n] = '\0';
	if (quoted) {
		if (*p != '"')
			return false;
		p++;
	}
	if (*p == ',')
		p++;
	else if (*p && *p != '\r' && *p != '\n')
		return false;
	*s = p;
	return true;
}

static bool hex_exact(const char *f, uint8_t *out, size_t want)
{
	return strlen(f) == 2 * want &&
	       (want == 0 || gdoi_hex_decode(f, out, want) == (long)want);
}

int gdoi_ike2_uat_parse(const char *line, uint8_t spi_i[8], uint8_t spi_r[8],
			struct gdoi_ike2_keys *k, char *why, size_t wl)
{
	char f[8][160];
	const char *s = line;
	int rc = GDOI_ERR_VALUE;
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < 8; i++) {
		if (!field(&s, f[i], sizeof(f[i]))) {
			snprintf(why, wl, "field %zu is malformed or too long (want "
				 "SPIi,SPIr,SK_ei,SK_er,\"ENCR\",SK_ai,SK_ar,\"INTEG\")", i + 1);
			goto out;
		}
	}
	size_t e, a;
	for (e = 0; e < N(encrs) && strcmp(encrs[e].name, f[4]) != 0; e++)
		;
	for (a = 0; a < N(integs) && strcmp(integs[a].name, f[7]) != 0; a++)
		;
	if (e == N(encrs) || a == N(integs)) {
		snprintf(why, wl, "unsupported algorithm \"%s\"", e == N(encrs) ? f[4] : f[7]);
		goto out;
	}
	bool gcm = encrs[e].encr == GDOI_IKE2_ENCR_AES_GCM_16;
	if (gcm != (integs[a].integ == GDOI_IKE2_AUTH_NONE)) {
		snprintf(why, wl, "%s needs %s integrity", encrs[e].name, gcm ? "NONE" : "HMAC");
		goto out;
	}
	k->encr = encrs[e].encr;
	k->enc_key_len = encrs[e].bits / 8;
	k->salt_len = gcm ? 4 : 0;
	k->iv_len = gcm ? 8 : 16;
	k->integ = integs[a].integ;
	k->integ_md = integs[a].md;
	k->icv_len = gcm ? 16 : integs[a].icv;
	k->integ_key_len = gdoi_md_len(k->integ_md);
	size_t el = k->enc_key_len + k->salt_len;
	if (!hex_exact(f[0], spi_i, 8) || !hex_exact(f[1], spi_r, 8)) {
		snprintf(why, wl, "the SPIs must be 16 hex digits each");
		goto out;
	}
	if (!hex_exact(f[2], k->sk_ei, el) || !hex_exact(f[3], k->sk_er, el)) {
		snprintf(why, wl, "SK_ei and SK_er must be %zu hex digits each for %s", 2 * el,
			 encrs[e].name);
		goto out;
	}
	if (!hex_exact(f[5], k->sk_ai, k->integ_key_len) ||
	    !hex_exact(f[6], k->sk_ar, k->integ_key_len)) {
		snprintf(why, wl, "SK_ai and SK_ar must be %zu hex digits each for %s",
			 2 * k->integ_key_len, integs[a].name);
		goto out;
	}
	rc = GDOI_OK;
out:
	gdoi_wipe(f, sizeof(f));
	if (rc)
		gdoi_wipe(k, sizeof(*k));
	return rc;
}
