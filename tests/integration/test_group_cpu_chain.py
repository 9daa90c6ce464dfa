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
import sys

import test_group_cpu as group_cpu

WORKLOAD = group_cpu.BURN + r"""
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

if __name__ == "__main__":
    sys.exit(group_cpu.main("hschain", WORKLOAD, ["--no-bpf"], check_process=False))
