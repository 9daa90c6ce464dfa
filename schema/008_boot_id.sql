-- 008: a boot is its kernel boot id. /proc/stat's btime is derived from the
-- wall clock, so a step of the clock moves it without a reboot; the stat
-- collector now records a boot once per boot id (NULL in rows stored before,
-- and where the kernel has no boot id).
ALTER TABLE boot ADD COLUMN boot_id TEXT; -- /proc/sys/kernel/random/boot_id
