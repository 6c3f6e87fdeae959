/*
 * pull.h - GROUPKEY-PULL (RFC 6407 §3), the registration exchange, both
 * roles, sans-I/O, under an established Phase 1 SA (phase1.h):
 *
 *   member                              key server
 *   HDR*, HASH(1), Ni, ID        -->
 *                                <--    HDR*, HASH(2), Nr, SA
 *   HDR*, HASH(3) [, GAP]        -->
 *                                <--    HDR*, HASH(4) [, SEQ], KD
 *
 * HASH(n) = prf(SKEYID_a, M-ID | [Ni_b] | [Nr_b] | payloads after HASH);
 * every message is encrypted with the Phase 1 key on the IV chain of its
 * Message ID. Nonces must be 8..128 octets on both sides.
 */
#ifndef GDOI_PULL_H
#define GDOI_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phase1.h"
#include "policy.h"

struct gdoi_key;

enum gdoi_pull_event {
	GDOI_PULL_EV_NONE = 0,
	GDOI_PULL_EV_INSTALLED,		/* member: policy holds the group's policy and keys */
	GDOI_PULL_EV_REGISTERED,	/* key server: a member completed registration */
	GDOI_PULL_EV_FAILED,		/* the exchange is over; see notify/err/reason */
};

struct gdoi_pull_result {
	uint8_t *out;			/* datagram to send to the peer (free()) */
	size_t out_len;
	enum gdoi_pull_event event;
	struct gdoi_policy *policy;	/* INSTALLED: owned by the caller (gdoi_pull_policy_free) */
	uint32_t group_id;		/* REGISTERED */
	uint16_t notify;		/* Notify sent (key server) or reason (member) */
	bool teardown;			/* member: the Phase 1 SA was deleted (Delete in out) */
	int err;
	char reason[192];		/* for the log; never holds keys */
};
void gdoi_pull_result_clear(struct gdoi_pull_result *r);
void gdoi_pull_policy_free(struct gdoi_policy *p);

/* ---- member ------------------------------------------------------------- */

struct gdoi_pull_member_cfg {
	uint32_t group_id;		/* sent as the 4-octet ID_KEY_ID */
	unsigned sid_request;		/* Sender-IDs (SSRCs) wanted; 0 = receive only */
	size_t nonce_len;		/* 8..128; 0 = 32 */
	uint32_t retransmit_ms;		/* 0 = 1000, doubling */
	unsigned max_transmits;		/* 0 = 5 */
	/* Known-answer tests only: a fixed Ni and Message ID instead of random ones. */
	const uint8_t *fixed_nonce;
	size_t fixed_nonce_len;
	uint32_t fixed_msgid;
};

struct gdoi_pull_member;

int gdoi_pull_member_start(struct gdoi_p1_sa *sa, const struct gdoi_pull_member_cfg *cfg,
			   uint64_t now, struct gdoi_pull_member **out, struct gdoi_pull_result *res);
/* A GROUPKEY-PULL datagram whose Message ID is this exchange's. */
int gdoi_pull_member_input(struct gdoi_pull_member *pm, const uint8_t *msg, size_t len,
			   uint64_t now, struct gdoi_pull_result *res);
uint32_t gdoi_pull_member_msgid(const struct gdoi_pull_member *pm);
bool gdoi_pull_member_done(const struct gdoi_pull_member *pm);
uint64_t gdoi_pull_member_next_timer(const struct gdoi_pull_member *pm);
void gdoi_pull_member_timer(struct gdoi_pull_member *pm, uint64_t now, struct gdoi_pull_result *res);
/* As gdoi_p1_cap_retransmit, for this exchange. */
void gdoi_pull_member_cap_retransmit(struct gdoi_pull_member *pm, uint64_t now, uint32_t cap_ms);
void gdoi_pull_member_free(struct gdoi_pull_member *pm);

/* ---- key server --------------------------------------------------------- */

struct gdoi_pull_ks_cfg {
	/*
	 * The policy of group_id for the authenticated Phase 1 identity, read
	 * only: 0, GDOI_ERR_NOT_FOUND (no such group), GDOI_ERR_NOT_AUTHORIZED, or
	 * any other error when the key server cannot serve the registration now
	 * (its state cannot be read): refused with GDOI_N_PRIVATE_UNAVAILABLE
	 * ("try another key server, or later"), not as bad credentials.
	 * The policy must stay valid until the next call into the key server.
	 */
	int (*lookup)(void *ctx, uint32_t group_id, const struct gdoi_id *member,
		      const struct gdoi_addr *addr, const struct gdoi_policy **policy);
	/*
	 * Called once per registration, only after message 3 proved the nonce:
	 * the Sender-IDs of this member (the same ones again when it registers
	 * anew). Returns 0 and *n <= count.
	 */
	int (*assign_sids)(void *ctx, uint32_t group_id, const struct gdoi_id *member,
			   unsigned count, uint32_t *sids, size_t *n);
	/*
	 * Optional. Called once per registration after message 3 proved the nonce
	 * (after assign_sids), before message 4 with the keys is built: the key
	 * server records the member here. Nonzero refuses the registration and no
	 * keys leave: GDOI_ERR_NOT_AUTHORIZED with AUTHENTICATION-FAILED, anything
	 * else (the record could not be written) with GDOI_N_PRIVATE_UNAVAILABLE.
	 * A storage failure in assign_sids (not GDOI_ERR_NOT_AUTHORIZED) is refused
	 * the same way.
	 */
	int (*admit)(void *ctx, uint32_t group_id, const struct gdoi_id *member,
		     const struct gdoi_addr *addr);
	void *ctx;
	/* The Phase 1 authentication key, so that it is never also the rekey key. */
	const struct gdoi_key *p1_key;
	size_t nonce_len;		/* 8..128; 0 = 32 */
	uint32_t exchange_timeout_ms;	/* 0 = 30000; also how long replies stay cached */
};

struct gdoi_pull_ks;

struct gdoi_pull_ks *gdoi_pull_ks_new(const struct gdoi_pull_ks_cfg *cfg);
void gdoi_pull_ks_free(struct gdoi_pull_ks *ks);
/* A GROUPKEY-PULL datagram that arrived under the Phase 1 SA sa. */
int gdoi_pull_ks_input(struct gdoi_pull_ks *ks, struct gdoi_p1_sa *sa, const uint8_t *msg,
		       size_t len, uint64_t now, struct gdoi_pull_result *res);
/* Drops finished and timed-out exchanges; returns the next deadline (0 = none). */
uint64_t gdoi_pull_ks_expire(struct gdoi_pull_ks *ks, uint64_t now);
size_t gdoi_pull_ks_exchanges(const struct gdoi_pull_ks *ks);

#endif
