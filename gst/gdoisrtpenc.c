/*
 * gdoisrtpenc.c - RTP (or RTCP) in, SRTP (or SRTCP) out, keyed only by the
 * local gdoi-sidecar through libgdoisrtp. The sender switches to a new TEK at
 * its activation time (the key server's ATD), so receivers already hold it.
 *
 * SSRC: members that share a group key must never share an SSRC, and one SSRC
 * must never serve two sender sessions (RFC 3711 §9.1, docs/bridge.md
 * "Keystream uniqueness"). So each run (READY -> PAUSED) leases an SSRC from
 * the sidecar for itself alone (gdoisrtp_client_lease) and keeps it across
 * rekeys and sidecar reconnects until the element stops; the sidecar then
 * burns it, and the next run leases another. This element overwrites the
 * SSRC field of every packet with the leased one: the payloader's own SSRC
 * (random, or its ssrc property) never reaches the wire. The output caps
 * carry ssrc=(uint)LEASED.
 *
 * Sequence numbers: the payloader's first one comes from GLib's PRNG (or its
 * seqnum-offset property). Each run adds an offset from the kernel CSPRNG
 * (gdoisrtp_random, RFC 3550 §5.1) to every RTP sequence number, so gaps and
 * order are kept and the wire's first number is unpredictable.
 */
#include "gst/gdoisrtpenc.h"

#include <errno.h>

#include "gst/gdoisrtpkeys.h"

GST_DEBUG_CATEGORY_EXTERN(gdoisrtp_debug);
#define GST_CAT_DEFAULT gdoisrtp_debug

#define DEFAULT_TIMEOUT_MS 30000
enum { PROP_TIMEOUT = GDOI_PROP_NEXT };

struct _GstGdoiSrtpEnc {
	GstBaseTransform parent;
	struct gdoi_keys keys;
	gboolean rtcp, have_ssrc;
	guint16 seq_offset;		/* this run's, added to every RTP sequence number */
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

/* This run's SSRC, leased from the sidecar before the first snapshot is read so
 * that the snapshot lists it; FALSE with an error message posted. */
static gboolean enc_lease_ssrc(GstGdoiSrtpEnc *self, guint32 *ssrc)
{
	int wait_ms = self->timeout_ms < 0 ? G_MAXINT : self->timeout_ms;	/* the library's < 0 is "once" */
	int rc = gdoisrtp_client_lease(self->keys.client, self->keys.group, wait_ms, ssrc);
	int saved_errno = errno;
	const char *msg = "";

	if (rc == 0)
		return TRUE;
	gdoisrtp_client_error(self->keys.client, &msg);
	if (rc == GDOISRTP_ERR_NO_SSRC)
		GST_ELEMENT_ERROR(self, RESOURCE, NOT_AUTHORIZED,
				  ("could not lease an SSRC of group '%s' from the gdoi-sidecar at %s: %s",
				   self->keys.group, gdoi_keys_socket(&self->keys),
				   *msg ? msg : "none free in time"),
				  ("a sender needs may_send = yes on the key server and send = yes in the sidecar"));
	else if (rc == GDOISRTP_ERR_PROTO)
		GST_ELEMENT_ERROR(self, RESOURCE, FAILED,
				  ("the gdoi-sidecar at %s speaks IPC protocol 1: it leases no SSRCs, so it "
				   "cannot key a sender", gdoi_keys_socket(&self->keys)),
				  ("upgrade gdoi-sidecar (docs/ipc.md, protocol 2)"));
	else
		gdoi_keys_post_error(&self->keys, rc, saved_errno);
	return FALSE;
}

static gboolean enc_start(GstBaseTransform *bt)
{
	GstGdoiSrtpEnc *self = GST_GDOI_SRTP_ENC(bt);
	struct gdoisrtp_session_config cfg = { 0 };
	gdoisrtp_snapshot *first = NULL;
	gdoisrtp_session *tx = NULL;
	guint16 seq_offset;
	int rc;

	if (!gdoi_keys_open(&self->keys))
		return FALSE;
	if (!enc_lease_ssrc(self, &cfg.ssrc) || !gdoi_keys_first(&self->keys, self->timeout_ms, &first))
		goto fail;
	if ((rc = gdoisrtp_random(&seq_offset, sizeof(seq_offset))) < 0 ||
	    (rc = gdoisrtp_session_new(GDOISRTP_SENDER, &cfg, &tx)) < 0 ||
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
	self->seq_offset = seq_offset;
	self->have_ssrc = TRUE;
	GST_INFO_OBJECT(self, "sending with the leased SSRC %08x", cfg.ssrc);
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
		guint seqnum_offset;
		if (dir == GST_PAD_SRC || !self->have_ssrc) {
			/* any payloader SSRC or first sequence number: both are rewritten */
			gst_structure_remove_fields(s, "ssrc", "seqnum-offset", NULL);
			continue;
		}
		gst_structure_set(s, "ssrc", G_TYPE_UINT, self->keys.ssrc, NULL);
		if (gst_structure_get_uint(s, "seqnum-offset", &seqnum_offset))
			gst_structure_set(s, "seqnum-offset", G_TYPE_UINT,
					  (guint)(guint16)(seqnum_offset + self->seq_offset), NULL);
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

/* RTP: the run's CSPRNG offset added to the sequence number (mod 2^16). */
static void add_seq_offset(guint8 *rtp, guint16 offset)
{
	guint16 seq = (guint16)((rtp[2] << 8 | rtp[3]) + offset);
	rtp[2] = (guint8)(seq >> 8), rtp[3] = (guint8)seq;
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
		if (!self->rtcp)
			add_seq_offset(out.data, self->seq_offset);
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
		g_param_spec_int("timeout", "Timeout", "ms to wait at start for an SSRC lease and for the group's keys (-1: forever)",
				 -1, G_MAXINT, DEFAULT_TIMEOUT_MS,
				 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
	gst_element_class_add_static_pad_template(ec, &sink_template);
	gst_element_class_add_static_pad_template(ec, &src_template);
	gst_element_class_set_static_metadata(ec, "GDOI SRTP encoder", "Filter/Network/SRTP",
		"Protects RTP/RTCP with the group keys of the local gdoi-sidecar (libgdoisrtp), switching "
		"to each new key at its activation time. SSRC: each run leases one of the SSRCs the key "
		"server assigned to this member, for itself alone, and keeps it across rekeys and "
		"sidecar reconnects; the SSRC field of every packet is overwritten with it (the "
		"payloader's own SSRC, random or set by its ssrc property, never reaches the wire) and "
		"the output caps carry ssrc=LEASED. Every RTP sequence number gets a per-run offset "
		"from the kernel CSPRNG added (gaps and order kept). Waits at most timeout ms at start "
		"for an SSRC and keys. Errors name the cause: no sidecar at the socket, not authorized "
		"for the group, unknown group, no SSRC could be leased (the member may not send).",
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
