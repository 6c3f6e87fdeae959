/* dir.c - see dir.h. */
#include "daemon/dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	bool create;
	mode_t mode;
	gid_t group;		/* of the directories created, (gid_t)-1: ours */
	bool strict_last;	/* the last component is the daemon's own */
	uid_t other_uid;	/* also acceptable as owner ((uid_t)-1: none) */
};

static int dir_err(char *err, size_t errlen, const char *path, size_t upto, const char *what)
{
	snprintf(err, errlen, "%.*s: %s", (int)(upto ? upto : 1), path, what);
	return -1;
}

static bool owner_ok(uid_t uid, const struct walk *w)
{
	return uid == 0 || uid == geteuid() || (w->other_uid != (uid_t)-1 && uid == w->other_uid);
}

static int check(const struct stat *st, bool last, const struct walk *w, const char *path,
		 size_t upto, char *err, size_t errlen)
{
	char why[160];

	if (last && w->strict_last) {
		if (st->st_uid != geteuid()) {
			snprintf(why, sizeof why, "directory owned by uid %u, expected %u (refused: "
				 "another user may have planted it)", (unsigned)st->st_uid,
				 (unsigned)geteuid());
			return dir_err(err, errlen, path, upto, why);
		}
		if (st->st_mode & (S_IWGRP | S_IWOTH)) {
			snprintf(why, sizeof why, "directory writable by group or others (mode %04o)",
				 (unsigned)(st->st_mode & 07777));
			return dir_err(err, errlen, path, upto, why);
		}
		return 0;
	}
	if (!owner_ok(st->st_uid, w)) {
		snprintf(why, sizeof why, "directory owned by uid %u, expected root or %u",
			 (unsigned)st->st_uid, (unsigned)geteuid());
		return dir_err(err, errlen, path, upto, why);
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
		snprintf(why, sizeof why, "directory writable by group or others and not sticky "
			 "(mode %04o)", (unsigned)(st->st_mode & 07777));
		return dir_err(err, errlen, path, upto, why);
	}
	return 0;
}

static int walk_path(const char *in, const struct walk *w, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i = 0, n;
	int fd, rc = -1;

	if (in[0] == '/') {
		n = (size_t)snprintf(path, sizeof path, "%s", in);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return dir_err(err, errlen, in, 0, "cannot resolve the working directory");
		n = (size_t)snprintf(path, sizeof path, "%s/%s", cwd, in);
	}
	if (n >= sizeof path)
		return dir_err(err, errlen, in, strlen(in), "path too long");
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return dir_err(err, errlen, "/", 1, strerror(errno));
	if (check(&st, n == 1, w, "/", 1, err, errlen))
		goto out;
	while (i < n) {
		char comp[NAME_MAX + 1];
		size_t start, len;
		int next;

		while (path[i] == '/')
			i++;
		start = i;
		while (i < n && path[i] != '/')
			i++;
		len = i - start;
		if (!len)
			break;
		if (len > NAME_MAX) {
			dir_err(err, errlen, path, i, "name too long");
			goto out;
		}
		memcpy(comp, path + start, len);
		comp[len] = '\0';
		if (!strcmp(comp, ".") && i < n)
			continue;
		if (!strcmp(comp, "..") || !strcmp(comp, ".")) {
			dir_err(err, errlen, path, i, "\"..\" and a trailing \".\" are not accepted");
			goto out;
		}
		bool last = i >= n;
		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && w->create) {
			if (mkdirat(fd, comp, w->mode) && errno != EEXIST) {
				dir_err(err, errlen, path, i, strerror(errno));
				goto out;
			}
			next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
			/* mkdir honours the umask: set the mode asked for */
			if (next >= 0 && (fchmodat(fd, comp, w->mode, 0) ||
					  (w->group != (gid_t)-1 &&
					   fchownat(fd, comp, (uid_t)-1, w->group, AT_SYMLINK_NOFOLLOW)))) {
				close(next);
				dir_err(err, errlen, path, i, strerror(errno));
				goto out;
			}
		}
		if (next < 0) {
			struct stat lst;
			bool link = fstatat(fd, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode);
			dir_err(err, errlen, path, i, link ? "is a symbolic link (refused)" :
				errno == ENOTDIR ? "not a directory" : strerror(errno));
			goto out;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st)) {
			dir_err(err, errlen, path, i, strerror(errno));
			goto out;
		}
		if (check(&st, last, w, path, i, err, errlen))
			goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int dm_dir_secure(const char *path, mode_t create_mode, gid_t group, char *err, size_t errlen)
{
	struct walk w = { .create = true, .mode = create_mode, .group = group, .strict_last = true,
			  .other_uid = (uid_t)-1 };

	return walk_path(path, &w, err, errlen);
}

/* Copies the directory part of file into dir; "." when there is none. */
static int parent_of(const char *file, char *dir, size_t len)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return snprintf(dir, len, ".") >= (int)len ? -1 : 0;
	if (slash == file)
		return snprintf(dir, len, "/") >= (int)len ? -1 : 0;
	return snprintf(dir, len, "%.*s", (int)(slash - file), file) >= (int)len ? -1 : 0;
}

int dm_dir_secure_parent(const char *file, mode_t create_mode, gid_t group, char *err,
			 size_t errlen)
{
	char dir[PATH_MAX];

	if (parent_of(file, dir, sizeof dir))
		return dir_err(err, errlen, file, strlen(file), "path too long");
	return dm_dir_secure(dir, create_mode, group, err, errlen);
}

int dm_dir_trusted(const char *path, uid_t trusted_uid, char *err, size_t errlen)
{
	struct walk w = { .other_uid = trusted_uid };

	return walk_path(path, &w, err, errlen);
}
