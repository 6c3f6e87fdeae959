/*
 * gdoisrtpkeys.h - what gdoisrtpdec and gdoisrtpenc share: the connection to
 * the gdoi-sidecar (libgdoisrtp), a thread that applies every snapshot the
 * sidecar pushes to the element's session, the session behind a lock, the
 * statistics structure, and sidecar failures posted as GStreamer errors.
 */
#ifndef GDOISRTPKEYS_H
#define GDOISRTPKEYS_H

#include <gst/gst.h>

#include "srtp-bridge/gdoisrtp.h"

struct gdoi_keys {
	GstElement *owner;
	gchar *socket;			/* property; NULL: $GDOI_SIDECAR_SOCKET or the default */
	gchar *group;			/* property: name or decimal id */
	GMutex lock;			/* session and counters below */
	gdoisrtp_session *session;
	guint64 snapshots, dropped;
	guint32 ssrc;			/* sender: the leased SSRC in use */
	gdoisrtp_client *client;	/* the thread's once it runs */
	GThread *thread;
	gint stop;
};

void gdoi_keys_init(struct gdoi_keys *k, GstElement *owner);
void gdoi_keys_finalize(struct gdoi_keys *k);
/* The socket in use: the property, else $GDOI_SIDECAR_SOCKET, else the default. */
const char *gdoi_keys_socket(const struct gdoi_keys *k);
/* Posts the GStreamer error for a libgdoisrtp error rc (NOT_AUTHORIZED,
 * UNKNOWN_GROUP, TIMEOUT, IO with saved_errno, ...), naming group and socket. */
void gdoi_keys_post_error(struct gdoi_keys *k, int rc, int saved_errno);
/* Connects to the sidecar; FALSE with an error message posted. */
gboolean gdoi_keys_open(struct gdoi_keys *k);
/* Blocks until the group has keys (sender: for its SSRC); FALSE with an error posted. */
gboolean gdoi_keys_first(struct gdoi_keys *k, int timeout_ms, gdoisrtp_snapshot **out);
/* Takes the session, subscribes and starts applying snapshots; FALSE with an error posted. */
gboolean gdoi_keys_run(struct gdoi_keys *k, gdoisrtp_session *session);
/* Stops the thread, closes the client, destroys the session (keys wiped). */
void gdoi_keys_stop(struct gdoi_keys *k);
/* A new structure "gdoisrtp-stats" with the session's counters. */
GstStructure *gdoi_keys_stats(struct gdoi_keys *k);
/* Counts a dropped packet; logs the first ones and then every 1000th. */
void gdoi_keys_dropped(struct gdoi_keys *k, const char *what, int err, gsize len);

enum { GDOI_PROP_SOCKET = 1, GDOI_PROP_GROUP, GDOI_PROP_STATS, GDOI_PROP_NEXT };
/* Installs socket, group and stats on an element class. */
void gdoi_keys_install_properties(GObjectClass *oc);
gboolean gdoi_keys_set_property(struct gdoi_keys *k, guint id, const GValue *v);
gboolean gdoi_keys_get_property(struct gdoi_keys *k, guint id, GValue *v);

/* Caps: renames media types (x-srtp <-> x-rtp, x-srtcp <-> x-rtcp) and drops
 * the srtpdec key fields; unprotected == TRUE gives x-rtp/x-rtcp. */
GstCaps *gdoi_keys_rename_caps(GstCaps *caps, gboolean unprotected, GstCaps *filter);

#endif
