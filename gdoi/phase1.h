/*
 * phase1.h - IKEv1 Phase 1 (Main Mode, RFC 2409 §5) for GDOI, both roles,
 * as sans-I/O state machines: datagrams and "now" (milliseconds on any
 * monotonic clock) go in; datagrams to send, the next timer deadline and
 * events come out. The Phase 1 SA then protects GROUPKEY-PULL and
 * Informational exchanges (pull.h, gdoi_p1_send_notify/_delete).
 *
 * Initiator (group member):  gdoi_p1_initiate -> gdoi_p1_input / gdoi_p1_timer.
 * Responder (key server):    gdoi_p1_responder_new -> gdoi_p1_responder_input,
 *   which answers Main Mode message 1 without keeping any per-peer state
 *   (the responder cookie is a MAC of the initiator's cookie, address and
 *   offer under a rotating local secret) and creates an SA only when a
 *   message 3 proves the peer received that cookie.
 */
#ifndef GDOI_PHASE1_H
#define GDOI_PHASE1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "payload.h"

struct gdoi_key;
struct gdoi_trust;
struct gdoi_ike_keys;

/* A peer's transport address: 4 or 16 octets of IP address and a port. */
struct gdoi_addr {
	uint8_t len;
	uint8_t ip[16];
	uint16_t port;
};

/* One Phase 1 transform: IKE attribute numbers (numbers.h). */
struct gdoi_p1_suite {
	uint16_t enc;		/* GDOI_IKE_ENC_AES or _3DES */
	uint16_t key_bits;	/* AES: 128, 192, 256; 3DES: 0 */
	uint16_t hash;		/* GDOI_IKE_HASH_* */
	uint16_t group;		/* 2, 5, 14, 15, 16, 19, 20, 21 */
	uint16_t auth;		/* GDOI_IKE_AUTH_PSK, _RSA_SIG, _ECDSA_256/384/521 */
	uint32_t lifetime;	/* seconds */
};

/* The modern default offer (AES-CBC-256/SHA-256/group 19, AES-CBC-128/SHA-256/group 14),
 * and the legacy suite of the GDOI reference implementation (3DES/SHA-1/MODP-1024),
 * which a configuration must switch on explicitly. auth and lifetime are filled in by
 * gdoi_p1_suites_default(). */
size_t gdoi_p1_suites_default(uint16_t auth, uint32_t lifetime, bool legacy,
			      struct gdoi_p1_suite *out, size_t cap);

/* A pre-shared key, selected by the peer's address (Main Mode can only know
 * the address when keys are needed: RFC 2409 §5.4) or, by the responder, by
 * trying each ID-bound key against message 5. id.type 0 = any identity,
 * addr.len 0 = any address. */
struct gdoi_p1_psk {
	struct gdoi_id id;
	struct gdoi_addr addr;
	gdoi_bytes key;
};

struct gdoi_p1_config {
	const struct gdoi_p1_suite *suites;	/* in order of preference */
	size_t nsuites;
	struct gdoi_id local_id;		/* sent in message 5 / 6 */
	const struct gdoi_p1_psk *psks;
	size_t npsks;
	/* Signature authentication: our key pair, our certificate (DER), the CAs
	 * that certify peers. */
	const struct gdoi_key *key;
	gdoi_bytes cert;
	struct gdoi_trust *trust;
	/* Wall clock (Unix seconds) for certificate validity; the caller's clock. */
	int64_t (*unix_now)(void *ctx);
	/* Authorization of an authenticated peer, with the Authentication
	 * Method it authenticated by (GDOI_IKE_AUTH_PSK or a signature method:
	 * a front end may allow a peer one kind only); NULL accepts any. */
	bool (*peer_allowed)(void *ctx, const struct gdoi_id *id, uint16_t auth,
			     const struct gdoi_addr *addr);
	void *ctx;
	size_t nonce_len;		/* 0 = 32 */
	uint32_t retransmit_ms;		/* first retransmission; doubles; 0 = 1000 */
	unsigned max_transmits;		/* 0 = 5 */
	uint32_t exchange_timeout_ms;	/* whole Main Mode; 0 = 30000 */
	unsigned soft_lifetime_pct;	/* rekey due at this % of the lifetime; 0 = 85 */
	bool initial_contact;		/* initiator: add INITIAL-CONTACT to message 5 */
};

enum gdoi_p1_event {
	GDOI_P1_EV_NONE = 0,
	GDOI_P1_EV_ESTABLISHED,	/* keys ready; peer authenticated and authorized */
	GDOI_P1_EV_FAILED,	/* negotiation failed: see notify/err/reason */
	GDOI_P1_EV_REKEY,	/* soft lifetime reached: start a new Phase 1 */
	GDOI_P1_EV_EXPIRED,	/* hard lifetime reached: the SA is dead */
	GDOI_P1_EV_DELETED,	/* the peer deleted the SA (Informational Delete) */
	GDOI_P1_EV_NOTIFY,	/* an authenticated Informational Notify arrived */
};

/* What one call produced. out is a datagram to send to the peer (free()). */
struct gdoi_p1_result {
	uint8_t *out;
	size_t out_len;
	enum gdoi_p1_event event;
	uint16_t notify;	/* Notify type sent or received, 0 if none */
	int err;		/* gdoi_err of the failure, 0 if none */
	char reason[160];	/* for the log; never contains secrets */
};
void gdoi_p1_result_clear(struct gdoi_p1_result *r);

struct gdoi_p1_sa;

/* Initiator: a new SA and message 1 in res->out. */
int gdoi_p1_initiate(const struct gdoi_p1_config *cfg, const struct gdoi_addr *peer,
		     uint64_t now, struct gdoi_p1_sa **out, struct gdoi_p1_result *res);
/* A datagram for this SA (initiator, or responder SA found by cookies). */
int gdoi_p1_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		  struct gdoi_p1_result *res);
/* Next deadline (retransmission, exchange timeout, soft or hard expiry); 0 = none. */
uint64_t gdoi_p1_next_timer(const struct gdoi_p1_sa *sa);
void gdoi_p1_timer(struct gdoi_p1_sa *sa, uint64_t now, struct gdoi_p1_result *res);
/* The retransmission interval rto, at most cap_ms (0 = no cap). */
static inline uint32_t gdoi_rto_capped(uint32_t rto, uint32_t cap_ms)
{
	return cap_ms && rto > cap_ms ? cap_ms : rto;
}
/* Retransmissions of this SA's exchange at most cap_ms apart from now on (the
 * doubling stops there; a pending one moves earlier); 0 lifts the cap. */
void gdoi_p1_cap_retransmit(struct gdoi_p1_sa *sa, uint64_t now, uint32_t cap_ms);
void gdoi_p1_free(struct gdoi_p1_sa *sa);

bool gdoi_p1_established(const struct gdoi_p1_sa *sa);
bool gdoi_p1_dead(const struct gdoi_p1_sa *sa);
void gdoi_p1_cookies(const struct gdoi_p1_sa *sa, uint8_t icookie[8], uint8_t rcookie[8]);
const struct gdoi_id *gdoi_p1_peer_id(const struct gdoi_p1_sa *sa);
const struct gdoi_addr *gdoi_p1_peer_addr(const struct gdoi_p1_sa *sa);
const struct gdoi_p1_suite *gdoi_p1_suite(const struct gdoi_p1_sa *sa);
const struct gdoi_ike_keys *gdoi_p1_keys(const struct gdoi_p1_sa *sa);

/*
 * An established SA from keys derived elsewhere: known-answer tests against
 * recorded exchanges, and tools. last_block is the last CBC block of Phase 1
 * (the seed of Phase 2 IVs). cfg must outlive the SA.
 */
int gdoi_p1_sa_import(const struct gdoi_p1_config *cfg, const struct gdoi_p1_suite *suite,
		      bool initiator, const uint8_t icookie[8], const uint8_t rcookie[8],
		      const struct gdoi_ike_keys *keys, const uint8_t *last_block,
		      const struct gdoi_addr *peer, uint64_t now, struct gdoi_p1_sa **out);

/* Informational exchange under an established SA (HASH(1) protected, RFC 2409 §5.7). */
int gdoi_p1_send_notify(struct gdoi_p1_sa *sa, uint16_t type, gdoi_bytes data,
			struct gdoi_p1_result *res);
/* Deletes the ISAKMP SA: sends the Delete and marks the SA dead. */
int gdoi_p1_send_delete(struct gdoi_p1_sa *sa, struct gdoi_p1_result *res);

/*
 * Phase 2 IV chains (RFC 2409 App. B), one per Message ID: the IV to use for
 * the next message of exchange msgid (first one derived from the last Phase 1
 * block), and the commit of the last ciphertext block once a message of that
 * exchange has been sent or authenticated.
 */
int gdoi_p1_iv_get(struct gdoi_p1_sa *sa, uint32_t msgid, uint8_t *iv);
void gdoi_p1_iv_set(struct gdoi_p1_sa *sa, uint32_t msgid, const uint8_t *iv);
void gdoi_p1_iv_drop(struct gdoi_p1_sa *sa, uint32_t msgid);

/* ---- responder --------------------------------------------------------- */

struct gdoi_p1_responder;

struct gdoi_p1_responder *gdoi_p1_responder_new(const struct gdoi_p1_config *cfg, uint64_t now);
void gdoi_p1_responder_free(struct gdoi_p1_responder *r);
/*
 * A datagram from peer. Handles Main Mode and Informational exchanges; *sa
 * (may be NULL) receives the SA the datagram belongs to, if any, so that
 * the caller can hand other exchanges (GROUPKEY-PULL) to their layer.
 * SAs stay owned by the responder.
 */
int gdoi_p1_responder_input(struct gdoi_p1_responder *r, const uint8_t *msg, size_t len,
			    const struct gdoi_addr *peer, uint64_t now,
			    struct gdoi_p1_result *res, struct gdoi_p1_sa **sa);
struct gdoi_p1_sa *gdoi_p1_responder_find(struct gdoi_p1_responder *r, const uint8_t icookie[8],
					  const uint8_t rcookie[8]);
/* Expires dead and timed-out SAs; returns the next deadline (0 = none). */
uint64_t gdoi_p1_responder_expire(struct gdoi_p1_responder *r, uint64_t now);
/* Counters, for tests and status. */
size_t gdoi_p1_responder_sa_count(const struct gdoi_p1_responder *r);
size_t gdoi_p1_responder_pending_count(const struct gdoi_p1_responder *r);

#endif
