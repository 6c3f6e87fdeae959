/*
 * cluster.c - several gdoi-ks on one PostgreSQL state
 * (docs/keyserver-postgresql.md): per group, exactly one of them is the
 * rekey leader (the state's session lock, state.h ks_state_lead), and only the
 * leader runs the rekey scheduler and sends pushes; the others serve
 * registrations from the shared state.
 *
 * Every LEAD_MS each key server tries the leadership of the groups it does not
 * lead and checks the ones it does (a leader whose database session ended has
 * lost the lock: it stops rekeying at once). A new leader reloads the group
 * first, so its pushes continue above the last SEQ committed. Followers reload
 * a group when the state announces another key server committed it (LISTEN/
 * NOTIFY), and once more in every registration (registrar.c admit()).
 *
 * Operator commands given to a follower (gdoictl rekey, evict) are queued in the
 * state (ks_state_cmd_add); the leader carries them out when it hears the notice,
 * and at every tick for what a notice did not announce (a leader that changed
 * meanwhile, a notice lost with a session): a queued command survives the
 * leader's death and is carried out by the next one.
 *
 * With SQLite the process is alone and leads every group; nothing here runs.
 */
#include <stdlib.h>
#include <string.h>

#include "keyserver/ks.h"
#include "keyserver/log.h"

#define LEAD_MS 500
#define RECONNECT_TICK_MS 50	/* while a session is being re-established */
#define CMDS_PER_TICK 16

/* The group as the state has it now (keys, SEQ, schedule); 0, or -1 (kept as it was). */
int ks_cluster_reload(struct ks_group *g)
{
	struct ks_group_rec *r = malloc(sizeof(*r));
	if (!r)
		return -1;
	int rc = ks_state_load_group(g->ks->st, g->id, r);
	if (rc == 0) {
		gdoi_wipe(&g->rec, sizeof(g->rec));
		memcpy(&g->rec, r, sizeof(*r));
		ks_group_load_senders(g);
		ks_group_build_policy(g, ks_unix_now());
	}
	gdoi_wipe_free(r, sizeof(*r));
	return rc == 0 ? 0 : -1;
}

void ks_cluster_commands(struct ks_group *g)
{
	struct ks *ks = g->ks;
	struct ks_cmd c;
	for (int i = 0; i < CMDS_PER_TICK && g->leader && ks_state_cmd_next(ks->st, g->id, &c) == 0; i++) {
		int rc;
		const char *err = "failed on the rekey leader (see its log)";
		ks_log(KS_INFO, "group %s: command %lld from another key server: %s%s%s", g->cfg->name,
		       (long long)c.id, c.op, c.member[0] ? " " : "", c.member);
		if (!strcmp(c.op, "rekey"))
			rc = ks_rekey_teks(g, "admin request forwarded by another key server");
		else if (!strcmp(c.op, "kek"))
			rc = ks_rekey_kek(g, "admin request forwarded by another key server", false);
		else if (!strcmp(c.op, "evict") && c.member[0])
			rc = ks_evict_rotate(g, c.member);
		else
			rc = -1, err = "unknown command";
		if (rc && (!g->leader || rc == -2))
			return;	/* leadership or the state lost meanwhile: left for the next try */
		if (!rc)
			err = "";
		if (ks_state_cmd_done(ks->st, c.id, !rc && g->rec.has_kek, g->rec.seq, err, ks_unix_now()))
			return;	/* not recorded: carried out again at the next tick, as after a crash */
	}
}

static void on_notice(void *ctx, uint32_t gid)
{
	struct ks *ks = ctx;
	for (size_t i = 0; i < ks->ngroups; i++) {
		struct ks_group *g = ks->groups[i];
		if (g->id != gid)
			continue;
		if (g->leader) {
			ks_cluster_commands(g);	/* a follower queued something */
			continue;
		}
		if (ks_cluster_reload(g) == 0)
			ks_log(KS_DEBUG, "group %s: new keys from the rekey leader, SEQ %u", g->cfg->name, g->rec.seq);
	}
}

static void on_watch_closed(uv_handle_t *h)
{
	((struct ks *)h->data)->watch_closing = false;
}

static void watch_stop(struct ks *ks)
{
	if (ks->watch_fd >= 0) {
		uv_poll_stop(&ks->watch);
		ks->watch_closing = true;
		uv_close((uv_handle_t *)&ks->watch, on_watch_closed);
		ks->watch_fd = -1;
	}
}

static void on_watch(uv_poll_t *p, int status, int events)
{
	struct ks *ks = p->data;
	(void)events;
	if (status < 0 || ks_state_poll(ks->st, on_notice, ks))
		watch_stop(ks);	/* the session is gone: the next tick reconnects */
}

/* uv_close of the poll handle completes later: the handle lives in ks and is reused
 * only once its close callback has run (one tick later at least). Not uv_is_closing(),
 * which stays true once the handle is closed: the watch was never made again after
 * the first session lost, and notices waited for the next tick. */
static void watch_start(struct ks *ks)
{
	int fd = ks_state_watch_fd(ks->st);
	if (fd < 0 || fd == ks->watch_fd || ks->watch_closing)
		return;
	watch_stop(ks);
	if (ks->watch_closing || uv_poll_init(ks->loop, &ks->watch, fd))
		return;
	ks->watch.data = ks;
	ks->watch_fd = fd;
	uv_poll_start(&ks->watch, UV_READABLE, on_watch);
}

static void on_lead_timer(uv_timer_t *t);

void ks_cluster_tick(struct ks *ks)
{
	if (ks->stopping || !ks_state_shared(ks->st))
		return;
	if (ks->watch_fd >= 0 && ks_state_poll(ks->st, on_notice, ks))
		watch_stop(ks);
	/* the groups still led, in the order of ks->groups: their open commands are looked
	 * for in one statement */
	size_t cap = ks->ngroups ? ks->ngroups : 1, nled = 0;
	uint32_t *led = calloc(cap, sizeof(*led));
	bool *pending = calloc(cap, sizeof(*pending));
	for (size_t i = 0; i < ks->ngroups; i++) {
		struct ks_group *g = ks->groups[i];
		int rc = ks_state_lead(ks->st, g->id);
		if (rc == 2 || (rc == 1 && !g->leader)) {
			/* (again) leader: another may have pushed meanwhile; its SEQ is in the state */
			uv_timer_stop(&g->timer);
			g->leader = false;
			if (ks_cluster_reload(g))
				continue;	/* not before it has the committed state */
			g->leader = true;
			ks_log(KS_INFO, "group %s: this key server is now the rekey leader (SEQ %u)", g->cfg->name,
			       g->rec.seq);
			ks_rekey_schedule(g);
			ks_cluster_commands(g);
		} else if (rc == 1 && led && pending) {
			led[nled++] = g->id;
		} else if (rc == 1) {
			ks_cluster_commands(g);	/* no memory for the list: one statement each */
		} else if (rc < 1 && g->leader) {
			g->leader = false;
			uv_timer_stop(&g->timer);
			ks_log(KS_WARN, "group %s: rekey leadership lost (%s): no rekeys from here", g->cfg->name,
			       rc < 0 ? "the database cannot be reached" : "another key server holds it");
		}
	}
	if (nled && ks_state_cmd_pending(ks->st, led, nled, pending) == 0)
		for (size_t i = 0, j = 0; i < ks->ngroups && j < nled; i++)
			if (ks->groups[i]->id == led[j] && pending[j++])
				ks_cluster_commands(ks->groups[i]);
	free(led);
	free(pending);
	watch_start(ks);
	/* a session is coming back in the background: look again soon, so leadership and
	 * notices resume as soon as it is up, not a whole LEAD_MS later */
	if (ks->lead_started && !ks_state_connected(ks->st))
		uv_timer_start(&ks->lead_timer, on_lead_timer, RECONNECT_TICK_MS, LEAD_MS);
}

static void on_lead_timer(uv_timer_t *t)
{
	ks_cluster_tick(t->data);
}

void ks_cluster_start(struct ks *ks)
{
	ks->watch_fd = -1;
	if (!ks_state_shared(ks->st))
		return;
	uv_timer_init(ks->loop, &ks->lead_timer);
	ks->lead_timer.data = ks;
	ks->lead_started = true;
	uv_timer_start(&ks->lead_timer, on_lead_timer, LEAD_MS, LEAD_MS);
	ks_cluster_tick(ks);
}

void ks_cluster_stop(struct ks *ks)
{
	watch_stop(ks);
	if (ks->lead_started)
		uv_close((uv_handle_t *)&ks->lead_timer, NULL);
	ks->lead_started = false;
}
