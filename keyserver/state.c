/*
 * state.c - state.h, dispatched to the backend chosen at open (state_int.h):
 * SQLite in a state directory, or PostgreSQL for "postgresql:CONNINFO"
 * (state_pg.h). A backend without the shared-database operations is alone:
 * not shared, leader of everything, nothing to watch, no commands.
 */
#include "keyserver/state_int.h"

#include <stdio.h>
#include <string.h>

#include "keyserver/state_pg.h"

int ks_state_open(const char *dir, struct ks_state **out, char *err, size_t errlen)
{
	if (!strncmp(dir, KS_STATE_PG_PREFIX, strlen(KS_STATE_PG_PREFIX)))
		return pgs_open(dir + strlen(KS_STATE_PG_PREFIX), out, err, errlen);
	return ks_state_sqlite_open(dir, out, err, errlen);
}

void ks_state_close(struct ks_state *st)
{
	if (st)
		st->ops->close(st);
}

int ks_state_load_group(struct ks_state *st, uint32_t gid, struct ks_group_rec *rec)
{
	return st->ops->load_group(st, gid, rec);
}

enum ks_state_verdict ks_state_verify_group(struct ks_state *st, int load_rc, struct ks_group_rec *rec,
					    char *why, size_t whylen)
{
	return st->ops->verify_group(st, load_rc, rec, why, whylen);
}

int ks_state_save_group(struct ks_state *st, const struct ks_group_rec *rec)
{
	return st->ops->save_group(st, rec);
}

int ks_state_save_seq(struct ks_state *st, uint32_t gid, uint32_t seq)
{
	return st->ops->save_seq(st, gid, seq);
}

int ks_state_spi_claim(struct ks_state *st, uint32_t gid, uint32_t spi)
{
	return st->ops->spi_claim(st, gid, spi);
}

int ks_state_ssrc_list(struct ks_state *st, uint32_t gid, const char *member, uint32_t *out,
		       size_t cap, size_t *n)
{
	return st->ops->ssrc_list(st, gid, member, out, cap, n);
}

int ks_state_ssrc_add(struct ks_state *st, uint32_t gid, const char *member, uint32_t ssrc)
{
	return st->ops->ssrc_add(st, gid, member, ssrc);
}

int ks_state_member_seen(struct ks_state *st, uint32_t gid, const char *member,
			 const char *identity, const char *addr, bool gikev2, int64_t now)
{
	return st->ops->member_seen(st, gid, member, identity, addr, gikev2, now);
}

int ks_state_member_remove(struct ks_state *st, uint32_t gid, const char *member)
{
	return st->ops->member_remove(st, gid, member);
}

int ks_state_member_acked(struct ks_state *st, uint32_t gid, const char *member, uint32_t seq)
{
	return st->ops->member_acked(st, gid, member, seq);
}

int ks_state_member_missed(struct ks_state *st, uint32_t gid, const char *member, unsigned *misses)
{
	return st->ops->member_missed(st, gid, member, misses);
}

int ks_state_members(struct ks_state *st, uint32_t gid,
		     void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx)
{
	return st->ops->members(st, gid, true, cb, ctx);
}

int ks_state_members_nossrc(struct ks_state *st, uint32_t gid,
			    void (*cb)(void *ctx, const struct ks_member_rec *m), void *ctx)
{
	return st->ops->members(st, gid, false, cb, ctx);
}

int ks_state_set_blocked(struct ks_state *st, const char *member, bool blocked)
{
	return st->ops->set_blocked(st, member, blocked);
}

int ks_state_blocked_check(struct ks_state *st, const char *member)
{
	return st->ops->blocked_check(st, member);
}

/* A check that cannot be made counts as blocked. */
bool ks_state_blocked(struct ks_state *st, const char *member)
{
	return ks_state_blocked_check(st, member) != 0;
}

/* ---- several key servers (a backend with these operations; else alone) ------- */

bool ks_state_shared(const struct ks_state *st)
{
	return st->ops->lead != NULL;
}

int ks_state_lead(struct ks_state *st, uint32_t gid)
{
	return st->ops->lead ? st->ops->lead(st, gid) : 1;
}

int ks_state_leader(struct ks_state *st, uint32_t gid, char *out, size_t cap)
{
	if (st->ops->leader)
		return st->ops->leader(st, gid, out, cap);
	snprintf(out, cap, "self");
	return 0;
}

int ks_state_watch_fd(struct ks_state *st)
{
	return st->ops->watch_fd ? st->ops->watch_fd(st) : -1;
}

int ks_state_poll(struct ks_state *st, void (*cb)(void *ctx, uint32_t gid), void *ctx)
{
	return st->ops->poll ? st->ops->poll(st, cb, ctx) : 0;
}

bool ks_state_connected(struct ks_state *st)
{
	return st->ops->connected ? st->ops->connected(st) : true;
}

int ks_state_cmd_add(struct ks_state *st, uint32_t gid, const char *op, const char *member, int64_t now,
		     int64_t *id)
{
	return st->ops->cmd_add ? st->ops->cmd_add(st, gid, op, member, now, id) : -1;
}

int ks_state_cmd_next(struct ks_state *st, uint32_t gid, struct ks_cmd *out)
{
	return st->ops->cmd_next ? st->ops->cmd_next(st, gid, out) : 1;
}

int ks_state_cmd_pending(struct ks_state *st, const uint32_t *gids, size_t n, bool *pending)
{
	for (size_t i = 0; i < n; i++)
		pending[i] = false;
	return st->ops->cmd_pending && n ? st->ops->cmd_pending(st, gids, n, pending) : 0;
}

int ks_state_cmd_get(struct ks_state *st, int64_t id, struct ks_cmd *out)
{
	return st->ops->cmd_get ? st->ops->cmd_get(st, id, out) : 1;
}

int ks_state_cmd_done(struct ks_state *st, int64_t id, bool has_seq, uint32_t seq, const char *error,
		      int64_t now)
{
	return st->ops->cmd_done ? st->ops->cmd_done(st, id, has_seq, seq, error, now) : -1;
}
