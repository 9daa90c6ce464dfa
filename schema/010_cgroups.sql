-- 010: control groups: services, containers and pods (docs/cgroups.md).
--
-- Every figure is the kernel's for the cgroup and all its descendants, as
-- cpu.stat, memory.current, io.stat and the pressure files report it (v1:
-- cpuacct.usage, memory.usage_in_bytes, the *_recursive blkio files), so a
-- parent's row includes its children's. Counters are deltas over dur_ms and
-- never negative; gauges are values at ts. Rows are sparse: a cgroup writes
-- a row in a table only in a tick where one of its counters moved or one of
-- its gauges changed, so its gauges at a tick without its row are those of
-- its last row. NULL: the kernel does not report it for this cgroup (no such
-- controller, an older kernel, v1).

-- One row per cgroup, from the tick that first saw it to the tick that found
-- it gone. inode is the kernel's cgroup id: the inode number of its cgroup2
-- directory, which is what bpf_get_current_cgroup_id() returns and what
-- exec_event, process_exit, oom_kill and process carry as cgroup_id. A
-- cgroup that exists only in v1 hierarchies has no such id and gets
-- -(N << 40 | the inode of its directory in the first v1 hierarchy holding
-- it), N = 1 cpu, 2 cpuacct, 3 memory, 4 blkio, 5 pids. Inode numbers start
-- again at every boot: join on inode and time, as the views do
-- (ts BETWEEN first_seen_ts AND coalesce(gone_ts, ts)).
CREATE TABLE cgroup (
  id             INTEGER PRIMARY KEY,
  inode          INTEGER NOT NULL,
  parent_id      INTEGER,           -- NULL for the root
  path           TEXT NOT NULL,     -- '/', '/system.slice/nginx.service'
  kind           TEXT NOT NULL,     -- root, slice, service, scope, unit, container, pod, cgroup
  name           TEXT NOT NULL,     -- what it is: the unit, the container's name (else
                                    -- runtime:short id), the pod (namespace/name, else
                                    -- pod:uid), else the last part of the path
  unit           TEXT,              -- the systemd unit it is or is in
  runtime        TEXT,              -- docker, containerd, cri-o, podman, lxc
  container_id   TEXT,              -- the container it is or is in (full id)
  container_name TEXT,              -- from the runtime's files on disk
  image          TEXT,
  pod_uid        TEXT,              -- the Kubernetes pod it is or is in
  pod_name       TEXT,              -- namespace/name, from /var/log/pods
  qos            TEXT,              -- guaranteed, burstable, besteffort
  first_seen_ts  INTEGER NOT NULL,  -- its directory's time, or the tick that first saw it
  gone_ts        INTEGER            -- the tick that found it gone; NULL while it exists
);
CREATE INDEX cgroup_by_inode ON cgroup (inode);
CREATE INDEX cgroup_by_gone ON cgroup (gone_ts);
CREATE INDEX cgroup_by_parent ON cgroup (parent_id); -- whether a cgroup has any below it

-- CPU: cpu.stat (v1: cpuacct.usage, cpuacct.stat and cpu.stat), in
-- microseconds; tasks_count from pids.current (a gauge).
CREATE TABLE cgroup_cpu_stat (
  ts              INTEGER NOT NULL,
  cgroup_id       INTEGER NOT NULL,
  dur_ms          INTEGER NOT NULL,
  usage_us        INTEGER NOT NULL,
  user_us         INTEGER,
  system_us       INTEGER,
  periods_count   INTEGER, -- CFS enforcement periods (with a quota)
  throttled_count INTEGER, -- periods in which it was throttled
  throttled_us    INTEGER,
  tasks_count     INTEGER, -- gauge
  PRIMARY KEY (ts, cgroup_id)
) WITHOUT ROWID;

-- Memory: memory.current, memory.swap.current and memory.stat in bytes
-- (gauges), the fault and refault counts of memory.stat and the events of
-- memory.events (counters). v1: memory.usage_in_bytes, the total_* fields of
-- memory.stat, swap from memory.memsw.usage_in_bytes, oom_kill from
-- memory.oom_control.
CREATE TABLE cgroup_memory_stat (
  ts                   INTEGER NOT NULL,
  cgroup_id            INTEGER NOT NULL,
  dur_ms               INTEGER NOT NULL,
  current_bytes        INTEGER NOT NULL,
  swap_bytes           INTEGER,
  anon_bytes           INTEGER,
  file_bytes           INTEGER,
  kernel_bytes         INTEGER,
  slab_bytes           INTEGER,
  sock_bytes           INTEGER,
  shmem_bytes          INTEGER,
  file_dirty_bytes     INTEGER,
  file_writeback_bytes INTEGER,
  inactive_file_bytes  INTEGER,
  pgfault_count        INTEGER,
  pgmajfault_count     INTEGER,
  refault_count        INTEGER, -- workingset refaults, anon and file
  low_events_count     INTEGER, -- memory.events
  high_events_count    INTEGER,
  max_events_count     INTEGER,
  oom_events_count     INTEGER,
  oom_kill_count       INTEGER,
  working_set_bytes    INTEGER NOT NULL, -- current_bytes - inactive_file_bytes, as cAdvisor
                                         -- and the kubelet count it (current without memory.stat)
  PRIMARY KEY (ts, cgroup_id)
) WITHOUT ROWID;

-- I/O per device (major, minor as in disk_device): io.stat, v1
-- blkio.throttle.io_service_bytes_recursive and io_serviced_recursive.
CREATE TABLE cgroup_io_stat (
  ts             INTEGER NOT NULL,
  cgroup_id      INTEGER NOT NULL,
  major          INTEGER NOT NULL,
  minor          INTEGER NOT NULL,
  dur_ms         INTEGER NOT NULL,
  read_bytes     INTEGER,
  write_bytes    INTEGER,
  reads_count    INTEGER,
  writes_count   INTEGER,
  discard_bytes  INTEGER,
  discards_count INTEGER,
  PRIMARY KEY (ts, cgroup_id, major, minor)
) WITHOUT ROWID;

-- Pressure stall time of cpu.pressure, memory.pressure, io.pressure
-- (total=, microseconds): "some" is time at least one task waited, "full"
-- time all its non-idle tasks did. cgroup2 only. Read once a
-- cgroups.refresh period, so a row's dur_ms is the time since the
-- cgroup's previous reading, not the tick's.
CREATE TABLE cgroup_pressure_stat (
  ts             INTEGER NOT NULL,
  cgroup_id      INTEGER NOT NULL,
  dur_ms         INTEGER NOT NULL,
  cpu_some_us    INTEGER,
  cpu_full_us    INTEGER,
  memory_some_us INTEGER,
  memory_full_us INTEGER,
  io_some_us     INTEGER,
  io_full_us     INTEGER,
  PRIMARY KEY (ts, cgroup_id)
) WITHOUT ROWID;

-- Limits, a row when one changes (none is written for a cgroup without
-- any). NULL: no limit ("max"), or not reported. v1: memory.limit_in_bytes,
-- cpu.cfs_quota_us and cpu.cfs_period_us, pids.max.
CREATE TABLE cgroup_limit (
  ts                INTEGER NOT NULL,
  cgroup_id         INTEGER NOT NULL,
  memory_max_bytes  INTEGER,
  memory_high_bytes INTEGER,
  swap_max_bytes    INTEGER,
  cpu_quota_us      INTEGER,
  cpu_period_us     INTEGER,
  pids_max_count    INTEGER,
  PRIMARY KEY (ts, cgroup_id)
) WITHOUT ROWID;
CREATE INDEX cgroup_limit_by_cgroup ON cgroup_limit (cgroup_id, ts);

-- The collector's own work per tick (docs/cgroups.md).
CREATE TABLE cgroup_scan (
  ts              INTEGER PRIMARY KEY,
  dur_ms          INTEGER NOT NULL,
  cgroups_count   INTEGER NOT NULL, -- cgroups tracked
  gone_count      INTEGER NOT NULL, -- found gone in this tick
  populated_count INTEGER NOT NULL, -- with a task in their subtree
  read_count      INTEGER NOT NULL, -- cgroup files read
  skipped_count   INTEGER NOT NULL, -- cgroups with nothing read: empty, or idle under an idle parent
  new_count       INTEGER NOT NULL, -- first seen
  vanished_count  INTEGER NOT NULL, -- gone between being listed and being read
  error_count     INTEGER NOT NULL, -- files unreadable or malformed
  untracked_count INTEGER NOT NULL, -- cgroups left out: more than cgroups.max_cgroups
  unwatched_count INTEGER NOT NULL, -- directories without an inotify watch, listed every tick
  kept_fds_count  INTEGER NOT NULL  -- cgroup files kept open
) WITHOUT ROWID;

-- The process table carries the cgroup each process was in when first seen.
ALTER TABLE process ADD COLUMN cgroup_id INTEGER; -- as cgroup.inode; NULL: unknown

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'cgroup_cpu_stat', name,
       CASE name WHEN 'cgroup_id' THEN 'key' WHEN 'tasks_count' THEN 'gauge_peak'
                 ELSE 'counter' END
FROM pragma_table_info('cgroup_cpu_stat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'cgroup_memory_stat', name,
       CASE WHEN name = 'cgroup_id' THEN 'key'
            WHEN name IN ('current_bytes', 'swap_bytes', 'anon_bytes', 'working_set_bytes')
                 THEN 'gauge_peak'
            WHEN name LIKE '%\_bytes' ESCAPE '\' THEN 'gauge'
            ELSE 'counter' END
FROM pragma_table_info('cgroup_memory_stat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'cgroup_io_stat', name,
       CASE WHEN name IN ('cgroup_id', 'major', 'minor') THEN 'key' ELSE 'counter' END
FROM pragma_table_info('cgroup_io_stat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'cgroup_pressure_stat', name, CASE name WHEN 'cgroup_id' THEN 'key' ELSE 'counter' END
FROM pragma_table_info('cgroup_pressure_stat') WHERE name <> 'ts';

INSERT INTO series_column(table_name, column_name, kind)
SELECT 'cgroup_scan', name,
       CASE WHEN name IN ('cgroups_count', 'populated_count', 'untracked_count',
                          'unwatched_count', 'kept_fds_count') THEN 'gauge_peak'
            ELSE 'counter' END
FROM pragma_table_info('cgroup_scan') WHERE name <> 'ts';

-- Dimension tables whose rows end: retention deletes a row whose end
-- (gone_column) is at or before the oldest tier's boundary (prune_state
-- '1h'), when no series row that refers to it is left (docs/retention.md).
-- cgroup_limit, a change log, goes with its cgroup.
CREATE TABLE dimension_table (
  table_name  TEXT PRIMARY KEY,
  gone_column TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO dimension_table(table_name, gone_column) VALUES ('cgroup', 'gone_ts');
INSERT INTO prune_state(scope) VALUES ('cgroup');

CREATE TRIGGER cgroup_limit_goes_with_its_cgroup AFTER DELETE ON cgroup
BEGIN
  DELETE FROM cgroup_limit WHERE cgroup_id = old.id;
END;

-- ---- /metrics: cAdvisor's names (docs/prometheus.md) ----
-- Labels as cAdvisor's: id = the cgroup's path, name = the container's name,
-- image = its image (empty where unknown, which Prometheus reads as absent).
-- Every cgroup is exposed, as cAdvisor does (services and slices too), with
-- the kernel's hierarchical figures.
INSERT INTO metric_key(table_name, key_column, label, dim_table, dim_column)
SELECT t.name, 'cgroup_id', l.label, 'cgroup', l.col
FROM (SELECT 'cgroup_cpu_stat' AS name UNION ALL SELECT 'cgroup_memory_stat'
      UNION ALL SELECT 'cgroup_io_stat' UNION ALL SELECT 'cgroup_pressure_stat') t,
     (SELECT 'id' AS label, 'path' AS col UNION ALL SELECT 'name', 'container_name'
      UNION ALL SELECT 'image', 'image') l;
-- cAdvisor labels I/O by device name; the table is keyed by major:minor.
INSERT INTO metric_key(table_name, key_column, label, dim_table, dim_column) VALUES
  ('cgroup_io_stat', 'major', 'major', NULL, NULL),
  ('cgroup_io_stat', 'minor', 'minor', NULL, NULL);

INSERT INTO metric_family(name, type, help, unit) VALUES
  ('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.', 'seconds'),
  ('container_cpu_user_seconds_total', 'counter', 'Cumulative user cpu time consumed in seconds.', 'seconds'),
  ('container_cpu_system_seconds_total', 'counter', 'Cumulative system cpu time consumed in seconds.', 'seconds'),
  ('container_cpu_cfs_periods_total', 'counter', 'Number of elapsed enforcement period intervals.', ''),
  ('container_cpu_cfs_throttled_periods_total', 'counter', 'Number of throttled period intervals.', ''),
  ('container_cpu_cfs_throttled_seconds_total', 'counter', 'Total time duration the container has been throttled.', 'seconds'),
  ('container_threads', 'gauge', 'Number of threads running inside the container', ''),
  ('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed', 'bytes'),
  ('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', 'bytes'),
  ('container_memory_rss', 'gauge', 'Size of RSS in bytes.', ''),
  ('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.', ''),
  ('container_memory_swap', 'gauge', 'Container swap usage in bytes.', ''),
  ('container_memory_kernel_usage', 'gauge', 'Size of kernel memory allocated in bytes.', ''),
  ('container_memory_total_inactive_file_bytes', 'gauge', 'Current total inactive file in bytes.', 'bytes'),
  ('container_memory_file_dirty_bytes', 'gauge', 'Number of bytes of file cache that has been modified but not yet written back to disk.', 'bytes'),
  ('container_memory_file_writeback_bytes', 'gauge', 'Number of bytes of file cache that is currently being written back to disk.', 'bytes'),
  ('container_memory_failures_total', 'counter', 'Cumulative count of memory allocation failures.', ''),
  ('container_memory_events_high_total', 'counter', 'Cumulative count of memory.high throttle events for the container', ''),
  ('container_memory_events_max_total', 'counter', 'Cumulative count of memory.max limit hit events for the container', ''),
  ('container_oom_events_total', 'counter', 'Count of out of memory events observed for the container', ''),
  ('container_fs_reads_bytes_total', 'counter', 'Cumulative count of bytes read', 'bytes'),
  ('container_fs_writes_bytes_total', 'counter', 'Cumulative count of bytes written', 'bytes'),
  ('container_fs_reads_total', 'counter', 'Cumulative count of reads completed', ''),
  ('container_fs_writes_total', 'counter', 'Cumulative count of writes completed', ''),
  ('container_pressure_cpu_waiting_seconds_total', 'counter', 'Total time duration tasks in the container have waited due to CPU congestion.', 'seconds'),
  ('container_pressure_cpu_stalled_seconds_total', 'counter', 'Total time duration no tasks in the container could make progress due to CPU congestion.', 'seconds'),
  ('container_pressure_memory_waiting_seconds_total', 'counter', 'Total time duration tasks in the container have waited due to memory congestion.', 'seconds'),
  ('container_pressure_memory_stalled_seconds_total', 'counter', 'Total time duration no tasks in the container could make progress due to memory congestion.', 'seconds'),
  ('container_pressure_io_waiting_seconds_total', 'counter', 'Total time duration tasks in the container have waited due to IO congestion.', 'seconds'),
  ('container_pressure_io_stalled_seconds_total', 'counter', 'Total time duration no tasks in the container could make progress due to IO congestion.', 'seconds');

INSERT INTO metric_column(table_name, column_name, family, labels, scale) VALUES
  ('cgroup_cpu_stat', 'usage_us', 'container_cpu_usage_seconds_total', 'cpu="total"', 0.000001),
  ('cgroup_cpu_stat', 'user_us', 'container_cpu_user_seconds_total', '', 0.000001),
  ('cgroup_cpu_stat', 'system_us', 'container_cpu_system_seconds_total', '', 0.000001),
  ('cgroup_cpu_stat', 'periods_count', 'container_cpu_cfs_periods_total', '', 1),
  ('cgroup_cpu_stat', 'throttled_count', 'container_cpu_cfs_throttled_periods_total', '', 1),
  ('cgroup_cpu_stat', 'throttled_us', 'container_cpu_cfs_throttled_seconds_total', '', 0.000001),
  ('cgroup_cpu_stat', 'tasks_count', 'container_threads', '', 1),
  ('cgroup_memory_stat', 'current_bytes', 'container_memory_usage_bytes', '', 1),
  ('cgroup_memory_stat', 'working_set_bytes', 'container_memory_working_set_bytes', '', 1),
  ('cgroup_memory_stat', 'anon_bytes', 'container_memory_rss', '', 1),
  ('cgroup_memory_stat', 'file_bytes', 'container_memory_cache', '', 1),
  ('cgroup_memory_stat', 'swap_bytes', 'container_memory_swap', '', 1),
  ('cgroup_memory_stat', 'kernel_bytes', 'container_memory_kernel_usage', '', 1),
  ('cgroup_memory_stat', 'inactive_file_bytes', 'container_memory_total_inactive_file_bytes', '', 1),
  ('cgroup_memory_stat', 'file_dirty_bytes', 'container_memory_file_dirty_bytes', '', 1),
  ('cgroup_memory_stat', 'file_writeback_bytes', 'container_memory_file_writeback_bytes', '', 1),
  ('cgroup_memory_stat', 'pgfault_count', 'container_memory_failures_total', 'failure_type="pgfault",scope="container"', 1),
  ('cgroup_memory_stat', 'pgmajfault_count', 'container_memory_failures_total', 'failure_type="pgmajfault",scope="container"', 1),
  ('cgroup_memory_stat', 'pgfault_count', 'container_memory_failures_total', 'failure_type="pgfault",scope="hierarchy"', 1),
  ('cgroup_memory_stat', 'pgmajfault_count', 'container_memory_failures_total', 'failure_type="pgmajfault",scope="hierarchy"', 1),
  ('cgroup_memory_stat', 'high_events_count', 'container_memory_events_high_total', '', 1),
  ('cgroup_memory_stat', 'max_events_count', 'container_memory_events_max_total', '', 1),
  ('cgroup_memory_stat', 'oom_kill_count', 'container_oom_events_total', '', 1),
  ('cgroup_io_stat', 'read_bytes', 'container_fs_reads_bytes_total', '', 1),
  ('cgroup_io_stat', 'write_bytes', 'container_fs_writes_bytes_total', '', 1),
  ('cgroup_io_stat', 'reads_count', 'container_fs_reads_total', '', 1),
  ('cgroup_io_stat', 'writes_count', 'container_fs_writes_total', '', 1),
  ('cgroup_pressure_stat', 'cpu_some_us', 'container_pressure_cpu_waiting_seconds_total', '', 0.000001),
  ('cgroup_pressure_stat', 'cpu_full_us', 'container_pressure_cpu_stalled_seconds_total', '', 0.000001),
  ('cgroup_pressure_stat', 'memory_some_us', 'container_pressure_memory_waiting_seconds_total', '', 0.000001),
  ('cgroup_pressure_stat', 'memory_full_us', 'container_pressure_memory_stalled_seconds_total', '', 0.000001),
  ('cgroup_pressure_stat', 'io_some_us', 'container_pressure_io_waiting_seconds_total', '', 0.000001),
  ('cgroup_pressure_stat', 'io_full_us', 'container_pressure_io_stalled_seconds_total', '', 0.000001);
