/*
 * ike2_int.h - what the IKEv2 state machine files share (ike2_sa.c: SA,
 * results, sending, retransmission, established exchanges; ike2_init.c:
 * IKE_SA_INIT and the responder; ike2_auth.c: IKE_AUTH).
 */
#ifndef GDOI_IKE2_INT_H
#define GDOI_IKE2_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dh.h"
#include "err.h"
#include "ike2.h"
#include "ike2_keys.h"
#include "ike2_numbers.h"
#include "ike2_sk.h"
#include "ike2_wire.h"

enum ike2_state {
	IKE2_S_INIT_SENT = 1,	/* initiator: IKE_SA_INIT request out */
	IKE2_S_AUTH_SENT,	/* initiator: IKE_AUTH request out */
	IKE2_S_HALF_OPEN,	/* responder: IKE_SA_INIT answered */
	IKE2_S_ESTABLISHED,
	IKE2_S_DEAD,
};

#define IKE2_MAX_DGRAMS GDOI_IKE2_MAX_OUT
#define IKE2_MAX_ID 512

/* Datagrams of one message (a whole SK message or its SKF fragments). */
struct ike2_dgrams {
	size_t n;
	uint8_t *d[IKE2_MAX_DGRAMS];
	size_t len[IKE2_MAX_DGRAMS];
};

/* Fragments of one message being reassembled (RFC 7383 §2.6). */
struct ike2_reasm {
	bool active;
	uint32_t msgid;
	bool response;
	uint8_t exchange;
	uint8_t first;
	uint16_t total, got;
	size_t bytes;
	uint8_t *part[IKE2_MAX_DGRAMS];
	size_t plen[IKE2_MAX_DGRAMS];
};

struct gdoi_ike2_sa {
	const struct gdoi_ike2_config *cfg;
	struct gdoi_ike2_responder *owner;	/* NULL for an initiator's SA */
	struct gdoi_ike2_sa *next;		/* the responder's list */
	struct gdoi_ike2_sa *bnext;		/* its bucket (by SPIi) */
	struct gdoi_ike2_sa *inext;		/* established: its bucket by peer identity */
	bool id_linked;
	bool initiator;
	enum ike2_state state;
	struct gdoi_addr peer;
	uint8_t spi_i[8], spi_r[8];
	struct gdoi_ike2_suite suite;
	struct gdoi_dh *dh;
	uint16_t group;			/* initiator: the group of our KE */
	unsigned init_tries;		/* initiator: cookie / INVALID_KE restarts */
	uint8_t ni[GDOI_IKE2_NONCE_MAX], nr[GDOI_IKE2_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t cookie[GDOI_IKE2_COOKIE_MAX];
	size_t cookie_len;
	uint8_t *msg1, *msg2;		/* IKE_SA_INIT request and response, for AUTH */
	size_t msg1_len, msg2_len;
	struct gdoi_ike2_keys *keys;
	bool frag;			/* both sides sent IKEV2_FRAGMENTATION_SUPPORTED */
	bool peer_frag;
	uint8_t peer_hashes;		/* bit n: the peer's SIGNATURE_HASH_ALGORITHMS has hash n */
	struct gdoi_ike2_id peer_id;
	uint8_t peer_id_buf[IKE2_MAX_ID];
	uint8_t peer_auth;		/* the AUTH method the peer used (verified) */
	bool initial_contact;		/* responder: the peer's IKE_AUTH had INITIAL_CONTACT */
	/* our requests (window 1) */
	uint32_t my_mid;
	bool pending;
	uint8_t pending_exch;
	bool pending_delete;
	struct ike2_dgrams req;
	uint32_t rto;
	unsigned transmits;
	uint64_t rexmit_at;
	/* the peer's requests */
	uint32_t peer_mid;		/* next Message ID expected */
	bool have_resp;
	struct ike2_dgrams resp;	/* answer to peer_mid - 1 */
	struct ike2_reasm rx;
	uint64_t deadline;		/* exchange / half-open timeout; 0 = none */
	bool marker;			/* the peer uses the Non-ESP Marker */
	void *user;
};

/* The responder finds an SA by SPIi in a table of buckets (SPIi is the
 * initiator's choice: mixed with a secret key first), not along its list,
 * and an established one by peer identity in a second table (INITIAL_CONTACT
 * replaces the identity's older SAs without a walk over every SA). */
#define IKE2_BUCKET_BITS 12
#define IKE2_BUCKETS (1u << IKE2_BUCKET_BITS)

struct gdoi_ike2_responder {
	const struct gdoi_ike2_config *cfg;
	struct gdoi_ike2_sa *head;
	struct gdoi_ike2_sa *bucket[IKE2_BUCKETS];
	struct gdoi_ike2_sa *by_id[IKE2_BUCKETS];
	uint64_t bucket_key;
	size_t count, half_open;
	uint8_t secret[32], old_secret[32];
	uint8_t secret_ver;
	uint64_t secret_born;
};

/* ike2_table.c: a new (half-open) SA into the list and the SPIi table; an
 * SA just established into the identity table (INITIAL_CONTACT: the
 * identity's older SAs killed); the first SA of spi_i's bucket (bnext on). */
void ike2_table_link(struct gdoi_ike2_responder *r, struct gdoi_ike2_sa *sa);
void ike2_table_established(struct gdoi_ike2_responder *r, struct gdoi_ike2_sa *fresh);
struct gdoi_ike2_sa *ike2_table_first(struct gdoi_ike2_responder *r, const uint8_t spi_i[8]);

/* config defaults */
size_t ike2_nonce_len(const struct gdoi_ike2_config *c);
size_t ike2_frag_size(const struct gdoi_ike2_config *c);

/* results */
int ike2_fail(struct gdoi_ike2_result *res, uint16_t notify, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int ike2_drop(struct gdoi_ike2_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends a copy of each datagram of d to res->out. */
int ike2_emit(struct gdoi_ike2_result *res, const struct ike2_dgrams *d);
int ike2_emit_one(struct gdoi_ike2_result *res, uint8_t *dgram, size_t len);	/* takes it */
void ike2_dgrams_free(struct ike2_dgrams *d);

/* SA lifetime */
struct gdoi_ike2_sa *ike2_sa_new(const struct gdoi_ike2_config *cfg, bool initiator,
				 const struct gdoi_addr *peer, uint64_t now);
void ike2_sa_kill(struct gdoi_ike2_sa *sa);	/* DEAD; drops secrets */

/* Header of a message this SA sends. */
void ike2_hdr(const struct gdoi_ike2_sa *sa, struct gdoi_ike2_hdr *h, uint8_t exch,
	      bool response, uint32_t mid);
/* Builds the inner chain of pl (and extra payloads built by the caller in
 * b) into a protected message; a request is remembered for retransmission,
 * a response for the peer's retransmissions. */
int ike2_send_protected(struct gdoi_ike2_sa *sa, uint8_t exch, bool response, uint32_t mid,
			uint8_t first, gdoi_bytes inner, uint64_t now, struct gdoi_ike2_result *res);
/* A protected answer of N(type[, data]) alone to request mid. */
int ike2_answer_notify(struct gdoi_ike2_sa *sa, uint8_t exch, uint32_t mid, uint16_t type,
		       gdoi_bytes data, uint64_t now, struct gdoi_ike2_result *res);
/* IKE_AUTH done: ESTABLISHED, the IKE_SA_INIT messages dropped, the event set. */
void ike2_set_established(struct gdoi_ike2_sa *sa, struct gdoi_ike2_result *res);
/* Inner chain builder for a plist. */
void ike2_put_plist(struct gdoi_ike2_builder *b, const struct gdoi_ike2_plist *pl);
/* Starts the retransmission of sa->req. */
void ike2_arm(struct gdoi_ike2_sa *sa, uint64_t now);

/*
 * Decrypts a protected message (SK, or SKF reassembled) and parses its inner
 * chain into c; *pt holds the plaintext c borrows (wipe-free it with pt_len).
 * Returns 1 when a fragment was stored and the message is not complete yet.
 */
int ike2_open(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len,
	      const struct gdoi_ike2_hdr *h, const struct gdoi_ike2_chain *outer,
	      struct gdoi_ike2_chain *c, uint8_t **pt, size_t *pt_len, struct gdoi_ike2_result *res);

/* IKE_SA_INIT (ike2_init.c) */
int ike2_init_response(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len,
		       const struct gdoi_ike2_hdr *h, uint64_t now, struct gdoi_ike2_result *res);

/* IKE_AUTH (ike2_auth.c) */
int ike2_auth_send(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res);
int ike2_auth_request(struct gdoi_ike2_sa *sa, uint8_t exch, const struct gdoi_ike2_chain *c,
		      uint64_t now, struct gdoi_ike2_result *res);
int ike2_auth_response(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *c,
		       uint64_t now, struct gdoi_ike2_result *res);
bool ike2_is_auth_exchange(const struct gdoi_ike2_config *cfg, uint8_t exch);
/* <SignedOctets> of RFC 7296 §2.15 for the side of_initiator, as three parts
 * (RealMessage, the other side's nonce, prf(SK_p, IDx')); macid (GDOI_MD_MAX_LEN
 * octets) holds the last one: wipe it after use. */
int ike2_signed_octets(const struct gdoi_ike2_sa *sa, bool of_initiator, gdoi_bytes id_body,
		       uint8_t *macid, gdoi_bytes parts[3]);

/* ike2_sig.c: Digital Signature authentication (RFC 7427). */
bool ike2_sig_enabled(const struct gdoi_ike2_config *cfg);
/* The SIGNATURE_HASH_ALGORITHMS data we announce (SHA2-256, -384, -512). */
gdoi_bytes ike2_sig_hashes(void);
/* The peer's announcement as a bit set (bit n = hash n); 0 when absent. */
uint8_t ike2_sig_hashes_parse(const struct gdoi_ike2_chain *c);
/* Our CERT and AUTH (method 14) payloads; id_body is our ID payload body. */
int ike2_sig_put_cert(struct gdoi_ike2_sa *sa, struct gdoi_ike2_builder *b);
/* A CERTREQ (encoding 4) naming our trust anchors (RFC 7296 §3.7), when we
 * verify certificates (cfg->trust with anchors): charon, send_cert = ifasked,
 * sends its certificate only when asked. Nothing otherwise. */
void ike2_sig_put_certreq(const struct gdoi_ike2_config *cfg, struct gdoi_ike2_builder *b);
int ike2_sig_put_auth(struct gdoi_ike2_sa *sa, struct gdoi_ike2_builder *b, gdoi_bytes id_body);
/* Verifies the peer's certificate chain, that it vouches for id, and the
 * signature in a (method 14) over the peer's signed octets. */
int ike2_sig_verify(struct gdoi_ike2_sa *sa, const struct gdoi_ike2_chain *c,
		    const struct gdoi_ike2_id *id, gdoi_bytes id_body,
		    const struct gdoi_ike2_auth *a, struct gdoi_ike2_result *res);

/* gdoi_ike2_input without the Non-ESP Marker handling. */
int ike2_input(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
	       struct gdoi_ike2_result *res);
/* Non-ESP Marker (RFC 3948 §2.2): true if msg starts with one (then skipped). */
bool ike2_unmark(const uint8_t **msg, size_t *len);
/* Prefixes the marker to res->out[from..] when marker. */
int ike2_mark(bool marker, struct gdoi_ike2_result *res, size_t from);
/* A random SPI whose first four octets are not all zero. */
int ike2_random_spi(uint8_t spi[8]);

/* Copies the chain's payloads not in skip[] into in[] (for the hooks). */
size_t ike2_hook_payloads(const struct gdoi_ike2_chain *c, const uint8_t *skip, size_t nskip,
			  struct gdoi_ike2_payload *in, size_t cap);

#endif
