/*
 * test_bridge_keywipe.c - libgdoisrtp leaves no copy of a snapshot's keys in
 * memory it hands back to jansson: with the test's allocation functions
 * installed (json_set_alloc_funcs), every block freed while a snapshot is
 * parsed, delivered and freed is searched for the base64 key and salt and
 * for their raw octets. Paths: gdoisrtp_snapshot_parse(), the client reading
 * a subscribe reply and a snapshot event from a (fake) sidecar, and
 * ipc_client_get() (gdoictl's path).
 */
#include "tests/lib/testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ipc/base64.h"
#include "ipc/client.h"
#include "srtp-bridge/gdoisrtp.h"

/* AES-256-GCM: 32-octet key, 12-octet salt, no two octets alike in a row */
static uint8_t key[32], salt[12];
static char key_b64[IPC_B64_LEN(32) + 1], salt_b64[IPC_B64_LEN(12) + 1];
static char snap_json[4096];

static int armed;
static size_t blocks_with_keys;

struct hdr {
	size_t len;
	max_align_t align;
};

static bool holds(const uint8_t *p, size_t n, const void *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= n; i++)
		if (memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}

static void *t_malloc(size_t n)
{
	struct hdr *h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->len = n;
	return h + 1;
}

static void t_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	const uint8_t *b = p;
	if (armed && (holds(b, h->len, key_b64, strlen(key_b64)) ||
		      holds(b, h->len, salt_b64, strlen(salt_b64)) ||
		      holds(b, h->len, key, sizeof(key)) || holds(b, h->len, salt, sizeof(salt))))
		blocks_with_keys++;
	free(h);
}

static void make_snapshot(void)
{
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x5b + 37 * i);
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)(0xc3 + 53 * i);
	ipc_b64_encode(key, sizeof(key), key_b64);
	ipc_b64_encode(salt, sizeof(salt), salt_b64);
	snprintf(snap_json, sizeof(snap_json),
		 "{\"group\":4711,\"name\":\"wipe\",\"version\":3,\"keyserver\":\"127.0.0.1\","
		 "\"seq\":2,\"updated\":\"2026-01-01T00:00:00Z\",\"atd\":1,\"dtd\":2,\"ssrcs\":[],"
		 "\"teks\":[{\"spi\":305419896,\"spi_hex\":\"12345678\","
		 "\"profile\":\"SRTP_AEAD_AES_256_GCM\",\"profile_id\":8,"
		 "\"master_key\":\"%s\",\"master_salt\":\"%s\",\"mki\":\"12345678\",\"srtcp\":true,"
		 "\"destination\":{\"address\":\"239.1.1.1\",\"port\":5004},"
		 "\"source\":{\"address\":\"0.0.0.0\",\"prefix\":0,\"port\":0},"
		 "\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2036-01-01T00:00:00Z\","
		 "\"replay_window\":128,\"allow_repeat_tx\":false,\"ssrc_assigned\":false}]}",
		 key_b64, salt_b64);
}

static int setup(void **s)
{
	(void)s;
	json_set_alloc_funcs(t_malloc, t_free);
	make_snapshot();
	return 0;
}

static void test_snapshot_parse_leaves_no_key_in_freed_memory(void **s)
{
	(void)s;
	gdoisrtp_snapshot *snap = NULL;
	blocks_with_keys = 0;
	armed = 1;
	assert_int_equal(gdoisrtp_snapshot_parse(snap_json, strlen(snap_json), &snap), 0);
	assert_int_equal(gdoisrtp_snapshot_num_teks(snap), 1);
	gdoisrtp_snapshot_free(snap);
	armed = 0;
	assert_int_equal(blocks_with_keys, 0);
}

/* ---- a fake sidecar: answers hello, subscribe and get, then sends one event */

struct fake {
	char dir[64], path[108];
	int lfd;
	pthread_t th;
};

static void say(int fd, const char *a, const char *b, const char *c)
{
	char line[8192];
	int n = snprintf(line, sizeof(line), "%s%s%s\n", a, b, c);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	assert_int_equal(write(fd, line, (size_t)n), n);
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (fd >= 0 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		char *nl;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			if (strstr(buf, "\"hello\""))
				say(fd, "{\"ok\":true,\"protocol\":2,\"id\":\"gdoisrtp-hello\"}", "", "");
			else if (strstr(buf, "\"subscribe\"")) {
				say(fd, "{\"ok\":true,\"id\":\"gdoisrtp-subscribe\",\"snapshot\":", snap_json, "}");
				say(fd, "{\"event\":\"snapshot\",\"snapshot\":", snap_json, "}");
			} else if (strstr(buf, "\"get\""))
				say(fd, "{\"ok\":true,\"snapshot\":", snap_json, "}");
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void fake_start(struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/keywipe.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

static int delivered;

static void on_snap(const gdoisrtp_snapshot *snap, void *arg)
{
	(void)arg;
	delivered += (int)gdoisrtp_snapshot_num_teks(snap);
}

static void test_client_subscribe_leaves_no_key_in_freed_memory(void **s)
{
	(void)s;
	struct fake f;
	gdoisrtp_client *c = NULL;
	fake_start(&f);
	blocks_with_keys = 0;
	delivered = 0;
	armed = 1;
	assert_int_equal(gdoisrtp_client_open(f.path, &c), 0);
	assert_int_equal(gdoisrtp_client_subscribe(c, "4711", on_snap, NULL), 0);
	for (int i = 0; i < 100 && delivered < 2; i++) {
		assert_true(gdoisrtp_client_process(c) >= 0);
		if (delivered < 2)
			usleep(10000);
	}
	gdoisrtp_client_free(c);
	armed = 0;
	fake_stop(&f);
	assert_int_equal(delivered, 2);
	assert_int_equal(blocks_with_keys, 0);
}

static void test_ipc_client_get_leaves_no_key_in_freed_memory(void **s)
{
	(void)s;
	struct fake f;
	struct ipc_client *c = NULL;
	struct ipc_snapshot *snap = calloc(1, sizeof(*snap));
	char err[128];
	assert_non_null(snap);
	fake_start(&f);
	blocks_with_keys = 0;
	armed = 1;
	assert_int_equal(ipc_client_connect(f.path, &c), 0);
	assert_int_equal(ipc_client_get(c, "4711", false, snap, err, sizeof(err), 5000), 0);
	assert_memory_equal(snap->teks[0].master_key, key, sizeof(key));
	ipc_snapshot_clear(snap);
	ipc_client_close(c);
	armed = 0;
	fake_stop(&f);
	free(snap);
	assert_int_equal(blocks_with_keys, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_parse_leaves_no_key_in_freed_memory),
		cmocka_unit_test(test_client_subscribe_leaves_no_key_in_freed_memory),
		cmocka_unit_test(test_ipc_client_get_leaves_no_key_in_freed_memory),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
