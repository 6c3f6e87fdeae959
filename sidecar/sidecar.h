/*
 * sidecar.h - gdoi-sidecar's pieces: configuration (config.c), logging
 * (log.c), registration and rekey client (member.c), per-group key state
 * and snapshots (group.c), the IPC handler (control.c). main.c wires them
 * to a libuv loop. No protocol logic here: gdoi/ does that.
 */
#ifndef SIDECAR_H
#define SIDECAR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "daemon/cred.h"
#include "daemon/log.h"
#include "gdoi/phase1.h"
#include "gdoi/policy.h"
#include "gdoi/pull.h"
#include "gdoi/push.h"
#include "ipc/server.h"
#include "ipc/snapshot.h"
#include "sidecar/lease.h"

#include "version.h"
#define SC_MAX_KS 8
#define SC_MAX_GROUPS 32
#define SC_MAX_ALLOW 32
#define SC_MAX_ID 256
#define SC_MAX_SUITES 8

/* ---- configuration (config.c, docs/sidecar.md) ---- */

struct sc_allow {
	bool is_gid;
	uint32_t id;
};

struct sc_group_cfg {
	char name[64];
	uint32_t id;
	bool send;
	unsigned ssrcs;			/* SSRCs wanted when sending */
	bool rekey_mcast;
	struct sockaddr_in rekey;	/* multicast group and port of the pushes */
	struct in_addr rekey_if;	/* interface address for IP_ADD_MEMBERSHIP */
	size_t nallow;
	struct sc_allow allow[SC_MAX_ALLOW];
};

struct sc_config {
	char path[512];
	size_t nks;
	struct sockaddr_in ks[SC_MAX_KS];
	struct sockaddr_in local;	/* registration socket (0.0.0.0:0 = any) */
	uint8_t id_type;
	size_t id_len;
	uint8_t id_data[SC_MAX_ID];
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
	size_t ngroups;
	struct sc_group_cfg groups[SC_MAX_GROUPS];
};

/* Loads and validates FILE; err gets "FILE:LINE: ..." on failure. */
int sc_config_load(const char *path, struct sc_config *cfg, char *err, size_t errlen);
void sc_config_free(struct sc_config *cfg);
/* "a.b.c.d:port" (port optional when defport != 0). */
int sc_parse_inet(const char *s, uint16_t defport, struct sockaddr_in *out);

/* ---- logging (log.c) ---- */

void sc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sc_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like sc_log, but the same key logged again within 10 s is counted, not printed. */
#define sc_log_limited(key, ...) dm_log_limited(DM_WARN, key, __VA_ARGS__)

/* ---- per-group key state (group.c) ---- */

struct sidecar;

struct sc_group {
	struct sidecar *sc;		/* the daemon this group belongs to */
	const struct sc_group_cfg *cfg;
	struct gdoi_policy *pol;	/* NULL until the first registration */
	struct gdoi_pull_member *pm;	/* registration in progress */
	bool want_register;
	unsigned attempts;		/* refusals in a row (key server answered "no") */
	uint64_t retry_at;		/* no registration before (monotonic ms) */
	int64_t kek_expires;		/* Unix seconds; 0 = no KEK */
	size_t nlive;
	struct ipc_tek live[IPC_MAX_TEKS];
	size_t nssrcs;
	uint32_t ssrcs[IPC_MAX_SSRCS];	/* the usable ones of leases (snapshot "ssrcs") */
	struct sc_leases leases;	/* every SSRC the key server gave, and who holds it */
	uint64_t ssrc_rereg_at;		/* no re-registration for SSRCs before (monotonic ms) */
	uint64_t version;
	int64_t updated, registered_at, last_rekey;
	uint32_t seq;
	char keyserver[64];
	bool mcast_open;
	uv_udp_t mcast;
	bool warned_kinds;
};

/* Wall clock (Unix seconds) and monotonic milliseconds. */
int64_t sc_wall(void);
uint64_t sc_mono(void);

/* A registration delivered policy p (taken over) at wall time now. */
void sc_group_registered(struct sc_group *g, struct gdoi_policy *p, const char *ks, int64_t now);
/* Tries a push on g: GDOI_ERR_NOT_FOUND with why empty when its cookies name no KEK
 * of g (current or replaced), 0 when applied, other negative (or GDOI_ERR_NOT_FOUND
 * from the core) when refused, why set. */
int sc_group_push(struct sc_group *g, const uint8_t *msg, size_t len, int64_t now, char *why,
		  size_t wl);
/* Removes expired TEKs (publishes when something changed); returns the next expiry
 * (Unix seconds) or 0. */
int64_t sc_group_expire(struct sc_group *g, int64_t now);
/* When to register again without a push: monotonic ms, 0 = not needed. */
uint64_t sc_group_rereg_deadline(const struct sc_group *g, int64_t now_wall, uint64_t now_mono);
json_t *sc_group_snapshot(const struct sc_group *g);
/* The usable SSRCs of g->leases changed (a lease ended): new snapshot when registered. */
void sc_group_ssrcs_changed(struct sc_group *g, int64_t now);
void sc_group_free(struct sc_group *g);

/* ---- the daemon (main.c, member.c, control.c) ---- */

struct sc_ks_state {
	char name[32];
	char last_error[160];
	int64_t last_ok;
};

struct sidecar {
	uv_loop_t *loop;
	struct sc_config cfg;
	struct sc_group groups[SC_MAX_GROUPS];
	struct ipc_server *ipc;
	int64_t started;
	/* member.c */
	uv_udp_t udp;
	uv_timer_t timer;
	struct gdoi_p1_config p1cfg;
	struct gdoi_p1_suite suites[SC_MAX_SUITES];
	struct gdoi_p1_psk psk;
	struct dm_cred cred;
	size_t ks_index;
	struct gdoi_addr ks_addr;
	struct gdoi_p1_sa *sa;		/* current (or being negotiated when !established) */
	struct gdoi_p1_sa *sa_next;	/* renewal in progress */
	unsigned attempt;
	uint64_t retry_at;		/* no new Phase 1 before (monotonic ms) */
	int64_t last_unknown_kek_rereg;
	struct sc_ks_state ks[SC_MAX_KS];
	bool stopping;
};

int sc_member_start(struct sidecar *sc, char *err, size_t errlen);
void sc_member_stop(struct sidecar *sc);
/* Runs everything due and re-arms the timer. */
void sc_service(struct sidecar *sc);
/* A datagram that might be a push (multicast socket or registration socket). */
void sc_handle_push(struct sidecar *sc, const uint8_t *msg, size_t len, const char *via);

void sc_control_closed(void *ctx, struct ipc_conn *c);
json_t *sc_control_handle(void *ctx, struct ipc_conn *c, const struct ipc_message *msg);
void sc_publish(struct sc_group *g);

#endif
