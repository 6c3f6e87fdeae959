#!/usr/bin/env bash
# The daemon toolkit against real daemons: key files that are not what they seem
# (a sysfs file whose size is not what read returns, a FIFO, a symlink, a key
# readable by others), 10,000 junk datagrams (a bounded number of log lines, the key
# server still serves), state and socket directories pre-created by another uid
# (setpriv to 65534), gdoictl refusing a socket in such a directory, and no TEK key
# bytes in a gcore dump of a sidecar holding keys.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
me=$(id -u)
nobody=65534
asroot() { [ "$me" -eq 0 ]; }
as_nobody() { setpriv --reuid=$nobody --regid=$nobody --clear-groups "$@"; }

# sc_try CONF_BODY: runs a sidecar that must refuse to start; its log in $tmp/try.log
sc_conf() {
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\nidentity = fqdn:a.example\n%s\n\n[group g]\nid = 1\n' \
		"$port" "${TRY_SOCK:-$tmp/try/s.sock}" "$1" >"$tmp/try.conf")
}
sc_try() {
	sc_conf "$1"
	timeout 10 "$BIN/gdoi-sidecar" -c "$tmp/try.conf" >"$tmp/try.log" 2>&1
}
refused() { # refused WHAT PATTERN: the last sc_try exited 1 with PATTERN in its log, no sanitizer report
	local rc=$1 pat=$2
	[ "$rc" -eq 1 ] && grep -q -- "$pat" "$tmp/try.log" && ! grep -q "Sanitizer\|double-free" "$tmp/try.log"
}

# ---- key files -----------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=a.example \
	-keyout "$tmp/a.key" -out "$tmp/a.crt" 2>/dev/null
chmod 600 "$tmp/a.key"
sysfile=/sys/kernel/mm/transparent_hugepage/enabled
if [ -r "$sysfile" ]; then
	sc_try "private_key = $sysfile
certificate = $tmp/a.crt
ca = $tmp/a.crt"; rc=$?
	check "a key file shorter than its reported size is refused with its path, no crash" \
		refused $rc "$sysfile"
else
	skip "no $sysfile to play a short-reading key file"
fi
mkfifo "$tmp/fifo.key"
sc_try "private_key = $tmp/fifo.key
certificate = $tmp/a.crt
ca = $tmp/a.crt"; rc=$?
check "a FIFO as private_key is refused at once (not a regular file)" refused $rc "not a regular file"
ln -s "$tmp/a.key" "$tmp/link.key"
sc_try "private_key = $tmp/link.key
certificate = $tmp/a.crt
ca = $tmp/a.crt"; rc=$?
check "a symlinked private_key is refused" refused $rc "symbolic link"
cp "$tmp/a.key" "$tmp/open.key"; chmod 644 "$tmp/open.key"
sc_try "private_key = $tmp/open.key
certificate = $tmp/a.crt
ca = $tmp/a.crt"; rc=$?
check "a private_key readable by others is refused" refused $rc "readable by group or others"
head -c $((2 << 20)) /dev/zero >"$tmp/big.key"; chmod 600 "$tmp/big.key"
sc_try "private_key = $tmp/big.key
certificate = $tmp/a.crt
ca = $tmp/a.crt"; rc=$?
check "a 2 MiB private_key is refused as too large" refused $rc "larger than"
printf '%s\n' "$psk" >"$tmp/psk.txt"; chmod 644 "$tmp/psk.txt"
sc_try "psk_file = $tmp/psk.txt"; rc=$?
check "a psk_file readable by others is refused" refused $rc "readable by group or others"

# ---- directories pre-created by another uid --------------------------------------
if asroot; then
	mkdir -p "$tmp/planted"; chmod 1777 "$tmp/planted"  # a /tmp-like parent
	as_nobody mkdir -m 0777 "$tmp/planted/state"
	as_nobody chmod 0777 "$tmp/planted/state"
	printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s\nadmin_socket = %s\n\n[group g]\nid = 7\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.9:5004\n' \
		"$port" "$tmp/planted/state" "$tmp/planted-ks.sock" >"$tmp/planted.conf"
	timeout 10 "$BIN/gdoi-ks" -c "$tmp/planted.conf" >"$tmp/try.log" 2>&1; rc=$?
	check "gdoi-ks refuses a state directory owned by uid 65534 (mode 0777)" \
		refused $rc "owned by uid $nobody"
	check "... and created no database in it" test ! -e "$tmp/planted/state/gdoi-ks.db"
	ln -s "$tmp/planted/state" "$tmp/planted/link"
	sed -i "s|^state = .*|state = $tmp/planted/link|" "$tmp/planted.conf"
	timeout 10 "$BIN/gdoi-ks" -c "$tmp/planted.conf" >"$tmp/try.log" 2>&1; rc=$?
	check "gdoi-ks refuses a symlinked state directory" refused $rc "symbolic link"
	as_nobody mkdir -m 0755 "$tmp/planted/run"
	TRY_SOCK=$tmp/planted/run/s.sock sc_try "psk = $psk"; rc=$?
	check "gdoi-sidecar refuses a socket directory owned by uid 65534" refused $rc "owned by uid $nobody"
	check "... and bound no socket there" test ! -e "$tmp/planted/run/s.sock"
	TRY_SOCK=$tmp/fresh/run/s.sock sc_conf "psk = $psk"
	"$BIN/gdoi-sidecar" -c "$tmp/try.conf" >"$tmp/fresh.log" 2>&1 & spid=$!
	stack_wait 10 test -S "$tmp/fresh/run/s.sock"
	check "a missing socket directory is created 0750" test "$(stat -c %a "$tmp/fresh/run" 2>/dev/null)" = 750
	kill -TERM "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
	# gdoictl: a socket in a directory another uid owns is not trusted
	python3 - "$tmp/planted/run/s.sock" <<'PY' &
import os, socket, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b'{"id":1,"ok":true,"snapshot":{"group":1}}\n')
    c.close()
PY
	fake=$!
	stack_wait 5 test -S "$tmp/planted/run/s.sock"
	"$CTL" --sidecar "$tmp/planted/run/s.sock" get 1 >"$tmp/ctl.out" 2>"$tmp/ctl.err"; rc=$?
	check "gdoictl refuses a sidecar socket in a directory owned by uid 65534" \
		sh -c "[ $rc -eq 3 ] && grep -q 'owned by uid $nobody' '$tmp/ctl.err'"
	kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null
else
	skip "not root: no second uid for the planted directories"
fi

# ---- a real stack: junk flood, core dumps ------------------------------------------
stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media" || { notok "gdoi-ks starts"; stack_logs; tap_plan_end; exit 1; }
stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
retry_min = 200

[group media]
id = 1234
allow = uid:$me" || { notok "gdoi-sidecar starts"; stack_logs; tap_plan_end; exit 1; }
get() { "$CTL" --sidecar "$SC_SOCK" get media --format json; }
stack_wait 15 get || { notok "the sidecar holds keys"; stack_logs; tap_plan_end; exit 1; }

before=$(wc -l <"$tmp/ks.log")
python3 - "$port" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10000):
    # alternately too short for a header and an ISAKMP header with an unknown exchange
    d = os.urandom(8) if i % 2 else os.urandom(16) + bytes([0x10, 0x99, 0, 0]) + b"\0" * 8
    s.sendto(d, ("127.0.0.1", int(sys.argv[1])))
PY
sleep 1
after=$(wc -l <"$tmp/ks.log")
lines=$((after - before))
echo "# 10000 junk datagrams -> $lines log line(s)"
check "10,000 junk datagrams make at most 20 log lines (got $lines)" test "$lines" -le 20
check "gdoi-ks still answers its admin socket after the flood" "$CTL" --socket "$KS_SOCK" status
check "... and registers: the sidecar still gets keys" get

if ! command -v gcore >/dev/null; then
	skip "no gcore"
else
	pid=$SC_PID
	check "the sidecar's coredump_filter excludes all memory" \
		test "$(cat /proc/$pid/coredump_filter 2>/dev/null)" = 00000000
	get >"$tmp/snap.json"
	python3 - "$tmp/snap.json" >"$tmp/keys" <<'PY'
import base64, json, sys
s = json.load(open(sys.argv[1]))
s = s.get("snapshot", s)
for t in s["teks"]:
    for k in ("master_key", "master_salt"):
        print(base64.b64decode(t[k]).hex())
PY
	check "the snapshot gave key material to look for" test -s "$tmp/keys"
	timeout 60 gcore -o "$tmp/core" "$pid" >/dev/null 2>&1
	core=$(ls "$tmp"/core.* 2>/dev/null | head -1)
	check "gcore wrote a dump of the sidecar" test -n "$core"
	if [ -n "$core" ]; then
		found=$(python3 - "$core" "$tmp/keys" <<'PY'
import base64, sys
core = open(sys.argv[1], "rb").read()
n = 0
for line in open(sys.argv[2]):
    k = bytes.fromhex(line.strip())
    for form in (k, k.hex().encode(), base64.b64encode(k)):
        if form in core:
            n += 1
print(n)
PY
)
		echo "# key forms found in the dump: $found"
		check "no TEK key or salt (raw, hex or base64) in the sidecar's dump" test "$found" = 0
	fi
fi

kill -TERM "$SC_PID" "$KS_PID"
wait "$SC_PID" "$KS_PID" 2>/dev/null
tap_plan_end
