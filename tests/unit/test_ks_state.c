/*
 * test_ks_state.c - the gdoi-ks state store on a real SQLite file: a group record
 * (KEK, SEQ, TEK generations, keys) survives close and reopen byte for byte, SEQ only
 * moves forward, TEK SPIs are never reused, SSRCs are unique per group and stable per
 * member, members and evictions persist, the database is mode 0600.
 * (keyserver/state.c and both backends are compiled into this test.)
 *
 * With GDOI_PG_CONNINFO set (tests/integration/keyserver_pg.sh starts a PostgreSQL),
 * the same contract runs on the PostgreSQL backend (state = postgresql:...), and so do
 * the tests only several key servers on one database have: SSRCs unique across them,
 * SEQ never lowered by another's record, one rekey leader per group that moves when
 * its session ends, change notices to the others. The SQLite-only tests (SEQ mark,
 * damaged file) are skipped there.
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyserver/log.c"
#include "keyserver/state_mark.c"
#include "keyserver/state_pg.c"
#include "keyserver/state_pg_cluster.c"
#include "keyserver/state_pg_conn.c"
#include "keyserver/state_sqlite.c"
#include "keyserver/state.c"

static char dir[64];
static char pg_spec[600];	/* "postgresql:CONNINFO", or "" for SQLite */

static struct ks_state *open_state(void)
{
	struct ks_state *st = NULL;
	char err[300] = "";
	int rc = ks_state_open(pg_spec[0] ? pg_spec : dir, &st, err, sizeof(err));
	if (rc)
		fprintf(stderr, "# %s\n", err);
	assert_int_equal(rc, 0);
	return st;
}

/* A database without the key server's tables. */
static int pg_reset(void)
{
	PGconn *c = PQconnectdb(pg_spec + strlen(KS_STATE_PG_PREFIX));
	PGresult *r = PQexec(c, "DROP TABLE IF EXISTS groups, teks, used_spis, ssrcs, members, blocked, commands");
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "# %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int setup(void **s)
{
	(void)s;
	const char *ci = getenv("GDOI_PG_CONNINFO");
	if (ci && *ci) {
		snprintf(pg_spec, sizeof(pg_spec), "%s%s", KS_STATE_PG_PREFIX, ci);
		if (pg_reset())
			return -1;
	}
	strcpy(dir, "/tmp/test_ks_state.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

#define SQLITE_ONLY() do { if (pg_spec[0]) skip(); } while (0)

static int teardown(void **s)
{
	(void)s;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s/gdoi-ks.db", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/gdoi-ks.db-wal", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/gdoi-ks.db-shm", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/gdoi-ks.seq", dir);
	unlink(cmd);
	rmdir(dir);
	return 0;
}

static void test_state_group_survives_reopen_byte_for_byte(void **s)
{
	(void)s;
	struct ks_state *st = open_state();
	static struct ks_group_rec r, back;
	memset(&r, 0, sizeof(r));
	r.gid = 1234;
	assert_int_equal(ks_state_load_group(st, r.gid, &back), 1);	/* not there yet */
	r.has_kek = true;
	for (int i = 0; i < 16; i++)
		r.kek_spi[i] = (uint8_t)(i + 1), r.kek_iv[i] = (uint8_t)(0x40 + i);
	memset(r.kek_key, 0x5a, sizeof(r.kek_key));
	r.kek_alg = 3;
	r.kek_bits = 256;
	r.kek_created = 1700000000;
	r.seq = 41;
	r.tek_created = 1700000100;
	r.prev_until = 1700000130;
	r.tek_push_due = true;
	r.nteks = 3;
	for (size_t i = 0; i < 3; i++) {
		r.teks[i] = (struct ks_tek_rec){ .spi = 0x1000 + (uint32_t)i, .profile = 1, .gen = i == 0,
						 .created = 1700000000 + (int64_t)i, .key_len = 30 };
		memset(r.teks[i].key, (int)(0x10 + i), 30);
	}
	r.sign_der_len = 5;
	memcpy(r.sign_der, "\x30\x03\x02\x01\x01", 5);
	assert_int_equal(ks_state_save_group(st, &r), 0);
	ks_state_close(st);
	st = open_state();
	assert_int_equal(ks_state_load_group(st, r.gid, &back), 0);
	/* same fields (TEKs come back ordered by generation, current first) */
	assert_int_equal(back.seq, 41);
	assert_true(back.tek_push_due);
	assert_memory_equal(back.kek_spi, r.kek_spi, 16);
	assert_memory_equal(back.kek_key, r.kek_key, sizeof(r.kek_key));
	assert_memory_equal(back.kek_iv, r.kek_iv, sizeof(r.kek_iv));
	assert_int_equal(back.kek_created, r.kek_created);
	assert_int_equal(back.prev_until, r.prev_until);
	assert_int_equal(back.nteks, 3);
	assert_int_equal(back.teks[0].gen, 0);
	assert_int_equal(back.teks[2].gen, 1);
	assert_int_equal(back.teks[2].spi, 0x1000);
	assert_memory_equal(back.teks[2].key, r.teks[0].key, 30);
	assert_int_equal(back.sign_der_len, 5);
	assert_memory_equal(back.sign_der, r.sign_der, 5);
	/* SEQ persisted on its own */
	assert_int_equal(ks_state_save_seq(st, r.gid, 42), 0);
	assert_int_equal(ks_state_save_seq(st, 999, 1), -1);	/* no such group */
	ks_state_close(st);
	st = open_state();
	assert_int_equal(ks_state_load_group(st, r.gid, &back), 0);
	assert_int_equal(back.seq, 42);
	ks_state_close(st);
	if (pg_spec[0])
		return;
	struct stat sb;
	char p[128];
	snprintf(p, sizeof(p), "%s/gdoi-ks.db", dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/gdoi-ks.db-wal", dir);
	assert_true(stat(p, &sb) || sb.st_size == 0);	/* folded back at close */
}

static void test_state_keeps_spis_unique_ssrcs_stable_members_blocked(void **s)
{
	(void)s;
	struct ks_state *st = open_state();
	assert_int_equal(ks_state_spi_claim(st, 1, 0xabcdef), 0);
	assert_int_equal(ks_state_spi_claim(st, 1, 0xabcdef), 1);	/* never twice in a group */
	assert_int_equal(ks_state_spi_claim(st, 2, 0xabcdef), 0);	/* other group: fine */
	assert_int_equal(ks_state_ssrc_add(st, 1, "alice", 7), 0);
	assert_int_equal(ks_state_ssrc_add(st, 1, "alice", 3), 0);
	assert_int_equal(ks_state_ssrc_add(st, 1, "bob", 7), 1);	/* unique per group */
	assert_int_equal(ks_state_ssrc_add(st, 2, "bob", 7), 0);
	ks_state_close(st);
	st = open_state();
	assert_int_equal(ks_state_spi_claim(st, 1, 0xabcdef), 1);	/* survives reopen */
	uint32_t v[16];
	size_t n;
	assert_int_equal(ks_state_ssrc_list(st, 1, "alice", v, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 7);	/* in assignment order */
	assert_int_equal(v[1], 3);
	assert_int_equal(ks_state_member_seen(st, 1, "alice", "fqdn:a", "127.0.0.1:1000", false, 5), 0);
	assert_int_equal(ks_state_member_seen(st, 1, "alice", "fqdn:a", "127.0.0.1:2000", false, 6), 0);
	assert_int_equal(ks_state_member_seen(st, 1, "bob", "fqdn:b", "127.0.0.1:3000", false, 7), 0);
	assert_int_equal(ks_state_member_seen(st, 1, "gina", "fqdn:g", "127.0.0.1:4000", true, 8), 0);
	assert_int_equal(ks_state_member_remove(st, 1, "bob"), 0);
	assert_false(ks_state_blocked(st, "bob"));
	assert_int_equal(ks_state_blocked_check(st, "bob"), 0);
	assert_int_equal(ks_state_set_blocked(st, "bob", true), 0);
	assert_int_equal(ks_state_blocked_check(st, "bob"), 1);
	ks_state_close(st);
	st = open_state();
	assert_true(ks_state_blocked(st, "bob"));
	assert_int_equal(ks_state_set_blocked(st, "bob", false), 0);
	assert_false(ks_state_blocked(st, "bob"));
	ks_state_close(st);
}

/* What a registration reads is seen at once in the same session: an SSRC just
 * added (the first of a database too), a member just blocked or unblocked among
 * others, a name that only starts like a blocked one. */
static void test_state_sees_ssrcs_and_blocks_in_the_same_session(void **s)
{
	(void)s;
	struct ks_state *st = open_state();
	uint32_t v[16];
	size_t n = 99;
	assert_int_equal(ks_state_ssrc_list(st, 7, "dave", v, 16, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ks_state_ssrc_add(st, 7, "dave", 0x1234), 0);
	assert_int_equal(ks_state_ssrc_list(st, 7, "dave", v, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], 0x1234);
	const char *names[] = { "zed", "carol", "m10", "m1", "alice2" };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ks_state_set_blocked(st, names[i], true), 0);
	assert_int_equal(ks_state_set_blocked(st, "carol", true), 0);	/* twice: still once */
	for (size_t i = 0; i < 5; i++)
		assert_true(ks_state_blocked(st, names[i]));
	assert_false(ks_state_blocked(st, "car"));
	assert_false(ks_state_blocked(st, "m100"));
	assert_int_equal(ks_state_set_blocked(st, "carol", false), 0);
	assert_false(ks_state_blocked(st, "carol"));
	assert_true(ks_state_blocked(st, "alice2"));
	assert_true(ks_state_blocked(st, "zed"));
	ks_state_close(st);
	st = open_state();
	assert_false(ks_state_blocked(st, "carol"));
	for (size_t i = 0; i < 5; i++) {
		if (strcmp(names[i], "carol"))
			assert_true(ks_state_blocked(st, names[i]));
		assert_int_equal(ks_state_set_blocked(st, names[i], false), 0);
	}
	assert_false(ks_state_blocked(st, "m1"));
	ks_state_close(st);
}

static struct ks_member_rec seen[4];
static size_t nseen;
static void collect(void *ctx, const struct ks_member_rec *m)
{
	(void)ctx;
	if (nseen < 4)
		seen[nseen++] = *m;
}

static void test_state_lists_members_with_latest_address(void **s)
{
	(void)s;
	struct ks_state *st = open_state();
	nseen = 0;
	assert_int_equal(ks_state_members(st, 1, collect, NULL), 0);
	assert_int_equal(nseen, 2);	/* bob was removed, alice registered twice */
	assert_string_equal(seen[0].name, "alice");
	assert_string_equal(seen[0].addr, "127.0.0.1:2000");	/* the latest address */
	assert_int_equal(seen[0].nssrcs, 2);
	assert_false(seen[0].gikev2);	/* by GDOI: it takes GROUPKEY-PUSH */
	assert_string_equal(seen[1].name, "gina");
	assert_true(seen[1].gikev2);	/* by G-IKEv2: never a GROUPKEY-PUSH */
	/* a push's listing: the same members and addresses, no SSRC lookups */
	nseen = 0;
	assert_int_equal(ks_state_members_nossrc(st, 1, collect, NULL), 0);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].name, "alice");
	assert_string_equal(seen[0].addr, "127.0.0.1:2000");
	assert_int_equal(seen[0].nssrcs, 0);
	assert_true(seen[1].gikev2);
	ks_state_close(st);
}

static void path_in(char *p, size_t cap, const char *name)
{
	snprintf(p, cap, "%s/%s", dir, name);
}

static void sql(const char *stmt)
{
	char p[128];
	sqlite3 *db = NULL;
	path_in(p, sizeof(p), "gdoi-ks.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void kek_group(struct ks_group_rec *r, uint32_t gid, uint8_t spi, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->gid = gid;
	r->has_kek = true;
	memset(r->kek_spi, spi, sizeof(r->kek_spi));
	r->seq = seq;
}

static enum ks_state_verdict reopen_verify(struct ks_state **st, uint32_t gid, struct ks_group_rec *back)
{
	char why[700];
	ks_state_close(*st);
	*st = open_state();
	int rc = ks_state_load_group(*st, gid, back);
	assert_true(rc == 0 || rc == 1);
	return ks_state_verify_group(*st, rc, back, why, sizeof(why));
}

/* The SEQ mark catches a database that went back: rows, KEK or SEQ lost. */
/* A database from before the members table was WITHOUT ROWID (and before the ACK
 * and gikev2 columns): opened, its member records are kept, the table is rebuilt as one b-tree
 * (one WAL page a registration record instead of two), and records go on. */
static void test_state_migrates_members_to_without_rowid(void **s)
{
	(void)s;
	SQLITE_ONLY();
	char odir[64] = "/tmp/test_ks_state_old.XXXXXX", path[128];
	assert_non_null(mkdtemp(odir));
	snprintf(path, sizeof(path), "%s/gdoi-ks.db", odir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
		"CREATE TABLE members(gid INTEGER, member TEXT, identity TEXT, addr TEXT,"
		" registered INTEGER, PRIMARY KEY(gid, member));"
		"INSERT INTO members VALUES(5, 'erin', 'fqdn:e', '127.0.0.5:848', 42);"
		"INSERT INTO members VALUES(5, 'frank', 'fqdn:f', '127.0.0.6:848', 43);", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	struct ks_state *st = NULL;
	char err[300] = "";
	assert_int_equal(ks_state_open(odir, &st, err, sizeof(err)), 0);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(((struct sqs *)st)->db, "SELECT sql FROM sqlite_master WHERE name='members'", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(q, 0), "WITHOUT ROWID"));
	sqlite3_finalize(q);
	nseen = 0;
	assert_int_equal(ks_state_members(st, 5, collect, NULL), 0);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].name, "erin");
	assert_string_equal(seen[0].addr, "127.0.0.5:848");
	assert_int_equal(seen[0].registered, 42);
	assert_false(seen[0].has_ack);
	assert_string_equal(seen[1].name, "frank");
	assert_false(seen[0].gikev2);	/* rows from before the column: GDOI */
	assert_int_equal(ks_state_member_seen(st, 5, "erin", "fqdn:e", "127.0.0.9:848", true, 50), 0);
	assert_int_equal(ks_state_member_acked(st, 5, "frank", 3), 0);
	ks_state_close(st);
	assert_int_equal(ks_state_open(odir, &st, err, sizeof(err)), 0);	/* once only */
	nseen = 0;
	assert_int_equal(ks_state_members(st, 5, collect, NULL), 0);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].addr, "127.0.0.9:848");
	assert_true(seen[0].gikev2);	/* the rebuilt table has the column */
	assert_true(seen[1].has_ack);
	assert_int_equal(seen[1].ack_seq, 3);
	ks_state_close(st);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", odir);
	assert_int_equal(system(cmd), 0);
}

static void test_state_detects_seq_kek_or_rows_lost(void **s)
{
	(void)s;
	SQLITE_ONLY();
	struct ks_state *st = open_state();
	static struct ks_group_rec r, back;
	kek_group(&r, 77, 0x11, 5);
	assert_int_equal(ks_state_save_group(st, &r), 0);
	assert_int_equal(ks_state_save_seq(st, 77, 6), 0);
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_OK);	/* intact: as it was */
	assert_int_equal(back.seq, 6);
	char p[128];
	struct stat sb;
	path_in(p, sizeof(p), "gdoi-ks.seq");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	ks_state_close(st);
	/* the last SEQ commits lost (as with a WAL cut short): SEQ raised to the mark */
	sql("UPDATE groups SET seq=2 WHERE gid=77");
	st = open_state();
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_BEHIND);
	assert_int_equal(back.seq, 6);
	/* a KEK rotation lost: the database holds the old KEK */
	kek_group(&r, 77, 0x22, 0);
	assert_int_equal(ks_state_save_group(st, &r), 0);
	ks_state_close(st);
	sql("UPDATE groups SET kek_spi=zeroblob(16) WHERE gid=77");
	st = open_state();
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_LOST);
	ks_state_close(st);
	/* the row deleted, or the whole database emptied */
	sql("DELETE FROM groups");
	st = open_state();
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_LOST);
	assert_int_equal(reopen_verify(&st, 78, &back), KS_STATE_OK);	/* never seen: a new group */
	/* the mark deleted while the database holds a KEK */
	kek_group(&r, 77, 0x33, 1);
	assert_int_equal(ks_state_save_group(st, &r), 0);
	ks_state_close(st);
	unlink(p);
	st = open_state();
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_LOST);
	/* the mark garbled: one octet changed */
	assert_int_equal(ks_state_save_group(st, &r), 0);
	ks_state_close(st);
	FILE *f = fopen(p, "r+b");
	assert_non_null(f);
	fseek(f, 20, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 20, SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
	st = open_state();
	assert_int_equal(reopen_verify(&st, 77, &back), KS_STATE_LOST);
	ks_state_close(st);
}

/* A database SQLite finds damaged is refused, with an error naming it. */
static void test_state_refuses_damaged_database_naming_it(void **s)
{
	(void)s;
	SQLITE_ONLY();
	struct ks_state *st = open_state();
	static struct ks_group_rec r;
	for (uint32_t g = 1; g < 200; g++) {
		kek_group(&r, g, (uint8_t)g, g);
		r.nteks = 1;
		r.teks[0] = (struct ks_tek_rec){ .spi = g, .key_len = 30 };
		assert_int_equal(ks_state_save_group(st, &r), 0);
	}
	ks_state_close(st);	/* checkpointed: all in the database file */
	char p[128];
	path_in(p, sizeof(p), "gdoi-ks.db");
	assert_int_equal(truncate(p, 4096), 0);
	char err[700] = "";
	st = NULL;
	assert_int_equal(ks_state_open(dir, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "damaged"));
	unlink(p);
}

/* A row that fails half way through a listing (a corrupt page does this; here a view
 * whose second row overflows) is an error, not a shorter list returned as complete. */
static void test_state_fails_listing_on_row_error_midway(void **s)
{
	(void)s;
	SQLITE_ONLY();
	struct ks_state *st = open_state();
	static struct ks_group_rec r, back;
	uint32_t v[16];
	size_t n;

	memset(&r, 0, sizeof(r));
	r.gid = 77;
	r.nteks = 2;
	for (size_t i = 0; i < 2; i++) {
		r.teks[i] = (struct ks_tek_rec){ .spi = 0x2000 + (uint32_t)i, .profile = 1,
						 .gen = (uint8_t)i, .key_len = 30 };
		memset(r.teks[i].key, 0x33, 30);
	}
	assert_int_equal(ks_state_save_group(st, &r), 0);
	assert_int_equal(ks_state_ssrc_add(st, 77, "carol", 0x111), 0);
	assert_int_equal(ks_state_ssrc_add(st, 77, "carol", 0x222), 0);
	assert_int_equal(sqlite3_exec(((struct sqs *)st)->db,
		"ALTER TABLE teks RENAME TO teks_ok;"
		"CREATE TEMP VIEW teks AS SELECT rowid AS rowid, gid, spi, gen, profile, created,"
		" CASE WHEN gen = 1 THEN abs(-9223372036854775807 - 1) ELSE key END AS key FROM teks_ok;"
		"ALTER TABLE ssrcs RENAME TO ssrcs_ok;"
		"CREATE TEMP VIEW ssrcs AS SELECT gid, member, seq,"
		" CASE WHEN seq = 2 THEN abs(-9223372036854775807 - 1) ELSE ssrc END AS ssrc FROM ssrcs_ok;",
		NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ks_state_load_group(st, 77, &back), -1);
	assert_int_equal(ks_state_ssrc_list(st, 77, "carol", v, 16, &n), -1);
	sqlite3_exec(((struct sqs *)st)->db, "DROP VIEW teks; DROP VIEW ssrcs; ALTER TABLE teks_ok RENAME TO teks;"
		     "ALTER TABLE ssrcs_ok RENAME TO ssrcs;", NULL, NULL, NULL);
	ks_state_close(st);
}

/* ---- several key servers on one PostgreSQL ---------------------------------- */

/* One key server alone leads every group and has no commands queued for it. */
static void test_state_alone_leads_every_group_with_no_commands(void **s)
{
	(void)s;
	SQLITE_ONLY();
	struct ks_state *st = open_state();
	assert_int_equal(ks_state_lead(st, 700), 1);
	const uint32_t gids[2] = { 700, 701 };
	bool pending[2] = { true, true };
	assert_int_equal(ks_state_cmd_pending(st, gids, 2, pending), 0);
	assert_false(pending[0]);
	assert_false(pending[1]);
	ks_state_close(st);
}

#define PG_ONLY() do { if (!pg_spec[0]) skip(); } while (0)

static void test_pg_two_servers_share_ssrcs_seq_and_keys(void **s)
{
	(void)s;
	PG_ONLY();
	struct ks_state *a = open_state(), *b = open_state();
	static struct ks_group_rec r, back;
	kek_group(&r, 500, 0x55, 10);
	r.nteks = 1;
	r.teks[0] = (struct ks_tek_rec){ .spi = 0x5000, .profile = 1, .key_len = 30 };
	memset(r.teks[0].key, 0x77, 30);
	assert_int_equal(ks_state_save_group(a, &r), 0);
	/* b sees a's keys at once, byte for byte */
	assert_int_equal(ks_state_load_group(b, 500, &back), 0);
	assert_memory_equal(back.kek_spi, r.kek_spi, 16);
	assert_memory_equal(back.teks[0].key, r.teks[0].key, 30);
	/* an SSRC one of them assigned is taken for the other */
	assert_int_equal(ks_state_ssrc_add(a, 500, "alice", 0x1234), 0);
	assert_int_equal(ks_state_ssrc_add(b, 500, "bob", 0x1234), 1);
	assert_int_equal(ks_state_ssrc_add(b, 500, "bob", 0x1235), 0);
	assert_int_equal(ks_state_spi_claim(b, 500, 0x5001), 0);
	assert_int_equal(ks_state_spi_claim(a, 500, 0x5001), 1);
	/* SEQ: b pushed up to 20; a's record with an older SEQ under the same KEK never
	 * lowers it, a new KEK starts its own */
	assert_int_equal(ks_state_save_seq(b, 500, 20), 0);
	assert_int_equal(ks_state_save_seq(a, 500, 15), 0);
	r.seq = 11;
	assert_int_equal(ks_state_save_group(a, &r), 0);
	assert_int_equal(ks_state_load_group(a, 500, &back), 0);
	assert_int_equal(back.seq, 20);
	kek_group(&r, 500, 0x66, 0);
	assert_int_equal(ks_state_save_group(a, &r), 0);
	assert_int_equal(ks_state_load_group(b, 500, &back), 0);
	assert_int_equal(back.seq, 0);
	/* blocked members too */
	assert_int_equal(ks_state_set_blocked(a, "mallory", true), 0);
	assert_true(ks_state_blocked(b, "mallory"));
	assert_true(ks_state_shared(a));
	ks_state_close(a);
	ks_state_close(b);
}

static uint32_t noticed[8];
static size_t nnoticed;
static void notice(void *ctx, uint32_t gid)
{
	(void)ctx;
	if (nnoticed < 8)
		noticed[nnoticed++] = gid;
}

static void test_pg_one_leader_per_group_moves_on_session_end(void **s)
{
	(void)s;
	PG_ONLY();
	struct ks_state *a = open_state(), *b = open_state();
	char who[200];
	assert_int_equal(ks_state_lead(a, 600), 2);	/* taken now */
	assert_int_equal(ks_state_lead(b, 600), 0);	/* one leader */
	assert_int_equal(ks_state_lead(a, 600), 1);	/* still */
	assert_int_equal(ks_state_lead(b, 601), 2);	/* per group */
	assert_int_equal(ks_state_lead(a, 601), 0);
	assert_int_equal(ks_state_leader(b, 600, who, sizeof(who)), 0);
	assert_non_null(strstr(who, "gdoi-ks pid"));
	/* b hears of a's commit (not of its own) */
	static struct ks_group_rec r;
	kek_group(&r, 600, 0x11, 1);
	nnoticed = 0;
	assert_int_equal(ks_state_save_group(a, &r), 0);
	assert_true(ks_state_watch_fd(b) >= 0);
	for (int i = 0; i < 100 && !nnoticed; i++) {
		assert_int_equal(ks_state_poll(b, notice, NULL), 0);
		usleep(10000);
	}
	assert_int_equal(nnoticed, 1);
	assert_int_equal(noticed[0], 600);
	nnoticed = 0;
	assert_int_equal(ks_state_save_group(b, &r), 0);
	usleep(100000);
	assert_int_equal(ks_state_poll(b, notice, NULL), 0);
	assert_int_equal(nnoticed, 0);
	/* fencing: a, leading 600, whose leadership session died, commits nothing */
	PQfinish(((struct pgs *)b)->lk);
	((struct pgs *)b)->lk = connect_db(((struct pgs *)b)->conninfo);	/* a new session: b's lock on 601 is gone */
	kek_group(&r, 601, 0x12, 1);
	assert_int_equal(ks_state_save_group(b, &r), -1);
	assert_int_equal(ks_state_lead(b, 601), 2);	/* taken again on the new session */
	assert_int_equal(ks_state_save_group(b, &r), 0);
	/* a's sessions end: the leadership is free, b takes it */
	ks_state_close(a);
	int got = 0;
	for (int i = 0; i < 100 && got != 2; i++) {
		got = ks_state_lead(b, 600);
		usleep(10000);
	}
	assert_int_equal(got, 2);
	assert_int_equal(ks_state_lead(b, 600), 1);	/* and keeps it */
	ks_state_close(b);
}

/* A follower queues, the leader takes the oldest open one, records its SEQ; a
 * blocked check that cannot be made says so (-1), it does not say "blocked". */
static void test_pg_commands_reach_the_leader_and_outage_is_not_blocked(void **s)
{
	(void)s;
	PG_ONLY();
	struct ks_state *f = open_state(), *l = open_state();
	struct ks_cmd c;
	int64_t id1, id2;
	assert_int_equal(ks_state_cmd_next(l, 700, &c), 1);	/* none */
	assert_int_equal(ks_state_lead(l, 700), 2);
	assert_true(ks_state_watch_fd(l) >= 0);
	nnoticed = 0;
	assert_int_equal(ks_state_cmd_add(f, 700, "rekey", NULL, 1000, &id1), 0);
	assert_int_equal(ks_state_cmd_add(f, 700, "evict", "mallory", 1001, &id2), 0);
	assert_true(id2 > id1);
	/* announced like a group record: the leader hears gid */
	for (int i = 0; i < 100 && !nnoticed; i++) {
		assert_int_equal(ks_state_poll(l, notice, NULL), 0);
		usleep(10000);
	}
	assert_true(nnoticed >= 1);
	assert_int_equal(noticed[0], 700);
	/* the leader's tick asks for all its groups at once */
	const uint32_t gids[4] = { 701, 700, 4294967295u, 700 };
	bool pending[4] = { true, false, true, false };
	assert_int_equal(ks_state_cmd_pending(l, gids, 4, pending), 0);
	assert_false(pending[0]);
	assert_true(pending[1]);
	assert_false(pending[2]);
	assert_true(pending[3]);
	assert_int_equal(ks_state_cmd_next(l, 701, &c), 1);	/* per group */
	assert_int_equal(ks_state_cmd_next(l, 700, &c), 0);
	assert_int_equal(c.id, id1);
	assert_string_equal(c.op, "rekey");
	assert_false(c.done);
	assert_int_equal(ks_state_cmd_done(l, id1, true, 42, "", 1002), 0);
	assert_int_equal(ks_state_cmd_next(l, 700, &c), 0);
	assert_int_equal(c.id, id2);
	assert_string_equal(c.member, "mallory");
	assert_int_equal(ks_state_cmd_done(l, id2, false, 0, "failed on the rekey leader", 1003), 0);
	assert_int_equal(ks_state_cmd_next(l, 700, &c), 1);
	/* the follower reads the outcome */
	assert_int_equal(ks_state_cmd_get(f, id1, &c), 0);
	assert_true(c.done && c.has_seq);
	assert_int_equal(c.seq, 42);
	assert_string_equal(c.error, "");
	assert_int_equal(ks_state_cmd_get(f, id2, &c), 0);
	assert_true(c.done && !c.has_seq);
	assert_string_equal(c.error, "failed on the rekey leader");
	assert_int_equal(ks_state_cmd_get(f, id2 + 1000, &c), 1);
	/* carried-out commands an hour old are dropped */
	assert_int_equal(ks_state_cmd_done(l, id2, false, 0, "", 1003 + 3601), 0);
	assert_int_equal(ks_state_cmd_get(f, id1, &c), 1);
	/* the state session gone, its reconnection not done yet: "cannot tell", at once */
	PQfinish(((struct pgs *)f)->db);
	((struct pgs *)f)->db = PQconnectdb("host=/nonexistent dbname=none");	/* a session that is down */
	((struct pgs *)f)->db_try = pgs_now_ms();	/* the next attempt not before RETRY_MS */
	assert_int_equal(ks_state_blocked_check(f, "trudy"), -1);
	assert_true(ks_state_blocked(f, "trudy"));	/* the boolean form stays closed */
	assert_false(ks_state_connected(f));
	/* and it comes back in the background */
	bool up = false;
	for (int i = 0; i < 300 && !up; i++) {
		up = ks_state_connected(f);
		usleep(10000);
	}
	assert_true(up);
	assert_int_equal(ks_state_blocked_check(f, "trudy"), 0);
	ks_state_close(f);
	ks_state_close(l);
}

int main(void)
{
	ks_log_set_level(-1);
	/* The backend's own tests run only where that backend is: the contract on
	 * both, the SQLite file tests without GDOI_PG_CONNINFO, the shared-database
	 * tests with it (tests/integration/keyserver_pg.sh). Nothing is skipped. */
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test(test_state_group_survives_reopen_byte_for_byte),
		cmocka_unit_test(test_state_keeps_spis_unique_ssrcs_stable_members_blocked),
		cmocka_unit_test(test_state_sees_ssrcs_and_blocks_in_the_same_session),
		cmocka_unit_test(test_state_lists_members_with_latest_address),
		cmocka_unit_test(test_state_detects_seq_kek_or_rows_lost),
		cmocka_unit_test(test_state_refuses_damaged_database_naming_it),
		cmocka_unit_test(test_state_fails_listing_on_row_error_midway),
		cmocka_unit_test(test_state_alone_leads_every_group_with_no_commands),
		cmocka_unit_test(test_state_migrates_members_to_without_rowid),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(test_state_group_survives_reopen_byte_for_byte),
		cmocka_unit_test(test_state_keeps_spis_unique_ssrcs_stable_members_blocked),
		cmocka_unit_test(test_state_sees_ssrcs_and_blocks_in_the_same_session),
		cmocka_unit_test(test_state_lists_members_with_latest_address),
		cmocka_unit_test(test_pg_two_servers_share_ssrcs_seq_and_keys),
		cmocka_unit_test(test_pg_one_leader_per_group_moves_on_session_end),
		cmocka_unit_test(test_pg_commands_reach_the_leader_and_outage_is_not_blocked),
	};
	const char *ci = getenv("GDOI_PG_CONNINFO");
	if (ci && *ci)
		return cmocka_run_group_tests_name("ks_state on PostgreSQL", pg_tests, setup, teardown);
	return cmocka_run_group_tests_name("ks_state on SQLite", sqlite_tests, setup, teardown);
}
