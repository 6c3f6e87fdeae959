#!/usr/bin/env bash
# libgdoisrtp against a real gdoi-sidecar and gdoi-ks on loopback (unicast only):
#   1. the library connects, subscribes and gets keys that protect/unprotect;
#   2. a rekey pushed by the key server (gdoictl rekey) reaches the library
#      through the sidecar, and a 20 ms stream keyed only by the library
#      switches keys without losing or failing a packet.
# Fails when the daemons, gdoictl or the driver are not built: make test-bins builds them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDOI_BUILD:-$top/build}
bin=$build/bin
{ [ -x "$bin/gdoi-sidecar" ] && [ -x "$bin/gdoi-ks" ]; } || bin=$top/build/bin
watch=$build/tests/gdoisrtp-watch
echo "1..3"
if [ ! -x "$bin/gdoi-ks" ] || [ ! -x "$bin/gdoi-sidecar" ] || [ ! -x "$bin/gdoictl" ] || [ ! -x "$watch" ]; then
	for i in 1 2 3; do echo "not ok $i - gdoi-ks, gdoi-sidecar, gdoictl or gdoisrtp-watch is not built"; done
	exit 1
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
umask 077
cat >"$tmp/ks.conf" <<CONF
[server]
listen = 127.0.0.1:$port
state = $tmp/ks-state
admin_socket = $tmp/ks.sock

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
tek_lifetime = 3600
replay_window = 128
atd = 2
dtd = 6
kek = aes256
kek_lifetime = 86400
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
may_send = yes
ssrcs = 2
CONF
cat >"$tmp/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:$port
identity = fqdn:alice.example
psk = $psk
socket = $tmp/sidecar.sock

[group media]
id = 1234
send = yes
ssrcs = 2
allow = uid:$(id -u)
CONF
"$bin/gdoi-ks" -c "$tmp/ks.conf" -v >"$tmp/ks.log" 2>&1 &
pids+=($!)
sleep 0.5
"$bin/gdoi-sidecar" -c "$tmp/sidecar.conf" --socket "$tmp/sidecar.sock" -v >"$tmp/sidecar.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/sidecar.sock" ] && break; sleep 0.1; done

if out=$("$watch" "$tmp/sidecar.sock" media 15 1 2>"$tmp/watch1.log"); then
	echo "ok 1 - libgdoisrtp subscribes to the sidecar and its keys protect/unprotect ($out)"
else
	echo "not ok 1 - libgdoisrtp gets keys from the sidecar ($out)"
	sed 's/^/# /' "$tmp/watch1.log" "$tmp/sidecar.log" "$tmp/ks.log" | tail -40
fi

"$watch" "$tmp/sidecar.sock" media 30 2 >"$tmp/watch2.out" 2>"$tmp/watch2.log" &
wpid=$!
sleep 3
if "$bin/gdoictl" --socket "$tmp/ks.sock" rekey media >"$tmp/rekey.log" 2>&1; then
	echo "ok 2 - gdoictl rekey media"
else
	echo "not ok 2 - gdoictl rekey media"
	sed 's/^/# /' "$tmp/rekey.log"
fi
if wait $wpid; then
	echo "ok 3 - hitless rekey through sidecar and libgdoisrtp ($(cat "$tmp/watch2.out"))"
else
	echo "not ok 3 - hitless rekey through sidecar and libgdoisrtp ($(cat "$tmp/watch2.out"))"
	sed 's/^/# /' "$tmp/watch2.log" "$tmp/sidecar.log" | tail -40
fi
