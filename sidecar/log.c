/*
 * log.c - the sidecar's log calls on the daemon toolkit (daemon/log.c), and
 * its clocks.
 */
#include "sidecar.h"

#include <stdarg.h>
#include <time.h>

void sc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dm_vlog(DM_INFO, fmt, ap);
	va_end(ap);
}

void sc_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dm_vlog(DM_DEBUG, fmt, ap);
	va_end(ap);
}

int64_t sc_wall(void)
{
	return (int64_t)time(NULL);
}

uint64_t sc_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
