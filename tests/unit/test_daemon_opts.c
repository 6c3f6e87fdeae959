/*
 * test_daemon_opts.c - the daemons' shared command line and address syntax:
 * ADDR[:PORT] with its default and required port, [v6]:port and bare IPv6 split
 * the same way (and refused by IPv4-only callers by family), bad ports and hosts;
 * options from the table, --help built from it, usage errors.
 */
#include "tests/lib/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/addr.h"
#include "daemon/opts.h"

static void test_addr_parse_takes_ipv4_with_default_or_required_port(void **state)
{
	struct dm_addr a;
	struct sockaddr_in sin;
	const uint8_t lo[4] = { 127, 0, 0, 1 };

	(void)state;
	assert_int_equal(dm_addr_parse("127.0.0.1:8848", 848, 0, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.ip, lo, 4);
	assert_int_equal(a.port, 8848);
	assert_true(a.has_port);
	assert_int_equal(dm_addr_sin(&a, &sin), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	assert_int_equal(ntohs(sin.sin_port), 8848);
	assert_memory_equal(&sin.sin_addr, lo, 4);

	assert_int_equal(dm_addr_parse("127.0.0.1", 848, 0, &a), 0);
	assert_int_equal(a.port, 848);
	assert_false(a.has_port);
	assert_int_equal(dm_addr_parse("127.0.0.1", 848, DM_ADDR_NEED_PORT, &a), -ENOENT);
	assert_int_equal(dm_addr_parse("0.0.0.0:0", 0, DM_ADDR_NEED_PORT, &a), 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(dm_addr_parse("10.0.0.1:65535", 0, 0, &a), 0);
	assert_int_equal(a.port, 65535);
}

static void test_addr_parse_refuses_bad_ports_and_hosts(void **state)
{
	static const char *const bad[] = {
		"",
		":848",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:+5",
		"127.0.0.1:0x50",
		"127.0.0.1:84 8",
		"127.0.0.256",
		"host.example:848",
		"1.2.3:848",
		"[127.0.0.1]:848",
		"[::1",
		"[::1]848",
		"[]:848",
		"::1:848:x",
	};
	struct dm_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (dm_addr_parse(bad[i], 848, 0, &a) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	char longhost[80];
	memset(longhost, '1', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	assert_int_equal(dm_addr_parse(longhost, 0, 0, &a), -ENAMETOOLONG);
}

static void test_addr_parse_takes_ipv6_refused_by_ipv4_callers(void **state)
{
	struct dm_addr a;
	struct sockaddr_in sin;
	uint8_t one[16] = { 0 };

	(void)state;
	one[15] = 1;
	assert_int_equal(dm_addr_parse("[::1]:848", 0, DM_ADDR_NEED_PORT, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.ip, one, 16);
	assert_int_equal(a.port, 848);
	assert_int_equal(dm_addr_parse("::1", 900, 0, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, 900);
	assert_int_equal(dm_addr_parse("[::1]", 0, DM_ADDR_NEED_PORT, &a), -ENOENT);
	/* IPv4-only callers refuse it by family */
	assert_int_equal(dm_addr_sin(&a, &sin), -EAFNOSUPPORT);
}

/* Socket addresses both ways: an IPv4 peer on a dual-stack socket is ::ffff:A.B.C.D
 * on the wire and IPv4 again once split, so it matches IPv4 member addresses. */
static void test_sockaddr_unmaps_ipv4_on_dual_stack(void **state)
{
	const uint8_t v4[4] = { 192, 0, 2, 7 };
	uint8_t v6[16] = { 0xff, 0x0e }, ip[16];
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	uint16_t port;
	char b[64];

	(void)state;
	v6[14] = 0x12;
	v6[15] = 0x34;
	assert_int_equal(dm_sockaddr_make(AF_INET, v4, 4, 848, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(dm_sockaddr_split((struct sockaddr *)&ss, ip, &port), 4);
	assert_memory_equal(ip, v4, 4);
	assert_int_equal(port, 848);
	assert_int_equal(dm_sockaddr_make(AF_INET, v6, 16, 848, &ss), 0);
	assert_int_equal(dm_sockaddr_make(AF_INET6, v4, 4, 5004, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr));
	assert_memory_equal(&s6->sin6_addr.s6_addr[12], v4, 4);
	assert_int_equal(dm_sockaddr_split((struct sockaddr *)&ss, ip, &port), 4);
	assert_memory_equal(ip, v4, 4);
	assert_int_equal(port, 5004);
	assert_int_equal(dm_sockaddr_make(AF_INET6, v6, 16, 5004, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(dm_sockaddr_split((struct sockaddr *)&ss, ip, &port), 16);
	assert_memory_equal(ip, v6, 16);
	assert_int_equal(dm_sockaddr_make(AF_INET6, v6, 8, 1, &ss), 0);
	ss.ss_family = AF_UNIX;
	assert_int_equal(dm_sockaddr_split((struct sockaddr *)&ss, ip, &port), 0);
	dm_addr_format(v6, 16, 5004, b, sizeof b);
	assert_string_equal(b, "[ff0e::1234]:5004");
	dm_addr_format(v4, 4, 848, b, sizeof b);
	assert_string_equal(b, "192.0.2.7:848");
	assert_true(dm_addr_is_multicast(v6, 16));
	assert_false(dm_addr_is_multicast(v4, 4));
	v6[0] = 0xfe;
	assert_false(dm_addr_is_multicast(v6, 16));
}

enum { OPT_LONG = DM_OPT_LONG_ONLY };
static const struct dm_opt opts[] = {
	{ "config", 'c', "FILE", "the configuration" },
	{ "listen", OPT_LONG, "ADDR:PORT", "where to listen" },
	{ "flag", 'f', NULL, "a flag" },
	{ NULL, 0, NULL, NULL },
};
static const struct dm_prog prog = {
	.name = "prog",
	.version = "9.9",
	.synopsis = "-c FILE",
	.about = "A program.",
	.footer = "Signals: none.",
	.opts = opts,
};

struct seen {
	char log[200];
	int refuse;
};

static int on_opt(void *ctx, int key, const char *arg)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof s->log - n, "%s%d=%s", n ? " " : "", key, arg ? arg : "-");
	return key == s->refuse ? -1 : 0;
}

/* Runs dm_opts_parse on the words of ARGS (what it prints stays in the test's log). */
static int parse(const char *args, struct seen *s, int *verbosity)
{
	char buf[200], *argv[16];
	int argc = 0;

	snprintf(buf, sizeof buf, "%s", args);
	argv[argc++] = (char *)"prog";
	for (char *w = strtok(buf, " "); w && argc < 15; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	return dm_opts_parse(&prog, argc, argv, on_opt, s, verbosity);
}

static void test_opts_parse_takes_table_options_refuses_usage_errors(void **state)
{
	struct seen s = { "", 0 };
	int v = 0;
	char want[100];

	(void)state;
	assert_int_equal(parse("-c a.conf --listen 1.2.3.4:5 -vv -f --verbose", &s, &v), 0);
	snprintf(want, sizeof want, "%d=a.conf %d=1.2.3.4:5 %d=-", 'c', OPT_LONG, 'f');
	assert_string_equal(s.log, want);
	assert_int_equal(v, 3);

	static const char *const usage_errors[] = {
		"-x", "--nope", "-c", "--listen", "stray", "-c a.conf stray", "-l 1.2.3.4:5",
	};
	for (size_t i = 0; i < sizeof usage_errors / sizeof usage_errors[0]; i++) {
		s.log[0] = '\0';
		if (parse(usage_errors[i], &s, &v) != 2)
			fail_msg("\"%s\" is not a usage error", usage_errors[i]);
	}
	s.log[0] = '\0';
	s.refuse = 'c';
	assert_int_equal(parse("-c bad", &s, &v), 2);
	s.refuse = 0;
	assert_int_equal(parse("--help", &s, &v), 1);
	assert_int_equal(parse("-V", &s, &v), 1);
}

static void test_opts_usage_prints_help_from_table(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	dm_opts_usage(&prog, f);
	fclose(f);
	assert_string_equal(text, "usage: prog -c FILE\n"
				  "A program.\n"
				  "\n"
				  "  -c, --config FILE         the configuration\n"
				  "      --listen ADDR:PORT    where to listen\n"
				  "  -f, --flag                a flag\n"
				  "  -v, --verbose             more log lines (repeatable)\n"
				  "  -h, --help                this text\n"
				  "  -V, --version             print the version\n"
				  "\n"
				  "Signals: none.\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_takes_ipv4_with_default_or_required_port),  cmocka_unit_test(test_addr_parse_refuses_bad_ports_and_hosts),
		cmocka_unit_test(test_addr_parse_takes_ipv6_refused_by_ipv4_callers),  cmocka_unit_test(test_sockaddr_unmaps_ipv4_on_dual_stack),
		cmocka_unit_test(test_opts_parse_takes_table_options_refuses_usage_errors),
		cmocka_unit_test(test_opts_usage_prints_help_from_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
