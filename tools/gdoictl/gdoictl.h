/*
 * gdoictl.h - what main.c (key server admin commands) and sidecar_cmds.c
 * (commands over the gdoi-sidecar IPC socket, docs/ipc.md) share.
 */
#ifndef GDOICTL_H
#define GDOICTL_H

#define GDOICTL_SIDECAR_USAGE                                                                   \
	"Sidecar (gdoi-sidecar) commands, over --sidecar PATH:\n"                               \
	"  get GROUP [--format json|sdes|gst-caps|srtpenc|sdp|ffmpeg] [--payload PT]\n"        \
	"            [--ssrc SSRC]\n"                                                     \
	"                      the group's TEKs (a table without key material by default)\n"     \
	"  watch GROUP         one line per new snapshot until interrupted\n"                    \
	"  sidecar-status      key servers and groups as the sidecar sees them\n"                \
	"  -S, --sidecar PATH  sidecar socket (default $GDOI_SIDECAR_SOCKET or "                \
	"/run/gdoi-sidecar/sidecar.sock);\n"                                                     \
	"                      --socket is only ever the key server's admin socket\n"

/*
 * Runs argv when its command word is a sidecar command (get, watch,
 * sidecar-status) and returns the exit status; returns -1 (nothing done)
 * for any other command, which main.c then handles.
 */
int gdoictl_sidecar_main(int argc, char **argv);
/* Prints a daemon's metrics page (metrics.c): target is ADDR:PORT or
 * http://ADDR[:PORT]/PATH. Returns the exit status: 0, 2 bad target, 3 no page. */
int gdoictl_metrics(const char *target);
/* 0 when the socket's directories and owner may be trusted (trust.c); else says why.
 * daemon_account: the account the packaged unit runs the daemon as, or NULL. */
int gdoictl_socket_trusted(const char *path, const char *daemon_account);

#endif
