#!/usr/bin/env bash
# sidecar_names.sh - key servers given by host name in the sidecar config, resolved
# through libuv (uv_getaddrinfo) and again on failover. In a private network namespace
# and a private mount namespace, where a temporary hosts file is bind-mounted over
# /etc/hosts (the machine's own is never touched). TAP.
#   ks.test first names 127.0.0.2, where nothing answers (the key server listens on
#   [::1] only); the hosts file is rewritten to name ::1, and the failover after the
#   failed round resolves again and registers with [::1].
#   A name that does not resolve, then a literal: the failure is logged, the literal
#   takes over, and the name does not block the start.
set -u
. "$(dirname "$0")/lib/netns.sh"
if [ -z "${GDOI_IN_MNTNS:-}" ]; then
	export GDOI_IN_MNTNS=1
	exec unshare -m --propagation private bash "$0" "$@"
fi
ip -6 addr show dev lo | grep -q '::1/128' || { echo "1..0 # SKIP no IPv6 on lo"; exit 0; }
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl

printf '127.0.0.1 localhost\n127.0.0.2 ks.test\n' >"$tmp/hosts"
mount --bind "$tmp/hosts" /etc/hosts || tap_skip_all "cannot bind-mount a hosts file"
check "in a private mount namespace, ks.test names 127.0.0.2" \
	bash -c "getent ahosts ks.test | grep -q 127.0.0.2"

(umask 077; cat >"$tmp/ks.conf" <<CONF
[server]
listen = [::1]:$port
state = $tmp/ks-state
admin_socket = $KS_SOCK

[group media]
id = 4711
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
CONF
)
"$BIN/gdoi-ks" -c "$tmp/ks.conf" -v >"$tmp/ks.log" 2>&1 &
stack_pids+=($!)
check "gdoi-ks starts on [::1]" stack_wait 10 test -S "$KS_SOCK"
sc_start() {	# NAME KEYSERVERS
	(umask 077; printf '[sidecar]\nkeyserver = %s\nidentity = fqdn:alice.example\npsk = %s\nsocket = %s\nretransmit = 100\nretry_min = 300\nretry_max = 600\n\n[group media]\nid = 4711\n' \
		"$2" "$psk" "$tmp/$1.sock" >"$tmp/$1.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1.conf" -v >"$tmp/$1.log" 2>&1 &
	stack_pids+=($!)
}

sc_start moving "ks.test:$port"
check "ks.test resolves to 127.0.0.2 at start" stack_wait 10 grep -q "key server ks.test: resolved to 127.0.0.2:$port" "$tmp/moving.log"
check "phase 1 starts with 127.0.0.2:$port" stack_wait 10 grep -q "phase 1 started with 127.0.0.2:$port" "$tmp/moving.log"
printf '127.0.0.1 localhost\n::1 ks.test\n' >"$tmp/hosts"	# the same inode: the bind mount sees it
check "after the failed round, ks.test is resolved again: [::1]:$port" \
	stack_wait 20 grep -q "key server ks.test: resolved to \[::1\]:$port" "$tmp/moving.log"
check "and the sidecar registers with [::1]:$port" \
	stack_wait 20 grep -q "registered with \[::1\]:$port" "$tmp/moving.log"
check "the attempt with the old address failed first" grep -q "registration with 127.0.0.2:$port failed" "$tmp/moving.log"
"$BIN/gdoictl" --sidecar "$tmp/moving.sock" --json sidecar-status >"$tmp/status.json" 2>&1
check "sidecar-status shows host ks.test at [::1]:$port, connected" \
	test "$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["status"]["keyservers"][0]; print(k["host"], k["address"], k["state"])' "$tmp/status.json" 2>/dev/null)" = "ks.test [::1]:$port connected"

sc_start broken "nosuch.test:$port, [::1]:$port"
check "a name that does not resolve is logged" \
	stack_wait 20 grep -q "key server nosuch.test: cannot resolve" "$tmp/broken.log"
check "the next key server takes over" stack_wait 20 grep -q "registered with \[::1\]:$port" "$tmp/broken.log"
check "the unresolved name counted as a failed attempt" \
	grep -q "registration with (no address):$port failed: no address (host name not resolved)" "$tmp/broken.log"

if [ "$tap_fail" -gt 0 ]; then
	tail -n 15 "$tmp"/*.log | sed 's/^/# /'
fi
tap_plan_end
