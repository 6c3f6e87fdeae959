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

/* Every payload type counts as known: the dumper shows unknown ones too. */
static uint8_t all_types[256];

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
			ike2_jset(o, "learnt_rekey_sa", json_string(spis));
		}
	} else if (rc) {
		ike2_jset(o, "warning", json_string(why[0] ? why : gdoi_strerror(rc)));
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
			ike2_parse_error(sko, rc, &e);
			return false;
		}
		ike2_jset(sko, "fragment_number", json_integer(num));
		ike2_jset(sko, "total_fragments", json_integer(total));
	}
	ike2_jset(o, "encrypted", json_true());
	ike2_jset(o, "ciphertext_length", json_integer((json_int_t)(ch->sk_body.len - (skf ? 4 : 0))));
	struct gdoi_ike2_keys *k = gdoi_ike2_keys_new();
	if (!k) {
		model_error_ike2(o, "out of memory", NULL);
		return false;
	}
	bool ok = true;
	if (!find_keys(x, h, k, src, sizeof(src), why, sizeof(why))) {
		ike2_jset(o, "not_decrypted", json_string(why));
		goto out;
	}
	bool from_i = (h->flags & GDOI_IKE2_FLAG_INITIATOR) != 0;
	uint8_t *pt;
	size_t ptlen;
	int rc = gdoi_ike2_sk_open(k, from_i, msg, len, ch->sk_off, skf, &pt, &ptlen);
	ike2_jset(o, "key", json_string(src));
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
	ike2_jset(o, "decrypted", json_true());
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
			ike2_jset(o, "reassembly", json_string("waiting for the other fragments"));
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
		ike2_jset(o, "reassembled_from_frames", frames);
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
		if (ike2_chain_j(arr, &c, in))
			ok = false;
		ike2_jset(sko, "payloads", arr);
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
	ike2_jset(o, "ike_version", json_integer(2));
	ike2_jset(o, "spi_i", ike2_jhex(h->spi_i, 8));
	ike2_jset(o, "spi_r", ike2_jhex(h->spi_r, 8));
	ike2_jset(o, "next_payload", json_integer(h->next));
	ike2_jset(o, "next_payload_name", json_string(gike2_payload_name(h->next)));
	ike2_jset(o, "major_version", json_integer(h->version >> 4));
	ike2_jset(o, "minor_version", json_integer(h->version & 15));
	ike2_jset(o, "exchange", json_integer(h->exchange));
	ike2_jset(o, "exchange_name", json_string(gike2_exchange_name(h->exchange)));
	ike2_jset(o, "flags", json_integer(h->flags));
	if (h->flags & GDOI_IKE2_FLAG_INITIATOR)
		strcat(fl, "I");
	if (h->flags & GDOI_IKE2_FLAG_VERSION)
		strcat(fl, fl[0] ? " V" : "V");
	if (h->flags & GDOI_IKE2_FLAG_RESPONSE)
		strcat(fl, fl[0] ? " R" : "R");
	ike2_jset(o, "flag_names", json_string(fl));
	ike2_jset(o, "message_id", json_integer(h->msgid));
	ike2_jset(o, "length", json_integer(h->length));
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
		ike2_jset(o, "nonesp_marker", json_true());
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
	ike2_jset(o, "payloads", arr);
	bool ok = true;
	rc = gdoi_ike2_chain_parse(msg + GDOI_IKE2_HDR_LEN, len - GDOI_IKE2_HDR_LEN,
				   GDOI_IKE2_HDR_LEN, h.next, true, all_types, sizeof(all_types),
				   ch, &e);
	struct pctx c = { x, &h, GDOI_BYTES_NONE, "", false, msg + GDOI_IKE2_HDR_LEN,
			  GDOI_IKE2_HDR_LEN };
	if (ike2_chain_j(arr, &c, ch))
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
		ike2_jset(sko, "type", json_string(gike2_payload_name(ch->sk_type)));
		ike2_jset(sko, "type_id", json_integer(ch->sk_type));
		ike2_jset(sko, "offset", json_integer((json_int_t)ch->sk_off));
		ike2_jset(sko, "length", json_integer((json_int_t)(ch->sk_body.len + 4)));
		ike2_jset(sko, "next_payload", json_integer(ch->sk_first));
		ike2_jset(sko, "next_payload_name", json_string(gike2_payload_name(ch->sk_first)));
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
