/*
 * secret.h - where the core keeps memory that holds keys: the member engine,
 * received policies (their TEK and KEK keys) and push updates. By default
 * calloc/free; a daemon installs an allocator whose pages stay out of core
 * dumps (daemon/harden.c dm_secret_alloc). The core itself never calls madvise:
 * it does no system calls of that kind.
 */
#ifndef GDOI_SECRET_H
#define GDOI_SECRET_H

#include <stddef.h>

/* alloc returns n zeroed octets or NULL; release(p, n) takes back what alloc
 * gave (already wiped). Both NULL: calloc/free again. Set once at start-up,
 * before anything is allocated (not thread-safe). */
void gdoi_secret_set_allocator(void *(*alloc)(size_t n), void (*release)(void *p, size_t n));
/* n zeroed octets, or NULL. */
void *gdoi_secret_calloc(size_t n);
/* Wipes n octets and returns them; p may be NULL. */
void gdoi_secret_free(void *p, size_t n);

#endif
