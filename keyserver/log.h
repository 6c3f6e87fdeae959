/* log.h - gdoi-ks logging: one line per event on stderr, "gdoi-ks: <level>: <message>". */
#ifndef KS_LOG_H
#define KS_LOG_H

enum ks_level { KS_ERR = 0, KS_WARN, KS_INFO, KS_DEBUG };

/* Messages above this level are dropped (default KS_INFO; -v raises it). */
void ks_log_set_level(int level);
int ks_log_level(void);
void ks_log(enum ks_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
