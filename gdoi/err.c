/* err.c - descriptions of gdoi_err codes. */
#include "err.h"

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
	}
	return "unknown error";
}
