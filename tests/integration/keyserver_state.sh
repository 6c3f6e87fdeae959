#!/usr/bin/env bash
# keyserver_state.sh - gdoi-ks after its durable state is damaged or lost. alice stays
# registered and records every push; after a few rekeys gdoi-ks is killed with -9, the
# state is damaged (WAL truncated, WAL garbled, database truncated to 0, group row
# deleted, SEQ mark deleted) and the server restarted on it. Then either it refuses to
# start with an error naming the file, or it never hands out or pushes a SEQ at or below
# one alice saw under the KEK she holds: a registration gets a new KEK or a higher SEQ,
# alice refuses no push as a replay, and a push under a new KEK makes her re-register.
# Also: the state files are 0600; a restart after the tek list changed pushes from the
# listening port and starts. TAP.
set -u
. "$(dirname "$0")/lib/ks.sh"

port=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="127.0.0.1:$port"
write_conf() {
	cat >"$conf" <<CONF
[server]
listen = 127.0.0.1:$port

[group media]
id = 1234
$1
destination = 239.1.2.3:5004
kek = aes128

CONF
	members_alice_bob >>"$conf"
}
write_conf "tek = AES128_CM_SHA1_80"
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
probe() { "$PROBE" --server "$S" --timeout 10 "$@"; }
pushes() { grep -c '"event":"push"' "$tmp/alice.out"; }
max_seen() { python3 -c 'import json,sys; print(max([0]+[json.loads(l)["seq"] for l in open(sys.argv[1]) if "\"event\":\"push\"" in l]))' "$tmp/alice.out"; }
kill9() { kill -KILL "$ks_pid"; wait "$ks_pid" 2>/dev/null; ks_pid=; rm -f "$tmp/admin.sock"; }
wait_pushes() {	# wait_pushes N: until alice has N pushes (5 s at most)
	for _ in $(seq 1 100); do [ "$(pushes)" -ge "$1" ] && return 0; sleep 0.05; done
	return 1
}
db=$tmp/state/gdoi-ks.db

# scenario NAME DAMAGE-COMMAND TOLD: one kill -9 + damage + restart round on a fresh state.
# TOLD=yes: the member list survived, so a new epoch's push reaches alice; with it lost
# (no) members of the old epoch learn of the new one when they re-register before their
# TEKs expire (docs/keyserver.md), which this test does not wait for.
scenario() {
	local name=$1 damage=$2 told=$3
	case $name in *"${ONLY:-}"*) ;; *) return ;; esac
	rm -rf "$tmp/state" "$tmp/alice.out"
	: >"$log"
	if ! ks_start "$conf" "$log"; then notok "$name: first start"; return; fi
	probe --id fqdn:alice.example --psk alice-secret --group 1234 --ssrcs 1 --pushes 1000 --push-timeout 60 \
		>"$tmp/alice.out" 2>"$tmp/alice.err" &
	local alice=$!
	for _ in $(seq 1 100); do [ -s "$tmp/alice.out" ] && break; sleep 0.05; done
	local kek0
	kek0=$(jget "$(head -1 "$tmp/alice.out")" 'd["kek_spi"]')
	for i in 1 2 3 4 5 6; do ctl rekey media >/dev/null; wait_pushes "$i"; done
	local seen
	seen=$(max_seen)
	kill9
	eval "$damage"
	if ! ks_start "$conf" "$log"; then
		# refusing is allowed, with an error that names the damaged file
		check "$name: refused to start, naming the file" grep -q "gdoi-ks.db.*\(damaged\|corrupt\|malformed\|lost\)" "$log"
		kill "$alice" 2>/dev/null; wait "$alice" 2>/dev/null
		return
	fi
	local r rs rk
	r=$(probe --id fqdn:bob.example --psk bob-secret --group 1234 2>>"$tmp/probe.err")
	rs=$(jget "${r:-null}" 'd["seq"] if d else -1')
	rk=$(jget "${r:-null}" 'd["kek_spi"] if d else None')
	echo "# $name: alice saw SEQ up to $seen under $kek0; after the restart a registration gets SEQ $rs under $rk"
	if [ "$rk" = "$kek0" ]; then
		check "$name: same KEK, so the SEQ handed out ($rs) is not below the last pushed ($seen)" test "$rs" -ge "$seen"
	else
		check "$name: a new KEK epoch ($rk), announced in the log" \
			grep -q "new KEK epoch" "$log"
	fi
	local before
	before=$(pushes)
	ctl rekey media >/dev/null
	sleep 1
	check "$name: alice refuses no push as a replay" bash -c "! grep -q '\"push_refused\".*replay' '$tmp/alice.out'"
	if [ "$rk" = "$kek0" ]; then
		check "$name: alice receives the next rekey (SEQ above $seen)" \
			test "$(grep '"event":"push"' "$tmp/alice.out" | tail -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])')" -gt "$seen" -a "$(pushes)" -gt "$before"
	elif [ "$told" = yes ]; then
		check "$name: alice sees the new epoch's push under a KEK she does not hold" \
			grep -q '"push_refused"' "$tmp/alice.out"
	fi
	kill "$alice" 2>/dev/null; wait "$alice" 2>/dev/null
	check "$name: clean SIGTERM" ks_stop
}

wal_size() { stat -c %s "$db-wal" 2>/dev/null || echo 0; }
scenario "WAL truncated to its first half" 'echo "# WAL of $(wal_size) octets"; truncate -s $(( $(wal_size) / 2 )) "$db-wal"' yes
scenario "WAL garbled past its first frames" 'python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, \"rb\").read())
for i in range(len(b) // 3, len(b), 97):
    b[i] ^= 0x55
open(p, \"wb\").write(bytes(b))" "$db-wal"' no
scenario "database truncated to 0, WAL removed" 'truncate -s 0 "$db"; rm -f "$db-wal" "$db-shm"' no
scenario "group row deleted" 'sqlite3 "$db" "DELETE FROM groups"' yes
scenario "database truncated to 4096 octets" 'sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null; truncate -s 4096 "$db"' no
scenario "SEQ mark deleted" 'rm -f "$tmp/state/gdoi-ks.seq"' yes

# the state files hold keys: 0600, WAL and SHM included
rm -rf "$tmp/state"
ks_start "$conf" "$log"
ctl rekey media >/dev/null
modes=$(stat -c '%n %a' "$tmp"/state/* | sed "s|$tmp/state/||" | tr '\n' ' ')
check "state files are 0600: $modes" bash -c "! stat -c %a '$tmp'/state/* | grep -qv '^600$'"
check "WAL and SHM files exist while running" test -e "$db-wal" -a -e "$db-shm"

# a restart after the tek list changed: the rekey it pushes to the registered members
# at start leaves from the listening port
probe --id fqdn:bob.example --psk bob-secret --group 1234 >/dev/null 2>>"$tmp/probe.err"
ks_stop
write_conf "tek = AES128_CM_SHA1_80
tek = AEAD_AES_256_GCM"
: >"$log"
check "restart after the tek list changed starts" ks_start "$conf" "$log"
check "  without 'cannot listen'" bash -c "! grep -q 'cannot listen' '$log'"
check "  and pushes the new TEK set (logged)" grep -q "TEK configuration changed" "$log"
r=$(probe --id fqdn:bob.example --psk bob-secret --group 1234 2>>"$tmp/probe.err")
check "  and serves both TEKs" test "$(jget "${r:-null}" 'len(d["teks"]) if d else 0')" -ge 2
ks_stop
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
