/*
 * member_route.c - the member's datagram routing (member_route.h), on the
 * codec's header parser.
 */
#include "member_route.h"

#include <string.h>

#include "crypto.h"
#include "numbers.h"

static enum gdoi_member_dest drop(struct gdoi_member_route *r, const char *why)
{
	r->dest = GDOI_MEMBER_DROP;
	r->why = why;
	return r->dest;
}

enum gdoi_member_dest gdoi_member_route(const uint8_t *dgram, size_t len, bool rekey_socket,
					bool from_ks, struct gdoi_member_route *r)
{
	memset(r, 0, sizeof *r);
	if (gdoi_hdr_parse(dgram, len, &r->hdr, &r->err))
		return drop(r, "not an ISAKMP header");
	if (r->hdr.exchange == GDOI_EXCH_PUSH) {
		r->dest = GDOI_MEMBER_PUSH;
		return r->dest;
	}
	if (rekey_socket)
		return drop(r, "not a GROUPKEY-PUSH on the rekey group");
	if (!from_ks)
		return drop(r, "not from the current key server");
	switch (r->hdr.exchange) {
	case GDOI_EXCH_PULL:
		r->dest = GDOI_MEMBER_PULL;
		return r->dest;
	case GDOI_EXCH_IDENT_PROT:
	case GDOI_EXCH_INFO:
		r->dest = GDOI_MEMBER_PHASE1;
		return r->dest;
	default:
		return drop(r, "exchange type we do not take");
	}
}

struct gdoi_p1_sa *gdoi_member_route_sa(struct gdoi_p1_sa *const *sas, size_t n,
					const struct gdoi_hdr *hdr)
{
	uint8_t ic[GDOI_COOKIE_LEN], rc[GDOI_COOKIE_LEN];

	for (size_t i = 0; i < n; i++) {
		if (!sas[i])
			continue;
		gdoi_p1_cookies(sas[i], ic, rc);
		if (gdoi_ct_equal(ic, hdr->icookie, sizeof ic))
			return sas[i];
	}
	return NULL;
}
