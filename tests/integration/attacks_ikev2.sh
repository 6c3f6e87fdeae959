#!/usr/bin/env bash
# Crafted attacks against the G-IKEv2 side of gdoi-ks (a group with protocols = gdoi,
# g-ikev2, on 127.0.0.1; tests/tools/attack_ike2.py crafts them). After each attack: a
# real G-IKEv2 member still registers (bench/reg-load --protocol g-ikev2, from an
# address no attack used), no sanitizer report in the log, the attack cost a bounded
# number of log lines, and the key server's RSS stayed bounded.
#  - IKE_SA_INIT floods from one source and from 200 (127.0.0.2...): at most
#    [server] gikev2_cookie_threshold (40 here; 100 by default) half-open SAs answered
#    with an SA, the rest asked for a COOKIE (RFC 7296 §2.6); a request that answers
#    its cookie gets through;
#  - invalid KE values (RFC 6989, RFC 7748 §6.1): P-256/P-384 points at infinity, off
#    the curve, of a wrong length; MODP-2048 0, 1, p-1, p, p+1; X25519 low-order and
#    non-canonical values (an all-zero shared secret): never an SA;
#  - Ni of 0, 15, 257, 1000 octets refused (16 and 256 answered);
#  - 10,000 junk IKEv2 datagrams a second whose drop offsets vary: rate-limited drop
#    lines naming payload and offset;
#  - RFC 7383 Encrypted Fragments under a half-open SA: Fragment Number 0 or > Total,
#    Total 65535, totals that disagree, bogus ICVs: never answered;
#  - GSA_AUTH with a wrong PSK repeated from one source: every one refused, no
#    registration, bounded log lines.
#  - to a G-IKEv2 gdoi-sidecar (inband rekeys: it keeps its IKE SA) on its IKE port:
#    GSA_INBAND_REKEY and INFORMATIONAL under unknown IKE SPIs, from the key server's
#    address and another one: never answered, its keys unchanged, and the next real
#    GSA_INBAND_REKEY still reaches it.
# GSA_REKEY abuse on a multicast rekey group: attacks_gikev2_rekey.sh.
set -u
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}:quarantine_size_mb=16"
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
LOAD=$B/bench/reg-load
[ -x "$LOAD" ] || tap_bail "$LOAD is not built (make test-bins)"
python3 -c 'import cryptography' 2>/dev/null || { echo "1..0 # SKIP python3-cryptography is missing"; exit 0; }
A="python3 $top/tests/tools/attack_ike2.py"
KS_SERVER_EXTRA="gikev2_cookie_threshold = 40"
stack_ks_start "[group media]
id = 4711
protocols = gdoi, g-ikev2
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes256
rekey_unicast = yes

[member real]
id = ipv4:127.0.1.1
address = 127.0.1.1
psk = $psk
groups = media

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media" || { notok "gdoi-ks starts"; tap_plan_end; exit 1; }
stack_sidecar_start "identity = fqdn:alice.example
psk = $psk

[group media]
id = 4711
protocol = g-ikev2
allow = uid:$(id -u)" || { notok "the G-IKEv2 sidecar starts"; tap_plan_end; exit 1; }
# the TEK SPIs the sidecar hands out, sorted, one line
spis() {
	"$BIN/gdoictl" --sidecar "$SC_SOCK" get media --format json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted(str(t.get("spi")) for t in json.load(sys.stdin).get("teks", []))))'
}
stack_wait 15 "$BIN/gdoictl" --sidecar "$SC_SOCK" get media --format json || { notok "the sidecar holds keys"; tap_plan_end; exit 1; }
regs() { "$BIN/gdoictl" --socket "$KS_SOCK" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["registrations"])'; }
ks_lines() { cat "$tmp/ks.log" "$tmp/sidecar.log" | wc -l; }	# both daemons' lines
since() { tail -n +$(($1 + 1)) "$tmp/ks.log"; }	# the key server's lines after the first $1
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$KS_PID/status"; }
failed_attack=""
attack_failed() { failed_attack="$failed_attack; $1"; }
# healthy WHAT KS_LINES RSS0 MAX_LINES: one TAP line for the attack just run
healthy() {
	local what=$1 k0=$2 r0=$3 max=$4 why=$failed_attack n r1 out
	failed_attack=""
	out=$("$LOAD" --server "127.0.0.1:$port" --first-ip 127.0.1.1 --protocol g-ikev2 --psk "$psk" \
		--group 4711 --group-dh 19 --count 1 --seconds 10 2>&1) || why="$why; a real member cannot register: $out"
	kill -0 "$KS_PID" 2>/dev/null || why="$why; gdoi-ks died"
	kill -0 "$SC_PID" 2>/dev/null || why="$why; gdoi-sidecar died"
	grep -q "Sanitizer\|runtime error" "$tmp/ks.log" "$tmp/sidecar.log" && why="$why; sanitizer report"
	n=$(( $(ks_lines) - k0 ))
	[ "$n" -le "$max" ] || why="$why; $n log lines (at most $max)"
	r1=$(rss)
	[ $((r1 - r0)) -le 32768 ] || why="$why; gdoi-ks RSS grew by $((r1 - r0)) KiB (at most 32768)"
	echo "# $what: $n log line(s), gdoi-ks RSS $r0 -> $r1 KiB"
	if [ -z "$why" ]; then ok "$what: the key server keeps serving"; else notok "$what${why}"; tail -20 "$tmp/ks.log" | sed 's/^/#   /'; fi
}
run() {	# run WHAT MAX_LINES ARGS...: one attack_ike2.py command, then healthy
	local what=$1 max=$2 k0 r0 r
	shift 2
	k0=$(ks_lines) r0=$(rss)
	$A "$@" | sed 's/^/# /'
	r=${PIPESTATUS[0]}
	[ "$r" -eq 0 ] || attack_failed "$what: the key server did not behave as documented"
	sleep 0.3
	healthy "$what" "$k0" "$r0" "$max"
}

run "invalid KE values (groups 19, 20, 14, 31) refused" 40 ke "$port"
l0=$(wc -l <"$tmp/ks.log")
run "Ni shorter than 16 or longer than 256 octets refused" 20 nonce "$port"
check "the Ni drop is logged naming the payload (40) and its offset" \
	eval 'since "$l0" | grep -q "dropped: .*payload 40 at [0-9]*"'

l0=$(wc -l <"$tmp/ks.log")
run "10,000 junk IKEv2 datagrams a second, drop offsets varying" 40 junk "$port" 10000 50
check "junk drops are logged naming payload and offset" \
	eval 'since "$l0" | grep -q "dropped: .*payload [0-9]* at [0-9]*"'

run "RFC 7383 fragments: number 0, > total, total 65535, disagreeing totals" 30 skf "$port" 3000

k0=$(ks_lines) l0=$(wc -l <"$tmp/ks.log") r0=$(rss) g0=$(regs)
out=$("$LOAD" --server "127.0.0.1:$port" --first-ip 127.0.1.1 --protocol g-ikev2 --psk wrong-key \
	--concurrency 1 --group 4711 --group-dh 19 --count 50 --seconds 10 2>&1); rc=$?
echo "# wrong PSK: $out"
g1=$(regs)
check "50 GSA_AUTH with a wrong PSK: all refused, no registration (registrations $g0 -> $g1)" \
	eval '[ "$rc" -ne 0 ] && [ "$g0" = "$g1" ] && since "$l0" | grep -q "failed (notify 24)"'
healthy "50 GSA_AUTH with a wrong PSK from one source" "$k0" "$r0" 30

run "IKE_SA_INIT flood from one source (<= 40 half-open SAs, then cookies)" 30 flood "$port" 2 1 40
# the 40 half-open SAs of the first flood are still there (30 s): no SA answer at all
run "IKE_SA_INIT flood from 200 sources (cookies only)" 30 flood "$port" 2 200 0
# ---- to the sidecar's IKE port -------------------------------------------------------
sc_port=$(ss -Huanp 2>/dev/null | awk -v p="pid=$SC_PID," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
if [ -z "$sc_port" ]; then
	notok "the sidecar's IKE port (ss -uanp)"
else
	s0=$(spis)
	run "GSA_INBAND_REKEY / INFORMATIONAL to the sidecar under unknown SPIs, from 127.0.0.1 and 127.0.0.77" \
		30 member "$sc_port" 2000
	s1=$(spis)
	check "the sidecar's keys unchanged by them ($s1)" test -n "$s0" -a "$s0" = "$s1"
	"$BIN/gdoictl" --socket "$KS_SOCK" rekey media >/dev/null
	newspi() { local s; s=$(spis); [ -n "$s" ] && [ "$s" != "$s0" ]; }
	check "its IKE SA survived: the next GSA_INBAND_REKEY reaches it within 2 s" stack_wait 2 newspi
fi

echo "# log lines: gdoi-ks $(wc -l <"$tmp/ks.log"), gdoi-sidecar $(wc -l <"$tmp/sidecar.log")"
tap_plan_end
