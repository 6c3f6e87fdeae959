/*
 * config_values.c - the value parsers of the gdoi-ks configuration (addresses,
 * identities, SRTP profiles, Phase 1 suites), shared with the admin socket.
 */
#include "keyserver/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/addr.h"
#include "gdoi/numbers.h"

bool ks_parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	if (!*v || *v == '-')
		return false;
	unsigned long long x = strtoull(v, &end, 0);
	if (errno || *end || x < min || x > max)
		return false;
	*out = (uint32_t)x;
	return true;
}

int ks_parse_inet(const char *s, struct ks_inet *out, uint16_t default_port, bool need_port)
{
	struct dm_addr a;

	if (dm_addr_parse(s, default_port, need_port ? DM_ADDR_NEED_PORT : 0, &a))
		return -1;
	memset(out, 0, sizeof *out);
	out->len = a.family == AF_INET ? 4 : 16;
	memcpy(out->ip, a.ip, out->len);
	out->port = a.port;
	return 0;
}

const char *ks_inet_format(const struct ks_inet *a, char *out, size_t cap)
{
	dm_addr_format(a->ip, a->len, a->port, out, cap);
	return out;
}

int ks_parse_mcast_if(const char *s, struct ks_mcast_if *out)
{
	uint32_t index;

	memset(out, 0, sizeof *out);
	if (!ks_parse_inet(s, &out->addr, 0, false))
		return out->addr.port ? -1 : 0;
	if (ks_parse_u32(s, 1, UINT32_MAX, &index)) {
		out->index = index;
		return 0;
	}
	/* a name the kernel could hold: IF_NAMESIZE with its NUL, no '/', ':' or blanks */
	if (!*s || strlen(s) >= sizeof out->name || strpbrk(s, "/: \t"))
		return -1;
	snprintf(out->name, sizeof out->name, "%s", s);
	return 0;
}

bool ks_mcast_if_set(const struct ks_mcast_if *i)
{
	return i->addr.len || i->name[0] || i->index;
}

static const struct { const char *name; uint8_t type; } id_types[] = {
	{ "ipv4", GDOI_ID_IPV4_ADDR }, { "fqdn", GDOI_ID_FQDN }, { "user", GDOI_ID_USER_FQDN },
	{ "user_fqdn", GDOI_ID_USER_FQDN }, { "keyid", GDOI_ID_KEY_ID }, { "ipv6", GDOI_ID_IPV6_ADDR },
};

int ks_parse_ident(const char *s, struct ks_ident *out)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return -1;
	size_t tn = (size_t)(colon - s);
	const char *v = colon + 1;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(id_types) / sizeof(id_types[0]); i++) {
		if (strlen(id_types[i].name) != tn || strncasecmp(s, id_types[i].name, tn))
			continue;
		out->type = id_types[i].type;
		if (out->type == GDOI_ID_IPV4_ADDR)
			return inet_pton(AF_INET, v, out->data) == 1 ? (out->len = 4, 0) : -1;
		if (out->type == GDOI_ID_IPV6_ADDR)
			return inet_pton(AF_INET6, v, out->data) == 1 ? (out->len = 16, 0) : -1;
		size_t n = strlen(v);
		if (n > KS_MAX_ID)
			return -1;
		memcpy(out->data, v, n);
		out->len = n;
		return 0;
	}
	return -1;
}

void ks_ident_format(uint8_t type, const uint8_t *data, size_t len, char *out, size_t cap)
{
	const char *tn = NULL;
	for (size_t i = 0; i < sizeof(id_types) / sizeof(id_types[0]) && !tn; i++)
		if (id_types[i].type == type)
			tn = id_types[i].name;
	if (type == GDOI_ID_IPV4_ADDR && len == 4) {
		snprintf(out, cap, "ipv4:%u.%u.%u.%u", data[0], data[1], data[2], data[3]);
		return;
	}
	if (type == GDOI_ID_IPV6_ADDR && len == 16) {
		char b[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, data, b, sizeof(b));
		snprintf(out, cap, "ipv6:%s", b);
		return;
	}
	int n = snprintf(out, cap, "%s:", tn ? tn : "id");
	if (!tn) {
		n = snprintf(out, cap, "type%u:", type);
	}
	/* Printable text as is, anything else as hex. */
	bool text = true;
	for (size_t i = 0; i < len; i++)
		if (!isprint(data[i]))
			text = false;
	for (size_t i = 0; i < len && n > 0 && (size_t)n + 3 < cap; i++)
		n += text ? snprintf(out + n, cap - (size_t)n, "%c", data[i])
			  : snprintf(out + n, cap - (size_t)n, "%02x", data[i]);
}

static const struct { const char *name; uint16_t profile; } profiles[] = {
	{ "AES128_CM_SHA1_80", GDOI_SRTP_AES128_CM_SHA1_80 },
	{ "AES128_CM_SHA1_32", GDOI_SRTP_AES128_CM_SHA1_32 },
	{ "NULL_SHA1_80", GDOI_SRTP_NULL_SHA1_80 },
	{ "NULL_SHA1_32", GDOI_SRTP_NULL_SHA1_32 },
	{ "AEAD_AES_128_GCM", GDOI_SRTP_AEAD_AES_128_GCM },
	{ "AEAD_AES_256_GCM", GDOI_SRTP_AEAD_AES_256_GCM },
};

/* ESP TEKs (RFC 6407 §5.5.1), "esp:" and the suite; codes outside the SRTP range. */
static const struct ks_esp_suite esp_suites[] = {
	{ "aes128-cbc-sha1", KS_TEK_ESP_AES128_CBC_SHA1, 12, 128, 2 },		/* ESP_AES, HMAC-SHA1 */
	{ "aes256-cbc-sha256", KS_TEK_ESP_AES256_CBC_SHA256, 12, 256, 5 },	/* ESP_AES, HMAC-SHA2-256 */
	{ "3des-cbc-sha1", KS_TEK_ESP_3DES_CBC_SHA1, 3, 0, 2 },		/* ESP_3DES, HMAC-SHA1 */
};

const struct ks_esp_suite *ks_esp_suite(uint16_t profile)
{
	for (size_t i = 0; i < sizeof(esp_suites) / sizeof(esp_suites[0]); i++)
		if (esp_suites[i].code == profile)
			return &esp_suites[i];
	return NULL;
}

int ks_parse_profile(const char *s, uint16_t *profile)
{
	if (!strncasecmp(s, "esp:", 4)) {
		for (size_t i = 0; i < sizeof(esp_suites) / sizeof(esp_suites[0]); i++)
			if (!strcasecmp(s + 4, esp_suites[i].name)) {
				*profile = esp_suites[i].code;
				return 0;
			}
		return -1;
	}
	if (!strncasecmp(s, "SRTP_", 5))
		s += 5;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (!strcasecmp(s, profiles[i].name)) {
			*profile = profiles[i].profile;
			return 0;
		}
	}
	/* The long IANA names too (AES128_CM_HMAC_SHA1_80). */
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		const char *full = gdoi_srtp_profile_name(profiles[i].profile) + 5;
		if (!strcasecmp(s, full)) {
			*profile = profiles[i].profile;
			return 0;
		}
	}
	return -1;
}

const char *ks_profile_name(uint16_t profile)
{
	static const char *esp_names[] = { "esp:aes128-cbc-sha1", "esp:aes256-cbc-sha256", "esp:3des-cbc-sha1" };
	const struct ks_esp_suite *e = ks_esp_suite(profile);
	if (e)
		return esp_names[e - esp_suites];
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].profile == profile)
			return profiles[i].name;
	return "UNKNOWN";
}

/* "aes256-sha256-ecp256" and friends. */
int ks_parse_suite(const char *s, struct gdoi_p1_suite *out)
{
	char enc[16], hash[16], grp[16];
	if (sscanf(s, "%15[^-]-%15[^-]-%15s", enc, hash, grp) != 3)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!strcasecmp(enc, "aes128") || !strcasecmp(enc, "aes192") || !strcasecmp(enc, "aes256")) {
		out->enc = GDOI_IKE_ENC_AES;
		out->key_bits = (uint16_t)atoi(enc + 3);
	} else if (!strcasecmp(enc, "3des")) {
		out->enc = GDOI_IKE_ENC_3DES;
	} else {
		return -1;
	}
	static const struct { const char *n; uint16_t v; } hashes[] = {
		{ "sha1", GDOI_IKE_HASH_SHA1 }, { "sha256", GDOI_IKE_HASH_SHA256 },
		{ "sha384", GDOI_IKE_HASH_SHA384 }, { "sha512", GDOI_IKE_HASH_SHA512 },
	}, groups[] = {
		{ "modp1024", 2 }, { "modp1536", 5 }, { "modp2048", 14 }, { "modp3072", 15 },
		{ "modp4096", 16 }, { "ecp256", 19 }, { "ecp384", 20 }, { "ecp521", 21 },
	};
	for (size_t i = 0; i < 4 && !out->hash; i++)
		if (!strcasecmp(hash, hashes[i].n))
			out->hash = hashes[i].v;
	for (size_t i = 0; i < 8 && !out->group; i++)
		if (!strcasecmp(grp, groups[i].n))
			out->group = groups[i].v;
	return out->hash && out->group ? 0 : -1;
}

