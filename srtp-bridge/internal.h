/*
 * internal.h - what libgdoisrtp's files share (not installed). Tests include
 * it to build snapshots directly from struct ipc_snapshot.
 */
#ifndef GDOISRTP_INTERNAL_H
#define GDOISRTP_INTERNAL_H

#include "ipc/snapshot.h"
#include "srtp-bridge/gdoisrtp.h"

struct gdoisrtp_snapshot {
	struct ipc_snapshot s;
};

/* A heap copy of an ipc_snapshot (keys included); free with gdoisrtp_snapshot_free. */
int gdoisrtp_snapshot_from_ipc(const struct ipc_snapshot *in, gdoisrtp_snapshot **out);

/* srtp_init() once per process (libsrtp2 is initialised by whoever comes first). */
int gdoisrtp_srtp_init(void);

/* libsrtp2 status -> GDOISRTP_ERR_* */
int gdoisrtp_err_from_srtp(srtp_err_status_t st);

/* Fills a policy from one TEK (ssrc type and value left to the caller). */
int gdoisrtp_policy_from_tek(const struct ipc_tek *t, srtp_policy_t *out,
			     struct gdoisrtp_key_storage *ks);

/* RTP/RTCP authentication tag length of a profile (where the MKI sits). */
int gdoisrtp_profile_tag_len(uint16_t profile, int rtcp);

void gdoisrtp_wipe(void *p, size_t n);

/* Zeroed memory for key material (secmem.c): own pages, mlock'ed where the
 * process may, MADV_DONTDUMP; wiped and unmapped by gdoisrtp_secmem_free. */
void *gdoisrtp_secmem_alloc(size_t n);
void gdoisrtp_secmem_free(void *p);

/* What a policy points into (key, salt, MKI). */
struct gdoisrtp_key_storage {
	unsigned char key[64];		/* master key || master salt */
	unsigned char mki[4];		/* the SPI, network order */
	srtp_master_key_t mk;
	srtp_master_key_t *mkp[1];
};

/* For the tests: drops every key as destroy does (the session stays usable,
 * keyless), and counts the non-zero octets of key material still held. */
void gdoisrtp_session_wipe_keys(gdoisrtp_session *s);
size_t gdoisrtp_session_secret_octets(const gdoisrtp_session *s);

#endif
