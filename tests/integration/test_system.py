#!/usr/bin/env python3
"""The system collectors against their sources over the same interval.

The daemon runs for a few one-second ticks while this test makes traffic it
can account for: bytes over loopback, bytes written and fsynced to disk, TCP
connections held open. The sources are read before the daemon starts and
after it stops, so every stored sum must lie between what the test did and
what the source counted around the whole run. Then a kernel log message
(root only) must be stored exactly once across a daemon restart.
"""
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def net_dev(name):
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            ifname, rest = line.rsplit(":", 1)
            if ifname.strip() == name:
                v = [int(x) for x in rest.split()]
                return v[0], v[8]
    raise SystemExit("no interface %s" % name)


def sys_block():
    out = {}
    for d in os.listdir("/sys/block"):
        with open("/sys/block/%s/stat" % d) as f:
            v = [int(x) for x in f.read().split()]
        out[d] = (v[2] * 512, v[6] * 512)  # read, write sectors -> bytes
    return out


def query(db, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for_ticks(db, n, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if query(db, "SELECT count(*) FROM agent")[0][0] >= n:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def loopback_traffic(nbytes):
    """Sends nbytes over a loopback TCP connection; returns the payload sent."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = []

    def sink():
        c, _ = srv.accept()
        n = 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            n += len(b)
        got.append(n)
        c.close()

    t = threading.Thread(target=sink)
    t.start()
    cli = socket.create_connection(srv.getsockname())
    chunk = b"x" * (1 << 16)
    sent = 0
    while sent < nbytes:
        sent += cli.send(chunk)
    cli.close()
    t.join()
    srv.close()
    return got[0]


def disk_writes(path, nbytes):
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(nbytes >> 20):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())


def run_window(tmp, db):
    """One daemon run with traffic inside it; checks net, disk, tcp, psi, vmstat."""
    lo0, blk0 = net_dev("lo"), sys_block()
    with open("/proc/vmstat") as f:
        faults0 = int([l for l in f if l.startswith("pgfault ")][0].split()[1])
    # Connections held open over the whole run: the first tick counts them.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    conns = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    accepted = [listener.accept()[0] for _ in range(3)]
    d = subprocess.Popen([DAEMON, "--db", db, "--interval", "1", "--duration", "6"],
                         stderr=subprocess.PIPE, text=True)
    if not wait_for_ticks(db, 1):
        d.kill()
        raise SystemExit("daemon stored no tick: " + d.communicate()[1])
    # Traffic while the daemon is sampling: well inside its window.
    payload = loopback_traffic(32 << 20)
    disk_writes(os.path.join(tmp, "blob"), 16 << 20)
    _, err = d.communicate(timeout=30)
    check(d.returncode == 0, "daemon exited 0 (stderr: %s)" % err.strip()[-300:])
    for s in conns + accepted + [listener]:
        s.close()
    lo1, blk1 = net_dev("lo"), sys_block()
    with open("/proc/vmstat") as f:
        faults1 = int([l for l in f if l.startswith("pgfault ")][0].split()[1])

    # net: what the test sent on lo is in lo's deltas, and the deltas add up
    # to no more than /proc/net/dev counted around the whole run.
    rx, tx = query(db, "SELECT sum(rx_bytes), sum(tx_bytes) FROM net_rates "
                   "WHERE interface='lo'")[0]
    check(rx is not None and payload <= rx <= lo1[0] - lo0[0],
          "lo rx bytes: sent %d <= stored %s <= /proc/net/dev delta %d"
          % (payload, rx, lo1[0] - lo0[0]))
    check(tx == rx, "lo tx bytes %s == rx bytes %s" % (tx, rx))

    # disk: the 16 MiB written and fsynced is in some whole disk's writes,
    # and no disk's stored sum exceeds its /sys/block/<d>/stat delta.
    rows = query(db, "SELECT disk, sum(read_bytes), sum(write_bytes) FROM disk_io "
                 "WHERE whole_disk=1 GROUP BY disk")
    check(len(rows) > 0, "disk rows for whole disks: %s" % rows)
    best = 0
    for disk, rd, wr in rows:
        if disk not in blk0 or disk not in blk1:
            continue
        drd = blk1[disk][0] - blk0[disk][0]
        dwr = blk1[disk][1] - blk0[disk][1]
        check(0 <= rd <= drd and 0 <= wr <= dwr,
              "%s: stored read %d <= %d and write %d <= %d (/sys/block stat deltas)"
              % (disk, rd, drd, wr, dwr))
        best = max(best, wr)
    check(best >= 16 << 20, "a disk's stored writes %d >= the 16 MiB fsynced" % best)

    # tcp: the first tick of a run counts connections by state.
    est, lis = query(db, "SELECT established_count, listen_count FROM tcp "
                     "WHERE established_count IS NOT NULL ORDER BY ts LIMIT 1")[0] \
        if query(db, "SELECT count(*) FROM tcp WHERE established_count IS NOT NULL")[0][0] \
        else (None, None)
    segs = query(db, "SELECT sum(retrans_segs_count) IS NOT NULL, sum(active_opens_count) "
                 "FROM tcp")[0]
    check(segs[0] == 1 and segs[1] >= 1,
          "tcp active opens over the run %s >= the 1 the test made" % segs[1])
    check(est is not None and est >= 6 and lis >= 1,
          "connections by state: established %s >= the test's 6 ends, listen %s >= 1"
          % (est, lis))

    if os.path.exists("/proc/pressure/cpu"):
        res = {r[0] for r in query(db, "SELECT DISTINCT resource FROM pressure")}
        check({"cpu", "memory", "io"} <= res, "pressure rows for cpu, memory, io: %s" % res)

    faults = query(db, "SELECT sum(pgfault_count) FROM vmstat")[0][0]
    check(faults is not None and 0 < faults <= faults1 - faults0,
          "page faults stored %s within /proc/vmstat delta %d" % (faults, faults1 - faults0))


def check_filesystems(db):
    """The latest df rows match statvfs and df for the same filesystems."""
    rows = query(db, "SELECT mountpoint, size_kb, avail_kb, inodes_used_count + "
                 "inodes_free_count FROM filesystem_usage "
                 "WHERE ts = (SELECT max(ts) FROM filesystem)")
    check(len(rows) > 0, "filesystem rows stored")
    df = {}
    out = subprocess.run(["df", "-k", "--output=target,size"], capture_output=True, text=True)
    for line in out.stdout.splitlines()[1:]:
        target, size = line.rsplit(None, 1)
        df[target] = int(size)
    for mp, size_kb, avail_kb, inodes in rows:
        try:
            sv = os.statvfs(mp)
        except OSError:
            continue
        check(size_kb == sv.f_blocks * sv.f_frsize // 1024 and inodes == sv.f_files,
              "%s: size %d KiB and inodes %d match statvfs" % (mp, size_kb, inodes))
        # Free space moves while other builds run: allow 1% or 512 MiB.
        check(abs(avail_kb - sv.f_bavail * sv.f_frsize // 1024) <= max(524288, size_kb // 100),
              "%s: available %d KiB close to statvfs" % (mp, avail_kb))
        if mp in df:
            check(df[mp] == size_kb, "%s: size %d KiB matches df %d" % (mp, size_kb, df[mp]))


def check_kmsg(tmp):
    """A message written to /dev/kmsg is stored once, across a restart."""
    if os.geteuid() != 0:
        print("skip kernel log check: writing /dev/kmsg needs root")
        return
    db = os.path.join(tmp, "kmsg.db")
    marker = "hindsight-itest-%s" % uuid.uuid4()
    with open("/dev/kmsg", "w") as f:
        f.write("<4>%s\n" % marker)
    for run in range(2):
        r = subprocess.run([DAEMON, "--db", db, "--interval", "1", "--once"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "daemon run %d exited 0: %s" % (run + 1, r.stderr[-300:]))
    rows = query(db, "SELECT priority, facility, ts FROM kernel_log WHERE message = ?",
                 (marker,))
    check(len(rows) == 1, "the marker is stored exactly once after a restart: %d rows"
          % len(rows))
    if rows:
        # The kernel files what userspace writes under facility user (1).
        check(rows[0][0] == 4 and rows[0][1] == 1, "priority 4, facility user: %s" % (rows[0],))
        check(abs(rows[0][2] - time.time()) < 120, "its time converted to the wall clock")
    dup = query(db, "SELECT count(*) - count(DISTINCT boot || '/' || seq) FROM kernel_log")[0][0]
    check(dup == 0, "no kernel log record stored twice (%d duplicates)" % dup)


def main():
    if not os.access(DAEMON, os.X_OK):
        print("no daemon at %s" % DAEMON)
        return 77
    # The working files sit under the build directory: on a real disk, so the
    # disk check sees the writes (a tmpfs /tmp would not).
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        db = os.path.join(tmp, "h.db")
        run_window(tmp, db)
        check_filesystems(db)
        check_kmsg(tmp)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
