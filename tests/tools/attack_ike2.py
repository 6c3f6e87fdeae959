#!/usr/bin/env python3
"""attack_ike2.py - crafted IKEv2 datagrams against the G-IKEv2 side of gdoi-ks, run by
tests/integration/attacks_ikev2.sh. Like attack.py (whose UDP helpers it uses), every
command prints one line of figures per check and exits 0 when the key server behaved
as documented, 1 when not.

  attack_ike2.py flood PORT SECONDS NSRC MAX_SA
      IKE_SA_INIT (group 19, a fresh SPIi each) as fast as we can from NSRC sources
      (127.0.0.2...; 1 = 127.0.0.1): at most MAX_SA answered with an SA (half-open
      SAs bounded), the rest with N(COOKIE); then one request that answers its
      cookie must be answered with an SA.
  attack_ike2.py ke PORT      invalid KE values of groups 19, 20, 14, 31: never an SA
                              answer, only N(INVALID_SYNTAX) / N(INVALID_KE_PAYLOAD) or
                              nothing
  attack_ike2.py nonce PORT   Ni of 15 and 257 octets refused, 16 and 256 answered
  attack_ike2.py junk PORT COUNT NSRC
                              IKEv2 headers then payload chains cut at varying offsets
  attack_ike2.py skf PORT COUNT
                              RFC 7383 Encrypted Fragments under a half-open SA:
                              Fragment Number 0, > Total, Total 65535, totals that
                              disagree, bogus ICVs: never answered
  attack_ike2.py member PORT COUNT
      to a G-IKEv2 sidecar's IKE port (PORT): GSA_INBAND_REKEY (42) and INFORMATIONAL
      (37) requests with an SK payload under unknown IKE SPIs, from the key server's
      address (another port) and from 127.0.0.77: never answered
"""
import os
import struct
import sys
import time

from attack import drain, main, udp

HDR = struct.Struct("!8s8sBBBBII")
EXCH_INIT, EXCH_GSA_AUTH = 34, 39
PL_SA, PL_KE, PL_NONCE, PL_NOTIFY, PL_SKF = 33, 34, 40, 41, 53
N_INVALID_SYNTAX, N_INVALID_KE, N_COOKIE = 7, 17, 16390
# group -> (ENCR, key bits, PRF, KE length)
GROUPS = {19: (20, 256, 5, 64), 20: (20, 256, 6, 96), 31: (20, 256, 5, 32), 14: (12, 128, 5, 256)}
P256_G = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                       "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
MODP2048_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
X25519_P = 2 ** 255 - 19


def pl(np, body, crit=0):
    return struct.pack("!BBH", np, crit, 4 + len(body)) + body


def chain(items):
    """[(type, body)] -> (first type, the payloads linked)."""
    out = b""
    for i, (_, body) in enumerate(items):
        nxt = items[i + 1][0] if i + 1 < len(items) else 0
        out += pl(nxt, body)
    return (items[0][0] if items else 0), out


def sa_body(encr, bits, prf, group):
    def tr(last, ttype, tid, attr=b""):
        return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attr), ttype, 0, tid) + attr
    trs = (tr(False, 1, encr, struct.pack("!HH", 0x800E, bits)) + tr(False, 2, prf)
           + (tr(False, 3, 12) if encr == 12 else b"") + tr(True, 4, group))
    n = 4 if encr == 12 else 3
    return struct.pack("!BBHBBBB", 0, 0, 8 + len(trs), 1, 1, 0, n) + trs


def init_msg(spi, group, ke, ni=None, cookie=None):
    encr, bits, prf, _ = GROUPS[group]
    items = []
    if cookie is not None:
        items.append((PL_NOTIFY, struct.pack("!BBH", 0, 0, N_COOKIE) + cookie))
    items += [(PL_SA, sa_body(encr, bits, prf, group)),
              (PL_KE, struct.pack("!HH", group, 0) + ke),
              (PL_NONCE, os.urandom(32) if ni is None else ni)]
    first, body = chain(items)
    return HDR.pack(spi, b"\0" * 8, first, 0x20, EXCH_INIT, 0x08, 0, HDR.size + len(body)) + body


def parse(d):
    """An answer -> (SPIr, {payload type: [bodies]}, [notify types])."""
    if len(d) < HDR.size:
        return None, {}, []
    _, spi_r, np, _, _, _, _, _ = HDR.unpack_from(d)
    off, pls, notes = HDR.size, {}, []
    while np and off + 4 <= len(d):
        nxt, _, ln = struct.unpack_from("!BBH", d, off)
        body = d[off + 4:off + ln]
        pls.setdefault(np, []).append(body)
        if np == PL_NOTIFY and len(body) >= 4:
            notes.append(struct.unpack_from("!H", body, 2)[0])
        np, off = nxt, off + max(ln, 4)
    return spi_r, pls, notes


def cookie_of(d):
    for body in parse(d)[1].get(PL_NOTIFY, []):
        if len(body) >= 4 and struct.unpack_from("!H", body, 2)[0] == N_COOKIE:
            return body[4:]
    return None


def valid_ke(group):
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from cryptography.hazmat.primitives import serialization as ser
    if group == 31:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes(ser.Encoding.Raw,
                                                                            ser.PublicFormat.Raw)
    curve = ec.SECP256R1() if group == 19 else ec.SECP384R1()
    pub = ec.generate_private_key(curve).public_key().public_bytes(
        ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)
    return pub[1:]


def ask(s, to, msg, wait=1.0):
    """Send, return the answers that came within wait seconds."""
    drain(s)
    s.sendto(msg, to)
    got, end = [], time.monotonic() + wait
    while time.monotonic() < end and not got:
        time.sleep(0.01)
        drain(s, got)
    return got


def init_ask(s, to, group, ke, ni=None, wait=1.0):
    """IKE_SA_INIT with a fresh SPIi, its cookie answered once if one is asked for."""
    spi = os.urandom(8)
    ni = os.urandom(32) if ni is None else ni
    got = ask(s, to, init_msg(spi, group, ke, ni), wait)
    ck = cookie_of(got[0]) if got else None
    if ck is not None:
        got = ask(s, to, init_msg(spi, group, ke, ni, ck), wait)
    return spi, got


def answered_sa(got):
    return bool(got) and PL_KE in parse(got[0])[1]


def cmd_flood(port, seconds, nsrc, max_sa):
    to = ("127.0.0.1", int(port))
    ke = valid_ke(19)
    nsrc = int(nsrc)
    socks = [udp("127.0.0.%d" % (2 + i) if nsrc > 1 else "127.0.0.1") for i in range(nsrc)]
    sent, answers = 0, []
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        for s in socks:
            try:
                s.sendto(init_msg(os.urandom(8), 19, ke), to)
                sent += 1
            except BlockingIOError:
                pass
            drain(s, answers)
    time.sleep(0.3)
    for s in socks:
        drain(s, answers)
    with_sa = sum(1 for a in answers if PL_KE in parse(a)[1])
    cookies = sum(1 for a in answers if cookie_of(a) is not None)
    # a peer that answers its cookie gets through
    s, spi, ni = socks[0], os.urandom(8), os.urandom(32)
    got = ask(s, to, init_msg(spi, 19, ke, ni))
    ck = cookie_of(got[0]) if got else None
    through = False
    if ck is not None:
        got = ask(s, to, init_msg(spi, 19, ke, ni, ck))
        through = bool(got) and PL_KE in parse(got[0])[1]
    print("flood: %d IKE_SA_INIT from %d source(s) in %s s: %d answered with an SA (bound %s), "
          "%d with N(COOKIE); the next one asked for a cookie %s, answered with its cookie: %s"
          % (sent, nsrc, seconds, with_sa, max_sa, cookies, ck is not None, through))
    return with_sa <= int(max_sa) and cookies > 0 and ck is not None and through


def refused(s, to, group, ke, what, ni=None):
    got = init_ask(s, to, group, ke, ni, 0.5)[1]
    sa = any(PL_KE in parse(a)[1] for a in got)
    notes = sorted({n for a in got for n in parse(a)[2]})
    ok = not sa and set(notes) <= {N_INVALID_SYNTAX, N_INVALID_KE}
    print("%s: %s%s" % (what, "SA ANSWERED" if sa else "no SA",
                        ", notify %s" % notes if notes else ", no answer"))
    return ok


def cmd_ke(port):
    to, s = ("127.0.0.1", int(port)), udp("127.0.0.1")
    p, xp = MODP2048_P, X25519_P
    le = lambda v: v.to_bytes(32, "little")
    cases = [
        (19, b"\x00" * 64, "P-256 point at infinity (all zero)"),
        (19, b"\x00" * 31 + b"\x01" + b"\x00" * 31 + b"\x01", "P-256 (1, 1) not on the curve"),
        (19, P256_G[:32] + bytes(32 - 1) + b"\x01", "P-256 G.x with a wrong y"),
        (19, P256_G[:63], "P-256 63 octets"), (19, P256_G + b"\x00", "P-256 65 octets"),
        (19, b"\x04" + P256_G, "P-256 with the 04 prefix (65)"),
        (19, b"\xff" * 64, "P-256 coordinates >= p"),
        (20, b"\x00" * 96, "P-384 point at infinity"),
        (20, b"\x00" * 47 + b"\x01" + b"\x00" * 47 + b"\x01", "P-384 (1, 1) not on the curve"),
        (20, b"\x01" * 95, "P-384 95 octets"),
        (14, (0).to_bytes(256, "big"), "MODP-2048 0"), (14, (1).to_bytes(256, "big"), "MODP-2048 1"),
        (14, (p - 1).to_bytes(256, "big"), "MODP-2048 p-1"), (14, p.to_bytes(256, "big"), "MODP-2048 p"),
        (14, (p + 1).to_bytes(256, "big"), "MODP-2048 p+1"), (14, b"\xff" * 256, "MODP-2048 2^2048-1"),
        (14, b"\x02" * 255, "MODP-2048 255 octets"),
        (31, le(0), "X25519 0"), (31, le(1), "X25519 1"),
        (31, bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
         "X25519 order 8"),
        (31, bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
         "X25519 order 8 (2)"),
        (31, le(xp - 1), "X25519 p-1"), (31, le(xp), "X25519 p"), (31, le(xp + 1), "X25519 p+1"),
        (31, b"\x09" * 31, "X25519 31 octets"), (31, b"\x09" * 33, "X25519 33 octets"),
    ]
    ok = True
    for group, ke, what in cases:
        ok &= refused(s, to, group, ke, "ke group %d %s" % (group, what))
    # the positive control: each group's valid value is answered
    for group in (19, 20, 31):
        good = answered_sa(init_ask(s, to, group, valid_ke(group))[1])
        print("ke group %d a valid value: %s" % (group, "answered with an SA" if good else "NOT ANSWERED"))
        ok &= good
    return ok


def cmd_nonce(port):
    to, s, ke = ("127.0.0.1", int(port)), udp("127.0.0.1"), valid_ke(19)
    ok = True
    for n in (0, 15, 257, 1000):
        ok &= refused(s, to, 19, ke, "Ni of %d octets" % n, os.urandom(n))
    for n in (16, 256):
        good = answered_sa(init_ask(s, to, 19, ke, os.urandom(n))[1])
        print("Ni of %d octets: %s" % (n, "answered with an SA" if good else "NOT ANSWERED"))
        ok &= good
    return ok


def junk_datagram(i):
    """An IKE_SA_INIT whose chain breaks after k Vendor IDs, so that the offset in the
    drop reason varies from one datagram to the next."""
    k = i % 61
    body = b"".join(pl(43, os.urandom(4)) for _ in range(k))
    kind = i % 4
    if kind == 0:
        bad = struct.pack("!BBH", 0, 0, 2)
    elif kind == 1:
        bad = struct.pack("!BBH", 0, 0, 4000)
    elif kind == 2:
        bad = struct.pack("!BBH", 0, 0x80, 4)   # after a payload of an unknown type
    else:
        bad = os.urandom(3)
    if k:
        body = body[:-8] + pl(200 + (i % 50) if kind == 2 else 43, body[-4:])
    d = body + bad
    return HDR.pack(os.urandom(8), b"\0" * 8, 43 if k else 200, 0x20, EXCH_INIT, 0x08, 0,
                    HDR.size + len(d)) + d


def cmd_junk(port, count, nsrc):
    to = ("127.0.0.1", int(port))
    socks = [udp("127.0.0.%d" % (2 + i)) for i in range(int(nsrc))]
    start, answers = time.monotonic(), []
    for i in range(int(count)):
        socks[i % len(socks)].sendto(junk_datagram(i), to)
        if i % 100 == 99:   # about 10,000 a second
            for s in socks[:1]:
                drain(s, answers)
            late = start + (i + 1) / 10000.0 - time.monotonic()
            if late > 0:
                time.sleep(late)
    print("junk: %d IKEv2 datagrams from %d sources in %.2f s"
          % (int(count), len(socks), time.monotonic() - start))
    return True


def cmd_skf(port, count):
    to, s, ke = ("127.0.0.1", int(port)), udp("127.0.0.1"), valid_ke(19)
    spi_i, got = init_ask(s, to, 19, ke)
    if not answered_sa(got):
        print("skf: IKE_SA_INIT not answered with an SA")
        return False
    spi_r = got[0][8:16]
    shapes = [(0, 3), (4, 3), (1, 65535), (65535, 65535), (1, 0), (2, 3), (3, 2)]
    answered = 0
    for i in range(int(count)):
        num, tot = shapes[i % len(shapes)] if i < 1000 else (1 + i % 65535, 65535)
        body = struct.pack("!HH", num, tot) + os.urandom(8) + os.urandom(1000) + os.urandom(16)
        d = pl(0 if num != 1 else 35, body)
        s.sendto(HDR.pack(spi_i, spi_r, PL_SKF, 0x20, EXCH_GSA_AUTH, 0x08, 1, HDR.size + len(d)) + d, to)
        if i % 200 == 199:
            answered += drain(s)
            time.sleep(0.01)
    time.sleep(0.3)
    answered += drain(s)
    print("skf: %d Encrypted Fragments under a half-open SA (numbers 0, > total, total 65535, "
          "disagreeing totals, bogus ICVs): %d answered" % (int(count), answered))
    return answered == 0


def cmd_member(port, count):
    to = ("127.0.0.1", int(port))
    socks = [udp("127.0.0.1"), udp("127.0.0.77")]
    answered = 0
    for i in range(int(count)):
        exch = 42 if i % 2 else 37
        d = pl(0, os.urandom(8) + os.urandom(64 + i % 200) + os.urandom(16))
        msg = HDR.pack(os.urandom(8), os.urandom(8), 46, 0x20, exch, 0x00, i % 4,
                       HDR.size + len(d)) + d
        socks[i % 2].sendto(msg, to)
        if i % 100 == 99:
            answered += sum(drain(s) for s in socks)
            time.sleep(0.005)
    time.sleep(0.3)
    answered += sum(drain(s) for s in socks)
    print("member: %d GSA_INBAND_REKEY / INFORMATIONAL under unknown IKE SPIs, from 127.0.0.1 "
          "and 127.0.0.77: %d answered" % (int(count), answered))
    return answered == 0


if __name__ == "__main__":
    sys.exit(main(globals()))
