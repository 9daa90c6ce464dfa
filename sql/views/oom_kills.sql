-- title: OOM kills
-- description: Processes the kernel's OOM killer chose, with their memory at that moment.
CREATE VIEW oom_kills AS
SELECT ts,
       pid,
       comm,
       uid,
       oom_score_adj,
       total_vm_kb,
       anon_rss_kb,
       file_rss_kb,
       shmem_rss_kb,
       cgroup_id,
       time_ns
FROM oom_kill;
