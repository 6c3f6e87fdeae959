#!/usr/bin/env bash
# gikev2_auto.sh - protocol = auto (docs/sidecar.md): G-IKEv2 first, GDOI where the key
# server refuses the group for G-IKEv2 (INVALID_GROUP_ID) or gives no IKEv2 answer.
# gdoi-ks 1 (127.0.0.1) serves a group by both protocols, a g-ikev2-only and a gdoi-only
# group; gdoi-ks 2 (127.0.0.2) has no G-IKEv2 group at all (IKEv2 datagrams dropped).
# One auto sidecar per key server; the key servers' logs say which protocol registered
# the member. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl

ks_start() {	# N GROUPS: gdoi-ks on 127.0.0.N:$port
	mkdir -p "$tmp/ks$1"
	(umask 077; printf '[server]\nlisten = 127.0.0.%s:%s\nstate = %s/state\nadmin_socket = %s/admin.sock\n\n%s\n' \
		"$1" "$port" "$tmp/ks$1" "$tmp/ks$1" "$2" >"$tmp/ks$1/ks.conf")
	"$BIN/gdoi-ks" -c "$tmp/ks$1/ks.conf" -v >"$tmp/ks$1/ks.log" 2>&1 &
	stack_pids+=("$!")
	stack_wait 10 test -S "$tmp/ks$1/admin.sock"
}
sc_start() {	# NAME KS GROUPS: an auto sidecar of key server KS
	mkdir -p "$tmp/$1" && chmod 0755 "$tmp/$1"
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.%s:%s\nsocket = %s/run/sidecar.sock\nidentity = fqdn:alice.example\npsk = %s\nretransmit = 50\n\n%s\n' \
		"$2" "$port" "$tmp/$1" "$psk" "$3" >"$tmp/$1/sidecar.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1/sidecar.conf" -v >"$tmp/$1/sidecar.log" 2>&1 &
	stack_pids+=("$!")
}
member="[member alice]
id = fqdn:alice.example
psk = $psk"
ks_start 1 "[group media]
id = 1234
tek = AEAD_AES_128_GCM
destination = 239.9.0.1:6000
protocols = gdoi, g-ikev2

[group ikeonly]
id = 55
tek = AES128_CM_SHA1_80
destination = 239.9.0.2:6002
protocols = g-ikev2

[group gdoionly]
id = 66
tek = AES128_CM_SHA1_80
destination = 239.9.0.3:6004

$member
groups = media, ikeonly, gdoionly" || tap_bail "the first gdoi-ks did not start"
ks_start 2 "[group plain]
id = 77
tek = AES128_CM_SHA1_80
destination = 239.9.0.4:6006

$member
groups = plain" || tap_bail "the second gdoi-ks did not start"
group() { printf '[group %s]\nid = %s\nprotocol = auto\nallow = uid:%s\n\n' "$1" "$2" "$(id -u)"; }
sc_start A 1 "$(group media 1234; group ikeonly 55; group gdoionly 66)"
sc_start B 2 "$(group plain 77)"

sca() { "$CTL" --sidecar "$tmp/A/run/sidecar.sock" "$@"; }
scb() { "$CTL" --sidecar "$tmp/B/run/sidecar.sock" "$@"; }
for g in media ikeonly gdoionly; do
	check "the auto sidecar holds keys for $g" stack_wait 15 sca get "$g" --format json
done
check "the group served by both protocols registered by G-IKEv2" \
	grep -q "group media: member alice .* registered by G-IKEv2 GSA_AUTH" "$tmp/ks1/ks.log"
check "the g-ikev2-only group registered by G-IKEv2" \
	grep -q "group ikeonly: member alice .* registered by G-IKEv2 GSA_AUTH" "$tmp/ks1/ks.log"
check "the gdoi-only group refused G-IKEv2 (INVALID_GROUP_ID)" grep -q "refused, notify 45" "$tmp/ks1/ks.log"
check "the gdoi-only group registered by GROUPKEY-PULL" \
	grep -q "group gdoionly: member alice (fqdn:alice.example) registered from" "$tmp/ks1/ks.log"
check "the sidecar logged GDOI chosen for the gdoi-only group" \
	grep -q "group gdoionly: key server 127.0.0.1:$port refused the group for G-IKEv2 (INVALID_GROUP_ID): keys by GDOI" "$tmp/A/sidecar.log"
check "the sidecar logged G-IKEv2 chosen for the others" \
	test "$(grep -c 'keys by G-IKEv2 (protocol = auto)' "$tmp/A/sidecar.log")" = 2
check "with a key server without G-IKEv2 the auto sidecar holds keys" stack_wait 15 scb get plain --format json
check "it registered by GROUPKEY-PULL" \
	grep -q "group plain: member alice (fqdn:alice.example) registered from" "$tmp/ks2/ks.log"
check "the sidecar logged why: no IKEv2 answer" \
	grep -q "group plain: key server 127.0.0.2:$port gave no IKEv2 answer: keys by GDOI" "$tmp/B/sidecar.log"
if [ "$tap_fail" -ne 0 ]; then
	for f in "$tmp"/ks1/ks.log "$tmp"/ks2/ks.log "$tmp"/A/sidecar.log "$tmp"/B/sidecar.log; do
		echo "# --- $f"; tail -n 15 "$f" | sed 's/^/# /'
	done
fi
tap_plan_end
