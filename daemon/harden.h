/*
 * harden.h - keeping keys out of core dumps. At start a daemon becomes
 * non-dumpable (PR_SET_DUMPABLE 0, which also stops other processes of its
 * uid from ptrace-attaching or reading /proc/PID/mem), sets RLIMIT_CORE to 0
 * and writes 0 to /proc/self/coredump_filter, so that even a dump forced by
 * root (fs.suid_dumpable = 2, gcore) holds no anonymous or private memory.
 * GDOI_CORE_DUMPS=1 in the environment keeps dumps for debugging (they then
 * hold keys: docs/security.md). Pages holding keys are also marked
 * MADV_DONTDUMP, which every dumper honours whatever the filter says.
 */
#ifndef DM_HARDEN_H
#define DM_HARDEN_H

#include <stddef.h>

/* Returns 0, or -1 when a step failed (logged; the daemon goes on). */
int dm_no_core_dumps(void);
/* Every block jansson frees is wiped first (keys pass through it as base64);
 * process-wide, so for the daemons only, never the library. */
void dm_json_wipe_on_free(void);
/* Marks the pages spanning [p, p + len) MADV_DONTDUMP. */
int dm_dontdump(void *p, size_t len);
/* Pages of their own for key-holding memory: MADV_DONTDUMP, mlock'ed when the
 * process may (failures ignored), zeroed; dm_secret_release wipes what
 * dm_secret_alloc(n) gave and keeps up to 32 such blocks for reuse (still
 * locked and out of dumps), unmapping the rest. Installed as the core's allocator of key-holding
 * memory by dm_secret_memory() (gdoi/secret.h). */
void *dm_secret_alloc(size_t n);
void dm_secret_release(void *p, size_t n);
void dm_secret_memory(void);

#endif
