#!/usr/bin/env python3
"""Remote write's libraries are loaded only when remote_write is configured.

hindsightd opens libcurl and libsnappy with dlopen (src/metrics/rwlib.c):
1. a daemon without `remote_write:` has neither mapped (/proc/PID/maps), nor
   what they would bring (a TLS library, Kerberos, LDAP, libstdc++), and its
   binary does not name them as needed libraries (readelf -d);
2. a daemon with `remote_write:` (a url nobody listens on) has both mapped,
   keeps ticking, and logs libcurl's own words for the refused connection;
3. with `remote_write:` and libsnappy unloadable (an empty file bound over
   it in a user and mount namespace; skipped without them), the start stops
   with one line naming the library and its Debian package.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import DAEMON, Daemon, free_port, wait_for  # noqa: E402

REMOTE_WRITE_LIBS = ("libcurl", "libsnappy")
# what libcurl and libsnappy pull in; libstdc++ may come with the sanitizers
BROUGHT = ("libgnutls", "libssl", "libcrypto", "libkrb5", "libldap", "libssh2", "libnghttp2",
           "libstdc++")


def mapped(pid):
    """The base names of the shared objects a process has mapped."""
    names = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if ".so" in path:
                names.add(os.path.basename(path))
    return names


def having(names, prefixes):
    return sorted(n for n in names if n.startswith(prefixes))


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def main():
    sanitized = os.environ.get("SANITIZED") in ("1", "ON", "TRUE", "true")
    linked = having(set(needed(DAEMON)), REMOTE_WRITE_LIBS + BROUGHT)
    if linked:
        sys.exit(f"{DAEMON} is linked against {linked}")
    brought = BROUGHT[:-1] if sanitized else BROUGHT
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(tmp)
        try:
            d.wait_ticks(2)
            names = mapped(d.proc.pid)
            print(f"without remote_write: {len(names)} shared objects mapped")
            unwanted = having(names, REMOTE_WRITE_LIBS + brought)
            if unwanted:
                sys.exit(f"without remote_write, hindsightd has {unwanted} mapped")
        finally:
            d.stop()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"http://127.0.0.1:{free_port()}/api/v1/write"
        d = Daemon(tmp, f"remote_write:\n  url: {url}\n  timeout: 2s\n  max_backoff: 2s\n")
        try:
            d.wait_ticks(3)
            names = mapped(d.proc.pid)
            print(f"with remote_write: {len(names)} shared objects mapped")
            for lib in REMOTE_WRITE_LIBS:
                if not having(names, (lib,)):
                    sys.exit(f"with remote_write, hindsightd has no {lib} mapped: "
                             f"{sorted(names)}")
            wait_for(lambda: re.search(r"(?i)connect", d.text()) or d.proc.poll() is not None,
                     60, "the refused connection in the log")
            if d.proc.poll() is not None:
                sys.exit(f"hindsightd exited with {d.proc.returncode}:\n{d.text()[-3000:]}")
        finally:
            code = d.stop()
        if code != 0:
            sys.exit(f"hindsightd exited with {code}:\n{d.text()[-3000:]}")
    missing_library()
    print("ok")


def missing_library():
    """Part 3: libsnappy.so.1 hidden from one daemon only."""
    if subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True).returncode:
        print("no user namespaces here: the missing-library start is not checked")
        return
    lib = os.path.realpath("/usr/lib/x86_64-linux-gnu/libsnappy.so.1")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "h.yml")
        with open(cfg, "w") as f:
            f.write(f"remote_write:\n  url: http://127.0.0.1:{free_port()}/api/v1/write\n")
        run = subprocess.run(
            ["unshare", "-r", "-m", "sh", "-c", 'mount --bind /dev/null "$1" && shift && exec "$@"',
             "sh", lib, DAEMON, "--db", os.path.join(tmp, "h.db"), "--interval", "1",
             "--config", cfg], capture_output=True, text=True, timeout=60)
        want = "remote_write needs libsnappy.so.1 (Debian package libsnappy1v5)"
        if run.returncode == 0 or want not in run.stderr:
            sys.exit(f"without libsnappy: exit {run.returncode}, wanted '{want}' in:\n"
                     f"{run.stderr[-3000:]}")
        print(next(line for line in run.stderr.splitlines() if want in line))


if __name__ == "__main__":
    main()
