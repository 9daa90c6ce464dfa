#!/usr/bin/env python3
"""Same numbers as process-exporter, from the same config file.

prometheus-process-exporter and hindsightd read one process-exporter YAML
file (hindsight through process_config). A workload named "hspePID" starts
after both, burns CPU and touches memory, then idles. The growth of
process-exporter's counters for the group between a scrape before the
workload and one after it must match what hindsight stored over the same
span: CPU, faults and context switches within 2%. The gauges hindsight
holds for the group at the end (group_tasks: processes, threads, sleeping,
oldest start) must equal process-exporter's at the scrape after the workload,
which then sleeps. Skipped (77) when prometheus-process-exporter is not
installed.
"""
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
PE = shutil.which("prometheus-process-exporter")

WORKLOAD = r"""
import sys, time
end = time.process_time() + 1.5
junk = []
while time.process_time() < end:
    junk.append(bytearray(4096))     # minor faults as well as CPU
    if len(junk) > 20000:
        junk = []
print("done", flush=True)
sys.stdin.read()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url, group):
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    out = {}
    for name, labels, value in re.findall(r'^(namedprocess_namegroup_\w+)\{([^}]*)\} (\S+)$',
                                          text, re.M):
        if f'groupname="{group}"' in labels:
            key = name + "".join(sorted(re.findall(r'(?:mode|ctxswitchtype|state)="(\w+)"', labels)))
            out[key] = float(value)
    return out


def ticks(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        n = con.execute("SELECT count(*) FROM agent").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def wait_ticks(db, n):
    end = time.time() + 60
    while ticks(db) < n:
        if time.time() > end:
            sys.exit("timed out waiting for ticks")
        time.sleep(0.1)


def main():
    if not PE:
        print("prometheus-process-exporter is not installed")
        return 77
    if not os.access(DAEMON, os.X_OK):
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        name = f"hspe{os.getpid()}"  # apart from concurrent runs
        rules = os.path.join(tmp, "process-exporter.yml")
        with open(rules, "w") as f:
            f.write(f"process_names:\n  - name: '{{{{.Comm}}}}'\n    comm:\n    - {name}\n")
        cfg = os.path.join(tmp, "hindsight.yml")
        with open(cfg, "w") as f:
            f.write(f"process_config: {rules}\n")
        burner = os.path.join(tmp, name)
        os.symlink(sys.executable, burner)
        script = os.path.join(tmp, "work.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        db = os.path.join(tmp, "h.db")
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        pe = subprocess.Popen([PE, "-config.path", rules, "-web.listen-address",
                               f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        daemon = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--config", cfg],
                                  stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(100):
                try:
                    before = scrape(url, name)
                    break
                except OSError:
                    time.sleep(0.1)
            wait_ticks(db, 1)
            work = subprocess.Popen([burner, script], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            work.stdout.readline()
            n = ticks(db)
            wait_ticks(db, n + 2)
            after = scrape(url, name)
            work.stdin.close()
            work.wait(10)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.communicate(timeout=30)
            pe.terminate()
            pe.wait(10)
        con = sqlite3.connect(db)
        ours = con.execute(
            "SELECT sum(user_ms), sum(system_ms), sum(minor_faults_count), "
            "sum(major_faults_count), sum(voluntary_switches_count), "
            "sum(involuntary_switches_count) FROM group_sample s JOIN proc_group g "
            "ON g.id = s.group_id WHERE g.name = ?", (name,)).fetchone()
        gauges = con.execute(
            "SELECT procs_count, threads_count, sleeping_count, oldest_start_ts FROM "
            "group_tasks WHERE group_name = ? ORDER BY ts DESC LIMIT 1", (name,)).fetchone()
        con.close()

    def grew(key):
        return after.get(key, 0) - before.get(key, 0)

    theirs = (grew("namedprocess_namegroup_cpu_seconds_totaluser") * 1000,
              grew("namedprocess_namegroup_cpu_seconds_totalsystem") * 1000,
              grew("namedprocess_namegroup_minor_page_faults_total"),
              grew("namedprocess_namegroup_major_page_faults_total"),
              grew("namedprocess_namegroup_context_switches_totalvoluntary"),
              grew("namedprocess_namegroup_context_switches_totalnonvoluntary"))
    ok = True
    for what, a, b in zip(("user ms", "system ms", "minor faults", "major faults",
                              "voluntary cs", "involuntary cs"), ours, theirs):
        a = a or 0
        close = abs(a - b) <= max(20 if "ms" in what else 2, 0.02 * max(a, b))
        ok &= close
        print(f"{what:>13}: hindsight {a:>8.0f}  process-exporter {b:>8.0f}  {'ok' if close else 'DIFFERENT'}")
    theirs = (after.get("namedprocess_namegroup_num_procs"),
              after.get("namedprocess_namegroup_num_threads"),
              after.get("namedprocess_namegroup_statesSleeping"),
              after.get("namedprocess_namegroup_oldest_start_time_seconds"))
    for what, a, b in zip(("procs", "threads", "sleeping", "oldest start s"), gauges or (),
                          theirs):
        # Start times: both from the boot time and start ticks, rounded apart.
        close = a is not None and b is not None and abs(a - b) <= (1 if "start" in what else 0)
        ok &= close
        print(f"{what:>14}: hindsight {a}  process-exporter {b}  {'ok' if close else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
