#!/usr/bin/env python3
"""Disk full: the database lives on a 32 MiB tmpfs of its own. When the disk
fills, hindsightd keeps running, logs the cause once per incident, and resumes
writing when space returns; the database stays intact. (Ticks may also go on
while full once the WAL's space is reused after a checkpoint.) Needs root."""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def count(db):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute("SELECT count(*) FROM agent").fetchone()[0]


def whole(db):
    """Every stored tick has its per-collector rows: no tick half-written."""
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute("""SELECT count(*) FROM agent a WHERE NOT EXISTS
                            (SELECT 1 FROM agent_collector c WHERE c.ts = a.ts)""").fetchone()[0] == 0


def fill(path):
    """Writes until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    os.close(fd)


def main():
    if os.geteuid() != 0:
        print("skipped: mounting a small tmpfs needs root")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        mnt = os.path.join(tmp, "small")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mnt]).returncode:
            print("skipped: cannot mount tmpfs here")
            return 77
        try:
            run(mnt, tmp)
        finally:
            subprocess.run(["umount", "-l", mnt])
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


def run(mnt, tmp):
    db = os.path.join(mnt, "h.db")
    log = open(os.path.join(tmp, "log"), "w+")
    # Without eBPF: every exec on the machine (other tests' included) would
    # be a row, and the 2 MiB disk would fill at the machine's exec rate.
    p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--no-bpf"], stderr=log)
    time.sleep(3.5)
    before = count(db)
    for incident in range(2):
        filler = os.path.join(mnt, "filler")
        fill(filler)
        # A WAL that was checkpointed keeps its pages and reuses them, so the
        # daemon could go on writing into space it already holds. Truncate the
        # WAL and take its space too: the next tick must find the disk full.
        with sqlite3.connect(db, timeout=10) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fill(filler)
        time.sleep(5)
        check(p.poll() is None, f"incident {incident + 1}: the daemon keeps running on a full disk")
        stuck = count(db)
        time.sleep(2)
        check(count(db) == stuck, f"incident {incident + 1}: no tick stored while full")
        check(whole(db), f"incident {incident + 1}: nothing half-written while full")
        os.unlink(filler)
        time.sleep(3.5)
        check(count(db) >= stuck + 2, f"incident {incident + 1}: writing resumes when space returns")
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=15)
    check(p.returncode == 0, "clean exit after the incidents")
    log.seek(0)
    text = log.read()
    n_logged = text.count("tick not stored")
    check(n_logged == 2, f"the cause is logged once per incident ({n_logged} times)")
    check("full" in text, "the log names the cause (disk full)")
    with sqlite3.connect(db) as c:
        check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "database intact")
        failed = c.execute("SELECT sum(commit_failures_count) FROM agent").fetchone()[0]
        span, dur = c.execute("""SELECT max(ts) - min(ts), sum(dur_ms) FROM agent
                                 WHERE ts > (SELECT min(ts) FROM agent)""").fetchone()
    check(failed >= 8, f"failed ticks counted ({failed})")
    check(abs(span * 1000 - dur) <= 2500, f"no interval lost: dur_ms {dur} over {span} s")
    check(count(db) > before, "history grew overall")


if __name__ == "__main__":
    sys.exit(main())
