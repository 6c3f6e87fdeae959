/*
 * gike2_policy.c - the group policy (policy.h) as G-IKEv2 GSA + KD payload
 * structures and back, so that G-IKEv2 and GDOI hand a media process the same
 * SRTP keys. The SRTP mapping is docs/srtp-gikev2.md: GSA policy Protocol
 * 0xF5, one SRTP_PROFILE transform (type 241) whose attributes carry the
 * flags, replay window, SSRC assignment and repeat-tx, GSA_KEY_LIFETIME, a
 * Group Key Bag whose SA_KEY wraps master key | master salt under the KWK,
 * GWP ATD / DTD / SENDER_ID_BITS and Member Key Bag GM_SENDER_IDs (SSRCs).
 */
#include "gike2_policy.h"

#include <string.h>

#include "numbers.h"

/* ---- selectors <-> traffic selectors ------------------------------------ */

static int sel_to_ts(const struct gdoi_selector *s, struct gike2_ts *ts)
{
	size_t al;

	memset(ts, 0, sizeof(*ts));
	switch (s->id_type) {
	case GDOI_ID_IPV4_ADDR: case GDOI_ID_IPV4_ADDR_SUBNET: al = 4; break;
	case GDOI_ID_IPV6_ADDR: case GDOI_ID_IPV6_ADDR_SUBNET: al = 16; break;
	default: return GDOI_ERR_UNSUPPORTED;
	}
	bool subnet = s->id_type == GDOI_ID_IPV4_ADDR_SUBNET || s->id_type == GDOI_ID_IPV6_ADDR_SUBNET;
	if (s->addr_len != (subnet ? 2 * al : al))
		return GDOI_ERR_VALUE;
	ts->type = al == 4 ? GIKE2_TS_IPV4_ADDR_RANGE : GIKE2_TS_IPV6_ADDR_RANGE;
	ts->addr_len = (uint8_t)al;
	ts->ip_proto = 17;	/* RTP over UDP */
	for (size_t i = 0; i < al; i++) {
		uint8_t m = subnet ? s->addr[al + i] : 0xff;
		ts->start[i] = s->addr[i] & m;
		ts->end[i] = (uint8_t)(s->addr[i] | (uint8_t)~m);
	}
	ts->start_port = s->port;
	ts->end_port = s->port ? s->port : 0xffff;
	return 0;
}

/* An address range back as an address or a prefix; anything else is refused. */
static int ts_to_sel(const struct gike2_ts *ts, struct gdoi_selector *s)
{
	size_t al = ts->addr_len;
	uint8_t mask[16];
	bool single = memcmp(ts->start, ts->end, al) == 0, in_prefix = true;

	memset(s, 0, sizeof(*s));
	if (ts->ip_proto != 17 && ts->ip_proto != 0)
		return GDOI_ERR_VALUE;
	if (ts->start_port == 0 && ts->end_port == 0xffff)
		s->port = 0;
	else if (ts->start_port == ts->end_port && ts->start_port != 0)
		s->port = ts->start_port;
	else
		return GDOI_ERR_VALUE;	/* port ranges have no selector form */
	for (size_t i = 0; i < al; i++) {
		uint8_t diff = ts->start[i] ^ ts->end[i];
		mask[i] = (uint8_t)~diff;
		/* a prefix: the differing bits are a suffix run, start has 0s there, end 1s */
		if ((ts->start[i] & diff) || ((ts->end[i] & diff) != diff) ||
		    (uint8_t)(diff & (uint8_t)(diff + 1)) != 0 || (!in_prefix && mask[i] != 0))
			return GDOI_ERR_VALUE;
		if (mask[i] != 0xff)
			in_prefix = false;
	}
	s->addr_len = (uint8_t)(single ? al : 2 * al);
	memcpy(s->addr, ts->start, al);
	if (!single)
		memcpy(s->addr + al, mask, al);
	s->id_type = al == 4 ? (single ? GDOI_ID_IPV4_ADDR : GDOI_ID_IPV4_ADDR_SUBNET)
			     : (single ? GDOI_ID_IPV6_ADDR : GDOI_ID_IPV6_ADDR_SUBNET);
	return 0;
}

/* ---- small arena builders ------------------------------------------------ */

static uint8_t *u32be(struct gdoi_arena *a, uint32_t v)
{
	uint8_t *p = gdoi_arena_alloc(a, 4);
	if (p)
		gdoi_put_u32(p, v);
	return p;
}

static struct gdoi_attr tv(uint16_t type, uint16_t v)
{
	return (struct gdoi_attr){ type, true, v, GDOI_BYTES_NONE };
}

/* ---- policy -> GSA ------------------------------------------------------- */

int gike2_policy_to_gsa(const struct gdoi_policy *p, struct gdoi_arena *a, struct gike2_gsa *g)
{
	memset(g, 0, sizeof(*g));
	if (p->nteks == 0)
		return GDOI_ERR_MISSING;
	g->pol = gdoi_arena_calloc(a, p->nteks, sizeof(*g->pol));
	if (!g->pol)
		return GDOI_ERR_NOMEM;
	for (size_t i = 0; i < p->nteks; i++) {
		const struct gdoi_tek *t = &p->teks[i];
		const struct gdoi_tek_srtp_policy *s = &t->u.srtp;
		struct gike2_gsa_policy *o = &g->pol[i];
		int rc;

		if (t->kind != GDOI_TEK_SRTP)
			return GDOI_ERR_UNSUPPORTED;	/* ESP/AH: not mapped yet */
		if (t->spi == 0 || s->lifetime == 0)
			return GDOI_ERR_VALUE;
		o->protocol = GIKE2_PROTO_SRTP;
		uint8_t *spi = u32be(a, t->spi), *life = u32be(a, s->lifetime);
		struct gdoi_attr *xa = gdoi_arena_calloc(a, 4, sizeof(*xa));
		struct gdoi_attr *ga = gdoi_arena_calloc(a, 1, sizeof(*ga));
		o->xf = gdoi_arena_calloc(a, 1, sizeof(*o->xf));
		if (!spi || !life || !xa || !ga || !o->xf)
			return GDOI_ERR_NOMEM;
		o->spi = GDOI_BYTES(spi, 4);
		if ((rc = sel_to_ts(&t->src, &o->src)) || (rc = sel_to_ts(&t->dst, &o->dst)))
			return rc;
		size_t nx = 0;
		xa[nx++] = tv(GIKE2_SRTP_XATTR_FLAGS, s->flags);
		if (s->replay_window && s->replay_window != 128)
			xa[nx++] = tv(GIKE2_SRTP_XATTR_REPLAY_WINDOW, s->replay_window);
		if (!s->ssrc_assigned)
			xa[nx++] = tv(GIKE2_SRTP_XATTR_SSRC_ASSIGNED, 0);
		if (s->allow_repeat_tx)
			xa[nx++] = tv(GIKE2_SRTP_XATTR_ALLOW_REPEAT_TX, 1);
		o->xf[0] = (struct gike2_transform){ GIKE2_XF_SRTP_PROFILE, s->profile, { xa, nx } };
		o->nxf = 1;
		ga[0] = (struct gdoi_attr){ GIKE2_GSA_KEY_LIFETIME, false, 0, GDOI_BYTES(life, 4) };
		o->attrs = (struct gdoi_attr_list){ ga, 1 };
	}
	g->npol = p->nteks;
	if (p->has_gap || p->sid_bits) {
		struct gdoi_attr *w = gdoi_arena_calloc(a, 3, sizeof(*w));
		size_t n = 0;
		if (!w)
			return GDOI_ERR_NOMEM;
		if (p->has_gap) {
			w[n++] = tv(GIKE2_GWP_ATD, p->atd);
			w[n++] = tv(GIKE2_GWP_DTD, p->dtd);
		}
		if (p->sid_bits)
			w[n++] = tv(GIKE2_GWP_SENDER_ID_BITS, p->sid_bits);
		g->has_gwp = true;
		g->gwp = (struct gdoi_attr_list){ w, n };
		g->gwp_pos = g->npol;	/* after the policies */
	}
	return 0;
}

/* ---- policy -> KD -------------------------------------------------------- */

int gike2_policy_to_kd(const struct gdoi_policy *p, gdoi_bytes kwk, const uint32_t *sids,
		       size_t nsids, struct gdoi_arena *a, struct gike2_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	kd->bag = gdoi_arena_calloc(a, p->nteks + 1, sizeof(*kd->bag));
	if (!kd->bag)
		return GDOI_ERR_NOMEM;
	for (size_t i = 0; i < p->nteks; i++) {
		const struct gdoi_tek *t = &p->teks[i];
		size_t kl, il;
		int rc;

		if (t->kind != GDOI_TEK_SRTP)
			return GDOI_ERR_UNSUPPORTED;
		if (!t->have_keys || gdoi_tek_key_lengths(t, &kl, &il) || t->key_len != kl)
			return GDOI_ERR_MISSING;
		size_t wl = gike2_kwp_wrapped_len(kl);
		uint8_t *spi = u32be(a, t->spi), *v = gdoi_arena_alloc(a, 8 + wl);
		struct gdoi_attr *at = gdoi_arena_calloc(a, 1, sizeof(*at));
		size_t got = 0;
		if (!spi || !v || !at)
			return GDOI_ERR_NOMEM;
		gdoi_put_u32(v, GIKE2_KEY_ID_SA);
		gdoi_put_u32(v + 4, GIKE2_KWK_ID_DEFAULT);
		if ((rc = gike2_kwp_wrap(kwk, GDOI_BYTES(t->key, kl), v + 8, wl, &got)))
			return rc;
		at[0] = (struct gdoi_attr){ GIKE2_GKB_SA_KEY, false, 0, GDOI_BYTES(v, 8 + got) };
		kd->bag[kd->nbag++] = (struct gike2_key_bag){ GIKE2_PROTO_SRTP, GDOI_BYTES(spi, 4),
							      { at, 1 } };
	}
	if (nsids) {
		struct gdoi_attr *at = gdoi_arena_calloc(a, nsids, sizeof(*at));
		if (!at)
			return GDOI_ERR_NOMEM;
		for (size_t i = 0; i < nsids; i++) {
			uint8_t *v = u32be(a, sids[i]);
			if (!v)
				return GDOI_ERR_NOMEM;
			at[i] = (struct gdoi_attr){ GIKE2_MKB_GM_SENDER_ID, false, 0, GDOI_BYTES(v, 4) };
		}
		kd->bag[kd->nbag++] = (struct gike2_key_bag){ GIKE2_PROTO_NONE, GDOI_BYTES_NONE,
							      { at, nsids } };
	}
	return kd->nbag ? 0 : GDOI_ERR_MISSING;
}

/* ---- GSA -> policy ------------------------------------------------------- */

static int srtp_from_policy(const struct gike2_gsa_policy *o, struct gdoi_tek *t, char *why,
			    size_t wl)
{
	struct gdoi_tek_srtp_policy *s = &t->u.srtp;
	size_t k, sl;

	memset(t, 0, sizeof(*t));
	t->kind = GDOI_TEK_SRTP;
	t->spi = gdoi_get_u32(o->spi.ptr);
	if (t->spi == 0)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP SA SPI 0");
	if (ts_to_sel(&o->src, &t->src) || ts_to_sel(&o->dst, &t->dst))
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP SA %08x: traffic selector", t->spi);
	if (o->nxf != 1 || o->xf[0].type != GIKE2_XF_SRTP_PROFILE)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP SA %08x: transforms", t->spi);
	s->profile = o->xf[0].id;
	if (!gdoi_srtp_key_lengths(s->profile, &k, &sl))
		return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "SRTP profile %u", s->profile);
	s->replay_window = 128;
	s->ssrc_assigned = true;
	bool have_flags = false;
	for (size_t i = 0; i < o->xf[0].attrs.n; i++) {
		const struct gdoi_attr *x = &o->xf[0].attrs.v[i];
		for (size_t j = 0; j < i; j++)
			if (o->xf[0].attrs.v[j].type == x->type)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP attribute %u twice",
						   x->type);
		if (!x->tv)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP attribute %u form", x->type);
		switch (x->type) {
		case GIKE2_SRTP_XATTR_FLAGS:
			if (x->basic & ~(GDOI_SRTP_FLAG_SRTCP | GDOI_SRTP_FLAG_MKI))
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP flags %#x", x->basic);
			s->flags = (uint8_t)x->basic;
			have_flags = true;
			break;
		case GIKE2_SRTP_XATTR_REPLAY_WINDOW:
			if (x->basic < 64 || x->basic > 32767)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "replay window %u", x->basic);
			s->replay_window = x->basic;
			break;
		case GIKE2_SRTP_XATTR_SSRC_ASSIGNED:
		case GIKE2_SRTP_XATTR_ALLOW_REPEAT_TX:
			if (x->basic > 1)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP attribute %u value",
						   x->type);
			if (x->type == GIKE2_SRTP_XATTR_SSRC_ASSIGNED)
				s->ssrc_assigned = x->basic;
			else
				s->allow_repeat_tx = x->basic;
			break;
		default:
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SRTP attribute %u", x->type);
		}
	}
	if (!have_flags)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "SRTP_FLAGS");
	const struct gdoi_attr *life = gdoi_attr_find(&o->attrs, GIKE2_GSA_KEY_LIFETIME);
	if (!life || (s->lifetime = gdoi_get_u32(life->value.ptr)) == 0)
		return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "GSA_KEY_LIFETIME");
	for (size_t i = 0; i < o->attrs.n; i++)
		if (o->attrs.v[i].type != GIKE2_GSA_KEY_LIFETIME)
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "GSA attribute %u on SRTP SA",
					   o->attrs.v[i].type);
	return 0;
}

int gike2_policy_from_gsa(struct gdoi_policy *p, const struct gike2_gsa *g, char *why, size_t wl)
{
	int rc;

	p->nteks = 0;
	for (size_t i = 0; i < g->npol; i++) {
		const struct gike2_gsa_policy *o = &g->pol[i];
		if (o->protocol == GIKE2_PROTO_GIKE_UPDATE)
			continue;	/* the Rekey SA: gike2_rekey_from_gsa_policy */
		if (o->protocol != GIKE2_PROTO_SRTP)
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "GSA policy protocol %u",
					   o->protocol);
		if (p->nteks == GDOI_MAX_TEKS)
			return gdoi_refuse(why, wl, GDOI_ERR_LIMIT, "more than %d SAs", GDOI_MAX_TEKS);
		if ((rc = srtp_from_policy(o, &p->teks[p->nteks], why, wl)))
			return rc;
		for (size_t j = 0; j < p->nteks; j++)
			if (p->teks[j].spi == p->teks[p->nteks].spi)
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "SPI %08x twice",
						   p->teks[j].spi);
		p->nteks++;
	}
	p->has_gap = false;
	p->sid_bits = 0;
	if (g->has_gwp) {
		for (size_t i = 0; i < g->gwp.n; i++) {
			const struct gdoi_attr *x = &g->gwp.v[i];
			switch (x->type) {
			case GIKE2_GWP_ATD: p->atd = x->basic; p->has_gap = true; break;
			case GIKE2_GWP_DTD: p->dtd = x->basic; p->has_gap = true; break;
			case GIKE2_GWP_SENDER_ID_BITS:
				if (x->basic == 0 || x->basic > 32)
					return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "Sender-ID bits %u",
							   x->basic);
				p->sid_bits = (uint8_t)x->basic;
				break;
			default:
				return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "GWP attribute %u", x->type);
			}
		}
	}
	return 0;
}

/* ---- KD -> policy keys --------------------------------------------------- */

int gike2_policy_apply_kd(struct gdoi_policy *p, const struct gike2_kd *kd, gdoi_bytes kwk,
			  char *why, size_t wl)
{
	bool got[GDOI_MAX_TEKS] = { false };
	int rc;

	p->nsids = 0;
	for (size_t i = 0; i < kd->nbag; i++) {
		const struct gike2_key_bag *b = &kd->bag[i];
		if (b->protocol == GIKE2_PROTO_NONE) {
			for (size_t j = 0; j < b->attrs.n; j++) {
				const struct gdoi_attr *x = &b->attrs.v[j];
				if (x->type == GIKE2_MKB_AUTH_KEY)
					continue;	/* the Rekey SA's: gike2_rekey_apply_kd */
				if (x->type != GIKE2_MKB_GM_SENDER_ID)
					return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED,
							   "Member Key Bag attribute %u", x->type);
				if (p->nsids == GDOI_MAX_SIDS)
					return gdoi_refuse(why, wl, GDOI_ERR_LIMIT, "Sender-IDs");
				p->sids[p->nsids++] = gdoi_get_u32(x->value.ptr);
			}
			continue;
		}
		if (b->protocol == GIKE2_PROTO_GIKE_UPDATE)
			continue;
		if (b->protocol != GIKE2_PROTO_SRTP || b->spi.len != 4)
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "key bag protocol %u",
					   b->protocol);
		uint32_t spi = gdoi_get_u32(b->spi.ptr);
		size_t ti = 0;
		while (ti < p->nteks && p->teks[ti].spi != spi)
			ti++;
		if (ti == p->nteks)
			return gdoi_refuse(why, wl, GDOI_ERR_NOT_FOUND, "keys for SPI %08x not in GSA", spi);
		if (got[ti])
			return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "two key bags for SPI %08x", spi);
		struct gdoi_tek *t = &p->teks[ti];
		const struct gdoi_attr *x = gdoi_attr_find(&b->attrs, GIKE2_GKB_SA_KEY);
		struct gike2_wrapped_key wk;
		size_t kl, il, n = 0;
		if (!x || gike2_wrapped_key_parse(x->value, 0, &wk, NULL))
			return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "SA_KEY for SPI %08x", spi);
		if (wk.kwk_id != GIKE2_KWK_ID_DEFAULT)
			return gdoi_refuse(why, wl, GDOI_ERR_UNSUPPORTED, "KWK ID %u", wk.kwk_id);
		if ((rc = gdoi_tek_key_lengths(t, &kl, &il)))
			return gdoi_refuse(why, wl, rc, "SPI %08x: key length", spi);
		uint8_t key[GDOI_MAX_TEK_KEY + 16];
		rc = gike2_kwp_unwrap(kwk, wk.wrapped, key, sizeof(key), &n);
		if (rc == 0 && n != kl)
			rc = GDOI_ERR_LENGTH;
		if (rc == 0) {
			memcpy(t->key, key, kl);
			t->key_len = kl;
			t->integrity_len = 0;
			t->have_keys = true;
			got[ti] = true;
		}
		gdoi_wipe(key, sizeof(key));
		if (rc)
			return gdoi_refuse(why, wl, rc, "SA_KEY for SPI %08x does not unwrap", spi);
	}
	for (size_t i = 0; i < p->nteks; i++)
		if (!got[i])
			return gdoi_refuse(why, wl, GDOI_ERR_MISSING, "no keys for SPI %08x",
					   p->teks[i].spi);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int gike2_policy_apply_delete(struct gdoi_policy *p, const struct gike2_delete *d, bool *excluded)
{
	int removed = 0;

	if (d->protocol == GIKE2_PROTO_GIKE_UPDATE) {
		for (size_t i = 0; i < d->nspi; i++)
			if (all_zero(d->spi[i], d->spi_size))
				*excluded = true;
		return 0;	/* a Rekey SA by SPI: the holder of the gike2_rekey_sa drops it */
	}
	if (d->protocol != GIKE2_PROTO_SRTP)
		return GDOI_ERR_UNSUPPORTED;
	for (size_t i = 0; i < d->nspi; i++) {
		bool all = all_zero(d->spi[i], 4);
		uint32_t spi = gdoi_get_u32(d->spi[i]);
		for (size_t t = 0; t < p->nteks;) {
			if (all || p->teks[t].spi == spi) {
				gdoi_wipe(&p->teks[t], sizeof(p->teks[t]));
				memmove(&p->teks[t], &p->teks[t + 1], (p->nteks - t - 1) * sizeof(p->teks[0]));
				p->nteks--;
				gdoi_wipe(&p->teks[p->nteks], sizeof(p->teks[0]));
				removed++;
			} else {
				t++;
			}
		}
	}
	return removed;
}
