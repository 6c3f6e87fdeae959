/* demo.h - what demo-sender and demo-receiver share: addresses, G.711 µ-law,
 * WAV files, RTP headers and the JSON report. */
#ifndef DEMO_H
#define DEMO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RTP_HDR_LEN 12
#define PCMU_FRAME 160		/* 20 ms at 8 kHz */
#define PCMU_PT 0

/* "239.1.2.3:5004" -> sin; false on error. */
bool demo_parse_addr(const char *s, struct sockaddr_in *sin);
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

/* Monotonic milliseconds. */
int64_t demo_mono_ms(void);

#endif
