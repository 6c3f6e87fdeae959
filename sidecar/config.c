/*
 * config.c - gdoi-sidecar configuration: INI read with inih, every key
 * checked here (docs/sidecar.md). Errors name the file and line.
 */
#include "sidecar.h"

#include "daemon/file.h"

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

#include "gdoi/numbers.h"

struct ctx {
	struct sc_config *cfg;
	struct sc_group_cfg *group;	/* inside a [group NAME] section */
	char section[80];
	char err[480];
	const char *key;
	bool have_psk_inline, have_psk_file;
};

static int bad(struct ctx *x, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[300];

	if (x->err[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(void)line;
	snprintf(x->err, sizeof x->err, "%.180s: [%.60s] %.40s: %.150s", x->cfg->path, x->section,
		 x->key ? x->key : "", msg);
	return 0;
}

int sc_parse_inet(const char *s, uint16_t defport, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long port = defport;
	char *end;

	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -1;
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || port > 65535)
			return -1;
	} else if (!defport) {
		return -1;
	}
	out->sin_port = htons((uint16_t)port);
	return 0;
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
static int parse_identity(struct sc_config *cfg, const char *s)
{
	const char *v = strchr(s, ':');
	size_t tn;

	if (!v)
		return -1;
	tn = (size_t)(v - s);
	v++;
	if (tn == 4 && !strncasecmp(s, "ipv4", 4)) {
		cfg->id_type = GDOI_ID_IPV4_ADDR;
		cfg->id_len = 4;
		return inet_pton(AF_INET, v, cfg->id_data) == 1 ? 0 : -1;
	}
	if (tn == 4 && !strncasecmp(s, "ipv6", 4)) {
		cfg->id_type = GDOI_ID_IPV6_ADDR;
		cfg->id_len = 16;
		return inet_pton(AF_INET6, v, cfg->id_data) == 1 ? 0 : -1;
	}
	if ((tn == 4 && !strncasecmp(s, "fqdn", 4)) || (tn == 5 && !strncasecmp(s, "ufqdn", 5))) {
		cfg->id_type = tn == 4 ? GDOI_ID_FQDN : GDOI_ID_USER_FQDN;
		cfg->id_len = strlen(v);
		if (!cfg->id_len || cfg->id_len > SC_MAX_ID)
			return -1;
		memcpy(cfg->id_data, v, cfg->id_len);
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
			return bad(x, line, "more than %d allow entries", SC_MAX_ALLOW);
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
			if (sc_parse_inet(value, 848, &g->rekey) ||
			    !IN_MULTICAST(ntohl(g->rekey.sin_addr.s_addr)))
				return bad(x, line, "rekey: expected MULTICAST-ADDR:PORT or unicast");
			g->rekey_mcast = true;
		}
	} else if (!strcmp(name, "rekey_interface")) {
		if (inet_pton(AF_INET, value, &g->rekey_if) != 1)
			return bad(x, line, "rekey_interface: expected an IPv4 address");
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
				return bad(x, line, "more than %d key servers", SC_MAX_KS);
			if (sc_parse_inet(tok, 848, &cfg->ks[cfg->nks]))
				return bad(x, line, "keyserver: expected ADDR[:PORT], got \"%s\"", tok);
			cfg->nks++;
		}
	} else if (!strcmp(name, "local")) {
		if (sc_parse_inet(value, 0, &cfg->local))
			return bad(x, line, "local: expected ADDR:PORT");
	} else if (!strcmp(name, "identity")) {
		if (parse_identity(cfg, value))
			return bad(x, line, "identity: expected ipv4:ADDR, ipv6:ADDR, fqdn:NAME or ufqdn:USER@NAME");
	} else if (!strcmp(name, "psk")) {
		x->have_psk_inline = true;
		if (!*value || set_psk(cfg, (const uint8_t *)value, strlen(value)))
			return bad(x, line, "psk: empty");
	} else if (!strcmp(name, "psk_file")) {
		x->have_psk_file = true;
		if (read_psk_file(cfg, value, why, sizeof why))
			return bad(x, line, "%s", why);
	} else if (!strcmp(name, "certificate")) {
		snprintf(cfg->cert_file, sizeof cfg->cert_file, "%s", value);
	} else if (!strcmp(name, "private_key")) {
		snprintf(cfg->key_file, sizeof cfg->key_file, "%s", value);
	} else if (!strcmp(name, "ca")) {
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
	} else {
		return bad(x, line, "unknown key \"%s\" in [sidecar]", name);
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *x = user;
	int line = 0;	/* inih as Debian builds it reports no line numbers to handlers */

	if (x->err[0])
		return 0;
	x->key = name;
	if (!name) {	/* a new section (inih >= 46 with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	}
	if (strcmp(section, x->section) != 0) {
		snprintf(x->section, sizeof x->section, "%s", section);
		x->group = NULL;
		if (!strncmp(section, "group ", 6)) {
			const char *gname = section + 6;
			while (*gname == ' ')
				gname++;
			if (!*gname || strlen(gname) >= 64)
				return bad(x, line, "[group NAME]: name missing or too long");
			for (size_t i = 0; i < x->cfg->ngroups; i++)
				if (!strcmp(x->cfg->groups[i].name, gname))
					return bad(x, line, "[group %s] appears twice", gname);
			if (x->cfg->ngroups == SC_MAX_GROUPS)
				return bad(x, line, "more than %d groups", SC_MAX_GROUPS);
			x->group = &x->cfg->groups[x->cfg->ngroups++];
			memset(x->group, 0, sizeof *x->group);
			snprintf(x->group->name, sizeof x->group->name, "%s", gname);
			x->group->ssrcs = 1;
		} else if (strcmp(section, "sidecar") != 0) {
			return bad(x, line, "unknown section [%s]", section);
		}
	}
	return x->group ? group_key(x, name, value, line) : sidecar_key(x, name, value, line);
}

int sc_config_load(const char *path, struct sc_config *cfg, char *err, size_t errlen)
{
	struct ctx x = { .cfg = cfg };
	int rc;

	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->path, sizeof cfg->path, "%s", path);
	cfg->local.sin_family = AF_INET;
	cfg->p1_lifetime = 86400;
	snprintf(cfg->socket, sizeof cfg->socket, "%s", "/run/gdoi-sidecar/sidecar.sock");
	cfg->retry_min_ms = 1000;
	cfg->retry_max_ms = 60000;
	cfg->exchange_ms = 1000;
	cfg->unknown_kek_rereg_s = 30;
	rc = ini_parse(path, handler, &x);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (x.err[0]) {
		snprintf(err, errlen, "%s", x.err);
		goto fail;
	}
	if (rc > 0) {
		snprintf(err, errlen, "%s:%d: not INI syntax", path, rc);
		goto fail;
	}
	if (x.have_psk_inline && x.have_psk_file) {
		snprintf(err, errlen, "%s: psk and psk_file both given; keep one", path);
		goto fail;
	}
	if (!cfg->psk && !cfg->cert_file[0]) {
		snprintf(err, errlen, "%s: no psk, psk_file or certificate", path);
		goto fail;
	}
	if (cfg->cert_file[0] && (!cfg->key_file[0] || !cfg->ca_file[0])) {
		snprintf(err, errlen, "%s: certificate needs private_key and ca", path);
		goto fail;
	}
	if (!cfg->id_type) {
		snprintf(err, errlen, "%s: identity missing (e.g. identity = ipv4:127.0.0.1)", path);
		goto fail;
	}
	if (cfg->retry_min_ms > cfg->retry_max_ms) {
		snprintf(err, errlen, "%s: retry_min is greater than retry_max", path);
		goto fail;
	}
	if (!cfg->ngroups) {
		snprintf(err, errlen, "%s: no [group NAME] section", path);
		goto fail;
	}
	for (size_t i = 0; i < cfg->ngroups; i++) {
		if (!cfg->groups[i].id) {
			snprintf(err, errlen, "%s: [group %s] has no id", path, cfg->groups[i].name);
			goto fail;
		}
		for (size_t j = 0; j < i; j++)
			if (cfg->groups[j].id == cfg->groups[i].id) {
				snprintf(err, errlen, "%s: groups %s and %s share id %u", path,
					 cfg->groups[j].name, cfg->groups[i].name,
					 (unsigned)cfg->groups[i].id);
				goto fail;
			}
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
