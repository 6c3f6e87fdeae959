#!/usr/bin/env bash
# gdoi-sidecar end to end against tests/tools/ks-lite, inside a private
# network namespace (multicast rekeys on lo only): registration, the IPC
# protocol through the real socket (every error answered, connection still
# usable), per-uid authorization (a client running as nobody), socket modes,
# a client that never reads no longer read, a rekey with ATD/DTD seen by a subscriber,
# junk datagrams, a key server restart with re-registration while keys stay,
# clean SIGTERM. Keys are compared by fingerprint only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDOI_BUILD:-$top/build}
if [ -z "${SIDECAR_TEST_NETNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root for unshare -n and setpriv"
		exit 0
	fi
	exec env SIDECAR_TEST_NETNS=1 unshare -n "$0" "$@"
fi
ip link set lo up && ip route add 224.0.0.0/4 dev lo || { echo "not ok 1 netns setup"; exit 1; }

sc=$build/bin/gdoi-sidecar ks=$build/tests/ks-lite cl=$build/tests/ipc-client-test
dir=$(mktemp -d /tmp/sidecar-test.XXXXXX)
chmod 0755 "$dir"
sock=$dir/run/sidecar.sock
. "$top/tests/integration/lib/tap.sh"
# after a failed check: the output it looked at, as a TAP comment
tap_diag() { echo "# ${out:-}" | head -c 2000; echo; }
has() { grep -q -- "$1" <<<"$out"; }
wait_log() { # FILE PATTERN SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
cleanup() {
	[ -n "${KEEP_LOG:-}" ] && cp "$dir/sidecar.log" "$dir"/ks*.out "$dir"/sub*.out /tmp/ 2>/dev/null
	[ -n "${scpid:-}" ] && kill "$scpid" 2>/dev/null
	[ -n "${kspid:-}" ] && kill "$kspid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fp_of_ks() { sed -n "s/.*$1.*fp=\([0-9a-f]*\).*/\1/p" "$2" | tail -1; }

cat >"$dir/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:848
identity = ipv4:127.0.0.1
psk = loopback demo key
socket = $sock
socket_group = 65534
retry_min = 200
retry_max = 1000
retransmit = 300
unknown_kek_reregister = 1

[group audio]
id = 4711
send = yes
ssrcs = 2
rekey = 239.1.2.4:1849
rekey_interface = 127.0.0.1
allow = uid:65534

[group video]
id = 4712
allow = uid:1000, gid:4242
CONF
chmod 600 "$dir/sidecar.conf"	# it holds the PSK: gdoi-sidecar refuses it open to others

start_ks() { "$ks" -p 848 -m 239.1.2.4:1849 -a 1 -d 3 -s "$1" >"$dir/ks$1.out" 2>&1 & kspid=$!; }
start_ks 256
"$sc" -c "$dir/sidecar.conf" -v 2>"$dir/sidecar.log" & scpid=$!

# 1 registration
check "sidecar registers group audio with the key server" wait_log "$dir/sidecar.log" "group audio (4711): registered" 10
fp0=$(fp_of_ks "tek spi=" "$dir/ks256.out")

# 2 socket modes
m_dir=$(stat -c '%a %g' "$dir/run"); m_sock=$(stat -c '%a %g' "$sock")
out="dir $m_dir sock $m_sock"
check "socket directory 0750 and socket 0660, group 65534" test "$m_dir" = "750 65534" -a "$m_sock" = "660 65534"

# 3-10 one connection: every error answered, the connection stays usable
out=$("$cl" "$sock" 'raw:{"op":"hello","id":1,"protocol":1}' 'raw:{"op":"get","group":"audio","id":"g"}' \
	'raw:this is not json' 'raw:[1,2]' 'raw:{"op":"fly","id":3}' 'raw:{"id":4}' \
	'raw:{"op":"get","group":99,"id":5}' 'raw:{"op":"get","group":true,"id":6}' \
	"big:70000" 'raw:{"op":"get","group":"video","id":7}' 'raw:{"op":"groups","id":8}' \
	'raw:{"op":"status","id":9}' 'raw:{"op":"hello","id":10}' 2>&1)
lines() { sed -n "$1p" <<<"$out"; }
check "hello: protocol 1, server gdoi-sidecar 0.1.0, id echoed" grep -q '"id":1,"ok":true,"protocol":1,"server":"gdoi-sidecar 0.1.0"' <<<"$(lines 1)"
check "get audio: snapshot with the key server's TEK (fingerprint $fp0), 2 SSRCs, MKI" \
	grep -q "\"fp\":\"$fp0\".*\"mki\":\"00000100\"" <<<"$(lines 2)"
check "get audio: SSRCs and ATD/DTD in the snapshot, strict reading passes" \
	bash -c "grep -q '\"atd\":1,\"dtd\":3' <<<'$(lines 2)' && grep -q '\"ssrcs\":\[65536,65537\]' <<<'$(lines 2)' && ! grep -q STRICT <<<'$(lines 2)'"
check "bad JSON -> bad_json" grep -q '"code":"bad_json"' <<<"$(lines 3)"
check "JSON that is not an object -> bad_json" grep -q '"code":"bad_json"' <<<"$(lines 4)"
check "unknown op -> unknown_op with id" grep -q '"code":"unknown_op".*"id":3' <<<"$(lines 5)"
check "request without op -> bad_request" grep -q '"code":"bad_request"' <<<"$(lines 6)"
check "unknown group -> unknown_group" grep -q '"code":"unknown_group"' <<<"$(lines 7)"
check "group of the wrong type -> bad_request" grep -q '"code":"bad_request"' <<<"$(lines 8)"
check "line of 70000 octets -> too_long" grep -q '"code":"too_long"' <<<"$(lines 9)"
check "configured group without keys -> not_registered" grep -q '"code":"not_registered".*"id":7' <<<"$(lines 10)"
check "groups lists audio (registered) and video (not) to root" \
	grep -q '"groups":\[{"group":4711,"name":"audio","registered":true,"version":1},{"group":4712,"name":"video","registered":false,"version":0}\]' <<<"$(lines 11)"
check "status: key server connected, group states" bash -c "grep -q '\"state\":\"connected\"' <<<'$(lines 12)' && grep -q '\"state\":\"registered\"' <<<'$(lines 12)'"
check "connection still usable after every error (hello again)" grep -q '"id":10,"ok":true' <<<"$(lines 13)"

# another uid (nobody, 65534): allowed for audio, refused for video
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$cl" "$sock" 'raw:{"op":"get","group":"video","id":1}' \
	'raw:{"op":"subscribe","group":4712,"id":2}' 'raw:{"op":"get","group":"audio","id":3}' 'raw:{"op":"groups","id":4}' 2>&1)
check "uid 65534: get video -> not_authorized" grep -q '"code":"not_authorized"' <<<"$(lines 1)"
check "uid 65534: subscribe video -> not_authorized" grep -q '"code":"not_authorized"' <<<"$(lines 2)"
check "uid 65534: get audio (allow uid:65534) -> snapshot" grep -q "\"fp\":\"$fp0\"" <<<"$(lines 3)"
check "uid 65534: groups lists audio only" grep -q '"groups":\[{"group":4711,[^]]*}\]' <<<"$(lines 4)"
out=$(setpriv --reuid=4243 --regid=4242 --groups=65534 "$cl" "$sock" 'raw:{"op":"get","group":"video","id":1}' 'raw:{"op":"get","group":"audio","id":2}' 2>&1)
check "gid 4242 (allow gid:4242): video passes authorization (not_registered), audio not_authorized" \
	bash -c "grep -q not_registered <<<'$(lines 1)' && grep -q not_authorized <<<'$(lines 2)'"

# a client that never reads its replies: past the output bound the sidecar stops reading
# it (its sends block) and says so in the log; the sidecar carries on (the checks below)
out=$("$cl" "$sock" flood:20000 2>&1)
check "a client that never reads is no longer read once its output passes the bound" \
	bash -c "grep -q 'still open after' <<<'$out' && ! grep -q 'after 20000 requests' <<<'$out' && grep -q 'reading paused' '$dir/sidecar.log'"

# subscriber across a rekey (multicast, ATD 1 s, DTD 3 s)
"$cl" "$sock" 'raw:{"op":"subscribe","group":"audio","id":"s"}' drain:7 >"$dir/sub1.out" 2>&1 &
subpid=$!
sleep 0.5
t_rekey=$(date +%s)
kill -USR1 "$kspid"
wait_log "$dir/ks256.out" "rekey seq=1" 5
fp1=$(fp_of_ks "rekey seq=1" "$dir/ks256.out")
wait "$subpid"
out=$(cat "$dir/sub1.out")
ev1=$(grep '"event":"snapshot"' <<<"$out" | head -1)
ev2=$(grep '"event":"snapshot"' <<<"$out" | sed -n 2p)
check "subscribe: the snapshot in the reply" grep -q "\"id\":\"s\",\"ok\":true.*\"fp\":\"$fp0\"" <<<"$out"
out="$ev1"
check "rekey: an event with the new TEK ($fp1) and the old one ($fp0) still present" \
	bash -c "grep -q '\"fp\":\"$fp1\"' <<<'$ev1' && grep -q '\"fp\":\"$fp0\"' <<<'$ev1'"
nb_new=$(python3 -c 'import json,sys,calendar,time
m=json.loads(sys.argv[1]); t=[x for x in m["snapshot"]["teks"] if x["fp"]==sys.argv[2]][0]
o=[x for x in m["snapshot"]["teks"] if x["fp"]==sys.argv[3]][0]
p=lambda s: calendar.timegm(time.strptime(s,"%Y-%m-%dT%H:%M:%SZ"))
u=p(m["snapshot"]["updated"])
print(p(t["not_before"])-u, p(o["not_after"])-u)' "$ev1" "$fp1" "$fp0" 2>&1)
out="not_before-updated, old not_after-updated: $nb_new"
check "rekey: new TEK not_before = receipt + ATD (1), old TEK not_after = receipt + DTD (3)" test "$nb_new" = "1 3"
out="$ev2"
check "after DTD: an event without the old TEK" \
	bash -c "grep -q '\"fp\":\"$fp1\"' <<<'$ev2' && ! grep -q '\"fp\":\"$fp0\"' <<<'$ev2'"

# junk: to the registration socket and to the rekey group; the sidecar stays
regport=$(sed -n 's/.*registration socket [0-9.]*:\([0-9]*\);.*/\1/p' "$dir/sidecar.log")
python3 - "$regport" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
for i in range(200):
    for dst in (("127.0.0.1", int(sys.argv[1])), ("239.1.2.4", 1849)):
        n = i % 120
        d = bytearray(os.urandom(n))
        if n >= 28 and i % 3 == 0:
            d[18] = 33        # looks like a GROUPKEY-PUSH
        if n >= 28 and i % 3 == 1:
            d[18] = 2         # looks like Main Mode
        s.sendto(bytes(d), dst)
PY
sleep 0.5
out=$("$cl" "$sock" 'raw:{"op":"get","group":"audio","id":1}' 2>&1)
check "200 junk datagrams on each socket: sidecar alive, keys unchanged" \
	bash -c "kill -0 $scpid && grep -q '\"fp\":\"$fp1\"' <<<'$out'"
out=$(grep -c "ignored a datagram\|push via" "$dir/sidecar.log")
check "junk is logged, rate-limited (at most 12 lines)" test "$out" -ge 1 -a "$out" -le 12

# key server restart: the subscriber keeps its keys; the sidecar re-registers
"$cl" "$sock" 'raw:{"op":"subscribe","group":"audio","id":"r"}' drain:9 >"$dir/sub2.out" 2>&1 &
subpid=$!
kill "$kspid"; wait "$kspid" 2>/dev/null
sleep 1
out=$("$cl" "$sock" 'raw:{"op":"get","group":"audio","id":1}' 2>&1)
check "key server down: get still returns the keys" grep -q "\"fp\":\"$fp1\"" <<<"$out"
start_ks 4096
wait_log "$dir/ks4096.out" "ready" 5
sleep 0.3
kill -USR1 "$kspid"	# a push under a KEK the sidecar does not know: it must re-register
check "push under an unknown KEK after the restart: the sidecar registers with the new key server" \
	wait_log "$dir/ks4096.out" "registered member" 6
wait "$subpid"
fpn=$(fp_of_ks "rekey seq=1" "$dir/ks4096.out")
out=$(grep '"event":"snapshot"' "$dir/sub2.out" | head -1)
check "re-registered with the restarted key server: subscriber gets its TEK ($fpn), the old one ($fp1) still present" \
	bash -c "grep -q '\"fp\":\"$fpn\"' <<<'$out' && grep -q '\"fp\":\"$fp1\"' <<<'$out'"

# clean stop
kill -TERM "$scpid"
wait "$scpid"; rc=$?
scpid=
out="rc=$rc"
check "SIGTERM: exit 0, socket removed" test "$rc" -eq 0 -a ! -e "$sock"
out=$(grep -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer" "$dir/sidecar.log")
check "no sanitizer report from the sidecar" test -z "$out"
out=$(grep -ciE "master_key|inline:" "$dir/sidecar.log")
check "sidecar log holds no keys" test "$out" -eq 0
tap_plan_end
