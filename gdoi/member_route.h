/*
 * member_route.h - which part of the group member a datagram is for, from its
 * header alone (docs/architecture.md, "The member half"): Phase 1 and
 * Informational by cookies, GROUPKEY-PULL by Message ID, GROUPKEY-PUSH by the
 * KEK its cookies name (member_teks.h). Part of the member engine; no state.
 */
#ifndef GDOI_MEMBER_ROUTE_H
#define GDOI_MEMBER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phase1.h"
#include "wire.h"

enum gdoi_member_dest {
	GDOI_MEMBER_DROP = 0,	/* why says so */
	GDOI_MEMBER_PHASE1,	/* Main Mode or Informational: an SA of ours by cookies */
	GDOI_MEMBER_PULL,	/* an exchange of ours by hdr.msgid */
	GDOI_MEMBER_PUSH,	/* a group of ours by the KEK the cookies name */
};

struct gdoi_member_route {
	enum gdoi_member_dest dest;
	struct gdoi_hdr hdr;
	struct gdoi_parse_error err;	/* when the header did not parse */
	const char *why;		/* for DROP */
};

/* Routes a datagram. rekey_socket: it came on a multicast rekey socket (pushes
 * only); from_ks: its source is the current key server (required for all but
 * pushes, which are signed). */
enum gdoi_member_dest gdoi_member_route(const uint8_t *dgram, size_t len, bool rekey_socket,
					bool from_ks, struct gdoi_member_route *r);

/* The SA of sas[0..n) (NULL entries skipped) whose initiator cookie the header
 * carries, compared in constant time; NULL when none. */
struct gdoi_p1_sa *gdoi_member_route_sa(struct gdoi_p1_sa *const *sas, size_t n,
					const struct gdoi_hdr *hdr);

#endif
