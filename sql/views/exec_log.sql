-- title: Exec log
-- description: Every program started (execve), one row per exec, with the cgroup (service or container) it started in: the failed tries of a PATH search before it are folded into failed_count; ret < 0: no try succeeded (-errno). exec_log_all has every try.
CREATE VIEW exec_log AS
-- A PATH search (execvp, env, shells) tries each directory in turn: the
-- failed tries of a pid in the second before an exec, since its previous
-- successful one, are that exec's failed_count. A failed try shows only
-- when nothing followed it in the next second (the program was not found).
SELECT e.ts,
       e.ret,
       e.comm,
       coalesce(e.parent_comm,
                (SELECT p.comm FROM exec_event AS p
                 WHERE p.pid = e.ppid AND p.ret = 0 AND p.time_ns < e.time_ns
                 ORDER BY p.time_ns DESC LIMIT 1)) AS parent_comm,
       e.args,
       (SELECT count(*) FROM exec_event AS f
        WHERE f.pid = e.pid AND f.ret < 0 AND f.time_ns <= e.time_ns
          AND f.time_ns > coalesce((SELECT max(s.time_ns) FROM exec_event AS s
                                    WHERE s.pid = e.pid AND s.ret = 0
                                      AND s.time_ns < e.time_ns
                                      AND s.time_ns >= e.time_ns - 1000000000),
                                   e.time_ns - 1000000000)) AS failed_count,
       c.name AS cgroup,
       e.pid,
       e.ppid,
       e.filename,
       e.uid,
       e.args_truncated,
       e.cgroup_id,
       c.path AS cgroup_path,
       e.time_ns
FROM exec_event AS e
LEFT JOIN cgroup c ON c.id = (SELECT id FROM cgroup WHERE inode = e.cgroup_id
                              AND first_seen_ts <= e.ts AND (gone_ts IS NULL OR gone_ts >= e.ts)
                              ORDER BY id DESC LIMIT 1)
WHERE e.ret = 0
   OR NOT EXISTS (SELECT 1 FROM exec_event AS n
                  WHERE n.pid = e.pid AND n.time_ns > e.time_ns
                    AND n.time_ns <= e.time_ns + 1000000000);
