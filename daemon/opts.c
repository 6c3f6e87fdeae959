/* opts.c - see opts.h. */
#include "daemon/opts.h"

#include <getopt.h>
#include <string.h>

#define MAX_OPTS 32
#define HELP_COLUMN 28

static const struct dm_opt common[] = {
	{ "verbose", 'v', NULL, "more log lines (repeatable)" },
	{ "help", 'h', NULL, "this text" },
	{ "version", 'V', NULL, "print the version" },
};

static void usage_line(FILE *f, const struct dm_opt *o)
{
	int n;

	if (o->key < DM_OPT_LONG_ONLY)
		n = fprintf(f, "  -%c, --%s", o->key, o->name);
	else
		n = fprintf(f, "      --%s", o->name);
	if (o->arg)
		n += fprintf(f, " %s", o->arg);
	fprintf(f, "%*s%s\n", n < HELP_COLUMN - 2 ? HELP_COLUMN - n : 2, "", o->help);
}

void dm_opts_usage(const struct dm_prog *p, FILE *f)
{
	fprintf(f, "usage: %s %s\n%s\n\n", p->name, p->synopsis, p->about);
	for (const struct dm_opt *o = p->opts; o->name; o++)
		usage_line(f, o);
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		usage_line(f, &common[i]);
	if (p->footer)
		fprintf(f, "\n%s\n", p->footer);
}

static void add(struct option *lo, char *so, size_t *nso, const struct dm_opt *o)
{
	lo->name = o->name;
	lo->has_arg = o->arg ? required_argument : no_argument;
	lo->flag = NULL;
	lo->val = o->key;
	if (o->key < DM_OPT_LONG_ONLY) {
		so[(*nso)++] = (char)o->key;
		if (o->arg)
			so[(*nso)++] = ':';
	}
}

int dm_opts_parse(const struct dm_prog *p, int argc, char **argv,
		  int (*on_opt)(void *ctx, int key, const char *arg), void *ctx, int *verbosity)
{
	struct option lo[MAX_OPTS + 4];
	char so[3 * MAX_OPTS + 8] = ":"; /* ':' first: a missing argument returns ':' */
	size_t n = 0, nso = 1;
	int c;

	for (const struct dm_opt *o = p->opts; o->name; o++) {
		if (n == MAX_OPTS) {
			fprintf(stderr, "%s: %s: more than %d options\n", p->name, __func__,
				MAX_OPTS);
			return 2;
		}
		add(&lo[n++], so, &nso, o);
	}
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		add(&lo[n++], so, &nso, &common[i]);
	memset(&lo[n], 0, sizeof lo[n]);
	so[nso] = '\0';

	opterr = 0;
	optind = 0; /* glibc: 0 starts a fresh scan, also after an earlier parse */
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (c) {
		case 'v': (*verbosity)++; break;
		case 'h': dm_opts_usage(p, stdout); return 1;
		case 'V': printf("%s %s\n", p->name, p->version); return 1;
		case ':':
			fprintf(stderr, "%s: error: %s needs an argument\n", p->name,
				argv[optind - 1]);
			dm_opts_usage(p, stderr);
			return 2;
		case '?':
			if (optopt)
				fprintf(stderr, "%s: error: unknown option -%c\n", p->name, optopt);
			else
				fprintf(stderr, "%s: error: unknown option %s\n", p->name,
					argv[optind - 1]);
			dm_opts_usage(p, stderr);
			return 2;
		default:
			if (on_opt(ctx, c, optarg)) {
				dm_opts_usage(p, stderr);
				return 2;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: error: unexpected argument \"%s\"\n", p->name, argv[optind]);
		dm_opts_usage(p, stderr);
		return 2;
	}
	return 0;
}
