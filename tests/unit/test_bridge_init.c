/*
 * test_bridge_init.c - an application that initialises libsrtp2 itself
 * before using libgdoisrtp (as libsrtp2 users do) still gets working
 * sessions: libsrtp2 refuses a second srtp_init(), and the library must not
 * take that for a failure. Its own binary, so that nothing initialised
 * libsrtp2 earlier.
 */
#include "tests/lib/testutil.h"

#include <srtp2/srtp.h>

#include "srtp-bridge/gdoisrtp.h"

static void test_session_works_after_app_initialised_libsrtp2_first(void **s)
{
	(void)s;
	assert_int_equal(srtp_init(), srtp_err_status_ok);
	assert_int_not_equal(srtp_init(), srtp_err_status_ok);	/* libsrtp2's own rule */
	gdoisrtp_session *rx = NULL;
	assert_int_equal(gdoisrtp_session_new(GDOISRTP_RECEIVER, NULL, &rx), 0);
	gdoisrtp_session_free(rx);
	srtp_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_session_works_after_app_initialised_libsrtp2_first) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
