-- 001: the foundation. System CPU, kernel activity, memory and load, the
-- daemon's own cost, and the catalog of saved views.
--
-- Conventions (docs/schema.md): ts = epoch seconds at the end of the sample;
-- dur_ms = the measured interval; counters are non-negative deltas over
-- dur_ms; gauges are values at ts; every column name carries its unit; fact
-- tables are WITHOUT ROWID with a time-first primary key.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
);

CREATE TABLE view_catalog (
  name        TEXT PRIMARY KEY,
  title       TEXT NOT NULL,
  description TEXT NOT NULL,
  sql         TEXT NOT NULL
);

-- Boot times seen; a new row means the machine rebooted.
CREATE TABLE boot (
  boot_ts       INTEGER PRIMARY KEY, -- epoch s, /proc/stat btime
  first_seen_ts INTEGER NOT NULL
);

-- /proc/stat time by mode. cpu_id -1 is the all-CPU line. guest_ms and
-- guest_nice_ms are already included in user_ms and nice_ms.
CREATE TABLE cpu (
  ts            INTEGER NOT NULL,
  cpu_id        INTEGER NOT NULL,
  dur_ms        INTEGER NOT NULL,
  user_ms       INTEGER NOT NULL,
  nice_ms       INTEGER NOT NULL,
  system_ms     INTEGER NOT NULL,
  idle_ms       INTEGER NOT NULL,
  iowait_ms     INTEGER NOT NULL,
  irq_ms        INTEGER NOT NULL,
  softirq_ms    INTEGER NOT NULL,
  steal_ms      INTEGER NOT NULL,
  guest_ms      INTEGER NOT NULL,
  guest_nice_ms INTEGER NOT NULL,
  PRIMARY KEY (ts, cpu_id)
) WITHOUT ROWID;

CREATE TABLE kernel_activity (
  ts                     INTEGER PRIMARY KEY,
  dur_ms                 INTEGER NOT NULL,
  context_switches_count INTEGER NOT NULL, -- delta
  interrupts_count       INTEGER NOT NULL, -- delta
  forks_count            INTEGER NOT NULL, -- delta of "processes"
  procs_running_count    INTEGER NOT NULL, -- gauge
  procs_blocked_count    INTEGER NOT NULL  -- gauge
) WITHOUT ROWID;

-- /proc/meminfo gauges; NULL where this kernel does not report the field.
CREATE TABLE memory (
  ts                    INTEGER PRIMARY KEY,
  total_kb              INTEGER,
  free_kb               INTEGER,
  available_kb          INTEGER,
  buffers_kb            INTEGER,
  cached_kb             INTEGER,
  swap_cached_kb        INTEGER,
  swap_total_kb         INTEGER,
  swap_free_kb          INTEGER,
  dirty_kb              INTEGER,
  writeback_kb          INTEGER,
  anon_kb               INTEGER,
  mapped_kb             INTEGER,
  shmem_kb              INTEGER,
  slab_reclaimable_kb   INTEGER,
  slab_unreclaimable_kb INTEGER,
  kernel_stack_kb       INTEGER,
  page_tables_kb        INTEGER,
  committed_kb          INTEGER,
  anon_hugepages_kb     INTEGER,
  hugepages_total_count INTEGER,
  hugepages_free_count  INTEGER,
  hugepage_size_kb      INTEGER
) WITHOUT ROWID;

-- /proc/loadavg; loads in hundredths as the kernel prints them (0.52 -> 52).
CREATE TABLE loadavg (
  ts             INTEGER PRIMARY KEY,
  load1_x100     INTEGER NOT NULL,
  load5_x100     INTEGER NOT NULL,
  load15_x100    INTEGER NOT NULL,
  runnable_count INTEGER NOT NULL,
  threads_count  INTEGER NOT NULL
) WITHOUT ROWID;

-- The daemon's own cost and health, one row per stored tick.
CREATE TABLE agent (
  ts                      INTEGER PRIMARY KEY,
  dur_ms                  INTEGER NOT NULL,
  tick_wall_us            INTEGER NOT NULL, -- collecting and writing, before commit
  tick_cpu_us             INTEGER NOT NULL, -- process CPU over the same span
  last_commit_us          INTEGER NOT NULL, -- the previous tick's COMMIT
  rss_kb                  INTEGER NOT NULL,
  rows_count              INTEGER NOT NULL,
  vanished_count          INTEGER NOT NULL, -- files gone mid-read (process exited)
  permission_errors_count INTEGER NOT NULL, -- partial reads
  read_errors_count       INTEGER NOT NULL,
  parse_errors_count      INTEGER NOT NULL,
  commit_failures_count   INTEGER NOT NULL, -- ticks not stored since the previous row
  clock_held_s            INTEGER NOT NULL  -- ts minus the wall clock (>0: clock stepped back)
) WITHOUT ROWID;

CREATE TABLE collector (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE agent_collector (
  ts           INTEGER NOT NULL,
  collector_id INTEGER NOT NULL,
  cpu_us       INTEGER NOT NULL,
  wall_us      INTEGER NOT NULL,
  PRIMARY KEY (ts, collector_id)
) WITHOUT ROWID;
