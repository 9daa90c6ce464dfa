#!/usr/bin/env python3
"""Remote write to Debian's Prometheus, across an outage, and to hostile receivers.

1. Prometheus 2.42 (--web.enable-remote-write-receiver, out_of_order_time_window
   1h) on 127.0.0.1 receives hindsightd's pushes at a 1 s interval. The test
   stops Prometheus for 30 s and starts it again on the same data directory.
   Through its HTTP API afterwards:
   - hindsight_ticks_total has one sample at every stored tick from the first
     sent to the last acknowledged, across the outage (no gap), counting 1 a tick;
   - hindsight_resident_memory_bytes equals agent.rss_kb * 1024 at every tick
     and node_cpu_seconds_total{cpu="0",mode="user"} grows at every tick by
     what `hindsight sql` stores for it (cpu.user_ms / 1000);
   - every tick kept its interval during the outage (dur_ms within 250 ms of
     1000), the daemon logged the outage once and the recovery once.
2. Meanwhile two more daemons push to a receiver that accepts and never
   answers, and to one that answers garbage (and a 400 every third request):
   a clear log line each, no crash, ticks on time, the 400s skipped and
   counted in agent.rw_dropped_count.
Skipped (77) without the prometheus binary.
"""
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import DAEMON, QUERY, Daemon, free_port, hindsight_sql, wait_for  # noqa: E402

PROMETHEUS = shutil.which("prometheus")
OUTAGE_S = 30


class Prometheus:
    def __init__(self, tmp, port):
        self.cfg = os.path.join(tmp, "prometheus.yml")
        with open(self.cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\n"
                    "storage:\n  tsdb:\n    out_of_order_time_window: 1h\n")
        self.data = os.path.join(tmp, "data")
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.cfg}", f"--storage.tsdb.path={self.data}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def ready():
            if self.proc.poll() is not None:
                sys.exit("prometheus exited: " + self.proc.stderr.read())
            try:
                return urllib.request.urlopen(f"{self.base}/-/ready", timeout=2).status == 200
            except OSError:
                return False
        wait_for(ready, 60, "prometheus")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def samples(self, selector, seconds):
        """[(ts seconds, value)] of one series, the raw samples of the last
        `seconds`."""
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode(
            {"query": f"{selector}[{seconds}s]", "time": time.time()})
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
        result = body["data"]["result"]
        if len(result) != 1:
            sys.exit(f"{selector}: expected one series, got {len(result)}: {body}")
        return [(round(float(t)), float(v)) for t, v in result[0]["values"]]


def hanging_receiver(stop):
    """Accepts connections, reads what comes, never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    held = []

    def run():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                c.setblocking(False)
                held.append(c)
            except socket.timeout:
                pass
            for c in held:
                try:
                    c.recv(1 << 16)
                except OSError:
                    pass
        for c in held:
            c.close()
        srv.close()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]


def garbage_receiver(stop):
    """Answers each request with bytes that are not HTTP, and every third
    with a 400 (a batch refused for good)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    count = [0]

    def serve(c):
        c.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                chunk = c.recv(65536)
                if not chunk:
                    return
                body += chunk
            count[0] += 1
            if count[0] % 3 == 0:
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 21\r\n"
                          b"Connection: close\r\n\r\nbad samples, go away\n")
            else:
                c.sendall(b"\x00\xffSSH-2.0-garbage \x1b[31m" + os.urandom(64) + b"\r\n\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def run():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            except socket.timeout:
                pass
        srv.close()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1], count


def caught_up(d, url, what, timeout=30):
    """Waits until the receiver acknowledged the tick before the newest; on
    a timeout, shows the daemon's log."""
    try:
        wait_for(lambda: (acked_ts(d.db, url) or 0) >= agent_rows(d.db)[-1][0] - 1, timeout,
                 what)
    except SystemExit as e:
        sys.exit(f"{e}; acknowledged {acked_ts(d.db, url)}, newest tick "
                 f"{agent_rows(d.db)[-1][0]}; the daemon's log:\n{d.text()[-3000:]}")


def rw_config(url, extra=""):
    return (f"remote_write:\n  url: {url}\n  timeout: 2s\n  max_backoff: 2s\n"
            f"  labels: {{instance: rwtest}}\n{extra}")


def agent_rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    rows = con.execute("SELECT ts, dur_ms, rss_kb, rw_samples_count, rw_sent_bytes, "
                       "rw_retries_count, rw_dropped_count, rw_lag_s FROM agent ORDER BY ts"
                       ).fetchall()
    con.close()
    return rows


def acked_ts(db, url):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    row = con.execute("SELECT acked_ts FROM remote_write_state WHERE url = ?", (url,)).fetchone()
    con.close()
    return row[0] if row else None


def ticks_on_time(rows, what, skip=1):
    """Every tick after the first skip on its boundary, dur_ms within 250 ms."""
    rows = rows[skip - 1:]
    late = [(ts, dur) for ts, dur, *_ in rows[1:] if abs(dur - 1000) > 250]
    gaps = [(a[0], b[0]) for a, b in zip(rows, rows[1:]) if b[0] - a[0] != 1]
    print(f"{what}: {len(rows)} ticks, dur_ms {min(r[1] for r in rows[1:])}.."
          f"{max(r[1] for r in rows[1:])}, off by > 250 ms: {late}, gaps: {gaps}")
    return not late and not gaps


def check_hostile(d, what, want_in_log, tmp):
    ok = True
    if d.proc.poll() is not None:
        print(f"{what}: hindsightd exited with {d.proc.returncode}")
        return False
    rows = agent_rows(d.db)
    # (after 5 ticks: three daemons loading eBPF at once on 2 cores can
    # make one of the first ticks late, remote write or not)
    ok &= ticks_on_time(rows, what, skip=5)
    t0 = time.time()
    code = d.stop()
    took = time.time() - t0
    log = d.text()
    lines = [line.rstrip() for line in log.splitlines() if "remote_write" in line]
    print(f"{what}: exit {code} {took:.2f} s after SIGTERM; remote_write log lines:\n    " + "\n    ".join(lines[:6]))
    ok &= code == 0 and took < 8  # a request in flight has 5 s, then is abandoned
    for want in want_in_log:
        if want not in log:
            print(f"{what}: the log lacks {want!r}")
            ok = False
    return ok, rows


def main():
    if not PROMETHEUS:
        print("prometheus is not installed (Debian package prometheus)")
        return 77
    if not os.access(DAEMON, os.X_OK) or not os.access(QUERY, os.X_OK):
        print(f"no {DAEMON} or {QUERY}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        prom = Prometheus(tmp, free_port())
        url = f"{prom.base}/api/v1/write"
        stop = threading.Event()
        d = hang = junk = None
        ok = True
        try:
            prom.start()
            for sub in ("a", "h", "g"):
                os.mkdir(os.path.join(tmp, sub))
            d = Daemon(os.path.join(tmp, "a"), rw_config(url))
            d.wait_ticks(8)
            caught_up(d, url, "the first pushes")
            prom.stop()
            down_at = agent_rows(d.db)[-1][0]
            print(f"prometheus stopped after tick {down_at}; acknowledged up to "
                  f"{acked_ts(d.db, url)}")

            # the hostile receivers, while Prometheus is down
            hport = hanging_receiver(stop)
            gport, gcount = garbage_receiver(stop)
            hang = Daemon(os.path.join(tmp, "h"),
                          rw_config(f"http://127.0.0.1:{hport}/api/v1/write"))
            junk = Daemon(os.path.join(tmp, "g"),
                          rw_config(f"http://127.0.0.1:{gport}/api/v1/write", "  batch_ticks: 1\n"))
            time.sleep(OUTAGE_S - 6)
            h_ok, _ = check_hostile(hang, "hanging receiver", ["timed out", "retrying"], tmp)
            g_ok, g_rows = check_hostile(junk, "garbage receiver",
                                         ["retrying", "refused", "for good"], tmp)
            dropped = sum(r[6] for r in g_rows)
            print(f"garbage receiver: {gcount[0]} requests; {dropped} samples dropped on 400s")
            ok &= h_ok and g_ok and dropped > 0
            wait_for(lambda: agent_rows(d.db)[-1][0] >= down_at + OUTAGE_S, 30, "the outage")

            prom.start()
            up_at = agent_rows(d.db)[-1][0]
            t0 = time.time()
            caught_up(d, url, "the catch-up", 60)
            print(f"prometheus back at tick {up_at}; {up_at - down_at} ticks caught up in "
                  f"{time.time() - t0:.1f} s (retries back off at most 2 s)")
            d.wait_ticks(len(agent_rows(d.db)) + 3)

            # a restart resumes after the recorded tick; counters start again
            # (a counter reset for Prometheus)
            first_log = d.text()
            ok &= d.stop() == 0
            stopped_at = acked_ts(d.db, url)
            d = Daemon(os.path.join(tmp, "a"), rw_config(url))
            d.wait_ticks(len(agent_rows(d.db)) + 4)
            caught_up(d, url, "the pushes after the restart")
            resumed = [x for x in d.text().splitlines() if "sending to" in x]
            print(f"restarted: acknowledged up to {stopped_at} at the stop; " + resumed[0][20:])
            ok &= f"from the tick after {stopped_at}" in resumed[0]
            last = acked_ts(d.db, url)
            rows = [r for r in agent_rows(d.db) if r[0] <= last]
            # (from the 5th tick: the first ones of a start, under the
            # sanitizers especially, can run late with or without remote write)
            ok &= ticks_on_time([r for r in rows if r[0] <= stopped_at],
                                "daemon during the outage", skip=5)

            # Prometheus' view: every tick, counting one each
            window = int(time.time()) - rows[0][0] + 5
            # (the iterator also yields a moment some other table has a row
            # at, such as the inventory a start writes: only ticks are checked)
            want = [r[0] for r in rows]
            ticks = [x for x in prom.samples('hindsight_ticks_total{instance="rwtest"}', window)
                     if x[0] in set(want)]
            have = [t for t, _ in ticks]
            missing = sorted(set(want) - set(have))
            steps = {round(b[1] - a[1] if b[1] >= a[1] else b[1], 6)
                     for a, b in zip(ticks, ticks[1:])}
            print(f"hindsight_ticks_total: {len(ticks)} samples for {len(want)} ticks "
                  f"{want[0]}..{want[-1]}; missing {missing}; steps {steps}")
            ok &= not missing and steps == {1.0}

            rss = dict(prom.samples('hindsight_resident_memory_bytes{instance="rwtest"}', window))
            wrong = [(ts, rss.get(ts), kb * 1024) for ts, _, kb, *_ in rows
                     if rss.get(ts) != kb * 1024]
            print(f"hindsight_resident_memory_bytes: {len(rss)} samples, different from "
                  f"agent.rss_kb * 1024 at {wrong[:5]}")
            ok &= not wrong

            cpu = prom.samples('node_cpu_seconds_total{instance="rwtest",cpu="0",mode="user"}',
                               window)
            stored = {int(ts): float(v) for ts, v in hindsight_sql(
                d.db, "SELECT ts, user_ms / 1000.0 FROM cpu WHERE cpu_id = 0 AND ts > :a "
                "AND ts <= :b", a=cpu[0][0], b=cpu[-1][0])}
            # Prometheus' increase: a value below the one before is a reset
            grew = {b[0]: b[1] - a[1] if b[1] >= a[1] else b[1] for a, b in zip(cpu, cpu[1:])}
            off = [(ts, g, stored.get(ts)) for ts, g in grew.items()
                   if abs(g - stored.get(ts, 0.0)) > 1e-9]
            print(f"node_cpu_seconds_total{{cpu=\"0\",mode=\"user\"}}: {len(cpu)} samples; "
                  f"growth per tick different from hindsight sql at {off[:5]}")
            ok &= not off and len(cpu) >= len(want) - 1

            log = first_log
            outage_lines = [x for x in log.splitlines() if "retrying" in x]
            back = [x for x in log.splitlines() if "answers again" in x]
            print("outage log:\n    " + "\n    ".join(outage_lines[:3] + back))
            ok &= 1 <= len(outage_lines) <= 2 and len(back) == 1
            sent = [r for r in rows if r[3]]
            print(f"sent {sum(r[3] for r in rows)} samples, {sum(r[4] for r in rows)} bytes "
                  f"in all; {sum(r[4] for r in rows) / len(rows):.0f} bytes a tick; "
                  f"{sum(r[5] for r in rows)} retries, {sum(r[6] for r in rows)} samples dropped; max lag {max(r[7] for r in rows)} s")
            ok &= bool(sent) and sum(r[6] for r in rows) == 0  # nothing dropped, restart included
        finally:
            stop.set()
            for x in (hang, junk):
                if x:
                    x.stop()
            code = d.stop() if d else 0
            prom.stop()
        ok &= code == 0
        print("ok" if ok else "FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
