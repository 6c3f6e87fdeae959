# lib/tap.sh - the TAP output every integration script prints (sourced; lib/ks.sh and
# lib/stack.sh source it too). tests/run-all.sh counts "ok", "not ok" and skips apart.
#
#   ok NAME                  "ok N - NAME"
#   notok NAME               "not ok N - NAME" (counted in $tap_fail)
#   check NAME CMD...        ok or notok from CMD's exit status; after a notok it calls
#                            tap_diag, which a script may redefine to print what failed
#                            as "# " comment lines (the default prints nothing)
#   skip NAME REASON         "ok N - NAME # SKIP REASON": a check that could not run here
#   tap_skip_all REASON      "1..0 # SKIP REASON" and exit 0: the whole script cannot run here
#   tap_bail NAME            "1..1" and "not ok 1 - NAME", exit 1: nothing could be tested
#   tap_plan_end             prints the plan "1..N"; returns non-zero when a check failed
#
# Names say what holds, subject first: "keyserver refuses an unknown group".

[ -n "${tap_loaded:-}" ] && return 0
tap_loaded=1
tap_n=0
tap_fail=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
notok() { tap_n=$((tap_n + 1)); tap_fail=$((tap_fail + 1)); echo "not ok $tap_n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; tap_diag; fi; }
tap_diag() { :; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP ${2:-}"; }
tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_bail() { echo "1..1"; echo "not ok 1 - $*"; exit 1; }
tap_plan_end() { echo "1..$tap_n"; [ "$tap_fail" -eq 0 ]; }
