/* bytes.c - bounds-checked reader and growable writer (see bytes.h). */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

bool gdoi_read_u8(struct gdoi_reader *r, uint8_t *v)
{
	if (gdoi_reader_left(r) < 1)
		return false;
	*v = r->base[r->pos++];
	return true;
}

bool gdoi_read_u16(struct gdoi_reader *r, uint16_t *v)
{
	if (gdoi_reader_left(r) < 2)
		return false;
	*v = gdoi_get_u16(r->base + r->pos);
	r->pos += 2;
	return true;
}

bool gdoi_read_u32(struct gdoi_reader *r, uint32_t *v)
{
	if (gdoi_reader_left(r) < 4)
		return false;
	*v = gdoi_get_u32(r->base + r->pos);
	r->pos += 4;
	return true;
}

bool gdoi_read_bytes(struct gdoi_reader *r, size_t n, gdoi_bytes *out)
{
	if (gdoi_reader_left(r) < n)
		return false;
	out->ptr = r->base + r->pos;
	out->len = n;
	r->pos += n;
	return true;
}

bool gdoi_read_sub(struct gdoi_reader *r, size_t n, struct gdoi_reader *sub)
{
	if (gdoi_reader_left(r) < n)
		return false;
	*sub = gdoi_reader_init(r->base + r->pos, n, r->off0 + r->pos);
	r->pos += n;
	return true;
}

void gdoi_writer_init(struct gdoi_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void gdoi_writer_free(struct gdoi_writer *w)
{
	if (w->buf) {
		OPENSSL_cleanse(w->buf, w->cap);
		free(w->buf);
	}
	gdoi_writer_init(w);
}

/* Grows by doubling; the old buffer is wiped because it may hold key material. */
static bool writer_room(struct gdoi_writer *w, size_t n)
{
	if (w->failed)
		return false;
	if (n > SIZE_MAX / 2 - w->len) {
		w->failed = true;
		return false;
	}
	if (w->len + n <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	uint8_t *nb = malloc(cap);
	if (!nb) {
		w->failed = true;
		return false;
	}
	if (w->buf) {
		memcpy(nb, w->buf, w->len);
		OPENSSL_cleanse(w->buf, w->cap);
		free(w->buf);
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

void gdoi_write_bytes(struct gdoi_writer *w, const void *p, size_t n)
{
	if (n == 0 || !writer_room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void gdoi_write_zeros(struct gdoi_writer *w, size_t n)
{
	if (n == 0 || !writer_room(w, n))
		return;
	memset(w->buf + w->len, 0, n);
	w->len += n;
}

void gdoi_write_u8(struct gdoi_writer *w, uint8_t v)
{
	gdoi_write_bytes(w, &v, 1);
}

void gdoi_write_u16(struct gdoi_writer *w, uint16_t v)
{
	uint8_t b[2];
	gdoi_put_u16(b, v);
	gdoi_write_bytes(w, b, 2);
}

void gdoi_write_u32(struct gdoi_writer *w, uint32_t v)
{
	uint8_t b[4];
	gdoi_put_u32(b, v);
	gdoi_write_bytes(w, b, 4);
}

size_t gdoi_write_reserve(struct gdoi_writer *w, size_t n)
{
	size_t at = w->len;
	gdoi_write_zeros(w, n);
	return at;
}

void gdoi_patch_u16(struct gdoi_writer *w, size_t at, uint16_t v)
{
	if (!w->failed && at + 2 <= w->len)
		gdoi_put_u16(w->buf + at, v);
}

void gdoi_patch_u32(struct gdoi_writer *w, size_t at, uint32_t v)
{
	if (!w->failed && at + 4 <= w->len)
		gdoi_put_u32(w->buf + at, v);
}

uint8_t *gdoi_writer_take(struct gdoi_writer *w, size_t *len)
{
	if (w->failed) {
		gdoi_writer_free(w);
		return NULL;
	}
	uint8_t *b = w->buf;
	*len = w->len;
	if (!b)
		b = calloc(1, 1);	/* an empty message is still a buffer */
	gdoi_writer_init(w);
	return b;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long gdoi_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *s = hex; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ':')
			continue;
		int v = hexval(*s);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

void gdoi_hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}
