#!/usr/bin/env python3
"""Group CPU without eBPF when a child and its grandchild exit between ticks.

A workload named "hschain" (python3 exec'd through a symlink) burns CPU
itself, then three times forks a child that forks a grandchild burning
1.5 s (so a tick sees it running), reaps it and exits at once, and is
reaped in turn: the grandchild and the child vanish in the same scan, and
the grandchild's CPU reaches the workload's cutime inside the child's
totals. hindsightd runs with --no-bpf, so only the reaped attribution
brings that CPU in; the stored CPU of the group over the window must be
within 2% of what the workload measured (counting the grandchild's seen
CPU twice is far outside that).
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
NAME = f"hschain{os.getpid() % 100000}"

WORKLOAD = r"""
import json, os, sys, time

def burn(seconds):
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1

burn(0.5)                      # in the process itself
for i in range(3):
    pid = os.fork()
    if pid == 0:               # the child: only waits for its own child
        g = os.fork()
        if g == 0:
            burn(1.5)          # the grandchild, seen by at least one tick
            os._exit(0)
        os.waitpid(g, 0)
        os._exit(0)
    os.waitpid(pid, 0)
t = os.times()
print(json.dumps({"self": t.user + t.system,
                  "children": t.children_user + t.children_system}), flush=True)
sys.stdin.read()               # idle until told to exit
"""


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def agent_ticks(db):
    try:
        return rows(db, "SELECT count(*) FROM agent")[0][0]
    except sqlite3.Error:
        return 0


def main():
    if not os.access(DAEMON, os.X_OK):
        print(f"no {DAEMON}", file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "h.db")
        cfg = os.path.join(tmp, "hindsight.yml")
        with open(cfg, "w") as f:
            f.write("top_processes: 200\n")
        burner = os.path.join(tmp, NAME)
        os.symlink(sys.executable, burner)
        script = os.path.join(tmp, "work.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)

        daemon = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--config", cfg, "--no-bpf"],
                                  stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: agent_ticks(db) >= 1, 30, "the first tick")
            work = subprocess.Popen([burner, script], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            measured = json.loads(work.stdout.readline())
            # the daemon must read the idle workload at least once more
            seen = agent_ticks(db)
            wait_for(lambda: agent_ticks(db) >= seen + 2, 30, "two more ticks")
            work.stdin.close()
            work.wait(10)
            seen = agent_ticks(db)
            wait_for(lambda: agent_ticks(db) >= seen + 1, 30, "a tick after the exit")
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=30)
        if daemon.returncode != 0:
            print(err, file=sys.stderr)
            return 1

        want_ms = (measured["self"] + measured["children"]) * 1000
        (stored_ms, reaped_ms), = rows(
            db, "SELECT sum(user_ms + system_ms), sum(reaped_cpu_ms) FROM group_cpu "
                "WHERE group_name = ?", NAME)
        stored_ms = stored_ms or 0
        print(f"workload measured {want_ms:.0f} ms (self {measured['self']*1000:.0f}, "
              f"children {measured['children']*1000:.0f}); stored {stored_ms} ms "
              f"(of it reaped {reaped_ms} ms)")
        ok = abs(stored_ms - want_ms) <= 0.02 * want_ms

        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
