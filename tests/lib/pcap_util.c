/* pcap_util.c - see pcap_util.h. */
#include "pcap_util.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset of the IPv4 header for the link types the vectors and our tests use. */
static long ip_offset(int linktype, const uint8_t *pkt, size_t len)
{
	switch (linktype) {
	case DLT_NULL: return 4;
	case DLT_EN10MB: return 14;
	case DLT_RAW: case 101: return 0;
	case DLT_LINUX_SLL: return 16;
	}
	(void)pkt;
	(void)len;
	return -1;
}

int udp_capture_load(const char *path, struct udp_capture *out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	memset(out, 0, sizeof(*out));
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return -1;
	}
	int lt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &pkt)) == 1) {
		long off = ip_offset(lt, pkt, h->caplen);
		if (off < 0 || h->caplen < (size_t)off + 20)
			continue;
		const uint8_t *ip = pkt + off;
		size_t iplen = h->caplen - (size_t)off;
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		if ((ip[0] >> 4) != 4 || ip[9] != 17 || iplen < ihl + 8)
			continue;
		const uint8_t *udp = ip + ihl;
		size_t ulen = (size_t)(udp[4] << 8 | udp[5]);
		if (ulen < 8 || ulen > iplen - ihl)
			continue;
		struct udp_datagram *nd = realloc(out->d, (out->n + 1) * sizeof(*nd));
		if (!nd) {
			rc = -1;
			break;
		}
		out->d = nd;
		struct udp_datagram *d = &out->d[out->n++];
		d->sport = (uint16_t)(udp[0] << 8 | udp[1]);
		d->dport = (uint16_t)(udp[2] << 8 | udp[3]);
		d->len = ulen - 8;
		d->data = malloc(d->len ? d->len : 1);
		if (!d->data) {
			out->n--;
			rc = -1;
			break;
		}
		memcpy(d->data, udp + 8, d->len);
	}
	/* -2 is the end of the file; -1 a read error or truncated capture */
	if (rc == -1)
		fprintf(stderr, "%s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return rc == -1 ? -1 : 0;
}

void udp_capture_free(struct udp_capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->d[i].data);
	free(c->d);
	memset(c, 0, sizeof(*c));
}

const char *vector_path(char *buf, size_t len, const char *rel)
{
	const char *dir = getenv("GDOI_VECTORS");
	snprintf(buf, len, "%s/%s", dir && *dir ? dir : "tests/vectors", rel);
	return buf;
}
