#!/usr/bin/env bash
# keyserver_pg_hung.sh - gdoi-ks on a PostgreSQL that stops answering while its
# sessions stay up (the backends SIGSTOPped: what a server stuck on a failing disk
# looks like from outside; the kernel still acknowledges every packet, so neither
# TCP keepalives nor tcp_user_timeout ever fire):
#   - the key server's loop waits at most the statement deadline (3 s) once, and
#     answers gdoictl status throughout;
#   - it drops the hung sessions, makes new ones (the postmaster still answers), and
#     serves registrations again, and logs why (its leadership lock stays with
#     its own hung session, which no other key server can take over meanwhile);
#   - the backends resumed: the key server still leads, registrations are served.
# TAP.
set -u
. "$(dirname "$0")/lib/pg.sh"
PG_PORT=${PG_PORT_HUNG:-18557}
pg_ns "$@"
. "$(dirname "$0")/lib/ks.sh"
why=$(pg_usable) || tap_skip_all "$why"
stopped=
ks=
resume() { [ -n "$stopped" ] && kill -CONT $stopped 2>/dev/null; stopped=; }
trap 'resume; [ -n "$ks" ] && { kill -TERM $ks; wait $ks; }; pg_stop; cleanup' EXIT
pg_start -c fsync=off || tap_bail "PostgreSQL 15 starts in a temporary directory"

port=$(free_port)
pg_ks_conf "$port" "$tmp/ks.conf"
A_=(--id fqdn:alice.example --psk alice-secret)
"$KS" -c "$tmp/ks.conf" --admin-socket "$tmp/ks.sock" -v 2>>"$tmp/ks.log" &
ks=$!
for _ in $(seq 1 100); do [ -S "$tmp/ks.sock" ] && break; sleep 0.05; done
st() { timeout "${1:-10}" "$CTL" --socket "$tmp/ks.sock" --json status 2>/dev/null; }
leader() { jget "$(st)" 'd["groups"][0]["leader"]' 2>/dev/null; }
check "gdoi-ks runs on PostgreSQL and leads media" test "$(leader)" = true
served() { "$PROBE" --server 127.0.0.1:$port --timeout 3 "${A_[@]}" --group 1234 >/dev/null 2>>"$tmp/probe.err"; }
check "a registration is served" served

# both of its sessions' backends stop answering
stopped=$(pg_psql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'gdoi-ks pid $ks'" | tr '\n' ' ')
check "its two sessions' backends found ($stopped)" test "$(wc -w <<<"$stopped")" = 2
kill -STOP $stopped
klog=$(wc -l <"$tmp/ks.log")
# status every 0.25 s for 6 s: a leadership check (every 0.5 s) meets the hung session at once
worst=0 hung=0 t_end=$(( $(date +%s) + 6 ))
while [ "$(date +%s)" -lt $t_end ]; do
	t0=$(date +%s%N)
	st 10 >/dev/null || hung=$((hung + 1))
	t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $t -gt $worst ] && worst=$t
	sleep 0.25
done
echo "# backends stopped: slowest gdoictl status ${worst} ms, $hung unanswered within 10 s"
check "the loop waited at most one statement deadline (slowest status $worst ms <= 4000)" \
	bash -c '[ "$1" -le 4000 ] && [ "$2" = 0 ]' _ "$worst" "$hung"
check "the key server says why (a statement got no answer within the deadline)" \
	bash -c 'tail -n +$(($2 + 1)) "$1" | grep -q "state: postgresql: .*no answer within"' _ "$tmp/ks.log" "$klog"
t0=$(date +%s%N)
r=
for _ in $(seq 1 10); do
	r=$("$PROBE" --server 127.0.0.1:$port --timeout 3 "${A_[@]}" --group 1234 2>>"$tmp/probe.err") && break
	sleep 0.3
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "registrations are served again on new sessions while the old backends hang (${ms} ms)" test -n "$r"

resume
lead=
for _ in $(seq 1 40); do lead=$(leader); [ "$lead" = true ] && break; sleep 0.25; done
check "backends resumed: the key server leads media" test "$lead" = true
check "a registration is served after" served
kill -TERM $ks; wait $ks; rc=$?; ks=
check "gdoi-ks stopped cleanly (exit $rc), no sanitizer report" \
	bash -c '[ "$1" = 0 ] && ! grep -q "Sanitizer\|runtime error" "$2"' _ "$rc" "$tmp/ks.log"
tap_plan_end
