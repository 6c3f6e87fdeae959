/*
 * registrar_ikev2.h - the G-IKEv2 front end of the key server
 * (registrar_ikev2.c): one per registrar, beside its GDOI engine.
 */
#ifndef KS_REGISTRAR_IKEV2_H
#define KS_REGISTRAR_IKEV2_H

#include <uv.h>

#include "gdoi/bytes.h"
#include "gdoi/engine.h"

struct ks_udpb;

struct ks;
struct ks_ikev2;

/* Certificate credentials for signature authentication (RFC 7427), the
 * registrar's ([server] certificate, private_key, ca): borrowed, they must
 * outlive the front end. */
struct gdoi_key;
struct gdoi_trust;
struct ks_ikev2_cred {
	const struct gdoi_key *key;
	gdoi_bytes cert;		/* DER */
	struct gdoi_trust *trust;
};

/* *out NULL (and 0) when no group's protocols include g-ikev2. udpb: udp's
 * sender. lock: the key server's, for a worker's registrar; NULL on the main
 * thread. cred: NULL or without a key: PSK authentication only. */
int ks_ikev2_new(struct ks *ks, uv_udp_t *udp, struct ks_udpb *udpb, uv_mutex_t *lock,
		 const struct ks_ikev2_cred *cred, struct ks_ikev2 **out);
/* A reload: x (made from the new configuration) takes over old's engine, whose
 * IKE SAs (kept ones: GSA_INBAND_REKEY) go on under x's configuration. */
void ks_ikev2_adopt(struct ks_ikev2 *x, struct ks_ikev2 *old);
void ks_ikev2_free(struct ks_ikev2 *x);
/* One IKEv2 datagram (gdoi_engine_classify said GDOI_FE_IKEV2). */
void ks_ikev2_input(struct ks_ikev2 *x, const uint8_t *msg, size_t len, const struct gdoi_addr *peer,
		    struct gdoi_now now);

/* GSA_INBAND_REKEY of the group's current policy (g->pol) to each member
 * registered here whose group has gikev2_rekey inband or both, with the
 * Deletes dels; the number of members it went to. */
struct ks_group;
struct gdoi_push_delete;
int ks_ikev2_inband(struct ks_ikev2 *x, struct ks_group *g, const struct gdoi_push_delete *dels,
		    size_t ndels);
/* Deletes the IKE SAs of an evicted member (INFORMATIONAL Delete). */
struct ks_member_cfg;
size_t ks_ikev2_evict(struct ks_ikev2 *x, const struct ks_member_cfg *m);
/* Shutdown: an INFORMATIONAL Delete of each established IKE SA, sent now (waiting for
 * a full socket at most KS_IKEV2_DELETE_MS), no answer awaited; the number of SAs. */
#define KS_IKEV2_DELETE_MS 250
size_t ks_ikev2_shutdown(struct ks_ikev2 *x);
/* Retransmissions and IKE SA lifetimes; the engine's next deadline (0 = none). */
void ks_ikev2_timer(struct ks_ikev2 *x, struct gdoi_now now);
uint64_t ks_ikev2_deadline(const struct ks_ikev2 *x);

#endif
