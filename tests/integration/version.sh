#!/usr/bin/env bash
# version.sh - every program prints the one project version (version.h) for
# --version and -V, and the copies that cannot include version.h agree with it:
# the installed header's GDOISRTP_VERSION, gdoisrtp.pc's Version and the Debian
# changelog's upstream part.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${GDOI_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac

. "$top/tests/integration/lib/tap.sh"

v=$(sed -n 's/^#define GDOI_VERSION "\([^"]*\)"$/\1/p' "$top/version.h")
case $v in
[0-9]*.[0-9]*.[0-9]*) ok "version.h defines GDOI_VERSION $v" ;;
*) notok "version.h: no GDOI_VERSION \"X.Y.Z\" (got '$v')"; tap_plan_end; exit 1 ;;
esac

for p in gdoi-ks gdoi-sidecar gdoictl gdoi-dump demo-sender demo-receiver; do
	if [ ! -x "$B/bin/$p" ]; then
		notok "$p not built in $B/bin"
		continue
	fi
	for opt in --version -V; do
		out=$("$B/bin/$p" "$opt" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && [ "$out" = "$p $v" ]; then
			ok "$p $opt prints '$p $v'"
		else
			notok "$p $opt: exit $rc, printed '$out' (expected '$p $v')"
		fi
	done
done

h=$(sed -n 's/^#define GDOISRTP_VERSION "\([^"]*\)"$/\1/p' "$top/srtp-bridge/gdoisrtp.h")
[ "$h" = "$v" ] && ok "gdoisrtp.h GDOISRTP_VERSION is $v" ||
	notok "gdoisrtp.h GDOISRTP_VERSION is '$h', version.h says $v"
d=$(sed -n '1s/^[^ ]* (\([^-)]*\)[^)]*).*/\1/p' "$top/debian/changelog" 2>/dev/null)
[ "$d" = "$v" ] && ok "debian/changelog's upstream version is $v" ||
	notok "debian/changelog's upstream version is '$d', version.h says $v"
pc=$(sed -n 's/^Version: *//p' "$top/srtp-bridge/gdoisrtp.pc.in")
[ "$pc" = "$v" ] || [ "$pc" = @VERSION@ ] && ok "gdoisrtp.pc.in's Version is $v (or filled from it)" ||
	notok "gdoisrtp.pc.in's Version is '$pc', version.h says $v"
tap_plan_end
