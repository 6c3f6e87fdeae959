/*
 * gike2_msg.c - the G-IKEv2 payload sets of GSA_AUTH and GSA_REGISTRATION
 * (RFC 9838 §2.3.1~, §2.3.2~, §2.3.3~, §2.3.4~), see gike2_msg.h.
 */
#include "gike2_msg.h"

#include <string.h>

#include "codec.h"
#include "gike2_policy.h"
#include "ike2_numbers.h"
#include "secret.h"

/* Notify body (RFC 7296 §3.10): Protocol ID, SPI Size, Notify Message Type, data. */
static int notify(uint16_t type, gdoi_bytes data, struct gdoi_arena *a, struct gike2_pl *out)
{
	uint8_t *b = gdoi_arena_alloc(a, 4 + data.len);
	if (!b)
		return GDOI_ERR_NOMEM;
	b[0] = 0;
	b[1] = 0;
	gdoi_put_u16(b + 2, type);
	if (data.len)
		memcpy(b + 4, data.ptr, data.len);
	*out = (struct gike2_pl){ GIKE2_PL_NOTIFY, false, GDOI_BYTES(b, 4 + data.len) };
	return 0;
}

static int push(struct gike2_pl *out, size_t cap, size_t *n, struct gike2_pl p)
{
	if (*n >= cap)
		return GDOI_ERR_TOO_BIG;
	out[(*n)++] = p;
	return 0;
}

/* Serializes a body with a builder into the arena. */
static int body(struct gdoi_writer *w, struct gdoi_arena *a, uint8_t type, struct gike2_pl *out)
{
	uint8_t *b = w->failed ? NULL : gdoi_arena_alloc(a, w->len ? w->len : 1);
	if (!b) {
		gdoi_writer_free(w);
		return GDOI_ERR_NOMEM;
	}
	memcpy(b, w->buf, w->len);
	*out = (struct gike2_pl){ type, false, GDOI_BYTES(b, w->len) };
	gdoi_writer_free(w);
	return 0;
}

int gike2_reg_request_build(const struct gike2_reg_request *rq, struct gdoi_arena *a,
			    struct gike2_pl *out, size_t cap, size_t *n)
{
	struct gdoi_writer w;
	struct gike2_pl p;
	int rc;

	gdoi_writer_init(&w);
	if ((rc = gike2_idg_build(&w, &rq->idg))) {
		gdoi_writer_free(&w);
		return rc;
	}
	if ((rc = body(&w, a, GIKE2_PL_IDG, &p)) || (rc = push(out, cap, n, p)))
		return rc;
	if (rq->senders == 0)
		return 0;
	uint8_t cnt[4];
	gdoi_put_u32(cnt, rq->senders);
	if ((rc = notify(GIKE2_N_SENDER, GDOI_BYTES(cnt, 4), a, &p)))
		return rc;
	return push(out, cap, n, p);
}

/* A Notify body's type and data (SPI skipped); off is its absolute offset. */
static int notify_parse(const struct gike2_pl *p, struct codec_ctx *c, uint16_t *type,
			struct gdoi_reader *data)
{
	struct gdoi_reader r = gdoi_reader_init(p->body.ptr, p->body.len, 0);
	uint8_t proto, spi_size;
	gdoi_bytes spi;

	if (!gdoi_read_u8(&r, &proto) || !gdoi_read_u8(&r, &spi_size) || !gdoi_read_u16(&r, type) ||
	    !gdoi_read_bytes(&r, spi_size, &spi))
		return codec_fail(c, GDOI_ERR_TRUNCATED, GIKE2_PL_NOTIFY, 0, "Notify");
	*data = gdoi_reader_init(r.base + r.pos, gdoi_reader_left(&r), 4u + spi_size);
	return 0;
}

int gike2_reg_request_parse(const struct gike2_pl *pl, size_t n, struct gike2_reg_request *rq,
			    struct gdoi_parse_error *err)
{
	struct codec_ctx c = { NULL, err, 0 };
	bool idg = false, sender = false;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(rq, 0, sizeof(*rq));
	for (size_t i = 0; i < n; i++) {
		if (pl[i].type == GIKE2_PL_IDG) {
			if (idg)
				return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_IDG, 0, "IDg twice");
			struct gdoi_reader r = gdoi_reader_init(pl[i].body.ptr, pl[i].body.len, 0);
			if ((rc = gike2_idg_parse(&r, &rq->idg, err)))
				return rc;
			idg = true;
		} else if (pl[i].type == GIKE2_PL_NOTIFY) {
			uint16_t type;
			struct gdoi_reader d;
			if ((rc = notify_parse(&pl[i], &c, &type, &d)))
				return rc;
			if (type != GIKE2_N_SENDER)
				continue;
			if (sender)
				return codec_fail(&c, GDOI_ERR_VALUE, GIKE2_PL_NOTIFY, 0, "SENDER twice");
			if ((rc = gike2_sender_parse(&d, &rq->senders, err)))
				return rc;
			sender = true;
		}
	}
	if (!idg)
		return codec_fail(&c, GDOI_ERR_MISSING, GIKE2_PL_IDG, 0, "IDg");
	return 0;
}

/* The Rekey SA's policy put first in g, its key bag(s) first in kd. */
static int with_rekey(struct gike2_gsa *g, struct gike2_kd *kd, const struct gike2_rekey_sa *rekey,
		      const struct gdoi_key *signer, gdoi_bytes kwk, bool auth_key,
		      struct gdoi_arena *a)
{
	struct gike2_gsa_policy *pol = gdoi_arena_calloc(a, g->npol + 1, sizeof(*pol));
	struct gike2_key_bag *bags = gdoi_arena_calloc(a, kd->nbag + 2, sizeof(*bags));
	size_t nb = 0;
	int rc;

	if (!pol || !bags)
		return GDOI_ERR_NOMEM;
	if ((rc = gike2_rekey_to_gsa_policy(rekey, signer, a, &pol[0])) ||
	    (rc = gike2_rekey_to_key_bags(rekey, kwk, signer, a, bags, &nb)))
		return rc;
	if (!auth_key)
		nb = 1;
	memcpy(pol + 1, g->pol, g->npol * sizeof(*pol));
	memcpy(bags + nb, kd->bag, kd->nbag * sizeof(*bags));
	g->pol = pol;
	g->npol++;
	g->gwp_pos = g->npol;
	kd->bag = bags;
	kd->nbag += nb;
	return 0;
}

int gike2_reg_response_build(const struct gdoi_policy *p, const struct gike2_rekey_sa *rekey,
			     const struct gdoi_key *signer, gdoi_bytes gsk_w, const uint32_t *sids,
			     size_t nsids, struct gdoi_arena *a, struct gike2_pl *out, size_t cap,
			     size_t *n)
{
	struct gike2_gsa g;
	struct gike2_kd kd;
	struct gdoi_writer w;
	struct gike2_pl pg, pk;
	int rc;

	if ((rc = gike2_policy_to_gsa(p, a, &g)) ||
	    (rc = gike2_policy_to_kd(p, gsk_w, sids, nsids, a, &kd)))
		return rc;
	if (rekey && (rc = with_rekey(&g, &kd, rekey, signer, gsk_w, true, a)))
		return rc;
	gdoi_writer_init(&w);
	if ((rc = gike2_gsa_build(&w, &g))) {
		gdoi_writer_free(&w);
		return rc;
	}
	if ((rc = body(&w, a, GIKE2_PL_GSA, &pg)))
		return rc;
	gdoi_writer_init(&w);
	if ((rc = gike2_kd_build(&w, &kd))) {
		gdoi_writer_free(&w);
		return rc;
	}
	if ((rc = body(&w, a, GIKE2_PL_KD, &pk)) || (rc = push(out, cap, n, pg)))
		return rc;
	return push(out, cap, n, pk);
}

int gike2_notify_error_build(uint16_t type, struct gdoi_arena *a, struct gike2_pl *out)
{
	if (type != GIKE2_N_INVALID_GROUP_ID && type != GIKE2_N_AUTHORIZATION_FAILED &&
	    type != GIKE2_N_REGISTRATION_FAILED && type != GDOI_IKE2_N_TEMPORARY_FAILURE)
		return GDOI_ERR_INVALID_ARG;
	return notify(type, GDOI_BYTES_NONE, a, out);
}

static int error_code(uint16_t type)
{
	switch (type) {
	case GIKE2_N_INVALID_GROUP_ID: return GDOI_ERR_NOT_FOUND;
	case GIKE2_N_AUTHORIZATION_FAILED: return GDOI_ERR_NOT_AUTHORIZED;
	case GDOI_IKE2_N_TEMPORARY_FAILURE: return GDOI_ERR_UNAVAILABLE;
	default: return GDOI_ERR_STATE;
	}
}

int gike2_reg_response_apply(const struct gike2_pl *pl, size_t n, gdoi_bytes gsk_w,
			     struct gdoi_arena *a, struct gdoi_policy *p, struct gike2_rekey_sa *rekey,
			     bool *has_rekey, struct gdoi_key **gcks_key, uint16_t *error, char *why,
			     size_t wl)
{
	const struct gike2_pl *pg = NULL, *pk = NULL;
	struct gdoi_parse_error e;
	struct codec_ctx c = { a, &e, 0 };
	int rc;

	*error = 0;
	*has_rekey = false;
	*gcks_key = NULL;
	for (size_t i = 0; i < n; i++) {
		if (pl[i].type == GIKE2_PL_NOTIFY) {
			uint16_t type;
			struct gdoi_reader d;
			if ((rc = notify_parse(&pl[i], &c, &type, &d)))
				return gdoi_refuse(why, wl, rc, "Notify: truncated");
			if (type < 16384) {	/* an error type: the registration failed */
				*error = type;
				return gdoi_refuse(why, wl, error_code(type), "GCKS answered notify %u",
						   type);
			}
		} else if (pl[i].type == GIKE2_PL_GSA || pl[i].type == GIKE2_PL_KD) {
			const struct gike2_pl **slot = pl[i].type == GIKE2_PL_GSA ? &pg : &pk;
			if (*slot)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "%s twice",
						   gike2_payload_name(pl[i].type));
			*slot = &pl[i];
		}
	}
	if (!pg || !pk)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "GSA and KD");
	struct gike2_gsa g;
	struct gike2_kd kd;
	struct gdoi_reader rg = gdoi_reader_init(pg->body.ptr, pg->body.len, 0);
	struct gdoi_reader rk = gdoi_reader_init(pk->body.ptr, pk->body.len, 0);
	char msg[160];
	if ((rc = gike2_gsa_parse(&rg, a, &g, &e)) || (rc = gike2_kd_parse(&rk, a, &kd, &e))) {
		gike2_parse_error_format(&e, msg, sizeof(msg));
		return gdoi_refuse(why, wl, rc, "%s", msg);
	}
	if ((rc = gike2_policy_from_gsa(p, &g, why, wl)) ||
	    (rc = gike2_policy_apply_kd(p, &kd, gsk_w, why, wl)))
		return rc;
	for (size_t i = 0; i < g.npol; i++) {
		if (g.pol[i].protocol != GIKE2_PROTO_GIKE_UPDATE)
			continue;
		if (*has_rekey)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two Rekey SAs");
		if ((rc = gike2_rekey_from_gsa_policy(rekey, &g.pol[i], why, wl)) ||
		    (rc = gike2_rekey_apply_kd(rekey, &kd, gsk_w, gcks_key, why, wl)))
			return rc;
		*has_rekey = true;
	}
	return 0;
}

/* ---- GSA_REKEY contents ------------------------------------------------------ */

/* GSA (next's GIKE_UPDATE policy first when not NULL, then p's TEKs and GWP),
 * KD under kwk (auth_key: with next's Member Key Bag, AUTH_KEY), and a Delete
 * of the SRTP SPIs in del. */
static int content_build(const struct gdoi_policy *p, gdoi_bytes kwk,
			 const struct gike2_rekey_sa *next, const struct gdoi_key *signer,
			 bool auth_key, const uint32_t *del, size_t ndel, struct gdoi_arena *a,
			 struct gike2_pl *out, size_t cap, size_t *n)
{
	struct gike2_gsa g;
	struct gike2_kd kd;
	struct gdoi_writer w;
	struct gike2_pl pp;
	int rc;

	if ((rc = gike2_policy_to_gsa(p, a, &g)) || (rc = gike2_policy_to_kd(p, kwk, NULL, 0, a, &kd)))
		return rc;
	if (next && (rc = with_rekey(&g, &kd, next, signer, kwk, auth_key, a)))
		return rc;
	gdoi_writer_init(&w);
	if ((rc = gike2_gsa_build(&w, &g)) || (rc = body(&w, a, GIKE2_PL_GSA, &pp)) ||
	    (rc = push(out, cap, n, pp)))
		return rc;
	gdoi_writer_init(&w);
	if ((rc = gike2_kd_build(&w, &kd)) || (rc = body(&w, a, GIKE2_PL_KD, &pp)) ||
	    (rc = push(out, cap, n, pp)))
		return rc;
	if (ndel == 0)
		return 0;
	if (ndel > GIKE2_DELETE_MAX_SPI)
		return GDOI_ERR_TOO_BIG;
	struct gike2_delete d = { GIKE2_PROTO_SRTP, 4, ndel, { NULL } };
	uint8_t *spis = gdoi_arena_alloc(a, 4 * ndel);
	if (!spis)
		return GDOI_ERR_NOMEM;
	for (size_t i = 0; i < ndel; i++) {
		gdoi_put_u32(spis + 4 * i, del[i]);
		d.spi[i] = spis + 4 * i;
	}
	gdoi_writer_init(&w);
	if ((rc = gike2_delete_build(&w, &d)) || (rc = body(&w, a, GIKE2_PL_DELETE, &pp)))
		return rc;
	return push(out, cap, n, pp);
}

int gike2_rekey_content_build(const struct gdoi_policy *p, const struct gike2_rekey_sa *cur,
			      const struct gike2_rekey_sa *next, const struct gdoi_key *signer,
			      const uint32_t *del, size_t ndel, struct gdoi_arena *a,
			      struct gike2_pl *out, size_t cap, size_t *n)
{
	/* the Group Key Bag only: AUTH_KEY is the registration's */
	return content_build(p, GDOI_BYTES(cur->gsk_w, cur->gsk_w_len), next, signer, false, del,
			     ndel, a, out, cap, n);
}

int gike2_inband_content_build(const struct gdoi_policy *p, gdoi_bytes gsk_w,
			       const struct gike2_rekey_sa *rekey, const struct gdoi_key *signer,
			       const uint32_t *del, size_t ndel, struct gdoi_arena *a,
			       struct gike2_pl *out, size_t cap, size_t *n)
{
	return content_build(p, gsk_w, rekey, signer, true, del, ndel, a, out, cap, n);
}

/* cur != NULL: a GSA_REKEY under cur (no Member Key Bag, a new Rekey SA keeps
 * cur's GCKS key); cur == NULL: a GSA_INBAND_REKEY (keys under the IKE SA's
 * kwk, a new Rekey SA as in a registration, its AUTH_KEY to *gcks_key). */
static int content_apply(const struct gike2_pl *pl, size_t n, gdoi_bytes kwk,
			 const struct gike2_rekey_sa *cur, struct gdoi_key **gcks_key,
			 struct gdoi_arena *a, struct gdoi_policy *p, struct gike2_rekey_sa *next,
			 bool *has_next, bool *excluded, char *why, size_t wl)
{
	struct gdoi_policy *np = gdoi_secret_calloc(sizeof(*np));
	struct gdoi_parse_error e;
	bool have_gsa = false, have_kd = false;
	struct gike2_gsa g;
	struct gike2_kd kd;
	char msg[160];
	int rc = 0;

	*has_next = false;
	*excluded = false;
	if (!np)
		return GDOI_ERR_NOMEM;
	*np = *p;	/* Sender-IDs, SSRC list and anything GSA_REKEY does not carry stay */
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct gdoi_reader r = gdoi_reader_init(pl[i].body.ptr, pl[i].body.len, 0);
		if (pl[i].type == GIKE2_PL_GSA || pl[i].type == GIKE2_PL_KD) {
			bool *have = pl[i].type == GIKE2_PL_GSA ? &have_gsa : &have_kd;
			if (*have) {
				rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE, "%s twice",
						 gike2_payload_name(pl[i].type));
				break;
			}
			*have = true;
			rc = pl[i].type == GIKE2_PL_GSA ? gike2_gsa_parse(&r, a, &g, &e)
							: gike2_kd_parse(&r, a, &kd, &e);
			if (rc) {
				gike2_parse_error_format(&e, msg, sizeof(msg));
				rc = gdoi_refuse(why, wl, rc, "%s", msg);
			}
		}
	}
	if (rc == 0 && have_gsa != have_kd)
		rc = gdoi_refuse(why, wl, GDOI_ERR_MISSING, "GSA without KD or KD without GSA");
	if (rc == 0 && have_gsa) {
		/* The new SAs join the ones held (same SPI: replaced); old ones go by
		 * Delete or lifetime, after the DTD (RFC 5374 §4.2.1). */
		struct gdoi_policy *in = gdoi_secret_calloc(sizeof(*in));
		if (!in)
			rc = GDOI_ERR_NOMEM;
		if (rc == 0)
			rc = gike2_policy_from_gsa(in, &g, why, wl);
		if (rc == 0)
			rc = gike2_policy_apply_kd(in, &kd, kwk, why, wl);
		for (size_t i = 0; rc == 0 && cur && i < kd.nbag; i++)
			if (kd.bag[i].protocol == GIKE2_PROTO_NONE)	/* member-specific: never */
				rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
						 "Member Key Bag in a GSA_REKEY");
		for (size_t i = 0; rc == 0 && i < in->nteks; i++) {
			size_t t = 0;
			while (t < np->nteks && np->teks[t].spi != in->teks[i].spi)
				t++;
			if (t == GDOI_MAX_TEKS)
				rc = gdoi_refuse(why, wl, GDOI_ERR_LIMIT, "more than %d SAs",
						 GDOI_MAX_TEKS);
			else {
				np->teks[t] = in->teks[i];
				if (t == np->nteks)
					np->nteks++;
			}
		}
		if (rc == 0 && g.has_gwp) {
			np->has_gap = in->has_gap;
			np->atd = in->atd;
			np->dtd = in->dtd;
			np->sid_bits = in->sid_bits;
		}
		gdoi_secret_free(in, sizeof(*in));
		for (size_t i = 0; rc == 0 && i < g.npol; i++) {
			if (g.pol[i].protocol != GIKE2_PROTO_GIKE_UPDATE)
				continue;
			struct gdoi_key *none = NULL;
			if (*has_next)
				rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two Rekey SAs");
			else if (!cur) {	/* inband: as in a registration */
				if ((rc = gike2_rekey_from_gsa_policy(next, &g.pol[i], why, wl)) == 0)
					rc = gike2_rekey_apply_kd(next, &kd, kwk, gcks_key, why, wl);
				*has_next = rc == 0;
			} else if ((rc = gike2_rekey_from_gsa_policy(next, &g.pol[i], why, wl)) == 0) {
				bool sig = next->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE;
				/* no AUTH_KEY here: apply as implicit, then keep cur's key/hash */
				next->gcauth = GIKE2_GCAUTH_IMPLICIT;
				rc = gike2_rekey_apply_kd(next, &kd, kwk, &none, why, wl);
				next->gcauth = sig ? GIKE2_GCAUTH_DIGITAL_SIGNATURE : GIKE2_GCAUTH_IMPLICIT;
				if (rc == 0 && sig != (cur->gcauth == GIKE2_GCAUTH_DIGITAL_SIGNATURE))
					rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
							 "authentication method changed in a rekey");
				if (rc == 0 && sig && (next->algid_len != cur->algid_len ||
						       memcmp(next->algid, cur->algid, cur->algid_len)))
					rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
							 "signature algorithm changed in a rekey");
				next->sig_md = cur->sig_md;
				*has_next = rc == 0;
			}
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (pl[i].type != GIKE2_PL_DELETE)
			continue;
		struct gdoi_reader r = gdoi_reader_init(pl[i].body.ptr, pl[i].body.len, 0);
		struct gike2_delete d;
		if ((rc = gike2_delete_parse(&r, &d, &e))) {
			gike2_parse_error_format(&e, msg, sizeof(msg));
			rc = gdoi_refuse(why, wl, rc, "%s", msg);
		} else if ((rc = gike2_policy_apply_delete(np, &d, excluded)) > 0) {
			rc = 0;
		}
	}
	if (rc == 0)
		*p = *np;
	else if (*has_next) {
		gike2_rekey_sa_clear(next);
		*has_next = false;
	}
	if (rc && gcks_key && *gcks_key) {
		gdoi_key_free(*gcks_key);
		*gcks_key = NULL;
	}
	gdoi_secret_free(np, sizeof(*np));
	return rc;
}

int gike2_rekey_content_apply(const struct gike2_pl *pl, size_t n, const struct gike2_rekey_sa *cur,
			      struct gdoi_arena *a, struct gdoi_policy *p,
			      struct gike2_rekey_sa *next, bool *has_next, bool *excluded,
			      char *why, size_t wl)
{
	return content_apply(pl, n, GDOI_BYTES(cur->gsk_w, cur->gsk_w_len), cur, NULL, a, p, next,
			     has_next, excluded, why, wl);
}

int gike2_inband_content_apply(const struct gike2_pl *pl, size_t n, gdoi_bytes gsk_w,
			       struct gdoi_arena *a, struct gdoi_policy *p,
			       struct gike2_rekey_sa *next, bool *has_next,
			       struct gdoi_key **gcks_key, bool *excluded, char *why, size_t wl)
{
	*gcks_key = NULL;
	return content_apply(pl, n, gsk_w, NULL, gcks_key, a, p, next, has_next, excluded, why, wl);
}
