#!/usr/bin/env python3
"""How hindsightd opens its database: one daemon per database, other
applications' SQLite files left alone, nothing left behind by a failed
start, and the database readable by the `hindsight` group.

Each check starts the real daemon on a temporary database."""
import fcntl
import grp
import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("BUILD_DIR", "build"))
DAEMON = os.path.join(BUILD, "hindsightd")
HINDSIGHT = os.path.join(BUILD, "hindsight")
O_CLOEXEC_FLAG = 0o2000000  # as /proc/PID/fdinfo prints it
failures = []
daemons = []  # killed at the end, whatever happened


def tail(text):
    return text.strip()[-300:]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(db, *args):
    p = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--no-bpf", *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    daemons.append(p)
    return p


def once(db, *args, timeout=20):
    return subprocess.run([DAEMON, "--db", db, "--interval", "1", "--no-bpf", "--once", *args],
                          capture_output=True, text=True, timeout=timeout)


def wait_rows(db, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as c:
                if c.execute("SELECT count(*) FROM agent").fetchone()[0] >= n:
                    return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


def count_ticks(db):
    with sqlite3.connect(db, timeout=5) as c:
        return c.execute("SELECT count(*) FROM agent").fetchone()[0]


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def snapshot(directory):
    """Every file and directory below, with content, to show none was touched."""
    seen = {}
    for parent, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(parent, name)
            seen[os.path.relpath(path, directory)] = sha(path) if name in files else "dir"
    return seen


def stop(p):
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=15)
    return err


def lock_fd_flags(pid, lock):
    """The open flags of the daemon's descriptor on its lock file."""
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == lock:
                for line in open(f"/proc/{pid}/fdinfo/{fd}"):
                    if line.startswith("flags:"):
                        return int(line.split()[1], 8)
        except OSError:
            pass
    return None


def test_second_daemon_refused(tmp):
    """Issue 16.4: a second daemon on one database is refused at start."""
    db = os.path.join(tmp, "two.db")
    lock = db + "-lock"
    first = start(db)
    check(wait_rows(db, 2), "the first daemon stores ticks")
    check(os.path.exists(lock) and open(lock).read().strip() == str(first.pid),
          "the lock file holds the first daemon's pid")
    mode = stat.S_IMODE(os.stat(lock).st_mode) if os.path.exists(lock) else None
    check(mode == 0o640, f"lock file mode 0640 ({mode and oct(mode)})")
    flags = lock_fd_flags(first.pid, lock)
    check(flags is not None and flags & O_CLOEXEC_FLAG,
          "the lock descriptor is close-on-exec (not inherited by children)")
    for args in (["--once"], ["--duration", "5"]):
        t0 = time.monotonic()
        r = subprocess.run([DAEMON, "--db", db, "--interval", "1", "--no-bpf", *args],
                           capture_output=True, text=True, timeout=20)
        took = time.monotonic() - t0
        check(r.returncode == 1 and f"pid {first.pid}" in r.stderr and lock in r.stderr,
              f"{' '.join(args)}: a second daemon is refused naming the holder's pid and "
              f"the lock file ({r.returncode}: {tail(r.stderr)})")
        check(took < 3, f"{' '.join(args)}: refused at start, not after a tick ({took:.1f} s)")
    n = count_ticks(db)
    check(wait_rows(db, n + 2), "the first daemon goes on storing ticks")
    check(first.poll() is None, "the first daemon is still running")
    first.kill()
    first.wait()
    err = first.stderr.read()
    check("UNIQUE" not in err and "tick not stored" not in err,
          "the first daemon never failed a tick")
    # The kernel releases a SIGKILLed holder's lock: a restart must start.
    again = start(db, "--duration", "3")
    _, err = again.communicate(timeout=20)
    check(again.returncode == 0, f"a restart after SIGKILL runs ({tail(err)})")
    check(count_ticks(db) >= n + 4, "and stores ticks")
    check(not os.path.exists(lock), "a clean stop removes the lock file")
    with sqlite3.connect(db) as c:
        check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "database intact")


def test_held_lock_leaves_database_untouched(tmp):
    """A refused start writes nothing: the database, its directory, byte for byte."""
    d = os.path.join(tmp, "held")
    os.mkdir(d)
    db = os.path.join(d, "h.db")
    r = once(db)
    check(r.returncode == 0, f"--once creates a database ({tail(r.stderr)})")
    fd = os.open(db + "-lock", os.O_RDWR | os.O_CREAT, 0o640)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"4242\n")
    before = snapshot(d)
    r = once(db)
    check(r.returncode == 1 and "pid 4242" in r.stderr and db + "-lock" in r.stderr,
          f"--once waits for no one: refused while the lock is held ({tail(r.stderr)})")
    check(snapshot(d) == before, "the database and its directory are untouched")
    os.close(fd)
    r = once(db)
    check(r.returncode == 0, "a lock released by its holder lets the daemon start")

    link_db = os.path.join(d, "link.db")
    target = os.path.join(d, "target")
    os.symlink(target, link_db + "-lock")
    r = once(link_db)
    check(r.returncode == 1 and "lock" in r.stderr and "symbolic link" in r.stderr,
          f"a symlinked lock file is refused ({tail(r.stderr)})")
    check(not os.path.exists(target) and not os.path.exists(link_db),
          "nothing created through the link, no database")


def foreign_database(path, wal):
    c = sqlite3.connect(path)
    if wal:
        c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("CREATE INDEX users_name ON users(name)")
    c.executemany("INSERT INTO users(name) VALUES (?)", [("ann",), ("bob",)])
    c.commit()
    c.close()


def test_foreign_database_refused(tmp):
    """Issue 16.5: another application's SQLite file is refused, byte-identical."""
    for wal in (False, True):
        d = tempfile.mkdtemp(dir=tmp)
        db = os.path.join(d, "app.db")
        foreign_database(db, wal)
        before = snapshot(d)
        mtime = os.stat(db).st_mtime_ns
        r = once(db)
        mode = "WAL" if wal else "rollback-journal"
        check(r.returncode == 1 and "not a hindsight database" in r.stderr and db in r.stderr,
              f"{mode} database of another application refused ({tail(r.stderr)})")
        check(snapshot(d) == before and os.stat(db).st_mtime_ns == mtime,
              f"{mode}: byte-identical, no -wal, -shm or -lock left ({sorted(os.listdir(d))})")
    d = tempfile.mkdtemp(dir=tmp)
    db = os.path.join(d, "versioned.db")
    c = sqlite3.connect(db)
    c.execute("CREATE TABLE settings(k, v)")
    c.execute("PRAGMA user_version=3")
    c.close()
    before = snapshot(d)
    r = once(db)
    check(r.returncode == 1 and "not a hindsight database" in r.stderr,
          f"a foreign database at a version hindsight knows is refused ({tail(r.stderr)})")
    check(snapshot(d) == before, "and left untouched")


def test_impossible_version(tmp):
    """Issue 16.5: user_version -1 names the version, not 'table meta already exists'."""
    for version in (-1, -2147483648, 0):
        d = tempfile.mkdtemp(dir=tmp)
        db = os.path.join(d, "h.db")
        r = once(db)
        check(r.returncode == 0, "a database to damage")
        c = sqlite3.connect(db)
        c.execute(f"PRAGMA user_version={version}")
        c.close()
        before = snapshot(d)
        r = once(db)
        check(r.returncode == 1 and f"schema version {version}" in r.stderr
              and "already exists" not in r.stderr,
              f"user_version {version}: a clear error ({tail(r.stderr)})")
        check(snapshot(d) == before, f"user_version {version}: database untouched")


def test_empty_path_refused(tmp):
    """Issue 16.5: --db "" would sample into SQLite's temporary database."""
    r = subprocess.run([DAEMON, "--db", "", "--interval", "1", "--no-bpf", "--once"],
                       capture_output=True, text=True, timeout=20, cwd=tmp)
    check(r.returncode == 2 and "--db" in r.stderr and "empty" in r.stderr,
          f'--db "" refused ({r.returncode}: {tail(r.stderr)})')
    cfg = os.path.join(tmp, "empty-db.yaml")
    open(cfg, "w").write('db: ""\ninterval: 1s\n')
    r = subprocess.run([DAEMON, "--config", cfg, "--no-bpf", "--once"],
                       capture_output=True, text=True, timeout=20, cwd=tmp)
    check(r.returncode == 2 and "empty" in r.stderr and "db" in r.stderr,
          f'db: "" in the configuration refused ({r.returncode}: {tail(r.stderr)})')


def test_new_databases(tmp):
    """A missing file, a zero-length one or an empty SQLite file is a new database."""
    d = tempfile.mkdtemp(dir=tmp)
    zero = os.path.join(d, "zero.db")
    open(zero, "w").close()
    r = once(zero)
    check(r.returncode == 0 and count_ticks(zero) == 1,
          f"a zero-length file becomes a database ({tail(r.stderr)})")
    empty = os.path.join(d, "empty.db")
    c = sqlite3.connect(empty)
    c.execute("PRAGMA journal_mode=WAL")  # writes the header, creates nothing
    c.close()
    check(os.path.getsize(empty) > 0, "an empty SQLite database has a header")
    r = once(empty)
    check(r.returncode == 0 and count_ticks(empty) == 1,
          f"an empty SQLite database (a first start killed before its schema) is taken "
          f"({tail(r.stderr)})")


def test_failed_start_leaves_nothing(tmp):
    """Issue 16.8: a start that fails creates no directory and no database."""
    base = tempfile.mkdtemp(dir=tmp)
    cases = [
        (["--proc-root", os.path.join(base, "no-proc")], "proc root"),
        (["--sys-root", os.path.join(base, "no-sys")], "sys root"),
    ]
    views = os.path.join(base, "views")
    os.mkdir(views)
    open(os.path.join(views, "broken.sql"), "w").write("CREATE VIEW broken AS SELECT 1;\n")
    cfg = os.path.join(base, "views.yaml")
    open(cfg, "w").write(f"views_dir: {views}\n")
    cases.append((["--config", cfg], "broken.sql"))
    for i, (args, needle) in enumerate(cases):
        db = os.path.join(base, f"new{i}", "dir", "h.db")
        before = snapshot(base)
        r = once(db, *args)
        check(r.returncode != 0 and needle in r.stderr,
              f"{' '.join(args)}: start fails ({tail(r.stderr)})")
        check(snapshot(base) == before,
              f"{' '.join(args)}: no directory, database or lock file left "
              f"({sorted(set(snapshot(base)) - set(before))})")
    # The same in an existing directory, and with an existing empty file.
    existing = os.path.join(base, "existing")
    os.mkdir(existing)
    zero = os.path.join(existing, "zero.db")
    open(zero, "w").close()
    for target in (os.path.join(existing, "h.db"), zero):
        before = snapshot(existing)
        r = once(target, "--config", cfg)
        check(r.returncode != 0 and snapshot(existing) == before,
              f"{os.path.basename(target)}: a failed start leaves the directory as it was "
              f"({sorted(os.listdir(existing))})")


def test_new_directory_in_another_users(tmp):
    """A directory still to be made is judged by the one it would be made in."""
    if os.geteuid() != 0:
        print("SKIP another user's directory: needs root")
        return
    other = tempfile.mkdtemp(dir=tmp)
    os.chown(other, 65534, 65534)
    r = once(os.path.join(other, "new", "h.db"))
    check(r.returncode == 1 and f"directory {other} belongs to user 65534" in r.stderr,
          f"a database to be made in another user's directory is refused ({tail(r.stderr)})")
    check(os.listdir(other) == [], "nothing made there")


def find_group():
    """The hindsight group: the machine's own, or one made for this test."""
    try:
        return grp.getgrnam("hindsight").gr_gid, False
    except KeyError:
        pass
    r = subprocess.run(["groupadd", "--system", "hindsight"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, False
    return grp.getgrnam("hindsight").gr_gid, True


def as_nobody(groups, *args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30,
                          user=65534, group=65534, extra_groups=groups)


def test_group_readable(tmp):
    """Issue 16.11: files 0640 root:hindsight, readable by the group's members."""
    if os.geteuid() != 0 or not shutil.which("groupadd"):
        print("SKIP group check: needs root and groupadd")
        return "skip"
    gid, made = find_group()
    if gid is None:
        print("SKIP group check: groupadd failed")
        return "skip"
    # The clone may sit in a 0700 home, and the test's own directory is
    # 0700: the reader's binary and the database live in a directory every
    # user can enter.
    base = tempfile.mkdtemp(prefix="hindsight-group-")
    os.chmod(base, 0o755)
    try:
        check_group(base, gid)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        if made:
            subprocess.run(["groupdel", "hindsight"], check=False)
    return "ran"


def check_group(base, gid):
    reader = os.path.join(base, "hindsight")
    shutil.copy2(HINDSIGHT, reader)
    os.chmod(reader, 0o755)
    state = os.path.join(base, "state")
    db = os.path.join(state, "h.db")

    def owner(path):
        if not os.path.exists(path):
            return None
        st = os.stat(path)
        return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)

    p = start(db)
    check(wait_rows(db, 2), "the daemon runs as root")
    check(owner(state) == (0, gid, 0o750), f"directory created 0750 root:hindsight {owner(state)}")
    for suffix in ("", "-wal", "-shm", "-lock"):
        check(owner(db + suffix) == (0, gid, 0o640),
              f"h.db{suffix} 0640 root:hindsight {owner(db + suffix)}")
    query = [reader, "--db", db, "sql", "SELECT count(*) > 0 FROM agent"]
    r = as_nobody([gid], *query)
    check(r.returncode == 0 and r.stdout.strip().endswith("1"),
          f"a member of the group reads while the daemon runs ({tail(r.stderr)})")
    r = as_nobody([], *query)
    check(r.returncode != 0, "a user outside the group cannot")
    stop(p)
    r = as_nobody([gid], *query)
    check(r.returncode == 0 and r.stdout.strip().endswith("1"),
          f"a member of the group reads a stopped daemon's database ({tail(r.stderr)})")

    # A database from before the group existed (group root) is given to it;
    # one an administrator put in another group is left there.
    os.chown(db, 0, 0)
    p = start(db)
    check(wait_rows(db, count_ticks(db) + 1), "the daemon restarts")
    check(owner(db)[1] == gid and (owner(db + "-wal") or (0, 0))[1] == gid,
          f"a database in group root moves to group hindsight {owner(db)}")
    stop(p)
    os.chown(db, 0, 65534)
    r = once(db)
    check(r.returncode == 0 and owner(db)[1] == 65534,
          f"a database in another group stays there {owner(db)}")
    # An existing directory is never changed.
    own = os.path.join(base, "own")
    os.mkdir(own, 0o700)
    r = once(os.path.join(own, "h.db"))
    check(r.returncode == 0 and owner(own) == (0, 0, 0o700),
          f"an existing directory keeps its owner and mode {owner(own)}")


def main():
    if not os.path.exists(DAEMON):
        print(f"no daemon at {DAEMON}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        try:
            test_second_daemon_refused(tmp)
            test_held_lock_leaves_database_untouched(tmp)
            test_foreign_database_refused(tmp)
            test_impossible_version(tmp)
            test_empty_path_refused(tmp)
            test_new_databases(tmp)
            test_failed_start_leaves_nothing(tmp)
            test_new_directory_in_another_users(tmp)
            group = test_group_readable(tmp)
        finally:
            for p in daemons:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    if failures:
        print(f"{len(failures)} failed")
        return 1
    if group == "skip":
        print("skipped: the group check needs root and groupadd (the other checks passed)")
        return 77
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
