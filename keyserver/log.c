/* log.c - see log.h. Secrets never reach this file: callers log names, SPIs and reasons. */
#include "keyserver/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int max_level = KS_INFO;

void ks_log_set_level(int level)
{
	max_level = level < KS_ERR ? KS_ERR : level > KS_DEBUG ? KS_DEBUG : level;
}

int ks_log_level(void)
{
	return max_level;
}

void ks_log(enum ks_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if ((int)level > max_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: never let a reason string break the format. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "gdoi-ks: %s: %s\n", names[level], line);
	fflush(stderr);
}
