/*
 * plugin.c - the gdoisrtp GStreamer plugin: gdoisrtpdec and gdoisrtpenc,
 * SRTP keyed by the local gdoi-sidecar (GDOI group keys, RFC 6407).
 */
#include <gst/gst.h>

#include "gst/gdoisrtpdec.h"
#include "gst/gdoisrtpenc.h"
#include "srtp-bridge/gdoisrtp.h"

GST_DEBUG_CATEGORY(gdoisrtp_debug);

static gboolean plugin_init(GstPlugin *plugin)
{
	GST_DEBUG_CATEGORY_INIT(gdoisrtp_debug, "gdoisrtp", 0, "SRTP keyed by gdoi-sidecar");
	return gst_element_register(plugin, "gdoisrtpdec", GST_RANK_NONE, GST_TYPE_GDOI_SRTP_DEC) &&
	       gst_element_register(plugin, "gdoisrtpenc", GST_RANK_NONE, GST_TYPE_GDOI_SRTP_ENC);
}

#define PACKAGE "gdoi-srtp"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, gdoisrtp,
		  "SRTP with GDOI group keys from the local gdoi-sidecar", plugin_init, GDOISRTP_VERSION,
		  "unknown", "gdoi-srtp", "gdoi-srtp")
