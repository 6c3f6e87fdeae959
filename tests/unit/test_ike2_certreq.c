/*
 * test_ike2_certreq.c - the Certificate Request payload (RFC 7296 §3.7):
 *   - gdoi_trust_ca_hashes is the SHA-1 of each anchor's SubjectPublicKeyInfo
 *     (computed here independently with OpenSSL), in order, a repeated anchor
 *     once;
 *   - our responder's IKE_SA_INIT response carries CERTREQ (encoding 4)
 *     naming its anchors, every octet of the payload compared; none without
 *     a CA; the initiator's IKE_AUTH request (decrypted here) carries it
 *     between IDi and AUTH (§1.2), every octet compared, and the exchange
 *     completes; none without a CA;
 *   - gdoi_ike2_certreq_parse: an empty body is truncated, an X.509 encoding's
 *     CA field must be whole 20-octet hashes (offset of the field named),
 *     other encodings are opaque;
 *   - a malformed CERTREQ in an IKE_SA_INIT response is dropped (the
 *     initiator sends nothing, the reason names the payload), and one in an
 *     IKE_AUTH request is answered INVALID_SYNTAX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/bytes.h"
#include "gdoi/cert.h"
#include "gdoi/err.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_int.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_sk.h"
#include "gdoi/ike2_wire.h"
#include "tests/lib/certgen.h"

static const struct gdoi_addr ADDR_R = { 4, { 127, 0, 0, 1 }, 18650 };
static const struct gdoi_addr ADDR_I = { 4, { 127, 0, 0, 1 }, 18651 };
static const struct gdoi_ike2_suite GCM19 = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };
static const uint8_t PSK[] = "certreq test psk 0123456789";

struct pki {
	EVP_PKEY *k1, *k2;
	X509 *ca1, *ca2;
	uint8_t h1[20], h2[20];		/* SHA-1 of each SubjectPublicKeyInfo */
	struct gdoi_trust *trust;	/* ca1, ca2, ca1 again */
};

/* The expected hash, computed apart from gdoi/cert.c. */
static void spki_sha1(X509 *x, uint8_t out[20])
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, out, &n, EVP_sha1(), NULL), 1);
	assert_int_equal(n, 20);
	OPENSSL_free(der);
}

static void trust_add(struct gdoi_trust *t, X509 *x)
{
	size_t len;
	uint8_t *der = certgen_cert_der(x, &len);
	assert_int_equal(gdoi_trust_add(t, GDOI_BYTES(der, len)), GDOI_OK);
	free(der);
}

static int pki_teardown(void **state);

static int pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	*state = p;
	p->k1 = certgen_key("p256");
	p->k2 = certgen_key("p256");
	p->ca1 = certgen_cert(p->k1, p->k1, NULL, "CA one", NULL, true);
	p->ca2 = certgen_cert(p->k2, p->k2, NULL, "CA two", NULL, true);
	if (!p->ca1 || !p->ca2 || gdoi_trust_new(&p->trust) != GDOI_OK) {
		pki_teardown(state);	/* cmocka does not tear down a group whose set-up failed */
		return -1;
	}
	spki_sha1(p->ca1, p->h1);
	spki_sha1(p->ca2, p->h2);
	trust_add(p->trust, p->ca1);
	trust_add(p->trust, p->ca2);
	trust_add(p->trust, p->ca1);
	return 0;
}

static int pki_teardown(void **state)
{
	struct pki *p = *state;
	gdoi_trust_free(p->trust);
	X509_free(p->ca1);
	X509_free(p->ca2);
	EVP_PKEY_free(p->k1);
	EVP_PKEY_free(p->k2);
	free(p);
	return 0;
}

static void test_trust_hashes(void **state)
{
	struct pki *p = *state;
	struct gdoi_trust *empty;
	gdoi_bytes h = gdoi_trust_ca_hashes(p->trust);

	assert_int_equal(h.len, 40);
	assert_memory_equal(h.ptr, p->h1, 20);
	assert_memory_equal(h.ptr + 20, p->h2, 20);
	assert_int_equal(gdoi_trust_new(&empty), GDOI_OK);
	assert_int_equal(gdoi_trust_ca_hashes(empty).len, 0);
	gdoi_trust_free(empty);
	assert_int_equal(gdoi_trust_ca_hashes(NULL).len, 0);
}

static void psk_cfg(struct gdoi_ike2_config *c, struct gdoi_ike2_psk *k, const char *id,
		    struct gdoi_trust *trust)
{
	memset(c, 0, sizeof(*c));
	*k = (struct gdoi_ike2_psk){ .key = GDOI_BYTES(PSK, sizeof(PSK) - 1) };
	c->suites = &GCM19;
	c->nsuites = 1;
	c->local_id = (struct gdoi_ike2_id){ GDOI_IKE2_ID_FQDN, GDOI_BYTES(id, strlen(id)) };
	c->psks = k;
	c->npsks = 1;
	c->trust = trust;
}

/* The CERTREQ payload of msg (a plaintext IKE_SA_INIT), or -1. */
static int find_certreq(const uint8_t *msg, size_t len, struct gdoi_ike2_chain *c)
{
	struct gdoi_ike2_hdr h;
	struct gdoi_parse_error e = { 0 };
	assert_int_equal(gdoi_ike2_hdr_parse(msg, len, &h, &e), GDOI_OK);
	assert_int_equal(gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN,
					       GDOI_IKE2_HDR_LEN, h.next, false, NULL, 0, c, &e), GDOI_OK);
	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].type == GDOI_IKE2_PL_CERTREQ)
			return (int)i;
	return -1;
}

/* One exchange in memory: our IKE_SA_INIT request (PSK, no CA) answered by a
 * responder trusting trust; rr holds the response. */
struct xchg {
	struct gdoi_ike2_config ci, cr;
	struct gdoi_ike2_psk ki, kr;
	struct gdoi_ike2_responder *r;
	struct gdoi_ike2_sa *i;
	struct gdoi_ike2_result rr;
};

static void init_exchange(struct gdoi_trust *trust, struct xchg *x)
{
	struct gdoi_ike2_result ri = { 0 };
	struct gdoi_ike2_sa *rsa = NULL;
	memset(x, 0, sizeof(*x));
	psk_cfg(&x->ci, &x->ki, "gm.example", NULL);
	psk_cfg(&x->cr, &x->kr, "ks.example", trust);
	assert_non_null(x->r = gdoi_ike2_responder_new(&x->cr, 1000));
	assert_int_equal(gdoi_ike2_initiate(&x->ci, &ADDR_R, 1000, &x->i, &ri), GDOI_OK);
	assert_int_equal(ri.nout, 1);
	assert_int_equal(gdoi_ike2_responder_input(x->r, ri.out[0], ri.out_len[0], &ADDR_I, 1000, &x->rr,
						   &rsa), GDOI_OK);
	assert_int_equal(x->rr.nout, 1);
	gdoi_ike2_result_clear(&ri);
}

static void xchg_free(struct xchg *x)
{
	gdoi_ike2_result_clear(&x->rr);
	gdoi_ike2_free(x->i);
	gdoi_ike2_responder_free(x->r);
}

static void test_responder_sends_certreq(void **state)
{
	struct pki *p = *state;
	struct xchg x;
	struct gdoi_ike2_chain c;
	int k;

	init_exchange(p->trust, &x);
	assert_true((k = find_certreq(x.rr.out[0], x.rr.out_len[0], &c)) >= 0);
	/* after Nr (§1.2: SAr1, KEr, Nr, [CERTREQ]) */
	assert_true(k > 0);
	assert_int_equal(c.p[k - 1].type, GDOI_IKE2_PL_NONCE);
	{
		const uint8_t *pl = x.rr.out[0] + c.off[k];
		uint8_t want[4 + 1 + 40];
		want[0] = (size_t)k + 1 < c.n ? c.p[k + 1].type : 0;	/* Next Payload */
		want[1] = 0;						/* C = 0, RESERVED */
		want[2] = 0;
		want[3] = sizeof(want);					/* Payload Length 45 */
		want[4] = GDOI_IKE2_CERT_X509_SIG;			/* Cert Encoding 4 */
		memcpy(want + 5, p->h1, 20);
		memcpy(want + 25, p->h2, 20);
		assert_int_equal(c.p[k].body.len, sizeof(want) - 4);
		assert_memory_equal(pl, want, sizeof(want));
	}
	xchg_free(&x);

	/* without a CA: no CERTREQ */
	init_exchange(NULL, &x);
	assert_int_equal(find_certreq(x.rr.out[0], x.rr.out_len[0], &c), -1);
	xchg_free(&x);
}

static void test_put_certreq_octets(void **state)
{
	struct pki *p = *state;
	struct gdoi_ike2_config cfg = { .trust = p->trust };
	struct gdoi_writer w;
	struct gdoi_ike2_builder b;
	uint8_t want[45] = { 0, 0, 0, 45, 4 };

	memcpy(want + 5, p->h1, 20);
	memcpy(want + 25, p->h2, 20);
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	ike2_sig_put_certreq(&cfg, &b);
	assert_false(w.failed);
	assert_int_equal(b.first, GDOI_IKE2_PL_CERTREQ);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	gdoi_writer_free(&w);
	/* no trust: nothing */
	cfg.trust = NULL;
	gdoi_writer_init(&w);
	gdoi_ike2_builder_init(&b, &w);
	ike2_sig_put_certreq(&cfg, &b);
	assert_int_equal(w.len, 0);
	gdoi_writer_free(&w);
}

/* The initiator (trusting itrust) answers the IKE_SA_INIT response: its IKE_AUTH
 * request decrypted, the inner chain in *c (payloads point into *pt). */
static void auth_request(struct gdoi_trust *itrust, struct gdoi_ike2_chain *c, uint8_t **pt,
			 size_t *pt_len, bool *established)
{
	struct xchg x;
	struct gdoi_ike2_sa *rsa = NULL;
	struct gdoi_ike2_result ri = { 0 }, r2 = { 0 }, ri2 = { 0 };
	struct gdoi_ike2_hdr h;
	struct gdoi_ike2_chain outer;
	struct gdoi_parse_error e = { 0 };

	init_exchange(NULL, &x);
	x.ci.trust = itrust;
	gdoi_ike2_input(x.i, x.rr.out[0], x.rr.out_len[0], 1000, &ri);
	assert_int_equal(ri.nout, 1);
	assert_int_equal(gdoi_ike2_hdr_parse(ri.out[0], ri.out_len[0], &h, &e), GDOI_OK);
	assert_int_equal(h.exchange, GDOI_IKE2_EXCH_IKE_AUTH);
	assert_int_equal(gdoi_ike2_chain_parse(ri.out[0] + GDOI_IKE2_HDR_LEN, ri.out_len[0] - GDOI_IKE2_HDR_LEN,
					       GDOI_IKE2_HDR_LEN, h.next, true, NULL, 0, &outer, &e), GDOI_OK);
	assert_int_equal(gdoi_ike2_sk_open(gdoi_ike2_keys(x.i), true, ri.out[0], ri.out_len[0], outer.sk_off,
					   false, pt, pt_len), GDOI_OK);
	assert_int_equal(gdoi_ike2_chain_parse(*pt, *pt_len, 0, outer.sk_first, false, NULL, 0, c, &e), GDOI_OK);
	/* the responder (PSK, no CA) still completes the exchange */
	gdoi_ike2_responder_input(x.r, ri.out[0], ri.out_len[0], &ADDR_I, 1000, &r2, &rsa);
	assert_int_equal(r2.nout, 1);
	gdoi_ike2_input(x.i, r2.out[0], r2.out_len[0], 1000, &ri2);
	*established = ri2.event == GDOI_IKE2_EV_ESTABLISHED;
	gdoi_ike2_result_clear(&ri2);
	gdoi_ike2_result_clear(&r2);
	gdoi_ike2_result_clear(&ri);
	xchg_free(&x);
}

static void test_initiator_sends_certreq(void **state)
{
	struct pki *p = *state;
	struct gdoi_ike2_chain c;
	uint8_t *pt, want[45] = { GDOI_IKE2_PL_AUTH, 0, 0, 45, GDOI_IKE2_CERT_X509_SIG };
	size_t pt_len;
	bool est = false;
	int k = -1;

	auth_request(p->trust, &c, &pt, &pt_len, &est);
	assert_true(est);
	for (size_t n = 0; n < c.n; n++)
		if (c.p[n].type == GDOI_IKE2_PL_CERTREQ)
			k = (int)n;
	/* IDi, [CERT,] [CERTREQ,] [IDr,] AUTH: here IDi CERTREQ AUTH (PSK, no CERT) */
	assert_int_equal(k, 1);
	assert_int_equal(c.p[0].type, GDOI_IKE2_PL_IDI);
	assert_int_equal(c.p[2].type, GDOI_IKE2_PL_AUTH);
	memcpy(want + 5, p->h1, 20);
	memcpy(want + 25, p->h2, 20);
	assert_memory_equal(pt + c.off[k], want, sizeof(want));
	free(pt);
	/* without a CA: none */
	auth_request(NULL, &c, &pt, &pt_len, &est);
	assert_true(est);
	for (size_t n = 0; n < c.n; n++)
		assert_int_not_equal(c.p[n].type, GDOI_IKE2_PL_CERTREQ);
	free(pt);
}

static int parse(uint8_t enc, size_t calen, struct gdoi_ike2_certreq *cr, struct gdoi_parse_error *e)
{
	static uint8_t body[1 + 64];
	struct gdoi_ike2_payload pl = { GDOI_IKE2_PL_CERTREQ, false, GDOI_BYTES(body, 1 + calen) };
	body[0] = enc;
	memset(body + 1, 0xc3, calen);
	return gdoi_ike2_certreq_parse(&pl, 100, cr, e);
}

static void test_parse_bounds(void **state)
{
	struct gdoi_ike2_certreq cr;
	struct gdoi_parse_error e = { 0 };
	struct gdoi_ike2_payload empty = { GDOI_IKE2_PL_CERTREQ, false, GDOI_BYTES_NONE };
	(void)state;

	assert_int_equal(gdoi_ike2_certreq_parse(&empty, 100, &cr, &e), GDOI_ERR_TRUNCATED);
	assert_int_equal(e.offset, 100);
	assert_int_equal(e.payload, GDOI_IKE2_PL_CERTREQ);
	assert_int_equal(parse(4, 0, &cr, &e), GDOI_OK);	/* no CA named */
	assert_int_equal(cr.ncas, 0);
	assert_int_equal(parse(4, 20, &cr, &e), GDOI_OK);
	assert_int_equal(cr.encoding, 4);
	assert_int_equal(cr.ncas, 1);
	assert_int_equal(cr.cas.len, 20);
	assert_int_equal(parse(4, 60, &cr, &e), GDOI_OK);
	assert_int_equal(cr.ncas, 3);
	for (size_t n = 1; n < 60; n++) {
		if (n % 20 == 0)
			continue;
		memset(&e, 0, sizeof(e));
		assert_int_equal(parse(4, n, &cr, &e), GDOI_ERR_LENGTH);
		assert_int_equal(e.offset, 105);	/* the Certification Authority field */
		assert_int_equal(e.payload, GDOI_IKE2_PL_CERTREQ);
	}
	assert_int_equal(parse(12, 19, &cr, &e), GDOI_ERR_LENGTH);	/* Hash and URL: X.509 too */
	assert_int_equal(parse(13, 21, &cr, &e), GDOI_ERR_LENGTH);
	assert_int_equal(parse(1, 7, &cr, &e), GDOI_OK);	/* PKCS #7: opaque */
	assert_int_equal(cr.ncas, 0);
	assert_int_equal(cr.cas.len, 7);
}

/* The responder's IKE_SA_INIT response with its CERTREQ's CA field one octet
 * shorter: the initiator drops it, naming the payload. */
static void test_initiator_drops_bad_certreq(void **state)
{
	struct pki *p = *state;
	struct xchg x;
	struct gdoi_ike2_result ri = { 0 };
	struct gdoi_ike2_chain c;
	uint8_t *m;
	size_t len;
	int k;

	init_exchange(p->trust, &x);
	m = x.rr.out[0];
	len = x.rr.out_len[0];
	assert_true((k = find_certreq(m, len, &c)) >= 0);
	{
		size_t at = c.off[k], plen = gdoi_get_u16(m + at + 2);
		memmove(m + at + plen - 1, m + at + plen, len - at - plen);
		len--;
		gdoi_put_u16(m + at + 2, (uint16_t)(plen - 1));
		gdoi_put_u32(m + 24, (uint32_t)len);
	}
	gdoi_ike2_input(x.i, m, len, 1000, &ri);
	assert_int_equal(ri.nout, 0);
	assert_int_not_equal(ri.err, GDOI_OK);
	assert_non_null(strstr(ri.reason, "CERTREQ"));
	assert_false(gdoi_ike2_dead(x.i));	/* a forged answer does not end the attempt */
	gdoi_ike2_result_clear(&ri);
	xchg_free(&x);
}

/* The initiator's front end adds a CERTREQ of 1 + 19 octets to its IKE_AUTH. */
static int add_bad_certreq(void *ctx, struct gdoi_ike2_sa *sa, struct gdoi_ike2_plist *out)
{
	uint8_t body[20] = { GDOI_IKE2_CERT_X509_SIG };
	(void)ctx;
	(void)sa;
	return gdoi_ike2_plist_add(out, GDOI_IKE2_PL_CERTREQ, false, body, sizeof(body));
}

static void test_responder_refuses_bad_certreq(void **state)
{
	struct pki *p = *state;
	struct xchg x;
	struct gdoi_ike2_sa *rsa = NULL;
	struct gdoi_ike2_result ri = { 0 }, r2 = { 0 }, ri2 = { 0 };

	init_exchange(p->trust, &x);
	x.ci.hooks.auth_add = add_bad_certreq;
	gdoi_ike2_input(x.i, x.rr.out[0], x.rr.out_len[0], 1000, &ri);
	assert_true(ri.nout >= 1);
	gdoi_ike2_responder_input(x.r, ri.out[0], ri.out_len[0], &ADDR_I, 1000, &r2, &rsa);
	assert_int_equal(r2.event, GDOI_IKE2_EV_FAILED);
	assert_int_equal(r2.notify, GDOI_IKE2_N_INVALID_SYNTAX);
	assert_non_null(strstr(r2.reason, "CERTREQ"));
	assert_int_equal(r2.nout, 1);	/* the answer: N(INVALID_SYNTAX) */
	gdoi_ike2_input(x.i, r2.out[0], r2.out_len[0], 1000, &ri2);
	assert_int_equal(ri2.event, GDOI_IKE2_EV_FAILED);
	assert_int_equal(ri2.notify, GDOI_IKE2_N_INVALID_SYNTAX);
	gdoi_ike2_result_clear(&ri2);
	gdoi_ike2_result_clear(&r2);
	gdoi_ike2_result_clear(&ri);
	xchg_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust_hashes),
		cmocka_unit_test(test_responder_sends_certreq),
		cmocka_unit_test(test_put_certreq_octets),
		cmocka_unit_test(test_initiator_sends_certreq),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_initiator_drops_bad_certreq),
		cmocka_unit_test(test_responder_refuses_bad_certreq),
	};
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
