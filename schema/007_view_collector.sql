-- 007: which collector provides each saved view. The daemon writes it from
-- its collector registry whenever it installs the views; NULL for the
-- daemon's own views (agent_health) and users' views. A view whose
-- collector has never run (its collector table row is missing, or its
-- tables are empty) has no data yet, which is not an error.
ALTER TABLE view_catalog ADD COLUMN collector TEXT;
