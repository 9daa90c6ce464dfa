-- 013: remote write (docs/prometheus.md, "Remote write"). The history is the
-- queue: the sender reads ticks after the last one a receiver acknowledged,
-- so an outage or a restart resumes there. One row per receiver URL; a URL
-- without a row starts after the newest tick stored when it first appears.
CREATE TABLE remote_write_state (
  url        TEXT PRIMARY KEY,
  acked_ts   INTEGER NOT NULL, -- the last tick the receiver acknowledged
  updated_ts INTEGER NOT NULL  -- when (wall clock) acked_ts was written
) WITHOUT ROWID;

-- What the sender did during each tick's interval: its self-metrics.
ALTER TABLE agent ADD COLUMN rw_requests_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN rw_samples_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN rw_sent_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN rw_retries_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN rw_dropped_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent ADD COLUMN rw_lag_s INTEGER NOT NULL DEFAULT 0;

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('agent', 'rw_requests_count', 'counter'),
  ('agent', 'rw_samples_count', 'counter'),
  ('agent', 'rw_sent_bytes', 'counter'),
  ('agent', 'rw_retries_count', 'counter'),
  ('agent', 'rw_dropped_count', 'counter'),
  ('agent', 'rw_lag_s', 'gauge_peak');

INSERT INTO metric_family(name, type, help, unit) VALUES
  ('hindsight_remote_write_requests_total', 'counter',
   'Remote-write requests the receiver acknowledged.', ''),
  ('hindsight_remote_write_samples_total', 'counter',
   'Samples the remote-write receiver acknowledged.', ''),
  ('hindsight_remote_write_sent_bytes_total', 'counter',
   'Compressed remote-write bodies the receiver acknowledged.', 'bytes'),
  ('hindsight_remote_write_retries_total', 'counter',
   'Remote-write requests that failed and were sent again.', ''),
  ('hindsight_remote_write_dropped_samples_total', 'counter',
   'Samples in remote-write batches the receiver refused for good (4xx, too old).', ''),
  ('hindsight_remote_write_lag_seconds', 'gauge',
   'Newest stored tick minus the last tick the remote-write receiver acknowledged.', 'seconds');

INSERT INTO metric_column(table_name, column_name, family, scale, row_filter) VALUES
  ('agent', 'rw_requests_count', 'hindsight_remote_write_requests_total', 1, ''),
  ('agent', 'rw_samples_count', 'hindsight_remote_write_samples_total', 1, ''),
  ('agent', 'rw_sent_bytes', 'hindsight_remote_write_sent_bytes_total', 1, ''),
  ('agent', 'rw_retries_count', 'hindsight_remote_write_retries_total', 1, ''),
  ('agent', 'rw_dropped_count', 'hindsight_remote_write_dropped_samples_total', 1, ''),
  ('agent', 'rw_lag_s', 'hindsight_remote_write_lag_seconds', 1, '');
