/*
 * test_ks_rekey.c - gdoi-ks's rekeys (keyserver/rekey.c, groups.c) on a real
 * SQLite state and a real UDP socket on 127.0.0.1, received by a member built
 * from the core (gdoi_push_open / gdoi_push_apply).
 *
 * compat = gdoid: the reference implementation's member keeps one replay
 * counter per group across KEK rotations (gdoid's gdoi_seq_valid: SEQ 0
 * refused, then a 32-push window above the highest SEQ seen), and its own
 * key server continues SEQ across a rotation (3 -> 4 in
 * tests/vectors/gdoid-kek-rotation). Our compat pushes must therefore carry
 * strictly increasing SEQs across a rotation, a catch-up push under the
 * replaced KEK and a restart.
 * (The key server's sources are compiled into this test: keyserver/ is not a library.
 * The registrar is there because its key-server engine delivers every push.)
 */
#include "tests/lib/testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gdoi/push.h"
#include "keyserver/cluster.c"
#include "keyserver/config.c"
#include "keyserver/config_check.c"
#include "keyserver/config_gikev2.c"
#include "keyserver/config_index.c"
#include "keyserver/config_values.c"
#include "keyserver/groups.c"
#include "keyserver/log.c"
#include "keyserver/mcast.c"
#include "keyserver/registrar.c"
#include "keyserver/registrar_ikev2.c"
#include "keyserver/rekey_ikev2.c"
#include "keyserver/worker.c"
#include "keyserver/rekey.c"
#include "keyserver/state_mark.c"
#include "keyserver/state_pg.c"
#include "keyserver/state_pg_cluster.c"
#include "keyserver/state_pg_conn.c"
#include "keyserver/state_sqlite.c"
#include "keyserver/state.c"
#include "keyserver/udp_batch.c"

static char dir[64];

/* The reference member's replay check (one counter and window per group). */
struct ref_replay {
	uint32_t last;
	uint32_t bitmap;
};

static bool ref_seq_valid(struct ref_replay *r, uint32_t seq)
{
	if (seq == 0)
		return false;
	if (seq > r->last) {
		uint32_t d = seq - r->last;
		r->bitmap = d < 32 ? (r->bitmap << d) | 1 : 1;
		r->last = seq;
		return true;
	}
	uint32_t d = r->last - seq;
	if (d >= 32 || (r->bitmap & (1u << d)))
		return false;
	r->bitmap |= 1u << d;
	return true;
}

struct rig {
	struct ks ks;
	struct ks_group *g;
	int member_fd;			/* where the member listens for pushes (rekey_port) */
	uint16_t member_port;
	struct gdoi_policy *held;	/* what the member holds */
	struct ref_replay replay;
};

static void write_conf(const char *path, uint16_t rport)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[server]\nlisten = 127.0.0.1:1\n\n"
		   "[group ref]\nid = 4321\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.5:5008\n"
		   "compat = gdoid\nrekey_port = %u\n\n"
		   "[member alice]\nid = fqdn:alice.example\npsk = alice-secret\ngroups = ref\ncompat = gdoid\n",
		rport);
	fclose(f);
	chmod(path, 0600);
}

static void open_group(struct rig *r)
{
	char err[600];
	assert_int_equal(ks_state_open(dir, &r->ks.st, err, sizeof(err)), 0);
	assert_int_equal(ks_group_open(&r->ks, &r->ks.cfg->groups[0], &r->g), 0);
	r->ks.groups = &r->g;
	r->ks.ngroups = 1;
}

static void close_group(struct rig *r)
{
	ks_group_close(r->g);
	for (int i = 0; i < 10; i++)
		uv_run(r->ks.loop, UV_RUN_NOWAIT);
	r->g = NULL;
	ks_state_close(r->ks.st);
	r->ks.st = NULL;
}

static void rig_up(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->member_fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(r->member_fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_int_equal(bind(r->member_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(r->member_fd, (struct sockaddr *)&a, &al), 0);
	r->member_port = ntohs(a.sin_port);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(r->member_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	char conf[96], err[600];
	snprintf(conf, sizeof(conf), "%s/ks.conf", dir);
	write_conf(conf, r->member_port);
	assert_int_equal(ks_config_load(conf, NULL, &r->ks.cfg, err, sizeof(err)), 0);
	r->ks.loop = malloc(sizeof(*r->ks.loop));
	assert_non_null(r->ks.loop);
	assert_int_equal(uv_loop_init(r->ks.loop), 0);
	struct sockaddr_in ka = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(uv_udp_init(r->ks.loop, &r->ks.udp), 0);
	r->ks.udp_family = AF_INET;
	ks_udpb_init(&r->ks.udpb, &r->ks.udp, AF_INET);
	assert_int_equal(uv_udp_bind(&r->ks.udp, (const struct sockaddr *)&ka, 0), 0);
	assert_int_equal(uv_timer_init(r->ks.loop, &r->ks.expire_timer), 0);
	r->ks.expire_timer.data = &r->ks;
	assert_int_equal(ks_registrar_new(&r->ks, NULL, &r->ks.reg, err, sizeof(err)), 0);
	open_group(r);

	/* registered: recorded for unicast rekeys, holding the group's policy */
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", r->member_port);
	assert_int_equal(ks_state_member_seen(r->ks.st, r->g->id, "alice", "fqdn:alice.example", addr, false,
					      ks_unix_now()), 0);
	r->held = calloc(1, sizeof(*r->held));
	assert_non_null(r->held);
	memcpy(r->held, &r->g->pol, sizeof(*r->held));
	r->held->kek.trailer_len = 6;
	r->replay.last = r->held->seq;
}

static void rig_down(struct rig *r)
{
	close_group(r);
	ks_registrar_free(r->ks.reg);
	r->ks.reg = NULL;
	ks_udpb_free(&r->ks.udpb);
	uv_close((uv_handle_t *)&r->ks.expire_timer, NULL);
	uv_close((uv_handle_t *)&r->ks.udp, NULL);
	uv_run(r->ks.loop, UV_RUN_DEFAULT);
	uv_loop_close(r->ks.loop);
	free(r->ks.loop);
	ks_config_free(r->ks.cfg);
	gdoi_wipe_free(r->held, sizeof(*r->held));
	close(r->member_fd);
}

/* The next push the member receives: opened, checked like the reference, applied. */
static uint32_t member_takes_push(struct rig *r)
{
	uint8_t buf[4096];
	ssize_t n = recv(r->member_fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	struct gdoi_push_update *u = calloc(1, sizeof(*u));
	assert_non_null(u);
	char why[256] = "";
	int rc = gdoi_push_open(r->held, NULL, buf, (size_t)n, u, why, sizeof(why));
	if (rc)
		fail_msg("push refused: %s (%s)", gdoi_strerror(rc), why);
	uint32_t seq = u->seq;
	if (!ref_seq_valid(&r->replay, seq))
		fail_msg("the reference member refuses SEQ %u as a replay (highest seen %u)", seq, r->replay.last);
	assert_int_equal(gdoi_push_apply(r->held, u), 0);
	gdoi_push_update_clear(u);
	free(u);
	return seq;
}

static int setup(void **s)
{
	(void)s;
	ks_log_set_level(-1);
	strcpy(dir, "/tmp/test_ks_rekey.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	const char *files[] = { "gdoi-ks.db", "gdoi-ks.db-wal", "gdoi-ks.db-shm", "gdoi-ks.seq", "ks.conf" };
	char p[128];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static void test_compat_seq_continues_across_rotation(void **s)
{
	(void)s;
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rig_up(r);
	uint8_t first_spi[GDOI_KEK_SPI_LEN];
	memcpy(first_spi, r->held->kek.spi, sizeof(first_spi));

	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	uint32_t s1 = member_takes_push(r);
	assert_int_equal(ks_rekey_kek(r->g, "test", false), 0);
	uint32_t s2 = member_takes_push(r);	/* the rotation, under the first KEK */
	assert_memory_not_equal(r->held->kek.spi, first_spi, sizeof(first_spi));
	assert_memory_equal(r->held->kek.spi, r->g->rec.kek_spi, GDOI_KEK_SPI_LEN);
	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	uint32_t s3 = member_takes_push(r);	/* the first under the new KEK */
	assert_true(s1 < s2 && s2 < s3);
	assert_int_equal(s3, s2 + 1);		/* like the reference: 3 -> 4 */

	/* durable: after a restart the next push still goes above */
	close_group(r);
	open_group(r);
	assert_int_equal(r->g->rec.seq, s3);
	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	uint32_t s4 = member_takes_push(r);
	assert_int_equal(s4, s3 + 1);

	/* the database lost, the mark kept: a new KEK epoch, SEQ still above s4 */
	close_group(r);
	char p[128];
	const char *db[] = { "gdoi-ks.db", "gdoi-ks.db-wal", "gdoi-ks.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, db[i]);
		unlink(p);
	}
	open_group(r);
	assert_memory_not_equal(r->g->rec.kek_spi, r->held->kek.spi, GDOI_KEK_SPI_LEN);
	assert_true(r->g->rec.tek_push_due);
	assert_int_equal(r->g->rec.seq, s4);
	rig_down(r);
	free(r);
}

/* A member that registered across the rotation holds the replaced KEK: its
 * catch-up push travels under that KEK, and the group's next push must still be
 * above it for a member keeping one counter. */
static void test_compat_catch_up_under_replaced_kek(void **s)
{
	(void)s;
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rig_up(r);
	struct ks_pending pe = { .used = true, .has_kek = true, .gid = r->g->id, .seq = r->g->rec.seq };
	memcpy(pe.kek_spi, r->g->rec.kek_spi, GDOI_KEK_SPI_LEN);
	for (size_t i = 0; i < r->g->pol.nteks; i++)
		pe.spis[pe.nspis++] = r->g->pol.teks[i].spi;

	/* the group rotates (a member left out of it: it is not yet on the unicast list) */
	assert_int_equal(ks_state_member_remove(r->ks.st, r->g->id, "alice"), 0);
	assert_int_equal(ks_rekey_kek(r->g, "test", false), 0);
	uint32_t rot = r->g->rec.seq;
	struct ks_inet to = { .len = 4, .ip = { 127, 0, 0, 1 }, .port = r->member_port };
	assert_int_equal(ks_rekey_catch_up(r->g, &r->ks.cfg->members[0], &pe, &to), 0);
	uint32_t c = member_takes_push(r);
	assert_memory_equal(r->held->kek.spi, r->g->rec.kek_spi, GDOI_KEK_SPI_LEN);
	assert_true(c > rot);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", r->member_port);
	assert_int_equal(ks_state_member_seen(r->ks.st, r->g->id, "alice", "fqdn:alice.example", addr, false,
					      ks_unix_now()), 0);
	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	uint32_t next = member_takes_push(r);
	assert_true(next > c);
	rig_down(r);
	free(r);
}

/* A member on record as registered by G-IKEv2 is sent no GROUPKEY-PUSH (it could
 * not read one, and push_ack would count it as missing ACKs); registered by GDOI
 * again, it takes the next push. */
static void test_member_registered_by_gikev2_gets_no_groupkey_push(void **s)
{
	(void)s;
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rig_up(r);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", r->member_port);
	assert_int_equal(ks_state_member_seen(r->ks.st, r->g->id, "alice", "fqdn:alice.example", addr, true,
					      ks_unix_now()), 0);
	uint32_t before = r->g->rec.seq;
	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	assert_true(r->g->rec.seq > before);	/* the push was made, to nobody */
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(r->member_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t buf[2048];
	ssize_t n = recv(r->member_fd, buf, sizeof(buf), 0);
	if (n >= 0)
		fail_msg("a G-IKEv2 member was sent a %zd-octet GROUPKEY-PUSH", n);
	tv.tv_sec = 5;
	setsockopt(r->member_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(ks_state_member_seen(r->ks.st, r->g->id, "alice", "fqdn:alice.example", addr, false,
					      ks_unix_now()), 0);
	assert_int_equal(ks_rekey_teks(r->g, "test"), 0);
	assert_int_equal(member_takes_push(r), r->g->rec.seq);
	rig_down(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compat_seq_continues_across_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_catch_up_under_replaced_kek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_registered_by_gikev2_gets_no_groupkey_push, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
