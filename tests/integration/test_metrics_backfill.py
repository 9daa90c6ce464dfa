#!/usr/bin/env python3
"""History as OpenMetrics: promtool and Prometheus read it back as stored.

hindsightd records about 62 ticks at a 1 s interval while a process group
("hsbf" + pid) burns CPU. Then:
  - `hindsight export --openmetrics` writes the history; Debian's
    `promtool tsdb create-blocks-from openmetrics` (2.42) must accept it;
  - a Prometheus started on those blocks (127.0.0.1, a free port) must answer
    rate(node_cpu_seconds_total[1m]) for every CPU and mode, and
    increase(namedprocess_namegroup_cpu_seconds_total[...]) for every group
    (those that appeared too), over the last minute and over the whole
    recording, with what
    `hindsight sql` sums over the same ticks (both ends of each window are
    ticks, so Prometheus does not extrapolate), within float rounding; and
    hold every sample of one CPU's counter as the running sum of its deltas;
  - `--resolution 1m` gives one sample a minute where the 1-minute rollups
    hold rows, on the minute, with the same running sums;
  - bad input: an empty or reversed range, an unknown name, the database
    (or its -wal) as the output, a format given twice, --where: a clear
    message, a non-zero exit, the database untouched.
Skipped (77) without promtool and prometheus (Debian package prometheus).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import (BURN, DAEMON, QUERY, Daemon, free_port,  # noqa: E402
                           hindsight_sql, wait_for)

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
TICKS = 62
MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def api(base, path, **params):
    url = f"{base}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body["status"] != "success":
        sys.exit(f"prometheus: {body}")
    return body["data"]


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def query_vector(base, promql, at):
    """{frozenset(labels): value} of an instant query."""
    return {frozenset(r["metric"].items()): float(r["value"][1])
            for r in api(base, "query", query=promql, time=at)["result"]}


def hindsight(*args, db):
    return subprocess.run([QUERY, *args, "--db", db], capture_output=True, text=True)


def check_cpu_rate(base, db, t_end):
    """rate(node_cpu_seconds_total[1m]) at t_end for every CPU and mode."""
    theirs = query_vector(base, "rate(node_cpu_seconds_total[1m])", t_end)
    cols = ", ".join(f"sum({m}_ms)" for m in MODES)
    ok, n = True, 0
    for row in hindsight_sql(db, f"SELECT cpu_id, {cols} FROM cpu WHERE cpu_id >= 0 AND "
                                 "ts > :a AND ts <= :b GROUP BY cpu_id", a=t_end - 60, b=t_end):
        for mode, ms in zip(MODES, row[1:]):
            want = float(ms) / 1000.0 / 60.0
            got = theirs.get(frozenset({"cpu": row[0], "mode": mode}.items()))
            n += 1
            if got is None or not close(got, want):
                print(f"  cpu {row[0]} {mode}: Prometheus {got}, hindsight sql {want}")
                ok = False
    print(f"rate(node_cpu_seconds_total[1m]) at {t_end}: {n} series, "
          f"{'all equal to' if ok else 'NOT all equal to'} hindsight sql over (t-60, t]")
    return ok and n == len(theirs) and n > 0


def check_group_increase(base, db, t_end, window):
    """increase(namedprocess_namegroup_cpu_seconds_total[window]) at t_end
    for every group, including those that appeared during the window (the
    export writes their 0 at the tick before, so Prometheus neither loses
    their first delta nor extrapolates)."""
    theirs = query_vector(base, f"increase(namedprocess_namegroup_cpu_seconds_total[{window}s])",
                          t_end)
    later = 0
    for r in api(base, "query", query=f"namedprocess_namegroup_cpu_seconds_total[{window}s]",
                 time=t_end)["result"]:
        if int(float(r["values"][0][0])) != t_end - window:
            later += 1
            if float(r["values"][0][1]) != 0:
                print(f"  {r['metric']} appeared without a 0 first: {r['values'][:2]}")
                return False
    rows = hindsight_sql(db, "SELECT g.name, sum(s.user_ms), sum(s.system_ms) FROM group_sample s "
                             "JOIN proc_group g ON g.id = s.group_id WHERE s.ts > :a AND "
                             "s.ts <= :b GROUP BY g.name", a=t_end - window, b=t_end)
    stored = {}
    for name, user, system in rows:
        stored[(name, "user")] = float(user) / 1000.0
        stored[(name, "system")] = float(system) / 1000.0
    ok, n, busiest = True, 0, (0.0, "")
    for key, got in theirs.items():
        d = dict(key)
        want = stored.get((d["groupname"], d["mode"]), 0.0)
        n += 1
        busiest = max(busiest, (want, d["groupname"]))
        if not close(got, want):
            print(f"  {d['groupname']} {d['mode']}: Prometheus {got}, hindsight sql {want}")
            ok = False
    print(f"increase(namedprocess_namegroup_cpu_seconds_total[{window}s]) at {t_end}: {n} "
          f"series, {'all equal to' if ok else 'NOT all equal to'} hindsight sql; busiest "
          f"{busiest[1]} {busiest[0]:.3f} s ({later} of them appeared in the window)")
    return ok and n > 0 and busiest[0] > 0


class RunningSum:
    """cpu 0's user seconds summed over the raw rows up to a time, from
    hindsight sql."""

    def __init__(self, db):
        self.rows = [(int(ts), int(ms)) for ts, ms in hindsight_sql(
            db, "SELECT ts, user_ms FROM cpu WHERE cpu_id = 0 ORDER BY ts")]
        self.ticks = {ts for ts, _ in self.rows}

    def at(self, t):
        return sum(ms for ts, ms in self.rows if ts <= t) / 1000.0


def check_samples(base, db, t_end):
    """Every stored sample of cpu 0's user counter is the running sum."""
    res = api(base, "query", query=f'node_cpu_seconds_total{{cpu="0",mode="user"}}[{TICKS * 2}s]',
              time=t_end)["result"]
    sums = RunningSum(db)
    values = [(int(float(t)), float(v)) for t, v in res[0]["values"]] if res else []
    bad = [(t, v, sums.at(t)) for t, v in values if not close(v, sums.at(t))]
    # exits and kernel log records stored with their own time (before the
    # first tick, in a second the daemon skipped) count at the next tick:
    # they make no samples of their own
    times = {t for t, _ in values}
    print(f"cpu 0 user: {len(values)} samples in Prometheus, {len(sums.ticks)} ticks stored, "
          f"{len(bad)} differ from the running sum of hindsight sql {bad[:3]}")
    return bool(values) and not bad and times == sums.ticks


def check_minutes(db, tmp):
    """--resolution 1m: on the minute where rollups hold rows, same sums."""
    out = os.path.join(tmp, "minutes.om")
    r = hindsight("export", "--openmetrics", "--resolution", "1m", "node_cpu_seconds_total",
                  "-o", out, db=db)
    if r.returncode != 0:
        print(f"export --resolution 1m failed: {r.stderr}")
        return False
    sums = RunningSum(db)
    (rolled,), = hindsight_sql(db, "SELECT max(ts) FROM cpu_1m")
    rolled = int(rolled or 0)
    pat = re.compile(r'^node_cpu_seconds_total\{cpu="0",mode="user"\} (\S+) (\d+)$')
    samples = [(int(m.group(2)), float(m.group(1)))
               for m in map(pat.match, open(out).read().splitlines()) if m]
    old = [t for t, _ in samples if t <= rolled]
    bad = [(t, v) for t, v in samples if not close(v, sums.at(t))]
    ok = old and all(t % 60 == 0 for t in old) and not bad
    print(f"--resolution 1m: {len(old)} sample(s) on the minute up to {rolled}, "
          f"{len(samples) - len(old)} raw after; {len(bad)} differ from the running sums")
    return ok


def check_bad_input(db, tmp):
    digest = hashlib.sha256(open(db, "rb").read()).hexdigest()
    cases = [
        (["--since", "2030-01-02", "--until", "2030-01-01"], 2, "--since is after --until"),
        (["--since", "yesterday-ish"], 2, "--since:"),
        (["nope_total"], 2, "nope_total: no such metric family, table or view"),
        (["-o", db], 2, "refused: it is the database"),
        (["-o", db + "-wal"], 2, "refused: it is the database's write-ahead log"),
        (["--csv"], 2, "give only one of"),
        (["--where", "cpu_id=0"], 2, "takes no --where"),
    ]
    ok = True
    for args, code, text in cases:
        r = hindsight("export", "--openmetrics", *args, db=db)
        good = r.returncode == code and text in r.stderr and not r.stdout
        ok &= good
        print(f"export --openmetrics {' '.join(a if a != db else 'DB' for a in args)}: exit "
              f"{r.returncode}: {r.stderr.strip().splitlines()[0] if r.stderr else ''}"
              f"{'' if good else '  WRONG'}")
    r = hindsight("export", "cpu", "net", db=db)
    ok &= r.returncode == 2 and "several only with --openmetrics" in r.stderr
    r = hindsight("export", "--openmetrics", "--since", "2099-01-01", db=db)
    empty = r.returncode == 0 and r.stdout == "# EOF\n" and "no stored tick" in r.stderr
    print(f"an empty range: exit {r.returncode}, {r.stdout!r}, {r.stderr.strip()}")
    ok &= empty
    # a view selects the families of the tables it reads
    r = hindsight("export", "--openmetrics", "group_cpu", db=db)
    names = {line.split("{")[0].split(" ")[0] for line in r.stdout.splitlines()
             if not line.startswith("#")}
    view_ok = r.returncode == 0 and names and all(n.startswith("namedprocess_") for n in names)
    print(f"export --openmetrics group_cpu (a view): {len(names)} families, "
          f"{sorted(names)[:3]}...")
    ok &= view_ok
    intact = hashlib.sha256(open(db, "rb").read()).hexdigest() == digest
    print(f"database unchanged: {intact}")
    return ok and intact


def main():
    if not PROMETHEUS or not PROMTOOL:
        print("prometheus or promtool is not installed (Debian package prometheus)")
        return 77
    if not os.access(DAEMON, os.X_OK) or not os.access(QUERY, os.X_OK):
        print(f"no {DAEMON} or {QUERY}")
        return 77
    name = f"hsbf{os.getpid() % 1000000}"
    with tempfile.TemporaryDirectory() as tmp:
        burner = os.path.join(tmp, name)
        os.symlink(sys.executable, burner)
        script = os.path.join(tmp, "burn.py")
        with open(script, "w") as f:
            f.write(BURN)
        work = subprocess.Popen([burner, script, str(TICKS + 60)])
        try:
            d = Daemon(tmp)
            try:
                d.wait_ticks(TICKS, timeout=TICKS + 120)
            finally:
                code = d.stop()
        finally:
            work.kill()
            work.wait()
        if code != 0:
            print(d.text()[-3000:])
            return 1
        db = d.db
        ticks = [int(t) for (t,) in hindsight_sql(db, "SELECT ts FROM agent ORDER BY ts")]
        first, last = ticks[0], ticks[-1]
        tickset = set(ticks)
        # the newest tick whose minute before is a tick too: no extrapolation
        t_end = max(t for t in ticks if t - 60 in tickset)
        print(f"{len(ticks)} ticks stored, {first}..{last}")

        om = os.path.join(tmp, "history.om")
        t0 = time.monotonic()
        r = hindsight("export", "--openmetrics", "-o", om, db=db)
        took_export = time.monotonic() - t0
        if r.returncode != 0:
            print(f"export failed ({r.returncode}): {r.stderr}")
            return 1
        size = os.path.getsize(om)
        lines = sum(1 for line in open(om) if not line.startswith("#"))
        print(f"export: {size} bytes, {lines} samples in {took_export:.2f} s "
              f"({size / len(ticks):.0f} bytes a tick)")
        blocks = os.path.join(tmp, "blocks")
        t0 = time.monotonic()
        r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", om, blocks],
                           capture_output=True, text=True)
        print(f"promtool create-blocks-from openmetrics: exit {r.returncode} in "
              f"{time.monotonic() - t0:.2f} s\n{r.stdout.strip()}{r.stderr.strip()}")
        if r.returncode != 0:
            return 1

        pport = free_port()
        base = f"http://127.0.0.1:{pport}"
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                                 f"--storage.tsdb.path={blocks}",
                                 f"--web.listen-address=127.0.0.1:{pport}",
                                 "--storage.tsdb.retention.time=100y", "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            def ready():
                try:
                    return urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200
                except OSError:
                    return prom.poll() is not None

            wait_for(ready, 60, "prometheus")
            if prom.poll() is not None:
                print("prometheus exited")
                return 1
            ok = check_cpu_rate(base, db, t_end)
            ok &= check_group_increase(base, db, t_end, 60)
            ok &= check_group_increase(base, db, last, last - first)
            ok &= check_samples(base, db, last)
        finally:
            prom.terminate()
            try:
                _, err = prom.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                prom.kill()
                _, err = prom.communicate()
            if err.strip():
                print("prometheus said:\n" + err[-2000:])
        ok &= check_minutes(db, tmp)
        ok &= check_bad_input(db, tmp)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
