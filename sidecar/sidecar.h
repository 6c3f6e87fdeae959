/*
 * sidecar.h - gdoi-sidecar's pieces: configuration (config.c), logging
 * (log.c), the member engine's sockets, timer and events (member.c), per-group
 * snapshots and SSRC leases (group.c), the IPC handler (control.c). main.c
 * wires them to a libuv loop. No protocol logic here: the member engine
 * (gdoi/member.h) does that.
 */
#ifndef SIDECAR_H
#define SIDECAR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "daemon/addr.h"
#include "daemon/cred.h"
#include "daemon/ifaddr.h"
#include "daemon/log.h"
#include "gdoi/member.h"
#include "gdoi/phase1.h"
#include "ipc/server.h"
#include "ipc/snapshot.h"
#include "sidecar/lease.h"

#include "version.h"
#define SC_MAX_KS 8
#define SC_MAX_KS_ADDRS 4	/* addresses kept of one key server's host name */
#define SC_MAX_GROUPS 32
#define SC_MAX_ALLOW 32
#define SC_MAX_ID 256
#define SC_MAX_SUITES 8

/* ---- configuration (config.c, docs/sidecar.md) ---- */

struct sc_allow {
	bool is_gid;
	uint32_t id;
};

/* protocol = gdoi | g-ikev2 | auto (docs/sidecar.md: auto = G-IKEv2 first, GDOI fallback) */
enum sc_protocol { SC_PROTO_GDOI = 0, SC_PROTO_GIKEV2, SC_PROTO_AUTO };

struct sc_group_cfg {
	char name[64];
	uint32_t id;
	enum sc_protocol protocol;
	bool send;
	unsigned ssrcs;			/* SSRCs wanted when sending */
	bool rekey_mcast;
	struct dm_addr rekey;		/* multicast group and port of the pushes (IPv4 or IPv6) */
	struct dm_if rekey_if;		/* the interface joining it (unset = the kernel's choice) */
	size_t nallow;
	struct sc_allow allow[SC_MAX_ALLOW];
};

/* A key server as configured: a literal address, or a host name resolved at start
 * and again on failover (member.c, resolve.c). */
struct sc_ks_cfg {
	char host[256];			/* the host name; "" = the literal addr */
	struct dm_addr addr;		/* the literal address; the port for a name too */
};

struct sc_config {
	char path[512];
	size_t nks;
	struct sc_ks_cfg ks[SC_MAX_KS];
	/* The registration socket: unset = [::]:0 dual-stack (IPv4 key servers as
	 * ::ffff:A.B.C.D), 0.0.0.0:0 where the host has no IPv6. */
	bool local_set;
	struct dm_addr local;
	uint8_t id_type;
	size_t id_len;
	uint8_t id_data[SC_MAX_ID];
	/* keyserver_identity: the ID every key server must authenticate as (its
	 * certificate vouching for it); unset = any the PSK vouches for. With a CA
	 * it is required, or ks_id_any: the operator's explicit "any" (any
	 * certificate of the CA, a member's too, passes for the key server's). */
	bool ks_id_set;
	bool ks_id_any;
	uint8_t ks_id_type;
	size_t ks_id_len;
	uint8_t ks_id_data[SC_MAX_ID];
	uint8_t *psk;			/* wiped on free */
	size_t psk_len;
	char cert_file[512], key_file[512], ca_file[512];
	bool legacy;
	uint32_t p1_lifetime;
	char socket[108];
	bool socket_group_set;
	gid_t socket_gid;
	unsigned retry_min_ms, retry_max_ms;
	unsigned exchange_ms;		/* per-try retransmission start for Phase 1 and PULL */
	unsigned unknown_kek_rereg_s;	/* min seconds between re-registrations on unknown KEK */
	/* Debugging only: the SK keys of each G-IKEv2 IKE SA appended here
	 * (tshark's ikev2_decryption_table format, member_ikev2.c); "" = none. */
	char ike2_keys_log[512];
	bool metrics_set;		/* "metrics": the HTTP listener (loopback only), else none */
	struct dm_addr metrics;
	size_t ngroups;
	struct sc_group_cfg groups[SC_MAX_GROUPS];
};

/* Loads and validates FILE; err gets "FILE:LINE: ..." on failure. */
int sc_config_load(const char *path, struct sc_config *cfg, char *err, size_t errlen);
void sc_config_free(struct sc_config *cfg);
/* A key server: "ADDR[:PORT]", "[V6ADDR][:PORT]", "HOST-NAME[:PORT]" (port 848 when none). */
int sc_parse_ks(const char *s, struct sc_ks_cfg *out);
/* Whether a socket bound to local (cfg->local_set) reaches an address of LEN octets. */
bool sc_local_reaches(const struct sc_config *cfg, size_t len);

/* ---- logging (log.c) ---- */

/* The daemon toolkit's log (daemon/log.c) at each level. */
#define sc_err(...)   dm_log(DM_ERR, __VA_ARGS__)
#define sc_warn(...)  dm_log(DM_WARN, __VA_ARGS__)
#define sc_log(...)   dm_log(DM_INFO, __VA_ARGS__)
#define sc_debug(...) dm_log(DM_DEBUG, __VA_ARGS__)
/* A warning, but the same key logged again within 10 s is counted, not printed. */
#define sc_log_limited(key, ...) dm_log_limited(DM_WARN, key, __VA_ARGS__)

/* ---- the metrics page (metrics.c, docs/metrics.md) ---- */

struct dm_metrics;
struct dm_metrics_http;
/* The dm_metrics_collect of the listener: reads struct sidecar only. */
void sc_metrics_collect(void *ctx, struct dm_metrics *m);

/* ---- per-group key state (group.c) ---- */

struct sidecar;

struct sc_group {
	struct sidecar *sc;		/* the daemon this group belongs to */
	const struct sc_group_cfg *cfg;
	size_t index;			/* in cfg.groups and in the member engine */
	size_t nssrcs;
	uint32_t ssrcs[IPC_MAX_SSRCS];	/* the usable ones of leases (snapshot "ssrcs") */
	struct sc_leases leases;	/* every SSRC the key server gave, and who holds it */
	uint64_t version;
	int64_t updated;
	char keyserver[64];
	bool mcast_open;
	uv_udp_t mcast;
	struct gike2_member *gike2;	/* protocol = g-ikev2: its engine (member_ikev2.c) */
	size_t gike2_slot;		/* its key server: an index in sidecar.slots */
	struct gdoi_addr gike2_addr;	/* and the address the engine was given */
	unsigned gike2_rounds;		/* rounds over every key server failed in a row */
	uint64_t gike2_failed;		/* the engine's attempts_failed, as last acted on */
	/* protocol = auto: GDOI now (the GDOI engine's group), and where it was chosen */
	bool auto_gdoi;
	bool auto_gdoi_at[GDOI_MEMBER_MAX_KS];
};

/* Wall clock (Unix seconds) and monotonic milliseconds. */
int64_t sc_wall(void);
uint64_t sc_mono(void);

/* The group's policy and live TEKs, as the member engine holds them. */
const struct gdoi_member_teks *sc_group_keys(const struct sc_group *g);
/* The engine registered g (ev: its REGISTERED event) at wall time now. */
void sc_group_registered(struct sc_group *g, const struct gdoi_member_event *ev, int64_t now);
/* The engine changed g's live TEKs (a push, an expiry): a new snapshot. */
void sc_group_keys_changed(struct sc_group *g, int64_t now);
json_t *sc_group_snapshot(const struct sc_group *g);
/* The usable SSRCs of g->leases changed (a lease ended): new snapshot when registered. */
void sc_group_ssrcs_changed(struct sc_group *g, int64_t now);

/* ---- key-server host names (resolve.c) ---- */

/* One configured key server's addresses: its literal, or what its name resolved to
 * last (none yet: the engine holds an empty address for it, a failed attempt). */
struct sc_ks_addrs {
	struct sidecar *sc;
	size_t entry;			/* in cfg.ks */
	size_t naddr;
	struct gdoi_addr addr[SC_MAX_KS_ADDRS];
	bool busy;			/* a resolution in flight */
	uv_getaddrinfo_t req;
};

/* The engine's key-server list: every configured key server's addresses in order
 * (an unresolved name as one empty address). */
void sc_ks_list(struct sidecar *sc, struct gdoi_addr *out, size_t *n);
/* Starts resolving every host name; returns how many resolutions were started. */
unsigned sc_resolve_all(struct sidecar *sc);
/* The engine failed an attempt with its address SLOT (FAILOVER event): when it leaves
 * that key server's last address (for another key server, or round over), its name
 * is resolved again. */
void sc_resolve_failover(struct sidecar *sc, size_t slot);
/* The configured key server the engine's address SLOT belongs to. */
size_t sc_ks_entry(const struct sidecar *sc, size_t slot);

/* ---- the daemon (main.c, member.c, control.c) ---- */

struct sidecar {
	uv_loop_t *loop;
	struct sc_config cfg;
	struct sc_group groups[SC_MAX_GROUPS];
	struct ipc_server *ipc;
	struct dm_metrics_http *metrics;
	int64_t started;
	/* member.c */
	uv_udp_t udp;
	bool udp_open;
	int udp_family;			/* AF_INET, or AF_INET6 (dual-stack when bound to [::]) */
	uv_timer_t timer;
	struct gdoi_p1_config p1cfg;
	struct gdoi_p1_suite suites[SC_MAX_SUITES];
	struct gdoi_p1_psk psk;
	struct dm_cred cred;
	struct gdoi_member *member;	/* the protocol: SAs, registrations, TEKs */
	bool serviced;			/* the first sc_service ran (after the names resolved) */
	bool stopping;
	uint64_t gike2_unknown_rekey;	/* GSA_REKEYs under a Rekey SA of no group (member_ikev2.c) */
	int64_t gike2_unknown_rereg_at;	/* the last re-registration they caused (Unix s) */
	/* resolve.c */
	struct sc_ks_addrs ks_addrs[SC_MAX_KS];
	size_t nslots;			/* the engine's list, as sc_ks_list last built it */
	struct gdoi_addr slots[GDOI_MEMBER_MAX_KS];
	size_t slot_entry[GDOI_MEMBER_MAX_KS];
	unsigned resolving;		/* resolutions in flight */
};

int sc_member_start(struct sidecar *sc, char *err, size_t errlen);
void sc_member_stop(struct sidecar *sc);
/* Runs everything due in the engine, sends and logs what it queued, re-arms the timer. */
void sc_service(struct sidecar *sc);
/* member.c: one datagram to the key server; one engine event acted on. */
void sc_member_send(struct sidecar *sc, const struct gdoi_out *o);
void sc_member_event(struct sidecar *sc, const struct gdoi_member_event *ev);
/* Whether an authenticated key server's ID is the configured keyserver_identity
 * (any when none is set); a refusal is logged (rate-limited). Both protocols. */
bool sc_ks_identity_ok(const struct sidecar *sc, uint8_t type, const uint8_t *data, size_t len);
/* member_ikev2.c: the groups with protocol = g-ikev2. */
struct gike2_member;
int sc_ikev2_start(struct sidecar *sc, char *err, size_t errlen);
/* Each established IKE SA's INFORMATIONAL Delete, sent now (before the socket closes). */
void sc_ikev2_shutdown(struct sidecar *sc);
void sc_ikev2_stop(struct sidecar *sc);
void sc_ikev2_drain(struct sidecar *sc);
bool sc_ikev2_input(struct sidecar *sc, const uint8_t *msg, size_t len, const struct gdoi_addr *from,
		    enum gdoi_member_via via, struct gdoi_now now);
uint64_t sc_ikev2_timer(struct sidecar *sc, struct gdoi_now now, uint64_t next);
const struct gdoi_member_teks *sc_ikev2_keys(const struct sc_group *g);
/* An event of the GDOI engine (protocol = auto follows its failovers). */
void sc_ikev2_gdoi_event(struct sidecar *sc, const struct gdoi_member_event *ev);
/* The key-server list changed (resolve.c): each engine's key server anew. */
void sc_ikev2_ks_changed(struct sidecar *sc);
/* The engine's now. */
struct gdoi_now sc_now(void);

void sc_control_closed(void *ctx, struct ipc_conn *c);
json_t *sc_control_handle(void *ctx, struct ipc_conn *c, const struct ipc_message *msg);
void sc_publish(struct sc_group *g);

#endif
