/*
 * log.h - the daemons' one logging implementation: one line per event on
 * stderr, levelled (syslog numbers), control characters replaced, a
 * journald priority prefix ("<4>") when stderr is the journal
 * (JOURNAL_STREAM names stderr's device:inode) and a UTC timestamp
 * otherwise, and a per-key rate limit for events a peer can repeat at will.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum dm_level { DM_ERR = 3, DM_WARN = 4, DM_INFO = 6, DM_DEBUG = 7 };

/* A keyed event logged again within this many seconds is counted, not printed. */
#define DM_LOG_LIMIT_SECONDS 10
/* At most this many keyed lines a second, whatever their keys. */
#define DM_LOG_LIMITED_PER_SECOND 10

/* prog names the daemon in timestamped lines; reads JOURNAL_STREAM once. */
void dm_log_init(const char *prog);
/* -v given n times: 0 logs up to DM_INFO, 1 or more up to DM_DEBUG. */
void dm_log_set_verbosity(int n);
/* Drops lines above level (tests pass -1 for silence). */
void dm_log_set_max(int level);
bool dm_log_enabled(enum dm_level level);

void dm_log(enum dm_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dm_vlog(enum dm_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Like dm_log, but key (the reason, never the peer's address) is printed once per
 * DM_LOG_LIMIT_SECONDS; the next line printed for it says how many were suppressed.
 * All keys together print at most DM_LOG_LIMITED_PER_SECOND lines a second; the first
 * keyed line of a later second (or dm_log_flush) says how many that held back. */
void dm_log_limited(enum dm_level level, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints the suppressed counts still pending (at shutdown). */
void dm_log_flush(void);

/* Replaces CR, LF and every other control character of s with a space, in place. */
void dm_log_sanitize(char *s);

#endif
