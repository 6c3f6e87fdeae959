# lib/unit.sh - run a daemon the way systemd runs its unit, since PID 1 is not
# systemd here (sourced by systemd_units.sh and deb_install.sh). Everything comes
# from the unit file: ExecStart, User/Group, UMask, NoNewPrivileges, the capability
# sets, LimitCORE, StateDirectory/RuntimeDirectory and their modes, Type=notify
# (READY=1 awaited on a NOTIFY_SOCKET), a cleared environment.
# Needs root, setpriv and python3. The caller sets $tmp (a private directory).

# unit_get UNIT KEY: the values of KEY= in [Service], space-joined ("" when absent).
unit_get() {
	awk -v key="$2" '
		/^\[/ { sect = $0; next }
		sect == "[Service]" && index($0, key "=") == 1 {
			v = substr($0, length(key) + 2)
			out = (v == "") ? "" : (out == "" ? v : out " " v)
		}
		END { print out }' "$1"
}

# CAP_NET_BIND_SERVICE CAP_X -> +net_bind_service,+x (setpriv's spelling)
unit_caps() {
	local c out=
	for c in $1; do
		c=${c#CAP_}
		out+=${out:+,}+${c,,}
	done
	echo "$out"
}

# unit_dir BASE NAME MODE USER GROUP: what systemd does for StateDirectory= and
# RuntimeDirectory=: BASE/NAME created, owned by the service's user, given MODE.
unit_dir() {
	[ -n "$2" ] || return 0
	install -d -o "$4" -g "$5" -m "${3:-0755}" "$1/$2"
}

# unit_start UNIT LOG: starts ExecStart as the unit would and waits (30 s) for
# READY=1; sets unit_pid. Returns 1 when it exits or never says READY.
unit_start() {
	local unit=$1 log=$2 user group caps bound nnp umask core ready name
	local -a cmd setpriv_args
	user=$(unit_get "$unit" User) group=$(unit_get "$unit" Group)
	caps=$(unit_caps "$(unit_get "$unit" AmbientCapabilities)")
	bound=$(unit_caps "$(unit_get "$unit" CapabilityBoundingSet)")
	nnp=$(unit_get "$unit" NoNewPrivileges) umask=$(unit_get "$unit" UMask)
	core=$(unit_get "$unit" LimitCORE)
	read -ra cmd <<<"$(unit_get "$unit" ExecStart)"
	unit_dir /var/lib "$(unit_get "$unit" StateDirectory)" "$(unit_get "$unit" StateDirectoryMode)" \
		"$user" "$group" || return 1
	unit_dir /run "$(unit_get "$unit" RuntimeDirectory)" "$(unit_get "$unit" RuntimeDirectoryMode)" \
		"$user" "$group" || return 1
	setpriv_args=(--reuid="$user" --regid="$group" --init-groups
		--inh-caps="-all${caps:+,$caps}" --ambient-caps="-all${caps:+,$caps}"
		--bounding-set="-all${bound:+,$bound}")
	[ "$nnp" = yes ] && setpriv_args+=(--no-new-privs)
	name=$(basename "$unit" .service)
	ready=$tmp/$name.notify
	: >"$ready"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
open(sys.argv[2] + ".bound", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m + "\n")
' "gdoi-unit-$name-$$" "$ready" &
	unit_notify_pids+=" $!"
	for _ in $(seq 1 100); do [ -e "$ready.bound" ] && break; sleep 0.05; done
	(
		umask "${umask:-0022}"
		[ "$core" = 0 ] && ulimit -c 0
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="@gdoi-unit-$name-$$" \
			${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
			setpriv "${setpriv_args[@]}" -- "${cmd[@]}"
	) 2>>"$log" &
	unit_pid=$!
	for _ in $(seq 1 600); do
		grep -q '^READY=1' "$ready" && return 0
		kill -0 "$unit_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# unit_stop PID: SIGTERM (systemctl stop) and the exit status.
unit_stop() {
	local rc=0
	kill -TERM "$1" 2>/dev/null
	wait "$1" || rc=$?
	return $rc
}

# unit_private_root: in the caller's (private) mount namespace, fresh /run and
# /var/lib and an /etc whose changes (users, /etc/gdoi-*) vanish with it, so
# the daemons live at their unit's paths without touching the machine's.
unit_private_root() {
	mount -t tmpfs -o mode=0755 tmpfs /run || return 1
	mkdir -p /run/.etc-upper /run/.etc-work || return 1
	mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.etc-upper,workdir=/run/.etc-work /etc ||
		return 1
	mount -t tmpfs -o mode=0755 tmpfs /var/lib
}
