/*
 * metrics.h - the Prometheus text exposition format, version 0.0.4, written
 * at scrape time: the daemon's collect function declares each family (name,
 * HELP, TYPE) and then its samples, from the counters and state it keeps
 * anyway. Families come out in the order declared, each with its samples right
 * after it (the format wants a family's lines together); labels of a sample
 * come out sorted by name, so the same state always renders the same bytes.
 * Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':' and not
 * "__"-prefixed), a family declared twice or a label given twice is an error,
 * label values escape \ " and newline, HELP escapes \ and newline. The first
 * error sticks and dm_metrics_finish reports it: a bug in a collect function
 * answers 500, never a page promtool would refuse. docs/metrics.md lists what
 * each daemon exports.
 */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define DM_METRICS_MAX_LABELS 8
#define DM_METRICS_MAX_FAMILIES 128
#define DM_METRICS_MAX_OUT (4 * 1024 * 1024)	/* a page larger than this is refused */
#define DM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum dm_metric_type { DM_METRIC_COUNTER, DM_METRIC_GAUGE };

struct dm_label {
	const char *name;
	const char *value;	/* any bytes but NUL; escaped on output */
};

struct dm_metrics {
	char *buf;
	size_t len, cap;
	int err;			/* the first error, negative errno */
	enum dm_metric_type type;
	size_t nfamilies;
	char family[DM_METRICS_MAX_FAMILIES][64];	/* names declared so far */
};

void dm_metrics_init(struct dm_metrics *m);
void dm_metrics_free(struct dm_metrics *m);

/* Declares a family: "# HELP" and "# TYPE" lines. Counter names end in _total
 * (the convention promtool checks); that is the caller's part. */
void dm_metrics_family(struct dm_metrics *m, const char *name, enum dm_metric_type type,
		       const char *help);
/* One sample of the family declared last, with nlabels labels (0..DM_METRICS_MAX_LABELS).
 * A counter takes dm_metrics_u64; a gauge either. */
void dm_metrics_u64(struct dm_metrics *m, const struct dm_label *labels, size_t nlabels, uint64_t v);
void dm_metrics_i64(struct dm_metrics *m, const struct dm_label *labels, size_t nlabels, int64_t v);
/* A family with one unlabelled sample. */
void dm_metrics_single(struct dm_metrics *m, const char *name, enum dm_metric_type type,
		       const char *help, int64_t v);

/* 0 and the page in *out / *len (owned by m), or the first error: -EINVAL (a bad
 * name, a family twice, a sample before its family, a label twice, a negative
 * counter), -E2BIG (over DM_METRICS_MAX_OUT or too many families), -ENOMEM. */
int dm_metrics_finish(struct dm_metrics *m, const char **out, size_t *len);

#endif
