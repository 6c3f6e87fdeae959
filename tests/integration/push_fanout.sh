#!/usr/bin/env bash
# push_fanout.sh - a unicast GROUPKEY-PUSH to 2000 members reaches each member
# exactly once. gdoi-ks sends a fan-out in sendmmsg batches of 64 from one copy
# of the push (keyserver/udp_batch.c): a batch cut short, a partial send resumed
# from the wrong place, or the backlog losing or repeating destinations shows
# as a member without the push or with a duplicate (push_retransmits = 0: one
# send each, so any second copy is the sender's fault).
#   (a) the kernel's default send buffer;
#   (b) send_buffer = 4096 and, during the push only, a tbf qdisc on lo (20 Mbit/s,
#       in this private network namespace): datagrams wait in the qdisc charged to
#       the key server's socket, whose 8 KiB fill after a few; sendmmsg then
#       returns a partial count and EAGAIN, the rest waits in the backlog and goes
#       out from the retry timer (gdoi_ks_udp_send_deferred_total > 0 proves that
#       path ran; gdoi_ks_udp_send_failed_total stays 0: nothing was given up).
# Members: bench/reg-load --hold, one socket and policy each, address-bound keys.
set -u
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/ks.sh"
LOAD=$B/bench/reg-load
[ -x "$LOAD" ] || tap_skip_all "$LOAD not built (make test-bins)"

N=${FANOUT_N:-2000}
port=29500 mport=29501
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
log=$tmp/ks.log
# conf FILE [SERVER-LINE]
conf() {
	{
		printf '[server]\nlisten = 127.0.0.1:%s\nmetrics = 127.0.0.1:%s\n%s\n\n' "$port" "$mport" "${2:-}"
		printf '[group fan]\nid = 1201\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\n'
		printf 'kek = aes128\nrekey_unicast = yes\npush_retransmits = 0\n\n'
		python3 "$top/bench/members.py" "$N" "$psk" | sed 's/^groups = bench$/groups = fan/'
	} >"$1"
}
metric() { python3 - "$mport" "$1" <<'PY'
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
for line in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode().splitlines():
    if line.startswith(name + " "):
        print(int(float(line.split()[1]))); break
else:
    print(-1)
PY
}
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1] or "{}"); print(eval(sys.argv[2]))' "$1" "$2"; }
tap_diag() { echo "# ks.log:"; grep -v "registered from" "$log" | tail -5 | sed 's/^/#   /'; }

# fan NAME [TRIGGER-PREFIX...]: N members register, one rekey; sets $out
fan() {
	local name=$1
	shift
	out=$(timeout 300 "$LOAD" --server "127.0.0.1:$port" --psk "$psk" --group 1201 --concurrency 32 \
		--count "$N" --first-ip 127.1.0.1 --seconds 240 --hold --push-wait 30 --settle 1 -- \
		"$@" "$CTL" --socket "$tmp/admin.sock" rekey fan 2>>"$tmp/load.err")
	local res=$?
	echo "# $name: $out"
	check "$name: $N members registered, every one took the push" \
		test $res -eq 0 -a "$(field "$out" "d.get('members'), d.get('applied')")" = "($N, $N)"
	check "$name: exactly one push each ($N taken, no duplicate, none refused)" \
		test "$(field "$out" "d.get('pushes_taken'), d.get('duplicates'), d.get('refused')")" = "($N, 0, 0)"
	check "$name: the key server logged the push to $N members" \
		grep -q "push SEQ .*unicast to $N member(s)" "$log"
}

conf "$tmp/a.conf"
check "gdoi-ks starts" ks_start "$tmp/a.conf" "$log"
fan "(a) default send buffer"
check "(a) no unicast datagram failed" test "$(metric gdoi_ks_udp_send_failed_total)" -eq 0
ks_stop

if tc qdisc add dev lo root tbf rate 20mbit burst 16k latency 20s 2>/dev/null &&
	tc qdisc del dev lo root 2>/dev/null; then
	: >"$log"
	conf "$tmp/b.conf" "send_buffer = 4096"
	check "gdoi-ks starts with send_buffer = 4096" ks_start "$tmp/b.conf" "$log"
	# the qdisc only while the push goes out: registrations run at loopback speed
	cat >"$tmp/slow.sh" <<'SH'
#!/bin/sh
tc qdisc add dev lo root tbf rate 20mbit burst 16k latency 20s || exit 1
exec "$@"
SH
	chmod +x "$tmp/slow.sh"
	fan "(b) 8 KiB send buffer behind a 20 Mbit/s qdisc" "$tmp/slow.sh"
	tc qdisc del dev lo root 2>/dev/null
	deferred=$(metric gdoi_ks_udp_send_deferred_total)
	echo "# (b) datagrams deferred for room: $deferred"
	check "(b) the kernel had no room for some (EAGAIN: partial sends, backlog)" test "$deferred" -gt 0
	check "(b) none given up" test "$(metric gdoi_ks_udp_send_failed_total)" -eq 0
	check "gdoi-ks exits cleanly" ks_stop
else
	skip "(b) tiny send buffer: no tbf qdisc here (tc, sch_tbf)"
fi
tap_plan_end
