/*
 * trust.c - whether gdoictl may believe what a socket says. A key printed by
 * `gdoictl get` is only as good as the process that bound the socket, and
 * whoever can write the socket's directory can swap the socket. So the
 * socket's directory and every directory above it must be owned by root, by
 * the caller, or by the daemon's uid, and none may be writable by others
 * unless sticky; the socket itself must be owned by one of those uids. The
 * daemon's uid is $GDOICTL_TRUST_UID, else that of the system account the
 * packaged unit runs it as (gdoi-ks, gdoi-sidecar): only root creates
 * accounts, so trusting that name's uid trusts no one root did not.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/dir.h"
#include "tools/gdoictl/gdoictl.h"

int gdoictl_socket_trusted(const char *path, const char *daemon_account)
{
	const char *env = getenv("GDOICTL_TRUST_UID");
	uid_t trusted = (uid_t)-1;
	char dir[PATH_MAX], err[PATH_MAX + 200];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);
		if (*end || v >= (uid_t)-1) {
			fprintf(stderr, "gdoictl: GDOICTL_TRUST_UID: expected a numeric uid\n");
			return -1;
		}
		trusted = (uid_t)v;
	} else if (daemon_account) {
		const struct passwd *pw = getpwnam(daemon_account);
		if (pw)
			trusted = pw->pw_uid;
	}
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (dm_dir_trusted(dir, trusted, err, sizeof err)) {
		fprintf(stderr, "gdoictl: not trusting the socket %s: %s (GDOICTL_TRUST_UID=UID trusts "
			"a daemon's own uid)\n", path, err);
		return -1;
	}
	if (lstat(path, &st) == 0 && st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != trusted) {
		fprintf(stderr, "gdoictl: not trusting the socket %s: owned by uid %u\n", path,
			(unsigned)st.st_uid);
		return -1;
	}
	return 0;
}
