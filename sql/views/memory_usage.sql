-- title: Memory usage
-- description: Used, available, cache and swap in KiB, and used percent, per tick, with each rollup bucket's peaks.
CREATE VIEW memory_usage AS
SELECT ts,
       round(10000.0 * (total_kb - coalesce(available_kb, free_kb + buffers_kb + cached_kb))
             / total_kb) / 100 AS used_pct,
       round(10000.0 * (total_kb - min_available_kb) / total_kb) / 100 AS max_used_pct,
       CAST(round(total_kb - coalesce(available_kb, free_kb + buffers_kb + cached_kb))
            AS INTEGER) AS used_kb,
       CAST(round(total_kb - min_available_kb) AS INTEGER) AS max_used_kb,
       CAST(round(available_kb) AS INTEGER) AS available_kb,
       CAST(round(cached_kb) AS INTEGER) AS cached_kb,
       CAST(round(buffers_kb) AS INTEGER) AS buffers_kb,
       CAST(round(free_kb) AS INTEGER) AS free_kb,
       CAST(round(swap_total_kb - swap_free_kb) AS INTEGER) AS swap_used_kb,
       CAST(round(swap_total_kb - min_swap_free_kb) AS INTEGER) AS max_swap_used_kb,
       CAST(round(dirty_kb) AS INTEGER) AS dirty_kb,
       CAST(round(shmem_kb) AS INTEGER) AS shmem_kb,
       CAST(round(slab_reclaimable_kb + slab_unreclaimable_kb) AS INTEGER) AS slab_kb,
       CAST(round(swap_total_kb) AS INTEGER) AS swap_total_kb,
       CAST(round(total_kb) AS INTEGER) AS total_kb,
       samples_count
FROM memory_auto;
