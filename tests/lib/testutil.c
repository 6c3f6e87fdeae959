/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/bytes.h"

uint8_t *hex_alloc(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2 + 1;
	uint8_t *b = malloc(cap);
	assert_non_null(b);
	long n = gdoi_hex_decode(hex, b, cap);
	assert_true(n >= 0);
	*len = (size_t)n;
	return b;
}

void assert_bytes_equal_at(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			   const char *file, int line)
{
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			print_error("%s:%d: bytes differ at offset %zu: %02x != %02x\n",
				    file, line, i, a[i], b[i]);
			fail();
		}
	}
	if (alen != blen) {
		print_error("%s:%d: lengths differ: %zu != %zu\n", file, line, alen, blen);
		fail();
	}
}
