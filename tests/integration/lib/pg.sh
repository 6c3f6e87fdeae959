# lib/pg.sh - a throwaway PostgreSQL 15 for a test: initdb in a private temporary
# directory, run as the postgres user, on a Unix socket there (and TCP on
# 127.0.0.1:$PG_PORT), torn down by pg_stop. Sourced by scripts that run as root.
#
# /dev/null can be mode 0600 on these machines, which makes initdb and the server
# fail as postgres: pg_ns re-executes the calling script in a private mount
# namespace (unshare -m) where a usable null device of its own is bound over
# /dev/null. The real /dev/null is never touched.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-18555}
PG_USER=${PG_USER:-postgres}

# pg_ns "$@": first thing in a script; continues inside the namespace
pg_ns() {
	if [ -z "${GDOI_PG_NS:-}" ]; then
		export GDOI_PG_NS=1
		exec unshare -m --propagation private bash "$0" "$@"
	fi
}

# pg_usable: 0 when a PostgreSQL can be started here (else a reason on stdout)
pg_usable() {
	[ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
	[ -x "$PG_BIN/initdb" ] || { echo "no $PG_BIN/initdb (apt-get install postgresql)"; return 1; }
	id "$PG_USER" >/dev/null 2>&1 || { echo "no user $PG_USER"; return 1; }
	return 0
}

pg_as() { runuser -u "$PG_USER" -- "$@"; }

# pg_start [EXTRA SERVER OPTIONS]: sets PG_DIR and PG_CONNINFO (Unix socket)
pg_start() {
	PG_DIR=$(mktemp -d /tmp/gdoi-pg.XXXXXX) || return 1
	chmod 755 "$PG_DIR"
	# only inside the private namespace: the bind is never seen outside it
	[ -n "${GDOI_PG_NS:-}" ] || { echo "pg_start: call pg_ns first" >&2; return 1; }
	mknod -m 666 "$PG_DIR/null" c 1 3 && mount --bind "$PG_DIR/null" /dev/null || return 1
	mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
	chown "$PG_USER" "$PG_DIR/data" "$PG_DIR/sock"
	chmod 700 "$PG_DIR/data"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U gdoi --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	PG_OPTS="-k $PG_DIR/sock -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=50 $*"
	pg_ctl_start || return 1
	PG_CONNINFO="host=$PG_DIR/sock port=$PG_PORT user=gdoi dbname=postgres"
	export PG_CONNINFO PG_DIR
}

pg_ctl_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/sock/server.log" -o "$PG_OPTS" -w -t 20 start \
		>/dev/null || { tail -20 "$PG_DIR/sock/server.log" >&2; return 1; }
}

# pg_restart fast|immediate
pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null
	pg_ctl_start
}

pg_psql() { psql -X -q -A -t -d "$PG_CONNINFO" "$@"; }

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	[ -f "$PG_DIR/data/postmaster.pid" ] &&
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	[ -n "${GDOI_PG_NS:-}" ] && umount /dev/null 2>/dev/null
	rm -rf "$PG_DIR"
	PG_DIR=
}
