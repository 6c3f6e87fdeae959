/*
 * log.c - the sidecar's clocks (its log calls are sidecar.h's macros on
 * daemon/log.c).
 */
#include "sidecar.h"

#include <time.h>

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
