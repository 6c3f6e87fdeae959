#!/usr/bin/env bash
# README.md runs as written. Its blocks are extracted from the file, not copied:
#   ```sh test       run in order by bash -e, in a scratch directory holding a copy
#                    of examples/, each within 90 s (the background jobs a block
#                    starts stay up for the next blocks);
#   ```python test   run by python3 for at most 10 s: a loop still running then is
#                    fine, a traceback or no output is not;
#   ```ini FILE      an excerpt of FILE (examples/...): every line of the block is a
#                    line of FILE, in the same order.
# The blocks run as root in private mount, network and PID namespaces with fresh
# tmpfs on /run and /var/lib, so the examples' default paths (/run/gdoi-ks,
# /run/gdoi-sidecar, /var/lib/gdoi-ks) are created by the daemons as on a fresh
# machine and nothing outside is touched; the namespace's end stops every daemon.
# The programs come from $GDOI_BUILD (the README's "make install" puts them on PATH).
set -u
. "$(dirname "$0")/lib/stack.sh"
readme=$top/README.md

if [ -z "${GDOI_README_NS:-}" ]; then
	ns=(unshare -m -n -p -f --mount-proc --kill-child)
	[ "$(id -u)" = 0 ] || ns=(unshare -r -m -n -p -f --mount-proc --kill-child)
	stack_need gdoi-ks gdoi-sidecar gdoictl
	env GDOI_README_NS=1 GDOI_README_TMP="$tmp" "${ns[@]}" bash "$0" "$@"
	exit $?
fi
trap - EXIT
rmdir "$tmp"; tmp=$GDOI_README_TMP	# the outer script's: it removes it
mount --make-rprivate / && mount -t tmpfs -o mode=0755 tmpfs /run && mount -t tmpfs -o mode=0755 tmpfs /var/lib &&
	ip link set lo up && ip route add 224.0.0.0/4 dev lo ||
	{ echo "1..1"; echo "not ok 1 - private /run, /var/lib and network for the README's commands"; exit 1; }
export PATH=$BIN:$PATH GST_PLUGIN_PATH=$B/lib/gstreamer-1.0 GST_REGISTRY=$tmp/gst-registry.bin
work=$tmp/work
mkdir -p "$work" && cp -r "$top/examples" "$work/"

# blocks FENCE: "LINE<TAB>INFO" per block, its text in $tmp/block-LINE
awk -v dir="$tmp" '
	!in_block && /^```[a-z]+( .*)?$/ { info = substr($0, 4); start = NR; in_block = 1; n = 0
		file = dir "/block-" start; printf "" > file; next }
	in_block && /^```$/ { in_block = 0; close(file); print start "\t" info; next }
	in_block { print > file }' "$readme" >"$tmp/blocks"

nsh=0 npy=0 nini=0 wav_line=
while IFS=$'\t' read -r line info; do
	block=$tmp/block-$line
	first=$(grep -v '^[[:space:]]*#' "$block" | grep -m1 . | cut -c1-60)
	case $info in
	"sh test")
		nsh=$((nsh + 1))
		(cd "$work" && timeout 90 bash -e "$block") >"$tmp/out-$line" 2>&1
		rc=$?
		check "README.md:$line (sh) exits 0: $first" test $rc -eq 0
		[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/out-$line" | tail -n 15
		grep -q '\.wav' "$block" && wav_line=$line
		;;
	"python test")
		npy=$((npy + 1))
		(cd "$work" && timeout 10 python3 "$block") >"$tmp/out-$line" 2>"$tmp/err-$line"
		rc=$?
		if sh -c 'test "$1" -eq 0 -o "$1" -eq 124 && test -s "$2" && ! grep -q Traceback "$3"' - \
			"$rc" "$tmp/out-$line" "$tmp/err-$line"; then
			ok "README.md:$line (python) runs, prints, no traceback (exit $rc): $first"
		else
			notok "README.md:$line (python) runs, prints, no traceback (exit $rc): $first"
			sed 's/^/# /' "$tmp/err-$line" | tail -n 10
		fi
		;;
	"ini "*)
		nini=$((nini + 1))
		src=${info#ini }
		check "README.md:$line (ini) is an excerpt of $src" python3 - "$block" "$top/$src" <<-'EOF'
		import sys
		want = [l.rstrip() for l in open(sys.argv[1]) if l.strip()]
		have = [l.rstrip() for l in open(sys.argv[2])]
		i = 0
		for w in want:
		    while i < len(have) and have[i] != w:
		        i += 1
		    if i == len(have):
		        print("# not in %s (in this order): %s" % (sys.argv[2], w))
		        sys.exit(1)
		    i += 1
		EOF
		;;
	esac
done <"$tmp/blocks"
check "README.md has blocks to run ($nsh sh, $npy python) and config excerpts ($nini)" \
	test "$nsh" -ge 2 -a "$npy" -ge 1 -a "$nini" -ge 2
# what the blocks left behind, as the README says
nwav=0 short=
for w in "$work"/*.wav; do
	[ -f "$w" ] || continue
	nwav=$((nwav + 1))
	size=$(stat -c %s "$w")
	[ "$size" -ge 64000 ] || short="$short $(basename "$w") ($size octets)"	# 4 s of 8 kHz s16
done
check "the README's receivers each wrote 4 s or more of audio ($nwav WAV files;${short:- none} short)" \
	test "$nwav" -ge 2 -a -z "$short"
[ -z "$short" ] || [ -z "$wav_line" ] || sed 's/^/# /' "$tmp/out-$wav_line" | tail -n 15
check "the daemons made their directories: /var/lib/gdoi-ks 0700, /run/gdoi-ks and /run/gdoi-sidecar 0750" \
	test "$(stat -c %a /var/lib/gdoi-ks /run/gdoi-ks /run/gdoi-sidecar 2>/dev/null | tr '\n' ' ')" = "700 750 750 "
tap_plan_end
