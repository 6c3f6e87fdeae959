/*
 * policy.c - srtp_policy_t from an SRTP TEK: profile, master key || salt,
 * MKI = SPI (network order) when the TEK carries it, replay window.
 */
#include "srtp-bridge/internal.h"
#include "gdoi/srtp_profiles.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status;

/* libsrtp2 refuses a second srtp_init() (bad_param) and has no "is it
 * initialised" call, yet applications commonly initialise it themselves.
 * So a refused init is accepted when a context can be created anyway. */
static void do_init(void)
{
	init_status = srtp_init();
	if (init_status == srtp_err_status_ok)
		return;
	static unsigned char key[30];
	srtp_policy_t p;
	srtp_t s = NULL;
	memset(&p, 0, sizeof(p));
	srtp_crypto_policy_set_rtp_default(&p.rtp);
	srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	p.key = key;
	p.ssrc.type = ssrc_any_inbound;
	if (srtp_create(&s, &p) == srtp_err_status_ok) {
		srtp_dealloc(s);
		init_status = srtp_err_status_ok;
	}
}

int gdoisrtp_srtp_init(void)
{
	pthread_once(&init_once, do_init);
	return init_status == srtp_err_status_ok ? 0 : GDOISRTP_ERR_SRTP;
}

int gdoisrtp_err_from_srtp(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok: return 0;
	case srtp_err_status_auth_fail: return GDOISRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old: return GDOISRTP_ERR_REPLAY;
	case srtp_err_status_bad_mki:
	case srtp_err_status_no_ctx: return GDOISRTP_ERR_NO_KEY;
	case srtp_err_status_key_expired: return GDOISRTP_ERR_EXPIRED;
	case srtp_err_status_alloc_fail: return GDOISRTP_ERR_NOMEM;
	case srtp_err_status_parse_err:
	case srtp_err_status_bad_param: return GDOISRTP_ERR_PARSE;
	/* GCM reports a bad tag as a cipher failure */
	case srtp_err_status_cipher_fail: return GDOISRTP_ERR_AUTH;
	default: return GDOISRTP_ERR_SRTP;
	}
}

/* The profiles of docs/srtp-tek.md (gdoi/srtp_profiles.c). */
int gdoisrtp_profile_lengths(uint16_t profile, size_t *key_len, size_t *salt_len)
{
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile(profile);

	if (!sp)
		return GDOISRTP_ERR_PROFILE;
	if (key_len)
		*key_len = sp->key_len;
	if (salt_len)
		*salt_len = sp->salt_len;
	return 0;
}

int gdoisrtp_profile_tag_len(uint16_t profile, int rtcp)
{
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile(profile);

	if (!sp)
		return -1;
	/* libsrtp2 puts the MKI after the GCM tag: for locating it, the tag is 0 */
	if (sp->aead)
		return 0;
	return rtcp ? sp->rtcp_tag_len : sp->rtp_tag_len;
}

/* libsrtp2 2.5's profile helpers do not know NULL_HMAC_SHA1_32 (6); RFC 5764
 * §4.1.2 gives it 128+112 bits and a 32-bit SRTP tag (SRTCP keeps 80 bits),
 * which we build from profile 5. */
static int crypto_policies(uint16_t profile, srtp_policy_t *p)
{
	srtp_profile_t base = profile == srtp_profile_null_sha1_32 ? srtp_profile_null_sha1_80
								   : (srtp_profile_t)profile;
	if (gdoisrtp_profile_lengths(profile, NULL, NULL) != 0 ||
	    srtp_crypto_policy_set_from_profile_for_rtp(&p->rtp, base) != srtp_err_status_ok ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&p->rtcp, base) != srtp_err_status_ok)
		return GDOISRTP_ERR_PROFILE;
	if (profile == srtp_profile_null_sha1_32)
		p->rtp.auth_tag_len = 4;
	return 0;
}

int gdoisrtp_policy_from_tek(const struct ipc_tek *t, srtp_policy_t *out,
			     struct gdoisrtp_key_storage *ks)
{
	size_t kl, sl;
	int rc = gdoisrtp_profile_lengths(t->profile_id, &kl, &sl);
	if (rc)
		return rc;
	if (t->master_key_len != kl || t->master_salt_len != sl)
		return GDOISRTP_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = crypto_policies(t->profile_id, out)) != 0)
		return rc;
	memset(ks, 0, sizeof(*ks));
	memcpy(ks->key, t->master_key, kl);
	memcpy(ks->key + kl, t->master_salt, sl);
	if (t->mki) {
		ks->mki[0] = (uint8_t)(t->spi >> 24);
		ks->mki[1] = (uint8_t)(t->spi >> 16);
		ks->mki[2] = (uint8_t)(t->spi >> 8);
		ks->mki[3] = (uint8_t)t->spi;
		ks->mk = (srtp_master_key_t){ .key = ks->key, .mki_id = ks->mki, .mki_size = 4 };
		ks->mkp[0] = &ks->mk;
		out->keys = ks->mkp;
		out->num_master_keys = 1;
	} else {
		out->key = ks->key;
	}
	/* libsrtp2 wants 64 <= window < 0x8000; the TEK says 64..32767, absent = 128 */
	out->window_size = t->replay_window >= 64 && t->replay_window < 0x8000 ? t->replay_window : 128;
	out->allow_repeat_tx = t->allow_repeat_tx;
	return 0;
}

static int check_tek(const gdoisrtp_snapshot *s, size_t tek, srtp_policy_t *out,
		     struct gdoisrtp_key_storage *ks)
{
	if (!s || !out || !ks || tek >= s->s.nteks)
		return GDOISRTP_ERR_INVAL;
	return gdoisrtp_srtp_init();
}

int gdoisrtp_policy_sender(const gdoisrtp_snapshot *s, size_t tek, uint32_t ssrc,
			   srtp_policy_t *out, struct gdoisrtp_key_storage *ks)
{
	int rc = check_tek(s, tek, out, ks);
	if (rc)
		return rc;
	const struct ipc_tek *t = &s->s.teks[tek];
	if (t->ssrc_assigned) {
		size_t i;
		for (i = 0; i < s->s.nssrcs && s->s.ssrcs[i] != ssrc; i++)
			;
		if (i == s->s.nssrcs)
			return GDOISRTP_ERR_SSRC;
	}
	if ((rc = gdoisrtp_policy_from_tek(t, out, ks)) != 0)
		return rc;
	out->ssrc.type = ssrc_specific;
	out->ssrc.value = ssrc;
	return 0;
}

int gdoisrtp_policy_receiver(const gdoisrtp_snapshot *s, size_t tek,
			     srtp_policy_t *out, struct gdoisrtp_key_storage *ks)
{
	int rc = check_tek(s, tek, out, ks);
	if (rc)
		return rc;
	if ((rc = gdoisrtp_policy_from_tek(&s->s.teks[tek], out, ks)) != 0)
		return rc;
	out->ssrc.type = ssrc_any_inbound;
	return 0;
}

int gdoisrtp_key_storage_new(gdoisrtp_key_storage **out)
{
	if (!out)
		return GDOISRTP_ERR_INVAL;
	*out = gdoisrtp_secmem_alloc(sizeof(**out));
	return *out ? 0 : GDOISRTP_ERR_NOMEM;
}

void gdoisrtp_key_storage_wipe(gdoisrtp_key_storage *ks)
{
	gdoisrtp_wipe(ks, sizeof(*ks));
}

void gdoisrtp_key_storage_free(gdoisrtp_key_storage *ks)
{
	gdoisrtp_secmem_free(ks);
}
