/*
 * snapshot.c - the public, opaque face of an IPC snapshot (ipc/snapshot.h),
 * error strings and the clock.
 */
#include "srtp-bridge/internal.h"

#include <errno.h>
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

void gdoisrtp_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

const char *gdoisrtp_strerror(int err)
{
	switch (err) {
	case GDOISRTP_OK: return "success";
	case GDOISRTP_ERR_INVAL: return "invalid argument";
	case GDOISRTP_ERR_NOMEM: return "out of memory";
	case GDOISRTP_ERR_IO: return "socket error";
	case GDOISRTP_ERR_CLOSED: return "the sidecar closed the connection";
	case GDOISRTP_ERR_PROTO: return "protocol error from the sidecar";
	case GDOISRTP_ERR_TIMEOUT: return "timed out";
	case GDOISRTP_ERR_SERVER: return "the sidecar answered with an error";
	case GDOISRTP_ERR_NOT_AUTHORIZED: return "not authorized for this group";
	case GDOISRTP_ERR_UNKNOWN_GROUP: return "no such group in the sidecar";
	case GDOISRTP_ERR_PROFILE: return "unknown or unsupported SRTP profile";
	case GDOISRTP_ERR_NO_KEY: return "no key for this packet or time";
	case GDOISRTP_ERR_AUTH: return "SRTP authentication failed";
	case GDOISRTP_ERR_REPLAY: return "replayed or too old packet";
	case GDOISRTP_ERR_SRTP: return "libsrtp2 error";
	case GDOISRTP_ERR_PARSE: return "malformed packet or snapshot";
	case GDOISRTP_ERR_ROLE: return "operation not for this session's role";
	case GDOISRTP_ERR_SSRC: return "SSRC not assigned to this member or not leased to this session";
	case GDOISRTP_ERR_NO_SSRC: return "no SSRC free to lease";
	case GDOISRTP_ERR_EXPIRED: return "key expired";
	case GDOISRTP_ERR_TOO_BIG: return "packet too big for this session";
	case GDOISRTP_ERR_NOT_SENDER: return "SSRC not among the group's assigned senders";
	default: return "unknown error";
	}
}

int64_t gdoisrtp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gdoisrtp_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return GDOISRTP_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int gdoisrtp_snapshot_from_ipc(const struct ipc_snapshot *in, gdoisrtp_snapshot **out)
{
	if (!in || !out || in->nteks > IPC_MAX_TEKS || in->nssrcs > IPC_MAX_SSRCS ||
	    in->nleases > IPC_MAX_SSRCS || in->nsenders > IPC_MAX_SENDERS)
		return GDOISRTP_ERR_INVAL;
	gdoisrtp_snapshot *s = gdoisrtp_secmem_alloc(sizeof(*s));
	if (!s)
		return GDOISRTP_ERR_NOMEM;
	memcpy(&s->s, in, sizeof(*in));
	*out = s;
	return 0;
}

int gdoisrtp_snapshot_parse(const char *json, size_t len, gdoisrtp_snapshot **out)
{
	if (!json || !out)
		return GDOISRTP_ERR_INVAL;
	json_error_t jerr;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return GDOISRTP_ERR_PARSE;
	gdoisrtp_snapshot *s = gdoisrtp_secmem_alloc(sizeof(*s));
	if (!s) {
		ipc_snapshot_json_wipe(o);
		json_decref(o);
		return GDOISRTP_ERR_NOMEM;
	}
	char err[128];
	int rc = ipc_snapshot_from_json(o, &s->s, err, sizeof(err));
	ipc_snapshot_json_wipe(o);
	json_decref(o);
	if (rc != 0) {
		gdoisrtp_snapshot_free(s);
		return GDOISRTP_ERR_PARSE;
	}
	*out = s;
	return 0;
}

int gdoisrtp_snapshot_copy(const gdoisrtp_snapshot *s, gdoisrtp_snapshot **out)
{
	return s ? gdoisrtp_snapshot_from_ipc(&s->s, out) : GDOISRTP_ERR_INVAL;
}

void gdoisrtp_snapshot_free(gdoisrtp_snapshot *s)
{
	if (!s)
		return;
	gdoisrtp_secmem_free(s);
}

uint32_t gdoisrtp_snapshot_group(const gdoisrtp_snapshot *s) { return s ? s->s.group : 0; }
const char *gdoisrtp_snapshot_name(const gdoisrtp_snapshot *s) { return s ? s->s.name : ""; }
uint64_t gdoisrtp_snapshot_version(const gdoisrtp_snapshot *s) { return s ? s->s.version : 0; }
size_t gdoisrtp_snapshot_num_teks(const gdoisrtp_snapshot *s) { return s ? s->s.nteks : 0; }
size_t gdoisrtp_snapshot_num_ssrcs(const gdoisrtp_snapshot *s) { return s ? s->s.nssrcs : 0; }

int gdoisrtp_snapshot_num_senders(const gdoisrtp_snapshot *s)
{
	return s && s->s.has_senders ? (int)s->s.nsenders : -1;
}

uint32_t gdoisrtp_snapshot_sender(const gdoisrtp_snapshot *s, size_t i)
{
	return s && s->s.has_senders && i < s->s.nsenders ? s->s.senders[i] : 0;
}

uint32_t gdoisrtp_snapshot_ssrc(const gdoisrtp_snapshot *s, size_t i)
{
	return s && i < s->s.nssrcs ? s->s.ssrcs[i] : 0;
}

int gdoisrtp_snapshot_leased(const gdoisrtp_snapshot *s, uint32_t ssrc)
{
	for (size_t i = 0; s && i < s->s.nleases; i++)
		if (s->s.leases[i] == ssrc)
			return 1;
	return 0;
}

int gdoisrtp_snapshot_tek(const gdoisrtp_snapshot *s, size_t i, struct gdoisrtp_tek_info *out)
{
	if (!s || !out || i >= s->s.nteks)
		return GDOISRTP_ERR_INVAL;
	const struct ipc_tek *t = &s->s.teks[i];
	*out = (struct gdoisrtp_tek_info){
		.spi = t->spi, .profile = t->profile_id, .mki = t->mki, .srtcp = t->srtcp,
		.not_before = t->not_before, .not_after = t->not_after,
		.replay_window = t->replay_window, .allow_repeat_tx = t->allow_repeat_tx,
		.ssrc_assigned = t->ssrc_assigned, .dst_addr = t->dst_addr, .dst_port = t->dst_port,
	};
	return 0;
}

int gdoisrtp_snapshot_active_tek(const gdoisrtp_snapshot *s, int64_t now_ms)
{
	if (!s)
		return GDOISRTP_ERR_INVAL;
	int best = GDOISRTP_ERR_NO_KEY;
	for (size_t i = 0; i < s->s.nteks; i++) {
		const struct ipc_tek *t = &s->s.teks[i];
		if (t->not_before * 1000 > now_ms || t->not_after * 1000 <= now_ms)
			continue;
		if (best < 0 || t->not_before >= s->s.teks[best].not_before)
			best = (int)i;
	}
	return best;
}
