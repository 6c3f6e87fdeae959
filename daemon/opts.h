/*
 * opts.h - the command line both daemons share: one table per program gives each
 * option's names, argument and help line; -v/--verbose, -h/--help and -V/--version
 * come with every program, and --help is printed from the table, so a new option
 * cannot be left out of it.
 */
#ifndef DM_OPTS_H
#define DM_OPTS_H

#include <stdio.h>

struct dm_opt {
	const char *name; /* long name, without "--" */
	int key;	  /* its short letter, or DM_OPT_LONG_ONLY + n */
	const char *arg;  /* the argument's name in --help; NULL: a flag */
	const char *help;
};
#define DM_OPT_LONG_ONLY 0x100

struct dm_prog {
	const char *name; /* "gdoi-ks" */
	const char *version;
	const char *synopsis;	   /* what follows the name on the usage line */
	const char *about;	   /* a few lines on what the program is */
	const char *footer;	   /* after the options: signals, files */
	const struct dm_opt *opts; /* ends with { NULL } */
};

/* Calls ON_OPT(CTX, key, argument or NULL) for each of the program's options, in order,
 * and counts -v into *VERBOSITY. Returns 0 to go on, 1 when --help or --version was
 * printed (exit 0), 2 after a usage error printed to stderr (exit 2), which is also what
 * a non-zero ON_OPT or an argument that is not an option gives. */
int dm_opts_parse(const struct dm_prog *p, int argc, char **argv,
		  int (*on_opt)(void *ctx, int key, const char *arg), void *ctx, int *verbosity);
/* The --help text. */
void dm_opts_usage(const struct dm_prog *p, FILE *f);

#endif
