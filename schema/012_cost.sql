-- 012: what hindsight costs in the kernel. Its eBPF programs run in other
-- processes' system calls and context switches, where the daemon's own CPU
-- time (agent.tick_cpu_us) never sees them. The kernel counts each
-- program's runs and run time while BPF statistics are on (the daemon turns
-- them on for as long as it runs, bpf.prog_stats); these are the deltas
-- over each tick. NULL in agent: not measured (eBPF off, or statistics
-- could not be turned on).
ALTER TABLE agent ADD COLUMN bpf_run_us INTEGER;     -- kernel time of all of hindsight's programs
ALTER TABLE agent ADD COLUMN bpf_runs_count INTEGER; -- how many times they ran

-- The eBPF programs by name (on_exec, on_sys_exit, on_switch, ...).
CREATE TABLE bpf_program (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- Per program and tick; a program that did not run writes no row.
CREATE TABLE bpf_program_cost (
  ts           INTEGER NOT NULL,
  program_id   INTEGER NOT NULL,
  dur_ms       INTEGER NOT NULL,
  runs_count   INTEGER NOT NULL,
  run_ns       INTEGER NOT NULL, -- kernel time of those runs
  PRIMARY KEY (ts, program_id)
) WITHOUT ROWID;

-- The most bytes waiting in the eBPF ring buffer in the tick, as the
-- programs saw it when they sent a record (NULL: eBPF not running). Near
-- bpf.ring_kb, records are about to be dropped: the ring is sized by it.
ALTER TABLE bpf_tick ADD COLUMN ring_peak_bytes INTEGER;

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('bpf_tick', 'ring_peak_bytes', 'gauge_peak'),
  ('agent', 'bpf_run_us', 'counter'),
  ('agent', 'bpf_runs_count', 'counter'),
  ('bpf_program_cost', 'program_id', 'key'),
  ('bpf_program_cost', 'dur_ms', 'counter'),
  ('bpf_program_cost', 'runs_count', 'counter'),
  ('bpf_program_cost', 'run_ns', 'counter');

-- On /metrics (009): the programs' kernel time and runs per program, and
-- the ring buffer's peak fill.
INSERT INTO metric_key(table_name, key_column, label, dim_table, dim_column) VALUES
  ('bpf_program_cost', 'program_id', 'program', 'bpf_program', 'name');
INSERT INTO metric_family(name, type, help, unit) VALUES
  ('hindsight_bpf_program_run_seconds_total', 'counter',
   'Kernel time hindsight''s eBPF programs ran, while bpf.prog_stats (or the sysctl) has BPF statistics on.',
   'seconds'),
  ('hindsight_bpf_program_runs_total', 'counter',
   'Runs of hindsight''s eBPF programs, while BPF statistics are on.', ''),
  ('hindsight_bpf_ring_peak_bytes', 'gauge',
   'The most bytes waiting in the eBPF ring buffer in the last tick.', 'bytes');
INSERT INTO metric_column(table_name, column_name, family, scale, row_filter) VALUES
  ('bpf_program_cost', 'run_ns', 'hindsight_bpf_program_run_seconds_total', 0.000000001, ''),
  ('bpf_program_cost', 'runs_count', 'hindsight_bpf_program_runs_total', 1, ''),
  ('bpf_tick', 'ring_peak_bytes', 'hindsight_bpf_ring_peak_bytes', 1, 'state_id = 1');
