#!/usr/bin/env bash
# Each program needs only the shared libraries it calls into (the Makefile's
# PROG_LIBS_* / PROG_PKGS_*): every NEEDED entry of its ELF dynamic section must be on
# its list below (the C runtime and the sanitizers' runtimes are always allowed), and
# the libraries named for it must be there. TAP.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl gdoi-dump demo-sender demo-receiver
command -v readelf >/dev/null || tap_bail "readelf missing (binutils)"

runtime="libc libm libpthread libdl librt libgcc_s libstdc++ libasan libubsan ld-linux-x86-64 ld-linux-aarch64"
# needed FILE: the base names (libfoo) of FILE's NEEDED entries, one a line
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(lib[^.]*\)\..*\]/\1/p'; }

# links FILE "LIB...": FILE needs every LIB and nothing else but the runtime
links() {
	local file=$1 want=$2 extra="" missing="" lib got
	got=$(needed "$file")
	for lib in $got; do
		case " $want $runtime " in *" $lib "*) ;; *) extra="$extra $lib" ;; esac
	done
	for lib in $want; do
		grep -qx "$lib" <<<"$got" || missing="$missing $lib"
	done
	[ -n "$extra" ] && echo "# ${file##*/} needs more than it uses:$extra"
	[ -n "$missing" ] && echo "# ${file##*/} lacks$missing (list out of date?)"
	[ -z "$extra" ] && [ -z "$missing" ]
}

check "gdoi-ks needs only libcrypto, libuv, libinih, libjansson, libsqlite3 and libpq" \
	links "$BIN/gdoi-ks" "libcrypto libuv libinih libjansson libsqlite3 libpq"
check "gdoi-sidecar needs no libsqlite3, libpcap or libsrtp2 (libcrypto, libuv, libinih, libjansson)" \
	links "$BIN/gdoi-sidecar" "libcrypto libuv libinih libjansson"
check "gdoictl needs only libjansson" links "$BIN/gdoictl" "libjansson"
check "gdoi-dump needs only libcrypto, libjansson and libpcap" \
	links "$BIN/gdoi-dump" "libcrypto libjansson libpcap"
check "demo-sender needs only libsrtp2 and libjansson" links "$BIN/demo-sender" "libsrtp2 libjansson"
check "demo-receiver needs only libsrtp2 and libjansson" links "$BIN/demo-receiver" "libsrtp2 libjansson"
check "libgdoisrtp.so needs only libsrtp2 and libjansson" \
	links "$B/lib/libgdoisrtp.so" "libsrtp2 libjansson"
tap_plan_end
