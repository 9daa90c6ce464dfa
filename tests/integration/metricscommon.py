"""Shared by the /metrics tests: a hindsightd with its endpoint on a free
port, scrapes, and a parser for the exposition text."""
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
QUERY = os.path.join(BUILD, "hindsight")
# a CPU burner for a group to measure: 50 ms of CPU, then 50 ms asleep, for argv[1] s
BURN = r"""
import sys, time
end = time.time() + float(sys.argv[1])
while time.time() < end:
    t = time.process_time() + 0.05
    while time.process_time() < t:
        pass
    time.sleep(0.05)
"""
# what Prometheus 2.42 sends when it scrapes
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


class Daemon:
    """hindsightd at a 1 s interval with metrics on 127.0.0.1, port 0: the
    port it bound is read from its log, so no other process can take it
    between a probe and the bind."""

    def __init__(self, tmp, config="", args=()):
        self.db = os.path.join(tmp, "h.db")
        cfg = os.path.join(tmp, "hindsight.yml")
        with open(cfg, "w") as f:
            f.write("metrics:\n  listen: 127.0.0.1:0\n" + config)
        self.log = []
        self.port = None
        self.proc = subprocess.Popen([DAEMON, "--db", self.db, "--interval", "1", "--config",
                                      cfg, *args], stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            wait_for(lambda: self.port or self.proc.poll() is not None, 60, "the endpoint")
        finally:
            if not self.port:
                self.stop()
        if not self.port:
            sys.exit("hindsightd did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"metrics: serving http://127\.0\.0\.1:(\d+)/metrics", line)
            if m:
                self.port = int(m.group(1))

    def ticks(self):
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
            n = con.execute("SELECT count(*) FROM agent").fetchone()[0]
            con.close()
            return n
        except sqlite3.Error:
            return 0

    def wait_ticks(self, n, timeout=60):
        def done():
            if self.proc.poll() is not None:
                sys.exit(f"hindsightd exited with {self.proc.returncode} (a negative number "
                         f"is the signal that killed it):\n{self.text()[-3000:]}")
            return self.ticks() >= n
        wait_for(done, timeout, f"{n} ticks")

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def text(self):
        return "".join(self.log)

    def stop(self):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(10)
        return self.proc.returncode


def scrape(url, accept=None, timeout=30):
    """(Content-Type, body text) of one GET."""
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.headers.get("Content-Type"), r.read().decode()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): value} and {family: type} of an
    exposition (text 0.0.4 or OpenMetrics)."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a sample line: {line!r}")
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def hindsight_sql(db, sql, **params):
    """Rows of `hindsight sql` as lists of strings (CSV, header dropped)."""
    args = [QUERY, "sql", sql, "--db", db, "--csv", "--epoch", "--resolution", "raw"]
    for k, v in params.items():
        args += ["-p", f"{k}={v}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [line.split(",") for line in out.strip().splitlines()[1:]]
