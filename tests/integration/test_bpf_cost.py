#!/usr/bin/env python3
"""What hindsight's eBPF programs cost other processes, as the daemon records
it: each program's runs and kernel time per tick (bpf_program_cost) and their
sum in the agent row, when bpf.prog_stats turns BPF statistics on (a
BPF_ENABLE_STATS descriptor held while the daemon runs;
kernel.bpf_stats_enabled is never changed). By default neither statistics
nor the syscall-exit hook are on. The
loop of 100,000 reads and writes shows in the syscall-exit hook's run count
with bpf.syscalls on."""
import os
import re
import subprocess

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

# Default configuration: no syscall-exit hook, so the syscall counters are
# NULL; no BPF statistics (they would slow every BPF program on the host), so
# no kernel time either unless kernel.bpf_stats_enabled is on anyway.
d = Daemon()
try:
    d.require_running()
    d.wait_ticks(3)
    rows = d.query("SELECT count(*), count(read_calls_count), count(execs_failed_count) "
                   "FROM kernel_counters")[0]
    if rows[0] == 0 or rows[1] or rows[2]:
        fail(f"default configuration: syscall counters should be NULL, got {rows}")
    measured = d.query("SELECT count(bpf_run_us) FROM agent")[0][0]
    if before == "0" and measured:
        fail(f"default configuration: {measured} ticks measured with statistics off")
    print("ok: default configuration: no syscall hook, no statistics")
finally:
    d.stop()

# The syscall counters and the statistics on: the loop's calls run the
# syscall-exit hook; every program that ran has its row and the agent rows
# their sum.
d = Daemon(config_text="bpf:\n  syscalls: true\n  prog_stats: true\n")
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
    for i in range(20):
        subprocess.run(["/bin/true", f"hscost-{i}"], check=True)
    d.wait_ticks(2)
    # the ring held at least those exec records at some point, never more than its size
    peak = d.query("SELECT max(ring_peak_bytes) FROM kernel_events WHERE ts > ?", (start,))[0][0]
    if not peak or not 300 <= peak <= 2048 * 1024:
        fail(f"ring buffer peak {peak} bytes: expected a record's size up to the 2 MiB ring")
    runs, ns = program_runs(d, "on_sys_exit", start)
    if runs < 2 * LOOP or ns <= 0:
        fail(f"{2 * LOOP} system calls, the syscall-exit hook counted {runs} runs, {ns} ns")
    names = {r[0] for r in d.query("SELECT name FROM bpf_program")}
    if not {"on_sys_exit", "on_switch"} <= names:
        fail(f"programs that ran: {sorted(names)}")
    total, us = d.query("SELECT sum(bpf_runs_count), sum(bpf_run_us) FROM agent_health "
                        "WHERE ts > ?", (start,))[0]
    if total < runs or not us:
        fail(f"agent rows hold {total} runs and {us} us, on_sys_exit alone ran {runs} times")
    print(f"ok: {2 * LOOP} system calls ran the hook {runs} times, {ns / runs:.0f} ns each; "
          f"all programs {us} us")
    out = subprocess.run([os.path.join(os.environ["BUILD_DIR"], "hindsight"), "status", "--db",
                          d.db], capture_output=True, text=True, timeout=60).stdout
    if not re.search(r"^eBPF +last hour: [\d.]+% of one core in the kernel, \d+ program runs$",
                     out, re.M):
        fail(f"status does not show the programs' kernel time:\n{out}")
finally:
    d.stop()
if stats_sysctl() != before:
    fail(f"kernel.bpf_stats_enabled was {before}, left {stats_sysctl()} after the daemon")
