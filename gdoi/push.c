/* push.c - GROUPKEY-PUSH build (key server) and open/apply (member); see push.h. */
#include "push.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg_crypt.h"
#include "numbers.h"
#include "sign.h"
#include "wire.h"

#define MAX_PAYLOADS (GDOI_PUSH_MAX_DELETES + 4)

/* One Delete payload per protocol (RFC 6407 §5.9); SPI 0 stands for all. */
static int add_deletes(const struct gdoi_push_params *p, struct gdoi_arena *a,
		       struct gdoi_payload *pl, size_t *n)
{
	bool done[256] = { false };
	for (size_t i = 0; i < p->ndeletes; i++) {
		uint8_t proto = p->deletes[i].proto;
		if (done[proto])
			continue;
		done[proto] = true;
		size_t spi_size = proto == 0 ? GDOI_KEK_SPI_LEN : 4, count = 0;
		bool all = false;
		for (size_t j = i; j < p->ndeletes; j++)
			if (p->deletes[j].proto == proto) {
				count++;
				all |= p->deletes[j].all || proto == 0;
			}
		if (all)
			count = 1;
		uint8_t *spis = gdoi_arena_calloc(a, count, spi_size);
		if (!spis)
			return GDOI_ERR_NOMEM;
		if (proto == 0 && !p->deletes[i].all)
			memcpy(spis, p->kek->spi, GDOI_KEK_SPI_LEN);
		for (size_t j = i, k = 0; !all && j < p->ndeletes; j++)
			if (p->deletes[j].proto == proto)
				gdoi_put_u32(spis + 4 * k++, p->deletes[j].spi);
		pl[(*n)++] = (struct gdoi_payload){ .type = GDOI_PL_DELETE, .u.del = {
			.doi = GDOI_DOI_GDOI, .proto = proto, .spi_size = (uint8_t)spi_size,
			.nspis = (uint16_t)count, .spis = GDOI_BYTES(spis, count * spi_size) } };
	}
	return 0;
}

int gdoi_push_build(const struct gdoi_push_params *p, uint8_t **out, size_t *len)
{
	*out = NULL;
	enum gdoi_cipher c = gdoi_kek_cipher(p->kek);
	if (c == GDOI_CIPHER_NONE || !p->kek->have_keys || !p->sign_key ||
	    p->ndeletes > GDOI_PUSH_MAX_DELETES || (!p->update && !p->ndeletes) || p->seq == 0)
		return GDOI_ERR_INVALID_ARG;
	size_t sig_len = gdoi_key_sig_len(p->sign_key);
	struct gdoi_arena *a = gdoi_arena_new();
	uint8_t *sig = a ? gdoi_arena_alloc(a, sig_len) : NULL;
	struct gdoi_payload pl[MAX_PAYLOADS];
	size_t n = 0, offs[MAX_PAYLOADS + 1];
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	int rc = sig ? 0 : GDOI_ERR_NOMEM;
	pl[n++] = (struct gdoi_payload){ .type = GDOI_PL_SEQ, .u.seq = p->seq };
	if (!rc)
		rc = add_deletes(p, a, pl, &n);
	if (!rc && p->update) {
		rc = gdoi_policy_to_sa(p->update, p->with_kek, a, &pl[n++]);
		if (!rc)
			rc = gdoi_policy_to_kd(p->update, p->with_kek, NULL, 0, a, &pl[n++]);
		/* gdoi_policy_to_kd puts the KEK packet first */
		if (!rc && p->ref_form && p->with_kek && p->update->has_kek)
			pl[n - 1].u.kd.pkts[0].spi = GDOI_BYTES(p->kek->spi, GDOI_KEK_SPI_LEN);
	}
	if (!rc) {
		pl[n++] = (struct gdoi_payload){ .type = GDOI_PL_SIG, .u.data = GDOI_BYTES(sig, sig_len) };
		struct gdoi_hdr h = { .version = GDOI_ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH,
				      .flags = GDOI_FLAG_ENC };
		memcpy(h.icookie, p->kek->spi, 8);
		memcpy(h.rcookie, p->kek->spi + 8, 8);
		rc = gdoi_msg_build(&w, &h, pl, n, offs);
	}
	if (!rc) {
		/* Signed: "rekey" | header (Length unpadded, SIG included) | payloads before SIG. */
		gdoi_bytes part = GDOI_BYTES(w.buf, offs[n - 1]);
		size_t got;
		rc = gdoi_rekey_sign_flags(p->sign_key, p->kek->sig_alg,
					   gdoi_md_from_sig_hash(p->kek->sig_hash), &part, 1,
					   p->ref_form ? GDOI_REKEY_RAW_RSA : 0,
					   w.buf + offs[n - 1] + GDOI_GENERIC_HDR_LEN, sig_len, &got);
		if (!rc && got != sig_len)
			rc = GDOI_ERR_CRYPTO;
	}
	if (!rc)
		rc = gdoi_msg_seal(c, GDOI_BYTES(p->kek->key, gdoi_cipher_key_len(c)),
				   GDOI_BYTES(p->kek->iv, gdoi_cipher_block_len(c)), &w, 0, NULL);
	if (!rc) {
		*out = gdoi_writer_take(&w, len);
		rc = *out ? 0 : GDOI_ERR_NOMEM;
	}
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	return rc;
}

static uint8_t tek_proto(enum gdoi_tek_kind k)
{
	switch (k) {
	case GDOI_TEK_SRTP: return GDOI_TEK_PROTO_SRTP;
	case GDOI_TEK_ESP: return GDOI_TEK_PROTO_ESP;
	case GDOI_TEK_AH: return GDOI_TEK_PROTO_AH;
	case GDOI_TEK_REF_SRTP: return GDOI_TEK_PROTO_REF_SRTP;
	}
	return 0;
}

static int collect_delete(struct gdoi_push_update *u, const struct gdoi_delete *d, char *why,
			  size_t wl)
{
	size_t want = d->proto == 0 ? GDOI_KEK_SPI_LEN : 4;
	if (d->doi != GDOI_DOI_GDOI || d->spi_size != want)
		return gdoi_refuse(why, wl, GDOI_ERR_VALUE,
				   "Delete with DOI %u, protocol %u, SPI size %u", d->doi, d->proto,
				   d->spi_size);
	for (size_t i = 0; i < d->nspis; i++) {
		const uint8_t *s = d->spis.ptr + i * want;
		static const uint8_t zero[GDOI_KEK_SPI_LEN];
		if (u->ndeletes == GDOI_PUSH_MAX_DELETES)
			return gdoi_refuse(why, wl, GDOI_ERR_TOO_BIG, "more than %d deletions",
					   GDOI_PUSH_MAX_DELETES);
		struct gdoi_push_delete *x = &u->deletes[u->ndeletes++];
		x->proto = d->proto;
		x->all = memcmp(s, zero, want) == 0;
		x->spi = d->proto ? gdoi_get_u32(s) : 0;
	}
	return 0;
}

static bool names(const uint8_t *msg, size_t len, const uint8_t *spi)
{
	return len >= GDOI_HDR_LEN && memcmp(msg, spi, GDOI_KEK_SPI_LEN) == 0;
}

bool gdoi_push_names_kek(const struct gdoi_policy *cur, const uint8_t *msg, size_t len)
{
	return (cur->has_kek && names(msg, len, cur->kek.spi)) ||
	       (cur->has_prev_kek && names(msg, len, cur->prev_kek.spi));
}

int gdoi_push_open(const struct gdoi_policy *cur, const struct gdoi_key *rekey_key,
		   const uint8_t *msg, size_t len, struct gdoi_push_update *u, char *why, size_t wl)
{
	memset(u, 0, sizeof(*u));
	bool under_prev = false;
	enum gdoi_cipher c;
	const uint8_t *key, *iv;
	if (cur->has_kek && cur->kek.have_keys && names(msg, len, cur->kek.spi)) {
		c = gdoi_kek_cipher(&cur->kek);
		key = cur->kek.key;
		iv = cur->kek.iv;
	} else if (cur->has_prev_kek && names(msg, len, cur->prev_kek.spi)) {
		under_prev = true;
		c = gdoi_cipher_from_kek(cur->prev_kek.alg, cur->prev_kek.key_bits);
		key = cur->prev_kek.key;
		iv = cur->prev_kek.iv;
	} else {
		return gdoi_refuse(why, wl, GDOI_ERR_NOT_FOUND,
				   "cookies name no KEK of this group");
	}
	struct gdoi_hdr h;
	struct gdoi_parse_error perr;
	int rc = gdoi_hdr_parse(msg, len, &h, &perr);
	if (rc || h.exchange != GDOI_EXCH_PUSH || h.flags != GDOI_FLAG_ENC || h.msgid != 0)
		return gdoi_refuse(why, wl, rc ? rc : GDOI_ERR_VALUE,
				   "not a GROUPKEY-PUSH header (exchange %u, flags %#x, M-ID %u)",
				   h.exchange, h.flags, h.msgid);
	uint8_t *plain = NULL;
	struct gdoi_msg *m = NULL;
	struct gdoi_key *own_key = NULL;
	rc = gdoi_msg_open(c, GDOI_BYTES(key, gdoi_cipher_key_len(c)),
			   GDOI_BYTES(iv, gdoi_cipher_block_len(c)), msg, len, &plain, NULL);
	if (rc)
		return gdoi_refuse(why, wl, rc,
				   "GROUPKEY-PUSH is not a whole number of cipher blocks");
	rc = gdoi_msg_parse_decrypted(plain, len, &m, &perr);
	if (rc) {
		char e[160];
		gdoi_parse_error_format(&perr, e, sizeof(e));
		gdoi_refuse(why, wl, rc, "GROUPKEY-PUSH does not decrypt to a valid message: %s",
			    e);
		goto out;
	}
	if (m->npl < 2 || m->pl[0].type != GDOI_PL_SEQ || m->pl[m->npl - 1].type != GDOI_PL_SIG) {
		rc = gdoi_refuse(why, wl, GDOI_ERR_MISSING, "GROUPKEY-PUSH must be SEQ ... SIG");
		goto out;
	}
	const struct gdoi_payload *sig = &m->pl[m->npl - 1];
	u->seq = m->pl[0].u.seq;
	if (under_prev) {
		/* Never applied: that KEK was replaced at prev_kek.seq. */
		rc = u->seq <= cur->prev_kek.seq ?
		     gdoi_refuse(why, wl, GDOI_ERR_REPLAY, "SEQ %u not greater than %u: replay "
				 "under the replaced KEK", u->seq, cur->prev_kek.seq) :
		     gdoi_refuse(why, wl, GDOI_ERR_NOT_FOUND,
				 "SEQ %u under the KEK replaced at SEQ %u", u->seq, cur->prev_kek.seq);
		goto out;
	}
	if (cur->has_seq && u->seq <= cur->seq) {
		rc = gdoi_refuse(why, wl, GDOI_ERR_REPLAY,
				 "SEQ %u not greater than %u: replay or stale", u->seq, cur->seq);
		goto out;
	}
	if (!rekey_key) {
		rc = gdoi_key_from_spki(GDOI_BYTES(cur->kek.rekey_pub, cur->kek.rekey_pub_len), &own_key);
		if (rc) {
			gdoi_refuse(why, wl, rc, "no usable rekey public key for this group");
			goto out;
		}
		rekey_key = own_key;
	}
	uint8_t hdr[GDOI_HDR_LEN];
	memcpy(hdr, msg, GDOI_HDR_LEN);
	gdoi_put_u32(hdr + 24, (uint32_t)(sig->offset + sig->raw.len));
	gdoi_bytes parts[] = { GDOI_BYTES(hdr, GDOI_HDR_LEN),
			       GDOI_BYTES(plain + GDOI_HDR_LEN, sig->offset - GDOI_HDR_LEN) };
	rc = gdoi_rekey_verify(rekey_key, cur->kek.sig_alg, gdoi_md_from_sig_hash(cur->kek.sig_hash),
			       parts, 2, sig->u.data, GDOI_REKEY_ACCEPT_RAW_RSA);
	if (rc) {
		gdoi_refuse(why, wl, GDOI_ERR_AUTH, "GROUPKEY-PUSH signature does not verify");
		rc = GDOI_ERR_AUTH;
		goto out;
	}
	/* Authentic and fresh: now read what it asks for. */
	const struct gdoi_payload *sa = NULL, *kd = NULL;
	for (size_t i = 1; i + 1 < m->npl && !rc; i++) {
		const struct gdoi_payload *p = &m->pl[i];
		if (p->type == GDOI_PL_DELETE && !sa)
			rc = collect_delete(u, &p->u.del, why, wl);
		else if (p->type == GDOI_PL_SA && !sa && !kd)
			sa = p;
		else if (p->type == GDOI_PL_KD && sa && !kd)
			kd = p;
		else
			rc = gdoi_refuse(why, wl, GDOI_ERR_PAYLOAD_TYPE,
					 "%s payload out of place in a push",
					 gdoi_payload_name(p->type));
	}
	if (!rc && !!sa != !!kd)
		rc = gdoi_refuse(why, wl, GDOI_ERR_MISSING,
				 "push with SA but no KD, or KD but no SA");
	if (!rc && sa) {
		u->has_sa = true;
		rc = gdoi_policy_from_sa(&u->fresh, &sa->u.sa, why, wl);
		if (!rc)
			rc = gdoi_policy_apply_push_kd(&u->fresh, &kd->u.kd, cur->kek.spi,
						       &u->kek_renamed, why, wl);
		if (!rc && u->fresh.nsids)
			rc = gdoi_refuse(why, wl, GDOI_ERR_VALUE,
					 "Sender-IDs in a push (RFC 6407 §5.6.4)");
		if (!rc && !u->fresh.has_kek && !u->fresh.nteks)
			rc = gdoi_refuse(why, wl, GDOI_ERR_MISSING, "push SA without KEK or TEK");
	}
out:
	if (rc) {
		uint32_t seq = u->seq;
		gdoi_push_update_clear(u);
		if (rc == GDOI_ERR_REPLAY)
			u->seq = seq;	/* what a duplicate's acknowledgement names */
	}
	gdoi_key_free(own_key);
	gdoi_msg_free(m);
	gdoi_msg_plain_free(plain, len);
	return rc;
}

static void remove_tek(struct gdoi_policy *cur, size_t i)
{
	gdoi_wipe(&cur->teks[i], sizeof(cur->teks[i]));
	memmove(&cur->teks[i], &cur->teks[i + 1], (cur->nteks - i - 1) * sizeof(cur->teks[0]));
	cur->nteks--;
	gdoi_wipe(&cur->teks[cur->nteks], sizeof(cur->teks[0]));
}

int gdoi_push_apply(struct gdoi_policy *cur, const struct gdoi_push_update *u)
{
	const struct gdoi_policy *f = &u->fresh;
	size_t keep = 0;
	/* Count what would remain, so that a failure changes nothing. */
	for (size_t i = 0; i < f->nteks; i++)
		if (!gdoi_policy_find_tek(cur, f->teks[i].spi))
			keep++;
	if (cur->nteks + keep > GDOI_MAX_TEKS) {
		size_t deleted = 0;
		for (size_t i = 0; i < cur->nteks; i++)
			for (size_t d = 0; d < u->ndeletes; d++)
				if (u->deletes[d].proto == tek_proto(cur->teks[i].kind) &&
				    (u->deletes[d].all || u->deletes[d].spi == cur->teks[i].spi)) {
					deleted++;
					break;
				}
		if (cur->nteks - deleted + keep > GDOI_MAX_TEKS)
			return GDOI_ERR_TOO_BIG;
	}
	for (size_t d = 0; d < u->ndeletes; d++) {
		const struct gdoi_push_delete *x = &u->deletes[d];
		if (x->proto == 0) {
			cur->has_kek = false;	/* no more rekeys: the member must register again */
			gdoi_wipe(&cur->kek, sizeof(cur->kek));
			continue;
		}
		for (size_t i = cur->nteks; i-- > 0;)
			if (tek_proto(cur->teks[i].kind) == x->proto && (x->all || cur->teks[i].spi == x->spi))
				remove_tek(cur, i);
	}
	cur->seq = u->seq;
	cur->has_seq = true;
	if (f->has_kek) {
		bool new_spi = !cur->has_kek || memcmp(cur->kek.spi, f->kek.spi, GDOI_KEK_SPI_LEN);
		if (cur->has_kek && new_spi) {
			struct gdoi_kek_prev *pk = &cur->prev_kek;
			memcpy(pk->spi, cur->kek.spi, GDOI_KEK_SPI_LEN);
			pk->alg = cur->kek.alg;
			pk->key_bits = cur->kek.key_bits;
			memcpy(pk->iv, cur->kek.iv, sizeof(pk->iv));
			memcpy(pk->key, cur->kek.key, sizeof(pk->key));
			pk->seq = u->seq;
			cur->has_prev_kek = true;
		}
		size_t pub_len = cur->kek.rekey_pub_len;
		uint8_t pub[GDOI_MAX_REKEY_PUB];
		memcpy(pub, cur->kek.rekey_pub, pub_len);
		cur->kek = f->kek;
		if (!f->kek.rekey_pub_len) {	/* the rekey key stays unless replaced */
			memcpy(cur->kek.rekey_pub, pub, pub_len);
			cur->kek.rekey_pub_len = pub_len;
		}
		cur->has_kek = true;
		if (new_spi && !u->kek_renamed)
			cur->seq = 0;	/* a new KEK starts its own sequence (RFC 6407 §5.7) */
	}
	if (f->has_gap) {
		cur->has_gap = true;
		cur->atd = f->atd;
		cur->dtd = f->dtd;
	}
	if (f->has_senders) {	/* the whole list, replacing the one held */
		cur->has_senders = true;
		cur->nsenders = f->nsenders;
		memcpy(cur->senders, f->senders, f->nsenders * sizeof(f->senders[0]));
	}
	for (size_t i = 0; i < f->nteks; i++) {
		size_t j = 0;
		while (j < cur->nteks && cur->teks[j].spi != f->teks[i].spi)
			j++;
		cur->teks[j] = f->teks[i];
		if (j == cur->nteks)
			cur->nteks++;
	}
	return 0;
}

void gdoi_push_update_clear(struct gdoi_push_update *u)
{
	gdoi_wipe(u, sizeof(*u));
}
