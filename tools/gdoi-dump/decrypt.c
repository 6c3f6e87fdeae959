/*
 * decrypt.c - keys and IVs for decrypting a captured GDOI session, learnt the
 * way Wireshark's ISAKMP dissector learns them:
 *
 *   Phase 1 (Main Mode): key from --ike-key, cipher and hash from the MM2 SA's
 *   chosen transform, g^xi / g^xr from the MM3 / MM4 KE payloads;
 *   MM5 IV = hash(g^xi | g^xr), later messages chain on the last ciphertext
 *   block (RFC 2409 App. B).
 *   Phase 2 / Informational: IV = hash(last Phase 1 block | M-ID), then chained
 *   per (cookie pair, M-ID) in either direction.
 *   The IVs and the decryption are the core's (gdoi/ike_keys.h, msg_crypt.h):
 *   this file only keeps the chains a passive observer has to follow.
 *   GROUPKEY-PUSH: the KEK (--kek, or learnt from a decrypted KD), the IV
 *   delivered with it for every push (what the reference implementation does);
 *   its KEK rotation files the key under the new SA KEK's SPI (renamed_kek).
 *
 * Byte-identical retransmissions are decrypted with the IV they had the first
 * time and advance nothing. Secrets are wiped when freed.
 */
#include "dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike_keys.h"
#include "gdoi/msg_crypt.h"

#define MAX_BLOCK GDOI_CIPHER_MAX_BLOCK_LEN
#define MAX_KEY GDOI_CIPHER_MAX_KEY_LEN

struct ike_sa {
	uint8_t icookie[8];
	uint8_t key[MAX_KEY];
	size_t keylen;
	bool have_xf;
	enum gdoi_cipher cipher;
	enum gdoi_md md;
	uint8_t *gxi, *gxr;
	size_t gxi_len, gxr_len;
	bool have_initiator;
	char initiator[64];
};

struct iv_chain {
	uint8_t cookies[16];
	uint32_t msgid;
	uint8_t iv[MAX_BLOCK];
};

struct kek {
	uint8_t spi[16];
	uint8_t iv[MAX_BLOCK];
	size_t ivlen;
	uint8_t key[MAX_KEY];
	size_t keylen;
	enum gdoi_cipher cipher;	/* NONE: decide at use (SAK seen? IV length) */
	char source[64];
};

struct kek_alg {	/* from an SA KEK payload */
	uint8_t spi[16];
	uint32_t alg;
};

struct seen {
	uint8_t digest[32];
	size_t len;
	bool have_iv;
	uint8_t iv[MAX_BLOCK];
};

struct dump_keys {
	struct ike_sa *sa;
	size_t nsa;
	struct iv_chain *chain;
	size_t nchain;
	struct kek *kek;
	size_t nkek;
	struct kek_alg *alg;
	size_t nalg;
	struct seen *seen;
	size_t nseen;
	size_t cur;	/* the seen entry of the datagram being decoded */
};

/* Grows *arr by one zeroed element; NULL when out of memory. */
static void *grow(void *arrp, size_t *n, size_t size)
{
	void **arr = arrp;
	uint8_t *p = realloc(*arr, (*n + 1) * size);
	if (!p)
		return NULL;
	*arr = p;
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

struct dump_keys *keys_new(void)
{
	return calloc(1, sizeof(struct dump_keys));
}

void keys_free(struct dump_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nsa; i++) {
		free(k->sa[i].gxi);
		free(k->sa[i].gxr);
	}
	gdoi_wipe(k->sa, k->nsa * sizeof(*k->sa));
	gdoi_wipe(k->kek, k->nkek * sizeof(*k->kek));
	free(k->sa);
	free(k->chain);
	free(k->kek);
	free(k->alg);
	free(k->seen);
	free(k);
}

/* Decodes exactly want octets of hex (want 0: 1..cap octets). */
static long hex_field(const char *s, size_t n, uint8_t *out, size_t cap, size_t want)
{
	char buf[256];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	long len = gdoi_hex_decode(buf, out, cap);
	gdoi_wipe(buf, sizeof(buf));
	if (len <= 0 || (want && (size_t)len != want))
		return -1;
	return len;
}

int keys_add_ike(struct dump_keys *k, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	struct ike_sa sa;
	memset(&sa, 0, sizeof(sa));
	long n;
	if (!eq || hex_field(arg, (size_t)(eq - arg), sa.icookie, 8, 8) < 0) {
		snprintf(err, errlen, "--ike-key wants ICOOKIE=HEXKEY with a 16-hex-digit cookie");
		return -1;
	}
	if ((n = hex_field(eq + 1, strlen(eq + 1), sa.key, sizeof(sa.key), 0)) < 0) {
		snprintf(err, errlen, "--ike-key: the key is not hex of 1..%d octets", MAX_KEY);
		return -1;
	}
	sa.keylen = (size_t)n;
	struct ike_sa *e = grow(&k->sa, &k->nsa, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*e = sa;
	gdoi_wipe(&sa, sizeof(sa));
	return 0;
}

int keys_add_kek(struct dump_keys *k, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq, ':') : NULL;
	struct kek kk;
	memset(&kk, 0, sizeof(kk));
	long ivn, keyn;
	if (!eq || !colon || hex_field(arg, (size_t)(eq - arg), kk.spi, 16, 16) < 0) {
		snprintf(err, errlen, "--kek wants SPI=HEXIV:HEXKEY with a 32-hex-digit SPI");
		return -1;
	}
	ivn = hex_field(eq + 1, (size_t)(colon - eq - 1), kk.iv, sizeof(kk.iv), 0);
	keyn = hex_field(colon + 1, strlen(colon + 1), kk.key, sizeof(kk.key), 0);
	if ((ivn != 8 && ivn != 16) || keyn < 0 ||
	    (ivn == 8 && keyn != 24) || (ivn == 16 && keyn != 16 && keyn != 24 && keyn != 32)) {
		snprintf(err, errlen, "--kek: want an 8-octet IV with a 24-octet 3DES key, or a "
			 "16-octet IV with a 16/24/32-octet AES key");
		gdoi_wipe(&kk, sizeof(kk));
		return -1;
	}
	kk.ivlen = (size_t)ivn;
	kk.keylen = (size_t)keyn;
	snprintf(kk.source, sizeof(kk.source), "--kek");
	struct kek *e = grow(&k->kek, &k->nkek, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*e = kk;
	gdoi_wipe(&kk, sizeof(kk));
	return 0;
}

static struct ike_sa *find_sa(struct dump_keys *k, const uint8_t *icookie)
{
	for (size_t i = 0; i < k->nsa; i++)
		if (memcmp(k->sa[i].icookie, icookie, 8) == 0)
			return &k->sa[i];
	return NULL;
}

static struct iv_chain *find_chain(struct dump_keys *k, const uint8_t *cookies, uint32_t msgid)
{
	for (size_t i = 0; i < k->nchain; i++)
		if (k->chain[i].msgid == msgid && memcmp(k->chain[i].cookies, cookies, 16) == 0)
			return &k->chain[i];
	return NULL;
}

/* The most recent KEK for an SPI (a later KD may replace an earlier one). */
static struct kek *find_kek(struct dump_keys *k, const uint8_t *spi)
{
	for (size_t i = k->nkek; i-- > 0;)
		if (memcmp(k->kek[i].spi, spi, 16) == 0)
			return &k->kek[i];
	return NULL;
}

static const struct kek_alg *find_alg(struct dump_keys *k, const uint8_t *spi)
{
	for (size_t i = k->nalg; i-- > 0;)
		if (memcmp(k->alg[i].spi, spi, 16) == 0)
			return &k->alg[i];
	return NULL;
}

bool keys_is_repeat(struct dump_keys *k, const uint8_t *data, size_t len)
{
	uint8_t d[32];
	gdoi_bytes part = GDOI_BYTES(data, len);
	k->cur = (size_t)-1;
	if (gdoi_hash(GDOI_MD_SHA256, &part, 1, d) != 0)
		return false;
	for (size_t i = 0; i < k->nseen; i++) {
		if (k->seen[i].len == len && memcmp(k->seen[i].digest, d, 32) == 0) {
			k->cur = i;
			return true;
		}
	}
	struct seen *s = grow(&k->seen, &k->nseen, sizeof(*s));
	if (s) {
		memcpy(s->digest, d, 32);
		s->len = len;
		k->cur = k->nseen - 1;
	}
	return false;
}

static void hex8(const uint8_t *p, size_t n, char *out)
{
	gdoi_hex_encode(p, n, out);
}

/* The cipher of a KEK: its own, else its SAK's KEK_ALGORITHM, else by IV length. */
static enum gdoi_cipher kek_cipher(struct dump_keys *k, const struct kek *e)
{
	if (e->cipher != GDOI_CIPHER_NONE)
		return e->cipher;
	const struct kek_alg *a = find_alg(k, e->spi);
	if (a)
		return gdoi_cipher_from_kek((uint16_t)a->alg, (uint16_t)(e->keylen * 8));
	if (e->ivlen == 8)
		return gdoi_cipher_from_kek(GDOI_KEK_ALG_3DES, (uint16_t)(e->keylen * 8));
	return gdoi_cipher_from_kek(GDOI_KEK_ALG_AES, (uint16_t)(e->keylen * 8));
}

/* Sets cipher/key/iv for a PUSH; returns false with out filled otherwise. */
static bool push_params(struct dump_keys *k, const struct gdoi_hdr *hdr, struct dec_result *out,
			enum gdoi_cipher *c, gdoi_bytes *key, uint8_t *iv)
{
	uint8_t spi[16];
	char hex[33];
	memcpy(spi, hdr->icookie, 8);
	memcpy(spi + 8, hdr->rcookie, 8);
	struct kek *e = find_kek(k, spi);
	hex8(spi, 16, hex);
	if (!e) {
		snprintf(out->reason, sizeof(out->reason), "no KEK known for SPI %s", hex);
		return false;
	}
	*c = kek_cipher(k, e);
	if (*c == GDOI_CIPHER_NONE || gdoi_cipher_key_len(*c) != e->keylen ||
	    gdoi_cipher_block_len(*c) != e->ivlen) {
		out->status = DEC_FAIL;
		snprintf(out->reason, sizeof(out->reason),
			 "KEK for SPI %s (%s): IV of %zu and key of %zu octets do not fit its "
			 "algorithm", hex, e->source, e->ivlen, e->keylen);
		return false;
	}
	*key = GDOI_BYTES(e->key, e->keylen);
	memcpy(iv, e->iv, e->ivlen);
	snprintf(out->key_source, sizeof(out->key_source), "KEK %s (%s, %s)", hex,
		 gdoi_cipher_name(*c), e->source);
	return true;
}

/* Sets cipher/key/iv for Phase 1 and Phase 2 / Informational messages. */
static bool ike_params(struct dump_keys *k, const struct gdoi_hdr *hdr, bool repeat,
		       struct dec_result *out, enum gdoi_cipher *c, gdoi_bytes *key,
		       uint8_t *iv, struct iv_chain **chain_out)
{
	char hex[17];
	hex8(hdr->icookie, 8, hex);
	struct ike_sa *sa = find_sa(k, hdr->icookie);
	if (!sa) {
		snprintf(out->reason, sizeof(out->reason),
			 "no --ike-key for initiator cookie %s", hex);
		return false;
	}
	if (!sa->have_xf) {
		snprintf(out->reason, sizeof(out->reason),
			 "cookie %s: Phase 1 cipher unknown (the MM2 SA is not in the capture)", hex);
		return false;
	}
	*c = sa->cipher;
	size_t bl = gdoi_cipher_block_len(*c);
	if (*c == GDOI_CIPHER_NONE || sa->md == GDOI_MD_NONE || gdoi_md_len(sa->md) < bl) {
		snprintf(out->reason, sizeof(out->reason),
			 "cookie %s: the negotiated cipher or hash is not supported", hex);
		return false;
	}
	if (gdoi_cipher_key_len(*c) != sa->keylen) {
		out->status = DEC_FAIL;
		snprintf(out->reason, sizeof(out->reason),
			 "--ike-key for %s has %zu octets but %s needs %zu", hex, sa->keylen,
			 gdoi_cipher_name(*c), gdoi_cipher_key_len(*c));
		return false;
	}
	*key = GDOI_BYTES(sa->key, sa->keylen);
	snprintf(out->key_source, sizeof(out->key_source), "IKE SA %s (%s, %s)", hex,
		 gdoi_cipher_name(*c), gdoi_md_name(sa->md));
	if (repeat && k->cur != (size_t)-1 && k->seen[k->cur].have_iv) {
		memcpy(iv, k->seen[k->cur].iv, bl);
		*chain_out = NULL;
		return true;
	}
	uint8_t cookies[16], h[MAX_BLOCK];
	memcpy(cookies, hdr->icookie, 8);
	memcpy(cookies + 8, hdr->rcookie, 8);
	struct iv_chain *ch = find_chain(k, cookies, hdr->msgid);
	if (!ch) {
		/* the first IV of a chain: the core's key schedule (gdoi/ike_keys.h) */
		if (hdr->msgid == 0) {
			if (!sa->gxi || !sa->gxr) {
				snprintf(out->reason, sizeof(out->reason),
					 "cookie %s: the MM3/MM4 KE payloads are not in the "
					 "capture", hex);
				return false;
			}
			if (gdoi_ike_phase1_iv(sa->md, *c, GDOI_BYTES(sa->gxi, sa->gxi_len),
					       GDOI_BYTES(sa->gxr, sa->gxr_len), h) != 0)
				goto crypto_fail;
		} else {
			const struct iv_chain *p1 = find_chain(k, cookies, 0);
			if (!p1) {
				snprintf(out->reason, sizeof(out->reason),
					 "cookie %s: the encrypted Phase 1 messages are not in "
					 "the capture", hex);
				return false;
			}
			if (gdoi_ike_phase2_iv(sa->md, *c, GDOI_BYTES(p1->iv, bl), hdr->msgid, h) != 0)
				goto crypto_fail;
		}
		ch = grow(&k->chain, &k->nchain, sizeof(*ch));
		if (!ch)
			goto crypto_fail;
		memcpy(ch->cookies, cookies, 16);
		ch->msgid = hdr->msgid;
		memcpy(ch->iv, h, bl);
	}
	memcpy(iv, ch->iv, bl);
	*chain_out = ch;
	return true;
crypto_fail:
	out->status = DEC_FAIL;
	snprintf(out->reason, sizeof(out->reason), "IV computation failed");
	return false;
}

void keys_decrypt(struct dump_keys *k, const uint8_t *data, size_t len,
		  const struct gdoi_hdr *hdr, bool repeat, struct dec_result *out)
{
	memset(out, 0, sizeof(*out));
	out->status = DEC_NO_KEY;
	enum gdoi_cipher c = GDOI_CIPHER_NONE;
	gdoi_bytes key = GDOI_BYTES_NONE;
	uint8_t iv[MAX_BLOCK];
	struct iv_chain *chain = NULL;
	bool ok = hdr->exchange == GDOI_EXCH_PUSH
			  ? push_params(k, hdr, out, &c, &key, iv)
			  : ike_params(k, hdr, repeat, out, &c, &key, iv, &chain);
	if (!ok)
		return;
	size_t bl = gdoi_cipher_block_len(c), blen = len - GDOI_HDR_LEN;
	uint8_t *plain = NULL, next_iv[MAX_BLOCK];
	int rc = gdoi_msg_open(c, key, GDOI_BYTES(iv, bl), data, len, &plain, next_iv);
	if (rc) {
		out->status = DEC_FAIL;
		if (rc == GDOI_ERR_LENGTH)
			snprintf(out->reason, sizeof(out->reason),
				 "ciphertext of %zu octets is not a whole number of %zu-octet blocks",
				 blen, bl);
		else
			snprintf(out->reason, sizeof(out->reason), "%s",
				 rc == GDOI_ERR_NOMEM ? "out of memory" : "CBC decryption failed");
		return;
	}
	if (!repeat && k->cur != (size_t)-1) {
		k->seen[k->cur].have_iv = true;
		memcpy(k->seen[k->cur].iv, iv, bl);
	}
	if (!repeat && chain)
		memcpy(chain->iv, next_iv, bl);
	out->status = DEC_OK;
	out->plain = plain;
	out->plain_len = len;
}

void keys_free_plain(struct dec_result *r)
{
	gdoi_msg_plain_free(r->plain, r->plain_len);
	r->plain = NULL;
}

/* ---- learning ------------------------------------------------------------ */

static void learn_phase1(struct dump_keys *k, const struct gdoi_msg *m, const struct dump_frame *f)
{
	struct ike_sa *sa = find_sa(k, m->hdr.icookie);
	static const uint8_t zero[8];
	bool mm1 = memcmp(m->hdr.rcookie, zero, 8) == 0;
	if (!sa)
		return;
	if (mm1 && f->have_addr && !sa->have_initiator) {
		sa->have_initiator = true;
		snprintf(sa->initiator, sizeof(sa->initiator), "%s", f->src);
	}
	for (size_t i = 0; i < m->npl; i++) {
		const struct gdoi_payload *p = &m->pl[i];
		if (p->type == GDOI_PL_SA && p->u.sa_ike.nprops > 0) {
			const struct gdoi_proposal *pr = &p->u.sa_ike.props[0];
			/* MM2 carries the chosen transform; MM1 counts only when it offers one. */
			if (pr->nxf == 0 || (mm1 && (pr->nxf != 1 || sa->have_xf)))
				continue;
			const struct gdoi_attr_list *al = &pr->xf[0].attrs;
			uint32_t enc = 0, hash = 0, bits = 0;
			gdoi_attr_u32(gdoi_attr_find(al, GDOI_IKE_ENC), &enc);
			gdoi_attr_u32(gdoi_attr_find(al, GDOI_IKE_HASH), &hash);
			gdoi_attr_u32(gdoi_attr_find(al, GDOI_IKE_KEY_LENGTH), &bits);
			sa->cipher = gdoi_cipher_from_ike((uint16_t)enc, (uint16_t)bits);
			sa->md = gdoi_md_from_ike((uint16_t)hash);
			sa->have_xf = true;
		} else if (p->type == GDOI_PL_KE && p->u.data.len > 0) {
			/* Direction from the addresses when known, else MM3 before MM4. */
			bool from_init;
			if (f->have_addr && sa->have_initiator)
				from_init = strcmp(f->src, sa->initiator) == 0;
			else if (!sa->gxi || !sa->gxr)
				from_init = sa->gxi == NULL;
			else
				continue;	/* both known and no way to tell: keep them */
			uint8_t **dst = from_init ? &sa->gxi : &sa->gxr;
			size_t *dlen = from_init ? &sa->gxi_len : &sa->gxr_len;
			uint8_t *copy = malloc(p->u.data.len);
			if (!copy)
				continue;
			memcpy(copy, p->u.data.ptr, p->u.data.len);
			free(*dst);
			*dst = copy;
			*dlen = p->u.data.len;
		}
	}
}

/*
 * The SPI a push's KEK key packet is for. The reference implementation rotates
 * its KEK with a push whose SA KEK names the new SPI and whose one KEK key
 * packet names the outgoing (header) SPI: that key is the new KEK's, as the
 * member reads it (gdoi_policy_apply_push_kd). NULL for no rotation.
 */
static const uint8_t *renamed_kek(const struct gdoi_msg *m, const struct gdoi_sak *sak,
				  const struct gdoi_kd *kd)
{
	uint8_t hdr_spi[16];
	size_t keks = 0, named_hdr = 0;
	if (m->hdr.exchange != GDOI_EXCH_PUSH || !sak || !kd)
		return NULL;
	memcpy(hdr_spi, m->hdr.icookie, 8);
	memcpy(hdr_spi + 8, m->hdr.rcookie, 8);
	if (memcmp(sak->spi, hdr_spi, 16) == 0)
		return NULL;
	for (size_t i = 0; i < kd->n; i++)
		if (kd->pkts[i].type == GDOI_KD_KEK) {
			keks++;
			named_hdr += kd->pkts[i].spi.len == 16 &&
				     memcmp(kd->pkts[i].spi.ptr, hdr_spi, 16) == 0;
		}
	return keks == 1 && named_hdr == 1 ? sak->spi : NULL;
}

static void learn_kd(struct dump_keys *k, const struct gdoi_kd *kd, const uint8_t *renamed,
		     const struct dump_frame *f)
{
	for (size_t i = 0; i < kd->n; i++) {
		const struct gdoi_kd_packet *pk = &kd->pkts[i];
		const struct gdoi_attr *a;
		if (pk->type != GDOI_KD_KEK || pk->spi.len != 16 ||
		    !(a = gdoi_attr_find(&pk->attrs, GDOI_KD_KEK_ALGORITHM_KEY)) || a->tv)
			continue;
		const uint8_t *spi = renamed ? renamed : pk->spi.ptr;
		size_t n = a->value.len;
		const struct kek_alg *al = find_alg(k, spi);
		enum gdoi_cipher c = GDOI_CIPHER_NONE;
		if (al) {
			/* IV | key: the IV is one block, the key the rest. */
			for (size_t bl = 8; bl <= 16 && c == GDOI_CIPHER_NONE; bl += 8)
				if (n > bl && gdoi_cipher_block_len(gdoi_cipher_from_kek(
						  (uint16_t)al->alg, (uint16_t)((n - bl) * 8))) == bl)
					c = gdoi_cipher_from_kek((uint16_t)al->alg,
								 (uint16_t)((n - bl) * 8));
		} else {
			c = n == 48 ? GDOI_CIPHER_AES_256_CBC : n == 40 ? GDOI_CIPHER_AES_192_CBC
				: n == 32 ? GDOI_CIPHER_AES_128_CBC : GDOI_CIPHER_NONE;
		}
		size_t bl = gdoi_cipher_block_len(c);
		if (c == GDOI_CIPHER_NONE || n != bl + gdoi_cipher_key_len(c))
			continue;
		struct kek *e = grow(&k->kek, &k->nkek, sizeof(*e));
		if (!e)
			return;
		memcpy(e->spi, spi, 16);
		e->cipher = c;
		e->ivlen = bl;
		memcpy(e->iv, a->value.ptr, bl);
		e->keylen = n - bl;
		memcpy(e->key, a->value.ptr + bl, e->keylen);
		snprintf(e->source, sizeof(e->source), "from the KD of frame %lu%s", f->number,
			 renamed ? " (KEK rotation)" : "");
	}
}

void keys_learn(struct dump_keys *k, const struct gdoi_msg *m, const struct dump_frame *f)
{
	if (m->hdr.exchange == GDOI_EXCH_IDENT_PROT) {
		learn_phase1(k, m, f);
		return;
	}
	if (m->hdr.exchange != GDOI_EXCH_PULL && m->hdr.exchange != GDOI_EXCH_PUSH)
		return;
	const struct gdoi_sak *sak = NULL;
	for (size_t i = 0; i < m->npl; i++) {
		const struct gdoi_payload *p = &m->pl[i];
		if (p->type == GDOI_PL_SA && p->u.sa.sak) {
			uint32_t alg;
			if (!gdoi_attr_u32(gdoi_attr_find(&p->u.sa.sak->attrs, GDOI_KEK_ALGORITHM),
					   &alg))
				continue;
			struct kek_alg *e = grow(&k->alg, &k->nalg, sizeof(*e));
			if (!e)
				return;
			memcpy(e->spi, p->u.sa.sak->spi, 16);
			e->alg = alg;
			sak = p->u.sa.sak;
		} else if (p->type == GDOI_PL_KD) {
			learn_kd(k, &p->u.kd, renamed_kek(m, sak, &p->u.kd), f);
		}
	}
}
