-- title: Memory by process group
-- description: Resident, virtual and swapped memory of each process group, with open fds and the worst fd use against its limit.
CREATE VIEW group_memory AS
SELECT s.ts, g.name AS group_name, CAST(round(s.rss_kb) AS INTEGER) AS rss_kb, s.max_rss_kb,
       CAST(round(s.swap_kb) AS INTEGER) AS swap_kb, CAST(round(s.vm_kb) AS INTEGER) AS vm_kb,
       CAST(round(s.pss_kb) AS INTEGER) AS pss_kb,
       CAST(round(s.procs_count) AS INTEGER) AS procs_count,
       CAST(round(s.fds_count) AS INTEGER) AS fds_count,
       round(s.worst_fd_pct_x100) / 100 AS worst_fd_pct,
       s.minor_faults_count, s.major_faults_count, s.samples_count
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
