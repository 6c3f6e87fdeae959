#!/usr/bin/env bash
# ipc_transport.sh - the one NDJSON Unix-socket transport (ipc/, docs/ipc.md) as an
# attacker and a careless client meet it, on both daemons: gdoi-ks's admin socket and
# gdoi-sidecar's key socket. Duplicate member names and a NUL in a line get an error and
# the connection stays usable; 2000 pipelined requests (460 KB) are all answered;
# 300 and 3000 requests then EOF get every reply; 100 connects while the daemon is
# stopped all get in; 100 clients at once, then gone, leave the daemon under 2 MiB larger
# (RSS of a plain build: under ASan a plain sidecar is started for it); a client that never reads does not grow the daemon (RSS measured)
# and is answered in full once it reads; on the admin socket only the daemon's uid, root
# and [server] admin_allow may talk (a real other uid, 65534, after chmod 0666). TAP.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
PROBE="python3 $top/tests/tools/ipc_probe.py"

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root to connect as another uid"
	exit 0
fi

ks_conf='[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004

[member bob]
id = fqdn:bob.example
psk = bob-secret
groups = media'
stack_ks_start "$ks_conf" || { notok "gdoi-ks starts"; stack_logs; tap_plan_end; exit 1; }
stack_sidecar_start "identity = fqdn:bob.example
psk = bob-secret
retry_min = 200

[group media]
id = 1234
allow = uid:0" || { notok "gdoi-sidecar starts"; stack_logs; tap_plan_end; exit 1; }

probe() { # DESCRIPTION CHECK SOCKET ARGS...
	local d=$1 out
	shift
	if out=$($PROBE "$@" 2>&1); then ok "$d: $out"; else notok "$d: $out"; fi
}

# What 100 clients may leave behind is measured on a build without ASan: ASan's allocator
# decides what its RSS keeps (about 5 MiB here with 80 KiB per connection or without).
# Under ASan a second sidecar of the plain build (make check: build/vg) takes that check;
# both daemons serve their sockets with the same ipc/server.c.
asan() { readelf -d "$1" 2>/dev/null | grep -q "libasan"; }
plain_sock="" plain_pid=""
if asan "$BIN/gdoi-sidecar"; then
	for d in ${GDOI_PLAIN_BUILD:-} "$top/build/vg" "$top/build"; do
		[ -x "$d/bin/gdoi-sidecar" ] && ! asan "$d/bin/gdoi-sidecar" || continue
		mkdir -p "$tmp/run2"
		BIN=$d/bin stack_sidecar2_start "identity = fqdn:bob.example
psk = bob-secret
retry_min = 200

[group media]
id = 1234
allow = uid:0"
		stack_wait 10 test -S "$SC2_SOCK" && plain_sock=$SC2_SOCK plain_pid=$SC2_PID
		break
	done
fi
for side in ks sidecar; do
	if [ $side = ks ]; then sock=$KS_SOCK pid=$KS_PID; else sock=$SC_SOCK pid=$SC_PID; fi
	# first: the checks below leave the heap grown by their own connections
	# (the sidecar's clients subscribe: what a subscriber gets is allocated while they stay)
	req='{"op":"status"}'
	[ $side = sidecar ] && req='{"op":"subscribe","group":"media"}'
	d="$side: 100 clients connected at once, then gone, leave the daemon under 2 MiB larger"
	if ! asan "$BIN/gdoi-$([ $side = ks ] && echo ks || echo sidecar)"; then
		probe "$d" clients "$sock" "$req" "$pid" 100 2048
	elif [ $side = sidecar ] && [ -n "$plain_sock" ]; then
		probe "$d (the plain build's)" clients "$plain_sock" "$req" "$plain_pid" 100 2048
	elif [ -n "$plain_sock" ]; then
		skip "$d" "ASan build: the same ipc/server.c is measured on the plain build's sidecar below"
	else
		skip "$d" "ASan build, and no plain build"
	fi
	probe "$side: duplicate member names are bad_json, nothing done" duplicate "$sock"
	probe "$side: a NUL inside a line is bad_json, the connection stays usable" nul "$sock"
	probe "$side: 2000 pipelined requests are all answered, in order" pipeline "$sock" 2000
	probe "$side: 300 requests then a half-close get 300 replies" halfclose "$sock" 300
	probe "$side: 3000 requests then a half-close get 3000 replies" halfclose "$sock" 3000
	probe "$side: 100 connects while the daemon is stopped all get in" backlog "$sock" 100 "$pid"
	probe "$side: a client that never reads stays bounded, then is answered in full" \
		noread "$sock" "$pid" 20 32768
done
if grep -q "member bob evicted\|eviction of bob" "$tmp/ks.log"; then
	notok "no request of the attacks above evicted bob"
else
	ok "no request of the attacks above evicted bob"
fi
if grep -q "output queue.*paused" "$tmp/ks.log" && grep -q "output queue.*paused" "$tmp/sidecar.log"; then
	ok "both daemons log the client they stopped reading"
else
	notok "both daemons log the client they stopped reading"
fi

# The admin socket made reachable by a careless operator: only allowed uids get in.
chmod 0666 "$KS_SOCK"
probe "ks: uid 65534 on a 0666 admin socket is refused (not_authorized)" uid "$KS_SOCK" 65534 not_authorized
probe "ks: root still gets in" uid "$KS_SOCK" 0 ok
if grep -q "uid 65534.*not allowed" "$tmp/ks.log"; then ok "the refusal is logged with the uid"; else
	notok "the refusal is logged with the uid"; fi
setpriv --reuid 65534 --regid 65534 --clear-groups "$BIN/gdoictl" --socket "$KS_SOCK" evict bob \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "not_authorized" "$tmp/err" && ! grep -q "eviction of bob" "$tmp/ks.log"; then
	ok "gdoictl evict as uid 65534: not_authorized on stderr, exit 1, bob not evicted"
else
	notok "gdoictl evict as uid 65534: not_authorized on stderr, exit 1 (rc $rc: $(head -c 300 "$tmp/err"))"
fi

# admin_allow lets a configured uid in (restart with it).
kill -TERM "$KS_PID"
wait "$KS_PID" 2>/dev/null
sed -i "s|^admin_socket = .*|&\nadmin_allow = uid:65534|" "$tmp/ks.conf"
"$BIN/gdoi-ks" -c "$tmp/ks.conf" -v >>"$tmp/ks.log" 2>&1 &
KS_PID=$!
stack_pids+=("$KS_PID")
stack_wait 10 test -S "$KS_SOCK" || notok "gdoi-ks restarts with admin_allow"
chmod 0666 "$KS_SOCK"
probe "ks: admin_allow = uid:65534 lets uid 65534 in" uid "$KS_SOCK" 65534 ok
probe "ks: uid 65533 is still refused" uid "$KS_SOCK" 65533 not_authorized

tap_plan_end
