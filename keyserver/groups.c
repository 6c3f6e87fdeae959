/*
 * groups.c - group policies at run time: the rekey signing key, KEK and TEK
 * generation (SPIs random, non-zero and never reused in a group: every SPI
 * is claimed in the state first), SSRC allocation (random, unique per
 * group, fresh at every registration, never given twice), and the policy
 * handed to registering members (gdoi/policy.h), rebuilt from the
 * configuration and the durable record.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "gdoi/err.h"
#include "gdoi/numbers.h"
#include "gdoi/sign.h"
#include "keyserver/ks.h"
#include "daemon/file.h"
#include "keyserver/log.h"

int64_t ks_unix_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- the rekey signing key ---------------------------------------------- */

/* A new P-256 key pair (RSA-2048 for compat = gdoid: the reference member verifies
 * RSA only) as PKCS#8 DER (OpenSSL directly: gdoi/ only loads keys). */
static int generate_sign_key(bool rsa, uint8_t *der, size_t cap, size_t *len)
{
	EVP_PKEY *k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
			  : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!k)
		return -1;
	unsigned char *p = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
	int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &p) : -1;
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(k);
	if (n <= 0 || (size_t)n > cap) {
		OPENSSL_free(p);
		return -1;
	}
	memcpy(der, p, (size_t)n);
	OPENSSL_clear_free(p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int load_sign_key_only(struct ks_group *g);

/* Loads the rekey key and encodes its public half once: every registration
 * hands it out, and OpenSSL's encoder is costly. */
static int load_sign_key(struct ks_group *g)
{
	if (load_sign_key_only(g))
		return -1;
	if (g->cfg->compat_gdoid && gdoi_key_kind(g->sign_key) != GDOI_KEYKIND_RSA) {
		ks_log(KS_ERR, "group %s: compat = gdoid needs an RSA rekey key (the reference member "
		       "verifies RSA signatures only); set rekey_key to an RSA key", g->cfg->name);
		return -1;
	}
	free(g->sign_spki);
	g->sign_spki = NULL;
	if (gdoi_key_to_spki(g->sign_key, &g->sign_spki, &g->sign_spki_len)) {
		ks_log(KS_ERR, "group %s: cannot encode the rekey public key", g->cfg->name);
		return -1;
	}
	return 0;
}

static int load_sign_key_only(struct ks_group *g)
{
	const struct ks_group_cfg *c = g->cfg;
	int rc;
	if (c->rekey_key_file[0]) {
		uint8_t *buf;
		size_t len;
		char why[600];
		if (dm_file_load(c->rekey_key_file, DM_FILE_SECRET, DM_FILE_MAX, &buf, &len, why,
				 sizeof(why))) {
			ks_log(KS_ERR, "group %s: rekey_key %s", c->name, why);
			return -1;
		}
		rc = gdoi_key_load_private(GDOI_BYTES(buf, len), &g->sign_key);
		dm_file_free(buf, len);
		if (rc) {
			ks_log(KS_ERR, "group %s: rekey_key %s: %s (expected an unencrypted RSA >= 2048 or EC "
			       "P-256/384/521 private key, PEM or DER)", c->name, c->rekey_key_file, gdoi_strerror(rc));
			return -1;
		}
		return 0;
	}
	if (!g->rec.sign_der_len) {
		if (generate_sign_key(c->compat_gdoid, g->rec.sign_der, sizeof(g->rec.sign_der),
				      &g->rec.sign_der_len)) {
			ks_log(KS_ERR, "group %s: cannot generate a rekey key", c->name);
			return -1;
		}
		ks_log(KS_INFO, "group %s: generated a %s rekey signing key (kept in the state)", c->name,
		       c->compat_gdoid ? "RSA-2048" : "P-256");
	}
	rc = gdoi_key_load_private(GDOI_BYTES(g->rec.sign_der, g->rec.sign_der_len), &g->sign_key);
	if (rc)
		ks_log(KS_ERR, "group %s: stored rekey key: %s", c->name, gdoi_strerror(rc));
	return rc ? -1 : 0;
}

static void sig_params(const struct ks_group *g, uint16_t *alg, uint16_t *hash, uint16_t *bits)
{
	*bits = (uint16_t)gdoi_key_bits(g->sign_key);
	switch (gdoi_key_kind(g->sign_key)) {
	case GDOI_KEYKIND_EC_P256: *alg = GDOI_SIG_ALG_ECDSA_256; *hash = GDOI_SIG_HASH_SHA256; break;
	case GDOI_KEYKIND_EC_P384: *alg = GDOI_SIG_ALG_ECDSA_384; *hash = GDOI_SIG_HASH_SHA384; break;
	case GDOI_KEYKIND_EC_P521: *alg = GDOI_SIG_ALG_ECDSA_521; *hash = GDOI_SIG_HASH_SHA512; break;
	default:
		*alg = GDOI_SIG_ALG_RSA;
		*hash = g->cfg->sig_hash ? gdoi_md_to_sig_hash(g->cfg->sig_hash) : GDOI_SIG_HASH_SHA256;
		break;
	}
}

/* ---- policy ------------------------------------------------------------- */

/* An address selector: ID_IPV4_ADDR or ID_IPV6_ADDR (RFC 2407 §4.6.2.1). A wildcard
 * (0.0.0.0, or the dual-stack [::]) goes as 0.0.0.0, as before IPv6 was served. */
static struct gdoi_selector addr_selector(const struct ks_inet *a, uint16_t port)
{
	static const uint8_t any[16];
	struct gdoi_selector s = { .id_type = GDOI_ID_IPV4_ADDR, .addr_len = 4, .port = port };
	if (a->len == 16 && memcmp(a->ip, any, 16)) {
		s.id_type = GDOI_ID_IPV6_ADDR;
		s.addr_len = 16;
	}
	if (a->len == s.addr_len)
		memcpy(s.addr, a->ip, s.addr_len);
	return s;
}

static void kek_descriptor(const struct ks_group *g, struct gdoi_kek_policy *k, int64_t now)
{
	const struct ks_group_cfg *c = g->cfg;
	const struct ks_config *kc = g->ks->cfg;
	k->protocol = 17;
	k->src = addr_selector(&kc->listen, kc->listen.port);
	/* DST: the multicast rekey address, or for unicast-only delivery 0.0.0.0 and
	 * rekey_port (pushes go to each member's address, of either family, at that port;
	 * the reference member binds its rekey socket there), or port 0 without it (each
	 * member then receives pushes on the address and port it registered from). */
	static const struct ks_inet unicast = { .len = 4 };
	k->dst = addr_selector(c->mcast ? &c->mcast_addr : &unicast, c->mcast ? c->mcast_addr.port : c->rekey_port);
	k->alg = g->rec.has_kek ? g->rec.kek_alg : c->kek_alg;
	k->key_bits = g->rec.has_kek ? g->rec.kek_bits : c->kek_bits;
	int64_t left = g->rec.kek_created ? g->rec.kek_created + c->kek_lifetime - now : c->kek_lifetime;
	k->lifetime = left < 1 ? 1 : (uint32_t)left;
	sig_params(g, &k->sig_alg, &k->sig_hash, &k->sig_key_bits);
	k->trailer_len = c->compat_gdoid ? 6 : 4;
	k->ack_method = c->push_ack ? GDOI_REKEY_ACK_KEK_SHA256 : 0;
	if (g->sign_spki_len <= sizeof(k->rekey_pub)) {
		memcpy(k->rekey_pub, g->sign_spki, g->sign_spki_len);
		k->rekey_pub_len = g->sign_spki_len;
	}
}

static void tek_descriptor(const struct ks_group *g, struct gdoi_tek *t, uint32_t spi, uint16_t profile,
			   uint32_t lifetime)
{
	const struct ks_group_cfg *c = g->cfg;
	/* compat = gdoid: the reference's Protocol-ID 128 TEK (config allows only
	 * AES128_CM_SHA1_80 there, and claim_spi gives 16-bit SPIs) */
	*t = (struct gdoi_tek){ .kind = ks_group_tek_proto(g) == GDOI_TEK_PROTO_REF_SRTP ? GDOI_TEK_REF_SRTP
										  : GDOI_TEK_SRTP, .spi = spi,
		.src = { .id_type = GDOI_ID_IPV4_ADDR_SUBNET, .addr_len = 8 },	/* any sender */
		.u.srtp = { .profile = profile,
			    .flags = (uint8_t)((c->srtcp ? GDOI_SRTP_FLAG_SRTCP : 0) | (c->mki ? GDOI_SRTP_FLAG_MKI : 0)),
			    .lifetime = lifetime ? lifetime : 1, .replay_window = c->replay_window,
			    .ssrc_assigned = c->ssrc_assigned, .allow_repeat_tx = c->allow_repeat_tx } };
	if (c->dest.len == 16) {	/* ID_IPV6_ADDR, senders ::/0 as ID_IPV6_ADDR_SUBNET */
		t->src = (struct gdoi_selector){ .id_type = GDOI_ID_IPV6_ADDR_SUBNET, .addr_len = 32 };
		t->dst = (struct gdoi_selector){ .id_type = GDOI_ID_IPV6_ADDR, .port = c->dest.port,
						 .addr_len = 16 };
	} else {
		t->dst = (struct gdoi_selector){ .id_type = GDOI_ID_IPV4_ADDR, .port = c->dest.port,
						 .addr_len = 4 };
	}
	memcpy(t->dst.addr, c->dest.ip, t->dst.addr_len);
	const struct ks_esp_suite *e = ks_esp_suite(profile);
	if (e) {	/* ESP TEK (RFC 6407 §5.5.1): tunnel mode, UDP to the destination */
		t->kind = GDOI_TEK_ESP;
		t->u.ipsec = (struct gdoi_tek_ipsec_policy){ .protocol = c->dest.port ? 17 : 0,
			.transform_id = e->transform_id, .key_bits = e->key_bits, .auth_alg = e->auth_alg,
			.encap_mode = 1, .lifetime = lifetime ? lifetime : 1 };
	}
}

/* The state keeps a TEK's keys as one string: cipher key, then integrity key (ESP). */
static void tek_keys_from_rec(struct gdoi_tek *t, const struct ks_tek_rec *tr)
{
	size_t k, ik;
	if (gdoi_tek_key_lengths(t, &k, &ik) || k + ik != tr->key_len) {
		k = tr->key_len;
		ik = 0;
	}
	memcpy(t->key, tr->key, k);
	memcpy(t->integrity, tr->key + k, ik);
	t->key_len = k;
	t->integrity_len = ik;
}

static void tek_keys_to_rec(struct ks_tek_rec *tr, const struct gdoi_tek *t)
{
	memcpy(tr->key, t->key, t->key_len);
	memcpy(tr->key + t->key_len, t->integrity, t->integrity_len);
	tr->key_len = t->key_len + t->integrity_len;
}

void ks_group_build_policy(struct ks_group *g, int64_t now)
{
	const struct ks_group_cfg *c = g->cfg;
	struct ks_group_rec *r = &g->rec;
	gdoi_policy_clear(&g->pol);
	memset(&g->pol, 0, sizeof(g->pol));
	struct gdoi_policy *p = &g->pol;
	p->group_id = g->id;
	if (r->has_kek) {
		p->has_kek = true;
		kek_descriptor(g, &p->kek, now);
		memcpy(p->kek.spi, r->kek_spi, GDOI_KEK_SPI_LEN);
		memcpy(p->kek.iv, r->kek_iv, sizeof(p->kek.iv));
		memcpy(p->kek.key, r->kek_key, sizeof(p->kek.key));
		p->kek.have_keys = true;
		p->has_seq = true;
		p->seq = r->seq;
	}
	p->has_gap = true;
	p->atd = c->atd;
	p->dtd = c->dtd;
	ks_group_senders_to(g, p);
	/* Drop the previous generation once its DTD is over. */
	if (r->prev_until && now >= r->prev_until) {
		size_t k = 0;
		for (size_t i = 0; i < r->nteks; i++) {
			if (r->teks[i].gen == 0)
				r->teks[k++] = r->teks[i];
			else
				gdoi_wipe(&r->teks[i], sizeof(r->teks[i]));
		}
		r->nteks = k;
		r->prev_until = 0;
	}
	for (size_t i = 0; i < r->nteks && p->nteks < GDOI_MAX_TEKS; i++) {
		const struct ks_tek_rec *tr = &r->teks[i];
		int64_t end = tr->gen ? r->prev_until : r->tek_created + c->tek_lifetime;
		int64_t left = end - now;
		struct gdoi_tek *t = &p->teks[p->nteks++];
		tek_descriptor(g, t, tr->spi, tr->profile, left < 1 ? 1 : (uint32_t)left);
		tek_keys_from_rec(t, tr);
		t->have_keys = true;
	}
}

/* ---- generation ------------------------------------------------------------ */

uint8_t ks_group_tek_proto(const struct ks_group *g)
{
	/* a group's TEKs are all SRTP or all ESP (config.c) */
	if (g->cfg->nteks && ks_esp_suite(g->cfg->profiles[0]))
		return GDOI_TEK_PROTO_ESP;
	return g->cfg->compat_gdoid ? GDOI_TEK_PROTO_REF_SRTP : GDOI_TEK_PROTO_SRTP;
}

static int claim_spi(struct ks_group *g, uint32_t *spi)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t s;
		if (gdoi_random((uint8_t *)&s, sizeof(s)))
			return -1;
		if (ks_group_tek_proto(g) == GDOI_TEK_PROTO_REF_SRTP)
			s &= 0xffff;	/* the reference's TEK SPI field is 2 octets */
		if (!s)
			continue;
		int rc = ks_state_spi_claim(g->ks->st, g->id, s);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*spi = s;
			return 0;
		}
	}
	return -1;
}

int ks_group_new_teks(struct ks_group *g, int64_t now, struct gdoi_policy *update,
		      struct gdoi_push_delete *dels, size_t *ndels)
{
	const struct ks_group_cfg *c = g->cfg;
	struct ks_group_rec *r = &g->rec;
	memset(update, 0, sizeof(*update));
	update->group_id = g->id;
	update->has_gap = true;
	update->atd = c->atd;
	update->dtd = c->dtd;
	for (size_t i = 0; i < c->nteks; i++) {
		uint32_t spi;
		if (claim_spi(g, &spi)) {
			ks_log(KS_ERR, "group %s: cannot claim a new TEK SPI", c->name);
			return -1;
		}
		tek_descriptor(g, &update->teks[update->nteks++], spi, c->profiles[i], c->tek_lifetime);
	}
	int rc = gdoi_policy_generate_keys(update);
	if (rc) {
		ks_log(KS_ERR, "group %s: TEK generation: %s", c->name, gdoi_strerror(rc));
		return -1;
	}
	/* previous generation: deleted now; current becomes previous for DTD seconds */
	size_t nd = 0, k = 0;
	for (size_t i = 0; i < r->nteks; i++) {
		if (r->teks[i].gen) {
			if (dels && nd < GDOI_PUSH_MAX_DELETES)
				dels[nd++] = (struct gdoi_push_delete){ .proto = ks_group_tek_proto(g),
									.spi = r->teks[i].spi };
			gdoi_wipe(&r->teks[i], sizeof(r->teks[i]));
			continue;
		}
		r->teks[k] = r->teks[i];
		r->teks[k++].gen = 1;
	}
	r->nteks = k;
	r->prev_until = k ? now + (c->dtd ? c->dtd : 1) : 0;
	for (size_t i = 0; i < update->nteks && r->nteks < GDOI_MAX_TEKS; i++) {
		struct ks_tek_rec *t = &r->teks[r->nteks++];
		*t = (struct ks_tek_rec){ .spi = update->teks[i].spi, .profile = c->profiles[i], .gen = 0,
					  .created = now };
		tek_keys_to_rec(t, &update->teks[i]);
	}
	r->tek_created = now;
	if (ndels)
		*ndels = nd;
	return 0;
}

int ks_group_new_kek(struct ks_group *g, int64_t now, struct gdoi_policy *update)
{
	const struct ks_group_cfg *c = g->cfg;
	struct ks_group_rec *r = &g->rec;
	memset(update, 0, sizeof(*update));
	update->group_id = g->id;
	update->has_kek = true;
	r->has_kek = false;	/* descriptor from the configuration, not the old KEK */
	r->kek_created = now;
	kek_descriptor(g, &update->kek, now);
	update->kek.lifetime = c->kek_lifetime;
	if (gdoi_random(update->kek.spi, GDOI_KEK_SPI_LEN) || gdoi_policy_generate_keys(update)) {
		ks_log(KS_ERR, "group %s: KEK generation failed", c->name);
		return -1;
	}
	r->has_kek = true;
	memcpy(r->kek_spi, update->kek.spi, GDOI_KEK_SPI_LEN);
	r->kek_alg = c->kek_alg;
	r->kek_bits = c->kek_bits;
	memcpy(r->kek_iv, update->kek.iv, sizeof(r->kek_iv));
	memcpy(r->kek_key, update->kek.key, sizeof(r->kek_key));
	/* compat = gdoid: the reference's member keeps one replay counter per group
	 * and its key server continues SEQ across a rotation; RFC 6407 §5.7: a new
	 * KEK starts its own sequence */
	if (!c->compat_gdoid)
		r->seq = 0;
	return 0;
}

/* ---- the sender list ------------------------------------------------------- */

struct sender_rec {
	int64_t registered;
	uint32_t ssrc;
};

struct senders_ctx {
	struct sender_rec *v;
	size_t n, cap;
};

static void collect_senders(void *ctx, const struct ks_member_rec *m)
{
	struct senders_ctx *c = ctx;
	for (size_t i = 0; i < m->nssrcs && c->n < c->cap; i++)
		c->v[c->n++] = (struct sender_rec){ m->registered, m->ssrcs[i] };
}

static int newest_first(const void *a, const void *b)
{
	const struct sender_rec *x = a, *y = b;
	return x->registered != y->registered ? (x->registered < y->registered ? 1 : -1)
					      : (x->ssrc > y->ssrc) - (x->ssrc < y->ssrc);
}

static int ascending(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* A gdoid member fails a whole KD with a key packet type it does not know. */
static bool senders_ok(const struct ks_group *g)
{
	const struct ks_config *kc = g->ks->cfg;
	if (g->cfg->compat_gdoid)
		return false;
	for (size_t i = 0; i < kc->nmembers; i++)
		if (kc->members[i].compat_gdoid && ks_member_in_group(&kc->members[i], g->id))
			return false;
	return true;
}

void ks_group_load_senders(struct ks_group *g)
{
	g->nsenders = 0;
	g->senders_ok = senders_ok(g);
	if (!g->senders_ok)
		return;
	/* every registered member's newest SSRCs (at most GDOI_MAX_SIDS each: what its
	 * sidecar may still have leased); past GDOI_MAX_SENDERS, the most recently
	 * registered members' */
	size_t cap = g->ks->cfg->nmembers * GDOI_MAX_SIDS;
	struct senders_ctx c = { calloc(cap ? cap : 1, sizeof(*c.v)), 0, cap };
	if (!c.v) {
		ks_log(KS_ERR, "group %s: no memory for the sender list", g->cfg->name);
		return;
	}
	ks_state_members(g->ks->st, g->id, collect_senders, &c);
	qsort(c.v, c.n, sizeof(*c.v), newest_first);
	if (c.n > GDOI_MAX_SENDERS)
		ks_log(KS_WARN, "group %s: %zu sender SSRCs on record, members are told of the newest %d",
		       g->cfg->name, c.n, GDOI_MAX_SENDERS);
	for (size_t i = 0; i < c.n && g->nsenders < GDOI_MAX_SENDERS; i++)
		g->senders[g->nsenders++] = c.v[i].ssrc;
	free(c.v);
	qsort(g->senders, g->nsenders, sizeof(g->senders[0]), ascending);
}

void ks_group_senders_to(const struct ks_group *g, struct gdoi_policy *p)
{
	p->has_senders = g->senders_ok;
	p->nsenders = g->senders_ok ? g->nsenders : 0;
	memcpy(p->senders, g->senders, p->nsenders * sizeof(p->senders[0]));
}

int ks_group_assign_ssrcs(struct ks_group *g, const char *member, unsigned count, uint32_t *sids,
			  size_t *n)
{
	size_t have = 0;
	/* Fresh ones every time, never one given before in this group (the table's key):
	 * a sender's restarted sidecar must not get an SSRC it may have used under a
	 * TEK still in use (docs/bridge.md, "Keystream uniqueness"). */
	if (count > GDOI_MAX_SIDS)
		count = GDOI_MAX_SIDS;
	for (int tries = 0; have < count && tries < 1000; tries++) {
		uint32_t s;
		if (gdoi_random((uint8_t *)&s, sizeof(s)))
			return -1;
		if (!s)
			continue;
		int rc = ks_state_ssrc_add(g->ks->st, g->id, member, s);
		if (rc < 0)
			return -1;
		if (rc == 0)
			sids[have++] = s;
	}
	*n = have < count ? have : count;
	g->senders_changed |= have > 0;
	return have < count ? -1 : 0;
}

/* ---- open / reconfigure / close -------------------------------------------- */

/*
 * The state of this group was lost or rolled back: its KEK, or the last SEQ
 * used under it, is unknown. A new KEK epoch: new TEKs and a new KEK (a fresh
 * random SPI, SEQ from 0: members holding the old KEK never see one of its
 * SEQs again, because a SEQ counts per KEK; compat = gdoid groups continue
 * from the last SEQ the mark knows, for the reference member's one replay
 * counter), pushed at once under the new KEK
 * (tek_push_due). That push cannot be read by members of the old epoch; the
 * sidecar re-registers on a push under an unknown KEK, and any member
 * re-registers before its TEKs expire (docs/keyserver.md, "State loss").
 */
static int start_epoch(struct ks_group *g, int64_t now, const char *why)
{
	const struct ks_group_cfg *c = g->cfg;
	ks_log(KS_WARN, "group %s (id %u): %s: new KEK epoch: new TEKs%s, pushed at once; members of the old "
	       "epoch must register again", c->name, c->id, why, c->kek_alg ? " and a new KEK" : "");
	struct gdoi_policy *u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	int rc = ks_group_new_teks(g, now, u, NULL, NULL);
	if (!rc && c->kek_alg)
		rc = ks_group_new_kek(g, now, u);
	if (!c->kek_alg)
		g->rec.has_kek = false;
	gdoi_wipe_free(u, sizeof(*u));
	g->rec.tek_push_due = g->rec.has_kek;
	return rc;
}

static bool teks_match_cfg(const struct ks_group *g)
{
	size_t cur = 0;
	for (size_t i = 0; i < g->rec.nteks; i++) {
		if (g->rec.teks[i].gen)
			continue;
		if (cur >= g->cfg->nteks || g->rec.teks[i].profile != g->cfg->profiles[cur])
			return false;
		cur++;
	}
	return cur == g->cfg->nteks;
}

int ks_group_open(struct ks *ks, const struct ks_group_cfg *cfg, struct ks_group **out)
{
	struct ks_group *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->ks = ks;
	g->cfg = cfg;
	g->id = cfg->id;
	int64_t now = ks_unix_now();
	/* shared state: only the rekey leader creates a group's first keys; the
	 * others wait for them (a few seconds at most) */
	g->leader = !ks_state_shared(ks->st) || ks_state_lead(ks->st, g->id) >= 1;
	int rc = ks_state_load_group(ks->st, g->id, &g->rec);
	for (int i = 0; rc == 1 && !g->leader && i < 50; i++) {
		usleep(100000);
		g->leader = ks_state_lead(ks->st, g->id) >= 1;
		rc = ks_state_load_group(ks->st, g->id, &g->rec);
	}
	if (rc < 0)
		goto fail;
	char why[700];
	enum ks_state_verdict v = ks_state_verify_group(ks->st, rc, &g->rec, why, sizeof(why));
	bool fresh = rc == 1;
	if (load_sign_key(g))
		goto fail;
	bool save = fresh;
	if (v == KS_STATE_LOST) {
		if (start_epoch(g, now, why))
			goto fail;
		save = true;
	} else if (v == KS_STATE_BEHIND) {
		ks_log(KS_WARN, "group %s: %s: SEQ continues at %u under the same KEK and new TEKs are pushed "
		       "at once", cfg->name, why, g->rec.seq);
		g->rec.tek_push_due = true;
		save = true;
	} else if (fresh) {
		struct gdoi_policy *u = calloc(1, sizeof(*u));
		if (!u)
			goto fail;
		rc = ks_group_new_teks(g, now, u, NULL, NULL);
		if (!rc && cfg->kek_alg)
			rc = ks_group_new_kek(g, now, u);
		gdoi_wipe_free(u, sizeof(*u));
		if (rc)
			goto fail;
		g->rec.prev_until = 0;
		ks_log(KS_INFO, "group %s (id %u): first keys generated", cfg->name, cfg->id);
	} else {
		bool kek_ok = cfg->kek_alg ? g->rec.has_kek && g->rec.kek_alg == cfg->kek_alg &&
					       g->rec.kek_bits == cfg->kek_bits
					   : !g->rec.has_kek;
		if (!kek_ok) {
			ks_log(KS_WARN, "group %s: the KEK configuration changed: new KEK (members must register again)",
			       cfg->name);
			struct gdoi_policy *u = calloc(1, sizeof(*u));
			if (!u)
				goto fail;
			rc = cfg->kek_alg ? ks_group_new_kek(g, now, u) : 0;
			if (!cfg->kek_alg)
				g->rec.has_kek = false;
			gdoi_wipe_free(u, sizeof(*u));
			if (rc)
				goto fail;
			save = true;
		}
		ks_log(KS_INFO, "group %s (id %u): state loaded, SEQ %u, %zu TEK(s)", cfg->name, cfg->id,
		       g->rec.seq, g->rec.nteks);
	}
	if (save && ks_state_save_group(ks->st, &g->rec))
		goto fail;
	ks_group_load_senders(g);
	ks_group_build_policy(g, now);
	uv_timer_init(ks->loop, &g->timer);
	g->timer.data = g;
	ks_mcast_open(g);
	*out = g;
	return 0;
fail:
	ks_log(KS_ERR, "group %s: cannot set up its keys", cfg->name);
	gdoi_key_free(g->sign_key);
	free(g->sign_spki);
	g->sign_spki = NULL;
	gdoi_wipe(&g->rec, sizeof(g->rec));
	free(g);
	return -1;
}

bool ks_group_reconfigure(struct ks_group *g, const struct ks_group_cfg *cfg)
{
	/* compat changes the TEK form and the SPI size: new TEKs */
	bool form_changed = cfg->compat_gdoid != g->cfg->compat_gdoid;
	g->cfg = cfg;
	ks_mcast_open(g);	/* interface and hop limit anew */
	ks_group_load_senders(g);
	ks_group_build_policy(g, ks_unix_now());
	return form_changed || !teks_match_cfg(g);
}

static void group_free_cb(uv_handle_t *h)
{
	struct ks_group *g = h->data;
	if (g->mcast_open && !uv_is_closing((uv_handle_t *)&g->mcast)) {
		g->mcast.data = g;
		uv_close((uv_handle_t *)&g->mcast, group_free_cb);
		return;
	}
	gdoi_key_free(g->sign_key);
	free(g->sign_spki);
	g->sign_spki = NULL;
	gdoi_policy_clear(&g->pol);
	gdoi_wipe(&g->rec, sizeof(g->rec));
	free(g);
}

void ks_group_close(struct ks_group *g)
{
	uv_timer_stop(&g->timer);
	uv_close((uv_handle_t *)&g->timer, group_free_cb);
}

struct ks_group *ks_find_group(struct ks *ks, uint32_t wire_id)
{
	for (size_t i = 0; i < ks->ngroups; i++)
		if (ks->groups[i]->id == wire_id)
			return ks->groups[i];
	/* the reference implementation's little-endian group id */
	for (size_t i = 0; i < ks->ngroups; i++)
		if (ks->groups[i]->cfg->compat_gdoid && __builtin_bswap32(ks->groups[i]->id) == wire_id)
			return ks->groups[i];
	return NULL;
}

struct ks_group *ks_find_group_ref(struct ks *ks, const char *ref)
{
	const struct ks_group_cfg *c = ks_config_group_by_ref(ks->cfg, ref);
	return c ? ks_find_group(ks, c->id) : NULL;
}
