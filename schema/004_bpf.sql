-- 004: the eBPF collectors. Every exec (and failed exec), every process exit
-- with the usage of its whole life, OOM victims, per-tick kernel event
-- counters, and the health of the eBPF side itself.
--
-- Event tables: ts = epoch seconds of the event (not of the tick that stored
-- it); time_ns = the event's epoch time in nanoseconds, which keeps two events
-- of one pid in one second apart. comm, filename and args are stored as text
-- in the row: they are per event, not names repeated every tick.

-- How the eBPF side ran in a tick.
CREATE TABLE bpf_state (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO bpf_state(id, name) VALUES
  (0, 'off'),        -- turned off: --no-bpf or bpf.enabled: false
  (1, 'running'),
  (2, 'not built'),  -- this binary was built without eBPF
  (3, 'failed');     -- could not load or attach (the log names the cause)

-- One row per tick: the eBPF self-metrics. Records are never lost silently:
-- ring_drops_count counts records the kernel could not queue (ring buffer
-- full), buffer_drops_count records the daemon could not hold until the tick
-- (bpf.buffer_kb full). A lost exit record also leaves its process's usage
-- out of the group sums.
CREATE TABLE bpf_tick (
  ts                 INTEGER PRIMARY KEY,
  dur_ms             INTEGER NOT NULL,
  state_id           INTEGER NOT NULL,
  events_count       INTEGER NOT NULL, -- records stored in this tick
  ring_drops_count   INTEGER NOT NULL,
  buffer_drops_count INTEGER NOT NULL,
  exec_drops_count   INTEGER NOT NULL  -- exec records among both kinds of drops
) WITHOUT ROWID;

-- Kernel event counters, deltas over dur_ms. NULL: the family is turned off
-- in the configuration (bpf.tasks, bpf.syscalls, bpf.oom, bpf.tcp).
CREATE TABLE kernel_counters (
  ts                      INTEGER PRIMARY KEY,
  dur_ms                  INTEGER NOT NULL,
  processes_created_count INTEGER,
  threads_created_count   INTEGER,
  execs_count             INTEGER,
  execs_failed_count      INTEGER,
  process_exits_count     INTEGER,
  thread_exits_count      INTEGER,
  file_opens_count        INTEGER,
  file_opens_failed_count INTEGER,
  file_closes_count       INTEGER,
  read_calls_count        INTEGER,
  read_bytes              INTEGER,
  read_errors_count       INTEGER,
  write_calls_count       INTEGER,
  write_bytes             INTEGER,
  write_errors_count      INTEGER,
  oom_kills_count         INTEGER,
  tcp_retransmits_count   INTEGER
) WITHOUT ROWID;

-- execve/execveat: ret 0 = the new image runs, < 0 = failed with -errno.
-- args: argv joined by spaces, cut at bpf.args_bytes (args_truncated = 1).
CREATE TABLE exec_event (
  ts             INTEGER NOT NULL,
  time_ns        INTEGER NOT NULL,
  pid            INTEGER NOT NULL,
  ppid           INTEGER NOT NULL,
  uid            INTEGER NOT NULL,
  cgroup_id      INTEGER NOT NULL, -- cgroup v2 id (inode of the cgroup directory)
  ret            INTEGER NOT NULL,
  comm           TEXT NOT NULL,
  filename       TEXT NOT NULL,
  args           TEXT NOT NULL,
  args_truncated INTEGER NOT NULL,
  PRIMARY KEY (ts, time_ns, pid)
) WITHOUT ROWID;

-- The last thread of a process exited. Usage covers the whole life and all
-- threads. exit_code is set for a normal exit, signal for a killing signal.
-- (pid, start_clock_ticks) names the process as /proc/PID/stat does.
CREATE TABLE process_exit (
  ts                    INTEGER NOT NULL,
  time_ns               INTEGER NOT NULL,
  pid                   INTEGER NOT NULL,
  ppid                  INTEGER NOT NULL,
  uid                   INTEGER NOT NULL,
  cgroup_id             INTEGER NOT NULL,
  comm                  TEXT NOT NULL,
  start_clock_ticks     INTEGER NOT NULL, -- since boot, /proc/PID/stat starttime
  exit_code             INTEGER,
  signal                INTEGER,
  core_dumped           INTEGER NOT NULL,
  lifetime_us           INTEGER NOT NULL,
  cpu_us                INTEGER NOT NULL, -- scheduler runtime of all threads
  user_us               INTEGER NOT NULL,
  system_us             INTEGER NOT NULL,
  minor_faults_count    INTEGER NOT NULL,
  major_faults_count    INTEGER NOT NULL,
  voluntary_switches_count   INTEGER NOT NULL,
  involuntary_switches_count INTEGER NOT NULL,
  read_bytes            INTEGER NOT NULL, -- storage I/O
  write_bytes           INTEGER NOT NULL,
  peak_rss_kb           INTEGER NOT NULL,
  PRIMARY KEY (ts, time_ns, pid)
) WITHOUT ROWID;

-- A process the OOM killer chose; memory figures at the moment it was chosen.
CREATE TABLE oom_kill (
  ts            INTEGER NOT NULL,
  time_ns       INTEGER NOT NULL,
  pid           INTEGER NOT NULL,
  uid           INTEGER NOT NULL,
  cgroup_id     INTEGER NOT NULL,
  comm          TEXT NOT NULL,
  oom_score_adj INTEGER NOT NULL,
  total_vm_kb   INTEGER NOT NULL,
  anon_rss_kb   INTEGER NOT NULL,
  file_rss_kb   INTEGER NOT NULL,
  shmem_rss_kb  INTEGER NOT NULL,
  PRIMARY KEY (ts, time_ns, pid)
) WITHOUT ROWID;
