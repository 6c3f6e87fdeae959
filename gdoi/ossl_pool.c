/* ossl_pool.c - size-class pool for OpenSSL's small blocks (see ossl_pool.h). */
#include "ossl_pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define POOL_ALIGN 16
#define POOL_MAX 512			/* largest pooled block */
#define POOL_CLASSES (POOL_MAX / POOL_ALIGN)
#define POOL_SLAB 65536

/* Before every block: its class (1..POOL_CLASSES), or 0 for a malloc'ed one
 * with its size; 16 octets keep the block 16-aligned. */
struct hdr {
	size_t size;
	size_t cls;
};

struct free_block {
	struct free_block *next;
};

static _Thread_local struct free_block *lists[POOL_CLASSES + 1];
static _Thread_local unsigned char *slab_at, *slab_end;

static void *carve(size_t need)
{
	if ((size_t)(slab_end - slab_at) < need || !slab_at) {
		unsigned char *s = malloc(POOL_SLAB);	/* kept for good: the pool's memory */
		if (!s)
			return NULL;
		slab_at = s;
		slab_end = s + POOL_SLAB;
	}
	void *p = slab_at;
	slab_at += need;
	return p;
}

void *gdoi_ossl_pool_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	struct hdr *h;
	if (n == 0)
		n = 1;
	if (n > POOL_MAX) {
		if (n > SIZE_MAX - sizeof(*h) || !(h = malloc(sizeof(*h) + n)))
			return NULL;
		h->size = n;
		h->cls = 0;
		return h + 1;
	}
	size_t cls = (n + POOL_ALIGN - 1) / POOL_ALIGN;
	struct free_block *b = lists[cls];
	if (b) {
		lists[cls] = b->next;
		h = (struct hdr *)b - 1;
	} else if (!(h = carve(sizeof(*h) + cls * POOL_ALIGN))) {
		return NULL;
	}
	h->size = cls * POOL_ALIGN;
	h->cls = cls;
	return h + 1;
}

void gdoi_ossl_pool_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	if (!h->cls) {
		free(h);
		return;
	}
	struct free_block *b = p;
	b->next = lists[h->cls];
	lists[h->cls] = b;
}

void *gdoi_ossl_pool_realloc(void *p, size_t n, const char *file, int line)
{
	if (!p)
		return gdoi_ossl_pool_malloc(n, file, line);
	if (n == 0) {
		gdoi_ossl_pool_free(p, file, line);
		return NULL;
	}
	struct hdr *h = (struct hdr *)p - 1;
	if (h->cls && n <= h->size)
		return p;
	if (!h->cls && n > POOL_MAX) {
		if (n > SIZE_MAX - sizeof(*h))
			return NULL;
		struct hdr *nh = realloc(h, sizeof(*h) + n);
		if (!nh)
			return NULL;
		nh->size = n;
		return nh + 1;
	}
	void *q = gdoi_ossl_pool_malloc(n, file, line);
	if (!q)
		return NULL;
	memcpy(q, p, h->size < n ? h->size : n);
	gdoi_ossl_pool_free(p, file, line);
	return q;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define POOL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define POOL_SANITIZED 1
#endif
#endif

int gdoi_ossl_pool_install(bool system_malloc)
{
#ifdef POOL_SANITIZED
	(void)system_malloc;
	return 0;
#else
	if (system_malloc)
		return 0;
	return CRYPTO_set_mem_functions(gdoi_ossl_pool_malloc, gdoi_ossl_pool_realloc, gdoi_ossl_pool_free) ? 0
													    : -1;
#endif
}
