-- title: Kernel log
-- description: Kernel messages (dmesg) with wall-clock time: OOM kills, segfaults, hung tasks, hardware errors.
CREATE VIEW kernel_log AS
SELECT k.ts,
       CASE k.priority WHEN 0 THEN 'emerg' WHEN 1 THEN 'alert' WHEN 2 THEN 'crit'
            WHEN 3 THEN 'err' WHEN 4 THEN 'warning' WHEN 5 THEN 'notice'
            WHEN 6 THEN 'info' ELSE 'debug' END AS level,
       CASE k.facility WHEN 0 THEN 'kern' WHEN 1 THEN 'user' WHEN 2 THEN 'mail'
            WHEN 3 THEN 'daemon' WHEN 4 THEN 'auth' WHEN 5 THEN 'syslog'
            ELSE 'local/other' END AS facility_name,
       k.message,
       k.seq,
       k.priority,
       k.facility,
       k.time_us,
       b.name AS boot,
       k.dict
FROM kmsg k JOIN kmsg_boot b ON b.id = k.boot_id;
