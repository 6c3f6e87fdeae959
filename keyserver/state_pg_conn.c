/*
 * state_pg_conn.c - the PostgreSQL backend's two sessions (state, and
 * leadership + LISTEN): made at open while the caller waits, re-made in the
 * background when lost (one thread per attempt, the loop never waits), outages
 * logged at their start, now and then, and at their end; and the statement and
 * column helpers every query of the backend goes through.
 */
#include "keyserver/state_pg_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "keyserver/log.h"

int64_t pgs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	/* and a slow statement ends in an error before the key server's deadline
	 * (STATEMENT_MS) would give the whole session up */
	const char *sql = lk ? "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1;"
			       " SET tcp_keepalives_count = 3; SET tcp_user_timeout = 8000;"
			       " SET statement_timeout = 2500; LISTEN gdoi_ks"
			     : "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1;"
			       " SET tcp_keepalives_count = 3; SET tcp_user_timeout = 8000;"
			       " SET statement_timeout = 2500";
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
		outage_failed(st, lk, false, "cannot start a connection thread", pgs_now_ms());
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
PGconn *pgs_conn(struct pgs *st, bool lk)
{
	PGconn **c = lk ? &st->lk : &st->db;
	int64_t *last = lk ? &st->lk_try : &st->db_try;
	if (*c && PQstatus(*c) == CONNECTION_OK)
		return *c;
	if (lk)
		st->nheld = 0;	/* the locks went with the session */
	int64_t t = pgs_now_ms();
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
bool pgs_connected(struct ks_state *h)
{
	struct pgs *st = (struct pgs *)h;
	bool db = pgs_conn(st, false) != NULL;
	return pgs_conn(st, true) && db;
}

/* At open: both sessions now, the caller waits (the daemon is not serving yet). */
PGconn *pgs_conn_now(struct pgs *st, bool lk, char *err, size_t errlen)
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

bool pgs_unique_violation(const PGresult *r)
{
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	return s && !strcmp(s, "23505");
}

/* c's socket ready for ev before deadline (ms): 1, 0 when late, -1 on error. */
static int wait_socket(PGconn *c, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - pgs_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = PQsocket(c), .events = ev };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * One statement, waited for at most STATEMENT_MS. A server that stopped
 * answering with its session up (stuck on a disk, a stopped backend: the
 * kernel still acknowledges, so no TCP timeout fires) would otherwise hold
 * the loop for ever. When late, the session is given up: its socket shut
 * down, so that libpq sees it closed and pgs_conn makes a new one in the
 * background (the server rolls its transaction back when it notices).
 */
PGresult *pgs_send(PGconn *c, const char *sql, const struct args *a)
{
	int64_t deadline = pgs_now_ms() + STATEMENT_MS;
	PGresult *first = NULL, *r;
	int f;

	PQsetnonblocking(c, 1);	/* PQexec, used at set-up only, ignores it */
	if (!PQsendQueryParams(c, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
			       a ? a->fmt : NULL, 1))
		return NULL;
	while ((f = PQflush(c)) == 1) {
		int w = wait_socket(c, POLLOUT | POLLIN, deadline);
		if (w == 0)
			goto late;
		if (w < 0 || !PQconsumeInput(c))
			return NULL;
	}
	if (f < 0)
		return NULL;
	for (;;) {
		while (PQisBusy(c)) {
			int w = wait_socket(c, POLLIN, deadline);
			if (w == 0)
				goto late;
			if (w < 0 || !PQconsumeInput(c)) {
				PQclear(first);
				return NULL;
			}
		}
		if ((r = PQgetResult(c)) == NULL)
			return first;
		if (first == NULL)
			first = r;
		else
			PQclear(r);
	}
late:
	PQclear(first);
	ks_log(KS_ERR, "state: postgresql: %.60s: no answer within %d ms: the session is given up "
	       "(a new one is made in the background)", sql, STATEMENT_MS);
	shutdown(PQsocket(c), SHUT_RDWR);
	/* reads the end of the stream: CONNECTION_BAD (bounded: what was queued first) */
	for (int i = 0; i < 64 && PQstatus(c) == CONNECTION_OK && PQconsumeInput(c); i++)
		;
	return NULL;
}

/* Runs sql with args (binary results); NULL (logged) unless its status is want. */
PGresult *pgs_run_on(PGconn *c, const char *sql, const struct args *a, ExecStatusType want, bool quiet)
{
	if (!c)
		return NULL;
	PGresult *r = pgs_send(c, sql, a);
	if (PQresultStatus(r) == want)
		return r;
	if (!quiet && PQstatus(c) == CONNECTION_OK)
		ks_log(KS_ERR, "state: postgresql: %.60s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

PGresult *pgs_run(struct pgs *st, const char *sql, const struct args *a, ExecStatusType want)
{
	return pgs_run_on(pgs_conn(st, false), sql, a, want, false);
}

/* A statement without rows: 0, or -1 (logged). */
int pgs_exec(struct pgs *st, const char *sql, const struct args *a)
{
	PGresult *r = pgs_run(st, sql, a, PGRES_COMMAND_OK);
	PQclear(r);
	return r ? 0 : -1;
}

int64_t pgs_col_int(const PGresult *r, int row, int col)
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

void pgs_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t cap, size_t *len)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
	if (n > cap)
		n = cap;
	if (n)
		memcpy(dst, PQgetvalue(r, row, col), n);
	if (len)
		*len = n;
}

void pgs_col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* Both sessions' connection threads joined, their sessions finished. */
void pgs_sessions_close(struct pgs *st)
{
	attempt_wait(st, false);
	attempt_wait(st, true);
	PQfinish(st->db);
	PQfinish(st->lk);
}
