#!/usr/bin/env bash
# The daemon against the real /proc with a retention section: it creates the
# rollup tables and views from series_column, records its retention cost in
# the agent table, publishes the limits in meta, the saved views read the
# tiers, and a restart rolls on without touching what was rolled.
set -euo pipefail
: "${BUILD_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/h.db
cat >"$tmp/config.yaml" <<EOF
db: $db
interval: 1s
retention:
  raw: 2d
  1m: 30d
  1h: 1y
  max_db_size: 64MiB
  events:
    exec_log: 3d
    no_such_log: 3d
EOF
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$db" "$1"; }

"$BUILD_DIR/hindsightd" --config "$tmp/config.yaml" --duration 4s --log-level warn 2>"$tmp/log1" ||
	fail "daemon failed: $(cat "$tmp/log1")"

for t in cpu kernel_activity memory loadavg agent agent_collector; do
	for s in _1m _1h; do
		[ "$(q "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='$t$s'")" = 1 ] ||
			fail "rollup table $t$s missing"
	done
	for s in _at_raw _at_1m _at_1h _auto; do
		[ "$(q "SELECT count(*) FROM sqlite_master WHERE type='view' AND name='$t$s'")" = 1 ] ||
			fail "view $t$s missing"
	done
done
[ "$(q "SELECT value FROM meta WHERE key='retention.max_age_s.raw'")" = 172800 ] || fail "raw limit not in meta"
[ "$(q "SELECT value FROM meta WHERE key='retention.max_db_bytes'")" = 67108864 ] || fail "cap not in meta"
grep -q "retention.events.no_such_log: no event table has this key" "$tmp/log1" ||
	fail "an unknown event key should be reported: $(cat "$tmp/log1")"
rows=$(q "SELECT count(*) FROM cpu_usage")
[ "$rows" -ge 2 ] || fail "cpu_usage has $rows rows"
[ "$(q "SELECT count(*) FROM agent_health")" = "$(q "SELECT count(*) FROM agent")" ] ||
	fail "agent_health does not show every raw agent row"
[ "$(q "SELECT sum(retention_us) > 0 FROM agent")" = 1 ] || fail "retention_us never recorded"
wm=$(q "SELECT rolled_ts FROM rollup_state WHERE table_name='cpu' AND tier='1m'")
[ -n "$wm" ] || fail "no 1m watermark for cpu"
[ $((wm % 60)) = 0 ] || fail "1m watermark $wm is not on a minute edge"

# The query tool: --resolution pins the saved views to a tier (finer ones
# fill the recent end not rolled up yet), and every tier reads the same total
# time; status prints the tiers.
hs="$BUILD_DIR/hindsight"
if [ -x "$hs" ]; then
	raw=$("$hs" show cpu_usage --db "$db" --since 1h --resolution raw --csv | tail -n +2 | wc -l)
	[ "$raw" = "$rows" ] || fail "--resolution raw shows $raw rows, the view has $rows"
	total=$(q "SELECT sum(dur_ms) FROM cpu WHERE cpu_id = -1")
	for res in 1m 1h; do
		"$hs" sql "SELECT count(*), sum(dur_ms) FROM cpu_usage" --db "$db" --resolution $res \
			--csv | tail -1 | tr -d '\r' >"$tmp/sum"
		[ "$(cut -d, -f2 "$tmp/sum")" = "$total" ] ||
			fail "--resolution $res reads $(cat "$tmp/sum"), raw holds $total ms"
		[ "$(cut -d, -f1 "$tmp/sum")" -le "$rows" ] || fail "--resolution $res has more rows than raw"
	done
	m1=$("$hs" show cpu_usage --db "$db" --since 1h --resolution 1m --csv | tail -n +2 | wc -l)
	[ "$m1" -le "$rows" ] || fail "--resolution 1m shows $m1 rows, raw $rows"
	if "$hs" show cpu_usage --db "$db" --resolution 5m >/dev/null 2>"$tmp/err"; then
		fail "--resolution 5m accepted"
	fi
	grep -q "raw, 1m, 1h or auto" "$tmp/err" || fail "bad --resolution message: $(cat "$tmp/err")"
	# (exit 1: the daemon has stopped, so it is stale)
	rc=0
	"$hs" status --tables --db "$db" >"$tmp/status" || rc=$?
	[ "$rc" -le 1 ] || fail "status exited $rc"
	grep -Eq "^raw +[0-9]" "$tmp/status" || fail "status lacks the raw tier: $(cat "$tmp/status")"
	grep -q "max_db_size 64.0 MiB" "$tmp/status" || fail "status lacks the cap"
fi

# A restart continues: rolled rows are not rolled again (that would be a
# primary key conflict logged as an error), and the watermark never moves back.
"$BUILD_DIR/hindsightd" --config "$tmp/config.yaml" --duration 3s --log-level warn 2>"$tmp/log2" ||
	fail "second run failed: $(cat "$tmp/log2")"
grep -q "retention:" "$tmp/log2" && fail "retention error after restart: $(cat "$tmp/log2")"
wm2=$(q "SELECT rolled_ts FROM rollup_state WHERE table_name='cpu' AND tier='1m'")
[ "$wm2" -ge "$wm" ] || fail "watermark moved back ($wm -> $wm2)"
echo "ok: tiers set up, limits published, views read the tiers, restart rolls on"
