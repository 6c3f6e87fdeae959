/* demo.h - what demo-sender and demo-receiver share: addresses, G.711 µ-law,
 * WAV files, RTP headers and the JSON report. */
#ifndef DEMO_H
#define DEMO_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "srtp-bridge/gdoisrtp.h"

#define RTP_HDR_LEN 12
#define PCMU_FRAME 160		/* 20 ms at 8 kHz */
#define PCMU_PT 0

/* "239.1.2.3:5004" or "[ff0e::1234]:5004" -> a socket address of its family (its
 * length in *len); false on error. */
bool demo_parse_addr(const char *s, struct sockaddr_storage *sa, socklen_t *len);
/* "ADDR:PORT" / "[V6]:PORT" of a TEK destination as the snapshot gives it. */
void demo_join_addr(const char *addr, unsigned port, char *out, size_t cap);
/* Multicast sending on fd (of sa's family) by the interface IFACE: an IPv4 address
 * or, for both families, an interface name or index. 0, or -1 with errno. */
int demo_mcast_send_opts(int fd, int family, const char *iface, int ttl);
/* Joins the group of sa (when it is multicast) on IFACE, as above. */
int demo_mcast_join(int fd, const struct sockaddr_storage *sa, const char *iface);
/* Log to stderr with the program name. */
void demo_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *demo_prog;

uint8_t demo_ulaw_encode(int16_t pcm);
int16_t demo_ulaw_decode(uint8_t u);

/* Reads a whole audio file as µ-law octets: a WAV (PCM 16-bit or µ-law, mono,
 * 8000 Hz) or raw µ-law (any other name). NULL with a message on error. */
uint8_t *demo_read_audio(const char *path, size_t *len);
/* Writes µ-law octets as a µ-law WAV (format 7, 8000 Hz mono). */
bool demo_write_wav(const char *path, const uint8_t *ulaw, size_t len);

/* The keys side of a demo program: its libgdoisrtp session, snapshots applied,
 * and which SPIs carried how many packets (the demo's report). */
#define DEMO_MAX_SPIS 64
struct demo_keys {
	gdoisrtp_session *session;
	uint64_t snapshots;
	struct { uint32_t spi; uint64_t packets; } spis[DEMO_MAX_SPIS];
	size_t nspis;
	uint32_t last_spi;
	uint64_t key_changes;
	const char *verb;		/* "sending" / "receiving", for the log */
};
/* gdoisrtp_snapshot_cb: applies a snapshot to k->session (arg is the demo_keys). */
void demo_on_snapshot(const gdoisrtp_snapshot *snap, void *arg);
/* Counts one packet under spi; logs the first packet of each SPI. */
void demo_count_spi(struct demo_keys *k, uint32_t spi);
/* Writes "spis":[{"spi":"..","packets":N},...] to f. */
void demo_print_spis(FILE *f, const struct demo_keys *k);

/* Monotonic milliseconds. */
int64_t demo_mono_ms(void);

#endif
