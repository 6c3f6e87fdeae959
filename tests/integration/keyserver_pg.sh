#!/usr/bin/env bash
# keyserver_pg.sh - the PostgreSQL state backend against a real PostgreSQL 15 started
# here (lib/pg.sh: a temporary cluster run by the postgres user, in a private mount
# namespace with a usable /dev/null) and torn down after:
#   - the ks_state contract (tests/unit/test_ks_state.c) on PostgreSQL, with the tests
#     only a shared database has (SSRCs unique across two state handles, SEQ never
#     lowered by another's record, one leader per group moving when its session ends,
#     change notices);
#   - two gdoi-ks on one database: one rekey leader per group (gdoictl status --json),
#     members registered through either get the same keys and distinct SSRCs; kill -9
#     of the leader during a rekey burst: the other leads within the bound, SEQ keeps
#     increasing; the database restarted (fast, immediate): the key servers reconnect
#     and SEQ is never reused;
#   - gdoictl rekey and evict on the follower: queued in the database, carried out by
#     the leader (members get the push, the evicted one nothing);
#   - the database stopped: registrations refused with Notify UNAVAILABLE, a sidecar
#     fails over to its next key server, the outage logged once, the loop never waits
#     for a reconnection (a port that accepts and never answers).
# TAP.
set -u
. "$(dirname "$0")/lib/pg.sh"
pg_ns "$@"
. "$(dirname "$0")/lib/ks.sh"
why=$(pg_usable) || tap_skip_all "$why"
UNIT=$B/tests/test_ks_state
trap 'pg_stop; cleanup' EXIT
pg_start -c fsync=off || tap_bail "PostgreSQL 15 starts in a temporary directory"
ok "PostgreSQL 15 runs as $PG_USER in $PG_DIR"

out=$(GDOI_PG_CONNINFO=$PG_CONNINFO "$UNIT" 2>&1)
rc=$?
tap_diag() { echo "$out" | sed 's/^/# /' | tail -30; }
check "the ks_state contract holds on PostgreSQL" [ $rc = 0 ]
check "and the shared-database tests ran (not skipped)" \
	bash -c '! grep -q "SKIPPED \] test_pg" <<<"$1" && grep -q "OK \] test_pg_one_leader" <<<"$1" && grep -q "OK \] test_pg_commands" <<<"$1"' _ "$out"
tap_diag() { :; }

[ -n "${PG_UNIT_ONLY:-}" ] && { tap_plan_end; exit; }
# --- two key servers on one database (a database of their own)
pg_psql -c "CREATE DATABASE ks" || notok "CREATE DATABASE ks"
PG_CONNINFO=${PG_CONNINFO/dbname=postgres/dbname=ks}
pA=$(free_port); pB=$(free_port)
write_conf() { pg_ks_conf "$@"; }
write_conf "$pA" "$tmp/a.conf"
write_conf "$pB" "$tmp/b.conf"
pidA= pidB= pidC= pidD= scp= blackp=
start() {	# start A|B|C|D: gdoi-ks with $tmp/a.conf ...
	local n=$1
	rm -f "$tmp/$n.sock"
	"$KS" -c "$tmp/${n,,}.conf" --admin-socket "$tmp/$n.sock" -v 2>>"$tmp/$n.log" &
	eval "pid$n=$!"
	for _ in $(seq 1 100); do [ -S "$tmp/$n.sock" ] && return 0; sleep 0.05; done
	return 1
}
trap 'for p in $pidA $pidB $pidC $pidD $scp $blackp; do kill -TERM $p 2>/dev/null; wait $p 2>/dev/null; done; pg_stop; cleanup' EXIT
st() { "$CTL" --socket "$tmp/$1.sock" --json status 2>/dev/null; }
leader() { jget "$(st "$1")" 'd["groups"][0]["leader"]' 2>/dev/null; }
check "gdoi-ks A starts on PostgreSQL" start A
check "gdoi-ks B starts on the same database" start B
check "A (first) is the rekey leader of media, B is not (gdoictl status --json)" \
	test "$(leader A) $(leader B)" = "true false"
check "B's status names the leader's session (leader_holder)" \
	bash -c 'grep -q "gdoi-ks pid '"$pidA"'" <<<"$1"' _ "$(jget "$(st B)" 'd["groups"][0]["leader_holder"]')"
check "gdoictl status text shows the leadership" \
	bash -c '"$1" --socket "$2" status | grep -q "rekey leader: no, held by gdoi-ks pid $3"' _ "$CTL" "$tmp/B.sock" "$pidA"
A_=(--id fqdn:alice.example --psk alice-secret)
B_=(--id fqdn:bob.example --psk bob-secret)
ra=$("$PROBE" --server 127.0.0.1:$pA --timeout 10 "${A_[@]}" --group 1234 --ssrcs 3 2>>"$tmp/probe.err")
rb=$("$PROBE" --server 127.0.0.1:$pB --timeout 10 "${A_[@]}" --group 1234 --ssrcs 3 2>>"$tmp/probe.err")
keys() { jget "$1" '[[t["spi"],t["key_fp"]] for t in d["teks"]]+[d["kek_fp"]]'; }
check "alice through A and through B gets the same TEKs and KEK" \
	bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$(keys "${ra:-null}")" "$(keys "${rb:-null}")"
check "her SSRCs through A and B are distinct (unique across key servers)" \
	test "$(python3 -c 'import json,sys; a=json.loads(sys.argv[1])["ssrcs"]; b=json.loads(sys.argv[2])["ssrcs"]; s=a+b; print(len(s)==6 and len(set(s))==6)' "${ra:-null}" "${rb:-null}")" = True
# --- gdoictl rekey on the follower: queued in the database, carried out by the leader
fport=$(free_port)
"$PROBE" --server 127.0.0.1:$pB --timeout 10 "${B_[@]}" --group 1234 --bind 127.0.0.1:$fport --pushes 1 \
	--push-timeout 10 >"$tmp/fw.out" 2>>"$tmp/probe.err" &
fwp=$!
for _ in $(seq 1 100); do [ -s "$tmp/fw.out" ] && break; sleep 0.05; done
t0=$(date +%s%N)
fr=$("$CTL" --socket "$tmp/B.sock" --json rekey media 2>>"$tmp/ctl.err")
wait "$fwp"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
fseq=$(jget "${fr:-null}" 'd.get("seq") if d else None')
pseq=$(sed -n 2p "$tmp/fw.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read() or "null")["seq"])' 2>/dev/null)
echo "# forwarded rekey: gdoictl on B answered and bob got the push ${ms} ms after the request"
check "gdoictl rekey on follower B: forwarded to A, carried out, SEQ $fseq in the reply ($ms ms)" \
	test "$(jget "${fr:-null}" '[d["forwarded"], d["done"], d["leader"].startswith("gdoi-ks pid '"$pidA"'")] if d else None')" = "[true, true, true]"
check "bob, registered through B, got the forwarded rekey's push (SEQ $pseq = $fseq) within 2 s" \
	bash -c '[ -n "$1" ] && [ "$1" = "$2" ] && [ "$3" -le 2000 ]' _ "$pseq" "$fseq" "$ms"
check "gdoictl text on the follower says forwarded and the SEQ" \
	bash -c '"$1" --socket "$2" rekey media | grep -q "forwarded to the rekey leader" && "$1" --socket "$2" rekey media | grep -q "carried out by the rekey leader, SEQ now"' _ "$CTL" "$tmp/B.sock"
# a rekey on A: B hands out the new keys at once (notice, and re-read at registration)
"$CTL" --socket "$tmp/A.sock" rekey media >/dev/null
rb2=$("$PROBE" --server 127.0.0.1:$pB --timeout 10 "${B_[@]}" --group 1234 2>>"$tmp/probe.err")
ka=$(keys "${ra:-null}"); kb=$(keys "${rb2:-null}")
seqa=$(jget "$(st A)" 'd["groups"][0]["seq"]')
check "after a rekey on A, bob through B gets A's new TEKs at once (and A's SEQ $seqa)" \
	bash -c '[ -n "$2" ] && [ "$1" != "$2" ] && [ "$3" = "$4" ]' _ "$ka" "$kb" "$(jget "${rb2:-null}" 'd["seq"]')" "$seqa"
for _ in $(seq 1 20); do grep -q "new keys from the rekey leader, SEQ $seqa\b" "$tmp/B.log" && break; sleep 0.1; done
check "follower B reloads the group on A's notice (SEQ $seqa within 2 s)" \
	grep -q "new keys from the rekey leader, SEQ $seqa\b" "$tmp/B.log"
# a command whose notice is lost (queued by hand, no NOTIFY): the leader finds it at its
# next leadership check, in the one statement that looks for all its groups' open commands
seq0=$(pg_psql -c "SELECT seq FROM groups WHERE gid=1234")
cid=$(pg_psql -c "INSERT INTO commands(gid, op, origin, created) VALUES(1234, 'rekey', 'keyserver_pg.sh', $(date +%s)) RETURNING id")
cdone=""
for _ in $(seq 1 40); do
	cdone=$(pg_psql -c "SELECT seq FROM commands WHERE id=${cid:-0} AND done IS NOT NULL")
	[ -n "$cdone" ] && break
	sleep 0.1
done
check "a command queued without a notice is carried out by the leader within 4 s (SEQ $seq0 -> ${cdone:-none})" \
	bash -c '[ -n "$2" ] && [ "$2" -gt "$1" ]' _ "${seq0:-0}" "$cdone"

# --- kill -9 of the leader during a rekey burst
rport=$(free_port)
"$PROBE" --server 127.0.0.1:$pB --timeout 10 "${B_[@]}" --group 1234 --bind 127.0.0.1:$rport --pushes 40 \
	--push-timeout 12 >"$tmp/bob.out" 2>>"$tmp/probe.err" &
bobp=$!
for _ in $(seq 1 100); do [ -s "$tmp/bob.out" ] && break; sleep 0.05; done
burst() { while :; do "$CTL" --socket "$tmp/A.sock" rekey media >/dev/null 2>&1; "$CTL" --socket "$tmp/B.sock" rekey media >/dev/null 2>&1; sleep 0.1; done; }
burst & burstp=$!
sleep 1
t0=$(date +%s%N)
kill -KILL "$pidA"; wait "$pidA" 2>/dev/null; pidA=
for _ in $(seq 1 100); do [ "$(leader B)" = true ] && break; sleep 0.02; done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# leader failover: B leads ${ms} ms after kill -9 of A"
echo "$ms" >"$tmp/failover_ms"
# bound: one leadership retry (0.5 s) after the lock is freed (at once: the socket closes with the process),
# plus the time to see it here (gdoictl under ASan on a shared machine)
check "B becomes the rekey leader within the bound (2000 ms; took $ms ms)" [ "$(leader B)" = true -a "$ms" -le 2000 ]
sleep 2
kill "$burstp" 2>/dev/null; wait "$burstp" 2>/dev/null
wait "$bobp"
seqs=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["seq"]) for l in open(sys.argv[1]) if "\"event\":\"push\"" in l))' "$tmp/bob.out")
echo "# SEQs bob received: $seqs"
check "bob received pushes from A and then from B (at least 5)" test "$(wc -w <<<"$seqs")" -ge 5
check "SEQ strictly increasing at bob across the failover" \
	python3 -c 'import sys; s=[int(x) for x in sys.argv[1:]]; sys.exit(0 if s and all(a<b for a,b in zip(s,s[1:])) else 1)' $seqs
check "B's pushes continue above A's last SEQ (database SEQ)" \
	test "$(pg_psql -c "SELECT seq FROM groups WHERE gid=1234")" -ge "$(wc -w <<<"$seqs")"

# --- the database restarted under load: reconnect, SEQ never reused
check "A restarts as a follower" start A
before=$(pg_psql -c "SELECT seq FROM groups WHERE gid=1234")
pg_restart fast
t0=$(date +%s%N)
rok=
for _ in $(seq 1 50); do
	for n in A B; do
		rok=$("$CTL" --socket "$tmp/$n.sock" --json rekey media 2>/dev/null) &&
			[ "$(jget "$rok" 'd.get("seq") is not None')" = true ] && break 2
	done
	sleep 0.1
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# first rekey after the database restart: ${ms} ms after it was up"
check "after pg_ctl restart -m fast, the key servers reconnect and the leader rekeys (SEQ $(jget "${rok:-null}" 'd.get("seq") if d else None') > $before, $ms ms)" \
	test "$(jget "${rok:-null}" 'd.get("seq", 0) if d else 0')" -gt "$before"
pg_restart immediate
sleep 0.3
for _ in $(seq 1 30); do r=$("$PROBE" --server 127.0.0.1:$pA --timeout 3 "${A_[@]}" --group 1234 2>>"$tmp/probe.err") && break; sleep 0.2; done
check "after -m immediate, A serves registrations again" test -n "${r:-}"
sleep 1
lb=$(leader B); la=$(leader A)
check "exactly one leader after the restarts (A $la, B $lb)" bash -c '[ "$1 $2" = "true false" ] || [ "$1 $2" = "false true" ]' _ "$la" "$lb"
L=B; [ "$la" = true ] && L=A
before=$(pg_psql -c "SELECT seq FROM groups WHERE gid=1234")
s1=$(jget "$("$CTL" --socket "$tmp/$L.sock" --json rekey media)" 'd["seq"]')
s2=$(pg_psql -c "SELECT seq FROM groups WHERE gid=1234")
check "the leader's next rekey takes a new SEQ ($s1 > $before, stored $s2)" bash -c '[ "$1" -gt "$2" ] && [ "$1" = "$3" ]' _ "$s1" "$before" "$s2"
# the follower's sessions were remade too: it still hears the leader's commits at once
F=A; [ $L = A ] && F=B
for _ in $(seq 1 20); do grep -q "new keys from the rekey leader, SEQ $s1\b" "$tmp/$F.log" && break; sleep 0.1; done
check "after the restarts the follower $F still reloads on the leader's notice (SEQ $s1 within 2 s)" \
	grep -q "new keys from the rekey leader, SEQ $s1\b" "$tmp/$F.log"

# --- the database unreachable: registrations refused (nothing is handed out that the
# state does not record) with Notify UNAVAILABLE (not AUTHENTICATION-FAILED: the member's
# credentials are fine), the key servers keep running and answer gdoictl, and a sidecar
# fails over to its next key server (C: SQLite state of its own).
# D reaches the database by TCP: once it is down, a listener that never answers takes
# its port, so every reconnection attempt hangs until connect_timeout; D's loop must not.
pC=$(free_port); pD=$(free_port)
write_conf "$pC" "$tmp/c.conf"
sed -i "s|^state = .*|state = $tmp/cstate|" "$tmp/c.conf"
write_conf "$pD" "$tmp/d.conf"
sed -i "s|^state = .*|state = postgresql:host=127.0.0.1 port=$PG_PORT user=gdoi dbname=ks|" "$tmp/d.conf"
check "gdoi-ks C starts (SQLite, a state of its own)" start C
check "gdoi-ks D starts (the database over TCP)" start D
alog=$(wc -l <"$tmp/A.log")
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
"$PROBE" --server 127.0.0.1:$pA --timeout 3 "${A_[@]}" --group 1234 >/dev/null 2>"$tmp/down.err"; rc=$?
check "database down: a registration is refused with Notify UNAVAILABLE, not AUTHENTICATION-FAILED (exit $rc: $(head -c 120 "$tmp/down.err"))" \
	bash -c '[ "$1" != 0 ] && grep -q "UNAVAILABLE" "$2" && ! grep -q "AUTHENTICATION-FAILED" "$2"' _ "$rc" "$tmp/down.err"
mkdir -p "$tmp/sc"
cat >"$tmp/sc/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:$pA, 127.0.0.1:$pC
identity = fqdn:bob.example
psk = bob-secret
local = 127.0.0.1:$(free_port)
socket = $tmp/sc/sidecar.sock
retry_min = 200
retry_max = 1000
retransmit = 300

[group media]
id = 1234
CONF
t0=$(date +%s%N)
"$B/bin/gdoi-sidecar" -c "$tmp/sc/sidecar.conf" -v 2>"$tmp/sc/sidecar.log" &
scp=$!
for _ in $(seq 1 200); do grep -q "): registered with" "$tmp/sc/sidecar.log" && break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# sidecar failover: registered with C ${ms} ms after its start (A refused: UNAVAILABLE)"
check "the sidecar logs A's refusal as \"cannot serve registrations now\" (UNAVAILABLE), not as an authentication failure" \
	bash -c 'grep -q "cannot serve registrations now (Notify UNAVAILABLE" "$1" && ! grep -qi "AUTHENTICATION" "$1"' _ "$tmp/sc/sidecar.log"
check "and fails over to its second key server C, where it registers ($ms ms)" \
	bash -c 'grep "): registered with" "$1" | grep -q ":$2"' _ "$tmp/sc/sidecar.log" "$pC"
kill "$scp" 2>/dev/null; wait "$scp" 2>/dev/null; scp=
# many registrations during the outage: the outage and the refusals are logged once, not per packet
for _ in 1 2 3 4 5 6; do "$PROBE" --server 127.0.0.1:$pA --timeout 2 "${A_[@]}" --group 1234 >/dev/null 2>&1; done
nconn=$(tail -n +$((alog + 1)) "$tmp/A.log" | grep -c "state: postgresql: .* session: \(lost\|cannot connect\|still\)")
nref=$(tail -n +$((alog + 1)) "$tmp/A.log" | grep -c "refused: .*UNAVAILABLE")
echo "# A's log during the outage: $nconn 'cannot connect' lines, $nref UNAVAILABLE refusal lines for 8 refused registrations"
check "A logged the outage once per session ($nconn lines, 2 sessions) and the refusals rate-limited ($nref lines for 8)" \
	bash -c '[ "$1" -ge 1 ] && [ "$1" -le 2 ] && [ "$2" -le 2 ]' _ "$nconn" "$nref"
# D: the database's port answers nothing now; D keeps trying to reconnect in the background
python3 -c 'import socket,time,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
c=[]
while True: c.append(s.accept()[0])' "$PG_PORT" & blackp=$!
sleep 0.3
worst=0
for _ in $(seq 1 10); do
	t0=$(date +%s%N); st D >/dev/null; t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $t -gt $worst ] && worst=$t
	"$PROBE" --server 127.0.0.1:$pD --timeout 2 "${B_[@]}" --group 1234 >/dev/null 2>>"$tmp/probe.err"
	sleep 0.1
done
echo "# D while its reconnections hang (connect_timeout 3 s): slowest gdoictl status of 10: ${worst} ms"
check "reconnection does not block the loop: D answers status within 1 s throughout (slowest $worst ms)" \
	test "$worst" -le 1000
kill "$blackp"; wait "$blackp" 2>/dev/null; blackp=
sleep 1	# a leadership check (0.5 s)
check "database down: no key server leads any more, both answer status" \
	test "$(leader A) $(leader B)" = "false false"
pg_ctl_start
r=
for _ in $(seq 1 20); do r=$("$PROBE" --server 127.0.0.1:$pA --timeout 3 "${A_[@]}" --group 1234 2>>"$tmp/probe.err") && break; sleep 0.2; done
check "database back: registrations served again" test -n "$r"

# --- gdoictl evict on the follower: the member is marked there, the leader rotates
sleep 1
L=B F=A; [ "$(leader A)" = true ] && L=A F=B
pF=$pA pL=$pB; [ $F = B ] && pF=$pB pL=$pA
eport=$(free_port); bport=$(free_port)
"$PROBE" --server 127.0.0.1:$pF --timeout 10 "${A_[@]}" --group 1234 --bind 127.0.0.1:$eport --pushes 1 \
	--push-timeout 4 >"$tmp/ea.out" 2>>"$tmp/probe.err" &
eap=$!
"$PROBE" --server 127.0.0.1:$pF --timeout 10 "${B_[@]}" --group 1234 --bind 127.0.0.1:$bport --pushes 3 \
	--push-timeout 10 >"$tmp/eb.out" 2>>"$tmp/probe.err" &
ebp=$!
for _ in $(seq 1 100); do [ -s "$tmp/ea.out" ] && [ -s "$tmp/eb.out" ] && break; sleep 0.05; done
t0=$(date +%s%N)
ev=$("$CTL" --socket "$tmp/$F.sock" --json evict alice 2>>"$tmp/ctl.err")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# forwarded eviction: gdoictl on $F answered ${ms} ms after the request"
check "gdoictl evict alice on follower $F: 1 group, forwarded, carried out by $L (SEQ $(jget "${ev:-null}" 'd.get("seq") if d else None'), $ms ms)" \
	test "$(jget "${ev:-null}" '[d["groups"], d["forwarded"], d["done"], d["seq"] is not None] if d else None')" = "[1, true, true, true]"
rk=$("$CTL" --socket "$tmp/$F.sock" --json rekey media 2>>"$tmp/ctl.err")
wait "$ebp"; rcb=$?
wait "$eap"; rca=$?
check "bob got the rotation: a new KEK, then TEKs under it, then the next rekey (exit $rcb)" \
	python3 -c 'import json,sys
l=[json.loads(x) for x in open(sys.argv[1])]
r,p=l[0],[x for x in l[1:] if x.get("event")=="push"]
ok=len(p)==3 and p[0]["new_kek"] and p[0]["kek_spi"]!=r["kek_spi"] and p[1]["kek_spi"]==p[0]["kek_spi"] and p[1]["new_teks"]>0 and p[2]["seq"]==json.loads(sys.argv[2])["seq"]
sys.exit(0 if ok else 1)' "$tmp/eb.out" "${rk:-null}"
check "evicted alice got no push at all, neither the rotation nor the rekey after (exit $rca = timeout)" \
	bash -c '[ "$1" = 3 ] && [ "$(grep -c "\"event\":\"push\"" "$2")" = 0 ]' _ "$rca" "$tmp/ea.out"
"$PROBE" --server 127.0.0.1:$pL --timeout 5 "${A_[@]}" --group 1234 >/dev/null 2>"$tmp/ea.err"; rc=$?
check "evicted alice cannot register again, on the leader either (exit $rc)" test $rc = 1
tap_diag() { tail -5 "$tmp/A.log" "$tmp/B.log" | sed 's/^/# /'; }
tap_plan_end
