/* rekey_ikev2.h - the group's G-IKEv2 Rekey SA and GSA_REKEY (rekey_ikev2.c). */
#ifndef KS_REKEY_IKEV2_H
#define KS_REKEY_IKEV2_H

#include <stddef.h>
#include <stdint.h>

#include "gdoi/gike2_rekey.h"
#include "gdoi/policy.h"
#include "gdoi/push.h"

struct ks_group;

/* The Rekey SA of the group under kek, next Message ID msgid. */
int ks_ikev2_rekey_sa(const struct ks_group *g, const struct gdoi_kek_policy *kek, uint32_t msgid,
		      struct gike2_rekey_sa *sa);
/* GSA_REKEY under cur's Rekey SA, Message ID msgid, carrying the group's TEKs,
 * the Deletes dels, and next's Rekey SA when next is not NULL (its first
 * Message ID: the group's SEQ + 1): multicast to
 * the group's rekey address (groups that speak g-ikev2 and multicast). */
int ks_ikev2_rekey_push(struct ks_group *g, const struct gdoi_kek_policy *cur, uint32_t msgid,
			const struct gdoi_kek_policy *next, const struct gdoi_push_delete *dels,
			size_t ndels);

#endif
