/*
 * dump.h - gdoi-dump internals: input readers (input.c), the key and IV
 * tables that decrypt captured exchanges (decrypt.c), the message model
 * built as a jansson object (print_json.c) and its text rendering
 * (print_text.c). main.c wires them together.
 */
#ifndef GDOI_DUMP_H
#define GDOI_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gdoi/wire.h"

#include "version.h"

/* ---- input.c ------------------------------------------------------------ */

/* One datagram (or one hex line) handed to the decoder. */
struct dump_frame {
	unsigned long number;	/* pcap frame number, or message number for hex input */
	bool have_addr;		/* src/dst are known (pcap) */
	char src[64], dst[64];	/* "addr:port" */
	uint16_t sport, dport;
	const uint8_t *data;	/* ISAKMP message (non-ESP marker already stripped) */
	size_t len;
	const char *skip;	/* not NULL: not decodable, this says why (data may be NULL) */
	bool quiet;		/* the skip is routine (not IP / not UDP): count, do not print */
	const char *input_error;/* not NULL: the input itself is bad here (e.g. bad hex) */
};

typedef void (*dump_frame_fn)(const struct dump_frame *f, void *ctx);

/* Each returns 0 when the whole input was read, 1 when reading stopped early
 * (truncated capture; message in err), 2 when the input could not be opened
 * or is not a capture (message in err). */
int input_pcap(const char *path, dump_frame_fn fn, void *ctx, char *err, size_t errlen);
int input_hex(const char *path, dump_frame_fn fn, void *ctx, char *err, size_t errlen);

/* ---- decrypt.c ---------------------------------------------------------- */

struct dump_keys;

struct dump_keys *keys_new(void);
void keys_free(struct dump_keys *k);
/* "ICOOKIE=HEXKEY" and "SPI=HEXIV:HEXKEY"; 0 or -1 with a message in err. */
int keys_add_ike(struct dump_keys *k, const char *arg, char *err, size_t errlen);
int keys_add_kek(struct dump_keys *k, const char *arg, char *err, size_t errlen);

/* Remembers the datagram; true when a byte-identical one was seen before. */
bool keys_is_repeat(struct dump_keys *k, const uint8_t *data, size_t len);

enum dec_status {
	DEC_NO_KEY,	/* no usable key: print as encrypted (not an error) */
	DEC_OK,		/* *plain holds header + plaintext, *plain_len octets */
	DEC_FAIL,	/* key known but decryption impossible (error, reason set) */
};

struct dec_result {
	enum dec_status status;
	uint8_t *plain;		/* malloc'd, free with keys_free_plain */
	size_t plain_len;
	char key_source[160];	/* which key was used, for the output */
	char reason[192];	/* DEC_NO_KEY / DEC_FAIL */
};

/* Decrypts an E-flagged message whose header parsed as hdr. A repeated
 * datagram (keys_is_repeat) is decrypted with the IV it had the first time
 * and advances no chain. */
void keys_decrypt(struct dump_keys *k, const uint8_t *data, size_t len,
		  const struct gdoi_hdr *hdr, bool repeat, struct dec_result *out);
void keys_free_plain(struct dec_result *r);

/* Learns from a parsed (clear or decrypted) message: Phase 1 transform and
 * KE values, SA KEK algorithms and KEKs from KD payloads. */
void keys_learn(struct dump_keys *k, const struct gdoi_msg *m, const struct dump_frame *f);

/* ---- print_json.c ------------------------------------------------------- */

/* The frame's object with frame/src/dst filled. */
json_t *model_frame(const struct dump_frame *f);
/* Adds the header fields. */
void model_header(json_t *o, const struct gdoi_hdr *h);
/* Adds "payloads". */
void model_payloads(json_t *o, const struct gdoi_msg *m);
/* Adds "error": {message, payload, offset}; e may be NULL (payload/offset omitted). */
void model_error(json_t *o, const char *message, const struct gdoi_parse_error *e);
/* Writes one line of JSON. */
void print_json(json_t *o);

/* ---- print_text.c ------------------------------------------------------- */

void print_text(json_t *o);

#endif
