-- title: Memory usage
-- description: Used, available, cache and swap in KiB, and used percent, per tick.
CREATE VIEW memory_usage AS
SELECT ts,
       total_kb,
       total_kb - coalesce(available_kb, free_kb + buffers_kb + cached_kb) AS used_kb,
       round(10000.0 * (total_kb - coalesce(available_kb, free_kb + buffers_kb + cached_kb))
             / total_kb) / 100 AS used_pct,
       available_kb,
       free_kb,
       buffers_kb,
       cached_kb,
       shmem_kb,
       slab_reclaimable_kb + slab_unreclaimable_kb AS slab_kb,
       dirty_kb,
       swap_total_kb - swap_free_kb AS swap_used_kb,
       swap_total_kb,
       total_kb - min_available_kb AS max_used_kb,
       samples_count
FROM memory_auto;
