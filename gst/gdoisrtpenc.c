/*
 * gdoisrtpenc.c - RTP (or RTCP) in, SRTP (or SRTCP) out, keyed only by the
 * local gdoi-sidecar through libgdoisrtp. The sender switches to a new TEK at
 * its activation time (the key server's ATD), so receivers already hold it.
 *
 * SSRC: members that share a group key must never share an SSRC (RFC 3711
 * §9.1), so the key server assigns them. This element overwrites the SSRC
 * field of every packet with the one assigned to this member: the
 * payloader's own SSRC (random, or its ssrc property) never reaches the
 * wire. The output caps carry ssrc=(uint)ASSIGNED.
 */
#include "gst/gdoisrtpenc.h"

#include "gst/gdoisrtpkeys.h"

GST_DEBUG_CATEGORY_EXTERN(gdoisrtp_debug);
#define GST_CAT_DEFAULT gdoisrtp_debug

#define DEFAULT_TIMEOUT_MS 30000
enum { PROP_TIMEOUT = GDOI_PROP_NEXT };

struct _GstGdoiSrtpEnc {
	GstBaseTransform parent;
	struct gdoi_keys keys;
	gboolean rtcp, have_ssrc;
	gint timeout_ms;
};

G_DEFINE_TYPE(GstGdoiSrtpEnc, gst_gdoi_srtp_enc, GST_TYPE_BASE_TRANSFORM)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
	"sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp; application/x-rtcp"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
	"src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-srtp; application/x-srtcp"));

static void enc_set_property(GObject *o, guint id, const GValue *v, GParamSpec *ps)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(o);
	if (id == PROP_TIMEOUT)
		self->timeout_ms = g_value_get_int(v);
	else if (!gdoi_keys_set_property(&self->keys, id, v))
		G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void enc_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(o);
	if (id == PROP_TIMEOUT)
		g_value_set_int(v, self->timeout_ms);
	else if (!gdoi_keys_get_property(&self->keys, id, v))
		G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void enc_finalize(GObject *o)
{
	gdoi_keys_finalize(&GST_GDOI_SRTP_ENC(o)->keys);
	G_OBJECT_CLASS(gst_gdoi_srtp_enc_parent_class)->finalize(o);
}

/*
 * The SSRC this sender uses: the first the key server assigned to this
 * member, as the snapshot lists it. The one place that picks it.
 */
static int enc_assigned_ssrc(const gdoisrtp_snapshot *snap, guint32 *ssrc)
{
	if (gdoisrtp_snapshot_num_ssrcs(snap) == 0)
		return GDOISRTP_ERR_SSRC;
	*ssrc = gdoisrtp_snapshot_ssrc(snap, 0);
	return 0;
}

static gboolean enc_start(GstBaseTransform *bt)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(bt);
	struct gdoisrtp_session_config cfg = { 0 };
	gdoisrtp_snapshot *first = NULL;
	gdoisrtp_session *tx = NULL;
	int rc;

	if (!gdoi_keys_open(&self->keys))
		return FALSE;
	if (!gdoi_keys_first(&self->keys, self->timeout_ms, &first))
		goto fail;
	if (enc_assigned_ssrc(first, &cfg.ssrc) < 0) {
		GST_ELEMENT_ERROR(self, RESOURCE, NOT_AUTHORIZED,
				  ("the key server assigned no SSRC to this member for group '%s': it may not send",
				   self->keys.group),
				  ("the member needs may_send = yes on the key server and send = yes in the sidecar"));
		goto fail;
	}
	if ((rc = gdoisrtp_session_new(GDOISRTP_SENDER, &cfg, &tx)) < 0 ||
	    (rc = gdoisrtp_session_update(tx, first, gdoisrtp_now_ms())) < 0) {
		GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("libgdoisrtp: %s", gdoisrtp_strerror(rc)), (NULL));
		gdoisrtp_session_destroy(tx);
		goto fail;
	}
	gdoisrtp_snapshot_free(first);
	first = NULL;
	g_mutex_lock(&self->keys.lock);
	self->keys.ssrc = cfg.ssrc;
	g_mutex_unlock(&self->keys.lock);
	self->have_ssrc = TRUE;
	GST_INFO_OBJECT(self, "sending with the assigned SSRC %08x", cfg.ssrc);
	if (!gdoi_keys_run(&self->keys, tx))
		goto fail;
	return TRUE;
fail:
	gdoisrtp_snapshot_free(first);
	gdoi_keys_stop(&self->keys);
	return FALSE;
}

static gboolean enc_stop(GstBaseTransform *bt)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(bt);
	gdoi_keys_stop(&self->keys);
	self->have_ssrc = FALSE;
	return TRUE;
}

static GstCaps *enc_transform_caps(GstBaseTransform *bt, GstPadDirection dir, GstCaps *caps, GstCaps *filter)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(bt);
	GstCaps *out = gdoi_keys_rename_caps(caps, dir == GST_PAD_SRC, NULL);
	out = gst_caps_make_writable(out);
	for (guint i = 0; i < gst_caps_get_size(out); i++) {
		GstStructure *s = gst_caps_get_structure(out, i);
		if (dir == GST_PAD_SRC)
			gst_structure_remove_field(s, "ssrc");	/* any payloader SSRC: it is overwritten */
		else if (self->have_ssrc)
			gst_structure_set(s, "ssrc", G_TYPE_UINT, self->keys.ssrc, NULL);
		else
			gst_structure_remove_field(s, "ssrc");
	}
	if (filter) {
		GstCaps *x = gst_caps_intersect_full(filter, out, GST_CAPS_INTERSECT_FIRST);
		gst_caps_unref(out);
		out = x;
	}
	return out;
}

static gboolean enc_set_caps(GstBaseTransform *bt, GstCaps *in, GstCaps *out)
{
	(void)out;
	GST_GDOI_SRTP_ENC(bt)->rtcp = gst_structure_has_name(gst_caps_get_structure(in, 0), "application/x-rtcp");
	return TRUE;
}

static gboolean enc_transform_size(GstBaseTransform *bt, GstPadDirection dir, GstCaps *caps, gsize size,
				   GstCaps *othercaps, gsize *othersize)
{
	(void)bt, (void)caps, (void)othercaps;
	*othersize = dir == GST_PAD_SINK ? size + SRTP_MAX_TRAILER_LEN : size;
	return TRUE;
}

static void put_be32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24), p[1] = (guint8)(v >> 16), p[2] = (guint8)(v >> 8), p[3] = (guint8)v;
}

static GstFlowReturn enc_transform(GstBaseTransform *bt, GstBuffer *inbuf, GstBuffer *outbuf)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(bt);
	GstMapInfo in, out;
	int rc = GDOISRTP_ERR_PARSE, len;

	if (!gst_buffer_map(inbuf, &in, GST_MAP_READ))
		return GST_FLOW_ERROR;
	if (!gst_buffer_map(outbuf, &out, GST_MAP_WRITE)) {
		gst_buffer_unmap(inbuf, &in);
		return GST_FLOW_ERROR;
	}
	gsize hdr = self->rtcp ? 8 : 12;
	len = (int)in.size;
	/* version 2 and a header to put the SSRC in; room for the SRTP trailer */
	if (in.size >= hdr && (in.data[0] >> 6) == 2 && in.size <= G_MAXINT - SRTP_MAX_TRAILER_LEN &&
	    out.size >= in.size + SRTP_MAX_TRAILER_LEN) {
		memcpy(out.data, in.data, in.size);
		put_be32(out.data + (self->rtcp ? 4 : 8), self->keys.ssrc);
		g_mutex_lock(&self->keys.lock);
		rc = self->rtcp ? gdoisrtp_session_protect_rtcp(self->keys.session, out.data, &len, gdoisrtp_now_ms())
				: gdoisrtp_session_protect(self->keys.session, out.data, &len, gdoisrtp_now_ms());
		g_mutex_unlock(&self->keys.lock);
	}
	gst_buffer_unmap(outbuf, &out);
	gst_buffer_unmap(inbuf, &in);
	if (rc < 0) {
		gdoi_keys_dropped(&self->keys, self->rtcp ? "RTCP" : "RTP", rc, in.size);
		return GST_BASE_TRANSFORM_FLOW_DROPPED;
	}
	gst_buffer_set_size(outbuf, len);
	return GST_FLOW_OK;
}

static void gst_gdoi_srtp_enc_class_init(GstGdoiSrtpEncClass *klass)
{
	GObjectClass *oc = G_OBJECT_CLASS(klass);
	GstElementClass *ec = GST_ELEMENT_CLASS(klass);
	GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS(klass);

	oc->set_property = enc_set_property;
	oc->get_property = enc_get_property;
	oc->finalize = enc_finalize;
	gdoi_keys_install_properties(oc);
	g_object_class_install_property(oc, PROP_TIMEOUT,
		g_param_spec_int("timeout", "Timeout", "ms to wait at start for the group's keys (-1: forever)",
				 -1, G_MAXINT, DEFAULT_TIMEOUT_MS,
				 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
	gst_element_class_add_static_pad_template(ec, &sink_template);
	gst_element_class_add_static_pad_template(ec, &src_template);
	gst_element_class_set_static_metadata(ec, "GDOI SRTP encoder", "Filter/Network/SRTP",
		"Protects RTP/RTCP with the group keys of the local gdoi-sidecar (libgdoisrtp), switching "
		"to each new key at its activation time. SSRC: the SSRC field of every packet is "
		"overwritten with the SSRC the key server assigned to this member (the payloader's own "
		"SSRC, random or set by its ssrc property, never reaches the wire); the output caps "
		"carry ssrc=ASSIGNED. Waits at most timeout ms at start for keys. Errors name the "
		"cause: no sidecar at the socket, not authorized for the group, unknown group, no SSRC "
		"assigned (the member may not send).",
		"gdoi-srtp");
	bc->start = enc_start;
	bc->stop = enc_stop;
	bc->transform_caps = enc_transform_caps;
	bc->set_caps = enc_set_caps;
	bc->transform_size = enc_transform_size;
	bc->transform = enc_transform;
	bc->passthrough_on_same_caps = FALSE;
}

static void gst_gdoi_srtp_enc_init(GstGdoiSrtpEnc *self)
{
	gdoi_keys_init(&self->keys, GST_ELEMENT(self));
	self->timeout_ms = DEFAULT_TIMEOUT_MS;
}
