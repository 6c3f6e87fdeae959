#!/usr/bin/env bash
# bench/held.sh RESULTS_DIR BUILD REPS PSK - the "SAs held" section of make bench
# (bench/run.sh calls it inside its network namespace): what a registration costs the
# key server (µs of its CPU, from /proc) while it holds many SAs, against the same
# registration while it holds few, measured in the same run.
#  - GDOI: 10,000 Phase 1 SAs held (32 members in closed loop leave one per
#    registration), then registrations with INITIAL-CONTACT (as gdoi-sidecar sends:
#    the member's older SAs are found and deleted) against registrations without it;
#  - G-IKEv2 (every member sends INITIAL_CONTACT): 4,000 members each holding an IKE
#    SA the key server keeps for GSA_INBAND_REKEY, against 256 members.
# Key server on CPU 0, reg-load on CPU 1.
set -u
umask 077
top=$(cd "$(dirname "$0")/.." && pwd)
results=$1 build=$2 reps=$3 psk=$4
bin=$build/bin bb=$build/bench work=$results/held
mkdir -p "$work"
cpu0=() cpu1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then cpu0=(taskset -c 0) cpu1=(taskset -c 1); fi
ks_pid=
trap '[ -n "$ks_pid" ] && kill "$ks_pid" 2>/dev/null; wait 2>/dev/null' EXIT

conf() {	# conf FILE PORT MEMBERS PROTOCOLS
	{
		printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s.state\nadmin_socket = %s.sock\nphase1 = aes256-sha256-ecp256\n\n' \
			"$2" "$1" "$1"
		printf '[group bench]\nid = 4711\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\nprotocols = %s\n\n' "$4"
		python3 "$top/bench/members.py" "$3" "$psk"
	} >"$1"
}
start() {	# start CONF
	rm -rf "$1.state"
	"${cpu0[@]}" "$bin/gdoi-ks" -c "$1" >"$1.log" 2>&1 &
	ks_pid=$!
	for _ in $(seq 200); do [ -S "$1.sock" ] && return 0; sleep 0.05; done
	echo "bench: gdoi-ks did not start: $(tail -3 "$1.log")" >&2
	return 1
}
stop() { kill "$ks_pid"; wait "$ks_pid" 2>/dev/null; ks_pid=; }
ks_ticks() { awk '{ print $14 + $15 }' "/proc/$ks_pid/stat"; }
rl() { "${cpu1[@]}" "$bb/reg-load" --server 127.0.0.1:"$port" --psk "$psk" --group 4711 --group-dh 19 "$@"; }
# measure OUT REG-LOAD-ARGS...: 3 s of registrations, 32 in flight; the key server's CPU per registration
measure() {
	local out=$1 t0 t1
	shift
	t0=$(ks_ticks)
	rl --concurrency 32 --seconds 3 --first-ip 127.1.0.1 "$@" >"$out.raw"
	t1=$(ks_ticks)
	python3 - "$out.raw" "$t0" "$t1" "$(getconf CLK_TCK)" >"$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
print(json.dumps({"registrations": r["registrations"], "failures": r["failures"], "ks_cpu_s": cpu,
                  "us_per_registration": 1e6 * cpu / max(r["registrations"], 1)}))
PY
}

# GDOI: 10,000 Phase 1 SAs, then alternately without and with INITIAL-CONTACT
port=18490
conf "$work/gdoi.conf" $port 256 gdoi
start "$work/gdoi.conf" || exit 1
rl --concurrency 32 --count 10000 --first-ip 127.1.0.1 >"$work/gdoi-fill.json"
for r in $(seq "$reps"); do
	measure "$results/held-gdoi-plain.$r.json"
	measure "$results/held-gdoi-ic.$r.json" --initial-contact
	rl --concurrency 32 --count 3000 --first-ip 127.1.0.1 >/dev/null	# SAs held again
done
stop

# G-IKEv2: 256 members, then 4,000 (filled 100 at a time, each from its own address)
for n in 256 4000; do
	port=$((18491 + (n > 256)))
	conf "$work/gikev2-$n.conf" $port $n gdoi,g-ikev2
	start "$work/gikev2-$n.conf" || exit 1
	for k in $(seq 0 $((n / 100 - 1))); do
		a=$((k * 100 + 1))
		rl --protocol g-ikev2 --concurrency 100 --count 100 --first-ip 127.1.$((a / 256)).$((a % 256)) >/dev/null
	done
	for r in $(seq "$reps"); do measure "$results/held-gikev2-$n.$r.json" --protocol g-ikev2; done
	stop
done
