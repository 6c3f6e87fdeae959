/*
 * test_ike2_sig.c - IKEv2 Digital Signature authentication (RFC 7427, Auth
 * Method 14) with X.509 certificates, our initiator against our responder in
 * memory: ECDSA P-256 and RSA-2048 end entities (certificates made here with
 * OpenSSL, tests/lib/certgen), IDs as FQDN (subjectAltName) and DN (subject),
 * the hash following SIGNATURE_HASH_ALGORITHMS; refused with
 * AUTHENTICATION_FAILED: a certificate of another CA (either role), a
 * signature over other octets, a key that is not the certificate's, and an
 * ID the certificate does not vouch for; a responder with both a key and
 * PSKs answers each initiator with that initiator's method.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gdoi/bytes.h"
#include "gdoi/cert.h"
#include "gdoi/err.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_int.h"
#include "gdoi/ike2_keys.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/sign.h"
#include "tests/lib/certgen.h"

static const struct gdoi_addr ADDR_R = { 4, { 127, 0, 0, 1 }, 18640 };
static const struct gdoi_addr ADDR_I = { 4, { 127, 0, 0, 1 }, 18641 };
static const struct gdoi_ike2_suite GCM19 = { GDOI_IKE2_ENCR_AES_GCM_16, 256,
					      GDOI_IKE2_PRF_HMAC_SHA2_256, 0, 19 };

/* One end: its key pair and certificate, the CA it trusts. */
struct side {
	struct gdoi_ike2_config cfg;
	struct gdoi_ike2_suite suite;
	struct gdoi_key *key;
	uint8_t *cert, *dn;
	size_t cert_len, dn_len;
	struct gdoi_trust *trust;
};

static int64_t wall(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

/* ca/ca_key: who trusts and who issued are the same CA unless issuer differs. */
static void side_init(struct side *s, const char *kind, const char *fqdn, EVP_PKEY *issuer_key,
		      X509 *issuer, X509 *trusted, bool dn_id)
{
	EVP_PKEY *k = certgen_key(kind);
	char san[80];
	uint8_t *der;
	size_t len;

	assert_non_null(k);
	memset(s, 0, sizeof(*s));
	snprintf(san, sizeof(san), "DNS:%s", fqdn);
	X509 *x = certgen_cert(k, issuer_key, issuer, fqdn, san, false);
	assert_non_null(x);
	s->cert = certgen_cert_der(x, &s->cert_len);
	s->dn = certgen_subject_der(x, &s->dn_len);
	der = certgen_key_der(k, &len);
	assert_int_equal(gdoi_key_load_private(GDOI_BYTES(der, len), &s->key), GDOI_OK);
	free(der);
	der = certgen_cert_der(trusted, &len);
	assert_int_equal(gdoi_trust_new(&s->trust), GDOI_OK);
	assert_int_equal(gdoi_trust_add(s->trust, GDOI_BYTES(der, len)), GDOI_OK);
	free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	s->suite = GCM19;
	s->cfg.suites = &s->suite;
	s->cfg.nsuites = 1;
	if (dn_id) {
		s->cfg.local_id.type = GDOI_IKE2_ID_DER_ASN1_DN;
		s->cfg.local_id.data = GDOI_BYTES(s->dn, s->dn_len);
	} else {
		s->cfg.local_id.type = GDOI_IKE2_ID_FQDN;
		s->cfg.local_id.data = GDOI_BYTES(fqdn, strlen(fqdn));
	}
	s->cfg.key = s->key;
	s->cfg.cert = GDOI_BYTES(s->cert, s->cert_len);
	s->cfg.trust = s->trust;
	s->cfg.unix_now = wall;
}

static void side_free(struct side *s)
{
	gdoi_key_free(s->key);
	gdoi_trust_free(s->trust);
	free(s->cert);
	free(s->dn);
}

struct net {
	struct gdoi_ike2_responder *r;
	struct gdoi_ike2_sa *i, *rsa;
	struct gdoi_ike2_result ri, rr;
	bool i_est, r_est;
	uint16_t i_notify, r_notify;
	int fail_i, fail_r;
	char i_reason[160], r_reason[160];	/* of the failure */
};

/* Delivers every datagram of from to the other side, and their answers. */
static void deliver(struct net *n, bool to_resp, struct gdoi_ike2_result *from)
{
	struct gdoi_ike2_result src = *from;
	memset(from, 0, sizeof(*from));
	for (size_t k = 0; k < src.nout; k++) {
		struct gdoi_ike2_result *r = to_resp ? &n->rr : &n->ri;
		gdoi_ike2_result_clear(r);
		if (to_resp) {
			struct gdoi_ike2_sa *sa = NULL;
			gdoi_ike2_responder_input(n->r, src.out[k], src.out_len[k], &ADDR_I, 1000, r, &sa);
			if (sa)
				n->rsa = sa;
		} else {
			gdoi_ike2_input(n->i, src.out[k], src.out_len[k], 1000, r);
		}
		bool *est = to_resp ? &n->r_est : &n->i_est;
		*est = *est || r->event == GDOI_IKE2_EV_ESTABLISHED;
		if (r->event == GDOI_IKE2_EV_FAILED) {
			(*(to_resp ? &n->fail_r : &n->fail_i))++;
			*(to_resp ? &n->r_notify : &n->i_notify) = r->notify;
			memcpy(to_resp ? n->r_reason : n->i_reason, r->reason, sizeof(r->reason));
		}
		if (r->nout)
			deliver(n, !to_resp, r);
	}
	for (size_t k = 0; k < src.nout; k++)
		free(src.out[k]);
}

/* tamper: the initiator's copy of its IKE_SA_INIT request changes after
 * sending, so it signs octets the responder does not see. */
static void run(struct net *n, struct side *si, struct side *sr, bool tamper)
{
	struct gdoi_ike2_result res = { 0 };
	memset(n, 0, sizeof(*n));
	n->r = gdoi_ike2_responder_new(&sr->cfg, 1000);
	assert_non_null(n->r);
	assert_int_equal(gdoi_ike2_initiate(&si->cfg, &ADDR_R, 1000, &n->i, &res), GDOI_OK);
	if (tamper)
		n->i->msg1[n->i->msg1_len - 1] ^= 0x01;
	deliver(n, true, &res);
}

static void done(struct net *n)
{
	gdoi_ike2_result_clear(&n->ri);
	gdoi_ike2_result_clear(&n->rr);
	gdoi_ike2_free(n->i);
	gdoi_ike2_responder_free(n->r);
}

struct pki {
	EVP_PKEY *ca_key, *other_key;
	X509 *ca, *other;
};

static int pki_teardown(void **state);

static int pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->ca_key = certgen_key("p256");
	p->other_key = certgen_key("p256");
	p->ca = certgen_cert(p->ca_key, p->ca_key, NULL, "IKE CA", NULL, true);
	p->other = certgen_cert(p->other_key, p->other_key, NULL, "IKE CA", NULL, true);
	*state = p;
	if (!p->ca || !p->other) {
		pki_teardown(state);	/* cmocka does not tear down a group whose set-up failed */
		return -1;
	}
	return 0;
}

static int pki_teardown(void **state)
{
	struct pki *p = *state;
	X509_free(p->ca);
	X509_free(p->other);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->other_key);
	free(p);
	return 0;
}

static void assert_established(struct net *n, const struct side *si, const struct side *sr)
{
	if (!n->i_est || !n->r_est)
		fail_msg("i %d r %d (%s / %s)", n->i_est, n->r_est, n->ri.reason, n->rr.reason);
	const struct gdoi_ike2_keys *a = gdoi_ike2_keys(n->i), *b = gdoi_ike2_keys(n->rsa);
	assert_memory_equal(a->sk_d, b->sk_d, sizeof(a->sk_d));
	assert_memory_equal(a->sk_ei, b->sk_ei, sizeof(a->sk_ei));
	assert_memory_equal(a->sk_er, b->sk_er, sizeof(a->sk_er));
	const struct gdoi_ike2_id *pi = gdoi_ike2_peer_id(n->rsa), *pr = gdoi_ike2_peer_id(n->i);
	assert_int_equal(pi->type, si->cfg.local_id.type);
	assert_int_equal(pi->data.len, si->cfg.local_id.data.len);
	assert_memory_equal(pi->data.ptr, si->cfg.local_id.data.ptr, pi->data.len);
	assert_int_equal(pr->type, sr->cfg.local_id.type);
	assert_int_equal(pr->data.len, sr->cfg.local_id.data.len);
	assert_memory_equal(pr->data.ptr, sr->cfg.local_id.data.ptr, pr->data.len);
	/* both announced SIGNATURE_HASH_ALGORITHMS: SHA2-256, -384, -512 */
	assert_int_equal(n->i->peer_hashes, 0x1c);
	assert_int_equal(n->rsa->peer_hashes, 0x1c);
}

static void test_ecdsa_p256_fqdn_both_roles(void **state)
{
	struct pki *p = *state;
	struct side si, sr;
	struct net n;
	side_init(&si, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	side_init(&sr, "p256", "ks.example", p->ca_key, p->ca, p->ca, false);
	run(&n, &si, &sr, false);
	assert_established(&n, &si, &sr);
	done(&n);
	side_free(&si);
	side_free(&sr);
}

static void test_rsa2048_dn_pss_and_mixed_keys_sha384(void **state)
{
	struct pki *p = *state;
	struct side si, sr;
	struct net n;
	side_init(&si, "rsa2048", "gm.example", p->ca_key, p->ca, p->ca, true);
	side_init(&sr, "rsa2048", "ks.example", p->ca_key, p->ca, p->ca, true);
	run(&n, &si, &sr, false);
	assert_established(&n, &si, &sr);
	done(&n);
	/* RSASSA-PSS with SHA-256, both sides */
	si.cfg.rsa_pss = sr.cfg.rsa_pss = true;
	run(&n, &si, &sr, false);
	assert_established(&n, &si, &sr);
	done(&n);
	si.cfg.rsa_pss = false;
	side_free(&sr);
	/* RSA initiator, ECDSA P-256 responder signing with SHA-384 */
	side_init(&sr, "p256", "ks.example", p->ca_key, p->ca, p->ca, false);
	sr.cfg.sig_md = GDOI_MD_SHA384;
	si.cfg.sig_md = GDOI_MD_SHA512;
	run(&n, &si, &sr, false);
	assert_established(&n, &si, &sr);
	done(&n);
	side_free(&si);
	side_free(&sr);
}

/* The initiator's certificate is from a CA (of the same name) the responder
 * does not trust; then the responder's, refused by the initiator. */
static void test_other_ca_refused_in_either_role(void **state)
{
	struct pki *p = *state;
	struct side si, sr;
	struct net n;
	side_init(&si, "p256", "gm.example", p->other_key, p->other, p->ca, false);
	side_init(&sr, "p256", "ks.example", p->ca_key, p->ca, p->ca, false);
	run(&n, &si, &sr, false);
	assert_false(n.i_est);
	assert_false(n.r_est);
	assert_int_equal(n.fail_r, 1);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_non_null(strstr(n.r_reason, "certificate does not verify"));
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	done(&n);
	side_free(&si);
	side_free(&sr);

	side_init(&si, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	side_init(&sr, "p256", "ks.example", p->other_key, p->other, p->ca, false);
	run(&n, &si, &sr, false);
	assert_true(n.r_est);		/* the responder trusts the initiator's CA */
	assert_false(n.i_est);
	assert_int_equal(n.fail_i, 1);
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_non_null(strstr(n.i_reason, "certificate does not verify"));
	done(&n);
	side_free(&si);
	side_free(&sr);
}

static void test_tampered_signature_and_foreign_key_refused(void **state)
{
	struct pki *p = *state;
	struct side si, sr, stranger;
	struct net n;
	side_init(&si, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	side_init(&sr, "rsa2048", "ks.example", p->ca_key, p->ca, p->ca, false);
	run(&n, &si, &sr, true);
	assert_false(n.r_est);
	assert_false(n.i_est);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_non_null(strstr(n.r_reason, "signature did not verify"));
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	done(&n);
	/* a valid certificate, but the AUTH signed with another key */
	side_init(&stranger, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	si.cfg.key = stranger.key;
	run(&n, &si, &sr, false);
	assert_false(n.r_est);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_non_null(strstr(n.r_reason, "signature did not verify"));
	done(&n);
	side_free(&stranger);
	side_free(&si);
	side_free(&sr);
}

static void test_id_not_in_certificate_refused(void **state)
{
	struct pki *p = *state;
	struct side si, sr;
	struct net n;
	side_init(&si, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	side_init(&sr, "p256", "ks.example", p->ca_key, p->ca, p->ca, false);
	si.cfg.local_id.data = GDOI_BYTES("gm2.example", 11);
	run(&n, &si, &sr, false);
	assert_false(n.r_est);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_non_null(strstr(n.r_reason, "is not the certificate's"));
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	done(&n);
	/* the DN of another certificate of the same CA */
	si.cfg.local_id.type = GDOI_IKE2_ID_DER_ASN1_DN;
	si.cfg.local_id.data = GDOI_BYTES(sr.dn, sr.dn_len);
	run(&n, &si, &sr, false);
	assert_false(n.r_est);
	assert_non_null(strstr(n.r_reason, "is not the certificate's"));
	done(&n);
	/* PSK-only responder: no CA, method 14 refused */
	sr.cfg.trust = NULL;
	si.cfg.local_id.type = GDOI_IKE2_ID_FQDN;
	si.cfg.local_id.data = GDOI_BYTES("gm.example", 10);
	run(&n, &si, &sr, false);
	assert_false(n.r_est);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	done(&n);
	side_free(&si);
	side_free(&sr);
}

/* peer_allowed sees the method the peer authenticated with. */
struct allowed {
	unsigned calls;
	uint8_t method;
	bool sig_ok;
};

static bool allow_by_method(void *ctx, const struct gdoi_ike2_id *id, uint8_t method,
			    const struct gdoi_addr *addr)
{
	struct allowed *a = ctx;
	(void)id;
	(void)addr;
	a->calls++;
	a->method = method;
	return method == GDOI_IKE2_AUTH_SHARED_KEY || a->sig_ok;
}

/* A responder with a key, a CA and PSKs answers each initiator with the
 * method that initiator used (RFC 7296 lets each side pick its own; a
 * PSK-only initiator such as charon with remote auth = psk, or one without a
 * CA, could not verify a signature), and tells peer_allowed which it was. */
static void test_responder_answers_with_the_initiators_method(void **state)
{
	struct pki *p = *state;
	struct side si, sr;
	struct net n;
	struct allowed al = { 0 };
	static const uint8_t key[] = "a shared key of the member, 32 o";
	struct gdoi_ike2_psk psk_r = { { GDOI_IKE2_ID_FQDN, GDOI_BYTES("gm.example", 10) },
				       GDOI_BYTES(key, sizeof(key) - 1) };
	struct gdoi_ike2_psk psk_i = { { 0, GDOI_BYTES_NONE }, GDOI_BYTES(key, sizeof(key) - 1) };
	side_init(&si, "p256", "gm.example", p->ca_key, p->ca, p->ca, false);
	side_init(&sr, "p256", "ks.example", p->ca_key, p->ca, p->ca, false);
	sr.cfg.psks = &psk_r;
	sr.cfg.npsks = 1;
	sr.cfg.peer_allowed = allow_by_method;
	sr.cfg.ctx = &al;
	/* the initiator by PSK, with neither key nor CA */
	si.cfg.key = NULL;
	si.cfg.cert = GDOI_BYTES_NONE;
	si.cfg.trust = NULL;
	si.cfg.psks = &psk_i;
	si.cfg.npsks = 1;
	run(&n, &si, &sr, false);
	if (!n.i_est || !n.r_est)
		fail_msg("PSK initiator: i %d r %d (%s / %s)", n.i_est, n.r_est, n.i_reason, n.r_reason);
	assert_int_equal(gdoi_ike2_peer_auth_method(n.rsa), GDOI_IKE2_AUTH_SHARED_KEY);
	assert_int_equal(gdoi_ike2_peer_auth_method(n.i), GDOI_IKE2_AUTH_SHARED_KEY);
	assert_int_equal(al.calls, 1);
	assert_int_equal(al.method, GDOI_IKE2_AUTH_SHARED_KEY);
	done(&n);
	/* the same initiator with its certificate: a signature both ways */
	si.cfg.key = si.key;
	si.cfg.cert = GDOI_BYTES(si.cert, si.cert_len);
	si.cfg.trust = si.trust;
	al = (struct allowed){ .sig_ok = true };
	run(&n, &si, &sr, false);
	assert_established(&n, &si, &sr);
	assert_int_equal(gdoi_ike2_peer_auth_method(n.rsa), GDOI_IKE2_AUTH_DIGITAL_SIG);
	assert_int_equal(gdoi_ike2_peer_auth_method(n.i), GDOI_IKE2_AUTH_DIGITAL_SIG);
	assert_int_equal(al.method, GDOI_IKE2_AUTH_DIGITAL_SIG);
	done(&n);
	/* signatures not allowed for this peer: AUTHENTICATION_FAILED */
	al = (struct allowed){ .sig_ok = false };
	run(&n, &si, &sr, false);
	assert_false(n.r_est);
	assert_false(n.i_est);
	assert_int_equal(n.r_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_int_equal(n.i_notify, GDOI_IKE2_N_AUTHENTICATION_FAILED);
	assert_int_equal(al.method, GDOI_IKE2_AUTH_DIGITAL_SIG);
	done(&n);
	side_free(&si);
	side_free(&sr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa_p256_fqdn_both_roles),
		cmocka_unit_test(test_rsa2048_dn_pss_and_mixed_keys_sha384),
		cmocka_unit_test(test_other_ca_refused_in_either_role),
		cmocka_unit_test(test_tampered_signature_and_foreign_key_refused),
		cmocka_unit_test(test_id_not_in_certificate_refused),
		cmocka_unit_test(test_responder_answers_with_the_initiators_method),
	};
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
