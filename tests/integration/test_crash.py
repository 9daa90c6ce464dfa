#!/usr/bin/env python3
"""Crash safety: SIGKILL hindsightd at random moments, 50 times, restarting it
each time. Every kill must leave a database that passes integrity_check, lose
at most the tick in flight, and the next run must continue: no duplicate-key
failures, no gap in ts larger than the downtime."""
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
KILLS = int(os.environ.get("CRASH_KILLS", "50"))


def main():
    rng = random.Random(int(os.environ.get("CRASH_SEED", "12345")))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "crash.db")
        log = open(os.path.join(tmp, "daemon.log"), "w+")
        runs = []  # (start, kill, ticks stored by the run)
        stored = 0
        for i in range(KILLS):
            t0 = time.time()
            p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--log-level", "warn"],
                                 stderr=log)
            # Anywhere from during start-up to a few ticks in, including mid-commit.
            time.sleep(rng.uniform(0.05, 2.6))
            p.kill()
            p.wait()
            with sqlite3.connect(db, timeout=5) as c:
                ok = c.execute("PRAGMA integrity_check").fetchone()[0]
                now = c.execute("SELECT count(*) FROM agent").fetchone()[0] if ok == "ok" else 0
            runs.append((t0, time.time(), now - stored))
            stored = now
            if ok != "ok":
                problems.append(f"kill {i + 1}: integrity_check says {ok}")
                break
        # One clean run at the end: history continues after all the kills.
        p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--duration", "3"], stderr=log)
        p.wait(timeout=30)
        if p.returncode != 0:
            problems.append(f"final run exited {p.returncode}")
        log.seek(0)
        text = log.read()
        for bad in ("UNIQUE constraint", "constraint failed", "malformed", "tick not stored"):
            if bad in text:
                problems.append(f"daemon log mentions '{bad}'")
        with sqlite3.connect(db) as c:
            ts = [r[0] for r in c.execute("SELECT ts FROM agent ORDER BY ts")]
            durs = [r[0] for r in c.execute("SELECT dur_ms FROM agent ORDER BY ts")]
        if len(ts) != len(set(ts)):
            problems.append("duplicate ts")
        # Between two stored ticks there can be at most the downtime between runs
        # plus one interval (and a second of ts rounding).
        longest_down = max(b[0] - a[1] for a, b in zip(runs, runs[1:])) if len(runs) > 1 else 0
        # Runs shorter than a tick store nothing, so a gap spans their time too.
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        biggest = max(gaps) if gaps else 0
        short = max((b - a for a, b, n in runs if n == 0), default=0)
        if biggest > longest_down + 3 * short + 4:
            problems.append(f"gap of {biggest} s exceeds downtime {longest_down:.1f} s + tick")
        if any(d < 0 for d in durs):
            problems.append("negative dur_ms")
        # A run killed t seconds after its start had ticks due at 1, 2, ... s;
        # all but the one in flight must be stored.
        lost = [max(0, int(b - a) - n) for a, b, n in runs]
        if max(lost, default=0) > 1:
            problems.append(f"a run lost {max(lost)} ticks (at most the one in flight may go)")
        print(f"kills survived: {KILLS}/{KILLS}; ticks stored: {len(ts)}; "
              f"ticks lost (in flight at the kill): {sum(lost)}; biggest gap {biggest} s; "
              f"longest downtime {longest_down:.1f} s")
    for p in problems:
        print("FAIL " + p)
    print(f"{len(problems)} failed" if problems else "all checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
