#!/usr/bin/env bash
# libgdoisrtp.so exports exactly the functions srtp-bridge/gdoisrtp.h declares
# (nm -D against the header with its comments stripped), is a versioned file
# with the .so.0 and .so links pointing at it, and "make install" writes the
# links and a .pc naming the PREFIX given at install time.
set -u
. "$(dirname "$0")/lib/stack.sh"
hdr=$top/srtp-bridge/gdoisrtp.h
ver=$(sed -n 's/^#define GDOISRTP_VERSION "\(.*\)"/\1/p' "$hdr")
so=$B/lib/libgdoisrtp.so.$ver
check "the build makes libgdoisrtp.so.$ver as a regular file" test -f "$so" -a ! -L "$so"
check "libgdoisrtp.so.0 links to libgdoisrtp.so.$ver" test "$(readlink "$B/lib/libgdoisrtp.so.0")" = "libgdoisrtp.so.$ver"
check "libgdoisrtp.so links to libgdoisrtp.so.0" test "$(readlink "$B/lib/libgdoisrtp.so")" = libgdoisrtp.so.0
check "its soname is libgdoisrtp.so.0" grep -q 'SONAME.*\[libgdoisrtp\.so\.0\]' <(readelf -d "$so")
# declared: every gdoisrtp_NAME( in the header outside comments (the callback
# typedef (*gdoisrtp_snapshot_cb)( is no function)
cc -fpreprocessed -dD -E -P -x c "$hdr" 2>/dev/null | grep -oE '\bgdoisrtp_[a-z0-9_]+ *\(' |
	tr -d ' (' | sort -u >"$tmp/declared"
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sort -u >"$tmp/exported"
check "the header declares functions ($(wc -l <"$tmp/declared"))" test -s "$tmp/declared"
if diff "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then
	ok "the .so exports exactly the $(wc -l <"$tmp/exported") functions gdoisrtp.h declares"
else
	notok "exports differ from gdoisrtp.h (< declared only, > exported only)"
	sed 's/^/# /' "$tmp/diff"
fi
# install into a scratch root: links, and the .pc's prefix is the install's PREFIX
if make -s -C "$top" BUILD="$B" SAN="${GDOI_SAN:-1}" DESTDIR="$tmp/root" PREFIX=/opt/gdoi-test \
	install >"$tmp/install.log" 2>&1; then
	lib=$tmp/root/opt/gdoi-test/lib
	check "installed libgdoisrtp.so.$ver with .so.0 and .so links" \
		test -f "$lib/libgdoisrtp.so.$ver" -a "$(readlink "$lib/libgdoisrtp.so.0")" = "libgdoisrtp.so.$ver" \
		-a "$(readlink "$lib/libgdoisrtp.so")" = libgdoisrtp.so.0
	check "installed gdoisrtp.pc says prefix=/opt/gdoi-test" \
		grep -qx 'prefix=/opt/gdoi-test' "$lib/pkgconfig/gdoisrtp.pc"
	check "pkg-config reads the installed version from gdoisrtp.pc" test "$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion gdoisrtp)" = "$ver"
else
	notok "make install DESTDIR=... PREFIX=/opt/gdoi-test"
	sed 's/^/# /' "$tmp/install.log" | tail -5
fi
tap_plan_end
