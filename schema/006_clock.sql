-- 006: wall clock steps. The daemon dates its ticks by the wall clock it
-- trusts: CLOCK_BOOTTIME plus an anchor that follows the wall clock while
-- the two move together (NTP slews both alike) and not when the wall clock
-- is stepped, until the step is undone or has lasted the settle period
-- (docs/schema.md, Time). clock_step_s is the size of a step first seen in
-- the tick (the wall clock minus trusted time, seconds; negative: stepped
-- back), 0 in every other tick. Rollups keep its extremes.
ALTER TABLE agent ADD COLUMN clock_step_s INTEGER NOT NULL DEFAULT 0;

INSERT INTO series_column(table_name, column_name, kind) VALUES
  ('agent', 'clock_step_s', 'gauge_peak');
