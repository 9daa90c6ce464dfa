-- title: Filesystem usage
-- description: df history: size, used and available space and inodes per mounted filesystem.
CREATE VIEW filesystem_usage AS
SELECT f.ts,
       m.name AS mountpoint,
       m.fstype,
       f.size_kb,
       f.size_kb - f.free_kb AS used_kb,
       f.avail_kb,
       round(10000.0 * (f.size_kb - f.free_kb) / (f.size_kb - f.free_kb + f.avail_kb)) / 100
           AS used_pct,
       f.inodes_count - f.inodes_free_count AS inodes_used_count,
       f.inodes_free_count,
       m.source
FROM filesystem_auto f JOIN filesystem_mount m ON m.id = f.mount_id;
