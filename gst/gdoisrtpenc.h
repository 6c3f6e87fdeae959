/* gdoisrtpenc.h - the gdoisrtpenc element (RTP in, SRTP out, keys and SSRC from gdoi-sidecar). */
#ifndef GDOISRTPENC_H
#define GDOISRTPENC_H

#include <gst/base/gstbasetransform.h>

#define GST_TYPE_GDOI_SRTP_ENC (gst_gdoi_srtp_enc_get_type())
G_DECLARE_FINAL_TYPE(GstGdoiSrtpEnc, gst_gdoi_srtp_enc, GST, GDOI_SRTP_ENC, GstBaseTransform)

#endif
