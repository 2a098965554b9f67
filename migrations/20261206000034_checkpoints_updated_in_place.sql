-- Checkpoints are updated in place: every applied batch (and every command with
-- inline read models) rewrites a few rows of projection_checkpoints. With an index
-- on recorded_at no such update could be HOT (heap-only), so each one left a dead
-- row version and new entries in both indexes behind; with autovacuum off (or
-- behind), the lookup of a busy aggregate's checkpoint walked every version it ever
-- had (measured: 110 live rows, 29,953 dead after 15 s of 185 spends/s, 0.2 ms a
-- lookup and climbing). Without that index, and with room left in each page, an
-- update stays on its page and Postgres prunes the old version on the next visit,
-- with no vacuum. The lag it served (max(recorded_at) per projection) is read by the
-- admin status, which counts the projection's checkpoints anyway.
DROP INDEX IF EXISTS projection_checkpoints_recorded_at_idx;
-- New pages keep half their room for updates (existing ones gain it as Postgres
-- prunes them).
ALTER TABLE projection_checkpoints SET (fillfactor = 50);
