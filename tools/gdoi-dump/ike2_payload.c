/*
 * ike2_payload.c - gdoi-dump's JSON for each IKEv2 / G-IKEv2 payload body:
 * the names of protocols, transforms, notifies, ID types, AUTH methods and
 * G-IKEv2 attributes, then SA, KE, IDs, CERT, AUTH, Nonce, Notify, Delete,
 * IDg, GSA (with the project's SRTP policy, docs/srtp-gikev2.md) and KD (its
 * keys unwrapped when the KWK is known), and the chain of them. Opening SK
 * and learning keys are ike2.c's.
 */
#include "ike2.h"
#include "ike2_int.h"

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

/* ---- names (ike2_names.c) ------------------------------------------------------ */

static const char *name_or_unknown(const char *n)
{
	return n ? n : "unknown";
}

static const char *proto_name(uint8_t p)
{
	return name_or_unknown(ike2_name(IKE2_NAME_PROTO, 0, p));
}

static const char *xf_id_name(uint8_t type, uint16_t id)
{
	return type == GIKE2_XF_SRTP_PROFILE ? gdoi_srtp_profile_name(id) : ike2_name(IKE2_NAME_XF_ID, type, id);
}

static const char *notify_name(uint16_t t)
{
	const char *n = ike2_name(IKE2_NAME_NOTIFY, 0, t);
	return n ? n : t < 16384 ? "error (unknown)" : "status (unknown)";
}

/* Attribute names by where the attribute sits (the sub-kind of IKE2_NAME_ATTR). */
enum actx { AX_XFORM, AX_SRTP_XFORM, AX_GSA, AX_GWP, AX_GKB, AX_MKB };

static json_t *attrs_j(const struct gdoi_attr_list *l, enum actx c)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct gdoi_attr *at = &l->v[i];
		json_t *o = json_object();
		ike2_jset(o, "type", json_integer(at->type));
		const char *n = ike2_name(IKE2_NAME_ATTR, c, at->type);
		if (n)
			ike2_jset(o, "name", json_string(n));
		if (at->tv)
			ike2_jset(o, "value", json_integer(at->basic));
		else if (at->value.len == 4 && (c == AX_GSA || c == AX_MKB) &&
			 at->type != GIKE2_GSA_NEXT_SPI)
			ike2_jset(o, "value", json_integer(gdoi_get_u32(at->value.ptr)));
		else
			ike2_jset(o, "hex", model_hex(at->value));
		json_array_append_new(a, o);
	}
	return a;
}

/* ---- payload bodies ----------------------------------------------------------- */


void ike2_parse_error(json_t *po, int rc, const struct gdoi_parse_error *e)
{
	char txt[256];
	gike2_parse_error_format(e, txt, sizeof(txt));
	json_t *eo = json_object();
	ike2_jset(eo, "message", json_string(txt));
	ike2_jset(eo, "code", json_string(gdoi_strerror(rc)));
	ike2_jset(eo, "offset", json_integer((json_int_t)e->offset));
	ike2_jset(po, "error", eo);
}

static json_t *ts_j(const struct gike2_ts *t)
{
	json_t *o = json_object();
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = t->addr_len == 16 ? AF_INET6 : AF_INET;
	ike2_jset(o, "ts_type", json_integer(t->type));
	ike2_jset(o, "ts_type_name", json_string(t->type == GIKE2_TS_IPV4_ADDR_RANGE ? "TS_IPV4_ADDR_RANGE"
					   : t->type == GIKE2_TS_IPV6_ADDR_RANGE ? "TS_IPV6_ADDR_RANGE"
					   : "unknown"));
	ike2_jset(o, "ip_protocol", json_integer(t->ip_proto));
	ike2_jset(o, "start_port", json_integer(t->start_port));
	ike2_jset(o, "end_port", json_integer(t->end_port));
	if (inet_ntop(af, t->start, a, sizeof(a)) && inet_ntop(af, t->end, b, sizeof(b))) {
		ike2_jset(o, "start_address", json_string(a));
		ike2_jset(o, "end_address", json_string(b));
	}
	return o;
}

/* A Transform substructure's type and ID with their names. */
static json_t *transform_j(uint8_t type, uint16_t id)
{
	json_t *to = json_object();
	const char *tn = ike2_name(IKE2_NAME_XF_TYPE, 0, type), *in = xf_id_name(type, id);
	ike2_jset(to, "type", json_string("Transform"));
	ike2_jset(to, "transform_type", json_integer(type));
	if (tn)
		ike2_jset(to, "transform_type_name", json_string(tn));
	ike2_jset(to, "transform_id", json_integer(id));
	if (in)
		ike2_jset(to, "transform_id_name", json_string(in));
	return to;
}

/* Protocol (with its name) and SPI (4-octet ones also as a number). */
static void proto_spi_j(json_t *o, uint8_t proto, const gdoi_bytes *spi)
{
	ike2_jset(o, "protocol", json_integer(proto));
	ike2_jset(o, "protocol_name", json_string(proto_name(proto)));
	if (!spi)
		return;
	ike2_jset(o, "spi", model_hex(*spi));
	if (spi->len == 4)
		ike2_jset(o, "spi_value", json_integer(gdoi_get_u32(spi->ptr)));
}

static void gsa_j(json_t *o, const struct gike2_gsa *g)
{
	json_t *pols = json_array();
	for (size_t i = 0; i < g->npol; i++) {
		const struct gike2_gsa_policy *p = &g->pol[i];
		json_t *po = json_object(), *xfs = json_array();
		ike2_jset(po, "type", json_string("GSA policy"));
		proto_spi_j(po, p->protocol, &p->spi);
		ike2_jset(po, "source_ts", ts_j(&p->src));
		ike2_jset(po, "destination_ts", ts_j(&p->dst));
		for (size_t j = 0; j < p->nxf; j++) {
			const struct gike2_transform *t = &p->xf[j];
			json_t *to = transform_j(t->type, t->id);
			ike2_jset(to, "attributes", attrs_j(&t->attrs, t->type == GIKE2_XF_SRTP_PROFILE
								  ? AX_SRTP_XFORM : AX_XFORM));
			json_array_append_new(xfs, to);
		}
		ike2_jset(po, "transforms", xfs);
		ike2_jset(po, "attributes", attrs_j(&p->attrs, AX_GSA));
		json_array_append_new(pols, po);
	}
	ike2_jset(o, "policies", pols);
	if (g->has_gwp) {
		json_t *gw = json_object();
		ike2_jset(gw, "type", json_string("GWP"));
		ike2_jset(gw, "attributes", attrs_j(&g->gwp, AX_GWP));
		json_t *one = json_array();	/* an array: the text output nests it */
		json_array_append_new(one, gw);
		ike2_jset(o, "gwp", one);
	}
}

/* A key bag attribute: a Wrapped Key, unwrapped when the KWK is known. */
static json_t *kd_attr_j(const struct pctx *c, const struct gdoi_attr *at, bool member, size_t off)
{
	json_t *o = json_object();
	const char *n = ike2_name(IKE2_NAME_ATTR, member ? AX_MKB : AX_GKB, at->type);
	ike2_jset(o, "type", json_string("attribute"));
	ike2_jset(o, "attribute_type", json_integer(at->type));
	if (n)
		ike2_jset(o, "name", json_string(n));
	if (at->tv) {
		ike2_jset(o, "value", json_integer(at->basic));
		return o;
	}
	bool wrapped = member ? at->type == GIKE2_MKB_WRAP_KEY : at->type == GIKE2_GKB_SA_KEY;
	if (member && at->type == GIKE2_MKB_GM_SENDER_ID && at->value.len == 4) {
		ike2_jset(o, "value", json_integer(gdoi_get_u32(at->value.ptr)));
		return o;
	}
	if (!wrapped) {
		ike2_jset(o, "hex", model_hex(at->value));
		return o;
	}
	struct gike2_wrapped_key wk;
	struct gdoi_parse_error e;
	int rc = gike2_wrapped_key_parse(at->value, off, &wk, &e);
	if (rc) {
		ike2_jset(o, "hex", model_hex(at->value));
		ike2_parse_error(o, rc, &e);
		return o;
	}
	ike2_jset(o, "key_id", json_integer(wk.key_id));
	ike2_jset(o, "kwk_id", json_integer(wk.kwk_id));
	ike2_jset(o, "wrapped", model_hex(wk.wrapped));
	if (wk.kwk_id != GIKE2_KWK_ID_DEFAULT || c->kwk.len == 0) {
		ike2_jset(o, "not_unwrapped", json_string(wk.kwk_id != GIKE2_KWK_ID_DEFAULT
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
		ike2_jset(o, "unwrap_error", json_string(rc == GDOI_ERR_AUTH
						   ? "AES-KWP integrity check failed (wrong KWK?)"
						   : gdoi_strerror(rc)));
	} else {
		ike2_jset(o, "kwk", json_string(c->kwk_name));
		ike2_jset(o, "unwrapped", ike2_jhex(out, olen));
		ike2_jset(o, "secret", json_true());
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
		ike2_jset(bo, "type", json_string(member ? "Member Key Bag" : "Group Key Bag"));
		proto_spi_j(bo, b->protocol, member ? NULL : &b->spi);
		for (size_t j = 0; j < b->attrs.n; j++) {
			/* the parsed values point into the chain's buffer */
			const struct gdoi_attr *at = &b->attrs.v[j];
			size_t off = at->value.ptr ? c->base_off + (size_t)(at->value.ptr - c->base) : 0;
			json_array_append_new(as, kd_attr_j(c, at, member, off));
		}
		ike2_jset(bo, "key_attributes", as);
		json_array_append_new(bags, bo);
	}
	ike2_jset(o, "key_bags", bags);
}

static void id_j(json_t *o, uint8_t type, gdoi_bytes d)
{
	char a[INET6_ADDRSTRLEN];
	ike2_jset(o, "id_type", json_integer(type));
	ike2_jset(o, "id_type_name", json_string(name_or_unknown(ike2_name(IKE2_NAME_ID, 0, type))));
	ike2_jset(o, "data", model_hex(d));
	bool printable = d.len > 0;
	for (size_t i = 0; i < d.len; i++)
		printable &= d.ptr[i] >= 0x20 && d.ptr[i] < 0x7f;
	if ((type == GDOI_IKE2_ID_FQDN || type == GDOI_IKE2_ID_RFC822_ADDR) && printable)
		ike2_jset(o, "value", json_stringn((const char *)d.ptr, d.len));
	else if (type == GDOI_IKE2_ID_IPV4_ADDR && d.len == 4 && inet_ntop(AF_INET, d.ptr, a, sizeof(a)))
		ike2_jset(o, "value", json_string(a));
	else if (type == GDOI_IKE2_ID_IPV6_ADDR && d.len == 16 &&
		 inet_ntop(AF_INET6, d.ptr, a, sizeof(a)))
		ike2_jset(o, "value", json_string(a));
	else if (type == GDOI_IKE2_ID_KEY_ID && d.len == 4)
		ike2_jset(o, "key_id", json_integer(gdoi_get_u32(d.ptr)));
}

static void sa_j(json_t *o, const struct gdoi_ike2_payload *p, size_t off)
{
	struct gdoi_ike2_sa_payload *sa = malloc(sizeof(*sa));
	struct gdoi_parse_error e;
	int rc = sa ? gdoi_ike2_sa_parse(p, off, sa, &e) : GDOI_ERR_NOMEM;
	if (rc) {
		if (sa)
			ike2_parse_error(o, rc, &e);
		ike2_jset(o, "data", model_hex(p->body));
		free(sa);
		return;
	}
	json_t *props = json_array();
	for (size_t i = 0; i < sa->nprop; i++) {
		const struct gdoi_ike2_proposal *pr = &sa->prop[i];
		json_t *po = json_object(), *xs = json_array();
		ike2_jset(po, "type", json_string("Proposal"));
		ike2_jset(po, "number", json_integer(pr->num));
		proto_spi_j(po, pr->proto, &pr->spi);
		for (size_t j = 0; j < pr->ntrans; j++) {
			const struct gdoi_ike2_transform *t = &pr->t[j];
			json_t *to = transform_j(t->type, t->id);
			if (t->key_bits)
				ike2_jset(to, "key_length", json_integer(t->key_bits));
			json_array_append_new(xs, to);
		}
		ike2_jset(po, "transforms", xs);
		json_array_append_new(props, po);
	}
	ike2_jset(o, "proposals", props);
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
		ike2_jset(o, "group", json_integer(ke.group));
		const char *g = xf_id_name(GIKE2_XF_KE, ke.group);
		if (g)
			ike2_jset(o, "group_name", json_string(g));
		ike2_jset(o, "key_exchange_data", model_hex(ke.data));
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
		ike2_jset(o, "encoding", json_integer(ce.encoding));
		if (ce.encoding == GDOI_IKE2_CERT_X509_SIG)
			ike2_jset(o, "encoding_name", json_string("X.509 Certificate - Signature"));
		ike2_jset(o, "data", model_hex(ce.data));
		return;
	}
	case GDOI_IKE2_PL_AUTH: {
		struct gdoi_ike2_auth a;
		if ((rc = gdoi_ike2_auth_parse(p, off, &a, &e)))
			break;
		ike2_jset(o, "method", json_integer(a.method));
		ike2_jset(o, "method_name", json_string(name_or_unknown(ike2_name(IKE2_NAME_AUTH, 0, a.method))));
		ike2_jset(o, "data", model_hex(a.data));
		return;
	}
	case GDOI_IKE2_PL_NONCE: {
		gdoi_bytes n;
		if ((rc = gdoi_ike2_nonce_parse(p, off, &n, &e)))
			break;
		ike2_jset(o, "nonce", model_hex(n));
		return;
	}
	case GDOI_IKE2_PL_NOTIFY: {
		struct gdoi_ike2_notify n;
		if ((rc = gdoi_ike2_notify_parse(p, off, &n, &e)))
			break;
		ike2_jset(o, "protocol", json_integer(n.proto));
		ike2_jset(o, "spi", model_hex(n.spi));
		ike2_jset(o, "notify_type", json_integer(n.type));
		ike2_jset(o, "notify_name", json_string(notify_name(n.type)));
		ike2_jset(o, "data", model_hex(n.data));
		if (n.type == GIKE2_N_SENDER) {
			uint32_t count;
			struct gdoi_reader d = gdoi_reader_init(
				n.data.ptr, n.data.len, off + 4 + (size_t)(n.data.ptr - p->body.ptr));
			if ((rc = gike2_sender_parse(&d, &count, &e)))
				break;
			ike2_jset(o, "sender_ids_wanted", json_integer(count));
		}
		return;
	}
	case GDOI_IKE2_PL_DELETE: {
		struct gdoi_ike2_delete d;
		if ((rc = gdoi_ike2_delete_parse(p, off, &d, &e)))
			break;
		json_t *spis = json_array();
		proto_spi_j(o, d.proto, NULL);
		ike2_jset(o, "spi_size", json_integer(d.spi_size));
		for (size_t i = 0; d.spi_size && i < d.nspi && (i + 1) * d.spi_size <= d.spis.len; i++)
			json_array_append_new(spis, ike2_jhex(d.spis.ptr + i * d.spi_size, d.spi_size));
		ike2_jset(o, "spis", spis);
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
		ike2_jset(o, "data", model_hex(p->body));
		return;
	}
	ike2_jset(o, "data", model_hex(p->body));
	ike2_parse_error(o, rc, &e);
}

static json_t *payload_j(const struct pctx *c, const struct gdoi_ike2_payload *p, size_t off)
{
	json_t *o = json_object();
	bool sag = c->inner && p->type == GIKE2_PL_SA &&
		   (c->h->exchange == GIKE2_EXCH_GSA_AUTH ||
		    c->h->exchange == GIKE2_EXCH_GSA_REGISTRATION);
	ike2_jset(o, "type", json_string(sag ? "SAg" : gike2_payload_name(p->type)));
	ike2_jset(o, "type_id", json_integer(p->type));
	ike2_jset(o, "critical", json_boolean(p->critical));
	ike2_jset(o, "offset", json_integer((json_int_t)off));
	ike2_jset(o, "length", json_integer((json_int_t)(p->body.len + 4)));
	body_j(o, c, p, off);
	return o;
}

/* Appends the chain's payloads; true when one of them has an error. */
bool ike2_chain_j(json_t *arr, const struct pctx *c, const struct gdoi_ike2_chain *ch)
{
	bool bad = false;
	for (size_t i = 0; i < ch->n; i++) {
		json_t *p = payload_j(c, &ch->p[i], ch->off[i]);
		bad |= json_object_get(p, "error") != NULL;
		json_array_append_new(arr, p);
	}
	return bad;
}
