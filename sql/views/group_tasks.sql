-- title: Processes and threads by process group
-- description: How many processes and threads each process group ran, by state (R, S, D, Z, other), and when its oldest process started (NULL once the group has none).
CREATE VIEW group_tasks AS
SELECT s.ts, g.name AS group_name, s.procs_count, s.max_procs_count, s.threads_count,
       s.max_threads_count, s.running_count, s.sleeping_count, s.disk_wait_count,
       s.max_disk_wait_count, s.zombie_count, s.other_count,
       NULLIF(s.min_oldest_start_ts, 0) AS oldest_start_ts, s.samples_count
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
