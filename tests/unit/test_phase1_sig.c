/*
 * test_phase1_sig.c - IKEv1 Main Mode with signatures (RSA, ECDSA P-256, P-384,
 * P-521) and certificates from a test CA, initiator against responder in memory;
 * then the refusals: another CA's certificate, an ID the certificate does not
 * carry, the wrong private key.
 */
#include "tests/lib/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gdoi/cert.h"
#include "gdoi/err.h"
#include "gdoi/sign.h"
#include "tests/lib/certgen.h"
#include "tests/unit/phase1_util.h"

struct pki {
	EVP_PKEY *ca_key, *gm_key, *ks_key;
	X509 *ca, *gm, *ks;
	uint8_t *gm_der, *ks_der, *ca_der, *gm_kder, *ks_kder;
	size_t gm_len, ks_len, ca_len, gm_klen, ks_klen;
	struct gdoi_key *gm_k, *ks_k;
	struct gdoi_trust *trust;
};

static int64_t wall(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

static void pki_make(struct pki *p, const char *kind)
{
	memset(p, 0, sizeof(*p));
	p->ca_key = certgen_key("p256");
	p->gm_key = certgen_key(kind);
	p->ks_key = certgen_key(kind);
	p->ca = certgen_cert(p->ca_key, NULL, NULL, "test CA", NULL, true);
	p->gm = certgen_cert(p->gm_key, p->ca_key, p->ca, "gm1", "DNS:gm1.example", false);
	p->ks = certgen_cert(p->ks_key, p->ca_key, p->ca, "ks", "DNS:ks.example", false);
	assert_non_null(p->gm);
	assert_non_null(p->ks);
	p->gm_der = certgen_cert_der(p->gm, &p->gm_len);
	p->ks_der = certgen_cert_der(p->ks, &p->ks_len);
	p->ca_der = certgen_cert_der(p->ca, &p->ca_len);
	p->gm_kder = certgen_key_der(p->gm_key, &p->gm_klen);
	p->ks_kder = certgen_key_der(p->ks_key, &p->ks_klen);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(p->gm_kder, p->gm_klen), &p->gm_k), 0);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(p->ks_kder, p->ks_klen), &p->ks_k), 0);
	assert_int_equal(gdoi_trust_new(&p->trust), 0);
	assert_int_equal(gdoi_trust_add(p->trust, GDOI_BYTES(p->ca_der, p->ca_len)), 0);
}

static void pki_free(struct pki *p)
{
	gdoi_key_free(p->gm_k);
	gdoi_key_free(p->ks_k);
	gdoi_trust_free(p->trust);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->gm_key);
	EVP_PKEY_free(p->ks_key);
	X509_free(p->ca);
	X509_free(p->gm);
	X509_free(p->ks);
	free(p->gm_der);
	free(p->ks_der);
	free(p->ca_der);
	free(p->gm_kder);
	free(p->ks_kder);
}

static void sig_side(struct side *s, const struct pki *p, bool initiator, uint16_t auth)
{
	static const char gm_name[] = "gm1.example", ks_name[] = "ks.example";
	memset(s, 0, sizeof(*s));
	gdoi_p1_suites_default(auth, 3600, false, s->suites, 2);
	s->cfg.suites = s->suites;
	s->cfg.nsuites = 2;
	s->cfg.local_id = (struct gdoi_id){ .type = GDOI_ID_FQDN,
		.data = initiator ? GDOI_BYTES(gm_name, 11) : GDOI_BYTES(ks_name, 10) };
	s->cfg.key = initiator ? p->gm_k : p->ks_k;
	s->cfg.cert = initiator ? GDOI_BYTES(p->gm_der, p->gm_len) : GDOI_BYTES(p->ks_der, p->ks_len);
	s->cfg.trust = p->trust;
	s->cfg.unix_now = wall;
}

static void sig_roundtrip(const char *kind, uint16_t auth)
{
	struct pki p;
	pki_make(&p, kind);
	struct side gm, ks;
	sig_side(&gm, &p, true, auth);
	sig_side(&ks, &p, false, auth);
	struct run run;
	run_exchange(&run, &gm, &ks, 7);
	assert_int_equal(run.ires.event, GDOI_P1_EV_ESTABLISHED);
	assert_same_keys(&run);
	assert_int_equal(gdoi_p1_suite(run.r)->auth, auth);
	assert_int_equal(gdoi_p1_peer_id(run.r)->type, GDOI_ID_FQDN);
	run_free(&run);
	pki_free(&p);
}

static void test_phase1_rsa_signatures_establish_sa(void **s) { (void)s; sig_roundtrip("rsa2048", GDOI_IKE_AUTH_RSA_SIG); }
static void test_phase1_ecdsa_p256_signatures_establish_sa(void **s) { (void)s; sig_roundtrip("p256", GDOI_IKE_AUTH_ECDSA_256); }
static void test_phase1_ecdsa_p384_signatures_establish_sa(void **s) { (void)s; sig_roundtrip("p384", GDOI_IKE_AUTH_ECDSA_384); }
static void test_phase1_ecdsa_p521_signatures_establish_sa(void **s) { (void)s; sig_roundtrip("p521", GDOI_IKE_AUTH_ECDSA_521); }

static void test_phase1_refuses_certificate_of_another_ca(void **s)
{
	(void)s;
	struct pki p, other;
	pki_make(&p, "p256");
	pki_make(&other, "p256");
	struct side gm, ks;
	sig_side(&gm, &other, true, GDOI_IKE_AUTH_ECDSA_256);	/* another CA's member */
	gm.cfg.trust = p.trust;
	sig_side(&ks, &p, false, GDOI_IKE_AUTH_ECDSA_256);
	struct run run;
	run_exchange(&run, &gm, &ks, 7);
	assert_int_equal(run.rres.event, GDOI_P1_EV_FAILED);
	assert_int_equal(run.rres.notify, GDOI_N_INVALID_CERTIFICATE);
	assert_int_equal(run.ires.notify, GDOI_N_INVALID_CERTIFICATE);
	run_free(&run);

	/* Right CA, but the ID claims a name the certificate does not carry. */
	static const char liar[] = "ks.example";
	sig_side(&gm, &p, true, GDOI_IKE_AUTH_ECDSA_256);
	gm.cfg.local_id.data = GDOI_BYTES(liar, 10);
	run_exchange(&run, &gm, &ks, 7);
	assert_int_equal(run.rres.notify, GDOI_N_INVALID_ID_INFORMATION);
	run_free(&run);

	/* Right certificate, wrong private key: the signature fails. */
	sig_side(&gm, &p, true, GDOI_IKE_AUTH_ECDSA_256);
	gm.cfg.key = other.gm_k;
	run_exchange(&run, &gm, &ks, 7);
	assert_int_equal(run.rres.notify, GDOI_N_INVALID_SIGNATURE);
	run_free(&run);
	pki_free(&p);
	pki_free(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase1_rsa_signatures_establish_sa),
		cmocka_unit_test(test_phase1_ecdsa_p256_signatures_establish_sa),
		cmocka_unit_test(test_phase1_ecdsa_p384_signatures_establish_sa),
		cmocka_unit_test(test_phase1_ecdsa_p521_signatures_establish_sa),
		cmocka_unit_test(test_phase1_refuses_certificate_of_another_ca),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
