#!/usr/bin/env bash
# keyserver_mcast.sh - gdoi-ks rekey delivery by multicast. Multicast is only ever sent
# inside a private network namespace: the script re-executes itself under `unshare -n`
# (root, or `unshare -rn` otherwise), brings lo up and routes 224.0.0.0/4 to lo; the key
# server also uses rekey_interface = 127.0.0.1 and rekey_ttl = 0. TAP.
#   on-demand rekey reaches a member by multicast only (rekey_unicast = no), SA KEK DST =
#   the multicast group; eviction: the KEK push goes by unicast to the remaining member
#   only, the evicted member (listening on the group) cannot open the TEK push that
#   follows by multicast under the new KEK.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/ks.sh"

port=$(free_port)
mport=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="127.0.0.1:$port"
G="239.7.7.7:$mport"
cat >"$conf" <<CONF
[server]
listen = 127.0.0.1:$port

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
rekey_multicast = $G
rekey_interface = 127.0.0.1
rekey_ttl = 0
rekey_unicast = no

[member alice]
id = fqdn:alice.example
psk = alice-secret
groups = media

[member bob]
id = fqdn:bob.example
psk = bob-secret
groups = media
CONF
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
A=(--id fqdn:alice.example --psk alice-secret)
Bo=(--id fqdn:bob.example --psk bob-secret)

check "in a private network namespace (no default route)" bash -c "! ip route show default | grep -q ."
check "gdoi-ks starts with multicast delivery" ks_start "$conf" "$log"

"$PROBE" --server "$S" "${A[@]}" --group 1234 --mcast "$G" --pushes 1 --push-timeout 10 >"$tmp/a.out" 2>>"$tmp/probe.err" &
pa=$!
for _ in $(seq 1 100); do [ -s "$tmp/a.out" ] && break; sleep 0.05; done
reg=$(sed -n 1p "$tmp/a.out")
check "SA KEK DST selector is the multicast rekey group" test "$(jget "$reg" 'd["kek_dst"]')" = "$G"
ctl rekey media >/dev/null
wait $pa; rc=$?
push=$(sed -n 2p "$tmp/a.out")
check "on-demand rekey received by multicast (exit $rc)" \
	test "$(jget "${push:-null}" 'd is not None and d["via"] == "multicast" and d["seq"] == 1 and d["new_teks"] == 1')" = true

# eviction with multicast delivery
"$PROBE" --server "$S" "${A[@]}" --group 1234 --mcast "$G" --pushes 2 --push-timeout 10 >"$tmp/a2.out" 2>>"$tmp/probe.err" &
pa=$!
"$PROBE" --server "$S" "${Bo[@]}" --group 1234 --mcast "$G" --pushes 1 --push-timeout 3 >"$tmp/b.out" 2>>"$tmp/probe.err" &
pb=$!
for _ in $(seq 1 100); do [ -s "$tmp/a2.out" ] && [ -s "$tmp/b.out" ] && break; sleep 0.05; done
ctl evict bob >/dev/null
wait $pa; rca=$?
wait $pb; rcb=$?
k=$(sed -n 2p "$tmp/a2.out"); t=$(sed -n 3p "$tmp/a2.out")
check "eviction: remaining alice gets the new KEK by unicast (exit $rca)" \
	test "$(jget "${k:-null}" 'd is not None and d["via"] == "unicast" and d["new_kek"]')" = true
check "then the new TEKs by multicast under the new KEK" \
	test "$(python3 -c 'import json,sys; k=json.loads(sys.argv[1]); t=json.loads(sys.argv[2]); print(t["via"]=="multicast" and t["kek_spi"]==k["kek_spi"] and t["new_teks"]==1)' "${k:-null}" "${t:-null}")" = True
check "evicted bob applied nothing (exit $rcb)" bash -c "[ $rcb = 3 ] && ! grep -q '\"event\":\"push\"' '$tmp/b.out'"
check "evicted bob saw the multicast TEK push and could not open it" \
	grep -q '"event":"push_refused","via":"multicast"' "$tmp/b.out"
check "clean SIGTERM" ks_stop
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
