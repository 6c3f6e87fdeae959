#!/usr/bin/env bash
# tests/fuzz/seed.sh TARGET DIR: writes seed inputs for a fuzz target into DIR.
# fuzz_wire: every plaintext message of the reference vectors (one file per datagram).
# fuzz_dump_ike2: gdoi-dump's IKEv2 path: GSA + KD sealed as a GSA_AUTH response / GSA_REKEY, and
#   a raw IKE_SA_INIT-like datagram.
# fuzz_push, fuzz_member: pushes the target writes itself (tests/fuzz/push_wrap.h).
# fuzz_gike2_insider: scripts of its own format (tests/fuzz/fuzz_gike2_insider.c).
# fuzz_gcks: scripts of its own format (tests/fuzz/fuzz_gcks.c); fuzz_ipc: request lines
#   and snapshots; fuzz_daemon_addr: addresses.
# fuzz_ike2: scripts in its own format (tests/fuzz/fuzz_ike2.c): clean exchanges for each
#   configuration, then with requests, Deletes, timers, mutations and injections.
# fuzz_phase1: scripts in the target's own input format (see tests/fuzz/fuzz_phase1.c):
#   the clean exchange for each offer, then with Informational traffic, garbage, cookie-
#   carrying injections, mutations, replays, reflections and timers at every step, and
#   a few datagrams of the reference vectors injected with the live cookies.
set -eu
target=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
case "$target" in
fuzz_ike2)
	python3 - "$dir" <<'PY'
import os, random, sys
dst = sys.argv[1]
rnd = random.Random(7296)
def op(code, data=b""):
    return bytes([code, len(data)]) + data
clean = (op(0) + op(1)) * 2
seeds = {}
for conf in range(16):
    seeds["clean-%02x" % conf] = bytes([conf | 0x10]) + clean * 2
    seeds["busy-%02x" % conf] = bytes([conf | 0x10]) + clean * 2 + op(6, b"liveness") + op(1) + op(0) + \
        op(6 | 8, b"from-r") + op(1) + op(0) + op(5, b"\x05") + op(7) + op(0) + op(1)
    seeds["mutate-%02x" % conf] = bytes([conf]) + op(0) + op(3, bytes([0, rnd.randrange(200), 1])) + \
        op(2, bytes([0, rnd.randrange(200), 0x80])) + op(1) + op(5, b"\x03") + op(0) + op(1)
    seeds["inject-%02x" % conf] = bytes([conf]) + clean + op(4 | 8, bytes(rnd.randrange(256) for _ in range(60))) + clean
for name, data in seeds.items():
    with open(os.path.join(dst, name), "wb") as f:
        f.write(data)
PY
	;;
fuzz_phase1)
	python3 - "$top/tests/vectors" "$dir" <<'PY'
import os, random, struct, sys
src, dst = sys.argv[1], sys.argv[2]
rnd = random.Random(6407)
def op(code, data=b""):
    return bytes([code]) + struct.pack(">H", len(data)) + data
TO_R, TO_I = op(2), op(3)
clean = (TO_R + TO_I) * 3
def junk(n):
    return bytes(rnd.randrange(256) for _ in range(n))
seeds = {}
for conf in (0x10, 0x11, 0x12, 0x13, 0x14, 0x1a):
    seeds["clean-%02x" % conf] = bytes([conf]) + clean
info = (op(6, struct.pack(">H", 24578)) + TO_R + op(6 | 1 << 3, struct.pack(">H", 16384) + b"x") +
        TO_I + op(6 | 3 << 3) + TO_I + op(6 | 2 << 3) + TO_R)
seeds["informational"] = bytes([0x10]) + clean + info
steps = [TO_R, TO_I] * 3
for name, inj in (("garbage", lambda: op(0, junk(60)) + op(1, junk(60))),
                  ("cookies", lambda: op(0xc0, junk(120)) + op(0xc1, junk(120)) + op(0x40, junk(90))),
                  ("mutate", lambda: op(2 | 1 << 3, b"\x00" + bytes([rnd.randrange(200)]) + b"\x01")),
                  ("truncate", lambda: op(2 | 2 << 3, b"\x00" + bytes([rnd.randrange(200)]))),
                  ("replay", lambda: op(5, bytes([rnd.randrange(8)])) + op(5 | 1 << 3, bytes([rnd.randrange(8)]))),
                  ("timers", lambda: op(4 | 1 << 3, b"\x00\x02") + op(4 | 2 << 3, b"\x00\x10"))):
    seeds[name] = bytes([0x12]) + b"".join(inj() + s for s in steps) + info
seeds["timeout"] = bytes([0x11]) + op(4 | 1 << 3, b"\x00\x1f") + clean
seeds["expire"] = bytes([0x10]) + clean + op(4 | 1 << 3, b"\x02\x58") + op(4 | 3 << 3, b"\x02\x58")
# Real datagrams of the reference vectors, injected with the live cookies.
n = 0
for folder in sorted(os.listdir(src)):
    path = os.path.join(src, folder, "gm-clear.pcap")
    if not os.path.exists(path):
        continue
    data = open(path, "rb").read()
    endian = "<" if struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4 else ">"
    link = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data) and n < 12:
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ip = pkt[4:] if link == 0 else pkt[14:] if link == 1 else pkt
        if len(ip) < 28:
            continue
        dg = ip[(ip[0] & 15) * 4 + 8:]
        n += 1
        seeds["vector-%02d" % n] = bytes([0x12]) + TO_R + op(0xc1, dg) + op(0xc0, dg) + TO_I + op(0xc0, dg) + TO_R
for name, body in seeds.items():
    with open(os.path.join(dst, name), "wb") as f:
        f.write(body)
PY
	;;
fuzz_gcks)
	# scripts in the target's format (tests/fuzz/fuzz_gcks.c): a clean registration
	# under each limit set, then with floods, junk, cookie injections and mutations, and
	# an insider's own GROUPKEY-PULL messages after it
	python3 - "$dir" <<'PY'
import os, random, struct, sys
dst = sys.argv[1]
rnd = random.Random(6407)
def op(code, data=b""):
    return bytes([code]) + struct.pack(">H", len(data)) + data
STEP = op(2)
clean = STEP * 6
def junk(n):
    return bytes(rnd.randrange(256) for _ in range(n))
seeds = {}
for conf in range(4):
    seeds["clean-%d" % conf] = bytes([conf]) + clean
seeds["mm1-flood"] = bytes([0]) + STEP + op(5) * 12 + op(1, b"\x00\x64") + op(5) * 4 + STEP * 5
seeds["mm1-many"] = bytes([0]) + STEP + b"".join(op(5 | s << 4) for s in range(16)) * 2 + STEP * 5
seeds["junk"] = bytes([3]) + b"".join(op(0 | (i % 16) << 4, junk(40)) for i in range(20)) + clean
seeds["cookies"] = bytes([1]) + b"".join(STEP + op(3, junk(16) + bytes([8, 0x10, 5, 1]) + junk(60)) for _ in range(6))
seeds["pull-cookies"] = bytes([1]) + clean[:12] + op(3, junk(16) + bytes([8, 0x10, 32, 1]) + junk(80)) + STEP * 2
seeds["mutate"] = bytes([1]) + b"".join(op(4, bytes([rnd.randrange(256), 1 << rnd.randrange(8)])) + STEP for _ in range(6)) + clean
seeds["timers"] = bytes([1]) + STEP * 3 + op(1, b"\x03\xe8") + STEP * 3 + op(1, b"\xff\xff") + STEP
# ops 6 / 7: GROUPKEY-PULL messages 1 and 3 that the registered member's SA protects
# around payloads of the script's own: Nonce + ID(KEY_ID group), then HASH(3) alone or a GAP.
nonce = bytes(range(16))
msg1 = bytes([5, 0, 0, 20]) + nonce + bytes([0, 0, 0, 12, 11, 0, 0, 0]) + struct.pack(">I", 0x04d2)
gap = bytes([0, 0, 0, 8, 0x80, 3, 0, 1])
seeds["insider"] = bytes([1]) + clean + op(6, struct.pack(">I", 0x01020304) + b"\x0a" + msg1) + op(7, b"\x16" + gap)
seeds["insider-hash-only"] = bytes([1]) + clean + op(6, struct.pack(">I", 7) + b"\x0a" + msg1) + op(7, b"\x00")
seeds["insider-junk"] = bytes([1]) + clean + op(6, struct.pack(">I", 9) + b"\x0a" + junk(60)) + op(7, b"\x05" + junk(30))
for name, body in seeds.items():
    with open(os.path.join(dst, name), "wb") as f:
        f.write(body)
PY
	;;
fuzz_push|fuzz_member)
	# structured pushes (tests/fuzz/push_wrap.h), written by the target itself: its
	# binary sits two levels above the corpus (build/fuzz/corpus/NAME)
	bin=${GDOI_FUZZ_BIN:-$(dirname "$(dirname "$dir")")/$target}
	if [ -x "$bin" ]; then
		GDOI_FUZZ_WRITE_SEEDS=$dir "$bin" >/dev/null 2>&1 || echo "seed.sh: $bin wrote no seeds" >&2
	fi
	;;
fuzz_ipc)
	python3 - "$dir" <<'PY'
import base64, json, os, sys
dst = sys.argv[1]
lines = [b'{"op":"hello","id":1}', b'{"op":"hello","id":1,"protocol":2}', b'{"op":"groups"}',
         b'{"op":"get","group":4711}', b'{"op":"get","group":"audio","id":"x"}',
         b'{"op":"subscribe","group":"audio","id":2}', b'{"op":"unsubscribe","group":4711}',
         b'{"op":"lease","group":"audio","id":3}', b'{"op":"status"}', b'   ',
         b'{"op":"get","op":"lease","group":1}', b'{"op":"get","group":1}\x00{"x":1}',
         b'{"op":"get","group":4294967296}', b'[1,2]', b'{"op":7}', b'{"id":{"a":[1]},"op":"groups"}']
k16, s14 = base64.b64encode(bytes(range(16))).decode(), base64.b64encode(bytes(range(14))).decode()
tek = {"spi": 2712847316, "spi_hex": "a1b2c3d4", "profile": "SRTP_AES128_CM_HMAC_SHA1_80", "profile_id": 1,
       "master_key": k16, "master_salt": s14, "mki": "a1b2c3d4", "srtcp": True,
       "destination": {"address": "239.1.2.3", "port": 5004},
       "source": {"address": "0.0.0.0", "prefix": 0, "port": 0},
       "not_before": "2026-11-23T23:42:24Z", "not_after": "2026-11-24T00:42:22Z",
       "replay_window": 128, "allow_repeat_tx": False, "ssrc_assigned": True}
snap = {"group": 4711, "name": "audio", "version": 7, "keyserver": "127.0.0.1:848", "seq": 3,
        "updated": "2026-11-23T23:42:22Z", "atd": 2, "dtd": 10, "ssrcs": [65536, 65537],
        "senders": [65536, 65537, 3141592653], "teks": [tek, dict(tek, spi=1, spi_hex="00000001", mki=None)]}
snaps = [snap, dict(snap, senders=[]), {k: v for k, v in snap.items() if k != "senders"},
         dict(snap, senders=list(range(1, 258))), dict(snap, teks=[]), dict(snap, leases=[65536])]
for i, l in enumerate(lines):
    open(os.path.join(dst, "line-%02d" % i), "wb").write(b"\x00" + l)
for i, sn in enumerate(snaps):
    open(os.path.join(dst, "snapshot-%02d" % i), "wb").write(b"\x01" + json.dumps(sn).encode())
PY
	;;
fuzz_daemon_addr)
	python3 - "$dir" <<'PY'
import os, sys
dst = sys.argv[1]
texts = ["127.0.0.1", "127.0.0.1:848", "0.0.0.0:0", "[::1]:848", "::1", "[fe80::1%lo]:1", "1.2.3.4:65535",
         "1.2.3.4:65536", "[::ffff:1.2.3.4]:9", "host:1", ":848", "[]:1", "1.2.3.4:", "[::1]", "1.2.3.4:0848",
         "2001:db8::1:848", "1.2.3.4:+1", " 1.2.3.4", "1.2.3.4:4294967297"]
for i, t in enumerate(texts):
    for f in (0, 1):
        open(os.path.join(dst, "addr-%02d-%d" % (i, f)), "wb").write(bytes([f, 3, 80]) + t.encode())
PY
	;;
fuzz_gike2_insider)
	# configuration + messages in the target's format (tests/fuzz/fuzz_gike2_insider.c):
	# exchange, flags (1: built), mutations, own payloads; a malicious member (octet 0
	# even) and a malicious key server (odd), clean, then mutated, with payloads of
	# its own, and with requests on the IKE SA afterwards.
	python3 - "$dir" <<'PY'
import os, struct, sys
dst = sys.argv[1]
def msg(exch, built=True, muts=(), pls=()):
    b = bytes([exch, 1 if built else 0, len(muts)])
    b += b"".join(bytes([i]) + struct.pack(">H", o) + bytes([x]) for i, o, x in muts)
    return b + bytes([len(pls)]) + b"".join(bytes([t]) + struct.pack(">H", len(d)) + d for t, d in pls)
AUTH, REG, REKEY, INBAND, INFO = 0, 40, 41, 42, 37
idg = bytes.fromhex("0b000000") + b"audio"
seeds = {
    "member-clean": b"\x00" + msg(AUTH),
    "member-registration": b"\x00" + msg(AUTH) + msg(REG) + msg(INFO, False),
    "member-inband": b"\x02" + msg(AUTH) + msg(INFO, False),
    "member-mutated": b"\x00" + msg(AUTH, muts=((0, 0, 0x40), (1, 3, 1))) + msg(REG, muts=((0, 6, 2),)),
    "member-own": b"\x00" + msg(AUTH, False, pls=((50, idg), (50 | 0x80, idg), (41, bytes.fromhex("00004000") + b"x"))),
    "gcks-clean": b"\x01" + msg(AUTH),
    "gcks-rekey-sa": b"\x03" + msg(AUTH) + msg(INBAND) + msg(INFO, False),
    "gcks-rekey": b"\x03" + msg(AUTH) + msg(REKEY) + msg(REKEY, muts=((0, 20, 1),)) + msg(REKEY, False),
    "gcks-inband": b"\x01" + msg(AUTH) + msg(INBAND, muts=((1, 40, 0x80),)),
    "gcks-mutated": b"\x03" + msg(AUTH, muts=((0, 16, 1), (1, 32, 0x80), (1, 64, 2), (0, 90, 4))),
    "gcks-own": b"\x01" + msg(AUTH, pls=((51, bytes(12)), (52, bytes(8)), (42, bytes.fromhex("f50400010000700d")))),
}
for name, body in seeds.items():
    with open(os.path.join(dst, name), "wb") as f:
        f.write(body)
PY
	;;
fuzz_gike2)
	# selector octet + body: the GSA and KD of tests/unit/test_gike2_payload.c, an IDg,
	# SENDER data, a GSA_REKEY header, a GSA | KD inner chain.
	python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
gsa = bytes.fromhex("f504003c11223344" "0711001000" "00ffff0a0000010a000001"
    "0711001013881388ef010203ef010203" "0000000cf1000001c0000001" "0001000400000e10"
    "0000001080010005800200" "0a80030020")
kd = bytes.fromhex("f504003c11223344" "00010030" "00000000" "00000000") + bytes(range(40)) + \
    bytes.fromhex("00000014000300 04deadbeef00030004cafef00d".replace(" ", ""))
seeds = {
    "gsa": b"\x00" + gsa, "kd": b"\x01" + kd,
    "idg": bytes.fromhex("02" "0b000000" "000004d2"), "sender": bytes.fromhex("03" "00000002"),
    "rekey": b"\x04" + bytes([0xa5] * 16) + bytes.fromhex("2e202908" "00000000" "00000039")
        + bytes.fromhex("33000019") + bytes(8) + bytes(1) + bytes(16),
    "delete": bytes.fromhex("06" "f5040002" "0a0b0c0d" "00000000"),
    "chain": b"\x05" + bytes([52, 0]) + (4 + len(gsa)).to_bytes(2, "big") + gsa
        + bytes([0, 0]) + (4 + len(kd)).to_bytes(2, "big") + kd,
    # selector 7 (tests/fuzz/fuzz_gike2_sealed.h): flags, first payload, a plaintext chain
    # made by gike2_rekey_content_build / gike2_inband_content_build under the target's
    # fixed Rekey SA, so that its wrapped keys open: a rollover to a new Rekey SA with
    # SRTP SA 0x5002 and a Delete of 0x5000; a new key for 0x5000; the rollover signed;
    # an in-band rekey with AUTH_KEY; a Delete alone; the rollover with a given Pad Length.
    "sealed-rollover": bytes.fromhex(
        "070033340000a4061000585b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b0711001003500350c0000201c00002010711001003"
        "500350ef010101ef0101010300000c01000014800e0080030000080d000001000000080e0000010001000400000e10f5"
        "04004000005002071100100000ffff00000000ffffffff07110010138c138cef090909ef09090900000010f1000001c0"
        "000003c0020000000100040000012c00000008800300202a000090061000505b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b00"
        "01003800000000000000001fcb9b78a519609042ba36b369453a80183e19b55b7a960f69db6c767b16e0bf3a04e526ec"
        "2bef84a7376991f7b6dd85f504003c00005002000100300000000000000000c809a8ae0cf56a0d5fcfe0d527d8495300"
        "1957d0ae7589cf9f6565df8edfbb139888f699747aad0b0000000cf504000100005000"),
    "sealed-replace": bytes.fromhex(
        "0700333400004cf504004000005000071100100000ffff00000000ffffffff07110010138c138cef090909ef09090900"
        "000010f1000001c0000003c0020000000100040000012c000000088003002000000040f504003c000050000001003000"
        "0000000000000085110b6adc230cd344bf97e0d5377f2965f4d34efa0b9dedb63c3a4171509d03fe4d6ee40362e18d"),
    "sealed-signed": bytes.fromhex(
        "070133340000b4061000685b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b0711001003500350c0000201c00002010711001003"
        "500350ef010101ef0101010300000c01000014800e0080030000080d000001000000180e0000020012000c300a06082a"
        "8648ce3d0403020001000400000e10f504004000005002071100100000ffff00000000ffffffff07110010138c138cef"
        "090909ef09090900000010f1000001c0000003c0020000000100040000012c00000008800300202a000090061000505b"
        "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b0001003800000000000000001fcb9b78a519609042ba36b369453a80183e19b55b"
        "7a960f69db6c767b16e0bf3a04e526ec2bef84a7376991f7b6dd85f504003c00005002000100300000000000000000c8"
        "09a8ae0cf56a0d5fcfe0d527d84953001957d0ae7589cf9f6565df8edfbb139888f699747aad0b0000000cf504000100"
        "005000"),
    "sealed-inband": bytes.fromhex(
        "070033340000b4061000685b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b0711001003500350c0000201c00002010711001003"
        "500350ef010101ef0101010300000c01000014800e0080030000080d000001000000180e0000020012000c300a06082a"
        "8648ce3d0403020001000400000e10f504004000005002071100100000ffff00000000ffffffff07110010138c138cef"
        "090909ef09090900000010f1000001c0000003c0020000000100040000012c00000008800300202a0000f3061000505b"
        "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b0001003800000000000000001fcb9b78a519609042ba36b369453a80183e19b55b"
        "7a960f69db6c767b16e0bf3a04e526ec2bef84a7376991f7b6dd85000000630002005b3059301306072a8648ce3d0201"
        "06082a8648ce3d030107034200046f129ab515021eb3d07b96b3a289ddbf06305c51ae03fe3fce8379f3e48712fde0c2"
        "f2005b16c1818cde36d26f9e30d410167a143ba89d95bbd478e60af01617f504003c0000500200010030000000000000"
        "0000c809a8ae0cf56a0d5fcfe0d527d84953001957d0ae7589cf9f6565df8edfbb139888f699747aad0b0000000cf504"
        "000100005000"),
    "sealed-delete": bytes.fromhex("07002a" "00000010" "f5040002" "00005000" "0a0b0c0d"),
}
seeds["sealed-padded"] = b"\x07\x02" + seeds["sealed-rollover"][2:] + bytes(3) + b"\x03"
# a signature Rekey SA and the attacker's own AUTH (ecdsa-with-SHA256, a signature of junk)
auth = bytes.fromhex("0e000000" "0c" "300a06082a8648ce3d040302") + bytes(range(64))
seeds["sealed-auth-raw"] = b"\x07\x04\x27" + bytes([0, 0]) + (4 + len(auth)).to_bytes(2, "big") + auth
for name, body in seeds.items():
    open("%s/%s" % (d, name), "wb").write(body)
PY
	;;
fuzz_dump_ike2)
	# mode 1 / 2 (GSA_AUTH response / GSA_REKEY sealed by the target): GSA + KD
	# as docs/srtp-gikev2.md §7 shows them; mode 0: an IKE_SA_INIT-like datagram
	python3 - "$dir" <<'PY'
import os, struct, sys
d = sys.argv[1]
ts = lambda a, b, lo, hi: bytes([7, 17, 0, 16]) + struct.pack(">HH", lo, hi) + bytes(a) + bytes(b)
pol = bytes.fromhex("11223344") + ts([10, 0, 0, 1], [10, 0, 0, 1], 0, 65535) + \
    ts([239, 1, 2, 3], [239, 1, 2, 3], 5000, 5000) + bytes.fromhex("0000000cf1000001c0000001") + \
    bytes.fromhex("0001000400000e10")
gsa = bytes([0xf5, 4]) + struct.pack(">H", 4 + len(pol)) + pol + bytes.fromhex("00000010800100058002000a80030020")
bag = bytes.fromhex("11223344") + bytes.fromhex("00010030") + bytes(8) + bytes(range(40))
kd = bytes([0xf5, 4]) + struct.pack(">H", 4 + len(bag)) + bag + bytes.fromhex("0000000c0003000400000001")
chain = bytes([52, 0]) + struct.pack(">H", 4 + len(gsa)) + gsa + bytes([0, 0]) + struct.pack(">H", 4 + len(kd)) + kd
init = bytes(range(1, 9)) + bytes(8) + bytes([33, 0x20, 34, 8]) + bytes(4)
body = bytes.fromhex("0000002c0000002801010004030000080100000c800e0100030000080200000500000008040000130000000800000000")
init += struct.pack(">I", 28 + len(body)) + body
for name, data in (("auth", bytes([1, 51]) + chain), ("rekey", bytes([2, 51]) + chain),
                   ("init", bytes([0]) + init)):
    open(os.path.join(d, name), "wb").write(data)
PY
	;;
fuzz_wire|fuzz_*)
	python3 - "$top/tests/vectors" "$dir" <<'PY'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
for folder in sorted(os.listdir(src)):
    for name in ("gm-clear.pcap", "ks-clear.pcap"):
        path = os.path.join(src, folder, name)
        if not os.path.exists(path):
            continue
        data = open(path, "rb").read()
        endian = "<" if struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4 else ">"
        link = struct.unpack(endian + "I", data[20:24])[0]
        off, n = 24, 0
        while off + 16 <= len(data):
            caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
            pkt = data[off + 16:off + 16 + caplen]
            off += 16 + caplen
            ip = pkt[4:] if link == 0 else pkt[14:] if link == 1 else pkt
            if len(ip) < 28:
                continue
            ihl = (ip[0] & 15) * 4
            n += 1
            with open(os.path.join(dst, "%s-%s-%02d" % (folder, name[:2], n)), "wb") as f:
                f.write(ip[ihl + 8:])
PY
	;;
esac

# Inputs that once crashed a target stay in its corpus for good.
for f in "$top"/tests/fuzz/regressions/"$target"-*; do
	[ -f "$f" ] && cp "$f" "$dir/"
done
exit 0
