/*
 * err.h - error codes of the protocol core.
 *
 * Functions return 0 (GDOI_OK) or a negative gdoi_err. Parsers additionally
 * fill a struct gdoi_parse_error naming the payload and the absolute offset
 * in the message where the problem was found.
 */
#ifndef GDOI_ERR_H
#define GDOI_ERR_H

#include <stddef.h>
#include <stdint.h>

typedef enum gdoi_err {
	GDOI_OK = 0,
	GDOI_ERR_TRUNCATED = -1,	/* a field runs past its container */
	GDOI_ERR_LENGTH = -2,		/* a length field is impossible */
	GDOI_ERR_TRAILING = -3,		/* bytes left over inside a payload */
	GDOI_ERR_PAYLOAD_TYPE = -4,	/* unknown or misplaced payload type */
	GDOI_ERR_ATTR_EMPTY = -5,	/* zero-length attribute where a value is required */
	GDOI_ERR_VALUE = -6,		/* a field holds a value we refuse */
	GDOI_ERR_VERSION = -7,		/* ISAKMP or TEK version not supported */
	GDOI_ERR_RESERVED = -8,		/* a RESERVED field is not zero */
	GDOI_ERR_NOMEM = -9,
	GDOI_ERR_CRYPTO = -10,		/* OpenSSL failed */
	GDOI_ERR_INVALID_ARG = -11,	/* caller passed something impossible */
	GDOI_ERR_UNSUPPORTED = -12,	/* algorithm or group we do not implement */
	GDOI_ERR_DH_VALUE = -13,	/* peer DH public value rejected (RFC 6989) */
	GDOI_ERR_AUTH = -14,		/* hash, MAC or signature did not verify */
	GDOI_ERR_CERT = -15,		/* certificate chain did not verify */
	GDOI_ERR_TOO_BIG = -16,		/* a built field would not fit its length */
	GDOI_ERR_STATE = -17,		/* message not expected in this state */
	GDOI_ERR_REPLAY = -18,		/* duplicate or old message */
	GDOI_ERR_NO_PROPOSAL = -19,	/* no acceptable proposal */
	GDOI_ERR_NOT_AUTHORIZED = -20,	/* identity not allowed */
	GDOI_ERR_NOT_FOUND = -21,	/* unknown group, SPI, cookie, ... */
	GDOI_ERR_MISSING = -22,		/* a required payload or attribute is absent */
	GDOI_ERR_LIMIT = -23,		/* over a flood limit: dropped unread */
	GDOI_ERR_UNAVAILABLE = -24,	/* cannot serve now (state unreachable): try later or elsewhere */
} gdoi_err;

/* A short English description; never NULL. */
const char *gdoi_strerror(int err);
/* The code as a lower-case identifier ("not_authorized", "replay"; "ok", "other" for
 * an unknown one): a label value for metrics, from a fixed set. Never NULL. */
const char *gdoi_err_name(int err);
/* For counting by code: an index 1..GDOI_ERR_SLOTS-1 (-err) for each error code, 0 for
 * anything else; gdoi_err_slot_name is the label of an index (0: "other"). */
#define GDOI_ERR_SLOTS (1 - GDOI_ERR_UNAVAILABLE)
size_t gdoi_err_slot(int err);
const char *gdoi_err_slot_name(size_t slot);

/* Writes the printf-style reason into why[len] (when why is not NULL) and returns code:
 * `return gdoi_refuse(why, wl, GDOI_ERR_VALUE, "...", ...);` in the policy and push code. */
int gdoi_refuse(char *why, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Where a parse failed. payload is the ISAKMP payload type being read (0 for the header). */
struct gdoi_parse_error {
	int code;
	uint8_t payload;
	size_t offset;
	char what[96];	/* which field, e.g. "SA TEK SPI" */
};

#endif
