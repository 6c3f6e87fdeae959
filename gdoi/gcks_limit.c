/*
 * gcks_limit.c - per-source flood limits of the key-server engine (the way
 * nghttp2 keeps its rate limits inside the session): a token bucket per
 * source address for Main Mode message 1 (each costs a cookie MAC, and a
 * pending offer slot), and one for datagrams that were dropped or refused
 * (a source that keeps sending junk is no longer parsed, let alone
 * decrypted, until its bucket refills). Addresses only, not ports: a port
 * costs an attacker nothing.
 */
#include <string.h>

#include "gcks_int.h"
#include "numbers.h"

/* Main Mode 1 is answered statelessly and cheaply (no DH before message 3), and many
 * members may share one address (NAT, a load generator): its default is generous.
 * Refused datagrams from one address are not. */
#define DEFAULT_MM1_RATE  1000
#define DEFAULT_JUNK_RATE 100
#define MM1_RCOOKIE_OFF 8

static uint32_t or_default(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

void gcks_limits_init(struct gcks_limits *l, const struct gdoi_gcks_limits *cfg)
{
	memset(l, 0, sizeof(*l));
	l->mm1_rate = or_default(cfg->mm1_per_s, DEFAULT_MM1_RATE);
	l->mm1_burst = or_default(cfg->mm1_burst, l->mm1_rate > UINT32_MAX / 4 ? UINT32_MAX : 4 * l->mm1_rate);
	l->junk_rate = or_default(cfg->junk_per_s, DEFAULT_JUNK_RATE);
	l->junk_burst = or_default(cfg->junk_burst, l->junk_rate > UINT32_MAX / 4 ? UINT32_MAX : 4 * l->junk_rate);
}

static size_t set_of(const struct gdoi_addr *a)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	for (size_t i = 0; i < a->len && i < sizeof(a->ip); i++)
		h = (h ^ a->ip[i]) * 16777619u;
	return h % GCKS_SRC_SETS;
}

/* The source's slot, refilled to now; a new source starts with full buckets. */
static struct gcks_src *source(struct gcks_limits *l, const struct gdoi_addr *a, uint64_t now)
{
	struct gcks_src *set = l->src[set_of(a)], *victim = &set[0];
	size_t len = a->len <= sizeof(a->ip) ? a->len : sizeof(a->ip);
	for (size_t i = 0; i < GCKS_SRC_WAYS; i++) {
		struct gcks_src *s = &set[i];
		if (s->used && s->len == len && !memcmp(s->ip, a->ip, len)) {
			uint64_t dt = now > s->seen_ms ? now - s->seen_ms : 0;
			uint64_t mm1 = s->mm1_milli + dt * l->mm1_rate, junk = s->junk_milli + dt * l->junk_rate;
			s->mm1_milli = mm1 < (uint64_t)l->mm1_burst * 1000 ? mm1 : (uint64_t)l->mm1_burst * 1000;
			s->junk_milli = junk < (uint64_t)l->junk_burst * 1000 ? junk : (uint64_t)l->junk_burst * 1000;
			s->seen_ms = now;
			return s;
		}
		if (!s->used || s->seen_ms < victim->seen_ms)
			victim = s;
		if (!s->used)
			break;
	}
	*victim = (struct gcks_src){ .used = true, .len = (uint8_t)len, .seen_ms = now,
				     .mm1_milli = (uint64_t)l->mm1_burst * 1000,
				     .junk_milli = (uint64_t)l->junk_burst * 1000 };
	memcpy(victim->ip, a->ip, len);
	return victim;
}

static bool is_mm1(const uint8_t *msg, size_t len)
{
	static const uint8_t zero[8];
	return len > 18 && msg[18] == GDOI_EXCH_IDENT_PROT && !memcmp(msg + MM1_RCOOKIE_OFF, zero, 8);
}

const char *gcks_limit_check(struct gcks_limits *l, const uint8_t *msg, size_t len,
			     const struct gdoi_addr *from, uint64_t now_ms, struct gdoi_gcks_stats *st)
{
	struct gcks_src *s = source(l, from, now_ms);
	if (s->junk_milli < 1000) {
		st->junk_limited++;
		return "source over its limit of dropped datagrams";
	}
	if (is_mm1(msg, len)) {
		if (s->mm1_milli < 1000) {
			st->mm1_limited++;
			return "source over its limit of new Phase 1 exchanges";
		}
		s->mm1_milli -= 1000;
	}
	return NULL;
}

void gcks_limit_junk(struct gcks_limits *l, const struct gdoi_addr *from, uint64_t now_ms)
{
	struct gcks_src *s = source(l, from, now_ms);
	if (s->junk_milli >= 1000)
		s->junk_milli -= 1000;
}
