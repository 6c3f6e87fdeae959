#!/usr/bin/env bash
# Receivers that accept only assigned senders (docs/srtp-tek.md §10, docs/bridge.md).
# A real gdoi-ks and gdoi-sidecar on loopback. demo-sender leases an SSRC the key
# server assigned; srtp-rogue holds the same key (from the same snapshot) and sends
# as SSRC 12345, which the key server never assigned. demo-receiver --assigned-only
# decodes every packet of the sender and none of the rogue's; without the flag the
# rogue's packets decode (what the flag exists to stop).
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar demo-sender demo-receiver
[ -x "$B/tests/srtp-rogue" ] || { echo "1..1"; echo "not ok 1 - $B/tests/srtp-rogue is not built"; exit 1; }

frames=50
head -c $((160 * frames)) /dev/urandom >"$tmp/audio.ulaw"
rport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 127.0.0.1:$rport
tek_lifetime = 3600
atd = 1
dtd = 4
kek = aes256
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
may_send = yes
ssrcs = 2" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }
stack_sidecar_start "identity = fqdn:alice.example
psk = $psk

[group media]
id = 1234
send = yes
ssrcs = 2
allow = uid:$(id -u)" || { echo "1..1"; echo "not ok 1 - gdoi-sidecar did not start"; exit 1; }

# the push that follows alice's registration brings its own SSRCs into the list
check "the sidecar got the sender list by push after registering" \
	stack_wait 10 grep -q "sender list" "$tmp/sidecar.log"
check "the key server pushed the sender list" grep -q "sender list of 2 SSRC(s)" "$tmp/ks.log"

# field NAME FILE: one number from a JSON report (-1 when missing)
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[2])).get(sys.argv[1], -1))' "$1" "$2" 2>/dev/null || echo -1; }

# receive FLAGS...: demo-receiver on the TEK's destination, in the background ($rx_pid)
receive() {
	"$BIN/demo-receiver" --socket "$SC_SOCK" --group media --idle 2 --seconds 20 \
		--report "$tmp/rx.json" "$@" >"$tmp/rx.log" 2>&1 &
	rx_pid=$!
	stack_wait 10 grep -q "listening on" "$tmp/rx.log"
}

receive --assigned-only
"$BIN/demo-sender" --socket "$SC_SOCK" --group media --input "$tmp/audio.ulaw" \
	--report "$tmp/tx.json" >"$tmp/tx.log" 2>&1 &
tx_pid=$!
"$B/tests/srtp-rogue" "$SC_SOCK" media 12345 127.0.0.1 "$rport" "$frames" >"$tmp/rogue.log" 2>&1
rogue_rc=$?
wait "$tx_pid"
wait "$rx_pid"
check "the rogue sent $frames packets as SSRC 12345 under the group's key" test "$rogue_rc" = 0
check "demo-sender sent $frames packets ($(field packets "$tmp/tx.json"))" \
	test "$(field packets "$tmp/tx.json")" = "$frames"
check "--assigned-only: every packet of the assigned sender decoded ($(field packets "$tmp/rx.json"))" \
	test "$(field packets "$tmp/rx.json")" = "$frames"
check "--assigned-only: every rogue packet refused as not a sender ($(field not_sender "$tmp/rx.json"))" \
	test "$(field not_sender "$tmp/rx.json")" = "$frames"
check "--assigned-only: no authentication failure ($(field auth_failures "$tmp/rx.json"))" \
	test "$(field auth_failures "$tmp/rx.json")" = 0
check "the receiver named the refusal" grep -q "not among the group's assigned senders" "$tmp/rx.log"

# the same rogue, a receiver without the flag: it decodes (the default behaviour)
receive
"$B/tests/srtp-rogue" "$SC_SOCK" media 12345 127.0.0.1 "$rport" "$frames" >"$tmp/rogue2.log" 2>&1
wait "$rx_pid"
check "without the flag the rogue's packets decode ($(field packets "$tmp/rx.json"))" \
	test "$(field packets "$tmp/rx.json")" = "$frames"
[ "$tap_fail" -eq 0 ] || stack_logs
tap_plan_end
