# lib/unit.sh - run a daemon the way systemd runs its unit, since PID 1 is not
# systemd here (sourced by systemd_units.sh and tests/deb/install.sh). Everything comes
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

# unit_install_configs: what an operator installs (README "Debian packages"): the
# directories root's, entered by the service's group; each configuration owned by
# its service user, 0600. One member alice of group media, a fresh PSK, UDP 848.
unit_install_configs() {
	local psk
	psk=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	install -d -o root -g gdoi-ks -m 0750 /etc/gdoi-ks
	install -d -o root -g gdoi-sidecar -m 0750 /etc/gdoi-sidecar
	cat >"$tmp/ks.conf" <<CONF
[server]
listen = 127.0.0.1:848
[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
rekey_unicast = yes
[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
may_send = yes
ssrcs = 2
CONF
	cat >"$tmp/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:848
identity = fqdn:alice.example
psk = $psk
retry_min = 200
[group media]
id = 1234
send = yes
ssrcs = 2
rekey = unicast
allow = gid:gdoi-sidecar
CONF
	install -o gdoi-ks -g gdoi-ks -m 0600 "$tmp/ks.conf" /etc/gdoi-ks/ks.conf &&
		install -o gdoi-sidecar -g gdoi-sidecar -m 0600 "$tmp/sidecar.conf" /etc/gdoi-sidecar/sidecar.conf
	rm -f "$tmp/ks.conf" "$tmp/sidecar.conf"
}

# unit_get_keys GDOICTL SOCKET OUT: `gdoictl get media --format sdes` until it
# prints a key (20 s: the sidecar registers first).
unit_get_keys() {
	for _ in $(seq 1 100); do
		"$1" --sidecar "$2" get media --format sdes >"$3" 2>&1 && grep -q 'inline:' "$3" && return 0
		sleep 0.2
	done
	return 1
}

# TAP: ok, notok, check, tap_plan_end
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
# into FILE CMD...: CMD with its output in FILE (for check)
into() { local f=$1; shift; "$@" >"$f" 2>&1; }

# unit_analyze UNIT [verify options]: two TAP lines, systemd-analyze verify (no
# output at all) and security (an "OK" rating, the score shown).
unit_analyze() {
	local u=$1 name line score
	shift
	name=$(basename "$u")
	if systemd-analyze verify "$@" "$u" >"$tmp/verify.log" 2>&1 && ! [ -s "$tmp/verify.log" ]; then
		ok "systemd-analyze verify $name: clean"
	else
		notok "systemd-analyze verify $name: $(head -3 "$tmp/verify.log" | tr '\n' ' ')"
	fi
	line=$(systemd-analyze security --offline=true "$u" 2>&1 | grep 'Overall exposure level')
	score=$(sed -n 's/.*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' <<<"$line")
	case $score in
	*" OK") ok "systemd-analyze security $name: $score" ;;
	*) notok "systemd-analyze security $name: '$line' (expected an OK rating)" ;;
	esac
}
