/*
 * config_int.h - what config.c (reading sections and keys) and config_check.c
 * (the checks across sections once the whole file is read) share: the state of
 * one parse, and the one way an error is recorded (the first one, with its line).
 */
#ifndef KS_CONFIG_INT_H
#define KS_CONFIG_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "keyserver/config.h"

struct parse {
	struct ks_config *c;
	FILE *f;
	int line;
	int section_line;	/* of the last [section] header */
	bool header_seen;	/* a [section] line since the last key */
	char err[400];
	bool failed;
	int err_line;
	char section[128];
	struct ks_group_cfg *group;	/* the section being read */
	struct ks_member_cfg *member;
	/* member "groups" values are resolved after the whole file is read */
	struct { size_t member; int line; char value[400]; } *refs;
	size_t nrefs, refs_cap;
	size_t members_cap;
	bool suites_set;
	/* keys given in the section being read: a second one is an error, not last-wins */
	struct { char key[24], as[24]; int line; } seen[32];
	size_t nseen;
	int server_line;	/* of the first [server] header */
	int psk_line;		/* of the first psk or psk_hex */
	char psk_key[8];
	mode_t mode;		/* of the file, checked when it holds pre-shared keys */
};

/* Records the first error (FILE:LINE is added by the caller); returns 0 so that a
 * key handler can return it. */
int ks_cfg_fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The G-IKEv2 [server] keys (config_gikev2.c): 1, 0 after ks_cfg_fail, or -1
 * when k is none of them. */
int ks_cfg_gikev2_key(struct parse *p, const char *k, const char *v);
/* The checks across sections: 1, or 0 after ks_cfg_fail. */
int ks_config_validate(struct parse *p);

#endif
