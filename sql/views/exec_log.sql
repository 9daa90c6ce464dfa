-- title: Exec log
-- description: Every program started (execve), with its arguments and the cgroup (service or container) it started in; ret < 0 is a failed exec (-errno).
CREATE VIEW exec_log AS
SELECT x.ts,
       x.pid,
       x.ppid,
       x.uid,
       x.comm,
       x.filename,
       x.args,
       x.ret,
       c.name AS cgroup,
       x.args_truncated,
       x.cgroup_id,
       c.path AS cgroup_path,
       x.time_ns
FROM exec_event x
LEFT JOIN cgroup c ON c.id = (SELECT id FROM cgroup WHERE inode = x.cgroup_id
                              AND first_seen_ts <= x.ts AND (gone_ts IS NULL OR gone_ts >= x.ts)
                              ORDER BY id DESC LIMIT 1);
