/*
 * state_pg.h - state.h on PostgreSQL (state_pg.c), for several key servers
 * sharing one database. ks_state_open() selects it for a state of the form
 * "postgresql:CONNINFO" and forwards every ks_state_* call to it.
 */
#ifndef KS_STATE_PG_H
#define KS_STATE_PG_H

#include "keyserver/state.h"

#define KS_STATE_PG_PREFIX "postgresql:"

struct pgs;

int pgs_open(const char *conninfo, struct pgs **out, char *err, size_t errlen);
void pgs_close(struct pgs *st);
int pgs_load_group(struct pgs *st, uint32_t gid, struct ks_group_rec *rec);
enum ks_state_verdict pgs_verify_group(struct pgs *st, int load_rc, struct ks_group_rec *rec, char *why,
				       size_t whylen);
int pgs_save_group(struct pgs *st, const struct ks_group_rec *rec);
int pgs_save_seq(struct pgs *st, uint32_t gid, uint32_t seq);
int pgs_spi_claim(struct pgs *st, uint32_t gid, uint32_t spi);
int pgs_ssrc_list(struct pgs *st, uint32_t gid, const char *member, uint32_t *out, size_t cap, size_t *n);
int pgs_ssrc_add(struct pgs *st, uint32_t gid, const char *member, uint32_t ssrc);
int pgs_member_seen(struct pgs *st, uint32_t gid, const char *member, const char *identity, const char *addr,
		    int64_t now);
int pgs_member_remove(struct pgs *st, uint32_t gid, const char *member);
int pgs_member_acked(struct pgs *st, uint32_t gid, const char *member, uint32_t seq);
int pgs_member_missed(struct pgs *st, uint32_t gid, const char *member, unsigned *misses);
int pgs_members(struct pgs *st, uint32_t gid, void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx);
int pgs_set_blocked(struct pgs *st, const char *member, bool blocked);
bool pgs_blocked(struct pgs *st, const char *member);
int pgs_blocked_check(struct pgs *st, const char *member);
int pgs_cmd_add(struct pgs *st, uint32_t gid, const char *op, const char *member, int64_t now, int64_t *id);
int pgs_cmd_next(struct pgs *st, uint32_t gid, struct ks_cmd *out);
int pgs_cmd_get(struct pgs *st, int64_t id, struct ks_cmd *out);
int pgs_cmd_done(struct pgs *st, int64_t id, bool has_seq, uint32_t seq, const char *error, int64_t now);
int pgs_lead(struct pgs *st, uint32_t gid);
int pgs_holder(struct pgs *st, uint32_t gid, char *out, size_t cap);
int pgs_watch_fd(struct pgs *st);
bool pgs_connected(struct pgs *st);
int pgs_poll(struct pgs *st, void (*cb)(void *ctx, uint32_t gid), void *ctx);

#endif
