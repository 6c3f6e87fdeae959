/*
 * metrics.c - see metrics.h. The page is built in one growable buffer; every
 * write goes through put(), which checks the size first and records the
 * first error.
 */
#include "daemon/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dm_metrics_init(struct dm_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->nfamilies = 0;
}

void dm_metrics_free(struct dm_metrics *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

static void fail(struct dm_metrics *m, int err)
{
	if (!m->err)
		m->err = err;
}

static void put(struct dm_metrics *m, const char *s, size_t n)
{
	if (m->err)
		return;
	if (n > DM_METRICS_MAX_OUT - m->len) {
		fail(m, -E2BIG);
		return;
	}
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n + 1)
			cap *= 2;
		char *b = realloc(m->buf, cap);
		if (!b) {
			fail(m, -ENOMEM);
			return;
		}
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

static void puts_(struct dm_metrics *m, const char *s)
{
	put(m, s, strlen(s));
}

/* in_value: a label value (\ " newline); else HELP text (\ newline). */
static void put_escaped(struct dm_metrics *m, const char *s, bool in_value)
{
	const char *run = s;
	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
				  *s == '"' && in_value ? "\\\"" : NULL;
		if (!esc)
			continue;
		put(m, run, (size_t)(s - run));
		puts_(m, esc);
		run = s + 1;
	}
	put(m, run, (size_t)(s - run));
}

static bool name_ok(const char *s, bool label)
{
	if (!s || !*s || strlen(s) >= sizeof(((struct dm_metrics *)0)->family[0]))
		return false;
	if (label && s[0] == '_' && s[1] == '_')
		return false;	/* reserved for Prometheus itself */
	for (const char *p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
		bool digit = *p >= '0' && *p <= '9';
		if (!alpha && !(digit && p != s) && !(*p == ':' && !label))
			return false;
	}
	return true;
}

void dm_metrics_family(struct dm_metrics *m, const char *name, enum dm_metric_type type,
		       const char *help)
{
	if (m->err)
		return;
	if (!name_ok(name, false) || !help) {
		fail(m, -EINVAL);
		return;
	}
	for (size_t i = 0; i < m->nfamilies; i++)
		if (!strcmp(m->family[i], name)) {
			fail(m, -EINVAL);
			return;
		}
	if (m->nfamilies == DM_METRICS_MAX_FAMILIES) {
		fail(m, -E2BIG);
		return;
	}
	snprintf(m->family[m->nfamilies++], sizeof(m->family[0]), "%s", name);
	m->type = type;
	puts_(m, "# HELP ");
	puts_(m, name);
	puts_(m, " ");
	put_escaped(m, help, false);
	puts_(m, "\n# TYPE ");
	puts_(m, name);
	puts_(m, type == DM_METRIC_COUNTER ? " counter\n" : " gauge\n");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dm_label *)a)->name, ((const struct dm_label *)b)->name);
}

/* "name{a="x",b="y"} " */
static void sample_head(struct dm_metrics *m, const struct dm_label *labels, size_t n)
{
	struct dm_label sorted[DM_METRICS_MAX_LABELS];

	if (m->err)
		return;
	if (!m->nfamilies || n > DM_METRICS_MAX_LABELS || (n && !labels)) {
		fail(m, -EINVAL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(labels[i].name, true) || !labels[i].value) {
			fail(m, -EINVAL);
			return;
		}
		sorted[i] = labels[i];
	}
	qsort(sorted, n, sizeof(sorted[0]), by_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(sorted[i - 1].name, sorted[i].name)) {
			fail(m, -EINVAL);
			return;
		}
	puts_(m, m->family[m->nfamilies - 1]);
	for (size_t i = 0; i < n; i++) {
		puts_(m, i ? "," : "{");
		puts_(m, sorted[i].name);
		puts_(m, "=\"");
		put_escaped(m, sorted[i].value, true);
		puts_(m, "\"");
	}
	puts_(m, n ? "} " : " ");
}

void dm_metrics_u64(struct dm_metrics *m, const struct dm_label *labels, size_t nlabels, uint64_t v)
{
	char num[24];

	sample_head(m, labels, nlabels);
	snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
	puts_(m, num);
}

void dm_metrics_i64(struct dm_metrics *m, const struct dm_label *labels, size_t nlabels, int64_t v)
{
	char num[24];

	if (v < 0 && m->type == DM_METRIC_COUNTER)
		fail(m, -EINVAL);
	sample_head(m, labels, nlabels);
	snprintf(num, sizeof(num), "%" PRId64 "\n", v);
	puts_(m, num);
}

void dm_metrics_single(struct dm_metrics *m, const char *name, enum dm_metric_type type,
		       const char *help, int64_t v)
{
	dm_metrics_family(m, name, type, help);
	dm_metrics_i64(m, NULL, 0, v);
}

int dm_metrics_finish(struct dm_metrics *m, const char **out, size_t *len)
{
	if (!m->err && !m->buf)
		put(m, "", 0);	/* an empty page is a valid one */
	if (m->err)
		return m->err;
	*out = m->buf;
	*len = m->len;
	return 0;
}
