/*
 * state_pg.c - state.h on PostgreSQL (libpq), for several gdoi-ks processes
 * serving the same groups from one database (docs/keyserver-postgresql.md).
 *
 * Two sessions per process: one for the state (every call is one statement in
 * autocommit, or one transaction for a group record), and one that holds the
 * per-group rekey leadership (session advisory locks: they go with the session,
 * so a key server that dies or loses its database gives leadership up) and
 * LISTENs on channel gdoi_ks, where every committed group record is announced
 * (payload: the group id). The database is the authority: durability is
 * PostgreSQL's (synchronous_commit, and synchronous standbys for failover), so
 * the SQLite backend's SEQ mark does not apply: a file on one key server's disk
 * cannot know the SEQ another key server committed.
 *
 * SEQ only moves forward: a saved record never lowers the stored SEQ under the
 * same KEK. SSRCs and TEK SPIs are unique by primary key: a conflict (SQLSTATE
 * 23505) is reported as "taken" and the caller picks another.
 *
 * A lost connection is re-established without blocking the caller: the attempt
 * (libpq's own, with connect_timeout per host, every host of a multi-host string
 * and target_session_attrs) runs on a thread of its own, started by a call at
 * most every RETRY_MS; a later call takes the new session once it is ready.
 * Until then calls fail at once, and the key server refuses what needs the state
 * (registrations: Notify UNAVAILABLE), as on a full disk. An outage is logged
 * when it starts, then at most every OUTAGE_LOG_MS, and when it ends.
 *
 * Operator commands (state.h ks_state_cmd_*): a key server that does not lead a
 * group queues a rekey or an eviction's rotation in table commands (committed,
 * announced on gdoi_ks like a group record); the group's leader carries it out
 * and records the SEQ that carried it.
 *
 * Not thread-safe by itself: one caller at a time (the daemon's loop, or
 * workers under one mutex); no thread-local state.
 */
#include "keyserver/state_pg.h"
#include "keyserver/state_pg_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyserver/log.h"

static const struct ks_state_ops pgs_ops;

static const char pg_schema[] =
	"SELECT pg_advisory_xact_lock(1734635369);"	/* two key servers starting at once */
	"CREATE TABLE IF NOT EXISTS groups(gid BIGINT PRIMARY KEY, has_kek BIGINT, kek_spi BYTEA,"
	" kek_alg BIGINT, kek_bits BIGINT, kek_iv BYTEA, kek_key BYTEA, kek_created BIGINT, seq BIGINT,"
	" tek_created BIGINT, prev_until BIGINT, tek_push_due BIGINT, sign_der BYTEA);"
	"CREATE TABLE IF NOT EXISTS teks(gid BIGINT, spi BIGINT, gen BIGINT, profile BIGINT, created BIGINT,"
	" key BYTEA, ord BIGINT, PRIMARY KEY(gid, spi));"
	"CREATE TABLE IF NOT EXISTS used_spis(gid BIGINT, spi BIGINT, PRIMARY KEY(gid, spi));"
	"CREATE TABLE IF NOT EXISTS ssrcs(gid BIGINT, ssrc BIGINT, member TEXT, seq BIGSERIAL,"
	" PRIMARY KEY(gid, ssrc));"
	"CREATE INDEX IF NOT EXISTS ssrcs_member ON ssrcs(gid, member);"
	"CREATE TABLE IF NOT EXISTS members(gid BIGINT, member TEXT, identity TEXT, addr TEXT,"
	" registered BIGINT, ack_seq BIGINT, ack_misses BIGINT, gikev2 BIGINT, PRIMARY KEY(gid, member));"
	"ALTER TABLE members ADD COLUMN IF NOT EXISTS gikev2 BIGINT;"	/* tables from before 2026-12-03 */
	"CREATE TABLE IF NOT EXISTS blocked(member TEXT PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS commands(id BIGSERIAL PRIMARY KEY, gid BIGINT, op TEXT, member TEXT,"
	" origin TEXT, created BIGINT, done BIGINT, seq BIGINT, error TEXT);"
	"CREATE INDEX IF NOT EXISTS commands_open ON commands(gid, id) WHERE done IS NULL;";

static void pgs_close(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	if (!st)
		return;
	pgs_sessions_close(st);
	free(st->conninfo);
	free(st);
}

int pgs_open(const char *conninfo, struct ks_state **out, char *err, size_t errlen)
{
	struct pgs *st = calloc(1, sizeof(*st));
	if (!st || !(st->conninfo = strdup(conninfo))) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	PGconn *c = pgs_conn_now(st, false, err, errlen);
	if (!c) {
		pgs_close(&st->base);
		return -1;
	}
	PGresult *r = PQexec(c, "BEGIN");
	PQclear(r);
	r = PQexec(c, pg_schema);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	r = PQexec(c, ok ? "COMMIT" : "ROLLBACK");
	ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		snprintf(err, errlen, "state postgresql: cannot create the tables: %s", PQerrorMessage(c));
		pgs_close(&st->base);
		return -1;
	}
	char lkerr[200];
	if (!pgs_conn_now(st, true, lkerr, sizeof(lkerr)))	/* leadership may come later: retried */
		ks_log(KS_WARN, "%s (leadership session: retried)", lkerr);
	st->base.ops = &pgs_ops;
	*out = &st->base;
	return 0;
}

static int pgs_load_group(struct ks_state *h, uint32_t gid, struct ks_group_rec *rec)
{
	struct pgs *st = (struct pgs *)h;
	memset(rec, 0, sizeof(*rec));
	rec->gid = gid;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	/* one snapshot for the record and its TEKs */
	PGresult *r = pgs_run(st, "SELECT g.has_kek, g.kek_spi, g.kek_alg, g.kek_bits, g.kek_iv, g.kek_key, g.kek_created,"
			  " g.seq, g.tek_created, g.prev_until, g.tek_push_due, g.sign_der,"
			  " t.spi, t.gen, t.profile, t.created, t.key FROM groups g LEFT JOIN teks t ON t.gid = g.gid"
			  " WHERE g.gid = $1 ORDER BY t.gen, t.ord", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	int rows = PQntuples(r);
	if (!rows) {
		PQclear(r);
		return 1;
	}
	rec->has_kek = pgs_col_int(r, 0, 0);
	pgs_col_bytes(r, 0, 1, rec->kek_spi, sizeof(rec->kek_spi), NULL);
	rec->kek_alg = (uint16_t)pgs_col_int(r, 0, 2);
	rec->kek_bits = (uint16_t)pgs_col_int(r, 0, 3);
	pgs_col_bytes(r, 0, 4, rec->kek_iv, sizeof(rec->kek_iv), NULL);
	pgs_col_bytes(r, 0, 5, rec->kek_key, sizeof(rec->kek_key), NULL);
	rec->kek_created = pgs_col_int(r, 0, 6);
	rec->seq = (uint32_t)pgs_col_int(r, 0, 7);
	rec->tek_created = pgs_col_int(r, 0, 8);
	rec->prev_until = pgs_col_int(r, 0, 9);
	rec->tek_push_due = pgs_col_int(r, 0, 10);
	pgs_col_bytes(r, 0, 11, rec->sign_der, sizeof(rec->sign_der), &rec->sign_der_len);
	for (int i = 0; i < rows && rec->nteks < GDOI_MAX_TEKS; i++) {
		if (PQgetisnull(r, i, 12))
			continue;
		struct ks_tek_rec *t = &rec->teks[rec->nteks++];
		t->spi = (uint32_t)pgs_col_int(r, i, 12);
		t->gen = (uint8_t)pgs_col_int(r, i, 13);
		t->profile = (uint16_t)pgs_col_int(r, i, 14);
		t->created = pgs_col_int(r, i, 15);
		pgs_col_bytes(r, i, 16, t->key, sizeof(t->key), &t->key_len);
	}
	/* keys leave libpq's buffer: wiped before it is freed */
	for (int i = 0; i < rows; i++) {
		for (int c = 0; c < PQnfields(r); c++)
			if (!PQgetisnull(r, i, c))
				gdoi_wipe(PQgetvalue(r, i, c), (size_t)PQgetlength(r, i, c));
	}
	PQclear(r);
	return 0;
}

/* The database is the authority (no mark to compare with): what it holds is current. */
static enum ks_state_verdict pgs_verify_group(struct ks_state *h, int load_rc, struct ks_group_rec *rec, char *why,
				       size_t whylen)
{
	struct pgs *st = (struct pgs *)h;
	(void)st;
	(void)load_rc;
	(void)rec;
	if (whylen)
		why[0] = '\0';
	return KS_STATE_OK;
}

static int save_group_tx(struct pgs *st, const struct ks_group_rec *rec)
{
	struct args a = { 0 };
	pgs_arg_int(&a, rec->gid);
	pgs_arg_int(&a, rec->has_kek);
	pgs_arg_bin(&a, rec->kek_spi, sizeof(rec->kek_spi));
	pgs_arg_int(&a, rec->kek_alg);
	pgs_arg_int(&a, rec->kek_bits);
	pgs_arg_bin(&a, rec->kek_iv, sizeof(rec->kek_iv));
	pgs_arg_bin(&a, rec->kek_key, sizeof(rec->kek_key));
	pgs_arg_int(&a, rec->kek_created);
	pgs_arg_int(&a, rec->seq);
	pgs_arg_int(&a, rec->tek_created);
	pgs_arg_int(&a, rec->prev_until);
	pgs_arg_int(&a, rec->tek_push_due);
	if (rec->sign_der_len)
		pgs_arg_bin(&a, rec->sign_der, rec->sign_der_len);
	else
		pgs_arg_str(&a, NULL);
	/* under the same KEK the stored SEQ never goes down (another key server's push) */
	if (pgs_exec(st, "INSERT INTO groups AS g(gid, has_kek, kek_spi, kek_alg, kek_bits, kek_iv, kek_key, kek_created,"
		" seq, tek_created, prev_until, tek_push_due, sign_der) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
		" ON CONFLICT(gid) DO UPDATE SET has_kek=$2, kek_spi=$3, kek_alg=$4, kek_bits=$5, kek_iv=$6, kek_key=$7,"
		" kek_created=$8, seq=CASE WHEN g.has_kek = 1 AND $2 = 1 AND g.kek_spi = $3 THEN GREATEST(g.seq, $9)"
		" ELSE $9 END, tek_created=$10, prev_until=$11, tek_push_due=$12, sign_der=$13", &a))
		return -1;
	a.n = 0;
	pgs_arg_int(&a, rec->gid);
	if (pgs_exec(st, "DELETE FROM teks WHERE gid=$1", &a))
		return -1;
	for (size_t i = 0; i < rec->nteks; i++) {
		const struct ks_tek_rec *t = &rec->teks[i];
		a.n = 0;
		pgs_arg_int(&a, rec->gid);
		pgs_arg_int(&a, t->spi);
		pgs_arg_int(&a, t->gen);
		pgs_arg_int(&a, t->profile);
		pgs_arg_int(&a, t->created);
		pgs_arg_bin(&a, t->key, t->key_len);
		pgs_arg_int(&a, (int64_t)i);
		if (pgs_exec(st, "INSERT INTO teks(gid, spi, gen, profile, created, key, ord) VALUES($1,$2,$3,$4,$5,$6,$7)",
			&a))
			return -1;
	}
	a.n = 0;
	snprintf(a.buf[0], sizeof(a.buf[0]), "%u", rec->gid);
	pgs_arg_str(&a, a.buf[0]);
	a.n = 1;
	PGresult *r = pgs_run(st, "SELECT pg_notify('gdoi_ks', $1)", &a, PGRES_TUPLES_OK);	/* at COMMIT */
	PQclear(r);
	return r ? 0 : -1;
}

static int pgs_save_group(struct ks_state *h, const struct ks_group_rec *rec)
{
	struct pgs *st = (struct pgs *)h;
	if (pgs_exec(st, "BEGIN", NULL))
		return -1;
	if (pgs_still_leader(st, rec->gid) || save_group_tx(st, rec) || pgs_exec(st, "COMMIT", NULL)) {
		PGresult *r = pgs_run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static int pgs_save_seq(struct ks_state *h, uint32_t gid, uint32_t seq)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_int(&a, seq);
	PGresult *r = pgs_run(st, "UPDATE groups SET seq=GREATEST(seq, $2) WHERE gid=$1 AND has_kek=1", &a,
			  PGRES_COMMAND_OK);
	int ok = r && !strcmp(PQcmdTuples(r), "1");
	PQclear(r);
	if (r && !ok)
		ks_log(KS_ERR, "state: SEQ of group %u saved before its KEK", gid);
	return ok ? 0 : -1;
}

static int pgs_spi_claim(struct ks_state *h, uint32_t gid, uint32_t spi)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_int(&a, spi);
	PGresult *r = pgs_run(st, "INSERT INTO used_spis(gid, spi) VALUES($1,$2) ON CONFLICT DO NOTHING", &a,
			  PGRES_COMMAND_OK);
	if (!r)
		return -1;
	int rc = strcmp(PQcmdTuples(r), "1") ? 1 : 0;
	PQclear(r);
	return rc;
}

static int pgs_ssrc_list(struct ks_state *h, uint32_t gid, const char *member, uint32_t *out, size_t cap, size_t *n)
{
	struct pgs *st = (struct pgs *)h;
	*n = 0;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, member);
	pgs_arg_int(&a, (int64_t)cap);
	PGresult *r = pgs_run(st, "SELECT ssrc FROM (SELECT ssrc, seq FROM ssrcs WHERE gid=$1 AND member=$2"
			  " ORDER BY seq DESC LIMIT $3) x ORDER BY seq", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && *n < cap; i++)
		out[(*n)++] = (uint32_t)pgs_col_int(r, i, 0);
	PQclear(r);
	return 0;
}

/* Unique across every key server on the database: the primary key decides. */
static int pgs_ssrc_add(struct ks_state *h, uint32_t gid, const char *member, uint32_t ssrc)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_int(&a, ssrc);
	pgs_arg_str(&a, member);
	PGconn *c = pgs_conn(st, false);
	if (!c)
		return -1;
	PGresult *r = pgs_send(c, "INSERT INTO ssrcs(gid, ssrc, member) VALUES($1,$2,$3)", &a);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pgs_unique_violation(r) ? 1 : -1;
	if (rc < 0)
		ks_log(KS_ERR, "state: postgresql: add SSRC: %s", PQerrorMessage(c));
	PQclear(r);
	return rc;
}

static int pgs_member_seen(struct ks_state *h, uint32_t gid, const char *member, const char *identity, const char *addr,
		    bool gikev2, int64_t now)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, member);
	pgs_arg_str(&a, identity);
	pgs_arg_str(&a, addr);
	pgs_arg_int(&a, now);
	pgs_arg_int(&a, gikev2);
	/* bookkeeping, as in the SQLite backend (state_sqlite.c member_seen): committed
	 * without waiting for the WAL flush, so a registration costs no fsync; the next
	 * synchronous commit (SEQ, keys, SSRCs) flushes it along */
	if (pgs_exec(st, "BEGIN", NULL))
		return -1;
	if (pgs_exec(st, "SET LOCAL synchronous_commit = off", NULL) ||
	    pgs_exec(st, "INSERT INTO members(gid, member, identity, addr, registered, gikev2)"
		" VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(gid, member) DO UPDATE SET identity=$3, addr=$4,"
		" registered=$5, gikev2=$6, ack_seq=NULL, ack_misses=NULL", &a) || pgs_exec(st, "COMMIT", NULL)) {
		PGresult *r = pgs_run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static int pgs_member_remove(struct ks_state *h, uint32_t gid, const char *member)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, member);
	return pgs_exec(st, "DELETE FROM members WHERE gid=$1 AND member=$2", &a);
}

static int pgs_member_acked(struct ks_state *h, uint32_t gid, const char *member, uint32_t seq)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, member);
	pgs_arg_int(&a, seq);
	return pgs_exec(st, "UPDATE members SET ack_seq=$3, ack_misses=0 WHERE gid=$1 AND member=$2", &a);
}

static int pgs_member_missed(struct ks_state *h, uint32_t gid, const char *member, unsigned *misses)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	pgs_arg_str(&a, member);
	PGresult *r = pgs_run(st, "UPDATE members SET ack_misses=COALESCE(ack_misses,0)+1 WHERE gid=$1 AND member=$2"
			  " RETURNING ack_misses", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	*misses = PQntuples(r) ? (unsigned)pgs_col_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

/* ssrcs: one statement either way (the join costs little next to the round trip) */
static int pgs_members(struct ks_state *h, uint32_t gid, bool ssrcs,
		       void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_int(&a, gid);
	if (ssrcs)
		pgs_arg_int(&a, GDOI_MAX_SIDS);
	/* one statement: the members and (asked for) each one's newest SSRCs, oldest first */
	PGresult *r = ssrcs ? pgs_run(st, "SELECT m.member, m.identity, m.addr, m.registered, m.ack_seq, m.ack_misses, x.ssrc, m.gikev2"
				      " FROM members m LEFT JOIN LATERAL (SELECT ssrc, seq FROM ssrcs s WHERE s.gid=m.gid AND"
				      " s.member=m.member ORDER BY seq DESC LIMIT $2) x ON true WHERE m.gid=$1"
				      " ORDER BY m.member, x.seq", &a, PGRES_TUPLES_OK)
			    : pgs_run(st, "SELECT m.member, m.identity, m.addr, m.registered, m.ack_seq, m.ack_misses,"
				      " NULL::int8, m.gikev2 FROM members m WHERE m.gid=$1 ORDER BY m.member",
				      &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	struct ks_member_rec m;
	int rows = PQntuples(r);
	for (int i = 0; i < rows;) {
		memset(&m, 0, sizeof(m));
		pgs_col_text(r, i, 0, m.name, sizeof(m.name));
		pgs_col_text(r, i, 1, m.identity, sizeof(m.identity));
		pgs_col_text(r, i, 2, m.addr, sizeof(m.addr));
		m.registered = pgs_col_int(r, i, 3);
		m.has_ack = !PQgetisnull(r, i, 4);
		m.ack_seq = (uint32_t)pgs_col_int(r, i, 4);
		m.ack_misses = (unsigned)pgs_col_int(r, i, 5);
		m.gikev2 = pgs_col_int(r, i, 7) != 0;
		int j = i;
		for (; j < rows && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)); j++)
			if (!PQgetisnull(r, j, 6) && m.nssrcs < GDOI_MAX_SIDS)
				m.ssrcs[m.nssrcs++] = (uint32_t)pgs_col_int(r, j, 6);
		i = j;
		cb(ctx, &m);
	}
	PQclear(r);
	return 0;
}

static int pgs_set_blocked(struct ks_state *h, const char *member, bool blocked)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_str(&a, member);
	return pgs_exec(st, blocked ? "INSERT INTO blocked(member) VALUES($1) ON CONFLICT DO NOTHING"
			       : "DELETE FROM blocked WHERE member=$1", &a);
}

/* 1 blocked, 0 not, -1 the check cannot be made (the database cannot be reached). */
static int pgs_blocked_check(struct ks_state *h, const char *member)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	pgs_arg_str(&a, member);
	PGresult *r = pgs_run(st, "SELECT 1 FROM blocked WHERE member=$1", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	int b = PQntuples(r) > 0;
	PQclear(r);
	return b;
}

static const struct ks_state_ops pgs_ops = {
	.close = pgs_close,
	.load_group = pgs_load_group,
	.verify_group = pgs_verify_group,
	.save_group = pgs_save_group,
	.save_seq = pgs_save_seq,
	.spi_claim = pgs_spi_claim,
	.ssrc_list = pgs_ssrc_list,
	.ssrc_add = pgs_ssrc_add,
	.member_seen = pgs_member_seen,
	.member_remove = pgs_member_remove,
	.member_acked = pgs_member_acked,
	.member_missed = pgs_member_missed,
	.members = pgs_members,
	.set_blocked = pgs_set_blocked,
	.blocked_check = pgs_blocked_check,
	.lead = pgs_lead,
	.leader = pgs_holder,
	.watch_fd = pgs_watch_fd,
	.poll = pgs_poll,
	.connected = pgs_connected,
	.cmd_add = pgs_cmd_add,
	.cmd_next = pgs_cmd_next,
	.cmd_pending = pgs_cmd_pending,
	.cmd_get = pgs_cmd_get,
	.cmd_done = pgs_cmd_done,
};
