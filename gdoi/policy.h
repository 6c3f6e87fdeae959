/*
 * policy.h - the group policy and key model: one group's KEK, GAP, TEKs
 * and this member's Sender-IDs, independent of how they travel.
 *
 * GDOI (RFC 6407) carries a policy as an SA payload (SA KEK, GAP, SA TEKs)
 * plus a KD payload (keys) and a SEQ; the converters here go both ways.
 * Nothing in struct gdoi_policy refers to IKEv1 framing, so that another
 * front end (G-IKEv2, RFC 9838) can reuse it. Key material lives inside the
 * structure and is wiped by gdoi_policy_clear().
 */
#ifndef GDOI_POLICY_H
#define GDOI_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "crypto.h"
#include "payload.h"

#define GDOI_MAX_TEKS 16
#define GDOI_MAX_SIDS 16
/* Sender SSRCs a group lists to its members (SRTP_SENDERS key packet): the
 * most recent ones; 256 x 4 octets keep a push well inside one datagram. */
#define GDOI_MAX_SENDERS 256
#define GDOI_MAX_TEK_KEY 64
#define GDOI_MAX_REKEY_PUB 1024

/* A traffic selector: the SRC/DST ID triple (address or subnet and port). */
struct gdoi_selector {
	uint8_t id_type;	/* GDOI_ID_IPV4_ADDR, _SUBNET, IPV6 ... */
	uint16_t port;		/* 0 = any */
	uint8_t addr_len;
	uint8_t addr[32];
};

enum gdoi_tek_kind {
	GDOI_TEK_SRTP = 1,	/* Protocol-ID 0xF5, docs/srtp-tek.md */
	GDOI_TEK_ESP,
	GDOI_TEK_AH,
	GDOI_TEK_REF_SRTP,	/* the reference implementation's Protocol-ID 128 (compat = gdoid) */
};

struct gdoi_tek_srtp_policy {
	uint16_t profile;	/* IANA DTLS-SRTP profile */
	uint8_t flags;		/* GDOI_SRTP_FLAG_SRTCP | GDOI_SRTP_FLAG_MKI */
	uint32_t lifetime;	/* seconds from receipt */
	uint16_t replay_window;	/* packets */
	bool ssrc_assigned;
	bool allow_repeat_tx;
};

struct gdoi_tek_ipsec_policy {
	uint8_t protocol;	/* IP protocol selector, 0 = any */
	uint8_t transform_id;	/* ESP_AES = 12, ESP_3DES = 3, AH_SHA = 3, ... */
	uint16_t key_bits;	/* Key Length attribute, 0 = absent */
	uint16_t auth_alg;	/* 0 = none */
	uint8_t encap_mode;	/* 1 tunnel, 2 transport */
	uint32_t lifetime;	/* seconds */
	uint8_t addr_preservation, sa_direction;	/* 0 = absent */
};

struct gdoi_tek {
	enum gdoi_tek_kind kind;
	uint32_t spi;		/* the reference's SRTP TEK: its 2-octet SPI */
	struct gdoi_selector src, dst;
	union {
		struct gdoi_tek_srtp_policy srtp;
		struct gdoi_tek_ipsec_policy ipsec;
	} u;
	/* From the KD: TEK_ALGORITHM_KEY (SRTP: master key | master salt) and
	 * TEK_INTEGRITY_KEY. */
	bool have_keys;
	size_t key_len, integrity_len;
	uint8_t key[GDOI_MAX_TEK_KEY];
	uint8_t integrity[GDOI_MAX_TEK_KEY];
};

struct gdoi_kek_policy {
	uint8_t spi[GDOI_KEK_SPI_LEN];
	uint8_t protocol;		/* of the PUSH datagrams: 17 */
	struct gdoi_selector src, dst;	/* key server, rekey destination */
	uint16_t alg;			/* KEK_ALGORITHM */
	uint16_t key_bits;
	uint32_t lifetime;
	uint16_t sig_alg, sig_hash, sig_key_bits;
	uint8_t trailer_len;		/* 4 (RFC 6407) or 6 (reference implementation) */
	uint16_t ack_method;		/* KEK_ACK_REQUESTED (RFC 8263, push_ack.h); 0: none */
	bool have_keys;
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	uint8_t key[GDOI_CIPHER_MAX_KEY_LEN];
	size_t rekey_pub_len;		/* SIG_ALGORITHM_KEY: DER SubjectPublicKeyInfo */
	uint8_t rekey_pub[GDOI_MAX_REKEY_PUB];
};

/* A KEK a push replaced: kept so that its pushes replayed are told from
 * pushes under a KEK the member never had. */
struct gdoi_kek_prev {
	uint8_t spi[GDOI_KEK_SPI_LEN];
	uint16_t alg, key_bits;
	uint8_t iv[GDOI_CIPHER_MAX_BLOCK_LEN];
	uint8_t key[GDOI_CIPHER_MAX_KEY_LEN];
	uint32_t seq;			/* the SEQ of the push that replaced it */
};

struct gdoi_policy {
	uint32_t group_id;
	bool has_kek;
	struct gdoi_kek_policy kek;
	bool has_gap;
	uint16_t atd, dtd;		/* seconds */
	size_t nteks;
	struct gdoi_tek teks[GDOI_MAX_TEKS];
	/* From the KD's SID packet: this member's sender IDs (SSRCs for SRTP). */
	uint8_t sid_bits;
	size_t nsids;
	uint32_t sids[GDOI_MAX_SIDS];
	/* From the KD's SRTP_SENDERS packet: every sender SSRC the group has
	 * assigned (to anyone), ascending; has_senders = the packet was there. */
	bool has_senders;
	size_t nsenders;
	uint32_t senders[GDOI_MAX_SENDERS];
	bool has_seq;
	uint32_t seq;
	bool has_prev_kek;
	struct gdoi_kek_prev prev_kek;
};

/* Wipes every key in p. */
void gdoi_policy_clear(struct gdoi_policy *p);

/* SRTP master key and salt lengths of a profile (srtp-tek.md); false if unknown. */
bool gdoi_srtp_key_lengths(uint16_t profile, size_t *key, size_t *salt);
/* Key lengths an ESP/AH TEK needs: cipher key (incl. GCM salt) and integrity key. */
int gdoi_ipsec_key_lengths(enum gdoi_tek_kind kind, const struct gdoi_tek_ipsec_policy *t,
			   size_t *key, size_t *integrity);
/* Key lengths of any TEK (SRTP: master key + salt). */
int gdoi_tek_key_lengths(const struct gdoi_tek *t, size_t *key, size_t *integrity);
/* KEK cipher of a policy, GDOI_CIPHER_NONE if unsupported. */
enum gdoi_cipher gdoi_kek_cipher(const struct gdoi_kek_policy *k);

/* Fills every key of p (TEK keys, KEK IV and key) from the CSPRNG. */
int gdoi_policy_generate_keys(struct gdoi_policy *p);

/*
 * Policy from a received SA payload. Everything not understood makes it
 * unacceptable (RFC 6407 §5.3.2, §5.4): unknown attributes, TEK protocols,
 * SRTP profiles, missing mandatory attributes. why gets a reason.
 * Key material is not touched (see gdoi_policy_apply_kd).
 */
int gdoi_policy_from_sa(struct gdoi_policy *p, const struct gdoi_sa_gdoi *sa, char *why,
			size_t why_len);
/*
 * Keys from a KD: every TEK of the policy needs its keys, the KEK its IV and
 * key when present; the lengths must be what the algorithms require. Packets
 * for SPIs the policy does not hold are an error. SID packets fill sids, an
 * SRTP_SENDERS packet senders; other private-use key packets (128-255) are skipped.
 */
int gdoi_policy_apply_kd(struct gdoi_policy *p, const struct gdoi_kd *kd, char *why,
			 size_t why_len);
/*
 * The same for a GROUPKEY-PUSH opened under the KEK whose SPI is hdr_spi.
 * The GDOI reference implementation rotates its KEK with a push whose SA KEK
 * names the new SPI while the KD's KEK key packet, carrying the new IV and
 * key, names the outgoing one (hdr_spi). A push holds at most one SA KEK
 * (the codec refuses a second) and one KEK key packet (a second is refused),
 * so that packet can only be the new KEK's key: it is taken as such and
 * *renamed is set. Any other SPI is still an unknown KEK.
 */
int gdoi_policy_apply_push_kd(struct gdoi_policy *p, const struct gdoi_kd *kd,
			      const uint8_t *hdr_spi, bool *renamed, char *why, size_t why_len);

/*
 * Payloads from a policy (the arena owns what they point to):
 * an SA payload (SAK if has_kek and with_kek, GAP if has_gap, every TEK),
 * and a KD payload (KEK packet if has_kek and with_kek, TEK packets, a
 * SID packet when nsids > 0, and an SRTP_SENDERS packet when has_senders).
 */
int gdoi_policy_to_sa(const struct gdoi_policy *p, bool with_kek, struct gdoi_arena *a,
		      struct gdoi_payload *out);
int gdoi_policy_to_kd(const struct gdoi_policy *p, bool with_kek, const uint32_t *sids,
		      size_t nsids, struct gdoi_arena *a, struct gdoi_payload *out);

const struct gdoi_tek *gdoi_policy_find_tek(const struct gdoi_policy *p, uint32_t spi);

#endif
