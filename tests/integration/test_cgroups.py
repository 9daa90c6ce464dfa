#!/usr/bin/env python3
"""Real cgroups on this machine (cgroup2, and the v1 hierarchies of a hybrid
host): a CPU burner, a memory toucher, an exec, an OOM kill and a cgroup
removed mid-run, checked against the kernel's own counters and the
workloads' getrusage. Every cgroup made here is removed at the end.

  - CPU stored for the burner's cgroup = cpu.stat usage_usec (cgroup2) and
    cpuacct.usage (v1), and its getrusage, within 1%;
  - CPU stored for a cgroup that exists only in v1 = cpuacct.usage;
  - memory stored = memory.usage_in_bytes (v1) / memory.current (v2);
  - exec_event.cgroup_id = the inode of the cgroup2 directory (what
    bpf_get_current_cgroup_id() returns), and exec_log names the cgroup;
  - the process table, top_processes and process_exits carry the cgroup
    (its id and name) of the burner and of the exec;
  - the OOM victim's cgroup is named in oom_kills, and the kill counted in
    cgroup_memory;
  - a cgroup removed mid-run gets gone_ts; no error is counted; its
    container_* series leave /metrics, an idle cgroup's stay;
  - /metrics exposes them with cAdvisor's names and labels (id = the path,
    name and image of a Docker container from its config.v2.json), the
    CPU counter summing the stored deltas, the working set the stored one."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tempfile
import urllib.request
import uuid

from bpfcommon import Daemon, fail, skip

if os.geteuid() != 0:
    skip("needs root to make cgroups")
CG = "/sys/fs/cgroup"
if os.path.exists(f"{CG}/cgroup.controllers"):
    V2 = CG
elif os.path.exists(f"{CG}/unified/cgroup.controllers"):
    V2 = f"{CG}/unified"
else:
    skip("no cgroup2 hierarchy mounted")
V1 = {}  # controller -> hierarchy directory
for name in sorted(os.listdir(CG)):
    path = f"{CG}/{name}"
    if os.path.islink(path) or not os.path.exists(f"{path}/cgroup.procs") or path == V2:
        continue
    for c in name.split(","):
        V1.setdefault(c, path)

BASE = "hs-it-" + uuid.uuid4().hex[:8]
CID = uuid.uuid4().hex + uuid.uuid4().hex  # a Docker container id: 64 hex digits
made = []


def mkcg(hier, rel):
    path = f"{hier}/{BASE}/{rel}" if rel else f"{hier}/{BASE}"
    if not os.path.isdir(path):
        os.mkdir(path)
        made.append(path)
    return path


def dirs(rel, v2=True, controllers=("cpu", "cpuacct", "memory", "blkio", "pids")):
    """The cgroup rel in cgroup2 and in the v1 hierarchies of controllers."""
    out = []
    for hier in ([V2] if v2 else []) + sorted({V1[c] for c in controllers if c in V1}):
        mkcg(hier, "")
        out.append(mkcg(hier, rel))
    return out


def entering(paths):
    def enter():
        for p in paths:
            with open(f"{p}/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
    return enter


def inside(paths, cmd):
    """cmd run by a shell that first moves itself into the cgroups, so that
    next to nothing it does is left out of them (a Python preexec_fn runs
    for milliseconds in the forked interpreter before it gets there)."""
    moves = "".join(f"echo $$ > '{p}/cgroup.procs' && " for p in paths)
    return ["/bin/sh", "-c", moves + 'exec "$@"', "sh", *cmd]


def run_rusage(cmd, paths):
    """Runs cmd inside the cgroups; returns its CPU by getrusage (µs) and
    its pid."""
    p = subprocess.Popen(inside(paths, cmd))
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        fail(f"{cmd[0]} exited with {status}")
    return round((ru.ru_utime + ru.ru_stime) * 1e6), p.pid


def scrape(d):
    """The daemon's /metrics, as {family: {labels text: value}}."""
    m = re.search(r"metrics: serving http://(127\.0\.0\.1:\d+)/metrics", d.log_text())
    if not m:
        fail(f"no metrics endpoint in the log:\n{d.log_text()}")
    text = urllib.request.urlopen(f"http://{m.group(1)}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split()
            out.setdefault(fam, {})["# TYPE"] = typ
        elif line and not line.startswith("#"):
            name, labels, value = re.match(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$",
                                           line).groups()
            out.setdefault(name, {})[labels or ""] = float(value)
    return out


def check_metrics(d, burn_path, mem_path, ctr_path):
    """cAdvisor's families for the burner's, the toucher's and the
    container's cgroups, against what the database stored."""
    for _ in range(5):  # a tick may commit between the scrape and the query
        got = scrape(d)
        cpu = d.query("SELECT sum(usage_us) / 1e6 FROM cgroup_cpu_stat s JOIN cgroup c "
                      "ON c.id = s.cgroup_id WHERE c.path = ?", (burn_path,))[0][0]
        ws = d.query("SELECT working_set_bytes FROM cgroup_memory WHERE path = ? "
                     "ORDER BY ts DESC LIMIT 1", (mem_path,))[0][0]
        want = {
            ("container_cpu_usage_seconds_total",
             f'cpu="total",id="{burn_path}",image="",name=""'): cpu,
            ("container_memory_working_set_bytes", f'id="{mem_path}",image="",name=""'): ws,
        }
        if all(abs(got.get(f, {}).get(l, -1) - v) < 1e-6 for (f, l), v in want.items()):
            break
        time.sleep(0.5)
    else:
        fail(f"/metrics: expected {want}, got "
             f"{[(f, got.get(f, {}).get(l)) for f, l in want]}")
    for fam, typ in (("container_cpu_usage_seconds_total", "counter"),
                     ("container_memory_working_set_bytes", "gauge"),
                     ("container_memory_usage_bytes", "gauge"),
                     ("container_cpu_cfs_throttled_seconds_total", "counter"),
                     ("container_oom_events_total", "counter")):
        if got.get(fam, {}).get("# TYPE") != typ:
            fail(f"/metrics: {fam} is not a {typ}: {got.get(fam, {}).get('# TYPE')}")
    ctr = [l for l in got["container_cpu_usage_seconds_total"] if f'id="{ctr_path}"' in l]
    if ctr != [f'cpu="total",id="{ctr_path}",image="python:3.11-slim",name="worker"']:
        fail(f"/metrics: the container's labels: {ctr}")
    print(f"ok: /metrics has cAdvisor's families: CPU {cpu:.6f} s and working set {ws} B as "
          f"stored, the container named {ctr[0]}")
    return got


def series_of(got, cg_path):
    """The container_* series of a cgroup in a scrape."""
    want = f'id="{cg_path}"'
    return [(f, l) for f, s in got.items() if f.startswith("container_")
            for l in s if want in l.split(",")]


def check_gone_leaves(d, gone_path, idle_path):
    """The removed cgroup's series are gone from a scrape; the idle one's
    stay. A tick's rows reach /metrics just after its commit: a few tries."""
    for _ in range(10):
        got = scrape(d)
        left = series_of(got, gone_path)
        if not left:
            break
        time.sleep(0.5)
    else:
        fail(f"/metrics still has the removed cgroup's series: {left[:5]}")
    idle = series_of(got, idle_path)
    if not any(f == "container_cpu_usage_seconds_total" for f, _ in idle):
        fail(f"/metrics lost the idle cgroup {idle_path}: {idle[:5]}")
    print(f"ok: the removed cgroup's series left /metrics; the idle one keeps {len(idle)}")


def read(path):
    with open(path) as f:
        return f.read()


def cleanup(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for path in reversed(made):
        for _ in range(50):  # a killed task leaves its cgroup a moment later
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


BURN = ("import time\n"
        "end = time.process_time() + float(__import__('sys').argv[1])\n"
        "while time.process_time() < end: pass\n")
TOUCH = ("import sys, time\n"
         "b = bytearray(64 << 20)\n"
         "for i in range(0, len(b), 4096): b[i] = 1\n"
         "print('ready', flush=True)\n"
         "time.sleep(600)\n")

procs = []
d = None
runtime = None
try:
    burn = dirs("burn", controllers=("cpu", "cpuacct"))
    v1only = dirs("v1only", v2=False, controllers=("cpu", "cpuacct"))
    mem = dirs("mem", controllers=("memory",))
    gone = dirs("gone", controllers=())
    execd = dirs("exec", controllers=())
    oom = dirs("oom", controllers=("memory",))
    ctr = dirs(f"docker-{CID}.scope", controllers=("cpu", "cpuacct"))
    runtime = tempfile.mkdtemp(prefix="hs-it-runtime-")
    os.makedirs(f"{runtime}/var/lib/docker/containers/{CID}")
    with open(f"{runtime}/var/lib/docker/containers/{CID}/config.v2.json", "w") as f:
        json.dump({"ID": CID, "Name": "/worker", "Config": {"Image": "python:3.11-slim"}}, f)
    d = Daemon(f"cgroups: {{refresh: 2s, runtime_root: {runtime}}}\n"
               "metrics: {listen: '127.0.0.1:0'}\n")
    bpf = d.state() == "running"
    d.wait_ticks(2)

    # CPU: a burner in cgroup2 and v1 cpu/cpuacct, one in v1 only
    ru_burn, burn_pid = run_rusage([sys.executable, "-c", BURN, "1.5"], burn)
    ru_v1, _ = run_rusage([sys.executable, "-c", BURN, "0.8"], v1only)
    # memory: 64 MiB touched and held
    toucher = subprocess.Popen([sys.executable, "-c", TOUCH], stdout=subprocess.PIPE,
                               preexec_fn=entering(mem))
    procs.append(toucher)
    toucher.stdout.readline()
    # a cgroup removed mid-run
    sleeper = subprocess.Popen(["sleep", "600"], preexec_fn=entering(gone))
    procs.append(sleeper)
    # an exec in a cgroup, seen by eBPF
    _, true_pid = run_rusage(["/bin/true"], execd)
    run_rusage([sys.executable, "-c", BURN, "0.2"], ctr)
    d.wait_ticks(3)
    before = series_of(scrape(d), f"/{BASE}/gone")
    if not before:
        fail(f"/metrics never showed the cgroup /{BASE}/gone")
    print(f"ok: /metrics shows {len(before)} series of /{BASE}/gone before its removal")
    sleeper.kill()
    sleeper.wait()
    os.rmdir(gone[0])
    made.remove(gone[0])
    # an OOM kill in a 32 MiB cgroup
    if "memory" in V1:
        with open(f"{oom[-1]}/memory.limit_in_bytes", "w") as f:
            f.write(str(32 << 20))
        hog = subprocess.Popen([sys.executable, "-c",
                                "a = [bytearray(1 << 20) for _ in range(256)]"],
                               preexec_fn=entering(oom))
        hog.wait()
        if hog.returncode != -9:
            fail(f"the hog was not OOM-killed (exit {hog.returncode})")
    d.wait_ticks(3)

    path = f"/{BASE}/burn"
    stored = d.query("SELECT sum(usage_us) FROM cgroup_cpu_stat s JOIN cgroup c "
                     "ON c.id = s.cgroup_id WHERE c.path = ?", (path,))[0][0] or 0
    kernel_v2 = int(read(f"{burn[0]}/cpu.stat").split()[1])
    checks = [("cgroup2 cpu.stat usage_usec", kernel_v2), ("getrusage", ru_burn)]
    if len(burn) > 1 and "cpuacct" in V1:
        checks.append(("cpuacct.usage", int(read(f"{V1['cpuacct']}/{BASE}/burn/cpuacct.usage"))
                       // 1000))
    for what, ref in checks:
        if abs(stored - ref) > 0.01 * ref:
            fail(f"{path}: stored {stored} us of CPU, {what} says {ref} us")
        print(f"ok: burner CPU stored {stored} us, {what} {ref} us "
              f"({100.0 * stored / ref:.2f}%)")
    if "cpuacct" in V1:
        stored = d.query("SELECT sum(usage_us) FROM cgroup_cpu_stat s JOIN cgroup c "
                         "ON c.id = s.cgroup_id WHERE c.path = ? AND c.inode < 0",
                         (f"/{BASE}/v1only",))[0][0] or 0
        ref = int(read(f"{V1['cpuacct']}/{BASE}/v1only/cpuacct.usage")) // 1000
        if abs(stored - ref) > 0.01 * ref or abs(stored - ru_v1) > 0.01 * ru_v1:
            fail(f"v1-only cgroup: stored {stored} us, cpuacct.usage {ref}, rusage {ru_v1}")
        print(f"ok: v1-only cgroup CPU stored {stored} us, cpuacct.usage {ref} us, "
              f"getrusage {ru_v1} us")

    # memory, read as close to a tick as the database says
    memfile = (f"{V1['memory']}/{BASE}/mem/memory.usage_in_bytes" if "memory" in V1
               else f"{mem[0]}/memory.current")
    d.wait_ticks(1)
    kernel = int(read(memfile))
    stored = d.query("SELECT current_bytes FROM cgroup_memory WHERE path = ? "
                     "ORDER BY ts DESC LIMIT 1", (f"/{BASE}/mem",))
    if not stored or abs(stored[0][0] - kernel) > 0.01 * kernel:
        fail(f"memory: stored {stored}, {memfile} says {kernel}")
    print(f"ok: memory stored {stored[0][0]} bytes, the kernel {kernel}")

    rows = d.query("SELECT gone_ts IS NOT NULL FROM cgroup WHERE path = ?", (f"/{BASE}/gone",))
    if rows != [(1,)]:
        fail(f"the removed cgroup did not end: {rows}")
    errors = d.query("SELECT sum(error_count) FROM cgroup_scan")[0][0]
    if errors:
        fail(f"{errors} cgroup files could not be read:\n{d.log_text()}")
    print("ok: the cgroup removed mid-run ended; no read or parse error")
    check_gone_leaves(d, f"/{BASE}/gone", f"/{BASE}/exec")

    # the process table and top_processes carry the burner's cgroup (its
    # cgroup2 id, read from /proc/PID/cgroup when the process was first seen)
    burn_ino = os.stat(burn[0]).st_ino
    rows = d.query("SELECT cgroup_id FROM process WHERE pid = ?", (burn_pid,))
    if rows != [(burn_ino,)]:
        fail(f"process: expected the burner's cgroup id {burn_ino}, got {rows}")
    rows = d.query("SELECT DISTINCT cgroup, cgroup_path FROM top_processes WHERE pid = ?",
                   (burn_pid,))
    if rows != [("burn", path)]:
        fail(f"top_processes: expected the burner in cgroup burn ({path}), got {rows}")
    print(f"ok: the process table and top_processes carry the burner's cgroup {rows[0]}")

    if bpf:
        rows = d.query("SELECT cgroup_id, cgroup, cgroup_path FROM process_exits "
                       "WHERE pid IN (?, ?) ORDER BY pid = ?", (burn_pid, true_pid, true_pid))
        want = [(burn_ino, "burn", path), (os.stat(execd[0]).st_ino, "exec", f"/{BASE}/exec")]
        if rows != want:
            fail(f"process_exits: expected {want}, got {rows}")
        print(f"ok: process_exits names the cgroup each process ended in: {rows}")
        ino = os.stat(execd[0]).st_ino
        rows = d.query("SELECT cgroup_id, cgroup FROM exec_log WHERE filename = '/bin/true' "
                       "AND cgroup_path = ?", (f"/{BASE}/exec",))
        if not rows or rows[0] != (ino, "exec"):
            fail(f"exec_log: expected cgroup id {ino} (the cgroup2 inode) named exec, "
                 f"got {rows}")
        print(f"ok: exec_event.cgroup_id {ino} is the cgroup2 directory's inode")
        if "memory" in V1:
            rows = d.query("SELECT comm, cgroup FROM oom_kills WHERE cgroup_path = ?",
                           (f"/{BASE}/oom",))
            if not rows or rows[0][1] != "oom":
                fail(f"oom_kills: expected the victim in cgroup oom, got {rows}")
            print(f"ok: oom_kills names the victim's cgroup: {rows[0]}")
    else:
        print("eBPF not running here: exec and OOM links not checked")
    if "memory" in V1:
        kills = d.query("SELECT sum(oom_kill_count) FROM cgroup_memory WHERE path = ?",
                        (f"/{BASE}/oom",))[0][0]
        if kills != 1:
            fail(f"cgroup_memory: expected 1 OOM kill, got {kills}")
        print("ok: the OOM kill is counted in cgroup_memory")
    got = check_metrics(d, path, f"/{BASE}/mem", f"/{BASE}/docker-{CID}.scope")
    if "memory" in V1:
        kills = got.get("container_oom_events_total", {}).get(
            f'id="/{BASE}/oom",image="",name=""')
        if kills != 1:
            fail(f"/metrics: container_oom_events_total of the oom cgroup is {kills}, not 1")
        print("ok: /metrics counts the OOM kill in container_oom_events_total")
finally:
    if d:
        d.stop()
    cleanup(procs)
    if runtime:
        shutil.rmtree(runtime, ignore_errors=True)
