/*
 * fuzz_push.c - libFuzzer target for the member's GROUPKEY-PUSH path
 * (gdoi_push_open, gdoi_push_apply). Random ciphertext never gets past the
 * decryption and signature checks, so the input is mostly used as the
 * *plaintext* payload chain: the target wraps it the way a key server would
 * (header with the KEK cookies, a SIG payload signed with the group's rekey
 * key, CBC under the KEK) and only then hands it to the member. The first
 * input octet chooses between that and feeding the raw bytes as a datagram.
 * Invariants: a refused push changes nothing; an accepted one raises SEQ.
 * Structured seeds (push_wrap.h): TEK, Delete, private-use key packet, the
 * reference's KEK rotation, SRTP_SENDERS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/push_wrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* GDOI_FUZZ_WRITE_SEEDS=DIR: the structured seeds (tests/fuzz/seed.sh), then exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	const char *dir = getenv("GDOI_FUZZ_WRITE_SEEDS");
	if (dir) {
		wrap_init();
		write_push_seeds(dir, 1);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct gdoi_policy before, cur;
	static struct gdoi_push_update u;
	if (!ready) {
		wrap_init();
		ready = 1;
	}
	if (size < 2)
		return 0;
	uint8_t *msg = NULL;
	size_t len = 0;
	if (data[0] & 1) {
		msg = wrap_chain(data + 1, size - 1, member.kek.spi, member.kek.key, member.kek.iv, &len);
		if (!msg)
			return 0;
	}
	const uint8_t *in = msg ? msg : data + 1;
	size_t in_len = msg ? len : size - 1;
	char why[200];
	memcpy(&cur, &member, sizeof(cur));
	memcpy(&before, &member, sizeof(before));
	int rc = gdoi_push_open(&cur, NULL, in, in_len, &u, why, sizeof(why));
	if (memcmp(&before, &cur, sizeof(cur)))
		abort();	/* open never modifies the state */
	if (rc == 0) {
		if (u.seq <= member.seq)
			abort();
		if (gdoi_push_apply(&cur, &u) == 0 && cur.seq != u.seq && !u.fresh.has_kek)
			abort();
		if (cur.nteks > GDOI_MAX_TEKS)
			abort();
	}
	gdoi_push_update_clear(&u);
	free(msg);
	return 0;
}
