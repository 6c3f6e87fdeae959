#!/usr/bin/env bash
# demo.sh over IPv6: the media group is [ff0e::1234]:5004 (demo-sender and both
# demo-receivers join it with IPV6_JOIN_GROUP, GStreamer's udpsrc too), keyed through
# the sidecars' IPC snapshots, from a key server listening dual-stack on [::]:848; the
# sidecars register over [::1] and take their rekeys on the SSM group [ff3e::4]:1849
# (one more check: each sidecar's log shows both and an applied push).
GDOI_DEMO_IPV6=1 exec bash "$(dirname "$0")/demo.sh" "$@"
