#!/usr/bin/env bash
# make bench: how fast, how big, against what limit (docs/performance.md).
# Every figure comes with a baseline measured in the same run, as a ratio, with
# the median and spread of several repetitions: machines here are noisy.
# Runs in a private network namespace (loopback only). Writes BUILD/bench/results.json
# and prints a table.
set -u
umask 077	# the configurations hold pre-shared keys (the daemons refuse them open to others)
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
if [ -z "${GDOI_BENCH_NETNS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
	exec env GDOI_BENCH_NETNS=1 "${ns[@]}" "$0" "$@"
fi
ip link set lo up
ip route add 224.0.0.0/4 dev lo 2>/dev/null
bin=$build/bin bb=$build/bench
out=$bb/results.json work=$bb/work
rm -rf "$work"; mkdir -p "$work"
reps=${BENCH_REPS:-3}
# BENCH_ONLY=reg|gike2|scale|fan|loss|lat|ipc|media|mem|pg|held: only that section (the table shows what ran).
only=${BENCH_ONLY:-}
run() { [ -z "$only" ] || [ "$only" = "$1" ]; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
cpu0=() cpu1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then cpu0=(taskset -c 0) cpu1=(taskset -c 1); fi
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

# A key server config: group "bench" (SRTP TEK, KEK) and N members 127.1.x.y with
# address-bound keys (docs/keyserver.md: the scalable way to select a PSK).
ks_conf() {	# ks_conf FILE PORT NMEMBERS DHGROUP
	local f=$1 port=$2 n=$3 dh=$4
	local suite=aes256-sha256-ecp256
	[ "$dh" = 14 ] && suite=aes128-sha256-modp2048
	{
		printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s\nadmin_socket = %s\nphase1 = %s\n\n' \
			"$port" "$f.state" "$f.sock" "$suite"
		printf '[group bench]\nid = 4711\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\n'
		printf 'tek_lifetime = 3600\nkek = aes256\nkek_lifetime = 86400\nrekey_unicast = yes\n\n'
		python3 "$top/bench/members.py" "$n" "$psk"
	} >"$f"
}
start_ks() {	# start_ks CONF -> $ks_pid
	rm -rf "$1.state"
	"${cpu0[@]}" "$bin/gdoi-ks" -c "$1" >"$1.log" 2>&1 &
	ks_pid=$!
	pids+=($ks_pid)
	for _ in $(seq 100); do [ -S "$1.sock" ] && return 0; sleep 0.05; done
	echo "bench: gdoi-ks did not start: $(tail -3 "$1.log")" >&2
	return 1
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# reg_pinned OUT REG-LOAD-ARGS...: one closed-loop run on CPU 1 against $ks_pid (on CPU 0);
# OUT gets reg-load's JSON with the key server's CPU seconds in that window (/proc/PID/stat
# utime + stime) and registrations per key-server CPU second.
reg_pinned() {
	local o=$1; shift
	local t0 t1
	t0=$(awk '{print $14 + $15}' "/proc/$ks_pid/stat")
	"${cpu1[@]}" "$bb/reg-load" "$@" >"$o.raw"
	t1=$(awk '{print $14 + $15}' "/proc/$ks_pid/stat")
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['ks_cpu_s']=(int(sys.argv[2])-int(sys.argv[3]))/int(sys.argv[4]); d['per_ks_cpu_s']=d['registrations']/max(d['ks_cpu_s'],0.001); print(json.dumps(d))" \
		"$o.raw" "$t1" "$t0" "$(getconf CLK_TCK)" >"$o"
}

results=$work/parts
mkdir -p "$results"

# ---- 1. registration throughput (one key server core) vs the DH bound ----
run reg && for dh in 19 14; do
	for r in $(seq "$reps"); do
		"${cpu0[@]}" "$bb/reg-load" --dh-baseline $dh --seconds 2 >"$results/dh$dh.$r.json"
	done
	ks_conf "$work/ks$dh.conf" 18480 256 $dh
	start_ks "$work/ks$dh.conf" || exit 1
	for r in $(seq "$reps"); do
		# The load generator does the same DH work per registration as the key
		# server and shares the machine: the key server's own CPU time per
		# registration is measured too (registrations per key-server CPU second).
		reg_pinned "$results/reg$dh.$r.json" --server 127.0.0.1:18480 --psk "$psk" --group 4711 \
			--group-dh $dh --concurrency 32 --seconds 5 --first-ip 127.1.0.1
	done
	kill "$ks_pid"; wait "$ks_pid" 2>/dev/null
done

# ---- 1c. G-IKEv2 registrations next to GDOI's, against the same DH bound ----
# One key server, its group served by both front ends (protocols = gdoi, g-ikev2),
# pinned as in 1; each repetition runs GDOI (Main Mode + GROUPKEY-PULL) then
# G-IKEv2 (IKE_SA_INIT + GSA_AUTH, PSK, the key server's default suite in that DH
# group), 5 s each, 32 members in closed loop. Either costs the key server one DH
# key pair and one derivation; neither signs or verifies anything (PSK, and the
# group has no multicast Rekey SA, so no GSA_REKEY key goes out).
run gike2 && for dh in 19 14; do
	for r in $(seq "$reps"); do
		"${cpu0[@]}" "$bb/reg-load" --dh-baseline $dh --seconds 2 >"$results/gdh$dh.$r.json"
	done
	ks_conf "$work/ks-gike$dh.conf" 18485 256 $dh
	sed -i 's/^\[group bench\]$/[group bench]\nprotocols = gdoi, g-ikev2/' "$work/ks-gike$dh.conf"
	start_ks "$work/ks-gike$dh.conf" || exit 1
	for r in $(seq "$reps"); do
		for proto in gdoi g-ikev2; do
			reg_pinned "$results/greg-$proto$dh.$r.json" --server 127.0.0.1:18485 --psk "$psk" \
				--group 4711 --group-dh $dh --concurrency 32 --seconds 5 --first-ip 127.1.0.1 \
				--protocol $proto
		done
	done
	kill "$ks_pid"; wait "$ks_pid" 2>/dev/null
done

# ---- 1b. all cores: group 19 registrations with workers = 1 and workers = 2 ----
# 160 members in closed loop (enough in flight that neither side waits for the
# other). Neither process pinned: the key server may use every core, and the load
# generator (reg-load --reuse-dh: one DH derivation per registration) competes
# with it for them. Each run records the registrations/s R, reg-load's wall time
# and CPU seconds (its getrusage), and the key server's CPU seconds in that
# window (/proc/PID/stat utime + stime, all its threads). ks_cpu_share = its CPU
# seconds / (wall seconds x the cores it can use: min(workers, CPUs));
# docs/performance.md "All cores" argues the normalised ratio
# (R2 / share2) / (R1 / share1) against the raw R2 / R1.
ncpu=$(nproc)
run scale && for w in 1 2; do
	ks_conf "$work/ks-w$w.conf" 18520 160 19
	sed -i "s/^\[server\]$/[server]\nworkers = $w/" "$work/ks-w$w.conf"
	rm -rf "$work/ks-w$w.conf.state"
	"$bin/gdoi-ks" -c "$work/ks-w$w.conf" >"$work/ks-w$w.conf.log" 2>&1 &
	ks_pid=$!
	pids+=($ks_pid)
	for _ in $(seq 100); do [ -S "$work/ks-w$w.conf.sock" ] && break; sleep 0.05; done
	# warm-up: every member once (Phase 1 SAs, SQLite pages)
	"$bb/reg-load" --server 127.0.0.1:18520 --psk "$psk" --group 4711 --group-dh 19 --concurrency 160 \
		--count 160 --first-ip 127.1.0.1 --reuse-dh >/dev/null
	for r in $(seq "$reps"); do
		t0=$(awk '{print $14 + $15}' "/proc/$ks_pid/stat")
		"$bb/reg-load" --server 127.0.0.1:18520 --psk "$psk" --group 4711 --group-dh 19 \
			--concurrency 160 --seconds 5 --first-ip 127.1.0.1 --reuse-dh >"$results/scale$w.$r.raw"
		t1=$(awk '{print $14 + $15}' "/proc/$ks_pid/stat")
		python3 - "$results/scale$w.$r.raw" "$t0" "$t1" "$(getconf CLK_TCK)" "$w" "$ncpu" >"$results/scale$w.$r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t0, t1, hz, w, ncpu = (int(x) for x in sys.argv[2:7])
d["workers"] = w
d["ks_cpu_s"] = (t1 - t0) / hz
d["ks_cores"] = min(w, ncpu)
d["ks_cpu_share"] = d["ks_cpu_s"] / (d["seconds"] * d["ks_cores"])
d["per_ks_cpu_s"] = d["registrations"] / max(d["ks_cpu_s"], 0.001)
d["loadgen_cpu_share"] = d["cpu_s"] / d["seconds"]
print(json.dumps(d))
PY
	done
	kill "$ks_pid"; wait "$ks_pid" 2>/dev/null
done

# ---- 3. rekey fan-out: one push to 1000 and 10,000 members (multicast and unicast) ----
# 10,000 members: reg-load holds 20,000 sockets (one per member, one joined to the
# multicast group each) and raises its descriptor limit; the key server one socket.
# The key server's CPU for the push: its main thread's run time (/proc/PID/schedstat, ns)
# read by the trigger just before gdoictl and again once reg-load has seen every member take
# it (nothing else runs then: the members are registered). BENCH_FAN_MODES / BENCH_FAN_SIZES
# run some of the cases (the 1-member baseline of a mode is needed for its ratios).
run fan && for mode in ${BENCH_FAN_MODES:-multicast unicast}; do
	for n in ${BENCH_FAN_SIZES:-1 1000 10000}; do
		ks_conf "$work/ks-fan.conf" 18483 "$(( n > 1000 ? n : 1000 ))" 19
		if [ $mode = multicast ]; then
			sed -i 's/^rekey_unicast = yes/rekey_unicast = no\nrekey_multicast = 239.1.2.4:1849\nrekey_interface = 127.0.0.1\nrekey_ttl = 0/' "$work/ks-fan.conf"
			extra=(--mcast 239.1.2.4:1849)
		else
			extra=()
		fi
		start_ks "$work/ks-fan.conf" || exit 1
		"${cpu1[@]}" "$bb/reg-load" --server 127.0.0.1:18483 --psk "$psk" --group 4711 --group-dh 19 \
			--concurrency "$(( n > 1000 ? 64 : 32 ))" --count $n --first-ip 127.1.0.1 --seconds 120 --hold "${extra[@]}" -- \
			sh -c 'read -r t _ <"/proc/$1/schedstat"; read -r s <"/proc/$1/stat"; echo "$t $s" >"$2"; shift 2; exec "$@"' \
			sh "$ks_pid" "$work/fan.t0" \
			"$bin/gdoictl" --socket "$work/ks-fan.conf.sock" rekey bench >"$results/fan-$mode-$n.raw"
		read -r t1 _ <"/proc/$ks_pid/schedstat"
		read -r s1 <"/proc/$ks_pid/stat"
		python3 - "$results/fan-$mode-$n.raw" "$(cat "$work/fan.t0")" "$t1 $s1" "$(getconf CLK_TCK)" \
			>"$results/fan-$mode-$n.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a, b, hz = sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4])
# schedstat's run time (ns), then /proc/PID/stat: utime and stime are its fields 14 and 15
# (the command in parentheses has no spaces here)
d["ks_cpu_ms"] = (int(b[0]) - int(a[0])) / 1e6
d["ks_utime_ms"] = (int(b[14]) - int(a[14])) * 1000 / hz
d["ks_stime_ms"] = (int(b[15]) - int(a[15])) * 1000 / hz
print(json.dumps(d))
PY
		kill "$ks_pid"; wait "$ks_pid" 2>/dev/null
	done
done

# ---- 3b. rekeys through loss: 1000 members, 10 % and 30 % of pushes and ACKs dropped ----
# An nftables rule on the ISAKMP exchange octet (18 of the UDP payload: bit (8 + 18) * 8)
# drops pushes (33) and RFC 8263 ACKs (35) on arrival. Unicast rekeys with ACKs, the
# GET VPN-like 3 retransmissions, 500 ms apart (the 1000 simulated members need about
# 0.4 s of one core to open a push each); the share of members that took every one of
# 5 pushes without registering again, and how many the key server still serves.
loss_rekeys=5 loss_retransmits=3 loss_interval=500
if ! run loss; then :
elif command -v nft >/dev/null && nft add table inet bench_loss 2>/dev/null; then
	nft add chain inet bench_loss in '{ type filter hook input priority 0 ; }'
	for pct in 10 30; do
		nft flush chain inet bench_loss in
		nft add rule inet bench_loss in udp dport 1-65535 @th,208,8 '{ 33, 35 }' counter
		nft add rule inet bench_loss in udp dport 1-65535 @th,208,8 '{ 33, 35 }' \
			numgen random mod 100 '<' $pct counter drop
		ks_conf "$work/ks-loss.conf" 18484 1000 19
		sed -i "s/^rekey_unicast = yes/rekey_unicast = yes\npush_ack = yes\npush_retransmits = $loss_retransmits\npush_retransmit_interval = $loss_interval/" \
			"$work/ks-loss.conf"
		start_ks "$work/ks-loss.conf" || exit 1
		"${cpu1[@]}" "$bb/reg-load" --server 127.0.0.1:18484 --psk "$psk" --group 4711 --group-dh 19 \
			--concurrency 32 --count 1000 --first-ip 127.1.0.1 --seconds 120 --hold \
			--rekeys $loss_rekeys --push-wait 10 --settle 0.6 -- \
			"$bin/gdoictl" --socket "$work/ks-loss.conf.sock" rekey bench >"$results/loss$pct.raw"
		for op in status "members bench"; do
			"$bin/gdoictl" --socket "$work/ks-loss.conf.sock" --json $op >"$work/loss.${op%% *}"
		done
		nft list chain inet bench_loss in >"$work/loss.nft"
		python3 - "$results/loss$pct.raw" "$work/loss" $pct $loss_retransmits $loss_interval \
			>"$results/loss$pct.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1])); f = sys.argv[2]
st, ms = json.load(open(f + ".status")), json.load(open(f + ".members"))
n = [int(x) for x in re.findall(r"packets (\d+)", open(f + ".nft").read())]
d.update(loss_pct=int(sys.argv[3]), retransmits=int(sys.argv[4]), interval_ms=int(sys.argv[5]),
         members_served=len(ms["members"]),
         ks_registrations=st["registrations"], pushes_sent=st["pushes_sent"],
         pushes_retransmitted=st["pushes_retransmitted"], pushes_acked=st["pushes_acked"],
         datagrams=n[0], dropped=n[1])
print(json.dumps(d))
PY
		kill "$ks_pid"; wait "$ks_pid" 2>/dev/null
	done
	nft delete table inet bench_loss
else
	echo "bench: no nftables here (tests/deps.sh): rekeys through loss not measured" >&2
fi

# ---- 2. latency: sidecar start to first key on its socket (group 19) ----
if run lat || run ipc; then
ks_conf "$work/ks-lat.conf" 18481 8 19
start_ks "$work/ks-lat.conf" || exit 1
cat >"$work/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:18481
local = 127.1.0.1:0
identity = ipv4:127.1.0.1
psk = $psk
socket = $work/sidecar.sock

[group bench]
id = 4711
rekey = unicast
allow = uid:$(id -u)
CONF
python3 - "$bin/gdoi-sidecar" "$work/sidecar.conf" "$work/sidecar.sock" 30 >"$results/latency.json" <<'PY'
import json, os, socket, subprocess, sys, time
exe, conf, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lat, cpu = [], []	# cpu: the sidecar's own CPU ms to its first key (schedstat), steadier under load
for i in range(n):
    try: os.unlink(path)
    except FileNotFoundError: pass
    t0 = time.monotonic()
    p = subprocess.Popen([exe, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got = None
    while time.monotonic() - t0 < 10:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path)
            f = s.makefile("rw")
            while True:
                f.write('{"op":"get","group":"bench"}\n'); f.flush()
                r = json.loads(f.readline())
                if r.get("ok"):
                    got = time.monotonic() - t0
                    with open("/proc/%d/schedstat" % p.pid) as st:
                        cpu.append(int(st.read().split()[0]) / 1e6)
                    break
                time.sleep(0.0005)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.0005)
    p.terminate(); p.wait()
    if got is not None: lat.append(got * 1000)
lat.sort()
cpu.sort()
print(json.dumps({"runs": n, "ok": len(lat), "p50_ms": lat[len(lat) // 2], "p99_ms": lat[(len(lat) - 1) * 99 // 100],
                  "cpu_p50_ms": cpu[len(cpu) // 2]}))
PY
"$bb/reg-load" --server 127.0.0.1:18481 --psk "$psk" --group 4711 --group-dh 19 --concurrency 1 --count 30 \
	--first-ip 127.1.0.2 >"$results/latency-baseline.json"

# ---- 4. IPC: get round trip, snapshot to 100 subscribers ----
"$bin/gdoi-sidecar" -c "$work/sidecar.conf" >"$work/sidecar.log" 2>&1 &
sc_pid=$!
pids+=($sc_pid)
for _ in $(seq 100); do [ -S "$work/sidecar.sock" ] && break; sleep 0.05; done
sleep 1
"$bb/ipc-load" --socket "$work/sidecar.sock" --group bench --gets 5000 --subscribers 100 \
	--ks-socket "$work/ks-lat.conf.sock" --gdoictl "$bin/gdoictl" >"$results/ipc.json"
# ---- 6b. sidecar RSS at rest (next to the key server's at rest) ----
echo "{\"sidecar_rss_kib\":$(rss_kib $sc_pid),\"keyserver_rss_kib\":$(rss_kib $ks_pid)}" >"$results/rest.json"
kill "$sc_pid" "$ks_pid"; wait 2>/dev/null
fi

# ---- 5. media path: libgdoisrtp against raw libsrtp2 ----
run media && "${cpu1[@]}" "$bb/media" --packets 20000 --reps $((reps * 2 + 1)) >"$results/media.json"

# ---- 6. key server memory per registered member at 10,000 members ----
if run mem; then
ks_conf "$work/ks-mem.conf" 18482 10000 19
start_ks "$work/ks-mem.conf" || exit 1
sleep 0.5
rss0=$(rss_kib $ks_pid)
"${cpu1[@]}" "$bb/reg-load" --server 127.0.0.1:18482 --psk "$psk" --group 4711 --group-dh 19 --concurrency 64 \
	--count 10000 --first-ip 127.1.0.1 --seconds 300 >"$results/mem-load.json"
sleep 0.5
rss1=$(rss_kib $ks_pid)
echo "{\"members\":10000,\"rss_before_kib\":$rss0,\"rss_after_kib\":$rss1}" >"$results/mem.json"
kill "$ks_pid"; wait 2>/dev/null
fi

# ---- 7. several key servers on one PostgreSQL: 1 vs 2 processes, leader failover ----
run pg && "$top/bench/pg.sh" "$results" "$build" "$reps" "$psk"

# ---- 8. what a registration costs with many SAs held (INITIAL-CONTACT) ----
run held && "$top/bench/held.sh" "$results" "$build" "$reps" "$psk"

python3 "$top/bench/report.py" "$results" "$out" "$reps"
