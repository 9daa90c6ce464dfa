#!/usr/bin/env python3
"""The exec log reads one row per exec: a program started through a PATH
search (env, execvp) left one failed exec (ret -2) per directory tried
before the one holding it, 4-7 rows for one command. exec_log folds them
into the exec's failed_count (exec_log_all and show --all keep every try),
ret comes early, and parent_comm names the process that started it (comm
itself is the new program's, or the caller's for a failed try)."""
import os
import shutil
import subprocess
import tempfile
import uuid

from bpfcommon import Daemon, fail, require_root

require_root()
build = os.environ["BUILD_DIR"]
hindsight = os.path.join(build, "hindsight")
name = "hsx" + uuid.uuid4().hex[:10]  # fits a comm (15 characters)
tmp = tempfile.mkdtemp(prefix="hindsight-execlog-")
dirs = [os.path.join(tmp, d) for d in ("a", "b", "c", "bin")]
for d in dirs:
    os.mkdir(d)
prog = shutil.copy2("/bin/true", os.path.join(dirs[3], name))
with open("/proc/self/comm") as f:
    me = f.read().strip()

# failed execs come from the syscall-exit hook, off by default (docs/cost.md)
d = Daemon(config_text="bpf:\n  failed_execs: true\n")
try:
    d.require_running()
    # found in the fourth directory: three failed tries, then the exec
    subprocess.run(["/usr/bin/env", f"PATH={':'.join(dirs)}", name, "arg1"], check=True)
    # found nowhere: two failed tries, and env gives up
    missing = name + "x"
    r = subprocess.run(["/usr/bin/env", f"PATH={dirs[0]}:{dirs[1]}", missing],
                       stderr=subprocess.DEVNULL)
    if r.returncode != 127:
        fail(f"env of a missing program exited {r.returncode}")
    if not d.wait_for("SELECT count(*) >= 7 FROM exec_event WHERE args LIKE ?",
                      (f"%{name}%",)):
        fail("the exec records never stored")
    d.wait_ticks(1)

    rows = d.query("SELECT ret, failed_count, comm, parent_comm, filename, args FROM exec_log "
                   "WHERE args LIKE ? ORDER BY time_ns", (f"{name}%",))
    want = [(0, 3, name, me, prog, f"{name} arg1"),
            (-2, 2, "env", me, os.path.join(dirs[1], missing), missing)]
    if rows != want:
        fail(f"exec_log: expected {want}, got {rows}")
    # every try is still there
    rows = d.query("SELECT ret, comm, filename FROM exec_log_all WHERE args LIKE ? "
                   "ORDER BY time_ns", (f"{name}%",))
    want = ([(-2, "env", os.path.join(x, name)) for x in dirs[:3]] + [(0, name, prog)] +
            [(-2, "env", os.path.join(x, missing)) for x in dirs[:2]])
    if rows != want:
        fail(f"exec_log_all: expected {want}, got {rows}")
    # env's own exec: started by this test, nothing failed before it
    rows = d.query("SELECT failed_count, parent_comm FROM exec_log WHERE comm = 'env' "
                   "AND args LIKE ?", (f"%PATH={dirs[0]}:%",))
    if rows != [(0, me), (0, me)]:
        fail(f"env's own execs: {rows}")

    # the same through the query tool: ret early, --all, -c
    p = subprocess.run([hindsight, "--db", d.db, "show", "exec_log", "--since", "@0", "--csv",
                        "--where", f"args~{name}%"], capture_output=True, text=True)
    head = p.stdout.splitlines()[0].split(",") if p.stdout else []
    if p.returncode or head[:5] != ["ts", "ret", "comm", "parent_comm", "args"] or \
            len(p.stdout.splitlines()) != 3:
        fail(f"show exec_log: {p.returncode} {p.stdout[:300]} {p.stderr}")
    p = subprocess.run([hindsight, "--db", d.db, "show", "exec_log", "--all", "--since", "@0",
                        "-c", "ret", "--csv", "--where", f"args~{name}%"],
                       capture_output=True, text=True)
    if p.returncode or p.stdout.split() != ["ret", "-2", "-2", "-2", "0", "-2", "-2"]:
        fail(f"show exec_log --all: {p.returncode} {p.stdout!r} {p.stderr}")
    p = subprocess.run([hindsight, "--db", d.db, "show", "cpu_usage", "--all"],
                       capture_output=True, text=True)
    if p.returncode != 2 or "no form with every row" not in p.stderr:
        fail(f"--all on a view that folds nothing: {p.returncode} {p.stderr}")
    print("ok: a PATH search reads as one exec, with its tries counted and its parent named")
finally:
    d.stop()
    shutil.rmtree(tmp, ignore_errors=True)
