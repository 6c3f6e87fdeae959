#!/usr/bin/env bash
# demo.sh with the sidecars on G-IKEv2 (make demo PROTOCOL=g-ikev2): they register by
# IKE_SA_INIT + GSA_AUTH and take every rekey as a signed GSA_REKEY on the rekey group
# (one more check: each registered once, and the key server sent GSA_REKEYs).
GDOI_DEMO_PROTOCOL=g-ikev2 exec bash "$(dirname "$0")/demo.sh" "$@"
