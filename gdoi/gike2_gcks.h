/*
 * gike2_gcks.h - the G-IKEv2 key-server engine (RFC 9838 §2.3~), on the
 * contract of engine.h: IKEv2 datagrams with their peer and the time in;
 * datagrams to send, events and the next deadline out.
 *
 * One IKEv2 responder (ike2.h) holds the IKE SAs of every member; the
 * registration payloads are gike2_ike.c's (GSA_AUTH and GSA_REGISTRATION:
 * IDg + N(SENDER) in, GSA + KD out). What this engine adds: the group of
 * each request is looked up by its IDg through the application's callback,
 * which hands the group's policy (the same struct gdoi_policy the GDOI key
 * server serves, so both protocols give the same keys), its Rekey SA, the
 * GSA_REKEY signer and the Sender-IDs to allocate from; refusals answer the
 * error notifies of §4.7 (INVALID_GROUP_ID, AUTHORIZATION_FAILED,
 * REGISTRATION_FAILED); every registration comes out as an event.
 *
 * The IKE SA of each registered member is kept (at most max_kept, for at
 * most sa_lifetime_s, then deleted with an INFORMATIONAL Delete; one
 * registered over the limit is deleted right after its answer)
 * so that the GCKS can send it GSA_INBAND_REKEY (§2.4.2~) as the initiator
 * of that exchange: gike2_gcks_engine_inband_rekey, window 1 (a rekey that
 * finds the previous one unanswered waits for its answer; a newer one
 * replaces it), retransmitted by the IKEv2 core with backoff; a member that
 * never answers loses its IKE SA (GIKE2_GCKS_EV_SA_CLOSED).
 */
#ifndef GDOI_GIKE2_GCKS_H
#define GDOI_GIKE2_GCKS_H

#include "engine.h"
#include "gike2_ike.h"

struct gike2_gcks_engine_cfg {
	/* suites, local_id, psks, peer_allowed; the hooks and exchange lists are
	 * set by the engine. Copied; what it points to must outlive the engine. */
	const struct gdoi_ike2_config *ike;
	/*
	 * The group idg names, for the authenticated member: fill k->policy
	 * (required), k->rekey, k->signer, k->next_sid (first Sender-ID to hand
	 * out) and k->max_sids. k->group is set already. Returns 0,
	 * GDOI_ERR_NOT_FOUND (INVALID_GROUP_ID) or GDOI_ERR_NOT_AUTHORIZED
	 * (AUTHORIZATION_FAILED); anything else answers REGISTRATION_FAILED.
	 */
	int (*lookup)(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
		      const struct gdoi_addr *peer, struct gike2_gcks *k);
	/* Optional: the Sender-IDs (at most cap) of a member that asked for
	 * count, for the group lookup named last (else k->next_sid onwards).
	 * 0, or a gdoi_err (GDOI_ERR_NOT_AUTHORIZED: AUTHORIZATION_FAILED). */
	int (*assign_sids)(void *ctx, const struct gike2_idg *idg, const struct gdoi_ike2_id *member,
			   uint32_t count, uint32_t *sids, size_t cap, size_t *n);
	void *ctx;
	size_t max_kept;		/* IKE SAs of registered members kept; 0 = 4096 */
	uint32_t sa_lifetime_s;		/* then deleted; 0 = 86400 */
};

enum gike2_gcks_event_type {
	GIKE2_GCKS_EV_NONE = 0,
	GIKE2_GCKS_EV_REGISTERED,	/* member got group's GSA + KD (sids, nsids) */
	GIKE2_GCKS_EV_REFUSED,		/* a registration refused: notify sent, reason */
	GIKE2_GCKS_EV_FAILED,		/* IKE_SA_INIT / authentication failed */
	GIKE2_GCKS_EV_DELETED,		/* the member deleted its IKE SA */
	GIKE2_GCKS_EV_DROPPED,		/* datagram dropped: reason */
	GIKE2_GCKS_EV_INBAND_ANSWERED,	/* a member answered GSA_INBAND_REKEY (notify: its error) */
	GIKE2_GCKS_EV_SA_CLOSED,	/* the GCKS dropped a member's IKE SA: reason */
	GIKE2_GCKS_EV_ESTABLISHED,	/* a plain IKE_AUTH set an IKE SA up: no group yet
					 * (a GSA_REGISTRATION may follow) */
};

#define GIKE2_GCKS_MAX_SIDS 16

struct gike2_gcks_event {
	enum gike2_gcks_event_type type;
	struct gdoi_addr peer;
	uint8_t exchange;		/* GSA_AUTH or GSA_REGISTRATION */
	uint8_t idg_type;
	size_t idg_len;
	uint8_t idg[64];		/* the group as the member named it */
	size_t id_len;
	char id[96];			/* the member's IKE identity, printable prefix */
	uint8_t auth_method;		/* how it authenticated (GDOI_IKE2_AUTH_*); 0: not yet */
	size_t nsids;
	uint32_t sids[GIKE2_GCKS_MAX_SIDS];
	uint16_t notify;
	int err;
	char reason[192];		/* never holds keys */
};

struct gike2_gcks_stats {
	uint64_t datagrams, dropped, registrations, refusals;
};

struct gike2_gcks_engine;

struct gike2_gcks_engine *gike2_gcks_engine_new(const struct gike2_gcks_engine_cfg *cfg,
						struct gdoi_now now);
/* A new configuration for a running engine (a reload): its IKE SAs, kept ones
 * and half-open ones, stay and go on under it; what cfg points to must outlive
 * the engine as for _new. 0, or GDOI_ERR_INVALID_ARG. */
int gike2_gcks_engine_reconfigure(struct gike2_gcks_engine *e, const struct gike2_gcks_engine_cfg *cfg);
void gike2_gcks_engine_free(struct gike2_gcks_engine *e);
/* One IKEv2 datagram from peer: 0, or a negative gdoi_err (dropped). */
int gike2_gcks_engine_input(struct gike2_gcks_engine *e, const uint8_t *dgram, size_t len,
			    const struct gdoi_addr *from, struct gdoi_now now);
void gike2_gcks_engine_timer(struct gike2_gcks_engine *e, struct gdoi_now now);
uint64_t gike2_gcks_engine_deadline(const struct gike2_gcks_engine *e);	/* 0 = none */
bool gike2_gcks_engine_next_out(struct gike2_gcks_engine *e, struct gdoi_out *out);
/* Up to max (at most GDOI_OUT_BATCH) at once, valid together until the next call. */
size_t gike2_gcks_engine_next_outs(struct gike2_gcks_engine *e, struct gdoi_out *out, size_t max);
bool gike2_gcks_engine_next_event(struct gike2_gcks_engine *e, struct gike2_gcks_event *ev);
const struct gike2_gcks_stats *gike2_gcks_engine_stats(const struct gike2_gcks_engine *e);
size_t gike2_gcks_engine_sa_count(const struct gike2_gcks_engine *e);

/* ---- GSA_INBAND_REKEY (RFC 9838 §2.4.2~) ---------------------------------- */

struct gike2_gcks_inband {
	uint64_t tag;			/* the members whose lookup set this tag and inband */
	const struct gdoi_policy *policy;	/* the SAs to install (keys wrapped per member) */
	const struct gike2_rekey_sa *rekey;	/* a Rekey SA to hand over, or NULL */
	const struct gdoi_key *signer;		/* its AUTH_KEY */
	const uint32_t *del;		/* SRTP SPIs to delete */
	size_t ndel;
};
/* GSA_INBAND_REKEY to each kept member of r->tag: the number of members it
 * was sent or queued to, or a negative gdoi_err. */
int gike2_gcks_engine_inband_rekey(struct gike2_gcks_engine *e, const struct gike2_gcks_inband *r,
				   struct gdoi_now now);
/* Deletes (INFORMATIONAL Delete) every IKE SA whose peer authenticated as
 * id (an evicted member); the number deleted. */
size_t gike2_gcks_engine_delete_peer(struct gike2_gcks_engine *e, const struct gdoi_ike2_id *id,
				     struct gdoi_now now);
/* After a reconfiguration: every established IKE SA whose peer allowed() refuses
 * (tag: the group its kept registration named, 0 if not kept) is deleted with
 * an INFORMATIONAL Delete, why in its SA_CLOSED event. The number deleted. */
size_t gike2_gcks_engine_prune(struct gike2_gcks_engine *e,
			       bool (*allowed)(void *ctx, const struct gdoi_ike2_id *id, uint64_t tag),
			       void *ctx, const char *why, struct gdoi_now now);
/* Shutdown: an INFORMATIONAL Delete (RFC 7296 §1.4.1) of every established IKE
 * SA queued, no answer awaited, nothing kept; the number of SAs (no events). */
size_t gike2_gcks_engine_delete_all(struct gike2_gcks_engine *e, struct gdoi_now now);
size_t gike2_gcks_engine_kept(const struct gike2_gcks_engine *e);

#endif
