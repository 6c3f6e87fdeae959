/* demo.c - see demo.h. */
#include "demo.h"

#include <inttypes.h>

#include "srtp-bridge/gdoisrtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *demo_prog = "demo";

void demo_log(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", demo_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool demo_parse_addr(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl = colon ? (size_t)(colon - s) : 0;
	if (*s == '[') {	/* [V6]:PORT */
		if (hl < 2 || s[hl - 1] != ']')
			return false;
		h = s + 1;
		hl -= 2;
	}
	if (!colon || hl >= sizeof(host))
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return false;
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
	if (h == s && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return true;
	}
	if (h != s && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

void demo_join_addr(const char *addr, unsigned port, char *out, size_t cap)
{
	snprintf(out, cap, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
}

/* IFACE as an interface index: a name, or a decimal index; 0 when neither. */
static unsigned iface_index(const char *iface)
{
	char *end;
	unsigned long i = strtoul(iface, &end, 10);
	if (*iface && !*end)
		return (unsigned)i;
	return if_nametoindex(iface);
}

int demo_mcast_send_opts(int fd, int family, const char *iface, int ttl)
{
	unsigned char t = (unsigned char)ttl, loop = 1;
	int hops = ttl, loop6 = 1;
	if (family == AF_INET6) {
		unsigned index = iface_index(iface);
		if (!index) {
			errno = ENODEV;
			return -1;
		}
		return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof(index)) ||
		       setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) ||
		       setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop6, sizeof(loop6)) ? -1 : 0;
	}
	struct ip_mreqn mr = { 0 };
	if (inet_pton(AF_INET, iface, &mr.imr_address) != 1 && !(mr.imr_ifindex = (int)iface_index(iface))) {
		errno = ENODEV;
		return -1;
	}
	return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ||
	       setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, 1) ||
	       setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, 1) ? -1 : 0;
}

int demo_mcast_join(int fd, const struct sockaddr_storage *sa, const char *iface)
{
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		struct ipv6_mreq mr = { .ipv6mr_multiaddr = s6->sin6_addr, .ipv6mr_interface = iface_index(iface) };
		if (!IN6_IS_ADDR_MULTICAST(&s6->sin6_addr))
			return 0;
		if (!mr.ipv6mr_interface) {
			errno = ENODEV;
			return -1;
		}
		return setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr));
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	struct ip_mreqn mr = { .imr_multiaddr = s4->sin_addr };
	if (!IN_MULTICAST(ntohl(s4->sin_addr.s_addr)))
		return 0;
	if (inet_pton(AF_INET, iface, &mr.imr_address) != 1 && !(mr.imr_ifindex = (int)iface_index(iface))) {
		errno = ENODEV;
		return -1;
	}
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
}

/* ITU-T G.711 µ-law, the classic segment encoder. */
uint8_t demo_ulaw_encode(int16_t pcm)
{
	const int bias = 0x84, clip = 32635;
	int sign = (pcm >> 8) & 0x80, x = sign ? -(int)pcm : pcm;
	if (x > clip)
		x = clip;
	x += bias;
	int exp = 7;
	for (int mask = 0x4000; !(x & mask) && exp > 0; mask >>= 1)
		exp--;
	int mant = (x >> (exp + 3)) & 0x0f;
	return (uint8_t)~(sign | exp << 4 | mant);
}

int16_t demo_ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				b = NULL;
			}
			b = nb;
		}
	}
	fclose(f);
	*len = n;
	return b;
}

uint8_t *demo_read_audio(const char *path, size_t *len)
{
	size_t n;
	uint8_t *b = slurp(path, &n);
	if (!b) {
		demo_log("%s: cannot read", path);
		return NULL;
	}
	size_t plen = strlen(path);
	if (plen < 4 || strcmp(path + plen - 4, ".wav")) {
		*len = n;	/* raw µ-law */
		return b;
	}
	if (n < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4)) {
		demo_log("%s: not a RIFF/WAVE file", path);
		free(b);
		return NULL;
	}
	uint16_t fmt = 0, channels = 0, bits = 0;
	uint32_t rate = 0;
	for (size_t off = 12; off + 8 <= n;) {
		uint32_t clen = le32(b + off + 4);
		if (clen > n - off - 8)
			break;
		if (!memcmp(b + off, "fmt ", 4) && clen >= 16) {
			fmt = le16(b + off + 8);
			channels = le16(b + off + 10);
			rate = le32(b + off + 12);
			bits = le16(b + off + 22);
		} else if (!memcmp(b + off, "data", 4)) {
			if (channels != 1 || rate != 8000 || !((fmt == 1 && bits == 16) || (fmt == 7 && bits == 8))) {
				demo_log("%s: need mono 8000 Hz PCM16 or mu-law (got fmt %u, %u ch, %u Hz, %u bits)",
					 path, fmt, channels, rate, bits);
				break;
			}
			const uint8_t *d = b + off + 8;
			size_t samples = fmt == 7 ? clen : clen / 2;
			uint8_t *u = malloc(samples ? samples : 1);
			for (size_t i = 0; u && i < samples; i++)
				u[i] = fmt == 7 ? d[i] : demo_ulaw_encode((int16_t)le16(d + 2 * i));
			free(b);
			*len = samples;
			return u;
		}
		off += 8 + clen + (clen & 1);
	}
	demo_log("%s: no usable audio data", path);
	free(b);
	return NULL;
}

static void put_le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

static void put_le16(FILE *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	fwrite(b, 1, 2, f);
}

bool demo_write_wav(const char *path, const uint8_t *ulaw, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	fwrite("RIFF", 1, 4, f);
	put_le32(f, (uint32_t)(4 + 8 + 18 + 8 + len + (len & 1)));
	fwrite("WAVEfmt ", 1, 8, f);
	put_le32(f, 18);
	put_le16(f, 7);		/* WAVE_FORMAT_MULAW */
	put_le16(f, 1);
	put_le32(f, 8000);
	put_le32(f, 8000);
	put_le16(f, 1);
	put_le16(f, 8);
	put_le16(f, 0);
	fwrite("data", 1, 4, f);
	put_le32(f, (uint32_t)len);
	fwrite(ulaw, 1, len, f);
	if (len & 1)
		fputc(0, f);
	return fclose(f) == 0;
}

int64_t demo_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void demo_on_snapshot(const gdoisrtp_snapshot *snap, void *arg)
{
	struct demo_keys *k = arg;
	int rc = gdoisrtp_session_update(k->session, snap, gdoisrtp_now_ms());
	k->snapshots++;
	if (rc < 0)
		demo_log("snapshot version %" PRIu64 " not applied: %s", gdoisrtp_snapshot_version(snap),
			 gdoisrtp_strerror(rc));
	else
		demo_log("keys updated (snapshot version %" PRIu64 ", %zu TEK(s))",
			 gdoisrtp_snapshot_version(snap), gdoisrtp_snapshot_num_teks(snap));
}

void demo_count_spi(struct demo_keys *k, uint32_t spi)
{
	if (k->nspis && spi != k->last_spi)
		k->key_changes++;
	k->last_spi = spi;
	for (size_t i = 0; i < k->nspis; i++)
		if (k->spis[i].spi == spi) {
			k->spis[i].packets++;
			return;
		}
	if (k->nspis < DEMO_MAX_SPIS) {
		k->spis[k->nspis].spi = spi;
		k->spis[k->nspis++].packets = 1;
		demo_log("%s with SPI %08x", k->verb, spi);
	}
}

void demo_print_spis(FILE *f, const struct demo_keys *k)
{
	fprintf(f, "\"spis\":[");
	for (size_t i = 0; i < k->nspis; i++)
		fprintf(f, "%s{\"spi\":\"%08x\",\"packets\":%" PRIu64 "}", i ? "," : "", k->spis[i].spi,
			k->spis[i].packets);
	fprintf(f, "]");
}
