#!/usr/bin/env python3
"""hindsightd --list-collectors against the daemon itself: the names come in
the order a run registers its collectors, every view a collector lists is
labelled with it in view_catalog (and no other view is), and a bad format is
one clear error."""
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD_DIR", "build")
DAEMON = os.path.join(BUILD, "hindsightd")


def listing(fmt):
    p = subprocess.run([DAEMON, "--list-collectors=" + fmt], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: --list-collectors={fmt} exited {p.returncode}: {p.stderr}")
    return p.stdout


def views_by_collector(text):
    """{collector: [views]} from the text format's 'name: ...' and 'views' lines."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\S+): ", line)
        if m:
            name = m.group(1)
        elif line.startswith("  views"):
            out[name] = [v for v in line.split(None, 1)[1].split(", ")] if " " in line.strip() else []
    return out


def main():
    problems = []
    names = listing("names").split()
    text = listing("text")
    views = views_by_collector(text)
    if list(views) != names + ["hindsightd"]:
        problems.append(f"text lists {list(views)}, names {names}")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "h.db")
        p = subprocess.run([DAEMON, "--db", db, "--once", "--interval", "1", "--no-bpf",
                            "--log-level", "warn"], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            problems.append(f"--once exited {p.returncode}: {p.stderr}")
        else:
            con = sqlite3.connect(db)
            order = [r[0] for r in con.execute("SELECT name FROM collector ORDER BY id")]
            if order != names:
                problems.append(f"the run registered {order}, the listing says {names}")
            catalog = dict(con.execute("SELECT name, collector FROM view_catalog"))
            want = {v: c for c, vs in views.items() if c != "hindsightd" for v in vs}
            for view, got in sorted(catalog.items()):
                if got != want.get(view):
                    problems.append(f"view {view}: catalog says {got}, listing {want.get(view)}")
            missing = set(want) - set(catalog)
            if missing:
                problems.append(f"listed views not in the catalog: {sorted(missing)}")
            con.close()
    p = subprocess.run([DAEMON, "--list-collectors=html"], capture_output=True, text=True)
    if p.returncode != 2 or "expected text, names or markdown, got 'html'" not in p.stderr:
        problems.append(f"a bad format: exit {p.returncode}, {p.stderr!r}")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
