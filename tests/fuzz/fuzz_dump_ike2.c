/*
 * fuzz_dump_ike2.c - libFuzzer target for gdoi-dump's IKEv2 / G-IKEv2 path
 * (tools/gdoi-dump/ike2.c): the decoder, the renderers of every payload
 * body, SK / SKF opening and reassembly and the Rekey SA learning. The
 * first octet picks how the rest is used:
 *   0 the datagram as captured (header, chain, SK with whatever it holds);
 *   1 inner payloads (first type = the second octet) of a GSA_AUTH response,
 *     sealed here under the IKE SA whose keys the dumper holds, so the inner
 *     renderers (GSA, KD with unwrapping, ...) and the learning run;
 *   2 the same as a GSA_REKEY under the Rekey SA the dumper holds.
 * The dumper must never crash, and a message it refuses must carry an
 * "error" with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/ike2_numbers.h"
#include "gdoi/ike2_sk.h"
#include "gdoi/gike2_numbers.h"
#include "tools/gdoi-dump/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sa_entry[] =
	"1111111111111111,2222222222222222,"
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223,"
	"303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253,"
	"\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"";
static const char rekey_arg[] =
	"33333333333333334444444444444444=000102030405060708090a0b0c0d0e0f10111213"
	":a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

/* The fixed keys in the form gdoi_ike2_sk_seal takes. */
static void keys_for(struct gdoi_ike2_keys *k, bool rekey)
{
	memset(k, 0, sizeof(*k));
	k->encr = GDOI_IKE2_ENCR_AES_GCM_16;
	k->enc_key_len = rekey ? 16 : 32;
	k->salt_len = 4;
	k->iv_len = 8;
	k->icv_len = 16;
	for (size_t i = 0; i < 36; i++) {
		k->sk_ei[i] = (uint8_t)i;
		k->sk_er[i] = (uint8_t)(0x30 + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct dump_ike2 *x = ike2_new();
	if (!x || ike2_add_sa(x, sa_entry, "fuzz", err, sizeof(err)) != 0 ||
	    ike2_add_rekey(x, rekey_arg, err, sizeof(err)) != 0)
		abort();
	uint8_t *msg = NULL;
	size_t len = 0;
	if (size >= 1 && data[0] == 0) {
		msg = malloc(size);
		if (!msg)
			abort();
		memcpy(msg, data + 1, size - 1);
		len = size - 1;
	} else if (size >= 2 && data[0] <= 2) {
		bool rekey = data[0] == 2;
		struct gdoi_ike2_keys k;
		struct gdoi_ike2_hdr h;
		memset(&h, 0, sizeof(h));
		memset(h.spi_i, rekey ? 0x33 : 0x11, 8);
		memset(h.spi_r, rekey ? 0x44 : 0x22, 8);
		h.version = GDOI_IKE2_VERSION;
		h.exchange = rekey ? GIKE2_EXCH_GSA_REKEY : GIKE2_EXCH_GSA_AUTH;
		h.flags = rekey ? GDOI_IKE2_FLAG_INITIATOR : GDOI_IKE2_FLAG_RESPONSE;
		h.msgid = 1;
		keys_for(&k, rekey);
		if (gdoi_ike2_sk_seal(&k, rekey, &h, data[1], GDOI_BYTES(data + 2, size - 2), &msg,
				      &len) != 0)
			goto out;
	} else {
		goto out;
	}
	struct dump_frame f;
	memset(&f, 0, sizeof(f));
	f.number = 1;
	f.data = msg;
	f.len = len;
	for (int repeat = 0; repeat < 2; repeat++) {
		json_t *o = json_object();
		if (!o)
			abort();
		bool ok = ike2_decode(x, &f, repeat, o);
		json_t *e = json_object_get(o, "error");
		if (!ok && !json_object_get(o, "error") && !json_object_get(o, "payloads"))
			abort();
		if (e && !json_is_string(json_object_get(e, "message")))
			abort();
		json_decref(o);
	}
out:
	free(msg);
	ike2_free(x);
	return 0;
}
