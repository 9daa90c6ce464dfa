#!/usr/bin/env python3
"""Group CPU accuracy against the workload's own accounting.

A workload named "hsburn" (python3 exec'd through a symlink, so its comm is
hsburn) burns CPU itself, then in short-lived children it forks and reaps
between ticks, reports its os.times() (self + waited-for children, the
same kernel accounting as getrusage), and idles until the daemon has read
it once more. hindsightd runs at a 1 s interval; the stored CPU of group
hsburn over the window must be within 2% of what the workload measured.
The workload's own process is also compared with /proc/PID/stat.
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

BURN = r"""
import json, os, sys, time

def burn(seconds):
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1

"""

WORKLOAD = BURN + r"""
burn(2.0)                      # in the process itself
for i in range(12):            # children living well under one tick
    pid = os.fork()
    if pid == 0:
        burn(0.15)
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


def main(prefix="hsburn", workload=WORKLOAD, daemon_args=(), check_process=True):
    """Runs workload as a process named prefix+pid under hindsightd (with
    daemon_args) and compares the group's stored CPU with its os.times()."""
    # Grouping is by comm across the whole machine, so the name is unique to
    # this run: another copy of this test elsewhere must not join the group.
    name = f"{prefix}{os.getpid() % 100000}"
    if not os.access(DAEMON, os.X_OK):
        print(f"no {DAEMON}", file=sys.stderr)
        return 77
    hz = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "h.db")
        cfg = os.path.join(tmp, "hindsight.yml")
        with open(cfg, "w") as f:
            f.write("top_processes: 200\n")
        burner = os.path.join(tmp, name)
        os.symlink(sys.executable, burner)
        script = os.path.join(tmp, "work.py")
        with open(script, "w") as f:
            f.write(workload)

        daemon = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--config", cfg,
                                   *daemon_args],
                                  stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: agent_ticks(db) >= 1, 30, "the first tick")
            work = subprocess.Popen([burner, script], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            measured = json.loads(work.stdout.readline())
            # the daemon must read the idle workload at least once more
            seen = agent_ticks(db)
            wait_for(lambda: agent_ticks(db) >= seen + 2, 30, "two more ticks")
            with open(f"/proc/{work.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            proc_ms = (int(fields[11]) + int(fields[12])) * 1000 // hz
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
                "WHERE group_name = ?", name)
        stored_ms = stored_ms or 0
        print(f"workload measured {want_ms:.0f} ms (self {measured['self']*1000:.0f}, "
              f"children {measured['children']*1000:.0f}); stored {stored_ms} ms "
              f"(of it reaped {reaped_ms} ms)")
        ok = abs(stored_ms - want_ms) <= 0.02 * want_ms
        if not check_process:
            return 0 if ok else 1

        # one process against /proc: its row and its own CPU in the top list
        (pid, comm, ppid, cmdline, pid_ms), = rows(
            db, "SELECT p.pid, p.comm, p.ppid, p.cmdline, "
                "(SELECT sum(user_ms + system_ms) FROM process_top t WHERE t.process_id = p.id) "
                "FROM process p WHERE p.pid = ? AND p.comm = ?", work.pid, name)
        print(f"pid {pid}: /proc says {proc_ms} ms, top rows say {pid_ms} ms")
        if ppid != os.getpid() or script not in cmdline:
            print(f"process row wrong: ppid {ppid}, cmdline {cmdline!r}")
            ok = False
        if abs((pid_ms or 0) - proc_ms) > max(20, 0.02 * proc_ms):
            ok = False
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
