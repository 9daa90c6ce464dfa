-- title: Exec log, every try
-- description: Every execve, failed tries of a PATH search included (ret < 0: -errno); exec_log folds them into the exec they led to.
CREATE VIEW exec_log_all AS
SELECT e.ts,
       e.ret,
       e.comm,
       coalesce(e.parent_comm,
                (SELECT p.comm FROM exec_event AS p
                 WHERE p.pid = e.ppid AND p.ret = 0 AND p.time_ns < e.time_ns
                 ORDER BY p.time_ns DESC LIMIT 1)) AS parent_comm,
       e.args,
       e.ret < 0 AS failed_count,
       e.pid,
       e.ppid,
       e.filename,
       e.uid,
       e.args_truncated,
       e.cgroup_id,
       e.time_ns
FROM exec_event AS e;
