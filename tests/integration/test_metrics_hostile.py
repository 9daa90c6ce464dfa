#!/usr/bin/env python3
"""Hostile clients of /metrics never delay a tick nor grow the daemon.

hindsightd runs at a 1 s interval with its endpoint on 127.0.0.1 while,
after 20 clients asked for answers and reset the connection while they
were written, at once for about 20 s:
  - 100 slowloris connections send a request head a line a second;
  - 10,000 connections are opened and held;
  - 20 clients pipeline requests and never read an answer;
and then, at once:
  - a 1 GB request head and a request announcing a 1 GB body are sent;
  - 12 malformed requests and an unknown path are sent.
Then: every tick of the attack is stored on its boundary with a dur_ms
within 150 ms of the interval (the agent table), the daemon's RSS grew by
at most 16 MiB (128 MiB under AddressSanitizer), the log names each kind of trouble, the big requests were
answered 431 and 413 after a few KiB, each malformed one with a 4xx/5xx,
a scrape after the attack works, and SIGTERM ends the daemon with 0.
"""
import os
import resource
import socket
import sqlite3
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import DAEMON, Daemon, parse, scrape  # noqa: E402

ATTACK_S = 20
failures = []


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def status_of(s):
    """The status code of the answer on s, or None when it closed first."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/1.") else None


def slowloris(port, n=100):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        try:
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass
    end = time.time() + ATTACK_S - 2
    while time.time() < end:
        time.sleep(1)
        for s in socks:
            try:
                s.send(b"X-Slow: y\r\n")
            except OSError:
                pass
    closed = 0
    for s in socks:
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    # which connections get the 32 places first (these or the flood's) varies
    print(f"slowloris: {closed} of {n} connections closed by the daemon")


def flood(port, n=10000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n + 1000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks = []
    try:
        for _ in range(min(n, want - 500)):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
    except OSError as e:
        print(f"flood: stopped at {len(socks)} connections: {e}")
    print(f"flood: {len(socks)} connections opened")
    time.sleep(ATTACK_S - 5)
    for s in socks:
        s.close()


def big_request(port, head, what, expect):
    s = connect(port)
    s.sendall(head)
    sent = len(head)
    chunk = b"a" * 65536
    try:
        while sent < (1 << 30):
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    code = status_of(s)
    s.close()
    print(f"{what}: answered {code} after {sent >> 10} KiB were sent")
    if code != expect:
        fail(f"{what}: answered {code}, not {expect}")
    if sent > (64 << 20):
        fail(f"{what}: the daemon took {sent >> 20} MiB before refusing")


MALFORMED = [
    b"\x00\x01\x02garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nX: y\r\n folded\r\n\r\n",
    b"GET /" + b"a" * 400 + b" HTTP/1.1\r\n\r\n",
    b"DELETE /metrics HTTP/1.1\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET metrics HTTP/1.1\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nX: \x7f\x01\r\n\r\n",
]


def malformed(port):
    for raw in MALFORMED:
        s = connect(port)
        s.sendall(raw)
        code = status_of(s)
        s.close()
        if code is None or code < 400:
            fail(f"malformed request {raw[:40]!r}: answered {code}")
    s = connect(port)
    s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    code = status_of(s)
    s.close()
    if code != 404:
        fail(f"unknown path: answered {code}")
    print(f"malformed: {len(MALFORMED)} requests refused, /nope answered {code}")


def never_reads(port, n=20):
    socks = []
    for _ in range(n):
        try:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.setblocking(False)
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
            socks.append(s)
        except OSError:
            pass
    time.sleep(ATTACK_S - 5)
    for s in socks:
        s.close()
    print(f"never reads: {len(socks)} clients")


def reset_while_answering(port, n=20):
    """Clients that ask for many answers, read none and reset the connection
    while the daemon writes: its next write fails with EPIPE (a SIGPIPE
    killed the daemon before it ignored the signal)."""
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
        time.sleep(0.2)  # the daemon is blocked writing to a full window
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    print(f"reset while answering: {n} clients")


def ticks_during(db, since, until):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    rows = con.execute("SELECT ts, dur_ms FROM agent WHERE ts > ? AND ts <= ? ORDER BY ts",
                       (since, until)).fetchall()
    con.close()
    return rows


def main():
    if not os.access(DAEMON, os.X_OK):
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(tmp)
        try:
            d.wait_ticks(3)
            scrape(d.url)
            rss0 = max(d.rss_kb() for _ in range(3))
            t0 = time.time()
            port = d.port
            # first the endpoint is held full (clients wait in the kernel's
            # queue meanwhile), then bad requests are sent one by one
            rss_max = rss0
            for phase in (((reset_while_answering, (port,)),),
                          ((slowloris, (port,)), (flood, (port,)), (never_reads, (port,))),
                          ((malformed, (port,)),
                           (big_request, (port, b"GET /metrics HTTP/1.1\r\nX-Big: ", "1 GB head",
                                          431)),
                           (big_request, (port, b"POST /metrics HTTP/1.1\r\n"
                                          b"Content-Length: 1073741824\r\n\r\n", "1 GB body", 413)))):
                attacks = [threading.Thread(target=f, args=a, daemon=True) for f, a in phase]
                for a in attacks:
                    a.start()
                while any(a.is_alive() for a in attacks):
                    rss_max = max(rss_max, d.rss_kb())
                    time.sleep(0.25)
            t1 = time.time()
            n = d.ticks()
            d.wait_ticks(n + 2)
            _, text = scrape(d.url, timeout=60)
            samples, _ = parse(text)
            timeouts = samples.get(("hindsight_http_timeouts_total", ()), 0)
            print(f"after the attack: a scrape works; {timeouts:.0f} connections timed out")
            if timeouts < 1:
                fail("no connection was closed for taking too long")
            grew = (rss_max - rss0) / 1024
            print(f"RSS {rss0 / 1024:.1f} MiB before, at most {rss_max / 1024:.1f} MiB during "
                  f"({grew:+.1f} MiB)")
            # AddressSanitizer keeps freed memory in quarantine (256 MiB)
            bound = 128 if os.environ.get("SANITIZED") in ("1", "ON", "TRUE") else 16
            if grew > bound:
                fail(f"RSS grew by {grew:.1f} MiB (at most {bound} MiB)")
            rows = ticks_during(d.db, int(t0), int(t1))
            gaps = [b[0] for a, b in zip(rows, rows[1:]) if b[0] != a[0] + 1]
            worst = max(abs(dur - 1000) for _, dur in rows)
            print(f"{len(rows)} ticks during {t1 - t0:.0f} s of attack; worst |dur_ms - 1000| = "
                  f"{worst} ms; missing boundaries: {gaps}")
            if gaps or worst > 150 or len(rows) < (t1 - t0) - 2:
                fail("the attack delayed ticks")
        finally:
            code = d.stop()
        log = d.text()
        # one line per kind of trouble a minute (the rest are counted)
        for needles in (("no complete request in 10s",), ("refused a malformed request",),
                        ("not found (404",), ("connections open, the most served at once",),
                        ("other than GET or HEAD",),
                        ("over 8192 bytes (431", "target over 255 bytes (414",
                         "with a body from")):
            if not any(n in log for n in needles):
                fail(f"the log lacks '{needles[0]}'")
        print("log lines:\n" + "".join(l for l in log.splitlines(True) if "metrics:" in l))
        if code != 0:
            fail(f"hindsightd exited {code}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
