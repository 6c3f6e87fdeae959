/*
 * input.c - where messages come from: a capture read with libpcap (pcap or
 * pcapng; IPv4/IPv6 UDP over Ethernet, loopback, raw IP or Linux cooked
 * headers), or hex text with one message per line.
 */
#include "dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAT_T_PORT 4500

/* Offset of the IP header and the expected IP version (0 = read it from the
 * packet), or -1 when this link type or ethertype carries no IP. */
static long link_offset(int dlt, const uint8_t *p, size_t len, int *version)
{
	*version = 0;
	switch (dlt) {
	case DLT_NULL:
	case DLT_LOOP:
		return len >= 4 ? 4 : -1;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return 0;
	case DLT_EN10MB: {
		size_t off = 12;
		while (len >= off + 2) {
			uint16_t et = (uint16_t)(p[off] << 8 | p[off + 1]);
			if (et == 0x8100 || et == 0x88a8) {	/* VLAN tags */
				off += 4;
				continue;
			}
			if (et == 0x0800)
				*version = 4;
			else if (et == 0x86dd)
				*version = 6;
			else
				return -1;
			return (long)off + 2;
		}
		return -1;
	}
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		*version = p[14] == 0x08 && p[15] == 0x00 ? 4 : p[14] == 0x86 && p[15] == 0xdd ? 6 : -1;
		return *version < 0 ? -1 : 16;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		*version = p[0] == 0x08 && p[1] == 0x00 ? 4 : p[0] == 0x86 && p[1] == 0xdd ? 6 : -1;
		return *version < 0 ? -1 : 20;
#endif
	}
	return -1;
}

static bool link_supported(int dlt)
{
	switch (dlt) {
	case DLT_NULL: case DLT_LOOP: case DLT_RAW: case DLT_EN10MB: case DLT_LINUX_SLL:
#ifdef DLT_IPV4
	case DLT_IPV4: case DLT_IPV6:
#endif
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
		return true;
	}
	return false;
}

/* Finds the UDP header; returns NULL (and *why) when the packet is not UDP. */
static const uint8_t *find_udp(const uint8_t *ip, size_t len, struct dump_frame *f,
			       size_t *udp_avail, const char **why)
{
	int af;
	size_t hl;
	const uint8_t *sa, *da;
	*why = NULL;
	if (len < 1)
		return NULL;
	if (ip[0] >> 4 == 4) {
		if (len < 20 || (hl = (size_t)(ip[0] & 15) * 4) < 20 || len < hl)
			return NULL;
		if (ip[9] != 17)
			return NULL;
		if ((gdoi_get_u16(ip + 6) & 0x3fff) != 0) {
			*why = "IP fragment (reassembly is not supported)";
			return NULL;
		}
		size_t total = gdoi_get_u16(ip + 2);
		if (total >= hl && total < len)
			len = total;	/* Ethernet padding */
		af = AF_INET, sa = ip + 12, da = ip + 16;
	} else if (ip[0] >> 4 == 6) {
		if (len < 40)
			return NULL;
		uint8_t nh = ip[6];
		hl = 40;
		while (nh == 0 || nh == 43 || nh == 60) {	/* hop-by-hop, routing, dest opts */
			if (len < hl + 8)
				return NULL;
			uint8_t next = ip[hl];
			hl += ((size_t)ip[hl + 1] + 1) * 8;
			nh = next;
		}
		if (nh == 44) {
			*why = "IPv6 fragment (reassembly is not supported)";
			return NULL;
		}
		if (nh != 17 || len < hl)
			return NULL;
		af = AF_INET6, sa = ip + 8, da = ip + 24;
	} else {
		return NULL;
	}
	if (len < hl + 8) {
		*why = "UDP header truncated";
		return NULL;
	}
	const uint8_t *udp = ip + hl;
	char a[INET6_ADDRSTRLEN];
	f->sport = gdoi_get_u16(udp);
	f->dport = gdoi_get_u16(udp + 2);
	inet_ntop(af, sa, a, sizeof(a));
	snprintf(f->src, sizeof(f->src), af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, f->sport);
	inet_ntop(af, da, a, sizeof(a));
	snprintf(f->dst, sizeof(f->dst), af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, f->dport);
	f->have_addr = true;
	*udp_avail = len - hl;
	return udp;
}

static void handle_packet(int dlt, unsigned long number, const struct pcap_pkthdr *h,
			  const uint8_t *pkt, dump_frame_fn fn, void *ctx)
{
	struct dump_frame f;
	memset(&f, 0, sizeof(f));
	f.number = number;
	int version;
	long off = link_offset(dlt, pkt, h->caplen, &version);
	if (off < 0 || (size_t)off >= h->caplen) {
		f.skip = "not IP";
		f.quiet = true;
		fn(&f, ctx);
		return;
	}
	const uint8_t *ip = pkt + off;
	size_t iplen = h->caplen - (size_t)off;
	if (version && iplen && (ip[0] >> 4) != version) {
		f.skip = "not IP";
		f.quiet = true;
		fn(&f, ctx);
		return;
	}
	size_t avail;
	const char *why;
	const uint8_t *udp = find_udp(ip, iplen, &f, &avail, &why);
	if (!udp) {
		f.skip = why ? why : "not UDP";
		f.quiet = !why;
		fn(&f, ctx);
		return;
	}
	size_t ulen = gdoi_get_u16(udp + 4);
	if (ulen < 8) {
		f.skip = "UDP length below 8";
		fn(&f, ctx);
		return;
	}
	if (ulen > avail) {
		f.skip = h->caplen < h->len ? "frame cut short by the capture's snapshot length"
					    : "UDP length runs past the IP packet";
		fn(&f, ctx);
		return;
	}
	f.data = udp + 8;
	f.len = ulen - 8;
	if (f.sport == NAT_T_PORT || f.dport == NAT_T_PORT) {
		if (f.len == 1 && f.data[0] == 0xff) {
			f.skip = "NAT-keepalive";
			fn(&f, ctx);
			return;
		}
		if (f.len < 4 || gdoi_get_u32(f.data) != 0) {
			f.skip = "ESP on UDP port 4500 (no non-ESP marker)";
			fn(&f, ctx);
			return;
		}
		f.data += 4;
		f.len -= 4;
	}
	if (f.len < GDOI_HDR_LEN)
		f.skip = "UDP payload too short for an ISAKMP header (28 octets)";
	fn(&f, ctx);
}

int input_pcap(const char *path, dump_frame_fn fn, void *ctx, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		snprintf(err, errlen, "%s: cannot read as a capture file: %s", path, errbuf);
		return 2;
	}
	int dlt = pcap_datalink(p);
	if (!link_supported(dlt)) {
		snprintf(err, errlen, "%s: unsupported link type %s (%d)", path,
			 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?",
			 dlt);
		pcap_close(p);
		return 2;
	}
	struct pcap_pkthdr *h;
	const u_char *pkt;
	unsigned long n = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &pkt)) == 1)
		handle_packet(dlt, ++n, h, pkt, fn, ctx);
	int ret = 0;
	if (rc == PCAP_ERROR) {
		snprintf(err, errlen, "%s: reading stopped after frame %lu: %s", path, n,
			 pcap_geterr(p));
		ret = 1;
	}
	pcap_close(p);
	return ret;
}

/* ---- hex ---------------------------------------------------------------- */

static bool blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0' || *s == '#';
}

int input_hex(const char *path, dump_frame_fn fn, void *ctx, char *err, size_t errlen)
{
	FILE *in = stdin;
	if (path && strcmp(path, "-") != 0) {
		in = fopen(path, "r");
		if (!in) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return 2;
		}
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long n = 0;
	while ((got = getline(&line, &cap, in)) >= 0) {
		if (blank_or_comment(line))
			continue;
		struct dump_frame f;
		memset(&f, 0, sizeof(f));
		f.number = ++n;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		uint8_t *buf = malloc((size_t)got / 2 + 1);
		long len = buf ? gdoi_hex_decode(s, buf, (size_t)got / 2 + 1) : -1;
		if (len < 0) {
			f.input_error = buf ? "line is not an even number of hex digits"
					    : "out of memory";
		} else {
			f.data = buf;
			f.len = (size_t)len;
			if (f.len < GDOI_HDR_LEN)
				f.input_error = "too short for an ISAKMP header (28 octets)";
		}
		fn(&f, ctx);
		free(buf);
	}
	int ret = 0;
	if (ferror(in)) {
		snprintf(err, errlen, "%s: read error", path ? path : "stdin");
		ret = 1;
	}
	free(line);
	if (in != stdin)
		fclose(in);
	return ret;
}
