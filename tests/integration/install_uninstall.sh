#!/usr/bin/env bash
# install_uninstall.sh - make install into a DESTDIR puts the units where systemd
# looks for them (systemd-analyze unit-paths), ExecStart naming the installed
# binary, plus the sysusers files, gdoictl's bash completion and the licence; make
# uninstall then removes exactly those files (another package's file in the same
# directories stays) and a second uninstall is harmless.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${GDOI_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac
san=0
case $B in */asan) san=1 ;; esac
. "$top/tests/integration/lib/unit.sh"
tmp=$(mktemp -d /tmp/gdoi-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root P=/usr/local
mk() { make -s -C "$top" BUILD="$B" SAN=$san PREFIX=$P DESTDIR="$root" "$@"; }

mkdir -p "$root$P/bin" "$root$P/share/doc/gdoi-srtp"
echo other >"$root$P/bin/someone-elses"
echo notes >"$root$P/share/doc/gdoi-srtp/local-notes"
(cd "$root" && find . ! -type d | sort) >"$tmp/before"
if mk install >"$tmp/install.log" 2>&1; then ok "make install DESTDIR=... PREFIX=$P"; else
	notok "make install: $(tail -3 "$tmp/install.log" | tr '\n' ' ')"; tap_plan_end; exit 1; fi
(cd "$root" && find . ! -type d | sort) >"$tmp/after"

unitdir=$P/lib/systemd/system
if command -v systemd-analyze >/dev/null; then
	check "systemd searches $unitdir (systemd-analyze unit-paths)" \
		grep -qx "$unitdir" <(systemd-analyze unit-paths 2>/dev/null)
fi
for u in gdoi-ks gdoi-sidecar; do
	f=$root$unitdir/$u.service
	exe=$(unit_get "$f" ExecStart)
	check "$u.service in $unitdir, ExecStart $P/bin/$u" [ "${exe%% *}" = "$P/bin/$u" ]
	check "$u sysusers file in $P/lib/sysusers.d" [ -f "$root$P/lib/sysusers.d/$u.conf" ]
done
check "no unit under share/doc" [ -z "$(find "$root$P/share/doc" -name '*.service*')" ]
check "bash completion for gdoictl installed" [ -f "$root$P/share/bash-completion/completions/gdoictl" ]
check "install puts LICENSE under share/doc/gdoi-srtp" cmp -s "$top/LICENSE" "$root$P/share/doc/gdoi-srtp/LICENSE"

if mk uninstall >"$tmp/uninstall.log" 2>&1; then ok "make uninstall"; else
	notok "make uninstall: $(tail -3 "$tmp/uninstall.log" | tr '\n' ' ')"; fi
(cd "$root" && find . ! -type d | sort) >"$tmp/left"
removed=$(comm -23 "$tmp/after" "$tmp/left" | wc -l) added=$(comm -13 "$tmp/before" "$tmp/after" | wc -l)
check "uninstall removed the $added files install added ($removed removed)" \
	[ "$removed" -eq "$added" ] && [ "$added" -gt 10 ]
check "uninstall left exactly what was there before" cmp -s "$tmp/before" "$tmp/left"
check "project directories gone (share/doc/gdoi-srtp/examples)" [ ! -d "$root$P/share/doc/gdoi-srtp/examples" ]
check "a second make uninstall is harmless" into "$tmp/uninstall2.log" mk uninstall
tap_plan_end
