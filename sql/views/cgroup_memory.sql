-- title: Memory by cgroup
-- description: Memory of each cgroup (service, container, pod, with everything below it): usage and working set (usage less inactive file pages), anon, file, kernel, swap, faults, and the high, max, OOM and OOM-kill events per tick.
CREATE VIEW cgroup_memory AS
SELECT s.ts, c.name AS cgroup, c.kind,
       s.current_bytes,
       s.working_set_bytes,
       s.anon_bytes, s.file_bytes, s.kernel_bytes, s.slab_bytes, s.sock_bytes, s.shmem_bytes,
       s.swap_bytes, s.file_dirty_bytes, s.file_writeback_bytes, s.inactive_file_bytes,
       s.pgfault_count, s.pgmajfault_count, s.refault_count,
       s.low_events_count, s.high_events_count, s.max_events_count, s.oom_events_count,
       s.oom_kill_count,
       c.path, c.id AS cgroup_id, s.dur_ms, s.max_current_bytes,
       s.max_working_set_bytes, s.max_swap_bytes,
       s.samples_count
FROM cgroup_memory_stat_auto s JOIN cgroup c ON c.id = s.cgroup_id;
