/*
 * test_daemon_metrics.c - the Prometheus text exposition writer (daemon/metrics.c):
 * exact bytes of a page with HELP/TYPE, labels sorted by name whatever order they
 * are given in, escaping of \ " and newline in label values and of \ and newline
 * in HELP; the errors that keep a bad page from leaving (bad names, a family
 * twice, a sample before any family, a label twice, a negative counter, too many
 * labels); the size cap; the metrics listen address (loopback only, a port).
 */
#include "tests/lib/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"
#include "daemon/metrics_http.h"

static void test_metrics_page_matches_exposition_format_bytes(void **state)
{
	struct dm_metrics m;
	const char *page;
	size_t len;

	(void)state;
	dm_metrics_init(&m);
	dm_metrics_family(&m, "gdoi_x_total", DM_METRIC_COUNTER, "Things done.");
	struct dm_label l2[] = { { "zone", "b" }, { "group", "g1" } };
	dm_metrics_u64(&m, l2, 2, 18446744073709551615ull);
	struct dm_label l3[] = { { "b", "2" }, { "c", "3" }, { "a", "1" } };
	dm_metrics_u64(&m, l3, 3, 0);
	dm_metrics_family(&m, "gdoi:y_seconds", DM_METRIC_GAUGE, "Help with \\ and\nnewline \"quoted\".");
	struct dm_label esc = { "name", "a\\b\"c\nd" };
	dm_metrics_i64(&m, &esc, 1, -5);
	dm_metrics_single(&m, "up", DM_METRIC_GAUGE, "", 1);
	assert_int_equal(dm_metrics_finish(&m, &page, &len), 0);
	static const char want[] =
		"# HELP gdoi_x_total Things done.\n"
		"# TYPE gdoi_x_total counter\n"
		"gdoi_x_total{group=\"g1\",zone=\"b\"} 18446744073709551615\n"
		"gdoi_x_total{a=\"1\",b=\"2\",c=\"3\"} 0\n"
		"# HELP gdoi:y_seconds Help with \\\\ and\\nnewline \"quoted\".\n"
		"# TYPE gdoi:y_seconds gauge\n"
		"gdoi:y_seconds{name=\"a\\\\b\\\"c\\nd\"} -5\n"
		"# HELP up \n"
		"# TYPE up gauge\n"
		"up 1\n";
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(page, want, len);
	assert_int_equal(page[len], '\0');
	dm_metrics_free(&m);

	/* nothing declared: an empty page, not an error */
	dm_metrics_init(&m);
	assert_int_equal(dm_metrics_finish(&m, &page, &len), 0);
	assert_int_equal(len, 0);
	dm_metrics_free(&m);
}

/* Runs one bad call after a good family; the page must be refused with want. */
static int after_family(int which)
{
	struct dm_metrics m;
	const char *page;
	size_t len;
	struct dm_label dup[] = { { "a", "1" }, { "a", "2" } };
	struct dm_label reserved = { "__name__", "x" };
	struct dm_label colon = { "a:b", "x" };
	struct dm_label digit = { "1a", "x" };
	struct dm_label nullv = { "a", NULL };
	struct dm_label many[DM_METRICS_MAX_LABELS + 1];
	char names[DM_METRICS_MAX_LABELS + 1][4];

	dm_metrics_init(&m);
	dm_metrics_family(&m, "ok_total", DM_METRIC_COUNTER, "ok");
	switch (which) {
	case 0: dm_metrics_family(&m, "ok_total", DM_METRIC_GAUGE, "again"); break;
	case 1: dm_metrics_family(&m, "bad-name", DM_METRIC_GAUGE, "x"); break;
	case 2: dm_metrics_family(&m, "9lives", DM_METRIC_GAUGE, "x"); break;
	case 3: dm_metrics_family(&m, "", DM_METRIC_GAUGE, "x"); break;
	case 4: dm_metrics_u64(&m, dup, 2, 1); break;
	case 5: dm_metrics_u64(&m, &reserved, 1, 1); break;
	case 6: dm_metrics_u64(&m, &colon, 1, 1); break;
	case 7: dm_metrics_u64(&m, &digit, 1, 1); break;
	case 8: dm_metrics_u64(&m, &nullv, 1, 1); break;
	case 9: dm_metrics_i64(&m, NULL, 0, -1); break;	/* a counter never goes down */
	case 10:
		for (size_t i = 0; i < DM_METRICS_MAX_LABELS + 1; i++) {
			snprintf(names[i], sizeof names[i], "l%zu", i);
			many[i] = (struct dm_label){ names[i], "v" };
		}
		dm_metrics_u64(&m, many, DM_METRICS_MAX_LABELS + 1, 1);
		break;
	case 11: dm_metrics_family(&m, "x", DM_METRIC_GAUGE, NULL); break;
	}
	/* later calls change nothing: the first error sticks */
	dm_metrics_single(&m, "later", DM_METRIC_GAUGE, "x", 1);
	int rc = dm_metrics_finish(&m, &page, &len);
	dm_metrics_free(&m);
	return rc;
}

static void test_metrics_refuses_page_after_bad_call(void **state)
{
	struct dm_metrics m;
	const char *page;
	size_t len;

	(void)state;
	for (int i = 0; i <= 11; i++) {
		printf("# case %d\n", i);
		assert_int_equal(after_family(i), -EINVAL);
	}
	/* a sample before any family */
	dm_metrics_init(&m);
	dm_metrics_u64(&m, NULL, 0, 1);
	assert_int_equal(dm_metrics_finish(&m, &page, &len), -EINVAL);
	dm_metrics_free(&m);
	/* a gauge may be negative */
	dm_metrics_init(&m);
	dm_metrics_single(&m, "g", DM_METRIC_GAUGE, "x", -1);
	assert_int_equal(dm_metrics_finish(&m, &page, &len), 0);
	dm_metrics_free(&m);
}

static void test_metrics_refuses_page_over_family_and_size_limits(void **state)
{
	struct dm_metrics m;
	const char *page;
	size_t len;
	char name[16];

	(void)state;
	/* too many families */
	dm_metrics_init(&m);
	for (int i = 0; i <= DM_METRICS_MAX_FAMILIES; i++) {
		snprintf(name, sizeof name, "f%d", i);
		dm_metrics_single(&m, name, DM_METRIC_GAUGE, "x", i);
	}
	assert_int_equal(dm_metrics_finish(&m, &page, &len), -E2BIG);
	dm_metrics_free(&m);
	/* a page over DM_METRICS_MAX_OUT */
	char *big = malloc(64 * 1024);
	assert_non_null(big);
	memset(big, 'x', 64 * 1024 - 1);
	big[64 * 1024 - 1] = '\0';
	dm_metrics_init(&m);
	dm_metrics_family(&m, "g", DM_METRIC_GAUGE, "x");
	struct dm_label l = { "v", big };
	for (int i = 0; i < DM_METRICS_MAX_OUT / (64 * 1024) + 1; i++)
		dm_metrics_u64(&m, &l, 1, 1);
	assert_int_equal(dm_metrics_finish(&m, &page, &len), -E2BIG);
	dm_metrics_free(&m);
	free(big);
}

static void test_metrics_listen_accepts_loopback_with_port_only(void **state)
{
	struct dm_addr a;
	char s[64];

	(void)state;
	assert_int_equal(dm_metrics_listen_parse("127.0.0.1:9848", &a), 0);
	dm_metrics_listen_format(&a, s, sizeof s);
	assert_string_equal(s, "127.0.0.1:9848");
	assert_int_equal(dm_metrics_listen_parse("127.1.2.3:1", &a), 0);
	assert_int_equal(dm_metrics_listen_parse("[::1]:9848", &a), 0);
	dm_metrics_listen_format(&a, s, sizeof s);
	assert_string_equal(s, "[::1]:9848");
	assert_int_equal(dm_metrics_listen_parse("127.0.0.1", &a), -EINVAL);	/* no port */
	assert_int_equal(dm_metrics_listen_parse("127.0.0.1:0", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("0.0.0.0:9848", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("192.0.2.1:9848", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("[::]:9848", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("[::2]:9848", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("localhost:9848", &a), -EINVAL);
	assert_int_equal(dm_metrics_listen_parse("127.0.0.1:65536", &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_page_matches_exposition_format_bytes),
		cmocka_unit_test(test_metrics_refuses_page_after_bad_call),
		cmocka_unit_test(test_metrics_refuses_page_over_family_and_size_limits),
		cmocka_unit_test(test_metrics_listen_accepts_loopback_with_port_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
