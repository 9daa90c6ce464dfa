#!/usr/bin/env python3
"""Exec storm: 5,000 short-lived processes as fast as they can be started.
Every one must be in the exec table, or the stored exec drop count must cover
exactly the ones missing. A second, smaller storm runs while the daemon is
stopped (SIGSTOP) with the smallest ring buffer, so records must be lost:
the loss must show in the stored drop counts, never silently."""
import os
import signal
import time
import uuid

from bpfcommon import Daemon, fail, require_root

STORM = 5000
IN_FLIGHT = 16


def storm(token, n):
    """Starts n /bin/true processes (argv carries token-i); returns seconds."""
    t0 = time.monotonic()
    running = set()
    for i in range(n):
        if len(running) >= IN_FLIGHT:
            pid, _ = os.wait()
            running.discard(pid)
        running.add(os.posix_spawn("/bin/true", ["/bin/true", f"{token}-{i}"], {}))
    for pid in running:
        os.waitpid(pid, 0)
    return time.monotonic() - t0


def stored(d, token, n, since):
    """(processes of the storm in the exec table, exec drops since `since`)."""
    found = d.query("SELECT count(DISTINCT args) FROM exec_event WHERE args LIKE ?",
                    (f"/bin/true {token}-%",))[0][0]
    drops = d.query("SELECT coalesce(sum(exec_drops_count), 0) FROM bpf_tick WHERE ts > ?",
                    (since,))[0][0]
    return found, drops


require_root()

# 1. The storm with the default ring buffer.
d = Daemon()
try:
    d.require_running()
    start = d.last_ts()
    token = "hsstorm" + uuid.uuid4().hex[:8]
    secs = storm(token, STORM)
    d.wait_ticks(2)
    found, drops = stored(d, token, STORM, start)
    missing = STORM - found
    print(f"storm: {STORM} processes in {secs:.1f}s ({STORM / secs:.0f}/s); "
          f"{found} in the exec table, {missing} missing, {drops} exec records dropped")
    # Other processes on the machine exec too, so their drops may add to ours.
    if missing < 0 or missing > drops:
        fail(f"{missing} execs missing but only {drops} drops stored")
finally:
    d.stop()

# 2. Forced loss: nobody reads the ring while the storm runs.
d = Daemon(config_text="bpf:\n  ring_kb: 4\n")
try:
    d.require_running()
    start = d.last_ts()
    token = "hsstop" + uuid.uuid4().hex[:8]
    d.proc.send_signal(signal.SIGSTOP)
    try:
        storm(token, 500)
    finally:
        d.proc.send_signal(signal.SIGCONT)
    d.wait_ticks(2)
    found, drops = stored(d, token, 500, start)
    missing = 500 - found
    ring = d.query("SELECT sum(ring_drops_count) FROM bpf_tick WHERE ts > ?", (start,))[0][0]
    print(f"stopped reader, 4 KiB ring: {found} of 500 stored, {missing} missing, "
          f"{drops} exec records and {ring} records in all dropped")
    if missing == 0 or missing > drops or ring < drops:
        fail("the loss was not accounted for")
finally:
    d.stop()
