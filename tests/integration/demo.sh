#!/usr/bin/env bash
# The shorter variant of `make demo`: key server, three sidecars, a sender and
# two receivers (one late, after the sequence number wrapped) in a private
# network namespace, with rekeys during the run; every check of the demo must pass.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if "$top/demo-app/run-demo.sh" --short >"${TMPDIR:-/tmp}/gdoi-demo-short.log" 2>&1; then
	grep -E '^  (ok|FAIL)' "${TMPDIR:-/tmp}/gdoi-demo-short.log" | sed 's/^  ok   /ok - /; s/^  FAIL /not ok - /'
	echo "ok - demo passed"
else
	grep -E '^  (ok|FAIL)' "${TMPDIR:-/tmp}/gdoi-demo-short.log" | sed 's/^  ok   /ok - /; s/^  FAIL /not ok - /'
	echo "not ok - demo failed"
	tail -40 "${TMPDIR:-/tmp}/gdoi-demo-short.log" | sed 's/^/# /'
	exit 1
fi
