/*
 * gike2_member.h - the G-IKEv2 group-member engine (RFC 9838 §2.3~, §2.4),
 * on the contract of engine.h, producing what the GDOI member engine
 * produces (gdoi/member.h): struct gdoi_member_event (REGISTERED with the
 * Sender-IDs, KEYS_CHANGED, DROPPED, LOG, FAILOVER) and the group's live
 * TEKs as struct gdoi_member_teks, so the application cannot tell which
 * protocol brought its keys.
 *
 * One group per engine: an IKEv2 initiator (ike2.h) runs IKE_SA_INIT and
 * GSA_AUTH (gike2_ike.c hooks: IDg + N(SENDER) -> GSA + KD); a GSA_REKEY
 * (multicast, or unicast on the registration socket) under the Rekey SA the
 * registration delivered is opened by gike2_rekey_open (Message ID replay
 * check, ICV, then the GCKS's signature) before anything is applied.
 * A refusal of the group backs off with capped backoff; any other failed
 * attempt is a FAILOVER event (gike2_member_set_ks); re-registration (fresh
 * Sender-IDs) uses GSA_REGISTRATION on the IKE SA when it is up.
 */
#ifndef GDOI_GIKE2_MEMBER_H
#define GDOI_GIKE2_MEMBER_H

#include "gike2_ike.h"
#include "member.h"

struct gike2_member_cfg {
	/* suites, local_id, psks; the hooks are set by the engine. Copied; what
	 * it points to must outlive the engine. */
	const struct gdoi_ike2_config *ike;
	struct gdoi_addr ks;
	char name[64];			/* for the log */
	struct gike2_idg group;		/* copied */
	unsigned sid_request;		/* Sender-IDs wanted; 0 = receive only */
	unsigned retry_min_ms, retry_max_ms;	/* 0 = 1000, 30000 */
};

struct gike2_member;

struct gike2_member *gike2_member_new(const struct gike2_member_cfg *cfg);
void gike2_member_free(struct gike2_member *m);
/* The key server of the next attempt (failover: after a FAILOVER event the
 * application names the next one), not before at_ms (monotonic; 0 = at once).
 * An IKE SA with another address is dropped; a registered member registers
 * again (its keys stay until they expire). */
void gike2_member_set_ks(struct gike2_member *m, const struct gdoi_addr *ks, uint64_t at_ms);
/* Deletes the IKE SA (INFORMATIONAL with D(IKE)). */
void gike2_member_shutdown(struct gike2_member *m, struct gdoi_now now);
int gike2_member_input(struct gike2_member *m, const uint8_t *dgram, size_t len,
		       const struct gdoi_addr *from, enum gdoi_member_via via, struct gdoi_now now);
void gike2_member_timer(struct gike2_member *m, struct gdoi_now now);
uint64_t gike2_member_deadline(const struct gike2_member *m);
bool gike2_member_next_out(struct gike2_member *m, struct gdoi_out *out);
bool gike2_member_next_event(struct gike2_member *m, struct gdoi_member_event *ev);
/* Fresh Sender-IDs: GSA_REGISTRATION on the IKE SA (or a new GSA_AUTH). */
int gike2_member_want_register(struct gike2_member *m, struct gdoi_now now);

const struct gdoi_member_teks *gike2_member_teks(const struct gike2_member *m);
enum gdoi_member_group_state gike2_member_state(const struct gike2_member *m);
const struct gdoi_member_stats *gike2_member_stats(const struct gike2_member *m);
/* The group's counters (GSA_REKEY applied, duplicate, refused by reason; registrations
 * and refusals), what gdoi_member_group_stats gives of a GDOI group. */
const struct gdoi_member_group_stats *gike2_member_group_stats(const struct gike2_member *m);
/* The last failed attempt: its error notify (0: none, e.g. no answer) and whether
 * the key server answered that attempt in IKEv2 at all (protocol = auto). */
uint16_t gike2_member_last_failure(const struct gike2_member *m, bool *heard);
/* Whether a GSA_REKEY names (by its SPIs) the Rekey SA the member holds: with
 * several groups, the one to hand it to. */
bool gike2_member_rekey_owns(const struct gike2_member *m, const uint8_t *msg, size_t len);
/* Whether the member holds a Rekey SA (its group is rekeyed by GSA_REKEY). */
bool gike2_member_has_rekey_sa(const struct gike2_member *m);
/* The Rekey SA's multicast destination (GSA_REKEY), when one was given. */
bool gike2_member_rekey_dst(const struct gike2_member *m, struct gdoi_addr *to);

#endif
