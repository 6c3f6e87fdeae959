#!/usr/bin/env bash
# gikev2_failover.sh - G-IKEv2 failover between configured key servers (docs/sidecar.md,
# "Behaviour"): two gdoi-ks on 127.0.0.1 and 127.0.0.2 serving one g-ikev2 group (TEK
# lifetime 12 s, no KEK: only re-registration renews keys). Sidecar B registers with
# the first; the first is killed (SIGKILL: no Delete, no answer); B's GSA_REGISTRATION
# at re-registration time goes unanswered and it registers with the second before its
# TEK's not_after. Sidecar A, started with the first already dead, registers with the
# second within 4 s (4 unanswered IKE_SA_INIT transmissions, 50+100+200+400 ms). On
# SIGTERM each sidecar deletes its IKE SA: the key server logs the Delete. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
kport=${GDOI_TEST_PORT:-$port}

ks_start() {	# N: gdoi-ks on 127.0.0.N:$kport, state and log under $tmp/ksN
	mkdir -p "$tmp/ks$1"
	(umask 077; cat >"$tmp/ks$1/ks.conf" <<CONF
[server]
listen = 127.0.0.$1:$kport
state = $tmp/ks$1/state
admin_socket = $tmp/ks$1/admin.sock

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 127.0.0.1:5004
tek_lifetime = 12
rekey_margin = 4
atd = 1
dtd = 2
kek = none
protocols = g-ikev2

[member a]
id = fqdn:a.example
psk = $psk
groups = media

[member b]
id = fqdn:b.example
psk = $psk
groups = media
CONF
	)
	"$BIN/gdoi-ks" -c "$tmp/ks$1/ks.conf" -v >"$tmp/ks$1/ks.log" 2>&1 &
	eval "KS$1_PID=$!"
	stack_pids+=("$!")
	stack_wait 10 test -S "$tmp/ks$1/admin.sock"
}

sc_start() {	# NAME ID: a sidecar (identity fqdn:ID.example) with both key servers, the first first
	stack_gikev2_sc_two "$1" "$2"
	eval "SC_$1_PID=$SC_LAST_PID"
}

ks_start 1 || { echo "1..1"; echo "not ok 1 - the first gdoi-ks did not start"; exit 1; }
ks_start 2 || { echo "1..1"; echo "not ok 1 - the second gdoi-ks did not start"; exit 1; }
sc_start B b
check "sidecar B registered with the first key server" \
	stack_wait 10 grep -q "registered with 127.0.0.1:$kport" "$tmp/B/sidecar.log"
not_after=$("$CTL" --sidecar "$tmp/B/run/sidecar.sock" get media --format json 2>/dev/null |
	python3 -c 'import calendar, json, sys, time
teks = json.load(sys.stdin)["teks"]
print(max(calendar.timegm(time.strptime(t["not_after"], "%Y-%m-%dT%H:%M:%SZ")) for t in teks))' 2>/dev/null)
check "sidecar B holds a TEK ($not_after)" test -n "$not_after"
kill -KILL "$KS1_PID"
wait "$KS1_PID" 2>/dev/null

t0=$(date +%s.%N)
sc_start A a
if stack_wait 8 grep -q "registered with 127.0.0.2:$kport" "$tmp/A/sidecar.log"; then
	dt=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
	check "sidecar A, the first key server dead, registered with the second in ${dt} s (<= 4 s)" \
		python3 -c "import sys; sys.exit(0 if $dt <= 4 else 1)"
else
	notok "sidecar A registered with the second key server"
fi
check "A logged the failover to the second key server" \
	grep -q "registration with 127.0.0.1:$kport failed; next try with 127.0.0.2:$kport in 0.0 s" "$tmp/A/sidecar.log"

# B: its GSA_REGISTRATION (at not_after - 2 s) unanswered, then GSA_AUTH with the second
if stack_wait 20 grep -q "registered with 127.0.0.2:$kport" "$tmp/B/sidecar.log"; then
	now=$(date +%s)
	check "sidecar B re-registered with the second key server before its TEK expired ($now < $not_after)" \
		test "$now" -lt "${not_after:-0}"
else
	notok "sidecar B re-registered with the second key server"
fi
check "sidecar B held a valid TEK throughout (no snapshot without TEKs)" \
	eval '! grep -q "snapshot version [0-9]*: 0 TEK" "$tmp/B/sidecar.log"'
check "the second key server logged both registrations" \
	test "$(grep -c 'registered by G-IKEv2 GSA_AUTH' "$tmp/ks2/ks.log")" -ge 2

# clean shutdown: the IKE SA deleted, the key server told at once
kill -TERM "$SC_A_PID"
wait "$SC_A_PID" 2>/dev/null
check "on SIGTERM the sidecar deleted its IKE SA (the key server logged the Delete)" \
	stack_wait 3 grep -q "deleted its IKE SA" "$tmp/ks2/ks.log"
if [ "$tap_fail" -ne 0 ]; then
	for f in "$tmp"/ks1/ks.log "$tmp"/ks2/ks.log "$tmp"/A/sidecar.log "$tmp"/B/sidecar.log; do
		echo "# --- $f"; tail -n 15 "$f" | sed 's/^/# /'
	done
fi
tap_plan_end
