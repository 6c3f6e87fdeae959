/*
 * describe.h - the sidecar side of the bridge: one GDOI SRTP TEK as the
 * SRTP policy description media processes read (struct ipc_tek, docs/ipc.md).
 * Not part of libgdoisrtp: it needs the GDOI policy types of libgdoi.
 */
#ifndef SRTP_BRIDGE_DESCRIBE_H
#define SRTP_BRIDGE_DESCRIBE_H

#include "gdoi/policy.h"
#include "ipc/snapshot.h"

/* Fills *out (keys included) from an SRTP TEK (srtp-tek.md, or the reference's
 * Protocol-ID 128, which means profile 1); validity times are left 0 for the
 * caller. -1 when the TEK has no keys or they do not fit its profile. */
int bridge_describe_tek(const struct gdoi_tek *t, struct ipc_tek *out);

#endif
