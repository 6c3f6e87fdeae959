#!/usr/bin/env bash
# sidecar_ipv6.sh - the registration / rekey / media path over IPv6 through a real
# gdoi-sidecar, in a private network namespace (re-executed under `unshare -n`). TAP.
#   loopback: gdoi-ks on [::1], the sidecar registers over ::1 from its dual-stack socket
#   with an ipv6: identity, joins the SSM rekey group [ff3e::..] on lo by name (the key
#   server as source), takes a multicast rekey, and keys demo-sender -> demo-receiver over
#   [ff0e::1234] multicast. IPv6 multicast on lo needs a *local* route:
#   `ip -6 route add local ff00::/8 dev lo table local`.
#   veth: the key server in this namespace, a sidecar in a second one (a veth pair, ULA
#   addresses): registration and a multicast rekey across the veth (interface by address),
#   and media from a sender there to a receiver here keyed by a sidecar on each side.
set -u
. "$(dirname "$0")/lib/netns.sh"
ip -6 route add local ff00::/8 dev lo table local 2>/dev/null
if ip route show default | grep -q . || ip -6 route show default | grep -q .; then
	echo "not ok 1 - refusing to run: a default route exists in this namespace"
	exit 1
fi
ip -6 addr show dev lo | grep -q '::1/128' || tap_skip_all "no IPv6 on lo"
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl demo-sender demo-receiver

free6() { python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1",0)); print(s.getsockname()[1])'; }
port=$(free6) mport=$(free6) vport=$(free6)
me=$(id -u)
python3 - "$tmp/audio.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000 * 2)))
PY
ctl() { "$BIN/gdoictl" --socket "$KS_SOCK" "$@"; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>/dev/null; }

(umask 077; cat >"$tmp/ks.conf" <<CONF
[server]
listen = [::]:$port
state = $tmp/ks-state
admin_socket = $KS_SOCK

[group media]
id = 4711
tek = AES128_CM_SHA1_80
destination = [ff0e::1234]:5004
rekey_multicast = [ff3e::4242]:$mport
rekey_interface = lo
rekey_ttl = 0
rekey_unicast = no

[group link]
id = 4712
tek = AES128_CM_SHA1_80
destination = [ff0e::1235]:5006
rekey_multicast = [ff0e::4243]:$vport
rekey_interface = veth-ks
rekey_ttl = 1
rekey_unicast = no

[member alice]
id = ipv6:::1
psk = $psk
groups = media, link
may_send = yes

[member bob]
id = ipv6:fd00:848::2
psk = $psk
address = fd00:848::2
groups = link
may_send = yes
CONF
)
sidecar_conf() {	# FILE KEYSERVER IDENTITY SOCKET GROUP-SECTION
	(umask 077; printf '[sidecar]\nkeyserver = %s\nidentity = %s\npsk = %s\nsocket = %s\nretry_min = 200\nretry_max = 1000\n\n%s\n' \
		"$2" "$3" "$psk" "$4" "$5" >"$1")
}

# ---- loopback ---------------------------------------------------------------------
ip link add veth-ks type veth peer name veth-gm 2>/dev/null	# the link group's interface
check "gdoi-ks starts dual-stack on [::]:$port" bash -c \
	"'$BIN/gdoi-ks' -c '$tmp/ks.conf' -v >'$tmp/ks.log' 2>&1 & echo \$! >'$tmp/ks.pid'; for i in \$(seq 100); do [ -S '$KS_SOCK' ] && exit 0; sleep 0.1; done; exit 1"
stack_pids+=("$(cat "$tmp/ks.pid")")
sidecar_conf "$tmp/sc.conf" "[::1]:$port" "ipv6:::1" "$SC_SOCK" "[group media]
id = 4711
send = yes
rekey = [ff3e::4242]:$mport
rekey_interface = lo
allow = uid:$me"
"$BIN/gdoi-sidecar" -c "$tmp/sc.conf" -v >"$tmp/sidecar.log" 2>&1 &
stack_pids+=($!)
check "the sidecar opens its IPC socket" stack_wait 10 test -S "$SC_SOCK"
check "its registration socket is dual-stack [::]" grep -q "registration socket \[::\]:[0-9]* (dual-stack); 1 key server(s), first \[::1\]:$port" "$tmp/sidecar.log"
check "it joins the SSM rekey group on lo by name, the key server as source" \
	grep -q "listening for rekeys on \[ff3e::4242\]:$mport (interface lo, source-specific)" "$tmp/sidecar.log"
check "it registers over ::1 (ID_IPV6_ADDR identity)" stack_wait 10 grep -q "registered with \[::1\]:$port" "$tmp/sidecar.log"
"$BIN/gdoictl" --sidecar "$SC_SOCK" --json sidecar-status >"$tmp/status.json" 2>&1
check "sidecar-status names the key server [::1]:$port" \
	test "$(jget "$tmp/status.json" 'd["status"]["keyservers"][0]["address"] + " " + d["status"]["keyservers"][0]["state"]')" = "[::1]:$port connected"
"$BIN/gdoictl" --sidecar "$SC_SOCK" --json get media >"$tmp/snap.json" 2>&1
check "the snapshot's TEK destination is [ff0e::1234]:5004" \
	test "$(jget "$tmp/snap.json" 'd["teks"][0]["destination"]')" = "{'address': 'ff0e::1234', 'port': 5004}"
check "the key server records the member at ::1" bash -c "'$BIN/gdoictl' --socket '$KS_SOCK' members media | grep -q '\[::1\]:'"
ctl rekey media >/dev/null 2>&1
check "a multicast rekey to [ff3e::4242] is applied by the sidecar" \
	stack_wait 10 grep -q "group media: rekey SEQ 1 applied" "$tmp/sidecar.log"

"$BIN/demo-receiver" --socket "$SC_SOCK" --group media --seconds 20 --idle 2 --report "$tmp/rx.json" \
	>"$tmp/rx.log" 2>&1 &
rx=$!
sleep 1
"$BIN/demo-sender" --socket "$SC_SOCK" --group media --input "$tmp/audio.wav" --report "$tmp/tx.json" \
	>"$tmp/tx.log" 2>&1
check "demo-sender sends to [ff0e::1234]:5004 with the sidecar's keys (exit $?)" test -s "$tmp/tx.json"
wait $rx
check "demo-receiver gets every packet over IPv6 multicast, none lost or refused" \
	test "$(jget "$tmp/rx.json" 'd["packets"] > 90 and d["lost"] == 0 and d["auth_failures"] == 0')" = True

# ---- across a veth pair ---------------------------------------------------------------
# the sidecar's namespace: a child of this one, holding the other end of the veth
unshare -n sleep 600 &
nspid=$!
stack_pids+=("$nspid")
sleep 0.2
in_ns() { nsenter -t "$nspid" -n "$@"; }
ip link set veth-gm netns "$nspid" &&
	ip addr add fd00:848::1/64 dev veth-ks nodad && ip link set veth-ks up &&
	in_ns ip link set lo up && in_ns ip addr add fd00:848::2/64 dev veth-gm nodad &&
	in_ns ip link set veth-gm up
check "a veth pair joins two namespaces (fd00:848::1 here, fd00:848::2 there)" \
	bash -c "ip -6 addr show dev veth-ks | grep -q fd00:848::1 &&
		nsenter -t $nspid -n ip -6 addr show dev veth-gm | grep -q fd00:848::2"
ctl reload >/dev/null 2>&1	# the link group's sender finds veth-ks now
sleep 0.5
SC2=$tmp/run/sc-veth.sock
sidecar_conf "$tmp/sc-veth.conf" "[fd00:848::1]:$port" "ipv6:fd00:848::2" "$SC2" "[group link]
id = 4712
send = yes
rekey = [ff0e::4243]:$vport
rekey_interface = fd00:848::2
allow = uid:$me"
# nsenter itself, not in_ns: a function in the background is a subshell, whose pid is
# not the sidecar's, and the teardown then left the sidecar running
nsenter -t "$nspid" -n "$BIN/gdoi-sidecar" -c "$tmp/sc-veth.conf" -v >"$tmp/sidecar-veth.log" 2>&1 &
stack_pids+=($!)
check "the sidecar across the veth registers with [fd00:848::1]" \
	stack_wait 15 grep -q "registered with \[fd00:848::1\]:$port" "$tmp/sidecar-veth.log"
check "it joins [ff0e::4243] on the interface holding fd00:848::2" \
	grep -q "listening for rekeys on \[ff0e::4243\]:$vport (interface fd00:848::2)" "$tmp/sidecar-veth.log"
ctl rekey link >/dev/null 2>&1
check "a multicast rekey crosses the veth and is applied" \
	stack_wait 10 grep -q "group link: rekey SEQ 1 applied" "$tmp/sidecar-veth.log"
# a receiving sidecar on this side (veth-ks: its address), the sender there
SC3=$tmp/run/sc-here.sock
sidecar_conf "$tmp/sc-here.conf" "[fd00:848::1]:$port" "ipv6:::1" "$SC3" "[group link]
id = 4712
allow = uid:$me"
"$BIN/gdoi-sidecar" -c "$tmp/sc-here.conf" -v >"$tmp/sidecar-here.log" 2>&1 &
stack_pids+=($!)
stack_wait 15 grep -q "registered with" "$tmp/sidecar-here.log"
"$BIN/demo-receiver" --socket "$SC3" --group link --interface veth-ks --seconds 20 --idle 2 \
	--report "$tmp/rx2.json" >"$tmp/rx2.log" 2>&1 &
rx=$!
sleep 1
in_ns "$BIN/demo-sender" --socket "$SC2" --group link --interface veth-gm --ttl 1 --input "$tmp/audio.wav" \
	--report "$tmp/tx2.json" >"$tmp/tx2.log" 2>&1
wait $rx
check "media crosses the veth by IPv6 multicast, keyed by a sidecar on each side" \
	test "$(jget "$tmp/rx2.json" 'd["packets"] > 90 and d["lost"] == 0 and d["auth_failures"] == 0')" = True

if [ "$tap_fail" -gt 0 ]; then
	tail -n 15 "$tmp"/*.log | sed 's/^/# /'
fi
tap_plan_end
