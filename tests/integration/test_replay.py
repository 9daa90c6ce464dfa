#!/usr/bin/env python3
"""hindsight replay in a real terminal: tmux runs it at 100x30 and 160x50
on a database a short daemon run wrote while two known processes ran (one
burning CPU, one holding memory, one writing to disk), and the test reads
the screen after each key it sends: a step moves the time shown by one tick
and back, ten ticks, to the oldest and the newest; sorting by memory or I/O
puts another process first, a filter narrows the rows, a jump goes to the
time asked, the resolution key changes the resolution, and q ends the
program with the terminal restored. Started without --at while a
daemon writes, replay follows the newest tick. Exit 77 without tmux.
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

BUILD = os.environ.get("BUILD_DIR", "build")
HINDSIGHT = os.path.abspath(os.path.join(BUILD, "hindsight"))
DAEMON = os.path.abspath(os.path.join(BUILD, "hindsightd"))
WAIT_S = 20  # paid only when the screen never shows what is expected
failures = []

BURN = "import time\nwhile True:\n    pass\n"
HOLD = "import time\nb = bytearray(300 << 20)\nb[::4096] = b'x' * len(b[::4096])\ntime.sleep(600)\n"
# held memory keeps it among the largest processes the daemon records
WRITE = ("import os, sys, time\nb = bytearray(120 << 20)\nb[::4096] = b'x' * len(b[::4096])\n"
         "f = open(sys.argv[1], 'wb')\nwhile True:\n"
         "    f.seek(0)\n    f.write(os.urandom(1 << 20))\n    f.flush()\n"
         "    os.fsync(f.fileno())\n    time.sleep(0.2)\n")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class Terminal:
    """A tmux server of our own (its own socket, no configuration) with one
    session running a command at a given size."""

    def __init__(self, tmp, name, cols, lines, command):
        self.sock = os.path.join(tmp, f"tmux-{name}")
        self.name = name
        self.tmux("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(lines),
                  f"{command}; echo EXITED $?; sleep 120")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=30)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def wait(self, pred, what):
        """The screen once pred holds for it; fails after WAIT_S."""
        end = time.time() + WAIT_S
        while True:
            text = self.screen()
            if pred(text):
                return text
            if time.time() > end:
                check(False, f"{what}; the screen was:\n{text}")
                return text
            time.sleep(0.1)

    def alternate_on(self):
        return self.tmux("display-message", "-p", "-t", self.name,
                         "#{alternate_on}").stdout.strip()

    def close(self):
        self.tmux("kill-server")


def title(text):
    return text.splitlines()[0] if text else ""


def process_rows(text):
    """The rows under the processes' header: (pid, comm)."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if "COMMAND" in line and "PID" in line:
            for row in lines[i + 1:]:
                parts = row.split()
                if len(parts) < 2 or not parts[0].isdigit():
                    break
                out.append((int(parts[0]), parts[1]))
    return out


def before(text, first, second):
    """Whether process first is listed above process second."""
    names = [c for _, c in process_rows(text)]
    return first in names and (second not in names or names.index(first) < names.index(second))


def make_database(tmp):
    """A daemon run at 1 s while hsburn burns a core, hsmem holds 300 MiB
    and hswrite writes 5 MiB/s to disk: named by links to python3, so
    their comm is their name."""
    for name in ("hsburn", "hsmem", "hswrite"):
        # the interpreter itself: "python3" may be a wrapper going by its name
        os.symlink(os.path.realpath(sys.executable), os.path.join(tmp, name))
    burn = subprocess.Popen([os.path.join(tmp, "hsburn"), "-c", BURN])
    hold = subprocess.Popen([os.path.join(tmp, "hsmem"), "-c", HOLD])
    write = subprocess.Popen([os.path.join(tmp, "hswrite"), "-c", WRITE,
                              os.path.join(tmp, "written")])
    db = os.path.join(tmp, "replay.db")
    try:
        time.sleep(1.5)
        subprocess.run([DAEMON, "--db", db, "--interval", "1", "--duration", "8",
                        "--log-level", "warn"], check=True, timeout=120)
    finally:
        for p in (burn, hold, write):
            p.kill()
            p.wait()
    return db


def add_row(con, table, **values):
    """A row with these values, every other column 0."""
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    row = {c: 0 for c in cols}
    row.update(values)
    con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [row[c] for c in cols])


def add_events(db, lines, ts):
    """Kernel log lines (ts, priority, text), and at ts an OOM kill and a
    process killed by a signal."""
    con = sqlite3.connect(db)
    add_row(con, "oom_kill", ts=ts, time_ns=ts * 10**9, pid=777, comm="hog", anon_rss_kb=99 << 10)
    add_row(con, "process_exit", ts=ts, time_ns=ts * 10**9, pid=778, comm="victim", signal=9,
            exit_code=None)
    con.execute("INSERT OR IGNORE INTO kmsg_boot (name) VALUES ('test-boot')")
    boot = con.execute("SELECT id FROM kmsg_boot WHERE name = 'test-boot'").fetchone()[0]
    for seq, (t, prio, msg) in enumerate(lines):
        con.execute("INSERT INTO kmsg (ts, boot_id, seq, time_us, priority, facility, message) "
                    "VALUES (?, ?, ?, 0, ?, 0, ?)", (t, boot, 90000 + seq, prio, msg))
    con.commit()
    con.close()


def add_services(db, ts):
    """At tick ts a slice using a core and a service below it using 40% of
    one: the slice's figure includes the service's."""
    con = sqlite3.connect(db)
    dur = con.execute("SELECT dur_ms FROM agent WHERE ts = ?", (ts,)).fetchone()[0]
    con.execute("INSERT INTO cgroup(id, inode, parent_id, path, kind, name, unit, first_seen_ts) "
                "VALUES (9001, 990001, NULL, '/hs.slice', 'slice', 'hs.slice', 'hs.slice', ?), "
                "(9002, 990002, 9001, '/hs.slice/hsweb.service', 'service', 'hsweb.service', "
                "'hsweb.service', ?)", (ts - 100, ts - 100))
    con.executemany("INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) "
                    "VALUES (?, ?, ?, ?)", [(ts, 9001, dur, dur * 1000), (ts, 9002, dur, dur * 400)])
    con.commit()
    con.close()


def test_keys(db, tmp):
    # ticks where the burner used more CPU and the holder more memory, where
    # nothing else on the machine was killed (the events fit the screen), and
    # that lasted a little longer than their second (as most do)
    both = rows(db, "SELECT b.ts FROM top_processes b JOIN top_processes m ON m.ts = b.ts "
                "JOIN top_processes w ON w.ts = b.ts JOIN agent a ON a.ts = b.ts "
                "WHERE b.comm = 'hsburn' AND m.comm = 'hsmem' AND w.comm = 'hswrite' "
                "AND b.cpu_pct > m.cpu_pct AND m.rss_kb > b.rss_kb AND w.write_bytes > 0 "
                "AND NOT EXISTS (SELECT 1 FROM process_exit AS x "
                "WHERE x.signal IS NOT NULL AND x.ts > b.ts - 2 AND x.ts <= b.ts) "
                "ORDER BY a.dur_ms > 1000 DESC, b.ts")
    ticks = [r[0] for r in rows(db, "SELECT ts FROM agent ORDER BY ts")]
    both = [ts for (ts,) in both if ticks[0] < ts < ticks[-1]]
    if not check(both and len(ticks) >= 5,
                 f"the run has ticks with both processes: {both} of {ticks}"):
        return
    at = both[0]
    nxt = min(t for t in ticks if t > at)
    prev = max(t for t in ticks if t < at)
    # a tick's events are those after the tick before it, up to its own time
    # and the OOM kill, the kernel's errors and the killed processes come
    # first however many lines the kernel log has
    add_events(db, [(prev, 4, "line of the tick before"), (at, 4, "line of this tick")] +
               [(at, 4, f"trace line {i}") for i in range(30)] +
               [(at, 3, "error of this tick")], at)
    add_services(db, at)
    check_events(db, tmp, at, prev)
    term = Terminal(tmp, "keys", 100, 30,
                    f"TZ=UTC0 {HINDSIGHT} --db {db} replay --at @{at}")
    try:
        s = term.wait(lambda s: utc(at) in title(s), f"replay opens at {utc(at)}")
        check(re.search(r" \d+s tick, raw ", title(s)),
              f"the title says the tick and tier: {title(s)}")
        for word in ("CPU   busy", "MEM   used", "LOAD", "PSI", "DSK", "NET", "GROUPS by CPU",
                     "PROCESSES by CPU", "EVENTS after"):
            check(word in s, f"the screen shows {word}")
        check(all(len(l) <= 100 for l in s.splitlines()), "every line fits 100 columns")
        check(before(s, "hsburn", "hsmem"),
              f"by CPU the burner is above the holder: {process_rows(s)}")

        term.keys("t")
        term.wait(lambda s: utc(nxt) in title(s), f"t steps to the next tick {utc(nxt)}")
        term.keys("T")
        term.wait(lambda s: utc(at) in title(s), f"T steps back to {utc(at)}")
        term.keys("Right")
        term.wait(lambda s: utc(nxt) in title(s), "Right steps forward")
        term.keys("Left")
        term.wait(lambda s: utc(at) in title(s), "Left steps back")

        term.keys("m")
        s = term.wait(lambda s: "PROCESSES by memory" in s, "m sorts by memory")
        check(before(s, "hsmem", "hsburn"),
              f"by memory the holder is above the burner: {process_rows(s)}")
        term.keys("c")
        s = term.wait(lambda s: "PROCESSES by CPU" in s, "c sorts by CPU again")
        check(before(s, "hsburn", "hsmem"), "by CPU the burner is above the holder again")
        term.keys("i")
        s = term.wait(lambda s: "PROCESSES by I/O" in s, "i sorts by I/O")
        check(before(s, "hswrite", "hsburn") and before(s, "hswrite", "hsmem"),
              f"by I/O the writer is above the others: {process_rows(s)}")
        term.keys("c")
        s = term.wait(lambda s: "PROCESSES by CPU" in s, "c sorts by CPU once more")

        shown = len(process_rows(s))
        term.keys("/")
        term.wait(lambda s: "show names containing" in s, "/ asks for a text")
        term.keys("hsmem", "Enter")
        s = term.wait(lambda s: "matching 'hsmem'" in s, "the filter applies")
        got = process_rows(s)
        check(got and all(c == "hsmem" for _, c in got) and len(got) < shown,
              f"the filter narrows the processes to hsmem: {got} (from {shown})")
        term.keys("/", "Enter")
        s = term.wait(lambda s: "matching" not in s, "an empty filter shows all again")
        check(len(process_rows(s)) == shown, "all processes are back")

        term.keys("Home")
        term.wait(lambda s: utc(ticks[0]) in title(s), f"Home goes to the oldest {utc(ticks[0])}")
        term.keys("NPage")
        ten = ticks[min(10, len(ticks) - 1)]
        term.wait(lambda s: utc(ten) in title(s), f"PgDn goes ten ticks on to {utc(ten)}")
        term.keys("PPage")
        term.wait(lambda s: utc(ticks[0]) in title(s), "PgUp goes ten ticks back")
        term.keys("End")
        s = term.wait(lambda s: utc(ticks[-1]) in title(s), "End goes to the newest tick")
        check("LIVE" in title(s), f"and follows it: {title(s)}")

        target = ticks[-2]
        term.keys("j")
        term.wait(lambda s: "jump to" in s, "j asks for a time")
        term.keys(f"@{target}", "Enter")
        term.wait(lambda s: utc(target) in title(s), f"the jump goes to {utc(target)}")
        term.keys("j")
        term.wait(lambda s: "jump to" in s, "j asks again")
        term.keys("soon", "Enter")
        s = term.wait(lambda s: "bad time 'soon'" in s, "a bad time is said, the screen stays")
        check(utc(target) in title(s), "a bad time does not move the screen")

        term.keys("r")
        s = term.wait(lambda s: "resolution 1-minute rollups" in s, "r asks for 1-minute rollups")
        check("1-min rollup" in title(s) or "(asked 1m)" in title(s),
              f"the title says the resolution: {title(s)}")
        term.keys("r", "r")
        term.wait(lambda s: "resolution raw" in s, "r goes round to raw")

        term.keys("?")
        term.wait(lambda s: "jump to a time" in s, "? shows the keys")
        term.keys("?")
        term.wait(lambda s: "PROCESSES" in s, "? again hides them")

        term.keys("q")
        s = term.wait(lambda s: "EXITED 0" in s, "q ends replay with exit 0")
        check(term.alternate_on() == "0", "the terminal is back on its normal screen")
        check("PROCESSES" not in s, "nothing of replay's screen is left")
    finally:
        term.close()


def check_events(db, tmp, at, prev):
    """The tick's own events, most important first, on a screen tall
    enough for five of them."""
    term = Terminal(tmp, "events", 160, 50, f"TZ=UTC0 {HINDSIGHT} --db {db} replay --at @{at}")
    try:
        s = term.wait(lambda s: utc(at) in title(s), "the events screen opens")
        web = [l for l in s.splitlines() if "hsweb.service" in l]
        check("SERVICES AND CONTAINERS" in s and web and "40.0%" in web[0] and
              "hs.slice" not in s,
              f"the services, not the slices that add them up: {web}")
        check("line of this tick" in s and "line of the tick before" not in s,
              f"the events are the tick's own (after {utc(prev)}, up to {utc(at)})")
        events = [l for l in s.split("EVENTS after")[1].splitlines()
                  if re.match(r"  \d\d:\d\d:\d\d  ", l)]
        check(len(events) >= 4 and "hog (pid 777) killed by the OOM killer, anon 99 MiB" in
              events[0] and "error of this tick" in events[1] and
              "victim (pid 778) by signal 9" in events[2] and "line of this tick" in events[3],
              f"the OOM kill, the kernel's error, the killed process, the log: {events[:5]}")
    finally:
        term.close()


def test_wide(db, tmp):
    at = rows(db, "SELECT ts FROM agent ORDER BY ts LIMIT 1 OFFSET 3")[0][0]
    narrow = Terminal(tmp, "narrow", 100, 30, f"TZ=UTC0 {HINDSIGHT} --db {db} replay --at @{at}")
    wide = Terminal(tmp, "wide", 160, 50, f"TZ=UTC0 {HINDSIGHT} --db {db} replay --at @{at}")
    try:
        n = narrow.wait(lambda s: utc(at) in title(s), "the 100x30 screen opens")
        w = wide.wait(lambda s: utc(at) in title(s), "the 160x50 screen opens")
        check(all(len(l) <= 160 for l in w.splitlines()), "every line fits 160 columns")
        check(len(process_rows(w)) > len(process_rows(n)) or
              len(process_rows(w)) == int(w.split("PROCESSES by CPU")[1].split("of")[1]
                                          .split()[0]),
              "a taller screen shows more processes, or all of them")
        check(len(w.splitlines()) <= 50, "no more lines than the terminal has")
    finally:
        narrow.close()
        wide.close()


def test_follow(db, tmp):
    """Without --at, the screen follows the newest tick a daemon writes."""
    term = Terminal(tmp, "live", 100, 30, f"TZ=UTC0 {HINDSIGHT} --db {db} replay")
    daemon = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--duration", "8",
                               "--log-level", "warn"])
    try:
        last = rows(db, "SELECT max(ts) FROM agent")[0][0]
        s = term.wait(lambda s: "LIVE" in title(s), "replay without --at shows LIVE")
        seen = set()
        end = time.time() + WAIT_S
        while len(seen) < 3 and time.time() < end:
            m = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", title(term.screen()))
            if m:
                seen.add(int(datetime.strptime(m.group(0), "%Y-%m-%d %H:%M:%S")
                             .replace(tzinfo=timezone.utc).timestamp()))
            time.sleep(0.2)
        check(len(seen) >= 3 and max(seen) > last,
              f"the time shown follows the daemon's new ticks: {sorted(seen)} after {last}")
        term.keys("T")
        s = term.wait(lambda s: "newest" in title(s) and "LIVE" not in title(s),
                      "stepping back stops following and says what is newest")
        term.keys("q")
        term.wait(lambda s: "EXITED 0" in s, "q ends it")
    finally:
        daemon.wait(timeout=60)
        term.close()


def test_tiers(db, tmp):
    """Times whose raw rows are pruned are read from the rollups, as the
    plan says: a stretch kept in 1-minute rows only and one in 1-hour rows
    only (test_query.make_old_history: every tick a group uses 40% of a core
    of a machine 40% busy), each shown one bucket per screen."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_query import make_old_history
    old, spans = make_old_history(db, tmp)
    for tier, words, step in (("1m", "1m tick, 1-min rollup", 60),
                              ("1h", "1h tick, 1-hour rollup", 3600)):
        at = spans[tier] + 3600 + 1234
        bucket = (at + step - 1) // step * step
        term = Terminal(tmp, f"tier{tier}", 100, 30,
                        f"TZ=UTC0 {HINDSIGHT} --db {old} replay --at @{at}")
        try:
            s = term.wait(lambda s: utc(bucket) in title(s),
                          f"replay at a time kept in {tier} shows its bucket {utc(bucket)}")
            check(words in title(s), f"the title says {words}: {title(s)}")
            check("busy  40.0%" in s, f"CPU from the {tier} rollups")
            group = [l for l in s.splitlines() if l.strip().startswith("old.service")]
            check(group and group[0].split()[1] == "40.0%",
                  f"the group's CPU from the {tier} rollups is the raw 40%: {group}")
            term.keys("T")
            term.wait(lambda s: utc(bucket - step) in title(s),
                      f"T steps one {tier} bucket back to {utc(bucket - step)}")
            term.keys("q")
            term.wait(lambda s: "EXITED 0" in s, "q ends it")
        finally:
            term.close()


def test_unknown_terminal(db, tmp):
    """A terminal type without a terminfo entry is an error, not an exit
    from inside the curses library."""
    term = Terminal(tmp, "noterm", 100, 30,
                    f"TERM=no-such-terminal {HINDSIGHT} --db {db} replay 2>&1")
    try:
        s = term.wait(lambda s: "EXITED" in s, "replay ends on an unknown terminal type")
        check("EXITED 1" in s and "TERM=no-such-terminal" in s,
              f"it says the terminal type is unknown and exits 1: {s.strip()}")
    finally:
        term.close()


def test_refusals(db):
    p = subprocess.run([HINDSIGHT, "--db", db, "replay"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "terminal" in p.stderr,
          f"replay without a terminal says so: {p.returncode} {p.stderr.strip()}")
    p = subprocess.run([HINDSIGHT, "--db", db, "replay", "--window", "5m"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "--window" in p.stderr, "replay refuses --window")


def main():
    if not shutil.which("tmux"):
        print("tmux is not installed (scripts/deps installs it)", file=sys.stderr)
        return 77
    tmp = tempfile.mkdtemp(prefix="hindsight-replay-")
    try:
        db = make_database(tmp)
        test_refusals(db)
        test_unknown_terminal(db, tmp)
        test_keys(db, tmp)
        test_wide(db, tmp)
        test_tiers(db, tmp)
        test_follow(db, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all replay checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
