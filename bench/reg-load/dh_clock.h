/*
 * dh_clock.h - reg-load's clocks, CPU time and DH side (dh_clock.c).
 */
#ifndef REG_LOAD_DH_CLOCK_H
#define REG_LOAD_DH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

uint64_t wall_us(void);		/* CLOCK_REALTIME, microseconds */
uint64_t now_us(void);		/* CLOCK_MONOTONIC, microseconds */
double cpu_seconds(void);	/* this process's user + system time */
/* --dh-baseline: pairs of GROUP made and derived for S seconds, one JSON line; 0 or 2 */
int dh_baseline(uint16_t group, double seconds);
/* --reuse-dh: every member offers one key pair (gdoi_dh_new/free are wrapped) */
extern bool reg_load_reuse_dh;

#endif
