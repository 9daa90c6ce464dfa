-- title: Memory by process group
-- description: Resident, virtual and swapped memory of each process group, with open fds and the worst fd use against its limit.
CREATE VIEW group_memory AS
SELECT s.ts, g.name AS group_name, s.rss_kb, s.vm_kb, s.swap_kb, s.procs_count, s.pss_kb,
       s.fds_count, s.worst_fd_pct_x100 / 100.0 AS worst_fd_pct,
       s.minor_faults_count, s.major_faults_count, s.max_rss_kb, s.samples_count
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
