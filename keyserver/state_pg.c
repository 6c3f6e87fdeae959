/*
 * state_pg.c - state.h on PostgreSQL (libpq), for several gdoi-ks processes
 * serving the same groups from one database (docs/keyserver.md, "Several key
 * servers on PostgreSQL").
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
#include "keyserver/state_int.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyserver/log.h"

#define RETRY_MS 200
#define OUTAGE_LOG_MS 30000
#define CMD_KEEP_S 3600		/* carried-out commands are kept this long (gdoictl asks) */
#define LOCK_CLASS 0x67646f69u	/* "gdoi": the first key of every leadership lock */
#define MAX_HELD 64
#define MAX_ARGS 16

static const struct ks_state_ops pgs_ops;

/* One connection attempt on its own thread: the loop never waits for it. */
struct attempt {
	pthread_t thread;
	bool running;			/* a thread was started and not joined yet */
	atomic_bool finished;		/* it is done: result (or NULL) may be taken */
	PGconn *result;
	bool ok;			/* result is connected and set up */
	struct pgs *st;
	bool lk;
};

/* An outage of one session: logged when it starts, then now and then, and at its end. */
struct outage {
	int64_t since, logged;		/* ms; since = 0: connected */
	unsigned failures;
};

struct pgs {
	struct ks_state base;		/* first: the handle state.c passes around */
	char *conninfo;
	PGconn *db, *lk;		/* state; leadership + LISTEN */
	int64_t db_try, lk_try;		/* last connection attempt (ms) */
	struct attempt att[2];		/* [0] state, [1] leadership */
	struct outage out[2];
	size_t nheld;
	uint32_t held[MAX_HELD];	/* groups whose lock lk holds */
};

struct args {
	int n;
	const char *v[MAX_ARGS];
	int len[MAX_ARGS], fmt[MAX_ARGS];
	char buf[MAX_ARGS][24];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void a_int(struct args *a, int64_t x)
{
	snprintf(a->buf[a->n], sizeof(a->buf[0]), "%lld", (long long)x);
	a->v[a->n] = a->buf[a->n];
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static void a_str(struct args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static void a_bin(struct args *a, const void *p, size_t n)
{
	a->v[a->n] = p;
	a->len[a->n] = (int)n;
	a->fmt[a->n++] = 1;
}

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

/* Defaults a connection string may override: a dead peer is noticed within
 * about 5 + 3 x 1 s on TCP (client side; the server side is set per session
 * in setup()), a connection attempt gives up after 3 s. */
static PGconn *connect_db(const char *conninfo)
{
	char app[64];
	snprintf(app, sizeof(app), "gdoi-ks pid %ld", (long)getpid());
	const char *k[] = { "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
			    "keepalives_count", "tcp_user_timeout", "application_name", "dbname", NULL };
	const char *v[] = { "3", "1", "5", "1", "3", "8000", app, conninfo, NULL };
	return PQconnectdbParams(k, v, 1);
}

/* NOTICEs ("relation already exists, skipping") are not the log's business. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int session_setup(struct pgs *st, PGconn *c, bool lk)
{
	PQsetNoticeProcessor(c, quiet, NULL);
	/* the server notices a vanished key server as fast (TCP only; ignored on a socket) */
	const char *sql = lk ? "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1;"
			       " SET tcp_keepalives_count = 3; SET tcp_user_timeout = 8000; LISTEN gdoi_ks"
			     : "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1;"
			       " SET tcp_keepalives_count = 3; SET tcp_user_timeout = 8000";
	(void)st;
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : -1;	/* the caller logs PQerrorMessage */
}

static void *attempt_run(void *arg)
{
	struct attempt *a = arg;
	PGconn *c = connect_db(a->st->conninfo);
	/* the reason stays in c for the log */
	a->ok = c && PQstatus(c) == CONNECTION_OK && !session_setup(a->st, c, a->lk);
	a->result = c;
	atomic_store(&a->finished, true);
	return NULL;
}

static const char *session_name(bool lk)
{
	return lk ? "leadership" : "state";
}

static void outage_failed(struct pgs *st, bool lk, bool lost, const char *why, int64_t t)
{
	struct outage *o = &st->out[lk];
	o->failures++;
	if (!o->since)
		o->since = t;
	if (o->logged && t - o->logged < OUTAGE_LOG_MS)
		return;
	char msg[200];
	snprintf(msg, sizeof(msg), "%s", why && *why ? why : "no session");
	msg[strcspn(msg, "\n")] = '\0';
	if (!o->logged)
		ks_log(KS_ERR, "state: postgresql: %s session: %s: %s (reconnecting in the background every %d ms; "
		       "logged again every %d s while it lasts)", session_name(lk), lost ? "lost" : "cannot connect",
		       msg, RETRY_MS, OUTAGE_LOG_MS / 1000);
	else
		ks_log(KS_ERR, "state: postgresql: %s session: still cannot connect after %.0f s (%u attempts): %s",
		       session_name(lk), (double)(t - o->since) / 1000, o->failures, msg);
	o->logged = t;
}

/* Takes the finished attempt's session, if any: the new connection, or NULL. */
static PGconn *attempt_take(struct pgs *st, bool lk, int64_t t)
{
	struct attempt *a = &st->att[lk];
	if (!a->running || !atomic_load(&a->finished))
		return NULL;
	pthread_join(a->thread, NULL);
	a->running = false;
	PGconn *c = a->result;
	a->result = NULL;
	if (a->ok) {
		struct outage *o = &st->out[lk];
		if (o->since)
			ks_log(KS_INFO, "state: postgresql: %s session connected again after %.1f s", session_name(lk),
			       (double)(t - o->since) / 1000);
		else
			ks_log(KS_INFO, "state: postgresql: %s session connected", session_name(lk));
		*o = (struct outage){ 0 };
		return c;
	}
	outage_failed(st, lk, false, c ? PQerrorMessage(c) : "out of memory", t);
	PQfinish(c);
	return NULL;
}

static void attempt_start(struct pgs *st, bool lk)
{
	struct attempt *a = &st->att[lk];
	a->st = st;
	a->lk = lk;
	a->result = NULL;
	atomic_store(&a->finished, false);
	a->running = pthread_create(&a->thread, NULL, attempt_run, a) == 0;
	if (!a->running)
		outage_failed(st, lk, false, "cannot start a connection thread", now_ms());
}

static void attempt_wait(struct pgs *st, bool lk)
{
	struct attempt *a = &st->att[lk];
	if (!a->running)
		return;
	pthread_join(a->thread, NULL);
	a->running = false;
	PQfinish(a->result);
	a->result = NULL;
}

/* The connection; when it was lost, NULL at once while a new one is made in the
 * background (a new attempt at most every RETRY_MS). */
static PGconn *conn(struct pgs *st, bool lk)
{
	PGconn **c = lk ? &st->lk : &st->db;
	int64_t *last = lk ? &st->lk_try : &st->db_try;
	if (*c && PQstatus(*c) == CONNECTION_OK)
		return *c;
	if (lk)
		st->nheld = 0;	/* the locks went with the session */
	int64_t t = now_ms();
	if (*c) {
		outage_failed(st, lk, true, PQerrorMessage(*c), t);
		PQfinish(*c);
		*c = NULL;
	}
	if ((*c = attempt_take(st, lk, t)))
		return *c;
	if (!st->att[lk].running && t - *last >= RETRY_MS) {
		*last = t;
		attempt_start(st, lk);
	}
	return NULL;
}

/* Drives the reconnection of both sessions: true when both are up. */
static bool pgs_connected(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	bool db = conn(st, false) != NULL;
	return conn(st, true) && db;
}

/* At open: both sessions now, the caller waits (the daemon is not serving yet). */
static PGconn *conn_now(struct pgs *st, bool lk, char *err, size_t errlen)
{
	PGconn **c = lk ? &st->lk : &st->db;
	*c = connect_db(st->conninfo);
	if (!*c || PQstatus(*c) != CONNECTION_OK || session_setup(st, *c, lk)) {
		snprintf(err, errlen, "state postgresql: cannot connect: %s", *c ? PQerrorMessage(*c) : "out of memory");
		PQfinish(*c);
		*c = NULL;
		return NULL;
	}
	ks_log(KS_INFO, "state: postgresql: %s session connected", session_name(lk));
	return *c;
}

static bool is_unique_violation(const PGresult *r)
{
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	return s && !strcmp(s, "23505");
}

/* Runs sql with args (binary results); NULL (logged) unless its status is want. */
static PGresult *run_on(PGconn *c, const char *sql, const struct args *a, ExecStatusType want, bool quiet)
{
	if (!c)
		return NULL;
	PGresult *r = PQexecParams(c, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
				   a ? a->fmt : NULL, 1);
	if (PQresultStatus(r) == want)
		return r;
	if (!quiet)
		ks_log(KS_ERR, "state: postgresql: %.60s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

static PGresult *run(struct pgs *st, const char *sql, const struct args *a, ExecStatusType want)
{
	return run_on(conn(st, false), sql, a, want, false);
}

/* A statement without rows: 0, or -1 (logged). */
static int cmd(struct pgs *st, const char *sql, const struct args *a)
{
	PGresult *r = run(st, sql, a, PGRES_COMMAND_OK);
	PQclear(r);
	return r ? 0 : -1;
}

static int64_t col_int(const PGresult *r, int row, int col)
{
	const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);
	if (PQgetisnull(r, row, col) || (n != 8 && n != 4))
		return 0;
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return n == 4 ? (int64_t)(int32_t)v : (int64_t)v;
}

static void col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t cap, size_t *len)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
	if (n > cap)
		n = cap;
	if (n)
		memcpy(dst, PQgetvalue(r, row, col), n);
	if (len)
		*len = n;
}

static void col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static void pgs_close(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	if (!st)
		return;
	attempt_wait(st, false);
	attempt_wait(st, true);
	PQfinish(st->db);
	PQfinish(st->lk);
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
	PGconn *c = conn_now(st, false, err, errlen);
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
	if (!conn_now(st, true, lkerr, sizeof(lkerr)))	/* leadership may come later: retried */
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
	a_int(&a, gid);
	/* one snapshot for the record and its TEKs */
	PGresult *r = run(st, "SELECT g.has_kek, g.kek_spi, g.kek_alg, g.kek_bits, g.kek_iv, g.kek_key, g.kek_created,"
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
	rec->has_kek = col_int(r, 0, 0);
	col_bytes(r, 0, 1, rec->kek_spi, sizeof(rec->kek_spi), NULL);
	rec->kek_alg = (uint16_t)col_int(r, 0, 2);
	rec->kek_bits = (uint16_t)col_int(r, 0, 3);
	col_bytes(r, 0, 4, rec->kek_iv, sizeof(rec->kek_iv), NULL);
	col_bytes(r, 0, 5, rec->kek_key, sizeof(rec->kek_key), NULL);
	rec->kek_created = col_int(r, 0, 6);
	rec->seq = (uint32_t)col_int(r, 0, 7);
	rec->tek_created = col_int(r, 0, 8);
	rec->prev_until = col_int(r, 0, 9);
	rec->tek_push_due = col_int(r, 0, 10);
	col_bytes(r, 0, 11, rec->sign_der, sizeof(rec->sign_der), &rec->sign_der_len);
	for (int i = 0; i < rows && rec->nteks < GDOI_MAX_TEKS; i++) {
		if (PQgetisnull(r, i, 12))
			continue;
		struct ks_tek_rec *t = &rec->teks[rec->nteks++];
		t->spi = (uint32_t)col_int(r, i, 12);
		t->gen = (uint8_t)col_int(r, i, 13);
		t->profile = (uint16_t)col_int(r, i, 14);
		t->created = col_int(r, i, 15);
		col_bytes(r, i, 16, t->key, sizeof(t->key), &t->key_len);
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
	a_int(&a, rec->gid);
	a_int(&a, rec->has_kek);
	a_bin(&a, rec->kek_spi, sizeof(rec->kek_spi));
	a_int(&a, rec->kek_alg);
	a_int(&a, rec->kek_bits);
	a_bin(&a, rec->kek_iv, sizeof(rec->kek_iv));
	a_bin(&a, rec->kek_key, sizeof(rec->kek_key));
	a_int(&a, rec->kek_created);
	a_int(&a, rec->seq);
	a_int(&a, rec->tek_created);
	a_int(&a, rec->prev_until);
	a_int(&a, rec->tek_push_due);
	if (rec->sign_der_len)
		a_bin(&a, rec->sign_der, rec->sign_der_len);
	else
		a_str(&a, NULL);
	/* under the same KEK the stored SEQ never goes down (another key server's push) */
	if (cmd(st, "INSERT INTO groups AS g(gid, has_kek, kek_spi, kek_alg, kek_bits, kek_iv, kek_key, kek_created,"
		" seq, tek_created, prev_until, tek_push_due, sign_der) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
		" ON CONFLICT(gid) DO UPDATE SET has_kek=$2, kek_spi=$3, kek_alg=$4, kek_bits=$5, kek_iv=$6, kek_key=$7,"
		" kek_created=$8, seq=CASE WHEN g.has_kek = 1 AND $2 = 1 AND g.kek_spi = $3 THEN GREATEST(g.seq, $9)"
		" ELSE $9 END, tek_created=$10, prev_until=$11, tek_push_due=$12, sign_der=$13", &a))
		return -1;
	a.n = 0;
	a_int(&a, rec->gid);
	if (cmd(st, "DELETE FROM teks WHERE gid=$1", &a))
		return -1;
	for (size_t i = 0; i < rec->nteks; i++) {
		const struct ks_tek_rec *t = &rec->teks[i];
		a.n = 0;
		a_int(&a, rec->gid);
		a_int(&a, t->spi);
		a_int(&a, t->gen);
		a_int(&a, t->profile);
		a_int(&a, t->created);
		a_bin(&a, t->key, t->key_len);
		a_int(&a, (int64_t)i);
		if (cmd(st, "INSERT INTO teks(gid, spi, gen, profile, created, key, ord) VALUES($1,$2,$3,$4,$5,$6,$7)",
			&a))
			return -1;
	}
	a.n = 0;
	snprintf(a.buf[0], sizeof(a.buf[0]), "%u", rec->gid);
	a_str(&a, a.buf[0]);
	a.n = 1;
	PGresult *r = run(st, "SELECT pg_notify('gdoi_ks', $1)", &a, PGRES_TUPLES_OK);	/* at COMMIT */
	PQclear(r);
	return r ? 0 : -1;
}

static bool held(const struct pgs *st, uint32_t gid);

/* Fencing: a leader whose leadership session ended (and another took the lock)
 * before it noticed commits nothing. In the record's transaction, the lock must
 * still be granted to our leadership session's backend. */
static int still_leader(struct pgs *st, uint32_t gid)
{
	if (!held(st, gid))
		return 0;	/* not leading (first keys at start): nothing to fence */
	if (!st->lk || PQstatus(st->lk) != CONNECTION_OK)
		return -1;
	struct args a = { 0 };
	a_int(&a, LOCK_CLASS);
	a_int(&a, gid);
	a_int(&a, PQbackendPID(st->lk));
	PGresult *r = run(st, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid"
			  " AND objid = $2::bigint::oid AND objsubid = 2 AND granted AND pid = $3", &a, PGRES_TUPLES_OK);
	int ok = r && PQntuples(r) == 1;
	PQclear(r);
	if (r && !ok) {
		ks_log(KS_ERR, "state: group %u: this key server's rekey leadership is gone: not committed", gid);
		st->nheld = 0;
	}
	return ok ? 0 : -1;
}

static int pgs_save_group(struct ks_state *h, const struct ks_group_rec *rec)
{
	struct pgs *st = (struct pgs *)h;
	if (cmd(st, "BEGIN", NULL))
		return -1;
	if (still_leader(st, rec->gid) || save_group_tx(st, rec) || cmd(st, "COMMIT", NULL)) {
		PGresult *r = run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static int pgs_save_seq(struct ks_state *h, uint32_t gid, uint32_t seq)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_int(&a, seq);
	PGresult *r = run(st, "UPDATE groups SET seq=GREATEST(seq, $2) WHERE gid=$1 AND has_kek=1", &a,
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
	a_int(&a, gid);
	a_int(&a, spi);
	PGresult *r = run(st, "INSERT INTO used_spis(gid, spi) VALUES($1,$2) ON CONFLICT DO NOTHING", &a,
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
	a_int(&a, gid);
	a_str(&a, member);
	a_int(&a, (int64_t)cap);
	PGresult *r = run(st, "SELECT ssrc FROM (SELECT ssrc, seq FROM ssrcs WHERE gid=$1 AND member=$2"
			  " ORDER BY seq DESC LIMIT $3) x ORDER BY seq", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && *n < cap; i++)
		out[(*n)++] = (uint32_t)col_int(r, i, 0);
	PQclear(r);
	return 0;
}

/* Unique across every key server on the database: the primary key decides. */
static int pgs_ssrc_add(struct ks_state *h, uint32_t gid, const char *member, uint32_t ssrc)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_int(&a, ssrc);
	a_str(&a, member);
	PGconn *c = conn(st, false);
	if (!c)
		return -1;
	PGresult *r = PQexecParams(c, "INSERT INTO ssrcs(gid, ssrc, member) VALUES($1,$2,$3)", a.n, NULL, a.v,
				   a.len, a.fmt, 1);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : is_unique_violation(r) ? 1 : -1;
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
	a_int(&a, gid);
	a_str(&a, member);
	a_str(&a, identity);
	a_str(&a, addr);
	a_int(&a, now);
	a_int(&a, gikev2);
	/* bookkeeping, as in the SQLite backend (state_sqlite.c member_seen): committed
	 * without waiting for the WAL flush, so a registration costs no fsync; the next
	 * synchronous commit (SEQ, keys, SSRCs) flushes it along */
	if (cmd(st, "BEGIN", NULL))
		return -1;
	if (cmd(st, "SET LOCAL synchronous_commit = off", NULL) ||
	    cmd(st, "INSERT INTO members(gid, member, identity, addr, registered, gikev2)"
		" VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(gid, member) DO UPDATE SET identity=$3, addr=$4,"
		" registered=$5, gikev2=$6, ack_seq=NULL, ack_misses=NULL", &a) || cmd(st, "COMMIT", NULL)) {
		PGresult *r = run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static int pgs_member_remove(struct ks_state *h, uint32_t gid, const char *member)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_str(&a, member);
	return cmd(st, "DELETE FROM members WHERE gid=$1 AND member=$2", &a);
}

static int pgs_member_acked(struct ks_state *h, uint32_t gid, const char *member, uint32_t seq)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_str(&a, member);
	a_int(&a, seq);
	return cmd(st, "UPDATE members SET ack_seq=$3, ack_misses=0 WHERE gid=$1 AND member=$2", &a);
}

static int pgs_member_missed(struct ks_state *h, uint32_t gid, const char *member, unsigned *misses)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_str(&a, member);
	PGresult *r = run(st, "UPDATE members SET ack_misses=COALESCE(ack_misses,0)+1 WHERE gid=$1 AND member=$2"
			  " RETURNING ack_misses", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	*misses = PQntuples(r) ? (unsigned)col_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

static int pgs_members(struct ks_state *h, uint32_t gid, void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, gid);
	a_int(&a, GDOI_MAX_SIDS);
	/* one statement: the members and each one's newest SSRCs, oldest first */
	PGresult *r = run(st, "SELECT m.member, m.identity, m.addr, m.registered, m.ack_seq, m.ack_misses, x.ssrc, m.gikev2"
			  " FROM members m LEFT JOIN LATERAL (SELECT ssrc, seq FROM ssrcs s WHERE s.gid=m.gid AND"
			  " s.member=m.member ORDER BY seq DESC LIMIT $2) x ON true WHERE m.gid=$1"
			  " ORDER BY m.member, x.seq", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	struct ks_member_rec m;
	int rows = PQntuples(r);
	for (int i = 0; i < rows;) {
		memset(&m, 0, sizeof(m));
		col_text(r, i, 0, m.name, sizeof(m.name));
		col_text(r, i, 1, m.identity, sizeof(m.identity));
		col_text(r, i, 2, m.addr, sizeof(m.addr));
		m.registered = col_int(r, i, 3);
		m.has_ack = !PQgetisnull(r, i, 4);
		m.ack_seq = (uint32_t)col_int(r, i, 4);
		m.ack_misses = (unsigned)col_int(r, i, 5);
		m.gikev2 = col_int(r, i, 7) != 0;
		int j = i;
		for (; j < rows && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)); j++)
			if (!PQgetisnull(r, j, 6) && m.nssrcs < GDOI_MAX_SIDS)
				m.ssrcs[m.nssrcs++] = (uint32_t)col_int(r, j, 6);
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
	a_str(&a, member);
	return cmd(st, blocked ? "INSERT INTO blocked(member) VALUES($1) ON CONFLICT DO NOTHING"
			       : "DELETE FROM blocked WHERE member=$1", &a);
}

/* 1 blocked, 0 not, -1 the check cannot be made (the database cannot be reached). */
static int pgs_blocked_check(struct ks_state *h, const char *member)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_str(&a, member);
	PGresult *r = run(st, "SELECT 1 FROM blocked WHERE member=$1", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	int b = PQntuples(r) > 0;
	PQclear(r);
	return b;
}

/* ---- operator commands for the rekey leader ---------------------------------- */

static int pgs_cmd_add(struct ks_state *h, uint32_t gid, const char *op, const char *member, int64_t now, int64_t *id)
{
	struct pgs *st = (struct pgs *)h;
	char origin[64], g[16];
	snprintf(origin, sizeof(origin), "gdoi-ks pid %ld", (long)getpid());
	snprintf(g, sizeof(g), "%u", gid);
	struct args a = { 0 };
	a_int(&a, gid);
	a_str(&a, op);
	a_str(&a, member && *member ? member : NULL);
	a_str(&a, origin);
	a_int(&a, now);
	if (cmd(st, "BEGIN", NULL))
		return -1;
	PGresult *r = run(st, "INSERT INTO commands(gid, op, member, origin, created) VALUES($1,$2,$3,$4,$5)"
			  " RETURNING id", &a, PGRES_TUPLES_OK);
	bool ok = r && PQntuples(r) == 1;
	if (ok)
		*id = col_int(r, 0, 0);
	PQclear(r);
	a.n = 0;
	a_str(&a, g);
	if (ok) {	/* the leader hears of it at COMMIT (and looks at every tick anyway) */
		r = run(st, "SELECT pg_notify('gdoi_ks', $1)", &a, PGRES_TUPLES_OK);
		ok = r != NULL;
		PQclear(r);
	}
	if (!ok || cmd(st, "COMMIT", NULL)) {
		r = run(st, "ROLLBACK", NULL, PGRES_COMMAND_OK);
		PQclear(r);
		return -1;
	}
	return 0;
}

static void cmd_row(const PGresult *r, int row, struct ks_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->id = col_int(r, row, 0);
	c->gid = (uint32_t)col_int(r, row, 1);
	col_text(r, row, 2, c->op, sizeof(c->op));
	col_text(r, row, 3, c->member, sizeof(c->member));
	c->done = !PQgetisnull(r, row, 4);
	c->has_seq = !PQgetisnull(r, row, 5);
	c->seq = (uint32_t)col_int(r, row, 5);
	col_text(r, row, 6, c->error, sizeof(c->error));
}

static int cmd_query(struct pgs *st, const char *where, int64_t key, struct ks_cmd *out)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT id, gid, op, member, done, seq, error FROM commands WHERE %s", where);
	struct args a = { 0 };
	a_int(&a, key);
	PGresult *r = run(st, sql, &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	int rc = PQntuples(r) ? 0 : 1;
	if (!rc)
		cmd_row(r, 0, out);
	PQclear(r);
	return rc;
}

static int pgs_cmd_next(struct ks_state *h, uint32_t gid, struct ks_cmd *out)
{
	struct pgs *st = (struct pgs *)h;
	return cmd_query(st, "gid = $1 AND done IS NULL ORDER BY id LIMIT 1", gid, out);
}

static int pgs_cmd_get(struct ks_state *h, int64_t id, struct ks_cmd *out)
{
	struct pgs *st = (struct pgs *)h;
	return cmd_query(st, "id = $1", id, out);
}

static int pgs_cmd_done(struct ks_state *h, int64_t id, bool has_seq, uint32_t seq, const char *error, int64_t now)
{
	struct pgs *st = (struct pgs *)h;
	struct args a = { 0 };
	a_int(&a, id);
	a_int(&a, now);
	if (has_seq)
		a_int(&a, seq);
	else
		a_str(&a, NULL);
	a_str(&a, error && *error ? error : NULL);
	if (cmd(st, "UPDATE commands SET done=$2, seq=$3, error=$4 WHERE id=$1", &a))
		return -1;
	a.n = 0;
	a_int(&a, now - CMD_KEEP_S);
	return cmd(st, "DELETE FROM commands WHERE done < $1", &a);
}

/* ---- leadership and change notices ------------------------------------------ */

static bool held(const struct pgs *st, uint32_t gid)
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
static int pgs_lead(struct ks_state *h, uint32_t gid)
{
	struct pgs *st = (struct pgs *)h;
	PGconn *c = conn(st, true);
	if (!c)
		return -1;
	/* a session that died under us is seen here before the lock is trusted */
	if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
		st->nheld = 0;
		return -1;
	}
	if (held(st, gid))
		return 1;
	if (st->nheld == MAX_HELD)
		return 0;
	struct args a = { 0 };
	a_int(&a, (int32_t)LOCK_CLASS);
	a_int(&a, (int32_t)gid);
	PGresult *r = run_on(c, "SELECT pg_try_advisory_lock($1::int4, $2::int4)::int4", &a, PGRES_TUPLES_OK, false);
	if (!r)
		return -1;
	int got = PQntuples(r) == 1 && col_int(r, 0, 0) == 1;
	PQclear(r);
	if (got)
		st->held[st->nheld++] = gid;
	return got ? 2 : 0;
}

/* Who holds gid's leadership: "application_name@address pid N" (the session's), or "". */
static int pgs_holder(struct ks_state *h, uint32_t gid, char *out, size_t cap)
{
	struct pgs *st = (struct pgs *)h;
	out[0] = '\0';
	struct args a = { 0 };
	a_int(&a, LOCK_CLASS);
	a_int(&a, gid);
	PGresult *r = run(st, "SELECT a.application_name || '@' || COALESCE(host(a.client_addr), 'local')"
			  " || ' backend ' || a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
			  " WHERE l.locktype = 'advisory' AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid"
			  " AND l.objsubid = 2 AND l.granted", &a, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	if (PQntuples(r))
		col_text(r, 0, 0, out, cap);
	PQclear(r);
	return 0;
}

static int pgs_watch_fd(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	PGconn *c = conn(st, true);
	return c ? PQsocket(c) : -1;
}

/* Reads what arrived on the leadership session: cb for each group another key
 * server committed. -1 when the session is gone (leadership with it). */
static int pgs_poll(struct ks_state *h, void (*cb)(void *ctx, uint32_t gid), void *ctx)
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
	.cmd_get = pgs_cmd_get,
	.cmd_done = pgs_cmd_done,
};
