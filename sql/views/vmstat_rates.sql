-- title: Paging, swapping and reclaim
-- description: Page faults, swap-ins/outs, reclaim scans and steals, allocation stalls and OOM kills per second (as sar -B/-W).
CREATE VIEW vmstat_rates AS
SELECT ts,
       round(pgfault_count * 10000.0 / dur_ms) / 10 AS faults_per_s,
       round(pgmajfault_count * 100000.0 / dur_ms) / 100 AS major_faults_per_s,
       round(pgpgin_kb * 10000.0 / dur_ms) / 10 AS paged_in_kb_per_s,
       round(pgpgout_kb * 10000.0 / dur_ms) / 10 AS paged_out_kb_per_s,
       round(pswpin_pages * 100000.0 / dur_ms) / 100 AS swap_in_pages_per_s,
       round(pswpout_pages * 100000.0 / dur_ms) / 100 AS swap_out_pages_per_s,
       round(pgscan_kswapd_pages * 10000.0 / dur_ms) / 10 AS scan_kswapd_pages_per_s,
       round(pgscan_direct_pages * 10000.0 / dur_ms) / 10 AS scan_direct_pages_per_s,
       round(1000.0 * (pgsteal_kswapd_pages + pgsteal_direct_pages)
             / (pgscan_kswapd_pages + pgscan_direct_pages)) / 10 AS reclaim_efficiency_pct,
       allocstall_count,
       oom_kill_count,
       workingset_refault_pages,
       compact_stall_count,
       thp_fault_alloc_count,
       thp_fault_fallback_count,
       dur_ms
FROM vmstat_auto
WHERE dur_ms > 0;
