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

/* ---- ike2.c, ike2_keys.c: IKEv2 and G-IKEv2 (RFC 7296, RFC 9838) -------- */

struct dump_ike2;

struct dump_ike2 *ike2_new(void);
void ike2_free(struct dump_ike2 *x);
/* One entry of tshark's ikev2_decryption_table:
 * SPIi,SPIr,SK_ei,SK_er,"ENCR",SK_ai,SK_ar,"INTEG"; 0 or -1 with err. */
int ike2_add_sa(struct dump_ike2 *x, const char *entry, const char *source, char *err,
		size_t errlen);
/* A file of such entries (tshark's ikev2_decryption_table file) and
 * "#sk_d SPIi,SPIr,SK_d,PRF" lines; '#' lines otherwise ignored. */
int ike2_add_keys_file(struct dump_ike2 *x, const char *path, char *err, size_t errlen);
/* "SPI=GSK_E[:GSK_W]": a Rekey SA (SPIi | SPIr, 32 hex digits). */
int ike2_add_rekey(struct dump_ike2 *x, const char *arg, char *err, size_t errlen);

/* Is this datagram IKEv2 (major version 2)? *skip gets 4 when it starts
 * with the Non-ESP Marker (four zero octets) before the IKE header. */
bool ike2_is_ike2(const uint8_t *data, size_t len, size_t *skip);
/* Decodes (and decrypts what it has keys for) one IKEv2 message into o;
 * false when it could not be decoded or decrypted (o has "error"). */
bool ike2_decode(struct dump_ike2 *x, const struct dump_frame *f, bool repeat, json_t *o);

/* ---- print_json.c ------------------------------------------------------- */

/* The frame's object with frame/src/dst filled. */
json_t *model_frame(const struct dump_frame *f);
/* Adds the header fields. */
void model_header(json_t *o, const struct gdoi_hdr *h);
/* Adds "payloads". */
void model_payloads(json_t *o, const struct gdoi_msg *m);
/* Adds "error": {message, payload, offset}; e may be NULL (payload/offset omitted). */
void model_error(json_t *o, const char *message, const struct gdoi_parse_error *e);
/* The same, for IKEv2 (payload names of gike2_payload_name). */
void model_error_ike2(json_t *o, const char *message, const struct gdoi_parse_error *e);
/* Hex string of b. */
json_t *model_hex(gdoi_bytes b);
/* Writes one line of JSON. */
void print_json(json_t *o);

/* ---- print_text.c ------------------------------------------------------- */

void print_text(json_t *o);

#endif
