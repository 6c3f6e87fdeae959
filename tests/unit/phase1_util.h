/* phase1_util.h - two Main Mode sides in memory and the exchange between them,
 * for the Phase 1 tests (header-only: test_phase1.c and test_phase1_sig.c). */
#ifndef TESTS_PHASE1_UTIL_H
#define TESTS_PHASE1_UTIL_H

#include "tests/lib/testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/ike_keys.h"
#include "gdoi/phase1.h"

static const struct gdoi_addr gm_addr __attribute__((unused)) = { 4, { 127, 0, 0, 1 }, 848 };
static const struct gdoi_addr ks_addr __attribute__((unused)) = { 4, { 127, 0, 0, 2 }, 848 };
static const uint8_t gm_ip[4] = { 127, 0, 0, 1 }, ks_ip[4] = { 127, 0, 0, 2 };

struct side {
	struct gdoi_p1_config cfg;
	struct gdoi_p1_suite suites[8];
	struct gdoi_p1_psk psks[4];
};

static inline void psk_side(struct side *s, bool initiator, const char *key, const struct gdoi_p1_suite *su,
		     size_t n)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->suites, su, n * sizeof(*su));
	s->cfg.suites = s->suites;
	s->cfg.nsuites = n;
	s->cfg.local_id = (struct gdoi_id){ .type = GDOI_ID_IPV4_ADDR,
					    .data = GDOI_BYTES(initiator ? gm_ip : ks_ip, 4) };
	s->psks[0].addr = initiator ? ks_addr : gm_addr;
	s->psks[0].key = GDOI_BYTES(key, strlen(key));
	s->cfg.psks = s->psks;
	s->cfg.npsks = 1;
	s->cfg.initial_contact = initiator;
}

struct run {
	struct gdoi_p1_sa *i;
	struct gdoi_p1_sa *r;		/* owned by the responder */
	struct gdoi_p1_responder *resp;
	struct gdoi_p1_result ires, rres;	/* last results of each side */
	int messages;
};

/* Drives the exchange until nobody has anything to send. */
static inline void run_exchange(struct run *run, struct side *gm, struct side *ks, uint64_t now)
{
	memset(run, 0, sizeof(*run));
	run->resp = gdoi_p1_responder_new(&ks->cfg, now);
	assert_non_null(run->resp);
	assert_int_equal(gdoi_p1_initiate(&gm->cfg, &ks_addr, now, &run->i, &run->ires), 0);
	uint8_t *msg = run->ires.out;
	size_t len = run->ires.out_len;
	run->ires.out = NULL;
	while (msg && run->messages < 12) {
		run->messages++;
		gdoi_p1_result_clear(&run->rres);
		struct gdoi_p1_sa *sa = NULL;
		gdoi_p1_responder_input(run->resp, msg, len, &gm_addr, now, &run->rres, &sa);
		if (sa)
			run->r = sa;
		free(msg);
		msg = run->rres.out;
		len = run->rres.out_len;
		run->rres.out = NULL;
		if (!msg)
			break;
		run->messages++;
		gdoi_p1_result_clear(&run->ires);
		gdoi_p1_input(run->i, msg, len, now, &run->ires);
		free(msg);
		msg = run->ires.out;
		len = run->ires.out_len;
		run->ires.out = NULL;
	}
	free(msg);
}

static inline void run_free(struct run *run)
{
	gdoi_p1_result_clear(&run->ires);
	gdoi_p1_result_clear(&run->rres);
	gdoi_p1_free(run->i);
	gdoi_p1_responder_free(run->resp);
}

static inline void assert_same_keys(const struct run *run)
{
	assert_true(gdoi_p1_established(run->i));
	assert_non_null(run->r);
	assert_true(gdoi_p1_established(run->r));
	const struct gdoi_ike_keys *a = gdoi_p1_keys(run->i), *b = gdoi_p1_keys(run->r);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->skeyid_a, b->skeyid_a, a->len);
	assert_memory_equal(a->skeyid_e, b->skeyid_e, a->len);
	assert_int_equal(a->enc_key_len, b->enc_key_len);
	assert_memory_equal(a->enc_key, b->enc_key, a->enc_key_len);
	/* Both sides derive the same first IV of a later exchange. */
	uint8_t iv1[16], iv2[16];
	assert_int_equal(gdoi_p1_iv_get((struct gdoi_p1_sa *)run->i, 0x12345678, iv1), 0);
	assert_int_equal(gdoi_p1_iv_get((struct gdoi_p1_sa *)run->r, 0x12345678, iv2), 0);
	assert_memory_equal(iv1, iv2, gdoi_cipher_block_len(a->cipher));
}

#endif
