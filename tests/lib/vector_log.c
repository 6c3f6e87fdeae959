/* vector_log.c - hex values out of the reference implementation's logs (see vector_log.h). */
#include "vector_log.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vlog {
	char *buf;
	char **lines;
	size_t nlines;
};

const char *vlog_dir(void)
{
	const char *d = getenv("GDOI_VECTORS");
	return (d != NULL && *d != '\0') ? d : "tests/vectors";
}

struct vlog *vlog_load(const char *folder, const char *file)
{
	char path[1024];
	struct vlog *log;
	FILE *f;
	long size;

	if (snprintf(path, sizeof(path), "%s/%s/%s", vlog_dir(), folder, file) >= (int)sizeof(path))
		return NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL || (log->buf = malloc((size_t)size + 1)) == NULL ||
	    fread(log->buf, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		vlog_free(log);
		return NULL;
	}
	fclose(f);
	log->buf[size] = '\0';

	size_t n = 1;
	for (long i = 0; i < size; i++)
		n += log->buf[i] == '\n';
	if ((log->lines = calloc(n, sizeof(char *))) == NULL) {
		vlog_free(log);
		return NULL;
	}
	for (char *p = log->buf; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n');
		log->lines[log->nlines++] = p;
		if (nl != NULL)
			*nl++ = '\0';
		p = nl;
	}
	return log;
}

void vlog_free(struct vlog *log)
{
	if (log == NULL)
		return;
	free(log->lines);
	free(log->buf);
	free(log);
}

/* Splits a copy of line into whitespace-separated tokens. */
static size_t tokenize(const char *line, char *copy, size_t copycap, char **tok, size_t maxtok)
{
	size_t n = 0;

	if (strlen(line) >= copycap)
		return 0;
	strcpy(copy, line);
	for (char *s = strtok(copy, " \t\r"); s != NULL && n < maxtok; s = strtok(NULL, " \t\r"))
		tok[n++] = s;
	return n;
}

static bool is_hex_word(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)t[i]))
			return false;
	return true;
}

static bool is_number(const char *t)
{
	if (*t == '\0')
		return false;
	for (; *t; t++)
		if (!isdigit((unsigned char)*t))
			return false;
	return true;
}

/* Appends the hex of tok[0..n) to out; false if a token is not hex or it does not fit. */
static bool append_hex(char **tok, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		const char *t = tok[i];
		if (t[0] == '0' && t[1] == 'x')
			t += 2;
		if (!is_hex_word(t))
			return false;
		for (; *t && out != NULL; t += 2) {	/* out == NULL: only check */
			unsigned v;
			if (*len >= cap || sscanf(t, "%2x", &v) != 1)
				return false;
			out[(*len)++] = (uint8_t)v;
		}
	}
	return true;
}

#define MAXTOK 64
#define LINECAP 2048

/* A continuation line: "<time> <facility> [<level>] <hex> <hex> ...". */
static bool data_line(const char *line, uint8_t *out, size_t cap, size_t *len)
{
	char copy[LINECAP], *tok[MAXTOK];
	size_t n = tokenize(line, copy, sizeof(copy), tok, MAXTOK), first = 2;

	if (n > 2 && is_number(tok[2]))
		first = 3;
	if (n <= first)
		return false;
	for (size_t i = first; i < n; i++)
		if (!is_hex_word(tok[i]))
			return false;
	return append_hex(tok + first, n - first, out, cap, len);
}

static bool ends_with_label(const char *line, const char *label)
{
	size_t n = strlen(line), l = strlen(label);

	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	return n > l && memcmp(line + n - l, label, l) == 0 && line[n - l - 1] == ' ';
}

long vlog_block(const struct vlog *log, const char *label, unsigned occurrence,
		uint8_t *out, size_t cap)
{
	for (size_t i = 0; log != NULL && i < log->nlines; i++) {
		if (!ends_with_label(log->lines[i], label) || occurrence-- > 0)
			continue;
		size_t len = 0;
		for (size_t j = i + 1; j < log->nlines; j++) {
			size_t before = len;
			if (!data_line(log->lines[j], out, cap, &len)) {
				if (len != before)
					return -1;	/* ran out of room */
				break;
			}
		}
		return len > 0 ? (long)len : -1;
	}
	return -1;
}

/* Hex after " label " on this line; false when the line has no such data. */
static bool inline_data(const char *line, const char *label, uint8_t *out, size_t cap,
			size_t *len)
{
	char copy[LINECAP], *tok[MAXTOK];
	size_t n = tokenize(line, copy, sizeof(copy), tok, MAXTOK);

	for (size_t i = 1; i + 1 < n; i++) {
		if (strcmp(tok[i], label) != 0)
			continue;
		size_t before = *len;
		if (append_hex(tok + i + 1, n - i - 1, out, cap, len))
			return true;
		*len = before;
		return false;
	}
	return false;
}

long vlog_inline(const struct vlog *log, const char *label, unsigned occurrence,
		 uint8_t *out, size_t cap)
{
	for (size_t i = 0; log != NULL && i < log->nlines; i++) {
		size_t len = 0;
		if (!inline_data(log->lines[i], label, NULL, 0, &len) || occurrence-- > 0)
			continue;
		return inline_data(log->lines[i], label, out, cap, &len) ? (long)len : -1;
	}
	return -1;
}

long vlog_run(const struct vlog *log, const char *label, unsigned occurrence,
	      uint8_t *out, size_t cap)
{
	bool in_run = false;
	size_t len = 0, none = 0;

	for (size_t i = 0; log != NULL && i < log->nlines; i++) {
		if (inline_data(log->lines[i], label, NULL, 0, &none)) {
			in_run = true;
			if (occurrence == 0 && !inline_data(log->lines[i], label, out, cap, &len))
				return -1;	/* does not fit */
			continue;
		}
		if (in_run) {
			if (occurrence == 0)
				return (long)len;
			occurrence--;
			in_run = false;
		}
	}
	return (in_run && occurrence == 0) ? (long)len : -1;
}
