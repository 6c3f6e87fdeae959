#!/usr/bin/env bash
# Members whose keys are about to expire retry quickly (docs/sidecar.md,
# "Near expiry"). A real gdoi-ks (TEK lifetime 40 s, no KEK: only a
# re-registration renews keys) and three gdoi-sidecars on loopback. Once they
# hold keys, the key server is stopped (SIGSTOP) for about 20 s, the outage
# ending 2 s before the members' TEK expires (SIGCONT; later only when a member
# has not yet given up its first try, which the key server would still answer).
# Each member's IPC subscription records when its snapshot had no TEK; the
# longest such gap must be 0. retry_min = 10 s stands for the backoff a longer
# outage grows to.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar

members=3
ks_conf="[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 127.0.0.1:5004
tek_lifetime = 40
rekey_margin = 30
atd = 1
dtd = 2
kek = none"
for i in $(seq 1 $members); do
	ks_conf+="

[member m$i]
id = fqdn:m$i.example
psk = $psk
groups = media"
done
stack_ks_start "$ks_conf" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; stack_logs; exit 1; }

# sidecar I: its own configuration, socket and log under $tmp/m$I
sc_pids=()
for i in $(seq 1 $members); do
	mkdir -p "$tmp/m$i" && chmod 0755 "$tmp/m$i"
	(umask 077; cat >"$tmp/m$i/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:$port
socket = $tmp/m$i/run/sidecar.sock
identity = fqdn:m$i.example
psk = $psk
retry_min = 10000
retry_max = 60000
retransmit = 50

[group media]
id = 1234
allow = uid:$(id -u)
CONF
	)
	"$BIN/gdoi-sidecar" -c "$tmp/m$i/sidecar.conf" -v >"$tmp/m$i/sidecar.log" 2>&1 &
	sc_pids+=($!)
	stack_pids+=($!)
done

# watch SOCK OUT: subscribes and writes "MONOTONIC_S NTEKS MIN_NOT_AFTER" per snapshot
watch() {
	python3 - "$1" "$2" <<'PY' &
import calendar, json, socket, sys, time
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
s.sendall(b'{"op":"subscribe","group":"media","id":1}\n')
buf = b""
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = json.loads(line)
            snap = m.get("snapshot")
            if snap is None:
                continue
            teks = snap.get("teks", [])
            na = [calendar.timegm(time.strptime(t["not_after"], "%Y-%m-%dT%H:%M:%SZ")) for t in teks]
            out.write("%.3f %d %d\n" % (time.time(), len(teks), max(na) if na else 0))
PY
	stack_pids+=($!)
}
for i in $(seq 1 $members); do
	stack_wait 10 test -S "$tmp/m$i/run/sidecar.sock"
	watch "$tmp/m$i/run/sidecar.sock" "$tmp/m$i/events"
done

have_keys() { local i; for i in $(seq 1 $members); do awk '$2 > 0 { f = 1 } END { exit !f }' "$tmp/m$i/events" || return 1; done; }
if stack_wait 15 have_keys; then ok "all $members members registered and hold a TEK"; else notok "all $members members registered"; stack_logs; fi

# the earliest expiry among the members (Unix seconds)
expiry=$(awk '$2 > 0 && (!e || $3 < e) { e = $3 } END { print e + 0 }' "$tmp"/m*/events)
now=$(date +%s.%N)
stop_in=$(python3 -c "print(max(0.0, $expiry - 22 - $now))")
echo "# TEKs expire at $expiry (in $(python3 -c "print(round($expiry - $now, 1))") s): key server stops in $stop_in s for 20 s"
sleep "$stop_in"
kill -STOP "$KS_PID"
stopped_lines=()
for i in $(seq 1 $members); do stopped_lines+=("$(wc -l <"$tmp/m$i/sidecar.log")"); done
sleep 20
gave_up() { local i; for i in $(seq 1 $members); do tail -n +"${stopped_lines[i - 1]}" "$tmp/m$i/sidecar.log" | grep -q 'registration with .* failed' || return 1; done; }
for _ in $(seq 1 10); do gave_up && break; sleep 0.1; done
kill -CONT "$KS_PID"
t_cont=$(date +%s.%N)
# until every member renewed and the old TEKs' expiry is 2 s past (an empty snapshot
# would show by then), at most 8 s
renewed() { local i; for i in $(seq 1 $members); do [ "$(tail -1 "$tmp/m$i/events" | awk '{print $3}')" -gt "$expiry" ] || return 1; done; }
past_expiry() { python3 -c "import sys, time; sys.exit(0 if time.time() >= $expiry + 2 else 1)"; }
for _ in $(seq 1 80); do renewed && past_expiry && break; sleep 0.1; done

# gap: the longest stretch, after the first keys, in which a member's snapshot held no TEK
# (still empty at the end counts up to the end)
end=$(date +%s.%N)
worst=0
for i in $(seq 1 $members); do
	g=$(awk -v end="$end" '$2 > 0 { have = 1; if (empty) { d = $1 - since; if (d > w) w = d; empty = 0 } }
		$2 == 0 && have && !empty { empty = 1; since = $1 }
		END { if (empty) { d = end - since; if (d > w) w = d } printf "%.3f\n", w + 0 }' "$tmp/m$i/events")
	echo "# member m$i: longest time without a valid TEK $g s"
	worst=$(python3 -c "print(max($worst, $g))")
done
echo "# worst gap without a valid TEK over $members members: $worst s (outage ended $(python3 -c "print(round($expiry - $t_cont, 1))") s before expiry)"
check "every member renewed its keys after the outage" renewed
check "no member was without a valid TEK (worst gap $worst s)" python3 -c "import sys; sys.exit(0 if $worst == 0 else 1)"
if [ "$tap_fail" -ne 0 ]; then for i in $(seq 1 $members); do tail -n 12 "$tmp/m$i/sidecar.log" | sed "s/^/# m$i: /"; done; fi
tap_plan_end
