#!/usr/bin/env bash
# tests/deb/install.sh DEB_DIR - the issue's "done when", on this machine: installs the
# packages make deb built (dpkg -i), checks what they set up (users, directories and
# their owners, units where systemd finds them, completion, plugin, pkg-config), writes
# the configurations as README "Debian packages" says, starts both installed units the
# way systemd would (lib/unit.sh; private /run and network namespace), reads keys with
# the installed gdoictl through the installed paths, then purges the packages and
# removes the two system users, and checks nothing is left. Refuses to run when any
# of it is already on the machine. `make deb-check` runs it: not part of make check, which
# must not install packages and users on the machine (tests/integration/systemd_units.sh
# covers the units there without touching it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
debs=${1:-$top/build/deb}
case $debs in /*) ;; *) debs=$top/$debs ;; esac
PKGS="gdoi-ks gdoi-sidecar gdoi-tools libgdoisrtp0 libgdoisrtp-dev gstreamer1.0-gdoisrtp"

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root (dpkg -i)"; exit 0; fi
if [ -z "${GDOI_DEB_NS:-}" ]; then
	for p in $PKGS; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
			echo "1..0 # SKIP $p is installed already: not touching it"; exit 0
		fi
	done
	for u in gdoi-ks gdoi-sidecar; do
		getent passwd "$u" >/dev/null && { echo "1..0 # SKIP user $u exists already"; exit 0; }
	done
	GDOI_DEB_NS=1 exec unshare -m -n --propagation private bash "$0" "$@"
fi

. "$top/tests/integration/lib/unit.sh"
tmp=$(mktemp -d /tmp/gdoi-deb.XXXXXX)
ks_pid= sc_pid= unit_notify_pids= installed=
# dpkg_retry ARGS: dpkg, waiting out another session's lock (5 min)
dpkg_retry() {
	local i
	for i in $(seq 1 60); do
		dpkg "$@" >>"$tmp/dpkg.log" 2>&1 && return 0
		grep -q 'lock' "$tmp/dpkg.log" || return 1
		: >"$tmp/dpkg.log"
		sleep 5
	done
	return 1
}
cleanup() {
	for p in $sc_pid $ks_pid $unit_notify_pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$installed" ]; then
		# shellcheck disable=SC2086
		dpkg_retry --purge $PKGS
		for u in gdoi-sidecar gdoi-ks gdoi-t-media; do
			getent passwd "$u" >/dev/null && userdel "$u"
			getent group "$u" >/dev/null && groupdel "$u"
		done
	fi
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
ip link set lo up

files=()
for p in $PKGS; do
	f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -1)
	[ -n "$f" ] && files+=("$f") || notok "$p: no .deb in $debs (make deb)"
done
installed=1
if dpkg_retry -i "${files[@]}"; then
	ok "dpkg -i the ${#files[@]} packages"
else
	notok "dpkg -i: $(tail -5 "$tmp/dpkg.log" | tr '\n' ' ')"
	echo "1..$n"; exit 1
fi

check "system users gdoi-ks and gdoi-sidecar exist (sysusers)" into "$tmp/getent" getent passwd gdoi-ks gdoi-sidecar
check "/etc/gdoi-ks: root:gdoi-ks 0750" [ "$(stat -c '%U:%G %a' /etc/gdoi-ks)" = "root:gdoi-ks 750" ]
check "/etc/gdoi-sidecar: root:gdoi-sidecar 0750" \
	[ "$(stat -c '%U:%G %a' /etc/gdoi-sidecar)" = "root:gdoi-sidecar 750" ]
check "/var/lib/gdoi-ks: gdoi-ks 0700" [ "$(stat -c '%U %a' /var/lib/gdoi-ks)" = "gdoi-ks 700" ]
KSU=/lib/systemd/system/gdoi-ks.service SCU=/lib/systemd/system/gdoi-sidecar.service
for u in $KSU $SCU; do
	check "$u installed" [ -f "$u" ]
	unit_analyze "$u"
done
check "systemd enabled both (multi-user.target.wants)" \
	[ -L /etc/systemd/system/multi-user.target.wants/gdoi-ks.service ] &&
	[ -L /etc/systemd/system/multi-user.target.wants/gdoi-sidecar.service ]
check "bash completion installed for gdoictl" [ -f /usr/share/bash-completion/completions/gdoictl ]
check "every package states the licence (BSD-2-Clause, DEP-5)" \
	bash -c 'for p in $1; do grep -q "^License: BSD-2-Clause" /usr/share/doc/$p/copyright || exit 1; done' _ "$PKGS"
v=$(sed -n 's/^#define GDOI_VERSION "\([^"]*\)"$/\1/p' "$top/version.h")
check "installed gdoictl --version says $v" [ "$(/usr/bin/gdoictl --version)" = "gdoictl $v" ]
check "pkg-config finds gdoisrtp $v" [ "$(pkg-config --modversion gdoisrtp 2>/dev/null)" = "$v" ]
printf '#include <gdoisrtp.h>\n#include <stdio.h>\nint main(void) { puts(gdoisrtp_strerror(0)); return 0; }\n' >"$tmp/t.c"
check "a program builds against libgdoisrtp-dev and runs with libgdoisrtp0" into "$tmp/t.out" \
	bash -c 'cc -o "$1/t" "$1/t.c" $(pkg-config --cflags --libs gdoisrtp) && "$1/t"' _ "$tmp"
check "gst-inspect-1.0 finds the installed gdoisrtpenc" into "$tmp/gst.out" \
	env -u GST_PLUGIN_PATH gst-inspect-1.0 gdoisrtpenc

# the daemons at their installed paths; /run is private to this test
mount -t tmpfs -o mode=0755 tmpfs /run
unit_install_configs
if unit_start "$KSU" "$tmp/ks.log"; then
	ks_pid=$unit_pid; ok "installed gdoi-ks.service started as systemd would (READY=1)"
else
	notok "gdoi-ks.service: $(tail -3 "$tmp/ks.log" | tr '\n' ' ')"
fi
if unit_start "$SCU" "$tmp/sc.log"; then
	sc_pid=$unit_pid; ok "installed gdoi-sidecar.service started as systemd would (READY=1)"
else
	notok "gdoi-sidecar.service: $(tail -3 "$tmp/sc.log" | tr '\n' ' ')"
fi
if unit_get_keys /usr/bin/gdoictl /run/gdoi-sidecar/sidecar.sock "$tmp/get.out"; then
	ok "gdoictl get media (installed, /run/gdoi-sidecar/sidecar.sock) prints keys"
	sed 's/inline:[^|]*/inline:<key||salt>/; s/^/# /' "$tmp/get.out"
else
	notok "gdoictl get media: $(tail -2 "$tmp/get.out" | tr '\n' ' ')"
fi
check "gdoictl status (installed, /run/gdoi-ks/admin.sock)" into "$tmp/status.out" \
	/usr/bin/gdoictl --socket /run/gdoi-ks/admin.sock status
[ -n "$sc_pid" ] && { check "gdoi-sidecar stops on SIGTERM (exit 0)" unit_stop "$sc_pid"; sc_pid=; }
[ -n "$ks_pid" ] && { check "gdoi-ks stops on SIGTERM (exit 0)" unit_stop "$ks_pid"; ks_pid=; }

# shellcheck disable=SC2086
check "dpkg --purge all six" dpkg_retry --purge $PKGS
installed=
for u in gdoi-sidecar gdoi-ks; do userdel "$u" 2>/dev/null; groupdel "$u" 2>/dev/null; done
left=$(ls -d /etc/gdoi-ks /etc/gdoi-sidecar /var/lib/gdoi-ks /lib/systemd/system/gdoi-* \
	/etc/systemd/system/multi-user.target.wants/gdoi-* /usr/bin/gdoi* 2>/dev/null)
check "purged: nothing left (${left:-none})" [ -z "$left" ]
echo "1..$n"
[ $fail -eq 0 ]
