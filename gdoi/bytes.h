/*
 * bytes.h - borrowed byte spans, a bounds-checked reader and a growable writer.
 *
 * Every parser in gdoi/ reads through a struct gdoi_reader so that no read can
 * pass the end of its container; every builder writes through a struct
 * gdoi_writer, which records the first error and makes later writes no-ops
 * (check once at the end, as with a stream).
 */
#ifndef GDOI_BYTES_H
#define GDOI_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed view of bytes: never owns, never frees. */
typedef struct gdoi_bytes {
	const uint8_t *ptr;
	size_t len;
} gdoi_bytes;

#define GDOI_BYTES(p, n) ((gdoi_bytes){ (const uint8_t *)(p), (n) })
#define GDOI_BYTES_NONE ((gdoi_bytes){ NULL, 0 })

/* Reader over [base, base + len); pos is relative to base, off0 is the
 * absolute offset of base within the whole message (for error reports). */
struct gdoi_reader {
	const uint8_t *base;
	size_t len;
	size_t pos;
	size_t off0;
};

static inline struct gdoi_reader gdoi_reader_init(const uint8_t *p, size_t len, size_t off0)
{
	struct gdoi_reader r = { p, len, 0, off0 };
	return r;
}

static inline size_t gdoi_reader_left(const struct gdoi_reader *r) { return r->len - r->pos; }
static inline size_t gdoi_reader_offset(const struct gdoi_reader *r) { return r->off0 + r->pos; }

/* Each returns false (and reads nothing) when fewer bytes are left than asked. */
bool gdoi_read_u8(struct gdoi_reader *r, uint8_t *v);
bool gdoi_read_u16(struct gdoi_reader *r, uint16_t *v);
bool gdoi_read_u32(struct gdoi_reader *r, uint32_t *v);
bool gdoi_read_bytes(struct gdoi_reader *r, size_t n, gdoi_bytes *out);
/* Splits off the next n bytes as a sub-reader (offsets stay absolute). */
bool gdoi_read_sub(struct gdoi_reader *r, size_t n, struct gdoi_reader *sub);

/* Growable output buffer. Secret material may pass through it: freeing wipes. */
struct gdoi_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool failed;	/* allocation failed or a field did not fit its width */
};

void gdoi_writer_init(struct gdoi_writer *w);
void gdoi_writer_free(struct gdoi_writer *w);	/* wipes, frees, re-inits */
void gdoi_write_u8(struct gdoi_writer *w, uint8_t v);
void gdoi_write_u16(struct gdoi_writer *w, uint16_t v);
void gdoi_write_u32(struct gdoi_writer *w, uint32_t v);
void gdoi_write_bytes(struct gdoi_writer *w, const void *p, size_t n);
void gdoi_write_zeros(struct gdoi_writer *w, size_t n);
/* Overwrites a field written earlier (lengths known only at the end). */
void gdoi_patch_u16(struct gdoi_writer *w, size_t at, uint16_t v);
void gdoi_patch_u32(struct gdoi_writer *w, size_t at, uint32_t v);
/* Reserves n bytes and returns their offset (for length fields). */
size_t gdoi_write_reserve(struct gdoi_writer *w, size_t n);
/* Hands the buffer to the caller (who frees it with free()); writer is reset. */
uint8_t *gdoi_writer_take(struct gdoi_writer *w, size_t *len);

static inline uint16_t gdoi_get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t gdoi_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void gdoi_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void gdoi_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Hex helpers for tests, logs of public values and tools. Never use on secrets in logs. */
/* Parses hex (whitespace and ':' ignored); returns bytes written or -1. */
long gdoi_hex_decode(const char *hex, uint8_t *out, size_t cap);
/* Writes 2*len+1 characters including the NUL into out. */
void gdoi_hex_encode(const uint8_t *p, size_t len, char *out);

#endif
