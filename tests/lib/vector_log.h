/*
 * vector_log.h - reads the reference implementation's debug logs
 * (tests/vectors/gdoid-{pull,kek,srtp}/{gm,ks}.log) for known-answer tests.
 *
 * The reference prints values as 8-hex-digit words on the lines that follow
 * a label line:
 *   224014.814041 Negt 80 ike_phase_1_post_exchange_KE_NONCE: SKEYID:
 *   224014.814045 Negt 80 0ff61af2 8b79fdfc ...
 * and datagrams as runs of lines that carry the hex after the label:
 *   223958.404109 Mesg 70 message_send: 2928c3ad 5cb905c3 ...
 * Occurrences count from 0 in file order.
 */
#ifndef TESTS_VECTOR_LOG_H
#define TESTS_VECTOR_LOG_H

#include <stddef.h>
#include <stdint.h>

struct vlog;

/* Directory of the vectors: $GDOI_VECTORS, else "tests/vectors". */
const char *vlog_dir(void);
/* Loads <dir>/<folder>/<file>, e.g. ("gdoid-pull", "gm.log"). NULL on failure. */
struct vlog *vlog_load(const char *folder, const char *file);
void vlog_free(struct vlog *log);

/*
 * The hex words on the lines after the occurrence-th line that ends with
 * label (preceded by a space), up to the first line that is not only hex.
 * Returns the number of octets written to out, or -1 (not found, no data,
 * or more than cap octets).
 */
long vlog_block(const struct vlog *log, const char *label, unsigned occurrence,
		uint8_t *out, size_t cap);

/* The hex words that follow label on the same line (a leading "0x" is
 * skipped), e.g. ("ICOOKIE:", 0). Same returns as vlog_block. */
long vlog_inline(const struct vlog *log, const char *label, unsigned occurrence,
		 uint8_t *out, size_t cap);

/* The occurrence-th run of consecutive lines "label <hex words>" joined
 * together, e.g. the datagrams of ("message_send:", n). */
long vlog_run(const struct vlog *log, const char *label, unsigned occurrence,
	      uint8_t *out, size_t cap);

#endif
