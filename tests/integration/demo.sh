#!/usr/bin/env bash
# The shorter variant of `make demo`: key server, three sidecars, a sender and
# two receivers (one late, after the sequence number wrapped) in a private
# network namespace, with rekeys during the run. Each check the demo prints is one
# TAP line; the demo's exit status is not a check of its own: a run that exits 0
# must also have printed every check it has (DEMO_CHECKS) and no FAIL. GDOI_DEMO_IPV6=1
# (demo_ipv6.sh) runs the media over IPv6 multicast instead; GDOI_DEMO_PROTOCOL=g-ikev2
# (demo_gikev2.sh) has the sidecars register by G-IKEv2.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/gdoi-demo-short.XXXXXX")
trap 'rm -f "$log"' EXIT
# sender: no errors, rekeys; per receiver: auth, loss, payload; rx2: the late join;
# the GStreamer receiver: loss, payload
DEMO_CHECKS=11
# IPv6: the sidecars registered over [::1] and took rekeys by IPv6 multicast
[ -n "${GDOI_DEMO_IPV6:-}" ] && DEMO_CHECKS=12
# G-IKEv2 (demo_gikev2.sh): every sidecar registered once by G-IKEv2, rekeys by GSA_REKEY
[ -n "${GDOI_DEMO_PROTOCOL:-}" ] && DEMO_CHECKS=$((DEMO_CHECKS + 1))
"$top/demo-app/run-demo.sh" --short ${GDOI_DEMO_IPV6:+--ipv6} ${GDOI_DEMO_PROTOCOL:+--protocol=$GDOI_DEMO_PROTOCOL} >"$log" 2>&1
rc=$?
n=0 fails=0
while IFS= read -r line; do
	n=$((n + 1))
	case $line in
	"  ok   "*) echo "ok $n - ${line#  ok   }" ;;
	*) fails=$((fails + 1)); echo "not ok $n - ${line#  FAIL }" ;;
	esac
done < <(grep -E '^  (ok|FAIL) ' "$log")
if [ $rc -ne 0 ] || [ $n -ne $DEMO_CHECKS ] || ! grep -q '^demo: PASSED$' "$log"; then
	n=$((n + 1)) fails=$((fails + 1))
	echo "not ok $n - demo exited $rc after $((n - 1)) of $DEMO_CHECKS checks"
	tail -40 "$log" | sed 's/^/# /'
fi
echo "1..$n"
[ $fails = 0 ]
