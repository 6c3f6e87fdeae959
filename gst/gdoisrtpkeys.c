/*
 * gdoisrtpkeys.c - the sidecar connection shared by gdoisrtpdec and
 * gdoisrtpenc. The streaming thread only locks the session; a thread of our
 * own reads the sidecar socket, so rekeys are applied even when no packet
 * flows, and a closed connection is reopened every second while the keys
 * already held stay in use.
 */
#include "gst/gdoisrtpkeys.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN(gdoisrtp_debug);
#define GST_CAT_DEFAULT gdoisrtp_debug

#define RECONNECT_MS 1000

void gdoi_keys_init(struct gdoi_keys *k, GstElement *owner)
{
	memset(k, 0, sizeof(*k));
	k->owner = owner;
	g_mutex_init(&k->lock);
}

void gdoi_keys_finalize(struct gdoi_keys *k)
{
	gdoi_keys_stop(k);
	g_free(k->socket);
	g_free(k->group);
	g_mutex_clear(&k->lock);
}

const char *gdoi_keys_socket(const struct gdoi_keys *k)
{
	return k->socket && *k->socket ? k->socket : gdoisrtp_default_socket();
}

/* One GStreamer error per failure, saying what is wrong and what to check. */
void gdoi_keys_post_error(struct gdoi_keys *k, int rc, int saved_errno)
{
	const char *code = "", *msg = "";
	if (k->client)
		code = gdoisrtp_client_error(k->client, &msg);
	switch (rc) {
	case GDOISRTP_ERR_NOT_AUTHORIZED:
		GST_ELEMENT_ERROR(k->owner, RESOURCE, NOT_AUTHORIZED,
				  ("not authorized to read the keys of group '%s' from the gdoi-sidecar at %s",
				   k->group, gdoi_keys_socket(k)),
				  ("%s: %s (the group's allow = in the sidecar configuration lists who may)",
				   code, msg));
		break;
	case GDOISRTP_ERR_UNKNOWN_GROUP:
		GST_ELEMENT_ERROR(k->owner, RESOURCE, NOT_FOUND,
				  ("unknown group '%s': the gdoi-sidecar at %s has no such group", k->group,
				   gdoi_keys_socket(k)),
				  ("%s: %s", code, msg));
		break;
	case GDOISRTP_ERR_TIMEOUT:
		GST_ELEMENT_ERROR(k->owner, RESOURCE, READ,
				  ("no keys for group '%s' yet: the gdoi-sidecar at %s is not registered with "
				   "the key server", k->group, gdoi_keys_socket(k)),
				  ("gdoictl sidecar-status shows why"));
		break;
	case GDOISRTP_ERR_IO:
	case GDOISRTP_ERR_CLOSED:
		GST_ELEMENT_ERROR(k->owner, RESOURCE, OPEN_READ_WRITE,
				  ("no gdoi-sidecar at %s: %s", gdoi_keys_socket(k),
				   rc == GDOISRTP_ERR_IO ? g_strerror(saved_errno) : "connection closed"),
				  ("is gdoi-sidecar running? set the socket property or $" GDOISRTP_SOCKET_ENV));
		break;
	default:
		GST_ELEMENT_ERROR(k->owner, RESOURCE, FAILED,
				  ("gdoi-sidecar at %s, group '%s': %s", gdoi_keys_socket(k), k->group,
				   gdoisrtp_strerror(rc)),
				  ("%s%s%s", code, *msg ? ": " : "", msg));
		break;
	}
}

gboolean gdoi_keys_open(struct gdoi_keys *k)
{
	if (!k->group || !*k->group) {
		GST_ELEMENT_ERROR(k->owner, RESOURCE, SETTINGS, ("the group property is not set"),
				  ("give the group name or id the sidecar serves, e.g. group=media"));
		return FALSE;
	}
	int rc = gdoisrtp_client_open(k->socket, &k->client);
	if (rc < 0) {
		gdoi_keys_post_error(k, rc, errno);
		return FALSE;
	}
	return TRUE;
}

gboolean gdoi_keys_first(struct gdoi_keys *k, int timeout_ms, gdoisrtp_snapshot **out)
{
	int rc = gdoisrtp_client_wait(k->client, k->group, timeout_ms, out);
	if (rc < 0) {
		gdoi_keys_post_error(k, rc, errno);
		return FALSE;
	}
	return TRUE;
}

static void on_snapshot(const gdoisrtp_snapshot *snap, void *arg)
{
	struct gdoi_keys *k = arg;
	g_mutex_lock(&k->lock);
	int rc = k->session ? gdoisrtp_session_update(k->session, snap, gdoisrtp_now_ms()) : 0;
	k->snapshots++;
	g_mutex_unlock(&k->lock);
	if (rc < 0)
		GST_ELEMENT_WARNING(k->owner, RESOURCE, READ,
				    ("cannot apply the keys of group '%s' version %" G_GUINT64_FORMAT ": %s",
				     k->group, (guint64)gdoisrtp_snapshot_version(snap), gdoisrtp_strerror(rc)),
				    (NULL));
	else
		GST_INFO_OBJECT(k->owner, "group %s version %" G_GUINT64_FORMAT ": %zu TEK(s)", k->group,
				(guint64)gdoisrtp_snapshot_version(snap), gdoisrtp_snapshot_num_teks(snap));
}

static gboolean reconnect(struct gdoi_keys *k)
{
	gdoisrtp_client *c;
	if (gdoisrtp_client_open(k->socket, &c) < 0)
		return FALSE;
	if (gdoisrtp_client_subscribe(c, k->group, on_snapshot, k) < 0) {
		gdoisrtp_client_close(c);
		return FALSE;
	}
	k->client = c;
	GST_ELEMENT_INFO(k->owner, RESOURCE, OPEN_READ_WRITE,
			 ("reconnected to the gdoi-sidecar at %s", gdoi_keys_socket(k)), (NULL));
	return TRUE;
}

static gpointer keys_thread(gpointer arg)
{
	struct gdoi_keys *k = arg;
	gint64 next_try = 0;
	while (!g_atomic_int_get(&k->stop)) {
		if (!k->client) {
			if (g_get_monotonic_time() >= next_try && !reconnect(k))
				next_try = g_get_monotonic_time() + RECONNECT_MS * 1000;
			g_usleep(100 * 1000);
			continue;
		}
		struct pollfd p = { .fd = gdoisrtp_client_fd(k->client), .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int rc = gdoisrtp_client_process(k->client);
		if (rc < 0) {
			GST_ELEMENT_WARNING(k->owner, RESOURCE, READ,
					    ("lost the gdoi-sidecar at %s (%s): keeping the keys held, reconnecting",
					     gdoi_keys_socket(k), gdoisrtp_strerror(rc)), (NULL));
			gdoisrtp_client_close(k->client);
			k->client = NULL;
		}
	}
	return NULL;
}

gboolean gdoi_keys_run(struct gdoi_keys *k, gdoisrtp_session *session)
{
	g_mutex_lock(&k->lock);
	k->session = session;
	k->snapshots = k->dropped = 0;
	g_mutex_unlock(&k->lock);
	int rc = gdoisrtp_client_subscribe(k->client, k->group, on_snapshot, k);
	if (rc < 0) {
		gdoi_keys_post_error(k, rc, errno);
		return FALSE;
	}
	g_atomic_int_set(&k->stop, 0);
	k->thread = g_thread_new("gdoisrtp-keys", keys_thread, k);
	return TRUE;
}

void gdoi_keys_stop(struct gdoi_keys *k)
{
	if (k->thread) {
		g_atomic_int_set(&k->stop, 1);
		g_thread_join(k->thread);
		k->thread = NULL;
	}
	gdoisrtp_client_close(k->client);
	k->client = NULL;
	g_mutex_lock(&k->lock);
	gdoisrtp_session_destroy(k->session);
	k->session = NULL;
	g_mutex_unlock(&k->lock);
}

GstStructure *gdoi_keys_stats(struct gdoi_keys *k)
{
	struct gdoisrtp_stats st = { 0 };
	g_mutex_lock(&k->lock);
	if (k->session)
		gdoisrtp_session_stats(k->session, &st);
	guint64 snapshots = k->snapshots, dropped = k->dropped;
	guint32 ssrc = k->ssrc;
	g_mutex_unlock(&k->lock);
	return gst_structure_new("gdoisrtp-stats",
				 "packets", G_TYPE_UINT64, (guint64)st.packets,
				 "dropped", G_TYPE_UINT64, dropped,
				 "auth-failures", G_TYPE_UINT64, (guint64)st.auth_failures,
				 "replays", G_TYPE_UINT64, (guint64)st.replays,
				 "no-key", G_TYPE_UINT64, (guint64)st.no_key,
				 "other-errors", G_TYPE_UINT64, (guint64)st.other_errors,
				 "roc-recoveries", G_TYPE_UINT64, (guint64)st.roc_recoveries,
				 "roc-trials", G_TYPE_UINT64, (guint64)st.roc_trials,
				 "roc-seeded", G_TYPE_UINT64, (guint64)st.roc_seeded,
				 "rekeys", G_TYPE_UINT64, (guint64)st.rekeys,
				 "snapshots", G_TYPE_UINT64, snapshots,
				 "current-spi", G_TYPE_UINT, (guint)st.current_spi,
				 "num-keys", G_TYPE_UINT, (guint)st.num_keys,
				 "ssrc", G_TYPE_UINT, (guint)ssrc, NULL);
}

void gdoi_keys_dropped(struct gdoi_keys *k, const char *what, int err, gsize len)
{
	g_mutex_lock(&k->lock);
	guint64 n = ++k->dropped;
	g_mutex_unlock(&k->lock);
	if (n <= 10 || n % 1000 == 0)
		GST_WARNING_OBJECT(k->owner, "dropped %s packet of %" G_GSIZE_FORMAT " octets: %s (%" G_GUINT64_FORMAT
				   " dropped so far)", what, len, gdoisrtp_strerror(err), n);
}

void gdoi_keys_install_properties(GObjectClass *oc)
{
	g_object_class_install_property(oc, GDOI_PROP_SOCKET,
		g_param_spec_string("socket", "Sidecar socket",
				    "Unix socket of the local gdoi-sidecar (NULL: $" GDOISRTP_SOCKET_ENV
				    ", else " GDOISRTP_DEFAULT_SOCKET ")", NULL,
				    G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
	g_object_class_install_property(oc, GDOI_PROP_GROUP,
		g_param_spec_string("group", "Group", "GDOI group name or decimal id, as the sidecar serves it",
				    NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
	g_object_class_install_property(oc, GDOI_PROP_STATS,
		g_param_spec_boxed("stats", "Statistics",
				   "gdoisrtp-stats: packets, dropped, auth-failures, replays, no-key, other-errors, "
				   "roc-recoveries, roc-trials, roc-seeded, rekeys, snapshots (guint64), "
				   "current-spi, num-keys, ssrc (guint)", GST_TYPE_STRUCTURE,
				   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

gboolean gdoi_keys_set_property(struct gdoi_keys *k, guint id, const GValue *v)
{
	if (id == GDOI_PROP_SOCKET) {
		g_free(k->socket);
		k->socket = g_value_dup_string(v);
	} else if (id == GDOI_PROP_GROUP) {
		g_free(k->group);
		k->group = g_value_dup_string(v);
	} else {
		return FALSE;
	}
	return TRUE;
}

gboolean gdoi_keys_get_property(struct gdoi_keys *k, guint id, GValue *v)
{
	if (id == GDOI_PROP_SOCKET)
		g_value_set_string(v, k->socket);
	else if (id == GDOI_PROP_GROUP)
		g_value_set_string(v, k->group);
	else if (id == GDOI_PROP_STATS)
		g_value_take_boxed(v, gdoi_keys_stats(k));
	else
		return FALSE;
	return TRUE;
}

/* Keeps a field unless it is srtpdec keying (srtp-key, srtp-key2, mki, mki2, roc, ...). */
static gboolean not_key_field(GQuark field, GValue *value, gpointer arg)
{
	const char *f = g_quark_to_string(field);
	(void)value;
	(void)arg;
	return !g_str_has_prefix(f, "srtp-") && !g_str_has_prefix(f, "srtcp-") && !g_str_has_prefix(f, "mki") &&
	       strcmp(f, "roc") != 0;
}

GstCaps *gdoi_keys_rename_caps(GstCaps *caps, gboolean unprotected, GstCaps *filter)
{
	GstCaps *out = gst_caps_copy(caps);
	for (guint i = 0; i < gst_caps_get_size(out); i++) {
		GstStructure *s = gst_caps_get_structure(out, i);
		gboolean rtcp = gst_structure_has_name(s, "application/x-srtcp") ||
				gst_structure_has_name(s, "application/x-rtcp");
		gst_structure_set_name(s, unprotected ? (rtcp ? "application/x-rtcp" : "application/x-rtp") :
					(rtcp ? "application/x-srtcp" : "application/x-srtp"));
		gst_structure_filter_and_map_in_place(s, not_key_field, NULL);
	}
	if (filter) {
		GstCaps *x = gst_caps_intersect_full(filter, out, GST_CAPS_INTERSECT_FIRST);
		gst_caps_unref(out);
		out = x;
	}
	return out;
}
