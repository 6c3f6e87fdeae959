/*
 * dh_clock.c - reg-load's clocks, its own CPU time, the DH bound it measures
 * (--dh-baseline: one key pair and one derivation, what a key server must do
 * per registration) and the key pair it may share between members (--reuse-dh).
 */
#include "dh_clock.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "gdoi/dh.h"

uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* --reuse-dh: gdoi_dh_new / gdoi_dh_free of the Phase 1 and IKEv2 initiators are wrapped
 * at link time (-Wl,--wrap, Makefile); only this program is. */
bool reg_load_reuse_dh;
static struct gdoi_dh *reused_dh;
int __real_gdoi_dh_new(uint16_t group, struct gdoi_dh **out);
void __real_gdoi_dh_free(struct gdoi_dh *dh);
int __wrap_gdoi_dh_new(uint16_t group, struct gdoi_dh **out);
void __wrap_gdoi_dh_free(struct gdoi_dh *dh);

int __wrap_gdoi_dh_new(uint16_t group, struct gdoi_dh **out)
{
	if (!reg_load_reuse_dh)
		return __real_gdoi_dh_new(group, out);
	if (reused_dh && gdoi_dh_group(reused_dh) != group) {
		__real_gdoi_dh_free(reused_dh);
		reused_dh = NULL;
	}
	int rc = reused_dh ? 0 : __real_gdoi_dh_new(group, &reused_dh);
	*out = rc ? NULL : reused_dh;
	return rc;
}

void __wrap_gdoi_dh_free(struct gdoi_dh *dh)
{
	if (!dh || dh == reused_dh)
		return;
	__real_gdoi_dh_free(dh);
}

double cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int dh_baseline(uint16_t group, double seconds)
{
	struct gdoi_dh *peer = NULL;
	if (gdoi_dh_new(group, &peer))
		return 2;
	gdoi_bytes peer_pub = gdoi_dh_public(peer);
	uint8_t secret[GDOI_DH_MAX_SECRET_LEN];
	size_t n, ops = 0;
	uint64_t t0 = now_us(), end = t0 + (uint64_t)(seconds * 1e6);
	double c0 = cpu_seconds();
	while (now_us() < end) {
		struct gdoi_dh *me = NULL;
		if (gdoi_dh_new(group, &me) || gdoi_dh_derive(me, peer_pub, secret, sizeof(secret), &n))
			return 2;
		gdoi_dh_free(me);
		ops++;
	}
	double dt = (double)(now_us() - t0) / 1e6, cpu = cpu_seconds() - c0;
	/* per_cpu_second: the bound to set against registrations per key-server CPU
	 * second when another process takes part of this core (per_second drops) */
	printf("{\"group\":%u,\"pairs\":%zu,\"seconds\":%.3f,\"per_second\":%.1f,\"cpu_s\":%.3f,"
	       "\"per_cpu_second\":%.1f}\n", group, ops, dt, (double)ops / dt, cpu,
	       (double)ops / (cpu > 0 ? cpu : dt));
	gdoi_dh_free(peer);
	return 0;
}
