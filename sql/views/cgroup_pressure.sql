-- title: Pressure by cgroup
-- description: Share of each tick in which tasks of a cgroup (and below) waited for CPU, memory or I/O: some = at least one task, full = all of them (cgroup2).
CREATE VIEW cgroup_pressure AS
SELECT s.ts, c.name AS cgroup, c.kind,
       round(s.cpu_some_us * 10.0 / s.dur_ms) / 100 AS cpu_some_pct,
       round(s.cpu_full_us * 10.0 / s.dur_ms) / 100 AS cpu_full_pct,
       round(s.memory_some_us * 10.0 / s.dur_ms) / 100 AS memory_some_pct,
       round(s.memory_full_us * 10.0 / s.dur_ms) / 100 AS memory_full_pct,
       round(s.io_some_us * 10.0 / s.dur_ms) / 100 AS io_some_pct,
       round(s.io_full_us * 10.0 / s.dur_ms) / 100 AS io_full_pct,
       s.cpu_some_us / 1000.0 AS cpu_some_ms, s.cpu_full_us / 1000.0 AS cpu_full_ms,
       s.memory_some_us / 1000.0 AS memory_some_ms, s.memory_full_us / 1000.0 AS memory_full_ms,
       s.io_some_us / 1000.0 AS io_some_ms, s.io_full_us / 1000.0 AS io_full_ms,
       c.path, c.id AS cgroup_id, s.dur_ms, s.samples_count
FROM cgroup_pressure_stat_auto s JOIN cgroup c ON c.id = s.cgroup_id;
