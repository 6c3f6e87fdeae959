/*
 * gdoisrtp.h - libgdoisrtp: SRTP keys from the local gdoi-sidecar, and
 * libsrtp2 sessions that stay keyed across GDOI rekeys without losing a packet.
 *
 * Three parts, usable separately:
 *   - a client of the sidecar's Unix socket (docs/ipc.md): open, subscribe,
 *     a pollable fd and a callback for event loops, or a blocking wait;
 *   - policy builders: srtp_policy_t for a sender or a receiver from one TEK
 *     of a snapshot (profile, master key and salt, MKI = SPI, replay window);
 *   - a session helper that owns libsrtp2 contexts, applies every new
 *     snapshot (receivers hold old and new keys, senders switch at the TEK's
 *     not_before), and recovers the ROC of a stream joined late.
 *
 * Every function returning int returns 0 (or a count) on success and a
 * negative GDOISRTP_ERR_* on failure; gdoisrtp_strerror() names it. Each
 * declaration lists the codes it can return ("Returns: ..."); INVAL (a NULL
 * or out-of-range argument) is among them wherever a pointer is taken.
 * Every object is released with its *_free function (NULL is fine); key
 * material is wiped first. Keys live in library-owned pages, mlock'ed where
 * the process may lock memory and left out of core dumps (MADV_DONTDUMP);
 * no public structure holds key bytes.
 * Times ("now") are passed in by the caller, in milliseconds since the Unix
 * epoch (gdoisrtp_now_ms() reads the wall clock), so tests are deterministic.
 * Objects are not thread-safe: use one from one thread at a time.
 * Full guide with a complete example: docs/bridge.md.
 */
#ifndef GDOISRTP_H
#define GDOISRTP_H

#include <stddef.h>
#include <stdint.h>

#include <srtp2/srtp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shared library is built with -fvisibility=hidden: what this header
 * declares is exactly what it exports. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define GDOISRTP_VERSION "0.1.0"
#define GDOISRTP_DEFAULT_SOCKET "/run/gdoi-sidecar/sidecar.sock"
/* Environment variable naming the sidecar socket when a program passes no path
 * (the same one gdoictl reads). */
#define GDOISRTP_SOCKET_ENV "GDOI_SIDECAR_SOCKET"

enum gdoisrtp_error {
	GDOISRTP_OK = 0,
	GDOISRTP_ERR_INVAL = -1,	/* bad argument */
	GDOISRTP_ERR_NOMEM = -2,
	GDOISRTP_ERR_IO = -3,		/* socket error (errno is kept) */
	GDOISRTP_ERR_CLOSED = -4,	/* the sidecar closed the connection */
	GDOISRTP_ERR_PROTO = -5,	/* the sidecar sent what docs/ipc.md does not allow */
	GDOISRTP_ERR_TIMEOUT = -6,
	GDOISRTP_ERR_SERVER = -7,	/* an error reply; see gdoisrtp_client_error() */
	GDOISRTP_ERR_NOT_AUTHORIZED = -8, /* the sidecar refused this uid/gid for the group */
	GDOISRTP_ERR_UNKNOWN_GROUP = -9,
	GDOISRTP_ERR_PROFILE = -10,	/* unknown or unsupported SRTP profile */
	GDOISRTP_ERR_NO_KEY = -11,	/* no TEK usable now / none matches the packet's MKI */
	GDOISRTP_ERR_AUTH = -12,	/* SRTP authentication failed */
	GDOISRTP_ERR_REPLAY = -13,	/* replayed or too old */
	GDOISRTP_ERR_SRTP = -14,	/* another libsrtp2 error */
	GDOISRTP_ERR_PARSE = -15,	/* not an RTP/RTCP packet, or bad snapshot JSON */
	GDOISRTP_ERR_ROLE = -16,	/* not for this session's role */
	GDOISRTP_ERR_SSRC = -17,	/* the SSRC was not assigned to this member */
	GDOISRTP_ERR_EXPIRED = -18,	/* the key is past its not_after */
	GDOISRTP_ERR_TOO_BIG = -19,	/* packet longer than the session's maximum */
	GDOISRTP_ERR_NO_SSRC = -20,	/* no SSRC could be leased (see gdoisrtp_client_lease) */
	GDOISRTP_ERR_NOT_SENDER = -21,	/* receiver with GDOISRTP_RECV_ASSIGNED_ONLY: the packet's
					 * SSRC is not in the group's sender list (dropped unread) */
};

const char *gdoisrtp_strerror(int err);

/* Wall clock, milliseconds since the Unix epoch. */
int64_t gdoisrtp_now_ms(void);
/* len octets from the kernel CSPRNG (getrandom): e.g. the first RTP sequence number
 * and timestamp (RFC 3550 §5.1). Returns: 0, IO. */
int gdoisrtp_random(void *buf, size_t len);

/* ---- snapshots: one group's keys (docs/ipc.md "The snapshot") ------------ */

typedef struct gdoisrtp_snapshot gdoisrtp_snapshot;

/* What a TEK says, without its key. Strings live as long as the snapshot. */
struct gdoisrtp_tek_info {
	uint32_t spi;
	uint16_t profile;		/* IANA DTLS-SRTP profile = srtp_profile_t */
	int mki;			/* 1: the SPI travels as a 4-octet MKI */
	int srtcp;			/* 1: SRTCP uses the same master key */
	int64_t not_before, not_after;	/* Unix seconds */
	uint16_t replay_window;
	int allow_repeat_tx;
	int ssrc_assigned;		/* 1: senders must use an assigned SSRC */
	const char *dst_addr;
	uint16_t dst_port;
};

/* Parses the JSON snapshot object (strictly, as docs/ipc.md says). The key
 * strings jansson decoded are wiped; json itself is the caller's to wipe.
 * Returns: 0, INVAL, NOMEM, PARSE. */
int gdoisrtp_snapshot_parse(const char *json, size_t len, gdoisrtp_snapshot **out);
/* Returns: 0, INVAL, NOMEM. */
int gdoisrtp_snapshot_copy(const gdoisrtp_snapshot *s, gdoisrtp_snapshot **out);
/* Wipes the keys and frees. NULL is fine. */
void gdoisrtp_snapshot_free(gdoisrtp_snapshot *s);

uint32_t gdoisrtp_snapshot_group(const gdoisrtp_snapshot *s);
const char *gdoisrtp_snapshot_name(const gdoisrtp_snapshot *s);
uint64_t gdoisrtp_snapshot_version(const gdoisrtp_snapshot *s);
size_t gdoisrtp_snapshot_num_teks(const gdoisrtp_snapshot *s);
/* Returns: 0, INVAL (i >= gdoisrtp_snapshot_num_teks()). */
int gdoisrtp_snapshot_tek(const gdoisrtp_snapshot *s, size_t i, struct gdoisrtp_tek_info *out);
size_t gdoisrtp_snapshot_num_ssrcs(const gdoisrtp_snapshot *s);
/* The group's sender list (every SSRC the key server assigned, ascending; docs/ipc.md
 * "senders"): -1 when the snapshot carries none, else how many; sender(i) is 0 past it. */
int gdoisrtp_snapshot_num_senders(const gdoisrtp_snapshot *s);
uint32_t gdoisrtp_snapshot_sender(const gdoisrtp_snapshot *s, size_t i);
uint32_t gdoisrtp_snapshot_ssrc(const gdoisrtp_snapshot *s, size_t i);
/* 1 when ssrc is leased to the connection this snapshot came from. */
int gdoisrtp_snapshot_leased(const gdoisrtp_snapshot *s, uint32_t ssrc);
/* Index of the TEK a sender uses at now_ms: the latest not_before <= now that
 * is not past not_after. Returns: the index, INVAL, NO_KEY (none usable now). */
int gdoisrtp_snapshot_active_tek(const gdoisrtp_snapshot *s, int64_t now_ms);

/* ---- client of the sidecar socket ----------------------------------------- */

typedef struct gdoisrtp_client gdoisrtp_client;

/* Called with every new snapshot of a subscribed group (the one in the
 * subscribe reply first). snap is valid during the call only: copy it with
 * gdoisrtp_snapshot_copy() or apply it with gdoisrtp_session_update(). */
typedef void (*gdoisrtp_snapshot_cb)(const gdoisrtp_snapshot *snap, void *arg);

/* The socket a NULL path means: $GDOI_SIDECAR_SOCKET when set and not
 * empty, else GDOISRTP_DEFAULT_SOCKET. */
const char *gdoisrtp_default_socket(void);
/* Connects (path NULL or "" = gdoisrtp_default_socket()) and checks the
 * protocol version with "hello". Blocks for at most 5 s.
 * Returns: 0, INVAL (path too long), NOMEM, IO (errno kept), CLOSED, TIMEOUT,
 * SERVER (hello refused), PROTO (a protocol this library does not speak). */
int gdoisrtp_client_open(const char *path, gdoisrtp_client **out);
/* Subscribes to a group by name or decimal id. Waits (at most 5 s) for the
 * reply; the snapshot in it, if any, goes to cb before this returns. A group
 * configured but not registered yet is no error: its first snapshot comes later.
 * Returns: 0, INVAL, NOMEM (16 groups already), IO, CLOSED, TIMEOUT, PROTO,
 * NOT_AUTHORIZED, UNKNOWN_GROUP, SERVER. */
int gdoisrtp_client_subscribe(gdoisrtp_client *c, const char *group,
			      gdoisrtp_snapshot_cb cb, void *arg);
/* The socket, for poll/epoll/libuv/glib: call gdoisrtp_client_process() when
 * it is readable. -1 for a NULL client. */
int gdoisrtp_client_fd(const gdoisrtp_client *c);
/* Reads what is there without blocking and calls the callbacks. Returns the
 * number of snapshots delivered, or an error (GDOISRTP_ERR_CLOSED: reconnect
 * with a new client and subscribe again).
 * Returns: the count, INVAL, NOMEM, IO, CLOSED, PROTO. */
int gdoisrtp_client_process(gdoisrtp_client *c);
/* For simple programs: subscribes if needed and blocks until the group has a
 * snapshot with at least one TEK newer than the last one this function
 * returned. timeout_ms < 0 waits forever. *out is the caller's (free it).
 * Returns: 0, the codes of gdoisrtp_client_subscribe(), TIMEOUT. */
int gdoisrtp_client_wait(gdoisrtp_client *c, const char *group, int timeout_ms,
			 gdoisrtp_snapshot **out);
/*
 * Leases an SSRC of group for one sender session (protocol 2, docs/ipc.md): the
 * SSRC is this connection's alone, and burned (never handed out again) when the
 * connection closes. Waits up to timeout_ms while the sidecar registers for fresh
 * SSRCs. Snapshots this client delivers afterwards list it (gdoisrtp_snapshot_leased),
 * and a sender session refuses an assigned-SSRC TEK for an SSRC it was not leased.
 * GDOISRTP_ERR_NO_SSRC: none free in time (or the sidecar does not send);
 * GDOISRTP_ERR_PROTO: the sidecar speaks protocol 1 (no leases).
 * Returns: 0, INVAL, NO_SSRC, PROTO, IO, CLOSED, TIMEOUT, NOT_AUTHORIZED,
 * UNKNOWN_GROUP, SERVER.
 */
int gdoisrtp_client_lease(gdoisrtp_client *c, const char *group, int timeout_ms,
			  uint32_t *ssrc);
/* The last error reply: its code ("not_authorized", ...) and message; "" if none. */
const char *gdoisrtp_client_error(const gdoisrtp_client *c, const char **message);
/* Closes the connection and frees the client and the snapshots it kept. */
void gdoisrtp_client_free(gdoisrtp_client *c);
/* The name gdoisrtp_client_free() had before 0.1.0's single teardown verb. */
void gdoisrtp_client_close(gdoisrtp_client *c);

/* ---- policies ---------------------------------------------------------------
 * Build an srtp_policy_t from TEK number tek of a snapshot. The policy points
 * into ks (key, salt, MKI), an opaque storage in library-owned memory: keep it
 * while libsrtp2 reads the policy (srtp_create/srtp_add_stream copy what they
 * need), then wipe it (to reuse it) or free it. */
typedef struct gdoisrtp_key_storage gdoisrtp_key_storage;

/* Returns: 0, INVAL, NOMEM. */
int gdoisrtp_key_storage_new(gdoisrtp_key_storage **out);
/* Wipes the keys it holds; the storage stays usable. */
void gdoisrtp_key_storage_wipe(gdoisrtp_key_storage *ks);
/* Wipes and frees. */
void gdoisrtp_key_storage_free(gdoisrtp_key_storage *ks);

/* A sender's policy: ssrc_specific with ssrc, which must be assigned to this
 * member when the TEK says ssrc_assigned.
 * Returns: 0, INVAL, SRTP (libsrtp2 would not initialise), SSRC, PROFILE. */
int gdoisrtp_policy_sender(const gdoisrtp_snapshot *s, size_t tek, uint32_t ssrc,
			   srtp_policy_t *out, gdoisrtp_key_storage *ks);
/* A receiver's policy: ssrc_any_inbound. Returns: 0, INVAL, SRTP, PROFILE. */
int gdoisrtp_policy_receiver(const gdoisrtp_snapshot *s, size_t tek,
			     srtp_policy_t *out, gdoisrtp_key_storage *ks);
/* Master key and salt lengths of a profile (also profile 6, which libsrtp2's
 * own helpers do not know). Returns: 0, PROFILE. */
int gdoisrtp_profile_lengths(uint16_t profile, size_t *key_len, size_t *salt_len);

/* ---- sessions ------------------------------------------------------------- */

typedef struct gdoisrtp_session gdoisrtp_session;

enum gdoisrtp_role { GDOISRTP_SENDER = 1, GDOISRTP_RECEIVER = 2 };

/*
 * Receiver flag: accept only packets whose SSRC is in the group's sender list
 * (the SSRCs the key server assigned, from the last snapshot applied). Others
 * are dropped before libsrtp2 sees them: unprotect returns GDOISRTP_ERR_NOT_SENDER,
 * counted in stats.not_sender. While the snapshot carries no list (a key server
 * without it, or a group with gdoid-compat members) every packet is dropped so.
 * Off by default: a key holder then decrypts any SSRC (RFC 3711 gives a group
 * key no source authentication, and this flag does not either: it stops senders
 * the key server never assigned, e.g. a second process reusing the key).
 */
#define GDOISRTP_RECV_ASSIGNED_ONLY 0x1u

struct gdoisrtp_session_config {
	uint32_t ssrc;			/* sender: the SSRC it sends with, from gdoisrtp_client_lease */
	size_t max_packet;		/* largest protected packet; 0 = 8192 */
	size_t max_streams;		/* receiver: SSRCs tracked; 0 = 64 */
	uint32_t roc_max;		/* receiver: ROC recovery tries 1..roc_max; 0 = 4096 */
	uint32_t roc_retry_ms;		/* receiver: per-SSRC pause between recoveries; 0 = 1000 */
	unsigned flags;			/* receiver: GDOISRTP_RECV_ASSIGNED_ONLY; 0 = none */
};

struct gdoisrtp_stats {
	uint64_t packets;		/* protected or unprotected successfully */
	uint64_t auth_failures;
	uint64_t replays;
	uint64_t no_key;		/* MKI unknown, or no TEK usable */
	uint64_t other_errors;
	uint64_t roc_recoveries;	/* streams whose ROC was found by trial */
	uint64_t roc_trials;		/* trial decryptions spent on recovery */
	uint64_t roc_seeded;		/* streams carried into a new key with a known ROC */
	uint64_t rekeys;		/* key switches (sender) / snapshots applied */
	uint32_t current_spi;		/* sender: the SPI in use; receiver: of the last packet */
	uint32_t num_keys;		/* keys held now */
	uint64_t not_sender;		/* receiver: dropped, SSRC not in the sender list */
};

/* cfg may be NULL for a receiver. The session holds no key until
 * gdoisrtp_session_update(). Returns: 0, INVAL (also for flags a role does not know:
 * GDOISRTP_RECV_ASSIGNED_ONLY is for receivers), NOMEM, SRTP. */
int gdoisrtp_session_new(enum gdoisrtp_role role, const struct gdoisrtp_session_config *cfg,
			 gdoisrtp_session **out);
/* Applies a snapshot (a full one: TEKs absent from it are dropped). Receivers
 * accept every TEK at once; senders keep every TEK and pick at protect time.
 * Returns: 0, INVAL, NOMEM, PROFILE, SRTP. */
int gdoisrtp_session_update(gdoisrtp_session *s, const gdoisrtp_snapshot *snap, int64_t now_ms);
/* In place. protect: buf must have room for *len + SRTP_MAX_TRAILER_LEN octets.
 * No allocation on the packet path except the first packet of a key switch.
 * Returns (protect): 0, INVAL, ROLE, PARSE, TOO_BIG, NO_KEY, SSRC, EXPIRED, NOMEM, SRTP.
 * Returns (unprotect): 0, INVAL, ROLE, PARSE, TOO_BIG, NO_KEY, AUTH, REPLAY,
 * EXPIRED, NOMEM, SRTP. */
int gdoisrtp_session_protect(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms);
int gdoisrtp_session_unprotect(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms);
/* RTCP: the sender protects its reports, receivers unprotect them (TEKs with
 * srtcp). Returns: as protect/unprotect above. */
int gdoisrtp_session_protect_rtcp(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms);
int gdoisrtp_session_unprotect_rtcp(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms);
void gdoisrtp_session_stats(const gdoisrtp_session *s, struct gdoisrtp_stats *out);
/* Deallocates the libsrtp2 contexts, wipes every key copy and frees. */
void gdoisrtp_session_free(gdoisrtp_session *s);
/* The name gdoisrtp_session_free() had before 0.1.0's single teardown verb. */
void gdoisrtp_session_destroy(gdoisrtp_session *s);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
