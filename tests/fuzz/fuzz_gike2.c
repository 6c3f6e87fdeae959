/*
 * fuzz_gike2.c - libFuzzer target for the G-IKEv2 payload parsers and the
 * GSA_REKEY open (gdoi/gike2_*.c). The first octet picks the entry point:
 *   0 GSA body, 1 KD body (each: what parses must rebuild to the same octets,
 *   and the policy converters must not crash on it), 2 IDg, 3 SENDER data,
 *   4 a GSA_REKEY datagram under fixed Rekey SA keys (signed and implicit),
 *   5 a registration response's inner payload chain, 6 a Delete body (rebuilt to
 *   the same octets), 7 a GSA_REKEY's plaintext sealed here (fuzz_gike2_sealed.h).
 * Errors must name an offset inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/arena.h"
#include "gdoi/gike2.h"
#include "gdoi/gike2_msg.h"
#include "gdoi/gike2_policy.h"
#include "gdoi/gike2_rekey.h"
#include "tests/fuzz/fuzz_gike2_sealed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rekey_sa(struct gike2_rekey_sa *sa, uint16_t gcauth)
{
	uint8_t km[36];
	memset(sa, 0, sizeof(*sa));
	memset(sa->spi, 0xa5, sizeof(sa->spi));
	sa->encr = GIKE2_ENCR_AES_GCM_16;
	sa->encr_key_bits = 128;
	sa->kwa = GIKE2_KWA_5649_128;
	sa->gcauth = gcauth;
	sa->sig_md = GDOI_MD_SHA256;
	for (size_t i = 0; i < sizeof(km); i++)
		km[i] = (uint8_t)i;
	if (gike2_rekey_set_keys(sa, GDOI_BYTES(km, sizeof(km))))
		abort();
}

static void check_err(int rc, const struct gdoi_parse_error *e, size_t size)
{
	char msg[256];
	if (rc == 0)
		return;
	gike2_parse_error_format(e, msg, sizeof(msg));
	if (e->code != rc || e->offset > size)
		abort();
}

static void body(uint8_t sel, const uint8_t *p, size_t n)
{
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_parse_error e;
	struct gdoi_reader r = gdoi_reader_init(p, n, 0);
	struct gdoi_writer w;
	struct gdoi_policy pol;
	char why[160];
	uint8_t kwk[16] = { 0 };
	int rc;

	if (!a)
		return;
	gdoi_writer_init(&w);
	memset(&pol, 0, sizeof(pol));
	if (sel == 0) {
		struct gike2_gsa g;
		rc = gike2_gsa_parse(&r, a, &g, &e);
		check_err(rc, &e, n);
		if (rc == 0) {
			if (gike2_gsa_build(&w, &g) || w.len != n || memcmp(w.buf, p, n))
				abort();	/* the builder is canonical */
			gike2_policy_from_gsa(&pol, &g, why, sizeof(why));
			for (size_t i = 0; i < g.npol; i++) {
				struct gike2_rekey_sa sa;
				gike2_rekey_from_gsa_policy(&sa, &g.pol[i], why, sizeof(why));
			}
		}
	} else {
		struct gike2_kd kd;
		rc = gike2_kd_parse(&r, a, &kd, &e);
		check_err(rc, &e, n);
		if (rc == 0) {
			if (gike2_kd_build(&w, &kd) || w.len != n || memcmp(w.buf, p, n))
				abort();
			pol.nteks = 1;
			pol.teks[0].kind = GDOI_TEK_SRTP;
			pol.teks[0].spi = kd.nbag && kd.bag[0].spi.len == 4 ? gdoi_get_u32(kd.bag[0].spi.ptr) : 1;
			pol.teks[0].u.srtp.profile = 1;
			gike2_policy_apply_kd(&pol, &kd, GDOI_BYTES(kwk, 16), why, sizeof(why));
			struct gike2_rekey_sa sa;
			struct gdoi_key *k = NULL;
			rekey_sa(&sa, GIKE2_GCAUTH_DIGITAL_SIGNATURE);
			if (gike2_rekey_apply_kd(&sa, &kd, GDOI_BYTES(kwk, 16), &k, why, sizeof(why)) == 0)
				gdoi_key_free(k);
		}
	}
	gdoi_policy_clear(&pol);
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0] % 8;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct gdoi_parse_error e;
	struct gdoi_reader r = gdoi_reader_init(p, n, 0);

	switch (sel) {
	case 0:
	case 1:
		body(sel, p, n);
		break;
	case 2: {
		struct gike2_idg id;
		check_err(gike2_idg_parse(&r, &id, &e), &e, n);
		break;
	}
	case 3: {
		uint32_t c;
		check_err(gike2_sender_parse(&r, &c, &e), &e, n);
		break;
	}
	case 4: {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gike2_rekey_sa sa;
		struct gike2_pl *pl;
		size_t npl;
		uint32_t id;
		if (!a)
			break;
		/* implicit: no key needed; a wrong-ICV input stops at the tag */
		rekey_sa(&sa, GIKE2_GCAUTH_IMPLICIT);
		int rc = gike2_rekey_open(&sa, p, n, NULL, a, &pl, &npl, &id, &e);
		if (rc == 0 && sa.msgid != id + 1 && !sa.exhausted)
			abort();
		gdoi_arena_free(a);
		break;
	}
	case 6: {
		struct gike2_delete d;
		struct gdoi_writer w;
		int rc = gike2_delete_parse(&r, &d, &e);
		check_err(rc, &e, n);
		if (rc == 0) {
			gdoi_writer_init(&w);
			if (gike2_delete_build(&w, &d) || w.len != n || memcmp(w.buf, p, n))
				abort();
			gdoi_writer_free(&w);
		}
		break;
	}
	case 5: {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gike2_pl *pl;
		size_t npl;
		if (!a)
			break;
		int rc = gike2_chain_parse(&r, n ? GIKE2_PL_GSA : 0, a, &pl, &npl, &e);
		check_err(rc, &e, n);
		if (rc == 0) {
			struct gdoi_policy pol;
			struct gike2_rekey_sa sa;
			struct gdoi_key *k = NULL;
			bool has;
			uint16_t err;
			char why[160];
			uint8_t kwk[16] = { 0 };
			memset(&pol, 0, sizeof(pol));
			gike2_reg_response_apply(pl, npl, GDOI_BYTES(kwk, 16), a, &pol, &sa, &has, &k,
						 &err, why, sizeof(why));
			gdoi_key_free(k);
			gdoi_policy_clear(&pol);
			struct gike2_reg_request rq;
			gike2_reg_request_parse(pl, npl, &rq, &e);
		}
		gdoi_arena_free(a);
		break;
	}
	case 7:
		sealed_rekey(p, n);
		break;
	}
	return 0;
}
