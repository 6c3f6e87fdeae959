/* testutil.h - small helpers shared by the cmocka tests. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Decodes hex (whitespace allowed) into a malloc'd buffer; fails the test on bad hex. */
uint8_t *hex_alloc(const char *hex, size_t *len);

/* Asserts two byte strings are equal; on mismatch prints the first differing offset. */
#define assert_bytes_equal(a, alen, b, blen) \
	assert_bytes_equal_at((a), (alen), (b), (blen), __FILE__, __LINE__)
void assert_bytes_equal_at(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			   const char *file, int line);

#endif
