/*
 * worker.c - registrations on every core: [server] workers = N (N > 1) starts N
 * worker threads, each with its own libuv loop, its own UDP socket bound to the
 * listen address in one SO_REUSEPORT group, and its own key-server engine
 * (registrar.c) for Phase 1 and GROUPKEY-PULL. The kernel picks a socket by a
 * hash of the peer's address and port, so one member's exchanges stay on one
 * worker and its engine. The main thread keeps the rest: configuration, the
 * rekey scheduler and the engine that pushes, the admin socket, metrics,
 * multicast. Its UDP handle only sends: a duplicate of worker 0's socket, so
 * pushes leave from the listen address and port.
 *
 * What a worker's engine does not own goes to the main thread on one queue
 * with a uv_async: RFC 8263 ACKs (exchange 35: verified by the engine that
 * pushed) and the REGISTERED outcomes that owe the member a push (a catch-up,
 * the new sender list), with a copy of what the member's message 1 got; the
 * worker records and logs a registration itself, under the lock. The other way,
 * what only the engine holding a member's IKE SA can do (a G-IKEv2
 * GSA_INBAND_REKEY, the Delete of an evicted member's IKE SAs) goes to every
 * worker on its job list, under the lock, with its wake-up async.
 *
 * Shared data: ks->lock. The main thread holds it whenever it runs (its loop is
 * driven by ks_run: uv_run(UV_RUN_NOWAIT), and the lock is let go only while it
 * waits in poll() on the loop's backend descriptor); a worker takes it for the
 * registration callbacks (groups, the policy handed out, ks_state_*) and for
 * its event bookkeeping (counters). The DH, signature, hash and cipher work of
 * a registration runs outside it. Logging is thread-safe itself (daemon/log.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/udp.h"
#include "gdoi/secret.h"
#include "keyserver/ks.h"
#include "keyserver/log.h"

#define FWD_MAX 16384	/* queued for the main thread; more are counted lost */

struct ks_fwd {
	struct ks_fwd *next;
	bool registered;	/* else a datagram (an ACK) */
	bool has_pe;
	struct gdoi_gcks_event ev;
	struct ks_pending pe;
	struct sockaddr_storage from;
	size_t len;
	uint8_t dgram[];
};

/* G-IKEv2 work for one worker's engine (the main thread's engine holds no IKE SA). */
struct ks_job {
	struct ks_job *next;
	bool evict;			/* else a GSA_INBAND_REKEY of gid */
	uint32_t gid;
	char member[64];
	size_t ndels;
	struct gdoi_push_delete dels[GDOI_PUSH_MAX_DELETES];
};

/* ---- the main thread's loop ------------------------------------------------------ */

void ks_run(struct ks *ks)
{
	if (!ks->workers) {
		uv_run(ks->loop, UV_RUN_DEFAULT);
		return;
	}
	while (uv_run(ks->loop, UV_RUN_NOWAIT)) {
		struct pollfd p = { .fd = uv_backend_fd(ks->loop), .events = POLLIN };
		int timeout = uv_backend_timeout(ks->loop);
		uv_mutex_unlock(&ks->lock);
		poll(&p, 1, timeout);
		uv_mutex_lock(&ks->lock);
	}
}

/* ---- the queue to the main thread -------------------------------------------------- */

static void push_fwd(struct ks_worker *w, struct ks_fwd *f)
{
	struct ks *ks = w->ks;
	bool lost = false;
	uv_mutex_lock(&ks->fwd_lock);
	if (ks->fwd_len >= FWD_MAX) {
		ks->fwd_lost++;
		lost = true;
	} else {
		if (ks->fwd_tail)
			ks->fwd_tail->next = f;
		else
			ks->fwd_head = f;
		ks->fwd_tail = f;
		ks->fwd_len++;
		w->forwarded++;
	}
	uv_mutex_unlock(&ks->fwd_lock);
	if (lost) {
		gdoi_wipe_free(f, sizeof(*f) + f->len);
		ks_log_limited(KS_WARN, "forward queue full", "worker %u: the main thread's queue is full (%d): "
			       "an ACK or a registration's follow-up is lost", w->index, FWD_MAX);
		return;
	}
	uv_async_send(&ks->fwd_async);
}

void ks_worker_forward_registered(struct ks_worker *w, const struct gdoi_gcks_event *ev,
				  const struct ks_pending *pe)
{
	struct ks_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->registered = true;
	f->ev = *ev;
	if (pe) {
		f->has_pe = true;
		f->pe = *pe;
	}
	push_fwd(w, f);
}

static void forward_dgram(struct ks_worker *w, const uint8_t *msg, size_t len, const struct sockaddr *from)
{
	struct ks_fwd *f = calloc(1, sizeof(*f) + len);
	if (!f)
		return;
	f->len = len;
	memcpy(f->dgram, msg, len);
	memcpy(&f->from, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	push_fwd(w, f);
}

/* Main thread (lock held): each forwarded item as if its own engine had it. */
static void on_fwd(uv_async_t *a)
{
	struct ks *ks = a->data;
	uv_mutex_lock(&ks->fwd_lock);
	struct ks_fwd *f = ks->fwd_head;
	ks->fwd_head = ks->fwd_tail = NULL;
	ks->fwd_len = 0;
	uv_mutex_unlock(&ks->fwd_lock);
	while (f) {
		struct ks_fwd *next = f->next;
		if (!ks->stopping && f->registered)
			ks_registrar_follow_up(ks, &f->ev, f->has_pe ? &f->pe : NULL);
		else if (!ks->stopping && ks->reg)
			ks_registrar_input(ks->reg, f->dgram, f->len, (const struct sockaddr *)&f->from);
		gdoi_wipe_free(f, sizeof(*f) + f->len);
		f = next;
	}
}

/* ---- jobs for the workers' engines (main thread, lock held) ----------------------- */

static void post_job(struct ks *ks, const struct ks_job *proto)
{
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		struct ks_job *j = malloc(sizeof(*j));
		if (!j) {
			ks_log(KS_ERR, "worker %u: out of memory: a G-IKEv2 %s is lost", w->index,
			       proto->evict ? "eviction" : "GSA_INBAND_REKEY");
			continue;
		}
		*j = *proto;
		j->next = NULL;
		*w->jobs_tail = j;
		w->jobs_tail = &j->next;
		uv_async_send(&w->wake);
	}
}

void ks_workers_post_inband(struct ks *ks, uint32_t gid, const struct gdoi_push_delete *dels, size_t ndels)
{
	struct ks_job j = { .gid = gid };
	j.ndels = ndels < GDOI_PUSH_MAX_DELETES ? ndels : GDOI_PUSH_MAX_DELETES;
	if (j.ndels)
		memcpy(j.dels, dels, j.ndels * sizeof(*dels));
	post_job(ks, &j);
}

void ks_workers_post_evict(struct ks *ks, const char *member)
{
	struct ks_job j = { .evict = true };
	snprintf(j.member, sizeof(j.member), "%s", member);
	post_job(ks, &j);
}

/* Worker thread, lock held: the list taken; run with the lock let go. */
static void run_jobs(struct ks_worker *w)
{
	struct ks_job *j = w->jobs;
	w->jobs = NULL;
	w->jobs_tail = &w->jobs;
	uv_mutex_unlock(&w->ks->lock);
	while (j) {
		struct ks_job *next = j->next;
		if (j->evict)
			ks_registrar_worker_evict(w->reg, j->member);
		else
			ks_registrar_worker_inband(w->reg, j->gid, j->dels, j->ndels);
		free(j);
		j = next;
	}
	uv_mutex_lock(&w->ks->lock);
}

static void free_jobs(struct ks_worker *w)
{
	while (w->jobs) {
		struct ks_job *next = w->jobs->next;
		free(w->jobs);
		w->jobs = next;
	}
	w->jobs_tail = &w->jobs;
}

/* ---- a worker's thread ------------------------------------------------------------- */

static void w_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ks_worker *w = h->data;
	(void)suggested;
	buf->base = w->slab;
	buf->len = sizeof(w->slab);
}

static void w_udp(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
	struct ks_worker *w = u->data;
	if (nread < 0) {
		ks_log(KS_WARN, "worker %u: UDP receive: %s", w->index, uv_strerror((int)nread));
		return;
	}
	if (!addr || nread == 0 || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return;
	if (flags & UV_UDP_PARTIAL) {
		uv_mutex_lock(&w->ks->lock);
		w->ks->dropped++;
		uv_mutex_unlock(&w->ks->lock);
		ks_log_limited(KS_WARN, "truncated datagram", "truncated datagram dropped");
		return;
	}
	const uint8_t *msg = (const uint8_t *)buf->base;
	if (gdoi_gcks_is_push_ack(msg, (size_t)nread))
		forward_dgram(w, msg, (size_t)nread, addr);
	else
		ks_registrar_input(w->reg, msg, (size_t)nread, addr);
}

static void w_closed(uv_handle_t *h)
{
	(void)h;
}

/* Stop: close the handles (the loop ends). Pause: parked on ks->cond, outside
 * the engine, until the main thread has replaced the registrar (reload). */
static void w_wake(uv_async_t *a)
{
	struct ks_worker *w = a->data;
	struct ks *ks = w->ks;
	uv_mutex_lock(&ks->lock);
	if (w->stop) {
		uv_mutex_unlock(&ks->lock);
		w->stopping = true;
		ks_registrar_shutdown(w->reg);	/* the IKE SAs of this worker's engine */
		uv_close((uv_handle_t *)&w->udp, w_closed);
		uv_close((uv_handle_t *)&w->timer, w_closed);
		uv_close((uv_handle_t *)&w->wake, w_closed);
		return;
	}
	if (w->pause) {
		w->paused = true;
		uv_cond_broadcast(&ks->cond);
		while (w->pause && !w->stop)
			uv_cond_wait(&ks->cond, &ks->lock);
		w->paused = false;
	}
	if (!w->stop && w->jobs)
		run_jobs(w);
	bool stop = w->stop;
	uv_mutex_unlock(&ks->lock);
	if (stop)
		w_wake(a);
	else
		ks_registrar_arm(w->reg);
}

static void w_main(void *arg)
{
	struct ks_worker *w = arg;
	ks_registrar_arm(w->reg);
	uv_run(&w->loop, UV_RUN_DEFAULT);
}

void ks_worker_publish(struct ks_worker *w, const struct gdoi_gcks_stats *st, size_t sas)
{
	uv_mutex_lock(&w->stats_lock);
	w->stats = *st;
	w->send = w->udpb.stats;
	w->sas = sas;
	uv_mutex_unlock(&w->stats_lock);
}

void ks_send_totals(struct ks *ks, struct ks_udpb_stats *out)
{
	*out = ks->udpb.stats;
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		uv_mutex_lock(&w->stats_lock);
		out->sent += w->send.sent;
		out->calls += w->send.calls;
		out->deferred += w->send.deferred;
		out->failed += w->send.failed;
		uv_mutex_unlock(&w->stats_lock);
	}
}

static void stats_add(struct gdoi_gcks_stats *t, const struct gdoi_gcks_stats *s)
{
	t->datagrams += s->datagrams;
	t->dropped += s->dropped;
	t->mm1_limited += s->mm1_limited;
	t->junk_limited += s->junk_limited;
	t->registrations += s->registrations;
}

void ks_engine_totals(struct ks *ks, struct gdoi_gcks_stats *out, size_t *sas)
{
	*out = ks->gcks_base;
	*sas = 0;
	if (ks->reg) {
		stats_add(out, ks_registrar_stats(ks->reg));
		*sas = ks_registrar_sa_count(ks->reg);
	}
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		uv_mutex_lock(&w->stats_lock);
		stats_add(out, &w->stats);
		*sas += w->sas;
		uv_mutex_unlock(&w->stats_lock);
	}
}

/* ---- start, reload, stop (main thread) ------------------------------------------------ */

/* [server] send_buffer: room for a fan-out's datagrams in the kernel (udp_batch.h
 * waits for it when there is none). */
static int send_buffer(struct ks *ks, uv_udp_t *u)
{
	int v = (int)ks->cfg->send_buffer;
	return v ? uv_send_buffer_size((uv_handle_t *)u, &v) : 0;
}

static int worker_open(struct ks *ks, struct ks_worker *w)
{
	const struct ks_inet *l = &ks->cfg->listen;
	char err[600];
	int rc;
	if ((rc = uv_loop_init(&w->loop)))
		return rc;
	w->opened = true;
	w->loop.data = w;
	if ((rc = uv_udp_init_ex(&w->loop, &w->udp, (unsigned)ks->udp_family | UV_UDP_RECVMMSG)))
		return rc;
	w->udp.data = w;
	ks_udpb_init(&w->udpb, &w->udp, ks->udp_family);
	if ((rc = dm_udp_reuseport(&w->udp)) || (rc = dm_udp_bind(&w->udp, ks->udp_family, l->ip, l->port, 0)) ||
	    (rc = send_buffer(ks, &w->udp)))
		return rc;
	uv_timer_init(&w->loop, &w->timer);
	uv_async_init(&w->loop, &w->wake, w_wake);
	w->wake.data = w;
	if (ks_registrar_new(ks, w, &w->reg, err, sizeof(err))) {
		ks_log(KS_ERR, "worker %u: %s", w->index, err);
		return UV_ENOMEM;
	}
	return uv_udp_recv_start(&w->udp, w_alloc, w_udp);
}

/* The main thread's socket: with workers, worker 0's socket again (send only). */
static int main_socket(struct ks *ks)
{
	const struct ks_inet *l = &ks->cfg->listen;
	int rc;
	if (!ks->nworkers) {
		if ((rc = uv_udp_init_ex(ks->loop, &ks->udp, (unsigned)ks->udp_family | UV_UDP_RECVMMSG)))
			return rc;
		ks->udp.data = ks;
		/* One socket: an IPv6 listen address serves IPv6 only, except [::], which is
		 * dual-stack whatever net.ipv6.bindv6only says (docs/keyserver.md). */
		if ((rc = dm_udp_bind(&ks->udp, ks->udp_family, l->ip, l->port, 0)))
			return rc;
		return send_buffer(ks, &ks->udp);
	}
	uv_os_fd_t fd;
	uv_udp_init(ks->loop, &ks->udp);
	ks->udp.data = ks;
	if ((rc = uv_fileno((uv_handle_t *)&ks->workers[0]->udp, &fd)))
		return rc;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return uv_translate_sys_error(errno);
	if ((rc = uv_udp_open(&ks->udp, dup_fd)))
		close(dup_fd);
	return rc;
}

int ks_workers_start(struct ks *ks)
{
	const struct ks_inet *l = &ks->cfg->listen;
	unsigned n = ks->cfg->workers > 1 ? ks->cfg->workers : 0;
	int rc;
	if (n) {
		if (!l->port) {
			ks_log(KS_ERR, "workers = %u needs a fixed listen port (not 0)", n);
			return UV_EINVAL;
		}
		/* someone else on the port: refused, as a single socket would be */
		if ((rc = dm_udp_port_free(ks->udp_family, l->ip, l->port)))
			return rc;
		ks->workers = calloc(n, sizeof(*ks->workers));
		if (!ks->workers)
			return UV_ENOMEM;
		uv_mutex_init(&ks->lock);
		uv_cond_init(&ks->cond);
		uv_mutex_init(&ks->fwd_lock);
		uv_mutex_lock(&ks->lock);	/* the main thread's from now on */
		uv_async_init(ks->loop, &ks->fwd_async, on_fwd);
		ks->fwd_async.data = ks;
		for (unsigned i = 0; i < n; i++) {
			struct ks_worker *w = calloc(1, sizeof(*w));
			if (!w)
				return UV_ENOMEM;
			w->ks = ks;
			w->index = i;
			w->jobs_tail = &w->jobs;
			uv_mutex_init(&w->stats_lock);
			ks->workers[ks->nworkers++] = w;
			if ((rc = worker_open(ks, w)))
				return rc;
		}
	}
	if ((rc = main_socket(ks)))
		return rc;
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		if ((rc = uv_thread_create(&w->thread, w_main, w)))
			return rc;
		w->started = true;
	}
	return 0;
}

void ks_workers_pause(struct ks *ks)
{
	for (unsigned i = 0; i < ks->nworkers; i++) {
		ks->workers[i]->pause = true;
		uv_async_send(&ks->workers[i]->wake);
	}
	for (unsigned i = 0; i < ks->nworkers; i++)
		while (ks->workers[i]->started && !ks->workers[i]->paused)
			uv_cond_wait(&ks->cond, &ks->lock);
}

int ks_workers_prepare(struct ks *ks, char *err, size_t errlen)
{
	for (unsigned i = 0; i < ks->nworkers; i++)
		if (ks_registrar_new(ks, ks->workers[i], &ks->workers[i]->next, err, errlen)) {
			ks_workers_abort(ks);
			return -1;
		}
	return 0;
}

void ks_workers_abort(struct ks *ks)
{
	for (unsigned i = 0; i < ks->nworkers; i++) {
		ks_registrar_free(ks->workers[i]->next);
		ks->workers[i]->next = NULL;
	}
}

/* The engines' counters go on across reloads (ks->gcks_base). */
static void retire(struct ks *ks, struct ks_worker *w)
{
	uv_mutex_lock(&w->stats_lock);
	stats_add(&ks->gcks_base, &w->stats);
	memset(&w->stats, 0, sizeof(w->stats));
	w->sas = 0;
	uv_mutex_unlock(&w->stats_lock);
	ks_registrar_free(w->reg);
	w->reg = NULL;
}

void ks_workers_commit(struct ks *ks)
{
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		ks_registrar_adopt(w->next, w->reg);	/* its members' IKE SAs stay */
		retire(ks, w);
		w->reg = w->next;
		w->next = NULL;
	}
}

void ks_workers_resume(struct ks *ks)
{
	for (unsigned i = 0; i < ks->nworkers; i++)
		ks->workers[i]->pause = false;
	uv_cond_broadcast(&ks->cond);
}

static void on_close_free_fwd(uv_handle_t *h)
{
	struct ks *ks = h->data;
	struct ks_fwd *f = ks->fwd_head;
	while (f) {
		struct ks_fwd *next = f->next;
		gdoi_wipe_free(f, sizeof(*f) + f->len);
		f = next;
	}
	ks->fwd_head = ks->fwd_tail = NULL;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void ks_workers_stop(struct ks *ks)
{
	if (!ks->workers)
		return;
	for (unsigned i = 0; i < ks->nworkers; i++) {
		ks->workers[i]->stop = true;
		if (ks->workers[i]->started)
			uv_async_send(&ks->workers[i]->wake);
	}
	uv_cond_broadcast(&ks->cond);
	uv_mutex_unlock(&ks->lock);	/* a worker may wait for it in a callback */
	for (unsigned i = 0; i < ks->nworkers; i++)
		if (ks->workers[i]->started)
			uv_thread_join(&ks->workers[i]->thread);
	uv_mutex_lock(&ks->lock);
	for (unsigned i = 0; i < ks->nworkers; i++) {
		struct ks_worker *w = ks->workers[i];
		if (!w->opened) {
			free(w);
			continue;
		}
		if (!w->started)	/* set up on this thread, never run: closed here */
			uv_walk(&w->loop, close_walk, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		retire(ks, w);
		ks_registrar_free(w->next);
		ks_udpb_free(&w->udpb);
		free_jobs(w);
		uv_loop_close(&w->loop);
		uv_mutex_destroy(&w->stats_lock);
		free(w);
	}
	free(ks->workers);
	ks->workers = NULL;
	ks->nworkers = 0;
	uv_close((uv_handle_t *)&ks->fwd_async, on_close_free_fwd);
}
