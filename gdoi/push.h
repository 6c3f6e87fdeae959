/*
 * push.h - GROUPKEY-PUSH (RFC 6407 §4), the rekey message, sans-I/O:
 *
 *   HDR*(cookies = KEK SPI, exchange 33, flags E, M-ID 0), SEQ, [D...], [SA, KD], SIG
 *
 * SIG covers hash("rekey" | HDR | SEQ | [D...] | [SA | KD]) with the header's
 * Length set to the unpadded length of the whole message (SIG included):
 * that is what the GDOI reference implementation signs and verifies, so it
 * is the rule both directions follow here (docs/protocol.md). Everything
 * after the header is encrypted with the current KEK in CBC mode under the
 * IV delivered with it (the reference re-uses that IV for every push).
 *
 * A member checks, cheapest first: the cookies name its KEK, the header,
 * decryption and parsing, SEQ strictly greater than the last one, then the
 * signature with the key server's rekey key - and only then is anything
 * applied.
 */
#ifndef GDOI_PUSH_H
#define GDOI_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct gdoi_key;

#define GDOI_PUSH_MAX_DELETES 16

/* A Delete payload (RFC 6407 §5.9): Protocol-ID of the TEK (0 = the KEK), SPI 0 = all. */
struct gdoi_push_delete {
	uint8_t proto;
	bool all;		/* SPI 0: every SA of this protocol */
	uint32_t spi;		/* TEK SPI (proto != 0) */
};

struct gdoi_push_params {
	const struct gdoi_kek_policy *kek;	/* current KEK: names and encrypts the message */
	const struct gdoi_key *sign_key;	/* the key server's rekey key (private) */
	uint32_t seq;				/* previous + 1 */
	const struct gdoi_push_delete *deletes;
	size_t ndeletes;
	/* What SA and KD carry: the new KEK when with_kek (the KEK changes), and
	 * every TEK of update. NULL for a push that only deletes. */
	const struct gdoi_policy *update;
	bool with_kek;
	/* The GDOI reference implementation's form (compat = gdoid; docs/protocol.md):
	 * an RSA signature over the raw hash (its quirk 3), and a KEK key packet that
	 * names the KEK the push travels under, which is what its member looks up. */
	bool ref_form;
};

/* Builds, signs and encrypts; *out is malloc'd. */
int gdoi_push_build(const struct gdoi_push_params *p, uint8_t **out, size_t *len);

/* A verified push, not yet applied. */
struct gdoi_push_update {
	uint32_t seq;
	size_t ndeletes;
	struct gdoi_push_delete deletes[GDOI_PUSH_MAX_DELETES];
	bool has_sa;
	struct gdoi_policy fresh;	/* from SA + KD: new KEK (has_kek), GAP, new TEKs */
	/* The new KEK's key came in a key packet naming the outgoing KEK (the
	 * reference implementation's rotation, policy.h): its SEQ carries on. */
	bool kek_renamed;
};

/* Whether the cookies of msg name cur's KEK, or the KEK a push replaced:
 * a push gdoi_push_open answers for rather than one for another group. */
bool gdoi_push_names_kek(const struct gdoi_policy *cur, const uint8_t *msg, size_t len);

/*
 * Opens a push for the group whose current state is cur (its KEK, SEQ and
 * rekey key). rekey_key may be NULL: it is then parsed from
 * cur->kek.rekey_pub. A push under the KEK that cur->prev_kek replaced is
 * decrypted only to tell a replay (GDOI_ERR_REPLAY) from a push that KEK
 * should no longer carry (GDOI_ERR_NOT_FOUND); it is never applied.
 * Returns 0 and fills u, or:
 *   GDOI_ERR_NOT_FOUND  cookies name no KEK of ours (or the replaced one),
 *   GDOI_ERR_VALUE / _LENGTH / parse errors  malformed or not decryptable,
 *   GDOI_ERR_REPLAY     SEQ not greater than cur->seq,
 *   GDOI_ERR_AUTH       signature does not verify,
 *   GDOI_ERR_UNSUPPORTED / _MISSING  policy or keys unacceptable.
 * cur is never modified; why gets a reason for the log. On GDOI_ERR_REPLAY
 * u->seq still holds the SEQ (decrypted, not authenticated), the rest of u is clear.
 */
int gdoi_push_open(const struct gdoi_policy *cur, const struct gdoi_key *rekey_key,
		   const uint8_t *msg, size_t len, struct gdoi_push_update *u, char *why,
		   size_t wl);

/*
 * Applies a verified update to cur: Deletes first, then the new KEK (a KEK
 * with a new SPI restarts SEQ at 0, unless kek_renamed; the KEK it replaces
 * goes to cur->prev_kek), then the new TEKs (replacing those with the same
 * SPI) and the sender list (SRTP_SENDERS, replacing the one held). GDOI_ERR_TOO_BIG when more than GDOI_MAX_TEKS would remain.
 */
int gdoi_push_apply(struct gdoi_policy *cur, const struct gdoi_push_update *u);

void gdoi_push_update_clear(struct gdoi_push_update *u);

#endif
