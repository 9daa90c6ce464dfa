#!/usr/bin/env python3
"""Peaks survive the rollups: for every view whose peak a person asks for
(busy %, load, memory used, disk and net rates, pressure), max() of its
peak column read from 1-minute or 1-hour rows equals max() of the value
over the raw rows, where the average alone reads lower (cpu_usage's
busy_pct read 97.6 over a day of rollups where a tick said 100).

Six hours of 10 s ticks with one spike in each series are written behind
the daemon's watermarks, and the daemon rolls them up with its own code;
nothing is pruned, so every tier holds the whole history. Also checks that
the views round what they derive (no 1.9266071428571427 in a rollup row).
"""
import csv
import io
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
HINDSIGHT = os.path.join(BUILD, "hindsight")
DAEMON = os.path.join(BUILD, "hindsightd")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def sql(db, query, res):
    p = subprocess.run([HINDSIGHT, "--db", db, "sql", query, "--resolution", res, "--csv"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"{query} at {res}: {p.stderr.strip()}")
    lines = p.stdout.splitlines()
    return lines[1] if len(lines) > 1 else ""


TABLES = ("cpu", "disk", "net", "psi", "memory", "loadavg", "kernel_activity")


def insert(con, table, rows):
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]  # not generated ones
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [[row.get(c, 0) for c in cols] for row in rows])


def history(db):
    """Six hours of ticks ending two hours ago on an hour, one spike in
    each series in the middle of an hour (so no rollup average reaches it)."""
    rnd = random.Random(7)
    end = int(time.time()) // 3600 * 3600 - 7200
    ticks = range(end - 6 * 3600 + 10, end + 1, 10)
    spike = end - 3 * 3600 + 1810
    con = sqlite3.connect(db)
    for t in TABLES:
        for suffix in ("", "_1m", "_1h"):
            con.execute(f"DELETE FROM {t}{suffix}")
        con.execute("DELETE FROM rollup_state WHERE table_name = ?", (t,))
    con.execute("INSERT INTO disk_device (name, whole_disk) VALUES ('hstest0', 1)")
    disk = con.execute("SELECT id FROM disk_device WHERE name = 'hstest0'").fetchone()[0]
    con.execute("INSERT INTO net_interface (name) VALUES ('hstest0')")
    nic = con.execute("SELECT id FROM net_interface WHERE name = 'hstest0'").fetchone()[0]
    io = con.execute("SELECT id FROM pressure_resource WHERE name = 'io'").fetchone()[0]
    rows = {t: [] for t in TABLES}
    for ts in ticks:
        s = ts == spike
        busy = 10000 if s else rnd.randint(1000, 9000)
        rows["cpu"].append(dict(ts=ts, cpu_id=-1, dur_ms=10000, user_ms=busy * 2 // 3,
                                system_ms=busy - busy * 2 // 3, idle_ms=10000 - busy))
        rows["disk"].append(dict(ts=ts, disk_id=disk, dur_ms=10000 + rnd.randint(-30, 30),
                                 reads_count=rnd.randint(1, 50), writes_count=rnd.randint(1, 90),
                                 read_bytes=(4 << 30) if s else rnd.randint(0, 50 << 20),
                                 write_bytes=(9 << 30) if s else rnd.randint(0, 80 << 20),
                                 read_ms=rnd.randint(0, 100), write_ms=rnd.randint(0, 300),
                                 io_ms=10000 if s else rnd.randint(0, 7000),
                                 weighted_io_ms=rnd.randint(0, 9000), in_flight_count=s * 30))
        rows["net"].append(dict(ts=ts, interface_id=nic, dur_ms=9990 + rnd.randint(0, 20),
                                rx_bytes=(3 << 30) if s else rnd.randint(0, 10 << 20),
                                tx_bytes=(2 << 30) if s else rnd.randint(0, 10 << 20),
                                rx_packets_count=rnd.randint(0, 9000),
                                tx_packets_count=rnd.randint(0, 9000)))
        rows["psi"].append(dict(ts=ts, resource_id=io, dur_ms=10000,
                                some_avg10_x100=9876 if s else rnd.randint(0, 3000),
                                full_avg10_x100=8765 if s else rnd.randint(0, 2000),
                                some_stall_us=9999000 if s else rnd.randint(0, 3000000),
                                full_stall_us=8888000 if s else rnd.randint(0, 2000000)))
        rows["memory"].append(dict(ts=ts, total_kb=16 << 20, free_kb=4 << 20,
                                   available_kb=(123 << 10) if s else rnd.randint(5 << 20, 9 << 20),
                                   buffers_kb=1 << 20, cached_kb=5 << 20, swap_total_kb=4 << 20,
                                   swap_free_kb=(1 << 20) if s else rnd.randint(3 << 20, 4 << 20)))
        rows["loadavg"].append(dict(ts=ts, load1_x100=3175 if s else rnd.randint(0, 900),
                                    load5_x100=1890 if s else rnd.randint(0, 700),
                                    load15_x100=1234 if s else rnd.randint(0, 500),
                                    runnable_count=rnd.randint(1, 9), threads_count=400))
        rows["kernel_activity"].append(dict(ts=ts, dur_ms=10000, procs_running_count=2,
                                            procs_blocked_count=57 if s else rnd.randint(0, 3)))
    for t, r in rows.items():
        insert(con, t, r)
    con.commit()
    con.close()
    return end


def rolled(db, end):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        done = con.execute("SELECT count(*) FROM rollup_state WHERE tier = '1h' AND "
                           f"rolled_ts >= ? AND table_name IN {TABLES}", (end,)).fetchone()[0]
        return done == len(TABLES)
    finally:
        con.close()


# view, value column, its peak column, the rows of the synthetic series
PEAKS = [
    ("cpu_usage", "busy_pct", "max_busy_pct", ""),
    ("disk_io", "read_bytes_per_s", "max_read_bytes_per_s", "disk = 'hstest0'"),
    ("disk_io", "write_bytes_per_s", "max_write_bytes_per_s", "disk = 'hstest0'"),
    ("disk_io", "util_pct", "max_util_pct", "disk = 'hstest0'"),
    ("net_rates", "rx_bytes_per_s", "max_rx_bytes_per_s", "interface = 'hstest0'"),
    ("net_rates", "tx_bytes_per_s", "max_tx_bytes_per_s", "interface = 'hstest0'"),
    ("pressure", "some_avg10_pct", "max_some_avg10_pct", "resource = 'io'"),
    ("pressure", "full_avg10_pct", "max_full_avg10_pct", "resource = 'io'"),
    ("pressure", "some_stall_pct", "max_some_stall_pct", "resource = 'io'"),
    ("pressure", "full_stall_pct", "max_full_stall_pct", "resource = 'io'"),
    ("memory_usage", "used_pct", "max_used_pct", ""),
    ("memory_usage", "used_kb", "max_used_kb", ""),
    ("memory_usage", "swap_used_kb", "max_swap_used_kb", ""),
    ("load", "load1", "max_load1", ""),
    ("load", "load5", "max_load5", ""),
    ("load", "load15", "max_load15", ""),
    ("load", "procs_blocked_count", "max_procs_blocked_count", ""),
]


def test_peaks(db, end):
    lo, hi = end - 6 * 3600, end
    for view, col, peak, where in PEAKS:
        cond = f"ts > {lo} AND ts <= {hi}" + (f" AND {where}" if where else "")
        raw = sql(db, f"SELECT max({col}) FROM {view} WHERE {cond}", "raw")
        check(raw != "", f"{view}.{col}: raw rows")
        for res in ("raw", "1m", "1h"):
            got = sql(db, f"SELECT max({peak}) FROM {view} WHERE {cond}", res)
            check(got != "" and float(got) == float(raw),
                  f"{view}: max({peak}) at {res} is {got}, the raw max({col}) is {raw}")
        # the average alone would have hidden the spike
        avg = sql(db, f"SELECT max({col}) FROM {view} WHERE {cond}", "1h")
        check(float(avg) < float(raw), f"{view}.{col}: hourly {avg} < raw {raw}")
    # The values the issue saw: 100% busy read back as the peak everywhere.
    for res in ("raw", "1m", "1h"):
        got = sql(db, f"SELECT max(max_busy_pct) FROM cpu_usage WHERE ts > {lo} AND ts <= {hi}",
                  res)
        check(float(got) == 100.0, f"the 100% tick is the peak at {res}: {got}")


def test_rounded(db, end):
    """Rollup rows of every view: reals have at most three decimals (the
    rule in docs/schema.md): nothing like 1.9266071428571427."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    views = [r[0] for r in con.execute("SELECT name FROM view_catalog")]
    con.close()
    for res in ("1m", "1h"):
        for view in views:
            p = subprocess.run([HINDSIGHT, "--db", db, "show", view, "--since",
                                f"@{end - 6 * 3600}", "--until", f"@{end}", "--resolution", res,
                                "--csv", "--epoch"], capture_output=True, text=True, timeout=60)
            check(p.returncode == 0, f"show {view} at {res}: {p.stderr.strip()}")
            rows = list(csv.reader(io.StringIO(p.stdout, newline="")))
            names = rows[0] if rows else []
            long = [(names[i], cell) for row in rows[1:] for i, cell in enumerate(row)
                    if re.fullmatch(r"-?\d+\.\d{4,}", cell)]
            check(not long, f"show {view} at {res}: unrounded reals {long[:3]}")


def test_top_reads(db, end):
    """top over a stretch of the history: sums of stall milliseconds and
    averages of loads read in units, never 34896.325000000004."""
    p = subprocess.run([HINDSIGHT, "--db", db, "top", "--at", f"@{end - 3 * 3600 + 1810}",
                        "--window", "1h"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "== Pressure" in p.stdout, f"top: {p.stderr.strip()}")
    long = re.findall(r"\d\.\d{4,}|\de[+-]\d", p.stdout)
    check(not long, f"top: no long fractions or exponents: {long[:3]}")
    check(re.search(r"^io .* \d+(\.\d)? (s|min)\b", p.stdout, re.M),
          "top's stall time reads in seconds or minutes")


def main():
    if not os.path.exists(HINDSIGHT):
        print("hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-peaks-")
    try:
        db = os.path.join(tmp, "peaks.db")
        subprocess.run([DAEMON, "--db", db, "--interval", "1", "--once", "--log-level", "warn"],
                       check=True, timeout=60)
        end = history(db)
        config = os.path.join(tmp, "peaks.yaml")
        with open(config, "w") as f:
            f.write(f"db: {db}\ninterval: 1s\nretention:\n  raw: 30d\n  1m: 60d\n  1h: 1y\n")
        for _ in range(6):  # rolls in a few seconds; more on a loaded machine
            subprocess.run([DAEMON, "--config", config, "--duration", "3", "--log-level", "warn"],
                           check=True, timeout=60)
            if rolled(db, end):
                break
        check(rolled(db, end), "the daemon rolled the history into hours")
        test_peaks(db, end)
        test_rounded(db, end)
        test_top_reads(db, end)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all peak checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
