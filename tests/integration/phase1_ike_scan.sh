#!/usr/bin/env bash
# Phase 1 interoperability over real UDP on 127.0.0.1: ike-scan (an independent
# IKEv1 initiator) against the Main Mode responder (tests/tools/p1-responder.c):
#  - ike-scan's default offer, GDOI DOI (--doi=2 --situation=0), with the legacy
#    suite switched on: a Main Mode message 2 that picks 3DES/SHA-1/PSK/group 2;
#  - the same offer with the legacy suite off: Notify 14 (NO-PROPOSAL-CHOSEN);
#  - a custom transform AES-256/SHA-256/PSK/group 19 against the modern default;
#  - tshark's ISAKMP dissector reads the exchange without "Malformed" (skipped
#    when tshark is missing or cannot capture on lo);
#  - the driver exits cleanly on SIGTERM, with no sanitizer report.
# Unicast on loopback only. TAP output; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDOI_BUILD:-build/asan}
case $build in /*) ;; *) build=$top/$build ;; esac
drv=$build/tests/p1-responder
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$top/tests/integration/lib/tap.sh"
clean_stderr() { ! grep -qE 'Sanitizer|runtime error' "$1"; }

for need in "$drv" ike-scan; do
	if ! command -v "$need" >/dev/null; then
		echo "not ok 1 - $need not found (make test-bins; make deps installs ike-scan)"
		exit 1
	fi
done

# start NAME [-m]: runs the driver on an ephemeral port; sets $port and $drv_pid.
start() {
	local name=$1; shift
	"$drv" "$@" 0 interop-psk 60 >"$tmp/$name.out" 2>"$tmp/$name.err" &
	drv_pid=$!
	pids+=("$drv_pid")
	port=
	for _ in $(seq 100); do
		port=$(awk '$1 == "port" { print $2 }' "$tmp/$name.out")
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	return 1
}
# stop: SIGTERM, then the driver must exit 0 on its own.
stop() { kill -TERM "$drv_pid" && wait "$drv_pid"; }
scan() { timeout 30 ike-scan --sport=0 --dport="$port" --doi=2 --situation=0 "$@" 127.0.0.1; }

# 1. Legacy on: ike-scan's default offer (3DES/SHA-1/group 2 first) is accepted.
if start legacy; then
	ok "driver listens on 127.0.0.1:$port (legacy on)"
else
	notok "driver did not report its port"
	exit 1
fi
# tshark, if it can capture on lo, records this exchange.
have_tshark=0
if command -v tshark >/dev/null; then
	timeout 20 tshark -i lo -f "udp port $port" -c 2 -a duration:10 -w "$tmp/mm.pcapng" \
		>/dev/null 2>"$tmp/tshark.err" &
	ts_pid=$!
	pids+=("$ts_pid")
	for _ in $(seq 100); do
		grep -q "Capturing on" "$tmp/tshark.err" && { have_tshark=1; break; }
		kill -0 "$ts_pid" 2>/dev/null || break
		sleep 0.05
	done
	# "Capturing on" comes a little before the capture is live: give it time.
	sleep 1
fi
scan >"$tmp/scan1.txt" 2>&1
cat "$tmp/scan1.txt"
check "ike-scan: Main Mode Handshake returned, 3DES/SHA1/PSK/group 2" \
	grep -qE 'Main Mode Handshake returned .*SA=\(Enc=3DES Hash=SHA1 Auth=PSK Group=2:modp1024 ' "$tmp/scan1.txt"
check "responder answered message 1 with a message 2" \
	grep -qE 'rc 0 event 0 notify 0 reply [1-9][0-9]*' "$tmp/legacy.err"
if [ "$have_tshark" = 1 ]; then
	wait "$ts_pid"
	tshark -r "$tmp/mm.pcapng" -d "udp.port==$port,isakmp" -V >"$tmp/mm.txt" 2>&1
	grep -q '^Frame ' "$tmp/mm.txt" || have_tshark=2
fi
if [ "$have_tshark" = 2 ]; then
	cat "$tmp/tshark.err"
	skip "tshark: dissection of message 2" "the capture on lo saw no packet"
elif [ "$have_tshark" = 1 ]; then
	rcky=$(sed -n 's/.*CKY-R=\([0-9a-f]*\).*/\1/p' "$tmp/scan1.txt")
	if [ "$(grep -c 'Exchange type: Identity Protection (Main Mode)' "$tmp/mm.txt")" -ge 2 ] &&
	   grep -q "Responder SPI: $rcky" "$tmp/mm.txt" && ! grep -qi malformed "$tmp/mm.txt"; then
		ok "tshark: messages 1 and 2 dissect as ISAKMP Main Mode, no Malformed"
	else
		cat "$tmp/tshark.err" "$tmp/mm.txt"
		notok "tshark: messages 1 and 2 dissect as ISAKMP Main Mode, no Malformed"
	fi
else
	skip "tshark: dissection of message 2" "tshark missing or cannot capture on lo"
fi
check "driver exits cleanly on SIGTERM" stop
cat "$tmp/legacy.err"
check "no sanitizer report (legacy run)" clean_stderr "$tmp/legacy.err"

# 2. Legacy off: the same offer gets NO-PROPOSAL-CHOSEN.
start modern -m || { notok "driver did not start (-m)"; exit 1; }
scan >"$tmp/scan2.txt" 2>&1
cat "$tmp/scan2.txt"
check "legacy off: ike-scan gets Notify message 14 (NO-PROPOSAL-CHOSEN)" \
	grep -qE 'Notify message 14 \(NO-PROPOSAL-CHOSEN\)' "$tmp/scan2.txt"
check "legacy off: no handshake returned" \
	grep -q '0 returned handshake; 1 returned notify' "$tmp/scan2.txt"

# 3. Custom transform AES-256/SHA-256/PSK/group 19 against the modern default.
scan --trans=7/256,4,1,19 >"$tmp/scan3.txt" 2>&1
cat "$tmp/scan3.txt"
check "custom transform: AES-256/SHA2-256/PSK/group 19 accepted" \
	grep -qE 'Main Mode Handshake returned .*SA=\(Enc=AES Hash=SHA2-256 Auth=PSK Group=19:ecp256 KeyLength=256 ' "$tmp/scan3.txt"
check "driver exits cleanly on SIGTERM (-m)" stop
cat "$tmp/modern.err"
check "no sanitizer report (modern run)" clean_stderr "$tmp/modern.err"

tap_plan_end
