-- title: I/O by cgroup
-- description: Bytes and requests each cgroup (service, container, pod, with everything below it) read, wrote and discarded per device and tick.
CREATE VIEW cgroup_io AS
SELECT s.ts, c.name AS cgroup, c.kind,
       s.major || ':' || s.minor AS device,
       (SELECT d.name FROM disk_device d WHERE d.major = s.major AND d.minor = s.minor
        ORDER BY d.id DESC LIMIT 1) AS disk,
       s.read_bytes, s.write_bytes,
       CAST(s.read_bytes * 1000.0 / s.dur_ms AS INTEGER) AS read_bytes_per_s,
       CAST(s.write_bytes * 1000.0 / s.dur_ms AS INTEGER) AS write_bytes_per_s,
       s.reads_count, s.writes_count, s.discard_bytes, s.discards_count,
       c.path, c.id AS cgroup_id, s.dur_ms, s.samples_count
FROM cgroup_io_stat_auto s JOIN cgroup c ON c.id = s.cgroup_id;
