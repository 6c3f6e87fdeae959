#!/usr/bin/env bash
# gikev2_rekey.sh - G-IKEv2 GSA_REKEY (RFC 9838 §2.4~) through the real daemons, in a
# private network namespace (lib/netns.sh: multicast routed to lo only). One gdoi-ks
# group served by both protocols with multicast rekeys; one gdoi-sidecar registered by
# G-IKEv2 (GSA_AUTH hands it the group's Rekey SA), one by GDOI. After `gdoictl rekey`
# the key server multicasts a GROUPKEY-PUSH and a signed GSA_REKEY with the same new TEKs:
# both sidecars hand out the same new keys. A captured GSA_REKEY sent again (replayed
# Message ID) changes nothing; the Message ID (the group's SEQ) survives a restart of
# gdoi-ks; a KEK rotation hands the members the next Rekey SA. TAP output.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
G=239.7.7.8
GP=18661

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes256
rekey_multicast = $G:$GP
rekey_interface = 127.0.0.1
rekey_ttl = 0
rekey_unicast = no
protocols = gdoi, g-ikev2

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media

[member bob]
id = fqdn:bob.example
psk = $psk
groups = media" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }

# a listener on the rekey group keeps every datagram (to replay the GSA_REKEY)
python3 "$top/tests/tools/mcast_capture.py" "$G" "$GP" "$tmp/cap" &
stack_pids+=("$!")

stack_sidecar_start "identity = fqdn:alice.example
psk = $psk

[group media]
id = 1234
protocol = g-ikev2
rekey = $G:$GP
allow = uid:$(id -u)" || { echo "1..1"; echo "not ok 1 - the G-IKEv2 sidecar did not start"; exit 1; }
SC2_SOCK=$tmp/run2/sidecar.sock
(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\nidentity = fqdn:bob.example\npsk = %s\n
[group media]\nid = 1234\nprotocol = gdoi\nrekey = %s:%s\nallow = uid:%s\n' \
	"$port" "$SC2_SOCK" "$psk" "$G" "$GP" "$(id -u)" >"$tmp/sidecar2.conf")
"$BIN/gdoi-sidecar" -c "$tmp/sidecar2.conf" -v >"$tmp/sidecar2.log" 2>&1 &
stack_pids+=("$!")

# after a failed check: what each sidecar holds, so a mismatch shows which side differs
tap_diag() {
	keys "$SC_SOCK" | sed 's/^/# g-ikev2: /'
	keys "$SC2_SOCK" | sed 's/^/# gdoi:    /'
}
sc1() { "$CTL" --sidecar "$SC_SOCK" "$@"; }
sc2() { "$CTL" --sidecar "$SC2_SOCK" "$@"; }
# keys SIDECAR: the TEKs' SPI, profile and key material, one line each
keys() {
	"$CTL" --sidecar "$1" get media --format json 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin).get("teks", []):
    print(" ".join(str(t.get(k)) for k in sorted(t) if k not in ("not_before", "not_after")))'
}
check "in a private network namespace (no default route)" bash -c "! ip route show default | grep -q ."
check "the G-IKEv2 sidecar holds keys (GSA_AUTH)" stack_wait 15 sc1 get media --format json
check "the GDOI sidecar holds keys (GROUPKEY-PULL)" stack_wait 15 sc2 get media --format json
check "the G-IKEv2 member got the Rekey SA" grep -q "registered with .*KEK (rekeys expected)" "$tmp/sidecar.log"
k0=$(keys "$SC_SOCK")
check "both start with the same keys" test "$k0" = "$(keys "$SC2_SOCK")"
# seq SIDECAR: the snapshot's seq (the group's SEQ; G-IKEv2: its GSA_REKEY Message ID)
seq() { "$CTL" --sidecar "$1" get media --format json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin).get("seq"))'; }
check "both report the same seq ($(seq "$SC2_SOCK"))" test "$(seq "$SC_SOCK")" = "$(seq "$SC2_SOCK")"

"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
check "the key server sent a GSA_REKEY" stack_wait 5 grep -q "GSA_REKEY Message ID" "$tmp/ks.log"
# new keys: the rekey's TEK, as both members see it
newkeys() { local k; k=$(keys "$1"); [ -n "$k" ] && [ "$k" != "$k0" ]; }
check "the G-IKEv2 sidecar applied the GSA_REKEY" stack_wait 10 newkeys "$SC_SOCK"
check "the GDOI sidecar applied the GROUPKEY-PUSH" stack_wait 10 newkeys "$SC2_SOCK"
k1=$(keys "$SC_SOCK")
check "both report the same new TEKs ($(printf '%s\n' "$k1" | wc -l) line(s))" test "$k1" = "$(keys "$SC2_SOCK")"
check "and the same seq after the rekey ($(seq "$SC2_SOCK"))" test "$(seq "$SC_SOCK")" = "$(seq "$SC2_SOCK")"

cap=$(ls "$tmp"/cap/*.ike 2>/dev/null | head -1)
check "the GSA_REKEY was captured on the rekey group" test -n "$cap"
if [ -n "$cap" ]; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.sendto(open(sys.argv[1], "rb").read(), (sys.argv[2], int(sys.argv[3])))' "$cap" "$G" "$GP"
	sleep 0.5
	check "the replayed GSA_REKEY was refused" stack_wait 5 grep -q "GSA_REKEY refused: replayed" "$tmp/sidecar.log"
	check "and changed nothing" test "$(keys "$SC_SOCK")" = "$k1"
fi

# the Message ID is the group's SEQ: it survives a restart of the key server
kill -TERM "$KS_PID"; wait "$KS_PID" 2>/dev/null
"$BIN/gdoi-ks" -c "$tmp/ks.conf" -v >"$tmp/ks2.log" 2>&1 &
KS_PID=$!
stack_pids+=("$KS_PID")
stack_wait 10 test -S "$KS_SOCK"
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
check "after a restart the next GSA_REKEY has Message ID 2" stack_wait 5 grep -q "GSA_REKEY Message ID 2 " "$tmp/ks2.log"
k0=$k1
check "and the G-IKEv2 sidecar applies it with the Rekey SA it holds" stack_wait 10 newkeys "$SC_SOCK"
same() { local a; a=$(keys "$SC_SOCK"); [ -n "$a" ] && [ "$a" = "$(keys "$SC2_SOCK")" ]; }
check "both report the same TEKs again" stack_wait 5 same

# a new KEK: the GSA_REKEY under the old Rekey SA hands over the new one (GIKE_UPDATE),
# under which the next TEK rekey arrives
"$CTL" --socket "$KS_SOCK" rekey media --kek >/dev/null
check "a KEK rotation sends a GSA_REKEY with the new Rekey SA" \
	stack_wait 5 grep -q "GSA_REKEY Message ID .*new Rekey SA" "$tmp/ks2.log"
k0=$(keys "$SC_SOCK")
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
check "the next TEK rekey reaches the G-IKEv2 sidecar under the new Rekey SA" stack_wait 10 newkeys "$SC_SOCK"
check "and both report the same TEKs" stack_wait 5 same
sameseq() { [ "$(seq "$SC_SOCK")" = "$(seq "$SC2_SOCK")" ]; }
check "and the same seq under the new Rekey SA ($(seq "$SC2_SOCK"))" stack_wait 5 sameseq
check "the G-IKEv2 sidecar ignored the GDOI pushes beside the GSA_REKEYs (no warning)" \
	bash -c "! grep -q 'push via multicast refused' '$tmp/sidecar.log'"
check "the G-IKEv2 sidecar never registered again" test "$(grep -c 'registered with' "$tmp/sidecar.log")" = 1

# a lost KEK rotation: its GSA_REKEY (the new Rekey SA) dropped on the rekey group
# (nftables, in this namespace), the next rekey comes under a Rekey SA the member never
# got: it registers again (as a GDOI member does on an unknown KEK) and holds the keys
if command -v nft >/dev/null && nft add table inet gk2 2>/dev/null &&
	nft add chain inet gk2 in '{ type filter hook input priority 0; }' &&
	nft add rule inet gk2 in ip daddr "$G" udp dport "$GP" drop; then
	"$CTL" --socket "$KS_SOCK" rekey media --kek >/dev/null
	stack_wait 5 bash -c "[ \$(grep -c 'GSA_REKEY Message ID .*new Rekey SA' '$tmp/ks2.log') -ge 2 ]"
	sleep 0.3
	nft delete table inet gk2
	l5=$(wc -l <"$tmp/sidecar.log")
	k0=$(keys "$SC_SOCK")
	"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
	check "after a lost Rekey SA change the G-IKEv2 sidecar registers again" stack_wait 10 bash -c \
		"tail -n +$((l5 + 1)) '$tmp/sidecar.log' | grep -q 'registered with'"
	check "and holds the new TEKs, as the GDOI member does" stack_wait 10 same
else
	skip "a lost Rekey SA change" "no nft, or no nftables in this namespace"
	skip "and the new TEKs after it" "no nft"
fi
[ "$tap_fail" -eq 0 ] || { stack_logs; tail -n 20 "$tmp/sidecar2.log" | sed 's/^/# /'; }
tap_plan_end
