#!/usr/bin/env python3
"""hindsightd's /metrics against node_exporter's and process-exporter's.

Debian's prometheus-node-exporter and prometheus-process-exporter run on
127.0.0.1 beside hindsightd (1 s interval), process-exporter and hindsight
reading one process-exporter config file (groups by comm). Right after a
tick all three are scraped, four times (two pairs of consecutive ticks, a
few seconds apart). An exporter scraped just after hindsight's tick T reads
the kernel between T and T+1, so "within one tick's change" is exact: its
value lies between hindsight's at T and at T+1. Then:
  - names: every node_* and namedprocess_* family hindsight exposes is one
    the exporter exposes too, or one of a listed few the Debian exporter
    leaves out by default (each with the reason); for every family both
    expose, the TYPE and the label names are the same, and the label sets
    that identify devices, mounts and groups meet;
  - values: for every series both expose (system-wide, and two groups the
    test runs: a busy process and an idle one), a gauge lies between
    hindsight's values at the tick and the next, and a counter's growth
    from the first scrape to the third between hindsight's growths from
    the first or second tick to the third or fourth (counters are
    cumulative since each program started: only growth compares).
Skipped (77) when an exporter is not installed.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import DAEMON, Daemon, free_port, parse, scrape, wait_for  # noqa: E402

NODE = shutil.which("prometheus-node-exporter")
PE = shutil.which("prometheus-process-exporter")

# Families hindsight exposes that Debian's node_exporter 1.5.0 does not by
# default on this kind of host, and why.
ABSENT_OK = {
    "node_pressure_cpu_stalled_seconds_total": "newer node_exporters only (cpu 'full')",
    "node_pressure_irq_stalled_seconds_total": "newer node_exporters only",
    "node_tcp_connection_states": "tcpstat collector, off by default",
    "node_disk_discarded_sectors_total": "only for devices that discard",
}
ABSENT_PREFIX_OK = {
    "node_vmstat_": "outside the default --collector.vmstat.fields",
    "node_netstat_": "outside the default --collector.netstat.fields",
    "node_memory_": "a meminfo line this kernel lacks",
    "node_sockstat_": "a sockstat line this kernel lacks",
    "node_network_": "a device node_exporter skips (lo) or a property it cannot read",
    "node_disk_": "a device node_exporter skips",
    "node_filesystem_": "a mount node_exporter skips",
}
# the labels that say which device, mount or group a series is
IDENTITY = {"device", "mountpoint", "groupname", "cpu"}
# gauges that go up and down within a second (a compiler starting and
# exiting between two ticks) can leave the range of the two ticks around
# the scrape: an absolute allowance
SLACK = {"node_load": 0.3, "node_procs_": 6, "node_sockstat_": 64, "node_memory_": 64 << 20,
         "node_filesystem_": 64 << 20,
         "node_netstat_Tcp_CurrEstab": 4, "node_time_seconds": 2,
         "namedprocess_namegroup_memory_bytes": 1 << 20,
         # a state is read at an instant: the busy group's one process
         # turns from running to sleeping every 50 ms
         "namedprocess_namegroup_states": 1,
         # stored as a percentage in hundredths: 1e-4 of resolution
         "namedprocess_namegroup_worst_fd_ratio": 1e-4}

BUSY = r"""
import sys, time
while True:
    t = time.process_time() + 0.05
    while time.process_time() < t:
        pass
    time.sleep(0.05)
"""
IDLE = "import sys; sys.stdin.read()\n"


def wait_http(url):
    def up():
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return True
        except OSError:
            return False
    wait_for(up, 60, url)


def snapshot(d, node_url, pe_url):
    """Right after a new tick: hindsight's, node_exporter's and
    process-exporter's samples, and the types."""
    n = d.ticks()
    d.wait_ticks(n + 1)
    ours, ours_t = parse(scrape(d.url)[1])
    node, node_t = parse(scrape(node_url)[1])
    pe, pe_t = parse(scrape(pe_url)[1])
    theirs = dict(node)
    theirs.update(pe)
    types = dict(node_t)
    types.update(pe_t)
    return ours, ours_t, theirs, types


def slack(name, value):
    for prefix, s in SLACK.items():
        if name.startswith(prefix):
            return s
    return 1e-6 * abs(value) + 1e-9


def check_names(ours, ours_t, theirs, types):
    ok = True
    mine = {n for n in ours_t if n.startswith(("node_", "namedprocess_"))}
    for fam in sorted(mine - set(types)):
        why = ABSENT_OK.get(fam) or next(
            (w for p, w in ABSENT_PREFIX_OK.items() if fam.startswith(p)), None)
        if why:
            print(f"  only hindsight: {fam} ({why})")
        else:
            print(f"NAME: {fam} is not a name node_exporter or process-exporter exposes")
            ok = False
    both = sorted(mine & set(types))
    for fam in both:
        if ours_t[fam] != types[fam]:
            print(f"TYPE: {fam} is {ours_t[fam]} here, {types[fam]} there")
            ok = False
        ln_ours = {tuple(k for k, _ in labels) for (n, labels) in ours if n == fam}
        ln_theirs = {tuple(k for k, _ in labels) for (n, labels) in theirs if n == fam}
        if ln_ours and ln_theirs and ln_ours != ln_theirs:
            print(f"LABELS: {fam}: {sorted(ln_ours)} here, {sorted(ln_theirs)} there")
            ok = False
        ids_ours = {tuple(kv for kv in labels if kv[0] in IDENTITY) for (n, labels) in ours
                    if n == fam}
        ids_theirs = {tuple(kv for kv in labels if kv[0] in IDENTITY) for (n, labels) in theirs
                      if n == fam}
        if ids_ours and ids_theirs and not ids_ours & ids_theirs:
            print(f"LABEL VALUES: {fam}: no device, mount or group in common: "
                  f"{sorted(ids_ours)[:3]} here, {sorted(ids_theirs)[:3]} there")
            ok = False
    print(f"{len(both)} families in both, {len(mine - set(types))} only in hindsight")
    return ok, both


def cumulative_families(db):
    """Counters, and untyped families fed by deltas (node_vmstat_*, most of
    node_netstat_*), as the naming table says."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT DISTINCT c.family FROM metric_column c JOIN metric_family f ON f.name = c.family "
        "LEFT JOIN series_column s ON s.table_name = c.table_name AND "
        "s.column_name = c.column_name WHERE f.type = 'counter' OR s.kind = 'counter'").fetchall()
    con.close()
    return {r[0] for r in rows}


def check_values(snaps, both, groups, db):
    """An exporter scraped right after our tick T reads between our values
    at T and at T+1 (the next snapshot): for a counter, its growth from the
    first pair to the last lies between ours from T0+1 to T3 and ours from T0
    to T3+1; a gauge lies between ours at T3 and T3+1."""
    (o0, _, x0, _), (o1, _, _, _), (o3, _, x3, _), (o4, _, _, _) = snaps
    ok = True
    compared = 0
    sums = cumulative_families(db)
    for key in sorted(set(o0) & set(o1) & set(o3) & set(o4) & set(x0) & set(x3)):
        name, labels = key
        if name not in both:
            continue
        g = dict(labels).get("groupname")
        if name.startswith("namedprocess_") and g not in groups:
            continue  # other people's groups: short-lived children differ by design
        if name == "node_uname_info":
            continue  # its labels are its value
        if name in sums:
            theirs = x3[key] - x0[key]
            lo, hi = o3[key] - o1[key], o4[key] - o0[key]
        else:
            theirs = x3[key]
            lo, hi = min(o3[key], o4[key]), max(o3[key], o4[key])
        tol = slack(name, hi)
        compared += 1
        if not lo - tol <= theirs <= hi + tol:
            print(f"VALUE: {name}{dict(labels)}: exporter {theirs:.6g}, hindsight between "
                  f"{lo:.6g} and {hi:.6g} (allowance {tol:.3g})")
            ok = False
    print(f"{compared} series compared by value")
    return ok and compared > 50


def main():
    if not NODE or not PE:
        print("prometheus-node-exporter or prometheus-process-exporter is not installed")
        return 77
    if not os.access(DAEMON, os.X_OK):
        return 77
    tag = f"hscmp{os.getpid() % 1000000}"
    busy, idle = tag + "a", tag + "b"
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "process-exporter.yml")
        with open(rules, "w") as f:
            f.write("process_names:\n  - name: '{{.Comm}}'\n    cmdline: ['.+']\n")
        work = []
        for name, code in ((busy, BUSY), (idle, IDLE)):
            exe = os.path.join(tmp, name)
            os.symlink(sys.executable, exe)
            work.append(subprocess.Popen([exe, "-c", code], stdin=subprocess.PIPE))
        d = Daemon(tmp, config=f"process_config: {rules}\n")
        node_port, pe_port = free_port(), free_port()
        node = subprocess.Popen([NODE, f"--web.listen-address=127.0.0.1:{node_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pe = subprocess.Popen([PE, "-config.path", rules, "-web.listen-address",
                               f"127.0.0.1:{pe_port}", "-threads=false", "-gather-smaps=false"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            node_url = f"http://127.0.0.1:{node_port}/metrics"
            pe_url = f"http://127.0.0.1:{pe_port}/metrics"
            wait_http(node_url)
            wait_http(pe_url)
            d.wait_ticks(3)
            snaps = [snapshot(d, node_url, pe_url), snapshot(d, node_url, pe_url)]
            time.sleep(4)
            snaps += [snapshot(d, node_url, pe_url), snapshot(d, node_url, pe_url)]
            names_ok, both = check_names(*snaps[2])
            values_ok = check_values(snaps, set(both), {busy, idle}, d.db)
        finally:
            for p in (node, pe, *work):
                p.kill()
                p.wait()
            code = d.stop()
        if code != 0:
            print(d.text())
            return 1
        return 0 if names_ok and values_ok else 1


if __name__ == "__main__":
    sys.exit(main())
