/*
 * test_daemon_log.c - the rate limit of daemon/log.c: one key is printed once
 * per DM_LOG_LIMIT_SECONDS, and keys that all differ (a reason carrying a
 * peer-chosen offset) cannot cycle through the slots to print more than
 * DM_LOG_LIMITED_PER_SECOND lines a second; what was held back is summed up.
 * The same holds when several threads log (gdoi-ks workers).
 */
#include "tests/lib/testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"

static FILE *out;
static int saved_stderr = -1;

/* stderr into a temporary file for the duration of a test */
static int capture(void **state)
{
	(void)state;
	out = tmpfile();
	if (!out)
		return -1;
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fileno(out), 2);
	return 0;
}

static int release(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fclose(out);
	return 0;
}

/* lines written since the capture began holding needle (NULL: every line) */
static int count_lines(const char *needle)
{
	char line[2048];
	int n = 0;

	fflush(stderr);
	rewind(out);
	while (fgets(line, sizeof line, out))
		if (!needle || strstr(line, needle))
			n++;
	return n;
}

static void test_log_limited_prints_one_key_once_then_counts_suppressed(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++)
		dm_log_limited(DM_WARN, "one key", "same reason %d", i);
	assert_int_equal(count_lines("same reason"), 1);
	dm_log_flush();
	assert_int_equal(count_lines("999 suppressed \"one key\""), 1);
}

static void test_log_limited_caps_many_keys_per_second(void **state)
{
	char key[64];
	(void)state;
	/* 5 rounds of 100 keys in a second: 32 slots cannot hold them, every key evicts
	 * another, so only the global cap keeps the count down */
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "payload at offset %d", i % 100);
		dm_log_limited(DM_WARN, key, "dropped: %s", key);
	}
	int printed = count_lines(NULL);
	/* the seconds may turn once during the loop: twice the cap, plus one summary */
	assert_in_range(printed, 1, 2 * DM_LOG_LIMITED_PER_SECOND + 1);
	sleep(1);
	dm_log_limited(DM_WARN, "after the flood", "one more");
	assert_int_equal(count_lines("one more"), 1);
	assert_true(count_lines("line(s) suppressed: more than") >= 1);
	dm_log_flush();
}

static void *log_same_key(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++)
		dm_log_limited(DM_WARN, "threaded key", "threaded reason %d", i);
	return NULL;
}

/* Four threads, one key, 8000 lines asked for: one printed, 7999 counted. */
static void test_log_limited_holds_across_threads(void **state)
{
	pthread_t t[4];
	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, log_same_key, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(count_lines("threaded reason"), 1);
	dm_log_flush();
	assert_int_equal(count_lines("7999 suppressed \"threaded key\""), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_limited_prints_one_key_once_then_counts_suppressed, capture, release),
		cmocka_unit_test_setup_teardown(test_log_limited_caps_many_keys_per_second, capture, release),
		cmocka_unit_test_setup_teardown(test_log_limited_holds_across_threads, capture, release),
	};
	dm_log_init("test");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
