/* notify.h - systemd readiness (sd_notify protocol over $NOTIFY_SOCKET, no libsystemd). */
#ifndef DM_NOTIFY_H
#define DM_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "RELOADING=1") when NOTIFY_SOCKET is set;
 * returns 1 sent, 0 not under systemd, -1 failed (logged). */
int dm_notify(const char *state);

#endif
