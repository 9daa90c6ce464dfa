-- title: Daemon health
-- description: hindsightd's own cost per tick or rollup bucket (CPU, time, memory, pruning) and the problems it met.
CREATE VIEW agent_health AS
SELECT ts,
       dur_ms,
       tick_cpu_us,
       tick_wall_us,
       last_commit_us,
       round(100.0 * tick_cpu_us / dur_ms) / 1000 AS cpu_pct,
       rss_kb,
       rows_count,
       vanished_count,
       permission_errors_count,
       read_errors_count,
       parse_errors_count,
       commit_failures_count,
       clock_held_s,
       max_clock_held_s,
       clock_step_s,
       min_clock_step_s,
       max_clock_step_s,
       max_last_commit_us,
       max_rss_kb,
       retention_us,
       pruned_rows_count,
       samples_count
FROM agent_auto;
