#!/usr/bin/env python3
"""Crash safety: SIGKILL hindsightd at random moments, 50 times, restarting it
each time. Every kill must leave a database that passes integrity_check, lose
at most the tick in flight, and the next run must continue: no duplicate-key
failures, and every run stores every tick that came due before its kill but
the one in flight, so the only gaps in ts are the downtime."""
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
        runs = []  # (ready or None, kill, ticks stored by the run)
        stored = 0
        for i in range(KILLS):
            p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--log-level", "info"],
                                 stderr=subprocess.PIPE)
            os.set_blocking(p.stderr.fileno(), False)
            # Anywhere from during start-up to a few ticks in, including mid-commit.
            kill_at = time.monotonic() + rng.uniform(0.05, 2.6)
            ready, out = None, b""
            while time.monotonic() < kill_at:
                out += p.stderr.read() or b""
                if ready is None and b"sampling every" in out:
                    ready = time.monotonic()  # ticks are due 1, 2, ... s after this
                time.sleep(0.01)
            p.kill()
            killed = time.monotonic()
            p.wait()
            out += p.stderr.read() or b""
            log.write(out.decode(errors="replace"))
            with sqlite3.connect(db, timeout=5) as c:
                ok = c.execute("PRAGMA integrity_check").fetchone()[0]
                now = c.execute("SELECT count(*) FROM agent").fetchone()[0] if ok == "ok" else 0
            runs.append((ready, killed, now - stored))
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
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        biggest = max(gaps) if gaps else 0
        if any(d < 0 for d in durs):
            problems.append("negative dur_ms")
        # A run killed t seconds after it was ready had ticks due at 1, 2, ...
        # s; all but the one in flight must be stored (a tick's own work can
        # push the last one past the kill, hence the 0.3 s of slack).
        lost = [max(0, int(k - r - 0.3) - n) for r, k, n in runs if r is not None]
        if max(lost, default=0) > 1:
            problems.append(f"a run lost {max(lost)} ticks (at most the one in flight may go)")
        killed_in_startup = sum(1 for r, _, _ in runs if r is None)
        print(f"kills survived: {KILLS}/{KILLS} ({killed_in_startup} during start-up); "
              f"ticks stored: {len(ts)}; ticks lost (in flight at the kill): {sum(lost)}; "
              f"biggest gap {biggest} s")
    for p in problems:
        print("FAIL " + p)
    print(f"{len(problems)} failed" if problems else "all checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
