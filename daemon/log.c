/* log.c - see log.h. Secrets never reach this file: callers log names, SPIs and reasons. */
#include "daemon/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *log_prog = "gdoi";
static _Atomic int log_max = DM_INFO;
static bool log_journal;

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected; it only counts when
 * stderr is still that stream (not redirected by a wrapper). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void dm_log_init(const char *prog)
{
	log_prog = prog;
	log_journal = stderr_is_journal();
}

void dm_log_set_verbosity(int n)
{
	log_max = n > 0 ? DM_DEBUG : DM_INFO;
}

void dm_log_set_max(int level)
{
	log_max = level;
}

bool dm_log_enabled(enum dm_level level)
{
	return (int)level <= log_max;
}

void dm_log_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

static const char *level_name(enum dm_level level)
{
	switch (level) {
	case DM_ERR: return "error";
	case DM_WARN: return "warning";
	case DM_INFO: return "info";
	default: return "debug";
	}
}

static void emit(enum dm_level level, const char *msg)
{
	if (log_journal) {
		fprintf(stderr, "<%d>%s: %s\n", (int)level, level_name(level), msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", when, ts.tv_nsec / 1000000, log_prog,
			level_name(level), msg);
	}
	fflush(stderr);
}

void dm_vlog(enum dm_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (!dm_log_enabled(level))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	/* one event, one line: a reason string never breaks the format */
	dm_log_sanitize(line);
	emit(level, line);
}

void dm_log(enum dm_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dm_vlog(level, fmt, ap);
	va_end(ap);
}

/* ---- rate limit ------------------------------------------------------------ */

#define LIMIT_SLOTS 32

static struct limit_slot {
	char key[96];
	enum dm_level level;
	int64_t since;		/* monotonic seconds of the last line printed */
	unsigned long suppressed;
} slots[LIMIT_SLOTS];

/* All keyed lines together: keys that differ (a reason naming a peer-chosen offset)
 * would otherwise cycle through the slots and each print once. */
static struct {
	int64_t second;		/* monotonic second the count is for */
	unsigned printed;
	unsigned long suppressed;
} keyed_burst;

/* The slots and the burst count are shared by every thread that logs (gdoi-ks
 * registers on several): one lock around their bookkeeping, so that a reason is
 * still one line per DM_LOG_LIMIT_SECONDS and DM_LOG_LIMITED_PER_SECOND holds in
 * all, whichever thread logs it. Lines themselves are one fprintf each. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void report_suppressed(struct limit_slot *s, int64_t now)
{
	if (!s->suppressed)
		return;
	dm_log(s->level, "%lu suppressed \"%s\" line(s) in the last %lld s", s->suppressed, s->key,
	       (long long)(now - s->since));
	s->suppressed = 0;
}

static void report_burst(void)
{
	if (!keyed_burst.suppressed)
		return;
	dm_log(DM_WARN, "%lu rate-limited line(s) suppressed: more than %d a second",
	       keyed_burst.suppressed, DM_LOG_LIMITED_PER_SECOND);
	keyed_burst.suppressed = 0;
}

/* Takes n lines of this second's budget; false (and counted) when it is spent. */
static bool burst_take(int64_t now, unsigned n)
{
	if (now != keyed_burst.second) {
		keyed_burst.second = now;
		keyed_burst.printed = 0;
		report_burst();
	}
	if (keyed_burst.printed + n > DM_LOG_LIMITED_PER_SECOND) {
		keyed_burst.suppressed++;
		return false;
	}
	keyed_burst.printed += n;
	return true;
}

void dm_log_limited(enum dm_level level, const char *key, const char *fmt, ...)
{
	int64_t now = mono_seconds();
	size_t i, oldest = 0;
	va_list ap;

	if (!dm_log_enabled(level))
		return;
	pthread_mutex_lock(&limit_lock);
	for (i = 0; i < LIMIT_SLOTS; i++) {
		if (slots[i].key[0] && !strncmp(slots[i].key, key, sizeof slots[i].key - 1))
			break;
		/* an empty slot first, else the one quiet the longest */
		if (slots[oldest].key[0] && (!slots[i].key[0] || slots[i].since < slots[oldest].since))
			oldest = i;
	}
	if (i < LIMIT_SLOTS && now - slots[i].since < DM_LOG_LIMIT_SECONDS) {
		slots[i].suppressed++;
		pthread_mutex_unlock(&limit_lock);
		return;
	}
	/* the line, and the summary of the slot it evicts or reuses */
	size_t victim = i < LIMIT_SLOTS ? i : oldest;
	if (!burst_take(now, 1 + (slots[victim].suppressed != 0))) {
		pthread_mutex_unlock(&limit_lock);
		return;
	}
	if (i == LIMIT_SLOTS) {
		i = oldest;
		report_suppressed(&slots[i], now);
		snprintf(slots[i].key, sizeof slots[i].key, "%s", key);
	}
	report_suppressed(&slots[i], now);
	slots[i].level = level;
	slots[i].since = now;
	va_start(ap, fmt);
	dm_vlog(level, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&limit_lock);
}

void dm_log_flush(void)
{
	int64_t now = mono_seconds();

	pthread_mutex_lock(&limit_lock);
	for (size_t i = 0; i < LIMIT_SLOTS; i++)
		report_suppressed(&slots[i], now);
	report_burst();
	pthread_mutex_unlock(&limit_lock);
}
