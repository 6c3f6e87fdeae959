#!/usr/bin/env bash
# gdoi-dump against the reference implementation's captures (tests/vectors):
# decryption of Phase 1, GROUPKEY-PULL and GROUPKEY-PUSH with keys taken from
# the vectors' logs, payload order of the PULL and PUSH messages, the clear
# copies, hex input, retransmissions, the NAT-T marker, and bad inputs.
# TAP output; exits non-zero on any failure. Needs bash and python3 (stdlib).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDOI_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
vec=${GDOI_VECTORS:-$top/tests/vectors}
bin=$build/bin/gdoi-dump
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$top/tests/integration/lib/tap.sh"

# Sanitizer reports or crashes in any stderr we collected.
clean_stderr() { ! grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$1"; }

if [ ! -x "$bin" ]; then
	echo "1..1"
	echo "not ok 1 - $bin not built"
	exit 1
fi

# Phase 1 key: the hex words on the line after the first "crypto_init: key:".
p1_key() { awk '/crypto_init: key:/ { getline; for (i = 4; i <= NF; i++) printf "%s", $i; exit }' "$1"; }
# Initiator cookie: "exchange_establish_p1: icookie XXXXXXXXXXXXXXXX ...".
p1_icookie() { awk '/exchange_establish_p1: icookie/ { for (i = 1; i < NF; i++) if ($i == "icookie") { print $(i + 1); exit } }' "$1"; }

# The JSON checker: python3 check.py MODE FILE.
cat >"$tmp/check.py" <<'EOF'
import json, sys

mode, path = sys.argv[1], sys.argv[2]
msgs = []
for line in open(path):
    line = line.strip()
    if line:
        msgs.append(json.loads(line))

def fail(why):
    print("# " + why)
    sys.exit(1)

def types(m):
    return [p["type"] for p in m.get("payloads", [])]

def no_errors():
    for m in msgs:
        if "error" in m:
            fail("frame %s: %s" % (m["frame"], m["error"]["message"]))

def all_decrypted():
    enc = [m for m in msgs if m.get("encrypted")]
    if not enc:
        fail("no encrypted message")
    for m in enc:
        if not m.get("decrypted") or "payloads" not in m:
            fail("frame %s not decrypted: %s" % (m["frame"], m.get("not_decrypted", m.get("error"))))

def pull(expect_sak):
    pulls = [m for m in msgs if m["exchange"] == 32]
    if len(pulls) != 4:
        fail("want 4 GROUPKEY-PULL messages, got %d" % len(pulls))
    if len({m["message_id"] for m in pulls}) != 1:
        fail("PULL messages with different message ids")
    t = [types(m) for m in pulls]
    if t[0] != ["HASH", "NONCE", "ID"]:
        fail("msg1 %s" % t[0])
    if t[1] != ["HASH", "NONCE", "SA"]:
        fail("msg2 %s" % t[1])
    if t[2] not in (["HASH"], ["HASH", "GAP"]):
        fail("msg3 %s" % t[2])
    if t[3] not in (["HASH", "KD"], ["HASH", "SEQ", "KD"]):
        fail("msg4 %s" % t[3])
    sa = pulls[1]["payloads"][2]
    if sa["doi"] != 2:
        fail("SA DOI %s" % sa["doi"])
    inner = [p["type"] for p in sa["payloads"]]
    if ("SAK" in inner) != expect_sak or "SAT" not in inner:
        fail("SA holds %s" % inner)
    if expect_sak and "SEQ" not in t[3]:
        fail("msg4 without SEQ although a KEK was sent")
    kd = pulls[3]["payloads"][-1]
    for pk in kd["packets"]:
        if pk["kd_type_name"] == "TEK":
            for a in pk["attributes"]:
                if "hex" in a and not a.get("secret"):
                    fail("TEK key not marked secret")
    return pulls

def check_srtp_ref():
    pulls = [m for m in msgs if m["exchange"] == 32]
    sats = [p for p in pulls[1]["payloads"][2]["payloads"] if p["type"] == "SAT"]
    if not sats or sats[0]["protocol_id"] != 128 or sats[0]["protocol_name"] != "SRTP_REF":
        fail("SRTP TEK: %s" % sats)

def pushes():
    ps = [m for m in msgs if m["exchange"] == 33]
    if len(ps) != 3:
        fail("want 3 GROUPKEY-PUSH messages, got %d" % len(ps))
    for i, m in enumerate(ps, 1):
        if not m.get("dst", "").endswith(":1849"):
            fail("push %d to %s" % (i, m.get("dst")))
        if not m.get("decrypted") or "KD of frame" not in m.get("key", ""):
            fail("push %d not decrypted with the KEK from a KD: %s" % (i, m.get("key", m.get("not_decrypted"))))
        t = types(m)
        if t[0] != "SEQ" or t[-1] != "SIG":
            fail("push %d payloads %s" % (i, t))
        if m["payloads"][0]["seq"] != i:
            fail("push %d SEQ %d" % (i, m["payloads"][0]["seq"]))
        if not ("SA" in t and "KD" in t) and "DELETE" not in t:
            fail("push %d carries neither SA+KD nor DELETE: %s" % (i, t))
    if types(ps[0]) != ["SEQ", "SA", "KD", "SIG"]:
        fail("push 1 payloads %s" % types(ps[0]))

if mode in ("pull", "kek", "srtp"):
    no_errors()
    all_decrypted()
    pull(expect_sak=(mode == "kek"))
    if mode == "srtp":
        check_srtp_ref()
    if mode == "kek":
        pushes()
elif mode == "nokey":
    no_errors()
    for m in msgs:
        if m.get("encrypted") and (m.get("decrypted") or "not_decrypted" not in m):
            fail("frame %s: encrypted message without a key" % m["frame"])
elif mode == "clear":
    no_errors()
    if not msgs:
        fail("no messages")
elif mode == "hexone":
    if len(msgs) != 1 or msgs[0]["exchange"] != 2 or types(msgs[0]) != ["SA"]:
        fail("hex MM1: %s" % msgs)
    sa = msgs[0]["payloads"][0]
    xf = sa["proposals"][0]["transforms"][0]
    if {"type": 1, "name": "ENCRYPTION_ALGORITHM", "value": 5} not in xf["attributes"]:
        fail("MM1 transform %s" % xf)
elif mode == "retrans":
    no_errors()
    all_decrypted()
    rep = [m for m in msgs if m.get("retransmission")]
    if len(rep) != 2:
        fail("want 2 retransmissions, got %d" % len(rep))
    msgs = [m for m in msgs if not m.get("retransmission")]
    pull(expect_sak=True)
elif mode == "wrongkey":
    errs = [m for m in msgs if "error" in m]
    if not errs:
        fail("no error with a wrong key")
    for m in errs:
        if "decryption with the given key did not yield a valid message" not in m["error"]["message"]:
            fail("error: %s" % m["error"]["message"])
        if "offset" not in m["error"] or "payload" not in m["error"]:
            fail("error without payload/offset")
elif mode == "kekonly":
    ps = [m for m in msgs if m["exchange"] == 33]
    if len(ps) != 3 or not all(m.get("decrypted") for m in ps) or "--kek" not in ps[0]["key"]:
        fail("pushes with --kek: %s" % [(m["frame"], m.get("key"), m.get("not_decrypted")) for m in ps])
    no_errors()
elif mode in ("rotation", "rotation-kek"):
    # gdoid-kek-rotation: 15 frames; pushes SEQ 1..5, the third rotates the KEK
    # (its KD names the old SPI), the last two are under the new KEK.
    no_errors()
    if len(msgs) != 15:
        fail("want 15 frames, got %d" % len(msgs))
    ps = [m for m in msgs if m["exchange"] == 33]
    if len(ps) != 5:
        fail("want 5 GROUPKEY-PUSH messages, got %d" % len(ps))
    if mode == "rotation":
        all_decrypted()
    for i, m in enumerate(ps, 1):
        if not m.get("decrypted") or "payloads" not in m:
            fail("push %d (frame %s) not decrypted: %s" % (i, m["frame"], m.get("not_decrypted")))
        if m["payloads"][0]["seq"] != i:
            fail("push %d SEQ %d" % (i, m["payloads"][0]["seq"]))
    if ps[3]["key"] == ps[1]["key"] or "KD of frame %s" % ps[2]["frame"] not in ps[3]["key"]:
        fail("push 4 not under the KEK of the rotation push: %s" % ps[3]["key"])
elif mode == "natt":
    if len(msgs) != 2 or msgs[0].get("exchange") != 2 or "skipped" not in msgs[1]:
        fail("NAT-T capture: %s" % msgs)
else:
    fail("unknown mode " + mode)
EOF

# pcap helpers in python: UDP payloads of a pcap/pcapng as hex lines, and a
# small classic pcap writer (raw IPv4) for the NAT-T case.
cat >"$tmp/pcap.py" <<'EOF'
import struct, sys

def frames(path):
    d = open(path, "rb").read()
    if d[:4] == b"\x0a\x0d\x0d\x0a":  # pcapng
        e = "<" if d[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, links = 0, []
        while off + 12 <= len(d):
            bt, bl = struct.unpack(e + "II", d[off:off + 8])
            body = d[off + 8:off + bl - 4]
            if bt == 1:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif bt == 6:
                iface, _, _, cap, _ = struct.unpack(e + "IIIII", body[:20])
                yield links[iface], body[20:20 + cap]
            off += bl
    else:
        e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link = struct.unpack(e + "I", d[20:24])[0]
        off = 24
        while off + 16 <= len(d):
            cap = struct.unpack(e + "I", d[off + 8:off + 12])[0]
            yield link, d[off + 16:off + 16 + cap]
            off += 16 + cap

def udp_payloads(path):
    for link, f in frames(path):
        ip = f[14:] if link == 1 else f[4:] if link == 0 else f
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        hl = (ip[0] & 15) * 4
        ulen = struct.unpack(">H", ip[hl + 4:hl + 6])[0]
        yield ip[hl + 8:hl + ulen]

def write_raw_pcap(path, datagrams):
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)]
    for sport, dport, payload in datagrams:
        udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])) + udp
        out.append(struct.pack("<IIII", 0, 0, len(ip), len(ip)) + ip)
    open(path, "wb").write(b"".join(out))

if sys.argv[1] == "hex":
    for p in udp_payloads(sys.argv[2]):
        print(p.hex())
elif sys.argv[1] == "natt":
    mm1 = next(udp_payloads(sys.argv[3]))
    write_raw_pcap(sys.argv[2], [(4500, 4500, b"\0\0\0\0" + mm1), (4500, 4500, b"\xff")])
EOF

# --- the three encrypted captures, decrypted with keys from the logs --------
for v in pull kek srtp; do
	d=$vec/gdoid-$v
	key=$(p1_key "$d/gm.log")
	ick=$(p1_icookie "$d/gm.log")
	if [ -z "$key" ] || [ -z "$ick" ]; then
		notok "gdoid-$v: Phase 1 key and cookie found in gm.log"
		continue
	fi
	"$bin" --json --ike-key "$ick=$key" "$d/wire.pcap" >"$tmp/$v.json" 2>"$tmp/$v.err"
	rc=$?
	check "gdoid-$v: --json --ike-key exits 0" [ $rc -eq 0 ]
	check "gdoid-$v: every encrypted message decrypted, PULL payloads in order" \
		python3 "$tmp/check.py" "$v" "$tmp/$v.json"
	"$bin" --ike-key "$ick=$key" "$d/wire.pcap" >"$tmp/$v.txt" 2>>"$tmp/$v.err"
	rc=$?
	check "gdoid-$v: text output exits 0 and marks key material" \
		bash -c "[ $rc -eq 0 ] && grep -q 'KEY MATERIAL' '$tmp/$v.txt' && ! grep -q ERROR '$tmp/$v.txt'"
	"$bin" --json "$d/wire.pcap" >"$tmp/$v-nokey.json" 2>>"$tmp/$v.err"
	rc=$?
	check "gdoid-$v: without keys, encrypted messages are reported as such (exit 0)" \
		bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' nokey '$tmp/$v-nokey.json'"
	for c in gm-clear ks-clear; do
		"$bin" --json "$d/$c.pcap" >"$tmp/$v-$c.json" 2>>"$tmp/$v.err"
		rc=$?
		check "gdoid-$v: $c.pcap decodes with no error" \
			bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' clear '$tmp/$v-$c.json'"
	done
	check "gdoid-$v: no sanitizer report" clean_stderr "$tmp/$v.err"
done

d=$vec/gdoid-kek
key=$(p1_key "$d/gm.log")
ick=$(p1_icookie "$d/gm.log")

# --- GROUPKEY-PUSH with --kek only (IV and key from the key server's log) ------------
kek_iv=$(awk '/gdoi_set_kek_policy: KEK IV:/ { print $NF; exit }' "$d/ks.log")
kek_key=$(awk '/gdoi_set_kek_policy: KEK Key:/ { print $NF; exit }' "$d/ks.log")
kek_spi=$(awk '/gdoi_set_kek_policy: KEK SPI:/ { print $NF; exit }' "$d/ks.log")
"$bin" --json --kek "$kek_spi=$kek_iv:$kek_key" "$d/wire.pcap" >"$tmp/kek.json" 2>"$tmp/kek.err"
rc=$?
check "gdoid-kek: --kek alone decrypts the three pushes (exit 0)" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' kekonly '$tmp/kek.json'"
check "--kek: no sanitizer report" clean_stderr "$tmp/kek.err"

# --- gdoid-kek-rotation: all 15 frames, across the KEK rotation (frame 13) ---------
d=$vec/gdoid-kek-rotation
rkey=$(p1_key "$d/gm.log")
rick=$(p1_icookie "$d/gm.log")
"$bin" --json --ike-key "$rick=$rkey" "$d/wire.pcap" >"$tmp/rot.json" 2>"$tmp/rot.err"
rc=$?
check "gdoid-kek-rotation: every frame decrypts, pushes 4 and 5 under the rotated KEK (exit 0)" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' rotation '$tmp/rot.json'"
rkek_iv=$(awk '/gdoi_set_kek_policy: KEK IV:/ { print $NF; exit }' "$d/ks.log")
rkek_key=$(awk '/gdoi_set_kek_policy: KEK Key:/ { print $NF; exit }' "$d/ks.log")
rkek_spi=$(awk '/gdoi_set_kek_policy: KEK SPI:/ { print $NF; exit }' "$d/ks.log")
"$bin" --json --kek "$rkek_spi=$rkek_iv:$rkek_key" "$d/wire.pcap" >"$tmp/rotk.json" 2>>"$tmp/rot.err"
rc=$?
check "gdoid-kek-rotation: --kek with the first KEK alone decrypts all five pushes (exit 0)" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' rotation-kek '$tmp/rotk.json'"
check "gdoid-kek-rotation: no sanitizer report" clean_stderr "$tmp/rot.err"
d=$vec/gdoid-kek

# --- hex on stdin --------------------------------------------------------------
python3 "$tmp/pcap.py" hex "$d/gm-clear.pcap" >"$tmp/clear.hex"
head -1 "$tmp/clear.hex" | sed 's/\(........\)/\1 /g' |
	"$bin" --json - >"$tmp/hex1.json" 2>"$tmp/hex.err"
rc=$?
check "hex on stdin (-): one MM1 with whitespace decodes" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' hexone '$tmp/hex1.json'"
head -1 "$tmp/clear.hex" >"$tmp/one.hex"
"$bin" --json --hex "$tmp/one.hex" >"$tmp/hex2.json" 2>>"$tmp/hex.err"
rc=$?
check "--hex FILE decodes the same message" \
	bash -c "[ $rc -eq 0 ] && cmp -s '$tmp/hex1.json' '$tmp/hex2.json'"

# Retransmissions: the whole encrypted exchange as hex, with MM5 and PULL msg2
# sent twice; the repeats must decrypt and must not advance the IV chains.
python3 "$tmp/pcap.py" hex "$d/wire.pcap" >"$tmp/wire.hex"
awk '{ print } NR == 5 { l5 = $0 } NR == 8 { l8 = $0 } NR == 6 { print l5 } NR == 9 { print l8 }' \
	"$tmp/wire.hex" >"$tmp/retrans.hex"
"$bin" --json --ike-key "$ick=$key" - <"$tmp/retrans.hex" >"$tmp/retrans.json" 2>>"$tmp/hex.err"
rc=$?
check "hex input with retransmitted MM5 and PULL msg2 decrypts everything" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' retrans '$tmp/retrans.json'"
echo "0102 zz" | "$bin" - >/dev/null 2>>"$tmp/hex.err"
check "a line that is not hex is an error (exit 1)" [ $? -eq 1 ]
check "hex input: no sanitizer report" clean_stderr "$tmp/hex.err"

# --- NAT-T marker on port 4500, and a too-short datagram ------------------------
python3 "$tmp/pcap.py" natt "$tmp/natt.pcap" "$d/gm-clear.pcap"
"$bin" --json "$tmp/natt.pcap" >"$tmp/natt.json" 2>"$tmp/natt.err"
rc=$?
check "port 4500: non-ESP marker stripped, keepalive reported and skipped (exit 0)" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' natt '$tmp/natt.json'"
check "NAT-T: no sanitizer report" clean_stderr "$tmp/natt.err"

# --- bad inputs -------------------------------------------------------------------
"$bin" "$vec/README.md" >/dev/null 2>"$tmp/bad1.err"
rc=$?
check "not a capture: exit 2 with a clear message" \
	bash -c "[ $rc -eq 2 ] && grep -q 'cannot read as a capture file' '$tmp/bad1.err'"
check "not a capture: no sanitizer report" clean_stderr "$tmp/bad1.err"

head -c 1000 "$d/wire.pcap" >"$tmp/trunc.pcap"
"$bin" --json --ike-key "$ick=$key" "$tmp/trunc.pcap" >"$tmp/trunc.json" 2>"$tmp/bad2.err"
rc=$?
check "truncated capture: frames before the cut decoded, exit 2 with a message" \
	bash -c "[ $rc -eq 2 ] && grep -q 'truncated' '$tmp/bad2.err' && [ -s '$tmp/trunc.json' ]"
head -c 20 "$d/wire.pcap" >"$tmp/trunc2.pcap"
"$bin" "$tmp/trunc2.pcap" >/dev/null 2>>"$tmp/bad2.err"
check "capture cut inside its file header: exit 2" [ $? -eq 2 ]
check "truncated captures: no sanitizer report" clean_stderr "$tmp/bad2.err"

# Wrong key: flip the top bit of the first octet (3DES ignores the parity bits).
first=$(printf '%x' $((0x${key:0:1} ^ 8)))
wrong=$first${key:1}
"$bin" --json --ike-key "$ick=$wrong" "$d/wire.pcap" >"$tmp/wrong.json" 2>"$tmp/bad3.err"
rc=$?
check "wrong --ike-key: per-frame 'did not yield a valid message', exit 1" \
	bash -c "[ $rc -eq 1 ] && python3 '$tmp/check.py' wrongkey '$tmp/wrong.json'"
check "wrong --ike-key: no sanitizer report" clean_stderr "$tmp/bad3.err"

"$bin" --ike-key nothex=00 "$d/wire.pcap" >/dev/null 2>"$tmp/bad4.err"
rc=$?
check "malformed --ike-key: exit 2 with a message" \
	bash -c "[ $rc -eq 2 ] && grep -q 'ike-key' '$tmp/bad4.err'"

# Damaged captures: every frame mangled must never crash the decoder.
python3 - "$d/wire.pcap" "$tmp" <<'EOF'
import random, sys
data = open(sys.argv[1], "rb").read()
for s in range(20):
    random.seed(s)
    b = bytearray(data)
    for _ in range(random.randint(1, 30)):
        b[random.randrange(len(b))] = random.randrange(256)
    open("%s/mangled%d.pcap" % (sys.argv[2], s), "wb").write(b)
EOF
bad=0
for s in $(seq 0 19); do
	"$bin" --json --ike-key "$ick=$key" "$tmp/mangled$s.pcap" >/dev/null 2>"$tmp/m.err"
	rc=$?
	if [ $rc -gt 2 ] || ! clean_stderr "$tmp/m.err"; then bad=$((bad + 1)); fi
done
check "20 randomly damaged captures: exit 0..2, no crash or sanitizer report" [ $bad -eq 0 ]

out=$("$bin" --version)
check "--version prints 0.1.0" [ "$out" = "gdoi-dump 0.1.0" ]
"$bin" --help >/dev/null
check "--help exits 0" [ $? -eq 0 ]

tap_plan_end
