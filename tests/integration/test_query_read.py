#!/usr/bin/env python3
"""Reading the history at a glance, against a database a real daemon wrote.

Tables fit 100 and 160 columns, through $COLUMNS and through a real
terminal (a pty of that size); -c/--columns picks columns; numbers read in
units, exact with --raw and in CSV; piping without a format says it writes
CSV.
"""
import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import time

BUILD = os.environ.get("BUILD_DIR", "build")
HINDSIGHT = os.path.join(BUILD, "hindsight")
DAEMON = os.path.join(BUILD, "hindsightd")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(db, *args, env=None):
    p = subprocess.run([HINDSIGHT, "--db", db, *args], capture_output=True, timeout=60,
                       env=env)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def ok(db, *args, env=None):
    rc, out, err = run(db, *args, env=env)
    check(rc == 0, f"hindsight {' '.join(args)} exited {rc}: {err.strip()}")
    return out


def direct(db, sql, params=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = con.execute(sql, params)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return (rows[0], rows[1:]) if rows else ([], [])


def in_terminal(db, args, cols, stdout_tty=True, env=None):
    """Runs hindsight with stdout (or only stderr) on a pty of cols columns;
    returns (exit code, what the terminal showed, what the pipe got)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    env = dict(env or os.environ)
    env.pop("COLUMNS", None)
    p = subprocess.Popen([HINDSIGHT, "--db", db, *args], stdin=subprocess.DEVNULL,
                         stdout=slave if stdout_tty else subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    shown = b""
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    piped = p.stdout.read() if p.stdout else b""
    rc = p.wait(timeout=30)
    os.close(master)
    return rc, shown.decode("utf-8").replace("\r\n", "\n"), piped.decode("utf-8")


def make_database(tmp):
    db = os.path.join(tmp, "full.db")
    subprocess.run([DAEMON, "--db", db, "--interval", "1", "--duration", "3",
                    "--log-level", "warn"], check=True, timeout=60)
    return db


WIDE = (("views",), ("show", "disk_io", "--since", "@0"), ("show", "tcp", "--since", "@0"),
        ("show", "exec_log", "--since", "@0"), ("show", "top_processes", "--since", "@0"))


def widest(text):
    return max((len(line) for line in text.splitlines()), default=0)


def test_fits(db):
    for cols in (100, 160):
        env = dict(os.environ, COLUMNS=str(cols))
        for args in WIDE:
            rc, out, err = run(db, *args, "--table", env=env)
            check(rc == 0 and out.count("\n") >= 2, f"{args} --table at {cols}: {err}")
            check(widest(out) <= cols,
                  f"COLUMNS={cols} hindsight {' '.join(args)}: a line of {widest(out)}")
            rc, shown, _ = in_terminal(db, args, cols)
            check(rc == 0 and "--" in shown, f"{args} in a terminal: {shown[:200]}")
            table = [l for l in shown.splitlines() if not l.startswith("hindsight: ")]
            check(max(len(l) for l in table) <= cols,
                  f"{cols}-column terminal: hindsight {' '.join(args)} has a line of "
                  f"{max(len(l) for l in table)}")
    # what did not fit is named, with how to get it
    rc, out, err = run(db, "show", "tcp", "--since", "@0", "--table",
                       env=dict(os.environ, COLUMNS="100"))
    check(re.match(r"hindsight: \d+ more columns \(-c picks, --csv has all\): "
                   r"[a-z_]+, ", err) and len(err.rstrip("\n")) <= 100,
          f"left-out columns are named on stderr, in the width: {err.strip()}")
    # no width given and no terminal: as wide as it needs
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    rc, out, err = run(db, "show", "tcp", "--since", "@0", "--table", env=env)
    check(out.splitlines()[0].split()[-1] == "dur_ms" and not err,
          f"--table into a pipe keeps every column: {err.strip()}")


def test_csv_note(db):
    """Piped to less without a format: CSV, and the terminal is told."""
    rc, shown, piped = in_terminal(db, ("show", "cpu_usage", "--since", "@0"), 100,
                                   stdout_tty=False)
    check(rc == 0 and piped.startswith("ts,"), "piped: CSV")
    check("stdout is not a terminal: writing CSV (--table keeps the table)" in shown,
          f"piped: the terminal is told it is CSV: {shown!r}")
    rc, out, err = run(db, "show", "cpu_usage", "--since", "@0")
    check(rc == 0 and out.startswith("ts,") and err == "",
          f"no terminal at all: CSV and no note: {err!r}")
    rc, shown, piped = in_terminal(db, ("show", "cpu_usage", "--since", "@0", "--table"), 100,
                                   stdout_tty=False)
    check(rc == 0 and piped.startswith("ts ") and "writing CSV" not in shown,
          "--table into a pipe: the table, no note")


def test_columns(db):
    names, rows = direct(db, "SELECT busy_pct, ts FROM cpu_usage ORDER BY ts")
    got_names, got = parse_csv(ok(db, "show", "cpu_usage", "--since", "@0", "--resolution",
                                  "raw", "-c", "busy_pct,ts", "--csv", "--epoch"))
    check(got_names == names, f"-c picks and orders the columns: {got_names}")
    check([[float(a), int(b)] for a, b in got] == [list(r) for r in rows],
          "-c keeps the values")
    got_names, got = parse_csv(ok(db, "export", "cpu", "--columns", "ts,cpu_id,user_ms",
                                  "--where", "cpu_id=-1", "--epoch"))
    _, rows = direct(db, "SELECT ts, cpu_id, user_ms FROM cpu WHERE cpu_id = -1 ORDER BY ts")
    check(got_names == ["ts", "cpu_id", "user_ms"] and
          [tuple(map(int, r)) for r in got] == rows, "export --columns")
    got_names, got = parse_csv(ok(db, "show", "cpu_usage", "--since", "@0", "-c", "ts",
                                  "--where", "busy_pct>=0", "--order", "busy_pct:desc",
                                  "--csv"))
    check(got_names == ["ts"] and got, "--where and --order may name columns -c leaves out")
    got_names, got = parse_csv(ok(db, "views", "-c", "name", "--csv"))
    check(got_names == ["name"] and ["cpu_usage"] in got, "views -c name")
    for args in (("show", "cpu_usage", "-c", "nosuch"), ("views", "-c", "name,nosuch"),
                 ("export", "cpu", "-c", "ts,"), ("show", "cpu_usage", "-c", 'ts"')):
        rc, _, err = run(db, *args)
        check(rc == 2 and "--columns" in err, f"{args}: refused naming --columns: {err.strip()}")
    rc, _, err = run(db, "show", "cpu_usage", "-c", "nosuch")
    check("no column 'nosuch'" in err and "busy_pct" in err, "the real columns are listed")
    rc, _, err = run(db, "status", "-c", "ts")
    check(rc == 2 and "does not apply" in err, "-c does not apply to status")


def test_units(db):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = ok(db, "show", "memory_usage", "--since", "@0", "--table",
             "-c", "ts,used_kb,used_pct", env=env)
    line = out.splitlines()[2]
    check(re.search(r"\d (KiB|MiB|GiB)\s+\d+\.\d%$", line),
          f"a table reads in units: {line!r}")
    raw = ok(db, "show", "memory_usage", "--since", "@0", "--resolution", "raw", "--table",
             "--raw", "-c", "ts,used_kb", env=env).splitlines()[2]
    _, rows = direct(db, "SELECT used_kb FROM memory_usage ORDER BY ts LIMIT 1")
    check(raw.split()[-1] == str(rows[0][0]), f"--raw: exact values: {raw!r}")
    csv_text = ok(db, "show", "memory_usage", "--since", "@0", "--resolution", "raw", "--csv",
                  "-c", "used_kb")
    check(parse_csv(csv_text)[1][0][0] == str(rows[0][0]), "CSV: exact values")
    # nothing in a table reads like 4.83963e+08 or 34896.325000000004
    for args in (("show", "disk_io", "--since", "@0"), ("show", "pressure", "--since", "@0"),
                 ("show", "load", "--since", "@0"), ("show", "agent_health", "--since", "@0")):
        out = ok(db, *args, "--table", env=env)
        bad = re.findall(r"\d\.\d{4,}|\de[+-]\d", out)
        check(not bad, f"{args[1]}: no long fractions or exponents: {bad[:3]}")


def test_times(db):
    """The forms people type from journalctl and date -d, on the command line."""
    last = direct(db, "SELECT max(ts) FROM cpu")[1][0][0]
    for form in ("-5m", "now-5m", "now - 1h", "+1h", "yesterday 03:00", "today 13:12",
                 "monday 09:00", "Sun", str(last), f"@{last}"):
        rc, out, err = run(db, "show", "cpu_usage", "--since", form, "--until", "now+1h",
                           "--csv")
        check(rc == 0, f"--since {form!r} parses: {err.strip()[:120]}")
    got = parse_csv(ok(db, "show", "cpu_usage", "--since", str(last), "--csv", "--epoch"))[1]
    check([int(r[0]) for r in got] == [last], "a bare epoch selects that second")
    rc, _, err = run(db, "show", "cpu_usage", "--since=-5m ago")
    check(rc == 2 and "after the sign" in err, f"'-5m ago' is refused: {err.strip()[:80]}")
    rc, _, err = run(db, "show", "cpu_usage", "--since", "12345")
    check(rc == 2 and "9 digits" in err, f"a short bare number is refused: {err.strip()[:80]}")


def status(db, *args):
    p = subprocess.run([HINDSIGHT, "--db", db, "status", *args], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_status(db, tmp):
    """status --json and the exit code a monitoring check reads: 0 alive,
    1 stale or no tick yet, 2 no database; a few lines for a person."""
    live = os.path.join(tmp, "live.db")
    d = subprocess.Popen([DAEMON, "--db", live, "--interval", "1", "--duration", "5",
                          "--log-level", "warn"])
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            rc, out, _ = status(live, "--json")
            if rc == 0:
                break
            time.sleep(0.2)
        js = json.loads(out)
        check(rc == 0 and js["state"] == "alive" and js["age_s"] <= 17 and
              js["interval_s"] == 1, f"alive: {rc} {out[:200]}")
        rc, out, _ = status(live)
        check(rc == 0 and "daemon        alive" in out, f"alive, for people: {rc}")
        check(len(out.splitlines()) <= 8 and "table " not in out and
              max(len(l) for l in out.splitlines()) <= 100,
              f"status is a few lines within 100 columns; --tables has the rest:\n{out}")
        # ages and costs read in units: "(0 s ago)", "0.6% of one core,
        # tick 24.2 ms avg", never "(0 ago)", "0.620%" or "24.24 ms"
        check(re.search(r"^last sample .*\(\d+ s ago\)$", out, re.M),
              f"the last sample's age in seconds:\n{out}")
        check(re.search(r"of one core, tick \d+(\.\d)? (µs|ms|s) avg", out) and
              not re.search(r"\d\.\d\d\d|\.\d\d ms", out),
              f"overhead in units, no long fractions:\n{out}")
    finally:
        d.wait(timeout=60)
    stale = os.path.join(tmp, "stale.db")
    shutil.copy(db, stale)
    con = sqlite3.connect(stale)
    con.execute("DELETE FROM agent_1m")
    con.execute("DELETE FROM agent_1h")
    con.execute("UPDATE agent SET ts = ts - 3600")
    con.commit()
    con.close()
    rc, out, _ = status(stale, "--json")
    js = json.loads(out)
    check(rc == 1 and js["state"] == "stale" and js["age_s"] >= 3600, f"stale: {rc} {out[:200]}")
    for key in ("first_ts", "last_ts", "interval_s", "overhead_last_hour", "problems_last_day",
                "max_db_bytes", "keep_s", "schema_version", "file_bytes"):
        check(key in js, f"status --json has {key}")
    rc, out, _ = status(stale)
    check(rc == 1 and "NOT WRITING" in out, "stale, for people")
    # a rollup row in progress is labelled with its bucket's end, still to
    # come: the tier holds nothing newer than the last tick
    con = sqlite3.connect(stale)
    last = con.execute("SELECT max(ts) FROM agent").fetchone()[0]
    con.execute("INSERT INTO agent_1h (ts, samples_count, dur_ms) VALUES (?, 1, 1000)",
                (last // 3600 * 3600 + 7200,))
    con.commit()
    con.close()
    rc, out, _ = status(stale, "--tables", "--json")
    js = json.loads(out)
    check(all(t["newest_ts"] is None or t["newest_ts"] <= js["last_ts"] for t in js["tiers"][:3])
          and any(t["name"] == "agent" for t in js["tables"]),
          f"no tier's newest is after the last tick: {js['tiers'][:3]}")
    rc, out, _ = status(stale, "--tables")
    check(rc == 1 and "removed (last, total)" in out and re.search(r"^agent +\d", out, re.M),
          "status --tables lists tiers and tables")
    empty = os.path.join(tmp, "empty.db")
    shutil.copy(db, empty)
    con = sqlite3.connect(empty)
    for t in ("agent", "agent_1m", "agent_1h"):
        con.execute(f"DELETE FROM {t}")
    con.commit()
    con.close()
    rc, out, _ = status(empty, "--json")
    check(rc == 1 and json.loads(out)["state"] == "no ticks", f"no tick yet: {rc} {out}")
    for bad in (os.path.join(tmp, "missing.db"), os.path.join(tmp, "garbage.db")):
        if bad.endswith("garbage.db"):
            with open(bad, "w") as f:
                f.write("not a database\n" * 100)
        rc, out, err = status(bad, "--json")
        js = json.loads(out) if out else {}
        check(rc == 2 and js.get("state") == "no database" and js.get("error"),
              f"no database ({os.path.basename(bad)}): {rc} {out} {err}")
        rc, out, err = status(bad)
        check(rc == 2 and err.startswith("hindsight: "), f"no database, for people: {rc}")
    rc, _, err = status(db, "--csv")
    check(rc == 2 and "--json" in err, "status takes --json, not --csv")


def main():
    if not os.path.exists(HINDSIGHT):
        print("hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-read-")
    try:
        db = make_database(tmp)
        test_fits(db)
        test_csv_note(db)
        test_columns(db)
        test_units(db)
        test_times(db)
        test_status(db, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all reading checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
