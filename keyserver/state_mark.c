/*
 * state_mark.c - the SEQ mark file (state_mark.h). Text, one line a group,
 * then a SHA-256 over the lines, so that a garbled file is told from a good one:
 *
 *   gdoi-ks seq 1
 *   group 1234 kek 00112233445566778899aabbccddeeff seq 42
 *   group 7 kek none seq 0
 *   sha256 <64 hex digits>
 */
#include "keyserver/state_mark.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "keyserver/log.h"

#define MARK_HEADER "gdoi-ks seq 1\n"
#define MARK_MAX (1 << 20)

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

static int digest(const char *text, size_t len, char out[65])
{
	uint8_t md[32];
	gdoi_bytes part = GDOI_BYTES(text, len);
	if (gdoi_hash(GDOI_MD_SHA256, &part, 1, md))
		return -1;
	hex(md, sizeof(md), out);
	return 0;
}

static int add(struct ks_marks *m, const struct ks_mark *k)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct ks_mark *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -1;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *k;
	return 0;
}

/* Parses text (NUL-terminated); -1 when any line is not as written by save(). */
static int parse(struct ks_marks *m, char *text, size_t len)
{
	char *end = strstr(text, "sha256 ");
	char want[65];
	if (strncmp(text, MARK_HEADER, strlen(MARK_HEADER)) || !end || (end != text && end[-1] != '\n') ||
	    strlen(end) != 7 + 64 + 1 || end[7 + 64] != '\n' || digest(text, (size_t)(end - text), want) ||
	    memcmp(end + 7, want, 64))
		return -1;
	(void)len;
	*end = '\0';
	char *save = NULL;
	for (char *l = strtok_r(text + strlen(MARK_HEADER), "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct ks_mark k = { 0 };
		char spi[40];
		unsigned long gid, seq;
		int used = 0;
		if (sscanf(l, "group %lu kek %34s seq %lu%n", &gid, spi, &seq, &used) != 3 || l[used] ||
		    gid > UINT32_MAX || seq > UINT32_MAX)
			return -1;
		k.gid = (uint32_t)gid;
		k.seq = (uint32_t)seq;
		k.has_kek = strcmp(spi, "none") != 0;
		if (k.has_kek && (strlen(spi) != 2 * GDOI_KEK_SPI_LEN || unhex(spi, k.kek_spi, GDOI_KEK_SPI_LEN)))
			return -1;
		if (ks_marks_find(m, k.gid) || add(m, &k))
			return -1;
	}
	return 0;
}

int ks_marks_load(struct ks_marks *m, const char *dir, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s/%s", dir, KS_MARK_FILE);
	int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", m->path, strerror(errno));
		return -1;
	}
	m->present = true;
	struct stat sb;
	char *text = NULL;
	ssize_t n = -1;
	if (!fstat(fd, &sb) && sb.st_size >= 0 && sb.st_size < MARK_MAX &&
	    (text = malloc((size_t)sb.st_size + 1)) != NULL)
		n = read(fd, text, (size_t)sb.st_size);
	close(fd);
	if (n < 0 || n != sb.st_size) {
		free(text);
		snprintf(err, errlen, "%s: cannot read it back", m->path);
		return -1;
	}
	text[n] = '\0';
	if (memchr(text, '\0', (size_t)n) || parse(m, text, (size_t)n)) {
		m->damaged = true;
		m->n = 0;
	}
	free(text);
	return 0;
}

const struct ks_mark *ks_marks_find(const struct ks_marks *m, uint32_t gid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].gid == gid)
			return &m->v[i];
	return NULL;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The whole file anew: temporary file, fsync, rename over, fsync of the directory. */
static int save(const struct ks_marks *m)
{
	size_t cap = strlen(MARK_HEADER) + m->n * 96 + 80, len;
	char *text = malloc(cap), tmp[620], spi[2 * GDOI_KEK_SPI_LEN + 1];
	if (!text)
		return -1;
	len = (size_t)snprintf(text, cap, "%s", MARK_HEADER);
	for (size_t i = 0; i < m->n; i++) {
		const struct ks_mark *k = &m->v[i];
		if (k->has_kek)
			hex(k->kek_spi, GDOI_KEK_SPI_LEN, spi);
		len += (size_t)snprintf(text + len, cap - len, "group %u kek %s seq %u\n", k->gid,
					k->has_kek ? spi : "none", k->seq);
	}
	char md[65];
	if (digest(text, len, md)) {
		free(text);
		return -1;
	}
	len += (size_t)snprintf(text + len, cap - len, "sha256 %s\n", md);
	snprintf(tmp, sizeof(tmp), "%s.tmp", m->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 || write_all(fd, text, len) || fsync(fd) ? -1 : 0;
	int saved = errno;
	free(text);
	if (fd >= 0 && close(fd) && !rc)
		rc = -1, saved = errno;
	if (!rc && rename(tmp, m->path))
		rc = -1, saved = errno;
	if (rc) {
		unlink(tmp);
		ks_log(KS_ERR, "state: %s: %s", m->path, strerror(saved));
		return -1;
	}
	/* the rename itself must survive a power loss */
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", m->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		ks_log(KS_ERR, "state: sync of %s: %s", slash ? dir : ".", strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int ks_marks_set(struct ks_marks *m, uint32_t gid, bool has_kek, const uint8_t *kek_spi, uint32_t seq)
{
	struct ks_mark k;
	memset(&k, 0, sizeof(k));
	k.gid = gid;
	k.has_kek = has_kek;
	k.seq = has_kek ? seq : 0;
	if (has_kek)
		memcpy(k.kek_spi, kek_spi, GDOI_KEK_SPI_LEN);
	struct ks_mark *cur = (struct ks_mark *)ks_marks_find(m, gid);
	if (cur && cur->has_kek == k.has_kek && cur->seq == k.seq &&
	    !memcmp(cur->kek_spi, k.kek_spi, sizeof(k.kek_spi)))
		return 0;
	struct ks_mark old = { 0 };
	if (cur) {
		old = *cur;
		*cur = k;
	} else if (add(m, &k)) {
		return -1;
	}
	if (save(m)) {
		if (cur)
			*cur = old;
		else
			m->n--;
		return -1;
	}
	m->present = true;
	m->damaged = false;
	return 0;
}

void ks_marks_free(struct ks_marks *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
