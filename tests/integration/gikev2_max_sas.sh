#!/usr/bin/env bash
# gikev2_max_sas.sh - [server] gikev2_max_sas and gikev2_sa_lifetime reach the G-IKEv2
# engine: with gikev2_max_sas = 1 and two members of an inband-rekeyed group (no multicast
# rekey address), the first member's IKE SA is kept, the second's is deleted after its
# registration (the key server logs why, the member logs the Delete), and a rekey goes by
# GSA_INBAND_REKEY to the kept one only; the member whose SA is deleted at once registers
# again with a growing backoff. gikev2_sa_lifetime = 60 is accepted. TAP output;
# in a private network namespace (lib/netns.sh), as every script whose groups name a
# multicast destination.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl

KS_SERVER_EXTRA="gikev2_max_sas = 1
gikev2_sa_lifetime = 60" stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
protocols = g-ikev2
$(stack_members media alice bob)" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }

stack_sidecar_start "$(stack_gikev2_member alice)" ||
	{ echo "1..1"; echo "not ok 1 - the G-IKEv2 sidecar did not start"; exit 1; }
check "alice holds keys (GSA_AUTH)" stack_wait 15 "$CTL" --sidecar "$SC_SOCK" get media --format json

stack_sidecar2_start "$(stack_gikev2_member bob)"
check "bob holds keys (GSA_AUTH)" stack_wait 15 "$CTL" --sidecar "$SC2_SOCK" get media --format json
check "the key server did not keep bob's IKE SA (the limit of 1)" stack_wait 3 grep -q \
	"bob.example.*IKE SA not kept: the limit of kept IKE SAs is reached" "$tmp/ks.log"
check "bob's sidecar got the Delete" stack_wait 3 grep -q "the GCKS deleted the IKE SA" "$tmp/sidecar2.log"
check "alice's IKE SA was kept" bash -c "! grep -q 'alice.example.*IKE SA not kept' '$tmp/ks.log'"

l1=$(wc -l <"$tmp/ks.log")
"$CTL" --socket "$KS_SOCK" rekey media >/dev/null
check "the rekey went by GSA_INBAND_REKEY to 1 member" stack_wait 3 bash -c \
	"tail -n +$((l1 + 1)) '$tmp/ks.log' | grep -q 'GSA_INBAND_REKEY (.*) to 1 member(s)'"
check "alice answered it" stack_wait 3 grep -q 'alice.example) answered GSA_INBAND_REKEY$' "$tmp/ks.log"
# bob, deleted at once after each registration, registers again less and less often
# (1, 2, 4 s ...: not once a second, a DH exchange each time)
regs() { grep -c "member bob .* registered by G-IKEv2" "$tmp/ks.log"; }
r0=$(regs); sleep 7; r1=$(regs)
check "bob registered again with backoff: $((r1 - r0)) time(s) in 7 s (at most 4)" \
	test $((r1 - r0)) -ge 1 -a $((r1 - r0)) -le 4
[ "$tap_fail" -eq 0 ] || { stack_logs; tail -n 20 "$tmp/sidecar2.log" | sed 's/^/# /'; }
tap_plan_end
