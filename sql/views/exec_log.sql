-- title: Exec log
-- description: Every program started (execve), with its arguments; ret < 0 is a failed exec (-errno).
CREATE VIEW exec_log AS
SELECT ts,
       pid,
       ppid,
       uid,
       comm,
       filename,
       args,
       ret,
       args_truncated,
       cgroup_id,
       time_ns
FROM exec_event;
