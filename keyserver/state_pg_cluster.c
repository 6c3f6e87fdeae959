/*
 * state_pg_cluster.c - what several key servers on one PostgreSQL coordinate
 * through: per-group rekey leadership (session advisory locks on the leadership
 * session; fencing of a record's commit by the lock), the change notices on
 * channel gdoi_ks, and the operator commands a follower queues for the leader.
 */
#include "keyserver/state_pg_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyserver/log.h"

/* Fencing: a leader whose leadership session ended (and another took the lock)
 * before it noticed commits nothing. In the record's transaction, the lock must
 * still be granted to our leadership session's backend. */
int pgs_still_leader(struct pgs *st, uint32_t gid)
{
	if (!pgs_held(st, gid))
		return 0;	/* not leading (first keys at start): nothing to fence */
	if (!st->lk || PQstatus(st->lk) != CONNECTION_OK)
		return -1;
	struct args a = { 0 };
	pgs_arg_int(&a, LOCK_CLASS);
	pgs_arg_int(&a, gid);
	pgs_arg_int(&a, PQbackendPID(st->lk));
	PGresult *r = pgs_run(st, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid"
			  " AND objid = $2::bigint::oid AND objsubid = 2 AND granted AND pid = $3", &a, PGRES_TUPLES_OK);
	int ok = r && PQntuples(r) == 1;
	PQclear(r);
	if (r && !ok) {
		ks_log(KS_ERR, "state: group %u: this key server's rekey leadership is gone: not committed", gid);
		st->nheld = 0;
	}
	return ok ? 0 : -1;
}

/* ---- operator commands for the rekey leader ---------------------------------- */

int pgs_cmd_add(struct ks_state *h, uint32_t gid, const char *op, const char *member, int64_t now, int64_t *id)
{
	struct pgs *st = (struct pgs *)h;
	char origin[64], g[16];
	snprintf(origin, sizeof(origin), "gdoi-ks pid %ld", (long)getpid());
	snprintf(g, sizeof(g), "%u", gid);
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, op);
	pgs_arg_str(&a, member && *member ? member : NULL);
	pgs_arg_str(&a, origin);
	pgs_arg_int(&a, now);
	if (pgs_exec(st, "BEGIN", NULL))
		return -1;
	PGresult *r = pgs_run(st, "INSERT INTO commands(gid, op, member, origin, created) VALUES($1,$2,$3,$4,$5)"
			  " RETURNING id", &a, PGRES_TUPLES_OK);
	bool ok = r && PQntuples(r) == 1;
	if (ok)
		*id = pgs_col_int(r, 0, 0);
	PQclear(r);
	a.n = 0;
	pgs_arg_str(&a, g);
	if (ok) {	/* the leader hears of it at COMMIT (and looks at every tick anyway) */
		r = pgs_run(st, "SELECT pg_notify('gdoi_ks', $1)", &a, PGRES_TUPLES_OK);
		ok = r != NULL;
		PQclear(r);
	}
	if (!ok || pgs_exec(st, "COMMIT", NULL)) {
		r = pgs_run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static void cmd_row(const PGresult *r, int row, struct ks_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->id = pgs_col_int(r, row, 0);
	c->gid = (uint32_t)pgs_col_int(r, row, 1);
	pgs_col_text(r, row, 2, c->op, sizeof(c->op));
	pgs_col_text(r, row, 3, c->member, sizeof(c->member));
	c->done = !PQgetisnull(r, row, 4);
	c->has_seq = !PQgetisnull(r, row, 5);
	c->seq = (uint32_t)pgs_col_int(r, row, 5);
	pgs_col_text(r, row, 6, c->error, sizeof(c->error));
}

static int cmd_query(struct pgs *st, const char *where, int64_t key, struct ks_cmd *out)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT id, gid, op, member, done, seq, error FROM commands WHERE %s", where);
	struct args a = { 0 };
	pgs_arg_int(&a, key);
	PGresult *r = pgs_run(st, sql, &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	int rc = PQntuples(r) ? 0 : 1;
	if (!rc)
		cmd_row(r, 0, out);
	PQclear(r);
	return rc;
}

int pgs_cmd_next(struct ks_state *h, uint32_t gid, struct ks_cmd *out)
{
	struct pgs *st = (struct pgs *)h;
	return cmd_query(st, "gid = $1 AND done IS NULL ORDER BY id LIMIT 1", gid, out);
}

int pgs_cmd_pending(struct ks_state *h, const uint32_t *gids, size_t n, bool *pending)
{
	struct pgs *st = (struct pgs *)h;
	/* the groups as one array literal, '{1,2,3}': a group id is at most 10 digits */
	size_t cap = n * 11 + 3, len = 0;
	char *list = malloc(cap);
	if (!list)
		return -1;
	list[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, cap - len, "%s%u", i ? "," : "", gids[i]);
	snprintf(list + len, cap - len, "}");
	struct args a = { 0 };
	pgs_arg_str(&a, list);
	PGresult *r = pgs_run(st, "SELECT DISTINCT gid FROM commands WHERE done IS NULL AND gid = ANY($1::bigint[])",
			      &a, PGRES_TUPLES_OK);
	free(list);
	if (!r)
		return -1;
	for (int row = 0; row < PQntuples(r); row++) {
		uint32_t gid = (uint32_t)pgs_col_int(r, row, 0);
		for (size_t i = 0; i < n; i++)
			if (gids[i] == gid)
				pending[i] = true;
	}
	PQclear(r);
	return 0;
}

int pgs_cmd_get(struct ks_state *h, int64_t id, struct ks_cmd *out)
{
	struct pgs *st = (struct pgs *)h;
	return cmd_query(st, "id = $1", id, out);
}

int pgs_cmd_done(struct ks_state *h, int64_t id, bool has_seq, uint32_t seq, const char *error, int64_t now)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, id);
	pgs_arg_int(&a, now);
	if (has_seq)
		pgs_arg_int(&a, seq);
	else
		pgs_arg_str(&a, NULL);
	pgs_arg_str(&a, error && *error ? error : NULL);
	if (pgs_exec(st, "UPDATE commands SET done=$2, seq=$3, error=$4 WHERE id=$1", &a))
		return -1;
	a.n = 0;
	pgs_arg_int(&a, now - CMD_KEEP_S);
	return pgs_exec(st, "DELETE FROM commands WHERE done < $1", &a);
}

/* ---- leadership and change notices ------------------------------------------ */

bool pgs_held(const struct pgs *st, uint32_t gid)
{
	for (size_t i = 0; i < st->nheld; i++)
		if (st->held[i] == gid)
			return true;
	return false;
}

/* 2: this process has just taken gid's leadership (its session holds the group's
 * lock now, and did not at the last call: another may have led in between), 1: it
 * still leads, 0: another does, -1: the database cannot be reached (nobody here
 * leads). */
int pgs_lead(struct ks_state *h, uint32_t gid)
{
	struct pgs *st = (struct pgs *)h;
	PGconn *c = pgs_conn(st, true);
	if (!c)
		return -1;
	/* a session that died under us is seen here before the lock is trusted */
	if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
		st->nheld = 0;
		return -1;
	}
	if (pgs_held(st, gid))
		return 1;
	if (st->nheld == MAX_HELD)
		return 0;
	struct args a = { 0 };
	pgs_arg_int(&a, (int32_t)LOCK_CLASS);
	pgs_arg_int(&a, (int32_t)gid);
	PGresult *r = pgs_run_on(c, "SELECT pg_try_advisory_lock($1::int4, $2::int4)::int4", &a, PGRES_TUPLES_OK, false);
	if (!r)
		return -1;
	int got = PQntuples(r) == 1 && pgs_col_int(r, 0, 0) == 1;
	PQclear(r);
	if (got)
		st->held[st->nheld++] = gid;
	return got ? 2 : 0;
}

/* Who holds gid's leadership: "application_name@address pid N" (the session's), or "". */
int pgs_holder(struct ks_state *h, uint32_t gid, char *out, size_t cap)
{
	struct pgs *st = (struct pgs *)h;
	out[0] = '\0';
	struct args a = { 0 };
	pgs_arg_int(&a, LOCK_CLASS);
	pgs_arg_int(&a, gid);
	PGresult *r = pgs_run(st, "SELECT a.application_name || '@' || COALESCE(host(a.client_addr), 'local')"
			  " || ' backend ' || a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
			  " WHERE l.locktype = 'advisory' AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid"
			  " AND l.objsubid = 2 AND l.granted", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	if (PQntuples(r))
		pgs_col_text(r, 0, 0, out, cap);
	PQclear(r);
	return 0;
}

int pgs_watch_fd(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	PGconn *c = pgs_conn(st, true);
	return c ? PQsocket(c) : -1;
}

/* Reads what arrived on the leadership session: cb for each group another key
 * server committed. -1 when the session is gone (leadership with it). */
int pgs_poll(struct ks_state *h, void (*cb)(void *ctx, uint32_t gid), void *ctx)
{
	struct pgs *st = (struct pgs *)h;
	PGconn *c = st->lk;
	if (!c || PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
		st->nheld = 0;
		return -1;
	}
	int self = PQbackendPID(st->db);
	PGnotify *n;
	while ((n = PQnotifies(c))) {
		char *end = NULL;
		unsigned long gid = strtoul(n->extra, &end, 10);
		if (end != n->extra && !*end && n->be_pid != self)
			cb(ctx, (uint32_t)gid);
		PQfreemem(n);
	}
	return 0;
}
