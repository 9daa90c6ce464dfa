#!/usr/bin/env python3
"""hindsightd on the real /proc: ticks, deltas, signals, crashes, config.

Starts the daemon at a 1 s interval and checks the stored numbers with SQL
against their sources."""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(db, *args, env=None, interval="1"):
    e = dict(os.environ)
    e.update(env or {})
    flags = ["--interval", interval] if interval else []
    return subprocess.Popen([DAEMON, "--db", db, *flags, *args],
                            stderr=subprocess.PIPE, text=True, env=e)


def wait_rows(db, table, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as c:
                if c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= n:
                    return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


def rows(db, sql, *params):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute(sql, params).fetchall()


def meminfo_total_kb():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1])


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_normal_run(tmp):
    db = os.path.join(tmp, "a.db")
    p = start(db)
    check(wait_rows(db, "agent", 4), "four ticks stored within 15 s")
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    check(p.returncode == 0, f"SIGTERM exits 0 (got {p.returncode})")
    ticks = rows(db, "SELECT ts, dur_ms FROM agent ORDER BY ts")
    check(len(ticks) >= 4, f"one agent row per tick ({len(ticks)})")
    check(all(b[0] > a[0] for a, b in zip(ticks, ticks[1:])), "ts strictly increasing")
    # the first tick is on the first second boundary at least half a second
    # after the start; the others a second apart
    check(500 <= ticks[0][1] <= 1600 and all(700 <= d <= 1500 for _, d in ticks[1:]),
          f"dur_ms near 1000: {[d for _, d in ticks]}")
    for table in ("cpu", "kernel_activity", "memory", "loadavg"):
        n = rows(db, f"SELECT count(DISTINCT ts) FROM {table}")[0][0]
        check(n == len(ticks), f"{table}: one tick's rows per agent row ({n})")
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    modes = rows(db, """SELECT ts, dur_ms, user_ms + nice_ms + system_ms + idle_ms
            + iowait_ms + irq_ms + softirq_ms + steal_ms FROM cpu WHERE cpu_id = -1""")
    # /proc/stat is read a little after the tick takes its clock; on a loaded
    # machine one read can lag by a tenth of the interval, which the next tick
    # gives back. Each tick is allowed that lag; over the run the lags cancel
    # and the modes must add up to the run's time on every CPU, give or take
    # a jiffy (10 ms) per CPU. A mode missed or counted twice is off by more.
    for ts, dur, total in modes:
        check(abs(total - dur * ncpu) <= 0.15 * dur * ncpu + 20 * ncpu,
              f"tick {ts}: CPU modes sum to dur_ms x {ncpu} CPUs ({total} vs {dur * ncpu})")
    run_dur = sum(d for _, d, _ in modes)
    run_total = sum(t for _, _, t in modes)
    check(abs(run_total - run_dur * ncpu) <= 0.04 * run_dur * ncpu + 20 * ncpu,
          f"over the run, CPU modes sum to dur_ms x {ncpu} CPUs ({run_total} vs {run_dur * ncpu})")
    per_core = rows(db, "SELECT count(DISTINCT cpu_id) FROM cpu WHERE cpu_id >= 0")[0][0]
    check(per_core == ncpu, f"a row per online CPU ({per_core})")
    check(rows(db, "SELECT min(total_kb), max(total_kb) FROM memory")[0] ==
          (meminfo_total_kb(), meminfo_total_kb()), "memory total equals /proc/meminfo MemTotal")
    neg = rows(db, """SELECT count(*) FROM cpu WHERE min(user_ms, nice_ms, system_ms, idle_ms,
            iowait_ms, irq_ms, softirq_ms, steal_ms) < 0""")[0][0]
    check(neg == 0, "no negative CPU deltas")
    check(rows(db, "SELECT count(*) FROM boot")[0][0] == 1, "boot time stored once")
    health = rows(db, "SELECT max(tick_cpu_us), max(rss_kb), sum(commit_failures_count) FROM agent_health")[0]
    check(health[0] > 0 and health[1] > 0 and health[2] == 0, f"self-metrics recorded {health}")
    n = rows(db, "SELECT count(*) FROM cpu_usage WHERE busy_pct BETWEEN 0 AND 100")[0][0]
    check(n == len(ticks), "cpu_usage view yields a percentage per tick")
    return db


def test_sigkill_and_restart(tmp, db):
    before = rows(db, "SELECT max(ts) FROM agent")[0][0]
    p = start(db)
    wait_rows(db, "agent", len(rows(db, "SELECT ts FROM agent")) + 2)
    time.sleep(0.5)
    p.kill()
    p.wait()
    check(rows(db, "PRAGMA integrity_check")[0][0] == "ok", "SIGKILL leaves an intact database")
    n = rows(db, "SELECT count(*) FROM agent")[0][0]
    p = start(db, "--duration", "3")
    _, err = p.communicate(timeout=20)
    check(p.returncode == 0, f"restart after SIGKILL runs and exits 0 ({err.strip()[-200:]})")
    after = rows(db, "SELECT count(*) FROM agent")[0][0]
    check(after >= n + 2, f"restart keeps adding ticks ({n} -> {after})")
    check(rows(db, "SELECT max(ts) FROM agent")[0][0] > before, "history continues")


def test_once(tmp):
    db = os.path.join(tmp, "once.db")
    r = subprocess.run([DAEMON, "--db", db, "--interval", "1", "--once"], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 0, "--once exits 0")
    check(rows(db, "SELECT count(*) FROM agent")[0][0] == 1, "--once stores exactly one tick")
    dur = rows(db, "SELECT dur_ms FROM agent")[0][0]
    check(500 <= dur <= 1600, f"--once samples on the first boundary half an interval on ({dur} ms)")
    check(os.stat(db).st_mode & 0o777 == 0o640, "database created mode 0640")


def test_bad_config(tmp):
    cfg = os.path.join(tmp, "bad.yaml")
    open(cfg, "w").write("interval: 1s\nsample_rate: 3\n")
    r = subprocess.run([DAEMON, "--db", os.path.join(tmp, "c.db"), "--config", cfg],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and f"{cfg}:2:1: unknown key 'sample_rate'" in r.stderr,
          f"bad config: exit 2 naming file:line ({r.stderr.strip()})")
    check(not os.path.exists(os.path.join(tmp, "c.db")), "bad config creates no database")
    r = subprocess.run([DAEMON, "--interval", "soon"], capture_output=True, text=True)
    check(r.returncode == 2 and "soon" in r.stderr, "bad --interval names the token")


def test_sighup_reload(tmp):
    db = os.path.join(tmp, "hup.db")
    cfg = os.path.join(tmp, "hup.yaml")
    open(cfg, "w").write("interval: 1s\n")
    # No --interval flag: a flag would (rightly) win over the file on reload.
    p = start(db, "--config", cfg, "--log-level", "info", interval=None)
    wait_rows(db, "agent", 1)
    open(cfg, "w").write("interval: [broken\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    check(p.poll() is None, "a bad config on SIGHUP keeps the daemon running")
    open(cfg, "w").write("interval: 2s\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    n = rows(db, "SELECT count(*) FROM agent")[0][0]
    time.sleep(4.2)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    check("reload failed, keeping the running configuration" in err and
          "configuration reloaded" in err, "reload outcomes logged")
    added = rows(db, "SELECT count(*) FROM agent")[0][0] - n
    check(1 <= added <= 3, f"interval 2s applied after reload ({added} ticks in ~4 s)")


def test_newer_db_refused(tmp):
    db = os.path.join(tmp, "new.db")
    c = sqlite3.connect(db)
    c.execute("PRAGMA user_version=999")
    c.close()
    before = sha(db)
    r = subprocess.run([DAEMON, "--db", db, "--once"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "newer than this binary" in r.stderr,
          f"newer schema refused ({r.stderr.strip()})")
    check(sha(db) == before and not os.path.exists(db + "-wal"), "newer database left untouched")


def test_locked_database(tmp):
    """A database locked past the busy timeout fails ticks; nothing is lost."""
    db = os.path.join(tmp, "locked.db")
    p = start(db)
    wait_rows(db, "agent", 2)
    holder = sqlite3.connect(db, timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    t0 = time.monotonic()
    time.sleep(7)
    holder.execute("COMMIT")
    holder.close()
    n = len(rows(db, "SELECT ts FROM agent"))
    wait_rows(db, "agent", n + 2)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=15)
    check(p.returncode == 0, "the daemon survives a locked database")
    check(err.count("tick not stored") == 1, "the failure is logged once per incident")
    check("ticks stored again" in err, "the recovery is logged")
    failed = rows(db, "SELECT sum(commit_failures_count), max(dur_ms) FROM agent")[0]
    check(failed[0] >= 1, f"failed ticks are counted ({failed[0]})")
    check(failed[1] >= 2000, f"the next stored tick's dur_ms covers the gap ({failed[1]} ms)")
    # every tick after the first covers the time since the one before it
    span = rows(db, "SELECT max(ts) - (SELECT min(ts) FROM agent), sum(dur_ms) FROM agent "
                    "WHERE ts > (SELECT min(ts) FROM agent)")[0]
    check(abs(span[0] * 1000 - span[1]) <= 2000,
          f"no interval lost: dur_ms adds up to the span ({span[1]} ms over {span[0]} s)")


def test_bad_proc_text(tmp):
    """Malformed /proc text is counted; the other collectors keep writing."""
    root = os.path.join(tmp, "proc")
    os.mkdir(root)
    fixtures = os.environ.get("FIXTURES", "tests/fixtures")
    for name, src in (("stat", "stat.old_hotplug"), ("meminfo", "meminfo.garbage"),
                      ("loadavg", "loadavg.basic")):
        open(os.path.join(root, name), "w").write(open(os.path.join(fixtures, "proc", src)).read())
    db = os.path.join(tmp, "fixture.db")
    r = subprocess.run([DAEMON, "--db", db, "--interval", "1", "--once", "--proc-root", root],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, "a fixture proc root with garbage meminfo runs")
    check(rows(db, "SELECT count(*) FROM memory")[0][0] == 0, "no memory row from garbage")
    check(rows(db, "SELECT parse_errors_count FROM agent")[0][0] == 1, "the parse error is counted")
    check(rows(db, "SELECT load1_x100, threads_count FROM loadavg")[0] == (52, 345),
          "loadavg from the fixture root")
    check(rows(db, "SELECT group_concat(cpu_id) FROM cpu WHERE cpu_id >= 0")[0][0] == "0,2",
          "hotplug gap in CPU ids kept")
    check(rows(db, "SELECT user_ms FROM cpu WHERE cpu_id = -1")[0][0] == 0,
          "unchanged fixture counters give zero deltas")


def test_unsafe_db_paths(tmp):
    target = os.path.join(tmp, "elsewhere.db")
    link = os.path.join(tmp, "link.db")
    os.symlink(target, link)
    r = subprocess.run([DAEMON, "--db", link, "--once"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "symbolic link" in r.stderr, f"symlinked database refused ({r.stderr.strip()})")
    check(not os.path.exists(target), "nothing written through the link")
    if os.geteuid() == 0:
        other = os.path.join(tmp, "other")
        os.mkdir(other)
        os.chown(other, 65534, 65534)
        r = subprocess.run([DAEMON, "--db", os.path.join(other, "h.db"), "--once"],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 1 and "belongs to user 65534" in r.stderr,
              "a database in another user's directory refused")


def main():
    if not os.path.exists(DAEMON):
        print(f"no daemon at {DAEMON}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        db = test_normal_run(tmp)
        test_sigkill_and_restart(tmp, db)
        test_once(tmp)
        test_bad_config(tmp)
        test_sighup_reload(tmp)
        test_newer_db_refused(tmp)
        test_locked_database(tmp)
        test_bad_proc_text(tmp)
        test_unsafe_db_paths(tmp)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
