/*
 * log.c - one line per event on stderr (systemd style), and a rate limit
 * for refusals that an attacker can repeat at will.
 */
#include "sidecar.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int sc_verbose;

static void vlog(const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "gdoi-sidecar: %s\n", msg);
}

void sc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void sc_debug(const char *fmt, ...)
{
	va_list ap;

	if (!sc_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

#define LIMIT_SLOTS 16
#define LIMIT_SECONDS 10

static struct {
	char key[96];
	int64_t since;
	unsigned suppressed;
} slots[LIMIT_SLOTS];

void sc_log_limited(const char *key, const char *fmt, ...)
{
	int64_t now = sc_wall();
	size_t i, oldest = 0;
	va_list ap;

	for (i = 0; i < LIMIT_SLOTS; i++) {
		if (!strcmp(slots[i].key, key))
			break;
		if (slots[i].since < slots[oldest].since)
			oldest = i;
	}
	if (i < LIMIT_SLOTS && now - slots[i].since < LIMIT_SECONDS) {
		slots[i].suppressed++;
		return;
	}
	if (i == LIMIT_SLOTS) {
		i = oldest;
		snprintf(slots[i].key, sizeof slots[i].key, "%s", key);
		slots[i].suppressed = 0;
	}
	if (slots[i].suppressed)
		sc_log("(%u more like the next line in the last %ld s)", slots[i].suppressed,
		       (long)(now - slots[i].since));
	slots[i].since = now;
	slots[i].suppressed = 0;
	va_start(ap, fmt);
	vlog(fmt, ap);
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
