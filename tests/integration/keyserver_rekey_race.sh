#!/usr/bin/env bash
# keyserver_rekey_race.sh - registrations that overlap rekeys. The PULL key server
# copies the group policy at message 1 and sends its keys at message 4, and a member
# is on the unicast list only from then on, so a push in between would pass it by.
# gdoi-ks catches such a member up with one push of its own (keyserver/rekey.c,
# ks_rekey_catch_up). Each round starts 20 members registering at once and runs
# `gdoictl rekey` (every second one --kek) in a loop until all have registered; then every member
# must hold the group's current TEKs and KEK, and every push it got must have been accepted.
# Those rounds hit the window (PULL message 1 to 3 of one member) only by chance, so the
# catch-up itself is then forced: gm-probe --pull-hold keeps message 3 back until a rekey
# (every second one --kek) has been made after the key server sent message 2 (SIGUSR1 then
# releases it), for HELD members one after the other; each must be caught up. TAP output.
set -u
. "$(dirname "$0")/lib/ks.sh"

port=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="127.0.0.1:$port"
N=${N:-20}
ROUNDS=${ROUNDS:-9}
HELD=${HELD:-4}
{
	printf '[server]\nlisten = 127.0.0.1:%s\n%s\n\n' "$port" "${KS_SERVER_EXTRA:-}"
	printf '[group media]\nid = 1234\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\nkek = aes256\n'
	printf 'rekey_unicast = yes\n\n'
	for i in $(seq 0 $((N - 1))); do
		printf '[member m%d]\nid = keyid:m%d\npsk = secret-%d\ngroups = media\n\n' "$i" "$i" "$i"
	done
} >"$conf"
chmod 600 "$conf"
check "gdoi-ks starts" ks_start "$conf" "$log"
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }

# round_result R N: "ok", or what members m0..m(N-1) of round R lack
round_result() {
	local cur; cur=$(ctl --json status)
	python3 - "$cur" "$tmp" "$1" "$2" <<'PY'
import json, sys
st = json.loads(sys.argv[1]); tmp, r, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
g = [g for g in st["groups"] if g["name"] == "media"][0]
cur = {int(t["spi"], 16) for t in g["teks"] if t["generation"] == "current"}
assert cur, "no current TEK in status"
bad = []
for i in range(n):
    lines = [json.loads(l) for l in open(f"{tmp}/r{r}.m{i}") if l.strip()]
    withteks = [l for l in lines if "teks" in l]
    refused = [l for l in lines if l.get("event") == "push_refused"]
    have = {t["spi"] for t in withteks[-1]["teks"]} if withteks else set()
    kek = withteks[-1].get("kek_spi") if withteks else None
    if not cur <= have or refused or kek != g["kek"]["spi"]:
        bad.append(f"m{i}: has {sorted(have)} want {sorted(cur)}, KEK {kek} want {g['kek']['spi']}, refused {len(refused)}")
print("; ".join(bad) if bad else "ok")
PY
}

bad=0
for r in $(seq 1 "$ROUNDS"); do
	pids=()
	for i in $(seq 0 $((N - 1))); do
		"$PROBE" --server "$S" --timeout 20 --id "keyid:m$i" --psk "secret-$i" --group 1234 \
			--pushes 100000 --push-timeout 2 >"$tmp/r$r.m$i" 2>>"$tmp/probe.err" &
		pids+=($!)
	done
	# rekeys (every second one, the first in even rounds, rotates the KEK) until every member has registered
	rekeys=0
	sleep "0.$((r % 3))"	# the first rekey early, or among the GROUPKEY-PULLs
	while :; do
		kek=; [ $(( (rekeys + r) % 2 )) = 0 ] && kek=--kek
		ctl rekey media $kek >/dev/null 2>&1 && rekeys=$((rekeys + 1))
		done_n=0
		for i in $(seq 0 $((N - 1))); do [ -s "$tmp/r$r.m$i" ] && done_n=$((done_n + 1)); done
		[ $done_n = $N ] || [ $rekeys -gt 500 ] && break
	done
	for p in "${pids[@]}"; do wait "$p"; done
	res=$(round_result "$r" "$N")
	echo "# round $r: $rekeys rekey(s) during $N registrations: $res"
	[ "$res" = ok ] || bad=$((bad + 1))
done
catchups=$(grep -c 'catch-up for member' "$log")
check "every member of every round ends with the group's current TEKs ($bad bad round(s), $catchups catch-up(s) by chance)" test $bad = 0

# The race, forced: a rekey between message 2 and message 4 of one registration.
held_bad=0
for i in $(seq 0 $((HELD - 1))); do
	out=$tmp/rheld$i.m0
	"$PROBE" --server "$S" --timeout 30 --id "keyid:m$i" --psk "secret-$i" --group 1234 --pull-hold 3000 \
		--pushes 100000 --push-timeout 2 >"$out" 2>>"$tmp/probe.err" &
	pid=$!
	for _ in $(seq 200); do grep -q pull_held "$out" 2>/dev/null && break; sleep 0.1; done
	kek=; [ $((i % 2)) = 1 ] && kek=--kek
	grep -q pull_held "$out" && ctl rekey media $kek >/dev/null || held_bad=$((held_bad + 1))
	kill -USR1 "$pid" 2>/dev/null	# the rekey is made: message 3 may go (else after 3 s)
	wait "$pid"
	res=$(round_result "held$i" 1)
	echo "# held registration m$i (rekey ${kek:-without --kek} while message 3 was held back): $res"
	[ "$res" = ok ] || held_bad=$((held_bad + 1))
done
forced=$(( $(grep -c 'catch-up for member' "$log") - catchups ))
check "registrations overlapping a rekey are caught up ($HELD forced, $forced catch-up push(es), $held_bad bad)" \
	test "$held_bad" = 0 -a "$forced" -ge "$HELD"
check "no catch-up was impossible" bash -c "! grep -q 'cannot be caught up' '$log'"
ks_stop; rc=$?
check "SIGTERM: clean exit (status $rc)" test $rc = 0
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
