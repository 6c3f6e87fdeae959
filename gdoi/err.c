/* err.c - descriptions of gdoi_err codes, and gdoi_refuse for reasons that go with them. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *gdoi_strerror(int err)
{
	switch ((gdoi_err)err) {
	case GDOI_OK: return "success";
	case GDOI_ERR_TRUNCATED: return "truncated";
	case GDOI_ERR_LENGTH: return "bad length";
	case GDOI_ERR_TRAILING: return "trailing bytes";
	case GDOI_ERR_PAYLOAD_TYPE: return "unexpected payload type";
	case GDOI_ERR_ATTR_EMPTY: return "empty attribute value";
	case GDOI_ERR_VALUE: return "unacceptable value";
	case GDOI_ERR_VERSION: return "unsupported version";
	case GDOI_ERR_RESERVED: return "reserved field not zero";
	case GDOI_ERR_NOMEM: return "out of memory";
	case GDOI_ERR_CRYPTO: return "cryptographic operation failed";
	case GDOI_ERR_INVALID_ARG: return "invalid argument";
	case GDOI_ERR_UNSUPPORTED: return "unsupported algorithm";
	case GDOI_ERR_DH_VALUE: return "invalid Diffie-Hellman public value";
	case GDOI_ERR_AUTH: return "authentication failed";
	case GDOI_ERR_CERT: return "certificate verification failed";
	case GDOI_ERR_TOO_BIG: return "value too large for its field";
	case GDOI_ERR_STATE: return "message not expected in this state";
	case GDOI_ERR_REPLAY: return "replayed or stale message";
	case GDOI_ERR_NO_PROPOSAL: return "no acceptable proposal";
	case GDOI_ERR_NOT_AUTHORIZED: return "not authorized";
	case GDOI_ERR_NOT_FOUND: return "not found";
	case GDOI_ERR_MISSING: return "required item missing";
	case GDOI_ERR_LIMIT: return "over a flood limit";
	case GDOI_ERR_UNAVAILABLE: return "cannot serve now";
	}
	return "unknown error";
}

const char *gdoi_err_name(int err)
{
	switch ((gdoi_err)err) {
	case GDOI_OK: return "ok";
	case GDOI_ERR_TRUNCATED: return "truncated";
	case GDOI_ERR_LENGTH: return "length";
	case GDOI_ERR_TRAILING: return "trailing";
	case GDOI_ERR_PAYLOAD_TYPE: return "payload_type";
	case GDOI_ERR_ATTR_EMPTY: return "attr_empty";
	case GDOI_ERR_VALUE: return "value";
	case GDOI_ERR_VERSION: return "version";
	case GDOI_ERR_RESERVED: return "reserved";
	case GDOI_ERR_NOMEM: return "nomem";
	case GDOI_ERR_CRYPTO: return "crypto";
	case GDOI_ERR_INVALID_ARG: return "invalid_arg";
	case GDOI_ERR_UNSUPPORTED: return "unsupported";
	case GDOI_ERR_DH_VALUE: return "dh_value";
	case GDOI_ERR_AUTH: return "auth";
	case GDOI_ERR_CERT: return "cert";
	case GDOI_ERR_TOO_BIG: return "too_big";
	case GDOI_ERR_STATE: return "state";
	case GDOI_ERR_REPLAY: return "replay";
	case GDOI_ERR_NO_PROPOSAL: return "no_proposal";
	case GDOI_ERR_NOT_AUTHORIZED: return "not_authorized";
	case GDOI_ERR_NOT_FOUND: return "not_found";
	case GDOI_ERR_MISSING: return "missing";
	case GDOI_ERR_LIMIT: return "limit";
	case GDOI_ERR_UNAVAILABLE: return "unavailable";
	}
	return "other";
}

size_t gdoi_err_slot(int err)
{
	return err < 0 && err >= GDOI_ERR_UNAVAILABLE ? (size_t)-err : 0;
}

const char *gdoi_err_slot_name(size_t slot)
{
	return slot && slot < GDOI_ERR_SLOTS ? gdoi_err_name(-(int)slot) : "other";
}

int gdoi_refuse(char *why, size_t len, int code, const char *fmt, ...)
{
	if (why && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return code;
}
