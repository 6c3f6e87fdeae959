#!/usr/bin/env bash
# tests/fuzz/seed.sh TARGET DIR: writes seed inputs for a fuzz target into DIR.
# fuzz_wire: every plaintext message of the reference vectors (one file per datagram).
# fuzz_phase1: scripts in the target's own input format (see tests/fuzz/fuzz_phase1.c):
#   the clean exchange for each offer, then with Informational traffic, garbage, cookie-
#   carrying injections, mutations, replays, reflections and timers at every step, and
#   a few datagrams of the reference vectors injected with the live cookies.
set -eu
target=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
case "$target" in
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
