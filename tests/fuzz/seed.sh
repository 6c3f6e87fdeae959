#!/usr/bin/env bash
# tests/fuzz/seed.sh TARGET DIR: writes seed inputs for a fuzz target into DIR.
# fuzz_wire: every plaintext message of the reference vectors (one file per datagram).
set -eu
target=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
case "$target" in
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
