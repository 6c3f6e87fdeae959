/* arena.h - bump allocator that owns everything hanging off one parsed message. */
#ifndef GDOI_ARENA_H
#define GDOI_ARENA_H

#include <stddef.h>

struct gdoi_arena;

struct gdoi_arena *gdoi_arena_new(void);
/* Zeroed memory, aligned for any type; NULL when out of memory or n is absurd. */
void *gdoi_arena_alloc(struct gdoi_arena *a, size_t n);
/* Array form with overflow check. */
void *gdoi_arena_calloc(struct gdoi_arena *a, size_t count, size_t size);
void gdoi_arena_free(struct gdoi_arena *a);

#endif
