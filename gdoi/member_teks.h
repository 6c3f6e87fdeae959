/*
 * member_teks.h - one group's keys as a group member holds them: the GDOI
 * policy (KEK, SEQ, rekey key) and the live TEKs with their validity times
 * (docs/architecture.md, "TEK lifecycle"; docs/ipc.md for the times):
 * registration keys from receipt, pushed keys from receipt plus ATD, replaced
 * keys until receipt plus DTD, every key gone at its not_after.
 *
 * Part of the member engine; no I/O, no clock ("now" is Unix seconds), no log:
 * what a daemon would log comes back as notes.
 */
#ifndef GDOI_MEMBER_TEKS_H
#define GDOI_MEMBER_TEKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define GDOI_MEMBER_MAX_LIVE 16	/* live TEKs of a group (old and new must fit) */
#define GDOI_NOTES_MAX 8
#define GDOI_NOTE_LEN 160

/* Log-worthy lines, in order; ones past GDOI_NOTES_MAX are counted only. */
struct gdoi_notes {
	size_t n;
	unsigned lost;
	char line[GDOI_NOTES_MAX][GDOI_NOTE_LEN];
};
void gdoi_note(struct gdoi_notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usable SRTP TEK with its validity (Unix seconds). */
struct gdoi_live_tek {
	struct gdoi_tek tek;
	int64_t not_before, not_after;
};

struct gdoi_member_teks {
	struct gdoi_policy *pol;	/* NULL until the first registration */
	int64_t kek_expires;		/* 0 = no KEK */
	uint32_t seq;
	int64_t registered_at, last_rekey;
	size_t nlive;
	struct gdoi_live_tek live[GDOI_MEMBER_MAX_LIVE];	/* by not_before, then SPI */
};

/* A registration delivered p (taken over) at now; true when the live TEKs changed. */
bool gdoi_member_teks_registered(struct gdoi_member_teks *t, struct gdoi_policy *p, int64_t now,
				 struct gdoi_notes *notes);
/* A G-IKEv2 GSA_REKEY (RFC 9838 §2.4) left p (taken over): the group's policy with the
 * rekey's SAs joined and its Deletes applied. Its TEKs get the times the same rekey's
 * GROUPKEY-PUSH gives (gdoi_member_teks_push; a media process cannot tell which protocol
 * brought its keys): TEKs of p not held with these keys are new (from now + ATD), held
 * TEKs p no longer lists are deleted and older TEKs for a new one's destination are
 * replaced (both until now + DTD). t->pol keeps only what may still be renewed: the
 * caller's policy should drop the TEKs t->pol dropped. True when the live TEKs changed.
 * Before any registration: as gdoi_member_teks_registered. */
bool gdoi_member_teks_rekeyed(struct gdoi_member_teks *t, struct gdoi_policy *p, int64_t now,
			      struct gdoi_notes *notes);
/* Whether msg's cookies name t's KEK or the one its last rotation replaced. */
bool gdoi_member_teks_names_kek(const struct gdoi_member_teks *t, const uint8_t *msg, size_t len);
/* Opens, verifies and applies a push: GDOI_ERR_NOT_FOUND with why empty when its
 * cookies name no KEK of t, 0 when applied (*changed set), other negative (or
 * GDOI_ERR_NOT_FOUND from the core) when refused, why set. *seq (may be NULL)
 * gets the push's SEQ when it was applied or refused as GDOI_ERR_REPLAY, else 0. */
int gdoi_member_teks_push(struct gdoi_member_teks *t, const uint8_t *msg, size_t len, int64_t now,
			  bool *changed, uint32_t *seq, char *why, size_t wl, struct gdoi_notes *notes);
/* For the RFC 8263 ACK of push msg, taken before it is applied (a push may
 * replace or delete its KEK): a copy of the KEK its cookies name, current or
 * replaced, with the ack_method of t's KEK, and the SEQ t last applied under
 * it. False when the cookies name no KEK of t or t's KEK asks no ACK. The
 * caller wipes *kek. */
bool gdoi_member_teks_ack_kek(const struct gdoi_member_teks *t, const uint8_t *msg, size_t len,
			      struct gdoi_kek_policy *kek, uint32_t *last_seq);
/* Removes TEKs past their not_after (*changed set when one went); returns the next
 * not_after, 0 when none. */
int64_t gdoi_member_teks_expire(struct gdoi_member_teks *t, int64_t now, bool *changed,
				struct gdoi_notes *notes);
/* When to register again without a push (Unix seconds; 0 = never registered): the
 * newest TEK or the KEK expiry, less a tenth of its lifetime (2 s..300 s). */
int64_t gdoi_member_teks_rereg_due(const struct gdoi_member_teks *t);
/* The latest not_after of the live TEKs, 0 when none. */
int64_t gdoi_member_teks_last_valid(const struct gdoi_member_teks *t);
void gdoi_member_teks_clear(struct gdoi_member_teks *t);

#endif
