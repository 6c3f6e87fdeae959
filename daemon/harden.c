/* harden.c - see harden.h. */
#include "daemon/harden.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>
#include <malloc.h>

#include "daemon/log.h"
#include "gdoi/crypto.h"
#include "gdoi/secret.h"

int dm_no_core_dumps(void)
{
	const char *keep = getenv("GDOI_CORE_DUMPS");
	struct rlimit none = { 0, 0 };
	int rc = 0, fd;

	if (keep && !strcmp(keep, "1")) {
		dm_log(DM_WARN, "GDOI_CORE_DUMPS=1: core dumps stay enabled and will hold keys");
		return 0;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		dm_log(DM_WARN, "prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
		rc = -1;
	}
	if (setrlimit(RLIMIT_CORE, &none)) {
		dm_log(DM_WARN, "setrlimit(RLIMIT_CORE, 0): %s", strerror(errno));
		rc = -1;
	}
	fd = open("/proc/self/coredump_filter", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		dm_log(DM_WARN, "/proc/self/coredump_filter: %s", strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static void *json_malloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p)
		gdoi_wipe_free(p, malloc_usable_size(p));
}

void dm_json_wipe_on_free(void)
{
	json_set_alloc_funcs(json_malloc, json_wipe_free);
}

static size_t pages_of(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t p = pg > 0 ? (size_t)pg : 4096;

	return n > SIZE_MAX - p ? 0 : (n + p - 1) / p * p;
}

/*
 * Released blocks are kept for reuse, wiped, still mlock'ed and MADV_DONTDUMP:
 * the key server allocates and releases one policy per registration, and
 * mmap, madvise, mlock, munlock and munmap for it cost about 25 us of system
 * time (docs/performance.md). Bounded, so a burst of pushes leaves little mapped.
 */
#define SECRET_CACHE 32
static struct { void *p; size_t len; } secret_cache[SECRET_CACHE];
static size_t secret_cached;
static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;

/* A kept block of len octets, or NULL. */
static void *secret_reuse(size_t len)
{
	void *p = NULL;

	pthread_mutex_lock(&secret_lock);
	for (size_t i = secret_cached; i-- > 0;) {
		if (secret_cache[i].len == len) {
			p = secret_cache[i].p;
			secret_cache[i] = secret_cache[--secret_cached];
			break;
		}
	}
	pthread_mutex_unlock(&secret_lock);
	return p;
}

/* Keeps a wiped block of len octets; false: the cache is full. */
static bool secret_keep(void *p, size_t len)
{
	bool kept = false;

	pthread_mutex_lock(&secret_lock);
	if (secret_cached < SECRET_CACHE) {
		secret_cache[secret_cached].p = p;
		secret_cache[secret_cached++].len = len;
		kept = true;
	}
	pthread_mutex_unlock(&secret_lock);
	return kept;
}

void *dm_secret_alloc(size_t n)
{
	size_t len = pages_of(n);
	void *p;

	if (!len)
		return NULL;
	if ((p = secret_reuse(len)) != NULL)
		return p;	/* wiped whole by dm_secret_release */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTDUMP))
		dm_log_limited(DM_WARN, "madvise", "madvise(MADV_DONTDUMP): %s", strerror(errno));
	(void)mlock(p, len);	/* best effort: RLIMIT_MEMLOCK may forbid it */
	return p;		/* anonymous pages come zeroed */
}

void dm_secret_release(void *p, size_t n)
{
	size_t len = pages_of(n);

	if (!p || !len)
		return;
	gdoi_wipe(p, len);
	if (secret_keep(p, len))
		return;
	(void)munlock(p, len);
	munmap(p, len);
}

void dm_secret_memory(void)
{
	gdoi_secret_set_allocator(dm_secret_alloc, dm_secret_release);
}

int dm_dontdump(void *p, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t start, end;

	if (!p || !len || pg <= 0)
		return 0;
	start = (uintptr_t)p & ~((uintptr_t)pg - 1);
	end = ((uintptr_t)p + len + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	if (madvise((void *)start, end - start, MADV_DONTDUMP)) {
		dm_log(DM_WARN, "madvise(MADV_DONTDUMP): %s", strerror(errno));
		return -1;
	}
	return 0;
}
