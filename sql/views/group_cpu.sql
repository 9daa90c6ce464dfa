-- title: CPU by process group
-- description: CPU used by each process group per tick; cpu_pct is percent of one core (100 = one core busy), including children reaped between ticks, with context switches.
CREATE VIEW group_cpu AS
SELECT s.ts, g.name AS group_name,
       round((s.user_ms + s.system_ms) * 10000.0 / s.dur_ms) / 100 AS cpu_pct,
       s.user_ms, s.system_ms,
       s.reaped_user_ms + s.reaped_system_ms AS reaped_cpu_ms,
       s.voluntary_switches_count, s.involuntary_switches_count, s.dur_ms
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
