-- title: Disk I/O
-- description: Per block device: bytes and operations per second, utilisation, average wait and queue depth (as iostat -x).
CREATE VIEW disk_io AS
SELECT d.ts,
       v.name AS disk,
       d.dur_ms,
       round(d.read_bytes * 10000.0 / d.dur_ms) / 10 AS read_bytes_per_s,
       round(d.write_bytes * 10000.0 / d.dur_ms) / 10 AS write_bytes_per_s,
       round(min(10000.0, d.io_ms * 10000.0 / d.dur_ms)) / 100 AS util_pct,
       round((d.read_ms + d.write_ms) * 1000.0 / (d.reads_count + d.writes_count)) / 1000
           AS avg_wait_ms,
       round(d.reads_count * 100000.0 / d.dur_ms) / 100 AS reads_per_s,
       round(d.writes_count * 100000.0 / d.dur_ms) / 100 AS writes_per_s,
       round(d.read_ms * 1000.0 / d.reads_count) / 1000 AS avg_read_wait_ms,
       round(d.write_ms * 1000.0 / d.writes_count) / 1000 AS avg_write_wait_ms,
       round(d.weighted_io_ms * 100.0 / d.dur_ms) / 100 AS avg_queue_depth,
       d.in_flight_count,
       v.whole_disk,
       d.read_bytes,
       d.write_bytes
FROM disk_auto d JOIN disk_device v ON v.id = d.disk_id
WHERE d.dur_ms > 0;
