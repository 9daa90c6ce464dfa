#!/usr/bin/env python3
"""eBPF exec and exit records: marker commands appear in the exec table with
their argv, `sh -c 'exit 7'` with exit code 7, a failed exec with its errno,
a threaded process as one exit; fork counters move; nothing is dropped.
A tick that cannot be stored keeps its records for the next one. Then
--no-bpf and an unprivileged run: state recorded, /proc sampling goes on."""
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

from bpfcommon import Daemon, copy_for_other_users, daemon_path, fail, require_root

require_root()
marker = "hsmark" + uuid.uuid4().hex[:10]
# Failed execs and the syscall counters need the syscall-exit hook, off by
# default (it costs every system call on the host).
d = Daemon(config_text="bpf:\n  syscalls: true\n  failed_execs: true\n")
try:
    d.require_running()
    start = d.last_ts()
    subprocess.run(["/bin/echo", marker, "a1", "a 2"], stdout=subprocess.DEVNULL, check=True)
    sh = subprocess.Popen(["/bin/sh", "-c", "exit 7", marker])
    sh.wait()
    try:
        subprocess.run([f"/nonexistent/{marker}", "x"])
        fail("exec of a missing file succeeded")
    except FileNotFoundError:
        pass
    threaded = subprocess.Popen(
        ["python3", "-c",
         "import threading\n"
         "ts = [threading.Thread(target=lambda: None) for _ in range(4)]\n"
         "[t.start() for t in ts]\n[t.join() for t in ts]", marker])
    threaded.wait()
    # Burns 30 ms of CPU and prints what its own clock says it used.
    burner = subprocess.Popen(
        ["python3", "-c",
         "import time\n"
         "while time.process_time() < 0.03: pass\n"
         "print(int(time.process_time() * 1e6))", marker], stdout=subprocess.PIPE, text=True)
    own_us = int(burner.communicate()[0])

    if not d.wait_for("SELECT count(*) >= 3 FROM process_exit WHERE pid IN (?, ?, ?)",
                      (sh.pid, threaded.pid, burner.pid)):
        fail("exit records of the markers never stored")
    d.wait_ticks(1)

    rows = d.query("SELECT args, ret, comm FROM exec_log WHERE args LIKE ? AND filename = '/bin/echo'",
                   (f"%{marker}%",))
    if rows != [(f"/bin/echo {marker} a1 a 2", 0, "echo")]:
        fail(f"echo marker: expected its argv once, got {rows}")
    rows = d.query("SELECT args FROM exec_log WHERE pid = ? AND ret = 0", (sh.pid,))
    if rows != [(f"/bin/sh -c exit 7 {marker}",)]:
        fail(f"sh marker exec: got {rows}")
    rows = d.query("SELECT exit_code, signal, comm, lifetime_ms > 0, cpu_ms > 0 "
                   "FROM process_exits WHERE pid = ?", (sh.pid,))
    if rows != [(7, None, "sh", 1, 1)]:
        fail(f"sh -c 'exit 7': expected exit code 7, got {rows}")
    rows = d.query("SELECT ret, args FROM exec_log WHERE filename = ?", (f"/nonexistent/{marker}",))
    if rows != [(-2, f"/nonexistent/{marker} x")]:
        fail(f"failed exec: expected ret -2 (ENOENT), got {rows}")
    rows = d.query("SELECT count(*), min(exit_code) FROM process_exits WHERE pid = ?",
                   (threaded.pid,))
    if rows != [(1, 0)]:
        fail(f"threaded process: expected one exit with code 0, got {rows}")

    # The exit record holds all of the CPU, the last slice before exit
    # included; after its last look at the clock python still exits.
    cpu_us = d.query("SELECT cpu_us FROM process_exit WHERE pid = ?", (burner.pid,))[0][0]
    if not own_us <= cpu_us <= own_us + 20000:
        fail(f"burner: its own clock says {own_us} us of CPU, the exit record {cpu_us} us")

    procs, threads, execs, exits, thread_exits, opens, writes = d.query(
        "SELECT sum(processes_created_count), sum(threads_created_count), sum(execs_count), "
        "sum(process_exits_count), sum(thread_exits_count), sum(file_opens_count), "
        "sum(write_calls_count) FROM kernel_events WHERE ts > ?", (start,))[0]
    if not (procs >= 4 and threads >= 4 and execs >= 4 and exits >= 4 and thread_exits >= 4):
        fail(f"task counters did not move: procs {procs} threads {threads} execs {execs} "
             f"exits {exits} thread exits {thread_exits}")
    if not (opens and writes):
        fail(f"syscall counters did not move: opens {opens} writes {writes}")
    drops = d.query("SELECT sum(ring_drops_count + buffer_drops_count) FROM bpf_tick")[0][0]
    if drops != 0:
        fail(f"{drops} records dropped on a quiet run")
    print(f"ok: markers stored; {procs} processes, {threads} threads, {execs} execs created")

    # A tick that cannot be stored (the database locked past the busy
    # timeout) keeps its records for the next one: stored once, not lost.
    lock = sqlite3.connect(d.db, timeout=10)
    lock.execute("BEGIN EXCLUSIVE")
    subprocess.run(["/bin/echo", marker, "while-locked"], stdout=subprocess.DEVNULL, check=True)
    time.sleep(7)
    lock.rollback()
    lock.close()
    if not d.wait_for("SELECT count(*) FROM exec_log WHERE args = ?",
                      (f"/bin/echo {marker} while-locked",)):
        fail("the exec made while the database was locked was never stored")
    d.wait_ticks(1)
    n = d.query("SELECT count(*) FROM exec_log WHERE args = ?",
                (f"/bin/echo {marker} while-locked",))[0][0]
    failed = d.query("SELECT coalesce(sum(commit_failures_count), 0) FROM agent")[0][0]
    if n != 1 or failed < 1:
        fail(f"locked database: the exec stored {n} times, {failed} failed ticks recorded")
    print(f"ok: an exec during {failed} failed tick(s) stored once")
finally:
    d.stop()

# --no-bpf: state 'off', /proc collectors still write.
d = Daemon(args=["--no-bpf", "--once"])
d.proc.wait(15)
rows = d.query("SELECT s.name, (SELECT count(*) FROM cpu) > 0 FROM bpf_tick b "
               "JOIN bpf_state s ON s.id = b.state_id")
d.stop()
if rows != [("off", 1)]:
    fail(f"--no-bpf: expected state off with cpu rows, got {rows}")

# Not root: one clear log line, state 'failed', /proc sampling goes on. The
# binary runs from a copy other users can reach: the build tree may not be.
def drop_root():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)

exe = copy_for_other_users(daemon_path())
if exe is None:
    print("SKIP unprivileged run: the temporary directory's parents are closed to other users")
    sys.exit(0)
d = Daemon(args=["--once"], preexec=drop_root, exe=exe)
d.proc.wait(15)
d.stop()
shutil.rmtree(os.path.dirname(exe))
rows = d.query("SELECT s.name, (SELECT count(*) FROM cpu) > 0 FROM bpf_tick b "
               "JOIN bpf_state s ON s.id = b.state_id")
log = [l for l in d.log_text().splitlines() if "eBPF" in l]
if rows != [("failed", 1)] or len(log) != 1 or "permission denied" not in log[0]:
    fail(f"unprivileged: expected state failed, cpu rows and one log line; got {rows} {log}")
print("ok: --no-bpf and unprivileged runs degrade cleanly:", log[0].split("] ", 1)[1])
