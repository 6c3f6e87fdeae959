/*
 * test_sc_config.c - gdoi-sidecar configuration: a valid file, and errors that
 * name FILE:LINE and what was expected, also for problems found after the whole
 * file was read; keys given twice; a file holding a PSK open to others; a CA
 * without keyserver_identity (or its explicit opt-out, any).
 * (sidecar/config.c is compiled into this test: sidecar/ is not a library.)
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sidecar/config.c"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/test_sc_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Loads text; expects failure with "PATH:LINE: " followed by want (substring). */
static void expect_error(const char *text, int line, const char *want)
{
	struct sc_config c;
	char err[600], prefix[128];
	write_file(text);
	assert_int_equal(sc_config_load(path, &c, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
		fail_msg("got '%s', want '%s...%s'", err, prefix, want);
	unlink(path);
}

#define SIDECAR "[sidecar]\nkeyserver = 127.0.0.1\nidentity = ipv4:127.0.0.1\npsk = k\n"
#define GROUP "[group audio]\nid = 4711\n"

static void test_sc_config_loads_sidecar_and_groups(void **s)
{
	(void)s;
	struct sc_config c;
	char err[600] = "";
	write_file("[sidecar]\nkeyserver = 127.0.0.1:8848, 127.0.0.2\nkeyserver = 127.0.0.3\n"
		   "identity = fqdn:gm.example\npsk = secret\nretry_min = 100\n\n"
		   GROUP "send = yes\nssrcs = 2\nrekey = 239.1.2.4:1849\nallow = uid:0\nallow = gid:0, uid:1\n"
		   "[group video]\nid = 4712\n");
	if (sc_config_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.nks, 3);
	assert_int_equal(c.ks[0].addr.port, 8848);
	assert_int_equal(c.ks[1].addr.port, 848);
	assert_false(c.local_set);	/* [::]:0 dual-stack */
	assert_int_equal(c.psk_len, 6);
	assert_memory_equal(c.psk, "secret", 6);
	assert_int_equal(c.retry_min_ms, 100);
	assert_int_equal(c.ngroups, 2);
	assert_int_equal(c.groups[0].id, 4711);
	assert_true(c.groups[0].send);
	assert_int_equal(c.groups[0].nallow, 3);	/* allow adds to the list */
	assert_true(c.groups[0].rekey_mcast);
	assert_int_equal(c.groups[1].id, 4712);
	sc_config_free(&c);
	unlink(path);
}

/* Every error names the line. */
static void test_sc_config_refuses_bad_lines_naming_line(void **s)
{
	(void)s;
	expect_error("[sidecar]\nkeyserver = 1.2.3\n", 2, "keyserver: expected ADDR[:PORT], [IPV6-ADDR][:PORT] or HOST-NAME[:PORT], got \"1.2.3\"");
	expect_error(SIDECAR "bogus = 1\n", 5, "unknown key \"bogus\" in [sidecar]");
	expect_error(SIDECAR GROUP "ssrcs = 99\n", 7, "ssrcs: expected 1..16");
	expect_error(SIDECAR "[grup x]\nid = 1\n", 5, "unknown section [grup x]");
	expect_error(SIDECAR GROUP "allow = uid:1, pid:2\n", 7, "allow: \"pid:2\" is neither uid:USER nor gid:GROUP");
	expect_error(SIDECAR "this is not ini\n", 5, "expected [section], KEY = VALUE");
	/* found after the whole file was read */
	expect_error(SIDECAR "psk_file = /dev/null\n" GROUP, 5, "psk_file");
	expect_error("[sidecar]\nkeyserver = 127.0.0.1\nidentity = ipv4:127.0.0.1\n" GROUP, 1,
		     "expected psk, psk_file or certificate");
	expect_error(SIDECAR "certificate = /c.pem\n" GROUP, 5, "certificate: expected private_key and ca too");
	expect_error("[sidecar]\nkeyserver = 127.0.0.1\npsk = k\n" GROUP, 1, "expected identity = TYPE:VALUE");
	expect_error(SIDECAR "retry_min = 5000\nretry_max = 1000\n" GROUP, 5,
		     "retry_min (5000) must not exceed retry_max (1000)");
	expect_error(SIDECAR, 1, "expected at least one [group NAME] section");
	expect_error(SIDECAR "\n[group audio]\nsend = yes\n", 6, "[group audio]: expected id = GROUP-ID");
	expect_error(SIDECAR GROUP "[group video]\nid = 4711\n", 8,
		     "[group video]: id 4711 is also group audio (line 6)");
}

static void test_sc_config_refuses_key_or_section_given_twice(void **s)
{
	(void)s;
	expect_error(SIDECAR "identity = ipv4:127.0.0.2\n" GROUP, 5, "identity given twice (first at line 3)");
	expect_error(SIDECAR "psk = other\n" GROUP, 5, "psk given twice (first at line 4)");
	expect_error(SIDECAR "psk_file = /nonexistent\n" GROUP, 5, "psk_file given twice (first at line 4, as psk)");
	expect_error(SIDECAR GROUP "send = yes\nsend = no\n", 8, "send given twice (first at line 7)");
	expect_error(SIDECAR GROUP "[group audio]\nid = 4712\n", 7, "[group audio] given twice (first at line 5)");
	expect_error(SIDECAR GROUP "[sidecar]\nretry_min = 5\n", 7, "[sidecar] given twice (first at line 1)");
}

/* IPv6 key servers (mixed with IPv4 on the dual-stack default), local, rekey groups and
 * their interface by address, name or index; families that cannot meet are refused. */
static void test_sc_config_takes_ipv6_and_refuses_mixed_families(void **s)
{
	(void)s;
	struct sc_config c;
	char err[600] = "";
	static const uint8_t ff3e[16] = { 0xff, 0x3e, [14] = 0x12, [15] = 0x34 };
	write_file("[sidecar]\nkeyserver = [::1]:8848, 127.0.0.1, [2001:db8::7]\n"
		   "identity = ipv6:2001:db8::1\npsk = k\n"
		   GROUP "rekey = [ff3e::1234]:1849\nrekey_interface = lo\n"
		   "[group v4]\nid = 2\nrekey = 239.1.2.3:1849\nrekey_interface = 3\n"
		   "[group v6]\nid = 3\nrekey = [ff0e::1]:1850\nrekey_interface = ::1\n");
	if (sc_config_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.nks, 3);
	assert_int_equal(c.ks[0].addr.family, AF_INET6);
	assert_int_equal(c.ks[0].addr.port, 8848);
	assert_int_equal(c.ks[1].addr.family, AF_INET);
	assert_int_equal(c.ks[2].addr.port, 848);
	assert_int_equal(c.id_type, GDOI_ID_IPV6_ADDR);
	assert_int_equal(c.id_len, 16);
	assert_true(c.groups[0].rekey_mcast);
	assert_int_equal(c.groups[0].rekey.family, AF_INET6);
	assert_memory_equal(c.groups[0].rekey.ip, ff3e, 16);
	assert_int_equal(c.groups[0].rekey.port, 1849);
	assert_string_equal(c.groups[0].rekey_if.name, "lo");
	assert_int_equal(c.groups[1].rekey_if.index, 3);
	assert_true(c.groups[2].rekey_if.by_addr);
	assert_int_equal(c.groups[2].rekey_if.addr.family, AF_INET6);
	sc_config_free(&c);
	unlink(path);

	expect_error("[sidecar]\nkeyserver = [::1\n", 2, "keyserver: expected ADDR[:PORT], [IPV6-ADDR][:PORT]");
	expect_error(SIDECAR GROUP "rekey = [2001:db8::1]:1849\n", 7, "rekey: expected MULTICAST-ADDR:PORT");
	expect_error(SIDECAR GROUP "rekey_interface = eth0:1\n", 7,
		     "rekey_interface: expected the interface's address, name or index");
	expect_error(SIDECAR GROUP "rekey = [ff0e::1]:1849\nrekey_interface = 127.0.0.1\n", 8,
		     "rekey_interface: an address of the other family than rekey: give an IPv6 address");
	/* an IPv4 socket cannot reach an IPv6 key server, nor [::1] an IPv4 one */
	expect_error("[sidecar]\nkeyserver = [::1]\nlocal = 0.0.0.0:0\nidentity = ipv4:127.0.0.1\npsk = k\n"
		     GROUP, 2, "keyserver: an IPv6 key server, but local (line 3) is IPv4");
	expect_error(SIDECAR "local = [::1]:0\n" GROUP, 2, "keyserver: an IPv4 key server, but local (line 5) "
		     "is an IPv6 address");
	write_file("[sidecar]\nkeyserver = 127.0.0.1, [::1]\nlocal = [::]:0\nidentity = ipv4:127.0.0.1\n"
		   "psk = k\n" GROUP);
	assert_int_equal(sc_config_load(path, &c, err, sizeof(err)), 0);	/* dual-stack */
	assert_true(c.local_set);
	sc_config_free(&c);
	unlink(path);
}

/* Key servers by host name: the name and port kept for resolution; what is no name refused. */
static void test_sc_config_keeps_key_server_host_names_refuses_bad_ones(void **s)
{
	(void)s;
	struct sc_config c;
	char err[600] = "";
	write_file("[sidecar]\nkeyserver = ks1.example:8848, localhost, 127.0.0.1\n"
		   "identity = ipv4:127.0.0.1\npsk = k\nlocal = 0.0.0.0:0\n" GROUP);
	if (sc_config_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.nks, 3);
	assert_string_equal(c.ks[0].host, "ks1.example");
	assert_int_equal(c.ks[0].addr.port, 8848);
	assert_string_equal(c.ks[1].host, "localhost");
	assert_int_equal(c.ks[1].addr.port, 848);
	assert_string_equal(c.ks[2].host, "");	/* a literal */
	sc_config_free(&c);
	unlink(path);
	const char *bad_names[] = { "-ks.example", "ks..example", "ks_1.example", "ks.example:99999",
				    "ks.example:", "[ks.example]:848", "10.0.0.300" };
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		char text[200];
		snprintf(text, sizeof text, "[sidecar]\nkeyserver = %s\n", bad_names[i]);
		expect_error(text, 2, "keyserver: expected ADDR[:PORT], [IPV6-ADDR][:PORT] or HOST-NAME[:PORT]");
	}
}

/* A file holding a pre-shared key must be closed to group and others. */
static void test_sc_config_refuses_psk_file_open_to_others(void **s)
{
	(void)s;
	static const mode_t modes[] = { 0640, 0604, 0620, 0644 };
	char want[400], err[600] = "";
	struct sc_config c;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(SIDECAR GROUP);
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(sc_config_load(path, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:4: psk: %s holds a pre-shared key but its mode is %04o "
			 "(group or others have access): expected 0600 or stricter", path, path, (unsigned)modes[i]);
		assert_string_equal(err, want);
		unlink(path);
	}
}

/* With a CA the key server is authenticated by certificate: keyserver_identity is
 * required (any certificate of the CA, a member's too, would pass for the key
 * server's), or the explicit, dangerous keyserver_identity = any. */
static void test_sc_config_cert_requires_keyserver_identity(void **s)
{
	(void)s;
	struct sc_config c;
	char err[600] = "";
#define CERTS "certificate = /c.pem\nprivate_key = /k.pem\nca = /ca.pem\n"
	expect_error("[sidecar]\nkeyserver = 127.0.0.1\nidentity = fqdn:gm.example\n" CERTS GROUP, 6,
		     "ca: the key server is authenticated by certificate but [sidecar] sets no keyserver_identity: "
		     "any certificate of this CA (a member's too) would pass for the key server's; expected "
		     "keyserver_identity = TYPE:VALUE (the key server's ID, e.g. fqdn:ks.example), or "
		     "keyserver_identity = any to accept any (dangerous)");
	/* a PSK as well does not change it: the key server may still sign */
	expect_error(SIDECAR "ca = /ca.pem\n" GROUP, 5, "ca: the key server is authenticated by certificate");
	write_file("[sidecar]\nkeyserver = 127.0.0.1\nidentity = fqdn:gm.example\n" CERTS
		   "keyserver_identity = any\n" GROUP);
	if (sc_config_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c.ks_id_any);
	assert_false(c.ks_id_set);
	sc_config_free(&c);
	unlink(path);
	write_file("[sidecar]\nkeyserver = 127.0.0.1\nidentity = fqdn:gm.example\n" CERTS
		   "keyserver_identity = fqdn:ks.example\n" GROUP);
	if (sc_config_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c.ks_id_set);
	assert_false(c.ks_id_any);
	assert_int_equal(c.ks_id_len, 10);
	sc_config_free(&c);
	unlink(path);
	/* a PSK alone needs no pin */
	write_file(SIDECAR GROUP);
	assert_int_equal(sc_config_load(path, &c, err, sizeof(err)), 0);
	sc_config_free(&c);
	unlink(path);
#undef CERTS
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sc_config_loads_sidecar_and_groups),
		cmocka_unit_test(test_sc_config_refuses_bad_lines_naming_line),
		cmocka_unit_test(test_sc_config_refuses_key_or_section_given_twice),
		cmocka_unit_test(test_sc_config_refuses_psk_file_open_to_others),
		cmocka_unit_test(test_sc_config_takes_ipv6_and_refuses_mixed_families),
		cmocka_unit_test(test_sc_config_keeps_key_server_host_names_refuses_bad_ones),
		cmocka_unit_test(test_sc_config_cert_requires_keyserver_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
