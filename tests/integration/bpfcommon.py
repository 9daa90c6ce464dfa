"""Shared by the eBPF integration tests: run hindsightd against a temporary
database and read what it stored. Exit code 77 (ctest's skip) when the test
cannot run here: not root, eBPF not built, or the kernel refuses the programs."""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

SKIP = 77


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def daemon_path():
    build = os.environ.get("BUILD_DIR")
    if not build:
        skip("BUILD_DIR not set")
    return os.path.join(build, "hindsightd")


def copy_for_other_users(path):
    """A copy of the file at path in a fresh directory every user can enter, or
    None when the temporary directory's own parents are closed to others. The
    build tree may sit under a 0700 home directory, where a process that has
    dropped root cannot execute the binary in place."""
    d = tempfile.mkdtemp(prefix="hindsight-exe-")
    os.chmod(d, 0o755)
    parent = os.path.dirname(d)
    while parent != os.path.dirname(parent):
        if not os.stat(parent).st_mode & 0o001:
            shutil.rmtree(d)
            return None
        parent = os.path.dirname(parent)
    return shutil.copy2(path, d)


class Daemon:
    """hindsightd sampling every second into a fresh database."""

    def __init__(self, config_text=None, args=(), preexec=None, exe=None):
        self.dir = tempfile.mkdtemp(prefix="hindsight-bpf-")
        os.chmod(self.dir, 0o777)
        self.db = os.path.join(self.dir, "h.db")
        self.log = os.path.join(self.dir, "log")
        cmd = [exe or daemon_path(), "--db", self.db, "--interval", "1s", *args]
        if config_text is not None:
            cfg = os.path.join(self.dir, "config.yaml")
            with open(cfg, "w") as f:
                f.write(config_text)
            os.chmod(cfg, 0o644)
            cmd += ["--config", cfg]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec)

    def query(self, sql, args=()):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def wait_for(self, sql, args=(), timeout=20, pred=lambda rows: bool(rows and rows[0][0])):
        """Polls a query until pred(rows) holds; returns the rows or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                fail(f"hindsightd exited ({self.proc.returncode}):\n{self.log_text()}")
            try:
                rows = self.query(sql, args)
                if pred(rows):
                    return rows
            except sqlite3.OperationalError:
                pass  # not created or migrated yet
            time.sleep(0.2)
        return None

    def state(self):
        """The eBPF state of the first stored tick."""
        rows = self.wait_for("SELECT s.name FROM bpf_tick b JOIN bpf_state s ON s.id = b.state_id "
                             "ORDER BY b.ts LIMIT 1")
        if not rows:
            fail(f"no tick stored:\n{self.log_text()}")
        return rows[0][0]

    def require_running(self):
        state = self.state()
        if state == "not built":
            self.stop()
            skip("eBPF not built into this hindsightd")
        if state != "running":
            self.stop()
            skip(f"eBPF cannot run here ({state}): {self.log_text().strip()}")

    def last_ts(self):
        return self.query("SELECT coalesce(max(ts), 0) FROM bpf_tick")[0][0]

    def wait_ticks(self, n):
        """Waits until n more ticks are stored."""
        target = self.last_ts() + n
        if not self.wait_for("SELECT max(ts) >= ? FROM bpf_tick", (target,), timeout=10 + 3 * n):
            fail(f"{n} ticks not stored in time")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()

    def log_text(self):
        with open(self.log) as f:
            return f.read()


def require_root():
    if os.geteuid() != 0:
        skip("needs root to load eBPF programs")
