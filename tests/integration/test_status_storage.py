#!/usr/bin/env python3
"""hindsight status --tables: the storage model on three days of synthetic
history (40 groups at 10 s, rolled up): bytes a day per tier and per table
family, the days each tier holds under its age and max_db_size, and a
warning when the cap cuts the 1-minute tier short. The ages and the cap are the daemon's settings as it stores
them in meta."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD_DIR", "build")
SIM = os.path.join(BUILD, "bench", "bench_simulate")
HINDSIGHT = os.path.join(BUILD, "hindsight")
DAY = 86400


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def status(db):
    r = subprocess.run([HINDSIGHT, "status", "--tables", "--db", db], capture_output=True,
                       text=True, timeout=60)
    return r.stdout


def set_limits(db, raw, m1, h1, cap):
    con = sqlite3.connect(db)
    con.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [
        ("retention.max_age_s.raw", raw), ("retention.max_age_s.1m", m1),
        ("retention.max_age_s.1h", h1), ("retention.max_db_bytes", cap)])
    con.commit()
    con.close()


if not os.access(SIM, os.X_OK):
    print(f"SKIP: no {SIM}")
    sys.exit(77)
tmp = tempfile.mkdtemp(prefix="hindsight-storage-")
try:
    db = os.path.join(tmp, "h.db")
    subprocess.run([SIM, "--db", db, "--days", "3", "--groups", "40", "--roll"], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    out = status(db)
    if "days held: unknown" not in out:
        fail(f"no retention settings stored: expected the days held unknown, got\n{out}")

    set_limits(db, 7 * DAY, 90 * DAY, 730 * DAY, 1 << 30)
    out = status(db)
    rates = re.search(r"a day at current rates: raw ([\d.]+) MiB, 1m ([\d.]+) MiB, "
                      r"1h ([\d.]+) KiB", out)
    if not rates:
        fail(f"no rates line:\n{out}")
    raw, m1, h1 = (float(x) for x in rates.groups())
    # 40 groups x 8640 rows a day x about 34 bytes (README's retention figures)
    if not (8 < raw < 15 and 2 < m1 < 6 and 50 < h1 < 150):
        fail(f"rates out of range: raw {raw} MiB, 1m {m1} MiB, 1h {h1} KiB a day")
    if "holds raw 7 d of 7 d, 1m 90 d of 90 d, 1h 730 d of 730 d" not in out or "warning" in out:
        fail(f"1 GiB holds every tier for its age:\n{out}")
    print(f"ok: {raw} MiB raw, {m1} MiB 1m, {h1} KiB 1h a day; 1 GiB holds all")
    fam = re.search(r"^sim_group +([\d.]+) MiB +([\d.]+) MiB +([\d.]+) KiB$", out, re.M)
    if not fam or abs(float(fam.group(1)) - raw) > 1:
        fail(f"no bytes a day for the table family sim_group, or not most of raw's:\n{out}")

    # 256 MiB: hours (70 MiB) fit, 90 days of minutes (320 MiB) do not.
    set_limits(db, 7 * DAY, 90 * DAY, 730 * DAY, 256 << 20)
    out = status(db)
    m = re.search(r"holds raw none of 7 d, 1m (\d+) d of 90 d, 1h 730 d of 730 d\n"
                  r" +the file settles at 256.0 MiB\n", out)
    if not m or "warning       max_db_size cuts the 1m tier" not in out:
        fail(f"256 MiB: expected 1m cut short with a warning:\n{out}")
    print(f"ok: 256 MiB holds {m.group(1)} days of minutes, and status says so")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
