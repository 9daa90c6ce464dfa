-- 011: peaks that survive the rollups, and an exec log that reads.
--
-- A rollup keeps the peak of a gauge (min_x, max_x), but a share or a rate
-- derived from counters (busy %, bytes per second, stall %) is computed
-- from a bucket's sums: its average, never its peak, so max(busy_pct) over
-- a day of 1-minute rows read 97.6 where a tick had said 100. Each derived
-- per-tick value whose peak a person asks for is therefore a generated
-- column of the raw table: computed from the row when read, never stored,
-- with the same expression as its saved view, and declared gauge_peak so
-- the tiers keep its maximum (docs/retention.md). The views show it as
-- max_<name>; at every tier max() of it is the raw maximum.

ALTER TABLE cpu ADD COLUMN busy_pct_x100 INTEGER GENERATED ALWAYS AS (
  round(10000.0 * (user_ms + nice_ms + system_ms + irq_ms + softirq_ms + steal_ms)
        / (user_ms + nice_ms + system_ms + idle_ms + iowait_ms + irq_ms + softirq_ms
           + steal_ms))) VIRTUAL;

ALTER TABLE disk ADD COLUMN read_bytes_per_s INTEGER GENERATED ALWAYS AS (
  round(read_bytes * 1000.0 / dur_ms)) VIRTUAL;
ALTER TABLE disk ADD COLUMN write_bytes_per_s INTEGER GENERATED ALWAYS AS (
  round(write_bytes * 1000.0 / dur_ms)) VIRTUAL;
ALTER TABLE disk ADD COLUMN util_pct_x100 INTEGER GENERATED ALWAYS AS (
  round(min(10000.0, io_ms * 10000.0 / dur_ms))) VIRTUAL;

ALTER TABLE net ADD COLUMN rx_bytes_per_s INTEGER GENERATED ALWAYS AS (
  round(rx_bytes * 1000.0 / dur_ms)) VIRTUAL;
ALTER TABLE net ADD COLUMN tx_bytes_per_s INTEGER GENERATED ALWAYS AS (
  round(tx_bytes * 1000.0 / dur_ms)) VIRTUAL;

ALTER TABLE psi ADD COLUMN some_stall_pct_x100 INTEGER GENERATED ALWAYS AS (
  round(some_stall_us * 10.0 / dur_ms)) VIRTUAL;
ALTER TABLE psi ADD COLUMN full_stall_pct_x100 INTEGER GENERATED ALWAYS AS (
  round(full_stall_us * 10.0 / dur_ms)) VIRTUAL;

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('cpu', 'busy_pct_x100', 'gauge_peak'),
  ('disk', 'read_bytes_per_s', 'gauge_peak'),
  ('disk', 'write_bytes_per_s', 'gauge_peak'),
  ('disk', 'util_pct_x100', 'gauge_peak'),
  ('net', 'rx_bytes_per_s', 'gauge_peak'),
  ('net', 'tx_bytes_per_s', 'gauge_peak'),
  ('psi', 'some_stall_pct_x100', 'gauge_peak'),
  ('psi', 'full_stall_pct_x100', 'gauge_peak');

-- The exec log. parent_comm: the name of the process that started the
-- program (its real parent's comm when the exec ran; NULL in rows stored
-- before it was recorded). The index on (pid, time_ns) lets the exec_log
-- view fold the failed attempts of a PATH search (one per directory tried)
-- into the exec they led to, a lookup per row.
ALTER TABLE exec_event ADD COLUMN parent_comm TEXT;
CREATE INDEX exec_event_pid ON exec_event (pid, time_ns);
