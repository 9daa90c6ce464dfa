#!/usr/bin/env python3
"""What hindsight's eBPF programs cost other processes, as the daemon records
it: each program's runs and kernel time per tick (bpf_program_cost) and their
sum in the agent row. Statistics are on while the daemon holds a
BPF_ENABLE_STATS descriptor; kernel.bpf_stats_enabled is never changed. The
default configuration attaches no syscall-exit hook; with bpf.syscalls on, a
loop of 100,000 reads and writes shows in the hook's run count."""
import os

from bpfcommon import Daemon, fail, require_root

STATS = "/proc/sys/kernel/bpf_stats_enabled"
LOOP = 100000


def stats_sysctl():
    with open(STATS) as f:
        return f.read().strip()


def program_runs(d, name, since):
    return d.query("SELECT coalesce(sum(c.runs_count), 0), coalesce(sum(c.run_ns), 0) "
                   "FROM bpf_program_cost c JOIN bpf_program p ON p.id = c.program_id "
                   "WHERE p.name = ? AND c.ts > ?", (name, since))[0]


require_root()
before = stats_sysctl()

# Default configuration: the switch, exec, exit and fork hooks run and are
# measured; no syscall-exit hook, so the syscall counters are NULL.
d = Daemon()
try:
    d.require_running()
    d.wait_ticks(3)
    names = {r[0] for r in d.query("SELECT name FROM bpf_program")}
    if "on_sys_exit" in names or "on_switch" not in names:
        fail(f"default configuration: programs that ran: {sorted(names)}")
    rows = d.query("SELECT count(*), count(read_calls_count), count(execs_failed_count) "
                   "FROM kernel_counters")[0]
    if rows[0] == 0 or rows[1] or rows[2]:
        fail(f"default configuration: syscall counters should be NULL, got {rows}")
    runs, us = d.query("SELECT sum(bpf_runs_count), sum(bpf_run_us) FROM agent_health "
                       "WHERE bpf_runs_count IS NOT NULL")[0]
    if not runs or not us:
        fail(f"agent rows carry no eBPF kernel time: runs {runs}, us {us}")
    print(f"ok: default hooks ran {runs} times for {us} us of kernel time; no syscall hook")
finally:
    d.stop()
if stats_sysctl() != before:
    fail(f"kernel.bpf_stats_enabled was {before}, left {stats_sysctl()} after the daemon")

# The syscall counters on: the loop's calls run the syscall-exit hook.
d = Daemon(config_text="bpf:\n  syscalls: true\n")
try:
    d.require_running()
    d.wait_ticks(1)
    start = d.last_ts()
    r = os.open("/dev/zero", os.O_RDONLY)
    w = os.open("/dev/null", os.O_WRONLY)
    for _ in range(LOOP):
        os.write(w, os.read(r, 1))
    os.close(r)
    os.close(w)
    d.wait_ticks(2)
    runs, ns = program_runs(d, "on_sys_exit", start)
    if runs < 2 * LOOP or ns <= 0:
        fail(f"{2 * LOOP} system calls, the syscall-exit hook counted {runs} runs, {ns} ns")
    total = d.query("SELECT sum(bpf_runs_count) FROM agent WHERE ts > ?", (start,))[0][0]
    if total < runs:
        fail(f"agent rows hold {total} runs, fewer than on_sys_exit's {runs}")
    print(f"ok: {2 * LOOP} system calls ran the hook {runs} times, {ns / runs:.0f} ns each")
finally:
    d.stop()
if stats_sysctl() != before:
    fail(f"kernel.bpf_stats_enabled was {before}, left {stats_sysctl()} after the daemon")
