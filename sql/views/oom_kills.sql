-- title: OOM kills
-- description: Processes the kernel's OOM killer chose, with their memory at that moment and the cgroup (service, container and image, pod) they were in.
CREATE VIEW oom_kills AS
SELECT x.ts,
       x.pid,
       x.comm,
       c.name AS cgroup,
       c.kind AS cgroup_kind,
       substr(c.container_id, 1, 12) AS container,
       c.image,
       c.pod_name,
       x.uid,
       x.oom_score_adj,
       x.total_vm_kb,
       x.anon_rss_kb,
       x.file_rss_kb,
       x.shmem_rss_kb,
       x.cgroup_id,
       c.path AS cgroup_path,
       x.time_ns
FROM oom_kill x
LEFT JOIN cgroup c ON c.id = (SELECT id FROM cgroup WHERE inode = x.cgroup_id
                              AND first_seen_ts <= x.ts AND (gone_ts IS NULL OR gone_ts >= x.ts)
                              ORDER BY id DESC LIMIT 1);
