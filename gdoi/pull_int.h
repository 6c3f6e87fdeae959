/* pull_int.h - what the two GROUPKEY-PULL roles share. Not installed. */
#ifndef GDOI_PULL_INT_H
#define GDOI_PULL_INT_H

#include "pull.h"
#include "wire.h"

#define PULL_MIN_NONCE 8	/* RFC 6407 §5.8 */
#define PULL_MAX_NONCE 128

int pull_fail(struct gdoi_pull_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pull_drop(struct gdoi_pull_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Builds HDR*, HASH(n), pl[1..n-1] (pl[0] is the HASH placeholder), fills
 * HASH(n) = prf(SKEYID_a, M-ID | ni | nr | payloads after HASH) (ni, nr may
 * be empty), encrypts on the IV chain of msgid and advances the chain.
 * The datagram is left in w.
 */
int pull_seal(struct gdoi_p1_sa *sa, uint32_t msgid, struct gdoi_payload *pl, size_t n,
	      gdoi_bytes ni, gdoi_bytes nr, struct gdoi_writer *w);
/*
 * Decrypts on the IV chain of msgid (not advanced), parses, checks that HASH
 * comes first and verifies it. On success *m and *plain belong to the caller
 * and next_iv holds the chain's next IV (commit with gdoi_p1_iv_set).
 */
int pull_open(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, gdoi_bytes ni, gdoi_bytes nr,
	      struct gdoi_msg **m, uint8_t **plain, uint8_t *next_iv, struct gdoi_pull_result *res);
void pull_close(struct gdoi_msg *m, uint8_t *plain, size_t len);
/* Copies the datagram in w into res->out (and keeps *keep as the cached copy). */
int pull_emit(struct gdoi_writer *w, uint8_t **keep, size_t *keep_len, struct gdoi_pull_result *res);
void pull_digest(const uint8_t *msg, size_t len, uint8_t out[32]);

#endif
