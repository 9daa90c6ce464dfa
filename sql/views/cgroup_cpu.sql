-- title: CPU by cgroup
-- description: CPU of each cgroup (service, container, pod, with everything below it) per tick; cpu_pct is percent of one core (100 = one core busy). is_workload = 1: a service, scope, container, pod or a cgroup with none below it (what to rank; slices add up their children).
CREATE VIEW cgroup_cpu AS
SELECT s.ts, c.name AS cgroup, c.kind, s.dur_ms,
       round(s.usage_us * 10.0 / s.dur_ms) / 100 AS cpu_pct,
       s.usage_us / 1000.0 AS usage_ms,
       s.user_us / 1000.0 AS user_ms,
       s.system_us / 1000.0 AS system_ms,
       s.throttled_us / 1000.0 AS throttled_ms,
       s.throttled_count, s.periods_count, s.tasks_count,
       c.path, c.id AS cgroup_id, s.max_tasks_count, s.samples_count,
       CASE WHEN c.kind IN ('service', 'scope', 'unit', 'container', 'pod') THEN 1
            WHEN c.kind = 'cgroup' THEN NOT EXISTS (SELECT 1 FROM cgroup k WHERE k.parent_id = c.id)
            ELSE 0 END AS is_workload
FROM cgroup_cpu_stat_auto s JOIN cgroup c ON c.id = s.cgroup_id;
