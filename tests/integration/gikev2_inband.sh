#!/usr/bin/env bash
# gikev2_inband.sh - G-IKEv2 GSA_INBAND_REKEY (RFC 9838 §2.4.2~) through the real daemons
# on 127.0.0.1: a gdoi-ks group with no multicast rekey address (gikev2_rekey defaults to
# inband), two gdoi-sidecars registered by G-IKEv2. `gdoictl rekey` sends each one, over
# its IKE SA, the new TEK: `gdoictl get` shows the new SPI within 2 s, and each sidecar
# answered (the key server logs no retransmission failure). A second rekey carries the
# Delete of the first generation: it is gone after the DTD. `gdoictl evict` deletes the evicted
# member's IKE SA (INFORMATIONAL Delete), and the next rekey reaches the other member only.
# A SIGHUP before the first rekey keeps the IKE SAs (the new configuration takes them over);
# one that takes bob out of the configuration deletes his.
# A configuration asking for multicast without a rekey address is refused with its line.
# With KS_SERVER_EXTRA="workers = 2" (gikev2_inband_workers.sh) the same runs against
# worker engines, which hold the IKE SAs there. TAP output. In a private network namespace (lib/netns.sh), as every script whose
# groups name a multicast destination.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
atd = 1
dtd = 5
protocols = g-ikev2
$(stack_members media alice bob)" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }

stack_sidecar_start "$(stack_gikev2_member alice)" ||
	{ echo "1..1"; echo "not ok 1 - the G-IKEv2 sidecar did not start"; exit 1; }
stack_sidecar2_start "$(stack_gikev2_member bob)"

# spis SOCKET: the SPIs of the TEKs the sidecar hands out, sorted, one line
spis() {
	"$CTL" --sidecar "$1" get media --format json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted(str(t.get("spi")) for t in json.load(sys.stdin).get("teks", []))))'
}
has() { spis "$1" | grep -qw -- "$2"; }
# inband_sum FROM WHAT: the members the GSA_INBAND_REKEY lines after line FROM of the key
# server's log sent WHAT to, summed (with workers = N each worker's engine logs its own)
inband_sum() {
	tail -n +$(($1 + 1)) "$tmp/ks.log" | grep "GSA_INBAND_REKEY ($2) to [0-9]* member(s)" |
		sed 's/.* to \([0-9]*\) member(s).*/\1/' | awk '{ n += $1 } END { print n + 0 }'
}
inband_is() { [ "$(inband_sum "$1" "$2")" = "$3" ]; }
hasnt() { local s; s=$(spis "$1"); [ -n "$s" ] && ! grep -qw -- "$2" <<<"$s"; }

check "alice holds keys (GSA_AUTH)" stack_wait 15 "$CTL" --sidecar "$SC_SOCK" get media --format json
check "bob holds keys (GSA_AUTH)" stack_wait 15 "$CTL" --sidecar "$SC2_SOCK" get media --format json
check "no Rekey SA without a multicast rekey address" \
	bash -c "! grep -q 'KEK (rekeys expected)' '$tmp/sidecar.log'"
s0=$(spis "$SC_SOCK")
check "both hold the same SPI ($s0)" test "$s0" = "$(spis "$SC2_SOCK")"

# a reload (SIGHUP) keeps the members' IKE SAs: the rekeys below still reach them
kill -HUP "$KS_PID"
check "the key server reloaded, keeping the IKE SAs" stack_wait 5 grep -q "configuration reloaded" "$tmp/ks.log"
t0=$(date +%s%N) l1=$(wc -l <"$tmp/ks.log")
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
newspi() { local s; s=$(spis "$1"); [ -n "$s" ] && [ "$s" != "$s0" ]; }
check "alice shows the new SPI within 2 s" stack_wait 2 newspi "$SC_SOCK"
t1=$(date +%s%N)
check "bob too" stack_wait 2 newspi "$SC2_SOCK"
echo "# rekey -> new SPI at alice: $(( (t1 - t0) / 1000000 )) ms"
check "the key server sent GSA_INBAND_REKEY to 2 members" stack_wait 2 inband_is "$l1" ".*" 2
echo "# the first rekey: $(tail -n +$((l1 + 1)) "$tmp/ks.log" | grep -c "GSA_INBAND_REKEY (") GSA_INBAND_REKEY line(s) (one per engine)"
check "both answered it (empty SK{})" stack_wait 2 bash -c \
	"grep -q 'alice.example) answered GSA_INBAND_REKEY\$' '$tmp/ks.log' && grep -q 'bob.example) answered GSA_INBAND_REKEY\$' '$tmp/ks.log'"
s1=$(spis "$SC_SOCK")
check "both hold the same SPIs ($s1)" test "$s1" = "$(spis "$SC2_SOCK")"
old=$s0
check "the first SPI is still held after one rekey (until its generation is deleted)" has "$SC_SOCK" "$old"

l2=$(wc -l <"$tmp/ks.log")
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
# within the DTD (5 s) of the first rekey, the second one deletes the first generation; the
# Delete takes the SA out after the DTD, as a GSA_REKEY's does (RFC 9838 §2.4.1.4~)
check "the second rekey's Delete removes the first SPI at alice after the DTD" stack_wait 7 hasnt "$SC_SOCK" "$old"
check "and at bob" stack_wait 2 hasnt "$SC2_SOCK" "$old"
check "the key server logged one Delete in it, to 2 members" inband_is "$l2" ".* 1 deleted" 2

l3=$(wc -l <"$tmp/ks.log")
"$CTL" --socket "$KS_SOCK" evict alice >/dev/null
check "the key server deleted alice's IKE SA" \
	stack_wait 3 grep -q "alice.example): member evicted: IKE SA deleted" "$tmp/ks.log"
check "alice's sidecar got the Delete" stack_wait 3 grep -q "the GCKS deleted the IKE SA" "$tmp/sidecar.log"
check "the eviction's rekey went to bob only" stack_wait 2 inband_is "$l3" ".*" 1
a2=$(spis "$SC_SOCK")
b2=$(spis "$SC2_SOCK")
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
b3() { local s; s=$(spis "$SC2_SOCK"); [ -n "$s" ] && [ "$s" != "$b2" ]; }
check "bob gets the next rekey" stack_wait 2 b3
check "alice gets no further keys" test "$(spis "$SC_SOCK")" = "$a2"
check "no member failed to answer" bash -c "! grep -q 'no answer to GSA_INBAND_REKEY' '$tmp/ks.log'"

# a reload that takes bob out of the configuration deletes his IKE SA: no GSA_INBAND_REKEY
# may bring him keys any more
python3 - "$tmp/ks.conf" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(re.sub(r"\[member bob\][^[]*", "", s))
PY
l4=$(wc -l <"$tmp/ks.log")
kill -HUP "$KS_PID"
check "a reload without bob deletes his IKE SA" stack_wait 5 bash -c \
	"tail -n +$((l4 + 1)) '$tmp/ks.log' | grep -q 'bob.example): member no longer in the configuration (reload): IKE SA deleted'"
check "bob's sidecar got the Delete" stack_wait 3 grep -q "the GCKS deleted the IKE SA" "$tmp/sidecar2.log"

# gikev2_rekey = multicast needs a multicast rekey address: refused with file:line
printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s/bad-state\n\n[group g]\nid = 9\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\nprotocols = g-ikev2\ngikev2_rekey = multicast\n' \
	"$port" "$tmp" >"$tmp/bad.conf"
"$BIN/gdoi-ks" -c "$tmp/bad.conf" >"$tmp/bad.out" 2>&1; rc=$?
check "gikev2_rekey = multicast without rekey_multicast is refused at its line (exit $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'bad.conf:10: .*gikev2_rekey = multicast needs rekey_multicast' '$tmp/bad.out'"
[ "$tap_fail" -eq 0 ] || { stack_logs; tail -n 20 "$tmp/sidecar2.log" | sed 's/^/# /'; }
tap_plan_end
