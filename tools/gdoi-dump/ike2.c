/*
 * ike2.c - IKEv2 (RFC 7296, RFC 7383) and G-IKEv2 (RFC 9838) messages in
 * gdoi-dump: the header, the payload chain (every payload, known or not),
 * each body the core's codecs parse (gdoi/ike2_wire.h, gdoi/gike2.h: SA,
 * KE, IDi/IDr, CERT, CERTREQ, AUTH, Nonce, Notify, Delete, SK/SKF, IDg,
 * GSA with the project's SRTP policy (docs/srtp-gikev2.md), KD), then the
 * SK / SKF payload opened with the keys ike2_keys.c holds (the core's
 * gdoi_ike2_sk_open: the ICV is checked first) and its inner chain decoded
 * the same way. A KD's wrapped keys are unwrapped when the KWK is known,
 * and a registration response's or GSA_REKEY's Rekey SA is learnt through
 * the member's own code (gike2_msg.h), so later GSA_REKEYs decrypt too.
 * Malformed input gives an "error" naming the payload and its offset.
 */
#include "ike2.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/arena.h"
#include "gdoi/err.h"
#include "gdoi/gike2.h"
#include "gdoi/gike2_msg.h"
#include "gdoi/gike2_policy.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_sk.h"
#include "gdoi/policy.h"
#include "gdoi/secret.h"
#include "gdoi/sign.h"
#include "gdoi/srtp_profiles.h"

/* Every payload type counts as known: the dumper shows unknown ones too. */
static uint8_t all_types[256];

static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v ? v : json_null());
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	return model_hex(GDOI_BYTES(p, n));
}

bool ike2_is_ike2(const uint8_t *data, size_t len, size_t *skip)
{
	*skip = 0;
	if (len >= GDOI_IKE2_HDR_LEN && data[17] >> 4 == 2)
		return true;
	/* a marker: four zero octets, then a major version 2 where an ISAKMP
	 * header (major 1) would not have it */
	if (len >= 4 + GDOI_IKE2_HDR_LEN && gdoi_get_u32(data) == 0 && data[17] >> 4 != 1 &&
	    data[4 + 17] >> 4 == 2) {
		*skip = 4;
		return true;
	}
	return false;
}

/* ---- names ------------------------------------------------------------------ */

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 0: return "none";
	case GIKE2_PROTO_IKE: return "IKE";
	case GIKE2_PROTO_AH: return "AH";
	case GIKE2_PROTO_ESP: return "ESP";
	case GIKE2_PROTO_GIKE_UPDATE: return "GIKE_UPDATE";
	case GIKE2_PROTO_SRTP: return "SRTP (private use)";
	default: return "unknown";
	}
}

static const char *xf_type_name(uint8_t t)
{
	switch (t) {
	case GIKE2_XF_ENCR: return "ENCR";
	case GIKE2_XF_PRF: return "PRF";
	case GIKE2_XF_INTEG: return "INTEG";
	case GIKE2_XF_KE: return "KE";
	case GIKE2_XF_SN: return "SN";
	case GIKE2_XF_KWA: return "KWA";
	case GIKE2_XF_GCAUTH: return "GCAUTH";
	case GIKE2_XF_SRTP_PROFILE: return "SRTP_PROFILE";
	default: return NULL;
	}
}

static const char *xf_id_name(uint8_t type, uint16_t id)
{
	switch (type) {
	case GIKE2_XF_ENCR:
		return id == GDOI_IKE2_ENCR_AES_CBC ? "ENCR_AES_CBC"
		     : id == GDOI_IKE2_ENCR_AES_GCM_8 ? "ENCR_AES_GCM_8"
		     : id == GDOI_IKE2_ENCR_AES_GCM_12 ? "ENCR_AES_GCM_12"
		     : id == GDOI_IKE2_ENCR_AES_GCM_16 ? "ENCR_AES_GCM_16" : NULL;
	case GIKE2_XF_PRF:
		return id == GDOI_IKE2_PRF_HMAC_SHA1 ? "PRF_HMAC_SHA1"
		     : id == GDOI_IKE2_PRF_HMAC_SHA2_256 ? "PRF_HMAC_SHA2_256"
		     : id == GDOI_IKE2_PRF_HMAC_SHA2_384 ? "PRF_HMAC_SHA2_384"
		     : id == GDOI_IKE2_PRF_HMAC_SHA2_512 ? "PRF_HMAC_SHA2_512" : NULL;
	case GIKE2_XF_INTEG:
		return id == GDOI_IKE2_AUTH_NONE ? "NONE"
		     : id == GDOI_IKE2_AUTH_HMAC_SHA2_256_128 ? "AUTH_HMAC_SHA2_256_128"
		     : id == GDOI_IKE2_AUTH_HMAC_SHA2_384_192 ? "AUTH_HMAC_SHA2_384_192"
		     : id == GDOI_IKE2_AUTH_HMAC_SHA2_512_256 ? "AUTH_HMAC_SHA2_512_256" : NULL;
	case GIKE2_XF_KE:
		return id == GDOI_IKE2_DH_MODP_2048 ? "MODP-2048"
		     : id == GDOI_IKE2_DH_ECP_256 ? "ECP-256"
		     : id == GDOI_IKE2_DH_ECP_384 ? "ECP-384"
		     : id == GDOI_IKE2_DH_CURVE25519 ? "Curve25519" : NULL;
	case GIKE2_XF_SN:
		return id == 0 ? "No ESN" : id == 1 ? "ESN" : NULL;
	case GIKE2_XF_KWA:
		return id == GIKE2_KWA_5649_128 ? "KW_5649_128"
		     : id == GIKE2_KWA_5649_192 ? "KW_5649_192"
		     : id == GIKE2_KWA_5649_256 ? "KW_5649_256"
		     : id == GIKE2_KWA_ARX ? "KW_ARX" : NULL;
	case GIKE2_XF_GCAUTH:
		return id == GIKE2_GCAUTH_IMPLICIT ? "IMPLICIT"
		     : id == GIKE2_GCAUTH_DIGITAL_SIGNATURE ? "DIGITAL_SIGNATURE" : NULL;
	case GIKE2_XF_SRTP_PROFILE:
		return gdoi_srtp_profile_name(id);
	}
	return NULL;
}

static const char *notify_name(uint16_t t)
{
	static const struct { uint16_t t; const char *n; } tab[] = {
		{ 1, "UNSUPPORTED_CRITICAL_PAYLOAD" }, { 4, "INVALID_IKE_SPI" },
		{ 5, "INVALID_MAJOR_VERSION" }, { 7, "INVALID_SYNTAX" },
		{ 9, "INVALID_MESSAGE_ID" }, { 11, "INVALID_SPI" }, { 14, "NO_PROPOSAL_CHOSEN" },
		{ 17, "INVALID_KE_PAYLOAD" }, { 24, "AUTHENTICATION_FAILED" },
		{ 34, "SINGLE_PAIR_REQUIRED" }, { 35, "NO_ADDITIONAL_SAS" },
		{ 36, "INTERNAL_ADDRESS_FAILURE" }, { 37, "FAILED_CP_REQUIRED" },
		{ 38, "TS_UNACCEPTABLE" }, { 39, "INVALID_SELECTORS" },
		{ 43, "TEMPORARY_FAILURE" }, { 44, "CHILD_SA_NOT_FOUND" },
		{ GIKE2_N_INVALID_GROUP_ID, "INVALID_GROUP_ID" },
		{ GIKE2_N_AUTHORIZATION_FAILED, "AUTHORIZATION_FAILED" },
		{ GIKE2_N_REGISTRATION_FAILED, "REGISTRATION_FAILED" },
		{ 16384, "INITIAL_CONTACT" }, { 16385, "SET_WINDOW_SIZE" },
		{ 16388, "NAT_DETECTION_SOURCE_IP" }, { 16389, "NAT_DETECTION_DESTINATION_IP" },
		{ 16390, "COOKIE" }, { 16391, "USE_TRANSPORT_MODE" }, { 16393, "REKEY_SA" },
		{ 16418, "CHILDLESS_IKEV2_SUPPORTED" }, { GIKE2_N_SENDER, "SENDER" },
		{ 16430, "IKEV2_FRAGMENTATION_SUPPORTED" }, { 16431, "SIGNATURE_HASH_ALGORITHMS" },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].t == t)
			return tab[i].n;
	return t < 16384 ? "error (unknown)" : "status (unknown)";
}

static const char *id_type_name(uint8_t t)
{
	switch (t) {
	case GDOI_IKE2_ID_IPV4_ADDR: return "ID_IPV4_ADDR";
	case GDOI_IKE2_ID_FQDN: return "ID_FQDN";
	case GDOI_IKE2_ID_RFC822_ADDR: return "ID_RFC822_ADDR";
	case GDOI_IKE2_ID_IPV6_ADDR: return "ID_IPV6_ADDR";
	case GDOI_IKE2_ID_DER_ASN1_DN: return "ID_DER_ASN1_DN";
	case GDOI_IKE2_ID_DER_ASN1_GN: return "ID_DER_ASN1_GN";
	case GDOI_IKE2_ID_KEY_ID: return "ID_KEY_ID";
	default: return "unknown";
	}
}

static const char *auth_method_name(uint8_t m)
{
	switch (m) {
	case GDOI_IKE2_AUTH_RSA_SIG: return "RSA Digital Signature";
	case GDOI_IKE2_AUTH_SHARED_KEY: return "Shared Key Message Integrity Code";
	case GDOI_IKE2_AUTH_DSS_SIG: return "DSS Digital Signature";
	case GDOI_IKE2_AUTH_DIGITAL_SIG: return "Digital Signature";
	default: return "unknown";
	}
}

/* Attribute names by where the attribute sits. */
enum actx { AX_XFORM, AX_SRTP_XFORM, AX_GSA, AX_GWP, AX_GKB, AX_MKB };

static const char *attr_name(enum actx c, uint16_t t)
{
	switch (c) {
	case AX_XFORM:
		return t == GIKE2_XATTR_KEY_LENGTH ? "Key Length"
		     : t == GIKE2_XATTR_SIG_ALG_ID ? "Signature Algorithm Identifier" : NULL;
	case AX_SRTP_XFORM:
		return t == GIKE2_SRTP_XATTR_FLAGS ? "SRTP_FLAGS"
		     : t == GIKE2_SRTP_XATTR_REPLAY_WINDOW ? "SRTP_REPLAY_WINDOW"
		     : t == GIKE2_SRTP_XATTR_SSRC_ASSIGNED ? "SRTP_SSRC_ASSIGNED"
		     : t == GIKE2_SRTP_XATTR_ALLOW_REPEAT_TX ? "SRTP_ALLOW_REPEAT_TX" : NULL;
	case AX_GSA:
		return t == GIKE2_GSA_KEY_LIFETIME ? "GSA_KEY_LIFETIME"
		     : t == GIKE2_GSA_INITIAL_MESSAGE_ID ? "GSA_INITIAL_MESSAGE_ID"
		     : t == GIKE2_GSA_NEXT_SPI ? "GSA_NEXT_SPI" : NULL;
	case AX_GWP:
		return t == GIKE2_GWP_ATD ? "GWP_ATD" : t == GIKE2_GWP_DTD ? "GWP_DTD"
		     : t == GIKE2_GWP_SENDER_ID_BITS ? "GWP_SENDER_ID_BITS" : NULL;
	case AX_GKB:
		return t == GIKE2_GKB_SA_KEY ? "SA_KEY" : NULL;
	case AX_MKB:
		return t == GIKE2_MKB_WRAP_KEY ? "WRAP_KEY" : t == GIKE2_MKB_AUTH_KEY ? "AUTH_KEY"
		     : t == GIKE2_MKB_GM_SENDER_ID ? "GM_SENDER_ID" : NULL;
	}
	return NULL;
}

static json_t *attrs_j(const struct gdoi_attr_list *l, enum actx c)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct gdoi_attr *at = &l->v[i];
		json_t *o = json_object();
		set(o, "type", json_integer(at->type));
		const char *n = attr_name(c, at->type);
		if (n)
			set(o, "name", json_string(n));
		if (at->tv)
			set(o, "value", json_integer(at->basic));
		else if (at->value.len == 4 && (c == AX_GSA || c == AX_MKB) &&
			 at->type != GIKE2_GSA_NEXT_SPI)
			set(o, "value", json_integer(gdoi_get_u32(at->value.ptr)));
		else
			set(o, "hex", model_hex(at->value));
		json_array_append_new(a, o);
	}
	return a;
}

/* ---- payload bodies ----------------------------------------------------------- */

/* What a payload renderer may need besides the payload. */
struct pctx {
	struct dump_ike2 *x;
	const struct gdoi_ike2_hdr *h;
	gdoi_bytes kwk;		/* KWK ID 0 (GSK_w): empty if unknown */
	const char *kwk_name;
	bool inner;		/* inside SK */
	const uint8_t *base;	/* the buffer the chain was parsed from ... */
	size_t base_off;	/* ... and its offset in the message */
};

static void parse_error(json_t *po, int rc, const struct gdoi_parse_error *e)
{
	char txt[256];
	gike2_parse_error_format(e, txt, sizeof(txt));
	json_t *eo = json_object();
	set(eo, "message", json_string(txt));
	set(eo, "code", json_string(gdoi_strerror(rc)));
	set(eo, "offset", json_integer((json_int_t)e->offset));
	set(po, "error", eo);
}

static json_t *ts_j(const struct gike2_ts *t)
{
	json_t *o = json_object();
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = t->addr_len == 16 ? AF_INET6 : AF_INET;
	set(o, "ts_type", json_integer(t->type));
	set(o, "ts_type_name", json_string(t->type == GIKE2_TS_IPV4_ADDR_RANGE ? "TS_IPV4_ADDR_RANGE"
					   : t->type == GIKE2_TS_IPV6_ADDR_RANGE ? "TS_IPV6_ADDR_RANGE"
					   : "unknown"));
	set(o, "ip_protocol", json_integer(t->ip_proto));
	set(o, "start_port", json_integer(t->start_port));
	set(o, "end_port", json_integer(t->end_port));
	if (inet_ntop(af, t->start, a, sizeof(a)) && inet_ntop(af, t->end, b, sizeof(b))) {
		set(o, "start_address", json_string(a));
		set(o, "end_address", json_string(b));
	}
	return o;
}

/* A Transform substructure's type and ID with their names. */
static json_t *transform_j(uint8_t type, uint16_t id)
{
	json_t *to = json_object();
	const char *tn = xf_type_name(type), *in = xf_id_name(type, id);
	set(to, "type", json_string("Transform"));
	set(to, "transform_type", json_integer(type));
	if (tn)
		set(to, "transform_type_name", json_string(tn));
	set(to, "transform_id", json_integer(id));
	if (in)
		set(to, "transform_id_name", json_string(in));
	return to;
}

/* Protocol (with its name) and SPI (4-octet ones also as a number). */
static void proto_spi_j(json_t *o, uint8_t proto, const gdoi_bytes *spi)
{
	set(o, "protocol", json_integer(proto));
	set(o, "protocol_name", json_string(proto_name(proto)));
	if (!spi)
		return;
	set(o, "spi", model_hex(*spi));
	if (spi->len == 4)
		set(o, "spi_value", json_integer(gdoi_get_u32(spi->ptr)));
}

static void gsa_j(json_t *o, const struct gike2_gsa *g)
{
	json_t *pols = json_array();
	for (size_t i = 0; i < g->npol; i++) {
		const struct gike2_gsa_policy *p = &g->pol[i];
		json_t *po = json_object(), *xfs = json_array();
		set(po, "type", json_string("GSA policy"));
		proto_spi_j(po, p->protocol, &p->spi);
		set(po, "source_ts", ts_j(&p->src));
		set(po, "destination_ts", ts_j(&p->dst));
		for (size_t j = 0; j < p->nxf; j++) {
			const struct gike2_transform *t = &p->xf[j];
			json_t *to = transform_j(t->type, t->id);
			set(to, "attributes", attrs_j(&t->attrs, t->type == GIKE2_XF_SRTP_PROFILE
								  ? AX_SRTP_XFORM : AX_XFORM));
			json_array_append_new(xfs, to);
		}
		set(po, "transforms", xfs);
		set(po, "attributes", attrs_j(&p->attrs, AX_GSA));
		json_array_append_new(pols, po);
	}
	set(o, "policies", pols);
	if (g->has_gwp) {
		json_t *gw = json_object();
		set(gw, "type", json_string("GWP"));
		set(gw, "attributes", attrs_j(&g->gwp, AX_GWP));
		json_t *one = json_array();	/* an array: the text output nests it */
		json_array_append_new(one, gw);
		set(o, "gwp", one);
	}
}

/* A key bag attribute: a Wrapped Key, unwrapped when the KWK is known. */
static json_t *kd_attr_j(const struct pctx *c, const struct gdoi_attr *at, bool member, size_t off)
{
	json_t *o = json_object();
	const char *n = attr_name(member ? AX_MKB : AX_GKB, at->type);
	set(o, "type", json_string("attribute"));
	set(o, "attribute_type", json_integer(at->type));
	if (n)
		set(o, "name", json_string(n));
	if (at->tv) {
		set(o, "value", json_integer(at->basic));
		return o;
	}
	bool wrapped = member ? at->type == GIKE2_MKB_WRAP_KEY : at->type == GIKE2_GKB_SA_KEY;
	if (member && at->type == GIKE2_MKB_GM_SENDER_ID && at->value.len == 4) {
		set(o, "value", json_integer(gdoi_get_u32(at->value.ptr)));
		return o;
	}
	if (!wrapped) {
		set(o, "hex", model_hex(at->value));
		return o;
	}
	struct gike2_wrapped_key wk;
	struct gdoi_parse_error e;
	int rc = gike2_wrapped_key_parse(at->value, off, &wk, &e);
	if (rc) {
		set(o, "hex", model_hex(at->value));
		parse_error(o, rc, &e);
		return o;
	}
	set(o, "key_id", json_integer(wk.key_id));
	set(o, "kwk_id", json_integer(wk.kwk_id));
	set(o, "wrapped", model_hex(wk.wrapped));
	if (wk.kwk_id != GIKE2_KWK_ID_DEFAULT || c->kwk.len == 0) {
		set(o, "not_unwrapped", json_string(wk.kwk_id != GIKE2_KWK_ID_DEFAULT
						    ? "KWK ID other than 0 (GSK_w): not followed"
						    : "KWK (GSK_w) unknown: give SK_d (#sk_d line) or "
						      "the Rekey SA's GSK_w"));
		return o;
	}
	uint8_t *out = gdoi_secret_calloc(wk.wrapped.len ? wk.wrapped.len : 1);
	size_t olen = 0;
	rc = out ? gike2_kwp_unwrap(c->kwk, wk.wrapped, out, wk.wrapped.len, &olen)
		 : GDOI_ERR_NOMEM;
	if (rc) {
		set(o, "unwrap_error", json_string(rc == GDOI_ERR_AUTH
						   ? "AES-KWP integrity check failed (wrong KWK?)"
						   : gdoi_strerror(rc)));
	} else {
		set(o, "kwk", json_string(c->kwk_name));
		set(o, "unwrapped", hexj(out, olen));
		set(o, "secret", json_true());
	}
	if (out)
		gdoi_secret_free(out, wk.wrapped.len ? wk.wrapped.len : 1);
	return o;
}

static void kd_j(json_t *o, const struct pctx *c, const struct gike2_kd *kd)
{
	json_t *bags = json_array();
	for (size_t i = 0; i < kd->nbag; i++) {
		const struct gike2_key_bag *b = &kd->bag[i];
		bool member = b->protocol == GIKE2_PROTO_NONE;
		json_t *bo = json_object(), *as = json_array();
		set(bo, "type", json_string(member ? "Member Key Bag" : "Group Key Bag"));
		proto_spi_j(bo, b->protocol, member ? NULL : &b->spi);
		for (size_t j = 0; j < b->attrs.n; j++) {
			/* the parsed values point into the chain's buffer */
			const struct gdoi_attr *at = &b->attrs.v[j];
			size_t off = at->value.ptr ? c->base_off + (size_t)(at->value.ptr - c->base) : 0;
			json_array_append_new(as, kd_attr_j(c, at, member, off));
		}
		set(bo, "key_attributes", as);
		json_array_append_new(bags, bo);
	}
	set(o, "key_bags", bags);
}

static void id_j(json_t *o, uint8_t type, gdoi_bytes d)
{
	char a[INET6_ADDRSTRLEN];
	set(o, "id_type", json_integer(type));
	set(o, "id_type_name", json_string(id_type_name(type)));
	set(o, "data", model_hex(d));
	bool printable = d.len > 0;
	for (size_t i = 0; i < d.len; i++)
		printable &= d.ptr[i] >= 0x20 && d.ptr[i] < 0x7f;
	if ((type == GDOI_IKE2_ID_FQDN || type == GDOI_IKE2_ID_RFC822_ADDR) && printable)
		set(o, "value", json_stringn((const char *)d.ptr, d.len));
	else if (type == GDOI_IKE2_ID_IPV4_ADDR && d.len == 4 && inet_ntop(AF_INET, d.ptr, a, sizeof(a)))
		set(o, "value", json_string(a));
	else if (type == GDOI_IKE2_ID_IPV6_ADDR && d.len == 16 &&
		 inet_ntop(AF_INET6, d.ptr, a, sizeof(a)))
		set(o, "value", json_string(a));
	else if (type == GDOI_IKE2_ID_KEY_ID && d.len == 4)
		set(o, "key_id", json_integer(gdoi_get_u32(d.ptr)));
}

static void sa_j(json_t *o, const struct gdoi_ike2_payload *p, size_t off)
{
	struct gdoi_ike2_sa_payload *sa = malloc(sizeof(*sa));
	struct gdoi_parse_error e;
	int rc = sa ? gdoi_ike2_sa_parse(p, off, sa, &e) : GDOI_ERR_NOMEM;
	if (rc) {
		if (sa)
			parse_error(o, rc, &e);
		set(o, "data", model_hex(p->body));
		free(sa);
		return;
	}
	json_t *props = json_array();
	for (size_t i = 0; i < sa->nprop; i++) {
		const struct gdoi_ike2_proposal *pr = &sa->prop[i];
		json_t *po = json_object(), *xs = json_array();
		set(po, "type", json_string("Proposal"));
		set(po, "number", json_integer(pr->num));
		proto_spi_j(po, pr->proto, &pr->spi);
		for (size_t j = 0; j < pr->ntrans; j++) {
			const struct gdoi_ike2_transform *t = &pr->t[j];
			json_t *to = transform_j(t->type, t->id);
			if (t->key_bits)
				set(to, "key_length", json_integer(t->key_bits));
			json_array_append_new(xs, to);
		}
		set(po, "transforms", xs);
		json_array_append_new(props, po);
	}
	set(o, "proposals", props);
	free(sa);
}

/* The body of one payload into o. */
static void body_j(json_t *o, const struct pctx *c, const struct gdoi_ike2_payload *p, size_t off)
{
	struct gdoi_parse_error e;
	struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, off + 4);
	int rc = 0;
	memset(&e, 0, sizeof(e));
	switch (p->type) {
	case GDOI_IKE2_PL_SA:
		sa_j(o, p, off);
		return;
	case GDOI_IKE2_PL_KE: {
		struct gdoi_ike2_ke ke;
		if ((rc = gdoi_ike2_ke_parse(p, off, &ke, &e)))
			break;
		set(o, "group", json_integer(ke.group));
		const char *g = xf_id_name(GIKE2_XF_KE, ke.group);
		if (g)
			set(o, "group_name", json_string(g));
		set(o, "key_exchange_data", model_hex(ke.data));
		return;
	}
	case GDOI_IKE2_PL_IDI:
	case GDOI_IKE2_PL_IDR: {
		struct gdoi_ike2_id id;
		if ((rc = gdoi_ike2_id_parse(p, off, &id, &e)))
			break;
		id_j(o, id.type, id.data);
		return;
	}
	case GDOI_IKE2_PL_CERT:
	case GDOI_IKE2_PL_CERTREQ: {
		struct gdoi_ike2_cert ce;
		if ((rc = gdoi_ike2_cert_parse(p, off, &ce, &e)))
			break;
		set(o, "encoding", json_integer(ce.encoding));
		if (ce.encoding == GDOI_IKE2_CERT_X509_SIG)
			set(o, "encoding_name", json_string("X.509 Certificate - Signature"));
		set(o, "data", model_hex(ce.data));
		return;
	}
	case GDOI_IKE2_PL_AUTH: {
		struct gdoi_ike2_auth a;
		if ((rc = gdoi_ike2_auth_parse(p, off, &a, &e)))
			break;
		set(o, "method", json_integer(a.method));
		set(o, "method_name", json_string(auth_method_name(a.method)));
		set(o, "data", model_hex(a.data));
		return;
	}
	case GDOI_IKE2_PL_NONCE: {
		gdoi_bytes n;
		if ((rc = gdoi_ike2_nonce_parse(p, off, &n, &e)))
			break;
		set(o, "nonce", model_hex(n));
		return;
	}
	case GDOI_IKE2_PL_NOTIFY: {
		struct gdoi_ike2_notify n;
		if ((rc = gdoi_ike2_notify_parse(p, off, &n, &e)))
			break;
		set(o, "protocol", json_integer(n.proto));
		set(o, "spi", model_hex(n.spi));
		set(o, "notify_type", json_integer(n.type));
		set(o, "notify_name", json_string(notify_name(n.type)));
		set(o, "data", model_hex(n.data));
		if (n.type == GIKE2_N_SENDER) {
			uint32_t count;
			struct gdoi_reader d = gdoi_reader_init(
				n.data.ptr, n.data.len, off + 4 + (size_t)(n.data.ptr - p->body.ptr));
			if ((rc = gike2_sender_parse(&d, &count, &e)))
				break;
			set(o, "sender_ids_wanted", json_integer(count));
		}
		return;
	}
	case GDOI_IKE2_PL_DELETE: {
		struct gdoi_ike2_delete d;
		if ((rc = gdoi_ike2_delete_parse(p, off, &d, &e)))
			break;
		json_t *spis = json_array();
		proto_spi_j(o, d.proto, NULL);
		set(o, "spi_size", json_integer(d.spi_size));
		for (size_t i = 0; d.spi_size && i < d.nspi && (i + 1) * d.spi_size <= d.spis.len; i++)
			json_array_append_new(spis, hexj(d.spis.ptr + i * d.spi_size, d.spi_size));
		set(o, "spis", spis);
		return;
	}
	case GIKE2_PL_IDG: {
		struct gike2_idg id;
		if ((rc = gike2_idg_parse(&r, &id, &e)))
			break;
		id_j(o, id.id_type, id.data);
		return;
	}
	case GIKE2_PL_GSA: {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gike2_gsa g;
		rc = a ? gike2_gsa_parse(&r, a, &g, &e) : GDOI_ERR_NOMEM;
		if (rc == 0)
			gsa_j(o, &g);
		gdoi_arena_free(a);
		if (rc == 0)
			return;
		break;
	}
	case GIKE2_PL_KD: {
		struct gdoi_arena *a = gdoi_arena_new();
		struct gike2_kd kd;
		rc = a ? gike2_kd_parse(&r, a, &kd, &e) : GDOI_ERR_NOMEM;
		if (rc == 0)
			kd_j(o, c, &kd);
		gdoi_arena_free(a);
		if (rc == 0)
			return;
		break;
	}
	default:
		set(o, "data", model_hex(p->body));
		return;
	}
	set(o, "data", model_hex(p->body));
	parse_error(o, rc, &e);
}

static json_t *payload_j(const struct pctx *c, const struct gdoi_ike2_payload *p, size_t off)
{
	json_t *o = json_object();
	bool sag = c->inner && p->type == GIKE2_PL_SA &&
		   (c->h->exchange == GIKE2_EXCH_GSA_AUTH ||
		    c->h->exchange == GIKE2_EXCH_GSA_REGISTRATION);
	set(o, "type", json_string(sag ? "SAg" : gike2_payload_name(p->type)));
	set(o, "type_id", json_integer(p->type));
	set(o, "critical", json_boolean(p->critical));
	set(o, "offset", json_integer((json_int_t)off));
	set(o, "length", json_integer((json_int_t)(p->body.len + 4)));
	body_j(o, c, p, off);
	return o;
}

/* Appends the chain's payloads; true when one of them has an error. */
static bool chain_j(json_t *arr, const struct pctx *c, const struct gdoi_ike2_chain *ch)
{
	bool bad = false;
	for (size_t i = 0; i < ch->n; i++) {
		json_t *p = payload_j(c, &ch->p[i], ch->off[i]);
		bad |= json_object_get(p, "error") != NULL;
		json_array_append_new(arr, p);
	}
	return bad;
}

/* ---- decryption ------------------------------------------------------------------- */

/* The keys for this message: an IKE SA's, or (GSA_REKEY) a Rekey SA's as
 * SK_ei. NULL with *why when none is known. */
static bool find_keys(struct dump_ike2 *x, const struct gdoi_ike2_hdr *h, struct gdoi_ike2_keys *k,
		      char *src, size_t srclen, char *why, size_t wl)
{
	char spis[40];
	gdoi_hex_encode(h->spi_i, 8, spis);
	spis[16] = ' ';
	gdoi_hex_encode(h->spi_r, 8, spis + 17);
	if (h->exchange == GIKE2_EXCH_GSA_REKEY) {
		uint8_t spi[16];
		memcpy(spi, h->spi_i, 8);
		memcpy(spi + 8, h->spi_r, 8);
		struct ike2_rekey_entry *e = ike2_find_rekey(x, spi);
		if (!e || e->sa.gsk_e_len < 20) {
			snprintf(why, wl, "no keys for Rekey SA %s (--ike2-rekey, or a decrypted "
				 "registration that delivered it)", spis);
			return false;
		}
		memset(k, 0, sizeof(*k));
		k->encr = GDOI_IKE2_ENCR_AES_GCM_16;
		k->enc_key_len = e->sa.gsk_e_len - 4;
		k->salt_len = 4;
		k->iv_len = 8;
		k->icv_len = 16;
		memcpy(k->sk_ei, e->sa.gsk_e, e->sa.gsk_e_len);
		snprintf(src, srclen, "Rekey SA %s (AES-GCM-%zu, %s)", spis, k->enc_key_len * 8,
			 e->source);
		return true;
	}
	struct ike2_sa_entry *e = ike2_find_sa(x, h->spi_i, h->spi_r);
	if (!e || !e->have_sk) {
		snprintf(why, wl, "no SK keys for IKE SA %s (--ike2-sa or --ike2-keys)", spis);
		return false;
	}
	*k = e->k;
	snprintf(src, srclen, "IKE SA %s (%s, %s)", spis,
		 gdoi_ike2_uat_encr_name(k->encr, (uint16_t)(k->enc_key_len * 8)), e->source);
	return true;
}

/* GSK_w of the message's key context: the Rekey SA's (GSA_REKEY) or the IKE SA's. */
static void find_kwk(struct dump_ike2 *x, const struct gdoi_ike2_hdr *h, uint8_t *kwk,
		     struct pctx *c)
{
	size_t len = 0;
	if (h->exchange == GIKE2_EXCH_GSA_REKEY) {
		uint8_t spi[16];
		memcpy(spi, h->spi_i, 8);
		memcpy(spi + 8, h->spi_r, 8);
		struct ike2_rekey_entry *e = ike2_find_rekey(x, spi);
		if (e && e->sa.gsk_w_len) {
			len = e->sa.gsk_w_len;
			memcpy(kwk, e->sa.gsk_w, len);
			c->kwk_name = "GSK_w of the Rekey SA";
		}
	} else {
		struct ike2_sa_entry *e = ike2_find_sa(x, h->spi_i, h->spi_r);
		/* GSK_w of an IKE SA: as long as its encryption key (gike2_ike.c) */
		if (e && e->have_skd && e->have_sk &&
		    gike2_gsk_w(e->k.prf_md, GDOI_BYTES(e->k.sk_d, e->k.prf_len), kwk,
				e->k.enc_key_len) == 0) {
			len = e->k.enc_key_len;
			c->kwk_name = "GSK_w of the IKE SA (from SK_d)";
		}
	}
	c->kwk = GDOI_BYTES(kwk, len);
}

/* The core's view of the inner payloads, for gike2_msg.h. */
static struct gike2_pl *to_pl(const struct gdoi_ike2_chain *ch)
{
	struct gike2_pl *pl = calloc(ch->n ? ch->n : 1, sizeof(*pl));
	for (size_t i = 0; pl && i < ch->n; i++)
		pl[i] = (struct gike2_pl){ ch->p[i].type, ch->p[i].critical, ch->p[i].body };
	return pl;
}

/* Learns the Rekey SA a decrypted registration response or GSA_REKEY delivers. */
static void learn(struct dump_ike2 *x, const struct gdoi_ike2_hdr *h, const struct pctx *c,
		  const struct gdoi_ike2_chain *ch, const struct dump_frame *f, json_t *o)
{
	bool reg = (h->exchange == GIKE2_EXCH_GSA_AUTH ||
		    h->exchange == GIKE2_EXCH_GSA_REGISTRATION) &&
		   (h->flags & GDOI_IKE2_FLAG_RESPONSE);
	if ((!reg && h->exchange != GIKE2_EXCH_GSA_REKEY) || c->kwk.len == 0 ||
	    !gdoi_ike2_chain_find(ch, GIKE2_PL_GSA, 0))
		return;
	struct gike2_pl *pl = to_pl(ch);
	struct gdoi_arena *a = gdoi_arena_new();
	struct gdoi_policy *p = gdoi_secret_calloc(sizeof(*p));
	struct gike2_rekey_sa *rk = gdoi_secret_calloc(sizeof(*rk));
	struct gdoi_key *gk = NULL;
	char why[200] = "", src[96];
	bool has = false;
	int rc = GDOI_ERR_NOMEM;
	if (pl && a && p && rk) {
		if (reg) {
			uint16_t error;
			rc = gike2_reg_response_apply(pl, ch->n, c->kwk, a, p, rk, &has, &gk, &error,
						      why, sizeof(why));
		} else {
			uint8_t spi[16];
			bool excluded;
			memcpy(spi, h->spi_i, 8);
			memcpy(spi + 8, h->spi_r, 8);
			const struct ike2_rekey_entry *cur = ike2_find_rekey(x, spi);
			rc = cur ? gike2_rekey_content_apply(pl, ch->n, &cur->sa, a, p, rk, &has,
							     &excluded, why, sizeof(why))
				 : GDOI_ERR_NOT_FOUND;
		}
	}
	if (rc == 0 && has) {
		snprintf(src, sizeof(src), "from the KD of frame %lu", f->number);
		if (ike2_add_rekey_sa(x, rk, src) == 0) {
			char spis[33];
			gdoi_hex_encode(rk->spi, 16, spis);
			set(o, "learnt_rekey_sa", json_string(spis));
		}
	} else if (rc) {
		set(o, "warning", json_string(why[0] ? why : gdoi_strerror(rc)));
	}
	gdoi_key_free(gk);
	if (p) {
		gdoi_policy_clear(p);
		gdoi_secret_free(p, sizeof(*p));
	}
	if (rk)
		gdoi_secret_free(rk, sizeof(*rk));
	gdoi_arena_free(a);
	free(pl);
}

/* Opens the SK / SKF payload; false on error (o or sko gets it). */
static bool open_sk(struct dump_ike2 *x, const struct dump_frame *f, const uint8_t *msg,
		    size_t len, const struct gdoi_ike2_hdr *h, const struct gdoi_ike2_chain *ch,
		    bool repeat, json_t *o, json_t *sko)
{
	bool skf = ch->sk_type == GDOI_IKE2_PL_SKF;
	uint16_t num = 1, total = 1;
	struct gdoi_parse_error e;
	char why[200], src[200];
	if (skf) {
		int rc = gdoi_ike2_skf_parse(ch->sk_body, ch->sk_off, &num, &total, &e);
		if (rc) {
			parse_error(sko, rc, &e);
			return false;
		}
		set(sko, "fragment_number", json_integer(num));
		set(sko, "total_fragments", json_integer(total));
	}
	set(o, "encrypted", json_true());
	set(o, "ciphertext_length", json_integer((json_int_t)(ch->sk_body.len - (skf ? 4 : 0))));
	struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
	if (!k) {
		model_error_ike2(o, "out of memory", NULL);
		return false;
	}
	bool ok = true;
	if (!find_keys(x, h, k, src, sizeof(src), why, sizeof(why))) {
		set(o, "not_decrypted", json_string(why));
		goto out;
	}
	bool from_i = (h->flags & GDOI_IKE2_FLAG_INITIATOR) != 0;
	uint8_t *pt;
	size_t ptlen;
	int rc = gdoi_ike2_sk_open(k, from_i, msg, len, ch->sk_off, skf, &pt, &ptlen);
	set(o, "key", json_string(src));
	if (rc) {
		char m[300];
		if (rc == GDOI_ERR_AUTH)
			snprintf(m, sizeof(m), "ICV mismatch: the %s payload does not verify under "
				 "%s of %s", skf ? "SKF" : "SK",
				 k->integ_md == GDOI_MD_NONE ? (from_i ? "SK_ei" : "SK_er")
							     : (from_i ? "SK_ai" : "SK_ar"), src);
		else
			snprintf(m, sizeof(m), "%s payload at offset %zu: decryption failed: %s",
				 skf ? "SKF" : "SK", ch->sk_off, gdoi_strerror(rc));
		struct gdoi_parse_error pe = { rc, ch->sk_type, ch->sk_off, "" };
		model_error_ike2(o, m, &pe);
		ok = false;
		goto out;
	}
	set(o, "decrypted", json_true());
	uint8_t first = ch->sk_first;
	size_t off0 = ch->sk_off + 4 + (skf ? 4 : 0) + k->iv_len;
	uint8_t *whole = pt;
	size_t whole_len = ptlen;
	struct ike2_reasm *r = NULL;
	if (skf && total > 1) {
		r = repeat ? NULL : ike2_reasm_get(x, h, total);
		if (!r) {
			gdoi_wipe_free(pt, ptlen);
			if (!repeat) {
				model_error_ike2(o, "SKF: Total Fragments differs from an earlier "
						    "fragment's, or more than 64", NULL);
				ok = false;
			}
			goto out;
		}
		if (!r->pt[num - 1])
			r->have++;
		else
			gdoi_wipe_free(r->pt[num - 1], r->pt_len[num - 1]);
		r->pt[num - 1] = pt;
		r->pt_len[num - 1] = ptlen;
		r->frame[num - 1] = f->number;
		if (num == 1)
			r->first = first;
		if (r->have < r->total) {
			set(o, "reassembly", json_string("waiting for the other fragments"));
			goto out;
		}
		whole_len = 0;
		for (size_t i = 0; i < r->total; i++)
			whole_len += r->pt_len[i];
		whole = malloc(whole_len ? whole_len : 1);
		if (!whole) {
			ike2_reasm_done(x, r);
			model_error_ike2(o, "out of memory", NULL);
			ok = false;
			goto out;
		}
		json_t *frames = json_array();
		for (size_t i = 0, at = 0; i < r->total; i++) {
			memcpy(whole + at, r->pt[i], r->pt_len[i]);
			at += r->pt_len[i];
			json_array_append_new(frames, json_integer((json_int_t)r->frame[i]));
		}
		set(o, "reassembled_from_frames", frames);
		first = r->first;
		off0 = 0;	/* offsets are then into the reassembled plaintext */
		ike2_reasm_done(x, r);
	}
	struct gdoi_ike2_chain *in = malloc(sizeof(*in));
	struct pctx c = { x, h, GDOI_BYTES_NONE, "", true, whole, off0 };
	uint8_t kwk[GIKE2_KWK_MAX];
	if (!in) {
		model_error_ike2(o, "out of memory", NULL);
		ok = false;
	} else if (gdoi_ike2_chain_parse(whole, whole_len, off0, first, false, all_types,
					 sizeof(all_types), in, &e) != 0) {
		char txt[256], m[400];
		gike2_parse_error_format(&e, txt, sizeof(txt));
		snprintf(m, sizeof(m), "the decrypted payloads do not parse: %s%s", txt,
			 off0 ? "" : " (offset into the reassembled plaintext)");
		model_error_ike2(o, m, &e);
		ok = false;
	} else {
		json_t *arr = json_array();
		find_kwk(x, h, kwk, &c);
		if (chain_j(arr, &c, in))
			ok = false;
		set(sko, "payloads", arr);
		if (ok && !repeat)
			learn(x, h, &c, in, f, o);
		gdoi_wipe(kwk, sizeof(kwk));
	}
	free(in);
	gdoi_wipe_free(whole, whole_len ? whole_len : 1);
out:
	gdoi_ike2_keys_free(k);
	return ok;
}

/* ---- the message -------------------------------------------------------------------- */

static void header_j(json_t *o, const struct gdoi_ike2_hdr *h)
{
	char fl[16] = "";
	set(o, "ike_version", json_integer(2));
	set(o, "spi_i", hexj(h->spi_i, 8));
	set(o, "spi_r", hexj(h->spi_r, 8));
	set(o, "next_payload", json_integer(h->next));
	set(o, "next_payload_name", json_string(gike2_payload_name(h->next)));
	set(o, "major_version", json_integer(h->version >> 4));
	set(o, "minor_version", json_integer(h->version & 15));
	set(o, "exchange", json_integer(h->exchange));
	set(o, "exchange_name", json_string(gike2_exchange_name(h->exchange)));
	set(o, "flags", json_integer(h->flags));
	if (h->flags & GDOI_IKE2_FLAG_INITIATOR)
		strcat(fl, "I");
	if (h->flags & GDOI_IKE2_FLAG_VERSION)
		strcat(fl, fl[0] ? " V" : "V");
	if (h->flags & GDOI_IKE2_FLAG_RESPONSE)
		strcat(fl, fl[0] ? " R" : "R");
	set(o, "flag_names", json_string(fl));
	set(o, "message_id", json_integer(h->msgid));
	set(o, "length", json_integer(h->length));
}

bool ike2_decode(struct dump_ike2 *x, const struct dump_frame *f, bool repeat, json_t *o)
{
	size_t skip;
	const uint8_t *msg = f->data;
	size_t len = f->len;
	struct gdoi_ike2_hdr h;
	struct gdoi_parse_error e;
	char txt[256];
	for (size_t i = 0; i < sizeof(all_types); i++)
		all_types[i] = (uint8_t)i;
	if (ike2_is_ike2(msg, len, &skip) && skip) {
		set(o, "nonesp_marker", json_true());
		msg += skip;
		len -= skip;
	}
	memset(&h, 0, sizeof(h));
	int rc = gdoi_ike2_hdr_parse(msg, len, &h, &e);
	header_j(o, &h);
	if (rc) {
		gike2_parse_error_format(&e, txt, sizeof(txt));
		model_error_ike2(o, txt, &e);
		return false;
	}
	struct gdoi_ike2_chain *ch = malloc(sizeof(*ch));
	if (!ch) {
		model_error_ike2(o, "out of memory", NULL);
		return false;
	}
	json_t *arr = json_array();
	set(o, "payloads", arr);
	bool ok = true;
	rc = gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN,
				   GDOI_IKE2_HDR_LEN, h.next, true, all_types, sizeof(all_types),
				   ch, &e);
	struct pctx c = { x, &h, GDOI_BYTES_NONE, "", false, msg + GDOI_IKE2_HDR_LEN,
			  GDOI_IKE2_HDR_LEN };
	if (chain_j(arr, &c, ch))
		ok = false;
	if (rc) {
		/* the payloads before the bad one are shown */
		gike2_parse_error_format(&e, txt, sizeof(txt));
		model_error_ike2(o, txt, &e);
		free(ch);
		return false;
	}
	if (ch->sk_type) {
		json_t *sko = json_object();
		set(sko, "type", json_string(gike2_payload_name(ch->sk_type)));
		set(sko, "type_id", json_integer(ch->sk_type));
		set(sko, "offset", json_integer((json_int_t)ch->sk_off));
		set(sko, "length", json_integer((json_int_t)(ch->sk_body.len + 4)));
		set(sko, "next_payload", json_integer(ch->sk_first));
		set(sko, "next_payload_name", json_string(gike2_payload_name(ch->sk_first)));
		json_array_append(arr, sko);
		if (!open_sk(x, f, msg, len, &h, ch, repeat, o, sko))
			ok = false;
		if (json_object_get(sko, "error"))
			ok = false;
		json_decref(sko);
	}
	free(ch);
	return ok;
}
