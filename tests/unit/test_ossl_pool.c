/*
 * test_ossl_pool.c - the pool gdoi-ks gives OpenSSL for its small blocks
 * (gdoi/ossl_pool.c): every size is 16-aligned and writable to its end, a freed
 * block comes back for its size class (LIFO), realloc keeps the contents across
 * classes and into and out of malloc'ed sizes, blocks freed by another thread
 * are reused there, and OpenSSL key agreements run on it.
 */
#include "tests/lib/testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "gdoi/dh.h"
#include "gdoi/ossl_pool.h"

#define M(n) gdoi_ossl_pool_malloc((n), __FILE__, __LINE__)
#define R(p, n) gdoi_ossl_pool_realloc((p), (n), __FILE__, __LINE__)
#define F(p) gdoi_ossl_pool_free((p), __FILE__, __LINE__)

static void test_pool_sizes_aligned_and_reused_by_class(void **s)
{
	(void)s;
	static void *v[700];
	for (size_t n = 0; n < 700; n++) {
		unsigned char *p = v[n] = M(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, (int)(n & 0xff), n ? n : 1);
	}
	for (size_t n = 1; n < 700; n++) {	/* no block overlaps another */
		const unsigned char *p = v[n];
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], n & 0xff);
	}
	for (size_t n = 0; n < 700; n++)
		F(v[n]);
	void *a = M(40), *b = M(48);	/* same class (33..48) */
	F(a);
	F(b);
	assert_ptr_equal(M(33), b);	/* the last freed first */
	assert_ptr_equal(M(48), a);
	F(a);
	F(b);
	F(NULL);
}

static void test_pool_realloc_keeps_contents(void **s)
{
	(void)s;
	unsigned char *p = M(20);
	memcpy(p, "0123456789abcdefghij", 20);
	assert_ptr_equal(R(p, 32), p);	/* fits its class */
	unsigned char *q = R(p, 100);	/* another class */
	assert_non_null(q);
	assert_memory_equal(q, "0123456789abcdefghij", 20);
	unsigned char *r = R(q, 5000);	/* malloc'ed */
	assert_non_null(r);
	assert_memory_equal(r, "0123456789abcdefghij", 20);
	memset(r + 20, 0x5a, 4980);
	unsigned char *t = R(r, 9000);
	assert_non_null(t);
	assert_memory_equal(t, "0123456789abcdefghij", 20);
	assert_int_equal(t[4999], 0x5a);
	unsigned char *u = R(t, 10);	/* back into the pool */
	assert_non_null(u);
	assert_memory_equal(u, "0123456789", 10);
	assert_null(R(u, 0));		/* realloc to 0 frees */
	unsigned char *w = R(NULL, 64);
	assert_non_null(w);
	F(w);
}

static void *free_them(void *arg)
{
	void **v = arg;
	for (int i = 0; i < 64; i++)
		F(v[i]);
	void *again = M(200);	/* from this thread's list: one of them */
	for (int i = 0; i < 64; i++)
		if (again == v[i])
			return again;
	return NULL;
}

static void test_pool_blocks_freed_by_another_thread(void **s)
{
	(void)s;
	void *v[64];
	for (int i = 0; i < 64; i++)
		assert_non_null(v[i] = M(200));
	pthread_t t;
	void *got = NULL;
	assert_int_equal(pthread_create(&t, NULL, free_them, v), 0);
	assert_int_equal(pthread_join(t, &got), 0);
	assert_non_null(got);
	F(got);
}

/* A key agreement on the pool: the library's own DH code on both sides agrees.
 * In a sanitizer build the pool is not installed (ASan sees OpenSSL's blocks). */
static void test_pool_runs_openssl_key_agreement(void **s)
{
	(void)s;
	for (int i = 0; i < 20; i++) {
		struct gdoi_dh *a = NULL, *b = NULL;
		uint8_t k1[GDOI_DH_MAX_SECRET_LEN], k2[GDOI_DH_MAX_SECRET_LEN];
		size_t n1 = 0, n2 = 0;
		assert_int_equal(gdoi_dh_new(i % 2 ? 14 : 19, &a), 0);
		assert_int_equal(gdoi_dh_new(i % 2 ? 14 : 19, &b), 0);
		assert_int_equal(gdoi_dh_derive(a, gdoi_dh_public(b), k1, sizeof(k1), &n1), 0);
		assert_int_equal(gdoi_dh_derive(b, gdoi_dh_public(a), k2, sizeof(k2), &n2), 0);
		assert_int_equal(n1, n2);
		assert_memory_equal(k1, k2, n1);
		gdoi_dh_free(a);
		gdoi_dh_free(b);
	}
}

int main(void)
{
	/* first, as gdoi-ks does: nothing has called OpenSSL yet */
	assert_int_equal(gdoi_ossl_pool_install(false), 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_sizes_aligned_and_reused_by_class),
		cmocka_unit_test(test_pool_realloc_keeps_contents),
		cmocka_unit_test(test_pool_blocks_freed_by_another_thread),
		cmocka_unit_test(test_pool_runs_openssl_key_agreement),
	};
	return cmocka_run_group_tests_name("ossl pool", tests, NULL, NULL);
}
