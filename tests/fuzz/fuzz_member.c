/*
 * fuzz_member.c - libFuzzer target for the member's push path as the
 * sidecar runs it: gdoi_member_route on each datagram, then for pushes
 * gdoi_member_teks_push on a group registered with push_wrap.h's policy,
 * and gdoi_member_teks_expire as the clock moves.
 *
 * Input: octet 0 ignored (the seeds' lead octet), then at most MAX_OPS
 * chunks: op (1), length (2, big endian), data (length, cut to what remains).
 * Op bits 0-1: 0 data is a raw datagram; 1 data is a plaintext chain
 * (push_wrap.h) wrapped under the group's current KEK; 2 the same under the
 * KEK its last rotation replaced (or the current one); 3 the clock moves
 * data[0] seconds and TEKs expire. Bit 2: it came on the rekey socket;
 * bit 3: from the key server's address.
 * Invariants (abort()): a refused push changes nothing (the member's state
 * and policy compare equal); SEQ never goes down under one KEK; the live TEKs
 * stay within GDOI_MEMBER_MAX_LIVE, sorted, none past its not_after after
 * an expiry; every note is a terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi/err.h"
#include "gdoi/member_route.h"
#include "gdoi/member_teks.h"
#include "tests/fuzz/push_wrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 16

/* A seed written by write_push_seeds, without its lead octet. */
static size_t read_seed(const char *path, uint8_t *buf, size_t cap)
{
	FILE *in = fopen(path, "rb");
	size_t n = in ? fread(buf, 1, cap, in) : 0;
	if (!in || n < 2)
		abort();
	fclose(in);
	memmove(buf, buf + 1, n - 1);
	return n - 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	const char *dir = getenv("GDOI_FUZZ_WRITE_SEEDS");
	if (!dir)
		return 0;
	wrap_init();
	/* one push per input, wrapped under the current KEK, on the rekey socket */
	write_push_seeds(dir, 0);
	/* ... and sequences: a rotation, then the replaced KEK replayed, then a TEK */
	char path[4096];
	static const char *const rot[] = { "seed-gdoid-kek-rotation", "seed-kek-rotation" };
	for (size_t r = 0; r < 2; r++) {
		snprintf(path, sizeof(path), "%s/seq-%s", dir, rot[r]);
		FILE *out = fopen(path, "wb");
		if (!out)
			abort();
		fputc(0, out);
		static const struct { const char *name; uint8_t op; } steps[] = {
			{ NULL, 1 | 4 }, { "seed-tek", 2 | 4 }, { "seed-tek", 1 | 4 }, { "seed-senders", 1 | 8 },
		};
		for (size_t i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, steps[i].name ? steps[i].name : rot[r]);
			uint8_t buf[4096];
			size_t n = read_seed(path, buf, sizeof(buf));
			fputc(steps[i].op, out);
			fputc((int)(n >> 8), out);
			fputc((int)(n & 0xff), out);
			fwrite(buf, 1, n, out);
		}
		fputc(3, out);
		fputc(0, out);
		fputc(1, out);
		fputc(70, out);	/* past every lifetime */
		fclose(out);
	}
	/* the single-push seeds as ops: "wrap under the current KEK, rekey socket" */
	static const char *const single[] = { "seed-tek", "seed-delete", "seed-tek-delete", "seed-private-kd",
		"seed-gdoid-kek-rotation", "seed-kek-rotation", "seed-gdoid-kek-rotation-tek", "seed-senders",
		"seed-senders-max" };
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, single[i]);
		uint8_t buf[4096];
		size_t n = read_seed(path, buf, sizeof(buf));
		FILE *out = fopen(path, "wb");
		if (!out)
			abort();
		fputc(0, out);
		fputc(1 | 4, out);
		fputc((int)(n >> 8), out);
		fputc((int)(n & 0xff), out);
		fwrite(buf, 1, n, out);
		fclose(out);
	}
	exit(0);
}

static void check_notes(const struct gdoi_notes *n)
{
	if (n->n > GDOI_NOTES_MAX)
		abort();
	for (size_t i = 0; i < n->n; i++)
		if (!memchr(n->line[i], 0, GDOI_NOTE_LEN))
			abort();
}

static void check_live(const struct gdoi_member_teks *t)
{
	if (t->nlive > GDOI_MEMBER_MAX_LIVE)
		abort();
	for (size_t i = 1; i < t->nlive; i++) {
		const struct gdoi_live_tek *a = &t->live[i - 1], *b = &t->live[i];
		if (a->not_before > b->not_before ||
		    (a->not_before == b->not_before && a->tek.spi > b->tek.spi))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct gdoi_member_teks t, before;
	static struct gdoi_policy pol_before;
	if (!ready) {
		wrap_init();
		ready = 1;
	}
	struct gdoi_policy *p = malloc(sizeof(*p));
	if (!p)
		abort();
	memcpy(p, &member, sizeof(*p));
	memset(&t, 0, sizeof(t));
	int64_t now = 1700000000;
	struct gdoi_notes notes = { 0 };
	if (!gdoi_member_teks_registered(&t, p, now, &notes))
		abort();
	size_t off = size ? 1 : 0;
	for (unsigned ops = 0; ops < MAX_OPS && off + 3 <= size; ops++) {
		uint8_t op = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		const uint8_t *d = data + off;
		off += n;
		memset(&notes, 0, sizeof(notes));
		if ((op & 3) == 3) {
			bool changed = false;
			now += n ? d[0] : 1;
			gdoi_member_teks_expire(&t, now, &changed, &notes);
			for (size_t i = 0; i < t.nlive; i++)
				if (t.live[i].not_after <= now)
					abort();
			check_notes(&notes);
			check_live(&t);
			continue;
		}
		uint8_t *msg = NULL;
		size_t len = n;
		if (op & 3) {
			if (!t.pol || !t.pol->has_kek)
				continue;
			const struct gdoi_policy *c = t.pol;
			bool prev = (op & 3) == 2 && c->has_prev_kek;
			msg = wrap_chain(d, n, prev ? c->prev_kek.spi : c->kek.spi, prev ? c->prev_kek.key : c->kek.key,
					 prev ? c->prev_kek.iv : c->kek.iv, &len);
			if (!msg)
				continue;
		}
		const uint8_t *in = msg ? msg : d;
		struct gdoi_member_route r;
		enum gdoi_member_dest dest = gdoi_member_route(in, len, op & 4, op & 8, &r);
		if (dest == GDOI_MEMBER_DROP && !r.why)
			abort();
		if (dest == GDOI_MEMBER_PUSH && t.pol) {
			memcpy(&before, &t, sizeof(t));
			memcpy(&pol_before, t.pol, sizeof(pol_before));
			bool had_kek = t.pol->has_kek;
			uint8_t kek_spi[GDOI_KEK_SPI_LEN];
			memcpy(kek_spi, t.pol->kek.spi, sizeof(kek_spi));
			char why[200] = "";
			bool changed = false;
			int rc = gdoi_member_teks_push(&t, in, len, now, &changed, NULL, why, sizeof(why), &notes);
			check_notes(&notes);
			if (getenv("GDOI_FUZZ_VERBOSE"))
				fprintf(stderr, "op %#x: push rc %d %s (%zu live, SEQ %u)\n", op, rc, why, t.nlive,
					t.pol ? t.pol->seq : 0);
			if (rc) {
				if (!memchr(why, 0, sizeof(why)))
					abort();
				/* refused: nothing moved */
				if (memcmp(&before, &t, sizeof(t)) || memcmp(&pol_before, t.pol, sizeof(pol_before)))
					abort();
			} else if (t.pol && had_kek && t.pol->has_kek &&
				   !memcmp(kek_spi, t.pol->kek.spi, sizeof(kek_spi)) && t.pol->seq <= pol_before.seq) {
				abort();	/* SEQ went down, or stayed, under one KEK */
			}
			check_live(&t);
		}
		free(msg);
	}
	gdoi_member_teks_clear(&t);
	return 0;
}
