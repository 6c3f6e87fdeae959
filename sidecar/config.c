/*
 * config.c - gdoi-sidecar configuration: INI read with inih, every key
 * checked here (docs/sidecar.md). Errors are "FILE:LINE: what was expected".
 * inih as Debian builds it gives handlers no line numbers, so the file is fed
 * to it through a reader that counts lines; the lines of keys checked after
 * the whole file was read are kept for their errors.
 */
#include "sidecar.h"

#include "daemon/addr.h"
#include "daemon/file.h"
#include "daemon/metrics_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gdoi/numbers.h"

struct ctx {
	struct sc_config *cfg;
	struct sc_group_cfg *group;	/* inside a [group NAME] section */
	char section[80];
	char err[640];
	FILE *f;
	int line;			/* of the line inih is handling */
	int section_line;		/* of the last [section] header */
	bool header_seen;		/* a [section] line since the last key */
	int sidecar_line;		/* of the [sidecar] header */
	/* keys given in the section being read: a second one is an error, not last-wins */
	struct { char key[24], as[24]; int line; } seen[24];
	size_t nseen;
	/* lines of what is checked once the whole file is read */
	int psk_line, cert_line, ca_line, retry_min_line;
	int group_line[SC_MAX_GROUPS], id_line[SC_MAX_GROUPS], rekey_if_line[SC_MAX_GROUPS];
	int ks_line[SC_MAX_KS], local_line;
};

static char *reader(char *str, int num, void *stream)
{
	struct ctx *x = stream;
	char *r = fgets(str, num, x->f);

	if (r) {
		x->line++;
		if (r[strspn(r, " \t")] == '[') {
			x->section_line = x->line;
			x->header_seen = true;
		}
	}
	return r;
}

/* Records the first error, "FILE:LINE: message"; line 0 = the current line. */
static int bad(struct ctx *x, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[420];

	if (x->err[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!line)
		line = x->line > 0 ? x->line : 1;
	snprintf(x->err, sizeof x->err, "%.180s:%d: %.420s", x->cfg->path, line, msg);
	return 0;
}

/* A key given twice in one section is an error naming both lines; keyserver and
 * allow add to a list and may repeat. psk and psk_file set the same key. */
static bool key_repeated(struct ctx *x, const char *k)
{
	const char *as = !strcmp(k, "psk_file") ? "psk" : !strcmp(k, "keyservers") ? "keyserver" : k;

	if (!strcmp(as, "keyserver") || !strcmp(as, "allow"))
		return false;
	for (size_t i = 0; i < x->nseen; i++) {
		bool other;
		if (strcmp(x->seen[i].as, as))
			continue;
		other = strcmp(x->seen[i].key, k) != 0;
		bad(x, 0, "%s given twice (first at line %d%s%s)", k, x->seen[i].line,
		    other ? ", as " : "", other ? x->seen[i].key : "");
		return true;
	}
	if (x->nseen < sizeof x->seen / sizeof x->seen[0] && strlen(k) < sizeof x->seen[0].key) {
		snprintf(x->seen[x->nseen].key, sizeof x->seen[0].key, "%s", k);
		snprintf(x->seen[x->nseen].as, sizeof x->seen[0].as, "%s", as);
		x->seen[x->nseen++].line = x->line;
	}
	return false;
}

int sc_parse_ks(const char *s, struct sc_ks_cfg *out)
{
	memset(out, 0, sizeof *out);
	if (!dm_addr_parse(s, 848, 0, &out->addr))
		return 0;
	memset(out, 0, sizeof *out);
	return dm_host_parse(s, 848, out->host, sizeof out->host, &out->addr.port) ? -1 : 0;
}

bool sc_local_reaches(const struct sc_config *cfg, size_t len)
{
	static const uint8_t any6[16];

	if (!cfg->local_set)
		return true;
	if (cfg->local.family == AF_INET)
		return len == 4;
	return len == 16 || !memcmp(cfg->local.ip, any6, 16);	/* [::] is dual-stack */
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	*out = strtoul(s, &end, 10);
	return (*end || errno || *out > max) ? -1 : 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0") ||
		 !strcasecmp(s, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* "ipv4:1.2.3.4", "ipv6:::1", "fqdn:host.example", "ufqdn:user@host.example". */
static int parse_identity(const char *s, uint8_t *type, size_t *len, uint8_t data[SC_MAX_ID])
{
	const char *v = strchr(s, ':');
	size_t tn;

	if (!v)
		return -1;
	tn = (size_t)(v - s);
	v++;
	if (tn == 4 && !strncasecmp(s, "ipv4", 4)) {
		*type = GDOI_ID_IPV4_ADDR;
		*len = 4;
		return inet_pton(AF_INET, v, data) == 1 ? 0 : -1;
	}
	if (tn == 4 && !strncasecmp(s, "ipv6", 4)) {
		*type = GDOI_ID_IPV6_ADDR;
		*len = 16;
		return inet_pton(AF_INET6, v, data) == 1 ? 0 : -1;
	}
	if ((tn == 4 && !strncasecmp(s, "fqdn", 4)) || (tn == 5 && !strncasecmp(s, "ufqdn", 5))) {
		*type = tn == 4 ? GDOI_ID_FQDN : GDOI_ID_USER_FQDN;
		if (!*v || strlen(v) > SC_MAX_ID)
			return -1;
		*len = strlen(v);
		memcpy(data, v, *len);
		return 0;
	}
	return -1;
}

static int set_psk(struct sc_config *cfg, const uint8_t *k, size_t n)
{
	if (cfg->psk) {
		explicit_bzero(cfg->psk, cfg->psk_len);
		free(cfg->psk);
	}
	cfg->psk = malloc(n ? n : 1);
	if (!cfg->psk)
		return -1;
	memcpy(cfg->psk, k, n);
	cfg->psk_len = n;
	return 0;
}

/* The first line of the file, without its newline; "0x..." is hex. A secret file
 * (daemon/file.h): owner and mode are checked. */
static int read_psk_file(struct sc_config *cfg, const char *path, char *why, size_t wl)
{
	uint8_t *buf;
	size_t len, n;
	int rc = -1;

	if (dm_file_load(path, DM_FILE_SECRET, 4096, &buf, &len, why, wl)) {
		char e[200];
		snprintf(e, sizeof e, "%.190s", why);
		snprintf(why, wl, "psk_file %s", e);
		return -1;
	}
	buf[strcspn((char *)buf, "\r\n")] = '\0';
	n = strlen((char *)buf);
	if (n == 0) {
		snprintf(why, wl, "psk_file %s is empty", path);
	} else {
		rc = set_psk(cfg, buf, n);
		if (rc)
			snprintf(why, wl, "out of memory");
	}
	dm_file_free(buf, len);
	return rc;
}

/* "uid:1000, uid:alice, gid:audio, gid:29" */
static int parse_allow(struct ctx *x, struct sc_group_cfg *g, const char *value, int line)
{
	char buf[1024], *save = NULL, *tok;

	snprintf(buf, sizeof buf, "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct sc_allow a = { 0 };
		unsigned long n;
		if (g->nallow == SC_MAX_ALLOW)
			return bad(x, line, "allow: more than %d entries", SC_MAX_ALLOW);
		if (!strncmp(tok, "uid:", 4)) {
			if (parse_uint(tok + 4, UINT32_MAX - 1, &n) == 0) {
				a.id = (uint32_t)n;
			} else {
				struct passwd *pw = getpwnam(tok + 4);
				if (!pw)
					return bad(x, line, "allow: no user \"%s\"", tok + 4);
				a.id = pw->pw_uid;
			}
		} else if (!strncmp(tok, "gid:", 4)) {
			a.is_gid = true;
			if (parse_uint(tok + 4, UINT32_MAX - 1, &n) == 0) {
				a.id = (uint32_t)n;
			} else {
				struct group *gr = getgrnam(tok + 4);
				if (!gr)
					return bad(x, line, "allow: no group \"%s\"", tok + 4);
				a.id = gr->gr_gid;
			}
		} else {
			return bad(x, line, "allow: \"%s\" is neither uid:USER nor gid:GROUP", tok);
		}
		g->allow[g->nallow++] = a;
	}
	return 1;
}

static int group_key(struct ctx *x, const char *name, const char *value, int line)
{
	struct sc_group_cfg *g = x->group;
	unsigned long n;

	if (!strcmp(name, "id")) {
		if (parse_uint(value, UINT32_MAX, &n))
			return bad(x, line, "id: expected a group number");
		g->id = (uint32_t)n;
		x->id_line[g - x->cfg->groups] = line;
	} else if (!strcmp(name, "protocol")) {
		if (!strcasecmp(value, "gdoi"))
			g->protocol = SC_PROTO_GDOI;
		else if (!strcasecmp(value, "g-ikev2"))
			g->protocol = SC_PROTO_GIKEV2;
		else if (!strcasecmp(value, "auto"))
			g->protocol = SC_PROTO_AUTO;
		else
			return bad(x, line, "protocol: expected g-ikev2, gdoi or auto");
	} else if (!strcmp(name, "send")) {
		if (parse_bool(value, &g->send))
			return bad(x, line, "send: expected yes or no");
	} else if (!strcmp(name, "ssrcs")) {
		if (parse_uint(value, IPC_MAX_SSRCS, &n) || n == 0)
			return bad(x, line, "ssrcs: expected 1..%d", IPC_MAX_SSRCS);
		g->ssrcs = (unsigned)n;
	} else if (!strcmp(name, "rekey")) {
		if (!strcmp(value, "unicast")) {
			g->rekey_mcast = false;
		} else {
			if (dm_addr_parse(value, 848, 0, &g->rekey) ||
			    !dm_addr_is_multicast(g->rekey.ip, g->rekey.family == AF_INET6 ? 16 : 4))
				return bad(x, line, "rekey: expected MULTICAST-ADDR:PORT ([IPV6-MULTICAST-ADDR]:PORT), "
					   "or unicast");
			g->rekey_mcast = true;
		}
	} else if (!strcmp(name, "rekey_interface")) {
		x->rekey_if_line[g - x->cfg->groups] = line;
		if (dm_if_parse(value, &g->rekey_if))
			return bad(x, line, "rekey_interface: expected the interface's address, name or index");
	} else if (!strcmp(name, "allow")) {
		return parse_allow(x, g, value, line);
	} else {
		return bad(x, line, "unknown key \"%s\" in [group %s]", name, g->name);
	}
	return 1;
}

static int sidecar_key(struct ctx *x, const char *name, const char *value, int line)
{
	struct sc_config *cfg = x->cfg;
	unsigned long n;
	char why[300];

	if (!strcmp(name, "keyserver") || !strcmp(name, "keyservers")) {
		char buf[512], *save = NULL, *tok;
		snprintf(buf, sizeof buf, "%s", value);
		for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			if (cfg->nks == SC_MAX_KS)
				return bad(x, line, "keyserver: more than %d key servers", SC_MAX_KS);
			if (sc_parse_ks(tok, &cfg->ks[cfg->nks]))
				return bad(x, line, "keyserver: expected ADDR[:PORT], [IPV6-ADDR][:PORT] or HOST-NAME[:PORT], got \"%s\"", tok);
			x->ks_line[cfg->nks++] = line;
		}
	} else if (!strcmp(name, "local")) {
		if (dm_addr_parse(value, 0, DM_ADDR_NEED_PORT, &cfg->local))
			return bad(x, line, "local: expected ADDR:PORT or [IPV6-ADDR]:PORT");
		cfg->local_set = true;
		x->local_line = line;
	} else if (!strcmp(name, "identity")) {
		if (parse_identity(value, &cfg->id_type, &cfg->id_len, cfg->id_data))
			return bad(x, line, "identity: expected ipv4:ADDR, ipv6:ADDR, fqdn:NAME or ufqdn:USER@NAME");
	} else if (!strcmp(name, "keyserver_identity") && !strcmp(value, "any")) {
		cfg->ks_id_any = true;
	} else if (!strcmp(name, "keyserver_identity")) {
		if (parse_identity(value, &cfg->ks_id_type, &cfg->ks_id_len, cfg->ks_id_data))
			return bad(x, line, "keyserver_identity: expected ipv4:ADDR, ipv6:ADDR, fqdn:NAME, "
				   "ufqdn:USER@NAME or any");
		cfg->ks_id_set = true;
	} else if (!strcmp(name, "psk")) {
		x->psk_line = line;
		if (!*value)
			return bad(x, line, "psk: expected a non-empty key");
		if (set_psk(cfg, (const uint8_t *)value, strlen(value)))
			return bad(x, line, "out of memory");
	} else if (!strcmp(name, "psk_file")) {
		if (read_psk_file(cfg, value, why, sizeof why))
			return bad(x, line, "%s", why);
	} else if (!strcmp(name, "certificate")) {
		x->cert_line = line;
		snprintf(cfg->cert_file, sizeof cfg->cert_file, "%s", value);
	} else if (!strcmp(name, "private_key")) {
		snprintf(cfg->key_file, sizeof cfg->key_file, "%s", value);
	} else if (!strcmp(name, "ca")) {
		x->ca_line = line;
		snprintf(cfg->ca_file, sizeof cfg->ca_file, "%s", value);
	} else if (!strcmp(name, "proposals")) {
		if (!strcmp(value, "modern"))
			cfg->legacy = false;
		else if (!strcmp(value, "legacy"))
			cfg->legacy = true;
		else
			return bad(x, line, "proposals: expected modern or legacy");
	} else if (!strcmp(name, "phase1_lifetime")) {
		if (parse_uint(value, 86400 * 7, &n) || n < 60)
			return bad(x, line, "phase1_lifetime: expected 60..604800 seconds");
		cfg->p1_lifetime = (uint32_t)n;
	} else if (!strcmp(name, "socket")) {
		if (strlen(value) >= sizeof cfg->socket || value[0] != '/')
			return bad(x, line, "socket: expected an absolute path under 108 octets");
		snprintf(cfg->socket, sizeof cfg->socket, "%s", value);
	} else if (!strcmp(name, "socket_group")) {
		struct group *gr;
		if (parse_uint(value, UINT32_MAX - 1, &n) == 0) {
			cfg->socket_gid = (gid_t)n;
		} else if ((gr = getgrnam(value))) {
			cfg->socket_gid = gr->gr_gid;
		} else {
			return bad(x, line, "socket_group: no group \"%s\"", value);
		}
		cfg->socket_group_set = true;
	} else if (!strcmp(name, "retry_min") || !strcmp(name, "retry_max")) {
		if (parse_uint(value, 3600000, &n) || n == 0)
			return bad(x, line, "%s: expected milliseconds (1..3600000)", name);
		if (!strcmp(name, "retry_min"))
			x->retry_min_line = line;
		*(!strcmp(name, "retry_min") ? &cfg->retry_min_ms : &cfg->retry_max_ms) =
			(unsigned)n;
	} else if (!strcmp(name, "retransmit")) {
		if (parse_uint(value, 60000, &n) || n < 50)
			return bad(x, line, "retransmit: expected milliseconds (50..60000)");
		cfg->exchange_ms = (unsigned)n;
	} else if (!strcmp(name, "unknown_kek_reregister")) {
		if (parse_uint(value, 86400, &n))
			return bad(x, line, "unknown_kek_reregister: expected seconds");
		cfg->unknown_kek_rereg_s = (unsigned)n;
	} else if (!strcmp(name, "ike2_keys_log")) {
		if (strlen(value) >= sizeof cfg->ike2_keys_log || value[0] != '/')
			return bad(x, line, "ike2_keys_log: expected an absolute path under 512 octets");
		snprintf(cfg->ike2_keys_log, sizeof cfg->ike2_keys_log, "%s", value);
	} else if (!strcmp(name, "metrics")) {
		if (dm_metrics_listen_parse(value, &cfg->metrics))
			return bad(x, line, "metrics: " DM_METRICS_LISTEN_EXPECTED ", got \"%s\"", value);
		cfg->metrics_set = true;
	} else {
		return bad(x, line, "unknown key \"%s\" in [sidecar]", name);
	}
	return 1;
}

/* A section begins (seen at its first key); errors name its header line. */
static int new_section(struct ctx *x, const char *section)
{
	int line = x->section_line ? x->section_line : x->line;

	snprintf(x->section, sizeof x->section, "%s", section);
	x->group = NULL;
	x->nseen = 0;
	if (!strcmp(section, "sidecar")) {
		if (x->sidecar_line)
			return bad(x, line, "[sidecar] given twice (first at line %d)", x->sidecar_line);
		x->sidecar_line = line;
		return 1;
	}
	if (strncmp(section, "group ", 6))
		return bad(x, line, "unknown section [%s] (expected [sidecar] or [group NAME])", section);
	const char *gname = section + 6;
	while (*gname == ' ')
		gname++;
	if (!*gname || strlen(gname) >= 64)
		return bad(x, line, "[%s]: expected a group name of 1..63 characters", section);
	for (size_t i = 0; i < x->cfg->ngroups; i++)
		if (!strcmp(x->cfg->groups[i].name, gname))
			return bad(x, line, "[group %s] given twice (first at line %d)", gname,
				   x->group_line[i]);
	if (x->cfg->ngroups == SC_MAX_GROUPS)
		return bad(x, line, "at most %d [group NAME] sections", SC_MAX_GROUPS);
	x->group_line[x->cfg->ngroups] = line;
	x->group = &x->cfg->groups[x->cfg->ngroups++];
	memset(x->group, 0, sizeof *x->group);
	snprintf(x->group->name, sizeof x->group->name, "%s", gname);
	x->group->ssrcs = 1;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *x = user;

	if (x->err[0])
		return 0;
	if (!name)	/* a new section (inih >= 46 with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!*section)
		return bad(x, 0, "key \"%s\" outside a section (expected [sidecar] or [group NAME] first)", name);
	if (x->header_seen || strcmp(section, x->section) != 0) {
		x->header_seen = false;
		if (!new_section(x, section))
			return 0;
	}
	if (key_repeated(x, name))
		return 0;
	return x->group ? group_key(x, name, value, x->line) : sidecar_key(x, name, value, x->line);
}

/* What can only be checked once the whole file is read. */
static int validate(struct ctx *x, mode_t mode)
{
	struct sc_config *cfg = x->cfg;

	/* the key is in this file: nobody but its owner may read it (a psk_file is
	 * checked where it is read) */
	if (x->psk_line && (mode & 077))
		return bad(x, x->psk_line, "psk: %s holds a pre-shared key but its mode is %04o (group or "
			   "others have access): expected 0600 or stricter", cfg->path, (unsigned)mode);
	if (!cfg->psk && !cfg->cert_file[0])
		return bad(x, 1, "expected psk, psk_file or certificate in [sidecar]");
	if (cfg->cert_file[0] && (!cfg->key_file[0] || !cfg->ca_file[0]))
		return bad(x, x->cert_line, "certificate: expected private_key and ca too");
	/* A member's certificate is issued by the same CA as the key server's:
	 * without the pin, any member could serve keys to the others. */
	if (cfg->ca_file[0] && !cfg->ks_id_set && !cfg->ks_id_any)
		return bad(x, x->ca_line, "ca: the key server is authenticated by certificate but [sidecar] "
			   "sets no keyserver_identity: any certificate of this CA (a member's too) would pass "
			   "for the key server's; expected keyserver_identity = TYPE:VALUE (the key server's "
			   "ID, e.g. fqdn:ks.example), or keyserver_identity = any to accept any (dangerous)");
	if (!cfg->id_type)
		return bad(x, 1, "expected identity = TYPE:VALUE in [sidecar] (e.g. identity = ipv4:127.0.0.1)");
	if (cfg->retry_min_ms > cfg->retry_max_ms)
		return bad(x, x->retry_min_line, "retry_min (%u) must not exceed retry_max (%u)",
			   cfg->retry_min_ms, cfg->retry_max_ms);
	for (size_t i = 0; i < cfg->nks; i++) {
		const struct dm_addr *a = &cfg->ks[i].addr;
		if (!cfg->ks[i].host[0] && !sc_local_reaches(cfg, a->family == AF_INET6 ? 16 : 4))
			return bad(x, x->ks_line[i], "keyserver: an %s key server, but local (line %d) "
				   "is %s: give local = [::]:PORT (dual-stack) or an address of that family",
				   a->family == AF_INET6 ? "IPv6" : "IPv4", x->local_line,
				   cfg->local.family == AF_INET6 ? "an IPv6 address" : "IPv4");
	}
	if (!cfg->ngroups)
		return bad(x, 1, "expected at least one [group NAME] section");
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct sc_group_cfg *g = &cfg->groups[i];
		if (g->rekey_if.by_addr && g->rekey_mcast && g->rekey_if.addr.family != g->rekey.family)
			return bad(x, x->rekey_if_line[i], "rekey_interface: an address of the other family "
				   "than rekey: give an %s address, or the interface's name or index",
				   g->rekey.family == AF_INET6 ? "IPv6" : "IPv4");
		if (!cfg->groups[i].id)
			return bad(x, x->group_line[i], "[group %s]: expected id = GROUP-ID", cfg->groups[i].name);
		for (size_t j = 0; j < i; j++)
			if (cfg->groups[j].id == cfg->groups[i].id)
				return bad(x, x->id_line[i], "[group %s]: id %u is also group %s (line %d)",
					   cfg->groups[i].name, (unsigned)cfg->groups[i].id,
					   cfg->groups[j].name, x->id_line[j]);
	}
	return 1;
}

int sc_config_load(const char *path, struct sc_config *cfg, char *err, size_t errlen)
{
	struct ctx x = { .cfg = cfg };
	struct stat st;
	mode_t mode = 0;
	int rc;

	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->path, sizeof cfg->path, "%s", path);
	cfg->p1_lifetime = 86400;
	snprintf(cfg->socket, sizeof cfg->socket, "%s", "/run/gdoi-sidecar/sidecar.sock");
	cfg->retry_min_ms = 1000;
	cfg->retry_max_ms = 60000;
	cfg->exchange_ms = 1000;
	cfg->unknown_kek_rereg_s = 30;
	x.f = fopen(path, "re");
	if (!x.f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(x.f), &st) == 0)
		mode = st.st_mode & 07777;
	rc = ini_parse_stream(reader, &x, handler, &x);
	fclose(x.f);
	if (rc < 0 && !x.err[0])
		bad(&x, 0, "cannot read the file");
	else if (rc > 0 && !x.err[0])
		bad(&x, rc, "expected [section], KEY = VALUE, a comment or an empty line");
	if (!x.err[0])
		validate(&x, mode);
	if (x.err[0]) {
		snprintf(err, errlen, "%s", x.err);
		goto fail;
	}
	return 0;
fail:
	sc_config_free(cfg);
	return -1;
}

void sc_config_free(struct sc_config *cfg)
{
	if (cfg->psk) {
		explicit_bzero(cfg->psk, cfg->psk_len);
		free(cfg->psk);
	}
	cfg->psk = NULL;
	cfg->psk_len = 0;
}
