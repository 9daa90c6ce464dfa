-- title: Filesystem usage
-- description: df history: size, used and available space and inodes per mounted filesystem.
CREATE VIEW filesystem_usage AS
SELECT f.ts,
       m.name AS mountpoint,
       round(10000.0 * (f.size_kb - f.free_kb) / (f.size_kb - f.free_kb + f.avail_kb)) / 100
           AS used_pct,
       CAST(round(f.size_kb - f.free_kb) AS INTEGER) AS used_kb,
       CAST(round(f.avail_kb) AS INTEGER) AS avail_kb,
       CAST(round(f.size_kb) AS INTEGER) AS size_kb,
       CAST(round(f.inodes_count - f.inodes_free_count) AS INTEGER) AS inodes_used_count,
       CAST(round(f.inodes_free_count) AS INTEGER) AS inodes_free_count,
       m.fstype,
       m.source
FROM filesystem_auto f JOIN filesystem_mount m ON m.id = f.mount_id;
