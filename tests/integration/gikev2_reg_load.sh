#!/usr/bin/env bash
# gikev2_reg_load.sh - bench/reg-load --protocol g-ikev2 (the load generator of
# bench/run.sh section gike2) against a real gdoi-ks, so that the mode cannot rot:
# 8 address-bound members register 20 times in closed loop by IKE_SA_INIT +
# GSA_AUTH (PSK), in DH group 19 and (4 times) 14, every registration with its
# TEK's keys, and the key server counts each one. It must also report failures
# as failures: a wrong PSK and a group without g-ikev2 give no registration.
# TAP output.
set -u
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/ks.sh"
LOAD=$B/bench/reg-load
[ -x "$LOAD" ] || tap_skip_all "$LOAD not built (make test-bins)"

N=8
port=$(free_port)
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
conf=$tmp/ks.conf
log=$tmp/ks.log
{
	printf '[server]\nlisten = 127.0.0.1:%s\n\n' "$port"
	printf '[group both]\nid = 4711\nprotocols = gdoi, g-ikev2\ntek = AES128_CM_SHA1_80\n'
	printf 'destination = 239.1.2.3:5004\nkek = aes256\nrekey_unicast = yes\n\n'
	printf '[group gdoionly]\nid = 4712\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.4:5004\n\n'
	for i in $(seq 1 $N); do
		printf '[member m%d]\nid = ipv4:127.1.0.%d\naddress = 127.1.0.%d\npsk = %s\ngroups = both, gdoionly\n\n' \
			"$i" "$i" "$i" "$psk"
	done
} >"$conf"
tap_diag() { echo "# ks.log:"; tail -5 "$log" | sed 's/^/#   /'; }
load() { "$LOAD" --server 127.0.0.1:"$port" --first-ip 127.1.0.1 --concurrency 4 --protocol g-ikev2 "$@"; }
registrations() { jget "$("$CTL" --socket "$tmp/admin.sock" --json status)" 'd["registrations"]'; }

check "gdoi-ks starts (group 4711: protocols = gdoi, g-ikev2)" ks_start "$conf" "$log"

out=$(load --psk "$psk" --group 4711 --group-dh 19 --count 20 --seconds 8); rc=$?
echo "# group 19: $out"
check "group 19: reg-load exits 0" test "$rc" -eq 0
check "group 19: 20 registrations with keys, 0 failures" \
	test "$(jget "$out" '[d["registrations"], d["failures"], d["protocol"]]')" = '[20, 0, "g-ikev2"]'
check "the key server counted 20 registrations" test "$(registrations)" -eq 20

out=$(load --psk "$psk" --group 4711 --group-dh 14 --count 4 --seconds 8); rc=$?
echo "# group 14: $out"
check "group 14 (MODP-2048): 4 registrations, 0 failures" \
	test "$rc.$(jget "$out" '[d["registrations"], d["failures"], d["dh_group"]]')" = '0.[4, 0, 14]'

out=$(load --psk wrong-key --group 4711 --group-dh 19 --count 4 --seconds 8); rc=$?
echo "# wrong PSK: $out"
check "a wrong PSK: 0 registrations, 4 failures, exit 1" \
	test "$rc.$(jget "$out" '[d["registrations"], d["failures"]]')" = '1.[0, 4]'

out=$(load --psk "$psk" --group 4712 --group-dh 19 --count 4 --seconds 8); rc=$?
echo "# group without g-ikev2: $out"
check "a group without g-ikev2: 0 registrations, 4 failures" \
	test "$rc.$(jget "$out" '[d["registrations"], d["failures"]]')" = '1.[0, 4]'
check "the key server counted no more" test "$(registrations)" -eq 24
check "the key server refused the group without g-ikev2 (INVALID_GROUP_ID)" \
	grep -q "G-IKEv2 registration from 127.1.0.* refused" "$log"
check "gdoi-ks stops cleanly" ks_stop
tap_plan_end
