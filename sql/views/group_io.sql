-- title: Disk I/O by process group
-- description: Bytes each process group read from and wrote to storage per tick, and the rates.
CREATE VIEW group_io AS
SELECT s.ts, g.name AS group_name,
       s.read_bytes * 1000 / s.dur_ms AS read_bytes_per_s,
       s.write_bytes * 1000 / s.dur_ms AS write_bytes_per_s,
       s.read_bytes, s.write_bytes, s.dur_ms
FROM group_sample_auto s JOIN proc_group g ON g.id = s.group_id;
