/*
 * fuzz_wire.c - libFuzzer target for the message parser. Anything that
 * parses must also rebuild, and the rebuilt bytes must parse again to the
 * same bytes (the builder is canonical). Both parse entry points are fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdoi_msg *m = NULL;
	struct gdoi_parse_error err;
	int decrypted = size > 0 && (data[0] & 1);
	int rc = decrypted ? gdoi_msg_parse_decrypted(data, size, &m, &err)
			   : gdoi_msg_parse(data, size, &m, &err);
	if (rc) {
		char msg[256];
		gdoi_parse_error_format(&err, msg, sizeof(msg));	/* must not crash either */
		if (m || err.offset > size)
			abort();
		return 0;
	}
	struct gdoi_writer w, w2;
	gdoi_writer_init(&w);
	gdoi_writer_init(&w2);
	if (gdoi_msg_build(&w, &m->hdr, m->pl, m->npl, NULL) == 0) {
		struct gdoi_msg *m2 = NULL;
		if (gdoi_msg_parse(w.buf, w.len, &m2, NULL) != 0)
			abort();	/* what we build, we must parse */
		if (gdoi_msg_build(&w2, &m2->hdr, m2->pl, m2->npl, NULL) != 0 ||
		    w2.len != w.len || memcmp(w.buf, w2.buf, w.len) != 0)
			abort();
		gdoi_msg_free(m2);
	}
	gdoi_writer_free(&w);
	gdoi_writer_free(&w2);
	gdoi_msg_free(m);
	return 0;
}
