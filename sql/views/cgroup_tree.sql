-- title: Cgroups
-- description: Every cgroup seen (ts: first seen): what it is (systemd unit, container with name and image, pod with QoS class), its path and parent, when it went, and its limits now.
CREATE VIEW cgroup_tree AS
SELECT c.first_seen_ts AS ts, c.name AS cgroup, c.kind, c.path, p.name AS parent,
       c.gone_ts,
       c.unit, c.runtime, substr(c.container_id, 1, 12) AS container, c.container_name,
       c.image, c.pod_name, c.pod_uid, c.qos,
       CASE c.path WHEN '/' THEN 0
            ELSE length(c.path) - length(replace(c.path, '/', '')) END AS depth,
       l.memory_max_bytes, l.memory_high_bytes, l.swap_max_bytes, l.cpu_quota_us,
       l.cpu_period_us, l.pids_max_count,
       c.inode AS cgroup_inode, c.id AS cgroup_id, c.container_id AS container_id_full
FROM cgroup c
LEFT JOIN cgroup p ON p.id = c.parent_id
LEFT JOIN cgroup_limit l ON l.cgroup_id = c.id
     AND l.ts = (SELECT max(ts) FROM cgroup_limit WHERE cgroup_id = c.id);
