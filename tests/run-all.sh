#!/usr/bin/env bash
# Runs every test of the project and ends with exactly one line "N passed, M failed".
#   tests/run-all.sh BUILD_DIR [FUZZ_BUILD_DIR]
# Unit tests are cmocka binaries (one test function = one counted test, via TAP output);
# integration scripts under tests/integration/ count their TAP lines ("ok"/"not ok"),
# or count as one test by exit status when they print none; each fuzz target runs for
# FUZZ_SECONDS on its seed corpus and counts as one test.
set -u
build=${1:?build dir}
fuzz=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
export GDOI_VECTORS="$top/tests/vectors" GDOI_BUILD="$top/$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logdir="$build/test-logs"
mkdir -p "$logdir"
pass=0 fail=0 skipped=0
failed_names=()

# count_tap LOG NAME RC: adds the log's TAP results (or the exit status) to the totals.
count_tap() {
	local log=$1 name=$2 rc=$3 ok notok skip
	# A skipped check is neither passed nor failed: it is counted apart and shown.
	skip=$(grep -cE '^ok .*# SKIP|^1\.\.0 # SKIP' "$log")
	ok=$(grep -E '^ok ' "$log" | grep -cv '# SKIP')
	notok=$(grep -cE '^not ok ' "$log")
	skipped=$((skipped + skip))
	if [ $((ok + notok + skip)) -eq 0 ]; then
		if [ "$rc" -eq 0 ]; then ok=1; else notok=1; fi
	elif [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1	# crashed or exited non-zero after its last TAP line
	fi
	pass=$((pass + ok)) fail=$((fail + notok))
	if [ "$notok" -gt 0 ]; then
		failed_names+=("$name")
		echo "FAIL $name (log: $log)"
		grep -E '^not ok |ERROR|runtime error|Sanitizer|error:' "$log" | head -20 | sed 's/^/    /'
	else
		echo "ok   $name ($ok)${skip:+$( [ "$skip" -gt 0 ] && echo ", $skip skipped")}"
	fi
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$logdir/$name.log" 2>&1
	count_tap "$logdir/$name.log" "$name" $?
done

# The same unit tests once more under valgrind (memory errors, definite leaks), two at
# a time (valgrind is single-threaded and CPU-bound; results are read in list order).
if [ -n "${VALGRIND_BUILD:-}" ] && command -v valgrind >/dev/null; then
	vg_one() {
		timeout 600 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$2/tests/$1" >"$3/valgrind-$1.log" 2>&1
		echo $? >"$3/valgrind-$1.rc"
	}
	export -f vg_one
	for name in ${VALGRIND_TESTS:-}; do
		rm -f "$logdir/valgrind-$name.rc"
		[ -x "$VALGRIND_BUILD/tests/$name" ] && echo "$name"
	done | xargs -r -P "${VALGRIND_JOBS:-2}" -I{} bash -c 'vg_one "$@"' _ {} "$VALGRIND_BUILD" "$logdir"
	for name in ${VALGRIND_TESTS:-}; do
		[ -x "$VALGRIND_BUILD/tests/$name" ] || { echo "FAIL valgrind:$name (not built)"; fail=$((fail + 1)); continue; }
		rc=$(cat "$logdir/valgrind-$name.rc" 2>/dev/null || echo 98)
		if [ "$rc" -eq 0 ]; then
			pass=$((pass + 1)); echo "ok   valgrind:$name"
		else
			fail=$((fail + 1)); failed_names+=("valgrind:$name")
			echo "FAIL valgrind:$name (rc $rc, log: $logdir/valgrind-$name.log)"
		fi
	done
fi

for s in tests/integration/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	t0=$SECONDS
	timeout 600 bash "$s" >"$logdir/$name.log" 2>&1
	rc=$?
	echo "# $name took $((SECONDS - t0)) s" >>"$logdir/$name.log"
	count_tap "$logdir/$name.log" "$name" $rc
	[ $((SECONDS - t0)) -lt 60 ] || echo "     ($name took $((SECONDS - t0)) s)"
done

if [ -n "$fuzz" ]; then
	for f in "$fuzz"/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="$fuzz/corpus/$name"
		mkdir -p "$corpus"
		tests/fuzz/seed.sh "$name" "$corpus" >/dev/null 2>&1
		timeout $((${FUZZ_SECONDS:-5} + 120)) "$f" -max_total_time="${FUZZ_SECONDS:-5}" \
			-print_final_stats=1 "$corpus" >"$logdir/$name.log" 2>&1
		count_tap "$logdir/$name.log" "$name" $?
	done
fi

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
[ "$skipped" -gt 0 ] && echo "($skipped checks skipped: see the lines above)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
