/*
 * session.c - libsrtp2 contexts kept keyed across GDOI rekeys.
 *
 * Sender: one srtp_t with one ssrc_specific stream carrying the TEK active
 * at protect time (latest not_before <= now). When a newer TEK becomes
 * active, srtp_update_stream() installs it; libsrtp2 keeps the stream's
 * packet index, so the ROC continues across keys.
 *
 * Receiver: one srtp_t (ssrc_any_inbound) per TEK of the snapshot, never
 * updated in place, so every key keeps its own replay windows. A packet goes
 * to the TEK whose SPI is its MKI (or, without MKI, to each TEK in turn, the
 * last one that worked first). The session tracks each SSRC's highest packet
 * index: when a stream first shows up under another key (a rekey), its ROC is
 * carried over (srtp_set_stream_roc) instead of guessed. A stream never seen
 * before whose first packet fails authentication is a late joiner whose ROC
 * may be > 0: the session tries ROC = 1..roc_max on that packet (bounded,
 * at most once per SSRC per roc_retry_ms) and keeps the one that
 * authenticates. See docs/bridge.md.
 */
#include "srtp-bridge/internal.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NSLOTS IPC_MAX_TEKS
#define DEFAULT_MAX_PACKET 8192
#define DEFAULT_MAX_STREAMS 64
#define DEFAULT_ROC_MAX 4096
#define DEFAULT_ROC_RETRY_MS 1000

struct slot {
	bool used;
	struct ipc_tek tek;		/* keys included; wiped when dropped */
	srtp_t ctx;			/* receiver: ssrc_any_inbound */
	int tag_rtp, tag_rtcp;		/* where the MKI sits (from the end) */
};

enum { ST_FREE = 0, ST_KNOWN, ST_FAILING };

struct stream {				/* receiver: one SSRC */
	uint32_t ssrc;
	uint8_t state;
	uint64_t hi;			/* highest authenticated index (ROC << 16 | SEQ) */
	uint32_t in_ctx;		/* bit i: slot i's context holds a stream for it */
	int64_t last_ms, recovery_ms;
};

struct gdoisrtp_session {
	enum gdoisrtp_role role;
	struct gdoisrtp_session_config cfg;
	struct slot slots[NSLOTS];
	/* sender */
	srtp_t tx;
	bool tx_keyed;
	struct ipc_tek tx_tek;		/* the TEK installed in tx (keys wiped after install) */
	bool leased;			/* cfg.ssrc was leased to this session (sticky: it stays
				 * this session's for its life, never anyone else's) */
	/* receiver */
	struct stream *streams;
	uint8_t *scratch;
	int last_slot;
	size_t nsenders;		/* the sender list of the last snapshot (ascending) */
	uint32_t senders[IPC_MAX_SENDERS];
	struct gdoisrtp_stats st;
};

_Static_assert(NSLOTS <= 32, "in_ctx is a 32-bit mask");

/* ---- helpers -------------------------------------------------------------- */

static void slot_drop(gdoisrtp_session *s, int i)
{
	struct slot *k = &s->slots[i];
	if (!k->used)
		return;
	if (k->ctx)
		srtp_dealloc(k->ctx);
	gdoisrtp_wipe(k, sizeof(*k));
	if (s->streams)
		for (size_t j = 0; j < s->cfg.max_streams; j++)
			s->streams[j].in_ctx &= ~(1u << i);
	if (s->last_slot == i)
		s->last_slot = -1;
}

static bool tek_same(const struct ipc_tek *a, const struct ipc_tek *b)
{
	return a->spi == b->spi && a->profile_id == b->profile_id && a->mki == b->mki &&
	       a->srtcp == b->srtcp && a->master_key_len == b->master_key_len &&
	       a->master_salt_len == b->master_salt_len &&
	       memcmp(a->master_key, b->master_key, a->master_key_len) == 0 &&
	       memcmp(a->master_salt, b->master_salt, a->master_salt_len) == 0 &&
	       a->replay_window == b->replay_window && a->allow_repeat_tx == b->allow_repeat_tx;
}

static bool usable(const struct ipc_tek *t, int64_t now_ms)
{
	return now_ms < t->not_after * 1000;
}

/* RFC 3711 Appendix A: the ROC of sequence number seq given the highest index. */
static uint32_t roc_guess(uint64_t hi, uint16_t seq)
{
	uint32_t roc = (uint32_t)(hi >> 16);
	uint32_t sl = (uint32_t)(hi & 0xffff);
	if (sl < 32768) {
		if ((int32_t)seq - (int32_t)sl > 32768 && roc > 0)
			return roc - 1;
	} else if (sl - 32768 > seq) {
		return roc + 1;
	}
	return roc;
}

static int add_specific(struct slot *k, uint32_t ssrc)
{
	srtp_policy_t p;
	struct gdoisrtp_key_storage ks;
	int rc = gdoisrtp_policy_from_tek(&k->tek, &p, &ks);
	if (rc == 0) {
		p.ssrc.type = ssrc_specific;
		p.ssrc.value = ssrc;
		rc = gdoisrtp_err_from_srtp(srtp_add_stream(k->ctx, &p));
	}
	gdoisrtp_key_storage_wipe(&ks);
	return rc;
}

/* ---- life cycle ----------------------------------------------------------- */

int gdoisrtp_session_new(enum gdoisrtp_role role, const struct gdoisrtp_session_config *cfg,
			 gdoisrtp_session **out)
{
	if (!out || (role != GDOISRTP_SENDER && role != GDOISRTP_RECEIVER) ||
	    (role == GDOISRTP_SENDER && !cfg))
		return GDOISRTP_ERR_INVAL;
	if (cfg && (cfg->flags & ~GDOISRTP_RECV_ASSIGNED_ONLY ||
		    (role == GDOISRTP_SENDER && cfg->flags)))
		return GDOISRTP_ERR_INVAL;
	int rc = gdoisrtp_srtp_init();
	if (rc)
		return rc;
	gdoisrtp_session *s = gdoisrtp_secmem_alloc(sizeof(*s));
	if (!s)
		return GDOISRTP_ERR_NOMEM;
	s->role = role;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.max_packet)
		s->cfg.max_packet = DEFAULT_MAX_PACKET;
	if (!s->cfg.max_streams)
		s->cfg.max_streams = DEFAULT_MAX_STREAMS;
	if (!s->cfg.roc_max)
		s->cfg.roc_max = DEFAULT_ROC_MAX;
	if (!s->cfg.roc_retry_ms)
		s->cfg.roc_retry_ms = DEFAULT_ROC_RETRY_MS;
	s->last_slot = -1;
	if (role == GDOISRTP_RECEIVER) {
		s->streams = calloc(s->cfg.max_streams, sizeof(*s->streams));
		s->scratch = malloc(s->cfg.max_packet + SRTP_MAX_TRAILER_LEN);
		if (!s->streams || !s->scratch) {
			gdoisrtp_session_free(s);
			return GDOISRTP_ERR_NOMEM;
		}
	}
	*out = s;
	return 0;
}

void gdoisrtp_session_wipe_keys(gdoisrtp_session *s)
{
	for (int i = 0; i < NSLOTS; i++)
		slot_drop(s, i);
	if (s->tx) {
		srtp_dealloc(s->tx);
		s->tx = NULL;
	}
	s->tx_keyed = false;
	gdoisrtp_wipe(&s->tx_tek, sizeof(s->tx_tek));
	if (s->scratch)
		gdoisrtp_wipe(s->scratch, s->cfg.max_packet + SRTP_MAX_TRAILER_LEN);
	if (s->streams)
		memset(s->streams, 0, s->cfg.max_streams * sizeof(*s->streams));
}

size_t gdoisrtp_session_secret_octets(const gdoisrtp_session *s)
{
	size_t n = 0;
	const uint8_t *p;
	for (int i = 0; i < NSLOTS; i++) {
		p = (const uint8_t *)&s->slots[i].tek;
		for (size_t j = 0; j < sizeof(struct ipc_tek); j++)
			n += p[j] != 0;
	}
	p = (const uint8_t *)&s->tx_tek;
	for (size_t j = 0; j < sizeof(s->tx_tek); j++)
		n += p[j] != 0;
	return n;
}

void gdoisrtp_session_free(gdoisrtp_session *s)
{
	if (!s)
		return;
	gdoisrtp_session_wipe_keys(s);
	free(s->streams);
	free(s->scratch);
	gdoisrtp_secmem_free(s);
}

void gdoisrtp_session_destroy(gdoisrtp_session *s)
{
	gdoisrtp_session_free(s);
}

void gdoisrtp_session_stats(const gdoisrtp_session *s, struct gdoisrtp_stats *out)
{
	if (!s || !out)
		return;
	*out = s->st;
	uint32_t n = 0;
	for (int i = 0; i < NSLOTS; i++)
		n += s->slots[i].used;
	out->num_keys = n;
}

/* ---- snapshots -------------------------------------------------------------- */

int gdoisrtp_session_update(gdoisrtp_session *s, const gdoisrtp_snapshot *snap, int64_t now_ms)
{
	(void)now_ms;
	if (!s || !snap || snap->s.nteks > NSLOTS)
		return GDOISRTP_ERR_INVAL;
	const struct ipc_snapshot *in = &snap->s;
	/* check every TEK first, so a bad snapshot changes nothing */
	for (size_t t = 0; t < in->nteks; t++) {
		size_t kl, sl;
		if (gdoisrtp_profile_lengths(in->teks[t].profile_id, &kl, &sl) != 0)
			return GDOISRTP_ERR_PROFILE;
		if (in->teks[t].master_key_len != kl || in->teks[t].master_salt_len != sl)
			return GDOISRTP_ERR_INVAL;
	}
	bool keep[NSLOTS] = { false };
	bool present[IPC_MAX_TEKS] = { false };
	for (int i = 0; i < NSLOTS; i++) {
		if (!s->slots[i].used)
			continue;
		for (size_t t = 0; t < in->nteks; t++)
			if (!present[t] && tek_same(&s->slots[i].tek, &in->teks[t])) {
				keep[i] = present[t] = true;
				/* times may move (a deactivation shortens not_after) */
				s->slots[i].tek.not_before = in->teks[t].not_before;
				s->slots[i].tek.not_after = in->teks[t].not_after;
				s->slots[i].tek.ssrc_assigned = in->teks[t].ssrc_assigned;
				break;
			}
	}
	int rc = 0;
	bool changed = false;
	for (int i = 0; i < NSLOTS; i++)
		if (s->slots[i].used && !keep[i]) {
			slot_drop(s, i);
			changed = true;
		}
	for (size_t t = 0; t < in->nteks; t++) {
		if (present[t])
			continue;
		int i;
		for (i = 0; i < NSLOTS && s->slots[i].used; i++)
			;
		struct slot *k = &s->slots[i];	/* there is room: nteks <= NSLOTS */
		memset(k, 0, sizeof(*k));
		k->tek = in->teks[t];
		k->tag_rtp = gdoisrtp_profile_tag_len(k->tek.profile_id, 0);
		k->tag_rtcp = gdoisrtp_profile_tag_len(k->tek.profile_id, 1);
		if (s->role == GDOISRTP_RECEIVER) {
			srtp_policy_t p;
			struct gdoisrtp_key_storage ks;
			int r = gdoisrtp_policy_from_tek(&k->tek, &p, &ks);
			if (r == 0) {
				p.ssrc.type = ssrc_any_inbound;
				r = gdoisrtp_err_from_srtp(srtp_create(&k->ctx, &p));
			}
			gdoisrtp_key_storage_wipe(&ks);
			if (r) {
				k->ctx = NULL;
				gdoisrtp_wipe(k, sizeof(*k));
				rc = r;
				continue;
			}
		}
		k->used = true;
		changed = true;
	}
	if (s->role == GDOISRTP_SENDER && !s->leased && gdoisrtp_snapshot_leased(snap, s->cfg.ssrc))
		for (size_t i = 0; i < in->nssrcs; i++)
			s->leased |= in->ssrcs[i] == s->cfg.ssrc;
	if (changed && s->role == GDOISRTP_RECEIVER)
		s->st.rekeys++;
	/* no list = nobody (fail closed when the option is on) */
	s->nsenders = in->has_senders && in->nsenders <= IPC_MAX_SENDERS ? in->nsenders : 0;
	memcpy(s->senders, in->senders, s->nsenders * sizeof(s->senders[0]));
	return rc;
}

/* ---- sender ----------------------------------------------------------------- */

static int active_slot(const gdoisrtp_session *s, int64_t now_ms)
{
	int best = -1;
	for (int i = 0; i < NSLOTS; i++) {
		const struct slot *k = &s->slots[i];
		if (!k->used || k->tek.not_before * 1000 > now_ms || !usable(&k->tek, now_ms))
			continue;
		if (best < 0 || k->tek.not_before > s->slots[best].tek.not_before ||
		    (k->tek.not_before == s->slots[best].tek.not_before &&
		     k->tek.not_after > s->slots[best].tek.not_after))
			best = i;
	}
	return best;
}

static int sender_key(gdoisrtp_session *s, int64_t now_ms)
{
	int a = active_slot(s, now_ms);
	if (a < 0) {
		s->st.no_key++;
		return GDOISRTP_ERR_NO_KEY;
	}
	const struct ipc_tek *t = &s->slots[a].tek;
	if (s->tx_keyed && s->tx_tek.spi == t->spi)
		return 0;
	/* an assigned SSRC only ever in one session: no (key, SSRC, index) twice */
	if (t->ssrc_assigned && !s->leased)
		return GDOISRTP_ERR_SSRC;
	srtp_policy_t p;
	struct gdoisrtp_key_storage ks;
	int rc = gdoisrtp_policy_from_tek(t, &p, &ks);
	if (rc == 0) {
		p.ssrc.type = ssrc_specific;
		p.ssrc.value = s->cfg.ssrc;
		srtp_err_status_t st = s->tx ? srtp_update_stream(s->tx, &p) : srtp_create(&s->tx, &p);
		rc = gdoisrtp_err_from_srtp(st);
	}
	gdoisrtp_key_storage_wipe(&ks);
	if (rc) {
		s->st.other_errors++;
		return rc;
	}
	s->tx_tek = *t;
	/* tx_tek needs no key any more: libsrtp2 holds the derived session keys */
	gdoisrtp_wipe(s->tx_tek.master_key, sizeof(s->tx_tek.master_key));
	gdoisrtp_wipe(s->tx_tek.master_salt, sizeof(s->tx_tek.master_salt));
	if (s->tx_keyed)
		s->st.rekeys++;
	s->tx_keyed = true;
	s->st.current_spi = t->spi;
	return 0;
}

static int count(gdoisrtp_session *s, int rc)
{
	switch (rc) {
	case 0: s->st.packets++; break;
	case GDOISRTP_ERR_AUTH: s->st.auth_failures++; break;
	case GDOISRTP_ERR_REPLAY: s->st.replays++; break;
	case GDOISRTP_ERR_NO_KEY: case GDOISRTP_ERR_EXPIRED: s->st.no_key++; break;
	default: s->st.other_errors++; break;
	}
	return rc;
}

static int protect(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms, bool rtcp)
{
	if (!s || !buf || !len || *len < (rtcp ? 8 : 12))
		return GDOISRTP_ERR_INVAL;
	if (s->role != GDOISRTP_SENDER)
		return GDOISRTP_ERR_ROLE;
	if ((size_t)*len > s->cfg.max_packet)
		return count(s, GDOISRTP_ERR_TOO_BIG);
	int rc = sender_key(s, now_ms);
	if (rc)
		return rc;
	if (rtcp && !s->tx_tek.srtcp)
		return count(s, GDOISRTP_ERR_NO_KEY);
	unsigned use_mki = s->tx_tek.mki ? 1 : 0;
	srtp_err_status_t st = rtcp ? srtp_protect_rtcp_mki(s->tx, buf, len, use_mki, 0)
				    : srtp_protect_mki(s->tx, buf, len, use_mki, 0);
	return count(s, gdoisrtp_err_from_srtp(st));
}

int gdoisrtp_session_protect(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms)
{
	return protect(s, buf, len, now_ms, false);
}

int gdoisrtp_session_protect_rtcp(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms)
{
	return protect(s, buf, len, now_ms, true);
}

/* ---- receiver --------------------------------------------------------------- */

static uint32_t bu32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct stream *stream_find(gdoisrtp_session *s, uint32_t ssrc)
{
	for (size_t i = 0; i < s->cfg.max_streams; i++)
		if (s->streams[i].state != ST_FREE && s->streams[i].ssrc == ssrc)
			return &s->streams[i];
	return NULL;
}

/* A free entry, or the least recently used one (whose libsrtp2 streams go). */
static struct stream *stream_new(gdoisrtp_session *s, uint32_t ssrc, int64_t now_ms)
{
	struct stream *e = NULL;
	for (size_t i = 0; i < s->cfg.max_streams; i++) {
		struct stream *c = &s->streams[i];
		if (c->state == ST_FREE) {
			e = c;
			break;
		}
		if (!e || c->last_ms < e->last_ms)
			e = c;
	}
	if (e->state != ST_FREE)
		for (int i = 0; i < NSLOTS; i++)
			if ((e->in_ctx & (1u << i)) && s->slots[i].ctx)
				srtp_remove_stream(s->slots[i].ctx, htonl(e->ssrc));
	*e = (struct stream){ .ssrc = ssrc, .state = ST_FAILING, .last_ms = now_ms,
			      .recovery_ms = INT64_MIN };
	return e;
}

/* Candidate slots for a packet: those whose MKI is where that TEK puts it,
 * then the TEKs without MKI (the last one that worked first). */
static int candidates(gdoisrtp_session *s, const uint8_t *p, int len, bool rtcp,
		      int64_t now_ms, int *out, bool *expired)
{
	int n = 0;
	*expired = false;
	for (int i = 0; i < NSLOTS; i++) {
		const struct slot *k = &s->slots[i];
		if (!k->used || !k->tek.mki || (rtcp && !k->tek.srtcp))
			continue;
		int pos = len - (rtcp ? k->tag_rtcp : k->tag_rtp) - 4;
		if (pos < (rtcp ? 8 : 12))
			continue;
		if (bu32(p + pos) != k->tek.spi)
			continue;
		if (!usable(&k->tek, now_ms)) {
			*expired = true;
			continue;
		}
		out[n++] = i;
	}
	if (s->last_slot >= 0 && !s->slots[s->last_slot].tek.mki &&
	    usable(&s->slots[s->last_slot].tek, now_ms) && (!rtcp || s->slots[s->last_slot].tek.srtcp))
		out[n++] = s->last_slot;
	for (int i = 0; i < NSLOTS; i++) {
		const struct slot *k = &s->slots[i];
		if (!k->used || k->tek.mki || i == s->last_slot || (rtcp && !k->tek.srtcp))
			continue;
		if (!usable(&k->tek, now_ms)) {
			*expired = true;
			continue;
		}
		out[n++] = i;
	}
	return n;
}

/*
 * One try of a packet (the original is in s->scratch) under one key: the MKI,
 * already matched, is taken out and the context's only key used, so libsrtp2
 * need not find it (2.5 looks for an SRTCP MKI with the SRTP tag length,
 * which fails with the _32 profiles). The MKI is not authenticated (RFC 3711
 * section 3.1), so this changes nothing else. *dirty: buf may differ from the
 * original (a try ran on it); the first try needs no copy back.
 */
static srtp_err_status_t attempt(gdoisrtp_session *s, struct slot *k, uint8_t *buf, int len0,
				 int *len, bool rtcp, bool *dirty)
{
	if (*dirty)
		memcpy(buf, s->scratch, (size_t)len0);
	*dirty = true;
	*len = len0;
	if (k->tek.mki) {
		int tag = rtcp ? k->tag_rtcp : k->tag_rtp;
		int pos = len0 - tag - 4;
		memmove(buf + pos, buf + pos + 4, (size_t)tag);
		*len = len0 - 4;
	}
	return rtcp ? srtp_unprotect_rtcp(k->ctx, buf, len) : srtp_unprotect(k->ctx, buf, len);
}

/* Trial of ROC = 1..roc_max on a stream never authenticated (late joiner). */
static int roc_recover(gdoisrtp_session *s, int slot, uint8_t *buf, int len0, int *len,
		       uint32_t ssrc, bool *dirty)
{
	struct slot *k = &s->slots[slot];
	int rc = add_specific(k, ssrc);
	if (rc)
		return rc;
	for (uint32_t roc = 1; roc <= s->cfg.roc_max; roc++) {
		s->st.roc_trials++;
		if (srtp_set_stream_roc(k->ctx, ssrc, roc) != srtp_err_status_ok)
			break;
		if (attempt(s, k, buf, len0, len, false, dirty) == srtp_err_status_ok) {
			s->st.roc_recoveries++;
			return 0;
		}
	}
	srtp_remove_stream(k->ctx, htonl(ssrc));
	return GDOISRTP_ERR_AUTH;
}

static bool listed_sender(const gdoisrtp_session *s, uint32_t ssrc)
{
	size_t lo = 0, hi = s->nsenders;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->senders[mid] == ssrc)
			return true;
		if (s->senders[mid] < ssrc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int unprotect(gdoisrtp_session *s, void *vbuf, int *len, int64_t now_ms, bool rtcp)
{
	if (!s || !vbuf || !len)
		return GDOISRTP_ERR_INVAL;
	if (s->role != GDOISRTP_RECEIVER)
		return GDOISRTP_ERR_ROLE;
	uint8_t *buf = vbuf;
	int len0 = *len;
	if (len0 < (rtcp ? 8 : 12) || (buf[0] >> 6) != 2)
		return count(s, GDOISRTP_ERR_PARSE);
	if ((size_t)len0 > s->cfg.max_packet + SRTP_MAX_TRAILER_LEN)
		return count(s, GDOISRTP_ERR_TOO_BIG);
	uint32_t ssrc = bu32(buf + (rtcp ? 4 : 8));
	uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
	if ((s->cfg.flags & GDOISRTP_RECV_ASSIGNED_ONLY) && !listed_sender(s, ssrc)) {
		s->st.not_sender++;
		return GDOISRTP_ERR_NOT_SENDER;
	}

	int cand[NSLOTS + 1];
	bool expired;
	int n = candidates(s, buf, len0, rtcp, now_ms, cand, &expired);
	if (n == 0)
		return count(s, expired ? GDOISRTP_ERR_EXPIRED : GDOISRTP_ERR_NO_KEY);

	struct stream *e = rtcp ? NULL : stream_find(s, ssrc);
	bool known = e && e->state == ST_KNOWN;
	memcpy(s->scratch, buf, (size_t)len0);	/* each try starts from the original */
	bool dirty = false;

	int rc = GDOISRTP_ERR_AUTH, other = 0;
	bool any_replay = false, any_auth = false;
	int c;
	for (c = 0; c < n; c++) {
		struct slot *k = &s->slots[cand[c]];
		if (known && !(e->in_ctx & (1u << cand[c]))) {
			/* first packet of a known stream under this key: carry its ROC over */
			uint32_t v = roc_guess(e->hi, seq);
			if (v > 0 && add_specific(k, ssrc) == 0 &&
			    srtp_set_stream_roc(k->ctx, ssrc, v) == srtp_err_status_ok)
				s->st.roc_seeded++;
		}
		rc = gdoisrtp_err_from_srtp(attempt(s, k, buf, len0, len, rtcp, &dirty));
		if (rc == 0)
			break;
		if (rc == GDOISRTP_ERR_REPLAY)
			any_replay = true;
		else if (rc == GDOISRTP_ERR_AUTH)
			any_auth = true;
		else if (!other)
			other = rc;
	}
	if (rc != 0 && !rtcp && !known && any_auth && !any_replay) {
		if (!e)
			e = stream_new(s, ssrc, now_ms);
		if (e->recovery_ms == INT64_MIN || now_ms - e->recovery_ms >= s->cfg.roc_retry_ms) {
			e->recovery_ms = now_ms;
			for (c = 0; c < n && rc != 0; c++)
				rc = roc_recover(s, cand[c], buf, len0, len, ssrc, &dirty);
			if (rc == 0)
				c--;
		}
	}
	if (rc != 0) {
		memcpy(buf, s->scratch, (size_t)len0);
		*len = len0;
		/* a replay verdict from any key wins over an authentication failure */
		return count(s, any_replay ? GDOISRTP_ERR_REPLAY
				: any_auth ? GDOISRTP_ERR_AUTH : other ? other : rc);
	}
	int slot = cand[c];
	if (!s->slots[slot].tek.mki)
		s->last_slot = slot;
	s->st.current_spi = s->slots[slot].tek.spi;
	if (!rtcp) {
		if (!e)
			e = stream_new(s, ssrc, now_ms);
		if (e->state != ST_KNOWN) {
			uint32_t roc = 0;
			srtp_get_stream_roc(s->slots[slot].ctx, ssrc, &roc);
			e->hi = (uint64_t)roc << 16 | seq;
			e->state = ST_KNOWN;
		} else {
			uint64_t idx = (uint64_t)roc_guess(e->hi, seq) << 16 | seq;
			if (idx > e->hi)
				e->hi = idx;
		}
		e->in_ctx |= 1u << slot;
		e->last_ms = now_ms;
	}
	return count(s, 0);
}

int gdoisrtp_session_unprotect(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms)
{
	return unprotect(s, buf, len, now_ms, false);
}

int gdoisrtp_session_unprotect_rtcp(gdoisrtp_session *s, void *buf, int *len, int64_t now_ms)
{
	return unprotect(s, buf, len, now_ms, true);
}
