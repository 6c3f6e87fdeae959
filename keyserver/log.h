/* log.h - gdoi-ks logging: the daemon toolkit's (daemon/log.h) under the key server's names. */
#ifndef KS_LOG_H
#define KS_LOG_H

#include "daemon/log.h"

enum ks_level { KS_ERR = DM_ERR, KS_WARN = DM_WARN, KS_INFO = DM_INFO, KS_DEBUG = DM_DEBUG };

/* Lines above level are dropped (-1: none printed, for tests). */
void ks_log_set_level(int level);
#define ks_log(level, ...) dm_log((enum dm_level)(level), __VA_ARGS__)
/* For events a peer can repeat at will: key names the reason, never the peer. */
#define ks_log_limited(level, key, ...) dm_log_limited((enum dm_level)(level), key, __VA_ARGS__)

#endif
