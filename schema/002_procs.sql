-- 002: processes and process groups (docs/processes.md).
--
-- Groups follow process-exporter's rules. Counters are deltas over dur_ms
-- and never negative; gauges are values at ts. Rows are sparse: a group
-- writes a row only in a tick where a counter moved or a gauge changed, so
-- a group's gauges at a tick without its row are those of its last row.

CREATE TABLE proc_group (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE group_sample (
  ts                         INTEGER NOT NULL,
  group_id                   INTEGER NOT NULL,
  dur_ms                     INTEGER NOT NULL,
  procs_count                INTEGER NOT NULL, -- gauge
  threads_count              INTEGER NOT NULL, -- gauge
  user_ms                    INTEGER NOT NULL, -- delta, includes reaped_user_ms
  system_ms                  INTEGER NOT NULL, -- delta, includes reaped_system_ms
  reaped_user_ms             INTEGER NOT NULL, -- of it: children that were never seen,
  reaped_system_ms           INTEGER NOT NULL, --   and final slices, via cutime/cstime
  read_bytes                 INTEGER NOT NULL, -- delta
  write_bytes                INTEGER NOT NULL, -- delta
  minor_faults_count         INTEGER NOT NULL, -- delta
  major_faults_count         INTEGER NOT NULL, -- delta
  voluntary_switches_count   INTEGER NOT NULL, -- delta, main threads
  involuntary_switches_count INTEGER NOT NULL, -- delta, main threads
  rss_kb                     INTEGER NOT NULL, -- gauge
  vm_kb                      INTEGER NOT NULL, -- gauge
  swap_kb                    INTEGER NOT NULL, -- gauge
  pss_kb                     INTEGER NOT NULL, -- gauge; 0 unless procs_pss is on
  fds_count                  INTEGER NOT NULL, -- gauge
  worst_fd_pct_x100          INTEGER NOT NULL, -- gauge: highest open fds / soft limit
  oldest_start_ts            INTEGER NOT NULL, -- gauge: epoch s
  running_count              INTEGER NOT NULL, -- processes by state (R)
  sleeping_count             INTEGER NOT NULL, -- (S)
  disk_wait_count            INTEGER NOT NULL, -- (D)
  zombie_count               INTEGER NOT NULL, -- (Z)
  other_count                INTEGER NOT NULL, -- (anything else: T, t, I, X)
  PRIMARY KEY (ts, group_id)
) WITHOUT ROWID;

-- The scanner's own work per tick: how many processes were read in full
-- and how many were skipped as unchanged (docs/processes.md).
CREATE TABLE procs_scan (
  ts             INTEGER PRIMARY KEY,
  procs_count    INTEGER NOT NULL, -- processes present
  full_count     INTEGER NOT NULL, -- read in full (they changed, are new, or refreshed)
  skipped_count  INTEGER NOT NULL, -- unchanged: cached values reused
  vanished_count INTEGER NOT NULL, -- exited since the previous tick or mid-read
  new_count      INTEGER NOT NULL, -- first seen
  kept_fds_count INTEGER NOT NULL  -- schedstat descriptors kept open
) WITHOUT ROWID;

-- Every process seen, written when first seen. (boot_ts, pid, start_ticks)
-- is its identity: a reused pid is a new row.
CREATE TABLE process (
  id            INTEGER PRIMARY KEY,
  boot_ts       INTEGER NOT NULL,
  pid           INTEGER NOT NULL,
  start_ticks   INTEGER NOT NULL, -- clock ticks after boot, as /proc prints it
  start_ts      INTEGER NOT NULL, -- epoch s
  ppid          INTEGER NOT NULL,
  uid           INTEGER NOT NULL, -- effective
  user          TEXT NOT NULL,
  comm          TEXT NOT NULL,
  exe           TEXT NOT NULL,    -- /proc/PID/exe, '' when unreadable
  cmdline       TEXT NOT NULL,    -- argv joined by spaces, redacted, bounded
  group_id      INTEGER,          -- NULL: matched by no rule
  first_seen_ts INTEGER NOT NULL,
  UNIQUE (boot_ts, pid, start_ticks)
);
CREATE INDEX process_by_pid ON process (pid);

-- The top N processes by CPU and by RSS in each tick, with their own counters.
CREATE TABLE process_top (
  ts                         INTEGER NOT NULL,
  process_id                 INTEGER NOT NULL,
  dur_ms                     INTEGER NOT NULL,
  group_id                   INTEGER,
  user_ms                    INTEGER NOT NULL,
  system_ms                  INTEGER NOT NULL,
  read_bytes                 INTEGER NOT NULL,
  write_bytes                INTEGER NOT NULL,
  minor_faults_count         INTEGER NOT NULL,
  major_faults_count         INTEGER NOT NULL,
  voluntary_switches_count   INTEGER NOT NULL,
  involuntary_switches_count INTEGER NOT NULL,
  rss_kb                     INTEGER NOT NULL,
  vm_kb                      INTEGER NOT NULL,
  swap_kb                    INTEGER NOT NULL,
  threads_count              INTEGER NOT NULL,
  fds_count                  INTEGER NOT NULL,
  PRIMARY KEY (ts, process_id)
) WITHOUT ROWID;
