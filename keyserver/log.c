/* log.c - gdoi-ks logs through the daemon toolkit (daemon/log.c); nothing of its own. */
#include "keyserver/log.h"

void ks_log_set_level(int level)
{
	dm_log_set_max(level);
}
