/*
 * ike2_keys.c - the keys gdoi-dump decrypts IKEv2 / G-IKEv2 with:
 *
 *   IKE SAs: tshark's ikev2_decryption_table entries (--ike2-sa ENTRY, or
 *   the lines of an --ike2-keys FILE; gdoi/ike2_uat.c reads them), plus
 *   optional "#sk_d SPIi,SPIr,SK_d,PRF" lines (tshark skips them as
 *   comments): with SK_d, GSK_w is derived and the KD's wrapped keys are
 *   unwrapped, which gives the Rekey SA's keys for the GSA_REKEY messages.
 *   Rekey SAs: --ike2-rekey SPI=GSK_E[:GSK_W], or learnt from a decrypted
 *   GSA_AUTH / GSA_REGISTRATION response or GSA_REKEY (gike2_msg.h, the
 *   member's own code).
 *   SKF fragments: decrypted one by one (each has its own ICV) and kept
 *   until every fragment of the message has been seen.
 *
 * Every key lives in gdoi_secret memory and is wiped when freed.
 */
#include "ike2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/ike2_numbers.h"
#include "gdoi/secret.h"

#define MAX_SA 256
#define MAX_REKEY 64
#define MAX_REASM 32

struct dump_ike2 {
	struct ike2_sa_entry *sa[MAX_SA];
	size_t nsa;
	struct ike2_rekey_entry *rk[MAX_REKEY];
	size_t nrk;
	struct ike2_reasm *re[MAX_REASM];
	size_t nre;
};

struct dump_ike2 *ike2_new(void)
{
	return calloc(1, sizeof(struct dump_ike2));
}

static void reasm_free(struct ike2_reasm *r)
{
	for (size_t i = 0; i < IKE2_MAX_FRAGS; i++)
		if (r->pt[i])
			gdoi_wipe_free(r->pt[i], r->pt_len[i]);
	free(r);
}

void ike2_free(struct dump_ike2 *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nsa; i++)
		gdoi_secret_free(x->sa[i], sizeof(*x->sa[i]));
	for (size_t i = 0; i < x->nrk; i++)
		gdoi_secret_free(x->rk[i], sizeof(*x->rk[i]));
	for (size_t i = 0; i < x->nre; i++)
		reasm_free(x->re[i]);
	free(x);
}

struct ike2_sa_entry *ike2_find_sa(struct dump_ike2 *x, const uint8_t *spi_i,
				   const uint8_t *spi_r)
{
	for (size_t i = 0; i < x->nsa; i++)
		if (!memcmp(x->sa[i]->spi_i, spi_i, 8) && !memcmp(x->sa[i]->spi_r, spi_r, 8))
			return x->sa[i];
	return NULL;
}

/* The entry for these SPIs, created empty when new; NULL when full. */
static struct ike2_sa_entry *sa_slot(struct dump_ike2 *x, const uint8_t *spi_i,
				     const uint8_t *spi_r)
{
	struct ike2_sa_entry *e = ike2_find_sa(x, spi_i, spi_r);
	if (e || x->nsa == MAX_SA)
		return e;
	if (!(e = gdoi_secret_calloc(sizeof(*e))))
		return NULL;
	memcpy(e->spi_i, spi_i, 8);
	memcpy(e->spi_r, spi_r, 8);
	x->sa[x->nsa++] = e;
	return e;
}

int ike2_add_sa(struct dump_ike2 *x, const char *entry, const char *source, char *err,
		size_t errlen)
{
	uint8_t spi_i[8], spi_r[8];
	char why[160];
	struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = gdoi_ike2_uat_parse(entry, spi_i, spi_r, k, why, sizeof(why));
	struct ike2_sa_entry *e = rc ? NULL : sa_slot(x, spi_i, spi_r);
	if (rc)
		snprintf(err, errlen, "%s: %s", source, why);
	else if (!e)
		snprintf(err, errlen, "%s: more than %d IKE SAs", source, MAX_SA);
	if (e) {
		/* SK_d (from a #sk_d line) stays */
		memcpy(k->sk_d, e->k.sk_d, sizeof(k->sk_d));
		k->prf = e->k.prf;
		k->prf_md = e->k.prf_md;
		k->prf_len = e->k.prf_len;
		e->k = *k;
		e->have_sk = true;
		snprintf(e->source, sizeof(e->source), "%s", source);
	}
	gdoi_ike2_keys_free(k);
	return e ? 0 : -1;
}

/* "#sk_d SPIi,SPIr,SK_d,PRF" (the "#sk_d " already skipped). */
static int add_sk_d(struct dump_ike2 *x, const char *s, const char *source, char *err,
		    size_t errlen)
{
	char f[4][2 * GDOI_IKE2_MAX_KEY + 2];
	uint8_t spi_i[8], spi_r[8], skd[GDOI_IKE2_MAX_KEY];
	int rc = -1;
	for (size_t i = 0; i < 4; i++) {
		size_t n = strcspn(s, ",\r\n");
		if (n >= sizeof(f[i]) || (i < 3 && s[n] != ','))
			goto bad;
		memcpy(f[i], s, n);
		f[i][n] = '\0';
		s += n + (s[n] == ',');
	}
	char *end;
	errno = 0;
	unsigned long prf = strtoul(f[3], &end, 10);
	enum gdoi_md md = errno || *end || prf > 0xffff ? GDOI_MD_NONE
						       : gdoi_ike2_prf_md((uint16_t)prf);
	size_t len = gdoi_md_len(md);
	if (md == GDOI_MD_NONE || strlen(f[0]) != 16 || strlen(f[1]) != 16 ||
	    strlen(f[2]) != 2 * len || gdoi_hex_decode(f[0], spi_i, 8) != 8 ||
	    gdoi_hex_decode(f[1], spi_r, 8) != 8 || gdoi_hex_decode(f[2], skd, len) != (long)len)
		goto bad;
	struct ike2_sa_entry *e = sa_slot(x, spi_i, spi_r);
	if (!e) {
		snprintf(err, errlen, "%s: more than %d IKE SAs", source, MAX_SA);
		goto out;
	}
	memcpy(e->k.sk_d, skd, len);
	e->k.prf = (uint16_t)prf;
	e->k.prf_md = md;
	e->k.prf_len = len;
	e->have_skd = true;
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s: want #sk_d SPIi,SPIr,SK_d,PRF-ID (hex, hex, hex of the PRF's "
		 "length, a PRF transform ID we implement)", source);
out:
	gdoi_wipe(f, sizeof(f));
	gdoi_wipe(skd, sizeof(skd));
	return rc;
}

int ike2_add_keys_file(struct dump_ike2 *x, const char *path, char *err, size_t errlen)
{
	FILE *in = fopen(path, "r");
	if (!in) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL, src[600];
	size_t cap = 0;
	unsigned long n = 0, used = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, in) >= 0) {
		char *s = line;
		n++;
		while (*s == ' ' || *s == '\t')
			s++;
		snprintf(src, sizeof(src), "%s:%lu", path, n);
		if (!strncmp(s, "#sk_d ", 6)) {
			rc = add_sk_d(x, s + 6, src, err, errlen);
			used++;
		} else if (*s && *s != '#' && *s != '\n' && *s != '\r') {
			rc = ike2_add_sa(x, s, src, err, errlen);
			used++;
		}
	}
	if (rc == 0 && ferror(in)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	if (rc == 0 && used == 0) {
		snprintf(err, errlen, "%s: no key entries", path);
		rc = -1;
	}
	if (line) {
		gdoi_wipe(line, cap);
		free(line);
	}
	fclose(in);
	return rc;
}

/* ---- Rekey SAs ------------------------------------------------------------ */

struct ike2_rekey_entry *ike2_find_rekey(struct dump_ike2 *x, const uint8_t *spi)
{
	for (size_t i = x->nrk; i-- > 0;)	/* the latest for an SPI */
		if (!memcmp(x->rk[i]->sa.spi, spi, GIKE2_SPI_SIZE_REKEY))
			return x->rk[i];
	return NULL;
}

int ike2_add_rekey_sa(struct dump_ike2 *x, const struct gike2_rekey_sa *sa, const char *source)
{
	struct ike2_rekey_entry *e = ike2_find_rekey(x, sa->spi);
	if (!e) {
		if (x->nrk == MAX_REKEY || !(e = gdoi_secret_calloc(sizeof(*e))))
			return -1;
		x->rk[x->nrk++] = e;
	}
	e->sa = *sa;
	snprintf(e->source, sizeof(e->source), "%s", source);
	return 0;
}

int ike2_add_rekey(struct dump_ike2 *x, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq, ':') : NULL;
	struct gike2_rekey_sa *sa = gdoi_secret_calloc(sizeof(*sa));
	char buf[2 * (36 + GIKE2_KWK_MAX) + 2];
	int rc = -1;
	if (!sa) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t el = colon ? (size_t)(colon - eq - 1) : strlen(eq ? eq + 1 : "");
	if (!eq || eq - arg != 32 || el >= sizeof(buf))
		goto bad;
	memcpy(buf, arg, 32);
	buf[32] = '\0';
	if (gdoi_hex_decode(buf, sa->spi, sizeof(sa->spi)) != 16)
		goto bad;
	memcpy(buf, eq + 1, el);
	buf[el] = '\0';
	long n = gdoi_hex_decode(buf, sa->gsk_e, sizeof(sa->gsk_e));
	if (n != 20 && n != 36)
		goto bad;
	sa->gsk_e_len = (size_t)n;
	sa->encr = GIKE2_ENCR_AES_GCM_16;
	sa->encr_key_bits = (uint16_t)((n - 4) * 8);
	if (colon) {
		if (strlen(colon + 1) >= sizeof(buf))
			goto bad;
		long w = gdoi_hex_decode(colon + 1, sa->gsk_w, sizeof(sa->gsk_w));
		if (w != 16 && w != 24 && w != 32)
			goto bad;
		sa->gsk_w_len = (size_t)w;
	}
	if (ike2_add_rekey_sa(x, sa, "--ike2-rekey") != 0) {
		snprintf(err, errlen, "--ike2-rekey: too many Rekey SAs or out of memory");
		goto out;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "--ike2-rekey wants SPI=GSK_E[:GSK_W]: a 32-hex-digit SPI "
		 "(SPIi|SPIr), GSK_e of 20 or 36 octets (AES-GCM-128/256 key | 4-octet salt), "
		 "GSK_w of 16, 24 or 32 octets");
out:
	gdoi_wipe(buf, sizeof(buf));
	gdoi_secret_free(sa, sizeof(*sa));
	return rc;
}

/* ---- SKF reassembly --------------------------------------------------------- */

struct ike2_reasm *ike2_reasm_get(struct dump_ike2 *x, const struct gdoi_ike2_hdr *h,
				  uint16_t total)
{
	for (size_t i = 0; i < x->nre; i++) {
		struct ike2_reasm *r = x->re[i];
		if (!memcmp(r->spi_i, h->spi_i, 8) && !memcmp(r->spi_r, h->spi_r, 8) &&
		    r->msgid == h->msgid && r->exchange == h->exchange && r->flags == h->flags)
			return r->total == total ? r : NULL;
	}
	if (total > IKE2_MAX_FRAGS)
		return NULL;
	if (x->nre == MAX_REASM) {	/* the oldest goes */
		reasm_free(x->re[0]);
		memmove(x->re, x->re + 1, (MAX_REASM - 1) * sizeof(x->re[0]));
		x->nre--;
	}
	struct ike2_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	memcpy(r->spi_i, h->spi_i, 8);
	memcpy(r->spi_r, h->spi_r, 8);
	r->msgid = h->msgid;
	r->exchange = h->exchange;
	r->flags = h->flags;
	r->total = total;
	x->re[x->nre++] = r;
	return r;
}

void ike2_reasm_done(struct dump_ike2 *x, struct ike2_reasm *r)
{
	for (size_t i = 0; i < x->nre; i++)
		if (x->re[i] == r) {
			reasm_free(r);
			memmove(x->re + i, x->re + i + 1, (x->nre - i - 1) * sizeof(x->re[0]));
			x->nre--;
			return;
		}
}
