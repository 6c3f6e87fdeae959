/* phase1_int.h - internals shared by the phase1_*.c files. Not installed. */
#ifndef GDOI_PHASE1_INT_H
#define GDOI_PHASE1_INT_H

#include "arena.h"
#include "crypto.h"
#include "dh.h"
#include "err.h"
#include "ike_keys.h"
#include "phase1.h"
#include "wire.h"

#define P1_MIN_NONCE 8		/* RFC 2409 §5 */
#define P1_MAX_NONCE 256
#define P1_MAX_ID 512
#define P1_IV_CHAINS 8
#define P1_MAX_OFFER 2048	/* octets of an initiator's SA body we are willing to keep */

enum p1_state {
	P1_I_MM1_SENT,		/* initiator: waiting for message 2 */
	P1_I_MM3_SENT,		/* waiting for message 4 */
	P1_I_MM5_SENT,		/* waiting for message 6 */
	P1_R_MM4_SENT,		/* responder: waiting for message 5 */
	P1_ESTABLISHED,
	P1_DEAD,
};

struct p1_iv_chain {
	bool used;
	uint32_t msgid;
	uint64_t stamp;
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN];
};

/* What only Main Mode itself needs: kept apart so that an established SA
 * (one per registered member at the key server) stays small. */
struct p1_nego {
	uint8_t *sai_b;				/* body of the initiator's SA payload */
	size_t sai_b_len;
	struct gdoi_dh *dh;
	uint8_t gxi[GDOI_DH_MAX_PUBLIC_LEN], gxr[GDOI_DH_MAX_PUBLIC_LEN];
	size_t gx_len;
	uint8_t gxy[GDOI_DH_MAX_SECRET_LEN];
	size_t gxy_len;
	uint8_t ni[P1_MAX_NONCE], nr[P1_MAX_NONCE];
	size_t ni_len, nr_len;
};

struct gdoi_p1_sa {
	const struct gdoi_p1_config *cfg;
	struct gdoi_p1_sa *bucket_next;		/* responder table, by initiator cookie */
	struct gdoi_p1_sa *id_next;		/* responder table, by peer identity */
	bool id_linked;				/* established and in that table */
	bool initiator;
	enum p1_state state;
	uint8_t icookie[8], rcookie[8];
	struct gdoi_addr peer;
	struct gdoi_p1_suite suite;
	enum gdoi_md md;
	enum gdoi_cipher cipher;
	size_t blk;
	struct p1_nego *n;			/* until established, then wiped and freed */
	struct gdoi_ike_keys keys;
	bool have_keys;
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN];		/* Main Mode CBC chain */
	uint8_t last_block[GDOI_CIPHER_MAX_BLOCK_LEN];	/* seed of Phase 2 IVs */
	struct p1_iv_chain chains[P1_IV_CHAINS];
	uint64_t chain_clock;
	uint8_t *peer_id_buf;			/* exactly the peer ID's data */
	struct gdoi_id peer_id;
	bool peer_wants_cert;
	bool initial_contact;	/* the peer's message 5 said INITIAL-CONTACT */
	/* retransmission and timers */
	uint8_t *last_out;
	size_t last_out_len;
	uint8_t last_in[32];
	bool have_last_in;
	unsigned transmits;
	uint32_t rto;
	uint32_t rto_cap;	/* 0 = none (gdoi_p1_cap_retransmit) */
	uint64_t retransmit_at;
	uint64_t exchange_deadline;
	uint64_t soft_at, hard_at;
	bool soft_fired;
};

/* phase1.c */
int p1_fail(struct gdoi_p1_result *res, uint16_t notify, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A message dropped without harming the SA (not from the peer, malformed, stale). */
int p1_drop(struct gdoi_p1_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void p1_note(struct gdoi_p1_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct gdoi_p1_sa *p1_sa_new(const struct gdoi_p1_config *cfg, bool initiator,
			     const struct gdoi_addr *peer, uint64_t now);
/* Sends msg: keeps a copy for retransmission (when retransmit) and hands one out. */
int p1_send(struct gdoi_p1_sa *sa, struct gdoi_writer *w, uint64_t now, bool retransmit,
	    struct gdoi_p1_result *res);
/* True (and the last reply re-sent) when msg repeats the last accepted datagram. */
bool p1_duplicate(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		  struct gdoi_p1_result *res);
void p1_remember_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len);
void p1_header(struct gdoi_hdr *h, const struct gdoi_p1_sa *sa, uint8_t exchange, uint32_t msgid);
/* An unprotected Informational with one Notify (before keys exist or when
 * the peer is not authenticated). */
int p1_clear_notify(const uint8_t icookie[8], const uint8_t rcookie[8], uint16_t type,
		    struct gdoi_p1_result *res);
/* Copies id into sa->peer_id. */
int p1_set_peer_id(struct gdoi_p1_sa *sa, const struct gdoi_id *id);
void p1_established(struct gdoi_p1_sa *sa, uint64_t now, struct gdoi_p1_result *res);
void p1_nego_free(struct gdoi_p1_sa *sa);
int p1_check_nonce(size_t len, struct gdoi_p1_result *res);
int p1_store_ke(struct gdoi_p1_sa *sa, const struct gdoi_payload *ke, uint8_t *dst,
		struct gdoi_p1_result *res);
int p1_derive_gxy(struct gdoi_p1_sa *sa, const uint8_t *peer_pub, struct gdoi_p1_result *res);
int p1_handle_info(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len,
		   struct gdoi_p1_result *res);

/* phase1_initiator.c */
int p1_initiator_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		       struct gdoi_p1_result *res);
/* phase1_responder.c */
int p1_responder_sa_input(struct gdoi_p1_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
			  struct gdoi_p1_result *res);

/* phase1_proposal.c */
int p1_suite_from_transform(const struct gdoi_transform *t, struct gdoi_p1_suite *s);
bool p1_suite_usable(const struct gdoi_p1_suite *s);
/* The SA payload of message 1 (one proposal, one transform per suite). */
int p1_offer_payload(const struct gdoi_p1_config *cfg, struct gdoi_arena *a,
		     struct gdoi_payload *p);
/* Responder: first acceptable transform of the offer; fills the reply payload. */
int p1_choose(const struct gdoi_p1_config *cfg, const struct gdoi_sa_ike *offer,
	      struct gdoi_arena *a, struct gdoi_payload *reply, struct gdoi_p1_suite *chosen);
/* Initiator: the responder's choice must be one transform we offered, unchanged. */
int p1_accept_choice(const struct gdoi_p1_config *cfg, const struct gdoi_sa_ike *offer_sent,
		     const struct gdoi_sa_ike *reply, struct gdoi_p1_suite *chosen);
int p1_apply_suite(struct gdoi_p1_sa *sa, const struct gdoi_p1_suite *s);
bool p1_is_sig_auth(uint16_t auth);

/* phase1_auth.c */
/* Appends ID, [CERT], HASH_x or SIG_x (and [N(INITIAL-CONTACT)]) for message 5 / 6. */
int p1_auth_payloads(struct gdoi_p1_sa *sa, struct gdoi_arena *a, struct gdoi_payload *pl,
		     size_t *n);
/* Builds, encrypts (on sa->iv; the last block goes to next_iv) and sends message 5 / 6. */
int p1_send_auth(struct gdoi_p1_sa *sa, uint64_t now, bool retransmit, uint8_t *next_iv,
		 struct gdoi_p1_result *res);
/* Checks the peer's message 5 / 6 payloads: ID, HASH or CERT+SIG, authorization. */
int p1_auth_check(struct gdoi_p1_sa *sa, const struct gdoi_msg *m, struct gdoi_p1_result *res);
/* The PSK to use with the peer's address, or NULL (responder then tries ID-bound ones). */
const struct gdoi_p1_psk *p1_psk_by_addr(const struct gdoi_p1_config *cfg,
					 const struct gdoi_addr *peer);
int p1_derive_keys(struct gdoi_p1_sa *sa, const struct gdoi_p1_psk *psk);
bool p1_psk_id_ok(const struct gdoi_p1_psk *psk, const struct gdoi_msg *m);

#endif
