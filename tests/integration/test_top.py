#!/usr/bin/env python3
"""hindsight top as an incident report, on a database a short daemon run
wrote while a workload wrote to disk.

The window comes from --since/--until as well as --at/--window; disks and
network have their sections; events (kernel log, OOM kills, processes
killed by a signal) are those strictly inside the window, and --context
lets in those nearby, each labelled with its distance from the window.
"""
import os
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


def run(db, *args, columns=None):
    env = dict(os.environ)
    if columns:
        env["COLUMNS"] = str(columns)
    p = subprocess.run([HINDSIGHT, "--db", db, *args], capture_output=True, timeout=60,
                       text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def ok(db, *args):
    rc, out, err = run(db, *args)
    check(rc == 0, f"hindsight {' '.join(args)} exited {rc}: {err.strip()}")
    return out


def section(out, title):
    """The text of the section whose title starts with title, or None."""
    parts = re.split(r"\n== ", out)
    for p in parts[1:]:
        if p.startswith(title):
            return p
    return None


def make_database(tmp):
    """Six ticks of a real daemon while a file is written and synced."""
    db = os.path.join(tmp, "top.db")
    daemon = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--duration", "6",
                               "--no-bpf", "--log-level", "warn"])
    time.sleep(2)
    with open(os.path.join(tmp, "written"), "wb") as f:
        for _ in range(8):
            f.write(os.urandom(1 << 20))
            f.flush()
            os.fsync(f.fileno())
    daemon.wait(timeout=60)
    check(daemon.returncode == 0, f"the daemon exited {daemon.returncode}")
    return db


def add_events(db, lo, hi):
    """Kernel log lines, an OOM kill and processes killed by a signal
    before, inside and after the window [lo, hi]."""
    con = sqlite3.connect(db)
    con.execute("INSERT OR IGNORE INTO kmsg_boot (name) VALUES ('test-boot')")
    boot = con.execute("SELECT id FROM kmsg_boot WHERE name = 'test-boot'").fetchone()[0]
    lines = [(lo - 100, 3, "early line"), (lo + 1, 3, "inside line"), (hi + 130, 3, "late line")]
    # a burst: an OOM report's twenty lines and its error, in one second
    lines += [(lo + 2, 4, f"trace line {i}") for i in range(20)] + [(lo + 2, 3, "Killed 4242")]
    for seq, (ts, prio, msg) in enumerate(lines):
        con.execute("INSERT INTO kmsg (ts, boot_id, seq, time_us, priority, facility, message) "
                    "VALUES (?, ?, ?, 0, ?, 0, ?)", (ts, boot, 1000 + seq, prio, msg))
    cols = [r[1] for r in con.execute("PRAGMA table_info(process_exit)")]
    for ts, comm in ((lo - 30, "killedbefore"), (hi, "killedinside")):
        values = {c: 0 for c in cols}
        values.update(ts=ts, time_ns=ts * 10**9, pid=4242, comm=comm, signal=9,
                      exit_code=None, lifetime_us=1500000, cpu_us=700000)
        con.execute(f"INSERT INTO process_exit ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})", [values[c] for c in cols])
    cols = [r[1] for r in con.execute("PRAGMA table_info(oom_kill)")]
    values = {c: 0 for c in cols}
    values.update(ts=hi + 61, time_ns=(hi + 61) * 10**9, pid=777, comm="hog", anon_rss_kb=99)
    con.execute(f"INSERT INTO oom_kill ({', '.join(cols)}) VALUES "
                f"({', '.join('?' * len(cols))})", [values[c] for c in cols])
    con.commit()
    con.close()


def test_window_forms(db, first, last):
    lo, hi = first + 1, last - 1
    since = ok(db, "top", "--since", f"@{lo}", "--until", f"@{hi}")
    head = since.splitlines()[0]
    check(head.startswith("hindsight top: window") and f"({hi - lo} s)" in head,
          f"--since/--until give the window: {head}")
    for title in ("CPU", "Memory", "Load", "Pressure", "Disks", "Network",
                  "Busiest groups by CPU", "Busiest processes by I/O",
                  "Processes that ended", "Programs started", "Processes killed",
                  "OOM kills", "Kernel log"):
        check(section(since, title) is not None, f"top has a section {title}")
    disks = section(since, "Disks")
    rows = [l.split() for l in disks.splitlines()[3:] if l.strip()]
    # (a temporary directory on tmpfs writes to no disk)
    check("no rows in this window" in disks or
          ("write_bytes_per_s" in disks and "util_pct" in disks and
           [r[1] for r in rows[:2]] == ["average", "peak"] and rows[0][0] == rows[1][0]),
          f"the disk section has rates and utilisation, average and peak: {disks}")
    check(all(len(l) <= 100 for l in disks.splitlines()),
          "the disk section fits 100 columns in any units")
    net = section(since, "Network")
    check("rx_bytes_per_s" in net or "no rows in this window" in net,
          f"the network section: {net}")
    half = (hi - lo) // 2
    at = ok(db, "top", "--at", f"@{lo + half}", "--window", f"{2 * half}s")
    since = ok(db, "top", "--since", f"@{lo}", "--until", f"@{lo + 2 * half}")
    check(at.splitlines()[0].startswith("hindsight top at "), "--at names the moment")
    check(section(at, "CPU") == section(since, "CPU"),
          "--at/--window and --since/--until over the same window agree")
    for form in ("10m", "-10m", "now-10m"):
        recent = ok(db, "top", "--since", form)
        check("(600 s)" in recent.splitlines()[0], f"--since {form} is the last ten minutes: "
              f"{recent.splitlines()[0]}")
    for args, word in ((("--at", "now", "--since", "5m"), "not both"),
                       (("--since", "5m", "--window", "1m"), "--window goes with --at"),
                       ((), "--since"),
                       (("--since", "5m", "--context", "0"), "--context"),
                       (("--since", "5m", "--until", "10m"), "after --until")):
        rc, _, err = run(db, "top", *args)
        check(rc == 2 and word in err, f"top {' '.join(args)}: exit 2 naming {word}: {rc} "
              f"{err.strip()}")


def test_events(db, first, last):
    lo, hi = first + 1, last - 1
    add_events(db, lo, hi)
    out = ok(db, "top", "--since", f"@{lo}", "--until", f"@{hi}")
    log = section(out, "Kernel log")
    check("inside line" in log and "early line" not in log and "late line" not in log,
          f"without --context only the kernel log inside the window: {log}")
    check("from_window" not in out, "without --context events carry no distance")
    burst = [l.split("  ")[-1].strip() for l in log.splitlines() if "trace line" in l or
             "more lines" in l or "Killed 4242" in l]
    want = ["trace line 0", "trace line 1", "trace line 2", "... 17 more lines in this second",
            "Killed 4242"]
    # (the machine's own kernel log may have a burst of its own in the window)
    check(any(burst[i:i + len(want)] == want for i in range(len(burst))),
          f"a burst shows its first lines, how many more, and its error: {burst}")
    killed = section(out, "Processes killed")
    check("killedinside" in killed and "killedbefore" not in killed,
          f"processes killed inside the window only: {killed}")
    check(section(out, "OOM kills").strip().endswith("none"), "no OOM kill in the window")

    wide = ok(db, "top", "--since", f"@{lo}", "--until", f"@{hi}", "--context", "5m")
    check("events also 5m either side" in wide.splitlines()[0],
          f"the header says how far events reach: {wide.splitlines()[0]}")
    log = section(wide, "Kernel log")
    # (the machine's own kernel log may say "nearly" or "late" too)
    lines = {m: l for l in log.splitlines() for m in ("early", "inside", "late")
             if f"{m} line" in l}
    check(lines.get("early", "").startswith("-1m40s before"), f"a line before: {log}")
    check(lines.get("inside", "").startswith("inside"), f"a line inside: {log}")
    check(lines.get("late", "").startswith("+2m10s after"), f"a line after: {log}")
    killed = section(wide, "Processes killed")
    check(re.search(r"-30s before .*killedbefore", killed) and
          re.search(r"inside .*killedinside", killed), f"killed processes labelled: {killed}")
    oom = section(wide, "OOM kills")
    check(re.search(r"\+1m01s after .* 777 +hog", oom), f"an OOM kill after: {oom}")
    # every section fits 100 columns: the events keep every column beside
    # their distance (top has no -c to pick them), a long text is cut or
    # wraps (the processes' sections depend on what else the machine ran)
    rc, fitted, err = run(db, "top", "--since", f"@{lo}", "--until", f"@{hi}", "--context",
                          "5m", columns=100)
    for title, cols in (("Processes killed", "from_window ts pid comm sig lifetime_ms cpu_ms "
                         "max_rss_kb"),
                        ("OOM kills", "from_window ts pid comm anon_rss_kb file_rss_kb "
                         "score_adj"),
                        ("Kernel log", "from_window ts level message")):
        head = (section(fitted, title) or "\n").splitlines()[1].split()
        check(head == cols.split(), f"{title} keeps its columns at 100: {head}; {err}")
    check(all(len(l) <= 100 for l in fitted.splitlines()),
          "every line of top fits 100 columns: " +
          repr([l for l in fitted.splitlines() if len(l) > 100][:3]))
    near = ok(db, "top", "--since", f"@{lo}", "--until", f"@{hi}", "--context", "1m")
    log = section(near, "Kernel log")
    check("inside line" in log and "early line" not in log and "late line" not in log,
          f"--context 1m reaches 1 minute, no further: {log}")


def test_services(db, first, last):
    """The services and containers section reads cgroup_cpu: its rows, or
    why there are none (test_cgroup_tiers checks what it ranks)."""
    out = ok(db, "top", "--since", f"@{first}", "--until", f"@{last}")
    sec = section(out, "Busiest services and containers")
    check(sec is not None and "unavailable" not in sec,
          f"top has a services and containers section it can read: {sec}")


def main():
    if not os.path.exists(HINDSIGHT):
        print("hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-top-")
    try:
        db = make_database(tmp)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        first, last = con.execute("SELECT min(ts), max(ts) FROM agent").fetchone()
        con.close()
        test_window_forms(db, first, last)
        test_events(db, first, last)
        test_services(db, first, last)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all top checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
