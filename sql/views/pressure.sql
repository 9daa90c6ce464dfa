-- title: Pressure stall information
-- description: Share of time tasks stalled on cpu, memory, io (and irq): the kernel's 10 s average and the stall over each tick, with each rollup bucket's peaks.
CREATE VIEW pressure AS
SELECT p.ts,
       r.name AS resource,
       round(p.some_avg10_x100) / 100 AS some_avg10_pct,
       round(p.full_avg10_x100) / 100 AS full_avg10_pct,
       round(p.some_stall_us * 10.0 / p.dur_ms) / 100 AS some_stall_pct,
       round(p.full_stall_us * 10.0 / p.dur_ms) / 100 AS full_stall_pct,
       p.max_some_avg10_x100 / 100.0 AS max_some_avg10_pct,
       p.max_full_avg10_x100 / 100.0 AS max_full_avg10_pct,
       p.max_some_stall_pct_x100 / 100.0 AS max_some_stall_pct,
       p.max_full_stall_pct_x100 / 100.0 AS max_full_stall_pct,
       p.some_stall_us / 1000.0 AS some_stall_ms,
       p.full_stall_us / 1000.0 AS full_stall_ms,
       p.dur_ms
FROM psi_auto p JOIN pressure_resource r ON r.id = p.resource_id;
