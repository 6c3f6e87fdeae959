/*
 * push_group.h - a key server and a member sharing one group, for the
 * GROUPKEY-PUSH tests: keys, a KEK, one SRTP TEK, pushes built by our key
 * server side, and the GDOI reference implementation's KEK-rotation form
 * (the new SA KEK, its key in a KEK key packet naming the outgoing SPI).
 */
#ifndef TESTS_PUSH_GROUP_H
#define TESTS_PUSH_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdoi/policy.h"
#include "gdoi/push.h"

struct gdoi_key;

struct group {
	struct gdoi_policy ks;		/* the key server's view, keys included */
	struct gdoi_policy member;	/* what the member holds */
	struct gdoi_key *sign;		/* rekey key pair */
	struct gdoi_key *other;		/* someone else's key */
	uint32_t seq;
};

struct gdoi_key *load_key(const char *kind);
/* Appends an SRTP TEK (destination 239.0.0.1:5004, 60 s). */
void tek(struct gdoi_policy *p, uint32_t spi, uint16_t profile);
/* A fresh KEK (random SPI, keys not yet generated) in g->ks. */
void new_kek(struct group *g, uint16_t sig_alg, uint16_t sig_hash, uint16_t bits);
/* A group as after registration: the member holds the same policy, SEQ 0. */
void group_init(struct group *g, const char *kind, uint16_t sig_alg, uint16_t sig_hash);
void group_free(struct group *g);
/* A push under g->ks.kek with SEQ ++g->seq (malloc'd). */
uint8_t *push(struct group *g, const struct gdoi_policy *update, bool with_kek,
	      const struct gdoi_push_delete *del, size_t ndel, size_t *len);

/* How ref_rotation_push departs from the reference's form, for refusal tests. */
enum ref_rotation_variant {
	REF_ROT_PLAIN,		/* as the reference sends it */
	REF_ROT_TWO_SAKS,	/* the SA carries the new SA KEK twice */
	REF_ROT_TWO_PACKETS,	/* a second KEK key packet naming the new SPI */
};

/*
 * The reference implementation's KEK rotation: under g->ks.kek (header SPI,
 * encryption), SEQ ++g->seq, an SA holding only the SA KEK of next, and a KD
 * with one KEK key packet that carries next's IV and key but names kd_spi
 * (the reference: the outgoing SPI, g->ks.kek.spi).
 */
uint8_t *ref_rotation_push(struct group *g, const struct gdoi_kek_policy *next,
			   const uint8_t *kd_spi, enum ref_rotation_variant v, size_t *len);

#endif
