/*
 * vector_phase1.h - test helper: one side's Phase 1 as the reference
 * implementation logged it (tests/vectors/gdoid-* /{gm,ks}.log): DH values,
 * nonces, cookies, Main Mode messages, and the key schedule derived from them.
 */
#ifndef TESTS_VECTOR_PHASE1_H
#define TESTS_VECTOR_PHASE1_H

#include <stddef.h>
#include <stdint.h>

#include "gdoi/bytes.h"
#include "gdoi/ike_keys.h"
#include "tests/lib/vector_log.h"

#define VECTOR_PSK "mekmitasdigoat"
#define BUF 4096

/* Everything a Phase 1 needs, read from one side's log. */
struct phase1 {
	uint8_t gxi[512], gxr[512], gxy[512], ni[256], nr[256];
	size_t gxi_len, gxr_len, gxy_len, ni_len, nr_len;
	uint8_t cky_i[8], cky_r[8];
	uint8_t mm1[BUF], mm5_pt[BUF], mm6_pt[BUF], mm5_ct[BUF], mm6_ct[BUF];
	size_t mm1_len, mm5_pt_len, mm6_pt_len, mm5_ct_len, mm6_ct_len;
	gdoi_bytes sai_b, idii_b, idir_b;
	struct gdoi_ike_keys keys;
};

/* A value / datagram the log must contain; fails the test when it does not. */
size_t need_block(const struct vlog *log, const char *label, unsigned occ, uint8_t *out, size_t cap);
size_t need_run(const struct vlog *log, const char *label, unsigned occ, uint8_t *out, size_t cap);
/* Reads the values (not the keys: derive them with read_phase1_keys). */
void read_phase1(const struct vlog *log, int is_gm, struct phase1 *p);
/* read_phase1, then the 3DES/SHA-1 key schedule with the vectors' pre-shared key. */
void read_phase1_keys(const struct vlog *log, int is_gm, struct phase1 *p);

#endif
