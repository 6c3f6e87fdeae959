/*
 * state_pg.h - state.h on PostgreSQL (state_pg.c), for several key servers
 * sharing one database. ks_state_open() (state.c) opens it for a state of the
 * form "postgresql:CONNINFO"; every ks_state_* call then goes to its table of
 * operations (state_int.h).
 */
#ifndef KS_STATE_PG_H
#define KS_STATE_PG_H

#include "keyserver/state.h"

#define KS_STATE_PG_PREFIX "postgresql:"

int pgs_open(const char *conninfo, struct ks_state **out, char *err, size_t errlen);

#endif
