/* pcap_util.h - test helper: the UDP payloads of a capture, in order. */
#ifndef TESTS_PCAP_UTIL_H
#define TESTS_PCAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct udp_datagram {
	uint8_t *data;
	size_t len;
	uint16_t sport, dport;
};

struct udp_capture {
	struct udp_datagram *d;
	size_t n;
};

/* Reads every IPv4/UDP datagram of the file; returns 0 or -1 (message on stderr). */
int udp_capture_load(const char *path, struct udp_capture *out);
void udp_capture_free(struct udp_capture *c);

/* Joins the vectors directory (GDOI_VECTORS, default tests/vectors) and rel into buf. */
const char *vector_path(char *buf, size_t len, const char *rel);

#endif
