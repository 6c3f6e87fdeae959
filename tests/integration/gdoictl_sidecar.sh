#!/usr/bin/env bash
# gdoictl's sidecar commands against a real gdoi-ks and gdoi-sidecar on loopback
# (unicast rekeys): get in every format, checked against the JSON snapshot
# (python3 stdlib); the FFmpeg refusal for a GCM profile; watch seeing the
# snapshot of a `gdoictl rekey`; sidecar-status; unknown group, not_authorized
# (another uid, with setpriv, when root), usage errors; watch ends with 1 when
# the sidecar goes away.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
me=$(id -u)

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
replay_window = 256
atd = 1
dtd = 4
rekey_unicast = yes

[group gcm]
id = 1235
tek = AEAD_AES_256_GCM
destination = 239.1.2.4:5006
mki = no
atd = 1
dtd = 4
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media, gcm
may_send = yes
ssrcs = 2" || { notok "gdoi-ks starts"; stack_logs; tap_plan_end; exit 1; }

stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
socket_group = 65534
retry_min = 200

[group media]
id = 1234
send = yes
ssrcs = 2
allow = uid:$me

[group gcm]
id = 1235
allow = uid:$me" || { notok "gdoi-sidecar starts"; stack_logs; tap_plan_end; exit 1; }

sc() { "$CTL" --sidecar "$SC_SOCK" "$@"; }
registered() { sc get media --format json && sc get gcm --format json; }
if stack_wait 15 registered; then
	ok "the sidecar holds keys for both groups (gdoictl get answers)"
else
	notok "the sidecar holds keys for both groups"
	stack_logs
	tap_plan_end
	exit 1
fi

# Every format is checked by one python3 program: check.py MODE SNAPSHOT_JSON OUTPUT
cat >"$tmp/check.py" <<'PY'
import base64, json, re, sys
mode, snap_file, out_file = sys.argv[1:4]
snap = json.load(open(snap_file))
out = open(out_file).read()
lines = [l for l in out.split("\n") if l]
lens = {"SRTP_AES128_CM_HMAC_SHA1_80": (16, 14), "SRTP_AEAD_AES_256_GCM": (32, 12)}
def fail(msg):
    print("# " + msg)
    sys.exit(1)
def keysalt(t):
    k, s = base64.b64decode(t["master_key"]), base64.b64decode(t["master_salt"])
    if (len(k), len(s)) != lens[t["profile"]]:
        fail("snapshot key lengths %d+%d for %s" % (len(k), len(s), t["profile"]))
    return k + s
teks = snap["teks"]
if not teks:
    fail("no TEKs")
if mode == "json":
    if set(snap) < {"group", "name", "version", "ssrcs", "teks"}:
        fail("members missing")
    for t in teks:
        keysalt(t)
        if "%08x" % t["spi"] != t["spi_hex"]:
            fail("spi_hex")
elif mode == "table":
    if not lines[0].startswith("group %s (%d)" % (snap["name"], snap["group"])):
        fail("header: " + lines[0])
    if len(lines) != 2 + len(teks):
        fail("%d lines for %d TEKs" % (len(lines), len(teks)))
    for t, l in zip(teks, lines[2:]):
        f = l.split()
        if f[0] != t["spi_hex"] or f[1] != t["profile"] or f[2] != ("yes" if t["mki"] else "no"):
            fail("row " + l)
        if f[3] != "%s:%d" % (t["destination"]["address"], t["destination"]["port"]):
            fail("destination " + l)
        if f[4] != t["not_before"] or f[5] != t["not_after"] or f[6] != str(t["replay_window"]):
            fail("times/window " + l)
        if f[7] != ((",".join(map(str, snap["ssrcs"])) or "-") if t["ssrc_assigned"] else "any"):
            fail("ssrcs " + l)
    for t in teks:
        ks = keysalt(t)
        for secret in (t["master_key"], t["master_salt"], ks.hex(), base64.b64encode(ks).decode()):
            if secret in out:
                fail("key material in the table")
elif mode == "sdes":
    if len(lines) != len(teks):
        fail("%d lines for %d TEKs" % (len(lines), len(teks)))
    suite = {"SRTP_AES128_CM_HMAC_SHA1_80": "AES_CM_128_HMAC_SHA1_80", "SRTP_AEAD_AES_256_GCM": "AEAD_AES_256_GCM"}
    for i, (t, l) in enumerate(zip(teks, lines)):
        m = re.fullmatch(r"a=crypto:(\d+) ([A-Z0-9_]+) inline:([A-Za-z0-9+/]+={0,2})(?:\|(\d+):(\d+))?", l)
        if not m:
            fail("syntax: " + l)
        if int(m.group(1)) != i + 1 or m.group(2) != suite[t["profile"]]:
            fail("tag/suite: " + l)
        raw = base64.b64decode(m.group(3), validate=True)
        if len(raw) != sum(lens[t["profile"]]) or raw != keysalt(t):
            fail("inline key||salt differs from the snapshot (%d octets)" % len(raw))
        if t["mki"]:
            if m.group(4) is None or int(m.group(4)) != t["spi"] or m.group(5) != "4":
                fail("MKI: " + l)
        elif m.group(4) is not None:
            fail("MKI without mki: " + l)
elif mode == "gst":
    cip = {"SRTP_AES128_CM_HMAC_SHA1_80": ("aes-128-icm", "hmac-sha1-80"), "SRTP_AEAD_AES_256_GCM": ("aes-256-gcm", "null")}
    # one caps per assigned SSRC carrying every key srtpdec can hold: the active TEK
    # (latest not_before now) as srtp-key/mki, the others of its profile with MKI as srtp-keyN/mkiN
    import datetime
    when = lambda v: datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    live = [t for t in teks if when(t["not_before"]) <= now < when(t["not_after"])]
    act = max(live, key=lambda t: when(t["not_before"])) if live else teks[0]
    keys = [act] + [t for t in teks if t is not act and act["mki"] and t["mki"] and t["profile"] == act["profile"]]
    t = act
    want = [(t, s) for s in snap["ssrcs"]] if t["ssrc_assigned"] and snap["ssrcs"] else [(t, None)]
    if len(lines) != len(want):
        fail("%d lines, want %d" % (len(lines), len(want)))
    for (t, ssrc), l in zip(want, lines):
        parts = [p.strip() for p in l.split(",")]
        if parts[0] != "application/x-srtp":
            fail("media type: " + parts[0])
        f = {}
        for p in parts[1:]:
            m = re.fullmatch(r"([a-z0-9-]+)=\((int|uint|string|buffer)\)([A-Za-z0-9-]+)", p)
            if not m or m.group(1) in f:
                fail("field: " + p)
            f[m.group(1)] = (m.group(2), m.group(3))
        c, a = cip[t["profile"]]
        exp = {"payload": ("int", "96"), "srtp-key": ("buffer", keysalt(t).hex()),
               "srtp-cipher": ("string", c), "srtp-auth": ("string", a),
               "srtcp-cipher": ("string", c), "srtcp-auth": ("string", a), "roc": ("uint", "0")}
        if ssrc is not None:
            exp["ssrc"] = ("uint", str(ssrc))
        for n, k in enumerate(keys):
            sfx = str(n + 1) if n else ""
            exp["srtp-key" + sfx] = ("buffer", keysalt(k).hex())
            if k["mki"]:
                exp["mki" + sfx] = ("buffer", k["spi_hex"])
        if f != exp:
            fail("caps %r != %r" % (sorted(f), sorted(exp)))
elif mode == "ffmpeg":
    if len(lines) != len(teks):
        fail("%d lines for %d TEKs" % (len(lines), len(teks)))
    for t, l in zip(teks, lines):
        m = re.fullmatch(r"-srtp_in_suite AES_CM_128_HMAC_SHA1_80 -srtp_in_params ([A-Za-z0-9+/=]+)", l)
        if not m or base64.b64decode(m.group(1), validate=True) != keysalt(t):
            fail("ffmpeg line: " + l)
else:
    fail("mode " + mode)
PY
fmt_check() { # DESCRIPTION MODE GROUP ARGS...
	local d=$1 mode=$2 g=$3
	shift 3
	if sc get "$g" "$@" >"$tmp/out" 2>"$tmp/err" && sc get "$g" --format json >"$tmp/snap.json" &&
		python3 "$tmp/check.py" "$mode" "$tmp/snap.json" "$tmp/out" >"$tmp/why"; then
		ok "$d"
	else
		notok "$d"
		sed 's/^/# /' "$tmp/why" "$tmp/err"
	fi
}

fmt_check "get --format json: the snapshot, pretty, key lengths of the profile" json media --format json
if sc --json get media >"$tmp/c.json" && [ "$(wc -l <"$tmp/c.json")" -eq 1 ] &&
	python3 "$tmp/check.py" json "$tmp/c.json" "$tmp/c.json"; then
	ok "get --json: the snapshot on one line"
else
	notok "get --json: the snapshot on one line"
fi
fmt_check "get (table): SPI, profile, MKI, destination, times, window, SSRCs; no key material" table media
fmt_check "get --format sdes: a=crypto line, inline key||salt = snapshot, MKI = SPI:4 (AES_CM_128_HMAC_SHA1_80)" sdes media --format sdes
fmt_check "get --format sdes: AEAD_AES_256_GCM, 44-octet key||salt, no MKI" sdes gcm --format sdes
fmt_check "get --format gst-caps: one caps per assigned SSRC with every current key, srtpdec fields" gst media --format gst-caps --payload 96
fmt_check "get --format gst-caps: receive-only group: no ssrc, aes-256-gcm with auth null" gst gcm --format gst-caps --payload 96
sc get media --format ffmpeg >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q "MKI, which FFmpeg" "$tmp/err"; then
	ok "get --format ffmpeg refuses a TEK with MKI (FFmpeg would output ciphertext)"
else
	notok "get --format ffmpeg refuses a TEK with MKI (rc $rc)"
fi
check "get --format sdp refuses AEAD_AES_256_GCM (FFmpeg, VLC), exit 1" \
	sh -c "! sc_out=\$('$BIN/gdoictl' --sidecar '$SC_SOCK' get gcm --format sdp 2>'$tmp/err') && [ -z \"\$sc_out\" ] && grep -q 'supports only AES_CM' '$tmp/err'"
check "get --format srtpenc: srtpenc key=HEX rtp-cipher= ... mki=SPI" \
	sh -c "'$BIN/gdoictl' --sidecar '$SC_SOCK' get media --format srtpenc 2>/dev/null | grep -Eq '^srtpenc key=[0-9a-f]{60} rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80 mki=[0-9a-f]{8}\$'"
sc get gcm --format ffmpeg >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q "FFmpeg.*AES_CM_128_HMAC_SHA1_80" "$tmp/err"; then
	ok "get --format ffmpeg refuses AEAD_AES_256_GCM (exit 1, reason on stderr)"
else
	notok "get --format ffmpeg refuses AEAD_AES_256_GCM (rc $rc)"
	sed 's/^/# /' "$tmp/out" "$tmp/err"
fi

# watch: the current snapshot at once, then the one of a rekey
# (run directly, not through sc: $! must be gdoictl; background jobs ignore SIGINT, so SIGTERM)
"$CTL" --sidecar "$SC_SOCK" --json watch media >"$tmp/watch.out" 2>"$tmp/watch.err" &
wpid=$!
stack_wait 5 test -s "$tmp/watch.out"
v0=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["version"])' "$tmp/watch.out" 2>/dev/null)
spi0=$(python3 -c 'import json,sys; print(" ".join(t["spi_hex"] for t in json.loads(open(sys.argv[1]).readline())["teks"]))' "$tmp/watch.out" 2>/dev/null)
if "$CTL" --socket "$KS_SOCK" rekey media >"$tmp/rekey.out" 2>&1; then
	ok "gdoictl --socket KS rekey media"
else
	notok "gdoictl --socket KS rekey media"
	sed 's/^/# /' "$tmp/rekey.out"
fi
new_tek() {
	python3 - "$tmp/watch.out" "${v0:-0}" "$spi0" <<'PY'
import json, sys
f, v0, old = sys.argv[1], int(sys.argv[2]), set(sys.argv[3].split())
for l in open(f):
    s = json.loads(l)
    if s["version"] > v0 and set(t["spi_hex"] for t in s["teks"]) - old:
        if any(k in t for t in s["teks"] for k in ("master_key", "master_salt")):
            sys.exit(2)
        sys.exit(0)
sys.exit(1)
PY
}
if [ -n "${v0:-}" ] && stack_wait 10 new_tek; then
	ok "watch --json: a new snapshot (higher version, new TEK SPI, no keys) after the rekey"
else
	notok "watch --json: a new snapshot after the rekey (first version ${v0:-none})"
	sed 's/^/# /' "$tmp/watch.out" "$tmp/watch.err"
fi
kill -TERM "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null

"$CTL" --sidecar "$SC_SOCK" watch media >"$tmp/w2.out" 2>&1 &
w2=$!
if stack_wait 5 test -s "$tmp/w2.out" &&
	grep -Eq '^[0-9TZ:-]+ group media \(1234\) version [0-9]+ seq [0-9]+ teks [0-9a-f]{8}\[' "$tmp/w2.out"; then
	ok "watch: one text line per snapshot"
else
	notok "watch: one text line per snapshot"
	sed 's/^/# /' "$tmp/w2.out"
fi

# sidecar-status
if sc sidecar-status >"$tmp/st.out" 2>&1 && grep -q "^gdoi-sidecar up" "$tmp/st.out" &&
	grep -Eq "^1234 +media +registered" "$tmp/st.out" && grep -Eq "^1235 +gcm " "$tmp/st.out" &&
	grep -q "127.0.0.1:$port" "$tmp/st.out"; then
	ok "sidecar-status: table of key servers and groups"
else
	notok "sidecar-status: table"
	sed 's/^/# /' "$tmp/st.out"
fi
if sc --json sidecar-status >"$tmp/st.json" &&
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and len(r["status"]["groups"]) == 2 and r["status"]["keyservers"]' "$tmp/st.json"; then
	ok "sidecar-status --json: the status reply"
else
	notok "sidecar-status --json"
	sed 's/^/# /' "$tmp/st.json"
fi

# errors
sc get nosuchgroup >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "unknown_group" "$tmp/err"; then
	ok "get of an unknown group: unknown_group on stderr, exit 1"
else
	notok "get of an unknown group (rc $rc)"
	sed 's/^/# /' "$tmp/err"
fi
sc --json get 99999 >"$tmp/out" 2>/dev/null
rc=$?
if [ $rc -eq 1 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["error"]["code"] == "unknown_group"' "$tmp/out"; then
	ok "get --json of an unknown group: the error reply on stdout, exit 1"
else
	notok "get --json of an unknown group (rc $rc)"
fi
if [ "$me" -eq 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$CTL" --sidecar "$SC_SOCK" get media --format sdes \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "not_authorized" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "get as a uid the group does not allow: not_authorized, exit 1, nothing on stdout"
	else
		notok "get as uid 65534: not_authorized (rc $rc)"
		sed 's/^/# /' "$tmp/err"
	fi
else
	skip "not_authorized needs root and setpriv to run gdoictl as another uid"
fi
usage_rc() { "$@" >/dev/null 2>&1; [ $? -eq 2 ]; }
check "usage errors exit 2 (get without GROUP, --socket with get, bad --format, --ssrc without gst-caps)" \
	eval 'usage_rc sc get && usage_rc "$CTL" --socket "$KS_SOCK" get media && usage_rc sc get media --format xml && usage_rc sc get media --ssrc 5'

# watch ends with 1 when the sidecar goes away
kill -TERM "$SC_PID"
wait "$SC_PID" 2>/dev/null
wait "$w2"
rc=$?
if [ $rc -eq 1 ] && grep -q "closed the connection" "$tmp/w2.out"; then
	ok "watch exits 1 when the sidecar closes the connection"
else
	notok "watch exits 1 when the sidecar closes (rc $rc)"
	sed 's/^/# /' "$tmp/w2.out"
fi
tap_plan_end
