#!/usr/bin/env bash
# keyserver_crash.sh - gdoi-ks crash safety: kill -9 at random moments during a loop of
# on-demand rekeys, restart on the same --state, and check that a member that stays
# registered across all restarts (same KEK) only ever receives pushes with a SEQ strictly
# greater than any SEQ seen before, that registrations after a restart never hand out a
# SEQ below one already pushed, and that a restarted server serves the same keys. TAP.
set -u
. "$(dirname "$0")/lib/ks.sh"

ITER=${KS_CRASH_ITERATIONS:-20}
port=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="127.0.0.1:$port"
cat >"$conf" <<CONF
[server]
listen = 127.0.0.1:$port

[group media]
id = 1234
tek = AES128_CM_SHA1_80
tek = AEAD_AES_256_GCM
destination = 239.1.2.3:5004
kek = aes128

[member alice]
id = fqdn:alice.example
psk = alice-secret
groups = media
may_send = yes

[member bob]
id = fqdn:bob.example
psk = bob-secret
groups = media
CONF
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
probe() { "$PROBE" --server "$S" --timeout 10 "$@"; }

check "gdoi-ks starts on the test configuration" ks_start "$conf" "$log"
# alice stays registered for the whole test and prints every push
probe --id fqdn:alice.example --psk alice-secret --group 1234 --ssrcs 1 --pushes 100000 --push-timeout 600 \
	>"$tmp/alice.out" 2>"$tmp/alice.err" &
alice=$!
for _ in $(seq 1 100); do [ -s "$tmp/alice.out" ] && break; sleep 0.05; done
check "alice registers and prints her first policy" test -s "$tmp/alice.out"
kek0=$(jget "$(head -1 "$tmp/alice.out")" 'd["kek_spi"]')

max_seen() { python3 -c 'import json,sys; print(max([0]+[json.loads(l)["seq"] for l in open(sys.argv[1]) if "\"event\":\"push\"" in l]))' "$tmp/alice.out"; }

bad_reg=0 kills=0
for i in $(seq 1 "$ITER"); do
	# a burst of on-demand rekeys, killed at a random moment
	( while :; do ctl rekey media >/dev/null 2>&1 || break; done ) &
	loop=$!
	sleep "0.$(( RANDOM % 25 + 1 ))"
	kill -KILL "$ks_pid"
	wait "$ks_pid" 2>/dev/null
	ks_pid=
	kills=$((kills + 1))
	kill "$loop" 2>/dev/null
	wait "$loop" 2>/dev/null
	sleep 0.1	# let pushes in flight arrive
	seen=$(max_seen)
	rm -f "$tmp/admin.sock"
	if ! ks_start "$conf" "$log"; then
		notok "restart $i on the same state"
		break
	fi
	# a registration right after the restart must not hand out a SEQ below one pushed
	r=$(probe --id fqdn:bob.example --psk bob-secret --group 1234 2>>"$tmp/probe.err")
	rs=$(jget "${r:-null}" 'd["seq"] if d else -1')
	rk=$(jget "${r:-null}" 'd["kek_spi"] if d else None')
	if [ "$rs" -lt "$seen" ] || [ "$rk" != "$kek0" ]; then
		bad_reg=$((bad_reg + 1))
		echo "# iteration $i: registration SEQ $rs KEK $rk after pushes up to $seen (KEK $kek0)"
	fi
done
check "$kills kill -9 during rekeys, restarts on the same state: registrations keep the KEK and never go below a pushed SEQ" test "$bad_reg" = 0

# one more rekey after the last restart: alice (registered before all the crashes) gets it
seen=$(max_seen)
before=$(grep -c '"event":"push"' "$tmp/alice.out")
ctl rekey media >/dev/null
for _ in $(seq 1 100); do [ "$(grep -c '"event":"push"' "$tmp/alice.out")" -gt "$before" ] && break; sleep 0.05; done
last=$(grep '"event":"push"' "$tmp/alice.out" | tail -1)
check "after $kills crashes, alice (same KEK) still receives rekeys: SEQ $(jget "$last" 'd["seq"]') > $seen" \
	test "$(jget "$last" 'd["seq"]')" -gt "$seen"
pushes=$(grep -c '"event":"push"' "$tmp/alice.out")
check "alice's $pushes pushes all have strictly increasing SEQ, none refused as replay" \
	python3 -c '
import json, sys
seqs = []
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["event"] == "push_refused":
        sys.exit("refused: " + l)
    if d["event"] == "push":
        seqs.append(d["seq"])
sys.exit(0 if len(seqs) > 0 and all(a < b for a, b in zip(seqs, seqs[1:])) else "not increasing: %r" % seqs)' "$tmp/alice.out"
check "alice's KEK never changed" test "$(jget "$last" 'd["kek_spi"]')" = "$kek0"

# the same TEK keys after a restart (no rekey in between)
r1=$(probe --id fqdn:bob.example --psk bob-secret --group 1234 2>>"$tmp/probe.err")
kill -KILL "$ks_pid"; wait "$ks_pid" 2>/dev/null; ks_pid=
rm -f "$tmp/admin.sock"
ks_start "$conf" "$log"
r2=$(probe --id fqdn:bob.example --psk bob-secret --group 1234 2>>"$tmp/probe.err")
fps() { jget "${1:-null}" 'sorted((t["spi"], t["key_fp"]) for t in d["teks"]) + [d["kek_fp"], d["seq"]]'; }
check "a restarted key server serves the same TEK keys, KEK and SEQ (fingerprints equal)" \
	test "$(fps "$r1")" = "$(fps "$r2")"
# A registration gets the current TEKs and, until their DTD is over, the ones they
# replace: alice received those in her last two pushes.
check "the newest TEKs alice received are the ones the restarted server hands out" \
	python3 -c '
import json, sys
pushes = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"push\"" in l][-2:]
r = json.loads(sys.argv[2])
alice = {(t["spi"], t["key_fp"]) for a in pushes for t in a["teks"]}
sys.exit(0 if {(t["spi"], t["key_fp"]) for t in r["teks"]} <= alice else "mismatch")' "$tmp/alice.out" "$r2"
kill "$alice" 2>/dev/null
check "clean SIGTERM at the end" ks_stop
echo "# $kills kill -9, $pushes pushes received by alice, $(grep -c 'registered from' "$log") registrations, SEQ up to $(jget "$last" 'd["seq"]')"
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
