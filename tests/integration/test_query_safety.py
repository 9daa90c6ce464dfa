#!/usr/bin/env python3
"""The query tool must never harm the database it reads, nor the disk beside it.

- An output file (-o, --svg, standard output) that is the database or one of
  the files beside it (-wal, -shm, -journal, -reserve, -lock), by any name,
  symbolic or hard link, is refused and the database stays byte-identical;
  ordinary outputs are still written and truncated as before.
- Temporary storage stays in memory under --memory-limit: a runaway
  recursive query with --timeout 0 stops at the limit, and no temporary
  file is created in $TMPDIR / $SQLITE_TMPDIR.
- A database whose -wal and -shm did not exist before a command does not
  have them afterwards; a writer's (the daemon's) files are never touched,
  also when it opens the database while a query runs.
- A user who may not read the database (or enter its directory) is told
  it is a permission problem, which file, its owner, group and mode, and
  that group hindsight grants reading (as root: runs the tool as nobody).
- A time past the representable range names the option and the token.
"""
import ctypes
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

BUILD = os.environ.get("BUILD_DIR", "build")
HINDSIGHT = os.path.abspath(os.path.join(BUILD, "hindsight"))
DAEMON = os.path.abspath(os.path.join(BUILD, "hindsightd"))
COMPANIONS = ("-wal", "-shm", "-journal", "-reserve", "-lock")
SANITIZED = os.environ.get("SANITIZED", "0") not in ("0", "OFF", "")
BASE = None
failures = []
skipped = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(db, *args, env=None, cwd=None, stdout=subprocess.PIPE, binary=HINDSIGHT, user=None,
        timeout=60):
    cmd = [binary, "--db", db, *args]
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout, env=env,
                       cwd=cwd)
    out = p.stdout.decode("utf-8", "replace") if p.stdout is not None else ""
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fresh(base, tmp, name="d.db"):
    """A copy of the base database alone in a new directory."""
    d = tempfile.mkdtemp(dir=tmp)
    db = os.path.join(d, name)
    shutil.copy(base, db)
    return d, db


def make_base(tmp):
    base = os.path.join(tmp, "base.db")
    subprocess.run([DAEMON, "--db", base, "--interval", "1", "--duration", "3",
                    "--log-level", "warn"], check=True, timeout=60)
    for suffix in ("-wal", "-shm"):
        check(not os.path.exists(base + suffix), f"the stopped daemon left no {suffix} file")
    return base


def first_ts(db):
    # immutable: a read-only connection of Python's own would leave a -wal
    # and -shm behind, as the tool did.
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute("SELECT min(ts) FROM cpu").fetchone()[0]
    finally:
        con.close()


# ---- 1. outputs that are the database ----

def refused(db, args, what, cwd=None, stdout=subprocess.PIPE):
    before = sha256(db)
    listing = sorted(os.listdir(os.path.dirname(db)))
    rc, _, err = run(db, *args, cwd=cwd, stdout=stdout)
    check(rc != 0 and "refus" in err and "database" in err,
          f"{what}: refused with a clear message (rc {rc}): {err.strip()[:300]!r}")
    check(sha256(db) == before, f"{what}: the database is byte-identical")
    check(sorted(os.listdir(os.path.dirname(db))) == listing,
          f"{what}: no file created or removed beside the database")
    # Each case starts from the intact database, whatever the last one did.
    for name in set(os.listdir(os.path.dirname(db))) - set(listing):
        os.unlink(os.path.join(os.path.dirname(db), name))
    if sha256(db) != before:
        with open(db, "r+b") as dst, open(BASE, "rb") as src:
            dst.truncate(0)
            dst.write(src.read())
    return err


def test_outputs(base, tmp):
    d, db = fresh(base, tmp)
    sel = ("sql", "SELECT 1 AS one")
    err = refused(db, [*sel, "-o", db], "sql -o DB")
    check(db in err and "-o" in err, f"the refusal names the option and the file: {err!r}")
    refused(db, [*sel, "-o", os.path.join(d, ".", "d.db")], "sql -o DIR/./DB")
    refused(db, [*sel, "-o", "d.db"], "sql -o DB relative to the working directory", cwd=d)
    for suffix in COMPANIONS:
        refused(db, [*sel, "-o", db + suffix], f"sql -o DB{suffix} (not existing)")
    alias = os.path.join(tmp, "alias-dir")
    os.symlink(d, alias)
    refused(db, [*sel, "-o", os.path.join(alias, "d.db-wal")], "-o through a linked directory")
    link = os.path.join(d, "link.csv")
    os.symlink("d.db", link)
    refused(db, [*sel, "-o", link], "-o a symbolic link to the database")
    os.unlink(link)
    os.symlink("d.db-wal", link)
    refused(db, [*sel, "-o", link], "-o a symbolic link to the missing -wal")
    os.unlink(link)
    hard = os.path.join(d, "hard.csv")
    os.link(db, hard)
    refused(db, [*sel, "-o", hard], "-o a hard link to the database")
    os.unlink(hard)
    since = ("--since", "@0")
    refused(db, ["plot", "cpu_usage", "busy_pct", *since, "--svg", db], "plot --svg DB")
    refused(db, ["plot", "cpu_usage", "busy_pct", *since, "--svg", db + "-wal"],
            "plot --svg DB-wal")
    refused(db, ["export", "cpu", "-o", db], "export -o DB")
    refused(db, ["show", "cpu_usage", *since, "-o", db + "-shm"], "show -o DB-shm")
    refused(db, ["views", "-o", db], "views -o DB")
    with open(db, "ab") as out:
        refused(db, [*sel], "standard output appending to the database", stdout=out)

    # A writer holds the database open (as the daemon does): its -wal and
    # -shm exist and hold data.
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE writer_rows (x)")
    con.execute("INSERT INTO writer_rows VALUES (42)")
    con.commit()
    check(os.path.getsize(db + "-wal") > 0, "the writer's -wal holds frames")
    wal_before = sha256(db + "-wal")
    for suffix in ("-wal", "-shm"):
        refused(db, [*sel, "-o", db + suffix], f"-o DB{suffix} while a writer has it open")
    check(sha256(db + "-wal") == wal_before, "the writer's -wal is byte-identical")
    check(con.execute("SELECT x FROM writer_rows").fetchall() == [(42,)] and
          con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
          "the writer's database is intact")
    con.close()

    # Ordinary outputs: written, an existing file replaced whole.
    out = os.path.join(d, "out.csv")
    with open(out, "w") as f:
        f.write("old content that is longer than the new\n" * 100)
    rc, _, err = run(db, *sel, "--csv", "-o", out)
    check(rc == 0 and open(out, newline="").read() == "one\r\n1\r\n",
          f"-o FILE replaces an existing file: {err.strip()}")
    rc, text, err = run(db, *sel, "--csv", "-o", "/dev/stdout")
    check(rc == 0 and text == "one\r\n1\r\n", f"-o /dev/stdout writes standard output: {err}")
    rc, text, err = run(db, *sel, "--csv", "-o", "-")
    check(rc == 0 and text == "one\r\n1\r\n", f"-o - writes standard output: {err}")
    svg = os.path.join(d, "chart.svg")
    with open(svg, "w") as f:
        f.write("x" * 100000)
    rc, _, err = run(db, "plot", "cpu_usage", "busy_pct", *since, "--svg", svg)
    ET.parse(svg)
    check(rc == 0, f"--svg FILE replaces an existing file with a chart: {err.strip()}")


# ---- 2. temporary storage ----

IN_CREATE = 0x100


def watch_creations(path):
    """An inotify descriptor reporting files created in path, or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0 or libc.inotify_add_watch(fd, path.encode(), IN_CREATE) < 0:
            return None
        return fd
    except (OSError, AttributeError):
        return None


def creations(fd):
    if fd is None:
        return 0
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return 0
    n, i = 0, 0
    while i + 16 <= len(data):  # wd, mask, cookie, len, name[len]
        n += 1
        i += 16 + int.from_bytes(data[i + 12:i + 16], sys.byteorder)
    return n


def run_watched(db, args, tdir, limit_s):
    """Runs the tool with its temporary directory at tdir; returns rc, stderr,
    seconds, files created there, and the largest file it held open there."""
    env = dict(os.environ, TMPDIR=tdir, SQLITE_TMPDIR=tdir)
    fd = watch_creations(tdir)
    t0 = time.monotonic()
    p = subprocess.Popen([HINDSIGHT, "--db", db, *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    largest = 0
    while p.poll() is None and time.monotonic() - t0 < limit_s:
        try:
            for name in os.listdir(f"/proc/{p.pid}/fd"):
                fdpath = f"/proc/{p.pid}/fd/{name}"
                if os.readlink(fdpath).startswith(tdir):
                    largest = max(largest, os.stat(fdpath).st_size)
        except OSError:
            pass
        time.sleep(0.02)
    if p.poll() is None:
        p.kill()
    err = p.communicate()[1].decode()
    secs = time.monotonic() - t0
    made = creations(fd) + len(os.listdir(tdir))
    if fd is not None:
        os.close(fd)
    return p.returncode, err, secs, made, largest


def test_temp_storage(base, tmp):
    _, db = fresh(base, tmp)
    tdir = tempfile.mkdtemp(dir=tmp, prefix="tmpdir-")
    runaway = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(DISTINCT x) FROM c")
    rc, err, secs, made, largest = run_watched(
        db, ["sql", runaway, "--memory-limit", "16", "--timeout", "0"], tdir, 30)
    check(rc == 1 and "memory limit of 16 MiB" in err,
          f"a runaway count(DISTINCT) stops at --memory-limit: rc {rc} after {secs:.1f} s: "
          f"{err.strip()[:200]}")
    check(made == 0 and largest == 0,
          f"the runaway query created no temporary file ({made} created, largest "
          f"{largest} bytes)")
    print(f"runaway count(DISTINCT) with --memory-limit 16 --timeout 0: stopped after "
          f"{secs:.2f} s, {made} temporary files")
    # Sorts and groups larger than SQLite's cache (2 MB) that used to spill
    # to files: done in memory, or stopped at the limit.
    rows = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) "
    for sql in (rows + "SELECT x, randomblob(100) FROM c ORDER BY random()",
                rows + "SELECT randomblob(40) AS k, count(*) FROM c GROUP BY k"):
        rc, err, secs, made, largest = run_watched(db, ["sql", sql, "--csv"], tdir, 60)
        check(rc == 0 and made == 0 and largest == 0,
              f"a 10 MB sort runs in memory: rc {rc}, {made} temporary files: {err.strip()}")
        rc, err, secs, made, largest = run_watched(
            db, ["sql", sql, "--csv", "--memory-limit", "4", "--timeout", "0"], tdir, 60)
        check(rc == 1 and "memory limit of 4 MiB" in err and made == 0,
              f"the sort past --memory-limit 4 stops: rc {rc}, {made} temporary files: "
              f"{err.strip()}")


# ---- 3. no -wal and -shm left behind ----

def commands(db, tmp):
    ts = first_ts(db)
    svg = os.path.join(tmp, "leftover-check.svg")
    return [
        ("views",), ("status",),
        ("show", "cpu_usage", "--since", "@0"),
        ("sql", "SELECT count(*) FROM cpu"),
        ("export", "cpu"),
        ("top", "--at", f"@{ts}"),
        ("plot", "cpu_usage", "busy_pct", "--since", "@0"),
        ("plot", "cpu_usage", "busy_pct", "--since", "@0", "--svg", svg),
        ("sql", "DELETE FROM cpu"),  # refused
        ("sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT count(*) FROM c", "--timeout", "200ms"),  # stopped
    ]


def test_no_leftovers(base, tmp):
    d, db = fresh(base, tmp)
    before = sha256(db)
    for args in commands(db, tmp):
        run(db, *args)
        check(os.listdir(d) == ["d.db"], f"after {' '.join(args[:2])}: no file beside the "
              f"database ({sorted(os.listdir(d))})")
        for suffix in COMPANIONS:
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
    env = dict(os.environ, HINDSIGHT_READERS="2")
    subprocess.run([HINDSIGHT, "--db", db, "export", "cpu", "--since", "@0"], env=env,
                   stdout=subprocess.DEVNULL, timeout=60)
    check(os.listdir(d) == ["d.db"], "two readers leave no file beside the database")
    check(sha256(db) == before, "the database is byte-identical after every command")

    # A writer (the daemon) has the database open: its files stay, and it
    # goes on writing.
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE writer_rows (x)")
    con.commit()
    for args in commands(db, tmp):
        run(db, *args)
        check(os.path.exists(db + "-wal") and os.path.exists(db + "-shm"),
              f"after {' '.join(args[:2])}: the writer's -wal and -shm are still there")
    con.execute("INSERT INTO writer_rows VALUES (1)")
    con.commit()
    check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
          "the writer goes on writing")
    con.close()
    check(os.listdir(d) == ["d.db"], "the writer's own close removed its files")

    # The writer opens the database while a query runs (about 1.5 s).
    n = 1000000 if SANITIZED else 3000000
    p = subprocess.Popen([HINDSIGHT, "--db", db, "sql",
                          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                          f"LIMIT {n}) SELECT count(*) FROM c", "--timeout", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while not os.path.exists(db + "-shm") and time.time() < deadline and p.poll() is None:
        time.sleep(0.01)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO writer_rows VALUES (2)")
    con.commit()
    still = p.poll() is None
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0 and out.strip().endswith(str(n).encode()),
          f"the slow query ran: {err}")
    check(os.path.exists(db + "-wal") and os.path.exists(db + "-shm"),
          f"a writer that opened during the query keeps its files (query still running "
          f"when it wrote: {still})")
    con.execute("INSERT INTO writer_rows VALUES (3)")
    con.commit()
    check(con.execute("SELECT count(*) FROM writer_rows").fetchone()[0] == 3 and
          con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
          "that writer's rows are all there")
    con.close()

    # The daemon itself: its files stay while it runs.
    live = os.path.join(d, "live.db")
    daemon = subprocess.Popen([DAEMON, "--db", live, "--interval", "1", "--duration", "4",
                               "--log-level", "warn"])
    deadline = time.time() + 3.5
    queries = 0
    while time.time() < deadline:
        if os.path.exists(live + "-shm"):
            rc, out, err = run(live, "status")
            if daemon.poll() is None:
                check(rc == 0 or (rc == 1 and "none yet" in out),
                      f"status while the daemon runs: {err.strip()}")
                check(os.path.exists(live + "-wal") and os.path.exists(live + "-shm"),
                      "the running daemon's -wal and -shm are still there")
                queries += 1
        time.sleep(0.2)
    check(daemon.wait(timeout=30) == 0, "the daemon exits 0")
    con = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    check(con.execute("SELECT coalesce(sum(commit_failures_count), 0) FROM agent")
          .fetchone()[0] == 0, "no tick of the daemon failed to commit")
    con.close()
    check(queries > 0, "queries ran while the daemon ran")


ENDLESS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT x FROM c")


def test_signals(base, tmp):
    """A command ended by a signal (a closed pipe, Ctrl-C, SIGTERM) leaves
    no -wal and -shm either, and ends by that signal, quietly."""
    d, db = fresh(base, tmp)
    before = sha256(db)
    # hindsight sql ... | head -c 20
    p = subprocess.Popen([HINDSIGHT, "--db", db, "sql", ENDLESS, "--timeout", "0", "--csv"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(20)
    p.stdout.close()
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    err = p.stderr.read().decode()
    check(rc == -signal.SIGPIPE and err == "",
          f"a closed pipe ends the command by SIGPIPE, quietly: rc {rc}, {err.strip()!r}")
    check(os.listdir(d) == ["d.db"], f"after a closed pipe: no file beside the database "
          f"({sorted(os.listdir(d))})")
    for sig, out in ((signal.SIGINT, subprocess.DEVNULL), (signal.SIGTERM, subprocess.DEVNULL),
                     (signal.SIGINT, subprocess.PIPE)):
        # The last one writes to a pipe nobody reads: it blocks on the write.
        p = subprocess.Popen([HINDSIGHT, "--db", db, "sql", ENDLESS, "--timeout", "0",
                              "--csv"], stdout=out, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(db + "-shm") and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        p.send_signal(sig)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        err = p.stderr.read().decode()
        name = f"{signal.Signals(sig).name} ({'blocked writing' if out else 'running'})"
        check(rc == -sig and err == "", f"{name} ends the command by that signal, quietly: "
              f"rc {rc}, {err.strip()!r}")
        check(os.listdir(d) == ["d.db"], f"after {name}: no file beside the database "
              f"({sorted(os.listdir(d))})")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
    check(sha256(db) == before, "the database is byte-identical after the signals")


# ---- 4. permissions ----

def test_permissions(base, tmp):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        skipped.append("permission checks: need root and runuser")
        print("SKIP permission checks: need root and runuser")
        return
    # A directory anyone can enter holding a copy of the binary: the clone
    # may sit in a directory that nobody cannot enter.
    top = tempfile.mkdtemp(prefix="hindsight-perm-")
    try:
        os.chmod(top, 0o755)
        binary = os.path.join(top, "hindsight")
        shutil.copy(HINDSIGHT, binary)
        os.chmod(binary, 0o755)
        if subprocess.run(["runuser", "-u", "nobody", "--", binary, "--version"],
                          capture_output=True).returncode != 0:
            skipped.append(f"permission checks: nobody cannot run {binary} (noexec?)")
            print(f"SKIP permission checks: nobody cannot run {binary}")
            return

        def as_nobody(db, what, *names):
            before = sha256(db)
            rc, _, err = run(db, "sql", "SELECT count(*) FROM cpu", binary=binary,
                             user="nobody")
            low = err.lower()
            check(rc == 1 and "permission" in low and "hindsight" in low[11:] and
                  all(n in err for n in names),
                  f"{what}: the error says it is a permission problem and names "
                  f"{names}: {err.strip()!r}")
            check(sha256(db) == before, f"{what}: the database is byte-identical")
            return err

        open_dir = os.path.join(top, "open")
        os.mkdir(open_dir, 0o755)
        db = os.path.join(open_dir, "d.db")
        shutil.copy(base, db)
        os.chown(db, 0, 0)
        os.chmod(db, 0o640)
        as_nobody(db, "a 0640 root:root database", db, "owner root", "group root", "0640",
                  "group hindsight")

        closed = os.path.join(top, "closed")
        os.mkdir(closed, 0o700)
        db = os.path.join(closed, "d.db")
        shutil.copy(base, db)
        os.chmod(db, 0o600)
        as_nobody(db, "a database in a directory nobody cannot enter", closed, "0700",
                  "owner root")

        # The database is readable but a writer's -wal is not.
        walonly = os.path.join(top, "walonly")
        os.mkdir(walonly, 0o755)
        db = os.path.join(walonly, "d.db")
        shutil.copy(base, db)
        os.chmod(db, 0o644)
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE writer_rows (x)")
        con.commit()
        os.chmod(db + "-wal", 0o600)
        as_nobody(db, "a -wal nobody cannot read", db + "-wal", "0600")
        con.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


# ---- 5. times out of range ----

def test_times(base, tmp):
    _, db = fresh(base, tmp)
    cases = [
        (["show", "cpu_usage", "--since", "@99999999999999999999"], "--since",
         "@99999999999999999999"),
        (["show", "cpu_usage", "--until", "@253402300800"], "--until", "@253402300800"),
        (["show", "cpu_usage", "--since", "99999999999d"], "--since", "99999999999d"),
        (["sql", "SELECT :since", "--since", "1000000000000w"], "--since", "1000000000000w"),
        (["top", "--at", "@99999999999999999999"], "--at", "@99999999999999999999"),
        (["plot", "cpu_usage", "busy_pct", "--since", "9999999999 hours ago"], "--since",
         "9999999999 hours ago"),
    ]
    for args, option, token in cases:
        rc, _, err = run(db, *args)
        check(rc == 2 and f"{option}: {token} is out of range" in err,
              f"{' '.join(args)}: names the option and the token: {err.strip()[:200]!r}")
    rc, _, err = run(db, "top", "--at", "now", "--window", "70000000y" * 5)
    check(rc == 2 and "--window: " in err and "70000000y" in err and "longest" in err,
          f"top --window too long says why: {err.strip()!r}")
    rc, _, err = run(db, "show", "cpu_usage", "--since", "@253402300799", "--csv")
    check(rc == 0, f"the last representable second is accepted: {err.strip()}")


def main():
    if not os.path.exists(HINDSIGHT) or not os.path.exists(DAEMON):
        print("hindsight or hindsightd not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-safety-")
    try:
        global BASE
        base = BASE = make_base(tmp)
        test_outputs(base, tmp)
        test_temp_storage(base, tmp)
        test_no_leftovers(base, tmp)
        test_signals(base, tmp)
        test_permissions(base, tmp)
        test_times(base, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all query safety checks passed" +
          (f" (skipped: {'; '.join(skipped)})" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
