#!/usr/bin/env python3
"""hindsightd on hostile inputs: proc and sys roots whose files are not what
/proc and /sys hold, and configuration files built to cost time or memory.

A fixture root where stat is /dev/zero, loadavg and a boot id are FIFOs,
meminfo is a 100 MB file, pressure/cpu a socket, cpuinfo a directory and a
process's files are devices, FIFOs or too large: the daemon must keep
ticking with each of them counted as a read error (logged once per file),
stay small, and end within a second of SIGTERM. A configuration nested 100k
deep given on SIGHUP must not stall the ticks; one too large, or with a key
twice, is refused at start with file:line:column and no database."""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
FIXTURES = os.environ.get("FIXTURES", "tests/fixtures")
SANITIZED = os.environ.get("SANITIZED", "0").lower() in ("1", "on", "true", "yes")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def rows(db, sql, *params):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute(sql, params).fetchall()


def wait_ticks(db, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if rows(db, "SELECT count(*) FROM agent")[0][0] >= n:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(os.path.join(FIXTURES, "proc", src), dst)


def big_file(path, size):
    """A sparse regular file: its size is real, its blocks are not."""
    with open(path, "wb") as f:
        f.truncate(size)


def make_roots(tmp):
    """The hostile proc and sys roots, and the sockets kept open for them."""
    proc = os.path.join(tmp, "proc")
    sysr = os.path.join(tmp, "sys")
    for d in ("net", "pressure", "sys/kernel/random", "4242", "4243/fd"):
        os.makedirs(os.path.join(proc, d))
    for d in ("devices/system/node/node0", "block/sda"):
        os.makedirs(os.path.join(sysr, d))
    os.symlink("/dev/zero", os.path.join(proc, "stat"))
    os.mkfifo(os.path.join(proc, "loadavg"))
    big_file(os.path.join(proc, "meminfo"), 100 << 20)
    os.mkdir(os.path.join(proc, "cpuinfo"))
    copy("vmstat.6_18", os.path.join(proc, "vmstat"))
    copy("diskstats.6_18", os.path.join(proc, "diskstats"))
    copy("net/dev.6_18", os.path.join(proc, "net/dev"))
    os.symlink("/dev/urandom", os.path.join(proc, "net/snmp"))
    os.mkfifo(os.path.join(proc, "sys/kernel/random/boot_id"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(proc, "pressure/cpu"))
    # Process 4242: every file it is read through is a device or a FIFO.
    os.symlink("/dev/zero", os.path.join(proc, "4242/stat"))
    os.mkfifo(os.path.join(proc, "4242/schedstat"))
    os.mkfifo(os.path.join(proc, "4242/cmdline"))
    # Process 4243: a readable stat, a status past the cap of a /proc/PID file.
    copy("pid/stat.6_18", os.path.join(proc, "4243/stat"))
    copy("pid/io.6_18", os.path.join(proc, "4243/io"))
    copy("pid/limits.6_18", os.path.join(proc, "4243/limits"))
    copy("pid/schedstat.6_18", os.path.join(proc, "4243/schedstat"))
    big_file(os.path.join(proc, "4243/status"), 2 << 20)
    os.mkfifo(os.path.join(proc, "4243/cmdline"))
    os.symlink("/dev/zero", os.path.join(sysr, "devices/system/node/node0/meminfo"))
    os.mkfifo(os.path.join(sysr, "block/sda/size"))
    return proc, sysr, sock


def test_hostile_config(tmp):
    db = os.path.join(tmp, "config.db")
    cfg = os.path.join(tmp, "bad.yaml")
    for text, want in (("interval: 1s\nlog_level: info\ninterval: 2s\n",
                        f"{cfg}:3:1: duplicate key 'interval'"),
                       ("# padding\n" * (200 << 10), "larger than 1024 KiB"),
                       ("interval: 100000000d\n", "'100000000d' makes it longer than"),
                       ("interval: 2d\n", "interval must be at most 1d")):
        open(cfg, "w").write(text)
        p = subprocess.Popen([DAEMON, "--db", db, "--no-bpf", "--once", "--config", cfg],
                             stderr=subprocess.PIPE, text=True)
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # accepted, and waiting for its first tick
            p.kill()
            _, err = p.communicate()
        check(p.returncode == 2 and want in err, f"refused at start: {want} ({err.strip()[:120]})")
        check(not os.path.exists(db), "no database created")
        if os.path.exists(db):
            os.unlink(db)
    # On SIGHUP the file is parsed inside the event loop: 100k levels of
    # nesting once cost over 30 s of CPU there, and no tick ran meanwhile.
    good = os.path.join(tmp, "good.yaml")
    open(good, "w").write("interval: 1s\n")
    p = subprocess.Popen([DAEMON, "--db", db, "--no-bpf", "--config", good],
                         stderr=subprocess.PIPE, text=True)
    try:
        check(wait_ticks(db, 2, 60), "daemon ticking before the reload")
        open(good, "w").write("interval: " + "[" * 100000 + "]" * 100000 + "\n")
        n = rows(db, "SELECT count(*) FROM agent")[0][0]
        p.send_signal(signal.SIGHUP)
        # 3 ticks at 1 s: 8 s leaves room for a loaded machine, not for the
        # 30 s the nesting once cost
        check(wait_ticks(db, n + 3, 8), "ticks go on after a SIGHUP with 100k-deep nesting")
        p.send_signal(signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            err = ""
        check(p.returncode == 0, "SIGTERM after the reload ends it")
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    check(f"{good}:1:42: nested deeper than 32 levels" in err, "the reload error names file:line:column")


def main():
    if not os.path.exists(DAEMON):
        print(f"no daemon at {DAEMON}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        test_hostile_config(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        proc, sysr, sock = make_roots(tmp)
        db = os.path.join(tmp, "hostile.db")
        p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--no-bpf",
                              "--proc-root", proc, "--sys-root", sysr],
                             stderr=subprocess.PIPE, text=True)
        try:
            ticking = wait_ticks(db, 4, 30)
            check(ticking, "the daemon keeps ticking on a hostile proc root")
            rss = rss_kb(p.pid) if p.poll() is None else 0
            limit = 256 << 10 if SANITIZED else 64 << 10
            check(0 < rss < limit, f"RSS stays small ({rss} kB, limit {limit} kB)")
            if ticking:
                errs = rows(db, "SELECT min(read_errors_count) FROM agent "
                                "WHERE ts > (SELECT min(ts) FROM agent)")[0][0]
                check(errs >= 3, f"refused files are counted as read errors ({errs} a tick)")
                big = rows(db, "SELECT max(rss_kb) FROM agent")[0][0]
                check(big < limit, f"self-metrics RSS stays small ({big} kB)")
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            try:
                _, err = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                err = ""
            took = time.monotonic() - t0
            # Under the sanitizers the exit itself (leak check, shadow memory)
            # takes a good part of a second on a loaded machine.
            bound = 3.0 if SANITIZED else 1.0
            check(p.returncode == 0 and took < bound,
                  f"SIGTERM ends it in under {bound:g} s with exit 0 ({took:.2f} s, rc {p.returncode})")
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
            sock.close()
        for path, why in ((f"{proc}/stat", "character device"),
                          (f"{proc}/loadavg", "FIFO"),
                          (f"{proc}/meminfo", "larger than"),
                          (f"{proc}/pressure/cpu", "socket"),
                          (f"{proc}/cpuinfo", "directory"),
                          (f"{proc}/4242/stat", "character device"),
                          (f"{proc}/4243/status", "larger than"),
                          (f"{sysr}/block/sda/size", "FIFO")):
            lines = [l for l in err.splitlines() if f"{path}:" in l and why in l]
            check(len(lines) == 1, f"{path} refused ({why}), logged once ({len(lines)})")
        if failures:
            print(err)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
