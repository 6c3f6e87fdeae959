#!/usr/bin/env bash
# The daemon toolkit against real daemons: key files that are not what they seem
# (a sysfs file whose size is not what read returns, a FIFO, a symlink, a key
# readable by others), 10,000 junk datagrams (a bounded number of log lines, the key
# server still serves), state and socket directories pre-created by another uid
# (setpriv to 65534), gdoictl refusing a socket in such a directory, and core dumps of
# a sidecar holding keys (none by default; with GDOI_CORE_DUMPS=1 no key in them).
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
ca = $tmp/a.crt
keyserver_identity = fqdn:ks.example"; rc=$?
	check "a key file shorter than its reported size is refused with its path, no crash" \
		refused $rc "$sysfile"
else
	skip "a key file shorter than its reported size is refused" "no $sysfile"
fi
mkfifo "$tmp/fifo.key"
sc_try "private_key = $tmp/fifo.key
certificate = $tmp/a.crt
ca = $tmp/a.crt
keyserver_identity = fqdn:ks.example"; rc=$?
check "a FIFO as private_key is refused at once (not a regular file)" refused $rc "not a regular file"
ln -s "$tmp/a.key" "$tmp/link.key"
sc_try "private_key = $tmp/link.key
certificate = $tmp/a.crt
ca = $tmp/a.crt
keyserver_identity = fqdn:ks.example"; rc=$?
check "a symlinked private_key is refused" refused $rc "symbolic link"
cp "$tmp/a.key" "$tmp/open.key"; chmod 644 "$tmp/open.key"
sc_try "private_key = $tmp/open.key
certificate = $tmp/a.crt
ca = $tmp/a.crt
keyserver_identity = fqdn:ks.example"; rc=$?
check "a private_key readable by others is refused" refused $rc "readable by group or others"
head -c $((2 << 20)) /dev/zero >"$tmp/big.key"; chmod 600 "$tmp/big.key"
sc_try "private_key = $tmp/big.key
certificate = $tmp/a.crt
ca = $tmp/a.crt
keyserver_identity = fqdn:ks.example"; rc=$?
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
	skip "directories pre-created by another uid are refused" "not root: no second uid"
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

# ---- core dumps ----------------------------------------------------------------------
# The dumps are taken of a plain build (an ASan process's dump holds its shadow maps,
# and gdb reads little of it): $GDOI_PLAIN_BUILD (make check: build/vg), else
# $GDOI_BUILD or build/ when they are not sanitizer builds. Each dump is searched for
# every TEK key and salt (raw, hex, base64) and for a marker string in the daemon's
# environment, which proves the dump holds memory at all.
is_plain() { [ -x "$1/bin/gdoi-sidecar" ] && ! readelf -d "$1/bin/gdoi-sidecar" 2>/dev/null | grep -q libasan; }
plain=
for d in ${GDOI_PLAIN_BUILD:-} "$B" "$top/build/vg" "$top/build"; do
	case $d in /*) ;; *) d=$top/$d ;; esac
	is_plain "$d" && { plain=$d; break; }
done
# key_table PID BINARY: "START END N": the address range of the sidecar's key table (the
# mapping marked MADV_DONTDUMP, "dd" in /proc/PID/smaps, that holds the most of the keys in
# $tmp/keys: the member engine, in pages of its own) in the live process PID, and how many of
# those keys that range holds now (read from /proc/PID/mem). BINARY is unused (kept for the
# callers).
key_table() {
	python3 - "$1" "$tmp/keys" <<'PY'
import sys
pid, keys = sys.argv[1], [bytes.fromhex(k.strip()) for k in open(sys.argv[2]) if k.strip()]
best = (0, 0, 0)
rng = None
with open(f"/proc/{pid}/smaps") as f, open(f"/proc/{pid}/mem", "rb") as mem:
    for line in f:
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            rng = (lo, hi, head[1])
        elif line.startswith("VmFlags:") and rng and " dd" in " " + line.split(":", 1)[1] and "r" in rng[2]:
            try:
                mem.seek(rng[0])
                data = mem.read(rng[1] - rng[0])
            except OSError:
                continue
            n = sum(1 for k in keys if k in data)
            if n > best[2]:
                best = (rng[0], rng[1], n)
print(hex(best[0]), hex(best[1]), best[2])
PY
}
# dump_has DUMP START END: "DUMPED KEYS MARKER": octets of [START, END) the dump holds, how
# many key forms (raw, hex, base64) it holds anywhere, whether it holds the marker
dump_has() {
	python3 - "$1" "$2" "$3" "$tmp/keys" "$marker" <<'PY'
import base64, struct, sys
core = open(sys.argv[1], "rb").read()
lo, hi = int(sys.argv[2], 16), int(sys.argv[3], 16)
phoff = struct.unpack_from("<Q", core, 0x20)[0]
phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
dumped = 0
for i in range(phnum):
    typ, _, off, va, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", core, phoff + i * phentsize)
    if typ == 1 and filesz:
        dumped += max(0, min(hi, va + filesz) - max(lo, va))
n = 0
for line in open(sys.argv[4]):
    k = bytes.fromhex(line.strip())
    n += sum(1 for form in (k, k.hex().encode(), base64.b64encode(k)) if form in core)
print(dumped, n, int(sys.argv[5].encode() in core))
PY
}
# snapshot_keys SOCKET: the master keys and salts the sidecar on SOCKET hands out, in $tmp/keys
snapshot_keys() {
	"$CTL" --sidecar "$1" get media --format json >"$tmp/snap.json" &&
	python3 - "$tmp/snap.json" >"$tmp/keys" <<'PY'
import base64, json, sys
s = json.load(open(sys.argv[1]))
s = s.get("snapshot", s)
for t in s["teks"]:
    for k in ("master_key", "master_salt"):
        print(base64.b64decode(t[k]).hex())
PY
	[ -s "$tmp/keys" ]
}
# filtered_gcore PID FILE: a gcore that honours coredump_filter and MADV_DONTDUMP, as the
# kernel does (gdb 13: use-coredump-filter on, dump-excluded-mappings off)
filtered_gcore() {
	timeout 60 gdb -nx -batch -p "$1" -ex "set use-coredump-filter on" \
		-ex "set dump-excluded-mappings off" -ex "gcore $2" >"$tmp/gdb.log" 2>&1 && [ -s "$2" ]
}
marker=gdoi-dump-marker-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

if ! command -v gdb >/dev/null; then
	skip "core dumps: a filtered gcore of the sidecar holds no key" "no gdb"
elif [ -z "$plain" ]; then
	skip "core dumps: a filtered gcore of the sidecar holds no key" \
		"no plain (non-ASan) build: set GDOI_PLAIN_BUILD (make check builds build/vg)"
else
	echo "# core dumps of $plain/bin/gdoi-sidecar"
	# 1. As the daemon starts by default: non-dumpable, coredump_filter 0.
	mkdir -p "$tmp/cores" "$tmp/run2" "$tmp/run3"; chmod 0700 "$tmp/run2" "$tmp/run3"
	sc2_conf() { # sc2_conf NAME SOCKET
		(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\nidentity = fqdn:alice.example\npsk = %s\nretry_min = 200\n\n[group media]\nid = 1234\nallow = uid:%s\n' \
			"$port" "$2" "$psk" "$me" >"$tmp/$1.conf")
	}
	sc2_conf plain "$tmp/run2/s.sock"
	(ulimit -c unlimited; cd "$tmp/cores" && exec env GDOI_MARKER="$marker" "$plain/bin/gdoi-sidecar" -c "$tmp/plain.conf" \
		>"$tmp/plain.log" 2>&1) & ppid=$!
	stack_pids+=("$ppid")
	if stack_wait 15 snapshot_keys "$tmp/run2/s.sock"; then
		check "the sidecar's coredump_filter is 0 by default" \
			test "$(cat /proc/$ppid/coredump_filter 2>/dev/null)" = 00000000
		check "the sidecar is not dumpable by default (no core on SIGQUIT)" sh -c \
			"grep -q '^0' /proc/sys/fs/suid_dumpable && kill -QUIT $ppid && sleep 1 && ! ls '$tmp/cores' | grep -q ."
		kill -TERM "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
	else
		notok "a plain-build sidecar gets keys"; tail -5 "$tmp/plain.log" | sed 's/^/# /'
	fi
	# 2. GDOI_CORE_DUMPS=1 (debugging): dumps hold memory, but never the pages of the key
	#    table, which are MADV_DONTDUMP.
	sc2_conf dumps "$tmp/run3/s.sock"
	(ulimit -c unlimited; cd "$tmp/cores" && exec env GDOI_CORE_DUMPS=1 GDOI_MARKER="$marker" \
		"$plain/bin/gdoi-sidecar" -c "$tmp/dumps.conf" >"$tmp/dumps.log" 2>&1) & dpid=$!
	stack_pids+=("$dpid")
	if stack_wait 15 snapshot_keys "$tmp/run3/s.sock"; then
		read -r lo hi live < <(key_table "$dpid" "$plain/bin/gdoi-sidecar" || echo "0x0 0x0 0")
		echo "# key table $lo-$hi holds $live of $(wc -l <"$tmp/keys") key/salt values"
		check "the sidecar's key table holds every key and salt it hands out" \
			test "$live" -eq "$(wc -l <"$tmp/keys")"
		check "with GDOI_CORE_DUMPS=1 a filtered gcore of the sidecar is written" \
			filtered_gcore "$dpid" "$tmp/gcore.dumps"
		read -r dumped found has_marker < <(dump_has "$tmp/gcore.dumps" "$lo" "$hi" 2>/dev/null || echo "- - 0")
		# Copies outside the table (the group's policy on the heap, the reply line just
		# written) are counted here but not yet kept out of dumps.
		echo "# gcore: $dumped octets of the key table, $found key form(s) anywhere, marker $has_marker"
		check "... it holds the process's memory (the marker from its environment)" test "$has_marker" = 1
		check "... but no page of the key table, which is MADV_DONTDUMP" test "$dumped" = 0
		case $(cat /proc/sys/kernel/core_pattern) in
		'|'*) skip "a kernel core dump (SIGQUIT) of the sidecar holds no page of the key table" \
			"core_pattern is a pipe" ;;
		*)
			kill -QUIT "$dpid"; wait "$dpid" 2>/dev/null
			core=$(ls "$tmp"/cores/core* 2>/dev/null | head -1)
			check "with GDOI_CORE_DUMPS=1 the kernel writes a core on SIGQUIT" test -n "$core"
			if [ -n "$core" ]; then
				read -r dumped found has_marker < <(dump_has "$core" "$lo" "$hi")
				echo "# kernel core: $dumped octets of the key table, $found key form(s) anywhere, marker $has_marker"
				check "... the core holds the process's memory but no page of the key table" \
					test "$has_marker" = 1 -a "$dumped" = 0
			fi
			;;
		esac
	else
		notok "a plain-build sidecar with GDOI_CORE_DUMPS=1 gets keys"; tail -5 "$tmp/dumps.log" | sed 's/^/# /'
	fi
	kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
fi

kill -TERM "$SC_PID" "$KS_PID"
wait "$SC_PID" "$KS_PID" 2>/dev/null
tap_plan_end
