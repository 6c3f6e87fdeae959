#!/usr/bin/env bash
# bench/pg.sh RESULTS_DIR BUILD REPS PSK - the PostgreSQL section of make bench
# (bench/run.sh calls it inside its network namespace): registrations/s with one and
# with two gdoi-ks on one PostgreSQL 15 (fsync on, synchronous_commit on: the durability
# a deployment has), next to one gdoi-ks on SQLite and to the DH bound, measured in the
# same run; and the leader failover time (kill -9 of the leader until the other's
# gdoictl status says leader). PostgreSQL runs as in the tests (tests/integration/lib/pg.sh).
set -u
umask 077	# the configurations hold pre-shared keys
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/integration/lib/pg.sh"
pg_ns "$@"
results=$1 build=$2 reps=$3 psk=$4
bin=$build/bin bb=$build/bench work=$results/pg
mkdir -p "$work"
why=$(pg_usable) || { echo "bench: PostgreSQL section skipped: $why" >&2; exit 0; }
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; pg_stop' EXIT
PG_PORT=18555
pg_start >/dev/null || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
conf() {	# conf FILE PORT STATE
	{
		printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s\nadmin_socket = %s\nphase1 = aes256-sha256-ecp256\n\n' \
			"$2" "$3" "$1.sock"
		printf '[group bench]\nid = 4711\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\n'
		printf 'tek_lifetime = 3600\nkek = aes256\nkek_lifetime = 86400\nrekey_unicast = yes\n\n'
		python3 "$top/bench/members.py" 512 "$psk"
	} >"$1"
}
start() {	# start CONF -> $pid
	rm -f "$1.sock"
	"$bin/gdoi-ks" -c "$1" >"$1.log" 2>&1 &
	pid=$!
	pids+=($pid)
	for _ in $(seq 200); do [ -S "$1.sock" ] && return 0; sleep 0.05; done
	echo "bench: gdoi-ks did not start: $(tail -3 "$1.log")" >&2
	return 1
}
load() {	# load PORT FIRST-IP OUT
	"$bb/reg-load" --server 127.0.0.1:$1 --psk "$psk" --group 4711 --group-dh 19 --concurrency 32 \
		--seconds 5 --first-ip "$2" >"$3"
}
ci="postgresql:$PG_CONNINFO"
conf "$work/sq.conf" 18541 "$work/sq.state"
conf "$work/a.conf" 18542 "$ci"
conf "$work/b.conf" 18543 "$ci"
for r in $(seq "$reps"); do
	"$bb/reg-load" --dh-baseline 19 --seconds 2 >"$results/pgdh.$r.json"
	start "$work/sq.conf" && load 18541 127.1.0.1 "$results/pgsq.$r.json"
	kill "$pid"; wait "$pid" 2>/dev/null
	start "$work/a.conf" && load 18542 127.1.0.1 "$results/pg1.$r.json"
	a=$pid
	start "$work/b.conf"
	b=$pid
	load 18542 127.1.0.1 "$work/l1.json" & l1=$!
	load 18543 127.1.1.1 "$work/l2.json"
	wait $l1
	python3 -c 'import json,sys; a,b=(json.load(open(x)) for x in sys.argv[1:3]); print(json.dumps({"per_second": a["per_second"]+b["per_second"], "failures": a["failures"]+b["failures"], "registrations": a["registrations"]+b["registrations"]}))' \
		"$work/l1.json" "$work/l2.json" >"$results/pg2.$r.json"
	# leader failover: A started first and leads
	t0=$(date +%s%N)
	kill -KILL "$a"; wait "$a" 2>/dev/null
	for _ in $(seq 500); do
		"$bin/gdoictl" --socket "$work/b.conf.sock" --json status 2>/dev/null | grep -Eq '"leader": ?true' && break
		sleep 0.01
	done
	t1=$(date +%s%N)
	echo "{\"failover_ms\": $(( (t1 - t0) / 1000000 ))}" >"$results/pgfail.$r.json"
	kill "$b"; wait "$b" 2>/dev/null
	pg_psql -c "DROP TABLE groups, teks, used_spis, ssrcs, members, blocked" >/dev/null
done
