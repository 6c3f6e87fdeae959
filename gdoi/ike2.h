/*
 * ike2.h - the IKEv2 core (RFC 7296) as sans-I/O state machines, both roles:
 * IKE_SA_INIT (cookies under load §2.6, INVALID_KE_PAYLOAD retry §1.2),
 * IKE_AUTH (PSK, auth method 2, or RFC 7427 Digital Signature, method 14,
 * with X.509 certificates), INFORMATIONAL (Delete of the IKE SA,
 * liveness), a window of one, retransmission with backoff, RFC 7383
 * fragmentation, and further exchanges on the established SA for G-IKEv2
 * (RFC 9838: GSA_AUTH, GSA_REGISTRATION, GSA_INBAND_REKEY ride on this layer).
 *
 * Like phase1.h: datagrams and "now" (monotonic milliseconds) go in;
 * datagrams to send, the next deadline and events come out. Nothing here
 * does I/O or reads a clock.
 *
 * Initiator:  gdoi_ike2_initiate -> gdoi_ike2_input / gdoi_ike2_timer.
 * Responder:  gdoi_ike2_responder_new -> gdoi_ike2_responder_input; it
 *   answers IKE_SA_INIT and keeps a half-open SA, or, once more than
 *   cookie_threshold SAs are half open, answers statelessly with a COOKIE
 *   until the initiator returns it (§2.6).
 *
 * G-IKEv2 plugs in through struct gdoi_ike2_hooks:
 *   - auth_add:      the initiator adds payloads to its IKE_AUTH (GSA_AUTH)
 *                    request (IDg, ...);
 *   - auth_request:  the responder, after the peer's AUTH verified, reads the
 *                    other payloads of the request and adds its own to the
 *                    response (GSA, KD, ...) -- no child SA is needed;
 *   - auth_response: the initiator, after the responder's AUTH verified, reads
 *                    the other payloads of the response;
 *   - request:       a request of any other exchange type (or an
 *                    INFORMATIONAL other than a Delete of the IKE SA) on the
 *                    established SA; the hook fills the response;
 *   - response:      the response to gdoi_ike2_send_request.
 * Payloads cross the hooks as (type, body) pairs: the generic payload header
 * is built and parsed here; bodies are borrowed for the call only.
 */
#ifndef GDOI_IKE2_H
#define GDOI_IKE2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"	/* enum gdoi_md */
#include "phase1.h"	/* struct gdoi_addr */

struct gdoi_key;
struct gdoi_trust;

/* One IKE SA transform set (numbers in ike2_numbers.h). For an AEAD
 * (ENCR_AES_GCM_16) integ is 0. key_bits: 128, 192 or 256. */
struct gdoi_ike2_suite {
	uint16_t encr;		/* GDOI_IKE2_ENCR_AES_CBC or _AES_GCM_16 */
	uint16_t key_bits;
	uint16_t prf;		/* GDOI_IKE2_PRF_HMAC_SHA2_256/384/512 */
	uint16_t integ;		/* GDOI_IKE2_AUTH_HMAC_SHA2_*; 0 with GCM */
	uint16_t group;		/* 14, 19, 20, 31 */
};

/* Default offer: GCM-256/SHA-256/g19, CBC-256+SHA-256/SHA-256/g19, GCM-256/g31, ... */
size_t gdoi_ike2_suites_default(struct gdoi_ike2_suite *out, size_t cap);

/* An Identification payload: ID Type (GDOI_IKE2_ID_*) and its data. */
struct gdoi_ike2_id {
	uint8_t type;
	gdoi_bytes data;
};

/* A pre-shared key for peers whose ID matches (id.type 0 = any). */
struct gdoi_ike2_psk {
	struct gdoi_ike2_id id;
	gdoi_bytes key;
};

/* A payload as the hooks see it. critical: the C bit (RFC 7296 §3.2). */
struct gdoi_ike2_payload {
	uint8_t type;
	bool critical;
	gdoi_bytes body;	/* after the 4-octet generic header */
};

/* Payloads to send: bodies are copied in; the layer chains them in order.
 * Start from a zeroed struct; gdoi_ike2_plist_free when done. */
#define GDOI_IKE2_PLIST_MAX 32
struct gdoi_ike2_plist {
	size_t n;
	struct {
		uint8_t type;
		bool critical;
		size_t off, len;
	} p[GDOI_IKE2_PLIST_MAX];
	struct gdoi_writer buf;
};
/* 0, GDOI_ERR_TOO_BIG (more than GDOI_IKE2_PLIST_MAX) or GDOI_ERR_NOMEM. */
int gdoi_ike2_plist_add(struct gdoi_ike2_plist *l, uint8_t type, bool critical,
			const void *body, size_t len);
/* A Notify payload (protocol 0, no SPI) with data. */
int gdoi_ike2_plist_notify(struct gdoi_ike2_plist *l, uint16_t type, const void *data,
			   size_t len);
void gdoi_ike2_plist_free(struct gdoi_ike2_plist *l);	/* wipes */

struct gdoi_ike2_sa;

/*
 * Hooks. Each returns 0, or a negative gdoi_err to refuse; *notify (when
 * not NULL) may name the error Notify type to answer with (default:
 * AUTHENTICATION_FAILED in IKE_AUTH, INVALID_SYNTAX elsewhere). in[] holds
 * every payload of the message except those this layer consumed (IDi/IDr,
 * AUTH, CERT, CERTREQ and the Notifies it handles).
 */
struct gdoi_ike2_hooks {
	int (*auth_add)(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out);
	int (*auth_request)(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			    const struct gdoi_ike2_payload *in, size_t nin,
			    struct gdoi_ike2_plist *out, uint16_t *notify);
	int (*auth_response)(void *ctx, struct gdoi_ike2_sa *sa,
			     const struct gdoi_ike2_payload *in, size_t nin, uint16_t *notify);
	int (*request)(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
		       const struct gdoi_ike2_payload *in, size_t nin,
		       struct gdoi_ike2_plist *out, uint16_t *notify);
	void (*response)(void *ctx, struct gdoi_ike2_sa *sa, uint8_t exchange,
			 const struct gdoi_ike2_payload *in, size_t nin);
	void *ctx;
};

struct gdoi_ike2_config {
	const struct gdoi_ike2_suite *suites;	/* in order of preference */
	size_t nsuites;
	struct gdoi_ike2_id local_id;
	const struct gdoi_ike2_psk *psks;	/* PSK authentication (method 2) */
	size_t npsks;
	/* Digital Signature authentication (RFC 7427, method 14), named as in
	 * gdoi_p1_config: with key and cert (our end-entity certificate, DER) we
	 * sign and send CERT; with trust we accept a peer's signature whose
	 * certificate chains to one of these CAs and vouches for its ID. Without
	 * key, we authenticate with a PSK. sig_md: hash we sign with
	 * (GDOI_MD_SHA256/384/512; 0 = SHA-256, or another the peer announced
	 * in SIGNATURE_HASH_ALGORITHMS when it did not announce SHA-256).
	 * The initiator signs whenever it has a key; the responder answers with
	 * the method the initiator used (a signature only when it has a key). */
	const struct gdoi_key *key;
	gdoi_bytes cert;
	struct gdoi_trust *trust;
	enum gdoi_md sig_md;
	bool rsa_pss;		/* an RSA key signs RSASSA-PSS with SHA-256 (sig_md unused) */
	/* Wall clock (Unix seconds) for certificate validity; the caller's clock. */
	int64_t (*unix_now)(void *ctx);
	/* Authorization of an authenticated peer, with the AUTH method it
	 * authenticated by (GDOI_IKE2_AUTH_SHARED_KEY or _DIGITAL_SIG: a front
	 * end may allow a peer one method only); NULL accepts any. */
	bool (*peer_allowed)(void *ctx, const struct gdoi_ike2_id *id, uint8_t auth_method,
			     const struct gdoi_addr *addr);
	void *ctx;
	struct gdoi_ike2_hooks hooks;
	/* Exchange type of the authentication exchange the initiator sends: 0 =
	 * IKE_AUTH; G-IKEv2 sets GSA_AUTH. The responder accepts IKE_AUTH and
	 * the types listed in auth_exchanges. */
	uint8_t auth_exchange;
	const uint8_t *auth_exchanges;
	size_t nauth_exchanges;
	/* Payload types outside RFC 7296 that this peer understands (G-IKEv2's):
	 * passed to the hooks; any other unknown payload with the critical bit
	 * set is refused with UNSUPPORTED_CRITICAL_PAYLOAD (§2.5). */
	const uint8_t *extra_payloads;
	size_t nextra_payloads;
	size_t nonce_len;		/* 0 = 32 */
	uint32_t retransmit_ms;		/* first retransmission; doubles; 0 = 500 */
	unsigned max_transmits;		/* 0 = 5 */
	uint32_t retransmit_cap_ms;	/* 0 = 8000 */
	uint32_t exchange_timeout_ms;	/* IKE_SA_INIT + IKE_AUTH; 0 = 30000 */
	uint32_t half_open_timeout_ms;	/* responder; 0 = 30000 */
	/* Responder: cookies once at least this many SAs are half open
	 * (0 = 100; UINT32_MAX = never). */
	uint32_t cookie_threshold;
	/* RFC 7383: offer fragmentation, and fragment protected messages that
	 * would exceed fragment_size octets (IP payload; 0 = 1280 - 48). */
	bool fragmentation;
	size_t fragment_size;
	unsigned max_fragments;		/* reassembly limit; 0 = 64 */
	size_t max_reassembly;		/* reassembly limit in octets; 0 = 65536 */
	bool childless;			/* send CHILDLESS_IKEV2_SUPPORTED (RFC 6023) */
	/* Initiator: put the 4-octet Non-ESP Marker (RFC 3948 §2.2, RFC 7296
	 * §2.23) before each message, for a peer port other than 500 that
	 * expects it. Either role strips a marker that arrives (a datagram whose
	 * first four octets are zero: no IKE SPI of ours starts so), and an SA
	 * then marks its own datagrams as its peer does. strongSwan's charon
	 * marks every message to a port other than 500 (seen here, 5.9.8). */
	bool nonesp_marker;
	bool initial_contact;		/* initiator: INITIAL_CONTACT in IKE_AUTH */
	/* Optional, for debugging only: called once per SA when it is
	 * established, with its SK_* keys readable (gdoi_ike2_keys), e.g. to
	 * write a tshark / gdoi-dump decryption table. */
	void (*keys_ready)(void *ctx, const struct gdoi_ike2_sa *sa);
	void *keys_ctx;
};

enum gdoi_ike2_event {
	GDOI_IKE2_EV_NONE = 0,
	GDOI_IKE2_EV_ESTABLISHED,	/* IKE_AUTH done: keys ready, peer authenticated */
	GDOI_IKE2_EV_FAILED,		/* negotiation or exchange failed: see notify/err */
	GDOI_IKE2_EV_DELETED,		/* the peer deleted the IKE SA */
	GDOI_IKE2_EV_RESPONSE,		/* a response to gdoi_ike2_send_request arrived */
	GDOI_IKE2_EV_REQUEST,		/* a request on the SA was answered (hooks.request) */
};

/* What one call produced: datagrams to send to the peer (each free()d by
 * gdoi_ike2_result_clear), an event, the Notify sent or received. */
#define GDOI_IKE2_MAX_OUT 64
struct gdoi_ike2_result {
	size_t nout;
	uint8_t *out[GDOI_IKE2_MAX_OUT];
	size_t out_len[GDOI_IKE2_MAX_OUT];
	enum gdoi_ike2_event event;
	uint16_t notify;
	int err;
	char reason[160];	/* for the log; never contains secrets */
};
void gdoi_ike2_result_clear(struct gdoi_ike2_result *r);

/* ---- initiator ---------------------------------------------------------- */

/* A new SA and its IKE_SA_INIT request in res->out. cfg must outlive the SA. */
int gdoi_ike2_initiate(const struct gdoi_ike2_config *cfg, const struct gdoi_addr *peer,
		       uint64_t now, struct gdoi_ike2_sa **out, struct gdoi_ike2_result *res);
/* A datagram for this SA (initiator, or a responder SA found by SPIs). */
int gdoi_ike2_input(struct gdoi_ike2_sa *sa, const uint8_t *msg, size_t len, uint64_t now,
		    struct gdoi_ike2_result *res);
/* Next deadline (retransmission or timeout); 0 = none. */
uint64_t gdoi_ike2_next_timer(const struct gdoi_ike2_sa *sa);
void gdoi_ike2_timer(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res);
void gdoi_ike2_free(struct gdoi_ike2_sa *sa);

/* ---- on an established SA (either role) -------------------------------- */

/* Sends a request of exchange type (GSA_REGISTRATION, GSA_INBAND_REKEY,
 * INFORMATIONAL, ...) with the payloads in pl, protected in an SK (or SKF)
 * payload. GDOI_ERR_STATE while a request of ours is outstanding (window 1). */
int gdoi_ike2_send_request(struct gdoi_ike2_sa *sa, uint8_t exchange,
			   const struct gdoi_ike2_plist *pl, uint64_t now,
			   struct gdoi_ike2_result *res);
/* Deletes the IKE SA: INFORMATIONAL with D(IKE); the SA is dead at once. */
int gdoi_ike2_send_delete(struct gdoi_ike2_sa *sa, uint64_t now, struct gdoi_ike2_result *res);
bool gdoi_ike2_request_pending(const struct gdoi_ike2_sa *sa);

bool gdoi_ike2_established(const struct gdoi_ike2_sa *sa);
bool gdoi_ike2_dead(const struct gdoi_ike2_sa *sa);
bool gdoi_ike2_is_initiator(const struct gdoi_ike2_sa *sa);
void gdoi_ike2_spis(const struct gdoi_ike2_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8]);
const struct gdoi_ike2_id *gdoi_ike2_peer_id(const struct gdoi_ike2_sa *sa);
/* The AUTH method the peer authenticated with (0 before it did). */
uint8_t gdoi_ike2_peer_auth_method(const struct gdoi_ike2_sa *sa);
const struct gdoi_addr *gdoi_ike2_peer_addr(const struct gdoi_ike2_sa *sa);
const struct gdoi_ike2_suite *gdoi_ike2_suite(const struct gdoi_ike2_sa *sa);
/* Ni and Nr as sent (G-IKEv2 key derivation, RFC 9838 §2.4 uses them). */
gdoi_bytes gdoi_ike2_nonce(const struct gdoi_ike2_sa *sa, bool initiator);
/* SK_d (prf key length), for KEYMAT = prf+(SK_d, ...) of G-IKEv2. */
gdoi_bytes gdoi_ike2_sk_d(const struct gdoi_ike2_sa *sa);
/* All SK_* keys (tests, gdoi-dump, tshark's decryption table). */
const struct gdoi_ike2_keys *gdoi_ike2_keys(const struct gdoi_ike2_sa *sa);
/* Opaque per-SA slot for the front end (G-IKEv2 member/GCKS state). */
void gdoi_ike2_set_user(struct gdoi_ike2_sa *sa, void *user);
void *gdoi_ike2_user(const struct gdoi_ike2_sa *sa);

/* ---- responder ---------------------------------------------------------- */

struct gdoi_ike2_responder;

struct gdoi_ike2_responder *gdoi_ike2_responder_new(const struct gdoi_ike2_config *cfg,
						    uint64_t now);
void gdoi_ike2_responder_free(struct gdoi_ike2_responder *r);
/* A datagram from peer: IKE_SA_INIT creates (or, under load, asks for a
 * cookie); anything else goes to the SA found by its SPIs. *sa (may be NULL)
 * receives that SA. SAs stay owned by the responder. */
int gdoi_ike2_responder_input(struct gdoi_ike2_responder *r, const uint8_t *msg, size_t len,
			      const struct gdoi_addr *peer, uint64_t now,
			      struct gdoi_ike2_result *res, struct gdoi_ike2_sa **sa);
struct gdoi_ike2_sa *gdoi_ike2_responder_find(struct gdoi_ike2_responder *r,
					      const uint8_t spi_i[8], const uint8_t spi_r[8]);
/* Runs the SAs' timers, frees dead and timed-out SAs; datagrams to resend
 * go to res; returns the next deadline (0 = none). */
uint64_t gdoi_ike2_responder_expire(struct gdoi_ike2_responder *r, uint64_t now,
				    struct gdoi_ike2_result *res);
size_t gdoi_ike2_responder_sa_count(const struct gdoi_ike2_responder *r);
size_t gdoi_ike2_responder_half_open(const struct gdoi_ike2_responder *r);
/* Iterates the established SAs (G-IKEv2 GCKS: inband rekey to every member). */
struct gdoi_ike2_sa *gdoi_ike2_responder_next(struct gdoi_ike2_responder *r,
					      struct gdoi_ike2_sa *prev);

#endif
