/* file.c - see file.h. Every buffer that held file content is wiped before it is freed. */
#include "daemon/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdoi/crypto.h"

static int file_err(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

/* The owner and mode rules of file.h on an open file. */
static int check_file(int fd, const char *path, unsigned flags, char *err, size_t errlen)
{
	struct stat st;
	char why[160];

	if (fstat(fd, &st))
		return file_err(err, errlen, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return file_err(err, errlen, path, "not a regular file");
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, sizeof why, "owned by uid %u, expected %u or root", (unsigned)st.st_uid,
			 (unsigned)geteuid());
		return file_err(err, errlen, path, why);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, sizeof why, "writable by group or others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		return file_err(err, errlen, path, why);
	}
	if ((flags & DM_FILE_SECRET) && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, sizeof why, "holds a secret but is readable by group or others "
			 "(mode %04o; chmod 600)", (unsigned)(st.st_mode & 07777));
		return file_err(err, errlen, path, why);
	}
	return 0;
}

/* Grows *buf to cap octets through a fresh block, so no unwiped copy is left behind. */
static int grow(uint8_t **buf, size_t len, size_t cap)
{
	uint8_t *n = malloc(cap);

	if (!n)
		return -1;
	if (*buf)
		memcpy(n, *buf, len);
	gdoi_wipe_free(*buf, len);
	*buf = n;
	return 0;
}

int dm_file_load(const char *path, unsigned flags, size_t max, uint8_t **buf, size_t *len,
		 char *err, size_t errlen)
{
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	char why[64];
	int fd;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the daemon before fstat */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return file_err(err, errlen, path, errno == ELOOP ? "is a symbolic link (refused)" :
				strerror(errno));
	if (check_file(fd, path, flags, err, errlen))
		goto fail;
	/* the size fstat reports is a hint only: the file may grow, shrink, or (procfs,
	 * sysfs) report a size that has nothing to do with what read returns */
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			size_t want = cap ? cap * 2 : 4096;
			if (want > max + 1)
				want = max + 1;
			if (n + 1 >= want) {
				snprintf(why, sizeof why, "larger than %zu octets", max);
				file_err(err, errlen, path, why);
				goto fail;
			}
			if (grow(&b, n, want)) {
				file_err(err, errlen, path, "out of memory");
				goto fail;
			}
			cap = want;
		}
		r = read(fd, b + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			file_err(err, errlen, path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!n) {
		gdoi_wipe_free(b, cap);
		return file_err(err, errlen, path, "empty");
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:
	gdoi_wipe_free(b, cap);
	close(fd);
	return -1;
}

void dm_file_free(uint8_t *buf, size_t len)
{
	gdoi_wipe_free(buf, buf ? len + 1 : 0);
}
