#!/usr/bin/env bash
# Does the CPU of short-lived processes add up? A workload starts RATE
# processes per second for SECONDS seconds, each burning MS ms of CPU and
# noting what its own clock says it used. hindsightd samples every second,
# with eBPF on and then with --no-bpf. Printed per run:
#  - the workload's CPU by its own clocks;
#  - the CPU the eBPF exit records hold for those processes;
#  - busy CPU from /proc/stat over the window (the whole machine);
#  - the sum of group CPU (view group_cpu) over the window, when the
#    processes collector is in this build;
#  - when prometheus-process-exporter is installed, the same sum from it
#    (every process grouped by comm, scraped every second) during the
#    --no-bpf run.
# Root only. Usage: bench/bpf_accuracy.sh [BUILD_DIR] [RATE] [SECONDS] [MS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rate=${2:-200}
secs=${3:-30}
ms=${4:-2}
[ "$(id -u)" -eq 0 ] || { echo "bench/bpf_accuracy.sh: needs root" >&2; exit 1; }
"$root/scripts/build" "$build" >/dev/null
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; rm -rf "$tmp"' EXIT

workload() { # workload OUTFILE: RATE burners a second for SECS seconds
  python3 - "$build/bench/bench_burn" "$rate" "$secs" "$ms" "$1" <<'PY'
import os, sys, time
burn, rate, secs, ms, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
t0 = time.monotonic(); n = 0; running = set()
while time.monotonic() - t0 < secs:
    due = int((time.monotonic() - t0) * rate)
    while n < due:
        running.add(os.posix_spawn(burn, [burn, ms, out], {})); n += 1
    while running:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if not pid:
            break
        running.discard(pid)
    time.sleep(0.002)
for pid in running:
    os.waitpid(pid, 0)
print(n)
PY
}

# Scrapes process-exporter every second; prints the growth of the sum of
# namedprocess_namegroup_cpu_seconds_total when stdin closes.
pe_scraper() {
  # The script comes in -c: stdin is the pipe that says when to stop.
  python3 -c '
import select, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/metrics"
def total():
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
               if l.startswith("namedprocess_namegroup_cpu_seconds_total"))
first = total()
while not select.select([sys.stdin], [], [], 1.0)[0]:
    total()
print("%.2f" % (total() - first))
' "$1"
}
pe=$(command -v prometheus-process-exporter || true)

printf "%-8s %9s %12s %12s %8s %12s %12s %8s\n" mode procs own_cpu_s exits_cpu_s exits% busy_cpu_s group_cpu_s group%
for mode in ebpf no-bpf; do
  args=(); [ "$mode" = no-bpf ] && args=(--no-bpf)
  db="$tmp/$mode.db"
  "$build/hindsightd" --db "$db" --interval 1s "${args[@]}" >"$tmp/$mode.log" 2>&1 &
  dpid=$!
  sleep 2.5
  t0=$(sqlite3 "$db" "select max(ts) from agent")
  out="$tmp/$mode.cpu"
  if [ "$mode" = no-bpf ] && [ -n "$pe" ]; then
    printf 'process_names:\n  - name: "{{.Comm}}"\n    cmdline: [".+"]\n' >"$tmp/pe.yml"
    "$pe" -config.path "$tmp/pe.yml" -web.listen-address 127.0.0.1:19302 >"$tmp/pe.log" 2>&1 &
    pepid=$!
    sleep 1.5
    exec 7> >(pe_scraper 19302 >"$tmp/pe.sum")
  fi
  n=$(workload "$out")
  sleep 2.5
  t1=$(sqlite3 "$db" "select max(ts) from agent")
  kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=
  pe_sum=
  if [ "$mode" = no-bpf ] && [ -n "$pe" ]; then
    exec 7>&-
    sleep 2
    kill "$pepid"; wait "$pepid" 2>/dev/null || true
    pe_sum=$(cat "$tmp/pe.sum")
  fi
  own=$(awk '{ s += $1 } END { printf "%.2f", s / 1e6 }' "$out")
  exits=$(sqlite3 "$db" "select printf('%.2f', coalesce(sum(cpu_us), 0) / 1e6) from process_exit
                         where comm = 'bench_burn' and ts > $t0 and ts <= $t1" 2>/dev/null || echo 0)
  busy=$(sqlite3 "$db" "select printf('%.2f', sum(user_ms + nice_ms + system_ms + irq_ms + softirq_ms + steal_ms) / 1e3)
                        from cpu where cpu_id = -1 and ts > $t0 and ts <= $t1")
  group=$(sqlite3 "$db" "select printf('%.2f', sum(user_ms + system_ms) / 1e3) from group_cpu
                         where ts > $t0 and ts <= $t1" 2>/dev/null || echo "-")
  gpct=-
  [ "$group" != "-" ] && gpct=$(awk -v g="$group" -v b="$busy" 'BEGIN { x = b > 0 ? 100 * g / b : 0; printf "%.1f%%", x }')
  epct=$(awk -v e="$exits" -v o="$own" 'BEGIN { x = o > 0 ? 100 * e / o : 0; printf "%.1f%%", x }')
  printf "%-8s %9d %12.2f %12.2f %8s %12.2f %12s %8s\n" "$mode" "$n" "$own" "$exits" "$epct" "$busy" "$group" "$gpct"
  if [ -n "$pe_sum" ]; then
    ppct=$(awk -v g="$pe_sum" -v b="$busy" 'BEGIN { x = b > 0 ? 100 * g / b : 0; printf "%.1f%%", x }')
    printf "%-8s %9s %12s %12s %8s %12.2f %12s %8s\n" "p-e" "" "" "" "" "$busy" "$pe_sum" "$ppct"
  fi
done
echo "(group columns: '-' when this build has no processes collector; busy includes everything"
echo " the machine ran, the daemon and the workload's driver too; p-e: prometheus-process-exporter"
echo " during the no-bpf run, every process grouped by comm, scraped every second)"
