#!/usr/bin/env bash
# Ten minutes with an incident in them, recorded at once by hindsightd, sar
# (sadc) and atop, each every 10 s, for docs/compare.md. Run as root on a
# test machine: it fills a 256 MiB memory cgroup until the kernel's OOM
# killer ends a process there.
#
#   docs/compare/incident.sh OUTDIR [HINDSIGHTD]
#
# Timeline (minutes from the start):
#   2:00  report burns two cores for 90 s while a loop runs short-lived
#         gzip and sha256sum processes, about 10 a second
#   4:00  cachewarm rereads a 512 MiB file inside a 256 MiB memory cgroup
#         for 60 s (page cache thrashing: memory pressure), then hog
#         allocates 600 MiB there and is OOM-killed
#   5:30  backup writes 2 GiB to disk with fsync
#   6:00  a line in the kernel log from user space
# The programs are python3 and dd started through links named report,
# cachewarm, hog and backup, so each has its own name (comm).
set -euo pipefail
out=${1:?usage: incident.sh OUTDIR [HINDSIGHTD]}
daemon=${2:-build/hindsightd}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
# the interpreter itself (python3 may be a wrapper script that goes by its name)
python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
for name in report cachewarm hog; do ln -sf "$python" "$out/bin/$name"; done
ln -sf "$(command -v dd)" "$out/bin/backup"
cg=/sys/fs/cgroup/memory/hsdemo
[ -d /sys/fs/cgroup/memory ] || cg=/sys/fs/cgroup/hsdemo # cgroup v2

"$daemon" --db "$out/hindsight.db" --interval 10 --duration 10m --log-level warn &
/usr/lib/sysstat/sadc -S XALL 10 61 "$out/sa.data" &
atop -w "$out/atop.raw" 10 61 >/dev/null 2>&1 &
date +%s >"$out/start"

sleep 120
# 2:00 the CPU spike and the short-lived processes
date +%s >"$out/t_spike"
"$out/bin/report" -c '
import multiprocessing, time
def burn():
    end = time.time() + 90
    while time.time() < end:
        pass
ps = [multiprocessing.Process(target=burn) for _ in range(2)]
[p.start() for p in ps]
[p.join() for p in ps]' &
report=$!
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
  gzip -c /etc/services >/dev/null
  sha256sum /etc/services >/dev/null
  sleep 0.2
done
wait $report

sleep 30
# 4:00 memory pressure in a memory cgroup, then an OOM kill there
mkdir -p "$cg"
if [ -f "$cg/memory.limit_in_bytes" ]; then
  echo $((256 << 20)) >"$cg/memory.limit_in_bytes"
else
  echo $((256 << 20)) >"$cg/memory.max"
fi
# written around the page cache, so the cgroup's reads are what fill it
dd if=/dev/urandom of="$out/cachefile" bs=1M count=512 oflag=direct status=none
date +%s >"$out/t_memory"
(
  echo $BASHPID >"$cg/cgroup.procs"
  exec "$out/bin/cachewarm" -c '
import sys, time
end = time.time() + 60
while time.time() < end:
    with open(sys.argv[1], "rb") as f:
        while f.read(1 << 20):
            pass' "$out/cachefile"
)
(
  echo $BASHPID >"$cg/cgroup.procs"
  exec "$out/bin/hog" -c '
import time
b = []
for i in range(600):
    b.append(bytearray(1 << 20))
    time.sleep(0.01)'
) || true
rm -f "$out/cachefile"

sleep 20
# 5:30 a large write
date +%s >"$out/t_backup"
"$out/bin/backup" if=/dev/zero of="$out/backup.img" bs=1M count=2048 conv=fsync status=none
rm -f "$out/backup.img"

sleep 10
# 6:00 a kernel log line
date +%s >"$out/t_kmsg"
echo "backup: /srv nearly full, rotating old archives" >/dev/kmsg

wait
rmdir "$cg" 2>/dev/null || true
date +%s >"$out/end"
