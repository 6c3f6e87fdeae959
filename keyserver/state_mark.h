/*
 * state_mark.h - the SEQ mark (part of the SQLite backend): a small file
 * beside the database, DIR/gdoi-ks.seq, holding per group the SPI of the
 * current KEK and the last SEQ used under it (in compat = gdoid groups, where
 * SEQ continues across rotations, the last SEQ of the group). It is rewritten and synced
 * (temporary file, fsync, rename, fsync of the directory) before every
 * database commit that moves a KEK or a SEQ, so it is never behind what
 * members hold. At start a database behind its mark - a WAL cut short or
 * garbled after a crash, a truncated file, a deleted row - is detected
 * instead of silently rewinding a SEQ (state.h, ks_state_verify_group).
 */
#ifndef KS_STATE_MARK_H
#define KS_STATE_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdoi/numbers.h"

#define KS_MARK_FILE "gdoi-ks.seq"

struct ks_mark {
	uint32_t gid;
	bool has_kek;
	uint8_t kek_spi[GDOI_KEK_SPI_LEN];
	uint32_t seq;
};

struct ks_marks {
	char path[600];
	bool present;		/* the file existed at load */
	bool damaged;		/* ... but could not be read back: every group is suspect */
	size_t n, cap;
	struct ks_mark *v;
};

/* Reads DIR/gdoi-ks.seq (absent: present = false). -1 only on I/O errors. */
int ks_marks_load(struct ks_marks *m, const char *dir, char *err, size_t errlen);
const struct ks_mark *ks_marks_find(const struct ks_marks *m, uint32_t gid);
/* Updates gid's mark and writes the file durably; unchanged marks are not rewritten. */
int ks_marks_set(struct ks_marks *m, uint32_t gid, bool has_kek, const uint8_t *kek_spi, uint32_t seq);
void ks_marks_free(struct ks_marks *m);

#endif
