/*
 * describe.c - TEK -> SRTP policy description, the sidecar side of the
 * bridge (see describe.h): profile, master key and salt, MKI and SRTCP
 * flags, the selectors as numeric addresses, replay window.
 */
#include "srtp-bridge/describe.h"

#include <arpa/inet.h>
#include <string.h>

#include "gdoi/numbers.h"
#include "gdoi/srtp_profiles.h"

static void selector(const struct gdoi_selector *s, char *addr, uint8_t *prefix, uint16_t *port)
{
	int af = (s->id_type == GDOI_ID_IPV6_ADDR || s->id_type == GDOI_ID_IPV6_ADDR_SUBNET) ?
		 AF_INET6 : AF_INET;
	size_t alen = af == AF_INET ? 4 : 16;
	uint8_t a[16] = { 0 };

	*port = s->port;
	if (s->addr_len >= alen)
		memcpy(a, s->addr, alen);
	inet_ntop(af, a, addr, 46);
	if (prefix) {
		*prefix = (uint8_t)(alen * 8);
		if ((s->id_type == GDOI_ID_IPV4_ADDR_SUBNET || s->id_type == GDOI_ID_IPV6_ADDR_SUBNET) &&
		    s->addr_len >= 2 * alen) {
			unsigned bits = 0;
			for (size_t i = 0; i < alen; i++)
				bits += (unsigned)__builtin_popcount(s->addr[alen + i]);
			*prefix = (uint8_t)bits;
		}
	}
}

int bridge_describe_tek(const struct gdoi_tek *t, struct ipc_tek *o)
{
	uint16_t profile = t->kind == GDOI_TEK_REF_SRTP ? 1 : t->u.srtp.profile;
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile(profile);
	size_t kl, sl;

	memset(o, 0, sizeof *o);
	if (!sp || !t->have_keys)
		return -1;
	kl = sp->key_len, sl = sp->salt_len;
	if (t->key_len != kl + sl || kl > sizeof o->master_key || sl > sizeof o->master_salt)
		return -1;
	o->spi = t->spi;
	o->profile_id = profile;
	o->master_key_len = kl;
	memcpy(o->master_key, t->key, kl);
	o->master_salt_len = sl;
	memcpy(o->master_salt, t->key + kl, sl);
	o->mki = t->u.srtp.flags & GDOI_SRTP_FLAG_MKI;
	o->srtcp = t->u.srtp.flags & GDOI_SRTP_FLAG_SRTCP;
	selector(&t->dst, o->dst_addr, NULL, &o->dst_port);
	selector(&t->src, o->src_addr, &o->src_prefix, &o->src_port);
	o->replay_window = t->u.srtp.replay_window ? t->u.srtp.replay_window : 128;
	o->allow_repeat_tx = t->u.srtp.allow_repeat_tx;
	o->ssrc_assigned = t->kind == GDOI_TEK_SRTP ? t->u.srtp.ssrc_assigned : false;
	return 0;
}
