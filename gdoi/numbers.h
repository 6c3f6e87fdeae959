/*
 * numbers.h - every ISAKMP / IKEv1 / GDOI number the project uses, with the
 * section that defines it (see shared/reference/gdoi-wire.md).
 */
#ifndef GDOI_NUMBERS_H
#define GDOI_NUMBERS_H

#define GDOI_ISAKMP_VERSION	0x10	/* major 1, minor 0 (RFC 2408 §3.1) */
#define GDOI_HDR_LEN		28
#define GDOI_GENERIC_HDR_LEN	4
#define GDOI_PORT		848	/* IANA, RFC 6407 §2.2 */
#define GDOI_COOKIE_LEN		8
#define GDOI_KEK_SPI_LEN	16	/* CKY-I | CKY-R */

/* DOI (RFC 2408, RFC 2407, RFC 6407 §5.2) */
#define GDOI_DOI_ISAKMP		0
#define GDOI_DOI_IPSEC		1
#define GDOI_DOI_GDOI		2

/* Header flags (RFC 2408 §3.1) */
#define GDOI_FLAG_ENC		0x01
#define GDOI_FLAG_COMMIT	0x02
#define GDOI_FLAG_AUTH_ONLY	0x04

/* Exchange types (RFC 2408 §3.1, RFC 6407 §3.2.1, §4.2, RFC 8263) */
enum gdoi_exchange {
	GDOI_EXCH_IDENT_PROT = 2,	/* IKEv1 Main Mode */
	GDOI_EXCH_AGGRESSIVE = 4,
	GDOI_EXCH_INFO = 5,
	GDOI_EXCH_PULL = 32,		/* GROUPKEY-PULL */
	GDOI_EXCH_PUSH = 33,		/* GROUPKEY-PUSH */
	GDOI_EXCH_PUSH_ACK = 35,	/* RFC 8263 */
};

/* Payload types (RFC 2408 §3.1; RFC 6407 §5) */
enum gdoi_payload_type {
	GDOI_PL_NONE = 0,
	GDOI_PL_SA = 1,
	GDOI_PL_PROPOSAL = 2,
	GDOI_PL_TRANSFORM = 3,
	GDOI_PL_KE = 4,
	GDOI_PL_ID = 5,
	GDOI_PL_CERT = 6,
	GDOI_PL_CR = 7,
	GDOI_PL_HASH = 8,
	GDOI_PL_SIG = 9,
	GDOI_PL_NONCE = 10,
	GDOI_PL_NOTIFY = 11,
	GDOI_PL_DELETE = 12,
	GDOI_PL_VID = 13,
	GDOI_PL_SAK = 15,
	GDOI_PL_SAT = 16,
	GDOI_PL_KD = 17,
	GDOI_PL_SEQ = 18,
	GDOI_PL_NAT_D = 20,	/* RFC 3947: carried, not acted on */
	GDOI_PL_NAT_OA = 21,
	GDOI_PL_GAP = 22,
};

/* ID types (RFC 2407 §4.6.2.1, RFC 8052 §4) */
enum gdoi_id_type {
	GDOI_ID_IPV4_ADDR = 1,
	GDOI_ID_FQDN = 2,
	GDOI_ID_USER_FQDN = 3,
	GDOI_ID_IPV4_ADDR_SUBNET = 4,
	GDOI_ID_IPV6_ADDR = 5,
	GDOI_ID_IPV6_ADDR_SUBNET = 6,
	GDOI_ID_IPV4_ADDR_RANGE = 7,
	GDOI_ID_IPV6_ADDR_RANGE = 8,
	GDOI_ID_DER_ASN1_DN = 9,
	GDOI_ID_DER_ASN1_GN = 10,
	GDOI_ID_KEY_ID = 11,
};

/* Phase 1 SA: proposal protocol and transform id (RFC 2408 §3.5, RFC 2407 §4.4.1) */
#define GDOI_PROTO_ISAKMP	1
#define GDOI_KEY_IKE		1

/* Phase 1 attribute classes (RFC 2409 App. A) */
enum gdoi_ike_attr {
	GDOI_IKE_ENC = 1,
	GDOI_IKE_HASH = 2,
	GDOI_IKE_AUTH = 3,
	GDOI_IKE_GROUP = 4,
	GDOI_IKE_GROUP_TYPE = 5,
	GDOI_IKE_LIFE_TYPE = 11,
	GDOI_IKE_LIFE_DURATION = 12,
	GDOI_IKE_PRF = 13,
	GDOI_IKE_KEY_LENGTH = 14,
};
#define GDOI_IKE_ENC_DES	1
#define GDOI_IKE_ENC_3DES	5
#define GDOI_IKE_ENC_AES	7
#define GDOI_IKE_HASH_MD5	1
#define GDOI_IKE_HASH_SHA1	2
#define GDOI_IKE_HASH_SHA256	4
#define GDOI_IKE_HASH_SHA384	5
#define GDOI_IKE_HASH_SHA512	6
#define GDOI_IKE_AUTH_PSK	1
#define GDOI_IKE_AUTH_RSA_SIG	3
#define GDOI_IKE_AUTH_ECDSA_256	9
#define GDOI_IKE_AUTH_ECDSA_384	10
#define GDOI_IKE_AUTH_ECDSA_521	11
#define GDOI_IKE_LIFE_SECONDS	1
#define GDOI_IKE_LIFE_KILOBYTES	2

/* Notify message types (RFC 2408 §3.14.1, RFC 2407 §4.6.3) */
enum gdoi_notify_type {
	GDOI_N_INVALID_PAYLOAD_TYPE = 1,
	GDOI_N_DOI_NOT_SUPPORTED = 2,
	GDOI_N_SITUATION_NOT_SUPPORTED = 3,
	GDOI_N_INVALID_COOKIE = 4,
	GDOI_N_INVALID_MAJOR_VERSION = 5,
	GDOI_N_INVALID_MINOR_VERSION = 6,
	GDOI_N_INVALID_EXCHANGE_TYPE = 7,
	GDOI_N_INVALID_FLAGS = 8,
	GDOI_N_INVALID_MESSAGE_ID = 9,
	GDOI_N_INVALID_PROTOCOL_ID = 10,
	GDOI_N_INVALID_SPI = 11,
	GDOI_N_INVALID_TRANSFORM_ID = 12,
	GDOI_N_ATTRIBUTES_NOT_SUPPORTED = 13,
	GDOI_N_NO_PROPOSAL_CHOSEN = 14,
	GDOI_N_BAD_PROPOSAL_SYNTAX = 15,
	GDOI_N_PAYLOAD_MALFORMED = 16,
	GDOI_N_INVALID_KEY_INFORMATION = 17,
	GDOI_N_INVALID_ID_INFORMATION = 18,
	GDOI_N_INVALID_CERT_ENCODING = 19,
	GDOI_N_INVALID_CERTIFICATE = 20,
	GDOI_N_CERT_TYPE_UNSUPPORTED = 21,
	GDOI_N_INVALID_CERT_AUTHORITY = 22,
	GDOI_N_INVALID_HASH_INFORMATION = 23,
	GDOI_N_AUTHENTICATION_FAILED = 24,
	GDOI_N_INVALID_SIGNATURE = 25,
	GDOI_N_ADDRESS_NOTIFICATION = 26,
	GDOI_N_NOTIFY_SA_LIFETIME = 27,
	GDOI_N_CERTIFICATE_UNAVAILABLE = 28,
	GDOI_N_UNSUPPORTED_EXCHANGE_TYPE = 29,
	GDOI_N_UNEQUAL_PAYLOAD_LENGTHS = 30,
	/* Private use (8192-16383): this implementation's "cannot serve you now" (the key
	 * server could not record the registration, e.g. its disk is full): try later. */
	GDOI_N_PRIVATE_UNAVAILABLE = 8192,
	GDOI_N_CONNECTED = 16384,
	GDOI_N_INITIAL_CONTACT = 24578,
};

/* CERT encodings (RFC 2408 §3.9) */
#define GDOI_CERT_X509_SIG	4

/* SA KEK attributes (RFC 6407 §5.3) */
enum gdoi_kek_attr {
	GDOI_KEK_MANAGEMENT_ALGORITHM = 1,
	GDOI_KEK_ALGORITHM = 2,
	GDOI_KEK_KEY_LENGTH = 3,
	GDOI_KEK_KEY_LIFETIME = 4,
	GDOI_KEK_SIG_HASH_ALGORITHM = 5,
	GDOI_KEK_SIG_ALGORITHM = 6,
	GDOI_KEK_SIG_KEY_LENGTH = 7,
	GDOI_KEK_KE_OAKLEY_GROUP = 8,
	GDOI_KEK_ACK_REQUESTED = 9,
};
/* KEK_ACK_REQUESTED values (RFC 8263 §4) */
#define GDOI_REKEY_ACK_KEK_SHA256	1
#define GDOI_REKEY_ACK_LKH_SHA256	2
#define GDOI_REKEY_ACK_KEK_SHA512	3
#define GDOI_REKEY_ACK_LKH_SHA512	4
#define GDOI_KEK_ALG_DES	1
#define GDOI_KEK_ALG_3DES	2
#define GDOI_KEK_ALG_AES	3
#define GDOI_SIG_HASH_MD5	1
#define GDOI_SIG_HASH_SHA1	2
#define GDOI_SIG_HASH_SHA256	3
#define GDOI_SIG_HASH_SHA384	4
#define GDOI_SIG_HASH_SHA512	5
#define GDOI_SIG_ALG_RSA	1
#define GDOI_SIG_ALG_DSS	2
#define GDOI_SIG_ALG_ECDSS	3
#define GDOI_SIG_ALG_ECDSA_256	4
#define GDOI_SIG_ALG_ECDSA_384	5
#define GDOI_SIG_ALG_ECDSA_521	6

/* GAP attributes (RFC 6407 §5.4) */
#define GDOI_GAP_ATD		1
#define GDOI_GAP_DTD		2
#define GDOI_GAP_SENDER_ID_REQUEST 3

/* SA TEK Protocol-IDs (RFC 6407 §5.5, srtp-tek.md) */
#define GDOI_TEK_PROTO_ESP	1
#define GDOI_TEK_PROTO_AH	2
#define GDOI_TEK_PROTO_REF_SRTP	128	/* the reference implementation's, receive only */
#define GDOI_TEK_PROTO_SRTP	0xF5	/* this project's (docs/srtp-tek.md) */
#define GDOI_SRTP_TEK_VERSION	1
#define GDOI_SRTP_FLAG_SRTCP	0x01
#define GDOI_SRTP_FLAG_MKI	0x02

/* SRTP TEK attributes (srtp-tek.md) */
#define GDOI_SRTP_LIFETIME	1
#define GDOI_SRTP_REPLAY_WINDOW	2
#define GDOI_SRTP_SSRC_ASSIGNED	3
#define GDOI_SRTP_ALLOW_REPEAT_TX 4

/* SRTP profiles: IANA DTLS-SRTP Protection Profiles (RFC 5764, RFC 7714) */
#define GDOI_SRTP_AES128_CM_SHA1_80	0x0001
#define GDOI_SRTP_AES128_CM_SHA1_32	0x0002
#define GDOI_SRTP_NULL_SHA1_80		0x0005
#define GDOI_SRTP_NULL_SHA1_32		0x0006
#define GDOI_SRTP_AEAD_AES_128_GCM	0x0007
#define GDOI_SRTP_AEAD_AES_256_GCM	0x0008

/* IPsec attributes inside ESP/AH TEKs (RFC 2407 §4.5, RFC 6407 §5.5.1) */
#define GDOI_IPSEC_LIFE_TYPE	1
#define GDOI_IPSEC_LIFE_DURATION 2
#define GDOI_IPSEC_GROUP_DESC	3
#define GDOI_IPSEC_ENCAP_MODE	4
#define GDOI_IPSEC_AUTH_ALG	5
#define GDOI_IPSEC_KEY_LENGTH	6
#define GDOI_IPSEC_ADDR_PRESERVATION 14
#define GDOI_IPSEC_SA_DIRECTION	15

/* Key Download packet types and attributes (RFC 6407 §5.6) */
#define GDOI_KD_TEK		1
#define GDOI_KD_KEK		2
#define GDOI_KD_LKH		3
#define GDOI_KD_SID		4
#define GDOI_KD_TEK_ALGORITHM_KEY	1
#define GDOI_KD_TEK_INTEGRITY_KEY	2
#define GDOI_KD_TEK_SOURCE_AUTH_KEY	3
#define GDOI_KD_KEK_ALGORITHM_KEY	1
#define GDOI_KD_SIG_ALGORITHM_KEY	2
#define GDOI_KD_SID_NUMBER_OF_BITS	1
#define GDOI_KD_SID_VALUE		2
/* Project extension (private-use KD type, RFC 6407 §5.6: 128-255; docs/srtp-tek.md §10):
 * the group's assigned sender SSRCs, for receivers that accept only those. */
#define GDOI_KD_SRTP_SENDERS		0xF5
#define GDOI_KD_SENDERS_NUMBER		1	/* TV: how many SSRCs follow, 0..256 */
#define GDOI_KD_SENDERS_SSRCS		2	/* TLV: that many 4-octet SSRCs, ascending */
#define GDOI_KD_PRIVATE_MIN		128

/* Names for logs and tools; never NULL ("UNKNOWN" or a number string is not returned). */
const char *gdoi_payload_name(unsigned type);
const char *gdoi_exchange_name(unsigned exch);
const char *gdoi_notify_name(unsigned type);
const char *gdoi_id_type_name(unsigned type);
const char *gdoi_tek_proto_name(unsigned proto);
const char *gdoi_kd_type_name(unsigned type);
const char *gdoi_srtp_profile_name(unsigned profile);
/* Nonzero when the profile is one srtp-tek.md defines. */
int gdoi_srtp_profile_known(unsigned profile);

#endif
