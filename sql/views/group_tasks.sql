-- title: Processes and threads by process group
-- description: How many processes and threads each process group ran, by state (R, S, D, Z, other), and when its oldest process started (NULL once the group has none).
CREATE VIEW group_tasks AS
SELECT s.ts, g.name AS group_name, CAST(round(s.procs_count) AS INTEGER) AS procs_count,
       s.max_procs_count, CAST(round(s.threads_count) AS INTEGER) AS threads_count,
       s.max_threads_count, CAST(round(s.running_count) AS INTEGER) AS running_count,
       CAST(round(s.disk_wait_count) AS INTEGER) AS disk_wait_count, s.max_disk_wait_count,
       CAST(round(s.zombie_count) AS INTEGER) AS zombie_count, s.max_zombie_count,
       CAST(round(s.sleeping_count) AS INTEGER) AS sleeping_count,
       CAST(round(s.other_count) AS INTEGER) AS other_count,
       NULLIF(s.min_oldest_start_ts, 0) AS oldest_start_ts, s.samples_count
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
