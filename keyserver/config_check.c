/*
 * config_check.c - the checks across sections, once the whole key server
 * file is read: every group complete, members naming known groups, compat and
 * acknowledgement rules (config_int.h).
 */
#include "keyserver/config_int.h"

#include <string.h>

#include "gdoi/numbers.h"

/* ---- cross checks ------------------------------------------------------- */

/*
 * What a reference member (gdoid) can take (docs/protocol.md): its SRTP TEK
 * carries AES128_CM_HMAC_SHA1_80 keys only, its KEK is AES-128 or 3DES, and it
 * receives rekeys on a socket bound to the SA KEK's DST port, which must not be 0.
 * Returns 0, or -1 after cfg_fail.
 */
static int validate_compat(struct parse *p, const struct ks_group_cfg *g)
{
	for (size_t i = 0; i < g->nteks; i++) {
		/* its member takes ESP TEKs (Protocol-ID 1) as they are */
		if (g->profiles[i] == GDOI_SRTP_AES128_CM_SHA1_80 || ks_esp_suite(g->profiles[i]))
			continue;
		p->line = g->tek_lines[i];
		ks_cfg_fail(p, "tek: with compat = gdoid (line %d) only AES128_CM_SHA1_80 (the reference's "
			 "Protocol-ID 128 TEK) or esp:SUITE, got %s", g->compat_line,
			 ks_profile_name(g->profiles[i]));
		return -1;
	}
	p->line = g->compat_line;
	if (g->kek_alg && !((g->kek_alg == GDOI_KEK_ALG_AES && g->kek_bits == 128) ||
			    g->kek_alg == GDOI_KEK_ALG_3DES)) {
		ks_cfg_fail(p, "compat = gdoid: the reference member takes kek = aes128 or 3des only");
		return -1;
	}
	if (g->kek_alg && g->unicast && !g->rekey_port) {
		ks_cfg_fail(p, "compat = gdoid: unicast rekeys need rekey_port = PORT (the reference member "
			 "listens on the SA KEK's DST port and refuses port 0)");
		return -1;
	}
	return 0;
}

int ks_config_validate(struct parse *p)
{
	struct ks_config *c = p->c;
	for (size_t i = 0; i < c->ngroups; i++) {
		struct ks_group_cfg *g = &c->groups[i];
		p->line = g->line;
		if (!g->id)
			return ks_cfg_fail(p, "[group %s]: expected an id", g->name);
		if (!g->nteks)
			return ks_cfg_fail(p, "[group %s]: expected at least one tek = PROFILE", g->name);
		if (!g->dest.len)
			return ks_cfg_fail(p, "[group %s]: expected destination = ADDR:PORT", g->name);
		/* the pusher's socket is of the group's family: an interface address too */
		if (g->mcast && g->mcast_if.addr.len && g->mcast_if.addr.len != g->mcast_addr.len)
			return ks_cfg_fail(p, "[group %s]: rekey_interface is an %s address but rekey_multicast "
				    "is %s: give an address of that family, or the interface's name",
				    g->name, g->mcast_if.addr.len == 4 ? "IPv4" : "IPv6",
				    g->mcast_addr.len == 4 ? "IPv4" : "IPv6");
		for (size_t j = 0; j < i; j++) {
			uint32_t a = c->groups[j].id, b = g->id;
			if (a == b || (g->compat_gdoid && __builtin_bswap32(b) == a) ||
			    (c->groups[j].compat_gdoid && __builtin_bswap32(a) == b))
				return ks_cfg_fail(p, "[group %s]: id %u (or its byte-swapped form) is also group '%s'",
					    g->name, b, c->groups[j].name);
		}
		if (!g->unicast_explicit)	/* unicast unless multicast is configured */
			g->unicast = !g->mcast;
		if (g->kek_alg && !g->mcast && !g->unicast)
			return ks_cfg_fail(p, "[group %s]: a KEK needs rekey_multicast and/or rekey_unicast = yes", g->name);
		if (!g->rekey_margin)
			g->rekey_margin = (uint32_t)g->atd + g->dtd + 5;
		if (g->dtd && g->dtd <= g->atd)
			return ks_cfg_fail(p, "[group %s]: dtd (%u) must be greater than atd (%u)", g->name, g->dtd, g->atd);
		if ((uint64_t)g->rekey_margin + g->dtd >= g->tek_lifetime)
			return ks_cfg_fail(p, "[group %s]: tek_lifetime (%u) must exceed rekey_margin (%u) + dtd (%u)",
				    g->name, g->tek_lifetime, g->rekey_margin, g->dtd);
		if (g->compat_gdoid && !g->kek_explicit)
			g->kek_bits = 128;	/* the reference member has AES-128 and 3DES only */
		if (g->kek_alg && g->kek_lifetime <= g->rekey_margin)
			return ks_cfg_fail(p, "[group %s]: kek_lifetime must exceed rekey_margin", g->name);
		if (!g->push_retransmit_interval)
			g->push_retransmit_interval = 1000;
		if (!g->push_ack_misses)
			g->push_ack_misses = 3;
		if (g->push_ack && (!g->kek_alg || !g->unicast || g->compat_gdoid))
			return ks_cfg_fail(p, "[group %s]: push_ack = yes needs a KEK and rekey_unicast = yes, and "
				    "not compat = gdoid (its member sends no acknowledgements)", g->name);
		if (!g->gikev2_rekey)
			g->gikev2_rekey = g->mcast ? KS_GIKEV2_REKEY_MULTICAST : KS_GIKEV2_REKEY_INBAND;
		else if ((g->gikev2_rekey & KS_GIKEV2_REKEY_MULTICAST) && (!g->mcast || !g->kek_alg)) {
			p->line = g->gikev2_rekey_line;
			return ks_cfg_fail(p, "[group %s]: gikev2_rekey = %s needs rekey_multicast and a KEK "
				    "(the Rekey SA is the KEK's); use inband", g->name,
				    g->gikev2_rekey & KS_GIKEV2_REKEY_INBAND ? "both" : "multicast");
		}
		if (g->compat_gdoid && validate_compat(p, g))
			return 0;
	}
	for (size_t r = 0; r < p->nrefs; r++) {
		struct ks_member_cfg *m = &c->members[p->refs[r].member];
		p->line = p->refs[r].line;
		char *save = NULL;
		for (char *tok = strtok_r(p->refs[r].value, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			if (!strcmp(tok, "*")) {
				m->all_groups = true;
				continue;
			}
			const struct ks_group_cfg *g = ks_config_group_by_ref(c, tok);
			if (!g)
				return ks_cfg_fail(p, "groups: '%s' is not a group defined in this file", tok);
			if (m->ngroups >= KS_MAX_MEMBER_GROUPS)
				return ks_cfg_fail(p, "groups: at most %d groups per member", KS_MAX_MEMBER_GROUPS);
			m->groups[m->ngroups++] = g->id;
		}
	}
	const struct ks_member_cfg *cert_member = NULL;
	for (size_t i = 0; i < c->nmembers; i++) {
		struct ks_member_cfg *m = &c->members[i];
		p->line = m->line;
		if (!m->id.type)
			return ks_cfg_fail(p, "[member %s]: expected id = TYPE:VALUE", m->name);
		if (!m->cert && !m->psk)
			return ks_cfg_fail(p, "[member %s]: expected psk (or psk_hex, or auth = cert)", m->name);
		if (!m->ngroups && !m->all_groups)
			return ks_cfg_fail(p, "[member %s]: expected groups = GROUP[, GROUP...] or *", m->name);
		if (m->naddrs && !m->psk)
			return ks_cfg_fail(p, "[member %s]: address selects a pre-shared key: it needs psk or psk_hex",
					m->name);
		if (m->cert && !cert_member)
			cert_member = m;
	}
	size_t dup, first;
	int what;
	int rc = ks_config_index_build(c, &dup, &first, &what);
	if (rc < 0)
		return ks_cfg_fail(p, "out of memory");
	if (rc > 0) {
		const struct ks_member_cfg *m = &c->members[dup], *o = &c->members[first];
		p->line = m->line;
		if (what == 0)
			return ks_cfg_fail(p, "member '%s' defined twice (first at line %d)", m->name, o->line);
		if (what == 1)
			return ks_cfg_fail(p, "[member %s]: same id as member '%s'", m->name, o->name);
		return ks_cfg_fail(p, "[member %s]: an address of member '%s' too (a pre-shared key is selected "
				"by address, so each address belongs to one member)", m->name, o->name);
	}
	if (cert_member && (!c->cert_file[0] || !c->key_file[0] || !c->ca_file[0])) {
		p->line = cert_member->auth_line;
		return ks_cfg_fail(p, "[member %s]: auth = cert needs certificate, private_key and ca in [server]",
				cert_member->name);
	}
	if (!c->ngroups) {
		p->line = 1;
		return ks_cfg_fail(p, "expected at least one [group NAME] section (members register to groups)");
	}
	return 1;
}

