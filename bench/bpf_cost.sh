#!/usr/bin/env bash
# What the eBPF collectors cost, the daemon and every other process. Prints:
#  1. hindsightd's CPU per 1,000 execs (an exec storm of N processes), with
#     eBPF on and with --no-bpf;
#  2. the kernel-side run time of each program over the same storm, all
#     hooks on, as the daemon records it (bpf.prog_stats);
#  3. what the hooks cost everyone else: a 1-byte read/write syscall loop, a
#     context-switch loop (two processes on one CPU passing a byte through
#     pipes) and a loopback TCP request/response loop (64 bytes each way, the
#     realistic syscall-heavy workload), with no daemon, the daemon with
#     --no-bpf (all hooks off), the default configuration, and all hooks on
#     (bpf.syscalls and bpf.failed_execs true: the syscall-exit hook), and
#     the default with BPF run-time statistics (bpf.prog_stats: the kernel
#     then times every BPF program on the host, ours and others'). The
#     setups take turns for ROUNDS rounds; each cell is the median and the
#     spread (lowest-highest) of its runs. Other eBPF programs on the same
#     tracepoints (another hindsightd) slow every setup alike and hide part
#     of the difference: the last column counts them.
# Root only. Usage: bench/bpf_cost.sh [BUILD_DIR] [EXECS] [LOOP_ROUNDS] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
execs=${2:-20000}
rounds=${3:-2000000}
reps=${4:-5}
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

printf 'bpf:\n  syscalls: true\n  failed_execs: true\n' >"$tmp/all.yaml"
printf 'bpf:\n  syscalls: true\n  failed_execs: true\n  prog_stats: true\n' >"$tmp/allstats.yaml"
if [ "$execs" -gt 0 ]; then # EXECS 0: only the third table
echo "== hindsightd CPU per 1,000 execs ($execs execs, 1 s ticks, default configuration)"
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
  ring=$(sqlite3 -separator ' ' "$tmp/$mode.db" "SELECT coalesce(max(ring_peak_bytes), 0), coalesce(sum(ring_drops_count), 0), coalesce(max(execs_count * 1000 / dur_ms), 0) FROM kernel_events" 2>/dev/null || echo "0 0 0")
  stop_daemon
  awk -v m="$mode" -v t0="$t0" -v t1="$t1" -v a="$c0" -v b="$c1" -v n="$execs" -v idle="$idle" \
    'BEGIN { printf "%-10s %12.1f %12.0f %14.1f %18s\n", m, t1 - t0, b - a, (b - a) * 1000 / n, idle }'
  if [ "$mode" = ebpf ]; then
    read -r peak drops rate <<<"$ring"
    echo "  exec records stored: $stored of $execs; busiest tick: $rate execs/s;"
    echo "  ring buffer: at most $((peak / 1024)) KiB waiting (bpf.ring_kb: its size), $drops records dropped"
  fi
done

echo
echo "== kernel time per program run (same storm, all hooks on, bpf.prog_stats: the daemon's own figures)"
start_daemon allstats --config "$tmp/allstats.yaml"
exec_storm "$execs"
sleep 1.5
stop_daemon
printf "%-20s %12s %10s\n" program runs ns_per_run
sqlite3 -separator ' ' "$tmp/allstats.db" "SELECT p.name, sum(runs_count), sum(run_ns) * 1.0 / sum(runs_count)
  FROM bpf_program_cost c JOIN bpf_program p ON p.id = c.program_id GROUP BY 1 ORDER BY 2 DESC" |
  while read -r name runs ns; do printf "%-20s %12d %10.0f\n" "$name" "$runs" "$ns"; done
fi

foreign_sys_exit() { # sys_exit programs attached by other processes than ours
  local n
  n=$(bpftool prog show 2>/dev/null | grep -c 'name on_sys_exit' || true)
  [ -n "$dpid" ] && [ "$1" = with-hook ] && n=$((n - 1))
  echo "$n"
}

echo
echo "== what the hooks cost other processes ($reps rounds, setups in turn)"
echo "   CPU time (user + system) of the workload: syscall: ns per 1-byte read or write"
echo "   ($rounds rounds); switch: ns per context switch (pipe ping-pong on one CPU);"
echo "   loopback: us per 64-byte TCP request/response on 127.0.0.1"
printf 'bpf:\n  prog_stats: true\n' >"$tmp/stats.yaml"
setups=("no daemon" "all hooks off (--no-bpf)" "default" "default + prog_stats" "all hooks on")
declare -A runs foreign
for _ in $(seq "$reps"); do
  for setup in "${setups[@]}"; do
    hook=no-hook
    case "$setup" in
      "all hooks on") start_daemon all --config "$tmp/all.yaml"; hook=with-hook ;;
      "default") start_daemon default ;;
      "default + prog_stats") start_daemon stats --config "$tmp/stats.yaml" ;;
      "all hooks off"*) start_daemon nobpf --no-bpf ;;
    esac
    f=$(foreign_sys_exit "$hook")
    [ "${foreign[$setup]:-0}" -ge "$f" ] || foreign[$setup]=$f
    runs[$setup,syscall]+=" $("$build/bench/bench_syscall_loop" "$rounds")"
    runs[$setup,switch]+=" $("$build/bench/bench_ctxswitch_loop" $((rounds / 10)))"
    runs[$setup,loopback]+=" $("$build/bench/bench_loopback_rr" $((rounds / 40)))"
    [ -n "$dpid" ] && stop_daemon
  done
done

# "median lowest highest" of a list of numbers
stats() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'; }

printf "%-26s %22s %22s %22s %8s\n" setup "syscall ns (+%)" "switch ns (+%)" \
  "loopback us (+%)" foreign
for setup in "${setups[@]}"; do
  line=$(printf "%-26s" "$setup")
  for w in syscall switch loopback; do
    read -r m lo hi <<<"$(stats <<<"${runs[$setup,$w]}")"
    read -r b _ _ <<<"$(stats <<<"${runs["no daemon",$w]}")"
    line+=$(awk -v m="$m" -v lo="$lo" -v hi="$hi" -v b="$b" \
      'BEGIN { printf " %8.5g %-7s %+5.1f%%", m, sprintf("%.4g-%.4g", lo, hi), 100 * (m - b) / b }')
  done
  printf "%s %8s\n" "$line" "${foreign[$setup]:-0}"
done
