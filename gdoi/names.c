/* names.c - printable names of protocol numbers, for logs and gdoi-dump. */
#include <stddef.h>

#include "numbers.h"
#include "srtp_profiles.h"

const char *gdoi_payload_name(unsigned type)
{
	switch (type) {
	case GDOI_PL_NONE: return "NONE";
	case GDOI_PL_SA: return "SA";
	case GDOI_PL_PROPOSAL: return "PROPOSAL";
	case GDOI_PL_TRANSFORM: return "TRANSFORM";
	case GDOI_PL_KE: return "KE";
	case GDOI_PL_ID: return "ID";
	case GDOI_PL_CERT: return "CERT";
	case GDOI_PL_CR: return "CR";
	case GDOI_PL_HASH: return "HASH";
	case GDOI_PL_SIG: return "SIG";
	case GDOI_PL_NONCE: return "NONCE";
	case GDOI_PL_NOTIFY: return "NOTIFY";
	case GDOI_PL_DELETE: return "DELETE";
	case GDOI_PL_VID: return "VID";
	case GDOI_PL_SAK: return "SAK";
	case GDOI_PL_SAT: return "SAT";
	case GDOI_PL_KD: return "KD";
	case GDOI_PL_SEQ: return "SEQ";
	case GDOI_PL_GAP: return "GAP";
	case GDOI_PL_NAT_D: return "NAT-D";
	case GDOI_PL_NAT_OA: return "NAT-OA";
	}
	return "UNKNOWN";
}

const char *gdoi_exchange_name(unsigned exch)
{
	switch (exch) {
	case GDOI_EXCH_IDENT_PROT: return "IDENTITY_PROTECTION";
	case GDOI_EXCH_AGGRESSIVE: return "AGGRESSIVE";
	case GDOI_EXCH_INFO: return "INFORMATIONAL";
	case GDOI_EXCH_PULL: return "GROUPKEY_PULL";
	case GDOI_EXCH_PUSH: return "GROUPKEY_PUSH";
	case GDOI_EXCH_PUSH_ACK: return "GROUPKEY_PUSH_ACK";
	}
	return "UNKNOWN";
}

const char *gdoi_notify_name(unsigned type)
{
	static const char *const errors[] = {
		NULL, "INVALID-PAYLOAD-TYPE", "DOI-NOT-SUPPORTED", "SITUATION-NOT-SUPPORTED",
		"INVALID-COOKIE", "INVALID-MAJOR-VERSION", "INVALID-MINOR-VERSION",
		"INVALID-EXCHANGE-TYPE", "INVALID-FLAGS", "INVALID-MESSAGE-ID",
		"INVALID-PROTOCOL-ID", "INVALID-SPI", "INVALID-TRANSFORM-ID",
		"ATTRIBUTES-NOT-SUPPORTED", "NO-PROPOSAL-CHOSEN", "BAD-PROPOSAL-SYNTAX",
		"PAYLOAD-MALFORMED", "INVALID-KEY-INFORMATION", "INVALID-ID-INFORMATION",
		"INVALID-CERT-ENCODING", "INVALID-CERTIFICATE", "CERT-TYPE-UNSUPPORTED",
		"INVALID-CERT-AUTHORITY", "INVALID-HASH-INFORMATION", "AUTHENTICATION-FAILED",
		"INVALID-SIGNATURE", "ADDRESS-NOTIFICATION", "NOTIFY-SA-LIFETIME",
		"CERTIFICATE-UNAVAILABLE", "UNSUPPORTED-EXCHANGE-TYPE", "UNEQUAL-PAYLOAD-LENGTHS",
	};
	if (type > 0 && type < sizeof(errors) / sizeof(errors[0]))
		return errors[type];
	if (type == GDOI_N_PRIVATE_UNAVAILABLE)
		return "UNAVAILABLE (private use)";
	if (type == GDOI_N_CONNECTED)
		return "CONNECTED";
	if (type == GDOI_N_INITIAL_CONTACT)
		return "INITIAL-CONTACT";
	return "UNKNOWN";
}

const char *gdoi_id_type_name(unsigned type)
{
	static const char *const names[] = {
		NULL, "IPV4_ADDR", "FQDN", "USER_FQDN", "IPV4_ADDR_SUBNET", "IPV6_ADDR",
		"IPV6_ADDR_SUBNET", "IPV4_ADDR_RANGE", "IPV6_ADDR_RANGE", "DER_ASN1_DN",
		"DER_ASN1_GN", "KEY_ID",
	};
	if (type > 0 && type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "UNKNOWN";
}

const char *gdoi_tek_proto_name(unsigned proto)
{
	switch (proto) {
	case GDOI_TEK_PROTO_ESP: return "ESP";
	case GDOI_TEK_PROTO_AH: return "AH";
	case GDOI_TEK_PROTO_REF_SRTP: return "SRTP_REF";
	case GDOI_TEK_PROTO_SRTP: return "SRTP";
	}
	return "UNKNOWN";
}

const char *gdoi_kd_type_name(unsigned type)
{
	switch (type) {
	case GDOI_KD_TEK: return "TEK";
	case GDOI_KD_KEK: return "KEK";
	case GDOI_KD_LKH: return "LKH";
	case GDOI_KD_SID: return "SID";
	case GDOI_KD_SRTP_SENDERS: return "SRTP_SENDERS";
	}
	return "UNKNOWN";
}

const char *gdoi_srtp_profile_name(unsigned profile)
{
	const struct gdoi_srtp_profile *sp =
		profile <= UINT16_MAX ? gdoi_srtp_profile((uint16_t)profile) : NULL;

	return sp ? sp->name : "UNKNOWN";
}

int gdoi_srtp_profile_known(unsigned profile)
{
	return profile <= UINT16_MAX && gdoi_srtp_profile((uint16_t)profile) != NULL;
}
