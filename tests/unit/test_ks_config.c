/*
 * test_ks_config.c - gdoi-ks configuration: a valid file and its defaults, overrides,
 * and errors that name FILE:LINE and what was expected (keyserver/config.c is compiled
 * into this test: keyserver/ is not a library).
 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdoi/numbers.h"
#include "keyserver/config.c"
#include "keyserver/config_check.c"
#include "keyserver/config_index.c"
#include "keyserver/config_gikev2.c"
#include "keyserver/config_values.c"
#include "keyserver/log.c"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/test_ks_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Loads text; expects failure with "PATH:LINE: " followed by want (substring). */
static void expect_error(const char *text, int line, const char *want)
{
	struct ks_config *c = NULL;
	char err[600], prefix[128];
	write_file(text);
	assert_int_equal(ks_config_load(path, NULL, &c, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
		fail_msg("got '%s', want '%s...%s'", err, prefix, want);
	unlink(path);
}

static const char good[] =
	"[server]\n"
	"listen = 127.0.0.1:8848\n"
	"admin_allow = uid:1000, gid:0\n"
	"flood_mm1 = 50/70\n"
	"flood_junk = 20\n"
	"gikev2_cookie_threshold = 7\n"
	"phase1 = aes128-sha256-ecp256, legacy\n"
	"\n"
	"[group media]\n"
	"id = 0x4d2\n"
	"tek = AES128_CM_SHA1_80\n"
	"tek = SRTP_AEAD_AES_256_GCM\n"
	"destination = 239.1.2.3:5004\n"
	"kek = aes128\n"
	"rekey_multicast = 239.1.2.4:1849\n"
	"\n"
	"[group ipsec]\n"
	"id = 100\n"
	"tek = esp:aes128-cbc-sha1\n"
	"tek = ESP:AES256-CBC-SHA256\n"
	"destination = 239.1.2.6:5004\n"
	"\n"
	"[group ref]\n"
	"id = 99\n"
	"compat = gdoid\n"
	"tek = AES128_CM_HMAC_SHA1_80\n"
	"destination = 239.1.2.5:5004\n"
	"rekey_port = 1849\n"
	"\n"
	"[member alice]\n"
	"id = fqdn:alice.example\n"
	"psk_hex = 00ff10\n"
	"groups = media\n"
	"may_send = yes\n";

static void test_ks_config_loads_every_section_and_override(void **s)
{
	(void)s;
	struct ks_config *c = NULL;
	char err[600] = "";
	write_file(good);
	struct ks_overrides ov = { .state_dir = "/tmp/x", .admin_socket = "/tmp/x.sock" };
	assert_int_equal(ks_config_load(path, &ov, &c, err, sizeof(err)), 0);
	assert_int_equal(c->listen.port, 8848);
	assert_string_equal(c->state_dir, "/tmp/x");
	assert_string_equal(c->admin_socket, "/tmp/x.sock");
	assert_int_equal(c->nadmin_allow, 2);
	assert_false(c->admin_allow[0].is_gid);
	assert_int_equal(c->admin_allow[0].uid, 1000);
	assert_true(c->admin_allow[1].is_gid);
	assert_int_equal(c->admin_allow[1].gid, 0);
	assert_int_equal(c->mm1_per_s, 50);
	assert_int_equal(c->mm1_burst, 70);
	assert_int_equal(c->junk_per_s, 20);
	assert_int_equal(c->junk_burst, 0);	/* the engine's default: 4 x rate */
	assert_int_equal(c->gikev2_cookie_threshold, 7);
	assert_int_equal(c->nsuites, 2);
	assert_int_equal(c->suites[1].enc, GDOI_IKE_ENC_3DES);
	assert_int_equal(c->ngroups, 3);
	const struct ks_group_cfg *esp = ks_config_group_by_ref(c, "ipsec");
	assert_int_equal(esp->nteks, 2);
	assert_int_equal(esp->profiles[0], KS_TEK_ESP_AES128_CBC_SHA1);
	assert_int_equal(esp->profiles[1], KS_TEK_ESP_AES256_CBC_SHA256);
	assert_string_equal(ks_profile_name(esp->profiles[1]), "esp:aes256-cbc-sha256");
	assert_int_equal(ks_esp_suite(esp->profiles[1])->auth_alg, 5);
	assert_null(ks_esp_suite(GDOI_SRTP_AES128_CM_SHA1_80));
	const struct ks_group_cfg *g = ks_config_group_by_ref(c, "media");
	assert_non_null(g);
	assert_ptr_equal(g, ks_config_group_by_ref(c, "1234"));
	assert_int_equal(g->nteks, 2);
	assert_int_equal(g->profiles[1], GDOI_SRTP_AEAD_AES_256_GCM);
	assert_true(g->mcast);
	assert_false(g->unicast);	/* multicast configured, unicast not asked for */
	assert_int_equal(g->gikev2_rekey, KS_GIKEV2_REKEY_MULTICAST);	/* the default with multicast */
	assert_int_equal(esp->gikev2_rekey, KS_GIKEV2_REKEY_INBAND);	/* and without */
	assert_false(g->compat_gdoid);
	const struct ks_group_cfg *ref = ks_config_group_by_ref(c, "ref");
	assert_true(ref->compat_gdoid);
	assert_int_equal(ref->rekey_port, 1849);
	assert_int_equal(ref->kek_alg, GDOI_KEK_ALG_AES);
	assert_int_equal(ref->kek_bits, 128);	/* the compat default: its member has no AES-256 */
	assert_int_equal(g->rekey_margin, 5 + 30 + 5);
	const struct ks_member_cfg *m = ks_config_member_by_id(c, GDOI_ID_FQDN, (const uint8_t *)"ALICE.example", 13);
	assert_non_null(m);
	assert_int_equal(m->psk_len, 3);
	assert_int_equal(m->psk[1], 0xff);
	assert_true(ks_member_in_group(m, 1234));
	assert_false(ks_member_in_group(m, 1235));
	assert_int_equal(c->local_id.type, GDOI_ID_IPV4_ADDR);
	ks_config_free(c);
	/* a bad override */
	ov.listen = "nonsense";
	assert_int_equal(ks_config_load(path, &ov, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--listen"));
	unlink(path);
}

#define GROUP_G "[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n"

/* IPv6 everywhere the file takes an address: listen (default port), TEK destination,
 * multicast rekeys (ASM ff0e:: and SSM ff3e::), interfaces by name, index and address,
 * member addresses of both families in one index. */
static void test_ks_config_takes_ipv6_wherever_an_address_goes(void **s)
{
	(void)s;
	static const uint8_t lo6[16] = { [15] = 1 }, asm6[16] = { 0xff, 0x0e, [14] = 0x12, [15] = 0x34 };
	static const uint8_t ssm6[16] = { 0xff, 0x3e, [15] = 0x42 }, m6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	static const uint8_t m4[4] = { 10, 0, 0, 7 };
	struct ks_config *c = NULL;
	char err[600] = "", b[64];
	write_file("[server]\nlisten = [::1]\n"
		   "[group a]\nid = 5\ntek = NULL_SHA1_32\ndestination = [ff0e::1234]:5004\n"
		   "rekey_multicast = [ff3e::42]:1848\nrekey_interface = lo\n"
		   "[group b]\nid = 6\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n"
		   "rekey_multicast = 239.1.1.2:1848\nrekey_interface = 3\n"
		   "[group c]\nid = 7\ntek = NULL_SHA1_32\ndestination = [ff0e::1234]:5006\n"
		   "rekey_multicast = [ff0e::99]:1848\nrekey_interface = ::1\n"
		   "[member m]\nid = ipv6:2001:db8::7\npsk = k\ngroups = *\naddress = 2001:db8::7, 10.0.0.7\n");
	if (ks_config_load(path, NULL, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->listen.len, 16);
	assert_memory_equal(c->listen.ip, lo6, 16);
	assert_int_equal(c->listen.port, 848);
	assert_string_equal(ks_inet_format(&c->listen, b, sizeof(b)), "[::1]:848");
	/* the key server's identity is its IPv6 address (ID_IPV6_ADDR) */
	assert_int_equal(c->local_id.type, GDOI_ID_IPV6_ADDR);
	assert_int_equal(c->local_id.len, 16);
	assert_memory_equal(c->local_id.data, lo6, 16);
	const struct ks_group_cfg *a = ks_config_group_by_ref(c, "a");
	assert_int_equal(a->dest.len, 16);
	assert_memory_equal(a->dest.ip, asm6, 16);
	assert_int_equal(a->dest.port, 5004);
	assert_int_equal(a->mcast_addr.len, 16);
	assert_memory_equal(a->mcast_addr.ip, ssm6, 16);
	assert_string_equal(a->mcast_if.name, "lo");
	assert_int_equal(a->mcast_if.addr.len, 0);
	const struct ks_group_cfg *g = ks_config_group_by_ref(c, "b");
	assert_int_equal(g->mcast_if.index, 3);
	assert_string_equal(g->mcast_if.name, "");
	g = ks_config_group_by_ref(c, "c");
	assert_int_equal(g->mcast_if.addr.len, 16);
	assert_memory_equal(g->mcast_if.addr.ip, lo6, 16);
	const struct ks_member_cfg *m = ks_config_member(c, "m");
	assert_int_equal(m->naddrs, 2);
	assert_ptr_equal(ks_config_member_by_addr(c, m6, 16), m);
	assert_ptr_equal(ks_config_member_by_addr(c, m4, 4), m);
	assert_null(ks_config_member_by_addr(c, lo6, 16));
	/* 10.0.0.7 is not ::a00:7 */
	uint8_t compat[16] = { [12] = 10, [15] = 7 };
	assert_null(ks_config_member_by_addr(c, compat, 16));
	ks_config_free(c);
	/* --listen [::]:PORT: the dual-stack wildcard, identity by host name */
	struct ks_overrides ov = { .listen = "[::]:1848" };
	write_file(GROUP_G);
	if (ks_config_load(path, &ov, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->listen.len, 16);
	assert_int_equal(c->listen.port, 1848);
	assert_int_equal(c->local_id.type, GDOI_ID_FQDN);
	ks_config_free(c);
	unlink(path);
}

/* The indexes: many members, found by name, identity and address. */
static void test_ks_config_finds_members_by_name_identity_and_address(void **s)
{
	(void)s;
	enum { N = 3000 };
	char *text = malloc(N * 120 + 200), *w = text;
	w += sprintf(w, "[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n");
	for (int i = 0; i < N; i++)
		w += sprintf(w, "[member m%d]\nid = ipv4:10.1.%d.%d\naddress = 10.1.%d.%d, 10.2.%d.%d\npsk = k%d\n"
			     "groups = g\n", i, i / 256, i % 256, i / 256, i % 256, i / 256, i % 256, i);
	write_file(text);
	free(text);
	struct ks_config *c = NULL;
	char err[600] = "";
	assert_int_equal(ks_config_load(path, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c->nmembers, N);
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%d", i);
		const struct ks_member_cfg *m = ks_config_member(c, name);
		assert_non_null(m);
		assert_string_equal(m->name, name);
		uint8_t ip[4] = { 10, 1, (uint8_t)(i / 256), (uint8_t)(i % 256) };
		assert_ptr_equal(ks_config_member_by_id(c, GDOI_ID_IPV4_ADDR, ip, 4), m);
		assert_ptr_equal(ks_config_member_by_addr(c, ip, 4), m);
		ip[1] = 2;
		assert_ptr_equal(ks_config_member_by_addr(c, ip, 4), m);
		assert_int_equal(m->naddrs, 2);
	}
	uint8_t none[4] = { 10, 3, 0, 0 };
	assert_null(ks_config_member_by_addr(c, none, 4));
	assert_null(ks_config_member(c, "nobody"));
	assert_null(ks_config_member_by_id(c, GDOI_ID_IPV4_ADDR, none, 4));
	ks_config_free(c);
	unlink(path);
}

static void test_ks_config_refuses_bad_lines_naming_line(void **s)
{
	(void)s;
	expect_error("listen = 1.2.3.4\n", 1, "outside a section");
	expect_error("[server]\nlisten = 1.2.3:848\n", 2, "listen: expected ADDR[:PORT] or [IPv6ADDR][:PORT]");
	expect_error("[server]\nfoo = 1\n", 2, "unknown key 'foo' in [server]");
	expect_error("[server]\nworkers = 0\n", 2, "workers: expected 1..64 or auto, got '0'");
	expect_error("[server]\nworkers = 65\n", 2, "workers: expected 1..64 or auto, got '65'");
	expect_error("[server]\nworkers = many\n", 2, "workers: expected 1..64 or auto, got 'many'");
	expect_error("[server]\nflood_mm1 = 0\n", 2, "flood_mm1: expected RATE[/BURST]");
	expect_error("[server]\ngikev2_cookie_threshold = 0\n", 2,
		     "gikev2_cookie_threshold: expected 1..1000000 half-open IKE SAs or never, got '0'");
	expect_error("[server]\ngikev2_cookie_threshold = lots\n", 2,
		     "gikev2_cookie_threshold: expected 1..1000000 half-open IKE SAs or never, got 'lots'");
	expect_error("[server]\ngikev2_max_sas = 0\n", 2, "gikev2_max_sas: expected 1..10000000 IKE SAs, got '0'");
	expect_error("[server]\ngikev2_sa_lifetime = 59\n", 2,
		     "gikev2_sa_lifetime: expected seconds in 60..604800, got '59'");
	expect_error("[server]\nflood_junk = 10/x\n", 2, "flood_junk: expected RATE[/BURST]");
	expect_error("[server]\nadmin_allow = 1000\n", 2, "admin_allow: expected uid:USER or gid:GROUP, got '1000'");
	expect_error("[server]\nadmin_allow = uid:0, gid:no-such-group-x\n", 2, "admin_allow: no group 'no-such-group-x'");
	expect_error("[server]\nadmin_allow = uid:no-such-user-x\n", 2, "admin_allow: no user 'no-such-user-x'");
	expect_error("[server]\nphase1 = aes512-sha1-modp1024\n", 2, "Phase 1 suite 'aes512-sha1-modp1024'");
	expect_error("[srv]\nx = 1\n", 1, "unknown section [srv]");
	expect_error("[group g]\nid = 5\ntek = AES999\n", 3, "tek: expected an SRTP profile");
	expect_error("[group g]\nid = 0\n", 2, "id: expected a group id");
	expect_error("[group g]\nid = 5\ndestination = 239.1.1.1\n", 3, "destination: expected ADDR:PORT or [IPv6ADDR]:PORT");
	expect_error("[group g]\nid = 5\nrekey_multicast = 10.0.0.1:5\n", 3, "rekey_multicast: expected a multicast");
	expect_error("[group g]\nid = 5\nkek = rc4\n", 3, "kek: expected none, aes128");
	expect_error("[group g]\nid = 5\npush_retransmits = 11\n", 3, "push_retransmits: expected a count in 0..10");
	expect_error("[group g]\nid = 5\npush_retransmit_interval = 5\n", 3,
		     "push_retransmit_interval: expected milliseconds in 10..60000");
	expect_error("[group g]\nid = 5\npush_ack = maybe\n", 3, "push_ack: expected yes or no");
	expect_error("[group g]\nid = 5\npush_ack_misses = 0\n", 3, "push_ack_misses: expected a count in 1..100");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_80\ndestination = 239.1.1.1:5\n"
		     "rekey_multicast = 239.2.2.2:5\npush_ack = yes\n", 1,
		     "push_ack = yes needs a KEK and rekey_unicast = yes");
	expect_error("[group g]\nid = 5\nreplay_window = 10\n", 3, "replay_window: expected packets in 64..32767");
	expect_error("[group g]\nid = 5\ngikev2_rekey = unicast\n", 3,
		     "gikev2_rekey: expected multicast, inband or both");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_80\ndestination = 239.1.1.1:5\n"
		     "protocols = g-ikev2\ngikev2_rekey = both\n", 6,
		     "gikev2_rekey = both needs rekey_multicast and a KEK");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_80\ndestination = 239.1.1.1:5\n"
		     "rekey_multicast = 239.2.2.2:5\nkek = none\ngikev2_rekey = multicast\n", 7,
		     "gikev2_rekey = multicast needs rekey_multicast and a KEK");
	expect_error("[group g]\nid = 5\nsrtcp = maybe\n", 3, "srtcp: expected yes or no");
	/* cross checks name the line of the section or key */
	expect_error("\n[group g]\nid = 5\ndestination = 239.1.1.1:5\n", 2, "expected at least one tek");
	expect_error("[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\natd = 9\ndtd = 3\n", 1,
		     "dtd (3) must be greater than atd (9)");
	expect_error("[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n"
		     "[group h]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n", 5, "is also group 'g'");
	expect_error("[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = 239.1.1.1:5\n"
		     "[member m]\nid = fqdn:m\npsk = k\ngroups = g, nope\n", 8, "groups: 'nope' is not a group");
	expect_error("[member m]\nid = fqdn:m\ngroups = *\n", 1, "expected psk");
	expect_error("[member m]\nid = bogus\n", 2, "id: expected TYPE:VALUE");
	expect_error("[member m]\nid = fqdn:m\npsk_hex = abc\n", 3, "psk_hex: expected an even number of hex digits");
	expect_error("[member m]\nid = fqdn:m\npsk = k\ngroups = *\n[member n]\nid = fqdn:m\npsk = k\ngroups = *\n", 5,
		     "same id as member 'm'");
	expect_error("[group g]\nid = 5\n[group g]\nid = 6\n", 3, "group 'g' defined twice");
	expect_error("[member m]\nid = fqdn:m\npsk = k\ngroups = *\n[member m]\nid = fqdn:n\npsk = k\ngroups = *\n", 5,
		     "member 'm' defined twice (first at line 1)");
	expect_error("[member m]\nid = fqdn:m\npsk = k\ngroups = *\naddress = 10.0.0.300\n", 5,
		     "address: expected an IPv4 or IPv6 address (no port), got '10.0.0.300'");
	expect_error("[member m]\nid = fqdn:m\npsk = k\ngroups = *\naddress = 10.0.0.1\n"
		     "[member n]\nid = fqdn:n\npsk = k\ngroups = *\naddress = 10.0.0.2, 10.0.0.1\n", 6,
		     "[member n]: an address of member 'm' too");
	expect_error("[member m]\nid = fqdn:M\npsk = k\ngroups = *\n[member n]\nid = fqdn:m\npsk = k\ngroups = *\n", 5,
		     "same id as member 'm'");
	expect_error("[group g]\nthis line is not ini\n", 2, "expected [section], KEY = VALUE");
	/* compat = gdoid: the reference member's limits, at the line that breaks them */
	expect_error("[group g]\nid = 5\ncompat = gdoid\ntek = AES128_CM_SHA1_80\ntek = AEAD_AES_128_GCM\n"
		     "destination = 239.1.1.1:5\nrekey_port = 1849\n", 5,
		     "tek: with compat = gdoid (line 3) only AES128_CM_SHA1_80");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_32\ndestination = 239.1.1.1:5\nrekey_port = 9\n"
		     "compat = gdoid\n", 3, "only AES128_CM_SHA1_80 (the reference's Protocol-ID 128 TEK) or esp:SUITE, got "
		     "AES128_CM_SHA1_32");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_80\ndestination = 239.1.1.1:5\ncompat = gdoid\n", 5,
		     "unicast rekeys need rekey_port");
	expect_error("[group g]\nid = 5\ntek = AES128_CM_SHA1_80\ndestination = 239.1.1.1:5\nkek = aes256\n"
		     "rekey_port = 9\ncompat = gdoid\n", 7, "kek = aes128 or 3des only");
	expect_error("[group g]\nid = 5\nrekey_port = 0\n", 3, "rekey_port: expected a UDP port");
	/* IPv6 */
	expect_error("[group g]\nid = 5\nrekey_multicast = [fe80::1]:848\n", 3,
		     "rekey_multicast: expected a multicast ADDR:PORT (224.0.0.0/4) or [IPv6ADDR]:PORT (ff00::/8)");
	expect_error("[group g]\nid = 5\ndestination = [ff0e::1234]\n", 3, "destination: expected ADDR:PORT");
	expect_error("[group g]\nid = 5\nrekey_interface = no/such\n", 3,
		     "rekey_interface: expected the interface's address, name or index");
	expect_error("[group g]\nid = 5\nrekey_interface = averyveryverylongname0\n", 3,
		     "rekey_interface: expected");
	expect_error("[group g]\nid = 5\ntek = NULL_SHA1_32\ndestination = [ff0e::1]:5\n"
		     "rekey_multicast = [ff0e::2]:848\nrekey_interface = 127.0.0.1\n", 1,
		     "rekey_interface is an IPv4 address but rekey_multicast is IPv6");
	expect_error("[member m]\nid = fqdn:m\npsk = k\ngroups = *\naddress = [::1]:5\n", 5,
		     "address: expected an IPv4 or IPv6 address (no port), got '[::1]:5'");
	/* ESP TEKs */
	expect_error("[group g]\nid = 5\ntek = esp:aes128-cbc-md5\n", 3, "or esp:SUITE (esp:aes128-cbc-sha1");
	expect_error("[group g]\nid = 5\ntek = esp:aes128-cbc-sha1\ntek = AES128_CM_SHA1_80\n", 4,
		     "all SRTP or all ESP (line 3 is esp:aes128-cbc-sha1)");
}

/* A key given twice is an error naming both lines (tek and address may repeat), and so is
 * a section given twice. */
static void test_ks_config_refuses_key_or_section_given_twice(void **s)
{
	(void)s;
	expect_error("[server]\nlisten = 127.0.0.1:1\n\nlisten = 127.0.0.1:2\n" GROUP_G, 4,
		     "listen given twice (first at line 2)");
	expect_error(GROUP_G "id = 6\n", 5, "id given twice (first at line 2)");
	expect_error(GROUP_G "kek = aes128\nkek = none\n", 6, "kek given twice (first at line 5)");
	expect_error(GROUP_G "[member m]\nid = fqdn:m\npsk = a\ngroups = g\npsk_hex = 00\n", 9,
		     "psk_hex given twice (first at line 7, as psk)");
	expect_error(GROUP_G "[member m]\nid = fqdn:m\npsk = a\ngroups = g\ngroups = *\n", 9,
		     "groups given twice (first at line 8)");
	expect_error("[server]\nlisten = 127.0.0.1\n" GROUP_G "[server]\nstate = /x\n", 7,
		     "[server] given twice (first at line 1)");
	/* the same key in two sections is fine, tek and address repeat */
	struct ks_config *c = NULL;
	char err[600] = "";
	write_file(GROUP_G "tek = AES128_CM_SHA1_80\n[group h]\nid = 6\ntek = NULL_SHA1_32\n"
		   "destination = 239.1.1.1:6\n[member m]\nid = fqdn:m\npsk = a\ngroups = g\n"
		   "address = 10.0.0.1\naddress = 10.0.0.2\n");
	if (ks_config_load(path, NULL, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->groups[0].nteks, 2);
	assert_int_equal(c->members[0].naddrs, 2);
	ks_config_free(c);
	unlink(path);
}

/* text, which must load: its configuration (the file is gone again). */
static struct ks_config *load_good(const char *text)
{
	struct ks_config *c = NULL;
	char err[600] = "";
	write_file(text);
	if (ks_config_load(path, NULL, &c, err, sizeof(err)))
		fail_msg("%s", err);
	unlink(path);
	return c;
}

/* workers: 1 by default, a count, or auto = the online CPUs. */
static void test_ks_config_workers(void **s)
{
	(void)s;
	static const char *const text[] = { GROUP_G, "[server]\nworkers = 3\n" GROUP_G,
					    "[server]\nworkers = auto\n" GROUP_G };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want[] = { 1, 3, ncpu > 64 ? 64 : (unsigned)ncpu };
	for (size_t i = 0; i < 3; i++) {
		struct ks_config *c = load_good(text[i]);
		assert_int_equal(c->workers, want[i]);
		ks_config_free(c);
	}
}

/* The G-IKEv2 [server] keys: 0 (the engine's defaults) when not set; a cookie
 * threshold, never (no cookies whatever the load), a kept-SA cap and lifetime. */
static void test_ks_config_gikev2_server_keys(void **s)
{
	(void)s;
	static const char *const text[] = {
		GROUP_G,
		"[server]\ngikev2_cookie_threshold = 250\ngikev2_max_sas = 20000\ngikev2_sa_lifetime = 3600\n" GROUP_G,
		"[server]\ngikev2_cookie_threshold = never\ngikev2_max_sas = 1\ngikev2_sa_lifetime = 60\n" GROUP_G };
	const uint32_t cookie[] = { 0, 250, UINT32_MAX }, kept[] = { 0, 20000, 1 }, life[] = { 0, 3600, 60 };
	for (size_t i = 0; i < 3; i++) {
		struct ks_config *c = load_good(text[i]);
		assert_int_equal(c->gikev2_cookie_threshold, cookie[i]);
		assert_int_equal(c->gikev2_max_sas, kept[i]);
		assert_int_equal(c->gikev2_sa_lifetime, life[i]);
		ks_config_free(c);
	}
}

/* Errors found after the file was read still name a line. */
static void test_ks_config_names_line_of_whole_file_errors(void **s)
{
	(void)s;
	expect_error("", 1, "expected at least one [group NAME] section");
	expect_error("# nothing\n[server]\nlisten = 127.0.0.1\n", 1, "expected at least one [group NAME] section");
	expect_error(GROUP_G "rekey_key = /nonexistent/rekey.pem\n", 5,
		     "rekey_key: cannot open /nonexistent/rekey.pem: No such file or directory");
	expect_error("[server]\ncertificate = /nonexistent/c.pem\n" GROUP_G, 2,
		     "certificate: cannot open /nonexistent/c.pem");
	expect_error(GROUP_G "rekey_key = /tmp\n", 5, "rekey_key: /tmp is not a regular file");
	expect_error(GROUP_G "[member m]\nid = fqdn:m\ngroups = g\nauth = cert\n", 8,
		     "[member m]: auth = cert needs certificate, private_key and ca in [server]");
}

/* A file holding pre-shared keys must be closed to group and others. */
static void test_ks_config_refuses_psk_file_open_to_others(void **s)
{
	(void)s;
	static const mode_t modes[] = { 0640, 0604, 0620, 0644 };
	char want[400], err[600] = "";
	struct ks_config *c = NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(GROUP_G "[member m]\nid = fqdn:m\npsk_hex = 0011\ngroups = g\n");
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(ks_config_load(path, NULL, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:7: psk_hex: %s holds pre-shared keys but its mode is %04o "
			 "(group or others have access): expected 0600 or stricter", path, path, (unsigned)modes[i]);
		assert_string_equal(err, want);
		unlink(path);
	}
	/* without a pre-shared key (auth = cert only) the mode is the operator's choice */
	write_file(GROUP_G);
	assert_int_equal(chmod(path, 0644), 0);
	if (ks_config_load(path, NULL, &c, err, sizeof(err)))
		fail_msg("%s", err);
	ks_config_free(c);
	unlink(path);
}

int main(void)
{
	ks_log_set_level(-1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ks_config_loads_every_section_and_override),
		cmocka_unit_test(test_ks_config_refuses_bad_lines_naming_line),
		cmocka_unit_test(test_ks_config_finds_members_by_name_identity_and_address),
		cmocka_unit_test(test_ks_config_takes_ipv6_wherever_an_address_goes),
		cmocka_unit_test(test_ks_config_refuses_key_or_section_given_twice),
		cmocka_unit_test(test_ks_config_names_line_of_whole_file_errors),
		cmocka_unit_test(test_ks_config_workers),
		cmocka_unit_test(test_ks_config_gikev2_server_keys),
		cmocka_unit_test(test_ks_config_refuses_psk_file_open_to_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
