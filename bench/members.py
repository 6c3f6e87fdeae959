#!/usr/bin/env python3
"""bench/members.py N PSK: the [member] sections of N address-bound members
m0..m(N-1), ipv4:127.1.x.y from 127.1.0.1 (docs/keyserver.md: the scalable way
to select a PSK), in group bench. Shared by bench/run.sh, pg.sh and held.sh."""
import sys

n, psk = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    ip = "127.1.%d.%d" % ((i + 1) // 256, (i + 1) % 256)
    print("[member m%d]\nid = ipv4:%s\naddress = %s\npsk = %s\ngroups = bench\n" % (i, ip, ip, psk))
