/*
 * state_pg_int.h - what the PostgreSQL backend's files share (state_pg.c: the
 * tables and the state.h operations on them; state_pg_conn.c: the two sessions,
 * their reconnection in the background and the statement helpers;
 * state_pg_cluster.c: rekey leadership, change notices and operator commands).
 */
#ifndef KS_STATE_PG_INT_H
#define KS_STATE_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "keyserver/state_int.h"

#define RETRY_MS 200
#define STATEMENT_MS 3000	/* a statement's answer waited for at most (pgs_send) */
#define OUTAGE_LOG_MS 30000
#define CMD_KEEP_S 3600		/* carried-out commands are kept this long (gdoictl asks) */
#define LOCK_CLASS 0x67646f69u	/* "gdoi": the first key of every leadership lock */
#define MAX_HELD 64
#define MAX_ARGS 16

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

static inline void pgs_arg_int(struct args *a, int64_t x)
{
	snprintf(a->buf[a->n], sizeof(a->buf[0]), "%lld", (long long)x);
	a->v[a->n] = a->buf[a->n];
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static inline void pgs_arg_str(struct args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static inline void pgs_arg_bin(struct args *a, const void *p, size_t n)
{
	a->v[a->n] = p;
	a->len[a->n] = (int)n;
	a->fmt[a->n++] = 1;
}

/* state_pg_conn.c */
int64_t pgs_now_ms(void);
/* The connection; when it was lost, NULL at once while a new one is made in the
 * background. lk: the leadership session, else the state session. */
PGconn *pgs_conn(struct pgs *st, bool lk);
bool pgs_connected(struct ks_state *h);
PGconn *pgs_conn_now(struct pgs *st, bool lk, char *err, size_t errlen);
void pgs_sessions_close(struct pgs *st);
bool pgs_unique_violation(const PGresult *r);
PGresult *pgs_send(PGconn *c, const char *sql, const struct args *a);
PGresult *pgs_run_on(PGconn *c, const char *sql, const struct args *a, ExecStatusType want, bool quiet);
PGresult *pgs_run(struct pgs *st, const char *sql, const struct args *a, ExecStatusType want);
int pgs_exec(struct pgs *st, const char *sql, const struct args *a);
int64_t pgs_col_int(const PGresult *r, int row, int col);
void pgs_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t cap, size_t *len);
void pgs_col_text(const PGresult *r, int row, int col, char *dst, size_t cap);

/* state_pg_cluster.c */
bool pgs_held(const struct pgs *st, uint32_t gid);
int pgs_still_leader(struct pgs *st, uint32_t gid);
int pgs_lead(struct ks_state *h, uint32_t gid);
int pgs_holder(struct ks_state *h, uint32_t gid, char *out, size_t cap);
int pgs_watch_fd(struct ks_state *h);
int pgs_poll(struct ks_state *h, void (*cb)(void *ctx, uint32_t gid), void *ctx);
int pgs_cmd_add(struct ks_state *h, uint32_t gid, const char *op, const char *member, int64_t now, int64_t *id);
int pgs_cmd_next(struct ks_state *h, uint32_t gid, struct ks_cmd *out);
int pgs_cmd_pending(struct ks_state *h, const uint32_t *gids, size_t n, bool *pending);
int pgs_cmd_get(struct ks_state *h, int64_t id, struct ks_cmd *out);
int pgs_cmd_done(struct ks_state *h, int64_t id, bool has_seq, uint32_t seq, const char *error, int64_t now);

#endif
