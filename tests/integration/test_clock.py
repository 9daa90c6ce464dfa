#!/usr/bin/env python3
"""hindsightd and the wall clock: ticks on the interval's boundaries under CPU
load, and steps of the wall clock while the daemon runs.

The steps go through an LD_PRELOAD shim (build/tests/clockstep.so) that adds
the offset in a file to CLOCK_REALTIME, gettimeofday() and time() of the
daemon alone; rewriting the file steps its clock. The machine's clock is
never changed. The loaded run (a 1 s interval beside two busy loops for a
minute) goes on while the step cases run, one daemon each. Its wall clock is
moved by 5 ms at a time until its ticks start just before a second boundary,
where the jitter of a loaded machine split the ticks of the old start-time
grid into two per second (or until 20 moves were made: ticks on the
wall clock's boundaries do not care where they start)."""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
SHIM = os.path.join(BUILD, "tests", "clockstep.so")
SANITIZED = os.environ.get("SANITIZED", "0") in ("1", "ON", "TRUE", "true", "on")
DAYS400 = 400 * 86400
LOADED_S = 60
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def rows(db, sql, *params):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute(sql, params).fetchall()


def one(db, sql, *params):
    return rows(db, sql, *params)[0][0]


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def shim_env(offset_file, extra=None):
    e = dict(os.environ)
    e["LD_PRELOAD"] = SHIM
    e["HINDSIGHT_CLOCKSTEP_FILE"] = offset_file
    if SANITIZED:  # the shim comes before the sanitizer's runtime
        e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    e.update(extra or {})
    return e


class Daemon:
    """One hindsightd on its own database, its wall clock stepped through the shim."""

    def __init__(self, tmp, name, *args, env=None, shim=True, db=None, offset=0):
        self.db = db or os.path.join(tmp, name + ".db")
        self.offset_file = os.path.join(tmp, name + ".offset")
        self.log_path = os.path.join(tmp, name + ".log")
        self.step(offset)
        e = shim_env(self.offset_file, env) if shim else dict(os.environ, **(env or {}))
        self.log = open(self.log_path, "a")
        self.p = subprocess.Popen([DAEMON, "--db", self.db, *args], stderr=self.log, env=e)

    def step(self, seconds):
        write_atomic(self.offset_file, str(seconds))

    def ticks(self):
        try:
            return one(self.db, "SELECT count(*) FROM agent")
        except sqlite3.Error:
            return 0

    def wait_ticks(self, n, timeout=60):
        """Waits until n more ticks are stored than now."""
        want = self.ticks() + n
        deadline = time.time() + timeout
        while time.time() < deadline and self.p.poll() is None:
            if self.ticks() >= want:
                return True
            time.sleep(0.1)
        return False

    def wait_log(self, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.text():
                return True
            time.sleep(0.2)
        return False

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, signal_it=True):
        if signal_it and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


def agent(db):
    # (a database of a daemon without clock_step_s reads 0: the test then
    # reports what an older daemon does instead of stopping)
    step = "clock_step_s" if any(c[1] == "clock_step_s" for c in
                                 rows(db, "PRAGMA table_info(agent)")) else "0"
    return rows(db, f"SELECT ts, dur_ms, clock_held_s, {step} FROM agent ORDER BY ts")


def increasing(ts):
    return all(b > a for a, b in zip(ts, ts[1:]))


def shim_works(tmp):
    off = os.path.join(tmp, "probe.offset")
    write_atomic(off, "1000000")
    r = subprocess.run([sys.executable, "-c", "import time; print(int(time.time()))"],
                       env=shim_env(off), capture_output=True, text=True)
    try:
        return abs(int(r.stdout) - time.time() - 1000000) < 10
    except ValueError:
        return False


def start_load():
    """Two busy loops, one per core of the test machine."""
    # At nice 10: they still take every idle moment of both cores and delay
    # the daemon's timers, but the other daemons of this test (and a test
    # ctest runs beside it, under the sanitizers) are not starved for tens
    # of seconds, which made their own checks time out.
    return [subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", "while True: pass"])
            for _ in range(2)]


def test_back_and_again(tmp):
    """Back an hour for a few seconds and back again: ticks stay at true time."""
    t0 = time.time()
    d = Daemon(tmp, "back", "--interval", "1", "--no-bpf")
    d.wait_ticks(3)
    d.step(-3600)
    d.wait_ticks(4)
    d.step(0)
    d.wait_ticks(3)
    check(d.stop() == 0, "back 1 h: the daemon runs through it and exits 0")
    t1 = time.time()
    a = agent(d.db)
    ts = [r[0] for r in a]
    check(len(a) >= 10 and increasing(ts), f"back 1 h: ts strictly increasing ({len(a)} ticks)")
    check(all(t0 - 1 <= t <= t1 for t in ts), "back 1 h: every ts at true time")
    check(max(b - a for a, b in zip(ts, ts[1:])) <= 3, "back 1 h: no gap in the ticks")
    check(all(r[2] == 0 for r in a), "back 1 h: clock_held_s stays 0")
    steps = [r[3] for r in a if r[3]]
    check(steps == [-3600], f"back 1 h: the step recorded once in clock_step_s ({steps})")
    log = d.text()
    check("wall clock stepped back by -3600 s (1.0 hours)" in log, "back 1 h: the step logged")
    check("wall clock back in step" in log, "back 1 h: the return logged")
    return d.db


def test_restart_behind(tmp, db):
    """A restart on a clock an hour behind the stored history holds ts after it
    (clock_held_s), and a restart on the true clock stores at true time again."""
    last = one(db, "SELECT max(ts) FROM agent")
    d = Daemon(tmp, "behind", "--interval", "1", "--no-bpf", "--duration", "3", db=db,
               offset=-3600)
    check(d.stop(signal_it=False) == 0, "restart 1 h behind: runs and exits 0")
    new = rows(db, "SELECT ts, clock_held_s FROM agent WHERE ts > ? ORDER BY ts", last)
    check(len(new) >= 2 and [t for t, _ in new] == list(range(last + 1, last + 1 + len(new))),
          f"restart 1 h behind: ticks held one second apart after the history {new}")
    check(all(h > 3000 for _, h in new), "restart 1 h behind: clock_held_s says how far")
    check("behind the last stored tick" in d.text(), "restart 1 h behind: logged")
    last = new[-1][0]
    t0 = time.time()
    d = Daemon(tmp, "again", "--interval", "1", "--no-bpf", "--duration", "2", db=db)
    check(d.stop(signal_it=False) == 0, "restart on the true clock: runs and exits 0")
    new = rows(db, "SELECT ts, clock_held_s FROM agent WHERE ts > ? ORDER BY ts", last)
    check(len(new) >= 2 and all(h == 0 and t >= t0 - 1 for t, h in new),
          f"restart on the true clock: ts true again, nothing held {new}")


def test_forward_400_days(tmp):
    """400 days ahead for 10 s, then back: nothing rolled or pruned by it, no ts
    in the future, the step recorded."""
    t0 = time.time()
    d = Daemon(tmp, "fwd", "--interval", "1", "--no-bpf")
    d.wait_ticks(4)
    before = one(d.db, "SELECT count(*) FROM agent")
    d.step(DAYS400)
    if os.geteuid() == 0:  # a kernel log record dated while the clock is ahead
        try:
            with open("/dev/kmsg", "w") as k:
                k.write("hindsight test_clock: wall clock 400 days ahead\n")
        except OSError:
            pass
    time.sleep(10)
    d.step(0)
    d.wait_ticks(3)
    check(d.stop() == 0, "400 days ahead: the daemon runs through it and exits 0")
    t1 = time.time()
    db = d.db
    a = agent(db)
    ts = [r[0] for r in a]
    check(len(a) >= before + 10 and increasing(ts),
          f"400 days ahead: ticks stored through it, ts increasing ({len(a)} ticks)")
    check(all(t0 - 1 <= t <= t1 for t in ts), "400 days ahead: every ts at true time")
    check(max(b - a for a, b in zip(ts, ts[1:])) <= 3, "400 days ahead: no gap in the ticks")
    check(sum(r[1] for r in a[1:]) <= (ts[-1] - ts[0]) * 1000 + 1500,
          "400 days ahead: dur_ms adds up to the span")
    check(all(r[2] == 0 for r in a), "400 days ahead: clock_held_s stays 0")
    steps = [r[3] for r in a if r[3]]
    check(steps == [DAYS400], f"400 days ahead: the step recorded once ({steps})")
    check(one(db, "SELECT count(*) FROM agent WHERE ts <= ?", ts[before - 1]) == before,
          "400 days ahead: every raw row from before is kept")
    pruned = rows(db, "SELECT scope, pruned_ts, removed_count FROM prune_state "
                      "WHERE pruned_ts != 0 OR removed_count != 0")
    check(pruned == [], f"400 days ahead: nothing pruned {pruned}")
    rolled = one(db, "SELECT max(rolled_ts) FROM rollup_state")
    check(rolled is None or rolled <= t1, f"400 days ahead: no rollup watermark ahead ({rolled})")
    future = []
    for (name,) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols = [c[1] for c in rows(db, f'PRAGMA table_info("{name}")')]
        if "ts" in cols:
            edge = 3600 if name.endswith("_1h") else 0  # the current hour's row ends later
            n = one(db, f'SELECT count(*) FROM "{name}" WHERE ts > ?', int(t1) + edge + 1)
            if n:
                future.append((name, n))
    check(future == [], f"400 days ahead: no row of any table dated in the future {future}")
    log = d.text()
    check("wall clock stepped forward by +34560000 s (400.0 days)" in log,
          "400 days ahead: the step logged with its size")
    check("wall clock back in step" in log, "400 days ahead: the return logged")
    return db


def test_settled_steps(tmp, history):
    """A step that stays past the settle period (3 s here) is a correction:
    forward, ts follows it; back, ts is held after the stored ticks. A daemon
    started on a clock 400 days ahead of its history, set right after its
    first tick, prunes nothing by it (ages wait for the settle period after
    the start, 6 s for this one)."""
    env = {"HINDSIGHT_CLOCK_SETTLE_S": "3"}
    fwd = Daemon(tmp, "settle_fwd", "--interval", "1", "--no-bpf", env=env)
    back = Daemon(tmp, "settle_back", "--interval", "1", "--no-bpf", env=env)
    kept = one(history, "SELECT count(*) FROM agent")
    wrong = Daemon(tmp, "wrong_start", "--interval", "1", "--no-bpf", db=history,
                   offset=DAYS400, env={"HINDSIGHT_CLOCK_SETTLE_S": "6"})
    wrong.wait_ticks(1)
    wrong.step(0)
    fwd.wait_ticks(3)
    back.wait_ticks(3)
    t_step = time.time()
    fwd.step(86400)
    back.step(-3600)
    for d in (fwd, back, wrong):
        d.wait_log("taken as a correction", 20)
    for d in (fwd, back, wrong):
        d.wait_ticks(3)
    check(all(d.stop() == 0 for d in (fwd, back, wrong)), "settled steps: the daemons exit 0")
    t1 = time.time()

    a = agent(fwd.db)
    ts = [r[0] for r in a]
    jumps = [b - a for a, b in zip(ts, ts[1:]) if b - a > 10]
    check(increasing(ts) and len(jumps) == 1 and abs(jumps[0] - 86400) <= 3,
          f"forward a day, kept: ts follows it once accepted ({jumps})")
    held_back = [t for t in ts if t < t_step + 2]
    check(all(t <= t1 for t in held_back), "forward a day: ticks before acceptance at true time")
    check(ts[-1] > t1 + 86400 - 5, "forward a day: ticks after acceptance at the new time")
    check(all(r[2] == 0 for r in a), "forward a day: clock_held_s stays 0")
    check([r[3] for r in a if r[3]] == [86400], "forward a day: the step recorded once")
    check("wall clock step of +86400 s (1.0 days) outlasted the settle period (3s): taken as "
          "a correction" in fwd.text(), "forward a day: the acceptance logged")

    a = agent(back.db)
    ts = [r[0] for r in a]
    held = [r[2] for r in a if r[2]]
    check(increasing(ts) and all(t <= t1 for t in ts), "back an hour, kept: ts increasing")
    check(len(held) >= 2 and all(3590 <= h <= 3610 for h in held),
          f"back an hour, kept: ts held after the stored ticks, clock_held_s ~3600 ({held})")
    check([r[3] for r in a if r[3]] == [-3600], "back an hour, kept: the step recorded once")
    check("behind the last stored tick" in back.text(), "back an hour, kept: the hold logged")

    a = agent(history)
    check(sum(1 for r in a if r[0] <= t_step) == kept,
          f"started 400 days ahead: the history before is kept ({kept} ticks)")
    pruned = rows(history, "SELECT scope, removed_count FROM prune_state WHERE removed_count > 0")
    check(pruned == [], f"started 400 days ahead: nothing pruned {pruned}")
    held = [r[2] for r in a if r[2]]
    check(len(held) >= 2 and all(abs(h - DAYS400) < 30 for h in held),
          "started 400 days ahead, corrected: ts held after the ticks stored ahead")
    check("wall clock stepped back by -34560000 s (400.0 days)" in wrong.text(),
          "started 400 days ahead: the correction logged as a step")


def test_boundaries_and_reload(tmp):
    """Ticks sit on the interval's boundaries of the wall clock, also after a
    SIGHUP changes the interval; the first tick's dur_ms is at least half one."""
    cfg = os.path.join(tmp, "hup.yaml")
    open(cfg, "w").write("interval: 1s\n")
    d = Daemon(tmp, "hup", "--config", cfg, "--no-bpf", shim=False)
    d.wait_ticks(2)
    open(cfg, "w").write("interval: 2s\n")
    d.p.send_signal(signal.SIGHUP)
    d.wait_log("configuration reloaded", 5)
    n = d.ticks()
    d.wait_ticks(3, 15)
    check(d.stop() == 0, "reload: exits 0")
    a = agent(d.db)
    check(500 <= a[0][1] <= 1600, f"the first tick covers half an interval or more ({a[0][1]} ms)")
    after = [r[0] for r in a[n:]]
    check(len(after) >= 3 and all(t % 2 == 0 for t in after),
          f"after the reload every ts is on a 2 s boundary {after}")
    check(increasing([r[0] for r in a]), "reload: ts strictly increasing")


class PhaseSweep(threading.Thread):
    """Moves the loaded daemon's wall clock in 5 ms steps, every 2 s, from
    where its ticks start 20 ms before a second boundary (as seen from the
    rows appearing, less the time the tick took), until a tick is held or
    20 steps were made."""

    def __init__(self, d, until):
        super().__init__(daemon=True)
        self.d, self.until, self.shift = d, until, 0.0

    def tick_starts(self):
        """When in the second the next four ticks started."""
        seen, n = [], self.d.ticks()
        while len(seen) < 4 and time.time() < self.until:
            m = self.d.ticks()
            if m != n:
                took = one(self.d.db, "SELECT tick_wall_us + 3000 FROM agent ORDER BY ts DESC")
                seen.append((time.time() - took / 1e6) % 1.0)
                n = m
            time.sleep(0.002)
        return seen

    def run(self):
        try:
            seen = self.tick_starts()
        except sqlite3.Error:
            return
        if not seen:
            return
        base = (0.98 - sorted(seen)[len(seen) // 2]) % 1.0
        for k in range(20):
            if time.time() + 2 > self.until:
                return
            self.shift = base + k * 0.005
            self.d.step(self.shift)
            time.sleep(2)
            try:
                if one(self.d.db, "SELECT count(*) FROM agent WHERE clock_held_s != 0"):
                    return
            except sqlite3.Error:
                pass


def loaded_figures(db, log):
    a = rows(db, "SELECT ts, dur_ms, clock_held_s FROM agent ORDER BY ts")
    ts = [r[0] for r in a]
    return {
        "ticks": len(a),
        "held": sum(1 for r in a if r[2] != 0),
        "same_second": len(ts) - len(set(ts)),
        "skipped": sum(b - a - 1 for a, b in zip(ts, ts[1:])),
        "max_dur_ms": max(r[1] for r in a[1:]) if len(a) > 1 else 0,
        "stepped_back_lines": log.count("stepped back"),
    }, ts, a


def main():
    if not os.path.exists(DAEMON) or not os.path.exists(SHIM):
        print(f"no daemon or shim in {BUILD}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        if not shim_works(tmp):
            print("skipped: the LD_PRELOAD clock shim does not take effect here")
            return 77
        load = start_load()
        loaded = None
        try:
            loaded = Daemon(tmp, "loaded", "--interval", "1")
            t_loaded = time.time()
            sweep = PhaseSweep(loaded, t_loaded + LOADED_S - 2)
            sweep.start()
            db = test_back_and_again(tmp)
            test_restart_behind(tmp, db)
            history = test_forward_400_days(tmp)
            test_settled_steps(tmp, history)
            test_boundaries_and_reload(tmp)
            time.sleep(max(0, LOADED_S - (time.time() - t_loaded)))
            sweep.join()
            check(loaded.stop() == 0, "loaded: exits 0")
        finally:
            for p in load:
                p.kill()
                p.wait()
            if loaded and loaded.p.poll() is None:
                loaded.p.kill()
        f, ts, a = loaded_figures(loaded.db, loaded.text())
        print(f"loaded 1 s interval beside two busy loops (clock moved {sweep.shift:.2f} s): {f}")
        check(f["ticks"] >= LOADED_S - 5, f"loaded: a tick a second ({f['ticks']})")
        check(f["held"] == 0, f"loaded: no clock_held_s != 0 ({f['held']})")
        check(increasing(ts), "loaded: ts strictly increasing, never two ticks in one second")
        check(f["stepped_back_lines"] == 0 and "behind the last stored tick" not in loaded.text(),
              "loaded: no 'stepped back' or hold in the log")
        check(not re.search(r"\[(warn|error)\]", loaded.text()), "loaded: no warning logged")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
