#!/usr/bin/env bash
# Crafted attacks against the real daemons (gdoi-ks and gdoi-sidecar on 127.0.0.1,
# tests/tools/attack.py crafts them). After each attack: the key server still
# registers a real member (gm-probe, from an address no attack used), no sanitizer
# report in either log, and the attack cost a bounded number of log lines.
#  - Main Mode message 1 floods from one source (answered at most burst + rate * t,
#    gdoi/gcks_limit.c) and from 200 sources (the key server's RSS stays bounded);
#  - 10,000 junk datagrams a second whose drop reasons all differ (offsets);
#  - garbled MM3/MM5 under valid cookies, a PULL with an unknown Message ID, a
#    65507-octet datagram;
#  - to the sidecar, from the key server's own address (the sidecar's key server is a
#    relay, tests/tools/attack.py relay, which can also inject): pushes under unknown
#    KEKs at a high rate (at most one re-registration per unknown_kek_reregister),
#    an old push replayed after a newer one, the newest push with a higher SEQ
#    re-signed with another key (decrypted and encrypted again with the KEK read from
#    the key server's state database);
#  - IPC: 10,000 leases on one connection, burned SSRCs, 300 subscribing
#    connections, a 1 MiB line; the admin socket refuses another uid.
set -u
# ASan's quarantine keeps up to 256 MiB of freed memory mapped: the RSS bound below would
# measure it instead of the key server. A small one still catches use after free.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}:quarantine_size_mb=16"
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
PROBE=$B/tests/gm-probe
A="python3 $top/tests/tools/attack.py"
[ -x "$PROBE" ] || tap_bail "$PROBE is not built (make test-bins)"
me=$(id -u)
free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
relay_port=$(free_port)
ctl_port=$(free_port)
mkdir -p "$tmp/rec"

MM1_RATE=100 MM1_BURST=400	# set below (flood_mm1); the default is 1000/4000
KS_SERVER_EXTRA="flood_mm1 = $MM1_RATE/$MM1_BURST"
stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
may_send = yes
ssrcs = 16

[member bob]
id = fqdn:bob.example
psk = $psk
groups = media" || { notok "gdoi-ks starts"; stack_logs; tap_plan_end; exit 1; }
$A relay "$relay_port" "$port" "$ctl_port" "$tmp/rec" &
stack_pids+=($!)
port_ks=$port
port=$relay_port	# the sidecar's key server is the relay
stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
retry_min = 200
unknown_kek_reregister = 30

[group media]
id = 1234
send = yes
ssrcs = 16
allow = uid:$me" || { notok "gdoi-sidecar starts"; stack_logs; tap_plan_end; exit 1; }
port=$port_ks
get() { "$CTL" --sidecar "$SC_SOCK" get media --format json; }
stack_wait 20 get || { notok "the sidecar holds keys"; stack_logs; tap_plan_end; exit 1; }
mm1=$(ls "$tmp"/rec/c2s-* | head -1)

# healthy WHAT KS_LINES SC_LINES MAX_LINES: one TAP line for the attack just run
ks_lines() { wc -l <"$tmp/ks.log"; }
sc_lines() { wc -l <"$tmp/sidecar.log"; }
# attack_failed WHY: what the attack itself saw go wrong, reported on its healthy line
failed_attack=""
attack_failed() { failed_attack="$failed_attack; $1"; }
healthy() {
	local what=$1 ks0=$2 sc0=$3 max=$4 why=$failed_attack n
	failed_attack=""
	timeout 20 "$PROBE" --server "127.0.0.1:$port_ks" --bind 127.0.0.254:0 --id fqdn:bob.example \
		--psk "$psk" --group 1234 --timeout 10 >"$tmp/probe.out" 2>&1 || why="$why; gm-probe cannot register"
	kill -0 "$KS_PID" 2>/dev/null || why="$why; gdoi-ks died"
	kill -0 "$SC_PID" 2>/dev/null || why="$why; gdoi-sidecar died"
	get >/dev/null 2>&1 || why="$why; the sidecar serves no keys"
	grep -q "Sanitizer\|runtime error" "$tmp/ks.log" "$tmp/sidecar.log" && why="$why; sanitizer report"
	n=$(( $(ks_lines) - ks0 + $(sc_lines) - sc0 ))
	[ "$n" -le "$max" ] || why="$why; $n log lines (at most $max)"
	echo "# $what: $n log line(s)"
	if [ -z "$why" ]; then ok "$what: the daemons keep serving"; else notok "$what${why}"; stack_logs; fi
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# ---- Main Mode message 1 floods ---------------------------------------------------
k0=$(ks_lines) s0=$(sc_lines)
secs=2
max=$((MM1_BURST + MM1_RATE * (secs + 1)))
$A mm1 "$port_ks" "$mm1" $secs 1 $max | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "MM1 flood from one source is answered at most burst + rate * t"
healthy "MM1 flood from one source (answered <= $max)" "$k0" "$s0" 30

k0=$(ks_lines) s0=$(sc_lines)
rss0=$(rss "$KS_PID")
$A mm1 "$port_ks" "$mm1" 3 200 $((MM1_BURST + MM1_RATE * 4)) | sed 's/^/# /'
r=${PIPESTATUS[0]}
rss1=$(rss "$KS_PID")
echo "# gdoi-ks RSS ${rss0} KiB -> ${rss1} KiB"
[ "$r" -eq 0 ] || attack_failed "MM1 flood from 200 sources is answered at most burst + rate * t each"
[ $((rss1 - rss0)) -le 32768 ] || attack_failed "gdoi-ks RSS grew by $((rss1 - rss0)) KiB (at most 32768)"
healthy "MM1 flood from 200 sources (each answered <= $((MM1_BURST + MM1_RATE * 4)), RSS +$((rss1 - rss0)) KiB)" "$k0" "$s0" 30

# ---- junk whose drop reasons vary ---------------------------------------------------
k0=$(ks_lines) s0=$(sc_lines)
$A junk "$port_ks" 10000 50 | sed 's/^/# /'
sleep 0.5
healthy "10,000 junk datagrams a second, every drop reason different" "$k0" "$s0" 40

# ---- Phase 1 under valid cookies ---------------------------------------------------
k0=$(ks_lines) s0=$(sc_lines)
$A phase1 "$port_ks" "$mm1" | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "the key server answers MM1 with MM2 (cookies for the next attack)"
sleep 0.5
healthy "garbled MM3/MM5, PULL with an unknown Message ID, 65507-octet datagram" "$k0" "$s0" 30

# ---- pushes to the sidecar from the key server's address ----------------------------
regs() { grep -c "member alice .* registered from" "$tmp/ks.log"; }
k0=$(ks_lines) s0=$(sc_lines)
reg0=$(regs)
$A inject "$ctl_port" unknown-kek 2000 2 | sed 's/^/# /'
sleep 3
reg1=$(regs)
echo "# sidecar registrations at the key server: $reg0 -> $reg1"
check "2,000 pushes under unknown KEKs: at most one re-registration (got $((reg1 - reg0)))" \
	eval '[ $((reg1 - reg0)) -le 1 ] && tail -n +$((s0 + 1)) "$tmp/sidecar.log" | grep -q "unknown KEK"'
stack_wait 20 get
healthy "2,000 pushes under unknown KEKs" "$k0" "$s0" 30

# a real push, recorded by the relay; then a newer one; then the old one again
pushes() { python3 - "$tmp/rec" <<'PY'
import os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    b = open(os.path.join(d, n), "rb").read()
    if n.startswith("s2c") and len(b) > 28 and b[18] == 33:
        print(os.path.join(d, n))
PY
}
seq() { "$CTL" --sidecar "$SC_SOCK" get media --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])'; }
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null && stack_wait 10 test -n "$(pushes)"
old=$(pushes | tail -1)
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
sleep 1
seq0=$(seq)
if [ -z "$old" ] || [ "$(pushes | wc -l)" -lt 2 ]; then
	notok "the relay records the key server's pushes"
else
	k0=$(ks_lines) s0=$(sc_lines)
	$A inject "$ctl_port" "$old" 50 0.5 | sed 's/^/# /'
	sleep 0.5
	seq1=$(seq)
	check "an old push replayed 50 times is refused as a replay (SEQ $seq0, got $seq1)" \
		eval '[ "$seq0" = "$seq1" ] && tail -n +$((s0 + 1)) "$tmp/sidecar.log" | grep -q "replay"'
	healthy "an old push replayed from the key server's address" "$k0" "$s0" 10
fi
# the newest push with a higher SEQ, re-signed with another key, from the key server's address
if python3 -c 'import cryptography' 2>/dev/null; then
	k0=$(ks_lines) s0=$(sc_lines)
	$A resign "$tmp/ks-state/gdoi-ks.db" "$(pushes | tail -1)" "$tmp/resigned" | sed 's/^/# /'
	r=${PIPESTATUS[0]}
	[ "$r" -eq 0 ] && $A inject "$ctl_port" "$tmp/resigned" 20 0.2 | sed 's/^/# /'
	sleep 0.5
	seq1=$(seq)
	check "a push re-signed with another key is refused for its signature (SEQ $seq0, got $seq1)" \
		eval '[ "$r" -eq 0 ] && [ "$seq1" = "$seq0" ] && tail -n +$((s0 + 1)) "$tmp/sidecar.log" | grep -qi "signature"'
	healthy "a push re-signed with another key" "$k0" "$s0" 10
else
	skip "a push re-signed with another key" "python3-cryptography is missing"
fi

# ---- IPC ----------------------------------------------------------------------------
k0=$(ks_lines) s0=$(sc_lines)
$A leases "$SC_SOCK" media 10000 16 | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "10,000 leases on one connection: at most 16 leased, the rest no_ssrc"
healthy "10,000 leases on one connection: at most 16 leased, the rest no_ssrc" "$k0" "$s0" 40	# a line per lease (16)

k0=$(ks_lines) s0=$(sc_lines)
$A burn "$SC_SOCK" media | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "an SSRC leased to a closed connection is never leased again"
healthy "lease, disconnect, lease again: a burned SSRC is never leased again" "$k0" "$s0" 30

k0=$(ks_lines) s0=$(sc_lines)
$A subscribers "$SC_SOCK" media 300 | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "300 subscribing connections: at most max_clients (256) served"
healthy "300 subscribing connections: at most max_clients (256) served" "$k0" "$s0" 20

k0=$(ks_lines) s0=$(sc_lines)
$A longline "$SC_SOCK" | sed 's/^/# /'
r=${PIPESTATUS[0]}
[ "$r" -eq 0 ] || attack_failed "a 1 MiB line is too_long and the connection is kept"
healthy "a 1 MiB IPC line: too_long, the connection kept" "$k0" "$s0" 10

# ---- admin socket as another uid ----------------------------------------------------
if [ "$me" -eq 0 ] && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --socket "$KS_SOCK" status 2>&1)
	r=$?
	echo "$out" | sed 's/^/# /'
	check "the admin socket refuses uid 65534 (socket mode 0600)" test "$r" -ne 0
	# and the daemon itself, when the file mode would let the uid in
	chmod 0666 "$KS_SOCK"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --socket "$KS_SOCK" status 2>&1)
	r=$?
	chmod 0600 "$KS_SOCK"
	echo "$out" | sed 's/^/# /'
	check "gdoi-ks refuses uid 65534 on its admin socket (SO_PEERCRED)" \
		eval '[ "$r" -ne 0 ] && echo "$out" | grep -q "not_authorized\|not authorized"'
else
	skip "the admin socket refuses uid 65534" "not root: no second uid"
fi

echo "# log lines: gdoi-ks $(ks_lines), gdoi-sidecar $(sc_lines)"
tap_plan_end
