# lib/stack.sh - a real gdoi-ks and gdoi-sidecar on loopback, for integration
# scripts (sourced). Binaries come from $GDOI_BUILD (default build/).
#
#   stack_need PROG...            exits with a failing TAP plan when one is not built
#   stack_ks_start CONF_BODY      writes $tmp/ks.conf ([server] section added, with the
#                                 lines of $KS_SERVER_EXTRA) and starts gdoi-ks
#   stack_sidecar_start CONF_BODY writes $tmp/sidecar.conf ([sidecar] section added), starts it
#   stack_sidecar2_start CONF_BODY the same for a second one: $SC2_SOCK, $tmp/sidecar2.log
#   stack_members GROUPS NAME...  [member NAME] sections: id fqdn:NAME.example, the PSK, GROUPS
#   stack_gikev2_member NAME      a sidecar's CONF_BODY: member NAME, group media (id 1234) by
#                                 G-IKEv2, open to this uid
#   stack_gikev2_sc_two DIR NAME  a G-IKEv2 sidecar for member NAME with two key servers,
#                                 127.0.0.1 and 127.0.0.2 on $kport, fast retries; config,
#                                 run/sidecar.sock and sidecar.log in $tmp/DIR, pid $SC_LAST_PID
#   stack_wait SECONDS CMD...     retries CMD every 0.1 s until it succeeds
#   stack_member NAME psk|cert [GROUPS [LINES]]  a [member NAME] section: id
#                                 fqdn:NAME.example, psk = $psk or auth = cert,
#                                 groups = GROUPS (default media), more LINES
#
# After sourcing: $tmp (removed on exit unless KEEP is set), $port, $psk, $KS_SOCK (admin),
# $SC_SOCK (IPC, in $tmp/run), $BIN. TAP helpers (lib/tap.sh): ok, notok, check, skip, tap_plan_end.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
B=${GDOI_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac
BIN=$B/bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

. "$top/tests/integration/lib/tap.sh"

stack_need() {
	local p
	for p in "$@"; do
		if [ ! -x "$BIN/$p" ]; then
			echo "1..1"
			echo "not ok 1 - $BIN/$p is not built (make test-bins)"
			exit 1
		fi
	done
}

tmp=$(mktemp -d /tmp/gdoi-stack.XXXXXX)
chmod 0755 "$tmp"
stack_pids=()
stack_cleanup() {
	local p
	for p in "${stack_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap stack_cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
psk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
KS_SOCK=$tmp/ks.sock
SC_SOCK=$tmp/run/sidecar.sock

stack_wait() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

stack_member() {
	local auth="psk = $psk"
	[ "$2" = cert ] && auth="auth = cert"
	printf '[member %s]\nid = fqdn:%s.example\n%s\ngroups = %s\n%s\n' "$1" "$1" "$auth" \
		"${3:-media}" "${4:-}"
}

stack_ks_start() {
	(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s/ks-state\nadmin_socket = %s\n%s\n\n%s\n' \
		"$port" "$tmp" "$KS_SOCK" "${KS_SERVER_EXTRA:-}" "$1" >"$tmp/ks.conf")
	"$BIN/gdoi-ks" -c "$tmp/ks.conf" -v >"$tmp/ks.log" 2>&1 &
	KS_PID=$!
	stack_pids+=("$KS_PID")
	stack_wait 10 test -S "$KS_SOCK"
}

stack_sidecar_start() {
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\n%s\n' "$port" "$SC_SOCK" "$1" \
		>"$tmp/sidecar.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/sidecar.conf" -v >"$tmp/sidecar.log" 2>&1 &
	SC_PID=$!
	stack_pids+=("$SC_PID")
	stack_wait 10 test -S "$SC_SOCK"
}

stack_sidecar2_start() {
	SC2_SOCK=$tmp/run2/sidecar.sock
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\n%s\n' "$port" "$SC2_SOCK" "$1" \
		>"$tmp/sidecar2.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/sidecar2.conf" -v >"$tmp/sidecar2.log" 2>&1 &
	SC2_PID=$!
	stack_pids+=("$SC2_PID")
}

stack_members() {
	local groups=$1 n
	shift
	for n; do printf '\n[member %s]\nid = fqdn:%s.example\npsk = %s\ngroups = %s\n' "$n" "$n" "$psk" "$groups"; done
}

stack_gikev2_member() {
	printf 'identity = fqdn:%s.example\npsk = %s\n\n[group media]\nid = 1234\nprotocol = g-ikev2\nallow = uid:%s\n' \
		"$1" "$psk" "$(id -u)"
}

stack_gikev2_sc_two() {
	mkdir -p "$tmp/$1" && chmod 0755 "$tmp/$1"
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s, 127.0.0.2:%s\nsocket = %s/run/sidecar.sock
retransmit = 50\nretry_min = 500\n%s\n' "$kport" "$kport" "$tmp/$1" "$(stack_gikev2_member "$2")" \
		>"$tmp/$1/sidecar.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1/sidecar.conf" -v >"$tmp/$1/sidecar.log" 2>&1 &
	SC_LAST_PID=$!
	stack_pids+=("$SC_LAST_PID")
}

# stack_logs: the daemons' last log lines as TAP comments
stack_logs() {
	tail -n 20 "$tmp/ks.log" "$tmp/sidecar.log" 2>/dev/null | sed 's/^/# /'
}
