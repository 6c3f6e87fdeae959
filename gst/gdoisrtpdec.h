/* gdoisrtpdec.h - the gdoisrtpdec element (SRTP in, RTP out, keys from gdoi-sidecar). */
#ifndef GDOISRTPDEC_H
#define GDOISRTPDEC_H

#include <gst/base/gstbasetransform.h>

#define GST_TYPE_GDOI_SRTP_DEC (gst_gdoi_srtp_dec_get_type())
G_DECLARE_FINAL_TYPE(GstGdoiSrtpDec, gst_gdoi_srtp_dec, GST, GDOI_SRTP_DEC, GstBaseTransform)

#endif
