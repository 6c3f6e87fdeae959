/*
 * gike2_codec.h - internal to the G-IKEv2 payload codecs: the substructure
 * header GSA policies, the GWP and KD key bags share (Protocol (1),
 * SPI Size or RESERVED (1), Length (2), counted from the Protocol octet).
 */
#ifndef GDOI_GIKE2_CODEC_H
#define GDOI_GIKE2_CODEC_H

#include "codec.h"
#include "gike2.h"

/* Clears *err and allocates room for every substructure r can hold (at
 * least 4 octets each); an empty r is GDOI_ERR_MISSING (what). */
int gike2_sub_list(struct codec_ctx *c, struct gdoi_reader *r, uint8_t pl, const char *what,
		   size_t elem, void **arr);
/* Reads the header and splits off the rest of the substructure as *sub. */
int gike2_sub_read(struct codec_ctx *c, struct gdoi_reader *r, uint8_t pl, const char *what,
		   uint8_t *proto, uint8_t *second, struct gdoi_reader *sub);
/* Writes a header with Length 0 and returns its offset; end patches Length. */
size_t gike2_sub_begin(struct gdoi_writer *w, uint8_t proto, uint8_t second);
int gike2_sub_end(struct gdoi_writer *w, size_t at);

#endif
