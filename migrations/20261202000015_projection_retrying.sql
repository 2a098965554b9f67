-- Aggregates a projection holds back: their next event failed for a reason that may
-- pass (an outage, a timeout, a conflict) and is tried again with backoff, without a
-- limit, instead of being parked. One row per aggregate; the row goes in the
-- transaction that applies (or parks) the event. What `/admin/status` shows as a
-- stuck projection.
CREATE TABLE projection_retrying
(
    projection      text        NOT NULL,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    -- The first event of the aggregate that failed.
    sequence        bigint      NOT NULL,
    attempts        bigint      NOT NULL,
    error           text        NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, aggregate_type, aggregate_id)
);
