-- 005: retention. Which tables are time series and how each column rolls up
-- into the 1-minute and 1-hour tiers, which tables are event logs with an age
-- limit, and the state that makes rolling and pruning resumable.
--
-- The daemon creates the rollup tables <table>_1m and <table>_1h and the
-- views <table>_at_raw, <table>_at_1m, <table>_at_1h and <table>_auto from
-- series_column when it starts (docs/retention.md). A later migration adds a
-- table to the tiers by inserting rows here; no C code changes.

-- kind: key        part of the primary key besides ts (kept as is)
--       counter    a delta over the row's dur_ms: summed (dur_ms itself is one)
--       gauge      a value at ts: sum_<col> and count_<col>, so averages of
--                  any span are exact
--       gauge_peak a gauge whose extremes people ask about: also min_<col>
--                  and max_<col>
CREATE TABLE series_column (
  table_name  TEXT NOT NULL,
  column_name TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('key', 'counter', 'gauge', 'gauge_peak')),
  PRIMARY KEY (table_name, column_name)
) WITHOUT ROWID;

-- Event logs are kept by age only. config_key is the name under
-- retention.events in the configuration; default_max_age_s applies when the
-- configuration does not name it (0 = keep until max_db_size needs the space).
CREATE TABLE event_table (
  table_name        TEXT PRIMARY KEY,
  ts_column         TEXT NOT NULL,
  config_key        TEXT NOT NULL,
  default_max_age_s INTEGER NOT NULL DEFAULT 2592000
) WITHOUT ROWID;

-- Rolling watermarks: every bucket of <table>_<tier> ending at or before
-- rolled_ts has been written, exactly once (the watermark moves in the same
-- transaction as the rows it covers).
CREATE TABLE rollup_state (
  table_name TEXT NOT NULL,
  tier       TEXT NOT NULL CHECK (tier IN ('1m', '1h')),
  rolled_ts  INTEGER NOT NULL,
  PRIMARY KEY (table_name, tier)
) WITHOUT ROWID;

-- Pruning per scope: 'raw', '1m', '1h' (every series table of that tier) or
-- an event table's name. Rows with ts <= pruned_ts are gone or going; the
-- <table>_auto views switch tiers at these boundaries.
CREATE TABLE prune_state (
  scope              TEXT PRIMARY KEY,
  pruned_ts          INTEGER NOT NULL DEFAULT 0,
  last_prune_ts      INTEGER NOT NULL DEFAULT 0, -- wall clock of the last delete
  last_removed_count INTEGER NOT NULL DEFAULT 0, -- rows removed since pruned_ts last moved
  removed_count      INTEGER NOT NULL DEFAULT 0  -- rows removed ever
) WITHOUT ROWID;

INSERT INTO prune_state(scope) VALUES ('raw'), ('1m'), ('1h');

-- The daemon's cost of rolling and pruning, per tick.
ALTER TABLE agent ADD COLUMN retention_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN pruned_rows_count INTEGER NOT NULL DEFAULT 0;

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('cpu', 'cpu_id', 'key'),
  ('cpu', 'dur_ms', 'counter'),
  ('cpu', 'user_ms', 'counter'),
  ('cpu', 'nice_ms', 'counter'),
  ('cpu', 'system_ms', 'counter'),
  ('cpu', 'idle_ms', 'counter'),
  ('cpu', 'iowait_ms', 'counter'),
  ('cpu', 'irq_ms', 'counter'),
  ('cpu', 'softirq_ms', 'counter'),
  ('cpu', 'steal_ms', 'counter'),
  ('cpu', 'guest_ms', 'counter'),
  ('cpu', 'guest_nice_ms', 'counter'),

  ('kernel_activity', 'dur_ms', 'counter'),
  ('kernel_activity', 'context_switches_count', 'counter'),
  ('kernel_activity', 'interrupts_count', 'counter'),
  ('kernel_activity', 'forks_count', 'counter'),
  ('kernel_activity', 'procs_running_count', 'gauge_peak'),
  ('kernel_activity', 'procs_blocked_count', 'gauge_peak'),

  ('memory', 'total_kb', 'gauge'),
  ('memory', 'free_kb', 'gauge'),
  ('memory', 'available_kb', 'gauge_peak'),
  ('memory', 'buffers_kb', 'gauge'),
  ('memory', 'cached_kb', 'gauge'),
  ('memory', 'swap_cached_kb', 'gauge'),
  ('memory', 'swap_total_kb', 'gauge'),
  ('memory', 'swap_free_kb', 'gauge_peak'),
  ('memory', 'dirty_kb', 'gauge'),
  ('memory', 'writeback_kb', 'gauge'),
  ('memory', 'anon_kb', 'gauge'),
  ('memory', 'mapped_kb', 'gauge'),
  ('memory', 'shmem_kb', 'gauge'),
  ('memory', 'slab_reclaimable_kb', 'gauge'),
  ('memory', 'slab_unreclaimable_kb', 'gauge'),
  ('memory', 'kernel_stack_kb', 'gauge'),
  ('memory', 'page_tables_kb', 'gauge'),
  ('memory', 'committed_kb', 'gauge'),
  ('memory', 'anon_hugepages_kb', 'gauge'),
  ('memory', 'hugepages_total_count', 'gauge'),
  ('memory', 'hugepages_free_count', 'gauge'),
  ('memory', 'hugepage_size_kb', 'gauge'),

  ('loadavg', 'load1_x100', 'gauge_peak'),
  ('loadavg', 'load5_x100', 'gauge_peak'),
  ('loadavg', 'load15_x100', 'gauge_peak'),
  ('loadavg', 'runnable_count', 'gauge_peak'),
  ('loadavg', 'threads_count', 'gauge_peak'),

  ('agent', 'dur_ms', 'counter'),
  ('agent', 'tick_wall_us', 'counter'),
  ('agent', 'tick_cpu_us', 'counter'),
  ('agent', 'last_commit_us', 'gauge_peak'),
  ('agent', 'rss_kb', 'gauge_peak'),
  ('agent', 'rows_count', 'counter'),
  ('agent', 'vanished_count', 'counter'),
  ('agent', 'permission_errors_count', 'counter'),
  ('agent', 'read_errors_count', 'counter'),
  ('agent', 'parse_errors_count', 'counter'),
  ('agent', 'commit_failures_count', 'counter'),
  ('agent', 'clock_held_s', 'gauge_peak'),
  ('agent', 'retention_us', 'counter'),
  ('agent', 'pruned_rows_count', 'counter'),

  ('agent_collector', 'collector_id', 'key'),
  ('agent_collector', 'cpu_us', 'counter'),
  ('agent_collector', 'wall_us', 'counter');

-- The system collectors' tables (003). Counters unless named otherwise.
-- net_link and inventory are change logs whose newest row per key is the
-- current state: they are neither rolled up nor pruned.
INSERT INTO series_column(table_name, column_name, kind)
SELECT 'net', name, CASE name WHEN 'interface_id' THEN 'key' ELSE 'counter' END
FROM pragma_table_info('net') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'disk', name, CASE name WHEN 'disk_id' THEN 'key'
                               WHEN 'in_flight_count' THEN 'gauge_peak' ELSE 'counter' END
FROM pragma_table_info('disk') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('filesystem', 'mount_id', 'key'),
  ('filesystem', 'size_kb', 'gauge'),
  ('filesystem', 'free_kb', 'gauge'),
  ('filesystem', 'avail_kb', 'gauge_peak'),
  ('filesystem', 'inodes_count', 'gauge'),
  ('filesystem', 'inodes_free_count', 'gauge_peak');

-- tcp_stat: the snmp/netstat counts are deltas; curr_estab_count, the
-- sockstat columns and the connections by state are gauges.
INSERT INTO series_column(table_name, column_name, kind)
SELECT 'tcp_stat', name,
       CASE WHEN name IN ('curr_estab_count', 'established_count', 'tcp_orphan_count',
                          'tcp_tw_count', 'tcp_mem_pages', 'udp_mem_pages', 'time_wait_count',
                          'syn_recv_count', 'close_wait_count') THEN 'gauge_peak'
            WHEN name IN ('sockets_used_count', 'tcp_inuse_count', 'tcp_alloc_count',
                          'udp_inuse_count', 'syn_sent_count', 'fin_wait1_count',
                          'fin_wait2_count', 'close_count', 'last_ack_count', 'listen_count',
                          'closing_count') THEN 'gauge'
            ELSE 'counter' END
FROM pragma_table_info('tcp_stat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('psi', 'resource_id', 'key'),
  ('psi', 'dur_ms', 'counter'),
  ('psi', 'some_avg10_x100', 'gauge_peak'),
  ('psi', 'full_avg10_x100', 'gauge_peak'),
  ('psi', 'some_stall_us', 'counter'),
  ('psi', 'full_stall_us', 'counter');

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'vmstat', name, 'counter' FROM pragma_table_info('vmstat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('kmsg_loss', 'lost_count', 'counter'),
  ('kmsg_loss', 'dropped_count', 'counter');

-- The kernel log: kept 30 days unless retention.events.kernel_log says otherwise.
INSERT INTO event_table(table_name, ts_column, config_key, default_max_age_s)
VALUES ('kmsg', 'ts', 'kernel_log', 2592000);

-- eBPF (004): the kernel event counters and eBPF's own per-tick health roll
-- up; the state of eBPF in a tick is a name, kept in raw rows only.
INSERT INTO series_column(table_name, column_name, kind)
SELECT 'kernel_counters', name, 'counter' FROM pragma_table_info('kernel_counters')
WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'bpf_tick', name, 'counter' FROM pragma_table_info('bpf_tick')
WHERE name NOT IN ('ts', 'state_id');

INSERT INTO event_table(table_name, ts_column, config_key, default_max_age_s) VALUES
  ('exec_event', 'ts', 'exec_log', 2592000),
  ('process_exit', 'ts', 'process_exits', 2592000),
  ('oom_kill', 'ts', 'oom_kills', 31536000);

-- The process collector's tables (002). group_sample rolls up like any
-- series (peaks for the gauges people ask about: RSS, memory, fds, the fd
-- ratio; oldest_start_ts keeps its minimum). process_top holds only each
-- tick's top processes, so sums over a minute would be partial: it is kept
-- by age as an event log (retention.events.top_processes, default 7 days).
-- process (one row per process ever seen) is referenced by process_top and
-- is not pruned here.
INSERT INTO series_column(table_name, column_name, kind)
SELECT 'group_sample', name,
       CASE WHEN name = 'group_id' THEN 'key'
            WHEN name IN ('procs_count', 'threads_count', 'rss_kb', 'vm_kb', 'swap_kb',
                          'fds_count', 'worst_fd_pct_x100', 'oldest_start_ts',
                          'disk_wait_count', 'zombie_count') THEN 'gauge_peak'
            WHEN name IN ('pss_kb', 'running_count', 'sleeping_count', 'other_count')
                 THEN 'gauge'
            ELSE 'counter' END
FROM pragma_table_info('group_sample') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('procs_scan', 'procs_count', 'gauge_peak'),
  ('procs_scan', 'full_count', 'counter'),
  ('procs_scan', 'skipped_count', 'counter'),
  ('procs_scan', 'vanished_count', 'counter'),
  ('procs_scan', 'new_count', 'counter'),
  ('procs_scan', 'kept_fds_count', 'gauge');

INSERT INTO event_table(table_name, ts_column, config_key, default_max_age_s)
VALUES ('process_top', 'ts', 'top_processes', 604800);
