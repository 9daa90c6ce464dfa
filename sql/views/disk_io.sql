-- title: Disk I/O
-- description: Per block device: bytes and operations per second, utilisation, average wait and queue depth (as iostat -x), with each rollup bucket's peaks.
CREATE VIEW disk_io AS
SELECT d.ts,
       v.name AS disk,
       CAST(round(d.read_bytes * 1000.0 / d.dur_ms) AS INTEGER) AS read_bytes_per_s,
       CAST(round(d.write_bytes * 1000.0 / d.dur_ms) AS INTEGER) AS write_bytes_per_s,
       round(min(10000.0, d.io_ms * 10000.0 / d.dur_ms)) / 100 AS util_pct,
       round((d.read_ms + d.write_ms) * 1000.0 / (d.reads_count + d.writes_count)) / 1000
           AS avg_wait_ms,
       round(d.reads_count * 100000.0 / d.dur_ms) / 100 AS reads_per_s,
       round(d.writes_count * 100000.0 / d.dur_ms) / 100 AS writes_per_s,
       round(d.weighted_io_ms * 100.0 / d.dur_ms) / 100 AS avg_queue_depth,
       d.max_read_bytes_per_s,
       d.max_write_bytes_per_s,
       d.max_util_pct_x100 / 100.0 AS max_util_pct,
       round(d.read_ms * 1000.0 / d.reads_count) / 1000 AS avg_read_wait_ms,
       round(d.write_ms * 1000.0 / d.writes_count) / 1000 AS avg_write_wait_ms,
       CAST(round(d.in_flight_count) AS INTEGER) AS in_flight_count,
       d.read_bytes,
       d.write_bytes,
       v.whole_disk,
       d.dur_ms
FROM disk_auto d JOIN disk_device v ON v.id = d.disk_id
WHERE d.dur_ms > 0;
