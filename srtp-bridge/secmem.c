/*
 * secmem.c - library-owned memory for key material: whole pages of their
 * own, locked in RAM where RLIMIT_MEMLOCK allows (never swapped), left out of
 * core dumps (MADV_DONTDUMP), wiped before they are returned to the kernel.
 * Snapshots, sessions and policy key storage live here.
 */
#include "srtp-bridge/internal.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct secmem_hdr {
	size_t map_len;
	max_align_t align;
};

void *gdoisrtp_secmem_alloc(size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096;

	if (n > SIZE_MAX - sizeof(struct secmem_hdr) - pg)
		return NULL;
	size_t len = (sizeof(struct secmem_hdr) + n + pg - 1) / pg * pg;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* both are best effort: an unprivileged process may be out of locked memory */
	(void)madvise(p, len, MADV_DONTDUMP);
	(void)mlock(p, len);
	struct secmem_hdr *h = p;
	h->map_len = len;
	return h + 1;	/* mmap gives zeroed pages */
}

void gdoisrtp_secmem_free(void *ptr)
{
	if (!ptr)
		return;
	struct secmem_hdr *h = (struct secmem_hdr *)ptr - 1;
	size_t len = h->map_len;
	gdoisrtp_wipe(h, len);
	(void)munlock(h, len);
	munmap(h, len);
}
