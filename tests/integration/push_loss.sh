#!/usr/bin/env bash
# push_loss.sh - rekeys that arrive through 30 % packet loss. In a private network
# namespace an nftables rule drops 30 % of the GROUPKEY-PUSH (exchange 33) and
# GROUPKEY-PUSH-ACK (35) datagrams: `@th,208,8` is octet 18 of the UDP payload,
# the ISAKMP exchange type (UDP header 8 octets: bit (8 + 18) * 8). No netem, no tc.
# 100 members (bench/reg-load --hold, one socket and policy each, RFC 8263 ACKs when
# the KEK asks) register to gdoi-ks, then three `gdoictl rekey`s:
#   (a) unicast with push_ack: retransmitted to the members that have not acknowledged;
#   (b) multicast only: every send retransmitted (the loss hits all members at once).
# Every member must take every push (its SEQ reaches the group's within the window)
# without registering again: the key server's registration count stays at 100 per
# group. With push_retransmits = 10 a member misses a push only if all 11 sends are
# lost: 0.3^11 = 1.8e-6 per member and push, about 1e-3 for the 600 of a run (with
# 3 retransmits it would be 0.3^4 = 0.8 % each: two or three misses every run).
# Pushes sent, retransmitted and acknowledged are printed as TAP comments.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/ks.sh"
LOAD=$B/bench/reg-load
[ -x "$LOAD" ] || tap_skip_all "$LOAD not built (make test-bins)"
command -v nft >/dev/null || tap_skip_all "nft not installed (tests/deps.sh: nftables)"

N=100 REKEYS=3 LOSS=30
port=$(free_port)
mport=$(free_port)
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
conf=$tmp/ks.conf
log=$tmp/ks.log
{
	printf '[server]\nlisten = 127.0.0.1:%s\n\n' "$port"
	for g in uni:1001 mc:1002; do
		printf '[group %s]\nid = %s\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\n' "${g%:*}" "${g#*:}"
		printf 'kek = aes128\npush_retransmits = 10\npush_retransmit_interval = 100\n'
		if [ "${g%:*}" = uni ]; then
			printf 'rekey_unicast = yes\npush_ack = yes\npush_ack_misses = 3\n\n'
		else
			printf 'rekey_unicast = no\nrekey_multicast = 239.7.7.8:%s\nrekey_interface = 127.0.0.1\nrekey_ttl = 0\n\n' "$mport"
		fi
	done
	# Address-bound keys (docs/keyserver.md): members m0.. at 127.1.0.1..
	for i in $(seq 1 $N); do
		printf '[member m%d]\nid = ipv4:127.1.0.%d\naddress = 127.1.0.%d\npsk = %s\ngroups = uni, mc\n\n' \
			"$i" "$i" "$i" "$psk"
	done
} >"$conf"
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
status() { ctl --json status; }
tap_diag() { echo "# ks.log:"; tail -5 "$log" | sed 's/^/#   /'; }

check "in a private network namespace (no default route)" bash -c "! ip route show default | grep -q ."
nft add table inet loss &&
	nft add chain inet loss in '{ type filter hook input priority 0 ; }' &&
	nft add rule inet loss in udp dport 1-65535 @th,208,8 '{ 33, 35 }' counter &&
	nft add rule inet loss in udp dport 1-65535 @th,208,8 '{ 33, 35 }' numgen random mod 100 '<' $LOSS counter drop
check "nftables drops $LOSS % of pushes and ACKs" test $? -eq 0
check "gdoi-ks starts" ks_start "$conf" "$log"
# counters: "MATCHED DROPPED" datagrams of exchange 33 or 35 so far
counters() { nft list chain inet loss in | awk '/counter/ { for (i = 1; i < NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
gseq() { field "$(status)" "[g['seq'] for g in d['groups'] if g['name'] == '$1'][0]"; }

# phase GROUP ID [--mcast G]: N members, REKEYS rekeys; sets $out
phase() {
	local name=$1 id=$2
	shift 2
	local seq0 reg0 res
	seq0=$(gseq "$name")
	reg0=$(field "$(status)" "d['registrations']")
	out=$(timeout 120 "$LOAD" --server "127.0.0.1:$port" --psk "$psk" --group "$id" --concurrency 8 \
		--count $N --first-ip 127.1.0.1 --seconds 60 --hold --rekeys $REKEYS --push-wait 15 --settle 0.5 "$@" -- \
		"$CTL" --socket "$tmp/admin.sock" rekey "$name" 2>>"$tmp/load.err")
	res=$?
	echo "# $name: $out"
	check "$name: reg-load registered $N members and ran $REKEYS rekeys" \
		test "$(field "${out:-{\}}" "d.get('members', 0), d.get('rekeys', 0)")" = "($N, $REKEYS)"
	check "$name: the group SEQ went up by $REKEYS" test "$(gseq "$name")" -eq $((seq0 + REKEYS))
	check "$name: every member took every push (its SEQ reached the group's each time)" \
		test $res -eq 0 -a "$(field "${out:-{\}}" "d.get('applied'), d.get('pushes_taken')")" = "($N, $((N * REKEYS)))"
	check "$name: no member registered again (registrations +$N)" \
		test "$(field "$(status)" "d['registrations']")" -eq $((reg0 + N))
}

phase uni 1001
st=$(status)
echo "# uni: key server: $(field "$st" "'pushes_sent %s, retransmitted %s, acked %s' % (d['pushes_sent'], d['pushes_retransmitted'], d['pushes_acked'])")"
# A member misses an ACK only when each of the 11 sends lost the push or its ACK:
# 0.51^11 = 6e-4 per push, so nearly all pushes are acknowledged.
check "uni: pushes were retransmitted and acknowledged (>= 98 %)" \
	test "$(field "$st" "d['pushes_retransmitted'] > 0 and d['pushes_acked'] >= 0.98 * $N * $REKEYS")" = True
seq=$(gseq uni)
acked=$(field "$(ctl --json members uni)" "sum(m['acked_seq'] == $seq for m in d['members'])")
echo "# uni: $acked of $N members' last acknowledged SEQ is the group's ($seq)"
check "uni: the key server still serves all $N members" \
	test "$(field "$(ctl --json members uni)" "len(d['members'])")" -eq $N
read -r matched dropped <<<"$(counters)"
echo "# nftables: $dropped of $matched push and ACK datagrams dropped"
check "about $LOSS % of them were dropped (15..45 %)" \
	test "$((dropped * 100 / (matched ? matched : 1)))" -ge 15 -a "$((dropped * 100 / (matched ? matched : 1)))" -le 45

before=$(status)
phase mc 1002 --mcast "239.7.7.8:$mport"
st=$(status)
echo "# mc: key server: $(field "$st" "'pushes_sent +%d, retransmitted +%d' % (d['pushes_sent'] - $(field "$before" "d['pushes_sent']"), d['pushes_retransmitted'] - $(field "$before" "d['pushes_retransmitted']"))")"
read -r matched2 dropped2 <<<"$(counters)"
echo "# nftables: $((dropped2 - dropped)) of $((matched2 - matched)) multicast push datagrams dropped"
check "mc: some multicast pushes were dropped" test $((dropped2 - dropped)) -gt 0
check "gdoi-ks exits cleanly" ks_stop
tap_plan_end
