-- title: Process exits
-- description: Every process that ended, with the CPU, memory and I/O of its whole life (all threads) and the cgroup (service or container) it ran in.
CREATE VIEW process_exits AS
SELECT x.ts,
       x.pid,
       x.comm,
       x.exit_code,
       x.signal,
       x.lifetime_us / 1000.0 AS lifetime_ms,
       x.cpu_us / 1000.0 AS cpu_ms,
       x.peak_rss_kb,
       x.read_bytes,
       x.write_bytes,
       c.name AS cgroup,
       x.user_us / 1000.0 AS user_ms,
       x.system_us / 1000.0 AS system_ms,
       x.minor_faults_count,
       x.major_faults_count,
       x.voluntary_switches_count,
       x.involuntary_switches_count,
       x.core_dumped,
       x.ppid,
       x.uid,
       x.cgroup_id,
       c.path AS cgroup_path,
       x.start_clock_ticks,
       x.time_ns
FROM process_exit x
LEFT JOIN cgroup c ON c.id = (SELECT id FROM cgroup WHERE inode = x.cgroup_id
                              AND first_seen_ts <= x.ts AND (gone_ts IS NULL OR gone_ts >= x.ts)
                              ORDER BY id DESC LIMIT 1);
