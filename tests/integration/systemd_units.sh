#!/usr/bin/env bash
# systemd_units.sh - the units in systemd/ verified (systemd-analyze verify), rated
# (systemd-analyze security: "OK" for both), and run as systemd runs them (lib/unit.sh:
# their users from systemd/*.sysusers, their ExecStart parsed from the unit, their
# directories and modes, capabilities, umask, READY=1), at their own paths inside a
# private mount and network namespace; then gdoictl, as root and as a member of
# group gdoi-sidecar, reads keys through the installed socket paths, and one not in
# that group cannot.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${GDOI_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root (users, setpriv, namespaces)"; exit 0; fi
for t in systemd-analyze systemd-sysusers setpriv unshare python3; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP $t missing"; exit 0; }
done
for b in gdoi-ks gdoi-sidecar gdoictl; do
	[ -x "$B/bin/$b" ] || { echo "1..0 # SKIP $B/bin/$b not built"; exit 0; }
done
if [ -z "${GDOI_UNITS_NS:-}" ]; then
	GDOI_UNITS_NS=1 exec unshare -m -n --propagation private bash "$0" "$@"
fi

. "$top/tests/integration/lib/unit.sh"
tmp=$(mktemp -d /tmp/gdoi-units.XXXXXX)
ks_pid= sc_pid= unit_notify_pids=
cleanup() {
	for p in $sc_pid $ks_pid $unit_notify_pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
ip link set lo up

# the units as `make install` writes them, for this build's binaries
mkdir -p "$tmp/units"
for u in gdoi-ks gdoi-sidecar; do
	sed "s|@BINDIR@|$B/bin|g" "$top/systemd/$u.service.in" >"$tmp/units/$u.service"
done
KSU=$tmp/units/gdoi-ks.service SCU=$tmp/units/gdoi-sidecar.service

unit_private_root || { notok "private /run, /var/lib, /etc"; tap_plan_end; exit 1; }
systemd-sysusers "$top/systemd/gdoi-ks.sysusers" "$top/systemd/gdoi-sidecar.sysusers" 2>"$tmp/sysusers.log"
check "sysusers: system users gdoi-ks and gdoi-sidecar exist" \
	into "$tmp/getent.out" getent passwd gdoi-ks gdoi-sidecar

for u in "$KSU" "$SCU"; do
	name=$(basename "$u")
	unit_analyze "$u" --man=no
	check "$name runs as its own user, not root" [ "$(unit_get "$u" User)" = "${name%.service}" ]
done
check "gdoi-sidecar.service: no capabilities at all" \
	[ -z "$(unit_get "$SCU" AmbientCapabilities)" ] && [ -z "$(unit_get "$SCU" CapabilityBoundingSet)" ]
check "gdoi-ks.service: CAP_NET_BIND_SERVICE only" \
	[ "$(unit_get "$KSU" AmbientCapabilities)" = CAP_NET_BIND_SERVICE ] &&
	[ "$(unit_get "$KSU" CapabilityBoundingSet)" = CAP_NET_BIND_SERVICE ]

unit_install_configs

if unit_start "$KSU" "$tmp/ks.log"; then
	ks_pid=$unit_pid
	ok "gdoi-ks started as its unit does and said READY=1 (UDP 848 as gdoi-ks)"
else
	notok "gdoi-ks did not start as its unit does: $(tail -3 "$tmp/ks.log" | tr '\n' ' ')"
fi
if unit_start "$SCU" "$tmp/sc.log"; then
	sc_pid=$unit_pid
	ok "gdoi-sidecar started as its unit does and said READY=1"
else
	notok "gdoi-sidecar did not start as its unit does: $(tail -3 "$tmp/sc.log" | tr '\n' ' ')"
fi

# the daemon setpriv became (same PID: setpriv execs)
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
CTL=$B/bin/gdoictl
SOCK=/run/gdoi-sidecar/sidecar.sock
if [ -n "$ks_pid" ]; then
	check "gdoi-ks runs as uid gdoi-ks" [ "$(status_field "$ks_pid" Uid)" = "$(id -u gdoi-ks)" ]
	check "gdoi-ks holds CAP_NET_BIND_SERVICE only (CapEff 0x400)" \
		[ "$(status_field "$ks_pid" CapEff)" = 0000000000000400 ]
	check "/var/lib/gdoi-ks: gdoi-ks 0700" [ "$(stat -c '%U %a' /var/lib/gdoi-ks)" = "gdoi-ks 700" ]
	check "/run/gdoi-ks: gdoi-ks 0750" [ "$(stat -c '%U %a' /run/gdoi-ks)" = "gdoi-ks 750" ]
	check "gdoictl status through /run/gdoi-ks/admin.sock (root; gdoi-ks trusted by name)" \
		into "$tmp/status.out" "$CTL" --socket /run/gdoi-ks/admin.sock status
fi
if [ -n "$sc_pid" ]; then
	check "gdoi-sidecar runs as uid gdoi-sidecar" [ "$(status_field "$sc_pid" Uid)" = "$(id -u gdoi-sidecar)" ]
	check "gdoi-sidecar holds no capability (CapEff 0)" [ "$(status_field "$sc_pid" CapEff)" = 0000000000000000 ]
	check "/run/gdoi-sidecar: gdoi-sidecar 0750" \
		[ "$(stat -c '%U %G %a' /run/gdoi-sidecar)" = "gdoi-sidecar gdoi-sidecar 750" ]
	if unit_get_keys "$CTL" "$SOCK" "$tmp/get.out"; then
		ok "gdoictl get media through $SOCK (root) prints keys: $(grep -m1 -o 'a=crypto:[0-9]* [A-Z0-9_]*' "$tmp/get.out")"
	else
		notok "gdoictl get media through $SOCK: $(tail -2 "$tmp/get.out" | tr '\n' ' ')"
	fi
	useradd --system --no-create-home --groups gdoi-sidecar gdoi-t-media
	useradd --system --no-create-home gdoi-t-other
	check "a member of group gdoi-sidecar reads the keys (gdoictl get as gdoi-t-media)" \
		into "$tmp/get-media.out" setpriv --reuid=gdoi-t-media --regid=gdoi-t-media --init-groups \
		"$CTL" --sidecar "$SOCK" get media --format sdes
	check "... and they are keys (a=crypto ... inline:)" grep -q 'inline:' "$tmp/get-media.out"
	if setpriv --reuid=gdoi-t-other --regid=gdoi-t-other --init-groups \
		"$CTL" --sidecar "$SOCK" get media >"$tmp/get-other.out" 2>&1; then
		notok "a user outside group gdoi-sidecar got keys"
	else
		check "a user outside group gdoi-sidecar cannot reach the socket" \
			grep -q 'Permission denied' "$tmp/get-other.out"
	fi
	# bash completion: the GROUP of get comes from this sidecar
	words=$(PATH=$B/bin:$PATH bash -c '. "$1"; COMP_WORDS=(gdoictl --sidecar "$2" get me); COMP_CWORD=4
		_gdoictl; echo "${COMPREPLY[*]}"' _ "$top/tools/gdoictl/gdoictl.bash-completion" "$SOCK")
	check "bash completion: 'gdoictl --sidecar $SOCK get me<TAB>' completes 'media' (got '$words')" \
		[ "$words" = media ]
	kill -HUP "$sc_pid"
	sleep 0.3
	check "ExecReload (SIGHUP): gdoi-sidecar keeps running" kill -0 "$sc_pid"
	check "gdoi-sidecar stops cleanly on SIGTERM (exit 0)" unit_stop "$sc_pid"
	sc_pid=
fi
if [ -n "$ks_pid" ]; then
	check "gdoi-ks stops cleanly on SIGTERM (exit 0)" unit_stop "$ks_pid"
	ks_pid=
fi
tap_plan_end
