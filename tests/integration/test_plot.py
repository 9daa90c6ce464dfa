#!/usr/bin/env python3
"""Charts that mean something, on a database a real daemon wrote.

A view with a row per group draws a line per group (the top ones and
"other"), not one average of all; one with several rows per time and no
names to tell them apart is refused naming --where; the title says the
filters; values and ticks read in units (no 4.83963e+08); the value axis
steps 1-2-5 and a percent axis starts at 0; the SVG's text is escaped; and
rendered to PNG (rsvg-convert, from Debian's librsvg2-bin) every series is
drawn and no text runs off the picture's edges.
"""
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

BUILD = os.environ.get("BUILD_DIR", "build")
HINDSIGHT = os.path.join(BUILD, "hindsight")
DAEMON = os.path.join(BUILD, "hindsightd")
NS = "{http://www.w3.org/2000/svg}"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(db, *args):
    p = subprocess.run([HINDSIGHT, "--db", db, *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def ok(db, *args):
    rc, out, err = run(db, *args)
    check(rc == 0, f"hindsight {' '.join(args)} exited {rc}: {err.strip()}")
    return out


AWKWARD = "web<1> & \"db's\""


def make_database(tmp):
    """A daemon's few seconds, plus three groups of known CPU in every tick:
    one named with every character SVG must escape. Two use more than this
    2-core machine's real groups can (250% and 220% of a core), so they are
    the top two whatever else ran."""
    db = os.path.join(tmp, "plot.db")
    subprocess.run([DAEMON, "--db", db, "--interval", "1", "--duration", "4",
                    "--log-level", "warn"], check=True, timeout=60)
    con = sqlite3.connect(db)
    ticks = [r[0] for r in con.execute("SELECT ts FROM agent ORDER BY ts")]
    cols = [r[1] for r in con.execute("PRAGMA table_info(group_sample)")]
    for name, ms in ((AWKWARD, 2500), ("busy.service", 2200), ("calm.service", 50)):
        con.execute("INSERT INTO proc_group (name) VALUES (?)", (name,))
        gid = con.execute("SELECT id FROM proc_group WHERE name = ?", (name,)).fetchone()[0]
        vals = {"group_id": gid, "dur_ms": 1000, "user_ms": ms, "procs_count": 1}
        con.executemany(f"INSERT INTO group_sample ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' * len(cols))})",
                        [[ts if c == "ts" else vals.get(c, 0) for c in cols] for ts in ticks])
    # a user's view with several rows per time and nothing to tell them apart
    con.execute("CREATE VIEW every_cpu AS SELECT ts, user_ms * 1.0 AS user_ms FROM cpu")
    con.commit()
    con.close()
    return db


def test_series(db):
    out = ok(db, "plot", "group_cpu", "cpu_pct", "--since", "@0", "--series", "2")
    check("one line per group_name: the top 2 of" in out and "the rest summed as other" in out,
          f"group_cpu draws a line per group: {out[:300]}")
    check(f"{AWKWARD}: max 250.0%" in out and "busy.service: max 220.0%" in out and
          re.search(r"other \(\d+ more\): max", out), "each line is named with its peak")
    out = ok(db, "plot", "group_cpu", "cpu_pct", "--since", "@0", "--where",
             "group_name=calm.service")
    check("group_cpu.cpu_pct where group_name=calm.service" in out.splitlines()[0],
          f"the title says the filter: {out.splitlines()[0]}")
    check("group_name calm.service" in out and "max 5.0%" in out, "one group: one line")
    rc, out, err = run(db, "plot", "every_cpu", "user_ms", "--since", "@0")
    check(rc == 2 and "--where" in err and "several rows per time" in err,
          f"several rows per time, no names: refused naming --where: {err.strip()}")
    out = ok(db, "plot", "group_cpu", "cpu_pct", "--since", "@0", "--spark", "--series", "1")
    check(any(c in out for c in "▁▂▃▄▅▆▇█") and "calm" not in out and
          re.search(r"^other \(\d+ more\) 0% ", out, re.M), f"--spark: a line per series: {out}")


def test_units(db):
    for view, col in (("disk_io", "write_bytes_per_s"), ("memory_usage", "used_kb"),
                      ("pressure", "some_stall_ms"), ("load", "load1"),
                      ("cpu_usage", "busy_pct")):
        rc, out, err = run(db, "plot", view, col, "--since", "@0")
        if "no values" in out:
            continue
        check(rc == 0 and not re.search(r"\de[+-]\d|\d\.\d{4,}", out),
              f"plot {view} {col}: no exponents or long fractions: {out[:200]}")
        stats = [l for l in out.splitlines() if l.startswith("min ")]
        check(stats and (col != "busy_pct" or "%" in stats[0]) and
              (not col.endswith("bytes_per_s") or "B/s" in stats[0]),
              f"plot {view} {col}: the summary is in units: {stats}")


# ---- the SVG, read as XML and looked at as pixels ----

def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def test_svg(db, tmp):
    svg = os.path.join(tmp, "groups.svg")
    ok(db, "plot", "group_cpu", "cpu_pct", "--since", "@0", "--series", "3", "--svg", svg)
    root = ET.parse(svg).getroot()  # escaped, or this would not parse
    texts = [t.text or "" for t in root.iter(f"{NS}text")]
    check(texts[0] == "group_cpu.cpu_pct", f"the title: {texts[0]!r}")
    check(any(t.startswith(AWKWARD + " (max 250.0%)") for t in texts),
          f"the legend names the awkward group as it is: {texts}")
    lines = root.findall(f"{NS}polyline")
    colours = {l.get("stroke") for l in lines}
    check(len(colours) == 4, f"three groups and other, each its colour: {colours}")
    ticks = [t for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    values = [float(re.sub(r"[^0-9.]", "", t.text)) for t in ticks]
    check(values[0] == 0 and all(t.text.endswith("%") for t in ticks),
          f"a percent axis from 0: {[t.text for t in ticks]}")
    steps = {round(b - a, 9) for a, b in zip(values, values[1:])}
    check(len(steps) == 1 and re.fullmatch(r"[125]0*(\.0+)?|0\.0*[125]", f"{steps.pop():g}"),
          f"round 1-2-5 steps: {[t.text for t in ticks]}")
    width = float(root.get("width"))
    for t in root.iter(f"{NS}text"):
        x, n = float(t.get("x")), len(t.text or "") * 7.2 * float(t.get("font-size", 12)) / 12
        room = float(t.get("textLength", n))
        left = {"start": x, "middle": x - room / 2, "end": x - room}[t.get("text-anchor")]
        check(left >= 0 and left + room <= width + 1, f"text inside the picture: {t.text!r}")
    if not shutil.which("rsvg-convert"):
        print("SKIP the PNG look: rsvg-convert missing (apt-get install librsvg2-bin)")
        return
    png = os.path.join(tmp, "groups.png")
    subprocess.run(["rsvg-convert", svg, "-o", png], check=True, timeout=60)
    w, h, rows = png_pixels(png)
    check((w, h) == (int(width), int(float(root.get("height")))), f"PNG size {w}x{h}")
    seen = {px for row in rows for px in row}
    for colour in colours:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        check(rgb in seen, f"the line in {colour} is drawn")
    # nothing runs off the edges: the outermost columns and rows are white
    edges = [rows[y][x] for y in range(h) for x in (0, 1, w - 2, w - 1)] + \
        [rows[y][x] for y in (0, h - 1) for x in range(w)]
    check(all(min(px) > 200 for px in edges), "no text or line touches the picture's edge")


def main():
    if not os.path.exists(HINDSIGHT):
        print("hindsight not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="hindsight-plot-")
    try:
        db = make_database(tmp)
        test_series(db)
        test_units(db)
        test_svg(db, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all plot checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
