-- title: Top processes
-- description: The processes using the most CPU and the largest by RSS in each tick, with their command lines and the cgroup (service or container) they were in when first seen.
CREATE VIEW top_processes AS
SELECT t.ts,
       p.pid,
       p.comm,
       g.name AS group_name,
       round((t.user_ms + t.system_ms) * 10000.0 / t.dur_ms) / 100 AS cpu_pct,
       t.rss_kb,
       t.read_bytes,
       t.write_bytes,
       p.cmdline,
       c.name AS cgroup,
       p.user,
       t.user_ms,
       t.system_ms,
       t.threads_count,
       t.fds_count,
       p.ppid,
       p.exe,
       p.start_ts,
       c.path AS cgroup_path
FROM process_top t JOIN process p ON p.id = t.process_id
LEFT JOIN proc_group g ON g.id = t.group_id
LEFT JOIN cgroup c ON c.id = (SELECT id FROM cgroup WHERE inode = p.cgroup_id
                              AND first_seen_ts <= t.ts AND (gone_ts IS NULL OR gone_ts >= t.ts)
                              ORDER BY id DESC LIMIT 1);
