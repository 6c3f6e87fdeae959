#!/usr/bin/env bash
# The metrics listeners (docs/metrics.md) of a real gdoi-ks and gdoi-sidecar on
# loopback: both pages pass `promtool check metrics` and carry the right
# Content-Type; a registration, a refused registration and a rekey move the
# counters by what happened (registrations +1, refusal by reason, pushes sent
# and applied), gauges agree with the state (members, SEQ, key ages, time to
# the next rekey, live TEKs); gdoictl metrics prints the same page; a
# malformed, an oversized, a non-GET and a wrong-path request get 400/400/405/404
# and the daemons keep serving; a head still incomplete after 5 s is closed; past 16 connections the newest is closed; a
# daemon without "metrics" listens on no TCP port; a non-loopback or repeated
# "metrics" key is refused with file:line.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
command -v promtool >/dev/null || tap_bail "promtool is installed (Debian package prometheus; make deps)"
command -v curl >/dev/null || tap_bail "curl is installed (make deps)"
free_tcp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ksm=$(free_tcp)
scm=$(free_tcp)
while [ "$scm" = "$ksm" ]; do scm=$(free_tcp); done

stack_ks_start "metrics = 127.0.0.1:$ksm

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
tek_lifetime = 3600
atd = 1
dtd = 2
rekey_unicast = yes

[group other]
id = 1299
tek = AES128_CM_SHA1_80
destination = 239.1.2.9:5004

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media" || { notok "gdoi-ks starts with metrics"; stack_logs; tap_plan_end; exit 1; }

scrape() { curl -sS --max-time 5 "http://127.0.0.1:$1/metrics"; }
# val PAGE SERIES: the value of one series ('name{labels}' exactly as rendered)
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' <<<"$1"; }
promcheck() { # NAME PAGE: promtool finds nothing to say
	local r
	r=$(promtool check metrics <<<"$2" 2>&1)
	if [ $? -eq 0 ] && [ -z "$r" ]; then ok "$1"; else notok "$1"; echo "$r" | head -20 | sed 's/^/# /'; fi
}

ks0=$(scrape "$ksm")
check "gdoi-ks answers /metrics on 127.0.0.1:$ksm" grep -q '^gdoi_ks_info{version="' <<<"$ks0"
reg0=$(val "$ks0" 'gdoi_ks_registrations_total{group="media"}')
check "gdoi-ks: no registration yet (registrations_total media = 0)" test "$reg0" = 0
hdr=$(curl -sS -D - -o /dev/null --max-time 5 "http://127.0.0.1:$ksm/metrics" | tr -d '\r')
check "Content-Type is text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' <<<"$hdr"

stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
retry_min = 200
retry_max = 1000
metrics = 127.0.0.1:$scm

[group media]
id = 1234
allow = uid:$(id -u)

[group other]
id = 1299
allow = uid:$(id -u)" || { notok "gdoi-sidecar starts with metrics"; stack_logs; tap_plan_end; exit 1; }

registered() { [ "$(val "$(scrape "$scm")" 'gdoi_sidecar_registered{group="media"}')" = 1 ]; }
refused() { [ "$(val "$(scrape "$ksm")" 'gdoi_ks_registrations_refused_total{reason="not_authorized"}')" != absent ]; }
if stack_wait 20 registered && stack_wait 20 refused; then
	ok "the sidecar registered group media, and was refused group other"
else
	notok "the sidecar registered group media, and was refused group other"
	stack_logs
fi
ks1=$(scrape "$ksm")
sc1=$(scrape "$scm")
promcheck "promtool check metrics: the gdoi-ks page" "$ks1"
promcheck "promtool check metrics: the gdoi-sidecar page" "$sc1"
check "gdoi-ks: registrations_total media went from 0 to 1" \
	test "$(val "$ks1" 'gdoi_ks_registrations_total{group="media"}')" = 1
check "gdoi-ks: registrations_total other stays 0" \
	test "$(val "$ks1" 'gdoi_ks_registrations_total{group="other"}')" = 0
check "gdoi-ks: the refusal is counted as not_authorized" \
	test "$(val "$ks1" 'gdoi_ks_registrations_refused_total{reason="not_authorized"}')" -ge 1
check "gdoi-ks: members media = 1, other = 0" test "$(val "$ks1" 'gdoi_ks_members{group="media"}')" = 1 -a \
	"$(val "$ks1" 'gdoi_ks_members{group="other"}')" = 0
check "gdoi-ks: one Phase 1 SA, one Phase 1 established" test "$(val "$ks1" gdoi_ks_phase1_sas)" = 1 -a \
	"$(val "$ks1" gdoi_ks_phase1_established_total)" -ge 1
age=$(val "$ks1" 'gdoi_ks_tek_age_seconds{group="media"}')
next=$(val "$ks1" 'gdoi_ks_next_rekey_seconds{group="media"}')
check "gdoi-ks: TEK age ($age s) and next rekey ($next s) within the 3600 s lifetime" \
	test "$age" -ge 0 -a "$age" -lt 600 -a "$next" -gt 0 -a "$next" -le 3600
kage=$(val "$ks1" 'gdoi_ks_kek_age_seconds{group="media"}')
check "gdoi-ks: the KEK age ($kage s) is there" test "$kage" -ge 0 -a "$kage" -lt 600
check "gdoi-ks: engine counters (datagrams > 0, flood limits 0)" test "$(val "$ks1" gdoi_ks_datagrams_total)" -gt 0 -a \
	"$(val "$ks1" 'gdoi_ks_flood_limited_total{limit="junk"}')" = 0
check "gdoi-sidecar: registrations_total media = 1, refused other >= 1" \
	test "$(val "$sc1" 'gdoi_sidecar_registrations_total{group="media"}')" = 1 -a \
	"$(val "$sc1" 'gdoi_sidecar_registrations_refused_total{group="other"}')" -ge 1
check "gdoi-sidecar: registered media = 1, other = 0" test "$(val "$sc1" 'gdoi_sidecar_registered{group="other"}')" = 0
lt=$(val "$sc1" 'gdoi_sidecar_live_teks{group="media"}')
te=$(val "$sc1" 'gdoi_sidecar_tek_expiry_seconds{group="media"}')
check "gdoi-sidecar: $lt live TEK(s), last expires in $te s (<= 3600)" test "$lt" -ge 1 -a "$te" -gt 0 -a "$te" -le 3600

# a rekey: one push sent, applied by the sidecar
push0=$(val "$ks1" 'gdoi_ks_pushes_total{group="media"}')
uni0=$(val "$ks1" 'gdoi_ks_push_datagrams_total{group="media",transport="unicast"}')
app0=$(val "$sc1" 'gdoi_sidecar_pushes_applied_total{group="media"}')
seq0=$(val "$sc1" 'gdoi_sidecar_seq{group="media"}')
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null || notok "gdoictl rekey media"
applied() { [ "$(val "$(scrape "$scm")" 'gdoi_sidecar_pushes_applied_total{group="media"}')" -gt "$app0" ]; }
stack_wait 10 applied
ks2=$(scrape "$ksm")
sc2=$(scrape "$scm")
check "gdoi-ks: pushes_total media +1 ($push0 -> $(val "$ks2" 'gdoi_ks_pushes_total{group="media"}'))" \
	test "$(val "$ks2" 'gdoi_ks_pushes_total{group="media"}')" = $((push0 + 1))
check "gdoi-ks: one more unicast push datagram (to the one member)" \
	test "$(val "$ks2" 'gdoi_ks_push_datagrams_total{group="media",transport="unicast"}')" = $((uni0 + 1))
n2=$(val "$ks2" 'gdoi_ks_next_rekey_seconds{group="media"}')
check "gdoi-ks: next rekey ($n2 s) is a lifetime away after the rekey, not the old TEKs' end" \
	test "$n2" -gt 3000 -a "$n2" -le 3600
check "gdoi-ks: SEQ gauge follows the push" test "$(val "$ks2" 'gdoi_ks_seq{group="media"}')" -gt "$seq0"
check "gdoi-sidecar: pushes_applied_total media +1, SEQ as the key server's" \
	test "$(val "$sc2" 'gdoi_sidecar_pushes_applied_total{group="media"}')" = $((app0 + 1)) -a \
	"$(val "$sc2" 'gdoi_sidecar_seq{group="media"}')" = "$(val "$ks2" 'gdoi_ks_seq{group="media"}')"
check "gdoi-sidecar: no push refused, no duplicate" test "$(val "$sc2" 'gdoi_sidecar_pushes_duplicate_total{group="media"}')" = 0 -a \
	-z "$(grep '^gdoi_sidecar_pushes_refused_total{' <<<"$sc2")"
promcheck "promtool check metrics: both pages after the rekey" "$ks2
$sc2"

# gdoictl prints the page
out=$("$CTL" metrics "127.0.0.1:$ksm")
check "gdoictl metrics ADDR:PORT prints the gdoi-ks page" grep -q '^gdoi_ks_pushes_total{group="media"} ' <<<"$out"
out=$("$CTL" metrics --url "http://127.0.0.1:$scm/metrics")
check "gdoictl metrics --url prints the gdoi-sidecar page" grep -q '^gdoi_sidecar_registered{group="media"} 1$' <<<"$out"
out=$("$CTL" --metrics "127.0.0.1:$scm")
check "gdoictl --metrics ADDR:PORT prints it too" grep -q '^gdoi_sidecar_info{' <<<"$out"
"$CTL" metrics "127.0.0.1:$scm" extra >/dev/null 2>&1
check "gdoictl metrics with two targets is a usage error (2)" test $? = 2
"$CTL" metrics "http://127.0.0.1:$scm/nothing" >/dev/null 2>&1
check "gdoictl metrics of a 404 path exits 3" test $? = 3

# bad requests: answered, and the daemons keep serving
cat >"$tmp/http.py" <<'PY'
import socket, sys
port, what = int(sys.argv[1]), sys.argv[2]
reqs = {
    "garbage": b"GARBAGE\r\n\r\n",
    "badversion": b"GET /metrics HTTP/2.0\r\n\r\n",
    "badheader": b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
    "oversized": b"GET /metrics HTTP/1.1\r\nX-Fill: " + b"a" * 8192 + b"\r\n\r\n",
    "post": b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "path": b"GET /secret HTTP/1.1\r\n\r\n",
    "head": b"HEAD /metrics HTTP/1.0\r\n\r\n",
    "bare_lf": b"GET /metrics?x=1 HTTP/1.0\n\n",
}
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(reqs[what])
data = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        print("reset"); break
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(errors="replace"), len(body))
PY
http() { python3 "$tmp/http.py" "$@" 2>&1; }
for p in "$ksm" "$scm"; do
	out=$(http "$p" garbage); check "port $p: a malformed request line gets 400 ($out)" grep -q '^HTTP/1.1 400 ' <<<"$out"
	out=$(http "$p" badversion); check "port $p: HTTP/2.0 gets 400" grep -q '^HTTP/1.1 400 ' <<<"$out"
	out=$(http "$p" badheader); check "port $p: a header line without a colon gets 400" grep -q '^HTTP/1.1 400 ' <<<"$out"
	out=$(http "$p" oversized); check "port $p: a request head over 4096 octets gets 400 ($out)" grep -q '^HTTP/1.1 400 ' <<<"$out"
	out=$(http "$p" post); check "port $p: POST gets 405" grep -q '^HTTP/1.1 405 ' <<<"$out"
	out=$(http "$p" path); check "port $p: another path gets 404" grep -q '^HTTP/1.1 404 ' <<<"$out"
	out=$(http "$p" head); check "port $p: HEAD /metrics gets 200 and no body" grep -q '^HTTP/1.1 200 OK 0$' <<<"$out"
	out=$(http "$p" bare_lf); check "port $p: GET /metrics?query with bare LFs gets 200 and the page" \
		grep -Eq '^HTTP/1.1 200 OK [1-9][0-9]*$' <<<"$out"
	check "port $p: still serving /metrics after the bad requests" bash -c "curl -sSf --max-time 5 http://127.0.0.1:$p/metrics | grep -q _info"
done

# a request head that never completes is closed after 5 s
cat >"$tmp/slow.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=9)
s.sendall(b"GET /metr")
t = time.monotonic()
try:
    r = s.recv(1)
except socket.timeout:
    r = b"timeout"
print("closed %.0f" % (time.monotonic() - t) if r == b"" else "open")
PY
out=$(python3 "$tmp/slow.py" "$scm" 2>&1)
check "gdoi-sidecar closes a request head still incomplete after 5 s ($out)" grep -Eq '^closed [4-7]$' <<<"$out"

# the connection cap: 16 idle connections held, the 17th is closed at once, then scrapes work again
cat >"$tmp/cap.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port), timeout=3)
try:
    print("closed" if extra.recv(1) == b"" else "open")
except (ConnectionResetError, socket.timeout) as e:
    print("reset" if isinstance(e, ConnectionResetError) else "open")
for s in held:
    s.close()
PY
out=$(python3 "$tmp/cap.py" "$ksm" 2>&1)
check "gdoi-ks: a 17th connection is closed while 16 are open ($out)" test "$out" = closed -o "$out" = reset
check "gdoi-ks: serving again once they are gone" stack_wait 5 bash -c "curl -sSf --max-time 2 http://127.0.0.1:$ksm/metrics | grep -q _info"
check "gdoi-ks is still running after all of it" kill -0 "$KS_PID"
check "gdoi-sidecar is still running after all of it" kill -0 "$SC_PID"

# off by default: the TCP listening sockets of a process
listening() { # PID -> how many LISTEN sockets it holds
	python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        t = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
n = 0
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).read().splitlines()[1:]:
        c = line.split()
        if c[3] == "0A" and c[9] in inodes:
            n += 1
print(n)
PY
}
check "gdoi-ks with metrics holds one TCP listening socket" test "$(listening "$KS_PID")" = 1
port2=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s/ks2-state\nadmin_socket = %s/ks2.sock\n\n[group g]\nid = 7\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.7:5004\n' \
	"$port2" "$tmp" "$tmp" >"$tmp/ks2.conf")
"$BIN/gdoi-ks" -c "$tmp/ks2.conf" >"$tmp/ks2.log" 2>&1 &
ks2pid=$!
stack_pids+=("$ks2pid")
if stack_wait 10 test -S "$tmp/ks2.sock"; then
	check "gdoi-ks without metrics holds no TCP listening socket" test "$(listening "$ks2pid")" = 0
	check "gdoi-ks without metrics says so" grep -q 'metrics off' "$tmp/ks2.log"
else
	notok "a second gdoi-ks without metrics starts"
fi
kill -TERM "$ks2pid" 2>/dev/null
wait "$ks2pid" 2>/dev/null

# configuration errors
(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nmetrics = 0.0.0.0:9848\n' "$port2" >"$tmp/bad1.conf")
out=$("$BIN/gdoi-ks" -c "$tmp/bad1.conf" 2>&1); rc=$?
check "gdoi-ks refuses metrics on 0.0.0.0 (exit 2, file:line)" bash -c "[ $rc = 2 ] && grep -q 'bad1.conf:3: metrics: expected a loopback' <<<'$out'"
(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nmetrics = 127.0.0.1:1\nmetrics = 127.0.0.1:2\n' "$port2" >"$tmp/bad2.conf")
out=$("$BIN/gdoi-ks" -c "$tmp/bad2.conf" 2>&1); rc=$?
check "gdoi-ks refuses metrics given twice" bash -c "[ $rc = 2 ] && grep -q 'bad2.conf:4: metrics given twice (first at line 3)' <<<'$out'"
(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nidentity = fqdn:x\npsk = k\nmetrics = 192.0.2.1:9848\n' "$port2" >"$tmp/bad3.conf")
out=$("$BIN/gdoi-sidecar" -c "$tmp/bad3.conf" 2>&1); rc=$?
check "gdoi-sidecar refuses metrics on a non-loopback address (file:line)" \
	bash -c "[ $rc != 0 ] && grep -q 'bad3.conf:5: metrics: expected a loopback' <<<'$out'"
(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s/ks3-state\nadmin_socket = %s/ks3.sock\nmetrics = 127.0.0.1:%s\n%s' \
	"$port2" "$tmp" "$tmp" "$ksm" "$(sed -n '/^\[group/,$p' "$tmp/ks2.conf")" >"$tmp/ks3.conf")
out=$(timeout 10 "$BIN/gdoi-ks" -c "$tmp/ks3.conf" 2>&1); rc=$?
check "gdoi-ks exits 1 when the metrics port is taken, naming it" \
	bash -c "[ $rc = 1 ] && grep -q 'metrics: cannot listen on TCP 127.0.0.1:$ksm' <<<'$out'"

# a sample for the record
echo "# gdoi-ks sample:"
grep -E '^gdoi_ks_(registrations_total|pushes_total|members|next_rekey_seconds)\{group="media"' <<<"$ks2" | sed 's/^/#   /'
echo "# gdoi-sidecar sample:"
grep -E '^gdoi_sidecar_(registrations_total|pushes_applied_total|live_teks|tek_expiry_seconds)\{group="media"' <<<"$sc2" | sed 's/^/#   /'
tap_plan_end
