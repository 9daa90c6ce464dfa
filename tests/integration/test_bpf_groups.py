#!/usr/bin/env python3
"""Short-lived processes in the groups: 150 processes burning 4 ms each,
started and ended between ticks, must count in their own group (by comm,
the default rule) with the CPU they used, not in their parent's; no group
gets reaped-children CPU while eBPF reports exits; and over the window the
groups' CPU adds up to busy CPU from /proc/stat."""
import os
import tempfile
import time
import uuid

from bpfcommon import Daemon, fail, require_root, skip

require_root()
burn = os.path.join(os.environ.get("BUILD_DIR", "build"), "bench", "bench_burn")
if not os.access(burn, os.X_OK):
    skip(f"{burn} not built")

# A name of its own (comm is the name exec'd), so nothing else on the
# machine joins the group; without LeakSanitizer in a sanitized build, whose
# check at exit runs in a separate process of the same name.
tmp = tempfile.mkdtemp(prefix="hindsight-groups-")
name = "hsg" + uuid.uuid4().hex[:8]
prog = os.path.join(tmp, name)
os.symlink(burn, prog)
env = {"ASAN_OPTIONS": "detect_leaks=0"}

d = Daemon()
try:
    d.require_running()
    d.wait_ticks(1)
    start = d.last_ts()
    out = os.path.join(tmp, "cpu")
    running = set()
    for i in range(150):
        running.add(os.posix_spawn(prog, [prog, "4", out], env))
        time.sleep(0.01)
        while running:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            running.discard(pid)
    for pid in running:
        os.waitpid(pid, 0)
    with open(out) as f:
        own_ms = sum(int(line) for line in f) / 1000
    d.wait_ticks(2)
    end = d.last_ts()

    group_ms = d.query("SELECT coalesce(sum(user_ms + system_ms), 0) FROM group_cpu "
                       "WHERE group_name = ? AND ts > ?", (name, start))[0][0]
    if not 0.9 * own_ms <= group_ms <= 1.3 * own_ms + 50:
        fail(f"group {name}: {group_ms} ms, the processes' own clocks {own_ms:.0f} ms")
    reaped = d.query("SELECT coalesce(sum(reaped_cpu_ms), 0) FROM group_cpu WHERE ts > ?",
                     (start,))[0][0]
    if reaped:
        fail(f"{reaped} ms of reaped children's CPU added while eBPF reports exits")
    groups, busy = d.query(
        "SELECT (SELECT sum(user_ms + system_ms) FROM group_cpu WHERE ts > ?1 AND ts <= ?2), "
        "(SELECT sum(user_ms + nice_ms + system_ms + irq_ms + softirq_ms) FROM cpu "
        " WHERE cpu_id = -1 AND ts > ?1 AND ts <= ?2)", (start, end))[0]
    # Steal is time the hypervisor gave another guest: no process here ran
    # then, and on a busy shared host it is a fifth of busy time or more.
    # Kernel threads' interrupt work and the tick sampling of /proc/stat make
    # a few percent of difference; a whole process counted twice or missed
    # would make far more.
    if not 0.85 * busy <= groups <= 1.15 * busy:
        fail(f"groups' CPU {groups} ms against busy CPU {busy} ms")
    print(f"ok: {name} {group_ms} ms (own clocks {own_ms:.0f} ms); groups {groups} ms, "
          f"busy {busy} ms ({100 * groups / busy:.1f}%)")
finally:
    d.stop()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
