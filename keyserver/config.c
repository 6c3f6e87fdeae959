/*
 * config.c - see config.h. inih reads the INI structure; every value is
 * validated here. The line of each key is known because the file is fed to
 * inih through a reader that counts lines, so that errors found after the
 * whole file was read (a member naming an unknown group) still name a line.
 */
#include "keyserver/config.h"
#include "keyserver/config_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/metrics_http.h"
#include "daemon/addr.h"
#include "gdoi/crypto.h"
#include "gdoi/numbers.h"


static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *r = fgets(str, num, p->f);
	if (r) {
		p->line++;
		const char *t = r + strspn(r, " \t");
		if (*t == '[') {
			p->section_line = p->line;
			p->header_seen = true;
		}
	}
	return r;
}

int ks_cfg_fail(struct parse *p, const char *fmt, ...)
{
	if (p->failed)
		return 0;	/* keep the first error */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	p->failed = true;
	p->err_line = p->line > 0 ? p->line : 1;
	return 0;
}

/* ---- value parsers ---------------------------------------------------- */

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		return *out = true, true;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		return *out = false, true;
	return false;
}


static int parse_suites(struct parse *p, const char *v)
{
	struct ks_config *c = p->c;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", v);
	c->nsuites = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!strcasecmp(tok, "default") || !strcasecmp(tok, "legacy")) {
			struct gdoi_p1_suite tmp[KS_MAX_SUITES];
			size_t n = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 0, false, tmp, KS_MAX_SUITES);
			if (!strcasecmp(tok, "legacy")) {
				/* only the legacy one: what the full list adds */
				struct gdoi_p1_suite all[KS_MAX_SUITES];
				size_t m = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 0, true, all, KS_MAX_SUITES);
				n = 0;
				for (size_t i = 0; i < m; i++)
					if (all[i].enc == GDOI_IKE_ENC_3DES)
						tmp[n++] = all[i];
			}
			for (size_t i = 0; i < n && c->nsuites < KS_MAX_SUITES; i++)
				c->suites[c->nsuites++] = tmp[i];
			continue;
		}
		if (c->nsuites >= KS_MAX_SUITES)
			return ks_cfg_fail(p, "at most %d Phase 1 suites", KS_MAX_SUITES);
		if (ks_parse_suite(tok, &c->suites[c->nsuites]))
			return ks_cfg_fail(p, "Phase 1 suite '%s': expected ENC-HASH-GROUP, e.g. aes256-sha256-ecp256 "
				    "(aes128|aes192|aes256|3des, sha1|sha256|sha384|sha512, "
				    "modp1024|modp1536|modp2048|modp3072|modp4096|ecp256|ecp384|ecp521), "
				    "'default' or 'legacy'", tok);
		c->nsuites++;
	}
	if (!c->nsuites)
		return ks_cfg_fail(p, "phase1: expected at least one suite");
	p->suites_set = true;
	return 1;
}

static int set_path(struct parse *p, char *dst, size_t cap, const char *v, const char *key)
{
	if (!*v || strlen(v) >= cap)
		return ks_cfg_fail(p, "%s: expected a path of 1..%zu characters", key, cap - 1);
	snprintf(dst, cap, "%s", v);
	return 1;
}

/* A file named by the configuration must exist and be a regular file now, so that a
 * typo is reported with its line rather than at start-up or reload. Its contents are
 * read and checked by whoever uses it. */
static int set_file(struct parse *p, char *dst, size_t cap, const char *v, const char *key)
{
	if (!set_path(p, dst, cap, v, key))
		return 0;
	int fd = open(v, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ks_cfg_fail(p, "%s: cannot open %s: %s", key, v, strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st);
	close(fd);
	if (rc || !S_ISREG(st.st_mode))
		return ks_cfg_fail(p, "%s: %s is not a regular file", key, v);
	return 1;
}

/* A key given twice in one section is an error naming both lines; tek and address add
 * to a list and may repeat. psk and psk_hex set the same key. */
static bool key_repeated(struct parse *p, const char *k)
{
	if (!strcmp(k, "tek") || !strcmp(k, "address"))
		return false;
	const char *as = !strcmp(k, "psk_hex") ? "psk" : k;
	for (size_t i = 0; i < p->nseen; i++) {
		if (strcmp(p->seen[i].as, as))
			continue;
		bool other = strcmp(p->seen[i].key, k) != 0;
		ks_cfg_fail(p, "%s given twice (first at line %d%s%s)", k, p->seen[i].line,
			 other ? ", as " : "", other ? p->seen[i].key : "");
		return true;
	}
	if (p->nseen < sizeof(p->seen) / sizeof(p->seen[0]) && strlen(k) < sizeof(p->seen[0].key)) {
		snprintf(p->seen[p->nseen].key, sizeof(p->seen[0].key), "%s", k);
		snprintf(p->seen[p->nseen].as, sizeof(p->seen[0].as), "%s", as);
		p->seen[p->nseen++].line = p->line;
	}
	return false;
}


/* "uid:USER, gid:GROUP, ..." (names or numbers): who besides root and our own
 * uid may use the admin socket. */
static int parse_admin_allow(struct parse *p, const char *v)
{
	struct ks_config *c = p->c;
	char buf[512], *save = NULL;
	uint32_t n;

	if (strlen(v) >= sizeof(buf))
		return ks_cfg_fail(p, "admin_allow: longer than %zu characters", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct ks_admin_allow a = { .is_gid = !strncmp(tok, "gid:", 4) };
		const char *name = tok + 4;
		if (strncmp(tok, "uid:", 4) && !a.is_gid)
			return ks_cfg_fail(p, "admin_allow: expected uid:USER or gid:GROUP, got '%s'", tok);
		if (c->nadmin_allow == KS_MAX_ADMIN_ALLOW)
			return ks_cfg_fail(p, "admin_allow: more than %d entries", KS_MAX_ADMIN_ALLOW);
		if (ks_parse_u32(name, 0, UINT32_MAX - 1, &n)) {
			a.uid = (uid_t)n;
			a.gid = (gid_t)n;
		} else if (a.is_gid) {
			struct group *gr = getgrnam(name);
			if (!gr)
				return ks_cfg_fail(p, "admin_allow: no group '%s'", name);
			a.gid = gr->gr_gid;
		} else {
			struct passwd *pw = getpwnam(name);
			if (!pw)
				return ks_cfg_fail(p, "admin_allow: no user '%s'", name);
			a.uid = pw->pw_uid;
		}
		c->admin_allow[c->nadmin_allow++] = a;
	}
	return 1;
}

/* ---- sections ----------------------------------------------------------- */

static int server_key(struct parse *p, const char *k, const char *v)
{
	struct ks_config *c = p->c;
	uint32_t u;
	if (!strcmp(k, "listen")) {
		if (ks_parse_inet(v, &c->listen, GDOI_PORT, false))
			return ks_cfg_fail(p, "listen: expected ADDR[:PORT] or [IPv6ADDR][:PORT], got '%s'", v);
		return 1;
	}
	if (!strcmp(k, "workers")) {
		if (!strcmp(v, "auto")) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);
			c->workers = n < 1 ? 1 : n > KS_MAX_WORKERS ? KS_MAX_WORKERS : (unsigned)n;
		} else if (!ks_parse_u32(v, 1, KS_MAX_WORKERS, &u)) {
			return ks_cfg_fail(p, "workers: expected 1..%d or auto, got '%s'", KS_MAX_WORKERS, v);
		} else {
			c->workers = u;
		}
		return 1;
	}
	if (!strcmp(k, "send_buffer")) {
		if (!ks_parse_u32(v, 4096, 64 << 20, &u))
			return ks_cfg_fail(p, "send_buffer: expected octets in 4096..67108864, got '%s'", v);
		c->send_buffer = u;
		return 1;
	}
	if (!strcmp(k, "state"))
		return set_path(p, c->state_dir, sizeof(c->state_dir), v, k);
	if (!strcmp(k, "admin_socket"))
		return set_path(p, c->admin_socket, sizeof(c->admin_socket), v, k);
	if (!strcmp(k, "admin_allow"))
		return parse_admin_allow(p, v);
	if (!strcmp(k, "identity")) {
		if (ks_parse_ident(v, &c->local_id))
			return ks_cfg_fail(p, "identity: expected TYPE:VALUE (ipv4, ipv6, fqdn, user, keyid)");
		c->local_id_set = true;
		return 1;
	}
	if (!strcmp(k, "phase1"))
		return parse_suites(p, v);
	if (!strcmp(k, "phase1_lifetime")) {
		if (!ks_parse_u32(v, 60, 86400 * 7, &u))
			return ks_cfg_fail(p, "phase1_lifetime: expected seconds in 60..604800");
		c->p1_lifetime = u;
		return 1;
	}
	if (!strcmp(k, "certificate"))
		return set_file(p, c->cert_file, sizeof(c->cert_file), v, k);
	if (!strcmp(k, "private_key"))
		return set_file(p, c->key_file, sizeof(c->key_file), v, k);
	if (!strcmp(k, "ca"))
		return set_file(p, c->ca_file, sizeof(c->ca_file), v, k);
	if (!strcmp(k, "flood_mm1") || !strcmp(k, "flood_junk")) {
		bool mm1 = !strcmp(k, "flood_mm1");
		uint32_t rate, burst = 0;
		char buf[32], *slash;
		snprintf(buf, sizeof(buf), "%s", v);
		if ((slash = strchr(buf, '/')))
			*slash = '\0';
		if (strlen(v) >= sizeof(buf) || !ks_parse_u32(buf, 1, 1000000, &rate) ||
		    (slash && !ks_parse_u32(slash + 1, 1, 4000000, &burst)))
			return ks_cfg_fail(p, "%s: expected RATE[/BURST] (datagrams per second per source "
				    "address, 1..1000000; burst 1..4000000), got '%s'", k, v);
		*(mm1 ? &c->mm1_per_s : &c->junk_per_s) = rate;
		*(mm1 ? &c->mm1_burst : &c->junk_burst) = burst;
		return 1;
	}
	int g = ks_cfg_gikev2_key(p, k, v);
	if (g >= 0)
		return g;
	if (!strcmp(k, "metrics")) {
		if (dm_metrics_listen_parse(v, &c->metrics))
			return ks_cfg_fail(p, "metrics: " DM_METRICS_LISTEN_EXPECTED ", got '%s'", v);
		c->metrics_set = true;
		return 1;
	}
	return ks_cfg_fail(p, "unknown key '%s' in [server] (expected listen, workers, send_buffer, state, admin_socket, admin_allow, identity, "
		    "phase1, phase1_lifetime, certificate, private_key, ca, metrics, flood_mm1, flood_junk, "
		    "gikev2_cookie_threshold, gikev2_max_sas, gikev2_sa_lifetime)", k);
}

/* protocols = gdoi, g-ikev2: a comma-separated list, each at most once. */
static int parse_protocols(struct parse *p, struct ks_group_cfg *g, const char *v)
{
	char buf[128];
	if (strlen(v) >= sizeof(buf))
		return ks_cfg_fail(p, "protocols: too long");
	snprintf(buf, sizeof(buf), "%s", v);
	g->protocols = 0;
	for (char *save = NULL, *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		unsigned bit = !strcasecmp(t, "gdoi") ? KS_PROTO_GDOI : !strcasecmp(t, "g-ikev2") ? KS_PROTO_GIKEV2 : 0;
		if (!bit || (g->protocols & bit))
			return ks_cfg_fail(p, "protocols: expected gdoi and/or g-ikev2, each once");
		g->protocols |= bit;
	}
	if (!g->protocols)
		return ks_cfg_fail(p, "protocols: expected gdoi and/or g-ikev2");
	return 1;
}

static int group_key(struct parse *p, const char *k, const char *v)
{
	struct ks_group_cfg *g = p->group;
	uint32_t u;
	if (!strcmp(k, "id")) {
		if (!ks_parse_u32(v, 1, UINT32_MAX, &u))
			return ks_cfg_fail(p, "id: expected a group id in 1..4294967295 (decimal or 0x hex)");
		g->id = u;
		return 1;
	}
	if (!strcmp(k, "tek")) {
		if (g->nteks >= GDOI_MAX_TEKS / 2)
			return ks_cfg_fail(p, "tek: at most %d TEKs per group (old and new must fit in %d)",
				    GDOI_MAX_TEKS / 2, GDOI_MAX_TEKS);
		if (ks_parse_profile(v, &g->profiles[g->nteks]))
			return ks_cfg_fail(p, "tek: expected an SRTP profile (AES128_CM_SHA1_80, AES128_CM_SHA1_32, "
				    "NULL_SHA1_80, NULL_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM) or esp:SUITE "
				    "(esp:aes128-cbc-sha1, esp:aes256-cbc-sha256, esp:3des-cbc-sha1), got '%s'", v);
		if (g->nteks && !ks_esp_suite(g->profiles[0]) != !ks_esp_suite(g->profiles[g->nteks]))
			return ks_cfg_fail(p, "tek: a group's TEKs are all SRTP or all ESP (line %d is %s)",
				    g->tek_lines[0], ks_profile_name(g->profiles[0]));
		g->tek_lines[g->nteks++] = p->line;
		return 1;
	}
	if (!strcmp(k, "destination")) {
		if (ks_parse_inet(v, &g->dest, 0, true))
			return ks_cfg_fail(p, "destination: expected ADDR:PORT or [IPv6ADDR]:PORT of the media group");
		return 1;
	}
	if (!strcmp(k, "tek_lifetime")) {
		if (!ks_parse_u32(v, 10, 86400 * 30, &u))
			return ks_cfg_fail(p, "tek_lifetime: expected seconds in 10..2592000");
		g->tek_lifetime = u;
		return 1;
	}
	if (!strcmp(k, "rekey_margin")) {
		if (!ks_parse_u32(v, 1, 86400 * 30, &u))
			return ks_cfg_fail(p, "rekey_margin: expected seconds in 1..2592000");
		g->rekey_margin = u;
		return 1;
	}
	if (!strcmp(k, "replay_window")) {
		if (!ks_parse_u32(v, 64, 32767, &u))
			return ks_cfg_fail(p, "replay_window: expected packets in 64..32767");
		g->replay_window = (uint16_t)u;
		return 1;
	}
	if (!strcmp(k, "atd") || !strcmp(k, "dtd")) {
		if (!ks_parse_u32(v, 0, 65535, &u))
			return ks_cfg_fail(p, "%s: expected seconds in 0..65535", k);
		*(k[0] == 'a' ? &g->atd : &g->dtd) = (uint16_t)u;
		return 1;
	}
	bool *flag = !strcmp(k, "srtcp") ? &g->srtcp : !strcmp(k, "mki") ? &g->mki
		   : !strcmp(k, "ssrc_assigned") ? &g->ssrc_assigned
		   : !strcmp(k, "allow_repeat_tx") ? &g->allow_repeat_tx
		   : !strcmp(k, "rekey_unicast") ? &g->unicast
		   : !strcmp(k, "push_ack") ? &g->push_ack : NULL;
	if (flag == &g->unicast)
		g->unicast_explicit = true;
	if (flag) {
		if (!parse_bool(v, flag))
			return ks_cfg_fail(p, "%s: expected yes or no", k);
		return 1;
	}
	if (!strcmp(k, "kek")) {
		static const struct { const char *n; uint16_t alg, bits; } keks[] = {
			{ "none", 0, 0 }, { "aes128", GDOI_KEK_ALG_AES, 128 }, { "aes192", GDOI_KEK_ALG_AES, 192 },
			{ "aes256", GDOI_KEK_ALG_AES, 256 }, { "3des", GDOI_KEK_ALG_3DES, 0 },
		};
		for (size_t i = 0; i < sizeof(keks) / sizeof(keks[0]); i++) {
			if (!strcasecmp(v, keks[i].n)) {
				g->kek_alg = keks[i].alg;
				g->kek_bits = keks[i].bits;
				g->kek_explicit = true;
				return 1;
			}
		}
		return ks_cfg_fail(p, "kek: expected none, aes128, aes192, aes256 or 3des");
	}
	if (!strcmp(k, "kek_lifetime")) {
		if (!ks_parse_u32(v, 60, 86400 * 365, &u))
			return ks_cfg_fail(p, "kek_lifetime: expected seconds in 60..31536000");
		g->kek_lifetime = u;
		return 1;
	}
	if (!strcmp(k, "rekey_key"))
		return set_file(p, g->rekey_key_file, sizeof(g->rekey_key_file), v, k);
	if (!strcmp(k, "sig_hash")) {
		g->sig_hash = !strcasecmp(v, "sha1") ? GDOI_MD_SHA1 : !strcasecmp(v, "sha256") ? GDOI_MD_SHA256
			    : !strcasecmp(v, "sha384") ? GDOI_MD_SHA384 : !strcasecmp(v, "sha512") ? GDOI_MD_SHA512
			    : GDOI_MD_NONE;
		if (g->sig_hash == GDOI_MD_NONE)
			return ks_cfg_fail(p, "sig_hash: expected sha1, sha256, sha384 or sha512");
		return 1;
	}
	if (!strcmp(k, "rekey_multicast")) {
		if (ks_parse_inet(v, &g->mcast_addr, 0, true) ||
		    !dm_addr_is_multicast(g->mcast_addr.ip, g->mcast_addr.len) || !g->mcast_addr.port)
			return ks_cfg_fail(p, "rekey_multicast: expected a multicast ADDR:PORT (224.0.0.0/4) or "
				    "[IPv6ADDR]:PORT (ff00::/8), port > 0");
		g->mcast = true;
		return 1;
	}
	if (!strcmp(k, "rekey_ttl")) {
		if (!ks_parse_u32(v, 0, 255, &u))
			return ks_cfg_fail(p, "rekey_ttl: expected 0..255");
		g->mcast_ttl = (uint8_t)u;
		return 1;
	}
	if (!strcmp(k, "rekey_interface")) {
		if (ks_parse_mcast_if(v, &g->mcast_if))
			return ks_cfg_fail(p, "rekey_interface: expected the interface's address, name or index");
		return 1;
	}
	if (!strcmp(k, "compat")) {
		if (!strcasecmp(v, "gdoid"))
			g->compat_gdoid = true;
		else if (!strcasecmp(v, "none"))
			g->compat_gdoid = false;
		else
			return ks_cfg_fail(p, "compat: expected gdoid or none");
		g->compat_line = p->line;
		return 1;
	}
	if (!strcmp(k, "protocols"))
		return parse_protocols(p, g, v);
	if (!strcmp(k, "gikev2_rekey")) {
		if (!strcasecmp(v, "multicast"))
			g->gikev2_rekey = KS_GIKEV2_REKEY_MULTICAST;
		else if (!strcasecmp(v, "inband"))
			g->gikev2_rekey = KS_GIKEV2_REKEY_INBAND;
		else if (!strcasecmp(v, "both"))
			g->gikev2_rekey = KS_GIKEV2_REKEY_MULTICAST | KS_GIKEV2_REKEY_INBAND;
		else
			return ks_cfg_fail(p, "gikev2_rekey: expected multicast, inband or both");
		g->gikev2_rekey_line = p->line;
		return 1;
	}
	if (!strcmp(k, "push_retransmits")) {
		if (!ks_parse_u32(v, 0, 10, &u))
			return ks_cfg_fail(p, "push_retransmits: expected a count in 0..10");
		g->push_retransmits = u;
		return 1;
	}
	if (!strcmp(k, "push_retransmit_interval")) {
		if (!ks_parse_u32(v, 10, 60000, &u))
			return ks_cfg_fail(p, "push_retransmit_interval: expected milliseconds in 10..60000");
		g->push_retransmit_interval = u;
		return 1;
	}
	if (!strcmp(k, "push_ack_misses")) {
		if (!ks_parse_u32(v, 1, 100, &u))
			return ks_cfg_fail(p, "push_ack_misses: expected a count in 1..100");
		g->push_ack_misses = u;
		return 1;
	}
	if (!strcmp(k, "rekey_port")) {
		if (!ks_parse_u32(v, 1, 65535, &u))
			return ks_cfg_fail(p, "rekey_port: expected a UDP port in 1..65535");
		g->rekey_port = (uint16_t)u;
		return 1;
	}
	return ks_cfg_fail(p, "unknown key '%s' in a [group] section", k);
}

static int member_key(struct parse *p, const char *k, const char *v)
{
	struct ks_member_cfg *m = p->member;
	uint32_t u;
	if (!strcmp(k, "id")) {
		if (ks_parse_ident(v, &m->id))
			return ks_cfg_fail(p, "id: expected TYPE:VALUE (ipv4:ADDR, ipv6:ADDR, fqdn:NAME, user:NAME@DOMAIN, keyid:TEXT)");
		return 1;
	}
	if (!strcmp(k, "psk") || !strcmp(k, "psk_hex")) {
		gdoi_wipe_free(m->psk, m->psk_len);
		m->psk = NULL;
		if (!p->psk_line) {
			p->psk_line = p->line;
			snprintf(p->psk_key, sizeof(p->psk_key), "%s", k);
		}
		size_t n = strlen(v);
		bool hex = k[3] == '_';
		if (!n || (hex && n % 2))
			return ks_cfg_fail(p, "%s: expected %s", k, hex ? "an even number of hex digits" : "a non-empty key");
		m->psk_len = hex ? n / 2 : n;
		m->psk = malloc(m->psk_len);
		if (!m->psk)
			return ks_cfg_fail(p, "out of memory");
		for (size_t i = 0; i < m->psk_len; i++) {
			unsigned x;
			if (!hex) {
				m->psk[i] = (uint8_t)v[i];
			} else if (!isxdigit((unsigned char)v[2 * i]) || !isxdigit((unsigned char)v[2 * i + 1]) ||
				   sscanf(v + 2 * i, "%2x", &x) != 1) {
				return ks_cfg_fail(p, "psk_hex: expected hex digits");
			} else {
				m->psk[i] = (uint8_t)x;
			}
		}
		return 1;
	}
	if (!strcmp(k, "auth")) {
		if (!strcasecmp(v, "psk"))
			m->cert = false;
		else if (!strcasecmp(v, "cert") || !strcasecmp(v, "certificate"))
			m->cert = true, m->auth_line = p->line;
		else
			return ks_cfg_fail(p, "auth: expected psk or cert");
		return 1;
	}
	if (!strcmp(k, "groups")) {
		if (p->nrefs == p->refs_cap) {
			p->refs_cap = p->refs_cap ? p->refs_cap * 2 : 16;
			p->refs = realloc(p->refs, p->refs_cap * sizeof(*p->refs));
			if (!p->refs)
				return ks_cfg_fail(p, "out of memory");
		}
		p->refs[p->nrefs].member = (size_t)(m - p->c->members);
		p->refs[p->nrefs].line = p->line;
		snprintf(p->refs[p->nrefs].value, sizeof(p->refs[0].value), "%s", v);
		p->nrefs++;
		return 1;
	}
	if (!strcmp(k, "may_send")) {
		if (!parse_bool(v, &m->may_send))
			return ks_cfg_fail(p, "may_send: expected yes or no");
		return 1;
	}
	if (!strcmp(k, "ssrcs")) {
		if (!ks_parse_u32(v, 1, GDOI_MAX_SIDS, &u))
			return ks_cfg_fail(p, "ssrcs: expected 1..%d", GDOI_MAX_SIDS);
		m->max_ssrcs = u;
		return 1;
	}
	if (!strcmp(k, "address")) {
		char buf[400], *save = NULL;
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			struct ks_inet a;
			if (ks_parse_inet(tok, &a, 0, false) || a.port)
				return ks_cfg_fail(p, "address: expected an IPv4 or IPv6 address (no port), got '%s'",
						tok);
			if (m->naddrs >= KS_MAX_MEMBER_ADDRS)
				return ks_cfg_fail(p, "address: at most %d addresses per member", KS_MAX_MEMBER_ADDRS);
			m->addrs[m->naddrs++] = a;
		}
		return 1;
	}
	if (!strcmp(k, "compat")) {
		if (!strcasecmp(v, "gdoid"))
			m->compat_gdoid = true;
		else if (!strcasecmp(v, "none"))
			m->compat_gdoid = false;
		else
			return ks_cfg_fail(p, "compat: expected gdoid or none");
		return 1;
	}
	return ks_cfg_fail(p, "unknown key '%s' in a [member] section (expected id, psk, psk_hex, auth, groups, "
		    "may_send, ssrcs, compat, address)", k);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.@", *s))
			return false;
	return true;
}

static int new_section_at(struct parse *p, const char *section);
/* Errors about a section name its header line, not the line of its first key. */
static int new_section(struct parse *p, const char *section)
{
	int line = p->line;
	p->line = p->section_line ? p->section_line : line;
	int rc = new_section_at(p, section);
	p->line = line;
	return rc;
}

static int new_section_at(struct parse *p, const char *section)
{
	struct ks_config *c = p->c;
	snprintf(p->section, sizeof(p->section), "%s", section);
	p->group = NULL;
	p->member = NULL;
	p->nseen = 0;
	if (!strcmp(section, "server")) {
		if (p->server_line)
			return ks_cfg_fail(p, "[server] given twice (first at line %d)", p->server_line);
		p->server_line = p->line;
		return 1;
	}
	bool is_group = !strncmp(section, "group ", 6), is_member = !strncmp(section, "member ", 7);
	if (!is_group && !is_member)
		return ks_cfg_fail(p, "unknown section [%s] (expected [server], [group NAME] or [member NAME])", section);
	const char *name = section + (is_group ? 6 : 7);
	while (*name == ' ')
		name++;
	if (!valid_name(name))
		return ks_cfg_fail(p, "[%s]: expected a name of 1..63 letters, digits, '-', '_', '.', '@'", section);
	if (is_group) {
		for (size_t i = 0; i < c->ngroups; i++)
			if (!strcmp(c->groups[i].name, name))
				return ks_cfg_fail(p, "group '%s' defined twice (first at line %d)", name, c->groups[i].line);
		void *n = realloc(c->groups, (c->ngroups + 1) * sizeof(*c->groups));
		if (!n)
			return ks_cfg_fail(p, "out of memory");
		c->groups = n;
		struct ks_group_cfg *g = &c->groups[c->ngroups++];
		*g = (struct ks_group_cfg){ .line = p->line, .tek_lifetime = 3600, .replay_window = 128,
			.srtcp = true, .mki = true, .ssrc_assigned = true, .atd = 5, .dtd = 30,
			.kek_alg = GDOI_KEK_ALG_AES, .kek_bits = 256, .kek_lifetime = 86400, .mcast_ttl = 1,
			.unicast = true };
		snprintf(g->name, sizeof(g->name), "%s", name);
		p->group = g;
	} else {
		/* duplicate names are found by the index (validate): O(1) per member */
		if (c->nmembers == p->members_cap) {
			size_t cap = p->members_cap ? p->members_cap * 2 : 16;
			void *n = realloc(c->members, cap * sizeof(*c->members));
			if (!n)
				return ks_cfg_fail(p, "out of memory");
			c->members = n;
			p->members_cap = cap;
		}
		struct ks_member_cfg *m = &c->members[c->nmembers++];
		*m = (struct ks_member_cfg){ .line = p->line, .max_ssrcs = 4 };
		snprintf(m->name, sizeof(m->name), "%s", name);
		p->member = m;
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	if (p->failed)
		return 0;
	if (!*section)
		return ks_cfg_fail(p, "key '%s' outside a section (expected [server], [group NAME] or [member NAME] first)", name);
	if (p->header_seen || strcmp(section, p->section)) {
		p->header_seen = false;
		if (!new_section(p, section))
			return 0;
	}
	if (key_repeated(p, name))
		return 0;
	if (!strcmp(section, "server"))
		return server_key(p, name, value);
	return p->group ? group_key(p, name, value) : member_key(p, name, value);
}

int ks_config_load(const char *path, const struct ks_overrides *ov, struct ks_config **out,
		   char *err, size_t errlen)
{
	struct parse p = { 0 };
	struct ks_config *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->listen = (struct ks_inet){ .len = 4, .port = GDOI_PORT };
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/gdoi-ks");
	snprintf(c->admin_socket, sizeof(c->admin_socket), "/run/gdoi-ks/admin.sock");
	c->p1_lifetime = 86400;
	c->workers = 1;
	p.c = c;
	p.f = fopen(path, "r");
	if (!p.f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		free(c);
		return -1;
	}
	struct stat st;
	if (fstat(fileno(p.f), &st) == 0)
		p.mode = st.st_mode & 07777;
	int rc = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	if (rc < 0 && !p.failed)
		ks_cfg_fail(&p, "cannot read the file");
	else if (rc > 0 && !p.failed) {
		p.line = rc;
		ks_cfg_fail(&p, "expected [section], KEY = VALUE, a comment or an empty line");
	}
	if (!p.failed && p.psk_line && (p.mode & 077)) {
		p.line = p.psk_line;
		ks_cfg_fail(&p, "%s: %s holds pre-shared keys but its mode is %04o (group or others have access): "
			 "expected 0600 or stricter", p.psk_key, path, (unsigned)p.mode);
	}
	if (!p.failed)
		ks_config_validate(&p);
	if (!p.failed && !p.suites_set)
		c->nsuites = gdoi_p1_suites_default(GDOI_IKE_AUTH_PSK, 0, false, c->suites, KS_MAX_SUITES);
	if (!p.failed && ov) {
		if (ov->listen) {
			if (ks_parse_inet(ov->listen, &c->listen, GDOI_PORT, false)) {
				snprintf(err, errlen, "--listen: expected ADDR[:PORT] or [IPv6ADDR][:PORT], got '%s'",
					 ov->listen);
				goto bad;
			}
		}
		if (ov->state_dir)
			snprintf(c->state_dir, sizeof(c->state_dir), "%s", ov->state_dir);
		if (ov->admin_socket)
			snprintf(c->admin_socket, sizeof(c->admin_socket), "%s", ov->admin_socket);
	}
	if (!p.failed && !c->local_id_set) {
		static const uint8_t any[16];
		if (memcmp(c->listen.ip, any, c->listen.len)) {	/* ID_IPV4_ADDR / ID_IPV6_ADDR */
			c->local_id.type = c->listen.len == 4 ? GDOI_ID_IPV4_ADDR : GDOI_ID_IPV6_ADDR;
			c->local_id.len = c->listen.len;
			memcpy(c->local_id.data, c->listen.ip, c->listen.len);
		} else {
			c->local_id.type = GDOI_ID_FQDN;
			gethostname((char *)c->local_id.data, KS_MAX_ID - 1);
			c->local_id.len = strlen((char *)c->local_id.data);
		}
	}
	free(p.refs);
	p.refs = NULL;
	if (p.failed) {
		snprintf(err, errlen, "%s:%d: %s", path, p.err_line, p.err);
		goto bad;
	}
	*out = c;
	return 0;
bad:
	free(p.refs);
	ks_config_free(c);
	return -1;
}

void ks_config_free(struct ks_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nmembers; i++)
		gdoi_wipe_free(c->members[i].psk, c->members[i].psk_len);
	free(c->members);
	ks_config_index_free(c->idx);
	free(c->groups);
	gdoi_wipe_free(c, sizeof(*c));
}

const struct ks_group_cfg *ks_config_group(const struct ks_config *c, uint32_t id)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i].id == id)
			return &c->groups[i];
	return NULL;
}

const struct ks_group_cfg *ks_config_group_by_ref(const struct ks_config *c, const char *ref)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, ref))
			return &c->groups[i];
	uint32_t id;
	if (ks_parse_u32(ref, 1, UINT32_MAX, &id))
		return ks_config_group(c, id);
	return NULL;
}

/* ks_config_member, ks_config_member_by_id, ks_config_member_by_addr: config_index.c */

bool ks_member_in_group(const struct ks_member_cfg *m, uint32_t gid)
{
	if (m->all_groups)
		return true;
	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i] == gid)
			return true;
	return false;
}
