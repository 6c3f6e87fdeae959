#!/usr/bin/env bash
# make analyze: scan-build (clang static analyzer) over the whole build and
# cppcheck over the whole tree. Each triaged false positive is listed in
# tests/analyze/ (docs/static-analysis.md gives the reasons); anything not
# listed is printed and fails the run. Not part of make check.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
here=tests/analyze
scan=$(command -v scan-build || command -v scan-build-14) || { echo "analyze: scan-build not installed (apt-get install clang-tools)"; exit 2; }
command -v cppcheck >/dev/null || { echo "analyze: cppcheck not installed"; exit 2; }
out=$(mktemp -d /tmp/gdoi-analyze.XXXXXX)
fails=0

echo "== cppcheck"
cppcheck --enable=warning,portability,performance --std=c11 --inline-suppr -I. -D__GNUC__ -q \
	--suppressions-list=$here/cppcheck-suppressions.txt \
	--template='{file}:{line}: {id}: {message}' --error-exitcode=1 \
	gdoi ipc keyserver sidecar srtp-bridge tools demo-app bench tests 2>"$out/cppcheck.txt"
rc=$?
cat "$out/cppcheck.txt"
[ $rc -eq 0 ] || { echo "analyze: cppcheck findings not triaged above"; fails=1; }

echo "== scan-build ($scan, build in build/sb)"
rm -rf build/sb
"$scan" -plist -o "$out/sb" make -j"${JOBS:-2}" BUILD=build/sb all test-bins bench-bins >"$out/scan-build.log" 2>&1 ||
	{ tail -20 "$out/scan-build.log"; echo "analyze: the scan-build build failed"; exit 2; }
# one line per finding: FILE|CHECKER|FUNCTION|MESSAGE (no line numbers: they move)
python3 - "$out/sb" >"$out/found.txt" <<'PY'
import glob, os, plistlib, sys
seen = set()
for f in glob.glob(os.path.join(sys.argv[1], '*', '*.plist')):
    p = plistlib.load(open(f, 'rb'))
    for d in p.get('diagnostics', []):
        loc = d['location']
        fn = os.path.normpath(p['files'][loc['file']])
        key = '%s|%s|%s|%s' % (fn, d['check_name'], d.get('issue_context', ''), d['description'])
        if key not in seen:
            seen.add(key)
            print('%s\t%d' % (key, loc['line']))
PY
sort -o "$out/found.txt" "$out/found.txt"
grep -v '^#' $here/scan-build-false-positives.txt | grep -v '^$' | sort >"$out/known.txt"
n=0 new=0
while IFS=$'\t' read -r key line; do
	n=$((n + 1))
	if grep -qxF -- "$key" "$out/known.txt"; then
		echo "  triaged  line $line: $key"
	else
		echo "  NEW      line $line: $key"
		new=$((new + 1))
	fi
done <"$out/found.txt"
echo "scan-build: $n finding(s), $new not triaged (reports: $out/sb)"
[ $new -eq 0 ] || fails=1
exit $fails
