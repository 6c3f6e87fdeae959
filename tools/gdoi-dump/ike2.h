/*
 * ike2.h - gdoi-dump's IKEv2 / G-IKEv2 side: the decoder and renderer
 * (ike2.c), the keys and SKF reassembly state (ike2_keys.c).
 */
#ifndef GDOI_DUMP_IKE2_H
#define GDOI_DUMP_IKE2_H

#include "dump.h"

#include "gdoi/gike2_rekey.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_wire.h"

#define IKE2_MAX_FRAGS 64

struct ike2_sa_entry {
	uint8_t spi_i[8], spi_r[8];
	bool have_sk;		/* SK_e* / SK_a* known (a decryption table entry) */
	bool have_skd;		/* SK_d known (a #sk_d line): GSK_w can be derived */
	struct gdoi_ike2_keys k;
	char source[96];
};

struct ike2_rekey_entry {
	struct gike2_rekey_sa sa;	/* spi, gsk_e, gsk_w */
	char source[96];
};

/* The fragments of one message seen so far, decrypted. */
struct ike2_reasm {
	uint8_t spi_i[8], spi_r[8];
	uint32_t msgid;
	uint8_t exchange, flags;
	uint16_t total, have;
	uint8_t first;			/* Next Payload of fragment 1 */
	uint8_t *pt[IKE2_MAX_FRAGS];	/* [number - 1] */
	size_t pt_len[IKE2_MAX_FRAGS];
	unsigned long frame[IKE2_MAX_FRAGS];
};

/* ike2_keys.c */
struct ike2_sa_entry *ike2_find_sa(struct dump_ike2 *x, const uint8_t *spi_i,
				   const uint8_t *spi_r);
struct ike2_rekey_entry *ike2_find_rekey(struct dump_ike2 *x, const uint8_t *spi);
/* Stores (or replaces) a Rekey SA's keys; 0 or -1 when full / out of memory. */
int ike2_add_rekey_sa(struct dump_ike2 *x, const struct gike2_rekey_sa *sa, const char *source);
/* The reassembly of this message (header fields), created when new; NULL when
 * total does not match an earlier fragment's or exceeds IKE2_MAX_FRAGS. */
struct ike2_reasm *ike2_reasm_get(struct dump_ike2 *x, const struct gdoi_ike2_hdr *h,
				  uint16_t total);
void ike2_reasm_done(struct dump_ike2 *x, struct ike2_reasm *r);

#endif
