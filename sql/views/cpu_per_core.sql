-- title: CPU usage per core
-- description: Percent of each CPU's time by mode per tick, with the busiest tick of each rollup bucket.
CREATE VIEW cpu_per_core AS
SELECT ts,
       cpu_id,
       round(10000.0 * (total_ms - idle_ms - iowait_ms) / total_ms) / 100 AS busy_pct,
       max_busy_pct_x100 / 100.0 AS max_busy_pct,
       round(10000.0 * (user_ms + nice_ms - guest_ms - guest_nice_ms) / total_ms) / 100 AS user_pct,
       round(10000.0 * system_ms / total_ms) / 100 AS system_pct,
       round(10000.0 * iowait_ms / total_ms) / 100 AS iowait_pct,
       round(10000.0 * (irq_ms + softirq_ms) / total_ms) / 100 AS irq_pct,
       round(10000.0 * steal_ms / total_ms) / 100 AS steal_pct,
       round(10000.0 * idle_ms / total_ms) / 100 AS idle_pct,
       dur_ms
FROM (SELECT *,
             (user_ms + nice_ms + system_ms + idle_ms + iowait_ms + irq_ms + softirq_ms
              + steal_ms) AS total_ms
      FROM cpu_auto WHERE cpu_id >= 0);
