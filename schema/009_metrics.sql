-- 009: the naming table. How the columns of our tables appear as Prometheus
-- metrics, with the names and labels node_exporter and process-exporter give
-- them, so dashboards and alerts written for those work on hindsight's data.
-- Every output that leaves the host (the /metrics endpoint, OpenMetrics
-- history, remote write) renders rows through these three tables and nothing
-- else (src/metrics/, docs/prometheus.md). A later migration, or a user,
-- extends the mapping by inserting rows; no C code changes.

-- A metric family. name is what samples carry: a counter's ends in _total
-- (OpenMetrics announces it without). type 'untyped' is for names node_exporter
-- exposes untyped (node_vmstat_*, node_netstat_*): OpenMetrics calls it
-- 'unknown'. unit, when not '', is the OpenMetrics UNIT: the name (without
-- _total) must end in _<unit>.
CREATE TABLE metric_family (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('counter', 'gauge', 'untyped')),
  help TEXT NOT NULL,
  unit TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- The labels a key column of a table gives its samples: the value of
-- dim_column in the dimension table dim_table (its row whose id is the key),
-- or, when dim_table is NULL, the key's own value (cpu_id 0 -> cpu="0").
-- A table's samples are told apart by these keys only; a table without rows
-- here has one series per mapped column.
CREATE TABLE metric_key (
  table_name TEXT NOT NULL,
  key_column TEXT NOT NULL,
  label      TEXT NOT NULL,
  dim_table  TEXT,
  dim_column TEXT,
  PRIMARY KEY (table_name, key_column, label)
) WITHOUT ROWID;

-- A column that feeds a family. Each stored row whose row_filter holds gives
-- a sample of family, labelled by the table's keys and the constant labels,
-- with value column x scale (the family's base unit: seconds, bytes).
--   column_name '*'  the value is 1: counts rows (an event table's), or sets
--                    a gauge to scale when the filter holds
--   labels           constant labels in exposition syntax: mode="user",x="y"
--   row_filter       '' (every row) or terms joined by AND, each
--                    <column> <op> <literal> with op one of = <> != < <= > >=
--                    and an integer or a 'quoted' literal; <column> is the
--                    table's own, or <dim_table>.<column> of a dimension its
--                    keys name. NULL never passes, as in SQL, so the filter
--                    can be pasted into a WHERE over the table joined with
--                    its dimension tables (named as themselves).
--   value_label      when set, the column's text is the value of this label
--                    and the sample is 1 (info metrics assembled from rows:
--                    node_uname_info from the inventory)
-- A counter column holds deltas, so its samples are summed since the daemon
-- started; a gauge takes the value of the newest row. A NULL value gives no
-- sample (the kernel did not report it).
CREATE TABLE metric_column (
  table_name  TEXT NOT NULL,
  column_name TEXT NOT NULL,
  family      TEXT NOT NULL REFERENCES metric_family (name),
  labels      TEXT NOT NULL DEFAULT '',
  scale       REAL NOT NULL DEFAULT 1,
  row_filter  TEXT NOT NULL DEFAULT '',
  value_label TEXT,
  PRIMARY KEY (table_name, column_name, family, labels, row_filter)
) WITHOUT ROWID;

-- The database's size on disk (the main file and its WAL) after each tick.
ALTER TABLE agent ADD COLUMN db_bytes INTEGER NOT NULL DEFAULT 0;
INSERT INTO series_column(table_name, column_name, kind) VALUES ('agent', 'db_bytes', 'gauge_peak');

-- ---- keys ----
INSERT INTO metric_key(table_name, key_column, label, dim_table, dim_column) VALUES
  ('cpu', 'cpu_id', 'cpu', NULL, NULL),
  ('net', 'interface_id', 'device', 'net_interface', 'name'),
  ('net_link', 'interface_id', 'device', 'net_interface', 'name'),
  ('disk', 'disk_id', 'device', 'disk_device', 'name'),
  ('filesystem', 'mount_id', 'device', 'filesystem_mount', 'source'),
  ('filesystem', 'mount_id', 'fstype', 'filesystem_mount', 'fstype'),
  ('filesystem', 'mount_id', 'mountpoint', 'filesystem_mount', 'name'),
  ('group_sample', 'group_id', 'groupname', 'proc_group', 'name'),
  ('agent_collector', 'collector_id', 'collector', 'collector', 'name');

-- ---- node_exporter: /proc/stat ----
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.', 'seconds'),
  ('node_cpu_guest_seconds_total', 'counter',
   'Seconds the CPUs spent in guests (VMs) for each mode.', 'seconds'),
  ('node_context_switches_total', 'counter', 'Total number of context switches.', ''),
  ('node_forks_total', 'counter', 'Total number of forks.', ''),
  ('node_intr_total', 'counter', 'Total number of interrupts serviced.', ''),
  ('node_procs_running', 'gauge', 'Number of processes in runnable state.', ''),
  ('node_procs_blocked', 'gauge', 'Number of processes blocked waiting for I/O to complete.', ''),
  ('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', 'seconds'),
  ('node_time_seconds', 'gauge',
   'System time in seconds since epoch (1970), at the last stored tick.', 'seconds'),
  ('node_load1', 'gauge', '1m load average.', ''),
  ('node_load5', 'gauge', '5m load average.', ''),
  ('node_load15', 'gauge', '15m load average.', '');

-- node_exporter has no line for all CPUs (cpu_id -1); it names the modes
-- and sums guest time into user and nice, as the kernel does.
INSERT INTO metric_column(table_name, column_name, family, labels, scale, row_filter)
SELECT 'cpu', mode || '_ms', 'node_cpu_seconds_total', 'mode="' || mode || '"', 0.001, 'cpu_id >= 0'
FROM (SELECT 'user' AS mode UNION ALL SELECT 'nice' UNION ALL SELECT 'system'
      UNION ALL SELECT 'idle' UNION ALL SELECT 'iowait' UNION ALL SELECT 'irq'
      UNION ALL SELECT 'softirq' UNION ALL SELECT 'steal');

INSERT INTO metric_column(table_name, column_name, family, labels, scale, row_filter) VALUES
  ('cpu', 'guest_ms', 'node_cpu_guest_seconds_total', 'mode="user"', 0.001, 'cpu_id >= 0'),
  ('cpu', 'guest_nice_ms', 'node_cpu_guest_seconds_total', 'mode="nice"', 0.001, 'cpu_id >= 0'),
  ('kernel_activity', 'context_switches_count', 'node_context_switches_total', '', 1, ''),
  ('kernel_activity', 'forks_count', 'node_forks_total', '', 1, ''),
  ('kernel_activity', 'interrupts_count', 'node_intr_total', '', 1, ''),
  ('kernel_activity', 'procs_running_count', 'node_procs_running', '', 1, ''),
  ('kernel_activity', 'procs_blocked_count', 'node_procs_blocked', '', 1, ''),
  ('boot', 'boot_ts', 'node_boot_time_seconds', '', 1, ''),
  ('agent', 'ts', 'node_time_seconds', '', 1, ''),
  ('loadavg', 'load1_x100', 'node_load1', '', 0.01, ''),
  ('loadavg', 'load5_x100', 'node_load5', '', 0.01, ''),
  ('loadavg', 'load15_x100', 'node_load15', '', 0.01, '');

-- node_uname_info, assembled from the inventory's rows (Grafana's Node
-- Exporter Full builds its host selector from it).
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_uname_info', 'gauge', 'Labeled system information as provided by the uname system call.', '');
INSERT INTO metric_column(table_name, column_name, family, row_filter, value_label) VALUES
  ('inventory', 'value', 'node_uname_info', 'key = ''host.hostname''', 'nodename'),
  ('inventory', 'value', 'node_uname_info', 'key = ''host.domainname''', 'domainname'),
  ('inventory', 'value', 'node_uname_info', 'key = ''kernel.ostype''', 'sysname'),
  ('inventory', 'value', 'node_uname_info', 'key = ''kernel.release''', 'release'),
  ('inventory', 'value', 'node_uname_info', 'key = ''kernel.version''', 'version'),
  ('inventory', 'value', 'node_uname_info', 'key = ''kernel.arch''', 'machine');

-- ---- node_exporter: /proc/meminfo (KiB x 1024; HugePages_* are counts) ----
WITH m(col, key, scale) AS (VALUES
  ('total_kb', 'MemTotal_bytes', 1024), ('free_kb', 'MemFree_bytes', 1024),
  ('available_kb', 'MemAvailable_bytes', 1024), ('buffers_kb', 'Buffers_bytes', 1024),
  ('cached_kb', 'Cached_bytes', 1024), ('swap_cached_kb', 'SwapCached_bytes', 1024),
  ('swap_total_kb', 'SwapTotal_bytes', 1024), ('swap_free_kb', 'SwapFree_bytes', 1024),
  ('dirty_kb', 'Dirty_bytes', 1024), ('writeback_kb', 'Writeback_bytes', 1024),
  ('anon_kb', 'AnonPages_bytes', 1024), ('mapped_kb', 'Mapped_bytes', 1024),
  ('shmem_kb', 'Shmem_bytes', 1024), ('slab_reclaimable_kb', 'SReclaimable_bytes', 1024),
  ('slab_unreclaimable_kb', 'SUnreclaim_bytes', 1024),
  ('kernel_stack_kb', 'KernelStack_bytes', 1024), ('page_tables_kb', 'PageTables_bytes', 1024),
  ('committed_kb', 'Committed_AS_bytes', 1024),
  ('anon_hugepages_kb', 'AnonHugePages_bytes', 1024),
  ('hugepages_total_count', 'HugePages_Total', 1), ('hugepages_free_count', 'HugePages_Free', 1),
  ('hugepage_size_kb', 'Hugepagesize_bytes', 1024))
INSERT INTO metric_family(name, type, help, unit)
SELECT 'node_memory_' || key, 'gauge', 'Memory information field ' || key || '.',
       CASE WHEN scale = 1024 THEN 'bytes' ELSE '' END FROM m;

WITH m(col, key, scale) AS (VALUES
  ('total_kb', 'MemTotal_bytes', 1024), ('free_kb', 'MemFree_bytes', 1024),
  ('available_kb', 'MemAvailable_bytes', 1024), ('buffers_kb', 'Buffers_bytes', 1024),
  ('cached_kb', 'Cached_bytes', 1024), ('swap_cached_kb', 'SwapCached_bytes', 1024),
  ('swap_total_kb', 'SwapTotal_bytes', 1024), ('swap_free_kb', 'SwapFree_bytes', 1024),
  ('dirty_kb', 'Dirty_bytes', 1024), ('writeback_kb', 'Writeback_bytes', 1024),
  ('anon_kb', 'AnonPages_bytes', 1024), ('mapped_kb', 'Mapped_bytes', 1024),
  ('shmem_kb', 'Shmem_bytes', 1024), ('slab_reclaimable_kb', 'SReclaimable_bytes', 1024),
  ('slab_unreclaimable_kb', 'SUnreclaim_bytes', 1024),
  ('kernel_stack_kb', 'KernelStack_bytes', 1024), ('page_tables_kb', 'PageTables_bytes', 1024),
  ('committed_kb', 'Committed_AS_bytes', 1024),
  ('anon_hugepages_kb', 'AnonHugePages_bytes', 1024),
  ('hugepages_total_count', 'HugePages_Total', 1), ('hugepages_free_count', 'HugePages_Free', 1),
  ('hugepage_size_kb', 'Hugepagesize_bytes', 1024))
INSERT INTO metric_column(table_name, column_name, family, scale)
SELECT 'memory', col, 'node_memory_' || key, scale FROM m;

-- ---- node_exporter: network interfaces (netdev and netclass) ----
-- Debian's node_exporter leaves lo out by default (--collector.netdev.device-exclude);
-- hindsight keeps it, as upstream's default does.
WITH n(col, stat) AS (VALUES
  ('rx_bytes', 'receive_bytes'), ('rx_packets_count', 'receive_packets'),
  ('rx_errors_count', 'receive_errs'), ('rx_dropped_count', 'receive_drop'),
  ('rx_fifo_errors_count', 'receive_fifo'), ('rx_frame_errors_count', 'receive_frame'),
  ('rx_compressed_count', 'receive_compressed'), ('rx_multicast_count', 'receive_multicast'),
  ('tx_bytes', 'transmit_bytes'), ('tx_packets_count', 'transmit_packets'),
  ('tx_errors_count', 'transmit_errs'), ('tx_dropped_count', 'transmit_drop'),
  ('tx_fifo_errors_count', 'transmit_fifo'), ('tx_collisions_count', 'transmit_colls'),
  ('tx_carrier_errors_count', 'transmit_carrier'), ('tx_compressed_count', 'transmit_compressed'))
INSERT INTO metric_family(name, type, help, unit)
SELECT 'node_network_' || stat || '_total', 'counter', 'Network device statistic ' || stat || '.', ''
FROM n;

WITH n(col, stat) AS (VALUES
  ('rx_bytes', 'receive_bytes'), ('rx_packets_count', 'receive_packets'),
  ('rx_errors_count', 'receive_errs'), ('rx_dropped_count', 'receive_drop'),
  ('rx_fifo_errors_count', 'receive_fifo'), ('rx_frame_errors_count', 'receive_frame'),
  ('rx_compressed_count', 'receive_compressed'), ('rx_multicast_count', 'receive_multicast'),
  ('tx_bytes', 'transmit_bytes'), ('tx_packets_count', 'transmit_packets'),
  ('tx_errors_count', 'transmit_errs'), ('tx_dropped_count', 'transmit_drop'),
  ('tx_fifo_errors_count', 'transmit_fifo'), ('tx_collisions_count', 'transmit_colls'),
  ('tx_carrier_errors_count', 'transmit_carrier'), ('tx_compressed_count', 'transmit_compressed'))
INSERT INTO metric_column(table_name, column_name, family)
SELECT 'net', col, 'node_network_' || stat || '_total' FROM n;

INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_network_up', 'gauge', 'Value is 1 if operstate is ''up'', 0 otherwise.', ''),
  ('node_network_mtu_bytes', 'gauge', 'Network device property: mtu_bytes', 'bytes'),
  ('node_network_speed_bytes', 'gauge', 'Network device property: speed_bytes', 'bytes'),
  ('node_network_carrier', 'gauge', 'Network device property: carrier', '');
INSERT INTO metric_column(table_name, column_name, family, scale, row_filter) VALUES
  ('net_link', '*', 'node_network_up', 1, 'operstate = ''up'''),
  ('net_link', '*', 'node_network_up', 0, 'operstate <> ''up'''),
  ('net_link', 'mtu_bytes', 'node_network_mtu_bytes', 1, ''),
  ('net_link', 'speed_mbps', 'node_network_speed_bytes', 125000, ''),
  ('net_link', 'carrier', 'node_network_carrier', 1, '');

-- ---- node_exporter: disks (whole disks, as its default device-exclude) ----
WITH d(col, name, type, help, unit, scale) AS (VALUES
  ('reads_count', 'node_disk_reads_completed_total', 'counter',
   'The total number of reads completed successfully.', '', 1),
  ('reads_merged_count', 'node_disk_reads_merged_total', 'counter',
   'The total number of reads merged.', '', 1),
  ('read_bytes', 'node_disk_read_bytes_total', 'counter',
   'The total number of bytes read successfully.', 'bytes', 1),
  ('read_ms', 'node_disk_read_time_seconds_total', 'counter',
   'The total number of seconds spent by all reads.', 'seconds', 0.001),
  ('writes_count', 'node_disk_writes_completed_total', 'counter',
   'The total number of writes completed successfully.', '', 1),
  ('writes_merged_count', 'node_disk_writes_merged_total', 'counter',
   'The number of writes merged.', '', 1),
  ('write_bytes', 'node_disk_written_bytes_total', 'counter',
   'The total number of bytes written successfully.', 'bytes', 1),
  ('write_ms', 'node_disk_write_time_seconds_total', 'counter',
   'This is the total number of seconds spent by all writes.', 'seconds', 0.001),
  ('in_flight_count', 'node_disk_io_now', 'gauge',
   'The number of I/Os currently in progress.', '', 1),
  ('io_ms', 'node_disk_io_time_seconds_total', 'counter',
   'Total seconds spent doing I/Os.', 'seconds', 0.001),
  ('weighted_io_ms', 'node_disk_io_time_weighted_seconds_total', 'counter',
   'The weighted # of seconds spent doing I/Os.', 'seconds', 0.001),
  ('discards_count', 'node_disk_discards_completed_total', 'counter',
   'The total number of discards completed successfully.', '', 1),
  ('discards_merged_count', 'node_disk_discards_merged_total', 'counter',
   'The total number of discards merged.', '', 1),
  ('discard_bytes', 'node_disk_discarded_sectors_total', 'counter',
   'The total number of sectors discarded successfully.', '', 0.001953125),
  ('discard_ms', 'node_disk_discard_time_seconds_total', 'counter',
   'This is the total number of seconds spent by all discards.', 'seconds', 0.001),
  ('flushes_count', 'node_disk_flush_requests_total', 'counter',
   'The total number of flush requests completed successfully', '', 1),
  ('flush_ms', 'node_disk_flush_requests_time_seconds_total', 'counter',
   'This is the total number of seconds spent by all flush requests.', 'seconds', 0.001))
INSERT INTO metric_family(name, type, help, unit) SELECT name, type, help, unit FROM d;

WITH d(col, name, scale) AS (VALUES
  ('reads_count', 'node_disk_reads_completed_total', 1),
  ('reads_merged_count', 'node_disk_reads_merged_total', 1),
  ('read_bytes', 'node_disk_read_bytes_total', 1),
  ('read_ms', 'node_disk_read_time_seconds_total', 0.001),
  ('writes_count', 'node_disk_writes_completed_total', 1),
  ('writes_merged_count', 'node_disk_writes_merged_total', 1),
  ('write_bytes', 'node_disk_written_bytes_total', 1),
  ('write_ms', 'node_disk_write_time_seconds_total', 0.001),
  ('in_flight_count', 'node_disk_io_now', 1),
  ('io_ms', 'node_disk_io_time_seconds_total', 0.001),
  ('weighted_io_ms', 'node_disk_io_time_weighted_seconds_total', 0.001),
  ('discards_count', 'node_disk_discards_completed_total', 1),
  ('discards_merged_count', 'node_disk_discards_merged_total', 1),
  ('discard_bytes', 'node_disk_discarded_sectors_total', 0.001953125), -- bytes / 512
  ('discard_ms', 'node_disk_discard_time_seconds_total', 0.001),
  ('flushes_count', 'node_disk_flush_requests_total', 1),
  ('flush_ms', 'node_disk_flush_requests_time_seconds_total', 0.001))
INSERT INTO metric_column(table_name, column_name, family, scale, row_filter)
SELECT 'disk', col, name, scale, 'disk_device.whole_disk = 1' FROM d;

-- ---- node_exporter: filesystems ----
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_filesystem_size_bytes', 'gauge', 'Filesystem size in bytes.', 'bytes'),
  ('node_filesystem_free_bytes', 'gauge', 'Filesystem free space in bytes.', 'bytes'),
  ('node_filesystem_avail_bytes', 'gauge',
   'Filesystem space available to non-root users in bytes.', 'bytes'),
  ('node_filesystem_files', 'gauge', 'Filesystem total file nodes.', ''),
  ('node_filesystem_files_free', 'gauge', 'Filesystem total free file nodes.', '');
INSERT INTO metric_column(table_name, column_name, family, scale) VALUES
  ('filesystem', 'size_kb', 'node_filesystem_size_bytes', 1024),
  ('filesystem', 'free_kb', 'node_filesystem_free_bytes', 1024),
  ('filesystem', 'avail_kb', 'node_filesystem_avail_bytes', 1024),
  ('filesystem', 'inodes_count', 'node_filesystem_files', 1),
  ('filesystem', 'inodes_free_count', 'node_filesystem_files_free', 1);

-- ---- node_exporter: pressure (stall time in µs -> s). 1.5.0 has no cpu
-- "full" and no irq; newer node_exporters name them as below. ----
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_pressure_cpu_waiting_seconds_total', 'counter',
   'Total time in seconds that processes have waited for CPU time', 'seconds'),
  ('node_pressure_cpu_stalled_seconds_total', 'counter',
   'Total time in seconds no process could make progress due to CPU congestion', 'seconds'),
  ('node_pressure_memory_waiting_seconds_total', 'counter',
   'Total time in seconds that processes have waited for memory', 'seconds'),
  ('node_pressure_memory_stalled_seconds_total', 'counter',
   'Total time in seconds no process could make progress due to memory congestion', 'seconds'),
  ('node_pressure_io_waiting_seconds_total', 'counter',
   'Total time in seconds that processes have waited due to IO congestion', 'seconds'),
  ('node_pressure_io_stalled_seconds_total', 'counter',
   'Total time in seconds no process could make progress due to IO congestion', 'seconds'),
  ('node_pressure_irq_stalled_seconds_total', 'counter',
   'Total time in seconds no process could make progress due to IRQ congestion', 'seconds');
INSERT INTO metric_column(table_name, column_name, family, scale, row_filter) VALUES
  ('psi', 'some_stall_us', 'node_pressure_cpu_waiting_seconds_total', 0.000001, 'resource_id = 0'),
  ('psi', 'full_stall_us', 'node_pressure_cpu_stalled_seconds_total', 0.000001, 'resource_id = 0'),
  ('psi', 'some_stall_us', 'node_pressure_memory_waiting_seconds_total', 0.000001, 'resource_id = 1'),
  ('psi', 'full_stall_us', 'node_pressure_memory_stalled_seconds_total', 0.000001, 'resource_id = 1'),
  ('psi', 'some_stall_us', 'node_pressure_io_waiting_seconds_total', 0.000001, 'resource_id = 2'),
  ('psi', 'full_stall_us', 'node_pressure_io_stalled_seconds_total', 0.000001, 'resource_id = 2'),
  ('psi', 'full_stall_us', 'node_pressure_irq_stalled_seconds_total', 0.000001, 'resource_id = 3');

-- ---- node_exporter: /proc/vmstat, untyped with the kernel's key; raw
-- units (pgpgin/pgpgout are KiB as the kernel counts them). allocstall and
-- workingset_refault are left out: the table sums variants that have no
-- single key on current kernels. ----
WITH v(col, key) AS (VALUES
  ('pgpgin_kb', 'pgpgin'), ('pgpgout_kb', 'pgpgout'), ('pswpin_pages', 'pswpin'),
  ('pswpout_pages', 'pswpout'), ('pgfault_count', 'pgfault'), ('pgmajfault_count', 'pgmajfault'),
  ('pgscan_kswapd_pages', 'pgscan_kswapd'), ('pgscan_direct_pages', 'pgscan_direct'),
  ('pgsteal_kswapd_pages', 'pgsteal_kswapd'), ('pgsteal_direct_pages', 'pgsteal_direct'),
  ('oom_kill_count', 'oom_kill'), ('compact_stall_count', 'compact_stall'),
  ('compact_fail_count', 'compact_fail'), ('thp_fault_alloc_count', 'thp_fault_alloc'),
  ('thp_fault_fallback_count', 'thp_fault_fallback'),
  ('thp_collapse_alloc_count', 'thp_collapse_alloc'), ('thp_split_page_count', 'thp_split_page'))
INSERT INTO metric_family(name, type, help, unit)
SELECT 'node_vmstat_' || key, 'untyped', '/proc/vmstat information field ' || key || '.', '' FROM v;

WITH v(col, key) AS (VALUES
  ('pgpgin_kb', 'pgpgin'), ('pgpgout_kb', 'pgpgout'), ('pswpin_pages', 'pswpin'),
  ('pswpout_pages', 'pswpout'), ('pgfault_count', 'pgfault'), ('pgmajfault_count', 'pgmajfault'),
  ('pgscan_kswapd_pages', 'pgscan_kswapd'), ('pgscan_direct_pages', 'pgscan_direct'),
  ('pgsteal_kswapd_pages', 'pgsteal_kswapd'), ('pgsteal_direct_pages', 'pgsteal_direct'),
  ('oom_kill_count', 'oom_kill'), ('compact_stall_count', 'compact_stall'),
  ('compact_fail_count', 'compact_fail'), ('thp_fault_alloc_count', 'thp_fault_alloc'),
  ('thp_fault_fallback_count', 'thp_fault_fallback'),
  ('thp_collapse_alloc_count', 'thp_collapse_alloc'), ('thp_split_page_count', 'thp_split_page'))
INSERT INTO metric_column(table_name, column_name, family) SELECT 'vmstat', col, 'node_vmstat_' || key FROM v;

-- ---- node_exporter: netstat (untyped, Protocol_Field) and sockstat ----
WITH s(col, proto, field) AS (VALUES
  ('active_opens_count', 'Tcp', 'ActiveOpens'), ('passive_opens_count', 'Tcp', 'PassiveOpens'),
  ('attempt_fails_count', 'Tcp', 'AttemptFails'), ('estab_resets_count', 'Tcp', 'EstabResets'),
  ('in_segs_count', 'Tcp', 'InSegs'), ('out_segs_count', 'Tcp', 'OutSegs'),
  ('retrans_segs_count', 'Tcp', 'RetransSegs'), ('in_errs_count', 'Tcp', 'InErrs'),
  ('out_rsts_count', 'Tcp', 'OutRsts'), ('in_csum_errors_count', 'Tcp', 'InCsumErrors'),
  ('curr_estab_count', 'Tcp', 'CurrEstab'),
  ('udp_in_datagrams_count', 'Udp', 'InDatagrams'), ('udp_out_datagrams_count', 'Udp', 'OutDatagrams'),
  ('udp_no_ports_count', 'Udp', 'NoPorts'), ('udp_in_errors_count', 'Udp', 'InErrors'),
  ('udp_rcvbuf_errors_count', 'Udp', 'RcvbufErrors'), ('udp_sndbuf_errors_count', 'Udp', 'SndbufErrors'),
  ('listen_overflows_count', 'TcpExt', 'ListenOverflows'), ('listen_drops_count', 'TcpExt', 'ListenDrops'),
  ('timeouts_count', 'TcpExt', 'TCPTimeouts'), ('syn_retrans_count', 'TcpExt', 'TCPSynRetrans'),
  ('syncookies_sent_count', 'TcpExt', 'SyncookiesSent'),
  ('abort_on_timeout_count', 'TcpExt', 'TCPAbortOnTimeout'),
  ('abort_on_data_count', 'TcpExt', 'TCPAbortOnData'), ('backlog_drop_count', 'TcpExt', 'TCPBacklogDrop'),
  ('rcvq_drop_count', 'TcpExt', 'TCPRcvQDrop'), ('time_wait_closed_count', 'TcpExt', 'TW'))
INSERT INTO metric_family(name, type, help, unit)
SELECT 'node_netstat_' || proto || '_' || field, 'untyped', 'Statistic ' || proto || field || '.', ''
FROM s;

WITH s(col, proto, field) AS (VALUES
  ('active_opens_count', 'Tcp', 'ActiveOpens'), ('passive_opens_count', 'Tcp', 'PassiveOpens'),
  ('attempt_fails_count', 'Tcp', 'AttemptFails'), ('estab_resets_count', 'Tcp', 'EstabResets'),
  ('in_segs_count', 'Tcp', 'InSegs'), ('out_segs_count', 'Tcp', 'OutSegs'),
  ('retrans_segs_count', 'Tcp', 'RetransSegs'), ('in_errs_count', 'Tcp', 'InErrs'),
  ('out_rsts_count', 'Tcp', 'OutRsts'), ('in_csum_errors_count', 'Tcp', 'InCsumErrors'),
  ('curr_estab_count', 'Tcp', 'CurrEstab'),
  ('udp_in_datagrams_count', 'Udp', 'InDatagrams'), ('udp_out_datagrams_count', 'Udp', 'OutDatagrams'),
  ('udp_no_ports_count', 'Udp', 'NoPorts'), ('udp_in_errors_count', 'Udp', 'InErrors'),
  ('udp_rcvbuf_errors_count', 'Udp', 'RcvbufErrors'), ('udp_sndbuf_errors_count', 'Udp', 'SndbufErrors'),
  ('listen_overflows_count', 'TcpExt', 'ListenOverflows'), ('listen_drops_count', 'TcpExt', 'ListenDrops'),
  ('timeouts_count', 'TcpExt', 'TCPTimeouts'), ('syn_retrans_count', 'TcpExt', 'TCPSynRetrans'),
  ('syncookies_sent_count', 'TcpExt', 'SyncookiesSent'),
  ('abort_on_timeout_count', 'TcpExt', 'TCPAbortOnTimeout'),
  ('abort_on_data_count', 'TcpExt', 'TCPAbortOnData'), ('backlog_drop_count', 'TcpExt', 'TCPBacklogDrop'),
  ('rcvq_drop_count', 'TcpExt', 'TCPRcvQDrop'), ('time_wait_closed_count', 'TcpExt', 'TW'))
INSERT INTO metric_column(table_name, column_name, family)
SELECT 'tcp_stat', col, 'node_netstat_' || proto || '_' || field FROM s;

WITH s(col, proto, field, scale) AS (VALUES
  ('sockets_used_count', '', 'sockets_used', 1),
  ('tcp_inuse_count', 'TCP', 'inuse', 1), ('tcp_orphan_count', 'TCP', 'orphan', 1),
  ('tcp_tw_count', 'TCP', 'tw', 1), ('tcp_alloc_count', 'TCP', 'alloc', 1),
  ('tcp_mem_pages', 'TCP', 'mem', 1), ('tcp_mem_pages', 'TCP', 'mem_bytes', 4096),
  ('udp_inuse_count', 'UDP', 'inuse', 1), ('udp_mem_pages', 'UDP', 'mem', 1),
  ('udp_mem_pages', 'UDP', 'mem_bytes', 4096))
INSERT INTO metric_family(name, type, help, unit)
SELECT 'node_sockstat_' || CASE proto WHEN '' THEN '' ELSE proto || '_' END || field, 'gauge',
       CASE proto WHEN '' THEN 'Number of IPv4 sockets in use.'
                  ELSE 'Number of ' || proto || ' sockets in state ' || field || '.' END,
       '' FROM s;

-- mem_bytes is mem x the page size: 4096 on x86_64, which hindsight is built for.
WITH s(col, name, scale) AS (VALUES
  ('sockets_used_count', 'node_sockstat_sockets_used', 1),
  ('tcp_inuse_count', 'node_sockstat_TCP_inuse', 1), ('tcp_orphan_count', 'node_sockstat_TCP_orphan', 1),
  ('tcp_tw_count', 'node_sockstat_TCP_tw', 1), ('tcp_alloc_count', 'node_sockstat_TCP_alloc', 1),
  ('tcp_mem_pages', 'node_sockstat_TCP_mem', 1), ('tcp_mem_pages', 'node_sockstat_TCP_mem_bytes', 4096),
  ('udp_inuse_count', 'node_sockstat_UDP_inuse', 1), ('udp_mem_pages', 'node_sockstat_UDP_mem', 1),
  ('udp_mem_pages', 'node_sockstat_UDP_mem_bytes', 4096))
INSERT INTO metric_column(table_name, column_name, family, scale) SELECT 'tcp_stat', col, name, scale FROM s;

-- Connections by TCP state, as node_exporter's tcpstat collector (off by
-- default there) names them; hindsight counts them every 6th tick.
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('node_tcp_connection_states', 'gauge', 'Number of connection states.', '');
INSERT INTO metric_column(table_name, column_name, family, labels)
SELECT 'tcp_stat', state || '_count', 'node_tcp_connection_states', 'state="' || state || '"'
FROM (SELECT 'established' AS state UNION ALL SELECT 'syn_sent' UNION ALL SELECT 'syn_recv'
      UNION ALL SELECT 'fin_wait1' UNION ALL SELECT 'fin_wait2' UNION ALL SELECT 'time_wait'
      UNION ALL SELECT 'close' UNION ALL SELECT 'close_wait' UNION ALL SELECT 'last_ack'
      UNION ALL SELECT 'listen' UNION ALL SELECT 'closing');

-- ---- process-exporter: process groups ----
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('namedprocess_namegroup_num_procs', 'gauge', 'number of processes in this group', ''),
  ('namedprocess_namegroup_num_threads', 'gauge', 'Number of threads', ''),
  ('namedprocess_namegroup_cpu_seconds_total', 'counter', 'Cpu user usage in seconds', 'seconds'),
  ('namedprocess_namegroup_read_bytes_total', 'counter', 'number of bytes read by this group', 'bytes'),
  ('namedprocess_namegroup_write_bytes_total', 'counter', 'number of bytes written by this group', 'bytes'),
  ('namedprocess_namegroup_major_page_faults_total', 'counter', 'Major page faults', ''),
  ('namedprocess_namegroup_minor_page_faults_total', 'counter', 'Minor page faults', ''),
  ('namedprocess_namegroup_context_switches_total', 'counter', 'Context switches', ''),
  ('namedprocess_namegroup_memory_bytes', 'gauge', 'number of bytes of memory in use', 'bytes'),
  ('namedprocess_namegroup_open_filedesc', 'gauge', 'number of open file descriptors for this group', ''),
  ('namedprocess_namegroup_worst_fd_ratio', 'gauge',
   'the worst (closest to 1) ratio between open fds and max fds among all procs in this group', ''),
  ('namedprocess_namegroup_oldest_start_time_seconds', 'gauge',
   'start time in seconds since 1970/01/01 of oldest process in group', 'seconds'),
  ('namedprocess_namegroup_states', 'gauge',
   'Number of processes in states Running, Sleeping, Waiting, Zombie, or Other', '');

-- CPU includes children reaped between ticks and, with eBPF, the whole life
-- of processes that started and ended between two scans.
INSERT INTO metric_column(table_name, column_name, family, labels, scale, row_filter) VALUES
  ('group_sample', 'procs_count', 'namedprocess_namegroup_num_procs', '', 1, ''),
  ('group_sample', 'threads_count', 'namedprocess_namegroup_num_threads', '', 1, ''),
  ('group_sample', 'user_ms', 'namedprocess_namegroup_cpu_seconds_total', 'mode="user"', 0.001, ''),
  ('group_sample', 'system_ms', 'namedprocess_namegroup_cpu_seconds_total', 'mode="system"', 0.001, ''),
  ('group_sample', 'read_bytes', 'namedprocess_namegroup_read_bytes_total', '', 1, ''),
  ('group_sample', 'write_bytes', 'namedprocess_namegroup_write_bytes_total', '', 1, ''),
  ('group_sample', 'major_faults_count', 'namedprocess_namegroup_major_page_faults_total', '', 1, ''),
  ('group_sample', 'minor_faults_count', 'namedprocess_namegroup_minor_page_faults_total', '', 1, ''),
  ('group_sample', 'voluntary_switches_count', 'namedprocess_namegroup_context_switches_total',
   'ctxswitchtype="voluntary"', 1, ''),
  ('group_sample', 'involuntary_switches_count', 'namedprocess_namegroup_context_switches_total',
   'ctxswitchtype="nonvoluntary"', 1, ''),
  ('group_sample', 'rss_kb', 'namedprocess_namegroup_memory_bytes', 'memtype="resident"', 1024, ''),
  ('group_sample', 'vm_kb', 'namedprocess_namegroup_memory_bytes', 'memtype="virtual"', 1024, ''),
  ('group_sample', 'swap_kb', 'namedprocess_namegroup_memory_bytes', 'memtype="swapped"', 1024, ''),
  -- PSS is read only with procs_pss: true; 0 otherwise, which is no sample
  ('group_sample', 'pss_kb', 'namedprocess_namegroup_memory_bytes', 'memtype="proportionalResident"',
   1024, 'pss_kb > 0'),
  ('group_sample', 'fds_count', 'namedprocess_namegroup_open_filedesc', '', 1, ''),
  ('group_sample', 'worst_fd_pct_x100', 'namedprocess_namegroup_worst_fd_ratio', '', 0.0001, ''),
  ('group_sample', 'oldest_start_ts', 'namedprocess_namegroup_oldest_start_time_seconds', '', 1, ''),
  ('group_sample', 'running_count', 'namedprocess_namegroup_states', 'state="Running"', 1, ''),
  ('group_sample', 'sleeping_count', 'namedprocess_namegroup_states', 'state="Sleeping"', 1, ''),
  ('group_sample', 'disk_wait_count', 'namedprocess_namegroup_states', 'state="Waiting"', 1, ''),
  ('group_sample', 'zombie_count', 'namedprocess_namegroup_states', 'state="Zombie"', 1, ''),
  ('group_sample', 'other_count', 'namedprocess_namegroup_states', 'state="Other"', 1, '');

-- ---- hindsight's own ----
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('hindsight_ticks_total', 'counter', 'Ticks stored.', ''),
  ('hindsight_tick_cpu_seconds_total', 'counter',
   'Process CPU time the daemon spent collecting and writing ticks, before COMMIT.', 'seconds'),
  ('hindsight_tick_wall_seconds_total', 'counter',
   'Wall time the daemon spent collecting and writing ticks, before COMMIT.', 'seconds'),
  ('hindsight_last_commit_seconds', 'gauge', 'How long the last tick''s COMMIT took.', 'seconds'),
  ('hindsight_resident_memory_bytes', 'gauge', 'The daemon''s resident set size.', 'bytes'),
  ('hindsight_database_bytes', 'gauge', 'The database file and its WAL on disk.', 'bytes'),
  ('hindsight_rows_written_total', 'counter', 'Rows written by ticks.', ''),
  ('hindsight_source_vanished_total', 'counter',
   'Source files that vanished while read (a process exited).', ''),
  ('hindsight_source_permission_errors_total', 'counter', 'Source files read only in part.', ''),
  ('hindsight_source_read_errors_total', 'counter', 'Source files that could not be read.', ''),
  ('hindsight_source_parse_errors_total', 'counter', 'Source files that did not parse.', ''),
  ('hindsight_commit_failures_total', 'counter',
   'Ticks not stored (their deltas went into the next stored tick).', ''),
  ('hindsight_clock_steps_total', 'counter', 'Wall clock steps seen.', ''),
  ('hindsight_clock_held_seconds', 'gauge',
   'How far the last tick''s ts is ahead of the trusted clock (held after a step back).', 'seconds'),
  ('hindsight_retention_seconds_total', 'counter', 'Wall time spent rolling up and pruning.', 'seconds'),
  ('hindsight_pruned_rows_total', 'counter', 'Rows removed by retention.', ''),
  ('hindsight_collector_cpu_seconds_total', 'counter',
   'Thread CPU time each collector''s sample took.', 'seconds'),
  ('hindsight_collector_wall_seconds_total', 'counter', 'Wall time each collector''s sample took.',
   'seconds'),
  ('hindsight_bpf_running', 'gauge', '1 when the eBPF collectors run, 0 when off, not built or failed.', ''),
  ('hindsight_bpf_records_total', 'counter', 'eBPF records stored.', ''),
  ('hindsight_bpf_ring_drops_total', 'counter',
   'eBPF records lost because the kernel ring buffer was full.', ''),
  ('hindsight_bpf_buffer_drops_total', 'counter',
   'eBPF records lost because the daemon''s buffer was full.', ''),
  ('hindsight_bpf_exec_drops_total', 'counter', 'Exec records among the records lost.', ''),
  ('hindsight_kmsg_records_total', 'counter', 'Kernel log records stored.', ''),
  ('hindsight_kmsg_lost_total', 'counter', 'Kernel log records overwritten before they were read.', ''),
  ('hindsight_kmsg_dropped_total', 'counter',
   'Kernel log records that did not fit the daemon''s buffer.', ''),
  ('hindsight_process_exits_total', 'counter', 'Process exit records stored (eBPF).', ''),
  ('hindsight_scan_processes', 'gauge', 'Processes present at the last /proc scan.', ''),
  ('hindsight_scan_full_reads_total', 'counter', 'Processes read in full by /proc scans.', ''),
  ('hindsight_scan_skipped_total', 'counter',
   'Processes found unchanged by /proc scans (cached values reused).', ''),
  ('hindsight_scan_vanished_total', 'counter',
   'Processes that exited since the previous /proc scan or while read.', ''),
  ('hindsight_scan_new_processes_total', 'counter', 'Processes first seen by a /proc scan.', ''),
  ('hindsight_scan_kept_fds', 'gauge', 'schedstat descriptors the /proc scan keeps open.', '');

INSERT INTO metric_column(table_name, column_name, family, scale, row_filter) VALUES
  ('agent', '*', 'hindsight_ticks_total', 1, ''),
  ('agent', 'tick_cpu_us', 'hindsight_tick_cpu_seconds_total', 0.000001, ''),
  ('agent', 'tick_wall_us', 'hindsight_tick_wall_seconds_total', 0.000001, ''),
  ('agent', 'last_commit_us', 'hindsight_last_commit_seconds', 0.000001, ''),
  ('agent', 'rss_kb', 'hindsight_resident_memory_bytes', 1024, ''),
  ('agent', 'db_bytes', 'hindsight_database_bytes', 1, ''),
  ('agent', 'rows_count', 'hindsight_rows_written_total', 1, ''),
  ('agent', 'vanished_count', 'hindsight_source_vanished_total', 1, ''),
  ('agent', 'permission_errors_count', 'hindsight_source_permission_errors_total', 1, ''),
  ('agent', 'read_errors_count', 'hindsight_source_read_errors_total', 1, ''),
  ('agent', 'parse_errors_count', 'hindsight_source_parse_errors_total', 1, ''),
  ('agent', 'commit_failures_count', 'hindsight_commit_failures_total', 1, ''),
  ('agent', '*', 'hindsight_clock_steps_total', 1, 'clock_step_s <> 0'),
  ('agent', 'clock_held_s', 'hindsight_clock_held_seconds', 1, ''),
  ('agent', 'retention_us', 'hindsight_retention_seconds_total', 0.000001, ''),
  ('agent', 'pruned_rows_count', 'hindsight_pruned_rows_total', 1, ''),
  ('agent_collector', 'cpu_us', 'hindsight_collector_cpu_seconds_total', 0.000001, ''),
  ('agent_collector', 'wall_us', 'hindsight_collector_wall_seconds_total', 0.000001, ''),
  ('bpf_tick', '*', 'hindsight_bpf_running', 1, 'state_id = 1'),
  ('bpf_tick', '*', 'hindsight_bpf_running', 0, 'state_id <> 1'),
  ('bpf_tick', 'events_count', 'hindsight_bpf_records_total', 1, ''),
  ('bpf_tick', 'ring_drops_count', 'hindsight_bpf_ring_drops_total', 1, ''),
  ('bpf_tick', 'buffer_drops_count', 'hindsight_bpf_buffer_drops_total', 1, ''),
  ('bpf_tick', 'exec_drops_count', 'hindsight_bpf_exec_drops_total', 1, ''),
  ('kmsg', '*', 'hindsight_kmsg_records_total', 1, ''),
  ('kmsg_loss', 'lost_count', 'hindsight_kmsg_lost_total', 1, ''),
  ('kmsg_loss', 'dropped_count', 'hindsight_kmsg_dropped_total', 1, ''),
  ('process_exit', '*', 'hindsight_process_exits_total', 1, ''),
  ('procs_scan', 'procs_count', 'hindsight_scan_processes', 1, ''),
  ('procs_scan', 'full_count', 'hindsight_scan_full_reads_total', 1, ''),
  ('procs_scan', 'skipped_count', 'hindsight_scan_skipped_total', 1, ''),
  ('procs_scan', 'vanished_count', 'hindsight_scan_vanished_total', 1, ''),
  ('procs_scan', 'new_count', 'hindsight_scan_new_processes_total', 1, ''),
  ('procs_scan', 'kept_fds_count', 'hindsight_scan_kept_fds', 1, '');

-- eBPF kernel event counters: hindsight_kernel_<column without _count>_total.
INSERT INTO metric_family(name, type, help, unit)
SELECT 'hindsight_kernel_' || replace(name, '_count', '') || '_total', 'counter',
       'Kernel events seen by eBPF: ' || replace(replace(name, '_count', ''), '_', ' ') || '.',
       CASE WHEN name LIKE '%bytes' THEN 'bytes' ELSE '' END
FROM pragma_table_info('kernel_counters') WHERE name NOT IN ('ts', 'dur_ms');
INSERT INTO metric_column(table_name, column_name, family)
SELECT 'kernel_counters', name, 'hindsight_kernel_' || replace(name, '_count', '') || '_total'
FROM pragma_table_info('kernel_counters') WHERE name NOT IN ('ts', 'dur_ms');
