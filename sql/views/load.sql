-- title: Load average
-- description: 1, 5 and 15 minute load averages, runnable, blocked and total threads, per tick, with each rollup bucket's peaks.
CREATE VIEW load AS
SELECT l.ts,
       round(l.load1_x100) / 100 AS load1,
       l.max_load1_x100 / 100.0 AS max_load1,
       round(l.load5_x100) / 100 AS load5,
       l.max_load5_x100 / 100.0 AS max_load5,
       round(l.load15_x100) / 100 AS load15,
       l.max_load15_x100 / 100.0 AS max_load15,
       CAST(round(l.runnable_count) AS INTEGER) AS runnable_count,
       CAST(round(k.procs_blocked_count) AS INTEGER) AS procs_blocked_count,
       k.max_procs_blocked_count,
       CAST(round(l.threads_count) AS INTEGER) AS threads_count,
       k.forks_count,
       k.context_switches_count,
       l.samples_count
FROM loadavg_auto AS l LEFT JOIN kernel_activity_auto AS k USING (ts);
