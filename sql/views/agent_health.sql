-- title: Daemon health
-- description: hindsightd's own cost per tick or rollup bucket (CPU, time, memory, pruning) and the problems it met.
CREATE VIEW agent_health AS
SELECT ts,
       round(100.0 * tick_cpu_us / dur_ms) / 1000 AS cpu_pct,
       tick_cpu_us,
       tick_wall_us,
       CAST(round(rss_kb) AS INTEGER) AS rss_kb,
       max_rss_kb,
       CAST(round(last_commit_us) AS INTEGER) AS last_commit_us,
       max_last_commit_us,
       retention_us,
       rows_count,
       pruned_rows_count,
       vanished_count,
       permission_errors_count,
       read_errors_count,
       parse_errors_count,
       commit_failures_count,
       CAST(round(clock_held_s) AS INTEGER) AS clock_held_s,
       max_clock_held_s,
       CAST(round(clock_step_s) AS INTEGER) AS clock_step_s,
       min_clock_step_s,
       max_clock_step_s,
       dur_ms,
       samples_count
FROM agent_auto;
