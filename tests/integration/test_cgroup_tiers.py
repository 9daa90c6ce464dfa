#!/usr/bin/env python3
"""The cgroup tables across the retention tiers: four days of minute rows
for two services, rolled and pruned by the daemon (raw kept a day, 1m two,
1h three), then read through the cgroup views at every resolution.

  - each resolution reads every instant once: CPU, I/O and pressure sums and
    the covered time are those of the rows the oldest tier still keeps, and
    the peak memory is the raw peak (the 1h rows keep max_current_bytes);
  - the 1h and 1m tiers hold cgroup rows, raw rows older than a day are gone;
  - the cgroup row of a service gone before the oldest tier's boundary is
    deleted with its limits (dimension_table), the live one stays;
  - `hindsight top --at` a time kept only in 1-hour rows ranks the service
    by CPU from them, and not the slice that adds it up."""
import csv
import io
import os
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

WEB, OLD, SLICE = 1000, 1001, 999
PEAK = 900 << 20


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    else:
        print("ok:", what)


def hindsight(db, *args):
    p = subprocess.run([HINDSIGHT, "--db", db, *args], capture_output=True, timeout=60,
                       text=True)
    check(p.returncode == 0, f"hindsight {' '.join(args)} exits 0 ({p.stderr.strip()})")
    return p.stdout


def one_row(db, sql, res):
    out = hindsight(db, "sql", sql, "--resolution", res, "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    return [float(v) if v else None for v in rows[1]]


def daemon(db, config, seconds):
    subprocess.run([DAEMON, "--config", config, "--duration", str(seconds), "--log-level",
                    "warn"], check=True, timeout=120,
                   env=dict(os.environ, HINDSIGHT_CLOCK_SETTLE_S="0"))


def fill(db, start, end):
    """Minute rows from start to end: web.service all along (its CPU row in
    two minutes of three: rows are sparse), old.service for its first six
    hours. One memory peak, in what becomes the 1h tier."""
    con = sqlite3.connect(db)
    con.execute("INSERT INTO cgroup(id, inode, parent_id, path, kind, name, unit, "
                "first_seen_ts, gone_ts) VALUES "
                f"({SLICE}, 5000, NULL, '/system.slice', 'slice', 'system.slice', "
                f"'system.slice', {start - 100}, NULL), "
                f"({WEB}, 5001, {SLICE}, '/system.slice/web.service', 'service', 'web.service', "
                f"'web.service', {start - 100}, NULL), "
                f"({OLD}, 5002, NULL, '/system.slice/old.service', 'service', 'old.service', "
                f"'old.service', {start - 100}, {start + 6 * 3600})")
    con.execute(f"INSERT INTO cgroup_limit(ts, cgroup_id, pids_max_count) VALUES "
                f"({start}, {WEB}, 100), ({start}, {OLD}, 50)")
    peak_ts = end - 5 * 86400 // 2 + 1800  # inside an hour
    ticks = range(start + 60, end + 1, 60)
    con.executemany("INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us, user_us, "
                    "system_us, tasks_count) VALUES (?, ?, 60000, ?, ?, ?, ?)",
                    [(ts, WEB, 600000 + ts % 7000, ts % 5000, 600000 + ts % 7000 - ts % 5000,
                      1 + ts % 13) for ts in ticks if ts // 60 % 3])
    con.executemany("INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) "
                    "VALUES (?, ?, 60000, 500)",
                    [(ts, OLD) for ts in ticks if ts <= start + 6 * 3600])
    con.executemany("INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) "
                    "VALUES (?, ?, 60000, ?)", [(ts, SLICE, 900000 + ts % 7000) for ts in ticks])
    mem = [(ts, PEAK if ts == peak_ts else (100 << 20) + ts % 9973 * 1000, ts % 4099 * 1000)
           for ts in ticks]
    con.executemany("INSERT INTO cgroup_memory_stat(ts, cgroup_id, dur_ms, current_bytes, "
                    "inactive_file_bytes, working_set_bytes, pgfault_count) "
                    "VALUES (?, ?, 60000, ?, ?, ?, ?)",
                    [(ts, WEB, cur, inact, cur - inact, ts % 17) for ts, cur, inact in mem])
    con.executemany("INSERT INTO cgroup_io_stat(ts, cgroup_id, major, minor, dur_ms, "
                    "read_bytes, write_bytes) VALUES (?, ?, 8, 0, 60000, ?, ?)",
                    [(ts, WEB, ts % 4096, ts % 3000) for ts in ticks])
    con.executemany("INSERT INTO cgroup_pressure_stat(ts, cgroup_id, dur_ms, cpu_some_us, "
                    "io_some_us) VALUES (?, ?, 60000, ?, ?)",
                    [(ts, WEB, ts % 1000, ts % 300) for ts in ticks])
    con.execute("DELETE FROM rollup_state WHERE table_name LIKE 'cgroup%'")
    con.commit()
    con.close()
    return peak_ts


def expected(db, since):
    """What a reader of every instant after since must find, from the raw
    sums of the rows inserted (computed before the daemon rolls them)."""
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql, (WEB, since)).fetchone()
        return {
            "cpu": q("SELECT sum(usage_us) / 1000.0, sum(dur_ms) FROM cgroup_cpu_stat "
                     "WHERE cgroup_id = ? AND ts > ?"),
            "io": q("SELECT sum(read_bytes), sum(write_bytes) FROM cgroup_io_stat "
                    "WHERE cgroup_id = ? AND ts > ?"),
            "pressure": q("SELECT sum(cpu_some_us) / 1000.0, sum(io_some_us) / 1000.0 "
                          "FROM cgroup_pressure_stat WHERE cgroup_id = ? AND ts > ?"),
            "faults": q("SELECT sum(pgfault_count), sum(dur_ms) FROM cgroup_memory_stat "
                        "WHERE cgroup_id = ? AND ts > ?"),
            "ws_peak": q("SELECT max(working_set_bytes) FROM cgroup_memory_stat "
                         "WHERE cgroup_id = ? AND ts > ?")[0],
        }
    finally:
        con.close()


def top(db, at):
    """top at a time only the 1h tier holds: the services section, from
    the hour's rows, with the CPU of that hour over its length."""
    out = hindsight(db, "top", "--at", f"@{at}")
    sec = out.split("== Busiest services and containers by CPU")[1].split("\n== ")[0]
    rows = [line.split() for line in sec.splitlines()[3:] if line.strip()]
    hour_end = (at + 3599) // 3600 * 3600
    con = sqlite3.connect(db)
    ms = con.execute("SELECT sum(usage_us) / 1000.0 FROM cgroup_cpu_stat_1h WHERE cgroup_id = ? "
                     "AND ts = ?", (WEB, hour_end)).fetchone()[0]
    con.close()
    check("1-hour" in out.splitlines()[0], f"top reads whole hours there: {out.splitlines()[0]}")
    check(len(rows) == 1 and rows[0][:2] == ["web.service", "service"] and
          abs(float(rows[0][2].rstrip('%')) - 100.0 * ms / 3600000) <= 0.06,
          f"top ranks web.service (not system.slice) at {100.0 * ms / 3600000:.1f}%:\n{sec}")


def main():
    if not os.path.exists(DAEMON) or not os.path.exists(HINDSIGHT):
        print("hindsightd or hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-cgtiers-")
    try:
        db = os.path.join(tmp, "h.db")
        config = os.path.join(tmp, "h.yaml")
        with open(config, "w") as f:
            f.write(f"db: {db}\ninterval: 1s\ncgroups: {{enabled: false}}\n"
                    "retention:\n  raw: 1d\n  1m: 2d\n  1h: 3d\n")
        daemon(db, config, 1)  # makes and migrates the file
        end = int(time.time()) // 3600 * 3600 - 7200
        start = end - 4 * 86400
        peak_ts = fill(db, start, end)
        # the 1h tier keeps three days: whole hours back from now
        cut = (int(time.time()) - 3 * 86400) // 3600 * 3600
        wants = {c: expected(db, c) for c in (cut - 3600, cut, cut + 3600)}
        deadline = time.time() + 240  # a few seconds; minutes in a sanitizer build
        while time.time() < deadline:
            daemon(db, config, 5)
            con = sqlite3.connect(db)
            gone = con.execute(f"SELECT count(*) FROM cgroup WHERE id = {OLD}").fetchone()[0]
            hour_cut = con.execute("SELECT pruned_ts FROM prune_state "
                                   "WHERE scope = '1h'").fetchone()[0]
            con.close()
            if gone == 0:
                break
        check(hour_cut in wants, f"the 1h tier was pruned at three days ({hour_cut})")
        want = wants.get(hour_cut)
        if want is None:
            check(False, f"the 1h boundary {hour_cut} is within an hour of {cut}")
            return 1

        con = sqlite3.connect(db)
        q = lambda sql: con.execute(sql).fetchone()[0]
        check(q(f"SELECT count(*) FROM cgroup WHERE id = {OLD}") == 0 and
              q(f"SELECT count(*) FROM cgroup_limit WHERE cgroup_id = {OLD}") == 0,
              "the cgroup gone before the oldest tier's boundary is deleted, limits too")
        check(q(f"SELECT count(*) FROM cgroup WHERE id = {WEB}") == 1 and
              q(f"SELECT count(*) FROM cgroup_limit WHERE cgroup_id = {WEB}") == 1,
              "the live cgroup and its limits stay")
        check(q("SELECT removed_count FROM prune_state WHERE scope = 'cgroup'") >= 1,
              "prune_state counts the cgroup rows removed")
        check(q("SELECT min(ts) FROM cgroup_cpu_stat") > int(time.time()) - 86400 - 600,
              "raw cgroup rows older than a day are gone")
        for t in ("cgroup_cpu_stat", "cgroup_memory_stat", "cgroup_io_stat",
                  "cgroup_pressure_stat"):
            check(q(f"SELECT count(*) FROM {t}_1h WHERE cgroup_id = {WEB}") > 0 and
                  q(f"SELECT count(*) FROM {t}_1m WHERE cgroup_id = {WEB}") > 0,
                  f"{t} has 1m and 1h rows")
        con.close()

        web = "WHERE cgroup = 'web.service'"
        for res in ("auto", "raw", "1m", "1h"):
            got = one_row(db, f"SELECT round(sum(usage_ms), 3), sum(dur_ms) FROM cgroup_cpu "
                          f"{web}", res)
            check(got == [round(want["cpu"][0], 3), want["cpu"][1]], f"cgroup_cpu at {res}: {got} = {want['cpu']}")
            got = one_row(db, f"SELECT sum(read_bytes), sum(write_bytes) FROM cgroup_io {web}",
                          res)
            check(got == list(want["io"]), f"cgroup_io at {res}: {got} = {want['io']}")
            got = one_row(db, "SELECT round(sum(cpu_some_ms), 3), round(sum(io_some_ms), 3) "
                          f"FROM cgroup_pressure {web}", res)
            check(got == [round(v, 3) for v in want["pressure"]],
                  f"cgroup_pressure at {res}: {got} = {want['pressure']}")
            got = one_row(db, "SELECT sum(pgfault_count), sum(dur_ms), max(max_current_bytes) "
                          f"FROM cgroup_memory {web}", res)
            check(got == [*want["faults"], PEAK] and
                  one_row(db, "SELECT max(max_working_set_bytes) FROM cgroup_memory "
                          f"{web}", res) == [want["ws_peak"]],
                  f"cgroup_memory at {res}: {got} = {want['faults']} and peak {PEAK}")
        top(db, peak_ts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all cgroup tier checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
