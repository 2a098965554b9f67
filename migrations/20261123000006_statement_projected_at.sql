-- When each statement line was written by the projection (inside its transaction),
-- next to when the event was recorded: projected_at - recorded_at is the line's lag.
ALTER TABLE rm_credit_statement
    ADD COLUMN projected_at timestamptz NOT NULL DEFAULT clock_timestamp();
