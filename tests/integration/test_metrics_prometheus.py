#!/usr/bin/env python3
"""Prometheus scraping hindsightd: the same numbers as `hindsight sql`.

Debian's prometheus (2.42) scrapes hindsightd's /metrics on 127.0.0.1 every
second for a minute while a process group ("hsprom" + pid) burns about half
a core and the test sends about 2 MB/s over loopback. Through Prometheus'
HTTP API, over the same minute:
  - the raw samples of namedprocess_namegroup_cpu_seconds_total (both modes)
    and node_network_receive_bytes_total{device="lo"}, paired with
    node_time_seconds (the tick each scrape showed), must grow by exactly
    what `hindsight sql` sums over those ticks;
  - rate() of both must be within 3% of the rate `hindsight sql` gives for
    the ticks of that minute (Prometheus extrapolates to the window's ends);
  - Prometheus must have parsed OpenMetrics (it asks for it first).
Skipped (77) without the prometheus binary.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import (BURN, DAEMON, QUERY, Daemon, free_port,  # noqa: E402
                           hindsight_sql, wait_for)

PROMETHEUS = shutil.which("prometheus")
WINDOW = 60


def loopback_traffic(stop, rate=2_000_000):
    """Sends about rate bytes/s through a TCP connection on 127.0.0.1."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    out = socket.create_connection(srv.getsockname())
    inc, _ = srv.accept()
    chunk = b"x" * (rate // 20)

    def drain():
        while inc.recv(1 << 16):
            pass

    threading.Thread(target=drain, daemon=True).start()
    while not stop.is_set():
        out.sendall(chunk)
        time.sleep(0.05)
    out.close()
    srv.close()


def api(base, path, **params):
    url = f"{base}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body["status"] != "success":
        sys.exit(f"prometheus: {body}")
    return body["data"]


def raw_samples(base, query, at):
    """{labels-json: [(t, value)]} of a range selector at time at."""
    out = {}
    for r in api(base, "query", query=query, time=at)["result"]:
        out[json.dumps(r["metric"], sort_keys=True)] = [(float(t), float(v)) for t, v in r["values"]]
    return out


def exact_growth(base, selector, at, sql_sum, db, what):
    """The counter's growth between the first and last scrape of the window
    against hindsight sql over the ticks those scrapes showed."""
    ticks = dict(next(iter(raw_samples(base, f"node_time_seconds[{WINDOW}s]", at).values())))
    series = raw_samples(base, f"{selector}[{WINDOW}s]", at)
    if not series:
        sys.exit(f"{what}: Prometheus has no samples of {selector}")
    common = set(ticks)
    for values in series.values():
        common &= {t for t, _ in values}
    first_t, last_t = min(common), max(common)
    grew = 0.0
    for values in series.values():
        d = dict(values)
        grew += d[last_t] - d[first_t]
    a, b = int(ticks[first_t]), int(ticks[last_t])
    (stored,), = hindsight_sql(db, sql_sum, a=a, b=b)
    stored = float(stored or 0)
    ok = abs(grew - stored) <= 1e-6 * max(1.0, stored)
    print(f"{what}: scrapes at ticks {a}..{b} grew {grew:.6f}; hindsight sql over "
          f"(ts > {a} AND ts <= {b}): {stored:.6f}  {'ok' if ok else 'DIFFERENT'}")
    return ok


def rate_agrees(base, promql, at, sql_rate, db, what):
    (r,) = api(base, "query", query=promql, time=at)["result"]
    theirs = float(r["value"][1])
    (ours,), = hindsight_sql(db, sql_rate, a=int(at) - WINDOW, b=int(at))
    ours = float(ours or 0)
    ok = abs(theirs - ours) <= 0.03 * max(ours, theirs) + 1e-9
    print(f"{what}: Prometheus {promql} = {theirs:.4f}; hindsight sql = {ours:.4f}  "
          f"{'ok' if ok else 'DIFFERENT'}")
    return ok


def main():
    if not PROMETHEUS:
        print("prometheus is not installed (Debian package prometheus)")
        return 77
    if not os.access(DAEMON, os.X_OK) or not os.access(QUERY, os.X_OK):
        print(f"no {DAEMON} or {QUERY}")
        return 77
    name = f"hsprom{os.getpid() % 1000000}"
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(tmp)
        prom = work = None
        stop = threading.Event()
        try:
            burner = os.path.join(tmp, name)
            os.symlink(sys.executable, burner)
            script = os.path.join(tmp, "burn.py")
            with open(script, "w") as f:
                f.write(BURN)
            work = subprocess.Popen([burner, script, str(WINDOW + 30)])
            threading.Thread(target=loopback_traffic, args=(stop,), daemon=True).start()

            pport = free_port()
            base = f"http://127.0.0.1:{pport}"
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        "scrape_configs:\n  - job_name: hindsight\n    static_configs:\n"
                        f"      - targets: ['127.0.0.1:{d.port}']\n")
            prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                                     f"--storage.tsdb.path={tmp}/data",
                                     f"--web.listen-address=127.0.0.1:{pport}",
                                     "--log.level=warn"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

            def ready():
                try:
                    return urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200
                except OSError:
                    return False

            wait_for(ready, 60, "prometheus")
            # the window starts after the first scrape, so its samples cover it
            wait_for(lambda: api(base, "query", query="up")["result"], 60, "a first scrape")
            start = time.time()
            time.sleep(WINDOW + 3)
            at = time.time() - 1
            targets = api(base, "targets")["activeTargets"]
            health = [(t["health"], t.get("lastError", "")) for t in targets]
            print(f"scrape target health: {health}")
            ok = all(h == "up" for h, _ in health)
            up = next(iter(raw_samples(base, f"up[{WINDOW}s]", at).values()))
            took = next(iter(raw_samples(base, f"scrape_duration_seconds[{WINDOW}s]", at).values()))
            scrapes = len(up)
            gaps = [round(b[0] - a[0], 3) for a, b in zip(up, up[1:]) if b[0] - a[0] > 1.5]
            print(f"{scrapes} scrapes in the last {WINDOW} s (since start {time.time() - start:.0f} s), "
                  f"{sum(v == 0 for _, v in up)} failed, longest {max(v for _, v in took):.3f} s, "
                  f"gaps {gaps}, first at window start + {up[0][0] - (at - WINDOW):.3f} s, "
                  f"last at end - {at - up[-1][0]:.3f} s")
            ok &= scrapes >= WINDOW * 0.8

            ok &= exact_growth(
                base, f'namedprocess_namegroup_cpu_seconds_total{{groupname="{name}"}}', at,
                "SELECT sum(user_ms + system_ms) / 1000.0 FROM group_cpu "
                "WHERE group_name = '" + name + "' AND ts > :a AND ts <= :b", d.db,
                "group CPU s")
            ok &= exact_growth(
                base, 'node_network_receive_bytes_total{device="lo"}', at,
                "SELECT sum(n.rx_bytes) FROM net n JOIN net_interface i ON i.id = n.interface_id "
                "WHERE i.name = 'lo' AND n.ts > :a AND n.ts <= :b", d.db, "lo rx bytes")
            ok &= rate_agrees(
                base, f'sum(rate(namedprocess_namegroup_cpu_seconds_total{{groupname="{name}"}}'
                f'[{WINDOW}s]))', at,
                "SELECT sum(user_ms + system_ms) * 1.0 / sum(dur_ms) FROM group_cpu "
                "WHERE group_name = '" + name + "' AND ts > :a AND ts <= :b", d.db,
                "group CPU rate (cores)")
            ok &= rate_agrees(
                base, f'rate(node_network_receive_bytes_total{{device="lo"}}[{WINDOW}s])', at,
                "SELECT sum(n.rx_bytes) * 1000.0 / sum(n.dur_ms) FROM net n JOIN net_interface i "
                "ON i.id = n.interface_id WHERE i.name = 'lo' AND n.ts > :a AND n.ts <= :b",
                d.db, "lo rx bytes/s")
            # Prometheus keeps the format it parsed in its scrape pool metadata:
            # a counter family known by its OpenMetrics name (without _total)
            meta = api(base, "targets/metadata", metric="node_cpu_seconds")
            print(f"metadata of node_cpu_seconds (OpenMetrics family name): {meta[:1]}")
            ok &= bool(meta) and meta[0]["type"] == "counter"
        finally:
            stop.set()
            if prom:
                prom.terminate()
                try:
                    _, err = prom.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    prom.kill()
                    _, err = prom.communicate()
                if err.strip():
                    print("prometheus said:\n" + err[-2000:])
            if work:
                work.kill()
                work.wait()
            code = d.stop()
        if code != 0:
            print(d.text())
            return 1
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
