#!/usr/bin/env bash
# The daemon under valgrind's memcheck for a dozen ticks while processes come
# and go: no leak, no invalid access. Skipped in the sanitizer build (ASan
# covers it there) and when valgrind is missing.
set -uo pipefail
[ "${SANITIZED:-0}" = 1 ] && { echo "skipped: the sanitizer build checks leaks with LSan"; exit 77; }
command -v valgrind >/dev/null || { echo "skipped: valgrind not installed"; exit 77; }
build=${BUILD_DIR:-build}
tmp=$(mktemp -d)
trap 'kill $churn 2>/dev/null; rm -rf "$tmp"' EXIT

# Process churn: short-lived processes all the time the daemon runs.
( while :; do for i in 1 2 3 4 5; do /bin/true & done; wait; sleep 0.05; done ) &
churn=$!

valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
  --log-file="$tmp/vg.log" \
  "$build/hindsightd" --db "$tmp/h.db" --interval 1 --duration 12 --log-level warn
rc=$?
kill $churn 2>/dev/null
ticks=$(sqlite3 "$tmp/h.db" "select count(*) from agent")
echo "ticks stored under valgrind: $ticks"
if [ $rc -ne 0 ] || [ -s "$tmp/vg.log" ]; then
  cat "$tmp/vg.log"
  echo "FAIL valgrind reported errors or leaks (exit $rc)"
  exit 1
fi
[ "$ticks" -ge 8 ] || { echo "FAIL too few ticks under valgrind ($ticks)"; exit 1; }
echo "ok   no leaks or memory errors over $ticks ticks with process churn"
