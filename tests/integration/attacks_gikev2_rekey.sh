#!/usr/bin/env bash
# attacks_gikev2_rekey.sh - crafted GSA_REKEY datagrams (RFC 9838 §2.4.1~) on the
# multicast rekey group of a G-IKEv2 gdoi-sidecar, in a private network namespace
# (lib/netns.sh). tests/tools/gike2-forge crafts them from a GSA_REKEY gdoi-ks really
# multicast and the key server's own KEK and signing key (read from its state
# database, as attacks.sh resigns GDOI pushes): every member holds the Rekey SA's keys,
# so an insider can produce a valid ICV, and only the Message ID and the GCKS's
# signature stop it. Each datagram has one flaw:
#   a captured GSA_REKEY replayed (same Message ID) and an older one (lower), and one
#   signed by the key server itself under a lower Message ID; re-signed with a foreign
#   key; a truncated signature, a 3-octet AUTH payload, an AlgorithmIdentifier length
#   past AUTH's end (valid ICVs); one ciphertext octet flipped (bad ICV); another
#   Rekey SA SPI; an IKE header Length and an SK Payload Length past the datagram; a
#   65507-octet datagram under the right SPIs; 1000 random octets that claim IKEv2;
#   20 octets of garbage.
# For each: refused with a rate-limited log line naming the field and its offset (each
# sent 20 times: at most 2 lines, with 2 groups listening), counted in gdoi_sidecar_pushes_refused_total by
# reason, the TEKs on the IPC socket unchanged, the sidecar serving. Another Rekey SA's
# SPI may also be a missed Rekey SA change: both groups register again, once for all 20
# (unknown_kek_reregister, as a GDOI member on an unknown KEK). Then the next
# genuine GSA_REKEY from gdoi-ks is applied, and so is one the forger signs with the
# key server's key under a higher Message ID (the forger's own control: its
# datagrams were refused for their one flaw, not for a mistake of the forger). A second
# group on the same rekey address gets its own GSA_REKEY, and the first says nothing of
# it. Last,
# gdoi-ks stops and deletes the member's IKE SA: with a Rekey SA it keeps its keys.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
FORGE=$B/tests/gike2-forge
[ -x "$FORGE" ] || tap_bail "$FORGE is not built (make test-bins)"
CTL=$BIN/gdoictl
G=239.28.0.1
GP=28661
MP=28662	# the sidecar's metrics (in the namespace)

ks_group() {	# NAME ID DESTINATION: a g-ikev2 group with multicast rekeys to $G:$GP
	printf '[group %s]\nid = %s\ntek = AES128_CM_SHA1_80\ndestination = %s\nkek = aes256\n' "$@"
	printf 'rekey_multicast = %s:%s\nrekey_interface = 127.0.0.1\nrekey_ttl = 0\n' "$G" "$GP"
	printf 'rekey_unicast = no\nprotocols = g-ikev2\n\n'
}
stack_ks_start "$(ks_group media 1234 239.28.0.2:28004)
$(ks_group chat 1235 239.28.0.3:28006)

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media, chat" || tap_bail "gdoi-ks starts"

# every datagram on the rekey group, numbered (the key server's are the captures)
python3 "$top/tests/tools/mcast_capture.py" "$G" "$GP" "$tmp/cap" &
stack_pids+=("$!")

stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
metrics = 127.0.0.1:$MP

[group media]
id = 1234
protocol = g-ikev2
rekey = $G:$GP
allow = uid:$(id -u)

[group chat]
id = 1235
protocol = g-ikev2
rekey = $G:$GP
allow = uid:$(id -u)" || tap_bail "the G-IKEv2 sidecar starts"

# keys [GROUP]: the TEKs' SPI, profile and key material the IPC socket hands out, one line each
keys() {
	"$CTL" --sidecar "$SC_SOCK" get "${1:-media}" --format json 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin).get("teks", []):
    print(" ".join(str(t.get(k)) for k in sorted(t) if k not in ("not_before", "not_after")))'
}
metric() {	# metric SAMPLE: the value of the sample line starting with SAMPLE, 0 when absent
	curl -sS --max-time 5 "http://127.0.0.1:$MP/metrics" |
		awk -v n="$1" 'substr($0, 1, length(n)) == n && substr($0, length(n) + 1, 1) == " " { v = $2 } END { print v + 0 }'
}
refused() { echo "gdoi_sidecar_pushes_refused_total{group=\"media\",reason=\"$1\"}"; }
DUP='gdoi_sidecar_pushes_duplicate_total{group="media"}'
UNK=gdoi_sidecar_pushes_unknown_kek_total
APPLIED='gdoi_sidecar_pushes_applied_total{group="media"}'
send() {	# send FILE COUNT: to the rekey group from 127.0.0.1
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
d = open(sys.argv[1], "rb").read()
for _ in range(int(sys.argv[4])):
    s.sendto(d, (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.01)	# 20 x 64 KiB would overflow the receive buffer: dropped by the kernel, not by the sidecar' "$1" "$G" "$GP" "$2"
}
last_cap() { ls "$tmp"/cap/ 2>/dev/null | tail -1; }
# the TEKs now are those of k0 but for some that expired meanwhile (rekeyed ones phase out)
no_new_tek() { local k; k=$(keys); [ -n "$k" ] && [ -z "$(comm -13 <(sort <<<"$k0") <(sort <<<"$k"))" ]; }
newkeys() { local k; k=$(keys); [ -n "$k" ] && [ "$k" != "$k0" ]; }
tap_diag() { tail -n 8 "$tmp/sidecar.log" | sed 's/^/#   /'; }

check "in a private network namespace (no default route)" bash -c "! ip route show default | grep -q ."
stack_wait 15 eval 'keys && keys chat' || { notok "the sidecar holds keys (GSA_AUTH)"; stack_logs; tap_plan_end; exit 1; }
check "the member got the Rekey SA of each group" test "$(grep -c "registered with .*KEK (rekeys expected)" "$tmp/sidecar.log")" = 2
# two real GSA_REKEYs (Message IDs 1 and 2), both applied and captured
for i in 1 2; do
	k0=$(keys) c0=$(last_cap)
	"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
	stack_wait 10 newkeys && stack_wait 5 bash -c "[ \"\$(ls '$tmp/cap' | tail -1)\" != '$c0' ]" ||
		{ notok "GSA_REKEY $i applied and captured"; stack_logs; tap_plan_end; exit 1; }
	eval "cap$i=\$tmp/cap/\$(last_cap)"
done
ok "two GSA_REKEYs from gdoi-ks applied and captured"
read -r spi kek bits der < <(python3 -c '
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
r = c.execute("SELECT hex(kek_spi), hex(kek_key), kek_bits, hex(sign_der) FROM groups WHERE has_kek AND gid = 1234").fetchone()
print(r[0], r[1][:r[2] // 4], r[2], r[3])' "$tmp/ks-state/gdoi-ks.db")
forge() {	# forge MODE CAPTURE OUT [--msgid N]
	local m=$1 c=$2 o=$3
	shift 3
	"$FORGE" "$m" "$c" "$o" --kek-spi "$spi" --kek-key "$kek" --sign-der "$der" "$@" | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" -eq 0 ]
}
check "the forger opens the captured GSA_REKEY under the KEK's Rekey SA and the key server's key" \
	forge replay "$cap2" "$tmp/replay"

k0=$(keys)
applied0=$(metric "$APPLIED")
# attack WHAT FILE SAMPLE PATTERN [LINES]: send FILE 20 times; counted 20 times in the metrics
# SAMPLE ("-": none), a line matching PATTERN and at most LINES lines (2), the keys
# unchanged, the sidecar serving
attack() {
	local what=$1 f=$2 sample=$3 pat=$4 max=${5:-2} l0 r0=0 r1=0 n why=""
	l0=$(wc -l <"$tmp/sidecar.log")
	[ "$sample" = - ] || r0=$(metric "$sample")
	send "$f" 20
	if [ "$sample" = - ]; then
		sleep 0.5
	else
		counted() { [ "$(metric "$sample")" -ge $((r0 + 20)) ]; }
		stack_wait 3 counted
		r1=$(metric "$sample")
		[ "$r1" -eq $((r0 + 20)) ] || why="$why; counted $((r1 - r0)) of 20 times in $sample"
	fi
	n=$(( $(wc -l <"$tmp/sidecar.log") - l0 ))
	tail -n +$((l0 + 1)) "$tmp/sidecar.log" | grep -q -- "$pat" || why="$why; no line matching '$pat'"
	[ "$n" -le "$max" ] || why="$why; $n log lines (at most $max: the line, and a count of those held back)"
	no_new_tek || why="$why; a TEK appeared"
	kill -0 "$SC_PID" 2>/dev/null || why="$why; gdoi-sidecar died"
	grep -q "Sanitizer\|runtime error" "$tmp/sidecar.log" && why="$why; sanitizer report"
	echo "# $what: $n log line(s)$(tail -n +$((l0 + 1)) "$tmp/sidecar.log" | sed -n '1s/^[^ ]* /: /p')"
	if [ -z "$why" ]; then ok "$what: refused, keys unchanged"; else notok "$what$why"; tap_diag; fi
	sleep 0.3	# the log's keyed-line budget (10 a second) stays for the next one
}
# The same field refused twice is logged once per 10 s: each next one a window later.
forge genuine "$cap2" "$tmp/lowid" --msgid 1
forge foreign "$cap2" "$tmp/foreign"
forge icv "$cap2" "$tmp/icv"
forge short-auth "$cap2" "$tmp/short-auth"
forge auth-len "$cap2" "$tmp/auth-len"
forge spi "$cap2" "$tmp/spi"
forge length "$cap2" "$tmp/length"
forge sk-length "$cap2" "$tmp/sk-length"
forge garbage "$cap2" "$tmp/garbage"
forge short-sig "$cap2" "$tmp/short-sig"
forge oversize "$cap2" "$tmp/oversize"
head -c 20 /dev/urandom >"$tmp/short"
t0=$(date +%s)
attack "the captured GSA_REKEY 2 replayed" "$cap2" "$DUP" "GSA_REKEY refused: replayed.*: Message ID at offset 20 (Message ID 2,"
attack "re-signed with a foreign key (valid ICV)" "$tmp/foreign" "$(refused auth)" "GSA_REKEY refused: .*GSA_REKEY signature at offset"
attack "one ciphertext octet flipped" "$tmp/icv" "$(refused auth)" "GSA_REKEY refused: .*SK ICV at offset 28"
attack "a 3-octet AUTH payload (valid ICV)" "$tmp/short-auth" "$(refused truncated)" "GSA_REKEY refused: .*AUTH at offset"
attack "AUTH's AlgorithmIdentifier length past its end (valid ICV)" "$tmp/auth-len" "$(refused truncated)" \
	"GSA_REKEY refused: .*AUTH data at offset"
# an unknown Rekey SA may be a missed Rekey SA change: both groups register again, once
# for the 20 (unknown_kek_reregister, as GDOI on an unknown KEK), and get the same keys
attack "another Rekey SA's SPI" "$tmp/spi" $UNK "GSA_REKEY .*Rekey SA SPIs at offset 0" 10
check "the unknown Rekey SA made both groups register again once, not 20 times" \
	test "$(grep -c 're-registering 2 G-IKEv2 group(s): a GSA_REKEY under an unknown Rekey SA' "$tmp/sidecar.log")" = 1
attack "IKE header Length 1000 past the datagram" "$tmp/length" "$(refused length)" "GSA_REKEY refused: .*IKE header Length at offset 24"
attack "SK Payload Length 1000 past the datagram" "$tmp/sk-length" "$(refused length)" "GSA_REKEY refused: .*SK Length at offset 30"
attack "1000 random octets claiming IKEv2" "$tmp/garbage" - "refused\|ignored"
while [ $(($(date +%s) - t0)) -le 10 ]; do sleep 0.5; done
attack "GSA_REKEY 1 (a lower Message ID) replayed" "$cap1" "$DUP" "GSA_REKEY refused: replayed.*: Message ID at offset 20 (Message ID 1,"
while [ $(($(date +%s) - t0)) -le 21 ]; do sleep 0.5; done
attack "signed by the key server itself under Message ID 1" "$tmp/lowid" "$DUP" "GSA_REKEY refused: replayed.*: Message ID at offset 20 (Message ID 1,"
attack "the signature cut to half its length (valid ICV)" "$tmp/short-sig" "$(refused auth)" "GSA_REKEY refused: .*GSA_REKEY signature at offset"
attack "a 65507-octet GSA_REKEY under the right SPIs" "$tmp/oversize" "$(refused auth)" "GSA_REKEY refused: .*SK ICV at offset 28"
attack "20 octets of garbage" "$tmp/short" - "ignored"
check "no GSA_REKEY was applied meanwhile (gdoi_sidecar_pushes_applied_total $applied0)" \
	test "$(metric "$APPLIED")" = "$applied0" -a "$applied0" = 2

# positive controls: the next real GSA_REKEY, then the forger's own, genuinely signed
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
check "the next GSA_REKEY from gdoi-ks (Message ID 3) is applied" stack_wait 10 newkeys
cap3=$tmp/cap/$(last_cap)
forge genuine "$cap3" "$tmp/genuine" --msgid 103
send "$tmp/genuine" 1
check "the forger's GSA_REKEY 103, signed with the key server's key, is applied" \
	stack_wait 5 grep -q "GSA_REKEY 103 applied" "$tmp/sidecar.log"
check "gdoi_sidecar_pushes_applied_total counts both ($applied0 -> $((applied0 + 2)))" \
	stack_wait 3 test "$(metric "$APPLIED")" = $((applied0 + 2))
# a second group on the same rekey address: its GSA_REKEY goes to it alone (before, the
# first group's engine refused it as another Rekey SA's, with a line, every time)
l0=$(wc -l <"$tmp/sidecar.log") u0=$(metric "$UNK") c0=$(keys chat)
"$CTL" --socket "$KS_SOCK" rekey chat >/dev/null
chat_new() { local k; k=$(keys chat); [ -n "$k" ] && [ "$k" != "$c0" ]; }
check "group chat applies its own GSA_REKEY on the shared rekey address" stack_wait 10 chat_new
check "group media neither refused it nor counted it unknown (no GSA_REKEY line, unknown $u0)" \
	eval '! tail -n +$((l0 + 1)) "$tmp/sidecar.log" | grep -q "media: GSA_REKEY\|no group of ours" &&
		[ "$(metric "$UNK")" = "$u0" ]'
# gdoi-ks stops: it deletes the member's IKE SA (docs/keyserver.md); with a Rekey SA the
# member keeps its keys and waits for GSA_REKEY rather than registering again
k0=$(keys) l0=$(wc -l <"$tmp/sidecar.log")
kill -TERM "$KS_PID"
wait "$KS_PID" 2>/dev/null
check "SIGTERM: gdoi-ks sent the Delete of the member's IKE SAs (one per group)" \
	grep -q "shutdown: INFORMATIONAL Delete sent for 2 G-IKEv2 IKE SA(s)$" "$tmp/ks.log"
check "the sidecar (with a Rekey SA) logged it and kept its keys" stack_wait 2 eval \
	'tail -n +$((l0 + 1)) "$tmp/sidecar.log" | grep -q "the GCKS deleted the IKE SA: keys kept, GSA_REKEY expected"'
sleep 1
check "and neither registers again nor takes other keys (expired TEKs may leave)" \
	eval 'no_new_tek && ! tail -n +$((l0 + 1)) "$tmp/sidecar.log" | grep -q "next try\|registration"'
check "no sanitizer report" bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/sidecar.log' '$tmp/ks.log'"
check "the sidecar registered again only for the unknown Rekey SA (twice per group)" \
	test "$(grep -c 'registered with' "$tmp/sidecar.log")" = 4
echo "# log lines: gdoi-sidecar $(wc -l <"$tmp/sidecar.log")"
[ "$tap_fail" -eq 0 ] || stack_logs
tap_plan_end
