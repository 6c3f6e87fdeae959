#!/usr/bin/env bash
# gikev2_auto_failover.sh - protocol = auto remembers GDOI per key server until an
# attempt there fails (docs/sidecar.md): the first key server (127.0.0.2) has no G-IKEv2
# group, so the auto sidecar registers there by GDOI; it is killed (SIGKILL); the GDOI
# re-registration goes unanswered, and the group tries G-IKEv2 first with the next key
# server (127.0.0.1, serving both protocols), which registers it by GSA_AUTH before the
# 12 s TEK from the first expires, no snapshot without a TEK in between. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar

ks_start() {	# N PROTOCOLS: gdoi-ks on 127.0.0.N:$port
	mkdir -p "$tmp/ks$1"
	(umask 077; printf '[server]\nlisten = 127.0.0.%s:%s\nstate = %s/state\nadmin_socket = %s/admin.sock\n
[group plain]\nid = 77\ntek = AES128_CM_SHA1_80\ndestination = 127.0.0.1:5010\ntek_lifetime = 12
rekey_margin = 4\natd = 1\ndtd = 2\nkek = none\nprotocols = %s\n
[member alice]\nid = fqdn:alice.example\npsk = %s\ngroups = plain\n' \
		"$1" "$port" "$tmp/ks$1" "$tmp/ks$1" "$2" "$psk" >"$tmp/ks$1/ks.conf")
	"$BIN/gdoi-ks" -c "$tmp/ks$1/ks.conf" -v >"$tmp/ks$1/ks.log" 2>&1 &
	eval "KS$1_PID=$!"
	stack_pids+=("$!")
	stack_wait 10 test -S "$tmp/ks$1/admin.sock"
}
ks_start 2 gdoi || tap_bail "the gdoi-only key server did not start"
ks_start 1 "gdoi, g-ikev2" || tap_bail "the key server of both protocols did not start"
mkdir -p "$tmp/run" && chmod 0755 "$tmp/run"
(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.2:%s, 127.0.0.1:%s\nsocket = %s\nidentity = fqdn:alice.example
psk = %s\nretransmit = 50\nretry_min = 500\n\n[group plain]\nid = 77\nprotocol = auto\nallow = uid:%s\n' \
	"$port" "$port" "$SC_SOCK" "$psk" "$(id -u)" >"$tmp/sidecar.conf")
"$BIN/gdoi-sidecar" -c "$tmp/sidecar.conf" -v >"$tmp/sidecar.log" 2>&1 &
stack_pids+=("$!")

check "the first key server registered the member by GROUPKEY-PULL" \
	stack_wait 10 grep -q "group plain: member alice (fqdn:alice.example) registered from" "$tmp/ks2/ks.log"
check "the sidecar chose GDOI there: no IKEv2 answer" \
	grep -q "key server 127.0.0.2:$port gave no IKEv2 answer: keys by GDOI" "$tmp/sidecar.log"
t0=$(date +%s)
kill -KILL "$KS2_PID"
wait "$KS2_PID" 2>/dev/null
check "after the first died the next key server registered the member by G-IKEv2" \
	stack_wait 15 grep -q "group plain: member alice .* registered by G-IKEv2 GSA_AUTH" "$tmp/ks1/ks.log"
dt=$(( $(date +%s) - t0 ))
check "the sidecar tried G-IKEv2 first with the next key server (${dt} s after the kill)" \
	grep -q "group plain: trying G-IKEv2 with key server 127.0.0.1:$port in 0.0 s (protocol = auto)" "$tmp/sidecar.log"
check "no snapshot without a TEK in between" eval '! grep -q "snapshot version [0-9]*: 0 TEK" "$tmp/sidecar.log"'
[ "$tap_fail" -eq 0 ] || { tail -n 25 "$tmp/sidecar.log" "$tmp/ks1/ks.log" | sed 's/^/# /'; }
tap_plan_end
