/*
 * secret.c - the allocator of key-holding memory (secret.h).
 */
#include "secret.h"

#include <stdlib.h>

#include "crypto.h"

static void *(*secret_alloc)(size_t);
static void (*secret_release)(void *, size_t);

void gdoi_secret_set_allocator(void *(*alloc)(size_t n), void (*release)(void *p, size_t n))
{
	secret_alloc = alloc && release ? alloc : NULL;
	secret_release = alloc && release ? release : NULL;
}

void *gdoi_secret_calloc(size_t n)
{
	if (!n)
		n = 1;
	return secret_alloc ? secret_alloc(n) : calloc(1, n);
}

void gdoi_secret_free(void *p, size_t n)
{
	if (!p)
		return;
	gdoi_wipe(p, n ? n : 1);
	if (secret_release)
		secret_release(p, n ? n : 1);
	else
		free(p);
}
