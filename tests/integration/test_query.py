#!/usr/bin/env python3
"""The query tool against real databases: one filled by a short daemon run,
an empty one, and a copy with a long synthetic history and awkward text.

Every command is run; CSV is read back with the csv module (and pandas when
/usr/bin/python3 has it) and compared value by value with a direct sqlite3
query; JSON and NDJSON must parse; every view runs on the empty and the full
database; statements that write, attach or set pragmas are refused and the
file's checksum does not change; each time form parses and bad ones fail.
"""
import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

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


def ok(db, *args):
    rc, out, err = run(db, *args)
    check(rc == 0, f"hindsight {' '.join(args)} exited {rc}: {err.strip()}")
    return out


def readers_agree(db, *args):
    """Runs a command with one reader and with two sharing the pages
    (HINDSIGHT_READERS): the output must be the same bytes, in order."""
    outs = []
    for n in ("1", "2"):
        rc, out, err = run(db, *args, env=dict(os.environ, HINDSIGHT_READERS=n))
        check(rc == 0, f"HINDSIGHT_READERS={n} hindsight {' '.join(args)} exited {rc}: "
              f"{err.strip()}")
        outs.append(out)
    check(outs[0] == outs[1], f"hindsight {' '.join(args)}: two readers write what one does")
    return outs[1]


def direct(db, sql, params=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()
    finally:
        con.close()


def iso_to_epoch(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


def same_value(cell, value, name, iso):
    """A CSV or JSON cell against the value sqlite3 returns."""
    if value is None:
        return cell in ("", None)
    if isinstance(value, int) and not isinstance(value, bool):
        if iso and (name == "ts" or name.endswith("_ts")):
            return iso_to_epoch(cell) == value
        return int(cell) == value
    if isinstance(value, float):
        return float(cell) == value
    if isinstance(value, bytes):
        return cell == value.hex()
    return cell == value


def compare_rows(what, names, rows, got_names, got_rows, iso=False):
    check(got_names == names, f"{what}: columns {got_names} != {names}")
    check(len(got_rows) == len(rows), f"{what}: {len(got_rows)} rows, expected {len(rows)}")
    # Rows with the same ts may come in any order: compare sorted.
    def key(r):
        return tuple("" if v is None else str(v) for v in r)
    exp = sorted(rows, key=key)
    got = sorted(got_rows, key=lambda r: key(
        [iso_to_epoch(c) if iso and (n == "ts" or n.endswith("_ts")) and c else c
         for n, c in zip(names, r)]))
    bad = 0
    for e, g in zip(exp, got):
        for n, v, c in zip(names, e, g):
            if not same_value(c, v, n, iso):
                bad += 1
                if bad <= 3:
                    check(False, f"{what}: column {n}: got {c!r}, expected {v!r}")
    check(bad == 0, f"{what}: {bad} values differ")


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return (rows[0], rows[1:]) if rows else ([], [])


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def views_of(db):
    return [r[0] for r in direct(db, "SELECT name FROM view_catalog ORDER BY name")[1]]


def make_databases(tmp):
    full = os.path.join(tmp, "full.db")
    subprocess.run([DAEMON, "--db", full, "--interval", "1", "--duration", "4",
                    "--log-level", "warn"], check=True, timeout=60)
    # An empty database: the schema and views, no samples.
    empty = os.path.join(tmp, "empty.db")
    subprocess.run([DAEMON, "--db", empty, "--interval", "1", "--once", "--log-level", "warn"],
                   check=True, timeout=60)
    con = sqlite3.connect(empty)
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' "
                            "AND name NOT IN ('view_catalog','meta')").fetchall():
        con.execute(f'DELETE FROM "{t}"')
    con.commit()
    con.close()
    # A long history: loadavg every 60 s for 10 days with a 2-day gap, so
    # export and show walk many pages; and a table of awkward text.
    month = os.path.join(tmp, "month.db")
    shutil.copy(full, month)
    con = sqlite3.connect(month)
    start = 1790000000
    rows = [(start + i * 60, i % 500, i % 300, i % 200, i % 7, 100 + i % 50)
            for i in range(14400) if not (4000 <= i < 6880)]
    con.executemany("INSERT INTO loadavg VALUES (?,?,?,?,?,?)", rows)
    con.execute("CREATE TABLE tricky (ts INTEGER, label TEXT, value REAL, note TEXT)")
    con.executemany("INSERT INTO tricky VALUES (?,?,?,?)", [
        (start, "plain", 1.5, None),
        (start + 1, 'comma, "quoted"', 0.1, ""),
        (start + 2, "two\nlines\r\nand CRLF", -2.25e-7, "ünïcødé ✓ 漢字"),
        (start + 3, " leading space", 1e300, "tab\there"),
        (start + 4, "=1+1", 123456789.123456, "'single'"),
    ])
    con.commit()
    con.close()
    return full, empty, month


def test_help(db):
    out = ok(db, "--help")
    for cmd in ("views", "show", "sql", "export", "top", "plot", "status"):
        check(cmd in out, f"--help lists {cmd}")
        sub = ok(db, cmd, "--help")
        check(sub.startswith(f"Usage: hindsight {cmd}"), f"{cmd} --help has a usage line")
        check("--db PATH" in sub, f"{cmd} --help documents --db")
    rc, _, err = run(db, "frobnicate")
    check(rc == 2 and "unknown command" in err, "an unknown command is a usage error")
    rc, _, err = run(db, "views", "--at", "now")
    check(rc == 2 and "does not apply" in err, "an option of another command is refused")
    # The message names the option, not its value, however it was typed.
    for args, name in ((("top", "--limit", "5"), "'--limit'"),
                       (("top", "--limit=5"), "'--limit'"),
                       (("status", "-c", "ts"), "'-c'"), (("status", "-cts"), "'-c'")):
        rc, _, err = run(db, *args)
        check(rc == 2 and f"option {name} does not apply" in err,
              f"{args}: the refusal names {name}: {err.strip()}")


# The whole history as the raw rows a direct query of a view reads: the
# automatic resolution would read the rollups of any minute or hour the
# short daemon run happened to complete.
RAW = ("--since", "@0", "--resolution", "raw")


def test_views_and_show(full, empty):
    for db in (full, empty):
        names, rows = direct(db, "SELECT name, title, description FROM view_catalog ORDER BY name")
        got_names, got = parse_csv(ok(db, "views", "--csv"))
        check(got_names[:3] == names, "views: columns")
        check([r[:3] for r in got] == [list(r) for r in rows], "views lists the catalog")
        check(len(json.loads(ok(db, "views", "--json"))) == len(rows), "views --json")
        for v in views_of(db):
            names, rows = direct(db, f'SELECT * FROM "{v}" WHERE ts >= 0 ORDER BY ts')
            compare_rows(f"show {v} --csv --epoch ({os.path.basename(db)})", names, rows,
                         *parse_csv(ok(db, "show", v, *RAW, "--csv", "--epoch")))
            compare_rows(f"show {v} --csv ({os.path.basename(db)})", names, rows,
                         *parse_csv(ok(db, "show", v, *RAW, "--csv")), iso=True)
            js = json.loads(ok(db, "show", v, *RAW, "--json"))
            check(isinstance(js, list), f"show {v} --json is an array")
            compare_rows(f"show {v} --json", names, rows,
                         list(js[0].keys()) if js else names,
                         [list(o.values()) for o in js])
            nd = [json.loads(line) for line in ok(db, "show", v, *RAW,
                                                  "--ndjson").splitlines()]
            compare_rows(f"show {v} --ndjson", names, rows,
                         list(nd[0].keys()) if nd else names, [list(o.values()) for o in nd])
            table = ok(db, "show", v, "--since", "@0", "--table")
            check(table.splitlines()[0].split()[0] == "ts", f"show {v} --table has a header")
    # Filters, order and limit against the same SQL.
    names, rows = direct(full, "SELECT * FROM cpu_per_core WHERE cpu_id = 0 ORDER BY ts")
    compare_rows("show --where", names, rows, *parse_csv(
        ok(full, "show", "cpu_per_core", *RAW, "--where", "cpu_id=0", "--csv",
           "--epoch")))
    names, rows = direct(full, "SELECT * FROM load ORDER BY threads_count DESC LIMIT 2")
    got_names, got = parse_csv(ok(full, "show", "load", *RAW, "--order",
                                  "threads_count:desc", "--limit", "2", "--csv", "--epoch"))
    check([int(r[got_names.index("threads_count")]) for r in got] ==
          [r[names.index("threads_count")] for r in rows], "show --order col:desc --limit")
    rc, _, err = run(full, "show", "load", "--where", "nosuch=1")
    check(rc == 2 and "no column 'nosuch'" in err and "load1" in err,
          "--where names an unknown column and lists the real ones")
    rc, _, err = run(full, "show", "load", "--where", "load1; DROP TABLE x")
    check(rc == 2, "--where with SQL in the column name is refused")
    rc, _, err = run(full, "show", "load", "--order", "nosuch")
    check(rc == 2 and "no column" in err, "--order checks the column")
    rc, _, err = run(full, "show", "no_such_view")
    check(rc == 2 and "no table or view" in err, "show of an unknown name is an error")
    # A view's SQL is also usable in the plain sqlite3 shell.
    p = subprocess.run(["sqlite3", full, "SELECT count(*) FROM cpu_usage"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and int(p.stdout) > 0, "views work in the sqlite3 shell")


def test_paging_and_text(month):
    names, rows = direct(month, "SELECT * FROM loadavg ORDER BY ts")
    text = readers_agree(month, "export", "loadavg", "--epoch")
    compare_rows("export loadavg (many pages, a gap)", names, rows, *parse_csv(text))
    check([int(r[0]) for r in parse_csv(text)[1]] == [r[0] for r in rows],
          "export loadavg: rows in ts order")
    js = json.loads(readers_agree(month, "export", "loadavg", "--json"))
    check([o["ts"] for o in js] == [r[0] for r in rows], "export --json: every row, in order")
    readers_agree(month, "export", "loadavg", "--ndjson")
    compare_rows("export loadavg --iso", names, rows,
                 *parse_csv(ok(month, "export", "loadavg")), iso=True)
    lo, hi = 1790000000 + 3000 * 60, 1790000000 + 9000 * 60
    names, rows = direct(month, "SELECT * FROM loadavg WHERE ts BETWEEN ? AND ? ORDER BY ts",
                         (lo, hi))
    compare_rows("export --since/--until", names, rows, *parse_csv(
        ok(month, "export", "loadavg", "--since", f"@{lo}", "--until", f"@{hi}", "--epoch")))
    names, rows = direct(month, "SELECT * FROM load ORDER BY ts DESC LIMIT 5000")
    got_names, got = parse_csv(ok(month, "show", "load", *RAW, "--order", "ts:desc",
                                  "--limit", "5000", "--csv", "--epoch"))
    check([int(r[0]) for r in got] == [r[0] for r in rows], "show --order ts:desc pages back")
    out_file = os.path.join(os.path.dirname(month), "out.ndjson")
    ok(month, "export", "loadavg", "--ndjson", "-o", out_file)
    with open(out_file) as f:
        check(sum(1 for line in f if json.loads(line)) == len(direct(
            month, "SELECT * FROM loadavg")[1]), "export --ndjson -o FILE")
    # RFC 4180: commas, quotes, newlines, Unicode; NULL is an empty field.
    names, rows = direct(month, "SELECT * FROM tricky ORDER BY ts")
    text = ok(month, "export", "tricky", "--epoch")
    check("\r\n" in text and text.endswith("\r\n"), "CSV lines end in CRLF")
    compare_rows("export tricky", names, rows, *parse_csv(text))
    compare_rows("sql tricky --csv", names, rows,
                 *parse_csv(ok(month, "sql", "SELECT * FROM tricky ORDER BY ts", "--csv",
                               "--epoch")))
    js = json.loads(ok(month, "sql", "SELECT * FROM tricky ORDER BY ts", "--json"))
    check([list(o.values()) for o in js] == [list(r) for r in rows], "JSON text round trip")
    # The export runs one short statement per page: it never keeps the file
    # locked, so a writer can commit between pages (checked with a writer
    # that would fail on a busy database).
    return text


def test_pandas(month):
    """pandas.read_csv on the export gives the same values as sqlite3."""
    script = r"""
import io, sqlite3, subprocess, sys
import pandas as pd
h, db = sys.argv[1], sys.argv[2]
for table in ("loadavg", "cpu", "tricky"):
    text = subprocess.run([h, "--db", db, "export", table, "--epoch"], check=True,
                          capture_output=True).stdout.decode()
    df = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[])
    con = sqlite3.connect(db)
    cur = con.execute(f"SELECT * FROM {table} ORDER BY ts")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert list(df.columns) == names, (table, list(df.columns))
    assert len(df) == len(rows), (table, len(df), len(rows))
    # Rows with the same ts may come in any order: compare sorted.
    for g, e in zip(sorted(df.astype(str).itertuples(index=False), key=tuple),
                    sorted([tuple('' if v is None else v for v in r) for r in rows],
                           key=lambda r: tuple(map(str, r)))):
        for a, b in zip(g, e):
            if isinstance(b, float):
                assert float(a) == b, (table, a, b)
            elif isinstance(b, int):
                assert int(a) == b, (table, a, b)
            else:
                assert a == b, (table, a, b)
print("pandas ok")
"""
    p = subprocess.run(["/usr/bin/python3", "-c", "import pandas"], capture_output=True)
    if p.returncode != 0:
        print("SKIP pandas check: /usr/bin/python3 cannot import pandas "
              "(apt-get install python3-pandas)")
        return
    p = subprocess.run(["/usr/bin/python3", "-c", script, HINDSIGHT, month],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and "pandas ok" in p.stdout,
          f"pandas read_csv matches sqlite3: {p.stderr.strip()[-500:]}")


def test_sql(full):
    names, rows = direct(full, "SELECT ts, user_ms FROM cpu WHERE cpu_id = ? ORDER BY ts", (-1,))
    compare_rows("sql -p", names, rows, *parse_csv(ok(
        full, "sql", "SELECT ts, user_ms FROM cpu WHERE cpu_id = :id ORDER BY ts", "-p", "id=-1",
        "--csv", "--epoch")))
    first = direct(full, "SELECT min(ts) FROM cpu")[1][0][0]
    out = ok(full, "sql", "SELECT count(*) AS n FROM cpu WHERE ts >= :since", "--since",
             f"@{first + 1}", "--csv")
    check(int(parse_csv(out)[1][0][0]) == direct(
        full, "SELECT count(*) FROM cpu WHERE ts >= ?", (first + 1,))[1][0][0],
        "sql binds :since from --since")
    rc, _, err = run(full, "sql", "SELECT :x")
    check(rc == 2 and "no value for :x" in err, "an unbound parameter is named")
    rc, _, err = run(full, "sql", "SELECT 1", "-p", "x=1")
    check(rc == 2 and "no such parameter" in err, "an unused -p is an error")
    check(ok(full, "sql", "PRAGMA table_info(cpu)", "--csv").count("\n") > 5,
          "a read-only PRAGMA runs")
    rc, _, err = run(full, "sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                     "FROM c) SELECT count(*) FROM c", "--timeout", "300ms")
    check(rc == 1 and "time limit" in err, f"a runaway query is stopped: {err.strip()}")
    rc, _, err = run(full, "sql", "SELECT length(group_concat(hex(randomblob(2000)))) FROM "
                     "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                     "WHERE x < 20000) SELECT x FROM c)", "--memory-limit", "16")
    check(rc == 1 and "memory limit" in err, f"a query past the memory limit stops: {err}")


def test_refusals(full):
    tmp = os.path.dirname(full)
    before = sha256(full)
    files_before = sorted(os.listdir(tmp))
    refused = {
        "INSERT INTO cpu SELECT * FROM cpu": "INSERT is refused",
        "DELETE FROM cpu": "DELETE is refused",
        "UPDATE agent SET rss_kb = 0": "UPDATE is refused",
        "UPDATE sqlite_master SET sql = 'x'": "",
        "DROP TABLE cpu": "refused",
        "CREATE TABLE x (a)": "refused",
        "CREATE TEMP TABLE x (a)": "refused",
        "ALTER TABLE cpu ADD COLUMN x": "refused",
        f"ATTACH '{tmp}/attached.db' AS x": "ATTACH is refused",
        "DETACH main": "DETACH is refused",
        "PRAGMA user_version = 99": "PRAGMA user_version 99 is refused",
        "PRAGMA journal_mode = DELETE": "refused",
        "PRAGMA writable_schema = 1": "refused",
        "PRAGMA query_only = 0": "refused",
        "VACUUM": "refused",
        f"VACUUM INTO '{tmp}/copy.db'": "refused",
        "REINDEX": "refused",
        "ANALYZE": "refused",
        "BEGIN IMMEDIATE": "refused",
        "SELECT 1; DELETE FROM cpu": "one statement at a time",
        "SELECT load_extension('/nonexistent')": "",
    }
    version = direct(full, "PRAGMA user_version")[1][0][0]
    for sql, msg in refused.items():
        rc, out, err = run(full, "sql", sql, "--csv")
        check(rc != 0 and err.startswith("hindsight: ") and msg in err,
              f"refused with a clear message: {sql!r} -> rc {rc}, {err.strip()!r}")
    check(sha256(full) == before, "the database file is unchanged after the refusals")
    check(sorted(os.listdir(tmp)) == files_before, "no file was created by ATTACH/VACUUM")
    check(direct(full, "PRAGMA user_version")[1][0][0] == version, "user_version unchanged")


def test_times(full):
    last = direct(full, "SELECT max(ts) FROM cpu")[1][0][0]
    good = ["now", "today", "yesterday", "15m", "2h", "3d", "1h30m", "90s", "2 hours ago",
            "30 min ago", "2h ago", "2026-11-20", "2026-11-20 03:12", "2026-11-20 03:12:05",
            "2026-11-20T03:12:00Z", "2026-11-20T04:12:00+01:00", "2026-11-20T03:12-0500",
            "03:12", "@1763600000"]
    for t in good:
        rc, _, err = run(full, "show", "cpu_usage", "--since", t, "--csv")
        check(rc == 0, f"time {t!r} parses: {err.strip()}")
    for t in ["tomorrow", "90", "15x", "2026-13-01", "2026-02-30 10:00", "2026-11-20 25:00",
              "@abc", "5 fortnights ago", ""]:
        rc, _, err = run(full, "show", "cpu_usage", "--since", t, "--csv")
        check(rc == 2 and "bad time" in err and "accepted forms" in err and "@1763600000" in err,
              f"bad time {t!r} is refused listing the forms: {err.strip()[:80]}")
    # The range selects exactly the rows in it (inclusive bounds).
    names, rows = direct(full, "SELECT * FROM cpu_usage WHERE ts BETWEEN ? AND ? ORDER BY ts",
                         (last - 1, last))
    compare_rows("--since/--until select the range", names, rows, *parse_csv(ok(
        full, "show", "cpu_usage", "--since", f"@{last - 1}", "--until", f"@{last}", "--csv",
        "--epoch")))
    iso = datetime.fromtimestamp(last, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = parse_csv(ok(full, "show", "cpu_usage", "--since", iso, "--csv", "--epoch"))[1]
    check(len(got) == 1 and int(got[0][0]) == last, "an ISO time selects that second")
    env = dict(os.environ, TZ="UTC0")
    local = datetime.fromtimestamp(last, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    p = subprocess.run([HINDSIGHT, "--db", full, "show", "cpu_usage", "--since", local, "--csv",
                        "--epoch"], capture_output=True, text=True, env=env)
    check(p.returncode == 0 and len(parse_csv(p.stdout)[1]) == 1, "local time follows TZ")


def test_top_plot_status(full, empty):
    mid = direct(full, "SELECT ts FROM cpu ORDER BY ts LIMIT 1 OFFSET 2")[1][0][0]
    out = ok(full, "top", "--at", f"@{mid}", "--window", "10s")
    for section in ("== CPU", "== Memory", "== Load", "busy_avg_pct", "load1_max"):
        check(section in out, f"top shows {section}")
    out = ok(empty, "top", "--at", "now")
    check("no samples in this window" in out, "top on an empty database says so")
    rc, _, err = run(full, "top")
    check(rc == 2 and "--at" in err, "top needs --at")
    rc, _, err = run(full, "top", "--at", "soon")
    check(rc == 2 and "accepted forms" in err, "top --at takes the time syntax")

    out = ok(full, "plot", "cpu_usage", "busy_pct", "--since", "@0")
    check(any(0x2800 <= ord(c) <= 0x28ff for c in out), "plot draws braille")
    out = ok(full, "plot", "load", "threads_count", "--since", "@0", "--spark")
    check(any(c in out for c in "▁▂▃▄▅▆▇█"), "plot --spark draws a sparkline")
    svg = os.path.join(os.path.dirname(full), "chart.svg")
    ok(full, "plot", "cpu_per_core", "busy_pct", "--where", "cpu_id=0", "--since", "@0",
       "--svg", svg)
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    texts = root.findall(f"{ns}text")
    check(root.tag == ns + "svg" and root.findall(f"{ns}polyline") and
          len([t for t in texts if t.get("text-anchor") == "end"]) >= 2 and
          len([t for t in texts if t.get("text-anchor") == "middle"]) >= 2,
          "plot --svg writes a chart with a title, value and time labels")
    check("no values" in ok(empty, "plot", "cpu_usage", "busy_pct"), "plot of nothing says so")
    rc, _, err = run(full, "plot", "cpu_usage", "nosuch")
    check(rc == 2 and "no column" in err, "plot checks the column")

    # exit status: 0 alive, 1 stale (this run has ended), 2 no database
    rc, out, err = run(full, "status", "--tables")
    check(rc in (0, 1), f"status --tables: {rc} {err.strip()}")
    for word in ("first sample", "last sample", "daemon", "overhead", "tier", "cpu", "agent",
                 "view_catalog"):
        check(word in out, f"status shows {word}")
    rows = direct(full, "SELECT count(*) FROM cpu")[1][0][0]
    line = [l for l in out.splitlines() if l.startswith("cpu ")][0]
    check(int(line.split()[1]) == rows, "status --tables counts rows per table")
    rc, out, _ = run(empty, "status")
    check(rc == 1 and "none yet" in out, "status on an empty database")
    rc, _, err = run(os.path.join(os.path.dirname(full), "missing.db"), "status")
    check(rc == 2 and "--db" in err, "a missing database names --db")


OLDER = "not present (database written by an older hindsightd)"


def test_catalog(full, tmp):
    """Whether a view has data comes from the database's catalog: a saved
    view this binary has but the database lacks was written by an older
    daemon; a view whose collector (view_catalog.collector, a column older
    catalogs lack) never ran has no data; neither is an error."""
    older = os.path.join(tmp, "older.db")
    shutil.copy(full, older)
    con = sqlite3.connect(older)
    for v in ("vmstat_rates", "pressure"):
        con.execute(f"DROP VIEW {v}")
        con.execute("DELETE FROM view_catalog WHERE name = ?", (v,))
    con.commit()
    con.close()
    for args in (("show", "vmstat_rates", "--csv"), ("export", "vmstat_rates")):
        rc, out, err = run(older, *args)
        check(rc == 0 and out == "" and f"view vmstat_rates: {OLDER}" in err,
              f"{args[0]} of a view an older daemon did not install: {rc} {err.strip()}")
    rc, out, err = run(older, "show", "vmstat_rates", "--json")
    check(rc == 0 and out.strip() == "[]", "show --json of such a view is an empty array")
    out = ok(older, "plot", "vmstat_rates", "faults_per_s")
    check(OLDER in out, f"plot of a view an older daemon did not install: {out.strip()}")
    out = ok(older, "top", "--at", "now")
    check(f"(pressure)\n{OLDER}" in out, "top says which section an older database lacks")
    rc, _, err = run(older, "show", "no_such_view")
    check(rc == 2 and "no table or view named 'no_such_view'" in err,
          "a view neither the database nor this binary has is an error")

    labelled = os.path.join(tmp, "labelled.db")
    shutil.copy(full, labelled)
    con = sqlite3.connect(labelled)
    if "collector" not in [r[1] for r in con.execute("PRAGMA table_info(view_catalog)")]:
        con.execute("ALTER TABLE view_catalog ADD COLUMN collector TEXT")  # an older catalog
    con.execute("UPDATE view_catalog SET collector = 'psi' WHERE name = 'pressure'")
    con.execute("UPDATE view_catalog SET collector = 'stat' WHERE name = 'cpu_usage'")
    con.execute("DELETE FROM collector WHERE name = 'psi'")
    for t in ("psi", "psi_1m", "psi_1h"):
        con.execute(f"DELETE FROM {t}")
    con.commit()
    con.close()
    missing = "no data (collector psi not present)"
    names = direct(labelled, "SELECT * FROM pressure LIMIT 0")[0]
    for args in (("show", "pressure", *RAW, "--csv"), ("export", "pressure")):
        rc, out, err = run(labelled, *args)
        check(rc == 0 and parse_csv(out) == (names, []) and f"view pressure: {missing}" in err,
              f"{args[0]} of a view whose collector never ran: its columns, no rows, a note: "
              f"{rc} {err.strip()}")
    out = ok(labelled, "plot", "pressure", "some_avg10_pct", "--since", "@0")
    check(missing in out and "no values" in out, "plot of a view whose collector never ran")
    at = direct(labelled, "SELECT max(ts) FROM cpu")[1][0][0]
    out = ok(labelled, "top", "--at", f"@{at}", "--window", "10s")
    check(f"(pressure)\n{missing}" in out, "top says a section's collector never ran")
    check("busy_avg_pct" in out, "top reads a view whose collector ran")
    got = parse_csv(ok(labelled, "show", "cpu_usage", *RAW, "--csv"))[1]
    check(len(got) == direct(labelled, "SELECT count(*) FROM cpu_usage")[1][0][0] > 0,
          "show reads a view whose collector ran")


def insert_ticks(con, table, ticks, values):
    """A row per ts in ticks; columns not in values are 0."""
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [[ts if c == "ts" else values.get(c, 0) for c in cols] for ts in ticks])


def make_old_history(full, tmp):
    """Two hours of 10 s ticks four days ago and two eight days ago, rolled
    up and pruned by the daemon with raw rows kept two days and 1-minute
    rows five: the first stretch is left in the 1-minute tier only, the
    second in the 1-hour tier only. Every tick a group uses 40% of a core."""
    db = os.path.join(tmp, "old.db")
    shutil.copy(full, db)
    now = int(time.time()) // 3600 * 3600
    spans = {"1m": now - 4 * 86400, "1h": now - 8 * 86400}
    ticks = [ts for start in spans.values() for ts in range(start + 10, start + 7201, 10)]
    con = sqlite3.connect(db)
    # behind the daemon's watermarks: these tables are rolled again from scratch
    for t in ("agent", "cpu", "group_sample"):
        for suffix in ("", "_1m", "_1h"):
            con.execute(f"DELETE FROM {t}{suffix}")
        con.execute("DELETE FROM rollup_state WHERE table_name = ?", (t,))
    con.execute("INSERT OR IGNORE INTO proc_group (name) VALUES ('old.service')")
    gid = con.execute("SELECT id FROM proc_group WHERE name = 'old.service'").fetchone()[0]
    insert_ticks(con, "agent", ticks, {"dur_ms": 10000, "tick_wall_us": 500,
                                       "tick_cpu_us": 300, "rss_kb": 4000})
    insert_ticks(con, "cpu", ticks, {"cpu_id": -1, "dur_ms": 10000, "user_ms": 6000,
                                     "system_ms": 2000, "idle_ms": 12000})
    insert_ticks(con, "group_sample", ticks, {"group_id": gid, "dur_ms": 10000,
                                              "user_ms": 3000, "system_ms": 1000,
                                              "procs_count": 1, "rss_kb": 1000})
    con.commit()
    con.close()
    config = os.path.join(tmp, "old.yaml")
    with open(config, "w") as f:
        f.write(f"db: {db}\ninterval: 1s\nretention:\n  raw: 2d\n  1m: 5d\n  1h: 1y\n")
    # (ages are judged only on a clock watched for the settle period, 5 min)
    subprocess.run([DAEMON, "--config", config, "--duration", "6", "--log-level", "warn"],
                   check=True, timeout=60, env=dict(os.environ, HINDSIGHT_CLOCK_SETTLE_S="0"))
    return db, spans


def local(ts):
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def test_old_times(full, tmp):
    """top and status on times whose raw rows were pruned: they read the
    rollups the views read, not the raw tables."""
    db, spans = make_old_history(full, tmp)
    for tier, start in spans.items():
        _, [(raw,)] = direct(db, "SELECT count(*) FROM cpu WHERE ts BETWEEN ? AND ?",
                             (start, start + 7200))
        _, [(kept,)] = direct(db, f"SELECT count(*) FROM cpu_{tier} WHERE ts BETWEEN ? AND ?",
                              (start, start + 7200))
        check(raw == 0 and kept > 0, f"the daemon left the {tier} rows only ({raw} raw)")
    _, [(m1,)] = direct(db, "SELECT count(*) FROM cpu_1m WHERE ts <= ?", (spans["1h"] + 7200,))
    check(m1 == 0, "the daemon pruned the 1m rows of the older stretch")
    for tier, start in spans.items():
        bucket = 60 if tier == "1m" else 3600
        at = start + 3600 + 1234  # inside the stretch, not on a bucket edge
        out = ok(db, "top", "--at", f"@{at}")
        head = out.splitlines()[0]
        check("no samples" not in out, f"top at a time kept in {tier} finds its ticks")
        lo = (at - 150 + bucket - 1) // bucket * bucket - bucket
        hi = (at + 150 + bucket - 1) // bucket * bucket
        check(f"window {local(lo)} .. {local(hi)} ({hi - lo} s)" in head and
              ("1-hour" if tier == "1h" else "1-minute") in head,
              f"top's window in {tier} is whole buckets: {head}")
        cpu = out.split("== CPU")[1].split("==")[0]
        check("40.0" in cpu, f"top's CPU from {tier} rollups: {cpu}")
        group = [l for l in out.splitlines() if l.startswith("old.service")]
        check(group and group[0].split()[1] == "40.0%",
              f"top's group CPU from {tier} rollups is the raw 40%: {group}")
    # between the stretches: the nearest ticks are in the 1h and 1m tiers
    out = ok(db, "top", "--at", f"@{spans['1h'] + 86400}")
    _, [(before,)] = direct(db, "SELECT max(ts) FROM agent_1h WHERE ts <= ?",
                            (spans["1h"] + 86400,))
    _, [(after,)] = direct(db, "SELECT min(ts) FROM agent_1m")
    check(f"no samples in this window. Nearest before: {local(before)}. "
          f"Nearest after: {local(after)}." in out, f"top points at other tiers: {out[:300]}")
    _, out, _ = run(db, "status")
    _, [(first,)] = direct(db, "SELECT min(ts) FROM agent_1h")
    check(f"first sample  {local(first)} (kept as 1-hour rollups)" in out,
          f"status's first sample is the oldest kept in any tier ({local(first)}): {out[:300]}")


def parents_open_to_others(path):
    """Whether every directory above path lets other users pass through."""
    parent = os.path.dirname(os.path.abspath(path))
    while parent != os.path.dirname(parent):
        if not os.stat(parent).st_mode & 0o001:
            return False
        parent = os.path.dirname(parent)
    return True


def test_other_user(full, tmp):
    """A reader who cannot write the directory (the daemon stopped, so no
    -shm file exists and none can be created) still reads the database. The
    reader runs a copy of the binary in tmp: the build tree may sit under a
    0700 home directory that user cannot enter."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        print("SKIP other-user check: needs root and runuser")
        return
    if not parents_open_to_others(tmp):
        print(f"SKIP other-user check: a directory above {tmp} is closed to other users")
        return
    os.chmod(tmp, 0o755)
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    os.chmod(bindir, 0o755)
    exe = shutil.copy2(HINDSIGHT, bindir)
    d = os.path.join(tmp, "readonly dir")
    os.mkdir(d)
    db = os.path.join(d, "ro?#.db")
    shutil.copy(full, db)
    os.chmod(d, 0o755)
    os.chmod(db, 0o644)
    p = subprocess.run(["runuser", "-u", "nobody", "--", exe, "--db", db, "sql",
                        "SELECT count(*) FROM cpu", "--csv"], capture_output=True, text=True)
    check(p.returncode == 0 and int(parse_csv(p.stdout)[1][0][0]) ==
          direct(full, "SELECT count(*) FROM cpu")[1][0][0],
          f"a user who cannot write the directory reads the database: {p.stderr.strip()}")
    check(sorted(os.listdir(d)) == ["ro?#.db"], "the reader created no file beside it")


def test_live(tmp):
    """Queries while the daemon writes: all succeed and no tick is lost."""
    live = os.path.join(tmp, "live.db")
    d = subprocess.Popen([DAEMON, "--db", live, "--interval", "1", "--duration", "5",
                          "--log-level", "warn"])
    deadline = time.time() + 4.5
    runs = 0
    def ready():
        try:  # the file appears before the daemon's first migration commits
            return os.path.exists(live) and views_of(live)
        except sqlite3.Error:
            return False
    while time.time() < deadline:
        if ready():
            for args in (("show", "cpu_usage", "--since", "@0", "--csv"),
                         ("export", "cpu"), ("status",)):
                rc, out, err = run(live, *args)
                check(rc == 0 or "none yet" in out,
                      f"{args[0]} while the daemon writes: {err.strip()}")
                runs += 1
        time.sleep(0.1)
    check(d.wait(timeout=30) == 0, "the daemon exits 0 after running beside queries")
    failures_count = direct(live, "SELECT coalesce(sum(commit_failures_count), 0) FROM agent")
    check(failures_count[1][0][0] == 0, "no tick failed to commit while queries ran")
    check(len(direct(live, "SELECT ts FROM agent")[1]) >= 4, "the daemon stored its ticks")
    check(runs > 3, "queries ran during the daemon's run")


def daemon_until(config, db, done, limit_s=240):
    """Runs the daemon on config until done(connection to db) holds (or
    limit_s passes), then stops it with SIGTERM: waits as long as a slow
    build needs and no longer."""
    d = subprocess.Popen([DAEMON, "--config", config, "--duration", str(limit_s + 30),
                          "--log-level", "warn"],
                         env=dict(os.environ, HINDSIGHT_CLOCK_SETTLE_S="0"))
    deadline = time.time() + limit_s
    while d.poll() is None and time.time() < deadline:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                if done(con):
                    break
            finally:
                con.close()
        except sqlite3.Error:
            pass
        time.sleep(0.5)
    d.terminate()
    check(d.wait(timeout=60) == 0, "the daemon exits 0 on SIGTERM")


def test_tiers(full, tmp):
    """Three days of 10 s CPU rows, rolled and pruned by the daemon (raw kept
    for one day), read at every resolution: each reads every instant once,
    so the total time is the same; show and export walk across the tier
    boundaries in order, forwards and backwards."""
    db = os.path.join(tmp, "tiers.db")
    shutil.copy(full, db)
    con = sqlite3.connect(db)
    end = int(time.time()) // 3600 * 3600 - 7200
    start = end - 3 * 86400
    # history behind the daemon's watermark: cpu is rolled again from scratch
    for t in ("cpu", "cpu_1m", "cpu_1h", "rollup_state WHERE table_name = 'cpu'"):
        con.execute(f"DELETE FROM {t}")
    con.executemany("INSERT INTO cpu VALUES (?, -1, 10000, ?, 0, 500, ?, 0, 0, 0, 0, 0, 0)",
                    [(ts, ts % 7000, 9500 - ts % 7000) for ts in range(start + 10, end + 1, 10)])
    con.commit()
    con.close()
    config = os.path.join(tmp, "tiers.yaml")
    with open(config, "w") as f:
        f.write(f"db: {db}\ninterval: 1s\nretention:\n  raw: 1d\n  1m: 30d\n  1h: 1y\n")
    # (ages are judged only on a clock watched for the settle period, 5 min)
    # The daemon rolls and prunes a slice per tick, as fast as the build
    # (a sanitized one on a busy machine is slow): it runs until cpu is
    # rolled to the end and raw rows are pruned to a day.

    def caught_up(con):
        (oldest,), = con.execute("SELECT min(ts) FROM cpu")
        rolled = dict(con.execute(
            "SELECT tier, rolled_ts FROM rollup_state WHERE table_name = 'cpu'"))
        return (oldest is not None and oldest > start + 86400 and
                rolled.get("1m", 0) >= end and rolled.get("1h", 0) >= end)
    daemon_until(config, db, caught_up)
    _, [(raw_from,)] = direct(db, "SELECT min(ts) FROM cpu")
    check(raw_from > start + 86400, f"the daemon pruned raw rows (oldest {raw_from})")
    _, [(total,)] = direct(db, "SELECT sum(dur_ms) FROM cpu_auto WHERE cpu_id = -1")
    durs = {}
    for res in ("auto", "raw", "1m", "1h"):
        out = ok(db, "sql", "SELECT sum(dur_ms), count(DISTINCT dur_ms) FROM cpu_usage",
                 "--resolution", res, "--csv")
        got, kinds = (int(v) for v in parse_csv(out)[1][0])
        check(got == total, f"sql --resolution {res}: {got} ms of time, _auto has {total}")
        rows = parse_csv(readers_agree(db, "show", "cpu_usage", "--since", f"@{start}",
                                       "--resolution", res, "-c", "ts,dur_ms", "--csv",
                                       "--epoch"))[1]
        ts = [int(r[0]) for r in rows]
        check(ts == sorted(set(ts)), f"show --resolution {res}: ts ascending, no repeats")
        durs[res] = {int(r[1]) for r in rows}
        check(sum(int(r[1]) for r in rows) == total,
              f"show --resolution {res} covers the whole history once")
        back = parse_csv(readers_agree(db, "show", "cpu_usage", "--since", f"@{start}",
                                       "--resolution", res, "--order", "ts:desc",
                                       "-c", "ts,dur_ms", "--csv", "--epoch"))[1]
        check(back == rows[::-1], f"show --resolution {res} --order ts:desc")
    check(3600000 in durs["1h"] and len(durs["1h"]) > 1, "1h reads hours, then finer rows")
    check(3600000 not in durs["1m"] and 10000 in durs["raw"], "1m and raw read their tiers")
    # auto over three days: 1-minute rows, the recent end raw
    check(60000 in durs["auto"] and 3600000 not in durs["auto"], "show auto over 3 days: 1m")
    exported = parse_csv(readers_agree(db, "export", "cpu_usage", "--since", f"@{start}",
                                       "-c", "ts,dur_ms", "--epoch"))[1]
    check(sum(int(r[1]) for r in exported) == total and 10000 in {int(r[1]) for r in exported},
          "export reads the finest tier of each part")


def main():
    if not os.path.exists(HINDSIGHT):
        print("hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-query-")
    try:
        full, empty, month = make_databases(tmp)
        test_help(full)
        test_views_and_show(full, empty)
        test_paging_and_text(month)
        test_pandas(month)
        test_sql(full)
        test_refusals(full)
        test_times(full)
        test_top_plot_status(full, empty)
        test_catalog(full, tmp)
        test_old_times(full, tmp)
        test_other_user(full, tmp)
        test_live(tmp)
        test_tiers(full, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all query checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
