/*
 * snapshot.c - the "snapshot" object of docs/ipc.md: profile names, the
 * JSON form (writing, and strict reading), wiping.
 */
#include "ipc/snapshot.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gdoi/srtp_profiles.h"
#include "ipc/base64.h"

const char *ipc_profile_name(uint16_t profile_id)
{
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile(profile_id);

	return sp ? sp->name : NULL;
}

uint16_t ipc_profile_from_name(const char *name)
{
	const struct gdoi_srtp_profile *sp = gdoi_srtp_profile_by_name(name);

	return sp ? sp->id : 0;
}

/* --- times: RFC 3339, UTC, whole seconds ("2026-11-23T23:42:22Z") -------- */

static json_t *time_json(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return json_string(buf);
}

static int time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
				      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -1;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
			return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if (tm.tm_year < 1970)
		return -1;	/* before the epoch: time_json could not write it back */
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	struct tm want = tm, back;
	time_t t = timegm(&tm);
	/* timegm normalises: "02-31" would read as March 3rd, ":60" as the next minute */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != want.tm_year ||
	    back.tm_mon != want.tm_mon || back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour ||
	    back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* --- writing --------------------------------------------------------------- */

static int set(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *tek_to_json(const struct ipc_tek *t)
{
	json_t *o = json_object(), *dst = json_object(), *src = json_object();
	char hex[9], b64[IPC_B64_LEN(32) + 1];
	const char *pname = ipc_profile_name(t->profile_id);
	int r = 0;

	if (!o || !dst || !src || !pname)
		goto fail;
	snprintf(hex, sizeof hex, "%08" PRIx32, t->spi);
	r |= set(o, "spi", json_integer(t->spi));
	r |= set(o, "spi_hex", json_string(hex));
	r |= set(o, "profile", json_string(pname));
	r |= set(o, "profile_id", json_integer(t->profile_id));
	ipc_b64_encode(t->master_key, t->master_key_len, b64);
	r |= set(o, "master_key", json_string(b64));
	ipc_b64_encode(t->master_salt, t->master_salt_len, b64);
	r |= set(o, "master_salt", json_string(b64));
	explicit_bzero(b64, sizeof b64);
	r |= set(o, "mki", t->mki ? json_string(hex) : json_null());
	r |= set(o, "srtcp", json_boolean(t->srtcp));
	r |= set(dst, "address", json_string(t->dst_addr));
	r |= set(dst, "port", json_integer(t->dst_port));
	r |= set(src, "address", json_string(t->src_addr));
	r |= set(src, "prefix", json_integer(t->src_prefix));
	r |= set(src, "port", json_integer(t->src_port));
	r |= json_object_set_new(o, "destination", dst);
	dst = NULL;
	r |= json_object_set_new(o, "source", src);
	src = NULL;
	r |= set(o, "not_before", time_json(t->not_before));
	r |= set(o, "not_after", time_json(t->not_after));
	r |= set(o, "replay_window", json_integer(t->replay_window));
	r |= set(o, "allow_repeat_tx", json_boolean(t->allow_repeat_tx));
	r |= set(o, "ssrc_assigned", json_boolean(t->ssrc_assigned));
	if (r)
		goto fail;
	return o;
fail:
	json_decref(o);
	json_decref(dst);
	json_decref(src);
	return NULL;
}

json_t *ipc_snapshot_to_json(const struct ipc_snapshot *s)
{
	json_t *o = json_object(), *ssrcs = json_array(), *teks = json_array();
	int r = 0;

	if (!o || !ssrcs || !teks || s->nssrcs > IPC_MAX_SSRCS || s->nteks > IPC_MAX_TEKS)
		goto fail;
	r |= set(o, "group", json_integer(s->group));
	r |= set(o, "name", json_string(s->name));
	r |= set(o, "version", json_integer((json_int_t)s->version));
	r |= set(o, "keyserver", json_string(s->keyserver));
	r |= set(o, "seq", json_integer(s->seq));
	r |= set(o, "updated", time_json(s->updated));
	r |= set(o, "atd", json_integer(s->atd));
	r |= set(o, "dtd", json_integer(s->dtd));
	for (size_t i = 0; i < s->nssrcs; i++)
		r |= json_array_append_new(ssrcs, json_integer(s->ssrcs[i]));
	for (size_t i = 0; i < s->nteks; i++) {
		json_t *t = tek_to_json(&s->teks[i]);
		r |= t ? json_array_append_new(teks, t) : -1;
	}
	r |= json_object_set_new(o, "ssrcs", ssrcs);
	ssrcs = NULL;
	if (s->has_senders) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < s->nsenders && i < IPC_MAX_SENDERS; i++)
			r |= json_array_append_new(a, json_integer(s->senders[i]));
		r |= set(o, "senders", a);
	}
	r |= json_object_set_new(o, "teks", teks);
	teks = NULL;
	if (r)
		goto fail;
	return o;
fail:
	json_decref(o);
	json_decref(ssrcs);
	json_decref(teks);
	return NULL;
}

/* --- strict reading -------------------------------------------------------- */

struct rd {
	char *err;
	size_t errlen;
	char where[48];
};

static int fail(struct rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rd *rd, const char *fmt, ...)
{
	va_list ap;
	char msg[160];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (rd->err && rd->errlen)
		snprintf(rd->err, rd->errlen, "%s%s", rd->where, msg);
	return -1;
}

static int get_uint(struct rd *rd, const json_t *o, const char *k, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, k);
	json_int_t i;

	if (!v)
		return fail(rd, "\"%s\" missing", k);
	if (!json_is_integer(v))
		return fail(rd, "\"%s\" is not an integer", k);
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return fail(rd, "\"%s\" out of range", k);
	*out = (uint64_t)i;
	return 0;
}

static int get_bool(struct rd *rd, const json_t *o, const char *k, bool *out)
{
	json_t *v = json_object_get(o, k);

	if (!v)
		return fail(rd, "\"%s\" missing", k);
	if (!json_is_boolean(v))
		return fail(rd, "\"%s\" is not a boolean", k);
	*out = json_is_true(v);
	return 0;
}

static int get_str(struct rd *rd, const json_t *o, const char *k, const char **out)
{
	json_t *v = json_object_get(o, k);

	if (!v)
		return fail(rd, "\"%s\" missing", k);
	if (!json_is_string(v))
		return fail(rd, "\"%s\" is not a string", k);
	*out = json_string_value(v);
	return 0;
}

static int get_strbuf(struct rd *rd, const json_t *o, const char *k, char *buf, size_t len)
{
	const char *s;

	if (get_str(rd, o, k, &s))
		return -1;
	if (strlen(s) >= len)
		return fail(rd, "\"%s\" too long", k);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int get_time(struct rd *rd, const json_t *o, const char *k, int64_t *out)
{
	const char *s;

	if (get_str(rd, o, k, &s))
		return -1;
	if (time_parse(s, out))
		return fail(rd, "\"%s\" is not an RFC 3339 UTC time", k);
	return 0;
}

static int get_addr(struct rd *rd, const json_t *o, const char *k, char *buf)
{
	uint8_t a[16];

	if (get_strbuf(rd, o, k, buf, 46))
		return -1;
	if (inet_pton(AF_INET, buf, a) != 1 && inet_pton(AF_INET6, buf, a) != 1)
		return fail(rd, "\"%s\" is not a numeric IP address", k);
	return 0;
}

static int get_key(struct rd *rd, const json_t *o, const char *k, uint8_t *buf, size_t want,
		   size_t *len)
{
	const char *s;
	long n;

	if (get_str(rd, o, k, &s))
		return -1;
	n = ipc_b64_decode(s, buf, want);
	if (n < 0 || (size_t)n != want)
		return fail(rd, "\"%s\" is not base64 of %zu octets", k, want);
	*len = want;
	return 0;
}

static int tek_from_json(struct rd *rd, const json_t *o, struct ipc_tek *t)
{
	const json_t *dst, *src, *mki;
	const struct gdoi_srtp_profile *sp;
	const char *pname, *spi_hex;
	char hex[9];
	uint64_t v;
	size_t klen, slen;

	if (!json_is_object(o))
		return fail(rd, "not an object");
	if (get_uint(rd, o, "spi", UINT32_MAX, &v))
		return -1;
	t->spi = (uint32_t)v;
	snprintf(hex, sizeof hex, "%08" PRIx32, t->spi);
	if (get_str(rd, o, "spi_hex", &spi_hex))
		return -1;
	if (strcmp(spi_hex, hex) != 0)
		return fail(rd, "\"spi_hex\" does not match \"spi\"");
	if (get_str(rd, o, "profile", &pname) || get_uint(rd, o, "profile_id", UINT16_MAX, &v))
		return -1;
	t->profile_id = (uint16_t)v;
	if (!(sp = gdoi_srtp_profile(t->profile_id)))
		return fail(rd, "unknown profile_id %u", (unsigned)t->profile_id);
	klen = sp->key_len, slen = sp->salt_len;
	if (ipc_profile_from_name(pname) != t->profile_id)
		return fail(rd, "\"profile\" does not match \"profile_id\"");
	if (get_key(rd, o, "master_key", t->master_key, klen, &t->master_key_len) ||
	    get_key(rd, o, "master_salt", t->master_salt, slen, &t->master_salt_len))
		return -1;
	mki = json_object_get(o, "mki");
	if (!mki)
		return fail(rd, "\"mki\" missing");
	if (json_is_null(mki)) {
		t->mki = false;
	} else if (json_is_string(mki)) {
		if (strcmp(json_string_value(mki), hex) != 0)
			return fail(rd, "\"mki\" is not the SPI in 8 hex digits");
		t->mki = true;
	} else {
		return fail(rd, "\"mki\" is neither null nor a string");
	}
	if (get_bool(rd, o, "srtcp", &t->srtcp))
		return -1;
	dst = json_object_get(o, "destination");
	if (!json_is_object(dst))
		return fail(rd, "\"destination\" missing or not an object");
	if (get_addr(rd, dst, "address", t->dst_addr) || get_uint(rd, dst, "port", UINT16_MAX, &v))
		return -1;
	t->dst_port = (uint16_t)v;
	src = json_object_get(o, "source");
	if (!json_is_object(src))
		return fail(rd, "\"source\" missing or not an object");
	if (get_addr(rd, src, "address", t->src_addr))
		return -1;
	if (get_uint(rd, src, "prefix", strchr(t->src_addr, ':') ? 128 : 32, &v))
		return -1;
	t->src_prefix = (uint8_t)v;
	if (get_uint(rd, src, "port", UINT16_MAX, &v))
		return -1;
	t->src_port = (uint16_t)v;
	if (get_time(rd, o, "not_before", &t->not_before) ||
	    get_time(rd, o, "not_after", &t->not_after))
		return -1;
	if (t->not_after < t->not_before)
		return fail(rd, "\"not_after\" before \"not_before\"");
	if (get_uint(rd, o, "replay_window", UINT16_MAX, &v))
		return -1;
	t->replay_window = (uint16_t)v;
	if (get_bool(rd, o, "allow_repeat_tx", &t->allow_repeat_tx) ||
	    get_bool(rd, o, "ssrc_assigned", &t->ssrc_assigned))
		return -1;
	return 0;
}

/* An array of at most IPC_MAX_SSRCS SSRCs; an optional one may be absent. */
static int ssrc_array(struct rd *rd, const json_t *obj, const char *name, bool required,
		      size_t cap, uint32_t *out, size_t *n)
{
	const json_t *a = json_object_get(obj, name), *v;
	size_t i;

	if (!a && !required)
		return 0;
	if (!json_is_array(a))
		return fail(rd, "\"%s\" missing or not an array", name);
	if (json_array_size(a) > cap)
		return fail(rd, "more than %zu %s", cap, name);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)UINT32_MAX)
			return fail(rd, "%s[%zu] is not a 32-bit unsigned integer", name, i);
		out[(*n)++] = (uint32_t)json_integer_value(v);
	}
	return 0;
}

int ipc_snapshot_from_json(const json_t *obj, struct ipc_snapshot *s, char *err, size_t errlen)
{
	struct rd rd = { .err = err, .errlen = errlen, .where = "" };
	const json_t *teks, *v;
	uint64_t u;
	size_t i;

	memset(s, 0, sizeof *s);
	if (err && errlen)
		err[0] = '\0';
	if (!json_is_object(obj)) {
		fail(&rd, "snapshot is not an object");
		return -1;
	}
	if (get_uint(&rd, obj, "group", UINT32_MAX, &u))
		goto bad;
	s->group = (uint32_t)u;
	if (get_strbuf(&rd, obj, "name", s->name, sizeof s->name))
		goto bad;
	if (get_uint(&rd, obj, "version", (uint64_t)INT64_MAX, &s->version))
		goto bad;
	if (get_strbuf(&rd, obj, "keyserver", s->keyserver, sizeof s->keyserver))
		goto bad;
	if (get_uint(&rd, obj, "seq", UINT32_MAX, &u))
		goto bad;
	s->seq = (uint32_t)u;
	if (get_time(&rd, obj, "updated", &s->updated))
		goto bad;
	if (get_uint(&rd, obj, "atd", UINT16_MAX, &u))
		goto bad;
	s->atd = (uint16_t)u;
	if (get_uint(&rd, obj, "dtd", UINT16_MAX, &u))
		goto bad;
	s->dtd = (uint16_t)u;
	if (ssrc_array(&rd, obj, "ssrcs", true, IPC_MAX_SSRCS, s->ssrcs, &s->nssrcs) ||
	    ssrc_array(&rd, obj, "leases", false, IPC_MAX_SSRCS, s->leases, &s->nleases) ||
	    ssrc_array(&rd, obj, "senders", false, IPC_MAX_SENDERS, s->senders, &s->nsenders))
		goto bad;
	s->has_senders = json_object_get(obj, "senders") != NULL;
	teks = json_object_get(obj, "teks");
	if (!json_is_array(teks)) {
		fail(&rd, "\"teks\" missing or not an array");
		goto bad;
	}
	if (json_array_size(teks) > IPC_MAX_TEKS) {
		fail(&rd, "more than %d teks", IPC_MAX_TEKS);
		goto bad;
	}
	json_array_foreach(teks, i, v) {
		snprintf(rd.where, sizeof rd.where, "teks[%zu]: ", i);
		if (tek_from_json(&rd, v, &s->teks[i]))
			goto bad;
		s->nteks = i + 1;
	}
	return 0;
bad:
	ipc_snapshot_clear(s);
	return -1;
}

static void wipe_string(json_t *v)
{
	/* json_string_value() is const for readers; the buffer is jansson's
	 * heap copy, ours until the object is freed */
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

void ipc_snapshot_json_wipe(json_t *obj)
{
	json_t *teks, *t;
	size_t i;

	if (json_is_object(json_object_get(obj, "snapshot")))
		obj = json_object_get(obj, "snapshot");
	teks = json_object_get(obj, "teks");
	json_array_foreach(teks, i, t) {
		wipe_string(json_object_get(t, "master_key"));
		wipe_string(json_object_get(t, "master_salt"));
	}
}

void ipc_snapshot_clear(struct ipc_snapshot *s)
{
	if (s)
		explicit_bzero(s, sizeof *s);
}
