/*
 * ks.h - gdoi-ks internals shared by its files: the daemon context, groups,
 * the registrar (Phase 1 + GROUPKEY-PULL), the rekey scheduler and the admin
 * socket. Each .c owns one concern; protocol logic stays in gdoi/.
 */
#ifndef KS_KS_H
#define KS_KS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gdoi/err.h"
#include "gdoi/gcks.h"
#include "gdoi/phase1.h"
#include "gdoi/policy.h"
#include "gdoi/push.h"
#include "keyserver/config.h"
#include "keyserver/state.h"
#include "keyserver/udp_batch.h"

#include "version.h"

struct ks;

/* One group at run time: configuration, durable record (keys), the policy
 * handed to registering members, the rekey key and the rekey timer. */
struct ks_group {
	struct ks *ks;
	const struct ks_group_cfg *cfg;
	uint32_t id;
	struct ks_group_rec rec;	/* mirror of the durable state (holds keys) */
	struct gdoi_key *sign_key;
	uint8_t *sign_spki;		/* its public half, encoded once (DER SPKI) */
	size_t sign_spki_len;
	struct gdoi_policy pol;		/* current policy incl. keys, seq = rec.seq */
	uv_timer_t timer;
	uv_udp_t mcast;			/* multicast sender (when configured) */
	bool mcast_open;
	int mcast_family;		/* of the open sender */
	uint64_t pushes;		/* sent since start */
	uint64_t push_mcast, push_unicast;	/* datagrams of those pushes, by transport */
	uint64_t registrations;		/* completed since start */
	bool leader;			/* runs the rekey scheduler and pushes (cluster.c) */
	/* The KEK before the last rotation and the last SEQ used under it (memory
	 * only): a member that registered across the rotation holds that KEK. */
	bool has_prev_kek;
	struct gdoi_kek_policy prev_kek;
	uint32_t prev_kek_seq;
	/* The sender SSRCs members are told of (SRTP_SENDERS, docs/srtp-tek.md §10):
	 * none in groups where a gdoid-compat member could get them (it refuses
	 * unknown key packets). senders_changed: a registration assigned new ones. */
	bool senders_ok, senders_changed;
	size_t nsenders;
	uint32_t senders[GDOI_MAX_SENDERS];
};

struct ks_registrar;
struct ks_fwd;
struct ipc_server;
struct dm_metrics;
struct dm_metrics_http;

/* What a registering member was given at its message 1 (the PULL layer sends
 * that copy at message 4): to detect a rekey in between. */
struct ks_pending {
	bool used;
	bool has_kek;
	uint32_t gid;
	uint32_t seq;
	uint8_t kek_spi[GDOI_KEK_SPI_LEN];
	size_t nspis;
	uint32_t spis[GDOI_MAX_TEKS];
};

/* A receive buffer for up to 8 datagrams of 64 KiB: the sockets are opened
 * with UV_UDP_RECVMMSG, and libuv then takes what is queued with one recvmmsg
 * (docs/performance.md) instead of one recvmsg a datagram. */
#define KS_RECV_SLAB (8 * 65536)

/* One registration worker (worker.c): its own thread, loop, socket (in the
 * SO_REUSEPORT group of the listen address) and engine. */
struct ks_worker {
	struct ks *ks;
	unsigned index;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_udp_t udp;
	struct ks_udpb udpb;		/* udp's sender (this worker's thread) */
	uv_timer_t timer;
	uv_async_t wake;		/* stop or pause (reload), from the main thread */
	struct ks_registrar *reg;
	struct ks_registrar *next;	/* reload: the one replacing reg */
	bool opened, started;		/* its loop initialised; its thread running */
	bool stopping;			/* the worker's own (its loop's handles closing) */
	bool stop, pause, paused;	/* under ks->lock */
	uv_mutex_t stats_lock;		/* what the main thread reads of it */
	struct gdoi_gcks_stats stats;
	struct ks_udpb_stats send;	/* udpb's */
	size_t sas;
	uint64_t forwarded;
	struct ks_job *jobs, **jobs_tail;	/* G-IKEv2 work for its engine (under ks->lock) */
	char slab[KS_RECV_SLAB];	/* receive buffer */
};

struct ks {
	uv_loop_t *loop;
	struct ks_config *cfg;
	struct ks_overrides ov;
	const char *config_path;
	struct ks_state *st;
	size_t ngroups;
	struct ks_group **groups;
	struct ks_registrar *reg;
	struct ipc_server *admin;	/* the admin socket (admin.c) */
	uv_udp_t udp;
	int udp_family;			/* AF_INET, or AF_INET6 (dual-stack on [::]) */
	struct ks_udpb udpb;		/* udp's sender (main thread) */
	uv_timer_t expire_timer;
	uv_signal_t sig_term, sig_int, sig_hup;
	struct dm_metrics_http *metrics;	/* the metrics listener, when configured */
	int64_t started;
	uint64_t registrations, dropped;
	/* for the metrics (metrics.c): engine counters of the registrars replaced by
	 * reloads, Phase 1 outcomes and refusals by reason */
	struct gdoi_gcks_stats gcks_base;
	uint64_t p1_established;
	uint64_t p1_failed[GDOI_ERR_SLOTS];	/* by gdoi_err_slot */
	uint64_t refused[GDOI_ERR_SLOTS];
	bool stopping;
	/* workers (worker.c): with more than one, registrations are served by worker
	 * threads and the main thread keeps everything else; ks->udp then only sends
	 * (a duplicate of worker 0's socket). lock: held by the main thread whenever it
	 * is not waiting for I/O, by a worker in the registration callbacks. */
	unsigned nworkers;
	struct ks_worker **workers;
	uv_mutex_t lock;
	uv_cond_t cond;			/* pause/resume of the workers (reload) */
	uv_async_t fwd_async;		/* forwarded work is waiting */
	uv_mutex_t fwd_lock;
	struct ks_fwd *fwd_head, *fwd_tail;
	size_t fwd_len;
	uint64_t fwd_lost;
	/* several key servers on one PostgreSQL (cluster.c) */
	uv_timer_t lead_timer;
	bool lead_started;
	uv_poll_t watch;		/* the state's change notices */
	int watch_fd;
	bool watch_closing;		/* uv_close of watch not completed yet */
};

/* ---- groups.c ---- */
int64_t ks_unix_now(void);
/* Loads the group's state or creates its first keys; 0 or -1 (logged). */
int ks_group_open(struct ks *ks, const struct ks_group_cfg *cfg, struct ks_group **out);
void ks_group_close(struct ks_group *g);	/* async: handles closed, then freed */
/* After a configuration reload: new cfg, same keys; true if the TEKs must be rekeyed
 * (the set of profiles changed). */
bool ks_group_reconfigure(struct ks_group *g, const struct ks_group_cfg *cfg);
/* Rebuilds g->pol from cfg and rec (drops the previous TEK generation when due). */
void ks_group_build_policy(struct ks_group *g, int64_t now);
/* A new TEK generation into rec (current becomes previous); fills update with
 * the new TEKs (keys included) and dels with the SPIs dropped for good. */
int ks_group_new_teks(struct ks_group *g, int64_t now, struct gdoi_policy *update,
		      struct gdoi_push_delete *dels, size_t *ndels);
/* A new KEK into rec (SEQ restarts at 0, or continues for compat = gdoid); update gets
 * the new KEK. */
int ks_group_new_kek(struct ks_group *g, int64_t now, struct gdoi_policy *update);
/* count fresh SSRCs for member: never given to anyone in the group before. */
/* Re-reads the sender list from the state (the newest SSRCs of registered members). */
void ks_group_load_senders(struct ks_group *g);
/* Puts the sender list into p (has_senders only in groups that send it). */
void ks_group_senders_to(const struct ks_group *g, struct gdoi_policy *p);
int ks_group_assign_ssrcs(struct ks_group *g, const char *member, unsigned count, uint32_t *sids,
			  size_t *n);
struct ks_group *ks_find_group(struct ks *ks, uint32_t wire_id);
/* The Protocol-ID of the group's TEKs (Deletes name it). */
uint8_t ks_group_tek_proto(const struct ks_group *g);
struct ks_group *ks_find_group_ref(struct ks *ks, const char *ref);

/* ---- cluster.c ---- */
void ks_cluster_start(struct ks *ks);
void ks_cluster_stop(struct ks *ks);
void ks_cluster_tick(struct ks *ks);
int ks_cluster_reload(struct ks_group *g);
/* The leader carries out what other key servers queued for g (gdoictl rekey/evict there). */
void ks_cluster_commands(struct ks_group *g);

/* ---- mcast.c ---- */
/* Opens the group's multicast sender, or applies interface and hop limit to it
 * again (after a reload); failures are logged. */
void ks_mcast_open(struct ks_group *g);

/* ---- registrar.c ---- */
/* w: the worker it serves (its loop, socket, timer), NULL for the main thread's. */
int ks_registrar_new(struct ks *ks, struct ks_worker *w, struct ks_registrar **out, char *err, size_t errlen);
/* A reload: r, the new registrar, takes over old's G-IKEv2 IKE SAs (members
 * keep receiving GSA_INBAND_REKEY without registering again). GDOI's Phase 1
 * SAs go with old: a member makes a new one at its next registration. */
void ks_registrar_adopt(struct ks_registrar *r, struct ks_registrar *old);
void ks_registrar_free(struct ks_registrar *r);
void ks_registrar_input(struct ks_registrar *r, const uint8_t *msg, size_t len, const struct sockaddr *from);
void ks_registrar_expire(struct ks_registrar *r);
/* (Re)starts its timer at the engine's deadline (at most 1 s away). */
void ks_registrar_arm(struct ks_registrar *r);
/* After a completed registration (main thread; a worker's are handed over when
 * due): a catch-up push if the group was rekeyed since pe (what its message 1
 * got; may be NULL), the sender-list push if it got new SSRCs. */
struct gdoi_gcks_event;
void ks_registrar_follow_up(struct ks *ks, const struct gdoi_gcks_event *ev, struct ks_pending *pe);
size_t ks_registrar_sa_count(const struct ks_registrar *r);
/* Hands one push to the engine (gdoi_gcks_push) and sends what it queued; the
 * number of datagrams sent first, or a negative gdoi_err. */
struct gdoi_gcks_push_cfg;
struct gdoi_gcks_push_dest;
int ks_registrar_push(struct ks *ks, const struct gdoi_gcks_push_cfg *d, const struct gdoi_push_params *p,
		      const struct gdoi_gcks_push_dest *dests, size_t n);
/* G-IKEv2 (main thread): GSA_INBAND_REKEY of g's current policy to its members'
 * kept IKE SAs, with the Deletes dels; an evicted member's IKE SAs deleted. */
void ks_registrar_inband(struct ks *ks, struct ks_group *g, const struct gdoi_push_delete *dels,
			 size_t ndels);
void ks_registrar_evict(struct ks *ks, const struct ks_member_cfg *m);
/* The same in a worker's engine (worker thread, lock not held; worker.c). */
void ks_registrar_worker_inband(struct ks_registrar *r, uint32_t gid, const struct gdoi_push_delete *dels,
				size_t ndels);
void ks_registrar_worker_evict(struct ks_registrar *r, const char *member);
/* Shutdown, on the engine's own thread before its socket closes: the G-IKEv2 members
 * are told with an INFORMATIONAL Delete of their IKE SA (ks_ikev2_shutdown). */
void ks_registrar_shutdown(struct ks_registrar *r);
/* The engine's counters (pushes sent, retransmitted, acknowledged; for metrics). */
const struct gdoi_gcks_stats *ks_registrar_stats(const struct ks_registrar *r);

/* ---- worker.c ---- */
/* Starts cfg->workers workers (when more than one) and opens ks->udp for sending;
 * 0 or a libuv error (logged). */
int ks_workers_start(struct ks *ks);
/* Stops them and waits (main thread, lock held; released meanwhile). */
void ks_workers_stop(struct ks *ks);
/* Reload (main thread, lock held): pause parks every worker outside its engine;
 * prepare makes new registrars from ks->cfg (-1: none, err says why); commit
 * puts them in place of the old ones (freed), abort drops them; resume lets the
 * workers go on. */
void ks_workers_pause(struct ks *ks);
int ks_workers_prepare(struct ks *ks, char *err, size_t errlen);
void ks_workers_commit(struct ks *ks);
void ks_workers_abort(struct ks *ks);
void ks_workers_resume(struct ks *ks);
/* Runs the main loop: with workers, ks->lock is let go only while waiting. */
void ks_run(struct ks *ks);
/* Worker side. */
void ks_worker_publish(struct ks_worker *w, const struct gdoi_gcks_stats *st, size_t sas);
/* The send counters of every socket (main thread). */
void ks_send_totals(struct ks *ks, struct ks_udpb_stats *out);
void ks_worker_forward_registered(struct ks_worker *w, const struct gdoi_gcks_event *ev,
				  const struct ks_pending *pe);
/* Main thread (lock held): what only the engines holding the members' IKE SAs can
 * do, queued to every worker: a GSA_INBAND_REKEY of group gid (by its wire id),
 * the IKE SAs of an evicted member deleted. */
void ks_workers_post_inband(struct ks *ks, uint32_t gid, const struct gdoi_push_delete *dels, size_t ndels);
void ks_workers_post_evict(struct ks *ks, const char *member);
/* Engine counters and SAs summed over the main thread and the workers. */
void ks_engine_totals(struct ks *ks, struct gdoi_gcks_stats *out, size_t *sas);

/* ---- rekey.c ---- */
void ks_rekey_schedule(struct ks_group *g);
/* When the group's next rekey (new TEKs or KEK) is due: Unix seconds, 0 = owed now. */
int64_t ks_rekey_next_rekey(const struct ks_group *g);
/* On demand or scheduled: new TEKs pushed under the current KEK. */
int ks_rekey_teks(struct ks_group *g, const char *why);
/* New KEK pushed under the current one; unicast_only for evictions. */
int ks_rekey_kek(struct ks_group *g, const char *why, bool unicast_only);
/* Forward access control: every group the member is in. Returns the number of groups.
 * In groups another key server leads, the rotation is handed to it (fw: the
 * commands, state.h ks_state_cmd_add). */
#define KS_MAX_FORWARD 64
struct ks_forwarded {
	size_t n;
	int64_t ids[KS_MAX_FORWARD];
};
int ks_evict(struct ks *ks, const char *member, struct ks_forwarded *fw);
/* The eviction in one group, on its leader: record removed, KEK rotation, new TEKs.
 * 0, -1 the rotation failed, -2 the record could not be removed. */
int ks_evict_rotate(struct ks_group *g, const char *member);
/* A member completed registration with what pe records: if the group was rekeyed since
 * its message 1, one push (SEQ persisted first) brings it to the current keys. */
/* Pushes the current TEKs with the new sender list (after a sender registered). */
int ks_rekey_senders(struct ks_group *g);
/* Whether ks_rekey_catch_up would push (the group's KEK or SEQ moved since pe). */
bool ks_rekey_catch_up_due(const struct ks_group *g, const struct ks_pending *pe);
int ks_rekey_catch_up(struct ks_group *g, const struct ks_member_cfg *m, const struct ks_pending *pe,
		      const struct ks_inet *to);
/* One datagram from the listening socket (IPv4 destinations reach IPv4 peers of a
 * dual-stack socket as ::ffff:A.B.C.D). */
int ks_udp_send(uv_udp_t *u, int family, const uint8_t *msg, size_t len, const struct ks_inet *to);

/* ---- admin.c ---- */
int ks_admin_open(struct ks *ks, const char *path, struct ipc_server **out);
void ks_admin_close(struct ipc_server *a);
json_t *ks_status_json(struct ks *ks);
json_t *ks_members_json(struct ks *ks, struct ks_group *g);

/* ---- metrics.c ---- */
/* Renders the page (docs/metrics.md); the dm_metrics_collect of the listener. */
void ks_metrics_collect(void *ctx, struct dm_metrics *m);

/* ---- main.c ---- */
void ks_shutdown(struct ks *ks);

#endif
