#!/usr/bin/env python3
"""attack.py - crafted datagrams and IPC abuse against the real daemons, run by
tests/integration/attacks.sh. Every command prints one line of figures and exits
0 when the daemon behaved as documented, 1 when not.

  attack.py relay LISTEN_PORT KS_PORT CONTROL_PORT DIR
      a UDP relay the sidecar uses as its key server: what it sends goes to
      gdoi-ks, what gdoi-ks answers goes back; every datagram is recorded in
      DIR (c2s-N, s2c-N). A datagram sent to CONTROL_PORT is passed to the
      sidecar from the relay's socket: it comes from the key server's address.
  attack.py mm1 PORT MM1_FILE SECONDS NSRC MAX_REPLIES
  attack.py junk PORT COUNT NSRC
  attack.py phase1 PORT MM1_FILE        garbled MM3/MM5, PULL with an unknown
                                        Message ID, a 65507-octet datagram
  attack.py inject CONTROL_PORT FILE|unknown-kek COUNT SECONDS
  attack.py resign DB PUSH OUT           PUSH (a real one) with a higher SEQ, re-signed
                                        with a P-256 key of our own, under the group's
                                        KEK read from the key server's state DB
  attack.py leases SOCK GROUP N MAX     N leases on one connection
  attack.py burn SOCK GROUP             lease, close, lease again
  attack.py subscribers SOCK GROUP N    N connections, each subscribing
  attack.py longline SOCK               a 1 MiB line, then a request
"""
import json
import os
import select
import socket
import struct
import sys
import threading
import time

EXCH_MAIN, EXCH_PULL, EXCH_PUSH = 2, 32, 33
HDR = struct.Struct("!8s8sBBBBII")


def header(icookie, rcookie, np, exch, flags, msgid, length):
    return HDR.pack(icookie, rcookie, np, 0x10, exch, flags, msgid, length)


def fresh_mm1(template):
    """The captured Main Mode message 1 with a new initiator cookie."""
    return os.urandom(8) + template[8:]


def udp(src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((src, 0))
    s.setblocking(False)
    return s


def drain(s, into=None):
    n = 0
    while True:
        try:
            d = s.recv(70000)
        except (BlockingIOError, ConnectionRefusedError):
            return n
        n += 1
        if into is not None:
            into.append(d)


def cmd_relay(listen_port, ks_port, control_port, rec):
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", int(listen_port)))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind(("127.0.0.1", 0))
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl.bind(("127.0.0.1", int(control_port)))
    ks = ("127.0.0.1", int(ks_port))
    member = None
    n = 0
    while True:
        for s in select.select([front, back, ctl], [], [])[0]:
            d, peer = s.recvfrom(70000)
            if s is front:
                member = peer
                back.sendto(d, ks)
                name = "c2s"
            elif s is back and member:
                front.sendto(d, member)
                name = "s2c"
            elif s is ctl and member:
                front.sendto(d, member)
                continue
            else:
                continue
            n += 1
            with open(os.path.join(rec, "%s-%05d" % (name, n)), "wb") as f:
                f.write(d)


def cmd_mm1(port, mm1_file, seconds, nsrc, max_replies):
    """MM1 as fast as we can for SECONDS from NSRC addresses (127.0.0.2...): at most
    MAX_REPLIES answers per source (burst + rate * t, computed by the caller)."""
    template = open(mm1_file, "rb").read()
    to = ("127.0.0.1", int(port))
    socks = [udp("127.0.0.%d" % (2 + i) if int(nsrc) > 1 else "127.0.0.1")
             for i in range(int(nsrc))]
    replies = [0] * len(socks)
    sent = 0
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            try:
                s.sendto(fresh_mm1(template), to)
                sent += 1
            except BlockingIOError:
                pass
            replies[i] += drain(s)
    time.sleep(0.3)
    for i, s in enumerate(socks):
        replies[i] += drain(s)
    worst = max(replies)
    print("mm1: %d sent from %d source(s) in %s s, %d answered, at most %d per source (bound %s)"
          % (sent, len(socks), seconds, sum(replies), worst, max_replies))
    return worst <= int(max_replies) and sum(replies) > 0


def junk_datagram(i):
    """Junk whose drop reason differs from one datagram to the next: a chain of
    k Vendor ID payloads then one cut short, so the offset in the reason varies."""
    k = i % 61
    body = b"".join(struct.pack("!BBH", 13, 0, 8) + os.urandom(4) for _ in range(k))
    kind = i % 4
    if kind == 0:
        bad = struct.pack("!BBH", 0, 0, 2)            # a length below the generic header
    elif kind == 1:
        bad = struct.pack("!BBH", 0, 0, 4000)          # a length past the datagram
    elif kind == 2:
        bad = struct.pack("!BBH", 0, 0x80 | (i & 0x7f), 4)  # reserved bits set
    else:
        bad = os.urandom(3)                            # the datagram ends in a header
    if k:
        body = body[:-8] + struct.pack("!BBH", 1 + (i % 12), 0, 8) + body[-4:]
    d = body + bad
    return header(os.urandom(8), b"\0" * 8, 13 if k else 1 + (i % 12), EXCH_MAIN, 0, 0,
                  HDR.size + len(d)) + d


def cmd_junk(port, count, nsrc):
    to = ("127.0.0.1", int(port))
    socks = [udp("127.0.0.%d" % (2 + i)) for i in range(int(nsrc))]
    start = time.monotonic()
    for i in range(int(count)):
        socks[i % len(socks)].sendto(junk_datagram(i), to)
        if i % 100 == 99:   # about 10,000 a second
            late = start + (i + 1) / 10000.0 - time.monotonic()
            if late > 0:
                time.sleep(late)
    print("junk: %d datagrams from %d sources in %.2f s"
          % (int(count), len(socks), time.monotonic() - start))
    return True


def handshake(s, to, template):
    """MM1, wait for MM2: the cookies of a half-open Phase 1 SA."""
    mm1 = fresh_mm1(template)
    s.setblocking(True)
    s.settimeout(3)
    s.sendto(mm1, to)
    d = s.recv(70000)
    if len(d) < HDR.size or d[:8] != mm1[:8] or d[8:16] == b"\0" * 8:
        raise RuntimeError("no Main Mode message 2")
    return mm1[:8], d[8:16]


def cmd_phase1(port, mm1_file):
    template = open(mm1_file, "rb").read()
    to = ("127.0.0.1", int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    sent = 0
    for case in range(6):
        ic, rc = handshake(s, to, template)
        if case == 0:    # MM3: KE payload cut short
            d = struct.pack("!BBH", 10, 0, 68) + os.urandom(20)
            d = header(ic, rc, 4, EXCH_MAIN, 0, 0, HDR.size + len(d)) + d
        elif case == 1:  # MM3: KE and Nonce of plausible lengths, garbage inside
            d = struct.pack("!BBH", 10, 0, 68) + os.urandom(64) + struct.pack("!BBH", 0, 0, 36) \
                + os.urandom(32)
            d = header(ic, rc, 4, EXCH_MAIN, 0, 0, HDR.size + len(d)) + d
        elif case == 2:  # MM5: encrypted, not a whole number of blocks
            d = os.urandom(37)
            d = header(ic, rc, 5, EXCH_MAIN, 1, 0, HDR.size + len(d)) + d
        elif case == 3:  # MM5: encrypted garbage of whole blocks
            d = os.urandom(96)
            d = header(ic, rc, 5, EXCH_MAIN, 1, 0, HDR.size + len(d)) + d
        elif case == 4:  # GROUPKEY-PULL with a Message ID no exchange has
            d = os.urandom(80)
            d = header(ic, rc, 8, EXCH_PULL, 1, struct.unpack("!I", os.urandom(4))[0] | 1,
                       HDR.size + len(d)) + d
        else:            # the largest UDP datagram over IPv4, under the valid cookies
            d = os.urandom(65507 - HDR.size)
            d = header(ic, rc, 5, EXCH_MAIN, 1, 0, 65507) + d
        for _ in range(3):
            s.sendto(d, to)
            sent += 1
    print("phase1: %d garbled MM3/MM5, unknown-Message-ID PULL and 65507-octet datagrams sent" % sent)
    return True


def cmd_inject(control_port, what, count, seconds):
    """Datagrams to the sidecar from the key server's address (through the relay)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", int(control_port))
    fixed = None if what == "unknown-kek" else open(what, "rb").read()
    n = int(count)
    for i in range(n):
        if fixed is None:   # a push under a KEK SPI (the cookie pair) no group holds
            body = os.urandom(96)
            d = header(os.urandom(8), os.urandom(8), 15, EXCH_PUSH, 1, 0, HDR.size + len(body)) + body
        else:
            d = fixed
        s.sendto(d, to)
        time.sleep(float(seconds) / n)
    print("inject: %d datagram(s) of %s" % (n, what))
    return True


def cmd_resign(db, push_file, out_file):
    """Decrypts a real push with the KEK (AES-CBC, the KEK's own IV, zero padding:
    gdoi-wire.md section 7), raises its SEQ, signs it as the key server would but with
    another key, encrypts it again: only the signature can get it refused."""
    import sqlite3
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    push = open(push_file, "rb").read()
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute("SELECT kek_spi, kek_iv, kek_key FROM groups WHERE has_kek").fetchall()
    row = [r for r in rows if bytes(r[0]) == push[:16]]
    if not row:
        print("resign: no KEK of the state matches the push's cookies")
        return False
    iv, key = bytes(row[0][1]), bytes(row[0][2])
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = bytearray(push[:HDR.size] + dec.update(push[HDR.size:]) + dec.finalize())
    np, off, sig_off, seq = plain[16], HDR.size, None, None
    while np and off + 4 <= len(plain):
        nxt, plen = plain[off], struct.unpack("!H", plain[off + 2:off + 4])[0]
        if np == 18:     # SEQ: 4 octets after the generic header
            seq = struct.unpack("!I", plain[off + 4:off + 8])[0]
            plain[off + 4:off + 8] = struct.pack("!I", seq + 100)
        if np == 9:      # SIG
            sig_off, sig_len = off, plen - 4
        np, off = nxt, off + plen
    if seq is None or sig_off is None or sig_len != 64:
        print("resign: no SEQ or no P-256 SIG payload in the push")
        return False
    other = ec.generate_private_key(ec.SECP256R1())
    der = other.sign(b"rekey" + bytes(plain[:sig_off]), ec.ECDSA(hashes.SHA256()))
    r, s_ = decode_dss_signature(der)
    plain[sig_off + 4:sig_off + 4 + 64] = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    out = bytes(plain[:HDR.size]) + enc.update(bytes(plain[HDR.size:])) + enc.finalize()
    open(out_file, "wb").write(out)
    print("resign: SEQ %d -> %d, %d octets, signed by a key of our own" % (seq, seq + 100, len(out)))
    return True


def ipc(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(20)
    c.connect(path)
    return c, c.makefile("rb")


def req(c, f, obj):
    c.sendall(json.dumps(obj).encode() + b"\n")
    return json.loads(f.readline())


def lease_codes(replies):
    return [r["ssrc"] if r.get("ok") else r["error"]["code"] for r in replies]


def cmd_leases(path, group, n, most):
    c, f = ipc(path)
    n = int(n)
    burst = b"".join(json.dumps({"op": "lease", "group": group, "id": i}).encode() + b"\n"
                     for i in range(n))
    # written while the replies are read: the server stops reading past 256 KiB unsent
    t = threading.Thread(target=c.sendall, args=(burst,))
    t.start()
    replies = [json.loads(f.readline()) for _ in range(n)]
    t.join()
    ids_ok = [r.get("id") for r in replies] == list(range(n))
    got = [r["ssrc"] for r in replies if r.get("ok")]
    other = set(r["error"]["code"] for r in replies if not r.get("ok"))
    st = req(c, f, {"op": "status", "id": "after"})
    print("leases: %d requests on one connection: %d leased (%d distinct), errors %s; "
          "replies in order: %s; status after: %s" % (n, len(got), len(set(got)), sorted(other),
                                                      ids_ok, st.get("ok")))
    return (ids_ok and 0 < len(got) <= int(most) and len(set(got)) == len(got)
            and other <= {"no_ssrc"} and st.get("ok") is True)


def cmd_burn(path, group):
    seen = []
    for _ in range(4):
        c, f = ipc(path)
        r = req(c, f, {"op": "lease", "group": group})
        tries = 0
        while not r.get("ok") and tries < 50:   # no_ssrc: the sidecar registers for fresh ones
            time.sleep(0.1)
            r = req(c, f, {"op": "lease", "group": group})
            tries += 1
        c.close()
        if not r.get("ok"):
            print("burn: no lease after %d tries: %s" % (tries, r))
            return False
        seen.append(r["ssrc"])
        time.sleep(0.2)
    print("burn: leases on successive connections: %s" % seen)
    return len(set(seen)) == len(seen)


def cmd_subscribers(path, group, n):
    conns, refused = [], 0
    for _ in range(int(n)):
        try:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(5)
            c.connect(path)
            c.sendall(json.dumps({"op": "subscribe", "group": group}).encode() + b"\n")
            conns.append(c)
        except OSError:
            refused += 1
    answered = closed = 0
    for c in conns:
        try:
            d = c.recv(65536)
            if d:
                answered += 1
            else:
                closed += 1
        except OSError:
            closed += 1
    for c in conns:
        c.close()
    time.sleep(0.3)
    c, f = ipc(path)
    st = req(c, f, {"op": "status"})
    print("subscribers: %d connections: %d answered, %d closed by the server, %d refused; "
          "a fresh client after: %s" % (int(n), answered, closed, refused, st.get("ok")))
    return answered > 0 and answered <= 256 and st.get("ok") is True


def cmd_longline(path):
    c, f = ipc(path)
    c.sendall(b'{"op":"status","pad":"' + b"x" * (1 << 20) + b'"}\n')
    r1 = json.loads(f.readline())
    r2 = req(c, f, {"op": "status", "id": 2})
    code = r1.get("error", {}).get("code")
    print("longline: a 1 MiB line answered %s; the next request on the connection: ok %s"
          % (code, r2.get("ok")))
    return code == "too_long" and r2.get("ok") is True and r2.get("id") == 2


def main(commands=None):
    """Runs cmd_ARGV1 of commands (default this module's): exit status 0 when it held."""
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = (commands or globals())["cmd_" + cmd]
    try:
        return 0 if fn(*args) else 1
    except Exception as e:  # noqa: BLE001 - a failed check, not a crash of the script
        print("%s: %r" % (cmd, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
