/*
 * gdoi-dump - decodes ISAKMP / GDOI and IKEv2 / G-IKEv2 messages from a
 * capture or from hex, and decrypts them when given the Phase 1 key or a KEK
 * (GDOI), the SK keys or a Rekey SA's keys (G-IKEv2, ike2.c).
 *
 * Exit status: 0 every message decoded; 1 at least one message could not be
 * decoded or decrypted; 2 usage error or unreadable / damaged input.
 */
#include "dump.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PORTS 16

struct run {
	struct dump_keys *keys;
	struct dump_ike2 *ike2;
	bool json;
	uint16_t ports[MAX_PORTS];
	size_t nports;
	unsigned long messages, errors, skipped, ignored;
};

static void usage(FILE *out)
{
	fputs("usage: gdoi-dump [options] CAPTURE.pcap[ng]\n"
	      "       gdoi-dump [options] --hex [FILE]   (hex, one message per line; stdin if no FILE)\n"
	      "       gdoi-dump [options] -               (hex on stdin)\n"
	      "\n"
	      "Decodes every ISAKMP/GDOI message (IKEv1 Main Mode, GROUPKEY-PULL,\n"
	      "GROUPKEY-PUSH, Informational) and every IKEv2 / G-IKEv2 message (IKE_SA_INIT,\n"
	      "IKE_AUTH, INFORMATIONAL, GSA_AUTH, GSA_REGISTRATION, GSA_REKEY,\n"
	      "GSA_INBAND_REKEY; with or without the Non-ESP Marker) and prints its payloads.\n"
	      "\n"
	      "  -j, --json              one JSON object per message per line\n"
	      "  -x, --hex               input is hex text, not a capture\n"
	      "  -k, --ike-key ICOOKIE=HEXKEY\n"
	      "                          Phase 1 encryption key of the IKE SA whose initiator\n"
	      "                          cookie is ICOOKIE (16 hex digits); IVs are derived from\n"
	      "                          the capture. Repeatable.\n"
	      "  -K, --kek SPI=HEXIV:HEXKEY\n"
	      "                          KEK for GROUPKEY-PUSH messages with this SPI (32 hex\n"
	      "                          digits, CKY-I|CKY-R). KEKs in decrypted KD payloads\n"
	      "                          are learnt automatically. Repeatable.\n"
	      "  -s, --ike2-sa ENTRY     SK keys of one IKEv2 SA as tshark's ikev2_decryption_table\n"
	      "                          takes them: SPIi,SPIr,SK_ei,SK_er,\"ENCR\",SK_ai,SK_ar,\"INTEG\"\n"
	      "                          (hex; SK_e* with the 4-octet GCM salt; ENCR e.g.\n"
	      "                          \"AES-GCM-256 with 16 octet ICV [RFC5282]\" or \"AES-CBC-256\n"
	      "                          [RFC3602]\", INTEG \"NONE [RFC4306]\" or \"HMAC_SHA2_256_128\n"
	      "                          [RFC4868]\"). Decrypts SK and SKF payloads. Repeatable.\n"
	      "  -F, --ike2-keys FILE    such entries, one per line (tshark's ikev2_decryption_table\n"
	      "                          file, or a sidecar's ike2_keys_log); \"#sk_d SPIi,SPIr,SK_d,PRF\"\n"
	      "                          lines add SK_d: the KD's keys are then unwrapped and the\n"
	      "                          Rekey SA it delivers decrypts the GSA_REKEYs. Repeatable.\n"
	      "  -R, --ike2-rekey SPI=GSK_E[:GSK_W]\n"
	      "                          keys of a G-IKEv2 Rekey SA (SPI: SPIi|SPIr, 32 hex digits;\n"
	      "                          GSK_e: AES-GCM key | 4-octet salt; GSK_w unwraps its KDs).\n"
	      "                          Repeatable.\n"
	      "  -p, --port N            only UDP frames from or to port N (repeatable)\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           version\n"
	      "\n"
	      "Key material found in KD payloads is printed, marked [KEY MATERIAL] (\"secret\": true).\n"
	      "An SK/SKF payload whose ICV does not verify is reported as \"ICV mismatch\".\n"
	      "Exit status: 0 all decoded, 1 some message failed to decode or decrypt,\n"
	      "2 usage error or unreadable input.\n",
	      out);
}

static bool port_wanted(const struct run *r, const struct dump_frame *f)
{
	if (r->nports == 0 || !f->have_addr)
		return true;
	for (size_t i = 0; i < r->nports; i++)
		if (f->sport == r->ports[i] || f->dport == r->ports[i])
			return true;
	return false;
}

static void emit(struct run *r, json_t *o)
{
	if (r->json)
		print_json(o);
	else
		print_text(o);
	json_decref(o);
}

/*
 * The reference implementation's plaintext copies (the vectors' *-clear.pcap)
 * clear the E flag but keep what followed: the CBC padding after the chain,
 * or - in the key server's copies of GROUPKEY-PUSH - the whole ciphertext.
 * Such a message does not parse as sent; decode it the way it evidently is
 * and say so in "warning". Only PUSH is tried for the second case: it has no
 * IV chain that a wrong guess could disturb.
 */
static bool clear_copy_fallback(struct run *r, const struct dump_frame *f,
				const struct gdoi_hdr *h, const struct gdoi_parse_error *pe,
				struct gdoi_msg **m, struct dec_result *dr, json_t *o)
{
	struct gdoi_parse_error pe2;
	char w[300];
	if (pe->code == GDOI_ERR_TRAILING && pe->payload == 0) {
		dr->plain = malloc(f->len);
		if (!dr->plain)
			return false;
		dr->plain_len = f->len;
		memcpy(dr->plain, f->data, f->len);
		dr->plain[19] |= GDOI_FLAG_ENC;
		if (gdoi_msg_parse(dr->plain, f->len, m, &pe2) != 0)
			return false;
		snprintf(w, sizeof(w), "%zu octets after the last payload although the E flag "
			 "is clear: taken as CBC padding (a decrypted copy?)",
			 f->len - (*m)->chain_end);
	} else if (h->exchange == GDOI_EXCH_PUSH) {
		struct gdoi_hdr he = *h;
		he.flags |= GDOI_FLAG_ENC;
		keys_decrypt(r->keys, f->data, f->len, &he, true, dr);
		if (dr->status != DEC_OK)
			return false;
		dr->plain[19] |= GDOI_FLAG_ENC;
		if (gdoi_msg_parse(dr->plain, f->len, m, &pe2) != 0)
			return false;
		snprintf(w, sizeof(w), "the E flag is clear but the body is encrypted: "
			 "decrypted anyway");
		json_object_set_new(o, "key", json_string(dr->key_source));
		json_object_set_new(o, "decrypted", json_true());
	} else {
		return false;
	}
	json_object_set_new(o, "warning", json_string(w));
	return true;
}

/* Decrypts (when E is set) and parses one message into o; false on error. */
static bool decode(struct run *r, const struct dump_frame *f, json_t *o)
{
	struct gdoi_hdr h;
	struct gdoi_parse_error pe;
	char txt[256], msg[400];
	size_t skip;
	if (ike2_is_ike2(f->data, f->len, &skip)) {
		bool repeat = keys_is_repeat(r->keys, f->data, f->len);
		if (repeat)
			json_object_set_new(o, "retransmission", json_true());
		return ike2_decode(r->ike2, f, repeat, o);
	}
	if (gdoi_hdr_parse(f->data, f->len, &h, &pe) != 0) {
		model_header(o, &h);	/* the fields are read before they are checked */
		gdoi_parse_error_format(&pe, txt, sizeof(txt));
		model_error(o, txt, &pe);
		return false;
	}
	model_header(o, &h);
	bool repeat = keys_is_repeat(r->keys, f->data, f->len);
	if (repeat)
		json_object_set_new(o, "retransmission", json_true());
	const uint8_t *buf = f->data;
	bool decrypted = false;
	struct dec_result dr;
	memset(&dr, 0, sizeof(dr));
	if (h.flags & GDOI_FLAG_ENC) {
		json_object_set_new(o, "ciphertext_length",
				    json_integer((json_int_t)(f->len - GDOI_HDR_LEN)));
		keys_decrypt(r->keys, f->data, f->len, &h, repeat, &dr);
		if (dr.status != DEC_OK) {
			if (dr.status == DEC_NO_KEY) {
				json_object_set_new(o, "not_decrypted", json_string(dr.reason));
				return true;
			}
			model_error(o, dr.reason, NULL);
			return false;
		}
		buf = dr.plain;
		decrypted = true;
		json_object_set_new(o, "key", json_string(dr.key_source));
	}
	struct gdoi_msg *m;
	bool ok = gdoi_msg_parse(buf, f->len, &m, &pe) == 0;
	if (!ok && !(h.flags & GDOI_FLAG_ENC)) {
		ok = clear_copy_fallback(r, f, &h, &pe, &m, &dr, o);
		if (!ok)
			keys_free_plain(&dr);
	}
	if (!ok) {
		gdoi_parse_error_format(&pe, txt, sizeof(txt));
		if (decrypted)
			snprintf(msg, sizeof(msg), "decryption with the given key did not yield a "
				 "valid message (%s)", txt);
		else
			snprintf(msg, sizeof(msg), "%s", txt);
		model_error(o, msg, &pe);
	} else {
		if (decrypted)
			json_object_set_new(o, "decrypted", json_true());
		model_payloads(o, m);
		if (!repeat)
			keys_learn(r->keys, m, f);
		gdoi_msg_free(m);
	}
	keys_free_plain(&dr);
	return ok;
}

static void on_frame(const struct dump_frame *f, void *ctx)
{
	struct run *r = ctx;
	if (f->quiet || !port_wanted(r, f)) {
		r->ignored++;
		return;
	}
	json_t *o = model_frame(f);
	if (!o)
		return;
	if (f->input_error) {
		model_error(o, f->input_error, NULL);
		r->errors++;
	} else if (f->skip) {
		json_object_set_new(o, "skipped", json_string(f->skip));
		r->skipped++;
	} else {
		r->messages++;
		if (!decode(r, f, o))
			r->errors++;
	}
	emit(r, o);
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ "ike-key", required_argument, NULL, 'k' },
		{ "kek", required_argument, NULL, 'K' },
		{ "ike2-sa", required_argument, NULL, 's' },
		{ "ike2-keys", required_argument, NULL, 'F' },
		{ "ike2-rekey", required_argument, NULL, 'R' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	memset(&r, 0, sizeof(r));
	r.keys = keys_new();
	r.ike2 = ike2_new();
	if (!r.keys || !r.ike2) {
		fprintf(stderr, "gdoi-dump: out of memory\n");
		return 2;
	}
	bool hex = false;
	char err[512];
	int c, status = 2;
	while ((c = getopt_long(argc, argv, "jxk:K:s:F:R:p:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': r.json = true; break;
		case 'x': hex = true; break;
		case 'k':
		case 'K':
			if ((c == 'k' ? keys_add_ike : keys_add_kek)(r.keys, optarg, err,
								     sizeof(err)) != 0) {
				fprintf(stderr, "gdoi-dump: %s\n", err);
				goto out;
			}
			break;
		case 's':
		case 'F':
		case 'R':
			if ((c == 's' ? ike2_add_sa(r.ike2, optarg, "--ike2-sa", err, sizeof(err))
			     : c == 'F' ? ike2_add_keys_file(r.ike2, optarg, err, sizeof(err))
					: ike2_add_rekey(r.ike2, optarg, err, sizeof(err))) != 0) {
				fprintf(stderr, "gdoi-dump: %s\n", err);
				goto out;
			}
			break;
		case 'p':
			if (r.nports == MAX_PORTS || parse_port(optarg, &r.ports[r.nports]) != 0) {
				fprintf(stderr, "gdoi-dump: bad or too many --port values\n");
				goto out;
			}
			r.nports++;
			break;
		case 'h': usage(stdout); status = 0; goto out;
		case 'V': puts("gdoi-dump " GDOI_VERSION); status = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (argc - optind > 1 || (argc == optind && !hex)) {
		usage(stderr);
		goto out;
	}
	const char *path = optind < argc ? argv[optind] : NULL;
	if (path && strcmp(path, "-") == 0)
		hex = true;
	err[0] = '\0';
	int rc = hex ? input_hex(path, on_frame, &r, err, sizeof(err))
		     : input_pcap(path, on_frame, &r, err, sizeof(err));
	fflush(stdout);
	if (rc != 0) {
		fprintf(stderr, "gdoi-dump: %s\n", err);
		status = 2;
		goto out;
	}
	if (!r.json)
		printf("%lu messages, %lu with errors, %lu frames skipped, %lu not ISAKMP/UDP "
		       "or filtered\n", r.messages, r.errors, r.skipped, r.ignored);
	if (r.errors) {
		fprintf(stderr, "gdoi-dump: %lu message(s) could not be decoded\n", r.errors);
		status = 1;
	} else {
		status = 0;
	}
out:
	keys_free(r.keys);
	ike2_free(r.ike2);
	return status;
}
