#!/usr/bin/env bash
# What the eBPF collectors cost. Prints two tables:
#  1. hindsightd's CPU per 1,000 execs (an exec storm of N processes), with
#     eBPF on and with --no-bpf, and the kernel-side run time of each program
#     (kernel.bpf_stats_enabled);
#  2. the cost of a read/write syscall loop: no daemon, daemon with the
#     syscall counters on, and with them off (bpf.syscalls and
#     bpf.failed_execs false, so no syscall-exit hook is attached).
# Root only. Usage: bench/bpf_cost.sh [BUILD_DIR] [EXECS] [LOOP_ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
execs=${2:-20000}
rounds=${3:-2000000}
[ "$(id -u)" -eq 0 ] || { echo "bench/bpf_cost.sh: needs root" >&2; exit 1; }
"$root/scripts/build" "$build" >/dev/null
tmp=$(mktemp -d)
trap 'kill $dpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
dpid=

cpu_ms() { # CPU time of a pid in ms, from schedstat (ns, not clock ticks)
  awk '{ printf "%.3f", $1 / 1e6 }' "/proc/$1/schedstat"
}

start_daemon() { # start_daemon NAME [ARGS...]
  local name=$1; shift
  rm -f "$tmp/$name.db"*
  "$build/hindsightd" --db "$tmp/$name.db" --interval 1s "$@" >"$tmp/$name.log" 2>&1 &
  dpid=$!
  sleep 2.5 # open, first ticks
}

stop_daemon() {
  kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=
}

exec_storm() { # exec_storm N: N /bin/true processes, 8 at a time
  python3 - "$1" <<'PY'
import os, sys
n = int(sys.argv[1]); running = set()
for i in range(n):
    if len(running) >= 8:
        pid, _ = os.wait(); running.discard(pid)
    running.add(os.posix_spawn("/bin/true", ["/bin/true", f"bench-{i}"], {}))
for pid in running:
    os.waitpid(pid, 0)
PY
}

echo "== hindsightd CPU per 1,000 execs ($execs execs, 1 s ticks)"
printf "%-10s %12s %12s %14s %18s\n" mode storm_s daemon_cpu_ms cpu_ms_per_1k idle_cpu_ms_per_s
for mode in ebpf no-bpf; do
  args=(); [ "$mode" = no-bpf ] && args=(--no-bpf)
  start_daemon "$mode" "${args[@]}"
  c0=$(cpu_ms "$dpid"); sleep 3; c1=$(cpu_ms "$dpid")
  idle=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 3 }')
  t0=$(date +%s.%N); c0=$(cpu_ms "$dpid")
  exec_storm "$execs"
  sleep 1.5 # the tick that stores the last records
  c1=$(cpu_ms "$dpid"); t1=$(date +%s.%N)
  stored=$(sqlite3 "$tmp/$mode.db" "SELECT count(*) FROM exec_event WHERE args LIKE '/bin/true bench-%'" 2>/dev/null || echo 0)
  stop_daemon
  awk -v m="$mode" -v t0="$t0" -v t1="$t1" -v a="$c0" -v b="$c1" -v n="$execs" -v idle="$idle" \
    'BEGIN { printf "%-10s %12.1f %12.0f %14.1f %18s\n", m, t1 - t0, b - a, (b - a) * 1000 / n, idle }'
  [ "$mode" = ebpf ] && echo "  (exec records stored: $stored of $execs)"
done

echo
echo "== kernel time per program run (kernel.bpf_stats_enabled, same storm)"
old=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
start_daemon stats
exec_storm "$execs"
printf "%-20s %12s %10s\n" program runs ns_per_run
bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("on_") and p.get("run_cnt"):
        print("%-20s %12d %10.0f" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))'
stop_daemon
sysctl -qw kernel.bpf_stats_enabled="$old"

echo
echo "== read/write syscall loop ($rounds rounds of read+write, 1 byte)"
# The setups take turns, five rounds, and each keeps its best run: the
# machine is shared, and load from elsewhere only ever makes a run slower.
printf 'bpf:\n  syscalls: false\n  failed_execs: false\n' >"$tmp/off.yaml"
setups=("no daemon" "--no-bpf" "counters off (no syscall hook)" "counters on")
declare -A bestv
for _ in 1 2 3 4 5; do
  for setup in "${setups[@]}"; do
    case "$setup" in
      "counters on") start_daemon on ;;
      "counters off"*) start_daemon off --config "$tmp/off.yaml" ;;
      "--no-bpf") start_daemon nobpf --no-bpf ;;
    esac
    v=$("$build/bench/bench_syscall_loop" "$rounds")
    [ -n "$dpid" ] && stop_daemon
    b=${bestv[$setup]:-}
    bestv[$setup]=$(awk -v a="$b" -v v="$v" 'BEGIN { print (a == "" || v < a) ? v : a }')
  done
done
base=${bestv["no daemon"]}
printf "%-36s %10s %10s\n" setup ns_per_call slowdown
for setup in "${setups[@]}"; do
  awk -v s="$setup" -v v="${bestv[$setup]}" -v b="$base" \
    'BEGIN { printf "%-36s %10.1f %9.1f%%\n", s, v, 100 * (v - b) / b }'
done
