#!/usr/bin/env python3
"""The include graph between the folders of src/ (scripts/check-includes): the
real tree is clean, and the checker does catch an include a folder may not
make (naming file:line) and a cycle between folders, on a small tree made for
it."""
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
CHECK = os.path.join(SOURCE, "scripts", "check-includes")


def run(src):
    p = subprocess.run([CHECK, src], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def main():
    problems = []
    rc, out = run(os.path.join(SOURCE, "src"))
    if rc != 0:
        problems.append("the source tree's include graph is not clean:\n" + out)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        tree(src, {
            "util/util.h": "#include <stdio.h>\n",
            "store/store.h": '#include "util/util.h"\n',
            "collect/collect.h": '#include "store/store.h"\n#include "daemon/config.h"\n',
            "daemon/config.h": '#include "collect/collect.h"\n',
            "query/cli.h": '#include "store/store.h"\n\n#include "daemon/config.h"\n',
        })
        rc, out = run(src)
        for want in ("src/collect/collect.h:2: collect/ includes daemon/",
                     "src/query/cli.h:3: query/ includes daemon/ (it may include metrics, store, util)",
                     "include cycle between folders: collect -> daemon -> collect"):
            if want not in out:
                problems.append(f"expected '{want}' in:\n{out}")
        if rc != 1:
            problems.append(f"a bad tree exits {rc}, expected 1")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
