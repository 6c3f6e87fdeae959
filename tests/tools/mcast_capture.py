#!/usr/bin/env python3
"""mcast_capture.py GROUP PORT DIR: joins the IPv4 multicast GROUP on 127.0.0.1 (a test's
private network namespace, lib/netns.sh) and writes every datagram on PORT to DIR as
NNNNN.ike (IKEv2: version 0x20 at offset 17) or NNNNN.gdoi, numbered in arrival order,
until killed: what the key server multicast, for a test to replay or forge from."""
import os
import socket
import struct
import sys

g, p, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(d, exist_ok=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((g, p))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(g), socket.inet_aton("127.0.0.1")))
n = 0
while True:
    m = s.recv(65536)
    kind = "ike" if len(m) > 17 and m[17] == 0x20 else "gdoi"
    with open(os.path.join(d, "%05d.%s" % (n, kind)), "wb") as f:
        f.write(m)
    n += 1
