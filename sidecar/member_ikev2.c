/*
 * member_ikev2.c - groups with protocol = g-ikev2: one G-IKEv2 member engine
 * each (gdoi/gike2_member.h) beside the GDOI engine, on the same
 * registration socket (IKEv2 datagrams told apart by their version octet)
 * and the same timer. Their events are the GDOI engine's kind and go the
 * same way (sc_member_event); their TEKs are what sc_group_keys shows, so
 * snapshots, leases and IPC do not know which protocol brought the keys.
 */
#include "sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gdoi/crypto.h"
#include "gdoi/gike2_member.h"
#include "gdoi/gike2_numbers.h"
#include "gdoi/ike2.h"
#include "gdoi/ike2_keys.h"

/* One IKE SA configuration for every G-IKEv2 group (they outlive the engines). */
static struct gdoi_ike2_suite ike_suites[16];
static struct gdoi_ike2_psk ike_psk;
static struct gdoi_ike2_config ike_cfg;
static uint8_t idg_data[SC_MAX_GROUPS][4];

/*
 * ike2_keys_log: appends the SA's entry of tshark's ikev2_decryption_table
 * and a "#sk_d SPIi,SPIr,SK_d,PRF" comment line (tshark skips it; gdoi-dump
 * reads it to unwrap the Rekey SA keys from the KD). The file is created
 * 0600 and never followed through a symbolic link.
 */
static void write_keys(void *ctx, const struct gdoi_ike2_sa *sa)
{
	const char *path = ctx;
	const struct gdoi_ike2_keys *k = gdoi_ike2_keys(sa);
	uint8_t spi_i[8], spi_r[8];
	char uat[512], spis[40], skd[2 * GDOI_IKE2_MAX_KEY + 1];
	gdoi_ike2_spis(sa, spi_i, spi_r);
	if (!k || gdoi_ike2_uat_format(spi_i, spi_r, k, uat, sizeof uat) != 0) {
		sc_warn("%s: %s: no decryption table entry for this suite", __func__, path);
		return;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "a");
	if (!f) {
		sc_warn("%s: %s: %s", __func__, path, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		gdoi_hex_encode(spi_i, 8, spis);
		spis[16] = ',';
		gdoi_hex_encode(spi_r, 8, spis + 17);
		gdoi_hex_encode(k->sk_d, k->prf_len, skd);
		fprintf(f, "%s\n#sk_d %s,%s,%u\n", uat, spis, skd, k->prf);
		fclose(f);
	}
	gdoi_wipe(uat, sizeof uat);
	gdoi_wipe(skd, sizeof skd);
}

/* The wall clock for the key server's certificate validity. */
static int64_t wall(void *ctx)
{
	(void)ctx;
	return sc_wall();
}

/* The key server's authenticated IKE ID (GSA_AUTH response). IKEv2 ID types
 * 1, 2, 3 and 5 are ISAKMP's numbers, as the configuration holds them. */
static bool ike2_ks_allowed(void *ctx, const struct gdoi_ike2_id *id, uint8_t method,
			    const struct gdoi_addr *addr)
{
	(void)method;
	(void)addr;
	return sc_ks_identity_ok(ctx, id->type, id->data.ptr, id->data.len);
}

/* Group i's G-IKEv2 engine, its first attempt with the key server of slot. */
static int new_engine(struct sidecar *sc, size_t i, size_t slot)
{
	const struct sc_group_cfg *g = &sc->cfg.groups[i];
	struct sc_group *sg = &sc->groups[i];
	/* IDg: ID_KEY_ID with the group id, as GDOI names it */
	uint8_t *d = idg_data[i];
	d[0] = (uint8_t)(g->id >> 24), d[1] = (uint8_t)(g->id >> 16);
	d[2] = (uint8_t)(g->id >> 8), d[3] = (uint8_t)g->id;
	struct gike2_member_cfg mc = {
		.ike = &ike_cfg, .ks = sc->slots[slot],
		.group = { GIKE2_ID_KEY_ID, GDOI_BYTES(d, 4) },
		.sid_request = g->send ? g->ssrcs : 0,
		.retry_min_ms = sc->cfg.retry_min_ms, .retry_max_ms = sc->cfg.retry_max_ms };
	snprintf(mc.name, sizeof mc.name, "group %s", g->name);
	gike2_member_free(sg->gike2);
	sg->gike2 = gike2_member_new(&mc);
	sg->gike2_slot = slot;
	sg->gike2_addr = mc.ks;
	sg->gike2_failed = 0;
	return sg->gike2 ? 0 : -1;
}

int sc_ikev2_start(struct sidecar *sc, char *err, size_t errlen)
{
	size_t any = 0;
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		any += sc->cfg.groups[i].protocol != SC_PROTO_GDOI;
	if (!any)
		return 0;
	if ((!sc->cfg.psk && !sc->cred.key) || !sc->nslots) {
		snprintf(err, errlen, "protocol = g-ikev2 or auto needs psk (or certificate) and a "
			 "key-server address");
		return -1;
	}
	ike_psk = (struct gdoi_ike2_psk){ { 0, GDOI_BYTES_NONE },
					  GDOI_BYTES(sc->cfg.psk, sc->cfg.psk_len) };
	ike_cfg = (struct gdoi_ike2_config){
		.suites = ike_suites,
		.nsuites = gdoi_ike2_suites_default(ike_suites, sizeof(ike_suites) / sizeof(ike_suites[0])),
		.local_id = { sc->cfg.id_type, GDOI_BYTES(sc->cfg.id_data, sc->cfg.id_len) },
		.psks = &ike_psk, .npsks = sc->cfg.psk ? 1 : 0, .fragmentation = true,
		.retransmit_ms = sc->cfg.exchange_ms, .max_transmits = 4,
		/* INITIAL_CONTACT says this IKE SA is the only one between us (RFC 7296
		 * §2.4): the key server drops the others. Each G-IKEv2 group has its own,
		 * so with several groups each registration would drop the other groups'
		 * IKE SAs (silently: their GSA_INBAND_REKEYs and Deletes never came). */
		.initial_contact = any == 1,
		.peer_allowed = ike2_ks_allowed, .ctx = sc };
	/* With a certificate (member.c loaded it for GDOI too): RFC 7427 signatures,
	 * AUTH method 14; the key server's AUTH is then verified against ca, or,
	 * if it answers by PSK, against psk. */
	if (sc->cred.key) {
		ike_cfg.key = sc->cred.key;
		ike_cfg.cert = GDOI_BYTES(sc->cred.cert_der, sc->cred.cert_len);
		ike_cfg.trust = sc->cred.trust;
		ike_cfg.unix_now = wall;
	}
	if (sc->cfg.ike2_keys_log[0]) {
		ike_cfg.keys_ready = write_keys;
		ike_cfg.keys_ctx = sc->cfg.ike2_keys_log;
		sc_warn("ike2_keys_log = %s: the IKE SA keys are written there (debugging only)",
			sc->cfg.ike2_keys_log);
	}
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		const struct sc_group_cfg *g = &sc->cfg.groups[i];
		if (g->protocol == SC_PROTO_GDOI)
			continue;
		if (new_engine(sc, i, 0)) {
			snprintf(err, errlen, "group %s: G-IKEv2 member engine: bad configuration", g->name);
			return -1;
		}
		sc_log("group %s: keys by G-IKEv2 (RFC 9838)%s", g->name,
		       g->protocol == SC_PROTO_AUTO ? ", GDOI where the key server does not speak it "
						      "(protocol = auto)" : "");
	}
	return 0;
}

void sc_ikev2_shutdown(struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].gike2)
			gike2_member_shutdown(sc->groups[i].gike2, sc_now());
	sc_ikev2_drain(sc);	/* the Deletes to the key servers */
}

void sc_ikev2_stop(struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		gike2_member_free(sc->groups[i].gike2);
		sc->groups[i].gike2 = NULL;
	}
}

/* A whole round over the key servers failed: the delay before the first again. */
static uint64_t round_over(struct sidecar *sc, struct sc_group *g)
{
	unsigned shift = g->gike2_rounds < 20 ? g->gike2_rounds : 20;
	int64_t last = gdoi_member_teks_last_valid(sc_group_keys(g)), wall = sc_wall();
	uint64_t delay = (uint64_t)sc->cfg.retry_min_ms << shift;
	uint32_t r;

	g->gike2_rounds++;
	if (delay > sc->cfg.retry_max_ms)
		delay = sc->cfg.retry_max_ms;
	if (last > wall) {	/* near expiry: an eighth of what is left, 250 ms at least */
		uint64_t cap = (uint64_t)(last - wall) * 1000 / 8;
		cap = cap < 250 ? 250 : cap;
		delay = delay < cap ? delay : cap;
	}
	if (gdoi_random((uint8_t *)&r, sizeof r))
		r = 0x80000000u;
	return delay * 3 / 4 + (uint64_t)((double)delay / 2 * ((double)r / 4294967296.0));
}

/*
 * protocol = auto (docs/sidecar.md): G-IKEv2 first; GDOI with a key server that gave
 * no IKEv2 answer or refused the group for G-IKEv2 (INVALID_GROUP_ID), remembered
 * for that key server until an attempt there fails. In GDOI mode the group is the
 * GDOI engine's (cfg.elsewhere off), its G-IKEv2 engine idle (UNREGISTERED).
 */
static void to_gdoi(struct sidecar *sc, struct sc_group *g, size_t slot, const char *why)
{
	char a[64];
	bool others = false;	/* other groups registering by GDOI: keep their key server */

	g->auto_gdoi = true;
	g->auto_gdoi_at[slot] = true;
	gike2_member_shutdown(g->gike2, sc_now());
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		others |= &sc->groups[i] != g && (sc->cfg.groups[i].protocol == SC_PROTO_GDOI ||
						   sc->groups[i].auto_gdoi);
	if (!others && gdoi_member_ks_current(sc->member) != slot)
		gdoi_member_set_ks(sc->member, sc->slots, sc->nslots, slot, sc_now());
	gdoi_member_group_elsewhere(sc->member, g->index, false, sc_now());
	gdoi_member_ks_name(sc->member, slot, a, sizeof a);
	sc_log("group %s: key server %s %s: keys by GDOI (protocol = auto)", g->cfg->name, a, why);
}

static void to_gikev2(struct sidecar *sc, struct sc_group *g, size_t slot, uint64_t delay)
{
	char a[64];

	g->auto_gdoi = false;
	gdoi_member_group_elsewhere(sc->member, g->index, true, sc_now());
	if (new_engine(sc, g->index, slot)) {
		sc_err("group %s: G-IKEv2 member engine: out of memory", g->cfg->name);
		return;
	}
	if (delay)
		gike2_member_set_ks(g->gike2, &g->gike2_addr, sc_mono() + delay);
	gdoi_member_ks_name(sc->member, slot, a, sizeof a);
	sc_log("group %s: trying G-IKEv2 with key server %s in %.1f s (protocol = auto)", g->cfg->name,
	       a, (double)delay / 1000);
}

/* A G-IKEv2 attempt of an auto group failed: GDOI with that key server when it gave
 * no IKEv2 answer or refused the group for G-IKEv2; true when the group went over. */
static bool auto_fallback(struct sidecar *sc, struct sc_group *g)
{
	bool heard;
	uint16_t notify = gike2_member_last_failure(g->gike2, &heard);

	if (notify == GIKE2_N_INVALID_GROUP_ID)
		to_gdoi(sc, g, g->gike2_slot, "refused the group for G-IKEv2 (INVALID_GROUP_ID)");
	else if (!notify && !heard)
		to_gdoi(sc, g, g->gike2_slot, "gave no IKEv2 answer");
	else
		return false;
	return true;
}

/* The GDOI engine failed an attempt with slot (FAILOVER): that key server's choice is
 * forgotten; auto groups in GDOI mode go back to G-IKEv2 with the GDOI engine's next
 * key server unless GDOI was chosen there. */
static void auto_gdoi_failed(struct sidecar *sc, size_t slot)
{
	size_t next = gdoi_member_ks_current(sc->member);

	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		if (sc->cfg.groups[i].protocol != SC_PROTO_AUTO || sc->stopping)
			continue;
		g->auto_gdoi_at[slot] = false;
		if (g->auto_gdoi && !g->auto_gdoi_at[next])	/* a whole round failed: back off */
			to_gikev2(sc, g, next, next == 0 ? round_over(sc, g) : 0);
	}
}

void sc_ikev2_gdoi_event(struct sidecar *sc, const struct gdoi_member_event *ev)
{
	if (ev->type == GDOI_MEMBER_EV_FAILOVER)
		auto_gdoi_failed(sc, ev->ks);
}

/*
 * A failed attempt of g's engine with its key server (no answer, the IKE SA failed,
 * TEMPORARY_FAILURE; refusals of the group stay with it), or the key server's Delete
 * of the IKE SA (deleted: logged as such, not as a failure): the next key server of the
 * list at once; after a whole round the first again after retry_min doubling to
 * retry_max, capped near expiry, +-25 % jitter: the GDOI engine's rules
 * (docs/sidecar.md, "Behaviour"), counted per group.
 */
static void failover(struct sidecar *sc, struct sc_group *g, bool deleted)
{
	size_t was = g->gike2_slot, n = sc->nslots ? sc->nslots : 1;
	uint64_t now = sc_mono(), delay = 0;
	char a[64], b[64];

	sc_resolve_failover(sc, was);
	g->gike2_slot = (was + 1) % n;
	if (g->gike2_slot == 0)
		delay = round_over(sc, g);
	g->gike2_addr = sc->slots[g->gike2_slot];
	gike2_member_set_ks(g->gike2, &g->gike2_addr, now + delay);
	gdoi_member_ks_name(sc->member, was, a, sizeof a);
	gdoi_member_ks_name(sc->member, g->gike2_slot, b, sizeof b);
	if (deleted)	/* a key server shutting down or evicting us: no failure of ours */
		sc_warn("group %s: G-IKEv2: key server %s deleted the IKE SA (INFORMATIONAL Delete); "
		       "next try with %s in %.1f s", g->cfg->name, a, b, (double)delay / 1000);
	else
		sc_warn("group %s: G-IKEv2 registration with %s failed; next try with %s in %.1f s",
			g->cfg->name, a, b, (double)delay / 1000);
	if (g->cfg->protocol == SC_PROTO_AUTO && g->auto_gdoi_at[g->gike2_slot])
		to_gdoi(sc, g, g->gike2_slot, "chose GDOI before");
}

void sc_ikev2_drain(struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		struct gike2_member *m = g->gike2;
		struct gdoi_out o;
		struct gdoi_member_event ev;
		if (!m)
			continue;
		while (gike2_member_next_out(m, &o))
			sc_member_send(sc, &o);
		while (gike2_member_next_event(m, &ev)) {
			uint64_t failed = gike2_member_stats(m)->attempts_failed;
			bool fo = ev.type == GDOI_MEMBER_EV_FAILOVER, deleted = fo && ev.ks_deleted;
			ev.group = (int)i;
			ev.ks = g->gike2_slot;
			if (ev.type == GDOI_MEMBER_EV_REGISTERED) {
				g->gike2_rounds = 0;
				if (g->cfg->protocol == SC_PROTO_AUTO)
					sc_log("group %s: keys by G-IKEv2 (protocol = auto)", g->cfg->name);
			}
			if (fo)
				ev.type = GDOI_MEMBER_EV_LOG;	/* the engine's reason, then ours */
			sc_member_event(sc, &ev);
			if (sc->stopping)
				continue;
			bool new_failure = failed != g->gike2_failed;
			g->gike2_failed = failed;
			if (new_failure && g->cfg->protocol == SC_PROTO_AUTO && !g->auto_gdoi &&
			    auto_fallback(sc, g))
				break;	/* the engine is idle now; what it still queued, next time */
			if (fo && !g->auto_gdoi)
				failover(sc, g, deleted);
		}
	}
}

void sc_ikev2_ks_changed(struct sidecar *sc)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct sc_group *g = &sc->groups[i];
		if (!g->gike2)
			continue;
		if (g->gike2_slot >= sc->nslots)
			g->gike2_slot = 0;
		const struct gdoi_addr *a = &sc->slots[g->gike2_slot], *was = &g->gike2_addr;
		if (a->len != was->len || a->port != was->port || memcmp(a->ip, was->ip, a->len)) {
			g->gike2_addr = *a;
			gike2_member_set_ks(g->gike2, a, 0);
		}
	}
}

/* A GSA_REKEY goes to the group whose Rekey SA its SPIs name (another group's engine
 * would refuse it as foreign); one no group holds is counted and logged once here. */
static void rekey_input(struct sidecar *sc, const uint8_t *msg, size_t len, const struct gdoi_addr *from,
			enum gdoi_member_via via, struct gdoi_now now)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].gike2 && gike2_member_rekey_owns(sc->groups[i].gike2, msg, len)) {
			gike2_member_input(sc->groups[i].gike2, msg, len, from, via, now);
			return;
		}
	sc->gike2_unknown_rekey++;
	dm_log_limited(DM_DEBUG, "gike2 rekey unknown SA", "GSA_REKEY under a Rekey SA of no group of "
		       "ours: Rekey SA SPIs at offset 0 (Message ID %u, %zu octets)",
		       gdoi_get_u32(msg + 20), len);
	/* as a GDOI member on an unknown KEK: a missed Rekey SA change (its GSA_REKEY
	 * lost) or a key server restart; every group rekeyed by GSA_REKEY registers
	 * again, at most once per unknown_kek_reregister */
	if (now.unix_s - sc->gike2_unknown_rereg_at < (int64_t)sc->cfg.unknown_kek_rereg_s)
		return;
	size_t n = 0;
	for (size_t i = 0; i < sc->cfg.ngroups; i++)
		if (sc->groups[i].gike2 && gike2_member_has_rekey_sa(sc->groups[i].gike2) &&
		    gike2_member_want_register(sc->groups[i].gike2, now) == 0)
			n++;
	if (!n)
		return;
	sc->gike2_unknown_rereg_at = now.unix_s;
	sc_log("re-registering %zu G-IKEv2 group(s): a GSA_REKEY under an unknown Rekey SA means a "
	       "missed Rekey SA change or a key server restart", n);
}

bool sc_ikev2_input(struct sidecar *sc, const uint8_t *msg, size_t len, const struct gdoi_addr *from,
		    enum gdoi_member_via via, struct gdoi_now now)
{
	if (gdoi_engine_classify(msg, len) != GDOI_FE_IKEV2)
		return false;
	if (msg[18] == GIKE2_EXCH_GSA_REKEY) {	/* classified: 28 octets at least */
		rekey_input(sc, msg, len, from, via, now);
	} else {
		/* on a rekey group only GSA_REKEY is expected: one engine's refusal is enough */
		for (size_t i = 0; i < sc->cfg.ngroups; i++)
			if (sc->groups[i].gike2 &&
			    (gike2_member_input(sc->groups[i].gike2, msg, len, from, via, now) == 0 ||
			     via == GDOI_MEMBER_VIA_MULTICAST))
				break;
	}
	sc_ikev2_drain(sc);
	return true;
}

uint64_t sc_ikev2_timer(struct sidecar *sc, struct gdoi_now now, uint64_t next)
{
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct gike2_member *m = sc->groups[i].gike2;
		if (!m)
			continue;
		gike2_member_timer(m, now);
	}
	sc_ikev2_drain(sc);	/* first: a failover sets the next try */
	for (size_t i = 0; i < sc->cfg.ngroups; i++) {
		struct gike2_member *m = sc->groups[i].gike2;
		if (!m)
			continue;
		uint64_t d = gike2_member_deadline(m);
		if (!d)
			d = now.mono_ms + 1000;	/* TEK expiry and re-registration: checked each second */
		if (d < next)
			next = d;
	}
	return next;
}

const struct gdoi_member_teks *sc_ikev2_keys(const struct sc_group *g)
{
	if (!g->gike2)
		return NULL;
	const struct gdoi_member_teks *k = gike2_member_teks(g->gike2), *o;
	if (g->cfg->protocol != SC_PROTO_AUTO)
		return k;
	/* auto: the chosen protocol's keys; the other's while it has none yet */
	o = gdoi_member_group_teks(g->sc->member, g->index);
	if (g->auto_gdoi) {
		const struct gdoi_member_teks *t = k;
		k = o;
		o = t;
	}
	return k->pol || !o->pol ? k : o;
}
