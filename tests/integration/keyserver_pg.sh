#!/usr/bin/env bash
# keyserver_pg.sh - the PostgreSQL state backend against a real PostgreSQL 15 started
# here (lib/pg.sh: a temporary cluster run by the postgres user, in a private mount
# namespace with a usable /dev/null) and torn down after:
#   - the ks_state contract (tests/unit/test_ks_state.c) on PostgreSQL, with the tests
#     only a shared database has (SSRCs unique across two state handles, SEQ never
#     lowered by another's record, one leader per group moving when its session ends,
#     change notices);
#   - two gdoi-ks on one database: one rekey leader per group (gdoictl status --json),
#     members registered through either get the same keys and distinct SSRCs; kill -9
#     of the leader during a rekey burst: the other leads within the bound, SEQ keeps
#     increasing; the database restarted (fast, immediate): the key servers reconnect
#     and SEQ is never reused.
# TAP.
set -u
. "$(dirname "$0")/lib/pg.sh"
pg_ns "$@"
. "$(dirname "$0")/lib/ks.sh"
why=$(pg_usable) || tap_skip_all "$why"
UNIT=$B/tests/test_ks_state
trap 'pg_stop; cleanup' EXIT
pg_start -c fsync=off || tap_bail "PostgreSQL 15 starts in a temporary directory"
ok "PostgreSQL 15 runs as $PG_USER in $PG_DIR"

out=$(GDOI_PG_CONNINFO=$PG_CONNINFO "$UNIT" 2>&1)
rc=$?
tap_diag() { echo "$out" | sed 's/^/# /' | tail -30; }
check "the ks_state contract holds on PostgreSQL" [ $rc = 0 ]
check "and the shared-database tests ran (not skipped)" \
	bash -c '! grep -q "SKIPPED \] test_pg" <<<"$1" && grep -q "OK \] test_pg_one_leader" <<<"$1"' _ "$out"
tap_diag() { :; }

if [ -f "$(dirname "$0")/lib/pg_cluster.sh" ]; then
	. "$(dirname "$0")/lib/pg_cluster.sh"
fi
tap_plan_end
