#!/usr/bin/env bash
# keyserver_ipv6.sh - gdoi-ks over IPv6, in a private network namespace (the script
# re-executes itself under `unshare -n`, or `unshare -rn`). IPv6 multicast on lo needs a
# *local* route: `ip -6 route add local ff00::/8 dev lo table local` (a plain
# `ff00::/8 dev lo` route drops every datagram). TAP.
#   listen = [::1]: registration over IPv6 loopback (Phase 1 + PULL), the TEK DST selector
#   is ID_IPV6_ADDR [ff0e::1234]:5004, the SA KEK DST the ff3e:: SSM rekey group, and an
#   on-demand rekey reaches the member by IPv6 multicast (rekey_interface = lo);
#   address-bound PSKs for an IPv6 member; an ASM ff0e:: group by interface index;
#   listen = [::] (dual stack): one key server serves an IPv4 and an IPv6 member, and the
#   IPv4 member is recorded and pushed to as IPv4 (its address-bound PSK matches).
set -u
. "$(dirname "$0")/lib/netns.sh"
ip -6 route add local ff00::/8 dev lo table local 2>/dev/null
if ip route show default | grep -q . || ip -6 route show default | grep -q .; then
	echo "not ok 1 - refusing to run: a default route exists in this namespace"
	exit 1
fi
if ! ip -6 addr show dev lo | grep -q '::1/128'; then
	echo "1..0 # SKIP no IPv6 on lo"
	exit 0
fi
. "$(dirname "$0")/lib/ks.sh"

port=$(free_port)
mport=$(free_port)
aport=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="[::1]:$port"
G="[ff3e::4242]:$mport"
AG="[ff0e::77]:$aport"
lo_index=$(cat /sys/class/net/lo/ifindex)
cat >"$conf" <<CONF
[server]
listen = [::1]:$port

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = [ff0e::1234]:5004
rekey_multicast = $G
rekey_interface = lo
rekey_ttl = 0
rekey_unicast = no

[group asm]
id = 1235
tek = AEAD_AES_128_GCM
destination = [ff0e::1234]:5006
rekey_multicast = $AG
rekey_interface = $lo_index
rekey_unicast = no

[member alice]
id = fqdn:alice.example
psk = alice-secret
groups = media, asm

[member carol]
id = ipv6:::1
psk = carol-secret
address = ::1
groups = media
CONF
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
A=(--id fqdn:alice.example --psk alice-secret)

check "in a private network namespace (no default route)" \
	bash -c "! ip route show default | grep -q . && ! ip -6 route show default | grep -q ."
check "gdoi-ks starts on [::1]" ks_start "$conf" "$log"
check "its log names the IPv6 listen address" grep -q "listening on UDP \[::1\]:$port" "$log"

"$PROBE" --server "$S" "${A[@]}" --group 1234 --mcast "$G" --pushes 1 --push-timeout 10 >"$tmp/a.out" 2>>"$tmp/probe.err" &
pa=$!
for _ in $(seq 1 100); do [ -s "$tmp/a.out" ] && break; sleep 0.05; done
reg=$(sed -n 1p "$tmp/a.out")
check "registered over IPv6 loopback from [::1]" \
	test "$(jget "${reg:-null}" 'd is not None and d["event"] == "registered" and d["local"].startswith("[::1]:")')" = true
check "TEK DST selector: ID_IPV6_ADDR (5) [ff0e::1234]:5004" \
	test "$(jget "${reg:-null}" 'd is not None and [(t["dst"], t["dst_type"]) for t in d["teks"]] == [("[ff0e::1234]:5004", 5)]')" = true
check "SA KEK DST selector is the SSM rekey group" test "$(jget "${reg:-null}" 'd and d["kek_dst"]')" = "$G"
check "the member is recorded at its IPv6 address" bash -c "'$CTL' --socket '$tmp/admin.sock' members media | grep -q '\[::1\]:'"
ctl rekey media >/dev/null
wait $pa; rc=$?
push=$(sed -n 2p "$tmp/a.out")
check "on-demand rekey received by IPv6 multicast (exit $rc)" \
	test "$(jget "${push:-null}" 'd is not None and d["via"] == "multicast" and d["seq"] == 1 and d["new_teks"] == 1')" = true
check "the push log names the IPv6 group" grep -q "multicast to \[ff3e::4242\]:$mport" "$log"

# ASM group, interface by index
"$PROBE" --server "$S" "${A[@]}" --group 1235 --mcast "$AG" --pushes 1 --push-timeout 10 >"$tmp/asm.out" 2>>"$tmp/probe.err" &
pa=$!
for _ in $(seq 1 100); do [ -s "$tmp/asm.out" ] && break; sleep 0.05; done
ctl rekey asm >/dev/null
wait $pa; rc=$?
push=$(sed -n 2p "$tmp/asm.out")
check "ff0e:: ASM group, rekey_interface by index: push by multicast (exit $rc)" \
	test "$(jget "${push:-null}" 'd is not None and d["via"] == "multicast" and d["seq"] == 1')" = true

# an address-bound PSK: carol is known by her IPv6 address
out=$("$PROBE" --server "$S" --id ipv6:::1 --psk carol-secret --group 1234 2>>"$tmp/probe.err")
check "IPv6 member with an address-bound PSK registers (ID_IPV6_ADDR identity)" \
	test "$(jget "${out:-null}" 'd is not None and d["event"] == "registered"')" = true
check "... and a wrong key for that address is refused" \
	bash -c "! '$PROBE' --server '$S' --id ipv6:::1 --psk wrong --group 1234 --timeout 3 >/dev/null 2>&1"
check "clean SIGTERM" ks_stop

# dual stack: listen = [::] serves IPv4 and IPv6 from one socket
port=$(free_port)
rport=$(free_port)
cat >"$tmp/ds.conf" <<CONF
[server]
listen = [::]:$port

[group media]
id = 77
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004

[member v4]
id = fqdn:v4.example
psk = v4-secret
address = 127.0.0.1
groups = media

[member v6]
id = fqdn:v6.example
psk = v6-secret
address = ::1
groups = media
CONF
rm -rf "$tmp/state" "$tmp/admin.sock"
check "gdoi-ks starts dual-stack on [::]:$port" ks_start "$tmp/ds.conf" "$tmp/ds.log"
"$PROBE" --server "127.0.0.1:$port" --id fqdn:v4.example --psk v4-secret --group 77 --pushes 1 --push-timeout 10 \
	>"$tmp/v4.out" 2>>"$tmp/probe.err" &
p4=$!
"$PROBE" --server "[::1]:$port" --id fqdn:v6.example --psk v6-secret --group 77 --pushes 1 --push-timeout 10 \
	>"$tmp/v6.out" 2>>"$tmp/probe.err" &
p6=$!
for _ in $(seq 1 100); do [ -s "$tmp/v4.out" ] && [ -s "$tmp/v6.out" ] && break; sleep 0.05; done
check "IPv4 member registered (address-bound PSK matched through ::ffff:)" grep -q '"event":"registered"' "$tmp/v4.out"
check "IPv6 member registered" grep -q '"event":"registered"' "$tmp/v6.out"
members=$("$CTL" --socket "$tmp/admin.sock" members media 2>&1)
check "the IPv4 member is recorded as IPv4 (not ::ffff:)" \
	bash -c "grep -q '127.0.0.1:' <<<'$members' && ! grep -q 'ffff' <<<'$members'"
ctl rekey media >/dev/null
wait $p4; r4=$?
wait $p6; r6=$?
check "unicast rekey reaches the IPv4 member (exit $r4)" grep -q '"event":"push","group":77' "$tmp/v4.out"
check "unicast rekey reaches the IPv6 member (exit $r6)" grep -q '"event":"push","group":77' "$tmp/v6.out"
check "clean SIGTERM" ks_stop
[ "$tap_fail" = 0 ] || { echo "# ks log:"; sed 's/^/# /' "$log" "$tmp/ds.log"; sed 's/^/# probe: /' "$tmp/probe.err"; }
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
