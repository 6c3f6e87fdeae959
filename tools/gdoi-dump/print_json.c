/*
 * print_json.c - the message model: one jansson object per message, written
 * as one line with --json and rendered by print_text.c otherwise.
 *
 * Attributes are {"type":N,"value":N} (TV) or {"type":N,"hex":"..."} (TLV),
 * with "name" where one is known. Key material from KD payloads carries
 * "secret": true.
 */
#include "dump.h"

#include "gdoi/gike2.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which attribute name table applies. */
enum attr_ctx { A_IKE, A_KEK, A_GAP, A_IPSEC, A_SRTP, A_KD_TEK, A_KD_KEK, A_KD_SID, A_NONE };

static const char *attr_name(enum attr_ctx ctx, unsigned t)
{
	static const char *const ike[] = { NULL, "ENCRYPTION_ALGORITHM", "HASH_ALGORITHM",
		"AUTHENTICATION_METHOD", "GROUP_DESCRIPTION", "GROUP_TYPE", "GROUP_PRIME",
		"GROUP_GENERATOR_ONE", "GROUP_GENERATOR_TWO", "GROUP_CURVE_A", "GROUP_CURVE_B",
		"LIFE_TYPE", "LIFE_DURATION", "PRF", "KEY_LENGTH", "FIELD_SIZE", "GROUP_ORDER" };
	static const char *const kek[] = { NULL, "KEK_MANAGEMENT_ALGORITHM", "KEK_ALGORITHM",
		"KEK_KEY_LENGTH", "KEK_KEY_LIFETIME", "SIG_HASH_ALGORITHM", "SIG_ALGORITHM",
		"SIG_KEY_LENGTH", "KE_OAKLEY_GROUP", "KEK_ACK_REQUESTED" };
	static const char *const gap[] = { NULL, "ACTIVATION_TIME_DELAY",
		"DEACTIVATION_TIME_DELAY", "SENDER_ID_REQUEST" };
	static const char *const ipsec[] = { NULL, "SA_LIFE_TYPE", "SA_LIFE_DURATION",
		"GROUP_DESCRIPTION", "ENCAPSULATION_MODE", "AUTHENTICATION_ALGORITHM",
		"KEY_LENGTH", "KEY_ROUNDS", "COMPRESS_DICTIONARY_SIZE",
		"COMPRESS_PRIVATE_ALGORITHM", "ECN_TUNNEL", "EXTENDED_SEQUENCE_NUMBER", NULL,
		NULL, "ADDRESS_PRESERVATION", "SA_DIRECTION" };
	static const char *const srtp[] = { NULL, "SRTP_LIFETIME", "REPLAY_WINDOW",
		"SSRC_ASSIGNED", "ALLOW_REPEAT_TX" };
	static const char *const kd_tek[] = { NULL, "TEK_ALGORITHM_KEY", "TEK_INTEGRITY_KEY",
		"TEK_SOURCE_AUTH_KEY" };
	static const char *const kd_kek[] = { NULL, "KEK_ALGORITHM_KEY", "SIG_ALGORITHM_KEY" };
	static const char *const kd_sid[] = { NULL, "NUMBER_OF_SID_BITS", "SID_VALUE" };
#define PICK(tab) return t < sizeof(tab) / sizeof(tab[0]) ? tab[t] : NULL
	switch (ctx) {
	case A_IKE: PICK(ike);
	case A_KEK: PICK(kek);
	case A_GAP: PICK(gap);
	case A_IPSEC: PICK(ipsec);
	case A_SRTP: PICK(srtp);
	case A_KD_TEK: PICK(kd_tek);
	case A_KD_KEK: PICK(kd_kek);
	case A_KD_SID: PICK(kd_sid);
	case A_NONE: break;
	}
#undef PICK
	return NULL;
}

json_t *model_hex(gdoi_bytes b)
{
	char *s = malloc(2 * b.len + 1);
	if (!s)
		return json_null();
	gdoi_hex_encode(b.ptr, b.len, s);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v ? v : json_null());
}

static json_t *attrs_j(const struct gdoi_attr_list *l, enum attr_ctx ctx, bool secret)
{
	json_t *a = json_array();
	for (size_t i = 0; l && i < l->n; i++) {
		const struct gdoi_attr *at = &l->v[i];
		json_t *o = json_object();
		set(o, "type", json_integer(at->type));
		const char *name = attr_name(ctx, at->type);
		if (name)
			set(o, "name", json_string(name));
		if (at->tv) {
			set(o, "value", json_integer(at->basic));
		} else {
			set(o, "hex", model_hex(at->value));
			/* Keys are; SID values and the GCKS public key are not. */
			if (secret && (ctx == A_KD_TEK ||
				       (ctx == A_KD_KEK && at->type == GDOI_KD_KEK_ALGORITHM_KEY)))
				set(o, "secret", json_true());
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* ID payload body or a SAK/SAT SRC/DST selector. */
static void id_fields(json_t *o, const struct gdoi_id *id, bool with_proto)
{
	set(o, "id_type", json_integer(id->type));
	set(o, "id_type_name", json_string(gdoi_id_type_name(id->type)));
	if (with_proto)
		set(o, "protocol", json_integer(id->proto));
	set(o, "port", json_integer(id->port));
	set(o, "data", model_hex(id->data));
	char a[INET6_ADDRSTRLEN];
	if (id->type == GDOI_ID_IPV4_ADDR && id->data.len == 4 &&
	    inet_ntop(AF_INET, id->data.ptr, a, sizeof(a)))
		set(o, "address", json_string(a));
	else if (id->type == GDOI_ID_IPV6_ADDR && id->data.len == 16 &&
		 inet_ntop(AF_INET6, id->data.ptr, a, sizeof(a)))
		set(o, "address", json_string(a));
	else if (id->type == GDOI_ID_KEY_ID && id->data.len == 4)
		set(o, "key_id", json_integer(gdoi_get_u32(id->data.ptr)));
}

static json_t *selector_j(const struct gdoi_id *id)
{
	json_t *o = json_object();
	id_fields(o, id, false);
	return o;
}

static json_t *sa_ike_j(json_t *o, const struct gdoi_sa_ike *sa)
{
	set(o, "doi", json_integer(sa->doi));
	set(o, "situation", json_integer(sa->situation));
	json_t *props = json_array();
	for (size_t i = 0; i < sa->nprops; i++) {
		const struct gdoi_proposal *p = &sa->props[i];
		json_t *po = json_object(), *xfs = json_array();
		set(po, "type", json_string("PROPOSAL"));
		set(po, "number", json_integer(p->num));
		set(po, "protocol_id", json_integer(p->proto));
		set(po, "spi", model_hex(p->spi));
		for (size_t j = 0; j < p->nxf; j++) {
			json_t *xo = json_object();
			set(xo, "type", json_string("TRANSFORM"));
			set(xo, "number", json_integer(p->xf[j].num));
			set(xo, "transform_id", json_integer(p->xf[j].id));
			set(xo, "attributes", attrs_j(&p->xf[j].attrs, A_IKE, false));
			json_array_append_new(xfs, xo);
		}
		set(po, "transforms", xfs);
		json_array_append_new(props, po);
	}
	set(o, "proposals", props);
	return o;
}

static json_t *sat_j(const struct gdoi_sat *t)
{
	json_t *o = json_object();
	set(o, "type", json_string("SAT"));
	set(o, "protocol_id", json_integer(t->protocol_id));
	set(o, "protocol_name", json_string(gdoi_tek_proto_name(t->protocol_id)));
	switch (t->protocol_id) {
	case GDOI_TEK_PROTO_ESP:
	case GDOI_TEK_PROTO_AH: {
		const struct gdoi_tek_ipsec *e = &t->u.ipsec;
		set(o, "protocol", json_integer(e->protocol));
		set(o, "src", selector_j(&e->src));
		set(o, "dst", selector_j(&e->dst));
		set(o, "transform_id", json_integer(e->transform_id));
		set(o, "spi", json_integer(e->spi));
		set(o, "attributes", attrs_j(&e->attrs, A_IPSEC, false));
		break;
	}
	case GDOI_TEK_PROTO_SRTP: {
		const struct gdoi_tek_srtp *s = &t->u.srtp;
		set(o, "version", json_integer(s->version));
		set(o, "profile", json_integer(s->profile));
		set(o, "profile_name", json_string(gdoi_srtp_profile_name(s->profile)));
		set(o, "srtp_flags", json_integer(s->flags));
		set(o, "src", selector_j(&s->src));
		set(o, "dst", selector_j(&s->dst));
		set(o, "spi", json_integer(s->spi));
		set(o, "attributes", attrs_j(&s->attrs, A_SRTP, false));
		break;
	}
	case GDOI_TEK_PROTO_REF_SRTP: {
		const struct gdoi_tek_ref_srtp *s = &t->u.ref_srtp;
		set(o, "src", selector_j(&s->src));
		set(o, "dst", selector_j(&s->dst));
		set(o, "replay_window", json_integer(s->replay_window));
		set(o, "kd_rate", json_integer(s->kd_rate));
		set(o, "srtp_lifetime", json_integer(s->srtp_lifetime));
		set(o, "srtcp_lifetime", json_integer(s->srtcp_lifetime));
		set(o, "spi", model_hex(s->spi));
		set(o, "attributes", attrs_j(&s->attrs, A_NONE, false));
		break;
	}
	default:
		set(o, "hex", model_hex(t->u.opaque));
		break;
	}
	return o;
}

static void sa_gdoi_j(json_t *o, const struct gdoi_sa_gdoi *sa)
{
	set(o, "doi", json_integer(sa->doi));
	set(o, "situation", json_integer(sa->situation));
	json_t *pl = json_array();
	if (sa->sak) {
		const struct gdoi_sak *k = sa->sak;
		json_t *ko = json_object();
		set(ko, "type", json_string("SAK"));
		set(ko, "protocol", json_integer(k->protocol));
		set(ko, "src", selector_j(&k->src));
		set(ko, "dst", selector_j(&k->dst));
		set(ko, "spi", model_hex(GDOI_BYTES(k->spi, GDOI_KEK_SPI_LEN)));
		if (k->trailer_len == 6)
			set(ko, "reserved2_octets", json_integer(6));
		set(ko, "attributes", attrs_j(&k->attrs, A_KEK, false));
		json_array_append_new(pl, ko);
	}
	if (sa->gap) {
		json_t *go = json_object();
		set(go, "type", json_string("GAP"));
		set(go, "attributes", attrs_j(sa->gap, A_GAP, false));
		json_array_append_new(pl, go);
	}
	for (size_t i = 0; i < sa->nsats; i++)
		json_array_append_new(pl, sat_j(&sa->sats[i]));
	set(o, "payloads", pl);
}

static void kd_j(json_t *o, const struct gdoi_kd *kd)
{
	json_t *pk = json_array();
	for (size_t i = 0; i < kd->n; i++) {
		const struct gdoi_kd_packet *p = &kd->pkts[i];
		json_t *po = json_object();
		set(po, "kd_type", json_integer(p->type));
		set(po, "kd_type_name", json_string(gdoi_kd_type_name(p->type)));
		set(po, "spi", model_hex(p->spi));
		switch (p->type) {
		case GDOI_KD_TEK:
			set(po, "attributes", attrs_j(&p->attrs, A_KD_TEK, true));
			break;
		case GDOI_KD_KEK:
			set(po, "attributes", attrs_j(&p->attrs, A_KD_KEK, true));
			break;
		case GDOI_KD_SID:
			set(po, "attributes", attrs_j(&p->attrs, A_KD_SID, true));
			break;
		default:
			set(po, "hex", model_hex(p->opaque));
			set(po, "secret", json_true());
			break;
		}
		json_array_append_new(pk, po);
	}
	set(o, "packets", pk);
	set(o, "contains_key_material", json_true());
}

static json_t *payload_j(const struct gdoi_payload *p, uint8_t exchange)
{
	json_t *o = json_object();
	set(o, "type", json_string(gdoi_payload_name(p->type)));
	set(o, "offset", json_integer((json_int_t)p->offset));
	set(o, "length", json_integer((json_int_t)p->raw.len));
	switch (p->type) {
	case GDOI_PL_SA:
		if (exchange == GDOI_EXCH_PULL || exchange == GDOI_EXCH_PUSH)
			sa_gdoi_j(o, &p->u.sa);
		else
			sa_ike_j(o, &p->u.sa_ike);
		break;
	case GDOI_PL_ID:
		id_fields(o, &p->u.id, true);
		break;
	case GDOI_PL_CERT:
	case GDOI_PL_CR:
		set(o, p->type == GDOI_PL_CERT ? "encoding" : "cert_type",
		    json_integer(p->u.cert.type));
		set(o, "hex", model_hex(p->u.cert.data));
		break;
	case GDOI_PL_KE:
	case GDOI_PL_HASH:
	case GDOI_PL_SIG:
	case GDOI_PL_NONCE:
	case GDOI_PL_VID:
		set(o, "hex", model_hex(p->u.data));
		break;
	case GDOI_PL_NOTIFY: {
		const struct gdoi_notify *n = &p->u.notify;
		set(o, "doi", json_integer(n->doi));
		set(o, "protocol_id", json_integer(n->proto));
		set(o, "notify_type", json_integer(n->type));
		set(o, "notify_name", json_string(gdoi_notify_name(n->type)));
		set(o, "spi", model_hex(n->spi));
		set(o, "data", model_hex(n->data));
		break;
	}
	case GDOI_PL_DELETE: {
		const struct gdoi_delete *d = &p->u.del;
		json_t *spis = json_array();
		set(o, "doi", json_integer(d->doi));
		set(o, "protocol_id", json_integer(d->proto));
		set(o, "spi_size", json_integer(d->spi_size));
		for (size_t i = 0; i < d->nspis; i++)
			json_array_append_new(spis, model_hex(GDOI_BYTES(d->spis.ptr + i * d->spi_size,
								    d->spi_size)));
		set(o, "spis", spis);
		break;
	}
	case GDOI_PL_GAP:
		set(o, "attributes", attrs_j(&p->u.gap, A_GAP, false));
		break;
	case GDOI_PL_KD:
		kd_j(o, &p->u.kd);
		break;
	case GDOI_PL_SEQ:
		set(o, "seq", json_integer(p->u.seq));
		break;
	}
	return o;
}

json_t *model_frame(const struct dump_frame *f)
{
	json_t *o = json_object();
	set(o, "frame", json_integer((json_int_t)f->number));
	if (f->have_addr) {
		set(o, "src", json_string(f->src));
		set(o, "dst", json_string(f->dst));
	}
	return o;
}

void model_header(json_t *o, const struct gdoi_hdr *h)
{
	set(o, "exchange", json_integer(h->exchange));
	set(o, "exchange_name", json_string(gdoi_exchange_name(h->exchange)));
	set(o, "flags", json_integer(h->flags));
	set(o, "message_id", json_integer(h->msgid));
	set(o, "icookie", model_hex(GDOI_BYTES(h->icookie, 8)));
	set(o, "rcookie", model_hex(GDOI_BYTES(h->rcookie, 8)));
	set(o, "next_payload", json_integer(h->next));
	set(o, "version", json_integer(h->version));
	set(o, "length", json_integer(h->length));
	set(o, "encrypted", json_boolean(h->flags & GDOI_FLAG_ENC));
	set(o, "decrypted", json_false());
}

void model_payloads(json_t *o, const struct gdoi_msg *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->npl; i++)
		json_array_append_new(a, payload_j(&m->pl[i], m->hdr.exchange));
	set(o, "payloads", a);
	if (m->chain_end < m->hdr.length)
		set(o, "padding", json_integer((json_int_t)(m->hdr.length - m->chain_end)));
}

static void error_as(json_t *o, const char *message, const struct gdoi_parse_error *e,
		     bool ike2)
{
	json_t *eo = json_object();
	set(eo, "message", json_string(message));
	if (e) {
		set(eo, "payload", json_string(!e->payload ? "header"
					      : ike2 ? gike2_payload_name(e->payload)
						     : gdoi_payload_name(e->payload)));
		set(eo, "payload_type", json_integer(e->payload));
		set(eo, "offset", json_integer((json_int_t)e->offset));
	}
	set(o, "error", eo);
}

void model_error(json_t *o, const char *message, const struct gdoi_parse_error *e)
{
	error_as(o, message, e, false);
}

void model_error_ike2(json_t *o, const char *message, const struct gdoi_parse_error *e)
{
	error_as(o, message, e, true);
}

void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
}
