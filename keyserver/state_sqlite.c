/*
 * state_sqlite.c - state.h on SQLite 3.
 *
 * Durability: WAL journal with synchronous=FULL. In WAL mode FULL syncs the
 * WAL at every commit, so a committed SEQ survives a power loss as well as a
 * kill -9; NORMAL would only survive a process crash (a power loss could roll
 * the last commits back, and a SEQ members have seen could be handed out
 * again). One fsync per push is cheap next to a rekey's signature.
 *
 * The database holds keys: it is created 0600 (umask and chmod) in a
 * directory the daemon owns; SQLite gives the WAL and SHM files the
 * database's mode.
 *
 * Loss: WAL frames that fail their checksum (a WAL cut short or garbled) are
 * dropped by SQLite without a word, and an emptied file is a new database;
 * both would rewind a SEQ. Every commit that moves a KEK or a SEQ therefore
 * writes the SEQ mark first (state_mark.h), and ks_state_verify_group
 * compares each group with it at start. Damage SQLite can see
 * (PRAGMA quick_check) is refused at open.
 */
#include "keyserver/state_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyserver/log.h"
#include "keyserver/state_mark.h"

#define STMT_CACHE 32

static const struct ks_state_ops sqs_ops;

/* Prepared statements are kept, keyed by their SQL text's address (all are
 * literals): parsing SQL on every registration cost more than running it. */
struct sqs {
	struct ks_state base;	/* first: the handle state.c passes around */
	sqlite3 *db;
	/* A second connection to the same file at synchronous=NORMAL, for the
	 * registration records only (sqs_member_seen): switching db's
	 * synchronous for each of them cost two PRAGMAs, re-prepared every time. */
	sqlite3 *db_seen;
	sqlite3_stmt *seen;
	struct { const char *sql; sqlite3_stmt *stmt; } cache[STMT_CACHE];
	struct ks_marks marks;
	/* SQLite has one owner (this process): what every registration reads is
	 * also kept here, so that it costs no read transaction (docs/performance.md). */
	char **blocked;		/* the blocked table, sorted by strcmp */
	size_t nblocked, capblocked;
	int64_t nssrcs;		/* rows in ssrcs: none, and no member has SSRCs on record */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS groups("
	" gid INTEGER PRIMARY KEY, has_kek INTEGER, kek_spi BLOB, kek_alg INTEGER, kek_bits INTEGER,"
	" kek_iv BLOB, kek_key BLOB, kek_created INTEGER, seq INTEGER, tek_created INTEGER,"
	" prev_until INTEGER, tek_push_due INTEGER, sign_der BLOB);"
	"CREATE TABLE IF NOT EXISTS teks(gid INTEGER, spi INTEGER, gen INTEGER, profile INTEGER,"
	" created INTEGER, key BLOB, PRIMARY KEY(gid, spi));"
	"CREATE TABLE IF NOT EXISTS used_spis(gid INTEGER, spi INTEGER, PRIMARY KEY(gid, spi));"
	"CREATE TABLE IF NOT EXISTS ssrcs(gid INTEGER, ssrc INTEGER, member TEXT, seq INTEGER,"
	" PRIMARY KEY(gid, ssrc));"
	"CREATE INDEX IF NOT EXISTS ssrcs_member ON ssrcs(gid, member);"
	"CREATE TABLE IF NOT EXISTS members(gid INTEGER, member TEXT, identity TEXT, addr TEXT,"
	" registered INTEGER, ack_seq INTEGER, ack_misses INTEGER, gikev2 INTEGER, PRIMARY KEY(gid, member))"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS blocked(member TEXT PRIMARY KEY);";

static int db_err(struct sqs *st, const char *what)
{
	ks_log(KS_ERR, "state: %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Databases from before RFC 8263 acknowledgements lack the members' ACK columns;
 * older ones than 2026-12 have members as a rowid table with a separate index for its
 * key (two b-tree pages, two WAL frames, per registration record): rebuilt once as
 * WITHOUT ROWID; older ones than 2026-12-03 lack the gikev2 column (a NULL there
 * reads as GDOI, as those key servers pushed to every member). */
static int migrate(sqlite3 *db, char **msg)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK;
	if (sqlite3_prepare_v2(db, "SELECT ack_seq, ack_misses FROM members LIMIT 0", -1, &s, NULL) ==
	    SQLITE_OK)
		sqlite3_finalize(s);
	else
		rc = sqlite3_exec(db, "ALTER TABLE members ADD COLUMN ack_seq INTEGER;"
				  "ALTER TABLE members ADD COLUMN ack_misses INTEGER;", NULL, NULL, msg);
	if (rc != SQLITE_OK)
		return rc;
	s = NULL;
	rc = sqlite3_prepare_v2(db, "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type='table'"
				" AND name='members'", -1, &s, NULL);
	bool without = rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return rc;
	if (!without && (rc = sqlite3_exec(db, "BEGIN IMMEDIATE;"
			    "CREATE TABLE members_new(gid INTEGER, member TEXT, identity TEXT, addr TEXT,"
			    " registered INTEGER, ack_seq INTEGER, ack_misses INTEGER, PRIMARY KEY(gid, member))"
			    " WITHOUT ROWID;"
			    "INSERT INTO members_new SELECT gid, member, identity, addr, registered, ack_seq,"
			    " ack_misses FROM members;"
			    "DROP TABLE members;"
			    "ALTER TABLE members_new RENAME TO members;"
			    "COMMIT;", NULL, NULL, msg)) != SQLITE_OK)
		return rc;
	s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT gikev2 FROM members LIMIT 0", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_finalize(s);
		return SQLITE_OK;
	}
	return sqlite3_exec(db, "ALTER TABLE members ADD COLUMN gikev2 INTEGER;", NULL, NULL, msg);
}

/* PRAGMA quick_check: 0 ok, else err says what is wrong. */
static int quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	int bad = !r || strcmp(r, "ok");
	if (bad)
		snprintf(err, errlen, "%s: the database is damaged (quick_check: %s)", path,
			 r ? r : sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return bad ? -1 : 0;
}

#define RECOVERY_HINT "; to recover, stop, move gdoi-ks.db* aside and start: every group then starts " \
		      "a new KEK epoch (docs/keyserver.md, \"State loss\")"

/* ---- the in-memory copies: blocked members, the SSRC row count --------------- */

/* The index where member is, or would be inserted. */
static size_t blocked_find(const struct sqs *st, const char *member, bool *found)
{
	size_t lo = 0, hi = st->nblocked;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->blocked[mid], member);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int blocked_put(struct sqs *st, const char *member, bool blocked)
{
	bool found;
	size_t i = blocked_find(st, member, &found);
	if (found == blocked)
		return 0;
	if (!blocked) {
		free(st->blocked[i]);
		memmove(&st->blocked[i], &st->blocked[i + 1], (st->nblocked - i - 1) * sizeof(*st->blocked));
		st->nblocked--;
		return 0;
	}
	if (st->nblocked == st->capblocked) {
		size_t cap = st->capblocked ? st->capblocked * 2 : 16;
		char **v = realloc(st->blocked, cap * sizeof(*v));
		if (!v)
			return -1;
		st->blocked = v;
		st->capblocked = cap;
	}
	char *copy = strdup(member);
	if (!copy)
		return -1;
	memmove(&st->blocked[i + 1], &st->blocked[i], (st->nblocked - i) * sizeof(*st->blocked));
	st->blocked[i] = copy;
	st->nblocked++;
	return 0;
}

static void blocked_free(struct sqs *st)
{
	for (size_t i = 0; i < st->nblocked; i++)
		free(st->blocked[i]);
	free(st->blocked);
	st->blocked = NULL;
	st->nblocked = st->capblocked = 0;
}

/* At open: the blocked table and the SSRC row count; -1 on a read error. */
static int load_mirror(struct sqs *st)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT member FROM blocked", -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		rc = blocked_put(st, (const char *)sqlite3_column_text(s, 0), true) ? SQLITE_NOMEM : SQLITE_OK;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	s = NULL;
	rc = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM ssrcs", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		st->nssrcs = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static const char seen_sql[] = "INSERT OR REPLACE INTO members(gid, member, identity, addr, registered, gikev2)"
			       " VALUES(?,?,?,?,?,?)";

/* db_seen, after db made the file WAL and its tables. */
static int open_seen(struct sqs *st, const char *path)
{
	if (sqlite3_open_v2(path, &st->db_seen, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_exec(st->db_seen, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=2000;", NULL, NULL,
			 NULL) != SQLITE_OK)
		return -1;
	return sqlite3_prepare_v2(st->db_seen, seen_sql, -1, &st->seen, NULL) == SQLITE_OK ? 0 : -1;
}

int ks_state_sqlite_open(const char *dir, struct ks_state **out, char *err, size_t errlen)
{
	char path[600];
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "state directory %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/gdoi-ks.db", dir);
	/* Create the file 0600 before SQLite does, whatever the umask. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fchmod(fd, 0600);
	close(fd);
	struct sqs *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mode_t old = umask(0077);
	int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	char *msg = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				  "PRAGMA busy_timeout=2000;", NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, schema, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = migrate(st->db, &msg);
	umask(old);
	if (rc != SQLITE_OK) {
		bool damaged = rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
		snprintf(err, errlen, "%s: %s%s%s", path, damaged ? "the database is damaged: " : "",
			 msg ? msg : sqlite3_errmsg(st->db), damaged ? RECOVERY_HINT : "");
		goto fail;
	}
	if (quick_check(st->db, path, err, errlen)) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, "%s", RECOVERY_HINT);
		goto fail;
	}
	if (ks_marks_load(&st->marks, dir, err, errlen))
		goto fail;
	if (open_seen(st, path)) {
		snprintf(err, errlen, "%s: second connection: %s", path,
			 st->db_seen ? sqlite3_errmsg(st->db_seen) : "out of memory");
		goto fail_marks;
	}
	if (load_mirror(st)) {
		snprintf(err, errlen, "%s: cannot read the blocked members and SSRCs: %s", path,
			 sqlite3_errmsg(st->db));
		goto fail_marks;
	}
	if (st->marks.damaged)
		ks_log(KS_WARN, "state: %s is damaged: every group with a KEK starts a new KEK epoch",
		       st->marks.path);
	st->base.ops = &sqs_ops;
	*out = &st->base;
	return 0;
fail_marks:
	ks_marks_free(&st->marks);
fail:
	sqlite3_free(msg);
	blocked_free(st);
	sqlite3_finalize(st->seen);
	sqlite3_close(st->db_seen);
	sqlite3_close(st->db);
	free(st);
	return -1;
}

static enum ks_state_verdict sqs_verify_group(struct ks_state *h, int load_rc, struct ks_group_rec *rec,
					    char *why, size_t whylen)
{
	struct sqs *st = (struct sqs *)h;
	const struct ks_marks *m = &st->marks;
	const struct ks_mark *k = ks_marks_find(m, rec->gid);
	bool in_db = load_rc == 0;
	why[0] = '\0';
	if (m->damaged) {
		snprintf(why, whylen, "%s is damaged", m->path);
		return in_db && !rec->has_kek ? KS_STATE_OK : KS_STATE_LOST;
	}
	if (!k) {
		if (in_db && rec->has_kek) {
			snprintf(why, whylen, "%s has no SEQ for this group (lost, or state from an older version)",
				 m->path);
			return KS_STATE_LOST;
		}
		return KS_STATE_OK;	/* a new group, or one without a KEK */
	}
	/* Lost, but the last SEQ is known: rec->seq carries it, for groups whose SEQ
	 * continues across KEKs (compat = gdoid; a new KEK restarts it otherwise). */
	if (!in_db) {
		snprintf(why, whylen, "the database has lost this group (%s has it, SEQ %u)", m->path, k->seq);
		rec->seq = k->seq;
		return KS_STATE_LOST;
	}
	if (k->has_kek != rec->has_kek ||
	    (k->has_kek && memcmp(k->kek_spi, rec->kek_spi, GDOI_KEK_SPI_LEN))) {
		snprintf(why, whylen, "the database holds another KEK than %s (its last commits are lost)",
			 m->path);
		if (k->seq > rec->seq)
			rec->seq = k->seq;
		return KS_STATE_LOST;
	}
	if (k->has_kek && rec->seq < k->seq) {
		snprintf(why, whylen, "the database is at SEQ %u, %s at %u (its last commits are lost)",
			 rec->seq, m->path, k->seq);
		rec->seq = k->seq;
		return KS_STATE_BEHIND;
	}
	return KS_STATE_OK;
}

static void sqs_close(struct ks_state *h)
{
	struct sqs *st = (struct sqs *)h;
	if (!st)
		return;
	/* Fold the WAL back into the database: a clean shutdown leaves one file. */
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_finalize(st->seen);
	sqlite3_close(st->db_seen);
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(st->db);
	ks_marks_free(&st->marks);
	blocked_free(st);
	free(st);
}

/* A ready statement for sql; callers sqlite3_reset() it when done, never finalize. */
static sqlite3_stmt *prep(struct sqs *st, const char *sql)
{
	size_t i = 0;
	for (; i < STMT_CACHE && st->cache[i].sql; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(st, "prepare");
		return NULL;
	}
	if (i < STMT_CACHE) {
		st->cache[i].sql = sql;
		st->cache[i].stmt = s;
	}
	return s;
}

/* Ends a use of a statement from prep(). */
static void done(struct sqs *st, sqlite3_stmt *s)
{
	for (size_t i = 0; i < STMT_CACHE && st->cache[i].sql; i++)
		if (st->cache[i].stmt == s) {
			sqlite3_reset(s);
			return;
		}
	sqlite3_finalize(s);	/* the cache was full: this one was not kept */
}

static void blob_out(sqlite3_stmt *s, int col, uint8_t *dst, size_t cap, size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	const void *p = sqlite3_column_blob(s, col);
	if (n > cap)
		n = cap;
	if (p && n)
		memcpy(dst, p, n);
	if (len)
		*len = n;
}

static int sqs_load_group(struct ks_state *h, uint32_t gid, struct ks_group_rec *rec)
{
	struct sqs *st = (struct sqs *)h;
	memset(rec, 0, sizeof(*rec));
	rec->gid = gid;
	sqlite3_stmt *s = prep(st, "SELECT has_kek, kek_spi, kek_alg, kek_bits, kek_iv, kek_key, kek_created,"
			       " seq, tek_created, prev_until, tek_push_due, sign_der FROM groups WHERE gid=?");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		done(st, s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		done(st, s);
		return db_err(st, "load group");
	}
	rec->has_kek = sqlite3_column_int(s, 0);
	blob_out(s, 1, rec->kek_spi, sizeof(rec->kek_spi), NULL);
	rec->kek_alg = (uint16_t)sqlite3_column_int(s, 2);
	rec->kek_bits = (uint16_t)sqlite3_column_int(s, 3);
	blob_out(s, 4, rec->kek_iv, sizeof(rec->kek_iv), NULL);
	blob_out(s, 5, rec->kek_key, sizeof(rec->kek_key), NULL);
	rec->kek_created = sqlite3_column_int64(s, 6);
	rec->seq = (uint32_t)sqlite3_column_int64(s, 7);
	rec->tek_created = sqlite3_column_int64(s, 8);
	rec->prev_until = sqlite3_column_int64(s, 9);
	rec->tek_push_due = sqlite3_column_int(s, 10);
	blob_out(s, 11, rec->sign_der, sizeof(rec->sign_der), &rec->sign_der_len);
	done(st, s);
	s = prep(st, "SELECT spi, gen, profile, created, key FROM teks WHERE gid=? ORDER BY gen, rowid");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && rec->nteks < GDOI_MAX_TEKS) {
		struct ks_tek_rec *t = &rec->teks[rec->nteks++];
		t->spi = (uint32_t)sqlite3_column_int64(s, 0);
		t->gen = (uint8_t)sqlite3_column_int(s, 1);
		t->profile = (uint16_t)sqlite3_column_int(s, 2);
		t->created = sqlite3_column_int64(s, 3);
		blob_out(s, 4, t->key, sizeof(t->key), &t->key_len);
	}
	done(st, s);
	/* a row that fails (a corrupt page) must not leave a shorter TEK list */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(st, "load TEKs");
	return 0;
}


static int exec(struct sqs *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(st, sql);
}

static int sqs_save_group(struct ks_state *h, const struct ks_group_rec *rec)
{
	struct sqs *st = (struct sqs *)h;
	/* the mark first: never behind what a push may carry */
	if (ks_marks_set(&st->marks, rec->gid, rec->has_kek, rec->kek_spi, rec->seq))
		return -1;
	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO groups(gid, has_kek, kek_spi, kek_alg, kek_bits,"
			       " kek_iv, kek_key, kek_created, seq, tek_created, prev_until, tek_push_due, sign_der)"
			       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, rec->gid);
	sqlite3_bind_int(s, 2, rec->has_kek);
	sqlite3_bind_blob(s, 3, rec->kek_spi, sizeof(rec->kek_spi), SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, rec->kek_alg);
	sqlite3_bind_int(s, 5, rec->kek_bits);
	sqlite3_bind_blob(s, 6, rec->kek_iv, sizeof(rec->kek_iv), SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 7, rec->kek_key, sizeof(rec->kek_key), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 8, rec->kek_created);
	sqlite3_bind_int64(s, 9, rec->seq);
	sqlite3_bind_int64(s, 10, rec->tek_created);
	sqlite3_bind_int64(s, 11, rec->prev_until);
	sqlite3_bind_int(s, 12, rec->tek_push_due);
	if (rec->sign_der_len)
		sqlite3_bind_blob(s, 13, rec->sign_der, (int)rec->sign_der_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 13);
	int rc = sqlite3_step(s);
	done(st, s);
	if (rc != SQLITE_DONE)
		goto fail_db;
	s = prep(st, "DELETE FROM teks WHERE gid=?");
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, rec->gid);
	rc = sqlite3_step(s);
	done(st, s);
	if (rc != SQLITE_DONE)
		goto fail_db;
	for (size_t i = 0; i < rec->nteks; i++) {
		const struct ks_tek_rec *t = &rec->teks[i];
		s = prep(st, "INSERT INTO teks(gid, spi, gen, profile, created, key) VALUES(?,?,?,?,?,?)");
		if (!s)
			goto fail;
		sqlite3_bind_int64(s, 1, rec->gid);
		sqlite3_bind_int64(s, 2, t->spi);
		sqlite3_bind_int(s, 3, t->gen);
		sqlite3_bind_int(s, 4, t->profile);
		sqlite3_bind_int64(s, 5, t->created);
		sqlite3_bind_blob(s, 6, t->key, (int)t->key_len, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		done(st, s);
		if (rc != SQLITE_DONE)
			goto fail_db;
	}
	return exec(st, "COMMIT");
fail_db:
	db_err(st, "save group");
fail:
	exec(st, "ROLLBACK");
	return -1;
}

static int sqs_save_seq(struct ks_state *h, uint32_t gid, uint32_t seq)
{
	struct sqs *st = (struct sqs *)h;
	const struct ks_mark *k = ks_marks_find(&st->marks, gid);
	if (!k || !k->has_kek) {
		ks_log(KS_ERR, "state: SEQ of group %u saved before its KEK", gid);
		return -1;
	}
	if (ks_marks_set(&st->marks, gid, true, k->kek_spi, seq))
		return -1;
	sqlite3_stmt *s = prep(st, "UPDATE groups SET seq=? WHERE gid=?");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, gid);
	int rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE && sqlite3_changes(st->db) == 1 ? 0 : db_err(st, "save SEQ");
}

/* An INSERT that may hit the primary key: 0 inserted, 1 conflict, -1 error. */
static int insert_unique(struct sqs *st, sqlite3_stmt *s, const char *what)
{
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	done(st, s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	return db_err(st, what);
}

static int sqs_spi_claim(struct ks_state *h, uint32_t gid, uint32_t spi)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "INSERT INTO used_spis(gid, spi) VALUES(?,?)");
	if (s) {
		sqlite3_bind_int64(s, 1, gid);
		sqlite3_bind_int64(s, 2, spi);
	}
	return insert_unique(st, s, "claim SPI");
}

static int sqs_ssrc_list(struct ks_state *h, uint32_t gid, const char *member, uint32_t *out,
		       size_t cap, size_t *n)
{
	struct sqs *st = (struct sqs *)h;
	*n = 0;
	if (!st->nssrcs)
		return 0;	/* no member has any */
	/* the newest cap of them (every registration adds fresh ones), oldest first */
	sqlite3_stmt *s = prep(st, "SELECT ssrc FROM (SELECT ssrc, seq FROM ssrcs WHERE gid=? AND member=?"
			       " ORDER BY seq DESC LIMIT ?) ORDER BY seq");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)cap);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap)
		out[(*n)++] = (uint32_t)sqlite3_column_int64(s, 0);
	done(st, s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(st, "list SSRCs");
	return 0;
}

static int sqs_ssrc_add(struct ks_state *h, uint32_t gid, const char *member, uint32_t ssrc)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "INSERT INTO ssrcs(gid, ssrc, member, seq) VALUES(?,?,?,"
			       " (SELECT COALESCE(MAX(seq), 0) + 1 FROM ssrcs WHERE gid=?1 AND member=?3))");
	if (s) {
		sqlite3_bind_int64(s, 1, gid);
		sqlite3_bind_int64(s, 2, ssrc);
		sqlite3_bind_text(s, 3, member, -1, SQLITE_TRANSIENT);
	}
	int rc = insert_unique(st, s, "add SSRC");
	if (rc == 0)
		st->nssrcs++;
	return rc;
}

/*
 * Who registered when is bookkeeping, not a safety property (a member whose
 * record is lost to a power cut registers again): it is committed without a
 * sync, on the synchronous=NORMAL connection, so a registration costs no
 * fsync; it survives a process crash (the WAL frame is written), and the next
 * FULL commit of db (SEQ, keys, SSRCs) syncs the WAL it shares along.
 */
static int sqs_member_seen(struct ks_state *h, uint32_t gid, const char *member,
			 const char *identity, const char *addr, bool gikev2, int64_t now)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = st->seen;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, gid);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, identity, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int(s, 6, gikev2);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	ks_log(KS_ERR, "state: member registered: %s", sqlite3_errmsg(st->db_seen));
	return -1;
}

static int sqs_member_remove(struct ks_state *h, uint32_t gid, const char *member)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "DELETE FROM members WHERE gid=? AND member=?");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : db_err(st, "member removed");
}

/* Bookkeeping like member_seen: an ACK lost to a power cut only counts as a miss. */
static int sqs_member_acked(struct ks_state *h, uint32_t gid, const char *member, uint32_t seq)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "UPDATE members SET ack_seq=?, ack_misses=0 WHERE gid=? AND member=?");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, gid);
	sqlite3_bind_text(s, 3, member, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : db_err(st, "member acknowledged");
}

static int sqs_member_missed(struct ks_state *h, uint32_t gid, const char *member, unsigned *misses)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "UPDATE members SET ack_misses=IFNULL(ack_misses,0)+1 WHERE gid=? AND member=?"
			       " RETURNING ack_misses");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	*misses = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int64(s, 0) : 0;
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : db_err(st, "member missed an acknowledgement");
}

static int sqs_members(struct ks_state *h, uint32_t gid, bool ssrcs,
		     void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, "SELECT member, identity, addr, registered, ack_seq, ack_misses, gikev2 FROM members"
			       " WHERE gid=? ORDER BY member");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, gid);
	struct ks_member_rec m;
	while (sqlite3_step(s) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		snprintf(m.name, sizeof(m.name), "%s", (const char *)sqlite3_column_text(s, 0));
		snprintf(m.identity, sizeof(m.identity), "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(m.addr, sizeof(m.addr), "%s", (const char *)sqlite3_column_text(s, 2));
		m.registered = sqlite3_column_int64(s, 3);
		m.has_ack = sqlite3_column_type(s, 4) != SQLITE_NULL;
		m.ack_seq = (uint32_t)sqlite3_column_int64(s, 4);
		m.ack_misses = (unsigned)sqlite3_column_int64(s, 5);
		m.gikev2 = sqlite3_column_int(s, 6) != 0;
		if (ssrcs)
			sqs_ssrc_list(h, gid, m.name, m.ssrcs, GDOI_MAX_SIDS, &m.nssrcs);
		cb(ctx, &m);
	}
	done(st, s);
	return 0;
}

static int sqs_set_blocked(struct ks_state *h, const char *member, bool blocked)
{
	struct sqs *st = (struct sqs *)h;
	sqlite3_stmt *s = prep(st, blocked ? "INSERT OR IGNORE INTO blocked(member) VALUES(?)"
					   : "DELETE FROM blocked WHERE member=?");
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, member, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	done(st, s);
	if (rc != SQLITE_DONE)
		return db_err(st, "block member");
	if (blocked_put(st, member, blocked)) {
		ks_log(KS_ERR, "state: block member: out of memory");
		return -1;
	}
	return 0;
}

static int sqs_blocked_check(struct ks_state *h, const char *member)
{
	struct sqs *st = (struct sqs *)h;
	bool found = false;
	if (st->nblocked)
		blocked_find(st, member, &found);
	return found;
}

/* Leadership, notices and commands: none (the process is alone; state.c's defaults). */
static const struct ks_state_ops sqs_ops = {
	.close = sqs_close,
	.load_group = sqs_load_group,
	.verify_group = sqs_verify_group,
	.save_group = sqs_save_group,
	.save_seq = sqs_save_seq,
	.spi_claim = sqs_spi_claim,
	.ssrc_list = sqs_ssrc_list,
	.ssrc_add = sqs_ssrc_add,
	.member_seen = sqs_member_seen,
	.member_remove = sqs_member_remove,
	.member_acked = sqs_member_acked,
	.member_missed = sqs_member_missed,
	.members = sqs_members,
	.set_blocked = sqs_set_blocked,
	.blocked_check = sqs_blocked_check,
};
