/*
 * ossl_pool.h - an allocator for OpenSSL's small blocks (CRYPTO_set_mem_functions):
 * per-thread free lists of 16-octet size classes up to 512 octets, carved from
 * 64 KiB slabs; larger blocks go to malloc. A key agreement allocates and frees
 * some hundred BIGNUMs, points and parameter blocks; in a key server whose heap
 * also holds tens of thousands of Phase 1 SAs and PULL exchanges of all ages,
 * glibc served them from fragmented bins (unlink_chunk, malloc_consolidate: a
 * tenth of the key server's CPU, docs/performance.md). Blocks go back to the
 * list of the thread that frees them; slabs are never returned to the system.
 * Freed blocks are not wiped (as with malloc: OpenSSL clears what is secret
 * before it frees it, OPENSSL_clear_free).
 */
#ifndef GDOI_OSSL_POOL_H
#define GDOI_OSSL_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the pool as OpenSSL's allocator: call first thing in main, before
 * anything calls OpenSSL. 0, or -1 when OpenSSL had already allocated (then its
 * allocator stays malloc). Not installed in sanitizer builds (ASan, TSan must
 * see OpenSSL's blocks) or when the caller asks for the system's (the programs
 * take that from GDOI_OSSL_MALLOC=system: gdoi/ reads no environment). */
int gdoi_ossl_pool_install(bool system_malloc);

/* The pool's own entry points (what OpenSSL is given), for tests. */
void *gdoi_ossl_pool_malloc(size_t n, const char *file, int line);
void *gdoi_ossl_pool_realloc(void *p, size_t n, const char *file, int line);
void gdoi_ossl_pool_free(void *p, const char *file, int line);

#endif
