/*
 * config_index.c - hash indexes over the configured members, built once per
 * load (and so per SIGHUP reload): by name, by Phase 1 identity and by
 * address. Registration looks members up by identity several times per
 * exchange, and a push looks each registered member up by name, so these
 * must stay O(1) with thousands of members. Open addressing with linear
 * probing; a slot holds member index + 1 (0 = empty); the table is at most
 * half full. FQDN and USER_FQDN identities compare without case, so they are
 * hashed lower-cased.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gdoi/numbers.h"
#include "keyserver/config.h"

struct ks_config_index {
	size_t mask;			/* slots - 1 (a power of two) */
	uint32_t *by_name, *by_id, *by_addr;
};

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n, bool fold)
{
	for (size_t i = 0; i < n; i++) {
		h ^= fold ? (uint8_t)tolower(p[i]) : p[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static bool id_folds(uint8_t type)
{
	return type == GDOI_ID_FQDN || type == GDOI_ID_USER_FQDN;
}

static uint64_t hash_name(const char *s)
{
	return fnv(0xcbf29ce484222325ULL, (const uint8_t *)s, strlen(s), false);
}

static uint64_t hash_id(uint8_t type, const uint8_t *data, size_t len)
{
	return fnv(fnv(0xcbf29ce484222325ULL, &type, 1, false), data, len, id_folds(type));
}

static uint64_t hash_addr(const uint8_t *ip, size_t len)
{
	return fnv(0xcbf29ce484222325ULL, ip, len, false);
}

static bool id_eq(const struct ks_member_cfg *m, uint8_t type, const uint8_t *data, size_t len)
{
	if (m->id.type != type || m->id.len != len)
		return false;
	return id_folds(type) ? !strncasecmp((const char *)m->id.data, (const char *)data, len)
			      : !memcmp(m->id.data, data, len);
}

static bool same_addr(const struct ks_inet *a, const uint8_t *ip, size_t len)
{
	return a->len == len && !memcmp(a->ip, ip, len);
}

static bool has_addr(const struct ks_member_cfg *m, const uint8_t *ip, size_t len)
{
	for (size_t i = 0; i < m->naddrs; i++)
		if (same_addr(&m->addrs[i], ip, len))
			return true;
	return false;
}

void ks_config_index_free(struct ks_config_index *x)
{
	if (!x)
		return;
	free(x->by_name);
	free(x->by_id);
	free(x->by_addr);
	free(x);
}

/* Inserts member i into t at hash h unless a member equal to it (eq) is there:
 * returns 0, or the index + 1 of that member. */
#define INSERT(t, h, eq)                                                   \
	do {                                                               \
		for (size_t s_ = (h) & x->mask;; s_ = (s_ + 1) & x->mask) { \
			uint32_t v_ = (t)[s_];                             \
			if (!v_) {                                         \
				(t)[s_] = (uint32_t)i + 1;                 \
				break;                                     \
			}                                                  \
			const struct ks_member_cfg *o = &c->members[v_ - 1]; \
			if (eq) {                                          \
				*first = v_ - 1;                           \
				return 1;                                  \
			}                                                  \
		}                                                          \
	} while (0)

int ks_config_index_build(struct ks_config *c, size_t *dup, size_t *first, int *what)
{
	ks_config_index_free(c->idx);
	c->idx = NULL;
	size_t naddrs = 0;
	for (size_t i = 0; i < c->nmembers; i++)
		naddrs += c->members[i].naddrs;
	size_t need = (c->nmembers > naddrs ? c->nmembers : naddrs) * 2, slots = 16;
	while (slots < need)
		slots <<= 1;
	struct ks_config_index *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->mask = slots - 1;
	x->by_name = calloc(slots, sizeof(uint32_t));
	x->by_id = calloc(slots, sizeof(uint32_t));
	x->by_addr = calloc(slots, sizeof(uint32_t));
	if (!x->by_name || !x->by_id || !x->by_addr) {
		ks_config_index_free(x);
		return -1;
	}
	c->idx = x;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct ks_member_cfg *m = &c->members[i];
		*dup = i;
		*what = 0;
		INSERT(x->by_name, hash_name(m->name), !strcmp(o->name, m->name));
		*what = 1;
		if (m->id.type)
			INSERT(x->by_id, hash_id(m->id.type, m->id.data, m->id.len),
			       id_eq(o, m->id.type, m->id.data, m->id.len));
		*what = 2;
		for (size_t a = 0; a < m->naddrs; a++) {
			/* the same address twice in one member is harmless */
			bool seen = false;
			for (size_t b = 0; b < a; b++)
				seen |= same_addr(&m->addrs[a], m->addrs[b].ip, m->addrs[b].len);
			const struct ks_inet *ad = &m->addrs[a];
			if (!seen)
				INSERT(x->by_addr, hash_addr(ad->ip, ad->len), has_addr(o, ad->ip, ad->len));
		}
	}
	return 0;
}

const struct ks_member_cfg *ks_config_member(const struct ks_config *c, const char *name)
{
	const struct ks_config_index *x = c->idx;
	if (!x) {
		for (size_t i = 0; i < c->nmembers; i++)
			if (!strcmp(c->members[i].name, name))
				return &c->members[i];
		return NULL;
	}
	for (size_t s = hash_name(name) & x->mask; x->by_name[s]; s = (s + 1) & x->mask)
		if (!strcmp(c->members[x->by_name[s] - 1].name, name))
			return &c->members[x->by_name[s] - 1];
	return NULL;
}

const struct ks_member_cfg *ks_config_member_by_id(const struct ks_config *c, uint8_t type,
						    const uint8_t *data, size_t len)
{
	const struct ks_config_index *x = c->idx;
	if (!x) {
		for (size_t i = 0; i < c->nmembers; i++)
			if (id_eq(&c->members[i], type, data, len))
				return &c->members[i];
		return NULL;
	}
	for (size_t s = hash_id(type, data, len) & x->mask; x->by_id[s]; s = (s + 1) & x->mask)
		if (id_eq(&c->members[x->by_id[s] - 1], type, data, len))
			return &c->members[x->by_id[s] - 1];
	return NULL;
}

const struct ks_member_cfg *ks_config_member_by_addr(const struct ks_config *c, const uint8_t *ip,
						      size_t len)
{
	const struct ks_config_index *x = c->idx;
	if (!x) {
		for (size_t i = 0; i < c->nmembers; i++)
			if (has_addr(&c->members[i], ip, len))
				return &c->members[i];
		return NULL;
	}
	for (size_t s = hash_addr(ip, len) & x->mask; x->by_addr[s]; s = (s + 1) & x->mask)
		if (has_addr(&c->members[x->by_addr[s] - 1], ip, len))
			return &c->members[x->by_addr[s] - 1];
	return NULL;
}
