/*
 * rekey_ikev2.c - the group's G-IKEv2 Rekey SA (RFC 9838 §2.4~) and its
 * GSA_REKEY pushes, next to the GDOI GROUPKEY-PUSH of rekey.c.
 *
 * The Rekey SA is a function of the group's KEK, so that it is as durable as
 * the KEK and rotates with it, and needs no state of its own:
 *   SPIi | SPIr = the KEK SPI (16 octets both),
 *   KEYMAT      = prf+(HMAC-SHA-256, KEK key, "G-IKEv2 Rekey SA" | KEK SPI)
 *                 = GSK_e (AES-GCM-16-128 key + salt) | GSK_w (KW 128),
 *   TS          = the GCKS (any) -> the KEK's rekey destination, UDP,
 *   GCAUTH      = Digital Signature with the group's rekey signing key.
 * The Message ID of a GSA_REKEY is the SEQ of the GDOI push carrying the
 * same keys: it is saved (ks_state_save_group / _seq) before anything
 * leaves and grows strictly under one KEK; a new KEK is a new Rekey SA,
 * whose GSA_INITIAL_MESSAGE_ID starts its own counter.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "gdoi/err.h"
#include "gdoi/gike2_msg.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/gike2_rekey.h"
#include "gdoi/ike2_keys.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"
#include "keyserver/rekey_ikev2.h"

#define RKSA_LABEL "G-IKEv2 Rekey SA"

static void ts_of(struct gike2_ts *t, const struct gdoi_selector *s, bool any)
{
	bool v6 = s->addr_len == 16 || s->addr_len == 32;
	*t = (struct gike2_ts){ .type = v6 ? GIKE2_TS_IPV6_ADDR_RANGE : GIKE2_TS_IPV4_ADDR_RANGE,
				.ip_proto = 17, .addr_len = v6 ? 16 : 4 };
	if (any) {
		t->end_port = 0xffff;
		memset(t->end, 0xff, t->addr_len);
		return;
	}
	t->start_port = t->end_port = s->port;
	memcpy(t->start, s->addr, t->addr_len);
	memcpy(t->end, s->addr, t->addr_len);
}

int ks_ikev2_rekey_sa(const struct ks_group *g, const struct gdoi_kek_policy *kek, uint32_t msgid,
		      struct gike2_rekey_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	size_t kl = kek->key_bits / 8;
	if (!g->sign_key || !kek->have_keys || kl == 0 || kl > sizeof(kek->key) ||
	    (kek->dst.addr_len != 4 && kek->dst.addr_len != 16)) {
		ks_log(KS_WARN, "%s: group %s: no KEK keys, signing key or rekey address", __func__,
			 g->cfg->name);
		return -1;
	}
	_Static_assert(GDOI_KEK_SPI_LEN == GIKE2_SPI_SIZE_REKEY, "Rekey SA SPI = KEK SPI");
	memcpy(sa->spi, kek->spi, sizeof(sa->spi));
	sa->encr = GIKE2_ENCR_AES_GCM_16;
	sa->encr_key_bits = 128;
	sa->kwa = GIKE2_KWA_5649_128;
	sa->gcauth = GIKE2_GCAUTH_DIGITAL_SIGNATURE;
	sa->sig_md = GDOI_MD_SHA256;
	sa->lifetime = kek->lifetime;
	ts_of(&sa->src, &kek->dst, true);
	ts_of(&sa->dst, &kek->dst, false);
	sa->msgid = msgid;
	uint8_t km[64];
	size_t kml = gike2_rekey_keymat_len(sa);
	gdoi_bytes seed[2] = { GDOI_BYTES(RKSA_LABEL, sizeof(RKSA_LABEL) - 1),
			       GDOI_BYTES(kek->spi, GDOI_KEK_SPI_LEN) };
	int rc = kml && kml <= sizeof(km) &&
		 !gdoi_ike2_prf_plus(GDOI_MD_SHA256, GDOI_BYTES(kek->key, kl), seed, 2, km, kml) &&
		 !gike2_rekey_set_keys(sa, GDOI_BYTES(km, kml)) ? 0 : -1;
	OPENSSL_cleanse(km, sizeof(km));
	if (rc) {
		gike2_rekey_sa_clear(sa);
		ks_log(KS_WARN, "%s: group %s: cannot derive the Rekey SA", __func__, g->cfg->name);
	}
	return rc;
}

int ks_ikev2_rekey_push(struct ks_group *g, const struct gdoi_kek_policy *cur, uint32_t msgid,
			const struct gdoi_kek_policy *next, const struct gdoi_push_delete *dels,
			size_t ndels)
{
	const struct ks_group_cfg *c = g->cfg;
	if (!ks_group_speaks(c, KS_PROTO_GIKEV2) || !c->mcast || !g->mcast_open ||
	    !(ks_group_gikev2_rekey(c) & KS_GIKEV2_REKEY_MULTICAST))
		return 0;	/* nobody to send to: G-IKEv2 members register again */
	struct gike2_rekey_sa sa, nsa;
	bool has_next = next != NULL;
	if (ks_ikev2_rekey_sa(g, cur, msgid, &sa))
		return -1;
	if (has_next && ks_ikev2_rekey_sa(g, next, g->rec.seq + 1, &nsa)) {
		gike2_rekey_sa_clear(&sa);
		return -1;
	}
	uint32_t del[GDOI_PUSH_MAX_DELETES];
	size_t nd = 0;
	for (size_t i = 0; i < ndels && nd < GDOI_PUSH_MAX_DELETES; i++)
		if (!dels[i].all)
			del[nd++] = dels[i].spi;
	int rc = -1;
	struct gdoi_arena *a = gdoi_arena_new();
	struct gike2_pl pl[8];
	size_t n = 0;
	struct gdoi_writer w;
	gdoi_writer_init(&w);
	if (!a)
		goto out;
	if (gike2_rekey_content_build(&g->pol, &sa, has_next ? &nsa : NULL, g->sign_key, del, nd, a,
				      pl, sizeof(pl) / sizeof(pl[0]), &n) ||
	    gike2_rekey_build(&sa, pl, n, g->sign_key, &w) || w.failed) {
		ks_log(KS_ERR, "group %s: cannot build GSA_REKEY %u", c->name, msgid);
		goto out;
	}
	rc = ks_udp_send(&g->mcast, g->mcast_family, w.buf, w.len, &c->mcast_addr);
	char ma[64];
	ks_log(rc ? KS_WARN : KS_INFO, "group %s: GSA_REKEY Message ID %u (%zu TEK(s), %zu deleted%s): "
	       "multicast to %s", c->name, msgid, g->pol.nteks, nd, has_next ? ", new Rekey SA" : "",
	       ks_inet_format(&c->mcast_addr, ma, sizeof(ma)));
out:
	gdoi_writer_free(&w);
	gdoi_arena_free(a);
	gike2_rekey_sa_clear(&sa);
	if (has_next)
		gike2_rekey_sa_clear(&nsa);
	return rc;
}
