/*
 * snapshot.h - one group's keys as docs/ipc.md describes them (the
 * "snapshot" object), as a plain C structure, and its JSON form.
 *
 * This is the only shape in which keys cross the Unix socket: the sidecar
 * fills it from the GDOI policy, libgdoisrtp reads it back. No GDOI or
 * OpenSSL type appears here, so media processes need neither.
 */
#ifndef IPC_SNAPSHOT_H
#define IPC_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IPC_PROTOCOL_VERSION 2
#define IPC_PROTOCOL_MIN 1		/* the oldest version the server still speaks */
#define IPC_MAX_LINE 65536
#define IPC_MAX_TEKS 16
#define IPC_MAX_SSRCS 16
#define IPC_MAX_SENDERS 256		/* = GDOI_MAX_SENDERS */

struct ipc_tek {
	uint32_t spi;
	uint16_t profile_id;		/* IANA DTLS-SRTP profile = libsrtp2 srtp_profile_t */
	size_t master_key_len;
	uint8_t master_key[32];
	size_t master_salt_len;
	uint8_t master_salt[14];
	bool mki;			/* the SPI travels as a 4-octet MKI */
	bool srtcp;
	char dst_addr[46];		/* numeric IPv4/IPv6 */
	uint16_t dst_port;
	char src_addr[46];
	uint8_t src_prefix;
	uint16_t src_port;
	int64_t not_before, not_after;	/* Unix seconds, UTC */
	uint16_t replay_window;
	bool allow_repeat_tx;
	bool ssrc_assigned;
};

struct ipc_snapshot {
	uint32_t group;
	char name[64];
	uint64_t version;
	char keyserver[64];
	uint32_t seq;
	int64_t updated;
	uint16_t atd, dtd;
	size_t nssrcs;
	uint32_t ssrcs[IPC_MAX_SSRCS];
	/* protocol 2: the SSRCs leased to the connection that read this snapshot
	 * ("leases"): libgdoisrtp fills it from its lease replies; never sent by the sidecar */
	size_t nleases;
	uint32_t leases[IPC_MAX_SSRCS];
	/* "senders": every sender SSRC the key server assigned in the group, ascending
	 * (absent, has_senders false, when the key server sent no list) */
	bool has_senders;
	size_t nsenders;
	uint32_t senders[IPC_MAX_SENDERS];
	size_t nteks;
	struct ipc_tek teks[IPC_MAX_TEKS];
};

/* Profile name <-> number as docs/ipc.md spells them ("SRTP_AES128_CM_HMAC_SHA1_80"). */
const char *ipc_profile_name(uint16_t profile_id);
uint16_t ipc_profile_from_name(const char *name);	/* 0 if unknown */

/* The JSON object of docs/ipc.md (new reference; NULL when out of memory). */
json_t *ipc_snapshot_to_json(const struct ipc_snapshot *s);
/* Strict reading: every member docs/ipc.md marks as present must be, with its type and
 * range; key lengths must match the profile. err gets a reason. Returns 0 or -1. */
int ipc_snapshot_from_json(const json_t *obj, struct ipc_snapshot *s, char *err, size_t errlen);
/* Zeroes in place the base64 master_key and master_salt strings of a snapshot
 * object (or of a message's "snapshot" member) once they are read, so that
 * jansson frees no copy of a key. NULL and other shapes are ignored. */
void ipc_snapshot_json_wipe(json_t *obj);
/* Wipes the whole structure (keys included); it reads as an empty snapshot afterwards. */
void ipc_snapshot_clear(struct ipc_snapshot *s);

#endif
