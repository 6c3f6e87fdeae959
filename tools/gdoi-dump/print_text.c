/*
 * print_text.c - the human-readable rendering of the message model built by
 * print_json.c: a summary line per message, then one line per payload with
 * its scalar fields, nested payloads and attributes indented below it.
 */
#include "dump.h"

#include <stdio.h>
#include <string.h>

#define MAX_HEX_SHOWN 64	/* octets of a long value printed before "..." */

static void scalar(FILE *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		if (n > 2 * MAX_HEX_SHOWN)
			fprintf(out, "%.*s...(%zu octets)", 2 * MAX_HEX_SHOWN, s, n / 2);
		else
			fputs(s, out);
		break;
	}
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_TRUE: fputs("yes", out); break;
	case JSON_FALSE: fputs("no", out); break;
	case JSON_NULL: fputs("-", out); break;
	default: fputs("?", out); break;
	}
}

static bool is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void attributes(FILE *out, const json_t *a, int depth)
{
	size_t i;
	json_t *at;
	json_array_foreach(a, i, at) {
		json_t *name = json_object_get(at, "name"), *v = json_object_get(at, "value");
		fprintf(out, "%*sattr %" JSON_INTEGER_FORMAT "%s%s = ", depth * 2, "",
			json_integer_value(json_object_get(at, "type")), name ? " " : "",
			name ? json_string_value(name) : "");
		if (v) {
			scalar(out, v);
		} else {
			/* Key material is printed whole: this is what the operator asked for. */
			const char *hex = json_string_value(json_object_get(at, "hex"));
			if (json_is_true(json_object_get(at, "secret")))
				fprintf(out, "%s  [KEY MATERIAL]", hex ? hex : "");
			else
				scalar(out, json_object_get(at, "hex"));
		}
		fputc('\n', out);
	}
}

/* One payload-like object: "TYPE k=v k=v", then nested objects and arrays. */
static void node(FILE *out, const json_t *o, int depth)
{
	const char *key;
	json_t *v;
	json_t *type = json_object_get(o, "type");
	fprintf(out, "%*s", depth * 2, "");
	if (json_is_string(type))
		fputs(json_string_value(type), out);
	else if (json_object_get(o, "kd_type"))
		fputs("key packet", out);
	json_object_foreach((json_t *)o, key, v) {
		if (!is_scalar(v) || v == type)
			continue;
		if (!strcmp(key, "secret"))
			continue;
		fprintf(out, " %s=", key);
		scalar(out, v);
	}
	if (json_is_true(json_object_get(o, "secret")))
		fputs("  [KEY MATERIAL]", out);
	fputc('\n', out);
	json_object_foreach((json_t *)o, key, v) {
		if (json_is_object(v)) {
			/* Selectors: scalars only, on one line. */
			const char *k2;
			json_t *v2;
			fprintf(out, "%*s%s:", (depth + 1) * 2, "", key);
			json_object_foreach(v, k2, v2) {
				if (!is_scalar(v2))
					continue;
				fprintf(out, " %s=", k2);
				scalar(out, v2);
			}
			fputc('\n', out);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;
			if (!strcmp(key, "attributes")) {
				attributes(out, v, depth + 1);
				continue;
			}
			if (json_array_size(v) && is_scalar(json_array_get(v, 0))) {
				fprintf(out, "%*s%s:", (depth + 1) * 2, "", key);
				json_array_foreach(v, i, e) {
					fputc(' ', out);
					scalar(out, e);
				}
				fputc('\n', out);
				continue;
			}
			json_array_foreach(v, i, e) {
				if (json_is_object(e))
					node(out, e, depth + 1);
			}
		}
	}
}

void print_text(json_t *o)
{
	FILE *out = stdout;
	json_t *src = json_object_get(o, "src"), *dst = json_object_get(o, "dst");
	fprintf(out, "frame %" JSON_INTEGER_FORMAT,
		json_integer_value(json_object_get(o, "frame")));
	if (src && dst)
		fprintf(out, " %s -> %s", json_string_value(src), json_string_value(dst));
	json_t *skip = json_object_get(o, "skipped");
	if (skip) {
		fprintf(out, ": skipped: %s\n", json_string_value(skip));
		return;
	}
	json_t *exch = json_object_get(o, "exchange");
	if (exch && json_object_get(o, "ike_version")) {
		fprintf(out, " IKEv2 %s(%" JSON_INTEGER_FORMAT ") flags=0x%02x%s%s msgid=%"
			JSON_INTEGER_FORMAT " len=%" JSON_INTEGER_FORMAT "%s\n",
			json_string_value(json_object_get(o, "exchange_name")),
			json_integer_value(exch),
			(unsigned)json_integer_value(json_object_get(o, "flags")),
			*json_string_value(json_object_get(o, "flag_names")) ? " " : "",
			json_string_value(json_object_get(o, "flag_names")),
			json_integer_value(json_object_get(o, "message_id")),
			json_integer_value(json_object_get(o, "length")),
			json_object_get(o, "nonesp_marker") ? " (after a Non-ESP Marker)" : "");
		fprintf(out, "  SPIs %s %s next=%s(%" JSON_INTEGER_FORMAT ") version=%"
			JSON_INTEGER_FORMAT ".%" JSON_INTEGER_FORMAT "\n",
			json_string_value(json_object_get(o, "spi_i")),
			json_string_value(json_object_get(o, "spi_r")),
			json_string_value(json_object_get(o, "next_payload_name")),
			json_integer_value(json_object_get(o, "next_payload")),
			json_integer_value(json_object_get(o, "major_version")),
			json_integer_value(json_object_get(o, "minor_version")));
	} else if (exch) {
		json_int_t flags = json_integer_value(json_object_get(o, "flags"));
		fprintf(out, " %s(%" JSON_INTEGER_FORMAT ") flags=0x%02x%s%s%s msgid=0x%08llx "
			"len=%" JSON_INTEGER_FORMAT "\n",
			json_string_value(json_object_get(o, "exchange_name")),
			json_integer_value(exch), (unsigned)flags,
			flags & GDOI_FLAG_ENC ? " E" : "", flags & GDOI_FLAG_COMMIT ? " C" : "",
			flags & GDOI_FLAG_AUTH_ONLY ? " A" : "",
			(unsigned long long)json_integer_value(json_object_get(o, "message_id")),
			json_integer_value(json_object_get(o, "length")));
		fprintf(out, "  cookies %s %s\n",
			json_string_value(json_object_get(o, "icookie")),
			json_string_value(json_object_get(o, "rcookie")));
	} else {
		fputc('\n', out);
	}
	if (json_object_get(o, "retransmission"))
		fputs("  retransmission of an earlier datagram\n", out);
	json_t *v;
	if ((v = json_object_get(o, "key")))
		fprintf(out, "  decrypted with %s\n", json_string_value(v));
	v = json_object_get(o, "not_decrypted");
	if (json_is_true(json_object_get(o, "encrypted")) &&
	    !json_is_true(json_object_get(o, "decrypted")) && !json_object_get(o, "error"))
		fprintf(out, "  encrypted, %" JSON_INTEGER_FORMAT " octets of ciphertext%s%s\n",
			json_integer_value(json_object_get(o, "ciphertext_length")),
			v ? ": " : "", v ? json_string_value(v) : "");
	json_t *pl = json_object_get(o, "payloads");
	size_t i;
	json_t *p;
	json_array_foreach(pl, i, p)
		node(out, p, 1);
	if ((v = json_object_get(o, "reassembly")))
		fprintf(out, "  SKF: %s\n", json_string_value(v));
	if ((v = json_object_get(o, "reassembled_from_frames"))) {
		size_t k;
		json_t *fr;
		fputs("  reassembled from frames", out);
		json_array_foreach(v, k, fr)
			fprintf(out, " %" JSON_INTEGER_FORMAT, json_integer_value(fr));
		fputc('\n', out);
	}
	if ((v = json_object_get(o, "learnt_rekey_sa")))
		fprintf(out, "  Rekey SA %s: keys learnt from this message's KD\n",
			json_string_value(v));
	if ((v = json_object_get(o, "padding")))
		fprintf(out, "  padding %" JSON_INTEGER_FORMAT " octets\n", json_integer_value(v));
	if ((v = json_object_get(o, "warning")))
		fprintf(out, "  WARNING: %s\n", json_string_value(v));
	json_t *err = json_object_get(o, "error");
	if (err)
		fprintf(out, "  ERROR: %s\n", json_string_value(json_object_get(err, "message")));
}
