/*
 * config_gikev2.c - the [server] keys of the G-IKEv2 front end: how many IKE
 * SAs each engine answers half open before it asks for cookies, how many it
 * keeps of registered members (for GSA_INBAND_REKEY), and for how long.
 */
#include "keyserver/config.h"

#include <string.h>

#include "keyserver/config_int.h"

/* 1 (taken), 0 (error recorded), or -1: k is not a G-IKEv2 key. */
int ks_cfg_gikev2_key(struct parse *p, const char *k, const char *v)
{
	struct ks_config *c = p->c;
	if (!strcmp(k, "gikev2_cookie_threshold")) {
		if (!strcmp(v, "never"))
			c->gikev2_cookie_threshold = UINT32_MAX;
		else if (!ks_parse_u32(v, 1, 1000000, &c->gikev2_cookie_threshold))
			return ks_cfg_fail(p, "gikev2_cookie_threshold: expected 1..1000000 half-open IKE SAs "
				    "or never, got '%s'", v);
		return 1;
	}
	if (!strcmp(k, "gikev2_max_sas")) {
		if (!ks_parse_u32(v, 1, 10000000, &c->gikev2_max_sas))
			return ks_cfg_fail(p, "gikev2_max_sas: expected 1..10000000 IKE SAs, got '%s'", v);
		return 1;
	}
	if (!strcmp(k, "gikev2_sa_lifetime")) {
		if (!ks_parse_u32(v, 60, 86400 * 7, &c->gikev2_sa_lifetime))
			return ks_cfg_fail(p, "gikev2_sa_lifetime: expected seconds in 60..604800, got '%s'", v);
		return 1;
	}
	return -1;
}
