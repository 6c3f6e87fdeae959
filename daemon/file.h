/*
 * file.h - loading a whole file the daemons trust: a regular file, reached
 * without following a symlink, owned by the daemon's uid or root, not
 * writable by group or others, and for secrets (PSKs, private keys) not
 * readable by them either; read to its end (never truncated), refused when
 * larger than a bound. Errors name the path and what was wrong.
 */
#ifndef DM_FILE_H
#define DM_FILE_H

#include <stddef.h>
#include <stdint.h>

#define DM_FILE_SECRET 0x1	/* private keys, PSKs: mode must be 0600 or tighter */
#define DM_FILE_MAX (1u << 20)	/* the bound callers use unless they know better */

/* On success *buf (NUL-terminated, not counted in *len) is the caller's, to release
 * with dm_file_free. Returns 0 or -1 with err set. */
int dm_file_load(const char *path, unsigned flags, size_t max, uint8_t **buf, size_t *len,
		 char *err, size_t errlen);
/* Wipes and frees what dm_file_load returned; buf may be NULL. */
void dm_file_free(uint8_t *buf, size_t len);

#endif
