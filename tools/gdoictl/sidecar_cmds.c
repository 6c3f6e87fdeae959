/*
 * sidecar_cmds.c - gdoictl's commands over the gdoi-sidecar IPC socket
 * (docs/ipc.md), through the plain-socket client of ipc/client.h:
 *
 *   gdoictl [--sidecar PATH] [--json] get GROUP
 *           [--format json|sdes|gst-caps|srtpenc|sdp|ffmpeg]
 *           [--payload PT] [--ssrc SSRC]
 *   gdoictl [--sidecar PATH] [--json] watch GROUP
 *   gdoictl [--sidecar PATH] [--json] sidecar-status
 *
 * The key server's --socket is refused here, so a path never means two things.
 * Key material is printed only by `get --format json|sdes|gst-caps|srtpenc|sdp|ffmpeg` and
 * `get --json`; the table, watch and sidecar-status never print it.
 *
 * Exit: 0 ok, 1 the sidecar answered with an error (code and message on
 * stderr), the profile has no such form (ffmpeg), or the sidecar closed the
 * connection during watch; 2 usage; 3 cannot connect or no valid reply.
 */
#include "tools/gdoictl/gdoictl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/base64.h"
#include "ipc/client.h"
#include "ipc/snapshot.h"

#define REPLY_TIMEOUT_MS 10000

enum fmt { FMT_TABLE, FMT_JSON, FMT_SDES, FMT_GST, FMT_FFMPEG, FMT_SDP, FMT_SRTPENC };

struct opts {
	const char *sidecar;
	bool json;
	enum fmt fmt;
	long payload;
	bool have_ssrc;
	uint32_t ssrc;
};

/* Per profile: SDES (RFC 4568 / RFC 7714) suite, srtpdec cipher and auth, FFmpeg support. */
static const struct {
	uint16_t id;
	const char *sdes;
	const char *gst_cipher, *gst_auth, *gst_rtcp_auth;
	bool ffmpeg;
} suites[] = {
	{ 1, "AES_CM_128_HMAC_SHA1_80", "aes-128-icm", "hmac-sha1-80", "hmac-sha1-80", true },
	{ 2, "AES_CM_128_HMAC_SHA1_32", "aes-128-icm", "hmac-sha1-32", "hmac-sha1-80", true },
	{ 5, "NULL_HMAC_SHA1_80", "null", "hmac-sha1-80", "hmac-sha1-80", false },
	{ 6, "NULL_HMAC_SHA1_32", "null", "hmac-sha1-32", "hmac-sha1-80", false },
	{ 7, "AEAD_AES_128_GCM", "aes-128-gcm", "null", "null", false },
	{ 8, "AEAD_AES_256_GCM", "aes-256-gcm", "null", "null", false },
};

static int suite_index(uint16_t id)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (suites[i].id == id)
			return (int)i;
	return -1;
}

static bool is_sidecar_cmd(const char *w)
{
	return !strcmp(w, "get") || !strcmp(w, "watch") || !strcmp(w, "sidecar-status");
}

/* The first word that is neither an option nor an option's argument. */
static const char *command_word(int argc, char **argv)
{
	static const char *const with_arg[] = { "-s", "--socket", "-S", "--sidecar", "-f",
						"--format", "--payload", "--ssrc" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || !a[1])
			return a;
		for (size_t k = 0; k < sizeof with_arg / sizeof with_arg[0]; k++)
			if (!strcmp(a, with_arg[k])) {
				i++;
				break;
			}
	}
	return NULL;
}

static void sidecar_usage(FILE *f)
{
	fprintf(f, "usage: gdoictl [--sidecar PATH] [--json] get|watch GROUP | sidecar-status\n%s",
		GDOICTL_SIDECAR_USAGE);
}

static void rfc3339(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_json(const json_t *j, size_t flags)
{
	char *s = json_dumps(j, flags | JSON_ENCODE_ANY);
	if (s) {
		printf("%s\n", s);
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int connect_sidecar(const char *path, struct ipc_client **c)
{
	int rc;

	if (gdoictl_socket_trusted(path, "gdoi-sidecar"))
		return 3;
	rc = ipc_client_connect(path, c);
	if (rc) {
		fprintf(stderr, "gdoictl: cannot connect to %s: %s (is gdoi-sidecar running? --sidecar?)\n", path,
			strerror(-rc));
		return 3;
	}
	return 0;
}

/* An error reply: its code and message on stderr (and the reply itself on stdout with --json). */
static void print_error(const json_t *reply, const struct opts *o)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (o->json)
		print_json(reply, JSON_COMPACT);
	fprintf(stderr, "gdoictl: %s: %s\n", code ? code : "error", msg ? msg : "(no message)");
}

/* Sends req; 0 and *reply (ok: true), 1 error reply (printed), 3 transport failure. */
static int request(struct ipc_client *c, json_t *req, const struct opts *o, json_t **reply)
{
	int rc = ipc_client_request(c, req, reply, REPLY_TIMEOUT_MS);
	json_decref(req);
	if (rc <= 0) {
		fprintf(stderr, "gdoictl: %s\n", rc == 0 ? "no reply from the sidecar" :
			rc == -EPIPE ? "the sidecar closed the connection" : strerror(-rc));
		return 3;
	}
	if (json_is_true(json_object_get(*reply, "ok")))
		return 0;
	print_error(*reply, o);
	json_decref(*reply);
	*reply = NULL;
	return 1;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

/* key || salt, as base64 (b64, IPC_B64_LEN(46)+1) and hex (hx, 2*46+1). */
static void key_salt(const struct ipc_tek *t, char *b64, char *hx)
{
	uint8_t ks[46];
	size_t n = t->master_key_len + t->master_salt_len;
	memcpy(ks, t->master_key, t->master_key_len);
	memcpy(ks + t->master_key_len, t->master_salt, t->master_salt_len);
	if (b64)
		ipc_b64_encode(ks, n, b64);
	if (hx)
		hex(ks, n, hx);
	explicit_bzero(ks, sizeof ks);
}

static void tek_ssrcs(const struct ipc_snapshot *s, const struct ipc_tek *t, char *out, size_t cap)
{
	size_t off = 0;
	if (!t->ssrc_assigned) {
		snprintf(out, cap, "any");
		return;
	}
	if (!s->nssrcs) {
		snprintf(out, cap, "-");
		return;
	}
	out[0] = 0;
	for (size_t i = 0; i < s->nssrcs && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%" PRIu32, i ? "," : "", s->ssrcs[i]);
}

static void print_table(const struct ipc_snapshot *s)
{
	char upd[32];
	rfc3339(s->updated, upd, sizeof upd);
	printf("group %s (%" PRIu32 "), version %" PRIu64 ", key server %s, SEQ %" PRIu32 ", updated %s\n",
	       s->name[0] ? s->name : "-", s->group, s->version, s->keyserver[0] ? s->keyserver : "-", s->seq,
	       upd);
	printf("%-10s %-29s %-4s %-24s %-21s %-21s %-6s %s\n", "SPI", "PROFILE", "MKI", "DESTINATION",
	       "NOT_BEFORE", "NOT_AFTER", "WINDOW", "SSRCS");
	for (size_t i = 0; i < s->nteks; i++) {
		const struct ipc_tek *t = &s->teks[i];
		char nb[32], na[32], dst[64], ss[IPC_MAX_SSRCS * 11 + 8];
		const char *pn = ipc_profile_name(t->profile_id);
		rfc3339(t->not_before, nb, sizeof nb);
		rfc3339(t->not_after, na, sizeof na);
		snprintf(dst, sizeof dst, strchr(t->dst_addr, ':') ? "[%s]:%u" : "%s:%u", t->dst_addr,
			 (unsigned)t->dst_port);
		tek_ssrcs(s, t, ss, sizeof ss);
		printf("%08" PRIx32 "   %-29s %-4s %-24s %-21s %-21s %-6u %s\n", t->spi, pn ? pn : "?",
		       t->mki ? "yes" : "no", dst, nb, na, (unsigned)t->replay_window, ss);
	}
}

/* One output line of a key format; with --json collected as {"spi","ssrc","text"}. */
static void emit(json_t *lines, const struct ipc_tek *t, const uint32_t *ssrc, const char *text)
{
	if (!lines) {
		printf("%s\n", text);
		return;
	}
	json_array_append_new(lines, json_pack("{s:I, s:o, s:s}", "spi", (json_int_t)t->spi, "ssrc",
					       ssrc ? json_integer(*ssrc) : json_null(), "text", text));
}

static void sdes_line(const struct ipc_tek *t, int tag, json_t *lines)
{
	char b64[IPC_B64_LEN(46) + 1], line[256];
	key_salt(t, b64, NULL);
	int n = snprintf(line, sizeof line, "a=crypto:%d %s inline:%s", tag, suites[suite_index(t->profile_id)].sdes,
			 b64);
	if (t->mki)
		snprintf(line + n, sizeof line - (size_t)n, "|%" PRIu32 ":4", t->spi);
	emit(lines, t, NULL, line);
	explicit_bzero(b64, sizeof b64);
	explicit_bzero(line, sizeof line);
}

/* The TEK a sender uses now: the latest not_before <= now not past not_after; else the first. */
static size_t active_tek(const struct ipc_snapshot *s)
{
	int64_t now = (int64_t)time(NULL);
	size_t best = 0;
	bool found = false;
	for (size_t i = 0; i < s->nteks; i++) {
		const struct ipc_tek *t = &s->teks[i];
		if (t->not_before <= now && now < t->not_after &&
		    (!found || t->not_before > s->teks[best].not_before)) {
			best = i;
			found = true;
		}
	}
	return best;
}

/* srtpdec and srtpenc have no NULL cipher: refused rather than printed. */
static int gst_refuses(const struct ipc_tek *t)
{
	if (strcmp(suites[suite_index(t->profile_id)].gst_cipher, "null") != 0)
		return 0;
	fprintf(stderr, "gdoictl: TEK %08" PRIx32 ": GStreamer's srtpdec/srtpenc refuse the NULL cipher of %s; "
		"use gdoisrtpdec/gdoisrtpenc (keys from the sidecar)\n", t->spi, ipc_profile_name(t->profile_id));
	return 1;
}

/* The keys srtpdec can hold at once: with MKI every TEK of the active one's
 * profile (active first), without MKI the active one only. */
static size_t gst_keys(const struct ipc_snapshot *s, size_t *order)
{
	size_t a = active_tek(s), n = 0;
	order[n++] = a;
	for (size_t i = 0; i < s->nteks && s->teks[a].mki; i++)
		if (i != a && s->teks[i].mki && s->teks[i].profile_id == s->teks[a].profile_id)
			order[n++] = i;
	if (n < s->nteks)
		fprintf(stderr, "gdoictl: warning: %zu of %zu TEKs left out (%s): this srtpdec stops decoding at "
			"the next rekey; gdoisrtpdec follows rekeys\n", s->nteks - n, s->nteks,
			s->teks[a].mki ? "another profile" : "without MKI srtpdec holds one key");
	return n;
}

static void gst_line(const struct ipc_snapshot *s, const size_t *order, size_t nkeys, const uint32_t *ssrc,
		     long payload, json_t *lines)
{
	const struct ipc_tek *t = &s->teks[order[0]];
	char hx[2 * 46 + 1], line[2048], ss[32] = "";
	int i = suite_index(t->profile_id);
	size_t n;
	if (ssrc)
		snprintf(ss, sizeof ss, ", ssrc=(uint)%" PRIu32, *ssrc);
	n = (size_t)snprintf(line, sizeof line,
			     "application/x-srtp, payload=(int)%ld%s, srtp-cipher=(string)%s, "
			     "srtp-auth=(string)%s, srtcp-cipher=(string)%s, srtcp-auth=(string)%s, roc=(uint)0",
			     payload, ss, suites[i].gst_cipher, suites[i].gst_auth,
			     t->srtcp ? suites[i].gst_cipher : "null", t->srtcp ? suites[i].gst_rtcp_auth : "null");
	for (size_t k = 0; k < nkeys && n < sizeof line; k++) {
		const struct ipc_tek *tk = &s->teks[order[k]];
		char num[24] = "";
		if (k)
			snprintf(num, sizeof num, "%zu", k + 1);
		key_salt(tk, NULL, hx);
		n += (size_t)snprintf(line + n, sizeof line - n, ", srtp-key%s=(buffer)%s", num, hx);
		if (tk->mki && n < sizeof line)
			n += (size_t)snprintf(line + n, sizeof line - n, ", mki%s=(buffer)%08" PRIx32, num, tk->spi);
	}
	emit(lines, t, ssrc, line);
	explicit_bzero(hx, sizeof hx);
	explicit_bzero(line, sizeof line);
}

/* srtpenc properties for gst-launch-1.0: the active TEK (a sender switches at the next one's not_before). */
static void srtpenc_line(const struct ipc_snapshot *s, json_t *lines)
{
	const struct ipc_tek *t = &s->teks[active_tek(s)];
	char hx[2 * 46 + 1], line[512];
	int i = suite_index(t->profile_id);
	key_salt(t, NULL, hx);
	int n = snprintf(line, sizeof line, "srtpenc key=%s rtp-cipher=%s rtp-auth=%s rtcp-cipher=%s rtcp-auth=%s",
			 hx, suites[i].gst_cipher, suites[i].gst_auth, t->srtcp ? suites[i].gst_cipher : "null",
			 t->srtcp ? suites[i].gst_rtcp_auth : "null");
	if (t->mki)
		snprintf(line + n, sizeof line - (size_t)n, " mki=%08" PRIx32, t->spi);
	emit(lines, t, NULL, line);
	if (t->ssrc_assigned)
		fprintf(stderr, "gdoictl: note: send with an SSRC the key server assigned (%s), e.g. the payloader's "
			"ssrc=%" PRIu32 "\n", s->nssrcs ? "this member's" : "none assigned to this member",
			s->nssrcs ? s->ssrcs[0] : 0);
	explicit_bzero(hx, sizeof hx);
	explicit_bzero(line, sizeof line);
}

/* FFmpeg (and VLC) take AES-CM only, without MKI: anything else is refused, never printed. */
static int ffmpeg_refuses(const struct ipc_tek *t)
{
	int i = suite_index(t->profile_id);
	if (!suites[i].ffmpeg) {
		fprintf(stderr,
			"gdoictl: TEK %08" PRIx32 ": FFmpeg's SRTP supports only AES_CM_128_HMAC_SHA1_80 and "
			"AES_CM_128_HMAC_SHA1_32, not %s\n", t->spi, ipc_profile_name(t->profile_id));
		return 1;
	}
	if (t->mki) {
		fprintf(stderr, "gdoictl: TEK %08" PRIx32 " carries a 4-octet MKI, which FFmpeg's SRTP does not "
			"understand (it would output ciphertext): set mki = no for the group on the key server\n",
			t->spi);
		return 1;
	}
	return 0;
}

/* A complete SDP file for one RTP stream on the TEK's destination, keyed by the active TEK. */
static int sdp_text(const struct ipc_snapshot *s, long payload, json_t *lines)
{
	const struct ipc_tek *t = &s->teks[active_tek(s)];
	char b64[IPC_B64_LEN(46) + 1], text[1024];
	const char *enc = payload == 0 ? "PCMU/8000" : payload == 8 ? "PCMA/8000" : payload == 9 ? "G722/8000" :
			  payload == 10 ? "L16/44100/2" : payload == 11 ? "L16/44100" : NULL;
	bool v6 = strchr(t->dst_addr, ':') != NULL;
	if (ffmpeg_refuses(t))
		return 1;
	if (!enc) {
		fprintf(stderr, "gdoictl: --format sdp: payload type %ld has no static rtpmap; use 0, 8, 9, 10 or 11\n",
			payload);
		return 2;
	}
	key_salt(t, b64, NULL);
	snprintf(text, sizeof text,
		 "v=0\no=- %" PRIu64 " %" PRIu64 " IN IP%c %s\ns=gdoi group %s\nc=IN IP%c %s%s\nt=0 0\n"
		 "m=audio %u RTP/SAVP %ld\na=rtpmap:%ld %s\na=recvonly\na=crypto:1 %s inline:%s",
		 s->version, s->version, v6 ? '6' : '4', t->dst_addr, s->name[0] ? s->name : "-", v6 ? '6' : '4',
		 t->dst_addr, v6 ? "" : "/1", (unsigned)t->dst_port, payload, payload, enc,
		 suites[suite_index(t->profile_id)].sdes, b64);
	emit(lines, t, NULL, text);
	explicit_bzero(b64, sizeof b64);
	explicit_bzero(text, sizeof text);
	return 0;
}

static int ffmpeg_line(const struct ipc_tek *t, json_t *lines)
{
	char b64[IPC_B64_LEN(46) + 1], line[256];
	int i = suite_index(t->profile_id);
	if (ffmpeg_refuses(t))
		return 1;
	key_salt(t, b64, NULL);
	snprintf(line, sizeof line, "-srtp_in_suite %s -srtp_in_params %s", suites[i].sdes, b64);
	emit(lines, t, NULL, line);
	explicit_bzero(b64, sizeof b64);
	explicit_bzero(line, sizeof line);
	return 0;
}

static int print_format(const struct ipc_snapshot *s, const struct opts *o)
{
	json_t *lines = o->json ? json_array() : NULL;
	size_t order[IPC_MAX_TEKS];
	int rc = 0;

	for (size_t i = 0; i < s->nteks && !rc; i++) {
		const struct ipc_tek *t = &s->teks[i];
		if (suite_index(t->profile_id) < 0) {
			fprintf(stderr, "gdoictl: TEK %08" PRIx32 ": unknown profile %u\n", t->spi,
				(unsigned)t->profile_id);
			rc = 1;
		} else if (o->fmt == FMT_SDES) {
			sdes_line(t, (int)i + 1, lines);
		} else if (o->fmt == FMT_FFMPEG) {
			rc = ffmpeg_line(t, lines);
		}
	}
	if (!rc && !s->nteks && o->fmt != FMT_SDES && o->fmt != FMT_FFMPEG) {
		fprintf(stderr, "gdoictl: the group holds no keys yet\n");
		rc = 1;
	} else if (!rc && (o->fmt == FMT_GST || o->fmt == FMT_SRTPENC) && gst_refuses(&s->teks[active_tek(s)])) {
		rc = 1;
	} else if (!rc && o->fmt == FMT_SDP) {
		rc = sdp_text(s, o->payload, lines);
	} else if (!rc && o->fmt == FMT_SRTPENC) {
		srtpenc_line(s, lines);
	} else if (!rc && o->fmt == FMT_GST) {
		size_t n = gst_keys(s, order);
		const struct ipc_tek *t = &s->teks[order[0]];
		if (o->have_ssrc) {
			gst_line(s, order, n, &o->ssrc, o->payload, lines);
		} else if (t->ssrc_assigned && s->nssrcs) {
			for (size_t k = 0; k < s->nssrcs; k++)
				gst_line(s, order, n, &s->ssrcs[k], o->payload, lines);
		} else {
			gst_line(s, order, n, NULL, o->payload, lines);
		}
	}
	if (lines && !rc)
		print_json(lines, JSON_COMPACT);
	json_decref(lines);	/* holds key material: freed, as the reply is */
	return rc;
}

static int cmd_get(struct ipc_client *c, const char *group, const struct opts *o)
{
	json_t *reply, *req = json_pack("{s:s, s:o}", "op", "get", "group", ipc_group_json(group));
	int rc = request(c, req, o, &reply);
	if (rc)
		return rc;
	const json_t *snapj = json_object_get(reply, "snapshot");
	struct ipc_snapshot *s = calloc(1, sizeof *s);
	char err[256];
	if (!s || ipc_snapshot_from_json(snapj, s, err, sizeof err)) {
		fprintf(stderr, "gdoictl: bad snapshot from the sidecar: %s\n", s ? err : "out of memory");
		rc = 3;
	} else if (o->fmt == FMT_JSON || (o->json && o->fmt == FMT_TABLE)) {
		print_json(snapj, o->fmt == FMT_JSON && !o->json ? JSON_INDENT(2) : JSON_COMPACT);
	} else if (o->fmt == FMT_TABLE) {
		print_table(s);
	} else {
		rc = print_format(s, o);
	}
	if (s)
		ipc_snapshot_clear(s);
	free(s);
	json_decref(reply);
	return rc;
}

/* watch: one line per snapshot, never with keys. */
static void watch_line(const struct ipc_snapshot *s, bool as_json)
{
	char nb[32], na[32];
	if (as_json) {
		json_t *teks = json_array(), *ssrcs = json_array();
		for (size_t i = 0; i < s->nteks; i++) {
			const struct ipc_tek *t = &s->teks[i];
			char spi[9];
			snprintf(spi, sizeof spi, "%08" PRIx32, t->spi);
			rfc3339(t->not_before, nb, sizeof nb);
			rfc3339(t->not_after, na, sizeof na);
			json_array_append_new(teks, json_pack("{s:I, s:s, s:s, s:s, s:s}", "spi", (json_int_t)t->spi,
							      "spi_hex", spi, "profile",
							      ipc_profile_name(t->profile_id) ?
							      ipc_profile_name(t->profile_id) : "?",
							      "not_before", nb, "not_after", na));
		}
		for (size_t i = 0; i < s->nssrcs; i++)
			json_array_append_new(ssrcs, json_integer(s->ssrcs[i]));
		rfc3339(s->updated, nb, sizeof nb);
		json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:o, s:o}", "group", (json_int_t)s->group, "name",
				      s->name, "version", (json_int_t)s->version, "seq", (json_int_t)s->seq,
				      "updated", nb, "teks", teks, "ssrcs", ssrcs);
		print_json(o, JSON_COMPACT);
		json_decref(o);
		return;
	}
	char upd[32];
	rfc3339(s->updated, upd, sizeof upd);
	printf("%s group %s (%" PRIu32 ") version %" PRIu64 " seq %" PRIu32 " teks", upd, s->name, s->group,
	       s->version, s->seq);
	for (size_t i = 0; i < s->nteks; i++) {
		rfc3339(s->teks[i].not_before, nb, sizeof nb);
		rfc3339(s->teks[i].not_after, na, sizeof na);
		printf("%s%08" PRIx32 "[%s..%s]", i ? "," : " ", s->teks[i].spi, nb, na);
	}
	if (!s->nteks)
		printf(" -");
	printf(" ssrcs");
	for (size_t i = 0; i < s->nssrcs; i++)
		printf("%s%" PRIu32, i ? "," : " ", s->ssrcs[i]);
	if (!s->nssrcs)
		printf(" -");
	printf("\n");
}

static int cmd_watch(struct ipc_client *c, const char *group, const struct opts *o)
{
	json_t *reply, *req = json_pack("{s:s, s:o}", "op", "subscribe", "group", ipc_group_json(group));
	struct ipc_snapshot *s = calloc(1, sizeof *s);
	char err[256];
	int rc;

	if (!s)
		return 3;
	rc = ipc_client_request(c, req, &reply, REPLY_TIMEOUT_MS);
	json_decref(req);
	if (rc <= 0) {
		fprintf(stderr, "gdoictl: %s\n", rc == 0 ? "no reply from the sidecar" : strerror(-rc));
		free(s);
		return 3;
	}
	const char *code = json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
	if (json_is_true(json_object_get(reply, "ok"))) {
		if (ipc_snapshot_from_json(json_object_get(reply, "snapshot"), s, err, sizeof err)) {
			fprintf(stderr, "gdoictl: bad snapshot from the sidecar: %s\n", err);
			rc = 3;
			goto out;
		}
		watch_line(s, o->json);
	} else if (code && !strcmp(code, "not_registered")) {
		/* the subscription has taken effect: the first snapshot comes as an event */
		fprintf(stderr, "gdoictl: group %s holds no keys yet; waiting\n", group);
	} else {
		print_error(reply, o);
		rc = 1;
		goto out;
	}
	for (;;) {
		json_t *m;
		rc = ipc_client_read(c, &m, -1);
		if (rc < 0) {
			fprintf(stderr, "gdoictl: %s\n", rc == -EPIPE ? "the sidecar closed the connection" :
				strerror(-rc));
			rc = 1;
			break;
		}
		if (rc == 0)
			continue;
		rc = ipc_client_event_snapshot(m, s, err, sizeof err);
		json_decref(m);
		if (rc < 0) {
			fprintf(stderr, "gdoictl: bad snapshot event from the sidecar: %s\n", err);
			rc = 3;
			break;
		}
		if (rc == 1)
			watch_line(s, o->json);
	}
out:
	json_decref(reply);
	ipc_snapshot_clear(s);
	free(s);
	return rc;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static int cmd_status(struct ipc_client *c, const struct opts *o)
{
	json_t *reply;
	int rc = request(c, json_pack("{s:s}", "op", "status"), o, &reply);
	if (rc)
		return rc;
	if (o->json) {
		print_json(reply, JSON_COMPACT);
		json_decref(reply);
		return 0;
	}
	const json_t *st = json_object_get(reply, "status"), *v;
	size_t i;
	printf("gdoi-sidecar up %llds, %lld client(s)\n", num(st, "uptime"), num(st, "clients"));
	printf("%-24s %-11s %-21s %s\n", "KEY SERVER", "STATE", "LAST OK", "LAST ERROR");
	json_array_foreach(json_object_get(st, "keyservers"), i, v)
		printf("%-24s %-11s %-21s %s\n", str(v, "address"), str(v, "state"), str(v, "last_ok"),
		       str(v, "last_error"));
	printf("%-10s %-12s %-12s %-8s %-5s %-6s %-9s %-21s %-21s %-21s %s\n", "ID", "GROUP", "STATE", "VERSION",
	       "TEKS", "SSRCS", "REKEY", "LAST REKEY", "NEXT REGISTRATION", "KEK EXPIRES", "SUBSCRIBERS");
	json_array_foreach(json_object_get(st, "groups"), i, v)
		printf("%-10lld %-12s %-12s %-8lld %-5lld %-6lld %-9s %-21s %-21s %-21s %lld\n", num(v, "group"),
		       str(v, "name"), str(v, "state"), num(v, "version"), num(v, "teks"), num(v, "ssrcs"),
		       str(v, "rekey"), str(v, "last_rekey"), str(v, "next_registration"), str(v, "kek_expires"),
		       num(v, "subscribers"));
	json_decref(reply);
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int gdoictl_sidecar_main(int argc, char **argv)
{
	enum { O_PAYLOAD = 256, O_SSRC };
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' }, { "sidecar", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },	    { "format", required_argument, NULL, 'f' },
		{ "payload", required_argument, NULL, O_PAYLOAD }, { "ssrc", required_argument, NULL, O_SSRC },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	const char *word = command_word(argc, argv);
	struct opts o = { .sidecar = getenv("GDOI_SIDECAR_SOCKET"), .fmt = FMT_TABLE };
	bool have_fmt = false, have_pt = false;
	uint32_t u;
	int c;

	if (!word || !is_sidecar_cmd(word))
		return -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "s:S:jf:h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			fprintf(stderr, "gdoictl: --socket names the key server's admin socket; %s talks to the "
				"sidecar: use --sidecar PATH\n", word);
			return 2;
		case 'S': o.sidecar = optarg; break;
		case 'j': o.json = true; break;
		case 'f':
			have_fmt = true;
			if (!strcmp(optarg, "json")) o.fmt = FMT_JSON;
			else if (!strcmp(optarg, "sdes")) o.fmt = FMT_SDES;
			else if (!strcmp(optarg, "gst-caps")) o.fmt = FMT_GST;
			else if (!strcmp(optarg, "ffmpeg")) o.fmt = FMT_FFMPEG;
			else if (!strcmp(optarg, "sdp")) o.fmt = FMT_SDP;
			else if (!strcmp(optarg, "srtpenc")) o.fmt = FMT_SRTPENC;
			else if (!strcmp(optarg, "table")) o.fmt = FMT_TABLE;
			else {
				fprintf(stderr, "gdoictl: --format: table, json, sdes, gst-caps, srtpenc, sdp or ffmpeg, "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case O_PAYLOAD:
			if (parse_u32(optarg, &u) || u > 127) {
				fprintf(stderr, "gdoictl: --payload: an RTP payload type 0..127\n");
				return 2;
			}
			o.payload = (long)u;
			have_pt = true;
			break;
		case O_SSRC:
			if (parse_u32(optarg, &o.ssrc)) {
				fprintf(stderr, "gdoictl: --ssrc: a 32-bit number\n");
				return 2;
			}
			o.have_ssrc = true;
			break;
		case 'h': sidecar_usage(stdout); return 0;
		default: sidecar_usage(stderr); return 2;
		}
	}
	if (!o.sidecar || !*o.sidecar)
		o.sidecar = IPC_DEFAULT_SOCKET;
	int nargs = argc - optind - 1;
	bool is_get = !strcmp(word, "get");
	if ((is_get || !strcmp(word, "watch")) ? nargs != 1 : nargs != 0) {
		fprintf(stderr, "gdoictl: wrong arguments for %s\n", word);
		sidecar_usage(stderr);
		return 2;
	}
	if (!is_get && (have_fmt || have_pt || o.have_ssrc)) {
		fprintf(stderr, "gdoictl: --format, --payload and --ssrc are options of get\n");
		return 2;
	}
	if ((have_pt && o.fmt != FMT_GST && o.fmt != FMT_SDP) || (o.have_ssrc && o.fmt != FMT_GST)) {
		fprintf(stderr, "gdoictl: --payload goes with --format gst-caps or sdp, --ssrc with gst-caps\n");
		return 2;
	}
	struct ipc_client *cl;
	int rc = connect_sidecar(o.sidecar, &cl);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (is_get)
		rc = cmd_get(cl, argv[optind + 1], &o);
	else if (!strcmp(word, "watch"))
		rc = cmd_watch(cl, argv[optind + 1], &o);
	else
		rc = cmd_status(cl, &o);
	ipc_client_close(cl);
	return rc;
}
