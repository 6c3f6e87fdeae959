/*
 * test_daemon_harden.c - the daemons' allocator of key-holding memory
 * (daemon/harden.c): a block comes zeroed on pages marked MADV_DONTDUMP; a
 * released block is wiped and kept for the next allocation of its size
 * (a registration allocates and releases one policy: no mmap/mlock/munmap for
 * it), at most 32 are kept and the rest are unmapped; threads share it.
 */
#include "tests/lib/testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/harden.h"

/* Whether the page at p is mapped (mincore fails with ENOMEM on a hole). */
static bool mapped(void *p)
{
	unsigned char v;
	return mincore(p, (size_t)sysconf(_SC_PAGESIZE), &v) == 0 || errno != ENOMEM;
}

/* Whether /proc/self/smaps marks the mapping holding p "dd" (MADV_DONTDUMP). */
static bool dontdump(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, dd = false;
	uintptr_t a = (uintptr_t)p;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {	/* a mapping's first line */
			in = a >= lo && a < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			dd = strstr(line, " dd") != NULL;
			break;
		}
	}
	fclose(f);
	return dd;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void test_secret_block_reused_wiped_and_out_of_dumps(void **s)
{
	(void)s;
	size_t n = 5000;	/* two pages */
	uint8_t *p = dm_secret_alloc(n);
	assert_non_null(p);
	assert_true(all_zero(p, n));
	assert_true(dontdump(p));
	memset(p, 0xa5, n);
	dm_secret_release(p, n);
	uint8_t *q = dm_secret_alloc(n);
	assert_ptr_equal(q, p);		/* the same block again, no new mapping */
	assert_true(all_zero(q, 8192));	/* wiped whole, past n too */
	assert_true(dontdump(q));
	uint8_t *r = dm_secret_alloc(100);	/* another size: not that block */
	assert_non_null(r);
	assert_ptr_not_equal(r, q);
	dm_secret_release(r, 100);
	dm_secret_release(q, n);
}

static void test_secret_keeps_at_most_32_blocks(void **s)
{
	(void)s;
	enum { N = 40 };
	void *v[N];
	for (int i = 0; i < N; i++)
		assert_non_null(v[i] = dm_secret_alloc(3 * 4096));
	for (int i = 0; i < N; i++)
		dm_secret_release(v[i], 3 * 4096);
	int kept = 0;
	for (int i = 0; i < N; i++)
		kept += mapped(v[i]);
	assert_true(kept <= 32);	/* other sizes may hold slots from the test before */
	assert_true(kept >= 32 - 2);
	assert_false(mapped(v[N - 1]));	/* past the limit: unmapped */
	for (int i = 0; i < N; i++)	/* take them back: the kept ones are reused */
		v[i] = dm_secret_alloc(3 * 4096);
	for (int i = 0; i < N; i++) {
		assert_non_null(v[i]);
		assert_true(all_zero(v[i], 3 * 4096));
		dm_secret_release(v[i], 3 * 4096);
	}
}

static void *churn(void *arg)
{
	uint8_t tag = (uint8_t)(uintptr_t)arg;
	for (int i = 0; i < 2000; i++) {
		uint8_t *p = dm_secret_alloc(1000);
		if (!p || !all_zero(p, 1000))
			return (void *)1;
		memset(p, tag, 1000);
		dm_secret_release(p, 1000);
	}
	return NULL;
}

static void test_secret_cache_shared_by_threads(void **s)
{
	(void)s;
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
	for (int i = 0; i < 4; i++) {
		void *rc;
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);	/* every block came zeroed */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_block_reused_wiped_and_out_of_dumps),
		cmocka_unit_test(test_secret_keeps_at_most_32_blocks),
		cmocka_unit_test(test_secret_cache_shared_by_threads),
	};
	return cmocka_run_group_tests_name("daemon harden", tests, NULL, NULL);
}
