#!/usr/bin/env python3
"""ipc_probe.py - attacks on the NDJSON Unix-socket transport of docs/ipc.md,
run by tests/integration/ipc_transport.sh against the real daemons.

  ipc_probe.py CHECK SOCKET [ARGS]

Each check prints one line saying what it saw and exits 0 when the daemon
behaved as docs/ipc.md says, 1 when not. REQ is the request every check sends
(an op the daemon answers without side effects: "status").
"""
import json
import os
import signal
import socket
import sys
import threading
import time

REQ = {"op": "status"}
PAD = "x" * 200     # an unknown member (ignored): requests of a realistic size
TIMEOUT = 30.0


def connect(path, timeout=TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def line(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


class Reader:
    """Reads reply lines from s; lines() returns the decoded objects."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def one(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return json.loads(ln)

    def until_eof(self):
        out = []
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                break
            self.buf += d
        for ln in self.buf.split(b"\n"):
            if ln:
                out.append(json.loads(ln))
        self.buf = b""
        return out


def code(reply):
    return (reply.get("error") or {}).get("code")


def still_usable(s, r, rid=99):
    s.sendall(line(dict(REQ, id=rid)))
    rep = r.one()
    return rep.get("ok") is True and rep.get("id") == rid


def check_duplicate(path):
    s = connect(path)
    r = Reader(s)
    s.sendall(b'{"op":"status","op":"evict","member":"bob","id":1}\n')
    rep = r.one()
    ok = rep.get("ok") is False and code(rep) == "bad_json"
    usable = still_usable(s, r)
    print("duplicate keys: reply %s; connection usable: %s" % (json.dumps(rep), usable))
    return ok and usable


def check_nul(path):
    s = connect(path)
    r = Reader(s)
    s.sendall(b'{"op":"status","id":1}\x00{"op":"evict","member":"bob"}\n')
    rep = r.one()
    ok = rep.get("ok") is False and code(rep) == "bad_json"
    usable = still_usable(s, r)
    print("NUL in a line: reply %s; connection usable: %s" % (json.dumps(rep)[:200], usable))
    return ok and usable


def ids_in_order(replies, n):
    return [x.get("id") for x in replies] == list(range(n))


def check_pipeline(path, n):
    """n requests in one write (far more than 64 KiB), replies read meanwhile."""
    s = connect(path)
    data = b"".join(line(dict(REQ, id=i, pad=PAD)) for i in range(n))
    got = []
    err = []

    def reader():
        try:
            r = Reader(s)
            while len(got) < n:
                got.append(r.one())
        except Exception as e:  # noqa: BLE001 - reported below
            err.append(repr(e))

    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(data)
    except OSError as e:
        err.append("send: %r" % e)
    t.join(TIMEOUT * 2)
    print("pipelined %d requests (%d octets): %d replies%s" %
          (n, len(data), len(got), " (" + err[0] + ")" if err else ""))
    return len(got) == n and ids_in_order(got, n)


def check_halfclose(path, n):
    """n requests, then EOF from our side: every reply must still arrive. The
    replies are read from 0.5 s on (so some are queued in the daemon when our
    EOF reaches it), by a thread, as a daemon that stops reading us
    (backpressure) needs."""
    s = connect(path)
    got, err = [], []

    def reader():
        time.sleep(0.5)
        try:
            got.extend(Reader(s).until_eof())
        except Exception as e:  # noqa: BLE001 - reported below
            err.append(repr(e))

    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(b"".join(line(dict(REQ, id=i, pad=PAD)) for i in range(n)))
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        err.append("send: %r" % e)
    t.join(TIMEOUT * 2)
    print("%d requests then EOF: %d replies%s" % (n, len(got), " (" + err[0] + ")" if err else ""))
    return len(got) == n and ids_in_order(got, n)


def check_backlog(path, n, pid):
    """n connects while the daemon is stopped (none accepted yet): all must get in."""
    socks, refused = [], 0
    os.kill(pid, signal.SIGSTOP)
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(path)
                socks.append(s)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                refused += 1
                s.close()
    finally:
        os.kill(pid, signal.SIGCONT)
    answered = 0
    for i, s in enumerate(socks):
        s.settimeout(TIMEOUT)
        try:
            s.sendall(line(dict(REQ, id=i)))
            if Reader(s).one().get("id") == i:
                answered += 1
        except OSError:
            pass
        s.close()
    print("%d quick connects: %d refused, %d answered" % (n, refused, answered))
    return refused == 0 and answered == n


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return -1


def check_noread(path, pid, seconds, limit_kib):
    """Requests without reading replies for a while: the daemon's RSS must stay
    bounded, and once we read, every request sent is answered."""
    before = rss_kib(pid)
    s = connect(path)
    s.setblocking(False)
    req = b"".join(line(dict(REQ, id=i)) for i in range(64))
    sent = partial = 0
    stalled = None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            k = s.send(req[partial:])
            partial += k
            if partial == len(req):
                sent += 64
                partial = 0
            stalled = None
        except BlockingIOError:
            if stalled is None:
                stalled = time.monotonic()
            elif time.monotonic() - stalled > 3:
                break       # the daemon stopped reading us: backpressure
            time.sleep(0.01)
    after = rss_kib(pid)
    grew = after - before
    # finish the partial batch so every request is a whole line, then read all
    s.setblocking(True)
    s.settimeout(TIMEOUT)
    got = 0
    err = ""
    try:
        tail = req[partial:] if partial else b""
        t = threading.Thread(target=lambda: s.sendall(tail))
        t.start()
        total = sent + (64 if partial else 0)
        r = Reader(s)
        while got < total:
            r.one()
            got += 1
        t.join()
    except Exception as e:  # noqa: BLE001
        err = " (" + repr(e) + ")"
        total = sent + (64 if partial else 0)
    print("not reading: %d requests sent, RSS %d -> %d KiB (+%d, limit %d); then %d of %d answered%s"
          % (total, before, after, grew, limit_kib, got, total, err))
    return grew < limit_kib and got == total


def check_clients(path, pid, n, limit_kib):
    """n clients connected at once, each answered, then all gone: the daemon's RSS
    must not keep what a connection cost at its largest (a buffer for the longest
    line) for each of them."""
    before = rss_kib(pid)
    socks = [connect(path) for _ in range(n)]
    answered = 0
    for i, s in enumerate(socks):
        s.sendall(line(dict(REQ, id=i)))
    for i, s in enumerate(socks):
        if Reader(s).one().get("id") == i:
            answered += 1
    for s in socks:
        s.close()
    time.sleep(0.5)     # the daemon sees every EOF and frees the connections
    after = rss_kib(pid)
    grew = after - before
    print("%d clients at once: %d answered, RSS %d -> %d KiB (+%d, limit %d)"
          % (n, answered, before, after, grew, limit_kib))
    return answered == n and grew < limit_kib


def check_uid(path, uid, expect):
    """Connects as uid (a forked child) and sends REQ; expect "ok" or an error code."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            s = connect(path, 10)
            try:
                s.sendall(line(dict(REQ, id=7)))
            except OSError:
                pass    # a refusing daemon may have closed already: its reply is there
            try:
                rep = Reader(s).one()
                res = "ok" if rep.get("ok") is True else code(rep) or "?"
            except (EOFError, OSError) as e:
                res = "closed:" + type(e).__name__
        except OSError as e:
            res = "connect:" + (os.strerror(e.errno) if e.errno else repr(e))
        os.write(wr, res.encode())
        os._exit(0)
    os.close(wr)
    os.waitpid(pid, 0)
    res = os.read(rd, 200).decode()
    print("uid %d: %s (expected %s)" % (uid, res, expect))
    return res == expect


def main():
    check, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if len(sys.argv) > 3 and args and args[0].startswith("{"):
        global REQ
        REQ = json.loads(args.pop(0))
    fn = {
        "duplicate": lambda: check_duplicate(path),
        "nul": lambda: check_nul(path),
        "pipeline": lambda: check_pipeline(path, int(args[0])),
        "halfclose": lambda: check_halfclose(path, int(args[0])),
        "backlog": lambda: check_backlog(path, int(args[0]), int(args[1])),
        "noread": lambda: check_noread(path, int(args[0]), float(args[1]), int(args[2])),
        "clients": lambda: check_clients(path, int(args[0]), int(args[1]), int(args[2])),
        "uid": lambda: check_uid(path, int(args[0]), args[1]),
    }[check]
    try:
        return 0 if fn() else 1
    except Exception as e:  # noqa: BLE001 - a failed check, not a crash of the script
        print("%s: %r" % (check, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
