/*
 * gdoisrtpdec.c - SRTP (or SRTCP) in, RTP (or RTCP) out, keyed only by the
 * local gdoi-sidecar through libgdoisrtp. Every snapshot the sidecar pushes is
 * applied as it comes: old and new keys are held through the rekey window and
 * each packet picks its key by MKI (or by trial without MKI), so a rekey
 * loses no packet; a stream joined after its sequence number wrapped gets its
 * ROC found by a bounded trial. Packets that do not authenticate are dropped
 * and counted in the stats property.
 */
#include "gst/gdoisrtpdec.h"

#include "gst/gdoisrtpkeys.h"

GST_DEBUG_CATEGORY_EXTERN(gdoisrtp_debug);
#define GST_CAT_DEFAULT gdoisrtp_debug

struct _GstGdoiSrtpDec {
	GstBaseTransform parent;
	struct gdoi_keys keys;
	gboolean rtcp;
};

G_DEFINE_TYPE(GstGdoiSrtpDec, gst_gdoi_srtp_dec, GST_TYPE_BASE_TRANSFORM)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
	"sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-srtp; application/x-srtcp"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
	"src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp; application/x-rtcp"));

static void dec_set_property(GObject *o, guint id, const GValue *v, GParamSpec *ps)
{
	if (!gdoi_keys_set_property(&GST_GDOI_SRTP_DEC(o)->keys, id, v))
		G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void dec_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps)
{
	if (!gdoi_keys_get_property(&GST_GDOI_SRTP_DEC(o)->keys, id, v))
		G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void dec_finalize(GObject *o)
{
	gdoi_keys_finalize(&GST_GDOI_SRTP_DEC(o)->keys);
	G_OBJECT_CLASS(gst_gdoi_srtp_dec_parent_class)->finalize(o);
}

static gboolean dec_start(GstBaseTransform *bt)
{
	GstGdoiSrtpDec *self = GST_GDOI_SRTP_DEC(bt);
	gdoisrtp_session *rx;
	if (!gdoi_keys_open(&self->keys))
		return FALSE;
	int rc = gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &rx);
	if (rc < 0) {
		GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("libgdoisrtp: %s", gdoisrtp_strerror(rc)), (NULL));
		gdoi_keys_stop(&self->keys);
		return FALSE;
	}
	/* a group not registered yet is no error: packets wait (dropped, no-key) for its keys */
	if (!gdoi_keys_run(&self->keys, rx)) {
		gdoi_keys_stop(&self->keys);
		return FALSE;
	}
	return TRUE;
}

static gboolean dec_stop(GstBaseTransform *bt)
{
	gdoi_keys_stop(&GST_GDOI_SRTP_DEC(bt)->keys);
	return TRUE;
}

static GstCaps *dec_transform_caps(GstBaseTransform *bt, GstPadDirection dir, GstCaps *caps, GstCaps *filter)
{
	(void)bt;
	return gdoi_keys_rename_caps(caps, dir == GST_PAD_SINK, filter);
}

static gboolean dec_set_caps(GstBaseTransform *bt, GstCaps *in, GstCaps *out)
{
	(void)out;
	GST_GDOI_SRTP_DEC(bt)->rtcp = gst_structure_has_name(gst_caps_get_structure(in, 0), "application/x-srtcp");
	return TRUE;
}

static GstFlowReturn dec_transform_ip(GstBaseTransform *bt, GstBuffer *buf)
{
	GstGdoiSrtpDec *self = GST_GDOI_SRTP_DEC(bt);
	GstMapInfo map;
	if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE)) {
		GST_ELEMENT_ERROR(self, STREAM, FAILED, ("cannot map the buffer"), (NULL));
		return GST_FLOW_ERROR;
	}
	int len = map.size > G_MAXINT ? G_MAXINT : (int)map.size, rc;
	g_mutex_lock(&self->keys.lock);
	rc = self->rtcp ? gdoisrtp_session_unprotect_rtcp(self->keys.session, map.data, &len, gdoisrtp_now_ms())
			: gdoisrtp_session_unprotect(self->keys.session, map.data, &len, gdoisrtp_now_ms());
	g_mutex_unlock(&self->keys.lock);
	gst_buffer_unmap(buf, &map);
	if (rc < 0) {
		gdoi_keys_dropped(&self->keys, self->rtcp ? "SRTCP" : "SRTP", rc, map.size);
		return GST_BASE_TRANSFORM_FLOW_DROPPED;
	}
	gst_buffer_resize(buf, 0, len);
	return GST_FLOW_OK;
}

static void gst_gdoi_srtp_dec_class_init(GstGdoiSrtpDecClass *klass)
{
	GObjectClass *oc = G_OBJECT_CLASS(klass);
	GstElementClass *ec = GST_ELEMENT_CLASS(klass);
	GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS(klass);

	oc->set_property = dec_set_property;
	oc->get_property = dec_get_property;
	oc->finalize = dec_finalize;
	gdoi_keys_install_properties(oc);
	gst_element_class_add_static_pad_template(ec, &sink_template);
	gst_element_class_add_static_pad_template(ec, &src_template);
	gst_element_class_set_static_metadata(ec, "GDOI SRTP decoder", "Filter/Network/SRTP",
		"Unprotects SRTP/SRTCP with the group keys of the local gdoi-sidecar (libgdoisrtp): "
		"follows every rekey without a lost packet (old and new keys held through the rekey "
		"window, chosen by MKI), recovers the ROC of a stream joined late, drops and counts "
		"packets that do not authenticate (stats). Input caps need no key: the udpsrc caps "
		"(media, clock-rate, encoding-name, payload) with application/x-srtp. Errors name the "
		"cause: no sidecar at the socket, not authorized for the group, unknown group.",
		"gdoi-srtp");
	bc->start = dec_start;
	bc->stop = dec_stop;
	bc->transform_caps = dec_transform_caps;
	bc->set_caps = dec_set_caps;
	bc->transform_ip = dec_transform_ip;
	bc->passthrough_on_same_caps = FALSE;
}

static void gst_gdoi_srtp_dec_init(GstGdoiSrtpDec *self)
{
	gdoi_keys_init(&self->keys, GST_ELEMENT(self));
	gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
