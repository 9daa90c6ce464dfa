#!/usr/bin/env python3
"""Disk full: the database lives on a 32 MiB tmpfs of its own. When the disk
fills, hindsightd keeps running, logs the cause once per incident, gives back
its disk reserve and prunes the oldest rows already rolled up so new ticks
fit, resumes writing when space returns and takes the reserve again; the
database stays intact. Needs root."""
import os
import re
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


def truncate_wal(db, full_is_fine=False):
    """Checkpoints the WAL into the database and truncates it. On a full disk
    a checkpoint that needs a new page in the database file fails; the WAL is
    then not reset and the daemon's next frame needs new space all the same."""
    try:
        with sqlite3.connect(db, timeout=10) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as e:
        if not (full_is_fine and "full" in str(e)):
            raise


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
            for name in os.listdir(mnt):
                os.unlink(os.path.join(mnt, name))
            prune_to_make_room(mnt, tmp)
        finally:
            subprocess.run(["umount", "-l", mnt])
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


def stop(p):
    """SIGTERM, then SIGKILL after 15 s; also when a check raised, since a
    daemon left running would hold the tmpfs and go on writing after the test."""
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run(mnt, tmp):
    db = os.path.join(mnt, "h.db")
    log = open(os.path.join(tmp, "log"), "w+")
    # Without eBPF: every exec on the machine (other tests' included) would
    # be a row, and the 2 MiB disk would fill at the machine's exec rate.
    p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--no-bpf"], stderr=log)
    try:
        time.sleep(3.5)
        before = count(db)
        for incident in range(2):
            filler = os.path.join(mnt, "filler")
            # A WAL that was checkpointed keeps its pages and reuses them, so the
            # daemon could go on writing into space it already holds. Truncate the
            # WAL and take its space too: the next tick must find the disk full.
            # Checkpoint once while there is room, since moving the new schema's
            # pages into the database grows the file.
            truncate_wal(db)
            fill(filler)
            truncate_wal(db, full_is_fine=True)
            fill(filler)
            # The first failed tick gives back the disk reserve; another writer
            # takes that space too, and with nothing old enough to prune the
            # daemon has no room at all.
            time.sleep(2.5)
            check(not os.path.exists(db + "-reserve"),
                  f"incident {incident + 1}: the disk reserve is given back")
            fill(filler)
            time.sleep(3)
            check(p.poll() is None, f"incident {incident + 1}: the daemon keeps running on a full disk")
            stuck = count(db)
            time.sleep(2)
            check(count(db) == stuck, f"incident {incident + 1}: no tick stored while full")
            check(whole(db), f"incident {incident + 1}: nothing half-written while full")
            os.unlink(filler)
            time.sleep(3.5)
            check(count(db) >= stuck + 2, f"incident {incident + 1}: writing resumes when space returns")
            check(os.path.exists(db + "-reserve"),
                  f"incident {incident + 1}: the reserve is taken again when space returns")
    finally:
        stop(p)
    check(p.returncode == 0, "clean exit after the incidents")
    log.seek(0)
    text = log.read()
    n_logged = text.count("tick not stored")
    check(n_logged == 2, f"the cause is logged once per incident ({n_logged} times)")
    check("full" in text, "the log names the cause (disk full)")
    with sqlite3.connect(db) as c:
        check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "database intact")
        failed = c.execute("SELECT sum(commit_failures_count) FROM agent").fetchone()[0]
        # The durations of every tick after the first cover the time from
        # the first to the last, whatever failed in between.
        span, dur = c.execute("""SELECT max(ts) - (SELECT min(ts) FROM agent), sum(dur_ms)
                                 FROM agent WHERE ts > (SELECT min(ts) FROM agent)""").fetchone()
        ticks = c.execute("SELECT ts, dur_ms, commit_failures_count FROM agent ORDER BY ts")\
            .fetchall()
    # Pruning on the full disk may take older agent rows, and their counts
    # with them; the log names every incident's count.
    logged = sum(int(n) for n in re.findall(r"ticks stored again after (\d+) failures", text))
    check(logged >= 8, f"failed ticks counted ({logged} in the log)")
    check(0 < failed <= logged, f"the agent rows keep the failed ticks ({failed} of {logged})")
    covered = abs(span * 1000 - dur) <= 2500
    check(covered, f"no interval lost: dur_ms {dur} over {span} s")
    if not covered:
        print("  ticks (ts, dur_ms, commit_failures_count):", ticks)
        print("  daemon log:\n" + text)
    check(count(db) > before, "history grew overall")


def prune_to_make_room(mnt, tmp):
    """A database with three days of old per-CPU rows, rolled up: on a full
    disk the daemon deletes the oldest of them (their 1-minute rollups stay)
    and goes on storing ticks while the disk stays full."""
    db = os.path.join(mnt, "old.db")
    subprocess.run([DAEMON, "--db", db, "--once", "--no-bpf", "--log-level", "warn"], check=True)
    now = int(time.time()) // 60 * 60
    with sqlite3.connect(db) as c:
        for t in ("cpu", "cpu_1m", "cpu_1h", "rollup_state WHERE table_name = 'cpu'"):
            c.execute(f"DELETE FROM {t}")
        c.executemany("INSERT INTO cpu VALUES (?, ?, 10000, ?, 0, 500, ?, 0, 0, 0, 0, 0, 0)",
                      [(ts, cpu, ts % 7000, 9500 - ts % 7000)
                       for ts in range(now - 3 * 86400, now - 3600, 10) for cpu in (-1, 0, 1)])
    old_rows = count_rows(db, "cpu")
    log = open(os.path.join(tmp, "log3"), "w+")
    config = os.path.join(tmp, "old.yaml")
    with open(config, "w") as f:
        f.write(f"db: {db}\ninterval: 1s\nretention:\n  raw: 30d\n  max_db_size: 0\n"
                "  disk_reserve: 2MiB\n")
    p = subprocess.Popen([DAEMON, "--config", config, "--no-bpf"], stderr=log)
    try:
        rolled = False
        for _ in range(60):
            time.sleep(0.5)
            with sqlite3.connect(db, timeout=5) as c:
                r = c.execute("SELECT rolled_ts FROM rollup_state WHERE table_name = 'cpu' "
                              "AND tier = '1m'").fetchone()
            if r and r[0] >= now - 3600:
                rolled = True
                break
        check(rolled, "the old rows are rolled up before the disk fills")
        fill_and_watch(mnt, db, p, now, old_rows)
    finally:
        stop(p)
    log.seek(0)
    text = log.read()
    check(text.count("disk full:") == 1, "the pruning is logged once")
    with sqlite3.connect(db) as c:
        check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "database intact")


def fill_and_watch(mnt, db, p, now, old_rows):
    filler = os.path.join(mnt, "filler")
    fill(filler)
    try:
        with sqlite3.connect(db, timeout=10) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass  # full already: the checkpoint could not extend the file
    fill(filler)
    time.sleep(4)
    during = count(db)
    time.sleep(5)
    check(count(db) >= during + 3, f"ticks are stored while the disk stays full "
                                   f"({count(db) - during} in 5 s)")
    with sqlite3.connect(db, timeout=5) as c:
        pruned = c.execute("SELECT pruned_ts FROM prune_state WHERE scope = 'raw'").fetchone()[0]
        left = c.execute("SELECT count(*) FROM cpu WHERE ts < ?", (now - 3600,)).fetchone()[0]
        minutes = c.execute("SELECT count(*) FROM cpu_1m WHERE ts <= ?",
                            (pruned,)).fetchone()[0]
    check(pruned > now - 3 * 86400 and left < old_rows,
          f"the oldest raw rows were pruned to make room ({old_rows - left} of {old_rows})")
    check(minutes > 0, "their 1-minute rollups stay")
    os.unlink(filler)
    time.sleep(3)
    check(os.path.exists(db + "-reserve"), "the reserve is taken again when space returns")


def count_rows(db, table):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
