/*
 * config.h - gdoi-ks configuration (INI, parsed with inih, validated here).
 * docs/keyserver.md is the reference for every key. Errors are reported as
 * "FILE:LINE: what was expected" and make ks_config_load fail.
 */
#ifndef KS_CONFIG_H
#define KS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/addr.h"
#include "gdoi/crypto.h"
#include "gdoi/phase1.h"
#include "gdoi/policy.h"

#define KS_MAX_SUITES 16

/* ESP TEK suites, stored where SRTP profiles are (IANA SRTP profiles are < 0x100). */
#define KS_TEK_ESP_AES128_CBC_SHA1	0xe001
#define KS_TEK_ESP_AES256_CBC_SHA256	0xe002
#define KS_TEK_ESP_3DES_CBC_SHA1	0xe003

struct ks_esp_suite {
	const char *name;		/* after "esp:" */
	uint16_t code;			/* KS_TEK_ESP_* */
	uint8_t transform_id;		/* ESP transform (RFC 2407 §4.4.4) */
	uint16_t key_bits;		/* Key Length attribute, 0 = none (3DES) */
	uint16_t auth_alg;		/* Authentication Algorithm (RFC 2407 §4.5, RFC 4868) */
};

/* The ESP suite of a TEK code, NULL for an SRTP profile. */
const struct ks_esp_suite *ks_esp_suite(uint16_t profile);
#define KS_MAX_ID 256
#define KS_MAX_MEMBER_GROUPS 32
#define KS_MAX_MEMBER_ADDRS 8

/* A transport address: len 4 IPv4, 16 IPv6 (as in struct gdoi_addr). */
struct ks_inet {
	uint8_t len;
	uint8_t ip[16];
	uint16_t port;
};

/* rekey_interface: the interface multicast pushes leave by, given by address, name
 * or index (resolved when the sender opens, so it may come up after the daemon). */
struct ks_mcast_if {
	struct ks_inet addr;		/* len 0 = not by address */
	char name[16];			/* IF_NAMESIZE; "" = not by name */
	unsigned index;			/* 0 = not by index */
};

/* A Phase 1 identity as it travels in the ID payload. */
struct ks_ident {
	uint8_t type;		/* GDOI_ID_* */
	size_t len;
	uint8_t data[KS_MAX_ID];
};

struct ks_group_cfg {
	int line;			/* of the [group ...] header */
	char name[64];
	uint32_t id;
	/* the GDOI reference implementation's forms (docs/protocol.md): the byte-swapped
	 * id too, 6-octet SA KEK trailer, Protocol-ID 128 SRTP TEKs, raw-hash RSA pushes */
	bool compat_gdoid;
	int compat_line;
	/* protocols = gdoi, g-ikev2 (docs/keyserver.md): KS_PROTO_* bits; 0 = gdoi */
	unsigned protocols;
	/* gikev2_rekey = multicast | inband | both: KS_GIKEV2_REKEY_* bits (config
	 * checks resolve 0: multicast with rekey_multicast, else inband) */
	unsigned gikev2_rekey;
	int gikev2_rekey_line;
	/* TEKs (SRTP, docs/srtp-tek.md) */
	size_t nteks;
	uint16_t profiles[GDOI_MAX_TEKS];
	int tek_lines[GDOI_MAX_TEKS];
	struct ks_inet dest;		/* TEK DST selector: the media group */
	uint32_t tek_lifetime;		/* seconds */
	uint32_t rekey_margin;		/* push new TEKs this long before expiry */
	uint16_t replay_window;
	bool srtcp, mki, ssrc_assigned, allow_repeat_tx;
	uint16_t atd, dtd;		/* GAP, seconds */
	/* KEK and rekey */
	uint16_t kek_alg;		/* GDOI_KEK_ALG_*, 0 = no KEK (no rekeys) */
	uint16_t kek_bits;
	bool kek_explicit;		/* "kek" given (else compat = gdoid takes aes128) */
	uint32_t kek_lifetime;
	char rekey_key_file[512];	/* empty = generated and kept in the state */
	enum gdoi_md sig_hash;		/* RSA rekey keys; GDOI_MD_NONE = the default */
	bool mcast;
	struct ks_inet mcast_addr;
	uint8_t mcast_ttl;
	struct ks_mcast_if mcast_if;	/* all unset = the kernel's choice */
	bool unicast;
	bool unicast_explicit;
	/* members receive unicast pushes on this port (SA KEK DST 0.0.0.0:port);
	 * 0 = on the address and port they registered from */
	uint16_t rekey_port;
	/* delivery: sends after the first, and the time between (ms) */
	unsigned push_retransmits;
	uint32_t push_retransmit_interval;
	/* RFC 8263: unicast pushes acknowledged; a member missing push_ack_misses
	 * in a row is dropped (it must register again) */
	bool push_ack;
	unsigned push_ack_misses;
};

struct ks_member_cfg {
	int line;
	char name[64];
	struct ks_ident id;
	bool cert;			/* signature authentication */
	int auth_line;			/* of "auth = cert" */
	uint8_t *psk;			/* wiped on free */
	size_t psk_len;
	bool all_groups;
	size_t ngroups;
	uint32_t groups[KS_MAX_MEMBER_GROUPS];
	bool may_send;
	unsigned max_ssrcs;
	bool compat_gdoid;
	/* "address": the member's IPv4 and IPv6 addresses (port 0). With one, its PSK
	 * is selected by the peer's address (no trial decryption of message 5) and the
	 * member is refused from any other address. */
	size_t naddrs;
	struct ks_inet addrs[KS_MAX_MEMBER_ADDRS];
};

struct ks_config_index;

#define KS_MAX_WORKERS 64
#define KS_MAX_ADMIN_ALLOW 16

/* One [server] admin_allow entry: a uid, or a gid (primary or supplementary). */
struct ks_admin_allow {
	bool is_gid;
	uid_t uid;
	gid_t gid;
};

struct ks_config {
	char path[512];
	struct ks_inet listen;
	/* [server] workers = N | auto: registration threads on SO_REUSEPORT sockets
	 * (docs/keyserver.md, "Workers"); 1 = the main thread alone. */
	unsigned workers;
	/* [server] send_buffer: SO_SNDBUF of the UDP sockets (0: the kernel's default) */
	uint32_t send_buffer;
	char state_dir[512];
	char admin_socket[512];
	size_t nadmin_allow;
	struct ks_admin_allow admin_allow[KS_MAX_ADMIN_ALLOW];
	struct ks_ident local_id;
	bool local_id_set;
	uint32_t p1_lifetime;
	size_t nsuites;
	struct gdoi_p1_suite suites[KS_MAX_SUITES];	/* auth filled at start-up */
	char cert_file[512], key_file[512], ca_file[512];
	bool metrics_set;		/* "metrics": the HTTP listener (loopback only), else none */
	/* flood_mm1 / flood_junk = RATE[/BURST] per source address (0 = the engine's default) */
	uint32_t mm1_per_s, mm1_burst, junk_per_s, junk_burst;
	/* gikev2_cookie_threshold = N | never: half-open IKE SAs from which IKE_SA_INIT
	 * is answered with a COOKIE (RFC 7296 §2.6); 0 = the IKEv2 engine's default,
	 * UINT32_MAX = never */
	uint32_t gikev2_cookie_threshold;
	/* gikev2_max_sas: IKE SAs of registered members each engine keeps (for
	 * GSA_INBAND_REKEY); 0 = 4096 or the number of configured members if more.
	 * gikev2_sa_lifetime: seconds a kept IKE SA lives; 0 = 86400. */
	uint32_t gikev2_max_sas, gikev2_sa_lifetime;
	struct dm_addr metrics;
	size_t ngroups;
	struct ks_group_cfg *groups;
	size_t nmembers;
	struct ks_member_cfg *members;
	struct ks_config_index *idx;	/* members by name, identity, address (config_index.c) */
};

/* Overrides from the command line (NULL = keep the file's value). */
struct ks_overrides {
	const char *listen;
	const char *state_dir;
	const char *admin_socket;
};

/* Loads and validates path; 0 or -1 with the message in err. */
int ks_config_load(const char *path, const struct ks_overrides *ov, struct ks_config **out,
		   char *err, size_t errlen);
void ks_config_free(struct ks_config *c);

const struct ks_group_cfg *ks_config_group(const struct ks_config *c, uint32_t id);
/* A group by decimal/hex id or by name. */
const struct ks_group_cfg *ks_config_group_by_ref(const struct ks_config *c, const char *ref);
const struct ks_member_cfg *ks_config_member(const struct ks_config *c, const char *name);
/* The member with this Phase 1 identity (type and data). */
const struct ks_member_cfg *ks_config_member_by_id(const struct ks_config *c, uint8_t type,
						    const uint8_t *data, size_t len);
/* The member one of whose addresses is the LEN-octet ip (4 or 16), or NULL. */
const struct ks_member_cfg *ks_config_member_by_addr(const struct ks_config *c, const uint8_t *ip,
						      size_t len);
#define KS_PROTO_GDOI 1u
#define KS_PROTO_GIKEV2 2u
#define KS_GIKEV2_REKEY_MULTICAST 1u	/* GSA_REKEY under the group's Rekey SA */
#define KS_GIKEV2_REKEY_INBAND 2u	/* GSA_INBAND_REKEY over each member's IKE SA */
/* Whether group c is served by protocol (KS_PROTO_*). */
static inline bool ks_group_speaks(const struct ks_group_cfg *c, unsigned protocol)
{
	return ((c->protocols ? c->protocols : KS_PROTO_GDOI) & protocol) != 0;
}
/* How the group's G-IKEv2 rekeys travel: KS_GIKEV2_REKEY_* bits, the default
 * resolved (multicast with rekey_multicast, else inband). */
static inline unsigned ks_group_gikev2_rekey(const struct ks_group_cfg *c)
{
	return c->gikev2_rekey ? c->gikev2_rekey
			       : c->mcast ? KS_GIKEV2_REKEY_MULTICAST : KS_GIKEV2_REKEY_INBAND;
}
bool ks_member_in_group(const struct ks_member_cfg *m, uint32_t gid);

/* config_index.c: (re)builds c->idx. 0; 1 when member *dup has the same name (*what 0),
 * identity (1) or address (2) as member *first; -1 out of memory. */
int ks_config_index_build(struct ks_config *c, size_t *dup, size_t *first, int *what);
void ks_config_index_free(struct ks_config_index *x);

/* Parsers shared with the admin socket and the test probe. */
/* ADDR[:PORT] or [V6][:PORT] (daemon/addr.h); a missing port is default_port, or an
 * error with need_port. */
int ks_parse_inet(const char *s, struct ks_inet *out, uint16_t default_port, bool need_port);
/* "A.B.C.D:PORT" / "[V6]:PORT" (56 octets suffice). */
const char *ks_inet_format(const struct ks_inet *a, char *out, size_t cap);
/* rekey_interface: an address, a decimal index or an interface name. */
int ks_parse_mcast_if(const char *s, struct ks_mcast_if *out);
bool ks_mcast_if_set(const struct ks_mcast_if *i);
int ks_parse_ident(const char *s, struct ks_ident *out);
/* "fqdn:x", "ipv4:1.2.3.4", ... for logs and the admin socket. */
void ks_ident_format(uint8_t type, const uint8_t *data, size_t len, char *out, size_t cap);
/* A TEK line: an SRTP profile (IANA DTLS-SRTP number) or "esp:SUITE" (a KS_TEK_ESP_* code). */
int ks_parse_profile(const char *s, uint16_t *profile);
const char *ks_profile_name(uint16_t profile);
/* "aes256-sha256-ecp256": ENC-HASH-GROUP into a suite (auth and lifetime not set). */
int ks_parse_suite(const char *s, struct gdoi_p1_suite *out);
/* Decimal or 0x hex in min..max. */
bool ks_parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out);

#endif
