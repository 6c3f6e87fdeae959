/*
 * dir.h - directories the daemons keep state and sockets in. Each component
 * of the path is opened with O_NOFOLLOW | O_DIRECTORY from "/" (no symlink
 * is followed anywhere). Parents must be owned by root or the daemon's uid
 * and not writable by group or others unless sticky (/tmp); the directory
 * itself must be owned by the daemon's uid and not writable by group or
 * others. Missing components are created with the mode given.
 */
#ifndef DM_DIR_H
#define DM_DIR_H

#include <stddef.h>
#include <sys/types.h>

/* 0 when path is (now) such a directory; -1 with err naming the component.
 * Directories created get create_mode and, unless group is (gid_t)-1, that group. */
int dm_dir_secure(const char *path, mode_t create_mode, gid_t group, char *err, size_t errlen);
/* The same for the directory holding file (a socket path). */
int dm_dir_secure_parent(const char *file, mode_t create_mode, gid_t group, char *err,
			 size_t errlen);
/* Only the owner rules, for a client deciding whether to trust a socket's
 * directory: every component from "/" owned by root, by the caller or by
 * trusted_uid ((uid_t)-1 for none), none writable by others unless sticky. */
int dm_dir_trusted(const char *path, uid_t trusted_uid, char *err, size_t errlen);

#endif
