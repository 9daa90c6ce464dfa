#!/usr/bin/env python3
"""An OOM kill in a 32 MiB memory cgroup: the victim appears in oom_kills with
its pid, comm and memory, the OOM counter moves, and its exit shows SIGKILL."""
import os
import subprocess
import uuid

from bpfcommon import Daemon, fail, require_root, skip

require_root()
LIMIT = 32 << 20
name = "hindsight-oom-" + uuid.uuid4().hex[:8]
if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
    with open("/sys/fs/cgroup/cgroup.controllers") as f:
        if "memory" not in f.read().split():
            skip("cgroup v2 without the memory controller")
    cg = f"/sys/fs/cgroup/{name}"
    limits = {"memory.max": LIMIT, "memory.swap.max": 0}
elif os.path.isdir("/sys/fs/cgroup/memory"):
    cg = f"/sys/fs/cgroup/memory/{name}"
    limits = {"memory.limit_in_bytes": LIMIT}
else:
    skip("no memory cgroup to confine the OOM kill to")

d = Daemon()
os.mkdir(cg)
try:
    d.require_running()
    for k, v in limits.items():
        with open(f"{cg}/{k}", "w") as f:
            f.write(str(v))

    def enter():
        with open(f"{cg}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))

    hog = subprocess.Popen(["python3", "-c", "a = [bytearray(1 << 20) for _ in range(256)]",
                            uuid.uuid4().hex], preexec_fn=enter)
    hog.wait()
    if hog.returncode != -9:
        fail(f"the hog was not OOM-killed (exit {hog.returncode})")
    if not d.wait_for("SELECT count(*) FROM process_exit WHERE pid = ?", (hog.pid,)):
        fail("the victim's exit was never stored")
    d.wait_ticks(1)
    rows = d.query("SELECT comm, anon_rss_kb > 8192, total_vm_kb > anon_rss_kb FROM oom_kills "
                   "WHERE pid = ?", (hog.pid,))
    if rows != [("python3", 1, 1)]:
        fail(f"oom_kills: expected the python3 victim with its memory, got {rows}")
    rows = d.query("SELECT signal, exit_code FROM process_exits WHERE pid = ?", (hog.pid,))
    if rows != [(9, None)]:
        fail(f"the victim's exit: expected signal 9, got {rows}")
    kills = d.query("SELECT sum(oom_kills_count) FROM kernel_events")[0][0]
    if not kills or kills < 1:
        fail(f"oom_kills_count did not move ({kills})")
    print(f"ok: victim {hog.pid} stored; {kills} OOM kill(s) counted")
finally:
    d.stop()
    os.rmdir(cg)
