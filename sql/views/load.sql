-- title: Load average
-- description: 1, 5 and 15 minute load averages, runnable and total threads, per tick.
CREATE VIEW load AS
SELECT l.ts,
       l.load1_x100 / 100.0 AS load1,
       l.load5_x100 / 100.0 AS load5,
       l.load15_x100 / 100.0 AS load15,
       l.runnable_count,
       l.threads_count,
       k.procs_blocked_count,
       k.forks_count,
       k.context_switches_count,
       l.max_load1_x100 / 100.0 AS max_load1,
       l.samples_count
FROM loadavg_auto AS l LEFT JOIN kernel_activity_auto AS k USING (ts);
