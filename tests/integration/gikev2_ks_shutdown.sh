#!/usr/bin/env bash
# gikev2_ks_shutdown.sh - gdoi-ks deletes its G-IKEv2 members' IKE SAs when it stops
# (docs/keyserver.md, "Shutdown"): on SIGTERM an INFORMATIONAL Delete (RFC 7296 §1.4.1)
# of each, best effort, no answer awaited. Two gdoi-ks on 127.0.0.1 (workers = 2: the
# IKE SAs are the workers' engines') and 127.0.0.2 (one engine) serve one g-ikev2
# group without a KEK (rekeys come over the IKE SA: a member without it has none).
# A sidecar registered with the first is told at once and registers with the second
# within 2 s, holding its keys throughout (its TEK lasts 10 minutes: no re-registration
# timer is involved; without the Delete it would not notice before then). The first
# started again, the second stopped: the sidecar goes back to the first. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
kport=${GDOI_TEST_PORT:-28810}

ks_start() {	# N WORKERS: gdoi-ks on 127.0.0.N:$kport, state and log under $tmp/ksN
	mkdir -p "$tmp/ks$1"
	(umask 077; cat >"$tmp/ks$1/ks.conf" <<CONF
[server]
listen = 127.0.0.$1:$kport
state = $tmp/ks$1/state
admin_socket = $tmp/ks$1/admin.sock
workers = $2

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 127.0.0.1:5004
tek_lifetime = 600
kek = none
protocols = g-ikev2

[member b]
id = fqdn:b.example
psk = $psk
groups = media
CONF
	)
	rm -f "$tmp/ks$1/admin.sock"
	"$BIN/gdoi-ks" -c "$tmp/ks$1/ks.conf" -v >>"$tmp/ks$1/ks.log" 2>&1 &
	eval "KS$1_PID=$!"
	stack_pids+=("$!")
	stack_wait 10 test -S "$tmp/ks$1/admin.sock"
}
# ks_stop N: SIGTERM, and the seconds it took to exit into $stop_s
ks_stop() {
	local pid
	eval "pid=\$KS$1_PID"
	t_stop=$(date +%s.%N)
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	ks_rc=$?
	stop_s=$(python3 -c "import time; print('%.2f' % (time.time() - $t_stop))")
}
since_stop() { python3 -c "import time; print('%.1f' % (time.time() - $t_stop))"; }

ks_start 1 2 || tap_bail "the first gdoi-ks (workers = 2) starts"
ks_start 2 1 || tap_bail "the second gdoi-ks starts"
stack_gikev2_sc_two sc b
SCL=$tmp/sc/sidecar.log
keys() { "$CTL" --sidecar "$tmp/sc/run/sidecar.sock" get media --format json 2>/dev/null | grep -q '"teks"'; }
regs_with() { grep -c "registered with 127.0.0.$1:$kport" "$SCL"; }
tap_diag() {
	for f in "$tmp"/ks1/ks.log "$tmp"/ks2/ks.log "$SCL"; do
		echo "# --- $f"; tail -n 8 "$f" | sed 's/^/#   /'
	done
}

check "the sidecar registered with the first key server" stack_wait 10 grep -q "registered with 127.0.0.1:$kport" "$SCL"
check "the first key server kept its IKE SA in a worker's engine" \
	grep -q "member b .* registered by G-IKEv2 GSA_AUTH" "$tmp/ks1/ks.log"
l0=$(wc -l <"$SCL")
ks_stop 1
check "SIGTERM: the first key server sent the Delete of 1 IKE SA and exited 0 in $stop_s s (< 2 s)" \
	eval 'grep -q "shutdown: INFORMATIONAL Delete sent for 1 G-IKEv2 IKE SA(s)$" "$tmp/ks1/ks.log" &&
		[ "$ks_rc" -eq 0 ] && python3 -c "import sys; sys.exit(0 if $stop_s < 2 else 1)"'
check "the sidecar logged the Delete of its IKE SA" \
	stack_wait 2 eval 'tail -n +$((l0 + 1)) "$SCL" | grep -q "the GCKS deleted the IKE SA: registering again, with the next key server"'
check "its failover line says why it moves (the key server deleted the IKE SA), not that registration failed" \
	stack_wait 2 eval 'tail -n +$((l0 + 1)) "$SCL" | grep -q "group media: G-IKEv2: key server 127.0.0.1:$kport deleted the IKE SA (INFORMATIONAL Delete); next try with 127.0.0.2:$kport in " &&
		! tail -n +$((l0 + 1)) "$SCL" | grep -q "registration with 127.0.0.1:$kport failed"'
if stack_wait 2 grep -q "registered with 127.0.0.2:$kport" "$SCL"; then
	ok "and registered with the second key server $(since_stop) s after the SIGTERM (<= 2 s)"
else
	notok "the sidecar registered with the second key server within 2 s"; tap_diag
fi
check "the sidecar held keys throughout (no snapshot without TEKs)" \
	eval 'keys && ! grep -q "snapshot version [0-9]*: 0 TEK" "$SCL"'

ks_start 1 2 || notok "the first gdoi-ks starts again"
l0=$(wc -l <"$SCL") n1=$(regs_with 1)
ks_stop 2
check "SIGTERM: the second key server (one engine) sent the Delete too, exited 0 in $stop_s s" \
	eval 'grep -q "shutdown: INFORMATIONAL Delete sent for 1 G-IKEv2 IKE SA(s)$" "$tmp/ks2/ks.log" && [ "$ks_rc" -eq 0 ]'
back() { [ "$(regs_with 1)" -gt "$n1" ]; }
if stack_wait 3 back; then
	ok "the sidecar went back to the first key server $(since_stop) s after the SIGTERM (<= 3 s)"
else
	notok "the sidecar went back to the first key server within 3 s"; tap_diag
fi
check "and holds keys" keys
check "no sanitizer report" bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp'/ks*/ks.log '$SCL'"
tap_plan_end
