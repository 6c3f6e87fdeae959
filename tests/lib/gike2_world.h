/*
 * gike2_world.h - test helper: a G-IKEv2 key-server engine and one member
 * engine in memory (a group "audio" with its policy, Rekey SA and signer),
 * datagrams carried between their queues; for test_gike2_engines.c and
 * test_gike2_inband.c.
 */
#ifndef TESTS_GIKE2_WORLD_H
#define TESTS_GIKE2_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdoi/gike2_gcks.h"
#include "gdoi/gike2_member.h"
#include "gdoi/member_teks.h"
#include "gdoi/policy.h"

extern const struct gdoi_addr GW_GM_ADDR, GW_KS_ADDR;
extern const struct gdoi_ike2_suite GW_SUITE;

struct world {
	struct gdoi_ike2_config gm_ike, ks_ike;
	struct gdoi_ike2_psk psk;
	struct gdoi_policy policy;
	struct gike2_rekey_sa rekey;
	struct gdoi_key *signer;
	struct gike2_gcks_engine *ks;
	struct gike2_member *gm;
	uint32_t next_sid;
	unsigned lookups;
	bool unavailable;	/* the lookup says the GCKS cannot serve now */
	bool inband;	/* the group's rekeys go over the IKE SA, no Rekey SA */
	bool both;	/* inband and a Rekey SA */
	struct gdoi_now now;
};

struct world *gw_world_new_cfg(const char *group, bool inband, bool both, uint32_t lifetime_s);
struct world *gw_world_new(const char *group);
void gw_world_free(struct world *w);
void gw_pump(struct world *w);
bool gw_member_event(struct world *w, enum gdoi_member_event_type t, struct gdoi_member_event *out);
const struct gdoi_live_tek *gw_live(const struct gdoi_member_teks *t, uint32_t spi);
void gw_rekey_dg(struct world *w, const struct gdoi_policy *p, const uint32_t *del, size_t ndel, struct gdoi_writer *dg);
bool gw_ks_event(struct world *w, enum gike2_gcks_event_type t, struct gike2_gcks_event *out);
struct world *gw_registered(bool inband, bool both, uint32_t lifetime_s);
struct world *gw_inband_world(uint32_t lifetime_s, struct gdoi_policy *next);
int gw_inband(struct world *w, const struct gdoi_policy *p);
size_t gw_take(struct gdoi_out *o, size_t cap, bool from_ks, struct world *w, uint8_t (*buf)[2048], size_t *len);

#endif
