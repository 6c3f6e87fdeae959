# lib/ks.sh - helpers shared by the gdoi-ks integration scripts (sourced).
# Binaries come from $GDOI_BUILD (default build/).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
B=${GDOI_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac
KS=$B/bin/gdoi-ks
CTL=$B/bin/gdoictl
PROBE=$B/tests/gm-probe
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

. "$top/tests/integration/lib/tap.sh"

for b in "$KS" "$CTL" "$PROBE"; do
	if [ ! -x "$b" ]; then
		echo "1..0 # SKIP $b not built (make test-bins)"
		exit 0
	fi
done

umask 077	# the configurations hold pre-shared keys: gdoi-ks refuses them open to others
tmp=$(mktemp -d /tmp/gdoi-ks-test.XXXXXX)
ks_pid=
cleanup() {
	[ -n "$ks_pid" ] && kill -TERM "$ks_pid" 2>/dev/null && wait "$ks_pid" 2>/dev/null
	jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ks_start CONFIG LOG [extra args]: starts gdoi-ks, waits for its admin socket.
ks_start() {
	local conf=$1 log=$2
	shift 2
	"$KS" -c "$conf" --state "$tmp/state" --admin-socket "$tmp/admin.sock" "$@" 2>>"$log" &
	ks_pid=$!
	for _ in $(seq 1 100); do
		[ -S "$tmp/admin.sock" ] && return 0
		kill -0 "$ks_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# ks_stop: SIGTERM and wait; returns the daemon's exit status.
ks_stop() {
	local rc=0
	kill -TERM "$ks_pid" 2>/dev/null
	wait "$ks_pid" || rc=$?
	ks_pid=
	return $rc
}

# jq-like field extraction with python3: jget JSON EXPR (EXPR uses d)
jget() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=eval(sys.argv[2]); print(json.dumps(r) if isinstance(r,(list,dict,bool)) or r is None else r)' "$1" "$2"
}

# members_alice_bob: the two [member] sections most scripts use, in group media
# (alice may send, bob only receives)
members_alice_bob() {
	printf '%s\n' '[member alice]' 'id = fqdn:alice.example' 'psk = alice-secret' 'groups = media' \
		'may_send = yes' '' '[member bob]' 'id = fqdn:bob.example' 'psk = bob-secret' 'groups = media'
}

# pg_ks_conf PORT FILE: a gdoi-ks on $PG_CONNINFO serving group media (1234) to
# alice and bob on 127.0.0.1:PORT
pg_ks_conf() {
	cat >"$2" <<CONF
[server]
listen = 127.0.0.1:$1
state = postgresql:$PG_CONNINFO

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes128
rekey_unicast = yes

CONF
	members_alice_bob >>"$2"
}
